//! Payments, their event history and refunds.

use super::{outbox, parse_ts, ts, Ctx, Journal, JournalContext, JournalError};
use crate::business_day::business_day;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, PaymentEvent, ProviderKind, ProviderRefs, Refund, RefundState};
use crate::state::PaymentState;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, OptionalExtension, Row, Transaction};

/// Fields a step may set on a payment (`None` leaves a field as it is).
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Each reference that is `Some` is set; the others stay.
    pub refs: ProviderRefs,
    pub customer_code: Option<String>,
    pub customer_page: Option<String>,
    pub callback_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub completion_sent_at: Option<DateTime<Utc>>,
    pub offline: Option<bool>,
    pub flag: Option<String>,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    /// Why it ended so, as a code the screens translate.
    pub failure: Option<crate::reason::Reason>,
    /// The receiving account; set once, when the payment is created.
    pub payee: Option<String>,
}

/// A payment about to be written.
#[derive(Clone, Debug)]
pub struct NewPayment {
    pub id: String,
    pub provider: ProviderKind,
    pub amount: Amount,
    pub operator: String,
    pub at: DateTime<Utc>,
    /// The paired POS (its key id) and its reference, for a charge the local
    /// API asked for; one payment per pair (`JournalError::OriginTaken`).
    pub origin: Option<(String, String)>,
}

/// The day's cap on unverified money a new offline payment must stay under.
#[derive(Clone, Copy, Debug)]
pub struct UnverifiedCap {
    pub day: NaiveDate,
    pub limit: Amount,
}

/// States of an offline code whose outcome Bakong has not verified: still
/// waiting, or cancelled at the till (the customer's phone may still pay it).
/// Settled, flagged, expired (checked at its expiry) and failed codes were
/// answered by Bakong.
const UNVERIFIED_STATES: &str = "'created','awaiting_customer','cancelled'";

fn unverified_total_on(
    conn: &rusqlite::Connection,
    day: NaiveDate,
    currency: Currency,
) -> Result<Amount, JournalError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT amount FROM payments WHERE business_day = ?1 AND currency = ?2 AND offline = 1
             AND state IN ({UNVERIFIED_STATES})"
        ))
        .ctx("preparing unverified total")?;
    let amounts = stmt
        .query_map(params![day.to_string(), currency.code()], |r| {
            r.get::<_, String>(0)
        })
        .ctx("summing unverified payments")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("summing unverified payments")?;
    let mut total = Amount::zero(currency);
    for a in amounts {
        let a = Amount::from_stored(&a, currency).map_err(|_| corrupt("amount"))?;
        total = total.checked_add(a).map_err(|_| corrupt("amount"))?;
    }
    Ok(total)
}

/// Which payments to list.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub day: Option<NaiveDate>,
    pub provider: Option<ProviderKind>,
    pub state: Option<PaymentState>,
    /// Matches our id, the invoice or any provider reference (prefix).
    pub search: Option<String>,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

pub(super) const COLUMNS: &str = "id, provider, amount, currency, state, invoice, provider_ref, transaction_ref, external_ref, customer_code, \
    customer_page, callback_url, expires_at, completion_sent_at, offline, refunded, flag, failure_code, failure_reason, \
    operator, business_day, created_at, updated_at, payee, failure, \
    origin_pos, (SELECT name FROM pos_keys WHERE pos_keys.id = payments.origin_pos), origin_reference";

/// How many columns [`COLUMNS`] names (a query may select more after them).
pub(super) const COLUMN_COUNT: usize = 28;

/// Where `offline` (the one integer) is in [`COLUMNS`].
const OFFLINE: usize = 14;

pub(super) struct RawPayment {
    cols: Vec<Option<String>>,
    offline: bool,
}

pub(super) fn raw(row: &Row<'_>) -> rusqlite::Result<RawPayment> {
    let mut cols = Vec::with_capacity(COLUMN_COUNT);
    for i in 0..COLUMN_COUNT {
        if i == OFFLINE {
            cols.push(None);
            continue;
        }
        cols.push(row.get::<_, Option<String>>(i)?);
    }
    Ok(RawPayment {
        cols,
        offline: row.get::<_, i64>(OFFLINE)? != 0,
    })
}

fn corrupt(what: &str) -> JournalError {
    JournalError::Corrupt(what.to_owned())
}

impl RawPayment {
    pub(super) fn into_payment(self) -> Result<Payment, JournalError> {
        let c = self.cols;
        let req = |i: usize, name: &str| c[i].clone().ok_or_else(|| corrupt(name));
        let currency: Currency = req(3, "currency")?
            .parse()
            .map_err(|_| corrupt("currency"))?;
        let opt_ts = |i: usize| c[i].as_deref().map(parse_ts).transpose();
        Ok(Payment {
            id: req(0, "id")?,
            provider: req(1, "provider")?
                .parse()
                .map_err(|_| corrupt("provider"))?,
            amount: Amount::from_stored(&req(2, "amount")?, currency)
                .map_err(|_| corrupt("amount"))?,
            state: req(4, "state")?.parse().map_err(|_| corrupt("state"))?,
            invoice: req(5, "invoice")?,
            refs: ProviderRefs {
                lookup: c[6].clone(),
                transaction: c[7].clone(),
                external: c[8].clone(),
            },
            customer_code: c[9].clone(),
            customer_page: c[10].clone(),
            callback_url: c[11].clone(),
            expires_at: opt_ts(12)?,
            completion_sent_at: opt_ts(13)?,
            offline: self.offline,
            refunded: Amount::from_stored(&req(15, "refunded")?, currency)
                .map_err(|_| corrupt("refunded"))?,
            flag: c[16].clone(),
            failure_code: c[17].clone(),
            failure_reason: c[18].clone(),
            operator: req(19, "operator")?,
            business_day: req(20, "business_day")?
                .parse()
                .map_err(|_| corrupt("business_day"))?,
            created_at: parse_ts(&req(21, "created_at")?)?,
            updated_at: parse_ts(&req(22, "updated_at")?)?,
            payee: c[23].clone(),
            // Unreadable (written by a newer Till in another shape): shown
            // from the state alone, as rows from before it was kept.
            failure: c[24].as_deref().and_then(|f| serde_json::from_str(f).ok()),
            origin: match (&c[25], &c[26], &c[27]) {
                (Some(pos_id), Some(pos_name), Some(reference)) => Some(crate::payment::Origin {
                    pos_id: pos_id.clone(),
                    pos_name: pos_name.clone(),
                    reference: reference.clone(),
                }),
                _ => None,
            },
        })
    }
}

pub(crate) fn get_tx(tx: &Transaction<'_>, id: &str) -> Result<Payment, JournalError> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"),
        [id],
        raw,
    )
    .optional()
    .ctx("reading a payment")?
    .ok_or_else(|| JournalError::NotFound(id.to_owned()))?
    .into_payment()
}

fn apply_change(
    tx: &Transaction<'_>,
    id: &str,
    change: &Change,
    at: DateTime<Utc>,
) -> Result<(), JournalError> {
    tx.execute(
        "UPDATE payments SET
            provider_ref = COALESCE(?2, provider_ref),
            transaction_ref = COALESCE(?3, transaction_ref),
            external_ref = COALESCE(?4, external_ref),
            customer_code = COALESCE(?5, customer_code),
            customer_page = COALESCE(?6, customer_page),
            callback_url = COALESCE(?7, callback_url),
            expires_at = COALESCE(?8, expires_at),
            completion_sent_at = COALESCE(?9, completion_sent_at),
            offline = COALESCE(?10, offline),
            flag = COALESCE(?11, flag),
            failure_code = COALESCE(?12, failure_code),
            failure_reason = COALESCE(?13, failure_reason),
            updated_at = ?14,
            payee = COALESCE(payee, ?15),
            failure = COALESCE(?16, failure)
         WHERE id = ?1",
        params![
            id,
            change.refs.lookup,
            change.refs.transaction,
            change.refs.external,
            change.customer_code,
            change.customer_page,
            change.callback_url,
            change.expires_at.map(ts),
            change.completion_sent_at.map(ts),
            change.offline.map(i64::from),
            change.flag,
            change.failure_code,
            change.failure_reason,
            ts(at),
            change.payee,
            change
                .failure
                .as_ref()
                .map(|f| serde_json::to_string(f).expect("a reason serialises")),
        ],
    )
    .ctx("updating a payment")?;
    Ok(())
}

/// The columns [`read_events`] reads, in its order.
pub(super) const EVENT_COLUMNS: &str = "seq, payment_id, at, from_state, to_state, detail, kind";

/// History rows selected by `sql` (its columns: [`EVENT_COLUMNS`]).
pub(super) fn read_events(
    conn: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<PaymentEvent>, JournalError> {
    let mut stmt = conn.prepare_cached(sql).ctx("preparing events")?;
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let rows = stmt
        .query_map(params, |r| {
            Ok::<Row, _>((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .ctx("reading events")?
        .collect::<Result<Vec<_>, _>>()
        .ctx("reading events")?;
    rows.into_iter()
        .map(|(seq, payment_id, at, from, to, detail, kind)| {
            Ok(PaymentEvent {
                seq,
                payment_id,
                at: parse_ts(&at)?,
                from_state: from
                    .map(|s| s.parse().map_err(|_| corrupt("from_state")))
                    .transpose()?,
                to_state: to.parse().map_err(|_| corrupt("to_state"))?,
                detail,
                kind,
            })
        })
        .collect()
}

fn append_event(
    tx: &Transaction<'_>,
    id: &str,
    from: Option<PaymentState>,
    to: PaymentState,
    detail: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), JournalError> {
    append_event_of_kind(tx, id, from, to, detail, None, at)
}

/// [`append_event`] with the row's `kind` (what a row that keeps the state was).
pub(super) fn append_event_of_kind(
    tx: &Transaction<'_>,
    id: &str,
    from: Option<PaymentState>,
    to: PaymentState,
    detail: Option<&str>,
    kind: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), JournalError> {
    tx.execute(
        "INSERT INTO payment_events(payment_id, at, from_state, to_state, detail, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, ts(at), from.map(|s| s.as_str()), to.as_str(), detail, kind],
    )
    .ctx("appending a payment event")?;
    Ok(())
}

impl Journal {
    /// Writes a new payment in state `created` with a fresh invoice number, all
    /// in one transaction. `fill` sees the invoice number and our id and returns
    /// the fields to store with it (for KHQR: the code and its MD5, computed
    /// before anything is shown).
    pub fn create_payment<E>(
        &mut self,
        new: NewPayment,
        fill: impl FnOnce(&str, &str) -> Result<Change, E>,
    ) -> Result<Result<Payment, E>, JournalError> {
        self.create_payment_capped(new, None, fill)
    }

    /// [`Journal::create_payment`] for a payment shown while its provider
    /// cannot verify it: the day's unverified total is checked against `cap`
    /// in the same transaction that writes the payment, so two charges at
    /// once cannot both slip under it.
    pub fn create_payment_capped<E>(
        &mut self,
        new: NewPayment,
        cap: Option<UnverifiedCap>,
        fill: impl FnOnce(&str, &str) -> Result<Change, E>,
    ) -> Result<Result<Payment, E>, JournalError> {
        let day = business_day(new.at, self.ctx.timezone, self.ctx.cutoff);
        // Immediate: the write lock is taken before the cap is read.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .ctx("starting a transaction")?;
        if let Some(cap) = cap {
            let so_far = unverified_total_on(&tx, cap.day, new.amount.currency())?;
            let after = so_far
                .checked_add(new.amount)
                .map_err(|_| corrupt("amount"))?;
            if after.value() > cap.limit.value() {
                return Err(JournalError::OverUnverifiedCap {
                    after,
                    limit: cap.limit,
                });
            }
        }
        if let Some((pos, reference)) = &new.origin {
            // Under the write lock (immediate): no second payment can slip in
            // between this look and the insert; the unique index is the backstop.
            let taken: Option<String> = tx
                .query_row(
                    "SELECT id FROM payments WHERE origin_pos = ?1 AND origin_reference = ?2",
                    params![pos, reference],
                    |r| r.get(0),
                )
                .optional()
                .ctx("looking up a POS reference")?;
            if let Some(id) = taken {
                return Err(JournalError::OriginTaken { id });
            }
        }
        let counter: i64 = tx
            .query_row(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'invoice_counter' RETURNING CAST(value AS INTEGER)",
                [],
                |r| r.get(0),
            )
            .ctx("allocating an invoice number")?;
        let invoice = format!("{}-{:06}", self.ctx.terminal_id, counter);
        let change = match fill(&invoice, &new.id) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        tx.execute(
            "INSERT INTO payments(id, provider, amount, currency, state, invoice, operator, business_day, created_at, updated_at, origin_pos, origin_reference)
             VALUES (?1, ?2, ?3, ?4, 'created', ?5, ?6, ?7, ?8, ?8, ?9, ?10)",
            params![
                new.id,
                new.provider.as_str(),
                new.amount.wire(),
                new.amount.currency().code(),
                invoice,
                new.operator,
                day.to_string(),
                ts(new.at),
                new.origin.as_ref().map(|o| &o.0),
                new.origin.as_ref().map(|o| &o.1),
            ],
        )
        .ctx("writing a new payment")?;
        apply_change(&tx, &new.id, &change, new.at)?;
        append_event(&tx, &new.id, None, PaymentState::Created, None, new.at)?;
        let p = get_tx(&tx, &new.id)?;
        tx.commit().ctx("committing a new payment")?;
        Ok(Ok(p))
    }

    /// Moves a payment to `to` (checked against the state machine), setting
    /// `change`, appending the event and, for `settled`, enqueueing the outbox
    /// record — one transaction.
    pub fn transition(
        &mut self,
        id: &str,
        to: PaymentState,
        change: &Change,
        detail: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Payment, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let before = get_tx(&tx, id)?;
        before.state.check_transition(to)?;
        apply_change(&tx, id, change, at)?;
        tx.execute(
            "UPDATE payments SET state = ?2 WHERE id = ?1",
            params![id, to.as_str()],
        )
        .ctx("changing a payment's state")?;
        append_event(&tx, id, Some(before.state), to, detail, at)?;
        if to == PaymentState::Settled && before.state != PaymentState::RefundPending {
            // Booked into its own day, or the next open one if that is closed.
            let booked = super::days::booking_day(&tx, before.business_day)?;
            tx.execute(
                "UPDATE payments SET booked_day = ?2 WHERE id = ?1 AND booked_day IS NULL",
                params![id, booked.to_string()],
            )
            .ctx("booking a settlement")?;
        }
        let after = get_tx(&tx, id)?;
        if to == PaymentState::Settled && before.state != PaymentState::RefundPending {
            outbox::enqueue(
                &tx,
                &self.ctx,
                outbox::EventType::PaymentSettled,
                &after,
                None,
                at,
            )?;
        }
        tx.commit().ctx("committing a state change")?;
        Ok(after)
    }

    /// Sets fields without changing state; the history records `detail`.
    pub fn annotate(
        &mut self,
        id: &str,
        change: &Change,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<Payment, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let before = get_tx(&tx, id)?;
        apply_change(&tx, id, change, at)?;
        append_event(&tx, id, Some(before.state), before.state, Some(detail), at)?;
        let after = get_tx(&tx, id)?;
        tx.commit().ctx("committing an annotation")?;
        Ok(after)
    }

    /// Marks the provider's completion call (bKash execute) as sent, unless it
    /// already was. Returns `false` when it had been sent before (the caller
    /// must then resolve by status).
    pub fn claim_completion(&mut self, id: &str, at: DateTime<Utc>) -> Result<bool, JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let before = get_tx(&tx, id)?;
        if before.completion_sent_at.is_some() {
            return Ok(false);
        }
        let change = Change {
            completion_sent_at: Some(at),
            ..Change::default()
        };
        apply_change(&tx, id, &change, at)?;
        append_event(
            &tx,
            id,
            Some(before.state),
            before.state,
            Some("completion sent"),
            at,
        )?;
        tx.commit().ctx("committing completion_sent_at")?;
        Ok(true)
    }

    pub fn payment(&self, id: &str) -> Result<Payment, JournalError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM payments WHERE id = ?1"),
                [id],
                raw,
            )
            .optional()
            .ctx("reading a payment")?
            .ok_or_else(|| JournalError::NotFound(id.to_owned()))?
            .into_payment()
    }

    /// Finds a payment by our id, its invoice or a provider reference.
    pub fn find(&self, key: &str) -> Result<Option<Payment>, JournalError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM payments WHERE id = ?1 OR invoice = ?1 OR provider_ref = ?1 OR transaction_ref = ?1 OR external_ref = ?1 LIMIT 1"
                ),
                [key],
                raw,
            )
            .optional()
            .ctx("finding a payment")?
            .map(RawPayment::into_payment)
            .transpose()
    }

    /// Payments whose outcome the engine must still find out, oldest first.
    pub fn open_payments(&self) -> Result<Vec<Payment>, JournalError> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM payments WHERE state IN ('created','awaiting_customer','authorized','refund_pending') ORDER BY created_at"
            ),
            [],
        )
    }

    fn query(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Payment>, JournalError> {
        let mut stmt = self.conn.prepare_cached(sql).ctx("preparing a query")?;
        let rows = stmt
            .query_map(params, raw)
            .ctx("listing payments")?
            .collect::<Result<Vec<_>, _>>()
            .ctx("listing payments")?;
        rows.into_iter().map(RawPayment::into_payment).collect()
    }

    /// Newest first, one page.
    pub fn list(&self, f: &ListFilter) -> Result<Vec<Payment>, JournalError> {
        let size = f.page_size.clamp(1, 500);
        let offset = (f.page.max(1) - 1) * size;
        let search = f.search.as_ref().map(|s| format!("{}%", s.trim()));
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM payments
                 WHERE (?1 IS NULL OR business_day = ?1) AND (?2 IS NULL OR provider = ?2) AND (?3 IS NULL OR state = ?3)
                   AND (?4 IS NULL OR id LIKE ?4 OR invoice LIKE ?4 OR provider_ref LIKE ?4 OR transaction_ref LIKE ?4 OR external_ref LIKE ?4)
                 ORDER BY created_at DESC, id DESC LIMIT ?5 OFFSET ?6"
            ),
            params![
                f.day.map(|d| d.to_string()),
                f.provider.map(|p| p.as_str()),
                f.state.map(|s| s.as_str()),
                search,
                size,
                offset
            ],
        )
    }

    /// A payment's history, oldest first.
    pub fn events(&self, id: &str) -> Result<Vec<PaymentEvent>, JournalError> {
        read_events(
            &self.conn,
            &format!(
                "SELECT {EVENT_COLUMNS} FROM payment_events WHERE payment_id = ?1 ORDER BY seq"
            ),
            rusqlite::params![id],
        )
    }

    /// Sum of money shown offline and not verified by Bakong on a business
    /// day (a code cancelled at the till still counts: it can still be paid).
    pub fn unverified_total(
        &self,
        day: NaiveDate,
        currency: Currency,
    ) -> Result<Amount, JournalError> {
        unverified_total_on(&self.conn, day, currency)
    }

    // ---- refunds ----

    /// Records a refund request and moves the payment to `refund_pending`.
    pub fn begin_refund(
        &mut self,
        payment_id: &str,
        refund_id: &str,
        amount: Amount,
        reason: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(Payment, Refund), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        begin_refund_tx(&tx, payment_id, refund_id, amount, reason, actor, at)?;
        let p = get_tx(&tx, payment_id)?;
        let r = refund_tx(&tx, refund_id)?;
        tx.commit().ctx("committing a refund request")?;
        Ok((p, r))
    }

    /// Books a refund a manager made outside Till (a wallet with no refund
    /// API: its merchant portal, a bank transfer), with its reference there:
    /// requested and done in one transaction, so nothing is ever sent for it.
    #[allow(clippy::too_many_arguments)]
    pub fn record_refund_made_elsewhere(
        &mut self,
        payment_id: &str,
        refund_id: &str,
        amount: Amount,
        reason: Option<&str>,
        actor: &str,
        reference: &str,
        at: DateTime<Utc>,
    ) -> Result<(Payment, Refund), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        begin_refund_tx(&tx, payment_id, refund_id, amount, reason, actor, at)?;
        tx.execute(
            "UPDATE refunds SET state = 'sent', sent_at = ?2, updated_at = ?2 WHERE id = ?1",
            params![refund_id, ts(at)],
        )
        .ctx("marking a recorded refund")?;
        let out = finish_refund_tx(&tx, &self.ctx, refund_id, Ok(reference), at)?;
        tx.commit().ctx("committing a recorded refund")?;
        Ok(out)
    }

    /// Marks a refund as sent, before the call leaves. `false` if it had been sent already.
    pub fn claim_refund(
        &mut self,
        refund_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, JournalError> {
        let n = self
            .conn
            .execute(
                "UPDATE refunds SET state = 'sent', sent_at = ?2, updated_at = ?2 WHERE id = ?1 AND sent_at IS NULL",
                params![refund_id, ts(at)],
            )
            .ctx("marking a refund sent")?;
        Ok(n == 1)
    }

    /// Undoes [`Journal::claim_refund`] when the call provably never left.
    pub fn unclaim_refund(&mut self, refund_id: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE refunds SET state = 'requested', sent_at = NULL WHERE id = ?1 AND state = 'sent'",
                [refund_id],
            )
            .ctx("unmarking a refund")?;
        Ok(())
    }

    /// Undoes [`Journal::claim_completion`] when execute provably never left.
    pub fn unclaim_completion(&mut self, id: &str, at: DateTime<Utc>) -> Result<(), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let before = get_tx(&tx, id)?;
        tx.execute(
            "UPDATE payments SET completion_sent_at = NULL WHERE id = ?1",
            [id],
        )
        .ctx("unmarking the completion call")?;
        append_event(
            &tx,
            id,
            Some(before.state),
            before.state,
            Some("completion never left (provider unreachable)"),
            at,
        )?;
        tx.commit().ctx("committing")?;
        Ok(())
    }

    /// Ends a refund: done (money returned, outbox record) or failed (payment back where it was).
    pub fn finish_refund(
        &mut self,
        refund_id: &str,
        outcome: Result<&str, &str>,
        at: DateTime<Utc>,
    ) -> Result<(Payment, Refund), JournalError> {
        let tx = self.conn.transaction().ctx("starting a transaction")?;
        let out = finish_refund_tx(&tx, &self.ctx, refund_id, outcome, at)?;
        tx.commit().ctx("committing a refund outcome")?;
        Ok(out)
    }

    pub fn refund(&self, refund_id: &str) -> Result<Refund, JournalError> {
        let tx = self.conn.unchecked_transaction().ctx("reading a refund")?;
        refund_tx(&tx, refund_id)
    }

    pub fn refunds_of(&self, payment_id: &str) -> Result<Vec<Refund>, JournalError> {
        let ids: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT id FROM refunds WHERE payment_id = ?1 ORDER BY created_at")
                .ctx("preparing refunds")?;
            let ids = stmt
                .query_map([payment_id], |r| r.get(0))
                .ctx("listing refunds")?
                .collect::<Result<_, _>>()
                .ctx("listing refunds")?;
            ids
        };
        ids.iter().map(|id| self.refund(id)).collect()
    }

    /// The refund of a payment whose outcome is still open, if any.
    pub fn open_refund(&self, payment_id: &str) -> Result<Option<Refund>, JournalError> {
        Ok(self
            .refunds_of(payment_id)?
            .into_iter()
            .find(|r| matches!(r.state, RefundState::Requested | RefundState::Sent)))
    }
}

pub(super) fn refund_tx(tx: &Transaction<'_>, id: &str) -> Result<Refund, JournalError> {
    let row = tx
        .query_row(
            "SELECT id, payment_id, amount, currency, state, reason, requested_by, provider_refund_id, failure_reason, sent_at, created_at, updated_at FROM refunds WHERE id = ?1",
            [id],
            |r| {
                let mut v: Vec<Option<String>> = Vec::with_capacity(12);
                for i in 0..12 {
                    v.push(r.get(i)?);
                }
                Ok(v)
            },
        )
        .optional()
        .ctx("reading a refund")?
        .ok_or_else(|| JournalError::NotFound(id.to_owned()))?;
    let req = |i: usize| row[i].clone().ok_or_else(|| corrupt("refund"));
    let currency: Currency = req(3)?.parse().map_err(|_| corrupt("refund currency"))?;
    Ok(Refund {
        id: req(0)?,
        payment_id: req(1)?,
        amount: Amount::from_stored(&req(2)?, currency).map_err(|_| corrupt("refund amount"))?,
        state: RefundState::parse(&req(4)?).ok_or_else(|| corrupt("refund state"))?,
        reason: row[5].clone(),
        requested_by: req(6)?,
        provider_refund_id: row[7].clone(),
        failure_reason: row[8].clone(),
        sent_at: row[9].as_deref().map(parse_ts).transpose()?,
        created_at: parse_ts(&req(10)?)?,
        updated_at: parse_ts(&req(11)?)?,
    })
}

/// The refund request of [`Journal::begin_refund`], inside `tx`.
pub(super) fn begin_refund_tx(
    tx: &Transaction<'_>,
    payment_id: &str,
    refund_id: &str,
    amount: Amount,
    reason: Option<&str>,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), JournalError> {
    let before = get_tx(tx, payment_id)?;
    if before.amount.currency() != amount.currency() {
        return Err(JournalError::Refused(format!(
            "the payment is in {}, not {}",
            before.amount.currency(),
            amount.currency()
        )));
    }
    before.state.check_transition(PaymentState::RefundPending)?;
    let left = before.refundable();
    if amount.value() > left.value() {
        return Err(JournalError::Refused(format!(
            "only {} is left to refund",
            left.display()
        )));
    }
    tx.execute(
            "INSERT INTO refunds(id, payment_id, amount, currency, state, reason, requested_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'requested', ?5, ?6, ?7, ?7)",
            params![refund_id, payment_id, amount.wire(), amount.currency().code(), reason, actor, ts(at)],
        )
        .ctx("writing a refund")?;
    tx.execute(
        "UPDATE payments SET state = 'refund_pending', updated_at = ?2 WHERE id = ?1",
        params![payment_id, ts(at)],
    )
    .ctx("changing a payment's state")?;
    append_event(
        tx,
        payment_id,
        Some(before.state),
        PaymentState::RefundPending,
        Some(&format!(
            "refund {refund_id} of {} asked by {actor}",
            amount.wire()
        )),
        at,
    )?;
    Ok(())
}

/// The end of a refund of [`Journal::finish_refund`], inside `tx`.
fn finish_refund_tx(
    tx: &Transaction<'_>,
    ctx: &JournalContext,
    refund_id: &str,
    outcome: Result<&str, &str>,
    at: DateTime<Utc>,
) -> Result<(Payment, Refund), JournalError> {
    let refund = refund_tx(tx, refund_id)?;
    if matches!(refund.state, RefundState::Done | RefundState::Failed) {
        return Err(JournalError::Refused(format!(
            "refund {refund_id} is already {}",
            refund.state.as_str()
        )));
    }
    let before = get_tx(tx, &refund.payment_id)?;
    let (to, detail) = match outcome {
        Ok(provider_id) => {
            let refunded = before
                .refunded
                .checked_add(refund.amount)
                .map_err(|_| corrupt("refund currency"))?;
            let booked = super::days::booking_day(tx, before.business_day)?;
            tx.execute(
                    "UPDATE refunds SET state = 'done', provider_refund_id = ?2, updated_at = ?3, booked_day = ?4 WHERE id = ?1",
                    params![refund_id, provider_id, ts(at), booked.to_string()],
                )
                .ctx("finishing a refund")?;
            tx.execute(
                "UPDATE payments SET refunded = ?2 WHERE id = ?1",
                params![before.id, refunded.wire()],
            )
            .ctx("adding to refunded")?;
            let to = if refunded.value() >= before.amount.value() {
                PaymentState::Refunded
            } else {
                PaymentState::PartiallyRefunded
            };
            (to, format!("refund {refund_id} done ({provider_id})"))
        }
        Err(reason) => {
            tx.execute(
                    "UPDATE refunds SET state = 'failed', failure_reason = ?2, updated_at = ?3 WHERE id = ?1",
                    params![refund_id, reason, ts(at)],
                )
                .ctx("failing a refund")?;
            let to = if before.refunded.is_zero() {
                PaymentState::Settled
            } else {
                PaymentState::PartiallyRefunded
            };
            (to, format!("refund {refund_id} failed: {reason}"))
        }
    };
    before.state.check_transition(to)?;
    tx.execute(
        "UPDATE payments SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![before.id, to.as_str(), ts(at)],
    )
    .ctx("changing a payment's state")?;
    append_event(tx, &before.id, Some(before.state), to, Some(&detail), at)?;
    let p = get_tx(tx, &before.id)?;
    let r = refund_tx(tx, refund_id)?;
    if r.state == RefundState::Done {
        outbox::enqueue(
            tx,
            ctx,
            outbox::EventType::PaymentRefunded,
            &p,
            Some(&r),
            at,
        )?;
    }
    Ok((p, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::test_context;

    fn journal() -> Journal {
        Journal::open_in_memory(test_context()).unwrap()
    }

    fn new(j: &mut Journal, amount: &str) -> Payment {
        let id = ulid::Ulid::new().to_string();
        j.create_payment::<std::convert::Infallible>(
            NewPayment {
                id,
                provider: ProviderKind::Demo,
                amount: Amount::parse(amount, Currency::Bdt).unwrap(),
                operator: "cashier".into(),
                at: Utc::now(),
                origin: None,
            },
            |_, _| Ok(Change::default()),
        )
        .unwrap()
        .unwrap()
    }

    fn outbox_count(j: &Journal) -> i64 {
        j.conn
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .unwrap()
    }

    /// M2: the day's unverified total is read in the transaction that writes
    /// the payment (so concurrent charges cannot both slip under the cap),
    /// and a refused payment leaves nothing behind.
    #[test]
    fn the_unverified_cap_is_checked_where_the_payment_is_written() {
        let mut j = journal();
        let at = Utc::now();
        let day = business_day(at, j.ctx.timezone, j.ctx.cutoff);
        let cap = UnverifiedCap {
            day,
            limit: Amount::parse("30", Currency::Usd).unwrap(),
        };
        let offline = |j: &mut Journal, amount: &str| {
            j.create_payment_capped::<std::convert::Infallible>(
                NewPayment {
                    id: ulid::Ulid::new().to_string(),
                    provider: ProviderKind::Bakong,
                    amount: Amount::parse(amount, Currency::Usd).unwrap(),
                    operator: "cashier".into(),
                    at,
                    origin: None,
                },
                Some(cap),
                |_, _| {
                    Ok(Change {
                        offline: Some(true),
                        ..Change::default()
                    })
                },
            )
            .map(|r| r.unwrap())
        };
        let first = offline(&mut j, "15").unwrap();
        // Cancelled at the till: the customer may still pay it, it still counts.
        j.transition(
            &first.id,
            PaymentState::Cancelled,
            &Change::default(),
            None,
            at,
        )
        .unwrap();
        let err = offline(&mut j, "16").unwrap_err();
        assert!(
            matches!(err, JournalError::OverUnverifiedCap { ref after, .. } if after.wire() == "31.00"),
            "{err}"
        );
        // Nothing was written, not even an invoice number.
        let next = offline(&mut j, "15").unwrap();
        assert_eq!(next.invoice, "t1-000002");
        assert_eq!(
            j.unverified_total(day, Currency::Usd).unwrap().wire(),
            "30.00"
        );
    }

    #[test]
    fn invoices_are_sequential_and_unique() {
        let mut j = journal();
        let a = new(&mut j, "1");
        let b = new(&mut j, "2");
        assert_eq!(a.invoice, "t1-000001");
        assert_eq!(b.invoice, "t1-000002");
        assert_eq!(a.state, PaymentState::Created);
    }

    #[test]
    fn settling_writes_event_and_exactly_one_outbox_record() {
        let mut j = journal();
        let p = new(&mut j, "12.50");
        let now = Utc::now();
        j.transition(
            &p.id,
            PaymentState::AwaitingCustomer,
            &Change::default(),
            None,
            now,
        )
        .unwrap();
        let s = j
            .transition(
                &p.id,
                PaymentState::Settled,
                &Change {
                    refs: ProviderRefs {
                        transaction: Some("TRX1".into()),
                        ..ProviderRefs::default()
                    },
                    ..Change::default()
                },
                Some("demo"),
                now,
            )
            .unwrap();
        assert_eq!(s.refs.transaction.as_deref(), Some("TRX1"));
        assert_eq!(outbox_count(&j), 1);
        // Settled twice is an illegal transition, and leaves nothing behind.
        let err = j
            .transition(&p.id, PaymentState::Settled, &Change::default(), None, now)
            .unwrap_err();
        assert!(matches!(err, JournalError::Transition(_)));
        assert_eq!(outbox_count(&j), 1);
        let states: Vec<_> = j
            .events(&p.id)
            .unwrap()
            .into_iter()
            .map(|e| e.to_state)
            .collect();
        assert_eq!(
            states,
            [
                PaymentState::Created,
                PaymentState::AwaitingCustomer,
                PaymentState::Settled
            ]
        );
    }

    #[test]
    fn failed_transition_changes_nothing() {
        let mut j = journal();
        let p = new(&mut j, "5");
        let err = j
            .transition(
                &p.id,
                PaymentState::Refunded,
                &Change {
                    refs: ProviderRefs {
                        transaction: Some("X".into()),
                        ..ProviderRefs::default()
                    },
                    ..Change::default()
                },
                None,
                Utc::now(),
            )
            .unwrap_err();
        assert!(matches!(err, JournalError::Transition(_)));
        let again = j.payment(&p.id).unwrap();
        assert_eq!(again.refs.transaction, None);
        assert_eq!(j.events(&p.id).unwrap().len(), 1);
    }

    #[test]
    fn events_are_append_only() {
        let mut j = journal();
        let p = new(&mut j, "5");
        let err = j.conn.execute(
            "UPDATE payment_events SET detail = 'x' WHERE payment_id = ?1",
            [&p.id],
        );
        assert!(err.is_err());
        assert!(j.conn.execute("DELETE FROM payment_events", []).is_err());
    }

    #[test]
    fn partial_then_full_refund() {
        let mut j = journal();
        let p = new(&mut j, "100.00");
        let now = Utc::now();
        j.transition(
            &p.id,
            PaymentState::AwaitingCustomer,
            &Change::default(),
            None,
            now,
        )
        .unwrap();
        j.transition(&p.id, PaymentState::Settled, &Change::default(), None, now)
            .unwrap();
        let amt = |s| Amount::parse(s, Currency::Bdt).unwrap();
        let err = j
            .begin_refund(&p.id, "r0", amt("100.01"), None, "mgr", now)
            .unwrap_err();
        assert!(err.to_string().contains("left to refund"), "{err}");
        let (p1, r1) = j
            .begin_refund(&p.id, "r1", amt("30.00"), Some("damaged"), "mgr", now)
            .unwrap();
        assert_eq!(p1.state, PaymentState::RefundPending);
        assert!(j.claim_refund(&r1.id, now).unwrap());
        assert!(!j.claim_refund(&r1.id, now).unwrap());
        let (p2, _) = j.finish_refund("r1", Ok("RF1"), now).unwrap();
        assert_eq!(p2.state, PaymentState::PartiallyRefunded);
        assert_eq!(p2.refunded.wire(), "30.00");
        // A failed refund puts the payment back.
        j.begin_refund(&p.id, "r2", amt("10.00"), None, "mgr", now)
            .unwrap();
        let (p3, r2) = j
            .finish_refund("r2", Err("2071 refund window passed"), now)
            .unwrap();
        assert_eq!(p3.state, PaymentState::PartiallyRefunded);
        assert_eq!(r2.state, RefundState::Failed);
        j.begin_refund(&p.id, "r3", amt("70.00"), None, "mgr", now)
            .unwrap();
        let (p4, _) = j.finish_refund("r3", Ok("RF3"), now).unwrap();
        assert_eq!(p4.state, PaymentState::Refunded);
        assert_eq!(p4.refundable().wire(), "0.00");
        // settled + two refunds done = three outbox records.
        assert_eq!(outbox_count(&j), 3);
        assert!(j.finish_refund("r3", Ok("RF3"), now).is_err());
    }

    #[test]
    fn list_filters_and_pages() {
        let mut j = journal();
        for i in 1..=25 {
            new(&mut j, &i.to_string());
        }
        let page1 = j
            .list(&ListFilter {
                page: 1,
                page_size: 10,
                ..Default::default()
            })
            .unwrap();
        let page3 = j
            .list(&ListFilter {
                page: 3,
                page_size: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page1.len(), 10);
        assert_eq!(page3.len(), 5);
        let found = j
            .list(&ListFilter {
                search: Some("t1-000007".into()),
                page: 1,
                page_size: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].amount.wire(), "7.00");
        let none = j
            .list(&ListFilter {
                state: Some(PaymentState::Settled),
                page: 1,
                page_size: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(none.is_empty());
    }
}
