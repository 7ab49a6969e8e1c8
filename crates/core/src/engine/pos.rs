//! The shop's own POS through the local API (`till-terminal-api`): pairing
//! keys, charges named by the POS's order reference (its idempotency key),
//! and refund requests that only a manager turns into refunds.
//!
//! A key is `pos_<ULID>.<64 hex>`: the id before the dot is public (lists,
//! payments, the audit log), the secret after it is shown once and kept only
//! as its SHA-256. A POS sees and touches its own payments only: another
//! POS's, or one keyed at the till, is "not found" to it.

use super::{Charge, Engine, EngineError};
use crate::journal::pos::{PosKey, RefundRequest};
use crate::journal::JournalError;
use crate::money::{Amount, Currency};
use crate::payment::{Payment, ProviderKind, Refund};
use crate::reason::{Reason, ReasonCode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A key just made: the only time its full text exists outside the POS.
#[derive(Clone, Debug)]
pub struct NewPosKey {
    pub key: PosKey,
    /// `pos_<ULID>.<secret>`: shown once, never stored.
    pub token: String,
}

/// Why a request's key was refused (all of them are 401 to the POS).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PosAuthError {
    #[error("no key")]
    Missing,
    /// Not a key of this till, or a wrong secret (`key`: the id it named).
    #[error("not a key of this till")]
    Invalid { key: Option<String> },
    #[error("key {key} is revoked")]
    Revoked { key: String },
}

impl PosAuthError {
    pub fn reason(&self) -> Reason {
        match self {
            PosAuthError::Missing => Reason::new(ReasonCode::KeyMissing),
            PosAuthError::Invalid { .. } => Reason::new(ReasonCode::KeyInvalid),
            PosAuthError::Revoked { key } => Reason::new(ReasonCode::KeyRevoked).with("key", key),
        }
    }
}

/// A POS's charge: the payment, and whether its reference had made it before.
#[derive(Clone, Debug)]
pub struct PosCharge {
    pub payment: Payment,
    /// `true`: the same reference came again and this is the payment it made then.
    pub replayed: bool,
}

/// The longest POS name and order reference Till keeps.
pub const MAX_NAME: usize = 64;
pub const MAX_REFERENCE: usize = 64;

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn not_found(id: &str) -> EngineError {
    EngineError::Refusal(Reason::new(ReasonCode::NotFound).with("id", id))
}

/// A reference a POS may use: 1–64 printable characters, no spaces at its ends.
pub fn valid_reference(reference: &str) -> bool {
    !reference.is_empty()
        && reference.chars().count() <= MAX_REFERENCE
        && reference.trim() == reference
        && !reference.chars().any(char::is_control)
}

impl Engine {
    /// Pairs a POS named `name`; the token is returned once. Audited.
    pub fn add_pos_key(&self, name: &str, actor: &str) -> Result<NewPosKey, EngineError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control)
        {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::InvalidField)
                    .with("field", "name")
                    .with("why", format!("1 to {MAX_NAME} characters")),
            ));
        }
        let id = format!("pos_{}", ulid::Ulid::new());
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let token = format!("{id}.{secret}");
        let key = PosKey {
            id,
            name: name.to_owned(),
            hint: token[token.len() - 4..].to_owned(),
            created_at: self.now(),
            created_by: actor.to_owned(),
            revoked_at: None,
            revoked_by: None,
            last_used_at: None,
        };
        self.with_journal(|j| j.add_pos_key(&key, &sha256_hex(&secret)))?;
        Ok(NewPosKey { key, token })
    }

    /// Every paired POS, revoked ones too.
    pub fn pos_keys(&self) -> Result<Vec<PosKey>, EngineError> {
        Ok(self.with_journal(|j| j.pos_keys())?)
    }

    /// Revokes a POS's key for good (audited); its payments keep naming it.
    pub fn revoke_pos_key(&self, id: &str, actor: &str) -> Result<PosKey, EngineError> {
        let at = self.now();
        self.with_journal(|j| j.revoke_pos_key(id.trim(), actor, at))
            .map_err(|e| match e {
                JournalError::NotFound(id) => not_found(&id),
                e => e.into(),
            })
    }

    /// The POS whose key `token` is (the text after `Bearer `).
    pub fn authenticate_pos(&self, token: Option<&str>) -> Result<PosKey, PosAuthError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let token = token.ok_or(PosAuthError::Missing)?;
        let Some((id, secret)) = token.split_once('.') else {
            return Err(PosAuthError::Invalid { key: None });
        };
        let found = self.with_journal(|j| j.pos_key(id)).map_err(|e| {
            tracing::error!(error = %e, "cannot read the POS keys");
            PosAuthError::Invalid { key: None }
        })?;
        let Some((key, hash)) = found else {
            return Err(PosAuthError::Invalid { key: None });
        };
        if !bool::from(sha256_hex(secret).as_bytes().ct_eq(hash.as_bytes())) {
            return Err(PosAuthError::Invalid {
                key: Some(key.id.clone()),
            });
        }
        if key.is_revoked() {
            return Err(PosAuthError::Revoked { key: key.id });
        }
        let at = self.now();
        if let Err(e) = self.with_journal(|j| j.touch_pos_key(&key.id, at)) {
            tracing::warn!(error = %e, "could not note a POS key's use");
        }
        Ok(key)
    }

    /// Audits a refused key (the API calls this, throttled).
    pub fn audit_pos_refusal(&self, err: &PosAuthError, detail: &str) -> Result<(), EngineError> {
        let key = match err {
            PosAuthError::Missing => None,
            PosAuthError::Invalid { key } => key.as_deref(),
            PosAuthError::Revoked { key } => Some(key.as_str()),
        };
        let at = self.now();
        Ok(self
            .with_journal(|j| j.audit_pos_refusal(key, err.reason().code.as_str(), detail, at))?)
    }

    /// The wallet a POS's charge goes to: the one it names (on, and taking
    /// the currency), else the only wallet on that takes the currency.
    pub fn wallet_for(
        &self,
        named: Option<ProviderKind>,
        currency: Currency,
    ) -> Result<ProviderKind, EngineError> {
        if let Some(w) = named {
            return Ok(w);
        }
        let takes: Vec<ProviderKind> = self
            .providers()
            .into_iter()
            .filter(|k| self.currencies_of(*k).contains(&currency))
            .collect();
        match takes.as_slice() {
            [one] => Ok(*one),
            [] => Err(EngineError::Refusal(
                Reason::new(ReasonCode::CurrencyNotTaken)
                    .with("wallet", "no wallet")
                    .with("currency", currency)
                    .with("takes", "-"),
            )),
            many => Err(EngineError::Refusal(
                Reason::new(ReasonCode::WalletNeeded)
                    .with("currency", currency)
                    .with(
                        "takes",
                        many.iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
            )),
        }
    }

    /// A POS's charge of `amount` for its order `reference`. The same
    /// reference with the same amount (and wallet, when named) answers the
    /// payment it made before, never a second one; with another amount it is
    /// refused (`reference_conflict`).
    pub async fn charge_for_pos(
        &self,
        pos: &PosKey,
        wallet: Option<ProviderKind>,
        amount: Amount,
        reference: &str,
    ) -> Result<PosCharge, EngineError> {
        if !valid_reference(reference) {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::ReferenceInvalid).with("max", MAX_REFERENCE),
            ));
        }
        let replay = |p: Payment| {
            if p.amount != amount || wallet.is_some_and(|w| w != p.provider) {
                Err(EngineError::Refusal(
                    Reason::new(ReasonCode::ReferenceConflict)
                        .with("reference", reference)
                        .with("charge", &p.id),
                ))
            } else {
                Ok(PosCharge {
                    payment: p,
                    replayed: true,
                })
            }
        };
        if let Some(p) = self.with_journal(|j| j.payment_of_origin(&pos.id, reference))? {
            return replay(p);
        }
        let provider = self.wallet_for(wallet, amount.currency())?;
        let operator = format!("pos:{}", pos.name);
        match self
            .charge_from(
                provider,
                amount,
                &operator,
                Some((pos.id.clone(), reference.to_owned())),
            )
            .await
        {
            Ok(Charge { payment, .. }) => Ok(PosCharge {
                payment,
                replayed: false,
            }),
            // The same reference at the same moment: the other request wrote it.
            Err(EngineError::Journal(JournalError::OriginTaken { id })) => {
                replay(self.payment(&id)?)
            }
            // The wallet refused or did not answer the start: the payment was
            // written (failed, with its reason); that is the POS's answer.
            Err(e @ EngineError::Provider(_)) => {
                match self.with_journal(|j| j.payment_of_origin(&pos.id, reference))? {
                    Some(payment) => Ok(PosCharge {
                        payment,
                        replayed: false,
                    }),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The payment this POS made with `reference`, if any.
    pub fn pos_reference(
        &self,
        pos: &PosKey,
        reference: &str,
    ) -> Result<Option<Payment>, EngineError> {
        Ok(self.with_journal(|j| j.payment_of_origin(&pos.id, reference))?)
    }

    /// One of this POS's payments, by our id.
    pub fn pos_payment(&self, pos: &PosKey, id: &str) -> Result<Payment, EngineError> {
        let by_id = self.with_journal(|j| match j.payment(id) {
            Ok(p) => Ok(Some(p)),
            Err(JournalError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })?;
        by_id
            .filter(|p| p.origin.as_ref().is_some_and(|o| o.pos_id == pos.id))
            .ok_or_else(|| not_found(id))
    }

    /// The POS cancels one of its payments the customer has not completed
    /// (as the cashier's Esc would).
    pub async fn cancel_for_pos(&self, pos: &PosKey, id: &str) -> Result<Payment, EngineError> {
        let p = self.pos_payment(pos, id)?;
        self.cancel(&p.id, &format!("pos:{}", pos.name)).await
    }

    /// A POS asks for (part of) one of its paid payments back: a request a
    /// manager decides on the till. Nothing moves before that.
    pub fn request_refund(
        &self,
        pos: &PosKey,
        id: &str,
        amount: Option<Amount>,
        reason: Option<&str>,
    ) -> Result<RefundRequest, EngineError> {
        let p = self.pos_payment(pos, id)?;
        if !p.state.is_paid() || p.refundable().is_zero() {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::NotRefundable).with("state", p.state),
            ));
        }
        let left = p.refundable();
        let amount = amount.unwrap_or(left);
        if amount.currency() != p.amount.currency() {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::InvalidField)
                    .with("field", "currency")
                    .with("why", format!("the charge is in {}", p.amount.currency())),
            ));
        }
        if amount.value() > left.value() {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::RefundOver).with("left", left.display()),
            ));
        }
        if let Some(waiting) = self
            .with_journal(|j| j.refund_requests(true, Some(&p.id)))?
            .into_iter()
            .next()
        {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::RefundRequestWaiting).with("id", waiting.id),
            ));
        }
        let rid = format!("rr_{}", ulid::Ulid::new());
        let at = self.now();
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        let r =
            self.with_journal(|j| j.add_refund_request(&rid, &p.id, pos, amount, reason, at))?;
        if let Ok(p) = self.payment(&p.id) {
            self.emit(&p);
        }
        Ok(r)
    }

    /// Refund requests, newest first (waiting ones only, or all).
    pub fn refund_requests(&self, pending_only: bool) -> Result<Vec<RefundRequest>, EngineError> {
        Ok(self.with_journal(|j| j.refund_requests(pending_only, None))?)
    }

    /// A payment's refund requests, newest first.
    pub fn refund_requests_of(&self, payment_id: &str) -> Result<Vec<RefundRequest>, EngineError> {
        Ok(self.with_journal(|j| j.refund_requests(false, Some(payment_id)))?)
    }

    fn refund_request(&self, id: &str) -> Result<RefundRequest, EngineError> {
        self.with_journal(|j| j.refund_request(id.trim()))?
            .ok_or_else(|| not_found(id))
    }

    /// A manager approves a waiting request (`actor`: the PIN session's): the
    /// refund begins with it, in one transaction, then goes to the wallet as
    /// any refund does (at most once).
    pub async fn approve_refund_request(
        &self,
        id: &str,
        actor: &str,
    ) -> Result<(Payment, Refund), EngineError> {
        let req = self.refund_request(id)?;
        if req.state != crate::journal::pos::RefundRequestState::Pending {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::RefundRequestDecided).with("state", req.state.as_str()),
            ));
        }
        let p = self.payment(&req.payment_id)?;
        let provider = self.inner.registry.get(p.provider)?.clone();
        // Said before anything is written: what the wallet cannot do.
        if !provider.capabilities().refunds {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::RefundsElsewhere)
                    .with("wallet", provider.label())
                    .with("where", provider.refund_elsewhere()),
            ));
        }
        if !provider.capabilities().partial_refunds && req.amount != p.refundable() {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::WholeRefundsOnly).with("wallet", provider.label()),
            ));
        }
        let refund_id = ulid::Ulid::new().to_string();
        let at = self.now();
        let (p, r, _) = self
            .with_journal(|j| j.approve_refund_request(&req.id, &refund_id, actor, at))
            .map_err(|e| match e {
                JournalError::Refused(_) => EngineError::Refusal(
                    Reason::new(ReasonCode::RefundRequestDecided).with("state", "decided"),
                ),
                e => e.into(),
            })?;
        self.emit(&p);
        self.send_refund(&p, &r).await
    }

    /// A manager declines a waiting request; nothing is refunded.
    pub fn decline_refund_request(
        &self,
        id: &str,
        actor: &str,
        why: Option<&str>,
    ) -> Result<RefundRequest, EngineError> {
        let req = self.refund_request(id)?;
        if req.state != crate::journal::pos::RefundRequestState::Pending {
            return Err(EngineError::Refusal(
                Reason::new(ReasonCode::RefundRequestDecided).with("state", req.state.as_str()),
            ));
        }
        let at = self.now();
        let why = why.map(str::trim).filter(|w| !w.is_empty());
        let r = self.with_journal(|j| j.decline_refund_request(&req.id, actor, why, at))?;
        if let Ok(p) = self.payment(&r.payment_id) {
            self.emit(&p);
        }
        Ok(r)
    }

    /// The history of `pos_id`'s payments after `after` (a history `seq`),
    /// oldest first: what the API's event stream sends.
    pub fn pos_events(
        &self,
        pos_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::payment::PaymentEvent>, EngineError> {
        Ok(self.with_journal(|j| j.pos_events(pos_id, after, limit))?)
    }

    /// The newest history `seq`: a stream asking for no past starts after it.
    pub fn last_event_seq(&self) -> Result<i64, EngineError> {
        Ok(self.with_journal(|j| j.last_event_seq())?)
    }
}
