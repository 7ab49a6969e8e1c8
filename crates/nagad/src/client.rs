//! The Nagad client: settings, credentials, what Nagad's answers mean
//! ([`classify`]: its refusals, what may have been acted on) and the
//! operations, each sealed and signed here. The request loop (send, retry
//! verify, call records, redaction) is `till_provider_http::Transport`'s:
//! verify is its only idempotent endpoint, so only verify is retried once
//! Nagad may have received it.

use crate::crypto::{CryptoError, MerchantPrivateKey, NagadPublicKey};
use crate::error::{Cause, Endpoint, Invalid, NagadError, Problem};
use crate::status::{self, PaymentStatus, RefundStatus};
use crate::types::*;
use crate::wire::{self, header};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use till_provider_http::{
    self as http, Delivery, ExtraRoots, Mask, NoAuth, Reply, Request, RetryPolicy, SharedObserver,
    Transport, TransportSettings, Verdict, SECRET_KEYS,
};
use url::Url;

/// Longest order id the client sends (Nagad publishes no limit, \[?\]).
pub const ORDER_ID_MAX: usize = 40;

/// Provider name in call records.
pub const PROVIDER: &str = "nagad";

/// Body keys whose values never reach a call record (besides
/// [`SECRET_KEYS`]): ciphertexts, signatures, challenges.
pub const NAGAD_SECRET_KEYS: &[&str] = &[
    "sensitiveData",
    "sensitiveDataCancelRequest",
    "signature",
    "challenge",
];

/// Every key redacted in call records: [`SECRET_KEYS`] and [`NAGAD_SECRET_KEYS`].
const REDACT_KEYS: &[&str] =
    &concat::<{ SECRET_KEYS.len() + NAGAD_SECRET_KEYS.len() }>(SECRET_KEYS, NAGAD_SECRET_KEYS);

/// `a` then `b`, as one array of `N` (their lengths' sum).
const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = if i < a.len() { a[i] } else { b[i - a.len()] };
        i += 1;
    }
    out
}

/// Body keys holding a customer's phone number: masked in call records.
const PHONE_KEYS: &[(&str, Mask)] = &[("clientMobileNo", mask_msisdn)];

/// The merchant's Nagad credentials. `Debug` shows the merchant id only.
#[derive(Clone)]
pub struct NagadCredentials {
    /// Nagad's merchant id (digits, e.g. 15 of them).
    pub merchant_id: String,
    pub merchant_key: MerchantPrivateKey,
    pub nagad_key: NagadPublicKey,
    /// The merchant's wallet number, sent as initialize's optional
    /// `accountNumber`.
    pub merchant_number: Option<String>,
}

impl fmt::Debug for NagadCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NagadCredentials")
            .field("merchant_id", &self.merchant_id)
            .field("merchant_key", &"***")
            .field("nagad_key", &"***")
            .field(
                "merchant_number",
                &self.merchant_number.as_deref().map(mask_msisdn),
            )
            .finish()
    }
}

/// Client settings. [`NagadSettings::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct NagadSettings {
    /// The API base, e.g.
    /// `http://sandbox.mynagad.com:10080/remote-payment-gateway-1.0/api/dfs`,
    /// `https://api.mynagad.com/api/dfs`, or the sandbox's `nagad_base_url()`.
    pub base_url: Url,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Tries of verify (the only idempotent call), and of any call whose
    /// attempt provably never left (a refused connection).
    pub retry: RetryPolicy,
    /// A `Retry-After` longer than this is not waited for.
    pub max_retry_after: Duration,
    /// `X-KM-IP-V4`: the address the payment is made from (the terminal's).
    pub client_ip: String,
    /// `X-KM-Client-Type` (`PC_WEB`, `MOBILE_WEB`, `MOBILE_APP`, …).
    pub client_type: String,
    /// Check Nagad's signature over sealed answers (spec §3, \[I\]). Only a
    /// real Nagad that signs differently should make anyone turn it off.
    pub verify_signatures: bool,
    /// CA certificates trusted besides the OS store (`[tls] extra_roots`).
    pub extra_roots: ExtraRoots,
}

impl NagadSettings {
    /// Defaults: 30 s timeout, 10 s connect, 3 tries of verify, `PC_WEB`.
    pub fn new(base_url: Url) -> NagadSettings {
        NagadSettings {
            base_url,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            max_retry_after: Duration::from_secs(30),
            client_ip: "127.0.0.1".into(),
            client_type: "PC_WEB".into(),
            verify_signatures: true,
            extra_roots: ExtraRoots::none(),
        }
    }
}

struct Inner {
    /// The request loop (send, time, record, redact, retry verify).
    http: Transport,
    settings: NagadSettings,
    creds: NagadCredentials,
}

/// The Nagad client. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct NagadClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for NagadClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NagadClient")
            .field("base_url", &self.inner.settings.base_url.as_str())
            .field("merchant_id", &self.inner.creds.merchant_id)
            .finish_non_exhaustive()
    }
}

fn valid_order_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= ORDER_ID_MAX
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn http_url(s: &str) -> Option<Url> {
    Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// 20 random bytes as hex: our challenge.
fn challenge() -> String {
    use rsa::rand_core::{OsRng, RngCore};
    let mut b = [0u8; 20];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Sealing fails only on a plaintext longer than one RSA block.
fn invalid_seal(_: CryptoError) -> NagadError {
    Invalid::TooLong.into()
}

impl NagadClient {
    /// A client for one merchant. Makes no network call.
    pub fn new(
        settings: NagadSettings,
        creds: NagadCredentials,
        observer: SharedObserver,
    ) -> Result<Self, NagadError> {
        if !matches!(settings.base_url.scheme(), "http" | "https")
            || settings.base_url.host().is_none()
            || settings.base_url.cannot_be_a_base()
        {
            return Err(Invalid::BaseUrl.into());
        }
        if creds.merchant_id.is_empty() || !creds.merchant_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::MerchantId.into());
        }
        let http = Transport::new(
            TransportSettings {
                timeout: settings.timeout,
                connect_timeout: Some(settings.connect_timeout),
                retry: settings.retry,
                max_retry_after: settings.max_retry_after,
                extra_roots: settings.extra_roots.clone(),
                redact_keys: REDACT_KEYS,
                masked_keys: PHONE_KEYS,
                ..TransportSettings::new(PROVIDER)
            },
            observer,
        )
        .map_err(|_| NagadError::Invalid(Invalid::HttpClient))?;
        Ok(NagadClient {
            inner: Arc::new(Inner {
                http,
                settings,
                creds,
            }),
        })
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.settings.base_url
    }

    pub fn merchant_id(&self) -> &str {
        &self.inner.creds.merchant_id
    }

    /// Starts a payment: initialize, then complete. On success the customer
    /// opens [`Started::page_url`]; the page ends by redirecting to
    /// `callback_url` ([`crate::parse_callback`]), and [`Self::verify`] says
    /// whether it was paid.
    ///
    /// Neither call is sent again once Nagad may have received it (only an
    /// attempt that provably never left, e.g. a refused connection, is).
    /// Errors: [`NagadError::Refused`] (nothing started),
    /// [`NagadError::Unreachable`] (nothing sent),
    /// [`NagadError::OutcomeUnknown`] (Nagad may hold an initialized or
    /// completed order; for complete it carries the `payment_ref_id` to
    /// verify), [`NagadError::Protocol`] for initialize (no page exists).
    pub async fn start(
        &self,
        order_id: &str,
        amount: Decimal,
        callback_url: &str,
    ) -> Result<Started, NagadError> {
        if !valid_order_id(order_id) {
            return Err(Invalid::OrderId.into());
        }
        let amount_text = wire::amount_text(amount).map_err(|_| Invalid::Amount)?;
        if http_url(callback_url).is_none() {
            return Err(Invalid::CallbackUrl.into());
        }
        let init = self.initialize(order_id).await?;
        let payment_ref_id = init.payment_reference_id;
        let with_ref = |e: NagadError| match e {
            NagadError::OutcomeUnknown {
                endpoint, cause, ..
            } => NagadError::OutcomeUnknown {
                endpoint,
                payment_ref_id: Some(payment_ref_id.clone()),
                cause,
            },
            other => other,
        };
        let page_url = self
            .complete(
                &payment_ref_id,
                order_id,
                &amount_text,
                &init.challenge,
                callback_url,
            )
            .await
            .map_err(with_ref)?;
        Ok(Started {
            payment_ref_id,
            page_url,
            order_id: order_id.to_string(),
            amount,
            accepted_at: init.accept_date_time,
        })
    }

    async fn initialize(&self, order_id: &str) -> Result<Initialized, NagadError> {
        let i = &self.inner;
        let datetime = wire::datetime_text(SystemTime::now());
        let plain = serde_json::to_string(&wire::InitializeSensitive {
            merchant_id: i.creds.merchant_id.clone(),
            datetime: datetime.clone(),
            order_id: order_id.to_string(),
            challenge: challenge(),
        })
        .expect("plain strings serialise");
        let body = wire::InitializeRequest {
            account_number: i.creds.merchant_number.clone(),
            date_time: datetime,
            sensitive_data: i
                .creds
                .nagad_key
                .encrypt(plain.as_bytes())
                .map_err(invalid_seal)?,
            signature: i.creds.merchant_key.sign(plain.as_bytes()),
        };
        let url = i.url(
            &["check-out", "initialize", &i.creds.merchant_id, order_id],
            &[],
        );
        i.call(
            Endpoint::Initialize,
            url,
            Some(json(&body)),
            None,
            |_, v| {
                let answer: wire::InitializeAnswer = i.open(Endpoint::Initialize, v)?;
                let missing = |what| NagadError::Protocol {
                    endpoint: Endpoint::Initialize,
                    problem: Problem::Missing(what),
                };
                let payment_reference_id = answer
                    .payment_reference_id
                    .filter(|r| crate::callback::is_payment_ref_id(r))
                    .ok_or_else(|| missing("paymentReferenceId"))?;
                Ok(Initialized {
                    payment_reference_id,
                    challenge: answer.challenge.ok_or_else(|| missing("challenge"))?,
                    accept_date_time: answer.accept_date_time,
                })
            },
        )
        .await
    }

    async fn complete(
        &self,
        payment_ref_id: &str,
        order_id: &str,
        amount_text: &str,
        nagad_challenge: &str,
        callback_url: &str,
    ) -> Result<String, NagadError> {
        let i = &self.inner;
        let plain = serde_json::to_string(&wire::CompleteSensitive {
            merchant_id: i.creds.merchant_id.clone(),
            order_id: order_id.to_string(),
            currency_code: wire::CURRENCY_BDT.into(),
            amount: amount_text.to_string(),
            challenge: nagad_challenge.to_string(),
        })
        .expect("plain strings serialise");
        let body = wire::CompleteRequest {
            sensitive_data: i
                .creds
                .nagad_key
                .encrypt(plain.as_bytes())
                .map_err(invalid_seal)?,
            signature: i.creds.merchant_key.sign(plain.as_bytes()),
            merchant_callback_url: callback_url.to_string(),
            additional_merchant_info: None,
        };
        let url = i.url(&["check-out", "complete", payment_ref_id], &[]);
        i.call(
            Endpoint::Complete,
            url,
            Some(json(&body)),
            Some(payment_ref_id),
            |_, v| {
                let protocol = |problem| NagadError::Protocol {
                    endpoint: Endpoint::Complete,
                    problem,
                };
                let w = wire::CompleteResponse::deserialize(v)
                    .map_err(|_| protocol(Problem::BadPlaintext))?;
                let status = w.status.unwrap_or_default();
                if !status.eq_ignore_ascii_case("success") {
                    return Err(protocol(Problem::NotSuccess(status)));
                }
                w.call_back_url
                    .filter(|u| http_url(u).is_some())
                    .ok_or_else(|| protocol(Problem::Missing("callBackUrl")))
            },
        )
        .await
    }

    /// Verify ("payment status"): the only proof of payment. Retried per
    /// [`NagadSettings::retry`]. [`PaymentStatus::outcome`] is `Paid` only on
    /// an explicit `Success` with an exact amount; the caller compares the
    /// amount with what it asked.
    pub async fn verify(&self, payment_ref_id: &str) -> Result<PaymentStatus, NagadError> {
        if !crate::callback::is_payment_ref_id(payment_ref_id) {
            return Err(Invalid::PaymentRefId.into());
        }
        let i = &self.inner;
        let url = i.url(&["verify", "payment", payment_ref_id], &[]);
        i.call(Endpoint::Verify, url, None, Some(payment_ref_id), |_, v| {
            let protocol = |problem| NagadError::Protocol {
                endpoint: Endpoint::Verify,
                problem,
            };
            let w = wire::VerifyResponse::deserialize(v)
                .map_err(|_| protocol(Problem::BadPlaintext))?;
            status::payment_status(w, payment_ref_id, &i.creds.merchant_id).map_err(protocol)
        })
        .await
    }

    /// Refund ("cancel", `purchase/cancel`), \[I\]: not every merchant has it,
    /// and its shape comes from client code only (spec §8). Otherwise
    /// refunds are made in the Nagad merchant portal. **Never sent again**
    /// once Nagad may have received it; on an unknown outcome look at
    /// `verify`'s `cancel_issuer_ref_no`.
    pub async fn refund(&self, req: &RefundRequest) -> Result<Refunded, NagadError> {
        if !crate::callback::is_payment_ref_id(&req.payment_ref_id) {
            return Err(Invalid::PaymentRefId.into());
        }
        if !valid_order_id(&req.order_id) {
            return Err(Invalid::OrderId.into());
        }
        if req.reference.is_empty()
            || req.reference.len() > 40
            || !req
                .reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Invalid::RefundReference.into());
        }
        let cancel = wire::amount_text(req.amount).map_err(|_| Invalid::Amount)?;
        let original = wire::amount_text(req.original_amount).map_err(|_| Invalid::Amount)?;
        if req.amount > req.original_amount
            || req.original_date.len() != 8
            || !req.original_date.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Invalid::Amount.into());
        }
        let i = &self.inner;
        let plain = serde_json::to_string(&wire::CancelSensitive {
            merchant_id: i.creds.merchant_id.clone(),
            original_request_date: req.original_date.clone(),
            original_amount: original,
            cancel_amount: cancel,
            reference_no: req.reference.clone(),
            reference_message: req.reason.chars().take(100).collect(),
        })
        .expect("plain strings serialise");
        let body = wire::CancelRequest {
            sensitive_data_cancel_request: i
                .creds
                .nagad_key
                .encrypt(plain.as_bytes())
                .map_err(invalid_seal)?,
            signature: i.creds.merchant_key.sign(plain.as_bytes()),
        };
        let url = i.url(
            &["purchase", "cancel"],
            &[
                ("paymentRefId", &req.payment_ref_id),
                ("orderId", &req.order_id),
            ],
        );
        i.call(
            Endpoint::Refund,
            url,
            Some(json(&body)),
            Some(&req.payment_ref_id),
            |_, v| {
                let answer: wire::CancelAnswer = i.open(Endpoint::Refund, v)?;
                let amount = match answer.cancel_amount {
                    None => None,
                    Some(t) => Some(wire::parse_amount(&t).ok_or(NagadError::Protocol {
                        endpoint: Endpoint::Refund,
                        problem: Problem::AmountNotExact(t),
                    })?),
                };
                let raw_status = answer.status.unwrap_or_default();
                Ok(Refunded {
                    payment_ref_id: req.payment_ref_id.clone(),
                    reference: answer.reference_no.unwrap_or_else(|| req.reference.clone()),
                    status: RefundStatus::from_wire(&raw_status),
                    raw_status,
                    code: answer.code,
                    amount,
                    cancel_trx_id: answer.cancel_trx_id,
                })
            },
        )
        .await
    }

    /// The connection test: verify of a reference no payment has. Any answer
    /// from Nagad — usually its refusal of the unknown reference — proves the
    /// address and the route; only a failure to get one is an error.
    pub async fn test_connection(&self) -> Result<ConnectionTest, NagadError> {
        let probe = format!("TILLPROBE{}", &challenge()[..16]);
        let i = &self.inner;
        let url = i.url(&["verify", "payment", &probe], &[]);
        match i
            .call(Endpoint::Verify, url, None, None, |status, _| Ok(status))
            .await
        {
            Ok(http_status) => Ok(ConnectionTest {
                http_status,
                reason: None,
            }),
            Err(NagadError::Refused {
                http_status,
                reason,
                ..
            }) => Ok(ConnectionTest {
                http_status,
                reason: Some(reason),
            }),
            Err(e) => Err(e),
        }
    }
}

/// Initialize's opened answer.
struct Initialized {
    payment_reference_id: String,
    challenge: String,
    accept_date_time: Option<String>,
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A wire type as the JSON body it is sent as.
fn json(body: &impl serde::Serialize) -> Value {
    serde_json::to_value(body).expect("wire types serialise")
}

/// What the request loop knows of a call: verify alone may be repeated.
fn endpoint(ep: Endpoint) -> http::Endpoint {
    match ep {
        Endpoint::Verify => http::Endpoint::get(ep.name()).idempotent(),
        Endpoint::Initialize | Endpoint::Complete | Endpoint::Refund => {
            http::Endpoint::post(ep.name())
        }
    }
}

impl Inner {
    /// The base URL with `segments` appended (each percent-encoded: a
    /// payment reference is base64 and may hold `/`) and `query`.
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut u = self.settings.base_url.clone();
        u.path_segments_mut()
            .expect("checked in new: the base can be a base")
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            u.query_pairs_mut().extend_pairs(query);
        }
        u
    }

    /// Opens a sealed answer `{sensitiveData, signature}`: decrypts with the
    /// merchant key, checks Nagad's signature over the plaintext and reads
    /// it as `T`.
    fn open<T: serde::de::DeserializeOwned>(
        &self,
        ep: Endpoint,
        v: &Value,
    ) -> Result<T, NagadError> {
        let protocol = |problem| NagadError::Protocol {
            endpoint: ep,
            problem,
        };
        let w =
            wire::SealedResponse::deserialize(v).map_err(|_| protocol(Problem::BadPlaintext))?;
        let sealed = w
            .sensitive_data
            .ok_or_else(|| protocol(Problem::Missing("sensitiveData")))?;
        let plain = self
            .creds
            .merchant_key
            .decrypt(&sealed)
            .map_err(|_| protocol(Problem::Undecryptable))?;
        if self.settings.verify_signatures {
            let sig = w
                .signature
                .ok_or_else(|| protocol(Problem::Missing("signature")))?;
            self.creds
                .nagad_key
                .verify(&plain, &sig)
                .map_err(|_| protocol(Problem::BadSignature))?;
        }
        serde_json::from_slice(&plain).map_err(|_| protocol(Problem::BadPlaintext))
    }

    /// A call: Nagad's headers, the body (`None`: a `GET`), the loop's
    /// attempts and records; [`classify`] reads each answer and `map` reads
    /// a usable one (an unusable one, [`NagadError::Protocol`], is worth
    /// another try where the call may be repeated).
    async fn call<T>(
        &self,
        ep: Endpoint,
        url: Url,
        body: Option<Value>,
        payment_ref: Option<&str>,
        map: impl Fn(u16, &Value) -> Result<T, NagadError>,
    ) -> Result<T, NagadError> {
        let s = &self.settings;
        let req = Request::new(endpoint(ep), url)
            .header(header::API_VERSION, wire::API_VERSION)
            .header(header::CLIENT_IP, &s.client_ip)
            .header(header::CLIENT_TYPE, &s.client_type)
            .header(header::MERCHANT_ID, &self.creds.merchant_id)
            .payment_ref(payment_ref);
        let req = match body {
            Some(b) => req.json(b),
            // Nagad's clients send it on every call.
            None => req.header("content-type", "application/json"),
        };
        let read = |reply: &Reply| match classify(ep, reply) {
            Verdict::Done((status, v)) => match map(status, v) {
                Ok(t) => Verdict::Done(t),
                Err(err @ NagadError::Protocol { .. }) => Verdict::Retry {
                    err,
                    retry_after: None,
                },
                Err(e) => Verdict::Fail(e),
            },
            Verdict::Fail(e) => Verdict::Fail(e),
            Verdict::Retry { err, retry_after } => Verdict::Retry { err, retry_after },
            Verdict::Stale(e) => Verdict::Stale(e),
        };
        self.http.call(&req, &NoAuth, read).await
    }
}

/// What one attempt means, whatever the call's retry policy (the loop
/// repeats a [`Verdict::Retry`] only of verify, or of an attempt that never
/// left): a usable answer is its status and JSON object.
fn classify(ep: Endpoint, reply: &Reply) -> Verdict<(u16, &Value), NagadError> {
    let unknown = |cause: Cause| NagadError::OutcomeUnknown {
        endpoint: ep,
        payment_ref_id: None,
        cause,
    };
    let protocol = |problem| NagadError::Protocol {
        endpoint: ep,
        problem,
    };
    let rate_limited = |retry_after| Verdict::Retry {
        err: NagadError::RateLimited {
            endpoint: ep,
            retry_after,
        },
        retry_after,
    };
    let a = match reply {
        Reply::Failed(f) => {
            return Verdict::Retry {
                err: match (f.delivery, f.timed_out) {
                    (Delivery::NotSent, _) => NagadError::Unreachable {
                        endpoint: ep,
                        detail: f.message.clone(),
                    },
                    (Delivery::Unknown, true) => unknown(Cause::Timeout),
                    (Delivery::Unknown, false) => unknown(Cause::Connection(f.message.clone())),
                },
                retry_after: None,
            }
        }
        Reply::Answer(a) => a,
    };
    let (status, retry_after) = (a.status, a.retry_after);
    let Some(body) = a.json.as_ref().filter(|v| v.is_object()) else {
        return match status {
            429 => rate_limited(retry_after),
            500..=599 => Verdict::Retry {
                err: unknown(Cause::ServerError {
                    http_status: status,
                    reason: None,
                }),
                retry_after,
            },
            200..=299 if !ep.idempotent() => Verdict::Retry {
                err: unknown(Cause::Unreadable {
                    http_status: status,
                }),
                retry_after: None,
            },
            _ => Verdict::Retry {
                err: protocol(Problem::NotJson(status)),
                retry_after: None,
            },
        };
    };
    if status == 429 {
        return rate_limited(retry_after);
    }
    let reason = text_of(body, "reason");
    let message = text_of(body, "message").unwrap_or_default();
    match (status, reason) {
        // Nagad's refusal: nothing was done.
        (..=499, Some(reason)) => Verdict::Fail(NagadError::Refused {
            endpoint: ep,
            http_status: status,
            reason,
            message,
        }),
        (200..=299, None) => Verdict::Done((status, body)),
        // A server error, even one that names a reason, may have left
        // something done.
        (500..=599, reason) => Verdict::Retry {
            err: unknown(Cause::ServerError {
                http_status: status,
                reason,
            }),
            retry_after,
        },
        (_, _) => Verdict::Fail(protocol(Problem::UnexpectedStatus(status))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(base: &str) -> NagadClient {
        NagadClient::new(
            NagadSettings::new(Url::parse(base).unwrap()),
            NagadCredentials {
                merchant_id: "683000000000017".into(),
                merchant_key: MerchantPrivateKey::from_pem(include_str!(
                    "../../../tests/data/nagad/merchant-private.TEST-ONLY.pem"
                ))
                .unwrap(),
                nagad_key: NagadPublicKey::from_pem(include_str!(
                    "../../../tests/data/nagad/nagad-public.TEST-ONLY.pem"
                ))
                .unwrap(),
                merchant_number: Some("01711428036".into()),
            },
            Arc::new(till_provider_http::NoCallLog),
        )
        .unwrap()
    }

    fn answer(status: u16, body: Vec<u8>) -> Reply {
        Reply::Answer(http::Answer {
            status,
            headers: Default::default(),
            retry_after: None,
            json: serde_json::from_slice(&body).ok(),
            body,
        })
    }

    fn json_reply(status: u16, body: Value) -> Reply {
        answer(status, body.to_string().into_bytes())
    }

    fn garbled(status: u16) -> Reply {
        answer(status, b"<html>".to_vec())
    }

    #[test]
    fn urls_encode_references_as_one_segment() {
        let c = client("http://127.0.0.1:1/remote-payment-gateway-1.0/api/dfs");
        assert_eq!(
            c.inner.url(&["verify", "payment", "AB/C+D="], &[]).as_str(),
            "http://127.0.0.1:1/remote-payment-gateway-1.0/api/dfs/verify/payment/AB%2FC+D="
        );
        let c = client("http://127.0.0.1:1/api/dfs/");
        assert_eq!(
            c.inner
                .url(
                    &["purchase", "cancel"],
                    &[("paymentRefId", "A+B"), ("orderId", "T1-1")]
                )
                .as_str(),
            "http://127.0.0.1:1/api/dfs/purchase/cancel?paymentRefId=A%2BB&orderId=T1-1"
        );
    }

    #[test]
    fn answers_are_classified() {
        let reply = json_reply(
            400,
            json!({"reason":"InvalidChallenge","message":"Challenge mismatch"}),
        );
        let refused = classify(Endpoint::Complete, &reply);
        assert!(matches!(
            refused,
            Verdict::Fail(NagadError::Refused { http_status: 400, ref reason, .. }) if reason == "InvalidChallenge"
        ));
        // A 200 that carries a reason is a refusal too (one client checks only `reason`).
        assert!(matches!(
            classify(
                Endpoint::Verify,
                &json_reply(200, json!({"reason":"X","message":"m"}))
            ),
            Verdict::Fail(NagadError::Refused { .. })
        ));
        assert!(matches!(
            classify(
                Endpoint::Complete,
                &json_reply(500, json!({"reason":"ServerError","message":"m"}))
            ),
            Verdict::Retry {
                err: NagadError::OutcomeUnknown { .. },
                ..
            }
        ));
        assert!(matches!(
            classify(
                Endpoint::Complete,
                &json_reply(404, json!({"error":"Not Found"}))
            ),
            Verdict::Fail(NagadError::Protocol {
                problem: Problem::UnexpectedStatus(404),
                ..
            })
        ));
        assert!(matches!(
            classify(Endpoint::Complete, &garbled(200)),
            Verdict::Retry {
                err: NagadError::OutcomeUnknown { .. },
                ..
            }
        ));
        assert!(matches!(
            classify(Endpoint::Verify, &garbled(200)),
            Verdict::Retry {
                err: NagadError::Protocol {
                    problem: Problem::NotJson(200),
                    ..
                },
                ..
            }
        ));
        assert!(matches!(
            classify(
                Endpoint::Verify,
                &json_reply(200, json!({"status":"Success"}))
            ),
            Verdict::Done((200, _))
        ));
    }

    #[test]
    fn only_verify_may_be_repeated() {
        for ep in [
            Endpoint::Initialize,
            Endpoint::Complete,
            Endpoint::Verify,
            Endpoint::Refund,
        ] {
            let e = endpoint(ep);
            assert_eq!((e.name, e.idempotent), (ep.name(), ep.idempotent()));
            assert!(!e.secret_answers);
        }
    }

    #[test]
    fn records_hold_no_ciphertext_signature_or_phone_number() {
        let c = client("http://127.0.0.1:1/api/dfs");
        let v = c.inner.http.redacted(&json!({
            "sensitiveData": "AAAA", "signature": "BBBB", "sensitiveDataCancelRequest": "CCCC",
            "clientMobileNo": "01711428036", "amount": "10.00"
        }));
        assert_eq!(
            v,
            json!({"sensitiveData":"***","signature":"***","sensitiveDataCancelRequest":"***",
                   "clientMobileNo":"017*****036","amount":"10.00"})
        );
    }

    #[test]
    fn credentials_never_print_keys() {
        let c = client("http://127.0.0.1:1/api/dfs");
        let d = format!("{:?}", c.inner.creds);
        assert!(
            d.contains("683000000000017") && !d.contains("01711428036"),
            "{d}"
        );
        assert!(!d.contains("MII"), "{d}");
    }

    #[tokio::test]
    async fn local_refusals_send_nothing() {
        let c = client("http://127.0.0.1:1/api/dfs");
        let cb = "http://127.0.0.1:9/cb";
        assert_eq!(
            c.start("T1/1", Decimal::ONE, cb).await,
            Err(NagadError::Invalid(Invalid::OrderId))
        );
        assert_eq!(
            c.start("T1-1", Decimal::new(1001, 3), cb).await,
            Err(NagadError::Invalid(Invalid::Amount))
        );
        assert_eq!(
            c.start("T1-1", Decimal::ONE, "ftp://x/cb").await,
            Err(NagadError::Invalid(Invalid::CallbackUrl))
        );
        assert_eq!(
            c.verify("x<y").await,
            Err(NagadError::Invalid(Invalid::PaymentRefId))
        );
    }
}
