//! The local terminal API against a real till: the in-process sandbox's
//! wallets, a journal on a temporary home, a virtual printer, and the API
//! on an ephemeral loopback port.

mod api;
mod python;
mod util;
