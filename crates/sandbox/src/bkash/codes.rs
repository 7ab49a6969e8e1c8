//! bKash status codes and their published messages (spec §15), quoted as
//! published, including the portal's own typo "Mendatory".

/// The published message for a code; unknown codes get the generic one.
pub fn message(code: &str) -> &'static str {
    match code {
        "0000" => "Successful",
        "2001" => "Invalid App Key",
        "2002" => "Invalid Payment ID",
        "2003" => "Process failed",
        "2006" => "Invalid amount",
        "2007" => "Invalid currency",
        "2008" => "Invalid intent",
        "2009" => "Invalid Wallet",
        "2010" => "Invalid OTP",
        "2011" => "Invalid PIN",
        "2014" => "Wrong PIN",
        "2023" => "Insufficient Balance",
        "2025" => "Invalid request body",
        "2026" => "The reversal amount cannot be greater than the original transaction amount",
        "2029" => "Duplicate for all transactions",
        "2031" => "Invalid merchant invoice number",
        "2033" => "Transaction not found",
        "2034" => "The transaction cannot be reversed because the original transaction has been reversed",
        "2037" => "The account of the debit party is in a state which prohibits execution of this transaction",
        "2038" => "Debit party identity tag prohibits execution of this transaction",
        "2045" => "The MSISDN of the customer does not exist.",
        "2047" => "TLV Data Format Error",
        "2048" => "Invalid Payer Reference",
        "2049" => "Invalid Merchant Callback URL",
        "2050" => "Agreement already exists between payer and merchant",
        "2051" => "Invalid Agreement ID",
        "2052" => "Agreement is in incomplete state",
        "2053" => "Agreement has already been cancelled",
        "2054" => "Agreement execution pre-requisite hasn't been met",
        "2055" => "Invalid Agreement State",
        "2056" => "Invalid Payment State",
        "2057" => "Not a bKash Account",
        "2058" => "Not a Customer Wallet",
        "2060" => "Payment execution pre-requisite hasn't been met",
        "2061" => "This action can only be performed by the agreement or payment initiator party",
        "2062" => "The payment has already been completed",
        "2063" => "Mode is not valid as per request data",
        "2064" => "This product mode currently unavailable",
        "2065" => "Mendatory field missing",
        "2071" => "Refund after %s days not allowed",
        "2072" => "Refund amount not valid",
        "2073" => "Invalid SKU",
        "2074" => "The transaction cannot be reversed",
        "2075" => "SKU Character Limit Exceeded",
        "2076" => "Reason Character Limit Exceeded",
        "2077" => "Invalid TrxID",
        "2078" => "Invalid Reason",
        "2079" => "Invalid app Token",
        "2116" => "The agreement execution has already been completed",
        "2117" => "The payment execution has already been completed",
        "2127" => "Transaction not yet completed",
        "503" => "System is undergoing maintenance. Please try again later",
        _ => "System Error.",
    }
}

/// `internalCode` of the v2 refund error envelope (snake-case names, as the
/// reconstructed examples show).
pub fn v2_internal(code: &str) -> &'static str {
    match code {
        "2002" => "invalid_payment_id",
        "2127" => "transaction_not_completed",
        "2072" => "refund_amount_not_valid",
        "2071" => "refund_window_exceeded",
        "2074" => "transaction_cannot_be_reversed",
        "2077" => "invalid_trx_id",
        "2065" => "mandatory_field_missing",
        "2075" => "sku_character_limit_exceeded",
        "2076" => "reason_character_limit_exceeded",
        _ => "system_error",
    }
}
