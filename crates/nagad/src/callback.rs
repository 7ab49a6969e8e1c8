//! The browser redirect Nagad's page sends to our `merchantCallbackURL`
//! (spec §5). A **hint**, never proof (ARCHITECTURE invariant 1): it says
//! *when* to ask `verify`, which alone settles a payment. Anyone can type
//! such a URL into a browser.
//!
//! Parsed as a query string, never string-matched: our own parameters must
//! come back unchanged, Nagad appends `merchant`, `order_id`,
//! `payment_ref_id`, `status`, `status_code`, `message` and, on success,
//! `payment_dt` and `issuer_payment_ref`.

use crate::wire::callback_param as p;
use url::Url;

/// What the page says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    Success,
    /// The customer cancelled, or a wrong PIN ended the session.
    Aborted,
    Failed,
    Cancelled,
    /// A word we do not know: ask `verify`.
    Other,
}

impl CallbackStatus {
    fn from_wire(raw: &str) -> CallbackStatus {
        match raw.to_ascii_lowercase().as_str() {
            "success" => CallbackStatus::Success,
            "aborted" => CallbackStatus::Aborted,
            "failed" => CallbackStatus::Failed,
            "cancelled" | "canceled" => CallbackStatus::Cancelled,
            _ => CallbackStatus::Other,
        }
    }
}

/// A parsed callback redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    pub payment_ref_id: String,
    pub status: CallbackStatus,
    /// `status` as sent.
    pub raw_status: String,
    pub merchant: Option<String>,
    pub order_id: Option<String>,
    /// e.g. `00_0000_000` on success.
    pub status_code: Option<String>,
    pub message: Option<String>,
    /// `yyyyMMddHHmmss`, on success.
    pub payment_dt: Option<String>,
    pub issuer_payment_ref: Option<String>,
}

/// Why a URL is not an acceptable callback.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Scheme, host, port or path differ from our callback URL.
    #[error("not our callback URL")]
    OtherOrigin,
    /// One of our own parameters was changed or removed.
    #[error("callback parameter {0:?} was altered")]
    AlteredParam(String),
    #[error("callback parameter {0:?} is missing")]
    Missing(&'static str),
    #[error("callback parameter {0:?} appears more than once")]
    Duplicated(&'static str),
    #[error("the callback's payment_ref_id is not one Nagad issues")]
    BadPaymentRefId,
}

fn same_place(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme()
        && url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default()
        && url.path().trim_end_matches('/') == base.path().trim_end_matches('/')
        && url.username().is_empty()
        && url.password().is_none()
}

/// Is `url` a navigation to our callback (same scheme, host, port, path)?
pub fn is_callback(url: &Url, expected_base: &Url) -> bool {
    same_place(url, expected_base)
}

/// Is `s` shaped like a Nagad payment reference (base64 text, ≤ 200 chars)?
pub fn is_payment_ref_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}

/// Parses the redirect to our callback URL.
pub fn parse_callback(url: &Url, expected_base: &Url) -> Result<Callback, CallbackError> {
    if !same_place(url, expected_base) {
        return Err(CallbackError::OtherOrigin);
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for (k, v) in expected_base.query_pairs() {
        if p::ALL.contains(&k.as_ref()) {
            continue;
        }
        let found: Vec<&String> = pairs
            .iter()
            .filter(|(pk, _)| *pk == k)
            .map(|(_, pv)| pv)
            .collect();
        if found.len() != 1 || *found[0] != v {
            return Err(CallbackError::AlteredParam(k.into_owned()));
        }
    }
    let one = |name: &'static str| -> Result<Option<String>, CallbackError> {
        let mut it = pairs.iter().filter(|(k, _)| k == name);
        let first = it.next().map(|(_, v)| v.trim().to_string());
        if it.next().is_some() {
            return Err(CallbackError::Duplicated(name));
        }
        Ok(first.filter(|v| !v.is_empty()))
    };
    // A reference with an unescaped `+` arrives form-decoded as a space.
    let payment_ref_id = one(p::PAYMENT_REF_ID)?
        .ok_or(CallbackError::Missing(p::PAYMENT_REF_ID))?
        .replace(' ', "+");
    if !is_payment_ref_id(&payment_ref_id) {
        return Err(CallbackError::BadPaymentRefId);
    }
    let raw_status = one(p::STATUS)?.ok_or(CallbackError::Missing(p::STATUS))?;
    Ok(Callback {
        payment_ref_id,
        status: CallbackStatus::from_wire(&raw_status),
        raw_status,
        merchant: one(p::MERCHANT)?,
        order_id: one(p::ORDER_ID)?,
        status_code: one(p::STATUS_CODE)?,
        message: one(p::MESSAGE)?,
        payment_dt: one(p::PAYMENT_DT)?,
        issuer_payment_ref: one(p::ISSUER_PAYMENT_REF)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn parses_published_redirects() {
        let base = u("https://example.com/payment/success/id=4/");
        // From a public client's README (merchant id masked there).
        let cb = parse_callback(
            &u("https://example.com/payment/success/id=4/?merchant=683XXXX225&order_id=CKH060JXXXXXFRA2&payment_ref_id=MTEyMzIzNDg1NzUwOS42ODMwMDIwMDcxMDQyMjUuQ0tI&status=Success&status_code=00_0000_000&message=Successful%20Transaction&payment_dt=20211123235008&issuer_payment_ref=MTEy"),
            &base,
        )
        .unwrap();
        assert_eq!(cb.status, CallbackStatus::Success);
        assert_eq!(cb.order_id.as_deref(), Some("CKH060JXXXXXFRA2"));
        assert_eq!(cb.message.as_deref(), Some("Successful Transaction"));
        assert_eq!(cb.payment_dt.as_deref(), Some("20211123235008"));
        // A failure redirect from another client's comments.
        let base = u("https://localhost:44366/Nagad/PaymentResult/");
        let cb = parse_callback(
            &u("https://localhost:44366/Nagad/PaymentResult/?merchant=683002007104225&order_id=Bangladesh1994&payment_ref_id=MDYyMzEyNTgwMzIxMi42ODMwMDIwMDcxMDQyMjUuQmFuZ2xhZGVzaDE5OTQuMDAzNTQxZDk4MGQ3NGJmZjJhYmE=&status=Failed&status_code=50_0026_851&message=E%20Com%20Trx%20Failed.%20Transaction%20over%20limit."),
            &base,
        )
        .unwrap();
        assert_eq!(cb.status, CallbackStatus::Failed);
        assert!(cb.payment_ref_id.ends_with("YmE="));
        assert_eq!(cb.status_code.as_deref(), Some("50_0026_851"));
    }

    #[test]
    fn our_parameters_must_come_back_unchanged() {
        let base = u("http://127.0.0.1:9/till/nagad/callback?terminal=T1");
        let ok = parse_callback(
            &u("http://127.0.0.1:9/till/nagad/callback?terminal=T1&payment_ref_id=AB%2BC%3D&status=Aborted"),
            &base,
        )
        .unwrap();
        assert_eq!(ok.payment_ref_id, "AB+C=");
        assert_eq!(ok.status, CallbackStatus::Aborted);
        assert_eq!(
            parse_callback(
                &u("http://127.0.0.1:9/till/nagad/callback?terminal=T2&payment_ref_id=AB&status=Success"),
                &base
            ),
            Err(CallbackError::AlteredParam("terminal".into()))
        );
        // An unescaped `+` decodes to a space: restored.
        let plus = parse_callback(
            &u("http://127.0.0.1:9/till/nagad/callback?terminal=T1&payment_ref_id=AB+C=&status=Success"),
            &base,
        )
        .unwrap();
        assert_eq!(plus.payment_ref_id, "AB+C=");
    }

    #[test]
    fn refuses_bad_ones() {
        let base = u("http://127.0.0.1:9/cb");
        let e = |s: &str| parse_callback(&u(s), &base).unwrap_err();
        assert_eq!(
            e("http://evil.example/cb?payment_ref_id=A&status=Success"),
            CallbackError::OtherOrigin
        );
        assert_eq!(
            e("http://127.0.0.1:9/other?payment_ref_id=A&status=Success"),
            CallbackError::OtherOrigin
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?status=Success"),
            CallbackError::Missing("payment_ref_id")
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?payment_ref_id=A"),
            CallbackError::Missing("status")
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?payment_ref_id=A&payment_ref_id=B&status=Success"),
            CallbackError::Duplicated("payment_ref_id")
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?payment_ref_id=A%3Cscript&status=Success"),
            CallbackError::BadPaymentRefId
        );
        let odd = parse_callback(
            &u("http://127.0.0.1:9/cb?payment_ref_id=A&status=Paid"),
            &base,
        )
        .unwrap();
        assert_eq!(odd.status, CallbackStatus::Other);
        assert!(is_callback(&u("http://127.0.0.1:9/cb/?x=1"), &base));
        assert!(!is_callback(&u("http://127.0.0.1:9/pay/nagad"), &base));
    }
}
