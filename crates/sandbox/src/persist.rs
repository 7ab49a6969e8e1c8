//! Optional persistence (`--state FILE`): the whole [`World`] is kept as one
//! JSON snapshot row in a SQLite database, rewritten after every change, so a
//! restarted sandbox still knows its payments, refunds, agreements, tokens
//! and KHQR transactions.

use crate::state::World;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::Mutex;

pub struct Persist {
    conn: Mutex<Connection>,
}

impl Persist {
    pub fn open(path: &Path) -> Result<Persist, crate::Error> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS sandbox_world (id INTEGER PRIMARY KEY CHECK (id = 1), saved_ms INTEGER NOT NULL, json TEXT NOT NULL)",
            [],
        )?;
        Ok(Persist {
            conn: Mutex::new(conn),
        })
    }

    /// The saved world, if any.
    pub fn load(&self) -> Result<Option<World>, crate::Error> {
        let conn = self.conn.lock().expect("db lock");
        let json: Option<String> = conn
            .query_row("SELECT json FROM sandbox_world WHERE id = 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(match json {
            Some(j) => Some(serde_json::from_str(&j)?),
            None => None,
        })
    }

    pub fn save(&self, world: &World) -> Result<(), crate::Error> {
        let json = serde_json::to_string(world)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let conn = self.conn.lock().expect("db lock");
        conn.execute(
            "INSERT INTO sandbox_world (id, saved_ms, json) VALUES (1, ?1, ?2) ON CONFLICT(id) DO UPDATE SET saved_ms = ?1, json = ?2",
            params![now, json],
        )?;
        Ok(())
    }
}
