//! The catch-up envelope (`"schema": "till.batch/1"`): many events in one
//! signed request. The envelope has its own webhook id (see [`batch_id`]); each
//! inner event keeps its own stable id, which is what the hub stores once.

use crate::event::{valid_id, Event, SchemaError};
use serde::{Deserialize, Serialize};

/// The value of the `schema` field of a batch.
pub const BATCH_SCHEMA: &str = "till.batch/1";

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
    pub events: Vec<BatchItem>,
}

/// The webhook id of a batch envelope: `batch_<terminal>_<first>_<last>`.
pub fn batch_id(terminal_id: &str, first_sequence: u64, last_sequence: u64) -> String {
    format!("batch_{terminal_id}_{first_sequence}_{last_sequence}")
}

impl Batch {
    /// A batch of `(webhook id, event)` pairs.
    pub fn new(terminal_id: &str, events: impl IntoIterator<Item = (String, Event)>) -> Self {
        Batch {
            schema: BATCH_SCHEMA.to_string(),
            terminal_id: terminal_id.to_string(),
            events: events
                .into_iter()
                .map(|(id, event)| BatchItem { id, event })
                .collect(),
        }
    }

    /// The envelope's webhook id from its first and last sequence numbers
    /// (`None` for an empty batch).
    pub fn webhook_id(&self) -> Option<String> {
        let first = self.events.iter().map(|i| i.event.sequence).min()?;
        let last = self.events.iter().map(|i| i.event.sequence).max()?;
        Some(batch_id(&self.terminal_id, first, last))
    }

    /// The JSON body to sign and send.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a Batch always serialises")
    }

    /// Parse and [validate](Batch::validate) a batch.
    pub fn from_slice(body: &[u8]) -> Result<Self, SchemaError> {
        let b: Batch = crate::event::parse_json(body)?;
        b.validate()?;
        Ok(b)
    }

    /// The envelope's own checks plus every event's; every event must belong
    /// to the envelope's terminal.
    pub fn validate(&self) -> Result<(), SchemaError> {
        if self.schema != BATCH_SCHEMA {
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
        if self.events.is_empty() {
            return Err(SchemaError::Invalid {
                field: "events",
                reason: "must not be empty".into(),
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
}
