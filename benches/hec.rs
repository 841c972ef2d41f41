//! Events per second from the simulator through the pipeline into the Splunk HEC
//! stand-in with indexer acknowledgement, side by side in one run: acks true at
//! once vs 2 s after the request (as a busy indexer answers), at 20,000 and at
//! 200,000 events, with the defaults (64 batches in flight: the sink keeps
//! compressed bodies, not events) and with 16 in flight (the previous default,
//! when a batch in flight held its events); at 20,000 also the same 2 s with
//! one batch at a time (the first version) for reference. Each run reads the
//! stand-in's store back and checks that exactly the expected events were indexed.
//!
//!     cargo bench --bench hec     # BENCH_SIZES=20000,200000; BENCH_COMPARE=16, BENCH_ACK_POLL_MS
//!
//! BENCH_COMPARE=0 leaves the comparison run out.
//!
//! The stand-in is a Python program, so the figures measure the pair. A fixed
//! acknowledgement latency L is a tail no pipelining removes: a run of N events
//! takes at least T(0) + L, so the 2 s / at-once ratio is at most
//! T(0) / (T(0) + L); the bench prints that bound next to each ratio.

use testkit::bench as common;

use std::collections::HashSet;
use std::time::Duration;

use auditfwd::sink::{SinkConfig, SplunkHecSinkConfig};
use common::peers::HecStandin;

fn expected_ids(events: u64) -> HashSet<String> {
    let simulator = auditfwd::source::config::SimulatorConfig {
        events_per_second: 0,
        ..Default::default()
    };
    let enricher = auditfwd::enrich::Enricher::default();
    (0..events)
        .map(|ordinal| {
            enricher
                .enrich(&auditfwd::source::simulator::entry(&simulator, ordinal))
                .event_id
        })
        .collect()
}

/// One run; `in_flight` sets the sink's `max_in_flight`, `pipeline` the
/// pipeline's bound (None: the default).
fn run(
    events: u64,
    ack_delay: f64,
    in_flight: usize,
    pipeline: Option<usize>,
    poll: Duration,
    expected: &HashSet<String>,
) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let ack_delay = ack_delay.to_string();
    let standin = HecStandin::start(dir.path(), "bench", &["--ack", "--ack-delay", &ack_delay]);
    let sink = SinkConfig::SplunkHec(SplunkHecSinkConfig {
        endpoint: format!("http://127.0.0.1:{}", standin.port),
        token: auditfwd::config::Secret::new("bench"),
        indexer_ack: true,
        max_in_flight: in_flight,
        ack_poll_interval: poll,
        ..SplunkHecSinkConfig::default()
    });
    let mut config = common::simulator_into(dir.path(), events, sink);
    if let Some(bound) = pipeline {
        config.pipeline.max_batches_in_flight = bound;
    }
    let rate = common::events_per_second(config);
    let indexed = standin.indexed_ids();
    let unique: HashSet<&String> = indexed.iter().collect();
    assert!(
        unique.len() as u64 == events && unique.iter().all(|id| expected.contains(*id)),
        "the stand-in indexed {} events ({} distinct), not exactly the {events} sent",
        indexed.len(),
        unique.len()
    );
    drop(standin);
    rate
}

fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "20000,200000".into())
        .split(',')
        .map(|size| size.trim().parse().expect("BENCH_SIZES: numbers"))
        .collect();
    let defaults = SplunkHecSinkConfig::default();
    let in_flight = defaults.max_in_flight;
    let bound = auditfwd::pipeline::PipelineConfig::default().max_batches_in_flight;
    let compare = common::knob("BENCH_COMPARE", 16) as usize;
    let poll = Duration::from_millis(common::knob(
        "BENCH_ACK_POLL_MS",
        defaults.ack_poll_interval.as_millis() as u64,
    ));
    println!(
        "machine: {} cores (shared); batch_rows 1000, indexer ack, ack poll every {poll:?}; \
         defaults: sink max_in_flight {in_flight}, pipeline.max_batches_in_flight {bound} (so {} in flight); {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        in_flight.min(bound),
        if compare > 0 {
            format!("compared with {compare} in flight")
        } else {
            "no comparison (BENCH_COMPARE=0)".to_owned()
        }
    );
    for events in sizes {
        let expected = expected_ids(events);
        let at_once = run(events, 0.0, in_flight, None, poll, &expected);
        let two_seconds = run(events, 2.0, in_flight, None, poll, &expected);
        // 0 leaves it out (a bound of 0 batches is not a configuration).
        let two_compare =
            (compare > 0).then(|| run(events, 2.0, compare, Some(compare), poll, &expected));
        let t0 = events as f64 / at_once;
        let seconds = |rate: f64| events as f64 / rate;
        println!("[{events}] ack at once, defaults:      {at_once:.0} events/s ({t0:.2} s)");
        println!(
            "[{events}] ack after 2s, defaults:     {two_seconds:.0} events/s ({:.2} s), ratio {:.2}",
            seconds(two_seconds),
            two_seconds / at_once
        );
        if let Some(two_compare) = two_compare {
            println!(
                "[{events}] ack after 2s, {compare} in flight: {two_compare:.0} events/s ({:.2} s), ratio {:.2}",
                seconds(two_compare),
                two_compare / at_once
            );
        }
        println!(
            "[{events}] target >= 0.80; a 2 s tail bounds the ratio at T0/(T0+2) = {:.2}; read back: each run indexed exactly the events sent",
            t0 / (t0 + 2.0)
        );
        if events <= 20_000 {
            let sequential = run(events, 2.0, 1, None, poll, &expected);
            println!(
                "[{events}] ack after 2s, 1 in flight (old): {sequential:.0} events/s; defaults / old {:.1}x",
                two_seconds / sequential
            );
        }
    }
}
