//! The simulator's refusal reasons and status codes. Nagad publishes neither
//! list: the reason names follow the error kinds one public client models
//! (`InvalidMerchant`, `SignatureVerificationFailed`, `DuplicateOrderId`,
//! `InvalidReferenceId`, …), the messages are ours, and of the status codes
//! only `00_0000_000` / `000` (success) and `50_0026_851` (over limit) were
//! seen in captures; the rest are made up (\[I\], `tests/data/nagad/README.md` §7).

/// A refusal reason and its message.
pub fn message(reason: &str) -> &'static str {
    match reason {
        "InvalidRequestHeader" => "Required request header is missing or invalid",
        "InvalidMerchant" => "Merchant is not valid",
        "InvalidRequest" => "Invalid request body",
        "DecryptionError" => "Sensitive data could not be decrypted",
        "SignatureVerificationFailed" => "Signature verification failed",
        "InvalidOrderId" => "Order ID is not valid",
        "DuplicateOrderId" => "Duplicate order ID",
        "InvalidDateTime" => "Date time is not valid",
        "InvalidChallenge" => "Challenge is not valid",
        "InvalidReferenceId" => "Payment reference ID is not valid",
        "InvalidPaymentState" => "The payment is not in a state that allows this",
        "InvalidCurrency" => "Currency is not valid",
        "InvalidAmount" => "Amount is not valid",
        "AmountLimitExceeded" => "Amount exceeds the allowed limit",
        "InvalidCallbackUrl" => "Merchant callback URL is not valid",
        "InvalidRefundAmount" => "Cancel amount is not valid",
        "NotFound" => "Requested resource not found",
        _ => "Internal server error",
    }
}

/// How a payment ended: status word, callback `status_code`, verify
/// `statusCode`, callback `message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ending {
    pub callback_code: &'static str,
    pub verify_code: &'static str,
    pub message: &'static str,
}

pub const SUCCESS: Ending = Ending {
    callback_code: "00_0000_000",
    verify_code: "000",
    message: "Successful Transaction",
};
pub const CANCELLED_BY_CUSTOMER: Ending = Ending {
    callback_code: "01_0001_101",
    verify_code: "101",
    message: "Transaction cancelled by customer",
};
pub const WRONG_PIN: Ending = Ending {
    callback_code: "01_0002_102",
    verify_code: "102",
    message: "Wrong PIN",
};
pub const WRONG_OTP: Ending = Ending {
    callback_code: "01_0003_103",
    verify_code: "103",
    message: "Wrong verification code",
};
pub const INSUFFICIENT_BALANCE: Ending = Ending {
    callback_code: "50_0021_821",
    verify_code: "821",
    message: "E Com Trx Failed. Insufficient balance.",
};
pub const OVER_LIMIT: Ending = Ending {
    callback_code: "50_0026_851",
    verify_code: "851",
    message: "E Com Trx Failed. Transaction over limit.",
};
pub const EXPIRED: Ending = Ending {
    callback_code: "01_0004_104",
    verify_code: "104",
    message: "Payment session expired",
};
/// Verify's `statusCode` while a payment is under way.
pub const IN_PROGRESS_CODE: &str = "001";
