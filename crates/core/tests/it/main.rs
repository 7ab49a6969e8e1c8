//! Integration tests of the terminal core against the real `till-sandbox`
//! on loopback. Secrets come from the real OS keyring (a throwaway service
//! name per test); run under a Secret Service (the README's test command
//! starts one with `dbus-run-session` + gnome-keyring).

mod bakong;
mod bkash;
mod connect;
mod disk;
mod engine;
mod home_lock;
mod lend;
mod nagad;
mod payee;
mod print;
mod report;
mod retention;
mod shapes;
mod supervise;
mod sync;
mod tls;
mod util;
