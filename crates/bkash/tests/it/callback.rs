//! Callback parsing against the sandbox's real redirects.

use crate::util::*;
use till_bkash::*;
use url::Url;

#[tokio::test]
async fn real_redirect_parses_and_tampered_ones_do_not() {
    let env = start().await;
    let c = env.create("70", "INV-CB").await;
    let redirect = env.customer_pays(&c).await;
    let base = callback_base();
    let good = parse_callback(&redirect, &base).unwrap();
    assert_eq!(good.payment_id, c.payment_id);
    assert_eq!(good.status, CallbackStatus::Success);
    // The create answer's URLs parse the same way.
    for (u, s) in [
        (&c.callback_urls.success, CallbackStatus::Success),
        (&c.callback_urls.failure, CallbackStatus::Failure),
        (&c.callback_urls.cancel, CallbackStatus::Cancel),
    ] {
        let cb = parse_callback(&Url::parse(u).unwrap(), &base).unwrap();
        assert_eq!(cb.status, s);
        assert_eq!(cb.payment_id, c.payment_id);
    }

    let tamper = |f: &dyn Fn(&str) -> String| Url::parse(&f(redirect.as_str())).unwrap();
    // Another origin.
    let other = tamper(&|s| s.replace("127.0.0.1:9", "evil.example"));
    assert!(matches!(
        parse_callback(&other, &base),
        Err(CallbackError::OtherOrigin { .. })
    ));
    assert!(!is_callback(&other, &base));
    // Another path on our origin.
    let other_path = tamper(&|s| s.replace("/till/bkash/callback", "/till/bkash/other"));
    assert!(matches!(
        parse_callback(&other_path, &base),
        Err(CallbackError::OtherOrigin { .. })
    ));
    // Missing paymentID.
    let mut no_pid = redirect.clone();
    let kept: Vec<(String, String)> = redirect
        .query_pairs()
        .filter(|(k, _)| k != "paymentID")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    no_pid.query_pairs_mut().clear().extend_pairs(kept);
    assert_eq!(
        parse_callback(&no_pid, &base),
        Err(CallbackError::Missing("paymentID"))
    );
    // Unknown status.
    let paid = tamper(&|s| s.replace("status=success", "status=paid"));
    assert_eq!(
        parse_callback(&paid, &base),
        Err(CallbackError::UnknownStatus("paid".into()))
    );
    // Duplicated status.
    let dup = tamper(&|s| format!("{s}&status=failure"));
    assert!(matches!(
        parse_callback(&dup, &base),
        Err(CallbackError::Duplicated(_))
    ));
    // Our own parameter altered.
    let altered = tamper(&|s| s.replace("terminal=T1", "terminal=T2"));
    assert_eq!(
        parse_callback(&altered, &base),
        Err(CallbackError::AlteredParam("terminal".into()))
    );
}
