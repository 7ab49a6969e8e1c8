//! What the POS reads: a charge, its refund requests, a stream event — each
//! built from the engine's own records, with its OpenAPI schema beside it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use till_core::engine::PrintRecord;
use till_core::journal::pos::{RefundRequest, RefundRequestState};
use till_core::payment::PaymentEvent;
use till_core::reason::Reason;
use till_core::{Engine, Payment, PaymentState};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A reason's `params`: names to display strings.
fn params_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::Object(
            ObjectBuilder::new().schema_type(Type::String).build(),
        )))))
}

/// The OpenAPI schema of `till_core::reason::Reason` (`code` + `params`),
/// described here once: core knows nothing of OpenAPI.
pub struct ReasonSchema;

impl PartialSchema for ReasonSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "Why: a code (the till's own, e.g. `insufficient_balance`, `amount_decimals`) and the values that fill it in.",
            ))
            .property("code", ObjectBuilder::new().schema_type(Type::String))
            .required("code")
            .property("params", params_schema())
            .into()
    }
}

impl ToSchema for ReasonSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Reason".into()
    }
}

/// The error answer: `{"error": {code, params, message}}` (see `error.rs`).
pub struct ErrorSchema;

impl PartialSchema for ErrorSchema {
    fn schema() -> RefOr<Schema> {
        let detail = ObjectBuilder::new()
            .property("code", ObjectBuilder::new().schema_type(Type::String))
            .required("code")
            .property("params", params_schema())
            .property(
                "message",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("English, for logs; match on code")),
            )
            .required("message");
        ObjectBuilder::new()
            .property("error", detail)
            .required("error")
            .into()
    }
}

impl ToSchema for ErrorSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Error".into()
    }
}

/// Where a charge stands, as the POS reads it: the journal's state, except
/// that `settled` is `paid`.
#[derive(Clone, Copy, Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Written; the wallet is being asked.
    Created,
    /// The customer has the code or the wallet's page.
    AwaitingCustomer,
    /// The customer approved; Till is completing it (cannot be cancelled now).
    Authorized,
    /// The money is in.
    Paid,
    Failed,
    Cancelled,
    Expired,
    /// Money moved, but not as asked: a manager checks it. Do not hand over the goods.
    Flagged,
    RefundPending,
    PartiallyRefunded,
    Refunded,
}

impl Status {
    pub fn of(s: PaymentState) -> Status {
        match s {
            PaymentState::Created => Status::Created,
            PaymentState::AwaitingCustomer => Status::AwaitingCustomer,
            PaymentState::Authorized => Status::Authorized,
            PaymentState::Settled => Status::Paid,
            PaymentState::Failed => Status::Failed,
            PaymentState::Cancelled => Status::Cancelled,
            PaymentState::Expired => Status::Expired,
            PaymentState::Flagged => Status::Flagged,
            PaymentState::RefundPending => Status::RefundPending,
            PaymentState::PartiallyRefunded => Status::PartiallyRefunded,
            PaymentState::Refunded => Status::Refunded,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::AwaitingCustomer => "awaiting_customer",
            Status::Authorized => "authorized",
            Status::Paid => "paid",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Flagged => "flagged",
            Status::RefundPending => "refund_pending",
            Status::PartiallyRefunded => "partially_refunded",
            Status::Refunded => "refunded",
        }
    }
}

/// What the customer does: scan `code`, pay on `page_url`, or nothing (`wait`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Customer {
    /// `code` (a QR code on the till's customer display), `page` (the wallet's
    /// page, opened on the till) or `wait`.
    #[schema(example = "code")]
    pub step: &'static str,
    /// The code's text (a KHQR), for a POS that shows it on its own screen too.
    pub code: Option<String>,
    pub page_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The receipt of a paid charge, as last printed on the till's printer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// `printed`, `failed` or `none` (never asked for).
    #[schema(example = "printed")]
    pub status: &'static str,
    #[schema(value_type = Option<ReasonSchema>)]
    pub reason: Option<Reason>,
    pub at: Option<DateTime<Utc>>,
}

impl Receipt {
    fn of(last: Option<PrintRecord>) -> Receipt {
        match last {
            None => Receipt {
                status: "none",
                reason: None,
                at: None,
            },
            Some(p) => Receipt {
                status: if p.printed { "printed" } else { "failed" },
                reason: p.reason,
                at: Some(p.at),
            },
        }
    }
}

/// A refund a POS asked for; a manager approves or declines it on the till.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RefundRequestView {
    #[schema(example = "rr_01JFQ1Z5W6K4M8T0ZJ9S3N2P7A")]
    pub id: String,
    pub charge: String,
    #[schema(example = "50.00")]
    pub amount: String,
    pub currency: String,
    pub reason: Option<String>,
    /// `pending`, `approved` (the refund began: see the charge) or `declined`.
    #[schema(example = "pending")]
    pub status: &'static str,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl RefundRequestView {
    pub fn of(r: &RefundRequest) -> RefundRequestView {
        RefundRequestView {
            id: r.id.clone(),
            charge: r.payment_id.clone(),
            amount: r.amount.wire(),
            currency: r.amount.currency().code().to_owned(),
            reason: r.reason.clone(),
            status: match r.state {
                RefundRequestState::Pending => "pending",
                RefundRequestState::Approved => "approved",
                RefundRequestState::Declined => "declined",
            },
            decided_at: r.decided_at,
            created_at: r.created_at,
        }
    }
}

/// The POS that asked for a charge.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PosView {
    pub id: String,
    pub name: String,
}

/// A charge: one payment on the till, asked for by this POS.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChargeView {
    #[schema(example = "01JFQ1Z5W6K4M8T0ZJ9S3N2P7A")]
    pub id: String,
    /// The POS's own order reference (its idempotency key).
    #[schema(example = "ORDER-1001")]
    pub reference: String,
    pub status: Status,
    /// True once the money is in (paid, and while or after refunding).
    pub paid: bool,
    /// Decimal text at the currency's exponent ("120.00", "4000").
    #[schema(example = "120.00")]
    pub amount: String,
    #[schema(example = "BDT")]
    pub currency: String,
    /// The wallet it goes through (`bkash`, `bakong`, `nagad`, `demo`).
    #[schema(example = "bkash")]
    pub wallet: String,
    /// The till's invoice number (what the wallet knows it by).
    pub invoice: String,
    /// The wallet's id of the money moved (on the receipt), once paid.
    pub transaction_reference: Option<String>,
    pub customer: Customer,
    pub refunded: String,
    pub refundable: String,
    /// Why it failed, was cancelled or expired, or needs a manager.
    #[schema(value_type = Option<ReasonSchema>)]
    pub failure: Option<Reason>,
    pub receipt: Receipt,
    pub refund_requests: Vec<RefundRequestView>,
    pub pos: PosView,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ChargeView {
    /// The view of `p` (a payment of a POS: it has an origin) as the journal holds it now.
    pub fn of(engine: &Engine, p: &Payment) -> ChargeView {
        let origin = p
            .origin
            .clone()
            .unwrap_or_else(|| till_core::payment::Origin {
                pos_id: String::new(),
                pos_name: String::new(),
                reference: String::new(),
            });
        let step = if p.customer_code.is_some() {
            "code"
        } else if p.customer_page.is_some() {
            "page"
        } else {
            "wait"
        };
        let requests = engine.refund_requests_of(&p.id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read a charge's refund requests");
            Vec::new()
        });
        let receipt = engine.last_print(&p.id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read a charge's prints");
            None
        });
        ChargeView {
            id: p.id.clone(),
            reference: origin.reference,
            status: Status::of(p.state),
            paid: p.state.is_paid(),
            amount: p.amount.wire(),
            currency: p.amount.currency().code().to_owned(),
            wallet: p.provider.as_str().to_owned(),
            invoice: p.invoice.clone(),
            transaction_reference: p.refs.transaction.clone(),
            customer: Customer {
                step,
                code: p.customer_code.clone(),
                page_url: p.customer_page.clone(),
                expires_at: p.expires_at,
            },
            refunded: p.refunded.wire(),
            refundable: p.refundable().wire(),
            failure: p.failure.clone(),
            receipt: Receipt::of(receipt),
            refund_requests: requests.iter().map(RefundRequestView::of).collect(),
            pos: PosView {
                id: origin.pos_id,
                name: origin.pos_name,
            },
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A charge answer with whether the reference had made it before.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ChargeAnswer {
    #[serde(flatten)]
    pub charge: ChargeView,
    /// True when this reference had made this charge before (nothing new was started).
    pub replayed: bool,
}

/// One event of the stream (`GET /v1/events`): the SSE `id` is `id`, the
/// SSE `event` is `type`, the `data` is this object.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Increasing; send it back as `Last-Event-ID` to resume after it.
    pub id: i64,
    /// `charge.<status>` when the status changed (`charge.created`,
    /// `charge.awaiting_customer`, `charge.paid`, `charge.refunded`, …),
    /// `charge.refund_failed` when a refund did not go through,
    /// `refund_request.created|approved|declined`, `charge.updated` otherwise.
    #[serde(rename = "type")]
    #[schema(example = "charge.paid")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    /// The charge as it is when the event is sent (its `status` may be newer than the event's).
    pub charge: ChargeView,
}

/// The type of one history row, as the stream names it.
pub fn event_type(e: &PaymentEvent) -> String {
    if let Some(kind) = &e.kind {
        return kind.clone();
    }
    match e.from_state {
        None => "charge.created".into(),
        Some(from) if from == e.to_state => "charge.updated".into(),
        Some(PaymentState::RefundPending) if e.to_state == PaymentState::Settled => {
            "charge.refund_failed".into()
        }
        Some(_) => format!("charge.{}", Status::of(e.to_state).as_str()),
    }
}
