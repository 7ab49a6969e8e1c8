//! The cashier's sounds: one when the money is in, another when a payment ends without it.
//!
//! Which payment ends how is decided here, once per payment and outcome, and sent to
//! the cashier's window as [`SOUND`]; the window only plays the file
//! (`ui/sounds/<cue>.wav`, made by `scripts/make-sounds.py`). Why here and not in the
//! window: the engine may broadcast a final payment more than once (a refresh, a view
//! re-sent after a reconnect, a late payment after its expiry), and "exactly once per
//! outcome" is easier to hold — and to test — in one place with a memory.

use serde::Serialize;
use std::collections::{HashSet, VecDeque};
use till_core::reason::{Reason, ReasonCode};
use till_core::{Payment, PaymentState};

/// A sound to play: `SoundCue`.
pub const SOUND: &str = "till://sound";

/// How many payments' outcomes are remembered (older ones can no longer repeat: they
/// ended long before the counter moved on).
const REMEMBERED: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cue {
    /// Settled: the money is in.
    Paid,
    /// Failed, expired, flagged, or cancelled by someone other than the cashier.
    Declined,
}

/// What the cashier's window is told to play.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoundCue {
    pub cue: Cue,
    /// 0.0 to 1.0, from `[sound] volume`.
    pub volume: f32,
    pub payment_id: String,
}

/// The sound a payment's state calls for, if any. Nothing for a payment still under
/// way, for refunds (the manager's business, not the counter's), and for a cancel the
/// cashier made (they know; a sound would only say "declined" to the customer).
pub fn cue_for(state: PaymentState, failure: Option<&Reason>) -> Option<Cue> {
    match state {
        PaymentState::Settled => Some(Cue::Paid),
        PaymentState::Failed | PaymentState::Expired | PaymentState::Flagged => Some(Cue::Declined),
        PaymentState::Cancelled => {
            let by_cashier = failure.is_some_and(|r| r.code == ReasonCode::CancelledAtTill);
            (!by_cashier).then_some(Cue::Declined)
        }
        _ => None,
    }
}

/// Remembers which (payment, cue) pairs were played, so each plays once.
#[derive(Debug)]
pub struct Cues {
    enabled: bool,
    volume: f32,
    played: HashSet<(String, Cue)>,
    order: VecDeque<(String, Cue)>,
}

impl Cues {
    pub fn new(settings: &till_core::config::SoundSection) -> Self {
        Cues {
            enabled: settings.enabled && settings.volume > 0,
            volume: f32::from(settings.volume.min(100)) / 100.0,
            played: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// The sound for this payment change, the first time its outcome is seen.
    pub fn take(&mut self, payment: &Payment) -> Option<SoundCue> {
        self.take_outcome(&payment.id, payment.state, payment.failure.as_ref())
    }

    fn take_outcome(
        &mut self,
        id: &str,
        state: PaymentState,
        failure: Option<&Reason>,
    ) -> Option<SoundCue> {
        let cue = cue_for(state, failure)?;
        let key = (id.to_string(), cue);
        if !self.played.insert(key.clone()) {
            return None;
        }
        self.order.push_back(key);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.played.remove(&old);
            }
        }
        // Remembered even when off: turning sound on must not replay old outcomes.
        self.enabled.then(|| SoundCue {
            cue,
            volume: self.volume,
            payment_id: id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use till_core::config::SoundSection;

    /// A payment change as the engine broadcasts it: id, state, why it failed.
    struct Change(&'static str, PaymentState, Option<Reason>);

    fn payment(id: &'static str, state: PaymentState) -> Change {
        Change(id, state, None)
    }

    impl Cues {
        fn hear(&mut self, c: &Change) -> Option<SoundCue> {
            self.take_outcome(c.0, c.1, c.2.as_ref())
        }
    }

    fn on() -> SoundSection {
        SoundSection {
            enabled: true,
            volume: 80,
        }
    }

    #[test]
    fn each_outcome_sounds_once_however_often_it_is_broadcast() {
        let mut cues = Cues::new(&on());
        let mut heard = Vec::new();
        for state in [
            PaymentState::Created,
            PaymentState::AwaitingCustomer,
            PaymentState::Settled,
            PaymentState::Settled,
            PaymentState::RefundPending,
            PaymentState::Refunded,
            PaymentState::Settled,
        ] {
            heard.extend(cues.hear(&payment("T1-1", state)));
        }
        assert_eq!(heard.len(), 1, "{heard:?}");
        assert_eq!(heard[0].cue, Cue::Paid);
        assert_eq!(heard[0].payment_id, "T1-1");
        assert!((heard[0].volume - 0.8).abs() < 1e-6);

        // Expired, then paid late: two outcomes, two different sounds.
        let late: Vec<_> = [
            PaymentState::Expired,
            PaymentState::Expired,
            PaymentState::Settled,
        ]
        .into_iter()
        .filter_map(|s| cues.hear(&payment("T1-2", s)))
        .map(|c| c.cue)
        .collect();
        assert_eq!(late, [Cue::Declined, Cue::Paid]);
    }

    #[test]
    fn the_cashiers_own_cancel_is_silent_and_others_are_not() {
        let mut cues = Cues::new(&on());
        let by_cashier = Change(
            "T1-3",
            PaymentState::Cancelled,
            Some(Reason::new(ReasonCode::CancelledAtTill)),
        );
        assert_eq!(cues.hear(&by_cashier), None);
        let on_page = payment("T1-4", PaymentState::Cancelled);
        assert_eq!(cues.hear(&on_page).map(|c| c.cue), Some(Cue::Declined));
        for (id, s) in [
            ("T1-6", PaymentState::Failed),
            ("T1-7", PaymentState::Flagged),
        ] {
            assert_eq!(
                cues.hear(&payment(id, s)).map(|c| c.cue),
                Some(Cue::Declined)
            );
        }
    }

    #[test]
    fn off_or_silent_plays_nothing_and_remembers_what_ended_meanwhile() {
        for settings in [
            SoundSection {
                enabled: false,
                volume: 80,
            },
            SoundSection {
                enabled: true,
                volume: 0,
            },
        ] {
            let mut cues = Cues::new(&settings);
            assert_eq!(cues.hear(&payment("T1-5", PaymentState::Settled)), None);
            assert!(cues.played.contains(&("T1-5".to_string(), Cue::Paid)));
        }
    }

    #[test]
    fn memory_is_bounded() {
        let mut cues = Cues::new(&on());
        for i in 0..(REMEMBERED + 100) {
            let id = format!("T1-{i}");
            assert!(cues
                .take_outcome(&id, PaymentState::Settled, None)
                .is_some());
        }
        assert_eq!(cues.played.len(), REMEMBERED);
        assert_eq!(cues.order.len(), REMEMBERED);
    }
}
