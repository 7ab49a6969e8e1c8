//! The browser redirect bKash sends to our `callbackURL` after the hosted page
//! (spec §7). A **hint**, never proof of payment (DESIGN.md invariant 1): it
//! tells the core *when* to execute (`success`) or to stop (`failure`/`cancel`).
//!
//! Parsed as a query string, never string-matched (spec §20.11): the merchant's
//! own parameters stay in front, bKash appends `paymentID`, `status`,
//! `signature` and on some servers `apiVersion`.

use url::Url;

/// What the customer did on the hosted page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    /// Finished on the page: now call execute.
    Success,
    /// Failed on the page (wrong PIN, balance, duplicate `2029`, ...): do not execute.
    Failure,
    /// Closed the page: do not execute.
    Cancel,
}

/// A parsed callback redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    /// `paymentID` (upper-case `ID`, unlike `bkashURL`'s `paymentId`).
    pub payment_id: String,
    pub status: CallbackStatus,
    /// Opaque 10-char token; bKash publishes no way to verify it.
    pub signature: Option<String>,
}

/// Why a URL is not an acceptable callback.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Scheme, host, port or path differ from the expected callback URL.
    #[error("not our callback URL (expected {expected}, got {got})")]
    OtherOrigin { expected: String, got: String },
    /// A parameter of our own callback URL was changed or removed.
    #[error("callback parameter {0:?} was altered")]
    AlteredParam(String),
    #[error("callback parameter {0:?} is missing")]
    Missing(&'static str),
    #[error("callback parameter {0:?} appears more than once")]
    Duplicated(String),
    #[error("callback status {0:?} is not success, failure or cancel")]
    UnknownStatus(String),
    #[error("callback paymentID {0:?} is not a bKash payment id")]
    BadPaymentId(String),
}

/// bKash's parameters (everything else must be ours).
const BKASH_PARAMS: &[&str] = &["paymentID", "status", "signature", "apiVersion", "execute"];

fn same_place(url: &Url, base: &Url) -> bool {
    url.scheme() == base.scheme()
        && url.host_str().map(str::to_ascii_lowercase)
            == base.host_str().map(str::to_ascii_lowercase)
        && url.port_or_known_default() == base.port_or_known_default()
        && url.path().trim_end_matches('/') == base.path().trim_end_matches('/')
        && url.username().is_empty()
        && url.password().is_none()
}

/// Is `url` a navigation to our callback (same scheme, host, port and path as
/// `expected_base`)? The webview's `on_navigation` uses this to catch the
/// redirect (and stop the navigation) before parsing it with [`parse_callback`].
pub fn is_callback(url: &Url, expected_base: &Url) -> bool {
    same_place(url, expected_base)
}

/// Parses the redirect to our callback URL. Refuses other origins/paths,
/// altered merchant parameters, missing or duplicated `paymentID`/`status`/
/// `signature`, unknown status words and payment ids that are not plain text.
pub fn parse_callback(url: &Url, expected_base: &Url) -> Result<Callback, CallbackError> {
    if !same_place(url, expected_base) {
        let show = |u: &Url| {
            format!(
                "{}://{}{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.path()
            )
        };
        return Err(CallbackError::OtherOrigin {
            expected: show(expected_base),
            got: show(url),
        });
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    // Our own parameters must come back unchanged.
    for (k, v) in expected_base.query_pairs() {
        if BKASH_PARAMS.contains(&k.as_ref()) {
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
        let first = it.next().map(|(_, v)| v.clone());
        if it.next().is_some() {
            return Err(CallbackError::Duplicated(name.into()));
        }
        Ok(first)
    };
    let payment_id = one("paymentID")?
        .filter(|p| !p.is_empty())
        .ok_or(CallbackError::Missing("paymentID"))?;
    if payment_id.len() > 64 || !payment_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CallbackError::BadPaymentId(payment_id));
    }
    let status = match one("status")?
        .ok_or(CallbackError::Missing("status"))?
        .as_str()
    {
        "success" => CallbackStatus::Success,
        "failure" => CallbackStatus::Failure,
        "cancel" => CallbackStatus::Cancel,
        other => return Err(CallbackError::UnknownStatus(other.to_string())),
    };
    let signature = one("signature")?.filter(|s| !s.is_empty());
    Ok(Callback {
        payment_id,
        status,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn parses_spec_examples() {
        let base = u("https://merchant.example.com/bkash/callback");
        let cb = parse_callback(
            &u("https://merchant.example.com/bkash/callback?paymentID=TR0011Qm7Xc2K1741075509123&status=success&signature=Xk3fP9qL2w"),
            &base,
        )
        .unwrap();
        assert_eq!(cb.status, CallbackStatus::Success);
        assert_eq!(cb.signature.as_deref(), Some("Xk3fP9qL2w"));
        let legacy = parse_callback(
            &u("https://merchant.example.com/bkash/callback?paymentID=TR1&status=cancel&apiVersion=1.2.0-beta"),
            &base,
        )
        .unwrap();
        assert_eq!(legacy.status, CallbackStatus::Cancel);
        assert_eq!(legacy.signature, None);

        let base = u("https://merchant.example.com/wc-api/bkash?orderId=2606&invoiceID=INV-2606");
        let ok = u("https://merchant.example.com/wc-api/bkash?orderId=2606&invoiceID=INV-2606&paymentID=TR1&status=failure&signature=x");
        assert_eq!(
            parse_callback(&ok, &base).unwrap().status,
            CallbackStatus::Failure
        );
        let altered = u("https://merchant.example.com/wc-api/bkash?orderId=9999&invoiceID=INV-2606&paymentID=TR1&status=success");
        assert_eq!(
            parse_callback(&altered, &base),
            Err(CallbackError::AlteredParam("orderId".into()))
        );
    }

    #[test]
    fn refuses_bad_ones() {
        let base = u("http://127.0.0.1:9/cb");
        let e = |s: &str| parse_callback(&u(s), &base).unwrap_err();
        assert!(matches!(
            e("http://evil.example/cb?paymentID=TR1&status=success"),
            CallbackError::OtherOrigin { .. }
        ));
        assert!(matches!(
            e("http://127.0.0.1:10/cb?paymentID=TR1&status=success"),
            CallbackError::OtherOrigin { .. }
        ));
        assert!(matches!(
            e("http://127.0.0.1:9/other?paymentID=TR1&status=success"),
            CallbackError::OtherOrigin { .. }
        ));
        assert!(matches!(
            e("https://127.0.0.1:9/cb?paymentID=TR1&status=success"),
            CallbackError::OtherOrigin { .. }
        ));
        assert_eq!(
            e("http://127.0.0.1:9/cb?status=success"),
            CallbackError::Missing("paymentID")
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?paymentID=TR1"),
            CallbackError::Missing("status")
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?paymentID=TR1&status=paid"),
            CallbackError::UnknownStatus("paid".into())
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?paymentID=TR1&status=SUCCESS"),
            CallbackError::UnknownStatus("SUCCESS".into())
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?paymentID=TR1&paymentID=TR2&status=success"),
            CallbackError::Duplicated("paymentID".into())
        );
        assert_eq!(
            e("http://127.0.0.1:9/cb?paymentID=TR1&status=success&status=failure"),
            CallbackError::Duplicated("status".into())
        );
        assert!(matches!(
            e("http://127.0.0.1:9/cb?paymentID=TR1%3Cscript&status=success"),
            CallbackError::BadPaymentId(_)
        ));
        assert!(is_callback(&u("http://127.0.0.1:9/cb/?x=1"), &base));
        assert!(!is_callback(&u("http://127.0.0.1:9/pay/bkash/"), &base));
    }
}
