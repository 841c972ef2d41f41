//! The daemon in this process (`app::run`), for tests that inject faults into
//! a peer's client and for the benches: a simulator configuration that
//! forwards every entry, and a run to completion on a two-worker runtime.

use std::path::Path;

use auditfwd::app::{self, Outcome, RunError, RunOptions};
use auditfwd::enrich::FilterConfig;
use auditfwd::settings::Config;
use auditfwd::sink::SinkConfig;
use auditfwd::source::config::SimulatorStart;

/// `events` simulator entries, unpaced, all forwarded, 1000-row batches, into
/// `sink`; state in `state/data`.
pub fn simulator_into(state: &Path, events: u64, sink: SinkConfig) -> Config {
    let mut config = Config::default();
    config.source.batch_rows = 1000;
    config.source.simulator.total_events = events;
    config.source.simulator.events_per_second = 0;
    config.source.simulator.start_timestamp = SimulatorStart::At(
        crate::config::FIXED_START
            .parse()
            .expect("a valid fixed start"),
    );
    config.filter = FilterConfig {
        entry_types: vec![],
        include_users: vec![],
        exclude_users: vec![],
    };
    config.state.dir = state.join("data");
    config.sinks = vec![sink];
    // Entries one for one: no derived session events.
    config.sessions.enabled = false;
    config
}

/// A multi-threaded tokio runtime with two workers, time and I/O enabled.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `config` until the source is caught up and everything is delivered.
pub fn run_caught_up(config: Config) -> Result<Outcome, RunError> {
    let plan = auditfwd::plan::RunPlan::new(config).expect("a configuration that plans");
    runtime().block_on(app::run(
        plan,
        RunOptions {
            exit_when_caught_up: true,
            ..RunOptions::default()
        },
        std::future::pending(),
    ))
}
