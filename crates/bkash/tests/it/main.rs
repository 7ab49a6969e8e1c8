//! Integration tests of `till-bkash` against the real `till-sandbox`, started
//! in-process on an ephemeral loopback port. No mocks: the sandbox is bKash.

mod callback;
mod checkout;
mod faults;
mod ipn;
mod lent;
mod refunds;
mod secrets;
mod tokens;
mod util;
