//! The commands of the binary, grouped: `run`, `backfill` and `replay`
//! (`run.rs`); `check-config`, `doctor`, `audit-types`, `enrich` and `sessions`
//! (`tools.rs`); `checkpoint` (`checkpoint.rs`). This file holds what they
//! share: loading the configuration, errors, the runtime and its signals.

pub(crate) mod arenas;
pub(crate) mod checkpoint;
pub(crate) mod run;
pub(crate) mod tools;

use auditfwd::config::{CommandLine, ConfigErrors};
use auditfwd::exit_code;
use auditfwd::plan::RunPlan;
use auditfwd::settings::Config;

use crate::ConfigArgs;

pub(crate) fn load(args: &ConfigArgs) -> Result<Config, ConfigErrors> {
    let mut command_line = CommandLine::default();
    if let Some(format) = &args.log_format {
        command_line
            .push(&format!("log.format={format}"))
            .map_err(|error| ConfigErrors(vec![error]))?;
    }
    for assignment in &args.set {
        command_line
            .push(assignment)
            .map_err(|error| ConfigErrors(vec![error]))?;
    }
    Config::load(&args.config, &command_line)
}

/// The run plan of a loaded configuration; the error is the exit code,
/// already reported.
pub(crate) fn plan(config: Config) -> Result<RunPlan, i32> {
    RunPlan::new(config).map_err(|errors| config_failed(&errors))
}

/// Starts logging as `[log]` says; the error is the exit code, already reported.
pub(crate) fn start_logging(config: &auditfwd::telemetry::config::LogConfig) -> Result<(), i32> {
    auditfwd::telemetry::init_logging(config)
        .map_err(|error| config_failed(&ConfigErrors(vec![error])))
}

pub(crate) fn config_failed(errors: &ConfigErrors) -> i32 {
    for error in &errors.0 {
        eprintln!("auditfwd: configuration error: {error}");
    }
    exit_code::CONFIG
}

/// An error and its causes, "outer: inner: innermost", skipping causes whose
/// text the outer message already contains.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

/// The configuration of the system `--source` names: required with
/// [[sources]], and then one of their names.
/// Loads the configuration and narrows it to one system (`--source`); the
/// error is the exit code, already reported under `command`'s name.
pub(crate) fn load_for_source(
    args: &ConfigArgs,
    source: Option<&str>,
    command: &str,
) -> Result<Config, i32> {
    let config = load(args).map_err(|errors| config_failed(&errors))?;
    select_source(&config, source).map_err(|problem| {
        eprintln!("auditfwd: {command}: {problem}");
        exit_code::CONFIG
    })
}

fn select_source(config: &Config, source: Option<&str>) -> Result<Config, String> {
    let names: Vec<String> = config
        .sources
        .iter()
        .map(|source| source.name.trim().to_owned())
        .collect();
    match source {
        None if config.sources.is_empty() => Ok(config.clone()),
        None => Err(format!(
            "the configuration lists several systems: name one with --source ({})",
            names.join(", ")
        )),
        Some(name) if config.sources.is_empty() && name.trim() == config.source.name.trim() => {
            Ok(config.clone())
        }
        Some(name) => config
            .sources
            .iter()
            .find(|source| source.name.trim().eq_ignore_ascii_case(name.trim()))
            .map(|source| config.for_source(source))
            .ok_or_else(|| {
                format!(
                    "--source {name:?} is not a configured system{}",
                    if names.is_empty() {
                        " (this configuration has one [source]; leave --source out)".to_owned()
                    } else {
                        format!(": use one of {}", names.join(", "))
                    }
                )
            }),
    }
}

/// Completes on SIGTERM, SIGINT or SIGHUP, after logging which one arrived.
///
/// SIGHUP (a closed terminal, or `systemctl kill -s HUP` by habit) drains
/// exactly as SIGTERM does: auditfwd has no configuration reload, and the
/// default action (die at once, no drain, no log line) is the worst answer.
///
/// The handlers are installed when this is called, not when the future is
/// first polled: a signal that arrives during start-up (sink checks, the first
/// connection) is kept and drains the run as soon as it starts, instead of
/// killing the process with the default action. Call it inside the runtime.
/// The runtime every async command runs on, and the signal handlers, set up
/// together: from here on SIGTERM, SIGINT or SIGHUP drains instead of killing.
pub(crate) fn runtime_with_signals() -> Result<
    (
        tokio::runtime::Runtime,
        impl std::future::Future<Output = ()>,
    ),
    i32,
> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| {
            eprintln!("auditfwd: cannot start the runtime: {error}");
            exit_code::SOFTWARE
        })?;
    let shutdown = {
        let _inside = runtime.enter();
        shutdown_signal()
    };
    Ok((runtime, shutdown))
}

pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind, name: &'static str| {
        let stream = signal(kind)
            .inspect_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
            .ok();
        async move {
            match stream {
                Some(mut stream) => {
                    stream.recv().await;
                    name
                }
                None => std::future::pending().await,
            }
        }
    };
    let terminate = listen(SignalKind::terminate(), "SIGTERM");
    let interrupt = listen(SignalKind::interrupt(), "SIGINT");
    let hangup = listen(SignalKind::hangup(), "SIGHUP");
    async move {
        let name = tokio::select! {
            name = terminate => name,
            name = interrupt => name,
            name = hangup => name,
        };
        tracing::info!(signal = name, "{name} received; draining as for SIGTERM");
    }
}
