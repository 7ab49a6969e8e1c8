//! The delivery envelope (`"schema": "till.batch/2"`): events in one signed
//! request, with the head of the terminal's audit chain ([`ChainHead`]). The
//! envelope has its own webhook id (see [`batch_id`]); each inner event keeps
//! its own stable id, which is what the hub stores once. Version 1 (no
//! chain head, at least one event) is still accepted.

use crate::chain::ChainHead;
use crate::event::{valid_id, Event, SchemaError};
use serde::{Deserialize, Serialize};

/// The value of the `schema` field of the batches this build writes.
pub const BATCH_SCHEMA: &str = "till.batch/2";

/// Version 1: no `chain`.
pub const BATCH_SCHEMA_V1: &str = "till.batch/1";

/// The batch schemas a hub accepts, oldest first.
pub const BATCH_SCHEMAS: [&str; 2] = [BATCH_SCHEMA_V1, BATCH_SCHEMA];

/// One event in a batch with its own webhook id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    /// The event's webhook id (the same id it has, or would have, when sent alone).
    pub id: String,
    pub event: Event,
}

/// A batch of events from one terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Always [`BATCH_SCHEMA`].
    pub schema: String,
    pub terminal_id: String,
    /// Version 2: the terminal's audit chain head when the batch was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainHead>,
    /// May be empty in version 2 when `chain` is set (only the head changed).
    pub events: Vec<BatchItem>,
}

/// The webhook id of a batch envelope: `batch_<terminal>_<first>_<last>`.
pub fn batch_id(terminal_id: &str, first_sequence: u64, last_sequence: u64) -> String {
    format!("batch_{terminal_id}_{first_sequence}_{last_sequence}")
}

/// The webhook id of a batch with no events, only a chain head of `count` rows.
pub fn chain_batch_id(terminal_id: &str, count: u64) -> String {
    format!("chain_{terminal_id}_{count}")
}

impl Batch {
    /// A batch of `(webhook id, event)` pairs.
    pub fn new(terminal_id: &str, events: impl IntoIterator<Item = (String, Event)>) -> Self {
        Batch {
            schema: BATCH_SCHEMA.to_string(),
            terminal_id: terminal_id.to_string(),
            chain: None,
            events: events
                .into_iter()
                .map(|(id, event)| BatchItem { id, event })
                .collect(),
        }
    }

    /// The same batch carrying `chain`.
    pub fn with_chain(mut self, chain: Option<ChainHead>) -> Self {
        self.chain = chain;
        self
    }

    /// The envelope's webhook id from its first and last sequence numbers, or
    /// from its chain head when it has no events (`None` for neither).
    pub fn webhook_id(&self) -> Option<String> {
        if self.events.is_empty() {
            return self
                .chain
                .as_ref()
                .map(|c| chain_batch_id(&self.terminal_id, c.count));
        }
        let first = self.events.iter().map(|i| i.event.sequence).min()?;
        let last = self.events.iter().map(|i| i.event.sequence).max()?;
        Some(batch_id(&self.terminal_id, first, last))
    }

    /// The JSON body to sign and send.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a Batch always serialises")
    }

    /// Parse and [validate](Batch::validate) a batch of either version (a
    /// version 1 batch has no chain head, whatever else it carries).
    pub fn from_slice(body: &[u8]) -> Result<Self, SchemaError> {
        let mut b: Batch = crate::event::parse_json(body)?;
        if b.schema == BATCH_SCHEMA_V1 {
            b.chain = None;
        }
        b.validate()?;
        Ok(b)
    }

    /// The envelope's own checks plus every event's; every event must belong
    /// to the envelope's terminal.
    pub fn validate(&self) -> Result<(), SchemaError> {
        if !BATCH_SCHEMAS.contains(&self.schema.as_str()) {
            return Err(SchemaError::WrongSchema {
                found: self.schema.clone(),
                expected: BATCH_SCHEMA,
            });
        }
        if !valid_id(&self.terminal_id) {
            return Err(SchemaError::Invalid {
                field: "terminal_id",
                reason: "must be 1 to 128 characters of A-Z a-z 0-9 _ -".into(),
            });
        }
        if let Some(c) = &self.chain {
            c.validate()?;
        }
        if self.events.is_empty() && (self.chain.is_none() || self.schema == BATCH_SCHEMA_V1) {
            return Err(SchemaError::Invalid {
                field: "events",
                reason: "must not be empty (without a chain head)".into(),
            });
        }
        for item in &self.events {
            if !valid_id(&item.id) {
                return Err(SchemaError::Invalid {
                    field: "events[].id",
                    reason: format!("{:?} is not a valid webhook id", item.id),
                });
            }
            item.event.validate()?;
            if item.event.terminal_id != self.terminal_id {
                return Err(SchemaError::Invalid {
                    field: "events[].event.terminal_id",
                    reason: "differs from the batch's terminal_id".into(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{new_event_id, Event};
    use chrono::{DateTime, NaiveDate};

    fn day(seq: u64) -> Event {
        Event::day_closed(
            "t1",
            seq,
            DateTime::parse_from_rfc3339("2026-11-22T23:00:00+07:00").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            serde_json::json!({"count": 3}),
        )
    }

    #[test]
    fn round_trip_and_id() {
        let b = Batch::new("t1", [(new_event_id(), day(3)), (new_event_id(), day(4))]);
        assert_eq!(b.webhook_id().unwrap(), "batch_t1_3_4");
        let back = Batch::from_slice(&b.to_json()).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn foreign_terminal_refused() {
        let mut e = day(1);
        e.terminal_id = "t2".into();
        let b = Batch::new("t1", [(new_event_id(), e)]);
        assert!(b.validate().is_err());
        assert!(Batch::new("t1", []).validate().is_err());
    }

    #[test]
    fn a_head_alone_is_a_version_2_batch() {
        let head = crate::chain::ChainHead {
            count: 3,
            hash: "ab".repeat(32),
            at: None,
        };
        let b = Batch::new("t1", []).with_chain(Some(head));
        b.validate().unwrap();
        assert_eq!(b.webhook_id().unwrap(), "chain_t1_3");
        let mut v1 = b.clone();
        v1.schema = BATCH_SCHEMA_V1.into();
        assert!(Batch::from_slice(&v1.to_json()).is_err(), "v1 needs events");
        let mut old = Batch::new("t1", [(new_event_id(), day(1))]);
        old.schema = BATCH_SCHEMA_V1.into();
        assert!(Batch::from_slice(&old.to_json()).unwrap().chain.is_none());
    }
}
