//! The integration test binary: the real `auditfwd` executable, driven as an
//! operator or systemd would drive it.

mod architecture;
mod config;
mod daemon;
mod enrich_cli;
mod failures;
#[path = "../../src/format/validate.rs"]
mod format_validate;
mod formats;
mod golden;
mod harness;
mod hec;
mod hostile;
mod kafka;
mod odbc;
mod package;
pub mod schema;
mod secrets;
mod syslog;
mod telemetry;
mod tls_refusals;
