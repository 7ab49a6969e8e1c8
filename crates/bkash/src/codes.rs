//! bKash status / error codes (spec §15) as data: the published message, a
//! sentence a cashier understands, and what the code means for the flow.
//!
//! The published messages are quoted as published (including the portal's
//! typo "Mendatory"). The "class" column is the spec's handling groups
//! (tagged `[I]` there) plus our reading of each code's meaning.

/// What a code means for whoever called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeClass {
    /// The customer's side refused the payment (wrong PIN, balance, wallet
    /// state, duplicate). The payment attempt has definitely failed.
    Customer,
    /// The operation was already done earlier (repeat execute, capture twice):
    /// do not fail the order, ask for the status instead.
    AlreadyDone,
    /// A transient provider fault (system error, maintenance): the outcome of a
    /// non-idempotent call is unknown; ask for the status / retry later.
    Transient,
    /// The request itself was refused (bad field, unknown id, wrong state).
    Request,
    /// The merchant account or app is not set up / not permitted.
    Merchant,
    /// A refund was refused.
    Refund,
    /// Codes of other bKash products (recurring, payout); not expected here.
    Other,
}

/// One row of the code table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CodeInfo {
    /// The code as bKash sends it (`"2023"`, `"503"`).
    pub code: &'static str,
    /// bKash's published message.
    pub published: &'static str,
    /// What the cashier sees.
    pub cashier: &'static str,
    pub class: CodeClass,
}

use CodeClass::*;

macro_rules! table {
    ($( $code:literal, $class:ident, $published:literal, $cashier:literal; )*) => {
        /// Every code of spec §15 (main list, refund list, other observed codes).
        pub static CODES: &[CodeInfo] = &[
            $( CodeInfo { code: $code, published: $published, cashier: $cashier, class: $class }, )*
        ];
    };
}

table! {
    "2001", Merchant, "Invalid App Key", "The bKash app key is wrong. Check the bKash settings.";
    "2002", Request, "Invalid Payment ID", "bKash does not know this payment.";
    "2003", Transient, "Process failed", "bKash could not process the request. Try again.";
    "2004", Other, "Invalid firstPaymentDate", "bKash refused the request (invalid first payment date).";
    "2005", Other, "Invalid frequency", "bKash refused the request (invalid frequency).";
    "2006", Request, "Invalid amount", "The amount is not valid for bKash.";
    "2007", Request, "Invalid currency", "bKash accepts only BDT.";
    "2008", Request, "Invalid intent", "bKash refused the payment type (intent).";
    "2009", Customer, "Invalid Wallet", "The customer's bKash wallet is not valid.";
    "2010", Customer, "Invalid OTP", "The customer entered a wrong verification code.";
    "2011", Customer, "Invalid PIN", "The customer entered an invalid PIN.";
    "2012", Other, "Invalid Receiver MSISDN", "The receiving wallet number is not valid.";
    "2013", Customer, "Resend Limit Exceeded", "Too many verification codes were requested. The customer should try again later.";
    "2014", Customer, "Wrong PIN", "The customer entered a wrong PIN.";
    "2015", Customer, "Wrong PIN count exceeded", "Too many wrong PIN attempts. The customer's wallet is temporarily locked.";
    "2016", Customer, "Wrong verification code", "The customer entered a wrong verification code.";
    "2017", Customer, "Wrong verification limit exceeded", "Too many wrong verification codes. The customer should try again later.";
    "2018", Customer, "OTP verification time expired", "The verification code expired before the customer entered it.";
    "2019", Customer, "PIN verification time expired", "The customer took too long to enter the PIN.";
    "2020", Transient, "Exception Occurred", "bKash had an internal error. Try again.";
    "2021", Other, "Invalid Mandate ID", "bKash refused the request (invalid mandate).";
    "2022", Other, "The mandate does not exist", "bKash refused the request (no such mandate).";
    "2023", Customer, "Insufficient Balance", "Insufficient balance in the bKash wallet.";
    "2024", Transient, "Exception occurred", "bKash had an internal error. Try again.";
    "2025", Request, "Invalid request body", "bKash could not read the request.";
    "2026", Refund, "The reversal amount cannot be greater than the original transaction amount", "The refund is larger than what is left of the payment.";
    "2027", Other, "The mandate corresponding to the payer reference number already exists and cannot be created again", "bKash refused the request (mandate exists).";
    "2028", Refund, "Reverse failed because the transaction serial number does not exist", "bKash could not find the payment to refund.";
    "2029", Customer, "Duplicate for all transactions", "bKash refused a duplicate payment (same customer and amount, or same invoice, a moment ago).";
    "2030", Other, "Invalid mandate request type", "bKash refused the request (mandate type).";
    "2031", Request, "Invalid merchant invoice number", "The invoice number is not valid for bKash.";
    "2032", Other, "Invalid transfer type", "bKash refused the request (transfer type).";
    "2033", Request, "Transaction not found", "bKash has no such transaction.";
    "2034", Refund, "The transaction cannot be reversed because the original transaction has been reversed", "This payment has already been refunded.";
    "2035", Merchant, "Reverse failed because the initiator has no permission to reverse the transaction", "This bKash account may not make refunds.";
    "2036", Other, "The direct debit mandate is not in Active state", "bKash refused the request (mandate not active).";
    "2037", Customer, "The account of the debit party is in a state which prohibits execution of this transaction", "The customer's bKash account cannot pay right now (blocked).";
    "2038", Customer, "Debit party identity tag prohibits execution of this transaction", "The customer's bKash account cannot make this payment.";
    "2039", Merchant, "The account of the credit party is in a state which prohibits execution of this transaction", "The shop's bKash account cannot receive payments right now.";
    "2040", Merchant, "Credit party identity tag prohibits execution of this transaction", "The shop's bKash account cannot receive this payment.";
    "2041", Merchant, "Credit party identity is in a state which does not support the current service", "The shop's bKash account does not support this service.";
    "2042", Merchant, "Reverse failed because the initiator has no permission to reverse the transaction.", "This bKash account may not make refunds.";
    "2043", Customer, "The security credential of the subscriber is incorrect.", "The customer's PIN or code was wrong.";
    "2044", Customer, "Identity has not subscribed to a product that contains the expected service or the identity is not in Active status.", "The customer's bKash account cannot make this payment.";
    "2045", Customer, "The MSISDN of the customer does not exist.", "This number has no bKash account.";
    "2046", Customer, "Identity has not subscribed to a product that contains requested service.", "The customer's bKash account cannot make this payment.";
    "2047", Request, "TLV Data Format Error", "bKash refused the merchant association info.";
    "2048", Request, "Invalid Payer Reference", "bKash refused the payer reference.";
    "2049", Request, "Invalid Merchant Callback URL", "bKash refused the callback URL. Check the bKash settings.";
    "2050", Request, "Agreement already exists between payer and merchant", "This wallet is already saved for this shop.";
    "2051", Request, "Invalid Agreement ID", "The saved wallet is not known to bKash.";
    "2052", Request, "Agreement is in incomplete state", "The saved wallet was not fully set up.";
    "2053", Request, "Agreement has already been cancelled", "The saved wallet was removed.";
    "2054", Request, "Agreement execution pre-requisite hasn't been met", "The customer has not finished on the bKash page yet.";
    "2055", Request, "Invalid Agreement State", "The saved wallet cannot be used right now.";
    "2056", Request, "Invalid Payment State", "The payment cannot be completed: the customer did not finish on the bKash page, or it expired.";
    "2057", Customer, "Not a bKash Account", "This number is not a bKash account.";
    "2058", Customer, "Not a Customer Wallet", "This number is not a bKash customer wallet.";
    "2059", Customer, "Multiple OTP request for a single session denied", "Too many verification code requests. Start the payment again.";
    "2060", Request, "Payment execution pre-requisite hasn't been met", "The customer has not finished on the bKash page yet.";
    "2061", Merchant, "This action can only be performed by the agreement or payment initiator party", "This payment belongs to another bKash merchant account.";
    "2062", AlreadyDone, "The payment has already been completed", "bKash says the payment was already completed.";
    "2063", Request, "Mode is not valid as per request data", "bKash refused the payment mode.";
    "2064", Merchant, "This product mode currently unavailable", "This kind of bKash payment is not available right now.";
    "2065", Request, "Mendatory field missing", "bKash says a required field is missing.";
    "2066", Request, "Agreement is not shared with other merchant", "The saved wallet belongs to another shop.";
    "2067", Merchant, "Invalid permission", "This bKash account is not permitted to do that.";
    "2068", AlreadyDone, "Transaction has already been completed", "bKash says the transaction was already completed.";
    "2069", Request, "Transaction has already been cancelled", "bKash says the transaction was already cancelled.";
    "2071", Refund, "Refund after %s days not allowed", "This payment is too old to refund through bKash.";
    "2072", Refund, "Refund amount not valid", "The refund amount is not valid (more than what is left of the payment?).";
    "2073", Refund, "Invalid SKU", "bKash refused the refund's product code.";
    "2074", Refund, "The transaction cannot be reversed", "bKash will not refund this payment (again).";
    "2075", Refund, "SKU Character Limit Exceeded", "The refund's product code is too long.";
    "2076", Refund, "Reason Character Limit Exceeded", "The refund reason is too long.";
    "2077", Refund, "Invalid TrxID", "bKash does not know this transaction ID.";
    "2078", Refund, "Invalid Reason", "bKash refused the refund reason.";
    "2079", Merchant, "Invalid app Token", "The bKash session expired. Try again.";
    "2080", Merchant, "The identity is not permitted to initiate this transaction", "This bKash account is not permitted to do that.";
    "2081", Refund, "The identity of the debit or credit party is in a state which prohibits the execution of this transaction", "A bKash account involved is blocked; the refund cannot be made now.";
    "2082", Merchant, "The merchant is not permitted to initiate this transaction", "This bKash merchant account is not permitted to do that.";
    "2116", AlreadyDone, "The agreement execution has already been completed", "bKash says the wallet was already saved.";
    "2117", AlreadyDone, "The payment execution has already been completed", "bKash says the payment was already completed.";
    "2118", Request, "The Platform value is invalid", "bKash refused the platform value.";
    "2119", AlreadyDone, "The authorized payment has already been processed", "bKash says the authorized payment was already processed.";
    "2127", Refund, "Transaction not yet completed", "The payment is not completed, so it cannot be refunded.";
    "503", Transient, "System is undergoing maintenance. Please try again later", "bKash is under maintenance. Try again later.";
    "9999", Transient, "System Error.", "bKash had a system error. Try again later.";
}

/// The row for `code`, if the code is published.
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code == code)
}

/// What the cashier sees for `code`; unknown codes get a generic sentence
/// that still names the code (so support can look it up).
pub fn cashier_message(code: &str) -> String {
    match lookup(code) {
        Some(info) => info.cashier.to_string(),
        None => format!("bKash refused the request (code {code})."),
    }
}

/// The class of `code`; unknown codes are [`CodeClass::Request`] (an explicit refusal).
pub fn class(code: &str) -> CodeClass {
    lookup(code).map(|c| c.class).unwrap_or(Request)
}

/// Codes after which an idempotent call is worth repeating (spec §15 "retryable").
pub fn is_transient(code: &str) -> bool {
    class(code) == Transient
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_unique_and_complete_for_spec_groups() {
        let mut seen = HashSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "duplicate {}", c.code);
            assert!(!c.cashier.is_empty() && !c.published.is_empty());
        }
        for code in ["2062", "2068", "2116", "2117", "2119"] {
            assert_eq!(class(code), AlreadyDone, "{code}");
        }
        for code in ["2003", "2020", "2024", "503", "9999"] {
            assert!(is_transient(code), "{code}");
        }
        for code in (2010..=2019)
            .map(|c| c.to_string())
            .chain(["2023".into(), "2057".into()])
        {
            if code != "2012" {
                assert_eq!(class(&code), Customer, "{code}");
            }
        }
        assert_eq!(lookup("2065").unwrap().published, "Mendatory field missing");
        assert!(cashier_message("4242").contains("4242"));
        assert_eq!(
            cashier_message("2023"),
            "Insufficient balance in the bKash wallet."
        );
    }
}
