//! Property tests: encode → decode round-trip, single-character changes are
//! always caught by verify, decode/verify never panic and stay fast.

use std::time::{Duration, Instant};

use khqr::{
    decode, decode_non_khqr, encode, verify, verify_strict, Account, Currency, GenerateError,
    KhqrRequest,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

const CLOCK_MIN: u64 = 1_600_000_000_000;
const CLOCK_MAX: u64 = 2_000_000_000_000;

/// Latin, digits, punctuation and Khmer (all one UTF-16 unit each).
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[A-Za-z0-9 .,'&#/\\-\u{1780}-\u{17DD}\u{17E0}-\u{17E9}]{{1,{max}}}"
    ))
    .unwrap()
}

fn opt_text(max: usize) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(text(max))
}

fn account_id() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9_.]{1,20}@[a-z]{2,8}").unwrap()
}

fn account() -> impl Strategy<Value = Account> {
    prop_oneof![
        (opt_text(32), opt_text(32)).prop_map(|(account_information, acquiring_bank)| {
            Account::Individual {
                account_information,
                acquiring_bank,
            }
        }),
        (text(32), text(32)).prop_map(|(merchant_id, acquiring_bank)| Account::Merchant {
            merchant_id,
            acquiring_bank
        }),
    ]
}

prop_compose! {
    fn amount_for(currency: Currency)(units in 0u64..=9_999_999_999u64, cents in 0u64..100) -> Option<Decimal> {
        match currency {
            Currency::Khr => if units == 0 { None } else { Some(Decimal::from(units)) },
            Currency::Usd => {
                let v = Decimal::from(units) + Decimal::new(cents as i64, 2);
                if v.is_zero() { None } else { Some(v) }
            }
        }
    }
}

prop_compose! {
    fn request()(
        bakong_account_id in account_id(),
        merchant_name in text(25),
        merchant_city in proptest::option::of(text(15)),
        account in account(),
        usd in any::<bool>(),
        mcc in proptest::option::of("[0-9]{1,4}"),
        bill_number in opt_text(25),
        mobile_number in proptest::option::of("[0-9]{8,12}"),
        store_label in opt_text(25),
        terminal_label in opt_text(12),
        purpose_of_transaction in opt_text(25),
        language in proptest::option::of(("[a-z]{2}", text(25))),
        merchant_city_alternate_language in opt_text(15),
        upi in proptest::option::of("[0-9A-Z]{10,40}"),
        ttl in 1u64..1_000_000_000,
    )(
        currency in Just(if usd { Currency::Usd } else { Currency::Khr }),
        amount in amount_for(if usd { Currency::Usd } else { Currency::Khr }),
        bakong_account_id in Just(bakong_account_id),
        merchant_name in Just(merchant_name),
        merchant_city in Just(merchant_city),
        account in Just(account),
        mcc in Just(mcc),
        bill_number in Just(bill_number),
        mobile_number in Just(mobile_number),
        store_label in Just(store_label),
        terminal_label in Just(terminal_label),
        purpose_of_transaction in Just(purpose_of_transaction),
        language in Just(language),
        merchant_city_alternate_language in Just(merchant_city_alternate_language),
        upi in Just(upi),
        ttl in Just(ttl),
        clock in CLOCK_MIN..CLOCK_MAX,
    ) -> (KhqrRequest, u64) {
        let (language_preference, merchant_name_alternate_language) = match language {
            Some((l, n)) => (Some(l), Some(n)),
            None => (None, None),
        };
        let req = KhqrRequest {
            bakong_account_id,
            merchant_name,
            merchant_city: merchant_city.unwrap_or_default(),
            account,
            currency,
            amount,
            merchant_category_code: mcc,
            bill_number,
            mobile_number,
            store_label,
            terminal_label,
            purpose_of_transaction,
            language_preference,
            merchant_name_alternate_language,
            merchant_city_alternate_language,
            upi_merchant_account: if currency == Currency::Usd { None } else { upi },
            expiration_ms: Some(clock + ttl),
        };
        (req, clock)
    }
}

fn tlv_len(v: &Option<String>) -> usize {
    v.as_ref().map_or(0, |s| 4 + s.encode_utf16().count())
}

/// Whether a template of `req` is over 99 characters (refused, bug B7).
fn over_limit(req: &KhqrRequest) -> bool {
    let acct = 4
        + req.bakong_account_id.len()
        + match &req.account {
            Account::Individual {
                account_information,
                acquiring_bank,
            } => tlv_len(account_information) + tlv_len(acquiring_bank),
            Account::Merchant {
                merchant_id,
                acquiring_bank,
            } => tlv_len(&Some(merchant_id.clone())) + tlv_len(&Some(acquiring_bank.clone())),
        };
    let extra = tlv_len(&req.bill_number)
        + tlv_len(&req.mobile_number)
        + tlv_len(&req.store_label)
        + tlv_len(&req.terminal_label)
        + tlv_len(&req.purpose_of_transaction);
    acct > 99 || extra > 99
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip((req, clock) in request()) {
        let khqr = match encode(&req, clock) {
            Ok(k) => k,
            Err(GenerateError::TemplateTooLong { .. }) => {
                prop_assert!(over_limit(&req));
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("unexpected refusal: {e}"))),
        };
        prop_assert!(!over_limit(&req));
        prop_assert_eq!(khqr::md5_hex(&khqr.qr), khqr.md5.clone());

        let d = verify(&khqr.qr, clock).map_err(|e| TestCaseError::fail(format!("verify: {e}")))?;
        verify_strict(&khqr.qr, clock).map_err(|e| TestCaseError::fail(format!("strict: {e}")))?;
        prop_assert_eq!(&d, &decode(&khqr.qr));

        prop_assert_eq!(d.bakong_account_id.as_deref(), Some(req.bakong_account_id.as_str()));
        prop_assert_eq!(d.merchant_name.as_deref(), Some(req.merchant_name.as_str()));
        let city = if req.merchant_city.is_empty() { "Phnom Penh" } else { req.merchant_city.as_str() };
        prop_assert_eq!(d.merchant_city.as_deref(), Some(city));
        prop_assert_eq!(d.account(), Some(req.account.clone()));
        prop_assert_eq!(d.currency(), Some(req.currency));
        prop_assert_eq!(d.amount().map(|a| a.normalize()), req.amount.map(|a| a.normalize()));
        prop_assert_eq!(
            d.merchant_category_code.as_deref(),
            Some(req.merchant_category_code.as_deref().unwrap_or("5999"))
        );
        prop_assert_eq!(&d.bill_number, &req.bill_number);
        prop_assert_eq!(&d.mobile_number, &req.mobile_number);
        prop_assert_eq!(&d.store_label, &req.store_label);
        prop_assert_eq!(&d.terminal_label, &req.terminal_label);
        prop_assert_eq!(&d.purpose_of_transaction, &req.purpose_of_transaction);
        prop_assert_eq!(&d.language_preference, &req.language_preference);
        prop_assert_eq!(&d.merchant_name_alternate_language, &req.merchant_name_alternate_language);
        prop_assert_eq!(&d.merchant_city_alternate_language, &req.merchant_city_alternate_language);
        prop_assert_eq!(&d.union_pay_merchant, &req.upi_merchant_account);
        prop_assert_eq!(d.country_code.as_deref(), Some("KH"));
        prop_assert_eq!(d.payload_format_indicator.as_deref(), Some("01"));
        if req.amount.is_some() {
            prop_assert!(d.is_dynamic());
            prop_assert_eq!(d.creation_ms(), Some(clock));
            prop_assert_eq!(d.expiration_ms(), req.expiration_ms);
            // Valid up to its expiry, expired one millisecond later.
            let exp = req.expiration_ms.unwrap();
            prop_assert!(verify(&khqr.qr, exp).is_ok());
            prop_assert_eq!(verify(&khqr.qr, exp + 1).unwrap_err().code(), Some(46));
        } else {
            prop_assert!(!d.is_dynamic());
            prop_assert_eq!(d.creation_ms(), None);
            prop_assert_eq!(d.transaction_amount, None);
            prop_assert_eq!(d.expiration_timestamp, None);
        }
    }

    #[test]
    fn any_single_character_change_is_detected(
        (req, clock) in request(),
        pos in any::<prop::sample::Index>(),
        ascii in 0x20u8..0x7f,
        khmer in 0x1780u32..0x1800,
    ) {
        let Ok(khqr) = encode(&req, clock) else { return Ok(()); };
        let chars: Vec<char> = khqr.qr.chars().collect();
        let i = pos.index(chars.len());
        let original = chars[i];
        // Replace with a character of the same UTF-8 length, so the change
        // is one burst of at most 16 bits (always caught by CRC-16).
        let replacement = if original.is_ascii() {
            ascii as char
        } else {
            char::from_u32(khmer).unwrap()
        };
        prop_assume!(replacement != original);
        // The SDK accepts a lower-case CRC: a case change there is no change.
        prop_assume!(!(i >= chars.len() - 4 && replacement.eq_ignore_ascii_case(&original)));
        let mut changed = chars.clone();
        changed[i] = replacement;
        let changed: String = changed.into_iter().collect();
        prop_assert!(verify(&changed, clock).is_err(), "undetected change at {} in {}", i, changed);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_text(s in any::<String>()) {
        bounded(&s);
    }

    #[test]
    fn decoders_never_panic_on_tlv_like_text(s in "([0-9]{2}([0-9]{2}|[a-z ]{2}|-[0-9])[0-9A-Za-z@ .\u{1780}-\u{17FF}]{0,12}){0,30}(6304[0-9A-F]{4})?") {
        bounded(&s);
        // With a correct CRC the verifier gets past the checksum.
        let with_crc = format!("{s}6304");
        let crc = khqr::checksum::crc16_hex(&with_crc);
        bounded(&format!("{with_crc}{crc}"));
    }

    #[test]
    fn decoders_never_panic_on_mutated_codes((req, clock) in request(), cut in any::<prop::sample::Index>(), junk in "[0-9a-z]{0,6}") {
        let Ok(khqr) = encode(&req, clock) else { return Ok(()); };
        let chars: Vec<char> = khqr.qr.chars().collect();
        let i = cut.index(chars.len());
        let mutated: String = chars[..i].iter().chain(junk.chars().collect::<Vec<_>>().iter()).chain(chars[i..].iter().skip(1)).collect();
        bounded(&mutated);
        // Drop the old CRC object and put a correct one on the mutated body.
        let body: String = {
            let c: Vec<char> = mutated.chars().collect();
            c[..c.len().saturating_sub(8)].iter().collect()
        };
        let with_crc = format!("{body}6304");
        let crc = khqr::checksum::crc16_hex(&with_crc);
        bounded(&format!("{with_crc}{crc}"));
    }
}

/// Runs every decoder on `s` and checks it returns promptly.
fn bounded(s: &str) {
    let start = Instant::now();
    let _ = decode(s);
    let _ = decode_non_khqr(s);
    let _ = verify(s, CLOCK_MIN);
    let _ = verify_strict(s, CLOCK_MIN);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "too slow on {s:?}"
    );
}

/// Inputs that make the official SDK loop forever (bug B8) or re-read the
/// same object: our decoders return, in linear time.
#[test]
fn adversarial_inputs_terminate_quickly() {
    let mut cases = vec![
        "30ab".repeat(50_000),
        format!("0002012904zz{}", "00ab".repeat(50_000)),
        format!("00020101021229200015a@b00zz6304"),
        format!("6204{}", "-9".repeat(100_000)),
        "99".repeat(100_000),
        format!("{}6304", "00 9".repeat(30_000)),
    ];
    // Give each a correct CRC so verify parses them.
    let more: Vec<String> = cases
        .iter()
        .map(|c| {
            let body = format!("{c}6304");
            let crc = khqr::checksum::crc16_hex(&body);
            format!("{body}{crc}")
        })
        .collect();
    cases.extend(more);
    for c in &cases {
        let start = Instant::now();
        let _ = decode(c);
        let _ = decode_non_khqr(c);
        let _ = verify(c, CLOCK_MIN);
        let _ = verify_strict(c, CLOCK_MIN);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "slow on a {}-char input",
            c.len()
        );
    }
}

/// Non-BMP characters count two UTF-16 units, like the SDK's `String.length`.
#[test]
fn emoji_count_two_units() {
    let mut req = KhqrRequest::individual("a@b", "Cafe \u{2615}\u{1F600}", "");
    req.bill_number = Some("\u{1F600}".repeat(12)); // 24 units
    let k = encode(&req, CLOCK_MIN).unwrap();
    assert!(k.qr.contains("5908Cafe \u{2615}\u{1F600}"));
    assert!(k.qr.contains("62280124"));
    let d = verify(&k.qr, CLOCK_MIN).unwrap();
    assert_eq!(d.bill_number, req.bill_number);
    req.bill_number = Some("\u{1F600}".repeat(13)); // 26 units
    assert_eq!(encode(&req, CLOCK_MIN).unwrap_err().code(), 10);
}
