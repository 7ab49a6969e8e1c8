//! Shared application state: configuration, the [`World`] (everything the
//! providers know) behind one lock, the fault engine, the clock, Nagad's keys.

use crate::bakong::flow::BakongState;
use crate::bkash::flow::BkashState;
use crate::clock::Clock;
use crate::config::Config;
use crate::faults::FaultEngine;
use crate::nagad::flow::NagadState;
use crate::persist::Persist;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

fn fresh_rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(0)
}

/// Everything the simulated providers believe. Serialisable for `--state`.
#[derive(Debug, Serialize, Deserialize)]
pub struct World {
    pub bkash: BkashState,
    pub bakong: BakongState,
    /// Absent in snapshots written before the Nagad simulator existed.
    #[serde(default)]
    pub nagad: NagadState,
    /// Source of every id; seeded from the configuration.
    #[serde(skip, default = "fresh_rng")]
    pub rng: ChaCha8Rng,
}

impl World {
    pub fn new(seed: u64) -> World {
        World {
            bkash: BkashState::default(),
            bakong: BakongState::default(),
            nagad: NagadState::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

/// Cloned into every handler.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub world: Arc<Mutex<World>>,
    pub faults: Arc<Mutex<FaultEngine>>,
    pub clock: Clock,
    /// Public base URL, e.g. `http://127.0.0.1:43121`.
    pub origin: Arc<str>,
    pub persist: Option<Arc<Persist>>,
    pub ipn: Option<Arc<crate::bkash::ipn::Ipn>>,
    /// Nagad's keys and the merchant's public key, parsed at start.
    pub nagad_keys: Arc<crate::nagad::crypto::NagadKeys>,
}

impl AppState {
    /// Run `f` under the world lock; with `--state`, save the world after it.
    pub fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut world);
        if let Some(p) = &self.persist {
            if let Err(e) = p.save(&world) {
                tracing::error!(error = %e, "saving sandbox state failed");
            }
        }
        out
    }

    /// Read-only access (no save).
    pub fn read_world<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        let world = self.world.lock().unwrap_or_else(|e| e.into_inner());
        f(&world)
    }

    /// Make a presented token invalid now (fault "token expired early").
    pub fn revoke_token(&self, token: &str, bakong: bool) {
        self.with_world(|w| {
            if bakong {
                if let Some(t) = w.bakong.tokens.get_mut(token) {
                    t.revoked = true;
                }
            } else if let Some(t) = w.bkash.tokens.get_mut(token) {
                t.revoked = true;
            }
        });
    }
}
