//! What the benchmarks share. Peers, ports, waiting and the in-process
//! pipeline are the test harness's own files (tests/it/harness/), included by
//! path, so tests and benches start peers and run the daemon the same way.
//! Each bench uses a part.
#![allow(dead_code, unused_imports)]

use std::time::Instant;

use auditfwd::app::Outcome;
use auditfwd::settings::Config;

#[path = "../../tests/it/harness/in_process.rs"]
mod in_process;
#[path = "../../tests/it/harness/peers/mod.rs"]
pub mod peers;
#[path = "../../tests/it/harness/wait.rs"]
pub mod wait;

pub use in_process::{run_caught_up, runtime, simulator_into};

/// Runs `config` until everything is delivered; events per second.
pub fn events_per_second(config: Config) -> f64 {
    let events = config.source.simulator.total_events;
    let started = Instant::now();
    let outcome = in_process::run_caught_up(config).expect("pipeline run");
    assert_eq!(outcome, Outcome::Drained);
    events as f64 / started.elapsed().as_secs_f64()
}

/// BENCH_EVENTS (or another knob) from the environment, or `default`.
pub fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}
