//! bKash HTTP surface: routes at the real paths, the API Gateway behaviour in
//! front of them (401/403/400 `{"message"}` bodies), and mapping of flow
//! results to responses.

use super::codes;
use super::flow::{self, Ctx, CustomerInput, Executed, Fail, PageError};
use super::wire::{self, parse_body, RawBody};
use crate::config::AppKeyMismatch;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::{Json, Router};
use serde::Serialize;

const BASE: &str = "/v1.2.0-beta/tokenized/checkout";

/// All bKash API routes (plus the script endpoint for the customer side).
pub fn routes() -> Router<AppState> {
    let r = |m: MethodRouter<AppState>| m.fallback(missing_token);
    Router::new()
        .route(&format!("{BASE}/token/grant"), r(post(grant)))
        .route(&format!("{BASE}/token/refresh"), r(post(refresh)))
        .route(&format!("{BASE}/create"), r(post(create)))
        .route(&format!("{BASE}/execute"), r(post(execute)))
        .route(&format!("{BASE}/payment/status"), r(post(status)))
        .route(
            &format!("{BASE}/general/searchTransaction"),
            r(post(search)),
        )
        .route(&format!("{BASE}/payment/refund"), r(post(refund_v1)))
        .route(
            &format!("{BASE}/agreement/status"),
            r(post(agreement_status)),
        )
        .route(
            &format!("{BASE}/agreement/cancel"),
            r(post(agreement_cancel)),
        )
        .route(
            "/v2/tokenized-checkout/refund/payment/transaction",
            r(post(refund_v2)),
        )
        .route(
            "/v2/tokenized-checkout/refund/payment/status",
            r(post(refund_status_v2)),
        )
        .route("/sim/bkash/checkout/{payment_id}", post(sim_checkout))
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string(body).expect("wire types serialise");
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// API Gateway answer `{"message": ...}`.
pub fn gateway(status: u16, message: &str) -> Response {
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
        &wire::GatewayError {
            message: message.into(),
        },
    )
}

/// Unknown path or non-POST: what API Gateway says before any bKash logic.
pub async fn missing_token(headers: HeaderMap) -> Response {
    match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(auth) => gateway(
            403,
            &format!(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={auth}"
            ),
        ),
        None => gateway(403, "Missing Authentication Token"),
    }
}

fn fail_response(fail: Fail) -> Response {
    match fail {
        Fail::Status(code) => json(
            StatusCode::OK,
            &wire::StatusError {
                status_message: codes::message(&code).into(),
                status_code: code,
            },
        ),
        Fail::StatusWith(code, message) => json(
            StatusCode::OK,
            &wire::StatusError {
                status_code: code,
                status_message: message,
            },
        ),
        Fail::Gateway(status, message) => gateway(status, &message),
        Fail::V2(code) => json(
            StatusCode::BAD_REQUEST,
            &wire::V2Error {
                internal_code: codes::v2_internal(&code).into(),
                error_message_en: codes::message(&code).into(),
                error_message_bn: None,
                external_code: code,
            },
        ),
    }
}

fn respond<T: Serialize>(r: Result<T, Fail>) -> Response {
    match r {
        Ok(body) => json(StatusCode::OK, &body),
        Err(fail) => fail_response(fail),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Run a business call: gateway auth, body parse, app-key check, then `f`.
fn business<T: Serialize>(
    app: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    v2: bool,
    f: impl FnOnce(&mut flow::BkashState, &mut Ctx, &str, &RawBody) -> Result<T, Fail>,
) -> Response {
    let cfg = &app.config.bkash;
    let Some(raw) = header_str(headers, "authorization").filter(|s| !s.is_empty()) else {
        return gateway(401, "Unauthorized");
    };
    let token = match raw.strip_prefix("Bearer ") {
        Some(_) if cfg.strict_bearer => return gateway(401, "Unauthorized"),
        Some(t) => t.trim(),
        None => raw,
    };
    let Some(body) = parse_body(body) else {
        return gateway(400, "Invalid request body");
    };
    let now = app.clock.now_ms();
    let response = app.with_world(|w| {
        let Some(app_key) = flow::authenticate(&w.bkash, now, token) else {
            return gateway(401, "Unauthorized");
        };
        if header_str(headers, "x-app-key") != Some(app_key.as_str()) {
            return match (cfg.app_key_mismatch, v2) {
                (AppKeyMismatch::Gateway403, _) => gateway(403, "Forbidden"),
                (AppKeyMismatch::StatusCode, false) => fail_response(Fail::Status("2001".into())),
                (AppKeyMismatch::StatusCode, true) => fail_response(Fail::V2("2001".into())),
            };
        }
        let mut cx = Ctx {
            now,
            rng: &mut w.rng,
            cfg,
            origin: &app.origin,
        };
        respond(f(&mut w.bkash, &mut cx, &app_key, &body))
    });
    if let Some(ipn) = &app.ipn {
        let pending = app.with_world(|w| std::mem::take(&mut w.bkash.ipn_outbox));
        for msg in pending {
            ipn.notify(msg, now);
        }
    } else {
        app.with_world(|w| w.bkash.ipn_outbox.clear());
    }
    response
}

fn token_call(app: &AppState, headers: &HeaderMap, body: &Bytes, refresh: bool) -> Response {
    let Some(body) = parse_body(body) else {
        return gateway(400, "Invalid request body");
    };
    let (user, pass) = (
        header_str(headers, "username"),
        header_str(headers, "password"),
    );
    let now = app.clock.now_ms();
    app.with_world(|w| {
        let mut cx = Ctx {
            now,
            rng: &mut w.rng,
            cfg: &app.config.bkash,
            origin: &app.origin,
        };
        if refresh {
            respond(flow::refresh(&mut w.bkash, &mut cx, user, pass, &body))
        } else {
            respond(flow::grant(&mut w.bkash, &mut cx, user, pass, &body))
        }
    })
}

async fn grant(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token_call(&app, &headers, &body, false)
}

async fn refresh(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    token_call(&app, &headers, &body, true)
}

async fn create(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    business(&app, &headers, &body, false, flow::create)
}

async fn execute(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    business(&app, &headers, &body, false, |st, cx, _, b| {
        flow::execute(st, cx, b).map(|e| {
            match e {
                Executed::Payment(p) => serde_json::to_value(p),
                Executed::Agreement(a) => serde_json::to_value(a),
            }
            .expect("wire types serialise")
        })
    })
}

async fn status(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    business(&app, &headers, &body, false, |st, cx, _, b| {
        flow::status(st, cx, b)
    })
}

async fn search(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    business(&app, &headers, &body, false, |st, cx, _, b| {
        flow::search(st, cx, b)
    })
}

async fn refund_v1(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    business(&app, &headers, &body, false, |st, cx, _, b| {
        flow::refund_v1(st, cx, b)
    })
}

async fn refund_v2(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    business(&app, &headers, &body, true, |st, cx, _, b| {
        flow::refund_v2(st, cx, b)
    })
}

async fn refund_status_v2(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    business(&app, &headers, &body, true, |st, cx, _, b| {
        flow::refund_status_v2(st, cx, b)
    })
}

async fn agreement_status(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    business(&app, &headers, &body, false, |st, _, _, b| {
        flow::agreement_status(st, b)
    })
}

async fn agreement_cancel(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    business(&app, &headers, &body, false, |st, cx, _, b| {
        flow::agreement_cancel(st, cx, b)
    })
}

/// Apply a customer action; shared by the hosted page and the script endpoint.
pub fn apply_customer(
    app: &AppState,
    payment_id: &str,
    input: &CustomerInput,
) -> Result<flow::CustomerOutcome, PageError> {
    let now = app.clock.now_ms();
    app.with_world(|w| {
        let mut cx = Ctx {
            now,
            rng: &mut w.rng,
            cfg: &app.config.bkash,
            origin: &app.origin,
        };
        flow::customer_action(&mut w.bkash, &mut cx, payment_id, input)
    })
}

/// `POST /sim/bkash/checkout/{paymentID}` → `{"redirect": ...}`.
async fn sim_checkout(
    State(app): State<AppState>,
    Path(payment_id): Path<String>,
    Json(input): Json<CustomerInput>,
) -> Response {
    match apply_customer(&app, &payment_id, &input) {
        Ok(outcome) => json(StatusCode::OK, &outcome),
        Err(e) => {
            let status = match e {
                PageError::UnknownPayment => StatusCode::NOT_FOUND,
                PageError::AlreadyActed => StatusCode::CONFLICT,
                PageError::Expired => StatusCode::GONE,
                PageError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            };
            json(status, &serde_json::json!({ "error": e.to_string() }))
        }
    }
}
