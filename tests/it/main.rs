//! The peer tier: the real `auditfwd` executable, driven as an operator or
//! systemd would drive it, against the real peers (the PostgreSQL ODBC lab,
//! tansu, rsyslog, the HEC stand-in, the Sigma tool chain). A missing peer
//! fails its test with the way to get it. Runs with `cargo test --test it`
//! (`.ci/run` starts the peers first); the fast tier is `tests/fast`.

mod backfill;
mod daemon;
mod failures;
mod fleet;
#[path = "../../src/format/validate.rs"]
mod format_validate;
mod formats;
mod golden_lab;
mod ground;
mod hec;
mod hostile;
mod ibmi_truth;
pub mod kafka;
mod lab_types;
mod odbc;
mod package;
mod replay;
pub mod schema;
mod secrets;
mod sessions;
mod sigma;
mod syslog;
pub mod telemetry;
mod tls_refusals;

/// The shared harness (the `testkit` crate), under the name the tests use.
mod harness {
    pub(crate) use testkit::*;
}
