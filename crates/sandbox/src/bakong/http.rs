//! Bakong HTTP surface: the ten `/v1/` paths (under a configurable prefix),
//! the SDK's tokenless `/v1/check_account_exist`, and `POST /sim/bakong/pay`.

use super::flow::{self, PayRequest};
use super::wire::{self, Envelope};
use crate::config::BulkItemFields;
use crate::money::raw_text;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::str::FromStr;

pub fn routes(prefix: &str) -> Router<AppState> {
    let p = |path: &str| format!("{prefix}/v1/{path}");
    Router::new()
        .route(&p("renew_token"), post(renew_token))
        .route(&p("generate_deeplink_by_qr"), post(deeplink))
        .route(&p("check_transaction_by_md5"), post(by_md5))
        .route(&p("check_transaction_by_hash"), post(by_hash))
        .route(&p("check_transaction_by_short_hash"), post(by_short_hash))
        .route(
            &p("check_transaction_by_instruction_ref"),
            post(by_instruction_ref),
        )
        .route(
            &p("check_transaction_by_external_ref"),
            post(by_external_ref),
        )
        .route(&p("check_transaction_by_md5_list"), post(by_md5_list))
        .route(&p("check_transaction_by_hash_list"), post(by_hash_list))
        .route(&p("check_bakong_account"), post(check_account))
        .route(&p("check_account_exist"), post(check_account_open))
        .route("/sim/bakong/pay", post(sim_pay))
}

fn json<T: Serialize>(status: u16, body: &T) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(body).expect("serialisable"),
    )
        .into_response()
}

fn err(code: u8) -> Response {
    json(wire::http_status(code), &wire::error(code))
}

type Obj = HashMap<String, Box<RawValue>>;

fn obj(body: &Bytes) -> Option<Obj> {
    serde_json::from_slice(body).ok()
}

fn text(o: &Obj, k: &str) -> Option<String> {
    o.get(k).and_then(|v| raw_text(v))
}

fn authorized(app: &AppState, headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(token) = v.trim().strip_prefix("Bearer ") else {
        return false;
    };
    let now = app.clock.now_ms();
    app.read_world(|w| flow::token_valid(&w.bakong, token.trim(), now))
}

async fn renew_token(State(app): State<AppState>, body: Bytes) -> Response {
    let email = obj(&body).and_then(|o| text(&o, "email"));
    let now = app.clock.now_ms();
    let r = app.with_world(|w| {
        flow::renew(
            &mut w.bakong,
            &mut w.rng,
            &app.config.bakong,
            email.as_deref(),
            now,
        )
    });
    match r {
        Ok(token) => json(
            200,
            &Envelope::ok("Token has been issued", Some(wire::TokenData { token })),
        ),
        Err(code) => err(code),
    }
}

async fn deeplink(State(app): State<AppState>, body: Bytes) -> Response {
    let Some(o) = obj(&body) else { return err(5) };
    let Some(qr) = text(&o, "qr") else {
        return err(5);
    };
    if let Some(si) = o.get("sourceInfo") {
        let si: Option<Obj> = serde_json::from_str(si.get()).ok();
        let complete = si.is_some_and(|si| {
            ["appIconUrl", "appName", "appDeepLinkCallback"]
                .iter()
                .all(|k| text(&si, k).is_some())
        });
        if !complete && o.get("sourceInfo").is_some_and(|v| v.get() != "null") {
            return err(5);
        }
    }
    let decoded = khqr::decode(&qr);
    if !decoded.is_dynamic() {
        return err(2);
    }
    let id = app.with_world(|w| {
        let id = crate::ids::hex(&mut w.rng, 8);
        w.bakong.deeplinks.insert(id.clone(), qr);
        id
    });
    let short_link = format!("{}/pay/bakong/?link={id}", app.origin);
    json(
        200,
        &Envelope::ok(
            "Getting deep link successfully",
            Some(wire::DeepLinkData { short_link }),
        ),
    )
}

/// Shared shape of the single lookups.
fn lookup(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    f: impl FnOnce(
        &flow::BakongState,
        &crate::config::BakongConfig,
        &Obj,
        u64,
    ) -> Result<Result<wire::Transaction, u8>, u8>,
) -> Response {
    if !authorized(app, headers) {
        return err(6);
    }
    let Some(o) = obj(body) else { return err(5) };
    let now = app.clock.now_ms();
    let r = app.read_world(|w| f(&w.bakong, &app.config.bakong, &o, now));
    match r {
        Err(missing) => err(missing),
        Ok(Ok(t)) => json(
            200,
            &Envelope::ok("Getting transaction successfully.", Some(t)),
        ),
        Ok(Err(code)) => err(code),
    }
}

async fn by_md5(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    lookup(&app, &headers, &body, |st, cfg, o, now| {
        let md5 = text(o, "md5").ok_or(5u8)?;
        Ok(flow::by_md5(st, cfg, &md5, now).map(|t| flow::to_wire(t, cfg)))
    })
}

async fn by_hash(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    lookup(&app, &headers, &body, |st, cfg, o, now| {
        let hash = text(o, "hash").ok_or(5u8)?;
        Ok(flow::by_hash(st, cfg, &hash, now).map(|t| flow::to_wire(t, cfg)))
    })
}

async fn by_short_hash(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    lookup(&app, &headers, &body, |st, cfg, o, now| {
        let hash = text(o, "hash").filter(|h| h.len() == 8).ok_or(5u8)?;
        let amount = text(o, "amount")
            .and_then(|a| Decimal::from_str(&a).ok())
            .ok_or(5u8)?;
        let currency = text(o, "currency").ok_or(5u8)?;
        Ok(flow::by_short_hash(st, cfg, &hash, amount, &currency, now)
            .map(|t| flow::to_wire(t, cfg)))
    })
}

async fn by_instruction_ref(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lookup(&app, &headers, &body, |st, cfg, o, now| {
        let r = text(o, "instructionRef").ok_or(5u8)?;
        Ok(flow::by_ref(st, cfg, false, &r, now).map(|t| flow::to_wire(t, cfg)))
    })
}

async fn by_external_ref(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    lookup(&app, &headers, &body, |st, cfg, o, now| {
        let r = text(o, "externalRef").ok_or(5u8)?;
        Ok(flow::by_ref(st, cfg, true, &r, now).map(|t| flow::to_wire(t, cfg)))
    })
}

fn bulk(app: &AppState, headers: &HeaderMap, body: &Bytes, key: &str) -> Response {
    if !authorized(app, headers) {
        return err(6);
    }
    let Ok(items) = serde_json::from_slice::<Vec<String>>(body) else {
        return err(5);
    };
    let cfg = &app.config.bakong;
    if items.is_empty() || items.len() > cfg.bulk_limit {
        return err(5);
    }
    let now = app.clock.now_ms();
    let data: Vec<serde_json::Value> = app.read_world(|w| {
        items
            .iter()
            .map(|id| {
                let r = if key == "md5" {
                    flow::by_md5(&w.bakong, cfg, id, now)
                } else {
                    flow::by_hash(&w.bakong, cfg, id, now)
                };
                let (code, txn) = match r {
                    Ok(t) => (None, Some(flow::to_wire(t, cfg))),
                    Err(c) => (Some(c), None),
                };
                let mut m = serde_json::Map::new();
                m.insert(key.into(), id.clone().into());
                m.insert("status".into(), wire::bulk_status(code).into());
                m.insert(
                    "message".into(),
                    match code {
                        None => "Getting transaction successfully.",
                        Some(c) => wire::message(c),
                    }
                    .into(),
                );
                let txn = serde_json::to_value(txn).expect("serialisable");
                match (cfg.bulk_item_fields, txn) {
                    (BulkItemFields::Inline, serde_json::Value::Object(fields)) => {
                        m.extend(fields);
                    }
                    // A paid item with nothing to read: the client must ask again.
                    (BulkItemFields::Missing, serde_json::Value::Object(_)) => {}
                    (_, txn) => {
                        m.insert(cfg.bulk_item_key.clone(), txn);
                    }
                }
                serde_json::Value::Object(m)
            })
            .collect()
    });
    json(
        200,
        &Envelope::ok("Getting transactions successfully.", Some(data)),
    )
}

async fn by_md5_list(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    bulk(&app, &headers, &body, "md5")
}

async fn by_hash_list(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    bulk(&app, &headers, &body, "hash")
}

fn account(app: &AppState, body: &Bytes) -> Response {
    let Some(id) = obj(body).and_then(|o| text(&o, "accountId")) else {
        return err(5);
    };
    match flow::account_exists(&app.config.bakong, &id) {
        Ok(()) => json(200, &Envelope::<()>::ok("Account ID exists", None)),
        Err(code) => err(code),
    }
}

async fn check_account(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&app, &headers) {
        return err(6);
    }
    account(&app, &body)
}

async fn check_account_open(State(app): State<AppState>, body: Bytes) -> Response {
    account(&app, &body)
}

/// Outcome of a bank-app payment, for scripts and the page.
#[derive(Debug, Serialize)]
pub struct Paid {
    pub hash: String,
    pub md5: String,
    pub status: String,
    pub amount: String,
    pub currency: String,
    #[serde(rename = "toAccountId")]
    pub to_account_id: String,
}

/// Pay through the simulated bank app.
pub fn apply_pay(app: &AppState, req: &PayRequest) -> Result<Paid, flow::Refusal> {
    let now = app.clock.now_ms();
    let t =
        app.with_world(|w| flow::pay(&mut w.bakong, &mut w.rng, &app.config.bakong, req, now))?;
    Ok(Paid {
        hash: t.hash,
        md5: t.md5,
        status: t.status,
        amount: t.amount.to_string(),
        currency: t.currency,
        to_account_id: t.to_account_id,
    })
}

/// `POST /sim/bakong/pay` `{"qr","fromAccountId","amount"?}` → `{"hash","md5"}`.
async fn sim_pay(State(app): State<AppState>, Json(req): Json<PayRequest>) -> Response {
    match apply_pay(&app, &req) {
        Ok(p) => json(200, &p),
        Err(e) => json(
            422,
            &serde_json::json!({"error": e.to_string(), "reason": e.reason()}),
        ),
    }
}
