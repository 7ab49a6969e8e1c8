//! Nagad's JSON shapes as the simulator writes them (answers, sealed
//! plaintexts, the error body) and the time formats. Requests are read
//! field by field from a JSON object (see [`field`]), so a client's extra or
//! missing fields are judged by the flow, not by serde.

use serde::Serialize;
use serde_json::Value;

/// Error body with `error_status` (spec §7).
#[derive(Serialize, Debug, Clone)]
pub struct ErrorBody {
    pub reason: String,
    pub message: String,
}

/// A sealed answer (initialize, refund).
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Sealed {
    pub sensitive_data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The plaintext of initialize's answer.
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct InitializeAnswer {
    pub payment_reference_id: String,
    pub challenge: String,
    pub accept_date_time: String,
}

/// Complete's answer.
#[derive(Serialize, Debug, Clone)]
pub struct CompleteAnswer {
    pub status: String,
    #[serde(rename = "callBackUrl")]
    pub call_back_url: String,
}

/// Verify's answer (every field of the captures, `null` when not set).
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAnswer {
    pub merchant_id: String,
    pub order_id: String,
    pub payment_ref_id: String,
    pub amount: Option<String>,
    pub client_mobile_no: Option<String>,
    pub merchant_mobile_no: String,
    pub order_date_time: String,
    pub issuer_payment_date_time: Option<String>,
    pub issuer_payment_ref_no: Option<String>,
    pub additional_merchant_info: Option<Value>,
    pub status: String,
    pub status_code: String,
    pub cancel_issuer_date_time: Option<String>,
    pub cancel_issuer_ref_no: Option<String>,
}

/// The plaintext of the refund ("cancel") answer (\[?\]).
#[derive(Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CancelAnswer {
    pub status: String,
    pub code: String,
    pub original_request_date: String,
    pub original_amount: String,
    pub cancel_amount: String,
    pub cancel_trx_id: String,
    pub reference_no: String,
    pub reference_message: String,
}

/// A JSON request body, when it is an object.
pub fn parse_object(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// A text field (a string, or a number's literal); blank is absent.
pub fn field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Bangladesh time (UTC+6) of epoch milliseconds.
fn dhaka(ms: u64) -> chrono::DateTime<chrono::FixedOffset> {
    let utc = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms as i64).unwrap_or_default();
    utc.with_timezone(&chrono::FixedOffset::east_opt(6 * 3600).expect("valid offset"))
}

/// `yyyyMMddHHmmss` (initialize's datetime, `acceptDateTime`, `payment_dt`).
pub fn compact_time(ms: u64) -> String {
    dhaka(ms).format("%Y%m%d%H%M%S").to_string()
}

/// `yyyyMMdd` (the refund's `originalRequestDate`).
pub fn compact_date(ms: u64) -> String {
    dhaka(ms).format("%Y%m%d").to_string()
}

/// `yyyy-MM-dd HH:mm:ss.S` (verify's dates, as captured: `2021-11-23 23:48:22.0`).
pub fn verify_time(ms: u64) -> String {
    let t = dhaka(ms);
    format!("{}.{}", t.format("%Y-%m-%d %H:%M:%S"), (ms % 1000) / 100)
}

/// `MMddHHmmssSSS`, the head of a payment reference.
pub fn ref_time(ms: u64) -> String {
    format!("{}{:03}", dhaka(ms).format("%m%d%H%M%S"), ms % 1000)
}

/// Epoch milliseconds of a `yyyyMMddHHmmss` Dhaka time.
pub fn parse_compact_time(s: &str) -> Option<u64> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()?;
    let t = naive
        .and_local_timezone(chrono::FixedOffset::east_opt(6 * 3600)?)
        .single()?;
    u64::try_from(t.timestamp_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        // 2021-11-23 17:48:22.4 UTC.
        let ms = 1_637_689_702_400;
        assert_eq!(compact_time(ms), "20211123234822");
        assert_eq!(verify_time(ms), "2021-11-23 23:48:22.4");
        assert_eq!(ref_time(ms), "1123234822400");
        assert_eq!(compact_date(ms), "20211123");
        assert_eq!(
            parse_compact_time("20211123234822"),
            Some(1_637_689_702_000)
        );
        assert_eq!(parse_compact_time("2021112323482"), None);
        assert_eq!(parse_compact_time("20211323234822"), None);
    }
}
