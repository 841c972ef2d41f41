//! The real peers the suite and the benches talk to, each started by one type
//! that fails (never skips) with the way to get the peer when it is missing:
//! tansu (a Kafka-protocol broker), the PostgreSQL ODBC lab, a private rsyslog
//! and the Splunk HEC stand-in. Every peer stops when its value drops.

pub mod hec;
pub mod lab;
pub mod rsyslog;
pub mod tansu;

pub use hec::HecStandin;
pub use lab::Lab;
pub use rsyslog::Rsyslog;
pub use tansu::Tansu;

/// Sends signal `name` (TERM, STOP, CONT, KILL, …) to process `pid`.
pub fn signal_pid(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}
