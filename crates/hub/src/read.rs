//! The read API (bearer token) and `/healthz`. The parameters and answers
//! the terminal reads are `till_sync_proto::read`'s.
//!
//! - `GET /v1/settlements?terminal=&day=&provider=&type=&limit=&after=`:
//!   payment events in arrival order, paged by `after` = the last `cursor`.
//! - `GET /v1/totals?terminal=&day=`: per provider and currency: count,
//!   settled, refunded, net (exact decimal strings).
//! - `GET /v1/terminals`, `GET /v1/terminals/{id}/gaps`, `GET /v1/events/{id}`.
//! - `GET /v1/terminals/{id}/days/{day}`, `GET /v1/days?terminal=&day=&limit=`:
//!   whether a Z-report arrived and whether its totals match ([`crate::days`]).

use crate::admin::token_hash;
use crate::error::ApiError;
use crate::server::Hub;
use crate::store::{SettlementQuery, TotalsQuery};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;
use till_sync_proto::read::{
    SettlementParams, SettlementsPage, Totals, TotalsParams, DEFAULT_LIMIT, MAX_LIMIT,
};
use till_sync_proto::{ErrorCode, EventType};

/// Refuse read requests without a valid `Authorization: Bearer` token.
pub async fn require_token(State(hub): State<Hub>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let ok = match presented {
        None => false,
        Some(token) => {
            let h = token_hash(token);
            if hub.token_hashes.contains(&h) {
                true
            } else {
                // Looked up on every request: a revoked token is refused at
                // once, whichever process revoked it.
                match hub.store.use_token(&h, chrono::Utc::now()).await {
                    Ok(found) => found,
                    Err(e) => return ApiError::from(e).into_response(),
                }
            }
        }
    };
    if !ok {
        let mut resp = ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid read token is required: Authorization: Bearer <token>",
        )
        .into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        return resp;
    }
    next.run(req).await
}

/// `GET /healthz`
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Anything else: a JSON 404.
pub async fn fallback() -> ApiError {
    ApiError::not_found("no such route")
}

fn parse_day(day: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    day.map(|d| {
        till_sync_proto::read::parse_day(d).map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .transpose()
}

/// A page size within 1 to [`MAX_LIMIT`] ([`DEFAULT_LIMIT`] when not given).
fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be 1 to {MAX_LIMIT}"
        )));
    }
    Ok(limit)
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

/// `GET /v1/settlements`
pub async fn settlements(
    State(hub): State<Hub>,
    q: Result<Query<SettlementParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = query(q)?;
    let limit = limit(p.limit)?;
    let kind = match p.kind.as_deref() {
        None => None,
        Some(k) => match EventType::parse(k) {
            Some(t @ (EventType::PaymentSettled | EventType::PaymentRefunded)) => Some(t),
            _ => {
                return Err(ApiError::bad_request(
                    "type must be payment.settled or payment.refunded",
                ))
            }
        },
    };
    let sq = SettlementQuery {
        terminal: p.terminal,
        day: parse_day(p.day.as_deref())?,
        provider: p.provider,
        kind,
        after: p.after,
        limit,
    };
    let items = hub.store.settlements(&sq).await?;
    let next_after = if items.len() == limit as usize {
        items.last().map(|i| i.cursor)
    } else {
        None
    };
    Ok(Json(SettlementsPage { items, next_after }).into_response())
}

/// `GET /v1/totals`
pub async fn totals(
    State(hub): State<Hub>,
    q: Result<Query<TotalsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = query(q)?;
    let tq = TotalsQuery {
        terminal: p.terminal,
        day: parse_day(p.day.as_deref())?,
    };
    let totals = hub.store.totals(&tq).await?;
    Ok(Json(Totals {
        terminal: tq.terminal,
        day: tq.day,
        totals,
    })
    .into_response())
}

/// `GET /v1/terminals`
pub async fn terminals(State(hub): State<Hub>) -> Result<Response, ApiError> {
    let terminals = hub.store.terminals().await?;
    Ok(Json(json!({ "terminals": terminals })).into_response())
}

/// `GET /v1/terminals/{id}/gaps`
pub async fn gaps(State(hub): State<Hub>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match hub.store.progress(&id).await? {
        Some(p) => Ok(Json(p).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownTerminal,
            format!("terminal {id:?} is not registered"),
        )),
    }
}

/// `GET /v1/terminals/{id}/payees`: the payee per provider and every change seen.
pub async fn payees(State(hub): State<Hub>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match hub.store.payees(&id).await? {
        Some(p) => Ok(Json(p).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownTerminal,
            format!("terminal {id:?} is not registered"),
        )),
    }
}

/// `GET /v1/events/{id}`
pub async fn event(State(hub): State<Hub>, Path(id): Path<String>) -> Result<Response, ApiError> {
    match hub.store.event(&id).await? {
        Some(e) => Ok(Json(e).into_response()),
        None => Err(ApiError::not_found(format!("no event with id {id:?}"))),
    }
}

/// `GET /v1/terminals/{id}/days/{day}`
pub async fn day(
    State(hub): State<Hub>,
    Path((id, day)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let day = parse_day(Some(&day))?.expect("a day was given");
    if hub.store.terminal(&id).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownTerminal,
            format!("terminal {id:?} is not registered"),
        ));
    }
    let status = crate::days::day_status(&*hub.store, &id, day).await?;
    Ok(Json(status).into_response())
}

#[derive(Deserialize)]
pub struct DaysParams {
    terminal: Option<String>,
    day: Option<String>,
    limit: Option<u32>,
}

/// `GET /v1/days`
pub async fn days(
    State(hub): State<Hub>,
    q: Result<Query<DaysParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let p = query(q)?;
    let limit = limit(p.limit)?;
    let day = parse_day(p.day.as_deref())?;
    let list = crate::days::days(&*hub.store, p.terminal.as_deref(), day, limit).await?;
    Ok(Json(json!({ "days": list })).into_response())
}
