//! From Bakong's answers to payment outcomes.
//!
//! The rule (as in Hyperswitch connectors): a code is **pending** unless
//! Bakong says otherwise in so many words. Only `responseCode 0` with a
//! readable transaction object (single) or `status: "SUCCESS"` with one
//! (bulk) is [`CheckOutcome::Paid`]; only errorCode 3 / `FAILED` is
//! [`CheckOutcome::Failed`]. Everything else — errorCode 1, an empty success
//! (`data: null`), an unknown bulk status, a missing bulk item — is
//! [`CheckOutcome::NotFound`], i.e. "not (yet) paid".
//!
//! Bulk items are read in every shape public sources show: the transaction
//! under `data`, under `transaction`, or its fields on the item itself. A
//! `SUCCESS` item with no usable transaction is *not* "not paid": it is
//! [`BulkOutcome::Recheck`], and the client asks the single-code call.
//!
//! "Paid" here means *Bakong reports a payment for this MD5*. Whether it
//! settles the sale (right receiving account, currency and exact amount,
//! `bakong-api.md` §5.1) is the terminal core's decision; [`Transaction`]
//! carries what was actually paid, exactly.

use crate::error::BakongError;
use crate::wire::{self, Envelope, WireBulkItem, WireTransaction};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;

/// What Bakong says about one KHQR MD5.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
// `Paid(Transaction)` by value keeps the core's matches simple; outcomes are
// few (one per pending code) and short-lived.
#[allow(clippy::large_enum_variant)]
pub enum CheckOutcome {
    /// A payment exists for this MD5. Compare it with the QR before settling.
    Paid(Transaction),
    /// Not (yet) paid, or Bakong gave no explicit answer: keep polling. The default.
    NotFound,
    /// Bakong says the payment attempt failed (errorCode 3 / bulk `FAILED`). Final for this QR.
    Failed { code: i64, message: String },
}

/// What one item of a bulk answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum BulkOutcome {
    /// An answer about the payment.
    Known(CheckOutcome),
    /// `SUCCESS` without a readable transaction: Bakong says paid but not
    /// how much to whom, so ask again with `check_transaction_by_md5`.
    Recheck { reason: String },
}

/// A Bakong transaction, as reported by a check (`bakong-api.md` §5.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// 64-hex ledger hash (its first 8 characters are the receipt's short hash).
    pub hash: String,
    /// Sending account; may be a bank's bridge account, not the payer.
    pub from_account_id: String,
    /// Receiving account; must equal the QR's account to settle.
    pub to_account_id: String,
    /// `USD` or `KHR`, as Bakong wrote it.
    pub currency: String,
    /// The amount paid, exactly as written on the wire (normalised: `40000.0` → `40000`).
    pub amount: Decimal,
    pub description: Option<String>,
    /// `createdDateMs`: when the payment was made (epoch ms).
    pub created_ms: Option<i64>,
    /// `acknowledgedDateMs`: when Bakong acknowledged it (epoch ms).
    pub acknowledged_ms: Option<i64>,
    pub external_ref: Option<String>,
    pub instruction_ref: Option<String>,
    pub tracking_status: Option<String>,
    pub receiver_bank: Option<String>,
    pub receiver_bank_account: Option<String>,
}

/// How the terminal treats an `errorCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Not (yet) paid: the normal answer while waiting.
    NotFound,
    /// The payment attempt failed: final.
    Failed,
    /// The request was wrong (missing fields, static QR, unknown account).
    Request,
    /// The token was refused: renew it.
    Auth,
    /// Bakong's own trouble: retry later.
    Transient,
    /// Codes of flows the terminal does not use (deep links, registration).
    Other,
}

/// One row of the `errorCode` table (`bakong-api.md` §10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: i64,
    /// Short stable name.
    pub name: &'static str,
    /// What it means, in words a manager can read.
    pub meaning: &'static str,
    pub class: ErrorClass,
}

/// The `errorCode` table. Branch on the code, never on `responseMessage`
/// (its wording differs between sources).
pub const ERROR_CODES: &[ErrorCode] = &[
    ErrorCode {
        code: 1,
        name: "transaction_not_found",
        meaning: "No payment found for this code yet",
        class: ErrorClass::NotFound,
    },
    ErrorCode {
        code: 2,
        name: "static_qr_not_supported",
        meaning: "Bakong cannot track payments of a static KHQR",
        class: ErrorClass::Request,
    },
    ErrorCode {
        code: 3,
        name: "transaction_failed",
        meaning: "The payment failed",
        class: ErrorClass::Failed,
    },
    ErrorCode {
        code: 4,
        name: "deeplink_provider_error",
        meaning: "The deep-link provider failed",
        class: ErrorClass::Other,
    },
    ErrorCode {
        code: 5,
        name: "missing_required_fields",
        meaning: "The request was missing required fields",
        class: ErrorClass::Request,
    },
    ErrorCode {
        code: 6,
        name: "unauthorized",
        meaning: "The Bakong token is missing, invalid or expired",
        class: ErrorClass::Auth,
    },
    ErrorCode {
        code: 7,
        name: "email_server_down",
        meaning: "Bakong's e-mail server is down",
        class: ErrorClass::Transient,
    },
    ErrorCode {
        code: 8,
        name: "email_already_registered",
        meaning: "This e-mail is already registered",
        class: ErrorClass::Other,
    },
    ErrorCode {
        code: 9,
        name: "backend_unreachable",
        meaning: "Bakong cannot reach its backend; try again later",
        class: ErrorClass::Transient,
    },
    ErrorCode {
        code: 10,
        name: "email_not_registered",
        meaning: "The renewal e-mail is not registered with Bakong",
        class: ErrorClass::Auth,
    },
    ErrorCode {
        code: 11,
        name: "account_not_found",
        meaning: "The Bakong account ID does not exist",
        class: ErrorClass::Request,
    },
    ErrorCode {
        code: 12,
        name: "account_invalid",
        meaning: "The Bakong account ID is malformed",
        class: ErrorClass::Request,
    },
];

/// The table row of `code`, if known.
pub fn error_code(code: i64) -> Option<&'static ErrorCode> {
    ERROR_CODES.iter().find(|e| e.code == code)
}

/// A readable message for `code`, with Bakong's own text when it differs.
pub fn describe(code: i64, provider_message: Option<&str>) -> String {
    let provider = provider_message.map(str::trim).filter(|m| !m.is_empty());
    match (error_code(code), provider) {
        (Some(e), Some(p)) => format!("{} ({p})", e.meaning),
        (Some(e), None) => e.meaning.to_string(),
        (None, Some(p)) => format!("unknown error code ({p})"),
        (None, None) => "unknown error code".to_string(),
    }
}

/// Whether an envelope says the token was refused (errorCode 6).
pub fn is_auth_refusal(env: &Envelope) -> bool {
    env.error_code == Some(6)
}

fn protocol(message: impl Into<String>) -> BakongError {
    BakongError::Protocol {
        message: message.into(),
    }
}

/// A wire transaction object → [`Transaction`]; a missing required field or
/// an amount that is not a number is a protocol error.
pub fn transaction_from_raw(raw: &RawValue) -> Result<Transaction, BakongError> {
    let w: WireTransaction = serde_json::from_str(raw.get())
        .map_err(|e| protocol(format!("transaction object: {e}")))?;
    let amount = wire::decimal_from_json(&w.amount)
        .map_err(|e| protocol(format!("transaction amount: {e}")))?
        .normalize();
    let created_ms = wire::ms_from_json(w.created_date_ms.as_deref())
        .map_err(|e| protocol(format!("createdDateMs: {e}")))?;
    let acknowledged_ms = wire::ms_from_json(w.acknowledged_date_ms.as_deref())
        .map_err(|e| protocol(format!("acknowledgedDateMs: {e}")))?;
    if w.hash.trim().is_empty() || w.to_account_id.trim().is_empty() || w.currency.trim().is_empty()
    {
        return Err(protocol(
            "transaction with an empty hash, account or currency",
        ));
    }
    Ok(Transaction {
        hash: w.hash,
        from_account_id: w.from_account_id,
        to_account_id: w.to_account_id,
        currency: w.currency,
        amount,
        description: w.description,
        created_ms,
        acknowledged_ms,
        external_ref: w.external_ref,
        instruction_ref: w.instruction_ref,
        tracking_status: w.tracking_status,
        receiver_bank: w.receiver_bank,
        receiver_bank_account: w.receiver_bank_account,
    })
}

fn failure(env: &Envelope) -> BakongError {
    match env.error_code {
        Some(code) => BakongError::Api {
            code,
            message: describe(code, env.response_message.as_deref()),
        },
        None => protocol(format!(
            "responseCode {:?} without an errorCode",
            env.response_code
        )),
    }
}

/// The answer of `check_transaction_by_md5`.
///
/// errorCode 1 → `NotFound`, 3 → `Failed`, success with a transaction →
/// `Paid`, success with `data: null` → `NotFound` (no explicit answer).
/// Other codes (2 static QR, 5 missing fields, 9 backend trouble, ...) are
/// [`BakongError::Api`]: no answer about the payment.
pub fn map_single(env: &Envelope) -> Result<CheckOutcome, BakongError> {
    match env.response_code {
        Some(0) => match env.data() {
            Some(raw) => Ok(CheckOutcome::Paid(transaction_from_raw(raw)?)),
            None => {
                tracing::warn!("Bakong answered success without a transaction; treated as pending");
                Ok(CheckOutcome::NotFound)
            }
        },
        Some(_) => match env.error_code {
            Some(1) => Ok(CheckOutcome::NotFound),
            Some(3) => Ok(CheckOutcome::Failed {
                code: 3,
                message: describe(3, env.response_message.as_deref()),
            }),
            _ => Err(failure(env)),
        },
        None => Err(protocol("envelope without responseCode")),
    }
}

/// The answer of `check_transaction_by_md5_list` for `requested` MD5s: one
/// outcome per requested MD5, in request order. Items are matched by `md5`
/// (case-insensitive), not by position; a missing item is `NotFound`.
/// A `SUCCESS` item whose transaction is absent or unreadable is
/// [`BulkOutcome::Recheck`] (nothing is guessed, in either direction).
pub fn map_bulk(
    env: &Envelope,
    requested: &[String],
) -> Result<Vec<(String, BulkOutcome)>, BakongError> {
    match env.response_code {
        Some(0) => {}
        Some(_) => return Err(failure(env)),
        None => return Err(protocol("envelope without responseCode")),
    }
    let mut found: HashMap<String, BulkOutcome> = HashMap::new();
    if let Some(raw) = env.data() {
        // Kept raw: an item may itself be the transaction object.
        let items: Vec<Box<RawValue>> =
            serde_json::from_str(raw.get()).map_err(|e| protocol(format!("bulk data: {e}")))?;
        for raw_item in items {
            let item: WireBulkItem = serde_json::from_str(raw_item.get())
                .map_err(|e| protocol(format!("bulk item: {e}")))?;
            let outcome = bulk_item(&item, &raw_item);
            found.insert(item.md5.trim().to_ascii_lowercase(), outcome);
        }
    } else if env.has_data_key() {
        tracing::warn!("Bakong bulk answer with data null; every code treated as pending");
    } else {
        return Err(protocol("bulk answer without a data key"));
    }
    Ok(requested
        .iter()
        .map(|md5| {
            let outcome = found
                .get(&md5.trim().to_ascii_lowercase())
                .cloned()
                .unwrap_or(BulkOutcome::Known(CheckOutcome::NotFound));
            (md5.clone(), outcome)
        })
        .collect())
}

/// The answer of `renew_token`: `Ok(Some(token))`, `Ok(None)` on an auth refusal.
/// (Here beside the check answers rather than in the client so the fuzz
/// target, `fuzz/fuzz_targets/bakong_answer.rs`, reads it as the client does.)
pub fn map_renew(env: &Envelope) -> Result<Option<String>, BakongError> {
    match (env.response_code, env.error_code) {
        (Some(0), _) => {
            let raw = env.data().ok_or_else(|| BakongError::Protocol {
                message: "renew_token success without data".into(),
            })?;
            let t: wire::WireToken =
                serde_json::from_str(raw.get()).map_err(|_| BakongError::Protocol {
                    message: "renew_token data without a token".into(),
                })?;
            if t.token.trim().is_empty() {
                return Err(BakongError::Protocol {
                    message: "renew_token gave an empty token".into(),
                });
            }
            Ok(Some(t.token))
        }
        (_, Some(code @ 10)) => Err(BakongError::Unauthorized {
            message: describe(code, env.response_message.as_deref()),
        }),
        (_, Some(code)) => Err(BakongError::Api {
            code,
            message: describe(code, env.response_message.as_deref()),
        }),
        (_, None) => Err(BakongError::Protocol {
            message: "renew_token failure without an errorCode".into(),
        }),
    }
}

fn bulk_item(item: &WireBulkItem, raw_item: &RawValue) -> BulkOutcome {
    let status = item.status.as_deref().unwrap_or("").trim();
    BulkOutcome::Known(match status.to_ascii_uppercase().as_str() {
        "SUCCESS" => {
            // Nested under `data`/`transaction`, else on the item itself.
            let raw = item
                .transaction()
                .or(item.is_inline_transaction().then_some(raw_item));
            let read = match raw {
                Some(raw) => transaction_from_raw(raw).map_err(|e| e.to_string()),
                None => Err("no transaction fields".to_owned()),
            };
            match read {
                Ok(t) => CheckOutcome::Paid(t),
                Err(reason) => {
                    tracing::warn!(
                        md5 = item.md5,
                        reason,
                        "bulk SUCCESS without a usable transaction; asking the single check"
                    );
                    return BulkOutcome::Recheck { reason };
                }
            }
        }
        "FAILED" => CheckOutcome::Failed {
            code: 3,
            message: describe(3, item.message.as_deref()),
        },
        "NOT_FOUND" => CheckOutcome::NotFound,
        other => {
            tracing::warn!(
                md5 = item.md5,
                status = other,
                "bulk status without a payment outcome; pending"
            );
            CheckOutcome::NotFound
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn env(s: &str) -> Envelope {
        serde_json::from_str(s).unwrap()
    }

    const TXN: &str = r#"{"hash":"3b1f","fromAccountId":"payer@abaa","toAccountId":"till_demo@devb","currency":"KHR","amount":40000.0,"description":"","createdDateMs":1735689660123.0,"acknowledgedDateMs":1735689661456.0,"trackingStatus":null,"externalRef":"100FT1","newField":{"x":1}}"#;

    #[test]
    fn single_paid_exact() {
        let e = env(&format!(
            r#"{{"responseCode":0,"responseMessage":"ok","errorCode":null,"data":{TXN}}}"#
        ));
        let CheckOutcome::Paid(t) = map_single(&e).unwrap() else {
            panic!()
        };
        assert_eq!(t.amount, Decimal::from(40000));
        assert_eq!(t.amount.to_string(), "40000");
        assert_eq!(t.currency, "KHR");
        assert_eq!(t.created_ms, Some(1_735_689_660_123));
        assert_eq!(t.external_ref.as_deref(), Some("100FT1"));
        let e = env(
            r#"{"responseCode":0,"errorCode":null,"data":{"hash":"h","fromAccountId":"a@b","toAccountId":"c@d","currency":"USD","amount":0.30000000000000004}}"#,
        );
        let CheckOutcome::Paid(t) = map_single(&e).unwrap() else {
            panic!()
        };
        assert_eq!(t.amount, Decimal::from_str("0.30000000000000004").unwrap());
    }

    #[test]
    fn single_codes() {
        let nf = env(
            r#"{"responseCode":1,"responseMessage":"Transaction could not be found. Please try again.","errorCode":1,"data":null}"#,
        );
        assert_eq!(map_single(&nf).unwrap(), CheckOutcome::NotFound);
        let failed = env(
            r#"{"responseCode":1,"responseMessage":"Transaction failed.","errorCode":3,"data":null}"#,
        );
        assert!(matches!(
            map_single(&failed).unwrap(),
            CheckOutcome::Failed { code: 3, .. }
        ));
        let empty = env(r#"{"responseCode":0,"errorCode":null,"data":null}"#);
        assert_eq!(map_single(&empty).unwrap(), CheckOutcome::NotFound);
        let stat =
            env(r#"{"responseCode":1,"responseMessage":"static","errorCode":2,"data":null}"#);
        assert!(matches!(
            map_single(&stat),
            Err(BakongError::Api { code: 2, .. })
        ));
        let no_code = env(r#"{"responseCode":1,"data":null}"#);
        assert!(matches!(
            map_single(&no_code),
            Err(BakongError::Protocol { .. })
        ));
        let bad_amount = env(
            r#"{"responseCode":0,"data":{"hash":"h","fromAccountId":"a@b","toAccountId":"c@d","currency":"USD","amount":"lots"}}"#,
        );
        assert!(matches!(
            map_single(&bad_amount),
            Err(BakongError::Protocol { .. })
        ));
        let missing = env(r#"{"responseCode":0,"data":{"hash":"h","amount":1}}"#);
        assert!(matches!(
            map_single(&missing),
            Err(BakongError::Protocol { .. })
        ));
    }

    #[test]
    fn bulk_matches_by_md5_and_defaults_to_pending() {
        let e = env(&format!(
            r#"{{"responseCode":0,"errorCode":null,"data":[
                {{"md5":"BBB","status":"FAILED","message":"Transaction failed.","data":null}},
                {{"md5":"aaa","status":"SUCCESS","transaction":{TXN}}},
                {{"md5":"ddd","status":"STATIC_QR","data":null}},
                {{"md5":"eee","status":"SUCCESS","data":null}},
                {{"md5":"zzz","status":"SUCCESS","data":{TXN}}}
            ]}}"#
        ));
        let req: Vec<String> = ["aaa", "bbb", "ccc", "ddd", "eee"]
            .map(String::from)
            .to_vec();
        let out = map_bulk(&e, &req).unwrap();
        assert_eq!(out.len(), 5);
        assert_eq!(
            out.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(),
            ["aaa", "bbb", "ccc", "ddd", "eee"]
        );
        let known = |o: &BulkOutcome| match o {
            BulkOutcome::Known(k) => k.clone(),
            other => panic!("{other:?}"),
        };
        assert!(matches!(known(&out[0].1), CheckOutcome::Paid(_)));
        assert!(matches!(
            known(&out[1].1),
            CheckOutcome::Failed { code: 3, .. }
        ));
        assert_eq!(known(&out[2].1), CheckOutcome::NotFound);
        assert_eq!(known(&out[3].1), CheckOutcome::NotFound);
        // SUCCESS with `data: null`: not "unpaid", ask again.
        assert!(matches!(out[4].1, BulkOutcome::Recheck { .. }));

        let empty = env(r#"{"responseCode":0,"errorCode":null,"data":null}"#);
        assert!(map_bulk(&empty, &req)
            .unwrap()
            .iter()
            .all(|(_, o)| *o == BulkOutcome::Known(CheckOutcome::NotFound)));
        // No `data` key at all is not Bakong's "nothing found" (`data: null`)
        // but a broken answer: unreadable, asked again, never "unpaid".
        let keyless = env(
            r#"{"responseCode":0,"errorCode":null,"0data":[{"md5":"aaa","status":"SUCCESS"}]}"#,
        );
        assert!(matches!(
            map_bulk(&keyless, &req),
            Err(BakongError::Protocol { .. })
        ));
        let err =
            env(r#"{"responseCode":1,"errorCode":5,"responseMessage":"Missing","data":null}"#);
        assert!(matches!(
            map_bulk(&err, &req),
            Err(BakongError::Api { code: 5, .. })
        ));
        // An unreadable transaction is asked again, not guessed.
        let bad = env(
            r#"{"responseCode":0,"data":[{"md5":"aaa","status":"SUCCESS","data":{"hash":"h"}}]}"#,
        );
        assert!(matches!(
            map_bulk(&bad, &req).unwrap()[0].1,
            BulkOutcome::Recheck { .. }
        ));
        let not_an_array = env(r#"{"responseCode":0,"data":{"md5":"aaa"}}"#);
        assert!(matches!(
            map_bulk(&not_an_array, &req),
            Err(BakongError::Protocol { .. })
        ));
    }

    #[test]
    fn bulk_item_with_inline_transaction_fields() {
        let inline = TXN.trim_start_matches('{');
        let e = env(&format!(
            r#"{{"responseCode":0,"errorCode":null,"data":[
                {{"md5":"aaa","status":"SUCCESS","message":"ok",{inline},
                {{"md5":"bbb","status":"SUCCESS","message":"ok"}}
            ]}}"#
        ));
        let req: Vec<String> = ["aaa", "bbb"].map(String::from).to_vec();
        let out = map_bulk(&e, &req).unwrap();
        let BulkOutcome::Known(CheckOutcome::Paid(t)) = &out[0].1 else {
            panic!("{:?}", out[0].1)
        };
        assert_eq!(t.hash, "3b1f");
        assert_eq!(t.to_account_id, "till_demo@devb");
        assert_eq!(t.amount, Decimal::from(40000));
        assert!(matches!(out[1].1, BulkOutcome::Recheck { .. }));
    }

    #[test]
    fn table_is_complete_and_readable() {
        for code in 1..=12 {
            let e = error_code(code).unwrap();
            assert!(!e.meaning.is_empty());
        }
        assert_eq!(error_code(3).unwrap().class, ErrorClass::Failed);
        assert_eq!(
            describe(9, Some("Cannot connect")),
            "Bakong cannot reach its backend; try again later (Cannot connect)"
        );
        assert_eq!(describe(77, None), "unknown error code");
    }
}
