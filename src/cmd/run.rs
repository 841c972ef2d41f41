//! `run`, `backfill` and `replay`.

use auditfwd::app::{self, Outcome, RunOptions};
use auditfwd::exit_code;

use super::{
    config_failed, error_chain, load, load_for_source, plan, runtime_with_signals, start_logging,
};
use crate::ConfigArgs;

pub(crate) fn run(args: &ConfigArgs, options: RunOptions) -> i32 {
    let loaded = load(args);
    if let Ok(config) = &loaded {
        // A fleet's long run: glibc's arenas capped before any thread starts
        // (this process starts again; returns for one system, when it
        // cannot, or when the environment chose already).
        super::arenas::cap(config.sources.len());
    }
    let plan = match loaded.map(plan) {
        Ok(Ok(plan)) => plan,
        Ok(Err(code)) => return code,
        Err(errors) => return config_failed(&errors),
    };
    if let Err(code) = start_logging(&plan.config.log) {
        return code;
    }
    let config = &plan.config;
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        source = ?config.source.kind,
        sinks = %config.effective_sinks().iter().map(|sink| sink.describe()).collect::<Vec<_>>().join(", "),
        state_dir = %config.state.dir.display(),
        "auditfwd starting"
    );
    let (runtime, shutdown) = match runtime_with_signals() {
        Ok(started) => started,
        Err(code) => return code,
    };
    let result = runtime.block_on(app::run(plan, options, shutdown));
    // A reader stuck in a poll, or a sink write stuck in a blocking thread
    // (stdout into a pipe nobody reads), would hold the runtime's drop, and
    // the process, past shutdown_grace: what they hold is not committed, so it
    // is abandoned.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(Outcome::Drained) => {
            tracing::info!("stopped; everything read was delivered and committed");
            exit_code::OK
        }
        Ok(Outcome::GraceExpired {
            undelivered_batches,
        }) => {
            tracing::warn!(undelivered_batches, "stopped before delivering everything; those entries are read again at the next start");
            exit_code::OK
        }
        Err(error) => {
            let code = error.exit_code();
            tracing::error!(exit_code = code, "{}", error_chain(&error));
            code
        }
    }
}

pub(crate) fn backfill(
    args: &ConfigArgs,
    from: &str,
    to: &str,
    sinks: Vec<String>,
    audit_types: Vec<String>,
    source: Option<&str>,
) -> i32 {
    use auditfwd::backfill::{self, Extent, Progress, Request};
    let config = match load_for_source(args, source, "backfill") {
        Ok(config) => config,
        Err(code) => return code,
    };
    let time = |flag: &str, text: &str| {
        auditfwd::source::rows::parse_local_timestamp(text)
            .ok_or_else(|| format!("{flag} {text:?} is not a local time like 2026-10-01T00:00:00"))
    };
    let request = match (time("--from", from), time("--to", to)) {
        (Ok(from), Ok(to)) => Request {
            from,
            to,
            sinks,
            audit_types,
        },
        (Err(problem), _) | (_, Err(problem)) => {
            eprintln!("auditfwd: backfill: {problem}");
            return exit_code::CONFIG;
        }
    };
    let derived = match backfill::derive(&config, &request) {
        Ok(derived) => derived,
        Err(problem) => {
            eprintln!("auditfwd: backfill: {problem}");
            return exit_code::CONFIG;
        }
    };
    let plan = match plan(derived) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if let Err(code) = start_logging(&plan.config.log) {
        return code;
    }
    let Some(system) = plan.systems.first() else {
        eprintln!("auditfwd: backfill: the configuration names no system");
        return exit_code::CONFIG;
    };
    // The zone planned at load (the backfill reads ODBC only, `derive` says so).
    let Some(odbc) = &system.source.odbc else {
        eprintln!("auditfwd: backfill: reads an IBM i: set source.kind = \"odbc\"");
        return exit_code::CONFIG;
    };
    let end_at = auditfwd::source::rows::LocalClock::new(odbc.zone).to_utc(&request.to);
    // The runtime and the signal handlers first: a SIGTERM from now on drains
    // and exits 0, even while the extent is read below.
    let (runtime, shutdown) = match runtime_with_signals() {
        Ok(started) => started,
        Err(code) => return code,
    };
    // The extent (receivers holding the range) sizes the progress; without it
    // the backfill still runs, showing entries only.
    let extent = match auditfwd::source::Source::open(&system.source, &system.config.filter, None) {
        Ok(auditfwd::source::Source::Odbc(mut source)) => match source.receivers() {
            Ok(receivers) => Extent::of(&receivers, request.from, request.to),
            Err(error) => {
                tracing::warn!(%error, "cannot read the receivers to size the progress");
                Extent::default()
            }
        },
        _ => Extent::default(),
    };
    let state = system.config.state.dir.clone();
    tracing::info!(from = %request.from, to = %request.to, state_dir = %state.display(), sinks = %system.sinks.iter().map(|sink| sink.name.as_str()).collect::<Vec<_>>().join(", "), "backfill starting");
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = std::sync::Arc::new(Progress::new(extent, on_terminal));
    let observer: app::Observer = {
        let progress = progress.clone();
        std::sync::Arc::new(move |metrics: &auditfwd::telemetry::Metrics| {
            progress.show(metrics.committed_cursor().as_ref());
        })
    };
    let options = RunOptions {
        exit_when_caught_up: true,
        accept_lost_checkpoint: false,
        end_at: Some(end_at),
    };
    let result = runtime.block_on(app::run_observed(plan, options, shutdown, Some(observer)));
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(_) => {
            progress.finish();
            eprintln!(
                "backfill: stopped with everything read delivered and committed in {}; run the same command again to continue (a finished range reads nothing more), or delete that directory to read the range again",
                state.display()
            );
            exit_code::OK
        }
        Err(error) => {
            let code = error.exit_code();
            eprintln!("auditfwd: backfill: {}", error_chain(&error));
            code
        }
    }
}

pub(crate) fn replay(args: &ConfigArgs, file: &std::path::Path, sink: &str) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    if let Err(code) = start_logging(&config.log) {
        return code;
    }
    let (runtime, shutdown) = match runtime_with_signals() {
        Ok(started) => started,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = auditfwd::replay::replay(&config, file, sink, |line| eprintln!("{line}")) => Some(result),
            () = shutdown => None,
        }
    });
    let Some(result) = result else {
        eprintln!(
            "replay: stopped by a signal before the end; run the same command again to send the file (events sent already are sent again: SIEMs de-duplicate on event_id)"
        );
        return exit_code::OK;
    };
    match result {
        Ok(summary) => {
            eprintln!(
                "replay: done: {} events in {} batches to {sink} ({} retries)",
                summary.events, summary.batches, summary.retries
            );
            exit_code::OK
        }
        Err(error) => {
            eprintln!("auditfwd: replay: {error}");
            error.exit_code()
        }
    }
}
