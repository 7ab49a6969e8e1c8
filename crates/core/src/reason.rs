//! Why a payment ended as it did, or why a step was refused: a code and its
//! parameters, never an English sentence. The screens say it in the reader's
//! language (`ui/js/i18n.js`, `r_<code>` with `{param}`s); the command line
//! and the logs in English ([`Reason`]'s `Display`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Declares [`ReasonCode`] with the one spelling of each code (the wire's, the
/// journal's and the screens' `r_<code>`).
macro_rules! reason_codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, )*) => {
        /// Every reason Till gives. A stored code this build does not know
        /// reads as [`ReasonCode::Other`] (its parameters kept).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ReasonCode {
            $( $(#[$doc])* $variant, )*
            /// Not a code of this build (a newer Till's, or none).
            Other,
        }

        impl ReasonCode {
            /// The code as the screens and the journal write it (`insufficient_balance`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ReasonCode::$variant => $name, )*
                    ReasonCode::Other => "other",
                }
            }

            /// The code named `name` (a flag's kind, a stored code); unknown: [`ReasonCode::Other`].
            pub fn of_kind(name: &str) -> ReasonCode {
                match name {
                    $( $name => ReasonCode::$variant, )*
                    _ => ReasonCode::Other,
                }
            }
        }
    };
}

reason_codes! {
    // How a payment ended.
    /// The wallet refused, for a reason it did not say more precisely.
    Declined = "declined",
    InsufficientBalance = "insufficient_balance",
    WrongPin = "wrong_pin",
    /// Too many wrong PINs: the customer's wallet is locked for a while.
    PinLocked = "pin_locked",
    /// The customer took too long on the wallet's page.
    TimedOut = "timed_out",
    LimitExceeded = "limit_exceeded",
    CancelledByCustomer = "cancelled_by_customer",
    CancelledAtTill = "cancelled_at_till",
    Expired = "expired",
    /// Till stopped before the wallet answered the start; nothing was charged.
    Interrupted = "interrupted",
    /// The wallet did not answer the start; nothing was charged.
    NoAnswer = "no_answer",
    /// Paid, but not the amount asked: `paid`, `asked`.
    AmountMismatch = "amount_mismatch",
    /// Paid to an account other than the one the code named.
    AccountMismatch = "account_mismatch",
    /// The wallet says money moved, in terms Till cannot read.
    UnreadablePayment = "unreadable_payment",
    PaidAfterExpiry = "paid_after_expiry",
    PaidAfterCancel = "paid_after_cancel",
    PaidAfterFailure = "paid_after_failure",
    // Why a step was refused (nothing was written).
    /// `wallet` does not take `currency`; it takes `takes`.
    CurrencyNotTaken = "currency_not_taken",
    /// `wallet` cannot be reached and `amount` is above the per-payment
    /// limit for a payment that cannot be verified now: `limit`.
    OverUnverifiedPayment = "over_unverified_payment",
    /// … and today's unverified payments would reach `after`.
    OverUnverifiedDay = "over_unverified_day",
    DiskFull = "disk_full",
    /// `wallet` is off (`why`: its settings or secrets are missing).
    WalletOff = "wallet_off",
    /// The customer approved already; Till is completing the payment.
    AlreadyApproved = "already_approved",
    /// The payment is `state` and cannot be cancelled.
    NotCancellable = "not_cancellable",
    /// The customer paid already; the payment is `state`.
    AlreadyPaid = "already_paid",
    /// `wallet` has no refund API: refund where `where` says, then record it.
    RefundsElsewhere = "refunds_elsewhere",
    WholeRefundsOnly = "whole_refunds_only",
    /// `wallet` refunds through Till: refund, do not record.
    RefundsThroughTill = "refunds_through_till",
    /// A recorded refund needs its reference where it was made (1–64 characters).
    RefundReference = "refund_reference",
    // Why a receipt did not print (the payment stands as it is).
    PrinterPaperOut = "printer_paper_out",
    /// Nothing answers at `addr`.
    PrinterNoAnswer = "printer_no_answer",
    /// The device file `path` cannot be opened.
    PrinterDevice = "printer_device",
    /// The connection broke while sending.
    PrinterIo = "printer_io",
    /// No printer is set up (`[printer] enabled`).
    PrinterOff = "printer_off",
    /// A payment that is `state` has no receipt to print.
    NothingToPrint = "nothing_to_print",
    // Why the local terminal API refused a POS's request (nothing was written).
    /// No `Authorization: Bearer` key came with the request.
    KeyMissing = "key_missing",
    /// The key is not one this till paired (or its secret is wrong).
    KeyInvalid = "key_invalid",
    /// The key was revoked by a manager (`key`).
    KeyRevoked = "key_revoked",
    /// The body is not the JSON this request takes (`why`).
    MalformedJson = "malformed_json",
    /// `field` is missing or not what it should be (`why`).
    InvalidField = "invalid_field",
    /// `field` is not an amount (a decimal string such as "120.50").
    AmountInvalid = "amount_invalid",
    AmountNotPositive = "amount_not_positive",
    /// `currency` takes at most `max` decimal places.
    AmountDecimals = "amount_decimals",
    AmountTooLarge = "amount_too_large",
    /// `currency` is not one Till knows (BDT, KHR, USD).
    CurrencyUnknown = "currency_unknown",
    /// `wallet` is not a wallet Till knows.
    WalletUnknown = "wallet_unknown",
    /// No `wallet` was named and several take `currency`: `takes`.
    WalletNeeded = "wallet_needed",
    /// The reference must be 1–`max` printable characters.
    ReferenceInvalid = "reference_invalid",
    /// `reference` is charge `charge` already, for another amount, currency or wallet.
    ReferenceConflict = "reference_conflict",
    /// No charge (or refund request) `id` of this POS.
    NotFound = "not_found",
    /// The till's customer display is busy with charge `charge`.
    TillBusy = "till_busy",
    /// A payment that is `state` cannot be refunded.
    NotRefundable = "not_refundable",
    /// At most `left` is left to refund.
    RefundOver = "refund_over",
    /// Refund request `id` of this payment waits for a manager already.
    RefundRequestWaiting = "refund_request_waiting",
    /// The refund request is `state` already.
    RefundRequestDecided = "refund_request_decided",
    /// The route exists, but not with this HTTP method.
    MethodNotAllowed = "method_not_allowed",
    /// Till could not do it for a reason of its own (see its log).
    Internal = "internal",
}

impl Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(ReasonCode::of_kind(&name))
    }
}

/// A reason and what fills it in (`wallet`, `amount`, `state`, …: display
/// strings already made, e.g. "৳ 120.00").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl Reason {
    pub fn new(code: ReasonCode) -> Reason {
        Reason {
            code,
            params: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl fmt::Display) -> Reason {
        self.params.insert(key.to_owned(), value.to_string());
        self
    }

    fn p(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or("?")
    }
}

/// English, for the command line and the logs.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ReasonCode::*;
        match self.code {
            Declined => write!(f, "{} declined the payment", self.p("wallet")),
            InsufficientBalance => f.write_str("not enough balance in the customer's wallet"),
            WrongPin => f.write_str("the customer entered a wrong PIN or code"),
            PinLocked => f.write_str("too many wrong PINs: the customer's wallet is locked for now"),
            TimedOut => f.write_str("the customer took too long on the wallet's page"),
            LimitExceeded => f.write_str("the customer's wallet limit is reached"),
            CancelledByCustomer => f.write_str("the customer cancelled the payment"),
            CancelledAtTill => f.write_str("cancelled at the till"),
            Expired => f.write_str("the payment expired before the customer paid"),
            Interrupted => write!(
                f,
                "Till stopped before {} answered; nothing was charged",
                self.p("wallet")
            ),
            NoAnswer => write!(f, "{} did not answer; nothing was charged", self.p("wallet")),
            AmountMismatch => write!(
                f,
                "the customer paid {} instead of {}; a manager must check this payment",
                self.p("paid"),
                self.p("asked")
            ),
            AccountMismatch => f.write_str(
                "the money went to another account than the code named; a manager must check this payment",
            ),
            UnreadablePayment => write!(
                f,
                "{} reports a payment Till cannot read; a manager must check it",
                self.p("wallet")
            ),
            PaidAfterExpiry | PaidAfterCancel | PaidAfterFailure => write!(
                f,
                "the customer paid after the payment had ended; a manager must check it"
            ),
            CurrencyNotTaken => write!(
                f,
                "{} does not take {}; it takes {}",
                self.p("wallet"),
                self.p("currency"),
                self.p("takes")
            ),
            OverUnverifiedPayment => write!(
                f,
                "{} cannot be reached, and {} is above the {} limit for a payment that cannot be verified now",
                self.p("wallet"),
                self.p("amount"),
                self.p("limit")
            ),
            OverUnverifiedDay => write!(
                f,
                "{} cannot be reached, and today's unverified payments would reach {}, above the day's limit",
                self.p("wallet"),
                self.p("after")
            ),
            DiskFull => f.write_str("the disk holding the journal is full; no payment was started"),
            WalletOff => write!(f, "{} is off: {}", self.p("wallet"), self.p("why")),
            AlreadyApproved => f.write_str(
                "the customer already approved; Till is completing the payment and it cannot be cancelled now",
            ),
            NotCancellable => write!(f, "the payment is {} and cannot be cancelled", self.p("state")),
            AlreadyPaid => write!(f, "the customer has already paid; the payment is {}", self.p("state")),
            RefundsElsewhere => write!(f, "{}", self.p("where")),
            WholeRefundsOnly => write!(f, "{} refunds only the whole payment", self.p("wallet")),
            RefundsThroughTill => write!(
                f,
                "{} refunds through Till; refund the payment instead of recording one",
                self.p("wallet")
            ),
            RefundReference => f.write_str(
                "give the refund's reference where it was made (1 to 64 characters)",
            ),
            PrinterPaperOut => f.write_str("the printer is out of paper; nothing was printed"),
            PrinterNoAnswer => write!(f, "the printer at {} does not answer", self.p("addr")),
            PrinterDevice => write!(f, "the printer device {} cannot be opened", self.p("path")),
            PrinterIo => f.write_str("the printer's connection broke while printing"),
            PrinterOff => f.write_str("no printer is set up (Settings: printer.enabled, printer.target)"),
            NothingToPrint => write!(f, "a payment that is {} has no receipt to print", self.p("state")),
            KeyMissing => f.write_str("send the POS's key as Authorization: Bearer <key>"),
            KeyInvalid => f.write_str("this key is not one the till paired"),
            KeyRevoked => write!(f, "the key {} was revoked by a manager", self.p("key")),
            MalformedJson => write!(f, "the body is not the JSON this request takes: {}", self.p("why")),
            InvalidField => write!(f, "{}: {}", self.p("field"), self.p("why")),
            AmountInvalid => write!(f, "{} is not an amount (a decimal such as \"120.50\")", self.p("field")),
            AmountNotPositive => f.write_str("the amount must be more than zero"),
            AmountDecimals => write!(f, "{} takes at most {} decimal places", self.p("currency"), self.p("max")),
            AmountTooLarge => f.write_str("that amount is too large"),
            CurrencyUnknown => write!(f, "unknown currency {} (BDT, KHR or USD)", self.p("currency")),
            WalletUnknown => write!(f, "unknown wallet {}", self.p("wallet")),
            WalletNeeded => write!(f, "name the wallet: {} take {}", self.p("takes"), self.p("currency")),
            ReferenceInvalid => write!(f, "the reference must be 1 to {} printable characters", self.p("max")),
            ReferenceConflict => write!(
                f,
                "reference {} is charge {} already, with another amount, currency or wallet",
                self.p("reference"),
                self.p("charge")
            ),
            NotFound => write!(f, "no {} of this POS", self.p("id")),
            TillBusy => write!(f, "the till is busy with charge {}", self.p("charge")),
            NotRefundable => write!(f, "a payment that is {} cannot be refunded", self.p("state")),
            RefundOver => write!(f, "at most {} is left to refund", self.p("left")),
            RefundRequestWaiting => write!(f, "refund request {} waits for a manager already", self.p("id")),
            RefundRequestDecided => write!(f, "the refund request is {} already", self.p("state")),
            MethodNotAllowed => f.write_str("this route does not take that HTTP method"),
            Internal => f.write_str("Till could not do this (its log says why)"),
            Other => write!(f, "{}", self.p("text")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_unknown_ones_read_as_other() {
        assert_eq!(
            ReasonCode::InsufficientBalance.as_str(),
            "insufficient_balance"
        );
        assert_eq!(
            ReasonCode::of_kind("paid_after_expiry"),
            ReasonCode::PaidAfterExpiry
        );
        assert_eq!(ReasonCode::of_kind("something_new"), ReasonCode::Other);
        let r: Reason =
            serde_json::from_str(r#"{"code":"from_a_newer_till","params":{"x":"1"}}"#).unwrap();
        assert_eq!(r.code, ReasonCode::Other);
        assert_eq!(r.params["x"], "1");
    }

    #[test]
    fn parameters_travel_and_english_is_for_the_command_line() {
        let r = Reason::new(ReasonCode::AmountMismatch)
            .with("paid", "৳ 100.00")
            .with("asked", "৳ 120.00");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "amount_mismatch", "params": {"asked": "৳ 120.00", "paid": "৳ 100.00"}})
        );
        assert!(r.to_string().contains("৳ 100.00 instead of ৳ 120.00"));
    }
}
