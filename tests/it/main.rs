//! The integration test binary: the real `auditfwd` executable, driven as an
//! operator or systemd would drive it.

mod architecture;
mod backfill;
mod config;
mod daemon;
mod enrich_cli;
mod failures;
mod fleet;
#[path = "../../src/format/validate.rs"]
mod format_validate;
mod formats;
mod golden;
mod ground;
mod harness;
mod hec;
mod hostile;
mod ibmi_truth;
pub mod kafka;
mod lab_types;
mod odbc;
mod package;
mod reference;
mod replay;
pub mod schema;
mod secrets;
mod sessions;
mod sigma;
mod syslog;
pub mod telemetry;
mod tls_refusals;
