//! Events per second from the simulator through the pipeline into the Splunk HEC
//! stand-in with indexer acknowledgement, side by side in one run: acks true at
//! once vs 2 s after the request (as a busy indexer answers), with the default
//! batches in flight, and the same 2 s with one batch at a time (the old
//! behaviour) for reference. Each run reads the stand-in's store back and checks
//! that exactly the expected events were indexed.
//!
//!     cargo bench --bench hec            # BENCH_EVENTS=20000 by default
//!
//! The stand-in is a Python program, so the figures measure the pair; the
//! ratio between the delays is the point: how much of the latency is hidden.

mod common;

use auditfwd::sink::{SinkConfig, SplunkHecSinkConfig};
use common::peers::HecStandin;

fn run(events: u64, ack_delay: f64, max_in_flight: usize) -> f64 {
    let config_for = |sink| {
        let mut config = common::simulator_into(std::path::Path::new("/nonexistent"), events, sink);
        config.pipeline.max_batches_in_flight =
            max_in_flight.max(config.pipeline.max_batches_in_flight);
        config
    };
    let dir = tempfile::tempdir().unwrap();
    let ack_delay = ack_delay.to_string();
    let standin = HecStandin::start(dir.path(), "bench", &["--ack", "--ack-delay", &ack_delay]);
    let port = standin.port;

    let sink = SinkConfig::SplunkHec(SplunkHecSinkConfig {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: auditfwd::config::Secret::new("bench"),
        indexer_ack: true,
        max_in_flight,
        ..SplunkHecSinkConfig::default()
    });
    let mut config = config_for(sink);
    config.state.dir = dir.path().join("data");
    let rate = common::events_per_second(config);
    let indexed: std::collections::HashSet<String> = standin.indexed_ids().into_iter().collect();
    assert_eq!(
        indexed.len() as u64,
        events,
        "the stand-in did not index exactly the events sent"
    );
    drop(standin);
    rate
}

fn main() {
    let events: u64 = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(20_000);
    let in_flight: usize = std::env::var("BENCH_IN_FLIGHT")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(auditfwd::sink::SplunkHecSinkConfig::default().max_in_flight);
    let at_once = run(events, 0.0, in_flight);
    let two_seconds = run(events, 2.0, in_flight);
    let sequential = run(events, 2.0, 1);
    println!(
        "machine: {} cores; {events} events, batch_rows 1000, indexer ack",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("ack at once,  {in_flight} in flight: {at_once:.0} events/s");
    println!("ack after 2s, {in_flight} in flight: {two_seconds:.0} events/s");
    println!("ack after 2s, 1 in flight (old):  {sequential:.0} events/s");
    println!(
        "ratio 2s/at once: {:.2} (target >= 0.80)",
        two_seconds / at_once
    );
    println!(
        "ratio in flight/sequential at 2s: {:.1}x",
        two_seconds / sequential
    );
}
