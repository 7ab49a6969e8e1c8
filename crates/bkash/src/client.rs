//! The bKash client: settings, credentials, what bKash's answers mean
//! (envelope classification), its auth (raw `id_token` + `X-APP-Key`,
//! renewed under the token cache) and the public operations. The request
//! loop (retries for idempotent calls only, call records, redaction) is
//! `till_provider_http::Transport`'s.

use crate::error::BkashError;
use crate::status;
use crate::token::{
    token_fingerprint, Budget, LentCache, LentToken, MemoryTokenStore, StoredToken, TokenCache,
    TokenLender, TokenStore,
};
use crate::types::*;
use crate::wire;
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use till_provider_http::{
    self as http, Auth, Delivery, Endpoint, Reply, Request, RetryPolicy, SharedObserver, Transport,
    TransportSettings,
};
use url::Url;

/// The merchant's bKash credentials. `Debug` prints `***` for all four.
#[derive(Clone, PartialEq, Eq)]
pub struct BkashCredentials {
    pub username: String,
    pub password: String,
    pub app_key: String,
    pub app_secret: String,
}

impl fmt::Debug for BkashCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BkashCredentials")
            .field("username", &"***")
            .field("password", &"***")
            .field("app_key", &"***")
            .field("app_secret", &"***")
            .finish()
    }
}

/// Client settings. [`BkashSettings::new`] gives the spec's defaults.
#[derive(Clone, Debug)]
pub struct BkashSettings {
    /// Base of the v1.2.0-beta calls, path prefix included, e.g.
    /// `https://tokenized.pay.bka.sh/v1.2.0-beta` or the sandbox's `bkash_base_url()`.
    pub base_url: Url,
    /// Base of the v2 refund API, which hangs off the origin (spec §1);
    /// `None` = the origin of `base_url`.
    pub refund_base_url: Option<Url>,
    /// Whole-request timeout (bKash's guidance: 30 s; API Gateway gives up at 29 s).
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Retries of idempotent calls (grant/refresh, status, search, refund status).
    pub retry: RetryPolicy,
    /// A `Retry-After` longer than this is not waited for: the call fails
    /// with [`BkashError::RateLimited`] instead.
    pub max_retry_after: Duration,
    /// Renew the token this long before it expires (spec: around minute 50–55).
    pub refresh_margin: Duration,
    /// Token calls (grant + refresh) allowed per sliding hour (spec §5: 2).
    pub max_grants_per_hour: u32,
    /// CA certificates trusted besides the OS store (`[tls] extra_roots`).
    pub extra_roots: till_provider_http::ExtraRoots,
}

impl BkashSettings {
    /// Defaults: 30 s timeout, 10 s connect, 3 tries, 5 min refresh margin, 2 token calls per hour.
    pub fn new(base_url: Url) -> BkashSettings {
        BkashSettings {
            base_url,
            refund_base_url: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_retry_after: Duration::from_secs(30),
            refresh_margin: Duration::from_secs(300),
            max_grants_per_hour: 2,
            extra_roots: till_provider_http::ExtraRoots::none(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ep {
    Grant,
    Refresh,
    Create,
    Execute,
    Status,
    Search,
    RefundV2,
    RefundStatusV2,
}

impl Ep {
    /// The endpoint name in call records (same names as the sandbox's faults).
    pub fn name(self) -> &'static str {
        match self {
            Ep::Grant => "bkash.grant",
            Ep::Refresh => "bkash.refresh",
            Ep::Create => "bkash.create",
            Ep::Execute => "bkash.execute",
            Ep::Status => "bkash.status",
            Ep::Search => "bkash.search",
            Ep::RefundV2 => "bkash.refund_v2",
            Ep::RefundStatusV2 => "bkash.refund_status_v2",
        }
    }

    /// Calls that may be repeated without changing anything at bKash.
    /// Create is not among them (each create makes a new paymentID).
    pub fn idempotent(self) -> bool {
        matches!(
            self,
            Ep::Grant | Ep::Refresh | Ep::Status | Ep::Search | Ep::RefundStatusV2
        )
    }

    fn v2(self) -> bool {
        matches!(self, Ep::RefundV2 | Ep::RefundStatusV2)
    }

    fn token(self) -> bool {
        matches!(self, Ep::Grant | Ep::Refresh)
    }

    /// What the request loop knows of it.
    fn endpoint(self) -> Endpoint {
        let e = Endpoint::post(self.name());
        let e = if self.idempotent() { e.idempotent() } else { e };
        if self.token() {
            e.secret_answers()
        } else {
            e
        }
    }

    fn path(self) -> &'static str {
        match self {
            Ep::Grant => "tokenized/checkout/token/grant",
            Ep::Refresh => "tokenized/checkout/token/refresh",
            Ep::Create => "tokenized/checkout/create",
            Ep::Execute => "tokenized/checkout/execute",
            Ep::Status => "tokenized/checkout/payment/status",
            Ep::Search => "tokenized/checkout/general/searchTransaction",
            Ep::RefundV2 => "v2/tokenized-checkout/refund/payment/transaction",
            Ep::RefundStatusV2 => "v2/tokenized-checkout/refund/payment/status",
        }
    }
}

/// What an exchange means.
enum Verdict {
    Ok(Value),
    /// 401 / `2079`: the token was refused; `provable` = bKash logic did not run.
    TokenInvalid {
        provable: bool,
        message: String,
    },
    /// Worth another try if the call is idempotent; `err` otherwise / when out of tries.
    Retry {
        err: BkashError,
        retry_after: Option<Duration>,
    },
    Fail(BkashError),
}

/// Where a client's tokens come from.
pub(crate) enum Tokens {
    /// Granted and refreshed with the client's own credentials.
    Own(TokenCache),
    /// Lent by a [`TokenLender`] that holds the credentials.
    Lent(LentCache),
}

/// What a business call is authorised with.
pub(crate) struct Bearer {
    id_token: String,
    app_key: String,
}

/// A paymentID no payment has: asking its status shows whether bKash takes
/// a token (a refused token is answered before any lookup).
const PROBE_PAYMENT_ID: &str = "TILLTOKENPROBE";

pub(crate) struct Inner {
    /// The request loop; it also masks the credentials and tokens it knows.
    http: Transport,
    settings: BkashSettings,
    /// `None` for a client whose tokens are lent.
    creds: Option<BkashCredentials>,
    tokens: Tokens,
    base: String,
    v2_base: String,
}

/// The bKash client. Cheap to clone (an `Arc` inside); one token cache per
/// client, so make exactly one per terminal / merchant account.
#[derive(Clone)]
pub struct BkashClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for BkashClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BkashClient")
            .field("base_url", &self.inner.base)
            .finish_non_exhaustive()
    }
}

fn trim_slash(u: &Url) -> String {
    u.as_str().trim_end_matches('/').to_string()
}

impl BkashClient {
    /// A client for one merchant account, its token kept in memory. Makes no
    /// network call.
    pub fn new(
        settings: BkashSettings,
        creds: BkashCredentials,
        observer: SharedObserver,
    ) -> Result<Self, BkashError> {
        Self::with_token_store(
            settings,
            creds,
            observer,
            Arc::new(MemoryTokenStore::default()),
        )
    }

    /// A client whose token and token-call budget live in `store`, shared
    /// with every other client (in any process) on the same store.
    pub fn with_token_store(
        settings: BkashSettings,
        creds: BkashCredentials,
        observer: SharedObserver,
        store: Arc<dyn TokenStore>,
    ) -> Result<Self, BkashError> {
        let invalid = |m: &str| BkashError::Invalid { message: m.into() };
        if [
            &creds.username,
            &creds.password,
            &creds.app_key,
            &creds.app_secret,
        ]
        .iter()
        .any(|s| s.trim().is_empty())
        {
            return Err(invalid("all four bKash credentials are required"));
        }
        if settings.max_grants_per_hour == 0 {
            return Err(invalid("max_grants_per_hour must be at least 1"));
        }
        let tokens = Tokens::Own(TokenCache::new(settings.max_grants_per_hour, store));
        Self::build(settings, Some(creds), observer, tokens)
    }

    /// A client that holds no bKash credentials: every token (and the app
    /// key that goes with it) is lent by `lender`, which alone makes token
    /// calls. Makes no network call.
    pub fn with_token_lender(
        settings: BkashSettings,
        lender: Arc<dyn TokenLender>,
        observer: SharedObserver,
    ) -> Result<Self, BkashError> {
        Self::build(
            settings,
            None,
            observer,
            Tokens::Lent(LentCache::new(lender)),
        )
    }

    fn build(
        settings: BkashSettings,
        creds: Option<BkashCredentials>,
        observer: SharedObserver,
        tokens: Tokens,
    ) -> Result<Self, BkashError> {
        let invalid = |m: &str| BkashError::Invalid { message: m.into() };
        if !matches!(settings.base_url.scheme(), "http" | "https")
            || settings.base_url.host().is_none()
        {
            return Err(invalid("base_url must be an http(s) URL"));
        }
        let http = Transport::new(
            TransportSettings {
                timeout: settings.timeout,
                connect_timeout: Some(settings.connect_timeout),
                retry: settings.retry,
                max_retry_after: settings.max_retry_after,
                extra_roots: settings.extra_roots.clone(),
                ..TransportSettings::new("bkash")
            },
            observer,
        )
        .map_err(|e| BkashError::Invalid {
            message: e.to_string(),
        })?;
        let v2_base = match &settings.refund_base_url {
            Some(u) => trim_slash(u),
            None => {
                let mut o = settings.base_url.clone();
                o.set_path("/");
                o.set_query(None);
                trim_slash(&o)
            }
        };
        // Never in a record or an error.
        if let Some(c) = &creds {
            for secret in [&c.username, &c.password, &c.app_key, &c.app_secret] {
                http.pin_secret(secret);
            }
        }
        Ok(BkashClient {
            inner: Arc::new(Inner {
                http,
                base: trim_slash(&settings.base_url),
                v2_base,
                tokens,
                settings,
                creds,
            }),
        })
    }

    /// How many token calls (grant + refresh) this client has sent (none
    /// when its tokens are lent).
    pub fn token_grants(&self) -> u32 {
        match &self.inner.tokens {
            Tokens::Own(c) => c.calls(),
            Tokens::Lent(_) => 0,
        }
    }

    /// The connection test (the manager's "Test connection"): a token grant
    /// with the stored credentials, counted in the budget, or, when the budget
    /// is spent, nothing sent and the wait said. A till whose token is lent
    /// asks its lender instead. Whatever it grants becomes the current token.
    pub async fn test_grant(&self) -> Result<crate::GrantTest, BkashError> {
        match &self.inner.tokens {
            Tokens::Own(cache) => cache.grant_now(&self.inner).await,
            Tokens::Lent(l) => l.get().await.map(|_| crate::GrantTest::Borrowed),
        }
    }

    /// The API's base URL (with its version path).
    pub fn base_url(&self) -> &Url {
        &self.inner.settings.base_url
    }

    /// How many times this client asked its lender for a token (none when
    /// it holds credentials).
    pub fn tokens_borrowed(&self) -> u32 {
        match &self.inner.tokens {
            Tokens::Own(_) => 0,
            Tokens::Lent(l) => l.asked(),
        }
    }

    /// The lender's side: this client's current token and app key, to lend
    /// to a till that holds no credentials. The same cache and budget as
    /// this client's own calls, so a shop's tills together never make more
    /// token calls than one client would.
    ///
    /// `refused` is the [`token_fingerprint`](crate::token_fingerprint) of
    /// the token bKash refused to the borrower. If that is the current token,
    /// the lender asks bKash itself (a status call for a payment that does not
    /// exist, which renews the token if bKash refuses it too) instead of
    /// renewing on the borrower's word: a till that claims refusals cannot
    /// spend the merchant's token calls. An older token's refusal is answered
    /// with the current token.
    pub async fn lend_token(&self, refused: Option<&str>) -> Result<LentToken, BkashError> {
        let (Tokens::Own(cache), Some(creds)) = (&self.inner.tokens, &self.inner.creds) else {
            return Err(BkashError::Invalid {
                message: "a client with lent tokens lends none".into(),
            });
        };
        let mut t = cache.current(&self.inner).await?;
        if refused.is_some_and(|fp| fp == token_fingerprint(&t.id_token)) {
            match self.query_payment(PROBE_PAYMENT_ID).await {
                // bKash took a token (perhaps renewed on the way) and looked.
                Ok(_)
                | Err(
                    BkashError::Business { .. }
                    | BkashError::Protocol { .. }
                    | BkashError::Rejected { .. },
                ) => {}
                Err(e) => return Err(e),
            }
            t = cache.current(&self.inner).await?;
        }
        Ok(LentToken {
            id_token: t.id_token,
            app_key: creds.app_key.clone(),
            use_until: t.use_until,
        })
    }

    /// Create a one-off checkout payment (mode `0011`). Not retried once it
    /// may have reached bKash (each create makes a new paymentID); on [`BkashError::OutcomeUnknown`] create
    /// again — a paymentID nobody executes moves no money and expires.
    pub async fn create_payment(&self, req: &CreatePayment) -> Result<Created, BkashError> {
        let invalid = |m: String| BkashError::Invalid { message: m };
        if req.currency != "BDT" {
            return Err(invalid(format!(
                "bKash accepts only BDT, not {:?}",
                req.currency
            )));
        }
        let amount = wire::amount_text(req.amount).map_err(invalid)?;
        if req.invoice.is_empty()
            || req.invoice.len() > 255
            || req.invoice.contains(['<', '>', '&'])
        {
            return Err(invalid(
                "the invoice number must be 1–255 characters without <, > or &".into(),
            ));
        }
        if req.payer_reference.len() > 255 {
            return Err(invalid("payer reference longer than 255".into()));
        }
        if Url::parse(&req.callback_url).is_err() {
            return Err(invalid("callback URL is not a URL".into()));
        }
        let body = wire::CreateRequest {
            mode: "0011".into(),
            // Required for mode 0011; without a wallet number the invoice does.
            payer_reference: if req.payer_reference.trim().is_empty() {
                req.invoice.clone()
            } else {
                req.payer_reference.clone()
            },
            callback_url: req.callback_url.clone(),
            amount,
            currency: req.currency.clone(),
            intent: req.intent.clone(),
            merchant_invoice_number: req.invoice.clone(),
        };
        let want = req.amount;
        let created = self
            .inner
            .call(Ep::Create, &body, Some(&req.invoice), |v| {
                let w: wire::CreateResponse =
                    serde_json::from_value(v).map_err(|e| e.to_string())?;
                status::created(w)
            })
            .await?;
        if created.amount != want {
            return Err(BkashError::Protocol {
                endpoint: Ep::Create.name().into(),
                message: format!("create echoed amount {} for {}", created.amount, want),
            });
        }
        Ok(created)
    }

    /// Execute (the money moves here). **Never retried** once it may have
    /// reached bKash (only an attempt that provably never left, such as a
    /// refused connection, is sent again). On
    /// [`BkashError::OutcomeUnknown`] (and transient codes / already-executed)
    /// settle with [`Self::query_payment`], never by executing again. The
    /// caller must still check `transaction_status`, amount and currency.
    pub async fn execute_payment(&self, payment_id: &str) -> Result<Executed, BkashError> {
        let body = wire::PaymentIdRequest { payment_id };
        self.inner
            .call(Ep::Execute, &body, Some(payment_id), |v| {
                let w: wire::ExecuteResponse =
                    serde_json::from_value(v).map_err(|e| e.to_string())?;
                status::executed(w, payment_id)
            })
            .await
    }

    /// Payment status ("query payment"). Idempotent; retried.
    pub async fn query_payment(&self, payment_id: &str) -> Result<PaymentStatus, BkashError> {
        let body = wire::PaymentIdRequest { payment_id };
        self.inner
            .call(Ep::Status, &body, Some(payment_id), |v| {
                let w: wire::StatusResponse =
                    serde_json::from_value(v).map_err(|e| e.to_string())?;
                status::payment_status(w, payment_id)
            })
            .await
    }

    /// Search by trxID. Idempotent; retried.
    pub async fn search_transaction(&self, trx_id: &str) -> Result<SearchResult, BkashError> {
        let body = wire::SearchRequest { trx_id };
        self.inner
            .call(Ep::Search, &body, Some(trx_id), |v| {
                let w: wire::SearchResponse =
                    serde_json::from_value(v).map_err(|e| e.to_string())?;
                status::search(w, trx_id)
            })
            .await
    }

    /// Refund (full or partial) through the v2 refund API, which allows up to
    /// 10 partial refunds per transaction (v1 allows one, spec §11–12).
    /// **Never retried** once it may have reached bKash (like execute); on an
    /// unknown outcome use [`Self::refund_status`].
    pub async fn refund(&self, req: &RefundRequest) -> Result<Refunded, BkashError> {
        let invalid = |m: String| BkashError::Invalid { message: m };
        let amount = wire::amount_text(req.amount).map_err(invalid)?;
        let or_default = |s: &str| {
            if s.trim().is_empty() {
                "not_provided".to_string()
            } else {
                s.to_string()
            }
        };
        let (sku, reason) = (or_default(&req.sku), or_default(&req.reason));
        if sku.chars().count() > 255 || reason.chars().count() > 255 {
            return Err(invalid(
                "sku and reason are limited to 255 characters".into(),
            ));
        }
        let body = wire::RefundV2Request {
            payment_id: &req.payment_id,
            trx_id: &req.trx_id,
            refund_amount: amount,
            sku: &sku,
            reason: &reason,
        };
        self.inner
            .call(Ep::RefundV2, &body, Some(&req.payment_id), |v| {
                let w: wire::RefundV2Response =
                    serde_json::from_value(v).map_err(|e| e.to_string())?;
                status::refunded(w, &req.trx_id)
            })
            .await
    }

    /// Every refund made for a transaction (refund status v2). Idempotent;
    /// retried. An empty list means no refund exists.
    pub async fn refund_status(
        &self,
        payment_id: &str,
        trx_id: &str,
    ) -> Result<Vec<RefundInfo>, BkashError> {
        let body = wire::RefundStatusV2Request { payment_id, trx_id };
        self.inner
            .call(Ep::RefundStatusV2, &body, Some(payment_id), |v| {
                let w: wire::RefundStatusV2Response =
                    serde_json::from_value(v).map_err(|e| e.to_string())?;
                status::refund_infos(w)
            })
            .await
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Inner {
    fn url(&self, ep: Ep) -> String {
        let base = if ep.v2() { &self.v2_base } else { &self.base };
        format!("{base}/{}", ep.path())
    }

    /// `s` with every known secret replaced by `***`.
    pub(crate) fn scrub(&self, s: &str) -> String {
        self.http.scrub(s)
    }

    /// What an exchange means, independent of retry policy.
    fn classify(&self, ep: Ep, reply: &Reply) -> Verdict {
        let endpoint = ep.name().to_string();
        let unknown = |message: String| BkashError::OutcomeUnknown {
            endpoint: endpoint.clone(),
            message,
        };
        let garbled = |message: String| {
            if ep.idempotent() {
                BkashError::Protocol {
                    endpoint: endpoint.clone(),
                    message,
                }
            } else {
                BkashError::OutcomeUnknown {
                    endpoint: endpoint.clone(),
                    message,
                }
            }
        };
        let a = match reply {
            Reply::Failed(f) => {
                return Verdict::Retry {
                    err: match f.delivery {
                        Delivery::NotSent => BkashError::Unreachable {
                            endpoint,
                            message: f.message.clone(),
                        },
                        Delivery::Unknown => unknown(f.message.clone()),
                    },
                    retry_after: None,
                }
            }
            Reply::Answer(a) => a,
        };
        let (status, retry_after) = (a.status, a.retry_after);
        let Some(body) = a.json.as_ref().filter(|v| v.is_object()) else {
            let what = if a.body.is_empty() {
                "empty body".to_string()
            } else {
                format!("{} bytes that are not a JSON object", a.body.len())
            };
            return match status {
                429 => Verdict::Retry {
                    err: BkashError::RateLimited { retry_after },
                    retry_after,
                },
                401 => Verdict::TokenInvalid {
                    provable: false,
                    message: format!("HTTP 401 with {what}"),
                },
                500..=599 => Verdict::Retry {
                    err: unknown(format!("HTTP {status} with {what}")),
                    retry_after,
                },
                200..=299 => Verdict::Retry {
                    err: garbled(format!("HTTP {status} with {what}")),
                    retry_after: None,
                },
                _ => Verdict::Fail(BkashError::Rejected {
                    endpoint,
                    status,
                    message: what,
                }),
            };
        };
        let msg = |k: &str| text_of(body, k).map(|m| self.scrub(&m)).unwrap_or_default();
        if status == 429 {
            return Verdict::Retry {
                err: BkashError::RateLimited { retry_after },
                retry_after,
            };
        }
        if status == 401 {
            return Verdict::TokenInvalid {
                provable: body.get("message").is_some(),
                message: msg("message"),
            };
        }
        // An explicit business answer, in any of the three bKash envelopes.
        let business = if let Some(code) = text_of(body, "statusCode") {
            (code != "0000").then(|| (code, msg("statusMessage")))
        } else if let Some(code) = text_of(body, "errorCode") {
            Some((code, msg("errorMessage")))
        } else {
            text_of(body, "externalCode").map(|code| (code, msg("errorMessageEn")))
        };
        if let Some((code, message)) = business {
            if code == "2079" {
                return Verdict::TokenInvalid {
                    provable: true,
                    message,
                };
            }
            let err = BkashError::Business { code, message };
            return if err.is_transient() {
                Verdict::Retry { err, retry_after }
            } else {
                Verdict::Fail(err)
            };
        }
        match status {
            200..=299 => {
                let code = text_of(body, "statusCode");
                // A token answer may come without statusCode (spec §1:
                // some servers omit it on success); the token itself is
                // the proof then. Business calls still need "0000".
                let token_only = ep.token()
                    && code.is_none()
                    && text_of(body, "id_token").is_some_and(|t| !t.trim().is_empty());
                let success = code.as_deref() == Some("0000")
                    || token_only
                    || (ep.v2() && body.get("message").is_none());
                if success {
                    Verdict::Ok(body.clone())
                } else {
                    Verdict::Retry {
                        err: garbled(format!(
                            "HTTP {status} without statusCode{}",
                            text_of(body, "message")
                                .map(|m| format!(": {}", self.scrub(&m)))
                                .unwrap_or_default()
                        )),
                        retry_after: None,
                    }
                }
            }
            500..=599 => Verdict::Retry {
                err: unknown(format!("HTTP {status}: {}", msg("message"))),
                retry_after,
            },
            _ => Verdict::Fail(BkashError::Rejected {
                endpoint,
                status,
                message: msg("message"),
            }),
        }
    }

    /// A business call: the loop's (token, send, retry idempotent calls,
    /// renew the token once on a provable refusal, records); here what an
    /// answer means, the success body mapped.
    pub(crate) async fn call<B: Serialize, T>(
        &self,
        ep: Ep,
        body: &B,
        payment_ref: Option<&str>,
        map: impl Fn(Value) -> Result<T, String> + Sync,
    ) -> Result<T, BkashError> {
        let body = serde_json::to_value(body).map_err(|_| BkashError::Invalid {
            message: "request not serialisable".into(),
        })?;
        let req = Request::new(ep.endpoint(), self.url(ep))
            .json(body)
            .payment_ref(payment_ref);
        self.http
            .call(&req, self, |reply| self.business(ep, reply, &map))
            .await
    }

    /// [`Self::classify`] for a business call, in the loop's terms.
    fn business<T>(
        &self,
        ep: Ep,
        reply: &Reply,
        map: &impl Fn(Value) -> Result<T, String>,
    ) -> http::Verdict<T, BkashError> {
        match self.classify(ep, reply) {
            Verdict::Ok(v) => match map(v) {
                Ok(t) => http::Verdict::Done(t),
                Err(m) => http::Verdict::Retry {
                    err: if ep.idempotent() {
                        BkashError::Protocol {
                            endpoint: ep.name().into(),
                            message: self.scrub(&m),
                        }
                    } else {
                        BkashError::OutcomeUnknown {
                            endpoint: ep.name().into(),
                            message: format!("unreadable success body: {}", self.scrub(&m)),
                        }
                    },
                    retry_after: None,
                },
            },
            Verdict::Fail(e) => http::Verdict::Fail(e),
            Verdict::Retry { err, retry_after } => http::Verdict::Retry { err, retry_after },
            Verdict::TokenInvalid { provable, message } => {
                if !provable && !ep.idempotent() {
                    http::Verdict::Fail(BkashError::OutcomeUnknown {
                        endpoint: ep.name().into(),
                        message: format!("token refused in an unexpected way: {message}"),
                    })
                } else {
                    http::Verdict::Stale(BkashError::Auth {
                        message: format!("token refused: {message}"),
                    })
                }
            }
        }
    }

    /// The token (and app key) for a business call; with `stale`, bKash
    /// refused that one: renew once.
    async fn bearer(&self, stale: Option<&str>) -> Result<Bearer, BkashError> {
        match (&self.tokens, &self.creds) {
            (Tokens::Own(cache), Some(creds)) => {
                let id_token = match stale {
                    None => cache.get(self).await?,
                    Some(s) => cache.renew_after_reject(self, s).await?,
                };
                Ok(Bearer {
                    id_token,
                    app_key: creds.app_key.clone(),
                })
            }
            (Tokens::Lent(lent), _) => {
                let t = match stale {
                    None => lent.get().await?,
                    Some(s) => lent.renew_after_reject(s).await?,
                };
                // Lent secrets are scrubbed like our own.
                self.http.learn_secret(&t.id_token);
                self.http.pin_secret(&t.app_key);
                Ok(Bearer {
                    id_token: t.id_token,
                    app_key: t.app_key,
                })
            }
            (Tokens::Own(_), None) => Err(BkashError::Invalid {
                message: "no bKash credentials".into(),
            }),
        }
    }

    /// Grant (`refresh_token = None`) or refresh, with retries; each attempt
    /// that may have reached bKash is taken from `budget`. A 429 blocks the
    /// budget for the `Retry-After` (else an hour): bKash blocks the merchant
    /// for an hour past its limit, so the client must not knock again.
    pub(crate) async fn token_call(
        &self,
        refresh_token: Option<&str>,
        budget: &mut Budget,
        calls: &AtomicU32,
    ) -> Result<StoredToken, TokenFail> {
        let fail = |err: BkashError| TokenFail {
            err,
            refused: false,
        };
        let Some(creds) = &self.creds else {
            return Err(fail(BkashError::Invalid {
                message: "no bKash credentials".into(),
            }));
        };
        let (ep, body) = match refresh_token {
            Some(rt) => (
                Ep::Refresh,
                serde_json::to_value(wire::RefreshRequest {
                    app_key: &creds.app_key,
                    app_secret: &creds.app_secret,
                    refresh_token: rt,
                }),
            ),
            None => (
                Ep::Grant,
                serde_json::to_value(wire::GrantRequest {
                    app_key: &creds.app_key,
                    app_secret: &creds.app_secret,
                }),
            ),
        };
        let body = body.map_err(|_| {
            fail(BkashError::Invalid {
                message: "token request not serialisable".into(),
            })
        })?;
        let req = Request::new(ep.endpoint(), self.url(ep))
            .json(body)
            .header("username", &creds.username)
            .header("password", &creds.password);
        // The budget is spent per attempt, so the loop is made here of the
        // transport's own attempt and pause.
        let mut tries = 0u32;
        loop {
            tries += 1;
            budget.spend(calls).map_err(fail)?;
            let tried = self
                .http
                .attempt(&req, tries, |b| b, |reply| self.token_answer(ep, reply))
                .await;
            if tried.delivery == Delivery::NotSent {
                budget.refund(calls);
            }
            match tried.verdict {
                http::Verdict::Done(token) => return Ok(token),
                http::Verdict::Fail(TokenFail {
                    err: BkashError::RateLimited { retry_after },
                    ..
                }) => {
                    let pause = retry_after.unwrap_or(Duration::from_secs(3600));
                    budget.block(pause);
                    tracing::warn!(
                        endpoint = ep.name(),
                        pause_secs = pause.as_secs(),
                        "bkash refused token calls (429); pausing token calls"
                    );
                    return Err(fail(BkashError::Auth {
                        message: format!(
                            "{}: bKash refused token calls (HTTP 429, merchant blocked); no token call for {} min",
                            ep.name(),
                            pause.as_secs().div_ceil(60)
                        ),
                    }));
                }
                http::Verdict::Retry { err, retry_after } => {
                    if !self
                        .http
                        .pause(req.endpoint(), tries, retry_after, tried.delivery)
                        .await
                    {
                        return Err(err);
                    }
                }
                http::Verdict::Fail(e) | http::Verdict::Stale(e) => return Err(e),
            }
        }
    }

    /// What a token call's answer means. A 429 is final here ([`Self::token_call`]
    /// blocks the budget on it); a refusal of any kind is `refused`.
    fn token_answer(&self, ep: Ep, reply: &Reply) -> http::Verdict<StoredToken, TokenFail> {
        let fail = |err: BkashError| TokenFail {
            err,
            refused: false,
        };
        let refused = |message: String| {
            http::Verdict::Fail(TokenFail {
                err: BkashError::Auth {
                    message: format!("{}: {message}", ep.name()),
                },
                refused: true,
            })
        };
        match self.classify(ep, reply) {
            Verdict::Ok(v) => {
                let w: wire::TokenResponse = serde_json::from_value(v).unwrap_or_default();
                match status::token(w, SystemTime::now(), self.settings.refresh_margin) {
                    Some(token) => http::Verdict::Done(token),
                    None => http::Verdict::Fail(fail(BkashError::Protocol {
                        endpoint: ep.name().into(),
                        message: "token answer without id_token".into(),
                    })),
                }
            }
            Verdict::Retry {
                err: err @ BkashError::RateLimited { .. },
                ..
            } => http::Verdict::Fail(fail(err)),
            Verdict::Retry {
                err: BkashError::Business { code, message },
                ..
            }
            | Verdict::Fail(BkashError::Business { code, message }) => {
                refused(format!("{code} {message}"))
            }
            Verdict::Retry { err, retry_after } => http::Verdict::Retry {
                err: fail(err),
                retry_after,
            },
            Verdict::Fail(BkashError::Rejected {
                status, message, ..
            }) => refused(format!("HTTP {status} {message}")),
            Verdict::Fail(e) => http::Verdict::Fail(fail(e)),
            Verdict::TokenInvalid { message, .. } => refused(format!("HTTP 401 {message}")),
        }
    }
}

/// Business calls carry the raw `id_token` (no `Bearer `, spec §2.1; works
/// with and without strict_bearer) and the app key; a refused token is
/// renewed under the token cache (or asked of the lender) once.
impl Auth<BkashError> for Inner {
    type Credential = Bearer;

    async fn credential(&self) -> Result<Bearer, BkashError> {
        self.bearer(None).await
    }

    async fn renew(&self, stale: &Bearer) -> Result<Option<Bearer>, BkashError> {
        tracing::info!("bkash token refused; renewing once");
        self.bearer(Some(&stale.id_token)).await.map(Some)
    }

    fn attach(&self, t: &Bearer, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .header(reqwest::header::AUTHORIZATION, &t.id_token)
            .header("X-APP-Key", &t.app_key)
    }

    fn refused_again(&self, refusal: BkashError) -> BkashError {
        match refusal {
            BkashError::Auth { message } => BkashError::Auth {
                message: format!("bKash refused a freshly renewed token ({message})"),
            },
            other => other,
        }
    }
}

/// A failed token call; `refused` = bKash explicitly refused this request
/// (a refused refresh may be followed by a grant; a 429 block or a spent
/// budget may not).
#[derive(Debug, thiserror::Error)]
#[error("{err}")]
pub(crate) struct TokenFail {
    pub err: BkashError,
    pub refused: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client() -> BkashClient {
        BkashClient::new(
            BkashSettings::new(Url::parse("http://127.0.0.1:1/v1.2.0-beta").unwrap()),
            BkashCredentials {
                username: "user-x1".into(),
                password: "pass-x1".into(),
                app_key: "key-x1".into(),
                app_secret: "secret-x1".into(),
            },
            Arc::new(till_provider_http::NoCallLog),
        )
        .unwrap()
    }

    fn json_reply(status: u16, body: Value) -> Reply {
        Reply::Answer(http::Answer {
            status,
            headers: Default::default(),
            retry_after: None,
            body: body.to_string().into_bytes(),
            json: Some(body),
        })
    }

    #[test]
    fn envelopes() {
        let c = client();
        let i = &c.inner;
        let biz = |v: Verdict| match v {
            Verdict::Fail(BkashError::Business { code, .. }) => code,
            Verdict::Retry {
                err: BkashError::Business { code, .. },
                ..
            } => format!("retry:{code}"),
            _ => "other".into(),
        };
        // Shape 1, legacy shape 2, v2 shape 3.
        let v = i.classify(
            Ep::Execute,
            &json_reply(
                200,
                json!({"statusCode":"2023","statusMessage":"Insufficient Balance"}),
            ),
        );
        assert_eq!(biz(v), "2023");
        let v = i.classify(
            Ep::Create,
            &json_reply(
                200,
                json!({"errorCode":"2023","errorMessage":"Insufficient Balance"}),
            ),
        );
        assert_eq!(biz(v), "2023");
        let v = i.classify(Ep::RefundV2, &json_reply(400, json!({"internalCode":"transaction_not_completed","externalCode":"2127","errorMessageEn":"Transaction not yet completed","errorMessageBn":null})));
        assert_eq!(biz(v), "2127");
        // Transient codes are retried only where the call is idempotent.
        let v = i.classify(
            Ep::Status,
            &json_reply(
                200,
                json!({"statusCode":"9999","statusMessage":"System Error."}),
            ),
        );
        assert_eq!(biz(v), "retry:9999");
        // Gateway shape 4.
        assert!(matches!(
            i.classify(
                Ep::Execute,
                &json_reply(401, json!({"message":"Unauthorized"}))
            ),
            Verdict::TokenInvalid { provable: true, .. }
        ));
        assert!(matches!(
            i.classify(
                Ep::Execute,
                &json_reply(403, json!({"message":"Missing Authentication Token"}))
            ),
            Verdict::Fail(BkashError::Rejected { status: 403, .. })
        ));
        assert!(matches!(
            i.classify(
                Ep::Execute,
                &json_reply(400, json!({"message":"Invalid request body"}))
            ),
            Verdict::Fail(BkashError::Rejected { status: 400, .. })
        ));
        assert!(matches!(
            i.classify(
                Ep::Execute,
                &json_reply(504, json!({"message":"Endpoint request timed out"}))
            ),
            Verdict::Retry {
                err: BkashError::OutcomeUnknown { .. },
                ..
            }
        ));
        // Success markers: statusCode 0000, or a v2 body without one.
        assert!(matches!(
            i.classify(
                Ep::Status,
                &json_reply(200, json!({"statusCode":"0000","paymentID":"TR1"}))
            ),
            Verdict::Ok(_)
        ));
        assert!(matches!(
            i.classify(Ep::RefundV2, &json_reply(200, json!({"refundTrxId":"X"}))),
            Verdict::Ok(_)
        ));
        // A 200 without statusCode on v1 is not success.
        assert!(matches!(
            i.classify(Ep::Execute, &json_reply(200, json!({"trxID":"X"}))),
            Verdict::Retry {
                err: BkashError::OutcomeUnknown { .. },
                ..
            }
        ));
        assert!(matches!(
            i.classify(Ep::Status, &json_reply(200, json!({"trxID":"X"}))),
            Verdict::Retry {
                err: BkashError::Protocol { .. },
                ..
            }
        ));
        // Error texts are scrubbed of credentials.
        let v = i.classify(
            Ep::Execute,
            &json_reply(403, json!({"message":"Authorization=key-x1"})),
        );
        match v {
            Verdict::Fail(e) => assert!(!e.to_string().contains("key-x1"), "{e}"),
            _ => panic!(),
        }
    }

    #[test]
    fn v2_base_is_the_origin() {
        let c = client();
        assert_eq!(
            c.inner.url(Ep::RefundV2),
            "http://127.0.0.1:1/v2/tokenized-checkout/refund/payment/transaction"
        );
        assert_eq!(
            c.inner.url(Ep::Grant),
            "http://127.0.0.1:1/v1.2.0-beta/tokenized/checkout/token/grant"
        );
    }
}
