//! Simulator-only control routes, all under `/sim/` (never faulted, never part
//! of a provider's API):
//!
//! | route | what |
//! | --- | --- |
//! | `GET /sim/ledger` | every payment, refund, agreement and KHQR transaction with amounts and states; every bKash token call (`bkash.tokenCalls`); Nagad payments and refunds (`nagad`) |
//! | `GET/POST/DELETE /sim/faults` | list (with `held`: requests a `hold` rule keeps waiting), add (`{"rules":[...],"replace":bool}` or one rule), clear fault rules |
//! | `POST /sim/faults/release` | `{"endpoint": "bkash.status"}` (or `family.*`): let held requests go on |
//! | `GET/POST /sim/clock` | read, or advance (`{"advance_secs": N}`) the sandbox clock |
//! | `GET /sim/info` | base URLs, credentials, test wallets, a Bakong token, Nagad's merchant id and public key (and the TEST ONLY merchant key when it is the default) |
//! | `POST /sim/bakong/token` | a fresh Bakong token for the first registered e-mail |
//! | `GET /sim/bkash/ipn`, `GET /sim/bkash/ipn/cert.pem` | IPN deliveries and what the receiver did with the subscription; the signing certificate |
//! | `GET /sim/bkash/ipn/unsubscribe?Action=ConfirmSubscription&Token=…` (or `Action=Unsubscribe`) | the `SubscribeURL` / `UnsubscribeURL` of the IPN's messages, answered like SNS |
//! | `POST /sim/bkash/checkout/{paymentID}`, `POST /sim/bakong/pay`, `POST /sim/nagad/checkout/{paymentRefId}` | customer actions (in the provider modules) |

use crate::faults::FaultRule;
use crate::money::two_dp;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/sim/ledger", get(ledger))
        .route(
            "/sim/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/sim/faults/release", post(release_held))
        .route("/sim/clock", get(clock).post(advance_clock))
        .route("/sim/info", get(info))
        .route("/sim/bakong/token", post(bakong_token_handler))
        .route("/sim/bkash/ipn", get(ipn_deliveries))
        .route("/sim/bkash/ipn/cert.pem", get(ipn_cert))
        .route("/sim/bkash/ipn/unsubscribe", get(ipn_subscription))
}

/// The ledger as JSON (also used by [`crate::SandboxHandle::ledger`]).
pub fn ledger_json(app: &AppState) -> Value {
    let now = app.clock.now_ms();
    app.read_world(|w| {
        let mut payments: Vec<_> = w.bkash.payments.values().collect();
        payments.sort_by_key(|p| (p.created_ms, p.payment_id.clone()));
        let mut refunds = Vec::new();
        let payments: Vec<Value> = payments
            .iter()
            .map(|p| {
                for r in &p.refunds {
                    refunds.push(json!({
                        "refundTrxID": r.refund_trx_id,
                        "originalTrxID": p.trx_id,
                        "paymentID": p.payment_id,
                        "amount": two_dp(r.amount),
                        "currency": "BDT",
                        "api": r.api,
                        "sku": r.sku,
                        "reason": r.reason,
                        "completedAtMs": r.completed_ms,
                        "state": "Completed",
                    }));
                }
                let customer = serde_json::to_value(&p.customer).unwrap_or(Value::Null);
                json!({
                    "paymentID": p.payment_id,
                    "mode": p.mode,
                    "amount": p.amount.as_ref().map(|a| two_dp(a.value)),
                    "amountText": p.amount.as_ref().map(|a| a.text.clone()),
                    "currency": p.currency,
                    "intent": p.intent,
                    "merchantInvoiceNumber": p.invoice,
                    "payerReference": p.payer_reference,
                    "agreementID": p.agreement_id,
                    "customer": customer,
                    "transactionStatus": p.effective_status(now, &app.config.bkash),
                    "trxID": p.trx_id,
                    "wallet": p.wallet,
                    "createdAtMs": p.created_ms,
                    "executedAtMs": p.executed_ms,
                    "refunded": two_dp(p.refunded()),
                    "refundable": two_dp(p.refundable()),
                })
            })
            .collect();
        let mut agreements: Vec<_> = w.bkash.agreements.values().collect();
        agreements.sort_by_key(|a| a.execute_ms);
        let agreements: Vec<Value> = agreements
            .iter()
            .map(|a| {
                json!({
                    "agreementID": a.agreement_id,
                    "paymentID": a.payment_id,
                    "payerReference": a.payer_reference,
                    "wallet": a.wallet,
                    "status": a.status,
                    "executedAtMs": a.execute_ms,
                    "voidedAtMs": a.void_ms,
                })
            })
            .collect();
        let khqr: Vec<Value> = w
            .bakong
            .txns
            .iter()
            .map(|t| {
                json!({
                    "md5": t.md5,
                    "hash": t.hash,
                    "fromAccountId": t.from_account_id,
                    "toAccountId": t.to_account_id,
                    "amount": t.amount.to_string(),
                    "currency": t.currency,
                    "qrAmount": t.qr_amount.map(|a| a.to_string()),
                    "qrCurrency": t.qr_currency,
                    "billNumber": t.bill_number,
                    "staticQr": t.static_qr,
                    "state": t.status,
                    "createdAtMs": t.created_ms,
                    "acknowledgedAtMs": t.acknowledged_ms,
                    "externalRef": t.external_ref,
                    "instructionRef": t.instruction_ref,
                })
            })
            .collect();
        let mut nagad: Vec<_> = w.nagad.payments.values().collect();
        nagad.sort_by_key(|p| (p.created_ms, p.payment_ref_id.clone()));
        let nagad_cfg = &app.config.nagad;
        let mut nagad_refunds = Vec::new();
        let nagad: Vec<Value> = nagad
            .iter()
            .map(|p| {
                for r in &p.refunds {
                    nagad_refunds.push(json!({
                        "paymentRefId": p.payment_ref_id,
                        "orderId": p.order_id,
                        "referenceNo": r.reference_no,
                        "cancelTrxId": r.cancel_trx_id,
                        "amount": two_dp(r.amount),
                        "currency": "BDT",
                        "message": r.message,
                        "atMs": r.at_ms,
                    }));
                }
                json!({
                    "paymentRefId": p.payment_ref_id,
                    "orderId": p.order_id,
                    "merchantId": p.merchant_id,
                    "status": p.effective_status(now, nagad_cfg),
                    "statusCode": p.callback_code,
                    "amount": p.amount.as_ref().map(|a| two_dp(a.value)),
                    "amountText": p.amount.as_ref().map(|a| a.text.clone()),
                    "currency": "BDT",
                    "wallet": p.wallet,
                    "issuerPaymentRefNo": p.issuer_ref,
                    "callbackUrl": p.callback_url,
                    "createdAtMs": p.created_ms,
                    "completedAtMs": p.completed_ms,
                    "finishedAtMs": p.finished_ms,
                    "refunded": two_dp(p.refunded()),
                })
            })
            .collect();
        json!({
            "nagad": {"payments": nagad, "refunds": nagad_refunds},
            "bkash": {
                "payments": payments,
                "refunds": refunds,
                "agreements": agreements,
                "tokenCalls": w.bkash.token_calls.iter()
                    .map(|(at, kind)| json!({"atMs": at, "kind": kind}))
                    .collect::<Vec<_>>(),
            },
            "bakong": {"transactions": khqr},
        })
    })
}

async fn ledger(State(app): State<AppState>) -> Json<Value> {
    Json(ledger_json(&app))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FaultsBody {
    Many {
        rules: Vec<FaultRule>,
        #[serde(default)]
        replace: bool,
    },
    One(FaultRule),
}

async fn list_faults(State(app): State<AppState>) -> Json<Value> {
    let f = app.faults.lock().expect("fault lock");
    Json(json!({"rules": f.rules(), "fired": f.fired(), "held": f.gates().held()}))
}

#[derive(Deserialize)]
struct Release {
    endpoint: String,
}

async fn release_held(State(app): State<AppState>, Json(r): Json<Release>) -> Json<Value> {
    let gates = app.faults.lock().expect("fault lock").gates();
    Json(json!({"released": gates.release(&r.endpoint)}))
}

async fn add_faults(State(app): State<AppState>, body: axum::body::Bytes) -> Response {
    let parsed: Result<FaultsBody, _> = serde_json::from_slice(&body);
    let (rules, replace) = match parsed {
        Ok(FaultsBody::Many { rules, replace }) => (rules, replace),
        Ok(FaultsBody::One(rule)) => (vec![rule], false),
        Err(e) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"error": format!("not a fault rule: {e}")})),
            )
                .into_response()
        }
    };
    let mut f = app.faults.lock().expect("fault lock");
    if replace {
        f.clear();
    }
    f.add(rules);
    Json(json!({"rules": f.rules()})).into_response()
}

async fn clear_faults(State(app): State<AppState>) -> Json<Value> {
    app.faults.lock().expect("fault lock").clear();
    Json(json!({"rules": []}))
}

async fn clock(State(app): State<AppState>) -> Json<Value> {
    Json(json!({"nowMs": app.clock.now_ms(), "offsetMs": app.clock.offset().as_millis() as u64}))
}

#[derive(Deserialize)]
struct Advance {
    #[serde(default)]
    advance_secs: u64,
    #[serde(default)]
    advance_ms: u64,
}

async fn advance_clock(State(app): State<AppState>, Json(a): Json<Advance>) -> Json<Value> {
    app.clock
        .advance(Duration::from_secs(a.advance_secs) + Duration::from_millis(a.advance_ms));
    clock(State(app)).await
}

/// A fresh Bakong token for the first registered e-mail.
pub fn bakong_token(app: &AppState) -> String {
    let email = app
        .config
        .bakong
        .registered_emails
        .first()
        .cloned()
        .unwrap_or_else(|| "dev@till.test".into());
    let now = app.clock.now_ms();
    app.with_world(|w| {
        crate::bakong::flow::issue_token(&mut w.bakong, &mut w.rng, &app.config.bakong, &email, now)
    })
}

async fn bakong_token_handler(State(app): State<AppState>) -> Json<Value> {
    Json(json!({"token": bakong_token(&app)}))
}

async fn info(State(app): State<AppState>) -> Json<Value> {
    let b = &app.config.bkash;
    let n = &app.config.nagad;
    let o: &str = &app.origin;
    // The merchant's private key is never the sandbox's to know, except the
    // published TEST ONLY one that goes with the default public key.
    let test_merchant_key = (n.merchant_public_key_pem
        == crate::config::nagad_test_keys::MERCHANT_PUBLIC_PEM)
        .then_some(crate::config::nagad_test_keys::MERCHANT_PRIVATE_PEM);
    Json(json!({
        "origin": o,
        "bkash": {
            "baseURL": format!("{o}/v1.2.0-beta"),
            "origin": o,
            "username": b.username,
            "password": b.password,
            "app_key": b.app_key,
            "app_secret": b.app_secret,
            "wallets": b.wallets,
            "insufficientBalanceWallets": b.insufficient_balance_wallets,
            "debitBlockWallets": b.debit_block_wallets,
            "otp": b.otp,
            "pin": b.pin,
            "ipnTopicArn": app.ipn.as_ref().map(|i| i.topic_arn().to_string()),
        },
        "nagad": {
            "baseURL": format!("{o}{}", crate::nagad::http::api_base(&n.prefix)),
            "merchantId": n.merchant_id,
            "merchantMobile": n.merchant_mobile,
            "nagadPublicKeyPem": app.nagad_keys.nagad_public_pem(),
            "merchantPrivateKeyPem": test_merchant_key,
            "wallets": n.wallets,
            "insufficientBalanceWallets": n.insufficient_balance_wallets,
            "overLimitWallets": n.over_limit_wallets,
            "otp": n.otp,
            "pin": n.pin,
            "refundEnabled": n.refund_enabled,
        },
        "bakong": {
            "baseURL": format!("{o}{}", app.config.bakong.prefix),
            "registeredEmails": app.config.bakong.registered_emails,
            "accounts": app.config.bakong.accounts,
            "bankAppPage": format!("{o}/pay/bakong/"),
        },
    }))
}

async fn ipn_deliveries(State(app): State<AppState>) -> Json<Value> {
    let list = app
        .ipn
        .as_ref()
        .map(|i| serde_json::to_value(&*i.deliveries.lock().expect("ipn log")).unwrap_or_default())
        .unwrap_or_else(|| json!([]));
    let subscription = app
        .ipn
        .as_ref()
        .map(|i| {
            serde_json::to_value(&*i.subscription.lock().expect("ipn subscription"))
                .unwrap_or_default()
        })
        .unwrap_or(Value::Null);
    Json(json!({"deliveries": list, "subscription": subscription}))
}

#[derive(Deserialize)]
struct SubscriptionQuery {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Token")]
    token: Option<String>,
}

async fn ipn_subscription(
    State(app): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<SubscriptionQuery>,
) -> Response {
    match &app.ipn {
        Some(ipn) => {
            let (status, xml) = ipn.subscription_action(&q.action, q.token.as_deref());
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                [(header::CONTENT_TYPE, "text/xml")],
                xml,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "IPN is not configured").into_response(),
    }
}

async fn ipn_cert(State(app): State<AppState>) -> Response {
    match &app.ipn {
        Some(ipn) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            ipn.cert_pem().to_string(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "IPN is not configured").into_response(),
    }
}

async fn index(State(app): State<AppState>) -> Html<String> {
    let o = &app.origin;
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>till-sandbox</title></head><body>\
<h1>till-sandbox</h1><ul>\
<li>bKash base URL: <code>{o}/v1.2.0-beta</code></li>\
<li>Bakong base URL: <code>{o}{p}</code></li>\
<li>Nagad base URL: <code>{o}{n}</code></li>\
<li><a href=\"/pay/bakong/\">Bakong bank app</a></li>\
<li><a href=\"/sim/ledger\">ledger</a> · <a href=\"/sim/info\">info</a> · <a href=\"/sim/faults\">faults</a></li>\
</ul></body></html>",
        p = app.config.bakong.prefix,
        n = crate::nagad::http::api_base(&app.config.nagad.prefix),
    ))
}
