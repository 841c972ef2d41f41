//! Events per second from the simulator through the pipeline into the Splunk HEC
//! stand-in, with and without indexer acknowledgement, side by side in one run.
//!
//!     cargo bench --bench hec            # BENCH_EVENTS=20000 by default
//!
//! The stand-in is a Python program, so the figures measure the pair; the ratio
//! between the two modes is the point: what waiting for "indexed" costs.

mod common;

use auditfwd::sink::{SinkConfig, SplunkHecSinkConfig};
use common::peers::HecStandin;

fn run(events: u64, indexer_ack: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = vec!["--ack-delay", "0.05"];
    if indexer_ack {
        flags.push("--ack");
    }
    let standin = HecStandin::start(dir.path(), "bench", &flags);
    let port = standin.port;

    let sink = SinkConfig::SplunkHec(SplunkHecSinkConfig {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: auditfwd::config::Secret::new("bench"),
        indexer_ack,
        ..SplunkHecSinkConfig::default()
    });
    let rate = common::events_per_second(common::simulator_into(dir.path(), events, sink));
    drop(standin);
    rate
}

fn main() {
    let events = common::knob("BENCH_EVENTS", 20_000);
    let without = run(events, false);
    let with = run(events, true);
    println!("splunk_hec without indexer ack: {without:.0} events/s ({events} events)");
    println!("splunk_hec with indexer ack:    {with:.0} events/s ({events} events)");
    println!("ratio without/with: {:.2}x", without / with);
}
