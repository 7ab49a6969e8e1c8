//! Integration tests of `till-bakong` against the real `till-sandbox`,
//! started in-process on an ephemeral loopback port. No mocks: the sandbox
//! is the provider, faults are injected through its fault engine.

mod bulk;
mod checks;
mod faults;
mod props;
mod token;
mod util;
