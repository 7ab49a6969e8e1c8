//! Nagad HTTP surface: the merchant API at its real paths under the
//! configured prefix (`{prefix}/remote-payment-gateway-1.0/api/dfs/…`), the
//! `{reason, message}` refusals, and `POST /sim/nagad/checkout/{ref}` for
//! scripted customers.

use super::codes;
use super::flow::{self, Ctx, CustomerInput, Fail, Headers, PageError};
use super::wire;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// The API base below the origin: `{prefix}/remote-payment-gateway-1.0/api/dfs`.
pub fn api_base(prefix: &str) -> String {
    format!("{prefix}/remote-payment-gateway-1.0/api/dfs")
}

pub fn routes(prefix: &str) -> Router<AppState> {
    let base = api_base(prefix);
    Router::new()
        .route(
            &format!("{base}/check-out/initialize/{{merchant_id}}/{{order_id}}"),
            post(initialize),
        )
        .route(
            &format!("{base}/check-out/complete/{{*payment_ref_id}}"),
            post(complete),
        )
        .route(
            &format!("{base}/verify/payment/{{*payment_ref_id}}"),
            get(verify),
        )
        .route(&format!("{base}/purchase/cancel"), post(cancel))
        .route("/sim/nagad/checkout/{*payment_ref_id}", post(sim_checkout))
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string(body).expect("wire types serialise");
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// A refusal body `{reason, message}` with `status`.
pub fn refusal(status: u16, reason: &str) -> Response {
    json(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &wire::ErrorBody {
            reason: reason.into(),
            message: codes::message(reason).into(),
        },
    )
}

fn respond<T: Serialize>(app: &AppState, r: Result<T, Fail>) -> Response {
    match r {
        Ok(body) => json(StatusCode::OK, &body),
        Err(f) => refusal(f.status.unwrap_or(app.config.nagad.error_status), f.reason),
    }
}

fn headers_of(h: &HeaderMap) -> Headers {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    Headers {
        api_version: get("x-km-api-version"),
        client_type: get("x-km-client-type"),
        client_ip: get("x-km-ip-v4"),
    }
}

/// Runs `f` under the world lock with a flow context.
fn with_ctx<T>(app: &AppState, f: impl FnOnce(&mut flow::NagadState, &mut Ctx) -> T) -> T {
    let now = app.clock.now_ms();
    app.with_world(|w| {
        let mut cx = Ctx {
            now,
            rng: &mut w.rng,
            cfg: &app.config.nagad,
            keys: &app.nagad_keys,
            origin: &app.origin,
        };
        f(&mut w.nagad, &mut cx)
    })
}

/// The reference a wildcard segment names: as sent, or without the trailing
/// `/` some clients append.
pub(crate) fn reference(st: &flow::NagadState, raw: &str) -> String {
    let raw = raw.trim_start_matches('/');
    if st.payments.contains_key(raw) {
        raw.to_string()
    } else {
        raw.strip_suffix('/').unwrap_or(raw).to_string()
    }
}

async fn initialize(
    State(app): State<AppState>,
    Path((merchant_id, order_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = headers_of(&headers);
    let r = with_ctx(&app, |st, cx| {
        flow::initialize(st, cx, &h, &merchant_id, &order_id, &body)
    });
    respond(&app, r)
}

async fn complete(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = headers_of(&headers);
    let r = with_ctx(&app, |st, cx| {
        let id = reference(st, &raw);
        flow::complete(st, cx, &h, &id, &body)
    });
    respond(&app, r)
}

async fn verify(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let h = headers_of(&headers);
    let r = with_ctx(&app, |st, cx| {
        let id = reference(st, &raw);
        flow::verify(st, cx, &h, &id)
    });
    respond(&app, r)
}

#[derive(Deserialize)]
struct CancelQuery {
    #[serde(rename = "paymentRefId")]
    payment_ref_id: Option<String>,
    #[serde(rename = "orderId")]
    order_id: Option<String>,
}

async fn cancel(
    State(app): State<AppState>,
    Query(q): Query<CancelQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = headers_of(&headers);
    let r = with_ctx(&app, |st, cx| {
        flow::cancel(
            st,
            cx,
            &h,
            q.payment_ref_id.as_deref(),
            q.order_id.as_deref(),
            &body,
        )
    });
    respond(&app, r)
}

/// Apply a customer action; shared by the page and the script endpoint.
pub fn apply_customer(
    app: &AppState,
    payment_ref_id: &str,
    input: &CustomerInput,
) -> Result<flow::CustomerOutcome, PageError> {
    with_ctx(app, |st, cx| {
        flow::customer_action(st, cx, payment_ref_id, input)
    })
}

/// `POST /sim/nagad/checkout/{ref}` → `{"redirect", "status", …}`.
async fn sim_checkout(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    Json(input): Json<CustomerInput>,
) -> Response {
    let id = app.read_world(|w| reference(&w.nagad, &raw));
    match apply_customer(&app, &id, &input) {
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
