//! Events per second from the simulator through the pipeline into a private
//! rsyslog, over TCP (acknowledged when written) and over RELP (acknowledged when
//! rsyslog answered 200 for every message), side by side in one run.
//!
//!     cargo bench --bench syslog           # BENCH_EVENTS=50000 by default
//!
//! Needs rsyslog, rsyslog-gnutls, rsyslog-relp and openssl (bash .ci/setup).

mod common;

use auditfwd::sink::syslog::config::SyslogTransport;
use auditfwd::sink::{SinkConfig, SyslogSinkConfig};
use common::peers::Rsyslog;

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
    let events = common::knob("BENCH_EVENTS", 50_000);
    let rsyslog = Rsyslog::start();
    let tcp = run(events, SyslogTransport::Tcp, rsyslog.port("tcp"));
    let relp = run(events, SyslogTransport::Relp, rsyslog.port("relp"));
    drop(rsyslog);
    println!("syslog over TCP:  {tcp:.0} events/s ({events} events, acknowledged when written)");
    println!("syslog over RELP: {relp:.0} events/s ({events} events, acknowledged on rsp 200)");
    println!("ratio TCP/RELP: {:.2}x", tcp / relp);
}
