//! Bakong flow logic: bearer tokens, the bank-app payment of a KHQR (verified
//! with `crates/khqr` like a payer's app would), and the lookups. Knows
//! nothing of HTTP; lookups answer `Ok(transaction)` or `Err(errorCode)`.

use super::wire;
use crate::config::{BakongConfig, StaticMd5};
use crate::ids;
use crate::money::{json_ms, json_number};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::str::FromStr;

/// HS256 secret of sandbox tokens (they are recognised by lookup anyway).
const TOKEN_SECRET: &[u8] = b"till-sandbox-bakong-not-a-secret";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BakongToken {
    pub email: String,
    pub issued_ms: u64,
    pub expires_ms: u64,
    pub revoked: bool,
}

/// A payment recorded by the simulated bank app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Txn {
    pub md5: String,
    pub hash: String,
    pub qr: String,
    pub from_account_id: String,
    pub to_account_id: String,
    pub currency: String,
    pub amount: Decimal,
    /// The amount the QR asked for (`None` for a static code).
    pub qr_amount: Option<Decimal>,
    pub qr_currency: Option<String>,
    pub bill_number: Option<String>,
    pub description: String,
    pub created_ms: u64,
    pub acknowledged_ms: u64,
    pub instruction_ref: String,
    pub external_ref: String,
    pub static_qr: bool,
    /// `SUCCESS` or `FAILED`.
    pub status: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BakongState {
    pub tokens: HashMap<String, BakongToken>,
    pub txns: Vec<Txn>,
    pub deeplinks: HashMap<String, String>,
}

/// Issue an HS256 JWT shaped like Bakong's (`{"data":{"id"},"iat","exp"}`).
pub fn issue_token(
    st: &mut BakongState,
    rng: &mut ChaCha8Rng,
    cfg: &BakongConfig,
    email: &str,
    now: u64,
) -> String {
    if cfg.renew_revokes_previous {
        for t in st.tokens.values_mut().filter(|t| t.email == email) {
            t.revoked = true;
        }
    }
    let iat = now / 1000;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"data": {"id": ids::hex(rng, 8)}, "iat": iat, "exp": iat + cfg.token_ttl_secs})
            .to_string(),
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(TOKEN_SECRET).expect("any key length");
    mac.update(format!("{header}.{payload}").as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    let token = format!("{header}.{payload}.{sig}");
    st.tokens.insert(
        token.clone(),
        BakongToken {
            email: email.into(),
            issued_ms: now,
            expires_ms: now + cfg.token_ttl_secs * 1000,
            revoked: false,
        },
    );
    token
}

pub fn token_valid(st: &BakongState, token: &str, now: u64) -> bool {
    st.tokens
        .get(token)
        .is_some_and(|t| !t.revoked && now < t.expires_ms)
}

/// `POST /v1/renew_token`.
pub fn renew(
    st: &mut BakongState,
    rng: &mut ChaCha8Rng,
    cfg: &BakongConfig,
    email: Option<&str>,
    now: u64,
) -> Result<String, u8> {
    let email = email.map(str::trim).filter(|e| !e.is_empty()).ok_or(5u8)?;
    if email.chars().count() > 30 {
        return Err(5);
    }
    if !cfg
        .registered_emails
        .iter()
        .any(|e| e.eq_ignore_ascii_case(email))
    {
        return Err(10);
    }
    Ok(issue_token(st, rng, cfg, email, now))
}

/// `name@bank`, as Bakong account IDs are written.
pub fn well_formed_account(id: &str) -> bool {
    let mut parts = id.split('@');
    let (Some(name), Some(bank), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    ok(name) && ok(bank) && id.len() <= 32
}

/// Account check: `Ok(())` exists, else errorCode 12 (malformed) or 11 (unknown).
pub fn account_exists(cfg: &BakongConfig, id: &str) -> Result<(), u8> {
    if !well_formed_account(id) {
        return Err(12);
    }
    if cfg.accept_any_account || cfg.accounts.iter().any(|a| a == id) {
        Ok(())
    } else {
        Err(11)
    }
}

/// What the payer asks their bank app to do.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PayRequest {
    pub qr: String,
    pub from_account_id: String,
    /// Override (static codes: the amount the payer types; dynamic: a mismatch on purpose).
    #[serde(default)]
    pub amount: Option<serde_json::Value>,
    /// Override of the currency (`USD`/`KHR`), to exercise mismatch handling.
    #[serde(default)]
    pub currency: Option<String>,
    /// Record the attempt as failed (errorCode 3).
    #[serde(default)]
    pub fail: bool,
    /// Override of the receiving account the checks report. The spec has it
    /// always equal to the QR's account ([V]); this lets a test see that a
    /// client refuses to settle when it is not.
    #[serde(default)]
    pub to_account_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Why the bank app refused to pay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this KHQR has expired")]
    Expired,
    #[error("not a valid KHQR: {0}")]
    Invalid(String),
    #[error("receiving account {0} does not exist")]
    UnknownAccount(String),
    #[error("payer account {0:?} is not a Bakong account ID")]
    BadPayer(String),
    #[error("enter the amount to pay (static KHQR)")]
    AmountRequired,
    #[error("amount {0:?} is not valid")]
    BadAmount(String),
    #[error("this KHQR has already been paid")]
    AlreadyPaid,
}

impl Refusal {
    /// A stable machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Expired => "expired",
            Refusal::Invalid(_) => "invalid_qr",
            Refusal::UnknownAccount(_) => "unknown_account",
            Refusal::BadPayer(_) => "bad_payer",
            Refusal::AmountRequired => "amount_required",
            Refusal::BadAmount(_) => "bad_amount",
            Refusal::AlreadyPaid => "already_paid",
        }
    }
}

fn amount_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The bank app pays a KHQR.
pub fn pay(
    st: &mut BakongState,
    rng: &mut ChaCha8Rng,
    cfg: &BakongConfig,
    req: &PayRequest,
    now: u64,
) -> Result<Txn, Refusal> {
    let qr = req.qr.trim();
    let decoded = khqr::verify(qr, now).map_err(|e| {
        if e.code() == Some(46) {
            Refusal::Expired
        } else {
            Refusal::Invalid(e.to_string())
        }
    })?;
    let to = decoded.bakong_account_id.clone().unwrap_or_default();
    if account_exists(cfg, &to).is_err() {
        return Err(Refusal::UnknownAccount(to));
    }
    let from = req.from_account_id.trim();
    if !well_formed_account(from) {
        return Err(Refusal::BadPayer(from.into()));
    }
    let qr_amount = decoded.amount().filter(|a| !a.is_zero());
    let static_qr = !decoded.is_dynamic() || qr_amount.is_none();
    let amount = match req.amount.as_ref().and_then(amount_text) {
        Some(t) => {
            let a = Decimal::from_str(&t).map_err(|_| Refusal::BadAmount(t.clone()))?;
            if a <= Decimal::ZERO || a.scale() > 2 {
                return Err(Refusal::BadAmount(t));
            }
            a
        }
        None => qr_amount.ok_or(Refusal::AmountRequired)?,
    };
    let qr_currency = decoded.currency().map(|c| match c {
        khqr::Currency::Khr => "KHR".to_string(),
        khqr::Currency::Usd => "USD".to_string(),
    });
    let currency = req
        .currency
        .clone()
        .or_else(|| qr_currency.clone())
        .unwrap_or_else(|| "KHR".into());
    let md5 = khqr::md5_hex(qr);
    if !static_qr
        && cfg.refuse_repeat
        && st
            .txns
            .iter()
            .any(|t| t.md5 == md5 && t.status == "SUCCESS")
    {
        return Err(Refusal::AlreadyPaid);
    }
    let txn = Txn {
        md5,
        hash: ids::hex(rng, 32),
        qr: qr.into(),
        from_account_id: from.into(),
        to_account_id: req.to_account_id.clone().unwrap_or(to),
        currency,
        amount,
        qr_amount,
        qr_currency,
        bill_number: decoded.bill_number.clone(),
        description: req.description.clone().unwrap_or_default(),
        created_ms: now,
        acknowledged_ms: now + cfg.ack_delay_ms,
        instruction_ref: format!("IR{}", ids::digits(rng, 14)),
        external_ref: format!("100FT{}", ids::digits(rng, 11)),
        static_qr,
        status: if req.fail { "FAILED" } else { "SUCCESS" }.into(),
    };
    tracing::info!(
        md5 = txn.md5,
        hash = txn.hash,
        status = txn.status,
        "bakong payment"
    );
    st.txns.push(txn.clone());
    Ok(txn)
}

/// The wire transaction object of a recorded payment.
pub fn to_wire(t: &Txn, cfg: &BakongConfig) -> wire::Transaction {
    wire::Transaction {
        hash: t.hash.clone(),
        from_account_id: t.from_account_id.clone(),
        to_account_id: t.to_account_id.clone(),
        currency: t.currency.clone(),
        amount: json_number(t.amount, cfg.float_style),
        description: t.description.clone(),
        created_date_ms: json_ms(t.created_ms, cfg.float_style),
        acknowledged_date_ms: json_ms(t.acknowledged_ms, cfg.float_style),
        tracking_status: None,
        receiver_bank: None,
        receiver_bank_account: None,
        instruction_ref: Some(t.instruction_ref.clone()),
        external_ref: Some(t.external_ref.clone()),
    }
}

fn visible<'a>(t: &'a Txn, cfg: &BakongConfig, now: u64) -> Option<&'a Txn> {
    (now >= t.created_ms + cfg.visible_after_ms).then_some(t)
}

fn outcome<'a>(
    t: Option<&'a Txn>,
    cfg: &BakongConfig,
    now: u64,
    by_md5: bool,
) -> Result<&'a Txn, u8> {
    let t = t.and_then(|t| visible(t, cfg, now)).ok_or(1u8)?;
    if by_md5 && t.static_qr && cfg.static_md5 == StaticMd5::NotSupported {
        return Err(2);
    }
    if t.status == "FAILED" {
        return Err(3);
    }
    Ok(t)
}

/// Check by MD5 of the KHQR string.
pub fn by_md5<'a>(
    st: &'a BakongState,
    cfg: &BakongConfig,
    md5: &str,
    now: u64,
) -> Result<&'a Txn, u8> {
    let md5 = md5.trim().to_ascii_lowercase();
    outcome(st.txns.iter().rev().find(|t| t.md5 == md5), cfg, now, true)
}

/// Check by full 64-hex hash.
pub fn by_hash<'a>(
    st: &'a BakongState,
    cfg: &BakongConfig,
    hash: &str,
    now: u64,
) -> Result<&'a Txn, u8> {
    let hash = hash.trim().to_ascii_lowercase();
    outcome(st.txns.iter().find(|t| t.hash == hash), cfg, now, false)
}

/// Check by the 8-hex short hash plus amount and currency.
pub fn by_short_hash<'a>(
    st: &'a BakongState,
    cfg: &BakongConfig,
    hash: &str,
    amount: Decimal,
    currency: &str,
    now: u64,
) -> Result<&'a Txn, u8> {
    let hash = hash.trim().to_ascii_lowercase();
    outcome(
        st.txns.iter().find(|t| {
            t.hash.starts_with(&hash)
                && t.amount == amount
                && t.currency.eq_ignore_ascii_case(currency)
        }),
        cfg,
        now,
        false,
    )
}

/// Check by instruction or external reference.
pub fn by_ref<'a>(
    st: &'a BakongState,
    cfg: &BakongConfig,
    external: bool,
    r: &str,
    now: u64,
) -> Result<&'a Txn, u8> {
    let r = r.trim();
    outcome(
        st.txns.iter().find(|t| {
            if external {
                t.external_ref == r
            } else {
                t.instruction_ref == r
            }
        }),
        cfg,
        now,
        false,
    )
}
