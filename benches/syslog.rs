//! Events per second from the simulator through the pipeline into a private
//! rsyslog, over TCP (acknowledged when written) and over RELP (acknowledged when
//! rsyslog answered 200 for every message), side by side in one run.
//!
//!     cargo bench --bench syslog           # BENCH_EVENTS=50000 by default
//!
//! Needs rsyslog, rsyslog-gnutls, rsyslog-relp and openssl (bash .ci/setup).

mod common;

use std::process::Command;

use auditfwd::sink::syslog::config::SyslogTransport;
use auditfwd::sink::{SinkConfig, SyslogSinkConfig};

const HARNESS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/syslog/rsyslog.sh"
);

fn rsyslog(action: &str, dir: &std::path::Path) {
    let output = Command::new("bash")
        .arg(HARNESS)
        .arg(action)
        .arg(dir)
        .envs([
            ("SYSLOG_TCP_PORT", "26514"),
            ("SYSLOG_TLS_PORT", "26515"),
            ("SYSLOG_RELP_PORT", "26516"),
            ("SYSLOG_UDP_PORT", "26517"),
            ("SYSLOG_MTLS_PORT", "26518"),
        ])
        .output()
        .expect("rsyslog.sh");
    assert!(
        output.status.success(),
        "rsyslog.sh {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn run(events: u64, transport: SyslogTransport, port: u16) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let sink = SinkConfig::Syslog(SyslogSinkConfig {
        address: format!("127.0.0.1:{port}"),
        transport,
        ..SyslogSinkConfig::default()
    });
    common::events_per_second(common::simulator_into(dir.path(), events, sink))
}

fn main() {
    let events: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap();
    rsyslog("start", dir.path());
    let tcp = run(events, SyslogTransport::Tcp, 26514);
    let relp = run(events, SyslogTransport::Relp, 26516);
    rsyslog("stop", dir.path());
    println!("syslog over TCP:  {tcp:.0} events/s ({events} events, acknowledged when written)");
    println!("syslog over RELP: {relp:.0} events/s ({events} events, acknowledged on rsp 200)");
    println!("ratio TCP/RELP: {:.2}x", tcp / relp);
}
