//! Events per second from the simulator through the pipeline into the Splunk HEC
//! stand-in, with and without indexer acknowledgement, side by side in one run.
//!
//!     cargo bench --bench hec            # BENCH_EVENTS=20000 by default
//!
//! The stand-in is a Python program, so the figures measure the pair; the ratio
//! between the two modes is the point: what waiting for "indexed" costs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use auditfwd::config::{Config, FilterConfig, SinkConfig, SplunkHecSinkConfig};
use auditfwd::pipeline::{self, RunOptions};

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

    let mut config = Config::default();
    config.source.batch_rows = 1000;
    config.source.simulator.total_events = events;
    config.source.simulator.events_per_second = 0;
    config.filter = FilterConfig {
        entry_types: vec![],
        include_users: vec![],
        exclude_users: vec![],
    };
    config.state.dir = dir.path().join("data");
    config.pipeline.max_batches_in_flight = 4;
    config.sinks = vec![SinkConfig::SplunkHec(SplunkHecSinkConfig {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: auditfwd::config::Secret::new("bench"),
        indexer_ack,
        ..SplunkHecSinkConfig::default()
    })];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome = runtime
        .block_on(pipeline::run(
            config,
            RunOptions {
                exit_when_caught_up: true,
            },
            std::future::pending(),
        ))
        .expect("run");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(outcome, pipeline::Outcome::Drained);
    let _ = child.kill();
    let _ = child.wait();
    events as f64 / seconds
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
