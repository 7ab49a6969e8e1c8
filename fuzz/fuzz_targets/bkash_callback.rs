//! bKash's browser redirect to our callback URL (`till_bkash::parse_callback`,
//! what `Engine::on_bkash_callback` calls with the webview's navigation).
//! Input: the URL the webview navigates to; a first line, when there is one,
//! is the configured callback URL instead of the built-in ones.
//!
//! Invariants: never panics; an accepted callback is a navigation to our
//! place (`is_callback`), came back with every parameter of ours unchanged,
//! has a plain payment id, and reads back the same when bKash's parameters
//! are written onto our URL again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_bkash::{is_callback, parse_callback, Callback, CallbackStatus};
use url::Url;

/// The callback URLs the terminal is configured with: the default
/// (`crates/core/defaults.toml`), one with parameters of our own, and the
/// spec's merchant example.
const BASES: &[&str] = &[
    "http://127.0.0.1:7879/bkash/callback",
    "http://127.0.0.1:7879/bkash/callback?terminal=T1&shop=a%20b",
    "https://merchant.example.com/wc-api/bkash?orderId=2606&invoiceID=INV-2606",
];

/// bKash's own parameters, which `parse_callback` does not treat as ours.
const BKASH_PARAMS: &[&str] = &["paymentID", "status", "signature", "apiVersion", "execute"];

fn check(url: &Url, base: &Url) {
    let Ok(cb) = parse_callback(url, base) else {
        return;
    };
    assert!(
        is_callback(url, base),
        "accepted a navigation elsewhere: {url}"
    );
    assert!(
        !cb.payment_id.is_empty()
            && cb.payment_id.len() <= 64
            && cb.payment_id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "payment id {:?}",
        cb.payment_id
    );
    assert!(cb.signature.as_deref() != Some(""));
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for (k, v) in base.query_pairs() {
        if BKASH_PARAMS.contains(&k.as_ref()) {
            continue;
        }
        let found: Vec<_> = pairs.iter().filter(|(pk, _)| *pk == k).collect();
        assert!(
            found.len() == 1 && found[0].1 == v,
            "our parameter {k} did not come back unchanged in {url}"
        );
    }
    // What bKash does: our URL with its parameters appended. Reading that
    // must give the same callback (not possible when our own URL already
    // carries one of bKash's names: that is a duplicate on purpose).
    if base
        .query_pairs()
        .all(|(k, _)| !BKASH_PARAMS.contains(&k.as_ref()))
    {
        let mut again = base.clone();
        {
            let mut q = again.query_pairs_mut();
            q.append_pair("paymentID", &cb.payment_id);
            q.append_pair(
                "status",
                match cb.status {
                    CallbackStatus::Success => "success",
                    CallbackStatus::Failure => "failure",
                    CallbackStatus::Cancel => "cancel",
                },
            );
            if let Some(s) = &cb.signature {
                q.append_pair("signature", s);
            }
        }
        let back: Callback = parse_callback(&again, base)
            .unwrap_or_else(|e| panic!("{again} (rebuilt from {url}) refused: {e}"));
        assert_eq!(back, cb, "rebuilt as {again}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let bases: Vec<Url> = match text.split_once('\n') {
        Some((base, rest)) => match (Url::parse(base), Url::parse(rest)) {
            (Ok(base), Ok(url)) => {
                check(&url, &base);
                return;
            }
            _ => return,
        },
        None => BASES
            .iter()
            .map(|b| Url::parse(b).expect("built-in base"))
            .collect(),
    };
    let Ok(url) = Url::parse(text) else {
        return;
    };
    for base in &bases {
        check(&url, base);
    }
});
