//! Events per second from the simulator through the pipeline into the Splunk HEC
//! stand-in, with and without indexer acknowledgement, side by side in one run.
//!
//!     cargo bench --bench hec            # BENCH_EVENTS=20000 by default
//!
//! The stand-in is a Python program, so the figures measure the pair; the ratio
//! between the two modes is the point: what waiting for "indexed" costs.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use auditfwd::sink::{SinkConfig, SplunkHecSinkConfig};

const STANDIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/hec_standin.py");

fn run(events: u64, indexer_ack: bool) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("python3")
        .arg(STANDIN)
        .args([
            "--port",
            "0",
            "--token",
            "bench",
            "--ack-delay",
            "0.05",
            "--store",
        ])
        .arg(dir.path().join("store.jsonl"))
        .args(if indexer_ack { &["--ack"][..] } else { &[][..] })
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().strip_prefix("READY ").unwrap().parse().unwrap();

    let sink = SinkConfig::SplunkHec(SplunkHecSinkConfig {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: auditfwd::config::Secret::new("bench"),
        indexer_ack,
        ..SplunkHecSinkConfig::default()
    });
    let rate = common::events_per_second(common::simulator_into(dir.path(), events, sink));
    let _ = child.kill();
    let _ = child.wait();
    rate
}

fn main() {
    let events: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_000);
    let without = run(events, false);
    let with = run(events, true);
    println!("splunk_hec without indexer ack: {without:.0} events/s ({events} events)");
    println!("splunk_hec with indexer ack:    {with:.0} events/s ({events} events)");
    println!("ratio without/with: {:.2}x", without / with);
}
