//! Integration tests of `till-hub` over real HTTP on loopback. Every test runs
//! twice: on SQLite and on a real PostgreSQL the harness starts itself
//! (`pg.rs`; missing PostgreSQL binaries fail the PostgreSQL half with a
//! pointer to `scripts/setup.sh test`).

mod harness;
mod pg;

mod chain;
mod cli;
mod ingest;
mod keys;
mod office;
mod payee;
mod read;
mod secrets;
mod tls;
mod tokens;
