//! Integration tests of `till-nagad` against the real `till-sandbox`, started
//! in-process on an ephemeral loopback port. No mocks: the sandbox is Nagad.

mod checkout;
mod faults;
mod refunds;
mod util;
