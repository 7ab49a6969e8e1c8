//! The shop's own POS, as the journal keeps it: paired keys (`pos_keys`, only
//! a hash of each secret), the refund requests a POS makes and a manager
//! decides (`refund_requests`), and the feed of a POS's payments' history
//! that the local API streams (rows of `payment_events`, in `seq` order).
//!
//! Every change here is one transaction with its audit row; a refund request
//! and its decision are also rows of the payment's history (`kind` says which).

use super::payments::{append_event_of_kind, get_tx, read_events, EVENT_COLUMNS};
use super::{log::append_audit, parse_ts, ts, Ctx, Journal, JournalError};
use crate::money::{Amount, Currency};
use crate::payment::{Payment, PaymentEvent, Refund};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A paired POS (its key's public part and what the manager named it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PosKey {
    /// `pos_<ULID>`: the key's public part, named in payments and the audit log.
    pub id: String,
    pub name: String,
    /// The key's last four characters, to tell keys apart in a list.
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl PosKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundRequestState {
    /// Waiting for a manager.
    Pending,
    /// A manager approved it: the refund (`refund_id`) began then.
    Approved,
    Declined,
}

impl RefundRequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundRequestState::Pending => "pending",
            RefundRequestState::Approved => "approved",
            RefundRequestState::Declined => "declined",
        }
    }

    fn parse(s: &str) -> Option<RefundRequestState> {
        [
            RefundRequestState::Pending,
            RefundRequestState::Approved,
            RefundRequestState::Declined,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// A POS's request to refund (part of) one of its payments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundRequest {
    /// `rr_<ULID>`.
    pub id: String,
    pub payment_id: String,
    pub pos_id: String,
    pub pos_name: String,
    pub amount: Amount,
    pub reason: Option<String>,
    pub state: RefundRequestState,
    /// The refund a manager's approval began.
    pub refund_id: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// History kinds of the rows a refund request adds (same state before and after).
pub const KIND_REQUESTED: &str = "refund_request.created";
pub const KIND_APPROVED: &str = "refund_request.approved";
pub const KIND_DECLINED: &str = "refund_request.declined";

const KEY_COLUMNS: &str =
    "id, name, hint, created_at, created_by, revoked_at, revoked_by, last_used_at";

fn corrupt(what: &str) -> JournalError {
    JournalError::Corrupt(what.to_owned())
}

/// The first `N` columns of a row, as text.
fn texts<const N: usize>(r: &Row<'_>) -> rusqlite::Result<[Option<String>; N]> {
    let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = r.get(i)?;
    }
    Ok(out)
}

fn key_of(r: &Row<'_>) -> rusqlite::Result<[Option<String>; 8]> {
    texts(r)
}

fn into_key(c: [Option<String>; 8]) -> Result<PosKey, JournalError> {
    let req = |i: usize| c[i].clone().ok_or_else(|| corrupt("pos key"));
    let opt_ts = |i: usize| c[i].as_deref().map(parse_ts).transpose();
    Ok(PosKey {
        id: req(0)?,
        name: req(1)?,
        hint: req(2)?,
        created_at: parse_ts(&req(3)?)?,
        created_by: req(4)?,
        revoked_at: opt_ts(5)?,
        revoked_by: c[6].clone(),
        last_used_at: opt_ts(7)?,
    })
}

const REQUEST_COLUMNS: &str =
    "r.id, r.payment_id, r.pos_id, k.name, r.amount, r.currency, r.reason, r.state, \
     r.refund_id, r.decided_by, r.decided_at, r.created_at";

fn request_of(r: &Row<'_>) -> rusqlite::Result<[Option<String>; 12]> {
    texts(r)
}

fn into_request(c: [Option<String>; 12]) -> Result<RefundRequest, JournalError> {
    let req = |i: usize| c[i].clone().ok_or_else(|| corrupt("refund request"));
    let currency: Currency = req(5)?.parse().map_err(|_| corrupt("currency"))?;
    Ok(RefundRequest {
        id: req(0)?,
        payment_id: req(1)?,
        pos_id: req(2)?,
        pos_name: req(3)?,
        amount: Amount::from_stored(&req(4)?, currency).map_err(|_| corrupt("amount"))?,
        reason: c[6].clone(),
        state: RefundRequestState::parse(&req(7)?).ok_or_else(|| corrupt("request state"))?,
        refund_id: c[8].clone(),
        decided_by: c[9].clone(),
        decided_at: c[10].as_deref().map(parse_ts).transpose()?,
        created_at: parse_ts(&req(11)?)?,
    })
}

fn request_tx(conn: &rusqlite::Connection, id: &str) -> Result<RefundRequest, JournalError> {
    let row = conn
        .query_row(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM refund_requests r JOIN pos_keys k ON k.id = r.pos_id WHERE r.id = ?1"
            ),
            [id],
            request_of,
        )
        .optional()
        .ctx("reading a refund request")?
        .ok_or_else(|| JournalError::NotFound(id.to_owned()))?;
    into_request(row)
}

impl Journal {
    /// Pairs a POS: its key's row (the secret only as `secret_hash`) and the audit row.
    pub fn add_pos_key(&mut self, key: &PosKey, secret_hash: &str) -> Result<(), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        tx.execute(
            "INSERT INTO pos_keys(id, name, secret_hash, hint, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![key.id, key.name, secret_hash, key.hint, ts(key.created_at), key.created_by],
        )
        .ctx("pairing a POS")?;
        append_audit(
            &tx,
            key.created_at,
            &key.created_by,
            "pos.key_created",
            Some(&key.id),
            Some(&format!("{} (…{})", key.name, key.hint)),
        )?;
        tx.commit().ctx("committing a POS key")
    }

    /// Every paired POS, revoked ones too, oldest first.
    pub fn pos_keys(&self) -> Result<Vec<PosKey>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM pos_keys ORDER BY created_at, id"
            ))
            .ctx("preparing POS keys")?;
        let rows = stmt
            .query_map([], key_of)
            .ctx("listing POS keys")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("listing POS keys")?;
        rows.into_iter().map(into_key).collect()
    }

    /// A POS key and the hash of its secret.
    pub fn pos_key(&self, id: &str) -> Result<Option<(PosKey, String)>, JournalError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {KEY_COLUMNS}, secret_hash FROM pos_keys WHERE id = ?1"),
                [id],
                |r| Ok((key_of(r)?, r.get::<_, String>(8)?)),
            )
            .optional()
            .ctx("reading a POS key")?;
        row.map(|(k, hash)| Ok((into_key(k)?, hash))).transpose()
    }

    /// Revokes a key (for good), audited. A key revoked before stays as it was.
    pub fn revoke_pos_key(
        &mut self,
        id: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<PosKey, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let changed = tx
            .execute(
                "UPDATE pos_keys SET revoked_at = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, ts(at), actor],
            )
            .ctx("revoking a POS key")?;
        let key = tx
            .query_row(
                &format!("SELECT {KEY_COLUMNS} FROM pos_keys WHERE id = ?1"),
                [id],
                key_of,
            )
            .optional()
            .ctx("reading a POS key")?
            .ok_or_else(|| JournalError::NotFound(id.to_owned()))
            .and_then(into_key)?;
        if changed == 1 {
            append_audit(
                &tx,
                at,
                actor,
                "pos.key_revoked",
                Some(id),
                Some(&format!("{} (…{})", key.name, key.hint)),
            )?;
        }
        tx.commit().ctx("committing a revocation")?;
        Ok(key)
    }

    /// Notes that a key was used (at most once a minute: a busy POS does not
    /// write on every request).
    pub fn touch_pos_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), JournalError> {
        let before = ts(at - chrono::Duration::seconds(60));
        self.conn
            .execute(
                "UPDATE pos_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?3)",
                params![id, ts(at), before],
            )
            .ctx("noting a POS key's use")?;
        Ok(())
    }

    /// The payment a POS made with `reference`, if any.
    pub fn payment_of_origin(
        &self,
        pos_id: &str,
        reference: &str,
    ) -> Result<Option<Payment>, JournalError> {
        let id: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM payments WHERE origin_pos = ?1 AND origin_reference = ?2",
                params![pos_id, reference],
                |r| r.get(0),
            )
            .optional()
            .ctx("looking up a POS reference")?;
        id.map(|id| self.payment(&id)).transpose()
    }

    /// Writes a POS's refund request (one waiting per payment: the unique
    /// index refuses a second), its history row and its audit row.
    pub fn add_refund_request(
        &mut self,
        id: &str,
        payment_id: &str,
        pos: &PosKey,
        amount: Amount,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<RefundRequest, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let p = get_tx(&tx, payment_id)?;
        tx.execute(
            "INSERT INTO refund_requests(id, payment_id, pos_id, amount, currency, reason, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
            params![id, payment_id, pos.id, amount.wire(), amount.currency().code(), reason, ts(at)],
        )
        .ctx("writing a refund request")?;
        append_marked_event(
            &tx,
            &p,
            KIND_REQUESTED,
            &format!(
                "refund of {} requested by {} ({id})",
                amount.wire(),
                pos.name
            ),
            at,
        )?;
        append_audit(
            &tx,
            at,
            &format!("pos:{}", pos.id),
            "refund_request.created",
            Some(payment_id),
            Some(&format!(
                "{id}: {} by {} ({})",
                amount,
                pos.name,
                reason.unwrap_or("no reason given")
            )),
        )?;
        let r = request_tx(&tx, id)?;
        tx.commit().ctx("committing a refund request")?;
        Ok(r)
    }

    pub fn refund_request(&self, id: &str) -> Result<Option<RefundRequest>, JournalError> {
        match request_tx(&self.conn, id) {
            Ok(r) => Ok(Some(r)),
            Err(JournalError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Refund requests, newest first: those waiting only, or all of them;
    /// of one payment when `payment_id` is given.
    pub fn refund_requests(
        &self,
        pending_only: bool,
        payment_id: Option<&str>,
    ) -> Result<Vec<RefundRequest>, JournalError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM refund_requests r JOIN pos_keys k ON k.id = r.pos_id
                 WHERE (?1 = 0 OR r.state = 'pending') AND (?2 IS NULL OR r.payment_id = ?2)
                 ORDER BY r.created_at DESC, r.id DESC LIMIT 500"
            ))
            .ctx("preparing refund requests")?;
        let rows = stmt
            .query_map(params![i64::from(pending_only), payment_id], request_of)
            .ctx("listing refund requests")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("listing refund requests")?;
        rows.into_iter().map(into_request).collect()
    }

    /// A manager approves a waiting request: in one transaction the refund
    /// begins (`refund_id`, as [`Journal::begin_refund`] would), the request
    /// is marked approved, its history row and the audit row are written.
    /// Sending the refund is the engine's, afterwards.
    pub fn approve_refund_request(
        &mut self,
        id: &str,
        refund_id: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(Payment, Refund, RefundRequest), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let req = request_tx(&tx, id)?;
        if req.state != RefundRequestState::Pending {
            return Err(JournalError::Refused(format!(
                "refund request {id} is {} already",
                req.state.as_str()
            )));
        }
        // The approval first, then the refund it begins: the history reads in that order.
        append_marked_event(
            &tx,
            &get_tx(&tx, &req.payment_id)?,
            KIND_APPROVED,
            &format!("refund request {id} approved by {actor} (refund {refund_id})"),
            at,
        )?;
        super::payments::begin_refund_tx(
            &tx,
            &req.payment_id,
            refund_id,
            req.amount,
            req.reason.as_deref(),
            actor,
            at,
        )?;
        tx.execute(
            "UPDATE refund_requests SET state = 'approved', refund_id = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
            params![id, refund_id, actor, ts(at)],
        )
        .ctx("approving a refund request")?;
        let p = get_tx(&tx, &req.payment_id)?;
        append_audit(
            &tx,
            at,
            actor,
            "refund_request.approved",
            Some(&req.payment_id),
            Some(&format!("{id}: {} for {}", req.amount, req.pos_name)),
        )?;
        let refund = super::payments::refund_tx(&tx, refund_id)?;
        let req = request_tx(&tx, id)?;
        tx.commit().ctx("committing an approval")?;
        Ok((p, refund, req))
    }

    /// A manager declines a waiting request (nothing is refunded), audited.
    pub fn decline_refund_request(
        &mut self,
        id: &str,
        actor: &str,
        why: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<RefundRequest, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let req = request_tx(&tx, id)?;
        if req.state != RefundRequestState::Pending {
            return Err(JournalError::Refused(format!(
                "refund request {id} is {} already",
                req.state.as_str()
            )));
        }
        tx.execute(
            "UPDATE refund_requests SET state = 'declined', decided_by = ?2, decided_at = ?3 WHERE id = ?1",
            params![id, actor, ts(at)],
        )
        .ctx("declining a refund request")?;
        let p = get_tx(&tx, &req.payment_id)?;
        append_marked_event(
            &tx,
            &p,
            KIND_DECLINED,
            &format!(
                "refund request {id} declined by {actor}{}",
                why.map(|w| format!(": {w}")).unwrap_or_default()
            ),
            at,
        )?;
        append_audit(
            &tx,
            at,
            actor,
            "refund_request.declined",
            Some(&req.payment_id),
            Some(&format!(
                "{id}: {} for {} ({})",
                req.amount,
                req.pos_name,
                why.unwrap_or("no reason given")
            )),
        )?;
        let req = request_tx(&tx, id)?;
        tx.commit().ctx("committing a decline")?;
        Ok(req)
    }

    /// The history rows of `pos_id`'s payments after `after` (a `seq`),
    /// oldest first, at most `limit`: the local API's event stream.
    pub fn pos_events(
        &self,
        pos_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<PaymentEvent>, JournalError> {
        let columns = EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        read_events(
            &self.conn,
            &format!(
                "SELECT {columns} FROM payment_events e JOIN payments p ON p.id = e.payment_id
                 WHERE p.origin_pos = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3"
            ),
            params![pos_id, after, limit],
        )
    }

    /// The newest history row's `seq` (0: none): where a stream that asks
    /// for no past starts.
    pub fn last_event_seq(&self) -> Result<i64, JournalError> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM payment_events",
                [],
                |r| r.get(0),
            )
            .ctx("reading the last event")
    }

    /// Audits a request to the local API that was refused for its key
    /// (`key` is the key id it named, when it named one).
    pub fn audit_pos_refusal(
        &self,
        key: Option<&str>,
        code: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        append_audit(
            &self.conn,
            at,
            "api",
            "pos.key_refused",
            key,
            Some(&format!("{code}: {detail}")),
        )
    }
}

/// A history row that keeps the payment's state and says what happened (`kind`).
fn append_marked_event(
    tx: &rusqlite::Transaction<'_>,
    p: &Payment,
    kind: &str,
    detail: &str,
    at: DateTime<Utc>,
) -> Result<(), JournalError> {
    append_event_of_kind(
        tx,
        &p.id,
        Some(p.state),
        p.state,
        Some(detail),
        Some(kind),
        at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::payments::{Change, NewPayment};
    use crate::journal::test_context;
    use crate::payment::ProviderKind;

    fn key(j: &mut Journal, id: &str) -> PosKey {
        let k = PosKey {
            id: id.into(),
            name: format!("POS {id}"),
            hint: "abcd".into(),
            created_at: Utc::now(),
            created_by: "manager".into(),
            revoked_at: None,
            revoked_by: None,
            last_used_at: None,
        };
        j.add_pos_key(&k, "hash").unwrap();
        k
    }

    fn charge(j: &mut Journal, pos: &str, reference: &str) -> Result<Payment, JournalError> {
        j.create_payment(
            NewPayment {
                id: ulid::Ulid::new().to_string(),
                provider: ProviderKind::Demo,
                amount: Amount::parse("10", Currency::Bdt).unwrap(),
                operator: "pos".into(),
                at: Utc::now(),
                origin: Some((pos.into(), reference.into())),
            },
            |_, _| Ok::<_, JournalError>(Change::default()),
        )
        .and_then(|r| r)
    }

    /// One payment per POS and reference: refused before anything is written
    /// (no invoice number spent), and the unique index refuses one written past the check.
    #[test]
    fn a_reference_is_one_payment_per_pos() {
        let mut j = Journal::open_in_memory(test_context()).unwrap();
        key(&mut j, "pos_a");
        key(&mut j, "pos_b");
        let first = charge(&mut j, "pos_a", "R1").unwrap();
        assert_eq!(first.origin.as_ref().unwrap().pos_name, "POS pos_a");
        match charge(&mut j, "pos_a", "R1") {
            Err(JournalError::OriginTaken { id }) => assert_eq!(id, first.id),
            other => panic!("a second payment for R1: {other:?}"),
        }
        let other = charge(&mut j, "pos_b", "R1").unwrap();
        assert_eq!(
            other.invoice, "t1-000002",
            "the refused one took no invoice number"
        );
        let forced = j.conn.execute(
            "UPDATE payments SET origin_pos = 'pos_a' WHERE id = ?1",
            [&other.id],
        );
        assert!(forced.is_err(), "the unique index stands behind the check");
        assert_eq!(
            j.payment_of_origin("pos_a", "R1").unwrap().unwrap().id,
            first.id
        );
        // A refund request, and a second one while it waits: the index refuses it.
        j.conn
            .execute(
                "UPDATE payments SET state = 'settled' WHERE id = ?1",
                [&first.id],
            )
            .unwrap();
        let pos = j.pos_key("pos_a").unwrap().unwrap().0;
        let amount = Amount::parse("4", Currency::Bdt).unwrap();
        let r = j
            .add_refund_request("rr_1", &first.id, &pos, amount, None, Utc::now())
            .unwrap();
        assert_eq!(r.state, RefundRequestState::Pending);
        assert!(j
            .add_refund_request("rr_2", &first.id, &pos, amount, None, Utc::now())
            .is_err());
        let declined = j
            .decline_refund_request("rr_1", "manager", Some("no"), Utc::now())
            .unwrap();
        assert_eq!(declined.state, RefundRequestState::Declined);
        assert!(j
            .decline_refund_request("rr_1", "manager", None, Utc::now())
            .is_err());
        // Its history rows say what they were, for the API's stream.
        let kinds: Vec<_> = j
            .pos_events("pos_a", 0, 100)
            .unwrap()
            .into_iter()
            .filter_map(|e| e.kind)
            .collect();
        assert_eq!(kinds, [KIND_REQUESTED, KIND_DECLINED]);
        assert!(j
            .pos_events("pos_b", 0, 100)
            .unwrap()
            .iter()
            .all(|e| e.payment_id == other.id));
    }
}
