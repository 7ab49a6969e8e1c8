//! `till-sandbox`: local simulators of the bKash Tokenized Checkout API, the
//! Bakong Open API and the Nagad merchant payment gateway, faithful enough
//! that third-party clients accept them.
//!
//! Nothing here talks to the real providers. The sandbox is what Till, its
//! tests and its demo mode use instead. Every behaviour the specs mark as
//! unsure (`[I]`/`[?]`) is a setting in [`config`] rather than a baked-in guess.
//!
//! # Layout
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`config`] | every setting (credentials, spec-uncertain switches, fault rules), TOML loading |
//! | [`server`] | binding, the accept loop (per-connection control for reset faults), [`SandboxHandle`] |
//! | [`state`] | the shared application state and the persisted [`state::World`] |
//! | [`clock`] | an injectable clock, so tests move time instead of sleeping |
//! | [`money`] | amounts as exact decimals and as the text a client sent |
//! | [`ids`] | seeded generators for provider-shaped identifiers |
//! | [`faults`] | fault rules, the seeded fault engine and its middleware |
//! | [`persist`] | optional SQLite snapshot of the world (`--state FILE`) |
//! | [`sim`] | simulator-only control routes under `/sim/` (ledger, faults, clock, info) |
//! | [`bkash`] | bKash: `wire` (JSON shapes), `codes`, `flow` (state machine), `http` (routes), `page` (hosted checkout), `ipn` (SNS notifications) |
//! | [`bakong`] | Bakong: `wire`, `flow`, `http`, `page` (the "bank app") |
//! | [`nagad`] | Nagad: `wire`, `crypto` (its keys: open, check, seal, sign), `codes`, `flow` (state machine), `http` (routes under a prefix), `page` (the customer's page) |
//! | [`tls`] | HTTPS: the optional server certificate ([`tls::TlsIdentity`]) |
//! | [`error`] | typed errors of the crate |
//!
//! # Starting one in-process
//!
//! ```no_run
//! # async fn demo() -> Result<(), till_sandbox::Error> {
//! let sandbox = till_sandbox::start(till_sandbox::Config::default()).await?;
//! println!("bKash base: {}", sandbox.bkash_base_url());
//! println!("Bakong base: {}", sandbox.bakong_base_url());
//! println!("Nagad base: {}", sandbox.nagad_base_url());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Invariants
//!
//! - Speaks each provider's wire format over real HTTP, as the public specs
//!   say; where a spec is unsure the behaviour is a setting, not a guess.
//! - Shares no types with the adapters it tests (`till-bkash`, `till-bakong`,
//!   `till-nagad`): a misread field must show up as a failing test, not agree
//!   with itself.
//! - Listens only where it is told (`--listen`; the tests and demo mode:
//!   loopback, port 0), and reaches out to nothing but the callback URLs
//!   and IPN endpoints it is configured with.

pub mod bakong;
pub mod bkash;
pub mod clock;
pub mod config;
pub mod error;
pub mod faults;
pub mod ids;
pub mod money;
pub mod nagad;
pub mod persist;
pub mod server;
pub mod sim;
pub mod state;
pub mod tls;

pub use clock::Clock;
pub use config::Config;
pub use error::Error;
pub use faults::{FaultKind, FaultRule};
pub use server::{start, SandboxHandle};
pub use tls::TlsIdentity;
