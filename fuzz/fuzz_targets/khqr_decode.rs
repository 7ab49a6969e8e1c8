//! KHQR: the tolerant decoders and both verifiers must never panic and must
//! stay linear (libFuzzer's -timeout catches hangs, the SDK's bug B8). Input:
//! the text of a scanned code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let d = khqr::decode(s);
    let _ = d.amount();
    let _ = d.expiration_ms();
    let _ = khqr::decode_non_khqr(s);
    let at = 1_735_689_600_000;
    let lenient = khqr::verify(s, at);
    let strict = khqr::verify_strict(s, at);
    // Strict never accepts what the SDK rules reject.
    assert!(!(lenient.is_err() && strict.is_ok()));
    if let Err(e) = &lenient {
        let _ = (e.code(), e.stage(), e.message());
    }
    // Also try the same text with a correct CRC, to get past the checksum.
    let body = format!("{s}6304");
    let sealed = format!("{body}{}", khqr::checksum::crc16_hex(&body));
    let _ = khqr::decode(&sealed);
    if let Ok(decoded) = khqr::verify(&sealed, at) {
        assert_eq!(decoded, khqr::decode(&sealed));
    }
    let _ = khqr::verify_strict(&sealed, at);
});
