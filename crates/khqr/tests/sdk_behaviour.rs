//! SDK behaviours from the spec (sections 2–7, 12, 14) beyond the vectors.

use khqr::checksum::crc16_hex;
use khqr::{
    decode, encode, verify, verify_strict, Currency, GenerateError, KhqrRequest, SdkInputs, Stage,
    StrictViolation, VerifyError,
};
use rust_decimal::Decimal;
use std::str::FromStr;

const NOW: u64 = 1_735_689_600_000;
const ACCT: &str = "29150011sample@devb";
const TAIL: &str = "5204599953031165802KH5911Sample Shop6010Phnom Penh";

/// Appends `6304` and the correct CRC.
fn seal(body: &str) -> String {
    let b = format!("{body}6304");
    let crc = crc16_hex(&b);
    format!("{b}{crc}")
}

fn static_qr() -> String {
    seal(&format!("000201010211{ACCT}{TAIL}"))
}

fn field_code(qr: &str) -> Option<u32> {
    match verify(qr, NOW) {
        Err(e) => {
            assert_eq!(e.stage(), Stage::FieldValidation, "{e}");
            e.code()
        }
        Ok(_) => None,
    }
}

#[test]
fn static_baseline_is_valid() {
    assert!(verify(&static_qr(), NOW).is_ok());
    assert!(verify_strict(&static_qr(), NOW).is_ok());
}

#[test]
fn crc_format_mismatch_and_length_stages() {
    assert_eq!(verify("hello", NOW).unwrap_err().stage(), Stage::CrcFormat);
    assert_eq!(verify("", NOW).unwrap_err().stage(), Stage::CrcFormat);
    let no_crc = format!("000201010211{ACCT}{TAIL}");
    assert_eq!(verify(&no_crc, NOW).unwrap_err().stage(), Stage::CrcFormat);
    let mut bad = static_qr();
    bad.replace_range(bad.len() - 1.., if bad.ends_with('0') { "1" } else { "0" });
    let e = verify(&bad, NOW).unwrap_err();
    assert_eq!((e.stage(), e.code()), (Stage::CrcMismatch, None));
    assert!(e.message().starts_with("CRC mismatch, computed "));
    // 8 characters with a correct CRC: too short.
    let tiny = seal("");
    assert_eq!(tiny.len(), 8);
    let e = verify(&tiny, NOW).unwrap_err();
    assert_eq!((e.stage(), e.code()), (Stage::TooShort, None));
    // A lower-case CRC is accepted by the SDK, not by strict mode.
    let q = static_qr();
    let lower = format!(
        "{}{}",
        &q[..q.len() - 4],
        q[q.len() - 4..].to_ascii_lowercase()
    );
    if lower != q {
        assert!(verify(&lower, NOW).is_ok());
        assert_eq!(
            verify_strict(&lower, NOW).unwrap_err(),
            VerifyError::Strict(StrictViolation::LowercaseCrc)
        );
    }
}

#[test]
fn dynamic_rules_come_before_mandatory_tags() {
    // POI 12 without 54 → 47, even with tag 59 missing.
    let q = seal(&format!(
        "000201010212{ACCT}5204599953031165802KH6010Phnom Penh"
    ));
    assert_eq!(field_code(&q), Some(47));
    // POI 12 with 54, no 99 → 45.
    let q = seal(&format!(
        "000201010212{ACCT}52045999530311654031005802KH5911Sample Shop6010Phnom Penh"
    ));
    assert_eq!(field_code(&q), Some(45));
    // 54 with POI 11 and no 99 → 45.
    let q = seal(&format!(
        "000201010211{ACCT}52045999530311654031005802KH5911Sample Shop6010Phnom Penh"
    ));
    assert_eq!(field_code(&q), Some(45));
    // Legacy dynamic with only a creation timestamp → 45.
    let q = seal(&format!(
        "000201010212{ACCT}52045999530311654031005802KH5911Sample Shop6010Phnom Penh99170013{NOW}"
    ));
    assert_eq!(field_code(&q), Some(45));
    // Legacy static with a creation timestamp still verifies.
    let q = seal(&format!("000201010211{ACCT}{TAIL}99170013{NOW}"));
    assert!(verify(&q, NOW).is_ok());
}

#[test]
fn mandatory_tags_in_order() {
    let cases = [
        (format!("010211{ACCT}{TAIL}"), 23),
        (format!("000201010211{TAIL}"), 5),
        (
            format!("000201010211{ACCT}53031165802KH5911Sample Shop6010Phnom Penh"),
            25,
        ),
        (format!("000201010211{ACCT}52045999"), 9),
        (format!("000201010211{ACCT}520459995303116"), 26),
        (format!("000201010211{ACCT}5204599953031165802KH"), 2),
        (
            format!("000201010211{ACCT}5204599953031165802KH5911Sample Shop"),
            27,
        ),
        // Two consecutive identical IDs hide everything after them → no 63.
        (format!("000201010211{ACCT}{TAIL}6010Phnom Penh"), 24),
    ];
    for (body, code) in cases {
        assert_eq!(field_code(&seal(&body)), Some(code), "{body}");
    }
}

#[test]
fn per_field_rules() {
    let with = |find: &str, replace: &str| {
        seal(&format!("000201010211{ACCT}{TAIL}").replacen(find, replace, 1))
    };
    let cases: Vec<(String, Option<u32>)> = vec![
        (with("000201", "000212"), None), // any 1–2 char value passes
        (with("000201", "0003012"), Some(16)),
        (with("000201", "0000"), Some(23)),
        (with("010211", "010213"), Some(48)),
        (with("010211", "0103111"), Some(17)),
        (with("52045999", "52055999x"), Some(18)),
        (with("52045999", "520459a9"), Some(51)),
        (with("52045999", "520212"), None),
        (with("5303116", "5303978"), Some(28)),
        (with("5303116", "53041160"), Some(19)),
        (with("5802KH", "5802US"), None),
        (with("5802KH", "5804KHMR"), Some(20)),
        (with("6010Phnom Penh", "6016Phnom Penh City!"), Some(21)),
        (with("29150011sample@devb", "29140010sampledevb"), Some(3)),
        (with("29150011sample@devb", "29130009a@b@c.com"), None),
        (with("29150011sample@devb", "2900"), Some(1)),
        (with("29150011sample@devb", "29080104abcd"), Some(1)),
        (with("29150011sample@devb", "30150011sample@devb"), None),
        (with(TAIL, &format!("{TAIL}62040100")), Some(10)),
        (with(TAIL, &format!("{TAIL}62040200")), Some(34)),
        (with(TAIL, &format!("{TAIL}6204xxxx")), None), // no known sub-tag: ignored
        (with(TAIL, &format!("{TAIL}64060002km")), Some(39)),
        (with(TAIL, &format!("{TAIL}64150003kmx0104Name")), Some(38)),
        (with(TAIL, &format!("{TAIL}64040200")), Some(41)),
        (with(TAIL, &format!("{TAIL}2604abcd8002xy")), None), // unknown IDs skipped
    ];
    for (qr, code) in cases {
        assert_eq!(field_code(&qr), code, "{qr}");
    }
    // 30/01 is checked as account information (35), not merchant ID.
    let long = "M".repeat(33);
    let q = seal(
        &format!("000201010211300570011sample@devb0133{long}{TAIL}")
            .replace("300570011", "30520011"),
    );
    assert_eq!(field_code(&q), Some(35), "{q}");
}

#[test]
fn language_template_crash_is_the_exception_stage() {
    let q = seal(&format!("000201010211{ACCT}{TAIL}64080104Name"));
    let e = verify(&q, NOW).unwrap_err();
    assert_eq!((e.stage(), e.code()), (Stage::Exception, None), "{e}");
}

#[test]
fn amount_rules_at_verify() {
    let dynamic = |amount: &str, exp: u64| {
        seal(&format!(
            "000201010212{ACCT}520459995303840{}5802KH5911Sample Shop6010Phnom Penh99340013{NOW}0113{exp}",
            format_args!("54{:02}{amount}", amount.len())
        ))
    };
    let exp = NOW + 60_000;
    assert!(verify(&dynamic("1.00", exp), NOW).is_ok());
    assert!(
        verify(&dynamic("1,000", exp), NOW).is_ok(),
        "the SDK does not check digits"
    );
    assert!(matches!(
        verify_strict(&dynamic("1,000", exp), NOW),
        Err(VerifyError::Strict(StrictViolation::AmountFormat { .. }))
    ));
    assert_eq!(field_code(&dynamic("-1", exp)), Some(4));
    assert_eq!(field_code(&dynamic("12345678901234", exp)), Some(4));
    // Expiration rules for dynamic codes.
    assert_eq!(field_code(&dynamic("1", NOW - 1)), Some(50));
    let q = seal(&format!(
        "000201010212{ACCT}52045999530384054011{}Sample Shop6010Phnom Penh99310013{NOW}0110{}",
        "5802KH5911",
        NOW / 1000
    ));
    assert_eq!(field_code(&q), Some(49));
    let q = dynamic("1", exp);
    assert!(verify(&q, exp).is_ok());
    assert_eq!(verify(&q, exp + 1).unwrap_err().code(), Some(46));
    // With POI 11 the timestamps are not checked, except in strict mode.
    let q = seal(&format!(
        "000201010211{ACCT}{TAIL}99340013{}0113{}",
        NOW - 100_000,
        NOW - 50_000
    ));
    assert!(verify(&q, NOW).is_ok());
    assert!(matches!(
        verify_strict(&q, NOW),
        Err(VerifyError::Strict(StrictViolation::Expiration { .. }))
    ));
}

#[test]
fn strict_mode_rules() {
    // Order (53 before 52).
    let q = seal(&format!(
        "000201010211{ACCT}5303116520459995802KH5911Sample Shop6010Phnom Penh"
    ));
    assert!(verify(&q, NOW).is_ok());
    assert!(matches!(
        verify_strict(&q, NOW),
        Err(VerifyError::Strict(StrictViolation::OutOfOrder { .. }))
    ));
    // Country code other than KH.
    let q = seal(&format!("000201010211{ACCT}{TAIL}").replace("5802KH", "5802US"));
    assert!(matches!(
        verify_strict(&q, NOW),
        Err(VerifyError::Strict(StrictViolation::CountryCode { .. }))
    ));
    // Tag 30 without merchant ID / bank.
    let q = seal(&format!("000201010211{ACCT}{TAIL}").replace("2915", "3015"));
    assert!(verify(&q, NOW).is_ok());
    assert_eq!(verify_strict(&q, NOW).unwrap_err().code(), Some(30));
    // Non-consecutive duplicate.
    let q = seal(&format!("000201010211{ACCT}{TAIL}5802KH"));
    assert!(verify(&q, NOW).is_ok());
    assert!(matches!(
        verify_strict(&q, NOW),
        Err(VerifyError::Strict(StrictViolation::Duplicate { .. }))
    ));
    // Declared sub-tag length longer than the rest: the SDK shortens, strict refuses.
    let q = seal(&format!("000201010211{ACCT}{TAIL}62050199a"));
    assert!(verify(&q, NOW).is_ok());
    assert_eq!(decode(&q).bill_number.as_deref(), Some("a"));
    assert!(matches!(
        verify_strict(&q, NOW),
        Err(VerifyError::Strict(
            StrictViolation::MalformedTemplate { .. }
        ))
    ));
    // A root length running into the CRC hides tag 63 (SDK error 24).
    let q = seal(&format!("000201010211{ACCT}{TAIL}6299"));
    assert_eq!(verify(&q, NOW).unwrap_err().code(), Some(24));
}

#[test]
fn decode_keeps_sdk_quirks() {
    // Empty values decode as "", not null; 30 gives merchantID.
    let q = seal(&format!(
        "000201010211{}{TAIL}6200",
        "30270011sample@devb0104M-01"
    ));
    let d = decode(&q);
    assert_eq!(d.merchant_type.as_deref(), Some("30"));
    assert_eq!(d.merchant_id.as_deref(), Some("M-01"));
    assert_eq!(d.account_information, None);
    assert_eq!(d.bill_number, None);
    let d = decode("5900");
    assert_eq!(d.merchant_name.as_deref(), Some(""));
    // Later non-consecutive duplicates win.
    let d = decode("5901A5802KH5901B");
    assert_eq!(d.merchant_name.as_deref(), Some("B"));
    // decode never checks the CRC.
    assert_eq!(decode("5903abc").merchant_name.as_deref(), Some("abc"));
}

fn sdk(json: &str) -> Result<khqr::Khqr, GenerateError> {
    SdkInputs::from_json(json).unwrap().encode(NOW)
}

fn ind(optional: &str) -> String {
    format!(
        r#"{{"kind":"individual","bakongAccountID":"a@devb","merchantName":"A","merchantCity":"Phnom Penh","optional":{optional}}}"#
    )
}

#[test]
fn sdk_input_rules() {
    let exp = NOW + 60_000;
    // KHR "2000.00" and 100.0 pass and lose their decimals.
    let k = sdk(&ind(&format!(
        r#"{{"amount":"2000.00","expirationTimestamp":{exp}}}"#
    )))
    .unwrap();
    assert!(k.qr.contains("54042000"));
    let k = sdk(&ind(&format!(
        r#"{{"amount":100.0,"expirationTimestamp":"{exp}"}}"#
    )))
    .unwrap();
    assert!(k.qr.contains("5403100"));
    // USD spellings.
    for (amount, text) in [
        ("\"0.5\"", "54040.50"),
        ("5", "54015"),
        ("5.00", "54015"),
        ("2.5", "54042.50"),
        ("\"12\"", "540212"),
        ("1e2", "5403100"),
    ] {
        let k = sdk(&ind(&format!(
            r#"{{"currency":"840","amount":{amount},"expirationTimestamp":{exp}}}"#
        )))
        .unwrap();
        assert!(k.qr.contains(text), "{amount}: {}", k.qr);
    }
    // Dropped values: currency 0 → KHR, amount 0 / "0" / "0.00" → static, MCC 0 → 5999, "" dropped.
    for opt in [
        r#"{"currency":0,"amount":0,"merchantCategoryCode":0,"billNumber":"","expirationTimestamp":"x"}"#,
        r#"{"amount":"0"}"#,
        r#"{"amount":"0.00","billNumber":null}"#,
        r#"{"amount":false}"#,
    ] {
        let k = sdk(&ind(opt)).unwrap();
        assert!(k.qr.starts_with("000201010211"), "{opt}");
        assert!(
            k.qr.contains("52045999") && k.qr.contains("5303116") && !k.qr.contains("62"),
            "{opt}: {}",
            k.qr
        );
    }
    // City default for "", null and missing.
    for city in [r#""merchantCity":"","#, r#""merchantCity":null,"#, ""] {
        let json =
            format!(r#"{{"kind":"individual","bakongAccountID":"a@b",{city}"merchantName":"A"}}"#);
        assert!(sdk(&json).unwrap().qr.contains("6010Phnom Penh"), "{json}");
    }
    // Numbers for text fields are written as JavaScript prints them.
    let k = sdk(&ind(
        r#"{"mobileNumber":85512345678,"merchantCategoryCode":5411}"#,
    ))
    .unwrap();
    assert!(
        k.qr.contains("6215021185512345678") && k.qr.contains("52045411"),
        "{}",
        k.qr
    );
}

#[test]
fn sdk_error_codes_and_precedence() {
    let exp = NOW + 60_000;
    let cases: Vec<(String, u32)> = vec![
        (ind(&format!(r#"{{"currency":840,"amount":1,"expirationTimestamp":{}}}"#, exp / 1000)), 49),
        (ind(r#"{"currency":840,"amount":1,"expirationTimestamp":"abc"}"#), 45),
        (ind(&format!(r#"{{"currency":840,"amount":1,"expirationTimestamp":{}}}"#, NOW - 1)), 50),
        (ind(r#"{"currency":978}"#), 28),
        (ind(r#"{"currency":"8400"}"#), 19),
        (ind(r#"{"currency":"usd"}"#), 28),
        (ind(r#"{"amount":-5,"expirationTimestamp":4102444800000}"#), 4),
        (ind(r#"{"amount":"abc","expirationTimestamp":4102444800000}"#), 4),
        (ind(r#"{"currency":840,"amount":99999999999.99,"expirationTimestamp":4102444800000}"#), 4),
        (ind(r#"{"currency":840,"amount":1e21,"expirationTimestamp":4102444800000}"#), 4),
        (ind(r#"{"merchantCategoryCode":"59999"}"#), 18),
        (ind(r#"{"merchantCategoryCode":"59a9"}"#), 51),
        (ind(r#"{"upiMerchantAccount":"1234","currency":840}"#), 44),
        (ind(&format!(r#"{{"upiMerchantAccount":"{}"}}"#, "9".repeat(100))), 43),
        (ind(&format!(r#"{{"accountInformation":"{}"}}"#, "9".repeat(33))), 35),
        (ind(&format!(r#"{{"acquiringBank":"{}"}}"#, "B".repeat(33))), 33),
        (ind(&format!(r#"{{"billNumber":"{}"}}"#, "B".repeat(26))), 10),
        (ind(&format!(r#"{{"mobileNumber":"{}"}}"#, "1".repeat(26))), 34),
        (ind(&format!(r#"{{"storeLabel":"{}"}}"#, "S".repeat(26))), 11),
        (ind(&format!(r#"{{"terminalLabel":"{}"}}"#, "T".repeat(26))), 12),
        (ind(&format!(r#"{{"purposeOfTransaction":"{}"}}"#, "P".repeat(26))), 42),
        (ind(r#"{"languagePreference":"km"}"#), 39),
        (ind(r#"{"languagePreference":"khm","merchantNameAlternateLanguage":"ក"}"#), 38),
        (ind(&format!(r#"{{"languagePreference":"km","merchantNameAlternateLanguage":"{}"}}"#, "ក".repeat(26))), 40),
        (ind(&format!(r#"{{"merchantCityAlternateLanguage":"{}"}}"#, "ក".repeat(16))), 41),
        // B3: alternate name without language → our code 37.
        (ind(r#"{"merchantNameAlternateLanguage":"ក"}"#), 37),
        // B7: 62 over 99 characters → our code 100.
        (ind(&format!(r#"{{"billNumber":"{0}","mobileNumber":"{0}","storeLabel":"{0}","terminalLabel":"{0}"}}"#, "X".repeat(25))), 100),
        // Control character → our code 101.
        (ind(r#"{"billNumber":"a\nb"}"#), 101),
        (ind(r#"{"billNumber":{"x":1}}"#), 102),
        (r#"{"kind":"individual","bakongAccountID":"","merchantName":"A"}"#.into(), 1),
        (r#"{"kind":"individual","bakongAccountID":"abc","merchantName":"A"}"#.into(), 3),
        (format!(r#"{{"kind":"individual","bakongAccountID":"{}@b","merchantName":"A"}}"#, "a".repeat(31)), 6),
        (r#"{"kind":"individual","bakongAccountID":"a@b","merchantName":""}"#.into(), 2),
        (r#"{"kind":"individual","bakongAccountID":"a@b","merchantName":"A","merchantCity":"Phnom Penh Capital"}"#.into(), 21),
        (r#"{"kind":"merchant","bakongAccountID":"a@b","merchantName":"A","merchantID":"","acquiringBank":"B"}"#.into(), 30),
        (r#"{"kind":"merchant","bakongAccountID":"a@b","merchantName":"A","merchantID":"M"}"#.into(), 31),
        (format!(r#"{{"kind":"merchant","bakongAccountID":"a@b","merchantName":"A","merchantID":"{}","acquiringBank":"B"}}"#, "M".repeat(33)), 32),
        // First failing field in emission order wins.
        (r#"{"kind":"individual","bakongAccountID":"abc","merchantName":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","optional":{"currency":978}}"#.into(), 3),
        (r#"{"kind":"individual","bakongAccountID":"a@b","merchantName":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","optional":{"amount":"abc"}}"#.into(), 4),
        (r#"{"kind":"individual","bakongAccountID":"a@b","merchantName":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","optional":{"amount":5,"expirationTimestamp":"abc"}}"#.into(), 7),
        (r#"{"kind":"individual","bakongAccountID":"a@b","merchantName":"A","optional":{"currency":978,"merchantCategoryCode":"x"}}"#.into(), 51),
        (r#"{"kind":"individual","bakongAccountID":"a@b","merchantName":"A","optional":{"currency":978,"upiMerchantAccount":"1"}}"#.into(), 28),
    ];
    for (json, code) in cases {
        let e = sdk(&json).expect_err(&json);
        assert_eq!(e.code(), code, "{json}: {e}");
        assert!(e.to_string().contains("tag"), "{e}");
    }
}

#[test]
fn typed_api_rules() {
    let mut req = KhqrRequest::individual("a@b", "A", "");
    req.amount = Some(Decimal::from_str("1.5").unwrap());
    req.currency = Currency::Usd;
    assert_eq!(encode(&req, NOW).unwrap_err().code(), 45);
    req.expiration_ms = Some(NOW);
    let k = encode(&req, NOW).unwrap();
    assert!(k.qr.contains("54041.50") && k.qr.contains(&format!("99340013{NOW}0113{NOW}")));
    // Static codes ignore the expiration, like the SDK.
    req.amount = Some(Decimal::ZERO);
    req.expiration_ms = Some(1);
    assert!(encode(&req, NOW).unwrap().qr.starts_with("000201010211"));
    // Alternate city alone.
    let mut req = KhqrRequest::individual("a@b", "A", "");
    req.merchant_city_alternate_language = Some("ភ្នំពេញ".into());
    assert!(encode(&req, NOW).unwrap().qr.contains("64110207ភ្នំពេញ"));
    // Merchant account template at exactly 99 fits; 100 does not.
    let req = KhqrRequest::merchant(
        &format!("{}@b", "a".repeat(21)),
        "A",
        "",
        &"M".repeat(32),
        &"B".repeat(32),
    );
    assert!(encode(&req, NOW).unwrap().qr.contains("3099"));
    let req = KhqrRequest::merchant(
        &format!("{}@b", "a".repeat(22)),
        "A",
        "",
        &"M".repeat(32),
        &"B".repeat(32),
    );
    let e = encode(&req, NOW).unwrap_err();
    assert!(
        matches!(e, GenerateError::TemplateTooLong { len: 100, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("tag 29/30"));
    // Error text names the tag and the rule.
    let req = KhqrRequest::individual("a@b", &"A".repeat(26), "");
    assert_eq!(
        encode(&req, NOW).unwrap_err().to_string(),
        "tag 59 (merchant name): longer than 25 characters (26) (SDK error 7)"
    );
}
