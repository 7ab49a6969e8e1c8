//! The manager window's commands for the shop's POS (the local terminal
//! API): pairing keys (the key is returned once, to be shown once) and
//! deciding the refund requests a POS made. Each asks for an unlocked PIN
//! session, and the journal's audit row is that session's.

use super::manager::require;
use crate::terminal::{CodedError, Shared};
use crate::views::{local_time, shop_tz, PaymentView};
use serde::Serialize;
use tauri::State;
use till_core::journal::pos::{PosKey, RefundRequest};

/// A key just made: `token` is shown this once.
#[derive(Debug, Serialize)]
pub struct NewKeyView {
    pub key: PosKey,
    pub token: String,
}

#[derive(Debug, Serialize)]
pub struct RefundRequestView {
    #[serde(flatten)]
    pub request: RefundRequest,
    pub amount_display: String,
    pub time: String,
}

/// The paired POS and whether the API is served (`[api] enabled`, listen address).
#[derive(Debug, Serialize)]
pub struct PosOverview {
    pub keys: Vec<PosKey>,
    pub enabled: bool,
    pub listen: String,
    pub requests: Vec<RefundRequestView>,
}

#[tauri::command]
pub async fn manager_pos(terminal: State<'_, Shared>) -> Result<PosOverview, CodedError> {
    require(&terminal)?;
    let engine = terminal.engine().await?;
    let tz = shop_tz(&engine);
    Ok(PosOverview {
        keys: engine.pos_keys()?,
        enabled: engine.config().api.enabled,
        listen: engine.config().api.listen.clone(),
        requests: engine
            .refund_requests(false)?
            .into_iter()
            .take(50)
            .map(|r| RefundRequestView {
                amount_display: r.amount.display(),
                time: local_time(r.created_at, tz),
                request: r,
            })
            .collect(),
    })
}

#[tauri::command]
pub async fn manager_pos_pair(
    terminal: State<'_, Shared>,
    name: String,
) -> Result<NewKeyView, CodedError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let made = engine.add_pos_key(&name, session.actor())?;
    Ok(NewKeyView {
        key: made.key,
        token: made.token,
    })
}

#[tauri::command]
pub async fn manager_pos_revoke(
    terminal: State<'_, Shared>,
    id: String,
) -> Result<PosKey, CodedError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    Ok(engine.revoke_pos_key(&id, session.actor())?)
}

/// Approve: the refund is made now (sent to the wallet once).
#[tauri::command]
pub async fn manager_pos_approve(
    terminal: State<'_, Shared>,
    id: String,
) -> Result<PaymentView, CodedError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    let (p, _) = engine.approve_refund_request(&id, session.actor()).await?;
    Ok(PaymentView::of(&p, &engine))
}

#[tauri::command]
pub async fn manager_pos_decline(
    terminal: State<'_, Shared>,
    id: String,
    why: Option<String>,
) -> Result<(), CodedError> {
    let session = require(&terminal)?;
    let engine = terminal.engine().await?;
    engine.decline_refund_request(&id, session.actor(), why.as_deref())?;
    Ok(())
}
