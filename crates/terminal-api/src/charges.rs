//! The charge routes: start (idempotent on the POS's reference), read,
//! cancel, and ask for a refund. Each one is the engine's step of the same
//! name; nothing here knows a wallet by its name.

use crate::auth::Pos;
use crate::body::Fields;
use crate::error::ApiError;
use crate::server::ApiState;
use crate::views::{ChargeAnswer, ChargeView, ErrorSchema, RefundRequestView};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use serde::Serialize;
use till_core::reason::{Reason, ReasonCode};
use till_core::{Currency, ProviderKind};
use utoipa::ToSchema;

/// `POST /v1/charges`.
#[derive(ToSchema)]
#[allow(dead_code)] // read field by field (`body::Fields`); here for the document
pub struct NewCharge {
    /// Decimal text ("120.50") or a JSON number, at most the currency's
    /// decimals (BDT and USD 2, KHR 0), more than zero.
    #[schema(value_type = String, example = "120.50")]
    amount: String,
    #[schema(example = "BDT")]
    currency: String,
    /// `bkash`, `bakong`, `nagad` or `demo`; absent: the one wallet on that takes the currency.
    #[schema(example = "bkash")]
    wallet: Option<String>,
    /// The POS's order id, 1–64 characters: the same reference answers the
    /// same charge, never a second one.
    #[schema(example = "ORDER-1001")]
    reference: String,
}

/// `POST /v1/charges/{id}/refund-requests`.
#[derive(ToSchema)]
#[allow(dead_code)] // read field by field; here for the document
pub struct NewRefundRequest {
    /// Part of the charge; absent: all that is left to refund.
    #[schema(value_type = Option<String>, example = "50.00")]
    amount: Option<String>,
    /// Shown to the manager who decides.
    reason: Option<String>,
}

fn location(id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/charges/{id}")) {
        h.insert(header::LOCATION, v);
    }
    h
}

/// Starts a charge on the till: the customer pays on the till's customer
/// display (or the wallet's page there). The same `reference` again answers
/// the charge it made (200, `replayed`), never a second one; with another
/// amount, currency or wallet it is refused (409 `reference_conflict`).
#[utoipa::path(
    post,
    path = "/v1/charges",
    tag = "charges",
    request_body = NewCharge,
    responses(
        (status = 201, description = "Started (or ended at once: see `status` and `failure`)", body = ChargeAnswer),
        (status = 200, description = "This reference's charge, made before", body = ChargeAnswer),
        (status = 400, description = "Bad input: `malformed_json`, `invalid_field`, `amount_invalid`, `amount_not_positive`, `amount_decimals`, `amount_too_large`, `currency_unknown`, `wallet_unknown`, `reference_invalid`", body = ErrorSchema),
        (status = 401, description = "`key_missing`, `key_invalid`, `key_revoked`", body = ErrorSchema),
        (status = 409, description = "`reference_conflict`, `till_busy`", body = ErrorSchema),
        (status = 422, description = "What the till cannot take now: `wallet_off`, `wallet_needed`, `currency_not_taken`, `over_unverified_payment`, …", body = ErrorSchema),
        (status = 503, description = "`disk_full`", body = ErrorSchema),
    ),
    security(("pos_key" = []))
)]
pub async fn create_charge(
    State(s): State<ApiState>,
    Pos(pos): Pos,
    body: Bytes,
) -> Result<(StatusCode, HeaderMap, Json<ChargeAnswer>), ApiError> {
    let f = Fields::read(&body, &["amount", "currency", "wallet", "reference"], false)?;
    let reference = f.required_text("reference")?;
    let currency_text = f.required_text("currency")?;
    let currency: Currency = currency_text.parse().map_err(|_| {
        ApiError::new(Reason::new(ReasonCode::CurrencyUnknown).with("currency", &currency_text))
    })?;
    let amount = f
        .amount("amount", currency)?
        .ok_or_else(|| ApiError::field("amount", "required"))?;
    let wallet = f
        .text("wallet")?
        .map(|w| {
            w.parse::<ProviderKind>().map_err(|_| {
                ApiError::new(Reason::new(ReasonCode::WalletUnknown).with("wallet", &w))
            })
        })
        .transpose()?;
    // A replay is answered even while the till is busy (it may be busy with it).
    if s.engine.pos_reference(&pos, &reference)?.is_none() {
        if let Some(busy) = s.busy.as_ref().and_then(|b| b()) {
            return Err(ApiError::new(
                Reason::new(ReasonCode::TillBusy).with("charge", busy),
            ));
        }
    }
    let c = s
        .engine
        .charge_for_pos(&pos, wallet, amount, &reference)
        .await?;
    let status = if c.replayed {
        StatusCode::OK
    } else {
        tracing::info!(payment = %c.payment.id, pos = %pos.name, reference = %reference, "charge started by a POS");
        StatusCode::CREATED
    };
    Ok((
        status,
        location(&c.payment.id),
        Json(ChargeAnswer {
            charge: ChargeView::of(&s.engine, &c.payment),
            replayed: c.replayed,
        }),
    ))
}

/// One charge of this POS, as the till holds it now.
#[utoipa::path(
    get,
    path = "/v1/charges/{id}",
    tag = "charges",
    params(("id" = String, Path, description = "The charge's id")),
    responses(
        (status = 200, body = ChargeView),
        (status = 401, body = ErrorSchema),
        (status = 404, description = "`not_found`: no charge of this POS has this id", body = ErrorSchema),
    ),
    security(("pos_key" = []))
)]
pub async fn get_charge(
    State(s): State<ApiState>,
    Pos(pos): Pos,
    Path(id): Path<String>,
) -> Result<Json<ChargeView>, ApiError> {
    let p = s.engine.pos_payment(&pos, &id)?;
    Ok(Json(ChargeView::of(&s.engine, &p)))
}

/// Cancels a charge the customer has not completed (as the cashier's Esc).
#[utoipa::path(
    post,
    path = "/v1/charges/{id}/cancel",
    tag = "charges",
    params(("id" = String, Path, description = "The charge's id")),
    responses(
        (status = 200, description = "Cancelled", body = ChargeView),
        (status = 401, body = ErrorSchema),
        (status = 404, body = ErrorSchema),
        (status = 409, description = "`not_cancellable`, `already_approved`, `already_paid` (the customer paid this second: it is paid)", body = ErrorSchema),
    ),
    security(("pos_key" = []))
)]
pub async fn cancel_charge(
    State(s): State<ApiState>,
    Pos(pos): Pos,
    Path(id): Path<String>,
) -> Result<Json<ChargeView>, ApiError> {
    let p = s.engine.cancel_for_pos(&pos, &id).await?;
    Ok(Json(ChargeView::of(&s.engine, &p)))
}

/// Asks for (part of) a paid charge back. Nothing is refunded until a
/// manager approves it on the till; the stream then says
/// `refund_request.approved` and, when the wallet has returned the money,
/// `charge.refunded` (or `charge.partially_refunded`).
#[utoipa::path(
    post,
    path = "/v1/charges/{id}/refund-requests",
    tag = "charges",
    params(("id" = String, Path, description = "The charge's id")),
    request_body = NewRefundRequest,
    responses(
        (status = 201, description = "Waiting for a manager", body = RefundRequestView),
        (status = 400, body = ErrorSchema),
        (status = 401, body = ErrorSchema),
        (status = 404, body = ErrorSchema),
        (status = 409, description = "`not_refundable`, `refund_request_waiting`", body = ErrorSchema),
        (status = 422, description = "`refund_over`", body = ErrorSchema),
    ),
    security(("pos_key" = []))
)]
pub async fn request_refund(
    State(s): State<ApiState>,
    Pos(pos): Pos,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<RefundRequestView>), ApiError> {
    let p = s.engine.pos_payment(&pos, &id)?;
    let f = Fields::read(&body, &["amount", "reason"], true)?;
    let amount = f.amount("amount", p.amount.currency())?;
    let reason = f.text("reason")?;
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(ApiError::field("reason", "at most 200 characters"));
    }
    let r = s
        .engine
        .request_refund(&pos, &p.id, amount, reason.as_deref())?;
    tracing::info!(payment = %p.id, request = %r.id, pos = %pos.name, "refund requested by a POS");
    Ok((StatusCode::CREATED, Json(RefundRequestView::of(&r))))
}

/// A wallet this till takes payments with now.
#[derive(Serialize, ToSchema)]
pub struct WalletView {
    #[schema(example = "bakong")]
    pub wallet: String,
    /// How people read its name ("Bakong KHQR").
    pub label: String,
    pub currencies: Vec<String>,
    /// False while the till cannot reach it (absent from the till's view: not contacted yet).
    pub online: Option<bool>,
}

/// The wallets on, with their currencies: what a POS may offer.
#[utoipa::path(
    get,
    path = "/v1/wallets",
    tag = "till",
    responses((status = 200, body = Vec<WalletView>), (status = 401, body = ErrorSchema)),
    security(("pos_key" = []))
)]
pub async fn wallets(State(s): State<ApiState>, _pos: Pos) -> Json<Vec<WalletView>> {
    let health = s.engine.health();
    Json(
        s.engine
            .providers()
            .into_iter()
            .map(|k| WalletView {
                wallet: k.as_str().to_owned(),
                label: s.engine.label_of(k).to_owned(),
                currencies: s
                    .engine
                    .currencies_of(k)
                    .iter()
                    .map(|c| c.code().to_owned())
                    .collect(),
                online: health.get(&k).map(|h| h.online),
            })
            .collect(),
    )
}
