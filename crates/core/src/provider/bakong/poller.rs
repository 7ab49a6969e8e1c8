//! The Bakong poller: one task per terminal that checks every pending KHQR
//! MD5 together, in bulk requests, on `till-bakong`'s adaptive schedule
//! (quick right after a code is shown, slower later, never more than one
//! tick per `min_request_gap`). A code is settled only when Bakong reports a
//! payment with exactly our amount and currency; anything else is flagged.
//! A code is expired when a check at or after its expiry finds nothing; it
//! is still watched through a grace period: a payment Bakong dates before
//! the expiry (seen late) settles, one made after it is flagged for the
//! manager instead of going unnoticed.

use super::{map_error, verdict_of, BakongProvider};
use crate::engine::{Desk, EngineError};
use crate::payment::Payment;
use crate::provider::Verdict;
use crate::state::PaymentState;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use till_bakong::{CheckOutcome, Pending, PollSchedule, PollState};

/// The schedule from the configuration.
pub fn schedule(c: &crate::config::BakongSection) -> PollSchedule {
    PollSchedule {
        fast_interval: Duration::from_millis(c.fast_interval_ms),
        fast_window: Duration::from_secs(c.fast_window_secs),
        slow_interval: Duration::from_millis(c.slow_interval_ms),
        min_request_gap: Duration::from_millis(c.min_request_gap_ms),
        ..PollSchedule::default()
    }
}

fn watched(desk: &Desk, grace: chrono::Duration) -> Result<Vec<Payment>, EngineError> {
    let now = desk.now();
    let mut list = desk.waiting()?;
    // Codes given up while the customer may still pay them: expired ones
    // through the grace period, cancelled or failed ones for the rest of
    // their validity (and the grace). The customer's phone still holds the
    // code; a payment on it is flagged at once, not found at reconciliation.
    for state in [
        PaymentState::Expired,
        PaymentState::Cancelled,
        PaymentState::Failed,
    ] {
        list.extend(desk.in_state(state, 200)?.into_iter().filter(|p| {
            p.flag.is_none()
                && p.refs.lookup.is_some()
                && p.expires_at.is_some_and(|e| e + grace > now)
        }));
    }
    Ok(list)
}

/// The poller, for as long as the engine runs.
pub(crate) async fn run(bakong: Arc<BakongProvider>, desk: Desk) {
    let schedule = schedule(&bakong.config.bakong);
    let grace = chrono::Duration::from_std(schedule.grace).unwrap_or_default();
    let mut state = PollState::default();
    loop {
        let payments = match watched(&desk, grace) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "poller cannot read the journal");
                Vec::new()
            }
        };
        let by_md5: HashMap<String, Payment> = payments
            .iter()
            .filter_map(|p| p.refs.lookup.clone().map(|m| (m, p.clone())))
            .collect();
        let pending: Vec<Pending> = payments
            .iter()
            .filter_map(|p| {
                Some(Pending {
                    md5: p.refs.lookup.clone()?,
                    shown_at_ms: p.created_at.timestamp_millis(),
                    expires_at_ms: p.expires_at?.timestamp_millis(),
                })
            })
            .collect();
        let now_ms = desk.now().timestamp_millis();
        let plan = schedule.plan(now_ms, &pending, &state);
        if !plan.due.is_empty() {
            state.on_tick(now_ms);
            let before = bakong.client.requests_made();
            let generation = bakong.client.token_generation();
            let result = bakong.client.check_by_md5_list(&plan.due).await;
            desk.count_round(bakong.client.requests_made() - before);
            if bakong.client.token_generation() != generation {
                // The client renewed the token: keep the new one for the next start.
                let token = crate::secrets::Secret::new(bakong.client.token());
                if let Err(e) = desk.store_secret(crate::secrets::names::BAKONG_TOKEN, &token) {
                    tracing::warn!(error = %e, "could not store the renewed Bakong token");
                }
            }
            let answered_at = desk.now();
            match result {
                Ok(results) => {
                    desk.note_health::<()>(&Ok(()));
                    state.on_answered(&plan.due, answered_at.timestamp_millis());
                    for (md5, outcome) in results {
                        if let Some(p) = by_md5.get(&md5) {
                            if let Err(e) = apply(&desk, p, &outcome, answered_at) {
                                tracing::error!(payment = %p.id, error = %e, "could not record a Bakong answer");
                            }
                            if !matches!(outcome, CheckOutcome::NotFound) {
                                state.forget(&md5);
                            }
                        }
                    }
                }
                Err(e) => {
                    state.on_error(&schedule, desk.now().timestamp_millis(), &e);
                    desk.note_health::<()>(&Err(map_error(e)));
                }
            }
        }
        for md5 in &plan.finished {
            state.forget(md5);
        }
        let wait = plan
            .next_tick_at_ms
            .map(|t| Duration::from_millis((t - desk.now().timestamp_millis()).max(0) as u64))
            .unwrap_or(Duration::from_secs(3600))
            .max(Duration::from_millis(20));
        if !desk.sleep(wait).await {
            return;
        }
    }
}

fn apply(
    desk: &Desk,
    p: &Payment,
    outcome: &CheckOutcome,
    answered_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), EngineError> {
    let v = verdict_of(p, outcome);
    if matches!(
        p.state,
        PaymentState::Expired | PaymentState::Cancelled | PaymentState::Failed
    ) {
        // A payment for a code we gave up. An expired code paid before its
        // expiry (seen late) settles; otherwise money was taken without a
        // sale and the payment is flagged (`paid_after_expiry`,
        // `paid_after_cancel`, `paid_after_failure`) — the event reaches the
        // cashier's screen now.
        if matches!(v, Verdict::Paid { .. } | Verdict::Unclear { .. }) {
            desk.apply_verdict(&p.id, v, "Bakong reports a payment after the code expired")?;
        }
        return Ok(());
    }
    match v {
        Verdict::Pending => {
            if p.expires_at.is_some_and(|e| answered_at >= e) {
                desk.expire_unanswered(&p.id, "no payment at the code's expiry")?;
            }
        }
        v => {
            desk.apply_verdict(&p.id, v, "Bakong check by MD5")?;
        }
    }
    Ok(())
}
