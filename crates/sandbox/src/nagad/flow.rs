//! Nagad flow logic: the payment state machine (initialized → completed, its
//! page open → `Success` / `Aborted` / `Failed`), the checks of every sealed
//! request (decryption with Nagad's key, the merchant's signature, the
//! challenge round trip, merchant and order ids, currency `050`, the amount's
//! form), the customer's page outcomes and refunds. Operates on
//! [`NagadState`] under the world lock; knows nothing of HTTP.

use super::codes::{self, Ending};
use super::crypto::NagadKeys;
use super::wire::{self, field};
use crate::config::{AmountEcho, DuplicateOrder, NagadConfig};
use crate::money::{parse_positive, two_dp, Amount};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// Status words (spec §6).
pub const ORDER_INITIATED: &str = "OrderInitiated";
pub const READY: &str = "Ready";
pub const SUCCESS: &str = "Success";
pub const ABORTED: &str = "Aborted";
pub const FAILED: &str = "Failed";

/// Everything a flow step needs besides the state.
pub struct Ctx<'a> {
    pub now: u64,
    pub rng: &'a mut ChaCha8Rng,
    pub cfg: &'a NagadConfig,
    pub keys: &'a NagadKeys,
    /// Public base URL of the sandbox (for the page URL).
    pub origin: &'a str,
}

/// A refusal: `{reason, message}` with `status` (default: `error_status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    pub reason: &'static str,
    pub status: Option<u16>,
}

fn fail(reason: &'static str) -> Fail {
    Fail {
        reason,
        status: None,
    }
}

type R<T> = Result<T, Fail>;

/// The `X-KM-*` headers of a request.
#[derive(Debug, Clone, Default)]
pub struct Headers {
    pub api_version: Option<String>,
    pub client_type: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refund {
    pub reference_no: String,
    pub cancel_trx_id: String,
    pub amount: Decimal,
    pub amount_text: String,
    pub message: String,
    pub at_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub payment_ref_id: String,
    pub merchant_id: String,
    pub order_id: String,
    pub created_ms: u64,
    /// The merchant's challenge from initialize.
    pub merchant_challenge: String,
    /// Ours, which complete must echo.
    pub nagad_challenge: String,
    pub client_type: String,
    /// `OrderInitiated`, `Ready`, `Success`, `Aborted`, `Failed`.
    pub status: String,
    /// Callback `status_code` of a finished payment.
    pub callback_code: Option<String>,
    /// Verify `statusCode` of a finished payment.
    pub verify_code: Option<String>,
    pub message: Option<String>,
    pub amount: Option<Amount>,
    pub callback_url: Option<String>,
    pub additional_info: Option<Value>,
    pub completed_ms: Option<u64>,
    pub finished_ms: Option<u64>,
    pub wallet: Option<String>,
    pub issuer_ref: Option<String>,
    pub refunds: Vec<Refund>,
}

impl Payment {
    /// Status with lazy expiry applied.
    pub fn effective_status(&self, now: u64, cfg: &NagadConfig) -> String {
        let open = self.status == ORDER_INITIATED || self.status == READY;
        if open && now > self.created_ms + cfg.payment_ttl_secs * 1000 {
            cfg.expired_status.clone()
        } else {
            self.status.clone()
        }
    }

    fn is_expired(&self, now: u64, cfg: &NagadConfig) -> bool {
        self.effective_status(now, cfg) != self.status
    }

    pub fn refunded(&self) -> Decimal {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    fn finish(&mut self, status: &str, ending: Ending, now: u64) {
        self.status = status.to_string();
        self.callback_code = Some(ending.callback_code.into());
        self.verify_code = Some(ending.verify_code.into());
        self.message = Some(ending.message.into());
        self.finished_ms = Some(now);
    }
}

/// All Nagad state of the sandbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NagadState {
    /// By `paymentReferenceId`.
    pub payments: HashMap<String, Payment>,
    /// Every initialize challenge seen (replays are refused).
    pub challenges: BTreeSet<String>,
}

// ---------------------------------------------------------------- checks

fn check_headers(cfg: &NagadConfig, h: &Headers) -> R<()> {
    let ok = h.api_version.as_deref() == Some(cfg.api_version.as_str())
        && h.client_type
            .as_deref()
            .is_some_and(|t| cfg.client_types.iter().any(|c| c == t))
        && h.client_ip
            .as_deref()
            .is_some_and(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(fail("InvalidRequestHeader"))
    }
}

fn valid_order_id(cfg: &NagadConfig, id: &str) -> bool {
    !id.is_empty()
        && id.len() <= cfg.order_id_max_len
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || (!cfg.order_id_alphanumeric_only && (b == b'-' || b == b'_'))
        })
}

type Object = serde_json::Map<String, Value>;

/// Opens `sealed` and checks `signature` over the plaintext; the plaintext
/// as a JSON object.
fn open_signed(cx: &Ctx, sealed: &str, signature: &str) -> R<Object> {
    let plain = cx.keys.open(sealed).ok_or(fail("DecryptionError"))?;
    if !cx
        .keys
        .merchant_signed(&plain, signature, cx.cfg.accept_sha1_signatures)
    {
        return Err(fail("SignatureVerificationFailed"));
    }
    wire::parse_object(&plain).ok_or(fail("InvalidRequest"))
}

fn need(obj: &Object, key: &str) -> R<String> {
    field(obj, key).ok_or(fail("InvalidRequest"))
}

/// A sealed answer: the plaintext sealed to the merchant and signed as configured.
fn seal<T: Serialize>(cx: &mut Ctx, answer: &T) -> wire::Sealed {
    let plain = serde_json::to_string(answer).expect("wire types serialise");
    wire::Sealed {
        sensitive_data: cx.keys.seal(cx.rng, plain.as_bytes()),
        signature: cx.keys.sign(plain.as_bytes(), cx.cfg.answer_signature),
    }
}

fn pick(rng: &mut ChaCha8Rng, set: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| set[rng.random_range(0..set.len())] as char)
        .collect()
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";

// ---------------------------------------------------------------- initialize

/// `POST check-out/initialize/{merchantId}/{orderId}`.
pub fn initialize(
    st: &mut NagadState,
    cx: &mut Ctx,
    headers: &Headers,
    merchant_id: &str,
    order_id: &str,
    body: &[u8],
) -> R<wire::Sealed> {
    let cfg = cx.cfg;
    if cfg.require_headers {
        check_headers(cfg, headers)?;
    }
    if merchant_id != cfg.merchant_id {
        return Err(fail("InvalidMerchant"));
    }
    if !valid_order_id(cfg, order_id) {
        return Err(fail("InvalidOrderId"));
    }
    let body = wire::parse_object(body).ok_or(fail("InvalidRequest"))?;
    need(&body, "dateTime")?;
    let plain = open_signed(
        cx,
        &need(&body, "sensitiveData")?,
        &need(&body, "signature")?,
    )?;
    if need(&plain, "merchantId")? != merchant_id {
        return Err(fail("InvalidMerchant"));
    }
    if need(&plain, "orderId")? != order_id {
        return Err(fail("InvalidOrderId"));
    }
    let at = wire::parse_compact_time(&need(&plain, "datetime")?).ok_or(fail("InvalidDateTime"))?;
    if cfg.datetime_skew_secs > 0 && cx.now.abs_diff(at) > cfg.datetime_skew_secs * 1000 {
        return Err(fail("InvalidDateTime"));
    }
    let challenge = need(&plain, "challenge")?;
    if challenge.len() > 128 {
        return Err(fail("InvalidChallenge"));
    }
    if cfg.refuse_reused_challenge && st.challenges.contains(&challenge) {
        return Err(fail("InvalidChallenge"));
    }
    let duplicate = st.payments.values().any(|p| {
        p.order_id == order_id
            && match cfg.duplicate_order {
                DuplicateOrder::Never => false,
                DuplicateOrder::AfterComplete => p.completed_ms.is_some(),
                DuplicateOrder::Always => true,
            }
    });
    if duplicate {
        return Err(fail("DuplicateOrderId"));
    }
    // The shape of every captured reference: base64 of
    // `MMddHHmmssSSS.<merchantId>.<orderId>.<20 hex>`.
    let payment_ref_id = loop {
        let id = STANDARD.encode(format!(
            "{}.{merchant_id}.{order_id}.{}",
            wire::ref_time(cx.now),
            pick(cx.rng, HEX, 20)
        ));
        if !st.payments.contains_key(&id) {
            break id;
        }
    };
    let nagad_challenge = pick(cx.rng, HEX, 40);
    st.challenges.insert(challenge.clone());
    st.payments.insert(
        payment_ref_id.clone(),
        Payment {
            payment_ref_id: payment_ref_id.clone(),
            merchant_id: merchant_id.to_string(),
            order_id: order_id.to_string(),
            created_ms: cx.now,
            merchant_challenge: challenge,
            nagad_challenge: nagad_challenge.clone(),
            client_type: headers.client_type.clone().unwrap_or_default(),
            status: ORDER_INITIATED.into(),
            callback_code: None,
            verify_code: None,
            message: None,
            amount: None,
            callback_url: None,
            additional_info: None,
            completed_ms: None,
            finished_ms: None,
            wallet: None,
            issuer_ref: None,
            refunds: Vec::new(),
        },
    );
    tracing::info!(payment_ref_id, order_id, "nagad initialize");
    let answer = wire::InitializeAnswer {
        payment_reference_id: payment_ref_id,
        challenge: nagad_challenge,
        accept_date_time: wire::compact_time(cx.now),
    };
    Ok(seal(cx, &answer))
}

// ---------------------------------------------------------------- complete

fn valid_callback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// The customer's page for a payment.
pub fn page_url(origin: &str, payment_ref_id: &str) -> String {
    let mut u = url::Url::parse(origin).expect("the origin is a URL");
    u.path_segments_mut()
        .expect("an http origin")
        .pop_if_empty()
        .extend(["pay", "nagad", "check-out", payment_ref_id]);
    u.to_string()
}

/// `POST check-out/complete/{paymentReferenceId}`.
pub fn complete(
    st: &mut NagadState,
    cx: &mut Ctx,
    headers: &Headers,
    payment_ref_id: &str,
    body: &[u8],
) -> R<wire::CompleteAnswer> {
    let cfg = cx.cfg;
    if cfg.require_headers {
        check_headers(cfg, headers)?;
    }
    if !st.payments.contains_key(payment_ref_id) {
        return Err(fail("InvalidReferenceId"));
    }
    let body = wire::parse_object(body).ok_or(fail("InvalidRequest"))?;
    let callback = need(&body, "merchantCallbackURL")?;
    let plain = open_signed(
        cx,
        &need(&body, "sensitiveData")?,
        &need(&body, "signature")?,
    )?;
    let p = st.payments.get(payment_ref_id).expect("checked above");
    if need(&plain, "merchantId")? != p.merchant_id {
        return Err(fail("InvalidMerchant"));
    }
    if need(&plain, "orderId")? != p.order_id {
        return Err(fail("InvalidOrderId"));
    }
    if p.status != ORDER_INITIATED || p.is_expired(cx.now, cfg) {
        return Err(fail("InvalidPaymentState"));
    }
    if need(&plain, "challenge")? != p.nagad_challenge {
        return Err(fail("InvalidChallenge"));
    }
    if need(&plain, "currencyCode")? != "050" {
        return Err(fail("InvalidCurrency"));
    }
    let amount = parse_positive(&need(&plain, "amount")?, 2).map_err(|_| fail("InvalidAmount"))?;
    let limit = cfg
        .max_amount
        .as_deref()
        .and_then(|m| m.parse::<Decimal>().ok());
    if limit.is_some_and(|l| amount.value > l) {
        return Err(fail("AmountLimitExceeded"));
    }
    if !valid_callback(&callback) {
        return Err(fail("InvalidCallbackUrl"));
    }
    let p = st.payments.get_mut(payment_ref_id).expect("checked above");
    p.status = READY.into();
    p.amount = Some(amount);
    p.callback_url = Some(callback);
    p.additional_info = body
        .get("additionalMerchantInfo")
        .filter(|v| !v.is_null())
        .cloned();
    p.completed_ms = Some(cx.now);
    tracing::info!(payment_ref_id, amount = %p.amount.as_ref().map(|a| a.value).unwrap_or_default(), "nagad complete");
    Ok(wire::CompleteAnswer {
        status: "Success".into(),
        call_back_url: page_url(cx.origin, payment_ref_id),
    })
}

// ---------------------------------------------------------------- verify

/// `016****5428`: how verify shows the customer's number.
fn mask(wallet: &str) -> String {
    if wallet.len() < 8 {
        return "*".repeat(wallet.len());
    }
    format!("{}****{}", &wallet[..3], &wallet[wallet.len() - 4..])
}

fn amount_echo(a: &Amount, how: AmountEcho) -> String {
    match how {
        AmountEcho::AsSent => a.text.clone(),
        AmountEcho::Normalized => a.value.normalize().to_string(),
    }
}

/// `GET verify/payment/{paymentRefId}`.
pub fn verify(
    st: &NagadState,
    cx: &Ctx,
    headers: &Headers,
    payment_ref_id: &str,
) -> R<wire::VerifyAnswer> {
    let cfg = cx.cfg;
    if cfg.verify_requires_headers {
        check_headers(cfg, headers)?;
    }
    let p = st
        .payments
        .get(payment_ref_id)
        .ok_or(fail("InvalidReferenceId"))?;
    let status = p.effective_status(cx.now, cfg);
    let expired = status != p.status;
    let status_code = if expired {
        codes::EXPIRED.verify_code.to_string()
    } else {
        p.verify_code
            .clone()
            .unwrap_or_else(|| codes::IN_PROGRESS_CODE.into())
    };
    let paid = p.status == SUCCESS;
    let last_refund = p.refunds.last();
    Ok(wire::VerifyAnswer {
        merchant_id: p.merchant_id.clone(),
        order_id: p.order_id.clone(),
        payment_ref_id: p.payment_ref_id.clone(),
        amount: p.amount.as_ref().map(|a| amount_echo(a, cfg.amount_echo)),
        client_mobile_no: p.wallet.as_deref().map(mask),
        merchant_mobile_no: cfg.merchant_mobile.clone(),
        order_date_time: wire::verify_time(p.created_ms),
        issuer_payment_date_time: p.finished_ms.filter(|_| paid).map(wire::verify_time),
        issuer_payment_ref_no: p.issuer_ref.clone(),
        additional_merchant_info: p.additional_info.clone(),
        status,
        status_code,
        cancel_issuer_date_time: last_refund.map(|r| wire::verify_time(r.at_ms)),
        cancel_issuer_ref_no: last_refund.map(|r| r.cancel_trx_id.clone()),
    })
}

// ---------------------------------------------------------------- customer

/// What the simulated customer does on the page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomerInput {
    #[serde(default)]
    pub wallet: Option<String>,
    #[serde(default)]
    pub otp: Option<String>,
    #[serde(default)]
    pub pin: Option<String>,
    /// `pay` (default) or `cancel`.
    #[serde(default)]
    pub action: Option<String>,
}

/// Where the page sends the browser, and why.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerOutcome {
    pub redirect: String,
    pub status: String,
    pub status_code: String,
    pub message: String,
}

/// Why the page cannot act (no redirect happens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("unknown payment reference")]
    UnknownPayment,
    #[error("this payment has already been finished")]
    AlreadyActed,
    #[error("this payment session has expired")]
    Expired,
    #[error("{0}")]
    Invalid(String),
}

pub fn is_wallet(w: &str) -> bool {
    w.len() == 11 && w.starts_with("01") && w.bytes().all(|b| b.is_ascii_digit())
}

/// The payment a page can show: completed, not finished, not expired.
pub fn open_payment<'a>(
    st: &'a NagadState,
    cfg: &NagadConfig,
    now: u64,
    payment_ref_id: &str,
) -> Result<&'a Payment, PageError> {
    let p = st
        .payments
        .get(payment_ref_id)
        .ok_or(PageError::UnknownPayment)?;
    match p.status.as_str() {
        READY if p.is_expired(now, cfg) => Err(PageError::Expired),
        READY => Ok(p),
        // No page exists before complete.
        ORDER_INITIATED => Err(PageError::UnknownPayment),
        _ => Err(PageError::AlreadyActed),
    }
}

/// `merchantCallbackURL` with Nagad's parameters appended.
pub fn callback_redirect(p: &Payment, cfg: &NagadConfig) -> String {
    let base = p.callback_url.clone().unwrap_or_default();
    let mut pairs: Vec<(&str, String)> = vec![
        ("merchant", p.merchant_id.clone()),
        ("order_id", p.order_id.clone()),
        ("payment_ref_id", p.payment_ref_id.clone()),
        ("status", p.status.clone()),
        ("status_code", p.callback_code.clone().unwrap_or_default()),
        ("message", p.message.clone().unwrap_or_default()),
    ];
    if p.status == SUCCESS {
        pairs.push((
            "payment_dt",
            p.finished_ms.map(wire::compact_time).unwrap_or_default(),
        ));
        pairs.push((
            "issuer_payment_ref",
            p.issuer_ref.clone().unwrap_or_default(),
        ));
    }
    let mut query = String::new();
    for (k, v) in &pairs {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(k);
        query.push('=');
        if *k == "payment_ref_id" && cfg.callback_raw_ref {
            query.push_str(v);
        } else {
            query.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
        }
    }
    let sep = if base.ends_with('?') || base.ends_with('&') {
        ""
    } else if base.contains('?') {
        "&"
    } else {
        "?"
    };
    format!("{base}{sep}{query}")
}

/// The page's verdict, applied to the payment.
pub fn customer_action(
    st: &mut NagadState,
    cx: &mut Ctx,
    payment_ref_id: &str,
    input: &CustomerInput,
) -> Result<CustomerOutcome, PageError> {
    let cfg = cx.cfg;
    let p = open_payment(st, cfg, cx.now, payment_ref_id)?;
    let amount = p.amount.as_ref().map(|a| a.value).unwrap_or_default();
    let (status, ending, wallet): (&str, Ending, Option<String>) =
        match input.action.as_deref().unwrap_or("pay") {
            "cancel" => (ABORTED, codes::CANCELLED_BY_CUSTOMER, None),
            "pay" => {
                let w = input.wallet.as_deref().unwrap_or("").trim().to_string();
                if !is_wallet(&w) {
                    return Err(PageError::Invalid(
                        "Enter an 11-digit Nagad account number starting with 01".into(),
                    ));
                }
                let known = cfg.wallets.contains(&w)
                    || cfg.accept_any_wallet
                    || cfg.insufficient_balance_wallets.contains(&w)
                    || cfg.over_limit_wallets.contains(&w);
                if !known {
                    return Err(PageError::Invalid(
                        "This number has no Nagad account".into(),
                    ));
                }
                let otp_ok = input.otp.as_deref().map(str::trim) == Some(cfg.otp.as_str());
                let pin_ok = input.pin.as_deref().map(str::trim) == Some(cfg.pin.as_str());
                if !otp_ok {
                    (cfg.wrong_pin_status.as_str(), codes::WRONG_OTP, Some(w))
                } else if !pin_ok {
                    (cfg.wrong_pin_status.as_str(), codes::WRONG_PIN, Some(w))
                } else if cfg.insufficient_balance_wallets.contains(&w) {
                    (
                        cfg.insufficient_balance_status.as_str(),
                        codes::INSUFFICIENT_BALANCE,
                        Some(w),
                    )
                } else if cfg.over_limit_wallets.contains(&w) {
                    (FAILED, codes::OVER_LIMIT, Some(w))
                } else if amount <= Decimal::ZERO {
                    return Err(PageError::Invalid("Nothing to pay".into()));
                } else {
                    (SUCCESS, codes::SUCCESS, Some(w))
                }
            }
            other => return Err(PageError::Invalid(format!("unknown action {other:?}"))),
        };
    let issuer_ref = (status == SUCCESS).then(|| format!("000{}", pick(cx.rng, UPPER_ALNUM, 5)));
    let p = st.payments.get_mut(payment_ref_id).expect("checked above");
    p.finish(status, ending, cx.now);
    p.wallet = wallet;
    p.issuer_ref = issuer_ref;
    tracing::info!(
        payment_ref_id,
        status,
        code = ending.callback_code,
        "nagad page"
    );
    Ok(CustomerOutcome {
        redirect: callback_redirect(p, cfg),
        status: status.to_string(),
        status_code: ending.callback_code.into(),
        message: ending.message.into(),
    })
}

// ---------------------------------------------------------------- refund

/// `POST purchase/cancel?paymentRefId=…&orderId=…` (\[I\], behind `refund_enabled`).
pub fn cancel(
    st: &mut NagadState,
    cx: &mut Ctx,
    headers: &Headers,
    payment_ref_id: Option<&str>,
    order_id: Option<&str>,
    body: &[u8],
) -> R<wire::Sealed> {
    let cfg = cx.cfg;
    if !cfg.refund_enabled {
        return Err(Fail {
            reason: "NotFound",
            status: Some(404),
        });
    }
    if cfg.require_headers {
        check_headers(cfg, headers)?;
    }
    let key = match (payment_ref_id, order_id) {
        (Some(r), _) => st.payments.contains_key(r).then(|| r.to_string()),
        // The official sample names the order only.
        (None, Some(o)) => st
            .payments
            .values()
            .filter(|p| p.order_id == o && p.status == SUCCESS)
            .map(|p| p.payment_ref_id.clone())
            .next(),
        (None, None) => None,
    }
    .ok_or(fail("InvalidReferenceId"))?;
    let body = wire::parse_object(body).ok_or(fail("InvalidRequest"))?;
    let plain = open_signed(
        cx,
        &need(&body, &cfg.refund_body_key)?,
        &need(&body, "signature")?,
    )?;
    let p = st.payments.get(&key).expect("found above");
    if order_id.is_some_and(|o| o != p.order_id) {
        return Err(fail("InvalidOrderId"));
    }
    if need(&plain, "merchantId")? != p.merchant_id {
        return Err(fail("InvalidMerchant"));
    }
    let reference_no = need(&plain, "referenceNo")?;
    let date = need(&plain, "originalRequestDate")?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail("InvalidDateTime"));
    }
    let answer = |p: &Payment, r: &Refund| {
        let remaining = p.amount.as_ref().map(|a| a.value).unwrap_or_default() - p.refunded();
        wire::CancelAnswer {
            status: if remaining.is_zero() {
                "Refunded".into()
            } else {
                "PartialRefunded".into()
            },
            code: "000".into(),
            original_request_date: date.clone(),
            original_amount: p
                .amount
                .as_ref()
                .map(|a| a.text.clone())
                .unwrap_or_default(),
            cancel_amount: r.amount_text.clone(),
            cancel_trx_id: r.cancel_trx_id.clone(),
            reference_no: r.reference_no.clone(),
            reference_message: r.message.clone(),
        }
    };
    // The same reference again: the same refund, not a second one ([I]).
    if let Some(r) = p.refunds.iter().find(|r| r.reference_no == reference_no) {
        let a = answer(p, r);
        return Ok(seal(cx, &a));
    }
    if p.status != SUCCESS {
        return Err(fail("InvalidPaymentState"));
    }
    let paid = p.amount.as_ref().map(|a| a.value).unwrap_or_default();
    let original = parse_positive(&need(&plain, "originalAmount")?, 2)
        .map_err(|_| fail("InvalidRefundAmount"))?;
    let wanted = parse_positive(&need(&plain, "cancelAmount")?, 2)
        .map_err(|_| fail("InvalidRefundAmount"))?;
    if original.value != paid || wanted.value > paid - p.refunded() {
        return Err(fail("InvalidRefundAmount"));
    }
    let refund = Refund {
        reference_no,
        cancel_trx_id: format!("000{}", pick(cx.rng, UPPER_ALNUM, 5)),
        amount: wanted.value,
        amount_text: two_dp(wanted.value),
        message: field(&plain, "referenceMessage").unwrap_or_default(),
        at_ms: cx.now,
    };
    let p = st.payments.get_mut(&key).expect("found above");
    p.refunds.push(refund.clone());
    tracing::info!(payment_ref_id = key, amount = %refund.amount, "nagad refund");
    let a = answer(p, &refund);
    Ok(seal(cx, &a))
}
