//! The terminal's configuration loader (`till_core::Config::from_layers`:
//! `till.toml` text over the built-in defaults, then `TILL__…` overrides,
//! presets, validation). Input: the file's text; after a NUL byte, override
//! lines `TILL__SECTION__KEY=value`.
//!
//! Invariants: never panics; a configuration that loads satisfies what
//! `validate` promises: a terminal id that can prefix invoice numbers, a
//! known time zone and cutoff, limits in their ranges, offline caps at most
//! at their currency's decimals, presets' URLs where a preset is named, and
//! every URL `https://` unless it is loopback.
#![no_main]

use libfuzzer_sys::fuzz_target;
use till_core::config::{BakongEnvironment, BkashEnvironment, Config, DEFAULTS_TOML};

fn tls_or_loopback(u: &url::Url) -> bool {
    match u.scheme() {
        "https" => true,
        "http" => match u.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

fn check(c: &Config) {
    let id = &c.terminal.id;
    assert!((1..=12).contains(&id.len()), "terminal id {id:?}");
    assert!(id
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'));
    assert!(c.timezone().is_ok() && c.cutoff().is_ok());
    assert!(!c.shop.name.trim().is_empty());
    assert!((30..=86_400).contains(&c.khqr.expiry_seconds));
    assert!(!c.khqr.currencies.is_empty());
    assert!(c.khqr.default_currency.khqr().is_some());
    for secs in [
        c.bkash.timeout_secs,
        c.bakong.timeout_secs,
        c.hub.timeout_secs,
    ] {
        assert!((1..=300).contains(&secs));
    }
    assert!(c.bakong.min_request_gap_ms >= 100);
    assert!(c.bakong.min_request_gap_ms <= c.bakong.fast_interval_ms);
    assert!(c.bakong.fast_interval_ms <= c.bakong.slow_interval_ms);
    assert!((1..=1000).contains(&c.hub.batch_size));
    assert!(c.hub.backoff_base_ms >= 1 && c.hub.backoff_max_ms >= c.hub.backoff_base_ms);
    for map in [
        &c.offline.max_unverified_per_payment,
        &c.offline.max_unverified_per_day,
    ] {
        for (currency, cap) in map {
            assert!(!cap.is_sign_negative(), "{currency} cap {cap}");
            assert!(
                cap.normalize().scale() <= currency.exponent(),
                "{currency} cap {cap} has more decimals than {currency}"
            );
        }
    }
    for u in [Some(&c.bkash.base_url), Some(&c.bakong.base_url)]
        .into_iter()
        .chain([c.bkash.checkout_origin.as_ref(), c.hub.url.as_ref()])
        .flatten()
    {
        assert!(tls_or_loopback(u), "{u} is plain http to another machine");
    }
    let same = |a: &url::Url, b: &str| a.as_str().trim_end_matches('/') == b.trim_end_matches('/');
    if let Some((base, origin)) = c.bkash.environment.preset() {
        assert!(same(&c.bkash.base_url, base));
        assert!(c
            .bkash
            .checkout_origin
            .as_ref()
            .is_some_and(|o| same(o, origin)));
    } else {
        assert_eq!(c.bkash.environment, BkashEnvironment::Custom);
    }
    if let Some(base) = c.bakong.environment.preset() {
        assert!(same(&c.bakong.base_url, base));
    } else {
        assert_eq!(c.bakong.environment, BakongEnvironment::Custom);
    }
}

/// Whether the input names `tls.extra_roots`, which the loader reads as a
/// file: a fuzzer that writes `/dev/zero` or a FIFO there finds that a file
/// can be endless, not a bug in the loader, so such inputs are passed over.
fn names_extra_roots(file: &str, env: &str) -> bool {
    // Spelled out, or behind a TOML escape in a quoted key (then parse).
    if !file.contains("extra") && !file.contains('\\') {
        return env.to_ascii_lowercase().contains("extra_roots");
    }
    let in_file = toml::from_str::<toml::Table>(file).is_ok_and(|t| {
        t.get("tls")
            .and_then(|tls| tls.as_table())
            .is_some_and(|tls| tls.contains_key("extra_roots"))
    });
    in_file || env.to_ascii_lowercase().contains("extra_roots")
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (file, env) = text.split_once('\0').unwrap_or((text, ""));
    if names_extra_roots(file, env) {
        return;
    }
    let overrides = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
    match Config::from_layers(DEFAULTS_TOML, Some(("till.toml", file)), overrides) {
        Ok(c) => check(&c),
        Err(e) => {
            // The message a manager reads names a key or the file.
            assert!(!e.to_string().is_empty());
        }
    }
});
