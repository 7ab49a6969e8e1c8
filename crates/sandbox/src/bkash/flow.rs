//! bKash flow logic: tokens, the payment and agreement state machines (spec
//! §14), the customer's hosted-page outcomes, refunds and search. Operates on
//! [`BkashState`] under the world lock; knows nothing of HTTP. Results are wire
//! bodies (from [`super::wire`]) or a [`Fail`].

use super::codes;
use super::wire::{self, field, RawBody};
use crate::config::{BkashConfig, DuplicateInvoice};
use crate::ids;
use crate::money::{parse_positive, two_dp, Amount};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Everything a flow step needs besides the state.
pub struct Ctx<'a> {
    pub now: u64,
    pub rng: &'a mut ChaCha8Rng,
    pub cfg: &'a BkashConfig,
    /// Public base URL of the sandbox (for `bkashURL`).
    pub origin: &'a str,
}

/// How a call fails, in the envelope its endpoint uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// HTTP 200 `{"statusCode","statusMessage"}`.
    Status(String),
    /// Same, with an explicit message (e.g. grant's identity-provider texts).
    StatusWith(String, String),
    /// API Gateway `{"message"}` with an HTTP status.
    Gateway(u16, String),
    /// v2 refund envelope, HTTP 400.
    V2(String),
}

impl Fail {
    fn code(code: &str) -> Fail {
        Fail::Status(code.to_string())
    }
}

type R<T> = Result<T, Fail>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRec {
    pub username: String,
    pub app_key: String,
    pub issued_ms: u64,
    pub expires_ms: u64,
    pub revoked: bool,
}

/// What the simulated customer did on the hosted page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Customer {
    Pending,
    Verified {
        wallet: String,
        at_ms: u64,
    },
    Failed {
        code: String,
        wallet: Option<String>,
    },
    Cancelled,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refund {
    pub refund_trx_id: String,
    /// Text as the client sent it (v1 echoes it); v2 answers two decimals.
    pub amount_text: String,
    pub amount: Decimal,
    pub sku: String,
    pub reason: String,
    pub completed_ms: u64,
    pub api: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payment {
    pub payment_id: String,
    pub mode: String,
    pub amount: Option<Amount>,
    pub currency: Option<String>,
    pub intent: Option<String>,
    pub invoice: Option<String>,
    pub payer_reference: String,
    pub callback_url: String,
    pub agreement_id: Option<String>,
    pub created_ms: u64,
    pub signature: String,
    pub page_hash: String,
    pub app_key: String,
    pub customer: Customer,
    /// `Initiated`, `Completed`, `Authorized` (`Failed`/`Cancelled` when configured).
    pub status: String,
    pub trx_id: Option<String>,
    pub executed_ms: Option<u64>,
    pub wallet: Option<String>,
    pub refunds: Vec<Refund>,
}

impl Payment {
    pub fn refunded(&self) -> Decimal {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    pub fn refundable(&self) -> Decimal {
        match (&self.amount, self.status.as_str()) {
            (Some(a), "Completed") => a.value - self.refunded(),
            _ => Decimal::ZERO,
        }
    }

    /// Status with lazy expiry applied.
    pub fn effective_status(&self, now: u64, cfg: &BkashConfig) -> String {
        if self.status == "Initiated" && now > self.created_ms + cfg.payment_ttl_secs * 1000 {
            "Expired".into()
        } else {
            self.status.clone()
        }
    }

    fn amount_text(&self) -> String {
        self.amount
            .as_ref()
            .map(|a| a.text.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agreement {
    pub agreement_id: String,
    pub payment_id: String,
    pub payer_reference: String,
    pub wallet: String,
    /// `Completed` or `Cancelled`.
    pub status: String,
    pub create_ms: u64,
    pub execute_ms: u64,
    pub void_ms: Option<u64>,
}

/// Where a trxID points.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrxRef {
    Payment { payment_id: String },
    Refund { payment_id: String, index: usize },
}

/// All bKash state of the sandbox.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BkashState {
    pub tokens: HashMap<String, TokenRec>,
    pub refresh_tokens: HashMap<String, TokenRec>,
    pub grant_log: Vec<u64>,
    /// Every token call that reached the sandbox (time, `grant`/`refresh`),
    /// for tests that count them against bKash's hourly limit.
    #[serde(default)]
    pub token_calls: Vec<(u64, String)>,
    pub blocked_until: Option<u64>,
    pub payments: HashMap<String, Payment>,
    pub agreements: HashMap<String, Agreement>,
    pub trx: HashMap<String, TrxRef>,
    /// Completed payments waiting to be notified by IPN (not persisted).
    #[serde(skip)]
    pub ipn_outbox: Vec<wire::IpnMessage>,
}

// ---------------------------------------------------------------- tokens

fn rate_limited(st: &mut BkashState, cx: &Ctx) -> R<()> {
    let cfg = cx.cfg;
    if !cfg.token_rate_limit {
        return Ok(());
    }
    if st.blocked_until.is_some_and(|until| cx.now < until) {
        return Err(blocked(cfg));
    }
    let window = cfg.token_rate_limit_window_secs * 1000;
    st.grant_log.retain(|t| cx.now < t + window);
    if st.grant_log.len() as u32 >= cfg.token_rate_limit_max {
        st.blocked_until = Some(cx.now + cfg.token_block_secs * 1000);
        return Err(blocked(cfg));
    }
    st.grant_log.push(cx.now);
    Ok(())
}

fn blocked(cfg: &BkashConfig) -> Fail {
    match &cfg.token_rate_limit_status_code {
        Some(code) => Fail::StatusWith(
            code.clone(),
            "Token request limit exceeded; merchant blocked for one hour".into(),
        ),
        None => Fail::Gateway(429, "Too Many Requests".into()),
    }
}

fn check_credentials(
    cx: &Ctx,
    username: Option<&str>,
    password: Option<&str>,
    body: &RawBody,
) -> R<()> {
    let cfg = cx.cfg;
    if username != Some(cfg.username.as_str()) {
        return Err(Fail::StatusWith(
            "9999".into(),
            "Username does not exist".into(),
        ));
    }
    if password != Some(cfg.password.as_str()) {
        return Err(Fail::StatusWith(
            "9999".into(),
            "Incorrect username or password.".into(),
        ));
    }
    if field(body, "app_key").as_deref() != Some(cfg.app_key.as_str())
        || field(body, "app_secret").as_deref() != Some(cfg.app_secret.as_str())
    {
        return Err(Fail::code("2001"));
    }
    Ok(())
}

fn issue(st: &mut BkashState, cx: &mut Ctx, refresh: Option<String>) -> wire::TokenResponse {
    let iat = cx.now / 1000;
    let ttl = cx.cfg.token_ttl_secs;
    let id_token = ids::id_token(cx.rng, &cx.cfg.username, iat, iat + ttl);
    let rec = TokenRec {
        username: cx.cfg.username.clone(),
        app_key: cx.cfg.app_key.clone(),
        issued_ms: cx.now,
        expires_ms: cx.now + ttl * 1000,
        revoked: false,
    };
    let refresh_token = refresh.unwrap_or_else(|| ids::refresh_token(cx.rng));
    st.refresh_tokens
        .entry(refresh_token.clone())
        .or_insert_with(|| rec.clone());
    st.tokens.insert(id_token.clone(), rec);
    let with_status = cx.cfg.token_status_code;
    wire::TokenResponse {
        status_code: with_status.then(|| "0000".into()),
        status_message: with_status.then(|| "Successful".into()),
        id_token,
        token_type: "Bearer".into(),
        expires_in: ttl,
        refresh_token,
    }
}

/// `POST .../token/grant`.
pub fn grant(
    st: &mut BkashState,
    cx: &mut Ctx,
    username: Option<&str>,
    password: Option<&str>,
    body: &RawBody,
) -> R<wire::TokenResponse> {
    st.token_calls.push((cx.now, "grant".into()));
    check_credentials(cx, username, password, body)?;
    rate_limited(st, cx)?;
    Ok(issue(st, cx, None))
}

/// `POST .../token/refresh`: a new id_token, the same refresh_token.
pub fn refresh(
    st: &mut BkashState,
    cx: &mut Ctx,
    username: Option<&str>,
    password: Option<&str>,
    body: &RawBody,
) -> R<wire::TokenResponse> {
    st.token_calls.push((cx.now, "refresh".into()));
    check_credentials(cx, username, password, body)?;
    let Some(rt) = field(body, "refresh_token") else {
        return Err(Fail::code("2065"));
    };
    if !st.refresh_tokens.contains_key(&rt) {
        return Err(Fail::StatusWith(
            "9999".into(),
            "Invalid Refresh Token".into(),
        ));
    }
    rate_limited(st, cx)?;
    Ok(issue(st, cx, Some(rt)))
}

/// Check the `Authorization` token of a business call. Returns the token's app key.
pub fn authenticate(st: &BkashState, now: u64, token: &str) -> Option<String> {
    let rec = st.tokens.get(token)?;
    (!rec.revoked && now < rec.expires_ms).then(|| rec.app_key.clone())
}

// ---------------------------------------------------------------- create

fn valid_callback(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn valid_tlv(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if i + 4 > b.len() || !b[i + 2].is_ascii_digit() || !b[i + 3].is_ascii_digit() {
            return false;
        }
        let len = ((b[i + 2] - b'0') * 10 + (b[i + 3] - b'0')) as usize;
        i += 4 + len;
        if i > b.len() {
            return false;
        }
    }
    !b.is_empty()
}

/// The URL the browser is sent to after the hosted page.
pub fn callback_url(p: &Payment, status: &str, cfg: &BkashConfig) -> String {
    let base = &p.callback_url;
    let sep = if base.ends_with('?') || base.ends_with('&') {
        ""
    } else if base.contains('?') {
        "&"
    } else {
        "?"
    };
    let mut url = format!("{base}{sep}paymentID={}&status={status}", p.payment_id);
    if cfg.callback_signature {
        url.push_str("&signature=");
        url.push_str(&p.signature);
    }
    if cfg.callback_api_version {
        url.push_str("&apiVersion=1.2.0-beta");
    }
    url
}

/// The hosted page URL (`paymentId` with a lower-case d, trailing `/`).
pub fn bkash_url(p: &Payment, origin: &str) -> String {
    format!(
        "{origin}/pay/bkash/?paymentId={}&hash={}&mode={}&apiVersion=v1.2.0-beta/",
        p.payment_id, p.page_hash, p.mode
    )
}

/// `POST .../create` for modes 0011, 0000 and 0001.
pub fn create(
    st: &mut BkashState,
    cx: &mut Ctx,
    app_key: &str,
    body: &RawBody,
) -> R<wire::CreateResponse> {
    let mode = field(body, "mode").ok_or(Fail::code("2065"))?;
    let callback = field(body, "callbackURL").ok_or(Fail::code("2065"))?;
    let payer_reference = field(body, "payerReference");
    let is_payment = match mode.as_str() {
        "0011" | "0001" => true,
        "0000" => false,
        _ => return Err(Fail::code("2063")),
    };
    if mode != "0001" && payer_reference.is_none() {
        return Err(Fail::code("2065"));
    }
    let (mut amount, mut currency, mut intent, mut invoice, mut agreement_id) =
        (None, None, None, None, None);
    if is_payment {
        let a = field(body, "amount").ok_or(Fail::code("2065"))?;
        let c = field(body, "currency").ok_or(Fail::code("2065"))?;
        let i = field(body, "intent").ok_or(Fail::code("2065"))?;
        let inv = field(body, "merchantInvoiceNumber").ok_or(Fail::code("2065"))?;
        if mode == "0001" {
            agreement_id = Some(field(body, "agreementID").ok_or(Fail::code("2065"))?);
        }
        amount = Some(parse_positive(&a, 2).map_err(|_| Fail::code("2006"))?);
        if c != "BDT" {
            return Err(Fail::code("2007"));
        }
        if !matches!(i.to_ascii_lowercase().as_str(), "sale" | "authorization") {
            return Err(Fail::code("2008"));
        }
        if inv.len() > 255 || inv.contains(['<', '>', '&']) {
            return Err(Fail::code("2031"));
        }
        currency = Some(c);
        intent = Some(i);
        invoice = Some(inv);
    }
    if !valid_callback(&callback) {
        return Err(Fail::code("2049"));
    }
    if payer_reference.as_ref().is_some_and(|p| p.len() > 255) {
        return Err(Fail::code("2048"));
    }
    if let Some(tlv) = field(body, "merchantAssociationInfo") {
        if is_payment && !valid_tlv(&tlv) {
            return Err(Fail::code("2047"));
        }
    }
    if let Some(aid) = &agreement_id {
        let ag = st.agreements.get(aid).ok_or(Fail::code("2051"))?;
        match ag.status.as_str() {
            "Completed" => {}
            "Cancelled" => return Err(Fail::code("2053")),
            _ => return Err(Fail::code("2052")),
        }
    }
    if let (Some(inv), DuplicateInvoice::Create) = (&invoice, cx.cfg.duplicate_invoice) {
        if duplicate_invoice(st, cx, inv, None) {
            return Err(Fail::code("2029"));
        }
    }
    let payment_id = ids::payment_id(cx.rng, &mode, cx.now);
    let p = Payment {
        payment_id: payment_id.clone(),
        mode: mode.clone(),
        amount,
        currency,
        intent,
        invoice,
        payer_reference: payer_reference
            .or_else(|| {
                agreement_id
                    .as_ref()
                    .and_then(|a| st.agreements.get(a))
                    .map(|a| a.payer_reference.clone())
            })
            .unwrap_or_default(),
        callback_url: callback,
        agreement_id,
        created_ms: cx.now,
        signature: ids::signature(cx.rng),
        page_hash: ids::page_hash(cx.rng, cx.now),
        app_key: app_key.to_string(),
        customer: Customer::Pending,
        status: "Initiated".into(),
        trx_id: None,
        executed_ms: None,
        wallet: None,
        refunds: Vec::new(),
    };
    let time = wire::time(cx.now);
    let resp = wire::CreateResponse {
        status_code: "0000".into(),
        status_message: "Successful".into(),
        payment_id: payment_id.clone(),
        bkash_url: bkash_url(&p, cx.origin),
        callback_url: p.callback_url.clone(),
        success_callback_url: callback_url(&p, "success", cx.cfg),
        failure_callback_url: callback_url(&p, "failure", cx.cfg),
        cancelled_callback_url: callback_url(&p, "cancel", cx.cfg),
        amount: is_payment.then(|| p.amount_text()),
        intent: p.intent.clone(),
        currency: p.currency.clone(),
        agreement_id: p.agreement_id.clone(),
        payment_create_time: is_payment.then(|| time.clone()),
        transaction_status: is_payment.then(|| "Initiated".into()),
        merchant_invoice_number: p.invoice.clone(),
        payer_reference: (!is_payment).then(|| p.payer_reference.clone()),
        agreement_status: (!is_payment).then(|| "Initiated".into()),
        agreement_create_time: (!is_payment).then_some(time),
    };
    tracing::info!(payment_id, mode, "bkash create");
    st.payments.insert(payment_id, p);
    Ok(resp)
}

fn duplicate_invoice(st: &BkashState, cx: &Ctx, invoice: &str, except: Option<&str>) -> bool {
    let window = cx.cfg.duplicate_window_secs * 1000;
    window > 0
        && st.payments.values().any(|q| {
            Some(q.payment_id.as_str()) != except
                && q.invoice.as_deref() == Some(invoice)
                && match &q.customer {
                    Customer::Verified { at_ms, .. } => cx.now < at_ms + window,
                    Customer::Pending => except.is_none() && cx.now < q.created_ms + window,
                    _ => false,
                }
        })
}

// ---------------------------------------------------------------- customer

/// What the simulated customer does on the hosted page.
#[derive(Debug, Clone, Deserialize)]
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

/// Result of the hosted page.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerOutcome {
    pub redirect: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Why the page cannot act at all (no redirect happens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("unknown paymentID")]
    UnknownPayment,
    #[error("this payment has already been completed on the checkout page")]
    AlreadyActed,
    #[error("this payment has expired")]
    Expired,
    #[error("{0}")]
    Invalid(String),
}

fn is_wallet(w: &str) -> bool {
    w.len() == 11 && w.starts_with("01") && w.bytes().all(|b| b.is_ascii_digit())
}

/// The hosted page's verdict, applied to the payment.
pub fn customer_action(
    st: &mut BkashState,
    cx: &mut Ctx,
    payment_id: &str,
    input: &CustomerInput,
) -> Result<CustomerOutcome, PageError> {
    let cfg = cx.cfg;
    let p = st
        .payments
        .get(payment_id)
        .ok_or(PageError::UnknownPayment)?;
    if p.customer != Customer::Pending || p.status != "Initiated" {
        return Err(PageError::AlreadyActed);
    }
    if p.effective_status(cx.now, cfg) == "Expired" {
        return Err(PageError::Expired);
    }
    let action = input.action.as_deref().unwrap_or("pay");
    let verdict: Result<String, (String, Option<String>)> = match action {
        "cancel" => Err(("cancel".into(), None)),
        "pay" => {
            let wallet = if p.mode == "0001" {
                let ag = p.agreement_id.as_ref().and_then(|a| st.agreements.get(a));
                ag.map(|a| a.wallet.clone()).unwrap_or_default()
            } else {
                let w = input.wallet.as_deref().unwrap_or("").trim().to_string();
                if !is_wallet(&w) {
                    return Err(PageError::Invalid(
                        "enter an 11-digit bKash wallet number starting with 01".into(),
                    ));
                }
                w
            };
            let otp_ok = p.mode == "0001" || input.otp.as_deref().map(str::trim) == Some(&cfg.otp);
            let pin_ok = input.pin.as_deref().map(str::trim) == Some(&cfg.pin);
            let amount = p.amount.as_ref().map(|a| a.value);
            let window = cfg.duplicate_window_secs * 1000;
            let dup_payer = window > 0
                && cfg.duplicate_payer_amount
                && amount.is_some()
                && st.payments.values().any(|q| {
                    q.payment_id != p.payment_id
                        && q.amount.as_ref().map(|a| a.value) == amount
                        && matches!(&q.customer, Customer::Verified { wallet: w, at_ms } if *w == wallet && cx.now < at_ms + window)
                });
            let dup_invoice = cfg.duplicate_invoice == DuplicateInvoice::Page
                && p.invoice
                    .as_deref()
                    .is_some_and(|inv| duplicate_invoice(st, cx, inv, Some(payment_id)));
            let known = cfg.wallets.contains(&wallet)
                || cfg.accept_any_wallet
                || cfg.insufficient_balance_wallets.contains(&wallet)
                || cfg.debit_block_wallets.contains(&wallet);
            if !known {
                Err(("2057".into(), Some(wallet)))
            } else if !otp_ok {
                Err(("2010".into(), Some(wallet)))
            } else if !pin_ok {
                Err(("2014".into(), Some(wallet)))
            } else if p.amount.is_some() && cfg.insufficient_balance_wallets.contains(&wallet) {
                Err(("2023".into(), Some(wallet)))
            } else if p.amount.is_some() && cfg.debit_block_wallets.contains(&wallet) {
                Err((cfg.debit_block_code.clone(), Some(wallet)))
            } else if dup_payer || dup_invoice {
                Err(("2029".into(), Some(wallet)))
            } else {
                Ok(wallet)
            }
        }
        other => return Err(PageError::Invalid(format!("unknown action {other:?}"))),
    };
    let p = st.payments.get_mut(payment_id).expect("checked above");
    let outcome = match verdict {
        Ok(wallet) => {
            p.customer = Customer::Verified {
                wallet,
                at_ms: cx.now,
            };
            CustomerOutcome {
                redirect: callback_url(p, "success", cfg),
                status: "success".into(),
                code: None,
                message: None,
            }
        }
        Err((code, _)) if code == "cancel" => {
            p.customer = Customer::Cancelled;
            if cfg.show_failed_status {
                p.status = "Cancelled".into();
            }
            CustomerOutcome {
                redirect: callback_url(p, "cancel", cfg),
                status: "cancel".into(),
                code: None,
                message: None,
            }
        }
        Err((code, wallet)) => {
            p.customer = Customer::Failed {
                code: code.clone(),
                wallet,
            };
            if cfg.show_failed_status {
                p.status = "Failed".into();
            }
            CustomerOutcome {
                redirect: callback_url(p, "failure", cfg),
                status: "failure".into(),
                message: Some(codes::message(&code).into()),
                code: Some(code),
            }
        }
    };
    tracing::info!(payment_id, status = outcome.status, code = ?outcome.code, "bkash hosted page");
    Ok(outcome)
}

// ---------------------------------------------------------------- execute

/// Answer of execute: a payment or an agreement body.
#[derive(Debug, Clone)]
pub enum Executed {
    Payment(wire::ExecutePaymentResponse),
    Agreement(wire::ExecuteAgreementResponse),
}

/// `POST .../execute`.
pub fn execute(st: &mut BkashState, cx: &mut Ctx, body: &RawBody) -> R<Executed> {
    let cfg = cx.cfg;
    let id = field(body, "paymentID").ok_or(Fail::code("2065"))?;
    let p = st.payments.get(&id).ok_or(Fail::code("2002"))?;
    if p.mode == "0000" {
        if p.agreement_id.is_some() {
            return Err(Fail::code("2116"));
        }
        if p.effective_status(cx.now, cfg) == "Expired" {
            return Err(Fail::Status(cfg.expired_execute_code.clone()));
        }
        let Customer::Verified { wallet, .. } = p.customer.clone() else {
            return Err(Fail::code("2054"));
        };
        let agreement_id = ids::agreement_id(cx.rng, cx.now);
        let ag = Agreement {
            agreement_id: agreement_id.clone(),
            payment_id: id.clone(),
            payer_reference: p.payer_reference.clone(),
            wallet: wallet.clone(),
            status: "Completed".into(),
            create_ms: p.created_ms,
            execute_ms: cx.now,
            void_ms: None,
        };
        let p = st.payments.get_mut(&id).expect("present");
        p.agreement_id = Some(agreement_id.clone());
        p.status = "Completed".into();
        p.executed_ms = Some(cx.now);
        p.wallet = Some(wallet.clone());
        let resp = wire::ExecuteAgreementResponse {
            status_code: "0000".into(),
            status_message: "Successful".into(),
            payment_id: id,
            agreement_id: agreement_id.clone(),
            payer_reference: ag.payer_reference.clone(),
            agreement_execute_time: wire::time(cx.now),
            agreement_status: "Completed".into(),
            customer_msisdn: wallet,
        };
        st.agreements.insert(agreement_id, ag);
        return Ok(Executed::Agreement(resp));
    }
    match p.effective_status(cx.now, cfg).as_str() {
        "Completed" | "Authorized" => return Err(Fail::Status(cfg.repeat_execute_code.clone())),
        "Expired" => return Err(Fail::Status(cfg.expired_execute_code.clone())),
        _ => {}
    }
    let Customer::Verified { wallet, .. } = p.customer.clone() else {
        return Err(Fail::code("2056"));
    };
    if let Some(ag) = p.agreement_id.as_ref().and_then(|a| st.agreements.get(a)) {
        if ag.status == "Cancelled" {
            return Err(Fail::code("2053"));
        }
    }
    let trx_id = ids::trx_id(cx.rng);
    let p = st.payments.get_mut(&id).expect("present");
    p.status = if p.intent.as_deref() == Some("authorization") {
        "Authorized".into()
    } else {
        "Completed".into()
    };
    p.trx_id = Some(trx_id.clone());
    p.executed_ms = Some(cx.now);
    p.wallet = Some(wallet.clone());
    let resp = wire::ExecutePaymentResponse {
        status_code: "0000".into(),
        status_message: "Successful".into(),
        payment_id: id.clone(),
        agreement_id: p.agreement_id.clone(),
        trx_id: trx_id.clone(),
        transaction_status: p.status.clone(),
        amount: p.amount_text(),
        currency: p.currency.clone().unwrap_or_default(),
        intent: p.intent.clone().unwrap_or_default(),
        payment_execute_time: wire::time(cx.now),
        merchant_invoice_number: p.invoice.clone().unwrap_or_default(),
        payer_type: "Customer".into(),
        payer_reference: p.payer_reference.clone(),
        customer_msisdn: wallet.clone(),
        payer_account: wallet.clone(),
        max_refundable_amount: p.amount_text(),
    };
    st.ipn_outbox.push(wire::IpnMessage {
        date_time: wire::ipn_time(cx.now),
        debit_msisdn: format!("88{wallet}"),
        credit_organization_name: cfg.merchant_name.clone(),
        credit_short_code: mask(&cfg.merchant_wallet),
        trx_id: trx_id.clone(),
        transaction_status: "Completed".into(),
        transaction_type: "10002294".into(),
        amount: p
            .amount
            .as_ref()
            .map(|a| a.value.normalize().to_string())
            .unwrap_or_default(),
        currency: "BDT".into(),
        transaction_reference: String::new(),
        merchant_invoice_number: p.invoice.clone().unwrap_or_default(),
    });
    st.trx.insert(
        trx_id,
        TrxRef::Payment {
            payment_id: id.clone(),
        },
    );
    tracing::info!(payment_id = id, "bkash execute");
    Ok(Executed::Payment(resp))
}

fn mask(wallet: &str) -> String {
    let keep: String = wallet
        .chars()
        .take(wallet.len().saturating_sub(3))
        .collect();
    format!("{keep}***")
}

// ---------------------------------------------------------------- status, search

/// `POST .../payment/status`.
pub fn status(st: &BkashState, cx: &Ctx, body: &RawBody) -> R<wire::StatusResponse> {
    let id = field(body, "paymentID").ok_or(Fail::code("2065"))?;
    let p = st.payments.get(&id).ok_or(Fail::code("2002"))?;
    let verification = match p.customer {
        Customer::Verified { .. } => "Complete",
        _ => "Incomplete",
    };
    let ag = p.agreement_id.as_ref().and_then(|a| st.agreements.get(a));
    let mut r = wire::StatusResponse {
        status_code: "0000".into(),
        status_message: "Successful".into(),
        payment_id: id.clone(),
        mode: p.mode.clone(),
        verification_status: verification.into(),
        payer_reference: p.payer_reference.clone(),
        ..Default::default()
    };
    if p.mode == "0000" {
        r.payer_account = Some(
            p.wallet
                .clone()
                .unwrap_or_else(|| p.payer_reference.clone()),
        );
        r.payer_type = Some("Customer".into());
        r.agreement_create_time = Some(wire::time(p.created_ms));
        match ag {
            Some(ag) => {
                r.agreement_id = Some(ag.agreement_id.clone());
                r.agreement_status = Some(ag.status.clone());
                r.agreement_execute_time = Some(wire::time(ag.execute_ms));
            }
            None => r.agreement_status = Some("Initiated".into()),
        }
        return Ok(r);
    }
    r.payment_create_time = Some(wire::time(p.created_ms));
    r.payment_execute_time = p.executed_ms.map(wire::time);
    r.amount = Some(p.amount_text());
    r.currency = p.currency.clone();
    r.intent = p.intent.clone();
    r.merchant_invoice = p.invoice.clone();
    r.trx_id = p.trx_id.clone();
    r.transaction_status = Some(p.effective_status(cx.now, cx.cfg));
    if let Some(ag) = ag {
        r.agreement_id = Some(ag.agreement_id.clone());
        r.agreement_status = Some(ag.status.clone());
        r.agreement_create_time = Some(wire::time(ag.create_ms));
        r.agreement_execute_time = Some(wire::time(ag.execute_ms));
    }
    Ok(r)
}

/// `POST .../general/searchTransaction`.
pub fn search(st: &BkashState, cx: &Ctx, body: &RawBody) -> R<wire::SearchResponse> {
    let trx = field(body, "trxID").ok_or(Fail::code("2065"))?;
    let not_found = || Fail::Status(cx.cfg.search_not_found_code.clone());
    let r = st.trx.get(&trx).ok_or_else(not_found)?;
    let mut resp = wire::SearchResponse {
        trx_id: trx.clone(),
        organization_short_code: cx.cfg.short_code.clone(),
        currency: "BDT".into(),
        transaction_status: "Completed".into(),
        status_code: "0000".into(),
        status_message: "Successful".into(),
        ..Default::default()
    };
    match r {
        TrxRef::Payment { payment_id } => {
            let p = st.payments.get(payment_id).ok_or_else(not_found)?;
            let wallet = p.wallet.clone().unwrap_or_default();
            let at = p.executed_ms.unwrap_or(p.created_ms);
            resp.initiation_time = wire::time_whole_seconds(at);
            resp.completed_time = wire::time_whole_seconds(at);
            resp.transaction_type = "bKash Tokenized Checkout via API".into();
            resp.customer_msisdn = wallet.clone();
            resp.payer_account = wallet;
            resp.payer_type = Some("Customer".into());
            resp.amount = p.amount_text();
            resp.service_fee = Some("0.00".into());
            resp.credited_amount = Some(p.amount_text());
            resp.max_refundable_amount = Some(two_dp(p.refundable()));
        }
        TrxRef::Refund { payment_id, index } => {
            let p = st.payments.get(payment_id).ok_or_else(not_found)?;
            let rf = p.refunds.get(*index).ok_or_else(not_found)?;
            let wallet = p.wallet.clone().unwrap_or_default();
            resp.initiation_time = wire::time_whole_seconds(rf.completed_ms);
            resp.completed_time = wire::time_whole_seconds(rf.completed_ms);
            resp.transaction_type = "bKash Tokenized Checkout Refund via API".into();
            resp.customer_msisdn = wallet.clone();
            resp.payer_account = wallet;
            resp.amount = two_dp(rf.amount);
            resp.original_trx_amount = Some(two_dp(
                p.amount.as_ref().map(|a| a.value).unwrap_or_default(),
            ));
        }
    }
    Ok(resp)
}

// ---------------------------------------------------------------- refunds

struct RefundAsk {
    payment_id: String,
    trx_id: String,
    amount: Option<String>,
    sku: Option<String>,
    reason: Option<String>,
}

fn refund_checks(st: &BkashState, cx: &Ctx, ask: &RefundAsk) -> Result<(), String> {
    let p = st.payments.get(&ask.payment_id).ok_or("2002")?;
    if p.status != "Completed" {
        return Err("2127".into());
    }
    if p.trx_id.as_deref() != Some(ask.trx_id.as_str()) {
        return Err("2077".into());
    }
    let executed = p.executed_ms.unwrap_or(p.created_ms);
    if cx.now > executed + cx.cfg.refund_window_days * 86_400_000 {
        return Err("2071".into());
    }
    Ok(())
}

fn do_refund(
    st: &mut BkashState,
    cx: &mut Ctx,
    ask: &RefundAsk,
    api: &str,
    max: u32,
) -> Result<(String, Refund), String> {
    refund_checks(st, cx, ask)?;
    let text = ask.amount.clone().ok_or("2065")?;
    let amount = parse_positive(&text, 2).map_err(|_| "2072")?;
    let sku = ask.sku.clone().unwrap_or_default();
    let reason = ask.reason.clone().unwrap_or_default();
    if sku.chars().count() > 255 {
        return Err("2075".into());
    }
    if reason.chars().count() > 255 {
        return Err("2076".into());
    }
    let p = st.payments.get(&ask.payment_id).expect("checked");
    let original = p.amount.as_ref().map(|a| a.value).unwrap_or_default();
    if amount.value > original {
        return Err("2026".into());
    }
    // v1 counts its own refunds ("one per transaction"); v2 counts them all.
    let made = p
        .refunds
        .iter()
        .filter(|r| api == "v2" || r.api == api)
        .count();
    if made as u32 >= max {
        return Err("2074".into());
    }
    if amount.value > p.refundable() {
        return Err("2072".into());
    }
    let refund_trx_id = ids::refund_trx_id(cx.rng, &ask.trx_id);
    let rf = Refund {
        refund_trx_id: refund_trx_id.clone(),
        amount_text: amount.text,
        amount: amount.value,
        sku,
        reason,
        completed_ms: cx.now,
        api: api.into(),
    };
    let p = st.payments.get_mut(&ask.payment_id).expect("checked");
    p.refunds.push(rf.clone());
    let index = p.refunds.len() - 1;
    st.trx.insert(
        refund_trx_id.clone(),
        TrxRef::Refund {
            payment_id: ask.payment_id.clone(),
            index,
        },
    );
    tracing::info!(
        payment_id = ask.payment_id,
        refund_trx_id,
        api,
        "bkash refund"
    );
    Ok((ask.trx_id.clone(), rf))
}

fn v1_body(original: &str, rf: &Refund) -> wire::RefundV1Response {
    wire::RefundV1Response {
        status_code: "0000".into(),
        status_message: "Successful".into(),
        original_trx_id: original.to_string(),
        refund_trx_id: rf.refund_trx_id.clone(),
        transaction_status: "Completed".into(),
        amount: rf.amount_text.clone(),
        currency: "BDT".into(),
        charge: "0.00".into(),
        completed_time: wire::time(rf.completed_ms),
    }
}

/// `POST .../payment/refund`: a refund when `amount` is present, else refund status.
pub fn refund_v1(st: &mut BkashState, cx: &mut Ctx, body: &RawBody) -> R<wire::RefundV1Response> {
    let ask = RefundAsk {
        payment_id: field(body, "paymentID").ok_or(Fail::code("2065"))?,
        trx_id: field(body, "trxID").ok_or(Fail::code("2065"))?,
        amount: field(body, "amount"),
        sku: field(body, "sku"),
        reason: field(body, "reason"),
    };
    if ask.amount.is_none() {
        let p = st.payments.get(&ask.payment_id).ok_or(Fail::code("2002"))?;
        if p.trx_id.as_deref() != Some(ask.trx_id.as_str()) {
            return Err(Fail::code("2077"));
        }
        let rf = p
            .refunds
            .last()
            .ok_or_else(|| Fail::Status(cx.cfg.refund_status_none_code.clone()))?;
        return Ok(v1_body(&ask.trx_id, rf));
    }
    if cx.cfg.refund_requires_sku_reason && (ask.sku.is_none() || ask.reason.is_none()) {
        return Err(Fail::Gateway(400, "Invalid request body".into()));
    }
    let max = cx.cfg.refund_v1_max;
    let (original, rf) = do_refund(st, cx, &ask, "v1", max).map_err(Fail::Status)?;
    Ok(v1_body(&original, &rf))
}

/// `POST /v2/tokenized-checkout/refund/payment/transaction`.
pub fn refund_v2(st: &mut BkashState, cx: &mut Ctx, body: &RawBody) -> R<wire::RefundV2Response> {
    let ask = RefundAsk {
        payment_id: field(body, "paymentId").ok_or(Fail::V2("2065".into()))?,
        trx_id: field(body, "trxId").ok_or(Fail::V2("2065".into()))?,
        amount: Some(field(body, "refundAmount").ok_or(Fail::V2("2065".into()))?),
        sku: field(body, "sku"),
        reason: field(body, "reason"),
    };
    let max = cx.cfg.refund_v2_max;
    let (original, rf) = do_refund(st, cx, &ask, "v2", max).map_err(Fail::V2)?;
    let p = &st.payments[&ask.payment_id];
    Ok(wire::RefundV2Response {
        original_trx_id: original,
        refund_trx_id: rf.refund_trx_id,
        refund_transaction_status: "Completed".into(),
        original_trx_amount: two_dp(p.amount.as_ref().map(|a| a.value).unwrap_or_default()),
        refund_amount: two_dp(rf.amount),
        currency: "BDT".into(),
        completed_time: wire::time(rf.completed_ms),
        sku: rf.sku,
        reason: rf.reason,
    })
}

/// `POST /v2/tokenized-checkout/refund/payment/status`.
pub fn refund_status_v2(
    st: &BkashState,
    cx: &Ctx,
    body: &RawBody,
) -> R<wire::RefundStatusV2Response> {
    let payment_id = field(body, "paymentId").ok_or(Fail::V2("2065".into()))?;
    let trx_id = field(body, "trxId").ok_or(Fail::V2("2065".into()))?;
    let p = st
        .payments
        .get(&payment_id)
        .ok_or(Fail::V2("2002".into()))?;
    if p.trx_id.as_deref() != Some(trx_id.as_str()) {
        return Err(Fail::V2(
            if p.status == "Completed" {
                "2077"
            } else {
                "2127"
            }
            .into(),
        ));
    }
    let _ = cx;
    let p = &st.payments[&payment_id];
    Ok(wire::RefundStatusV2Response {
        original_trx_id: trx_id,
        original_trx_amount: two_dp(p.amount.as_ref().map(|a| a.value).unwrap_or_default()),
        original_trx_completed_time: wire::time_whole_seconds(
            p.executed_ms.unwrap_or(p.created_ms),
        ),
        refund_transactions: p
            .refunds
            .iter()
            .map(|r| wire::RefundV2Item {
                refund_trx_id: r.refund_trx_id.clone(),
                refund_transaction_status: "Completed".into(),
                refund_amount: two_dp(r.amount),
                completed_time: wire::time_no_offset(r.completed_ms),
            })
            .collect(),
    })
}

// ---------------------------------------------------------------- agreements

/// `POST .../agreement/status`.
pub fn agreement_status(st: &BkashState, body: &RawBody) -> R<wire::AgreementStatusResponse> {
    let id = field(body, "agreementID").ok_or(Fail::code("2065"))?;
    let ag = st.agreements.get(&id).ok_or(Fail::code("2051"))?;
    Ok(wire::AgreementStatusResponse {
        status_code: "0000".into(),
        status_message: "Successful".into(),
        agreement_id: id,
        payment_id: ag.payment_id.clone(),
        agreement_status: ag.status.clone(),
        agreement_create_time: wire::time(ag.create_ms),
        agreement_execute_time: wire::time(ag.execute_ms),
        agreement_void_time: ag.void_ms.map(wire::time),
        payer_reference: ag.payer_reference.clone(),
        customer_msisdn: ag.wallet.clone(),
    })
}

/// `POST .../agreement/cancel`.
pub fn agreement_cancel(
    st: &mut BkashState,
    cx: &Ctx,
    body: &RawBody,
) -> R<wire::AgreementCancelResponse> {
    let id = field(body, "agreementID").ok_or(Fail::code("2065"))?;
    let ag = st.agreements.get_mut(&id).ok_or(Fail::code("2051"))?;
    if ag.status == "Cancelled" {
        return Err(Fail::code("2053"));
    }
    ag.status = "Cancelled".into();
    ag.void_ms = Some(cx.now);
    tracing::info!(agreement_id = id, "bkash agreement cancelled");
    Ok(wire::AgreementCancelResponse {
        status_code: "0000".into(),
        status_message: "Successful".into(),
        payment_id: ag.payment_id.clone(),
        agreement_id: id,
        payer_reference: ag.payer_reference.clone(),
        agreement_void_time: wire::time(cx.now),
        agreement_status: "Cancelled".into(),
    })
}
