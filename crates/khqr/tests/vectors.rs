//! Every vector of `khqr-vectors.json`, byte for byte.

mod common;

use khqr::{decode, decode_non_khqr, md5_hex, verify, SdkInputs};

fn check_verdict(id: &str, qr: &str, v: &common::VerifyVerdict) {
    let got = verify(qr, v.at_ms);
    assert_eq!(
        got.is_ok(),
        v.is_valid,
        "{id}: verdict at {} ({got:?})",
        v.at_ms
    );
    if let Err(e) = got {
        assert_eq!(
            Some(e.stage().as_str()),
            v.stage.as_deref(),
            "{id}: stage ({e})"
        );
        assert_eq!(e.code(), v.error_code, "{id}: errorCode ({e})");
        if matches!(
            v.stage.as_deref(),
            Some("field_validation") | Some("crc_mismatch")
        ) {
            assert_eq!(Some(e.message()), v.message, "{id}: message");
        }
        // The human text names the tag.
        assert!(
            e.to_string().contains("tag") || e.to_string().contains("short"),
            "{id}: {e}"
        );
    }
}

#[test]
fn valid_vectors_encode_byte_for_byte() {
    let vectors = common::load();
    for v in &vectors.valid {
        let inputs = SdkInputs::from_json(v.inputs.get())
            .unwrap_or_else(|e| panic!("{}: inputs: {e}", v.id));
        let k = inputs
            .encode(v.clock_ms)
            .unwrap_or_else(|e| panic!("{}: encode failed: {e}", v.id));
        assert_eq!(k.qr, v.qr, "{}: qr", v.id);
        assert_eq!(k.md5, v.md5, "{}: md5", v.id);
        assert_eq!(md5_hex(&v.qr), v.md5, "{}: md5_hex", v.id);
        if let Some(crc) = &v.crc {
            assert!(k.qr.ends_with(&format!("6304{crc}")), "{}: crc", v.id);
        }
        if let Some(n) = v.length_utf16_units {
            assert_eq!(k.qr.encode_utf16().count(), n, "{}: utf16 length", v.id);
        }
        if let Some(n) = v.length_utf8_bytes {
            assert_eq!(k.qr.len(), n, "{}: utf8 length", v.id);
        }
        // The typed request the inputs map to encodes identically.
        let req = inputs.to_request(v.clock_ms).unwrap();
        assert_eq!(
            khqr::encode(&req, v.clock_ms).unwrap(),
            k,
            "{}: typed encode",
            v.id
        );
    }
}

#[test]
fn valid_vectors_decode() {
    let vectors = common::load();
    for v in &vectors.valid {
        let d = decode(&v.qr);
        assert_eq!(d.to_json(), v.decode, "{}: decode", v.id);
        if let Some(poi) = &v.point_of_initiation {
            assert_eq!(d.point_of_initiation_method.as_ref(), Some(poi), "{}", v.id);
            assert_eq!(d.is_dynamic(), poi == "12", "{}", v.id);
        }
        if d.is_dynamic() {
            assert!(d.amount().is_some(), "{}: typed amount", v.id);
            assert_eq!(d.creation_ms(), Some(v.clock_ms), "{}: creation", v.id);
            assert!(d.expiration_ms().is_some(), "{}: expiration", v.id);
        }
        assert!(d.currency().is_some(), "{}: typed currency", v.id);
    }
}

#[test]
fn valid_vectors_decode_non_khqr() {
    let vectors = common::load();
    for v in &vectors.valid {
        if let Some(want) = &v.decode_non_khqr {
            assert_eq!(&decode_non_khqr(&v.qr), want, "{}: decode_non_khqr", v.id);
        }
    }
}

#[test]
fn valid_vectors_verify_at_clock_and_after_expiry() {
    let vectors = common::load();
    for v in &vectors.valid {
        check_verdict(&v.id, &v.qr, &v.verify_at_clock);
        assert!(v.verify_at_clock.is_valid, "{}", v.id);
        let decoded = verify(&v.qr, v.verify_at_clock.at_ms).unwrap();
        assert_eq!(
            decoded.to_json(),
            v.decode,
            "{}: verify returns the decode",
            v.id
        );
        // The SDK's own strings also pass the strict mode.
        khqr::verify_strict(&v.qr, v.verify_at_clock.at_ms)
            .unwrap_or_else(|e| panic!("{}: strict: {e}", v.id));
        if let Some(after) = &v.verify_after_expiry {
            check_verdict(&v.id, &v.qr, after);
            assert_eq!(
                verify(&v.qr, after.at_ms).unwrap_err().code(),
                Some(46),
                "{}",
                v.id
            );
            // One millisecond earlier it is still valid.
            assert!(verify(&v.qr, after.at_ms - 1).is_ok(), "{}", v.id);
        }
    }
}

#[test]
fn invalid_vectors_verdicts_and_decode() {
    let vectors = common::load();
    for v in &vectors.invalid {
        check_verdict(&v.id, &v.qr, &v.verify_at_clock);
        if let Some(want) = &v.decode {
            assert_eq!(&decode(&v.qr).to_json(), want, "{}: decode", v.id);
        }
    }
}

#[test]
fn generation_error_vectors() {
    let vectors = common::load();
    for v in &vectors.generation_errors {
        assert_eq!(v.sdk_result.status.code, 1, "{}", v.id);
        let inputs = SdkInputs::from_json(v.inputs.get())
            .unwrap_or_else(|e| panic!("{}: inputs: {e}", v.id));
        let e = inputs.encode(v.clock_ms).expect_err(&v.id);
        assert_eq!(
            Some(e.code()),
            v.sdk_result.status.error_code,
            "{}: {e}",
            v.id
        );
        assert_eq!(
            Some(e.sdk_message()),
            v.sdk_result.status.message.as_deref(),
            "{}",
            v.id
        );
        assert_eq!(e.sdk_code(), v.sdk_result.status.error_code, "{}", v.id);
    }
}
