//! Loads `khqr-vectors.json` from the repository's `tests/data/` (a copy of the
//! project spec's vectors; `tests/data/README.md` says where it came from).

#![allow(dead_code)]

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub struct Vectors {
    pub valid: Vec<ValidVector>,
    pub invalid: Vec<InvalidVector>,
    pub generation_errors: Vec<GenerationError>,
}

#[derive(Debug, Deserialize)]
pub struct VerifyVerdict {
    pub at_ms: u64,
    #[serde(rename = "isValid")]
    pub is_valid: bool,
    pub stage: Option<String>,
    #[serde(rename = "errorCode")]
    pub error_code: Option<u32>,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ValidVector {
    pub id: String,
    pub clock_ms: u64,
    pub inputs: Box<RawValue>,
    pub qr: String,
    pub md5: String,
    pub crc: Option<String>,
    pub length_utf16_units: Option<usize>,
    pub length_utf8_bytes: Option<usize>,
    pub point_of_initiation: Option<String>,
    pub decode: Value,
    pub decode_non_khqr: Option<Value>,
    pub verify_at_clock: VerifyVerdict,
    pub verify_after_expiry: Option<VerifyVerdict>,
}

#[derive(Debug, Deserialize)]
pub struct InvalidVector {
    pub id: String,
    pub qr: String,
    pub verify_at_clock: VerifyVerdict,
    pub decode: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct SdkStatus {
    pub code: u32,
    #[serde(rename = "errorCode")]
    pub error_code: Option<u32>,
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SdkResult {
    pub status: SdkStatus,
}

#[derive(Debug, Deserialize)]
pub struct GenerationError {
    pub id: String,
    pub clock_ms: u64,
    pub inputs: Box<RawValue>,
    pub sdk_result: SdkResult,
}

pub fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/khqr-vectors.json")
}

pub fn load() -> Vectors {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (tests/data/ is part of the repository)",
            path.display()
        )
    });
    let v: Vectors = serde_json::from_str(&text).expect("khqr-vectors.json does not parse");
    assert!(!v.valid.is_empty() && !v.invalid.is_empty() && !v.generation_errors.is_empty());
    v
}
