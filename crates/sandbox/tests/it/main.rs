//! Integration tests of `till-sandbox`: each test starts a sandbox in-process
//! on an ephemeral loopback port and talks to it over real HTTP.

mod bakong;
mod binary;
mod bkash_checkout;
mod bkash_more;
mod faults;
mod fixtures;
mod ipn;
mod nagad;
mod persist;
mod pybkash;
mod shapes;
mod util;
