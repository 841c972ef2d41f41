//! What the pipeline benchmarks share: a simulator configuration that forwards
//! every entry, and a run to completion on a two-worker runtime.

use std::time::Instant;

use auditfwd::app::{self, Outcome, RunOptions};
use auditfwd::enrich::FilterConfig;
use auditfwd::settings::Config;
use auditfwd::sink::SinkConfig;

/// `events` simulator entries, unpaced, all forwarded, 1000-row batches, into `sink`.
pub fn simulator_into(state: &std::path::Path, events: u64, sink: SinkConfig) -> Config {
    let mut config = Config::default();
    config.source.batch_rows = 1000;
    config.source.simulator.total_events = events;
    config.source.simulator.events_per_second = 0;
    config.filter = FilterConfig {
        entry_types: vec![],
        include_users: vec![],
        exclude_users: vec![],
    };
    config.state.dir = state.join("data");
    config.sinks = vec![sink];
    config
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `config` until everything is delivered; events per second.
pub fn events_per_second(config: Config) -> f64 {
    let events = config.source.simulator.total_events;
    let started = Instant::now();
    let outcome = runtime()
        .block_on(app::run(
            config,
            RunOptions {
                exit_when_caught_up: true,
                ..RunOptions::default()
            },
            std::future::pending(),
        ))
        .expect("pipeline run");
    assert_eq!(outcome, Outcome::Drained);
    events as f64 / started.elapsed().as_secs_f64()
}
