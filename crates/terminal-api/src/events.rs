//! `GET /v1/events`: the history of this POS's charges as server-sent
//! events, read from the journal in `seq` order — so nothing is lost to a
//! slow reader or a reconnect: `Last-Event-ID` (or `?after=`) resumes after
//! that event, and a stream without either starts with what happens next.
//!
//! The engine's broadcast only wakes the reader; another process on the same
//! journal (a manager's `till api requests approve`) is seen within a second.
//! A stream ends when the server stops or the POS's key is revoked.

use crate::auth::Pos;
use crate::error::ApiError;
use crate::server::ApiState;
use crate::views::{event_type, ChargeView, ErrorSchema, EventView};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Deserialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use till_core::Engine;
use tokio::sync::{broadcast, watch};

/// How often the journal is read when nothing woke the stream.
const POLL: Duration = Duration::from_secs(1);
/// Events read from the journal at a time.
const BATCH: u32 = 100;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct After {
    /// Resume after this event id (as `Last-Event-ID` does; the header wins).
    after: Option<i64>,
}

struct Reader {
    engine: Engine,
    pos_id: String,
    cursor: i64,
    wake: broadcast::Receiver<till_core::EngineEvent>,
    stop: watch::Receiver<bool>,
    ready: VecDeque<Event>,
}

impl Reader {
    /// Reads the journal after the cursor; `false` when the stream must end.
    fn fill(&mut self) -> bool {
        match self.engine.pos_keys() {
            Ok(keys) if keys.iter().any(|k| k.id == self.pos_id && !k.is_revoked()) => {}
            Ok(_) => return false,
            Err(e) => tracing::warn!(error = %e, "cannot read the POS keys"),
        }
        let events = match self.engine.pos_events(&self.pos_id, self.cursor, BATCH) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the POS's events");
                return true;
            }
        };
        for e in events {
            self.cursor = e.seq;
            let Ok(p) = self.engine.payment(&e.payment_id) else {
                continue;
            };
            let view = EventView {
                id: e.seq,
                kind: event_type(&e),
                created_at: e.at,
                charge: ChargeView::of(&self.engine, &p),
            };
            let event = Event::default()
                .id(e.seq.to_string())
                .event(view.kind.clone())
                .json_data(&view);
            match event {
                Ok(ev) => self.ready.push_back(ev),
                Err(err) => tracing::error!(error = %err, "an event did not serialise"),
            }
        }
        true
    }

    async fn next(mut self) -> Option<(Result<Event, Infallible>, Reader)> {
        loop {
            if let Some(ev) = self.ready.pop_front() {
                return Some((Ok(ev), self));
            }
            if *self.stop.borrow() || !self.fill() {
                return None;
            }
            if !self.ready.is_empty() {
                continue;
            }
            tokio::select! {
                _ = self.stop.changed() => return None,
                r = self.wake.recv() => {
                    if let Err(broadcast::error::RecvError::Closed) = r {
                        return None;
                    }
                }
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// The stream of this POS's charges' events (`text/event-stream`). Each
/// event's `id` is increasing, its `event` the type (`charge.paid`, …) and
/// its `data` an [`EventView`].
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "events",
    params(After, ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "Server-sent events; a comment line every 15 s keeps the connection open", content_type = "text/event-stream", body = EventView),
        (status = 401, body = ErrorSchema),
    ),
    security(("pos_key" = []))
)]
pub async fn events(
    State(s): State<ApiState>,
    Pos(pos): Pos,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let header = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    // Subscribed before the cursor is read: nothing falls between the two.
    let wake = s.engine.subscribe();
    let cursor = match header.or(q.after) {
        Some(after) => after.max(0),
        None => s.engine.last_event_seq()?,
    };
    let reader = Reader {
        engine: s.engine.clone(),
        pos_id: pos.id,
        cursor,
        wake,
        stop: s.stop.clone(),
        ready: VecDeque::new(),
    };
    Ok(Sse::new(futures_util::stream::unfold(reader, Reader::next))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
