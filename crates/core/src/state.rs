//! The payment state machine. Every change of state goes through
//! [`PaymentState::check_transition`]; the journal applies it in one SQLite
//! transaction together with the event row (and the outbox record for
//! settlements and refunds).
//!
//! ```text
//! created ──► awaiting_customer ──► authorized (bKash) ──► settled ──► refund_pending ──► partially_refunded
//!    │              │  │  │  │            │   │                ▲            │   ▲                │
//!    │              │  │  │  └► flagged  │   └► failed         │            │   └────────────────┘
//!    │              │  │  └► expired ──► settled, flagged (KHQR paid before its expiry, seen late)
//!    │              │  │                 └► (unknown: resolved by status, never a second execute)
//!    │              │  └► cancelled                                          └──► refunded
//!    └► failed      └► failed, settled (KHQR, demo)
//! ```
//!
//! An authorized payment never expires: its execute may have moved the money,
//! so only bKash's word ends it (settled, flagged or failed).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Written to the journal, nothing sent to the provider yet.
    Created,
    /// The customer has the code or the checkout page.
    AwaitingCustomer,
    /// bKash: the customer approved on the hosted page; execute is in flight or being resolved.
    Authorized,
    /// The provider said the money moved, with our exact amount and currency.
    Settled,
    Failed,
    Cancelled,
    Expired,
    /// Money moved but not as asked (wrong amount or currency): for the manager.
    Flagged,
    /// A refund was asked for and its outcome is not known yet.
    RefundPending,
    PartiallyRefunded,
    Refunded,
}

/// An illegal transition.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a payment cannot go from {from} to {to}")]
pub struct TransitionError {
    pub from: PaymentState,
    pub to: PaymentState,
}

impl PaymentState {
    pub const ALL: [PaymentState; 11] = [
        PaymentState::Created,
        PaymentState::AwaitingCustomer,
        PaymentState::Authorized,
        PaymentState::Settled,
        PaymentState::Failed,
        PaymentState::Cancelled,
        PaymentState::Expired,
        PaymentState::Flagged,
        PaymentState::RefundPending,
        PaymentState::PartiallyRefunded,
        PaymentState::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Created => "created",
            PaymentState::AwaitingCustomer => "awaiting_customer",
            PaymentState::Authorized => "authorized",
            PaymentState::Settled => "settled",
            PaymentState::Failed => "failed",
            PaymentState::Cancelled => "cancelled",
            PaymentState::Expired => "expired",
            PaymentState::Flagged => "flagged",
            PaymentState::RefundPending => "refund_pending",
            PaymentState::PartiallyRefunded => "partially_refunded",
            PaymentState::Refunded => "refunded",
        }
    }

    /// Whether the engine still has to find out how this payment ends.
    /// (`refund_pending` is open too: a refund's outcome is still unknown.)
    pub fn is_open(self) -> bool {
        matches!(
            self,
            PaymentState::Created
                | PaymentState::AwaitingCustomer
                | PaymentState::Authorized
                | PaymentState::RefundPending
        )
    }

    /// Whether money reached the merchant (and may have been partly given back).
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            PaymentState::Settled
                | PaymentState::RefundPending
                | PaymentState::PartiallyRefunded
                | PaymentState::Refunded
        )
    }

    /// The transition table. Anything not listed is an error.
    pub fn can_go_to(self, to: PaymentState) -> bool {
        use PaymentState::*;
        matches!(
            (self, to),
            (Created, AwaitingCustomer | Failed | Cancelled)
                | (
                    AwaitingCustomer,
                    Authorized | Settled | Failed | Cancelled | Expired | Flagged
                )
                | (Authorized, Settled | Failed | Flagged)
                // A KHQR paid before its expiry, reported after it.
                | (Expired, Settled | Flagged)
                | (Settled | PartiallyRefunded, RefundPending)
                | (RefundPending, PartiallyRefunded | Refunded | Settled)
        )
    }

    pub fn check_transition(self, to: PaymentState) -> Result<(), TransitionError> {
        if self.can_go_to(to) {
            Ok(())
        } else {
            Err(TransitionError { from: self, to })
        }
    }
}

impl fmt::Display for PaymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown payment state \"{0}\"")]
pub struct UnknownState(pub String);

impl FromStr for PaymentState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, UnknownState> {
        PaymentState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentState::*;
    use super::*;

    #[test]
    fn names_round_trip() {
        for st in PaymentState::ALL {
            assert_eq!(st.as_str().parse::<PaymentState>().unwrap(), st);
        }
        assert!("paid".parse::<PaymentState>().is_err());
    }

    #[test]
    fn final_states_do_not_move_except_into_refunds() {
        for from in [Failed, Cancelled, Flagged, Refunded] {
            for to in PaymentState::ALL {
                assert!(!from.can_go_to(to), "{from} -> {to}");
            }
        }
        // Expired moves only on the provider's word that it was paid in time (M3).
        for to in PaymentState::ALL {
            assert_eq!(
                Expired.can_go_to(to),
                matches!(to, Settled | Flagged),
                "expired -> {to}"
            );
        }
        for to in PaymentState::ALL {
            assert_eq!(
                Settled.can_go_to(to),
                to == RefundPending,
                "settled -> {to}"
            );
        }
    }

    #[test]
    fn no_state_goes_back_to_created_or_to_itself() {
        for from in PaymentState::ALL {
            assert!(!from.can_go_to(Created));
            assert!(!from.can_go_to(from));
        }
    }

    #[test]
    fn only_bkash_path_goes_through_authorized_to_settled() {
        assert!(AwaitingCustomer.can_go_to(Authorized));
        assert!(Authorized.can_go_to(Settled));
        assert!(!Created.can_go_to(Settled));
        assert!(!Authorized.can_go_to(Cancelled));
        // Execute may have moved the money: an authorized payment never expires (H1).
        assert!(!Authorized.can_go_to(Expired));
        assert_eq!(
            Created.check_transition(Refunded),
            Err(TransitionError {
                from: Created,
                to: Refunded
            })
        );
    }
}
