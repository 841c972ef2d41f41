//! The `auditfwd` command: parse arguments, load configuration, dispatch.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use auditfwd::app::{self, Outcome, RunOptions};
use auditfwd::checkpoint::{operator_cursor, CheckpointStore};
use auditfwd::config::{CommandLine, ConfigErrors};
use auditfwd::enrich::Enricher;
use auditfwd::exit_code;
use auditfwd::settings::Config;
use auditfwd::source::rows::{typed_row, LocalClock, RowReader};

#[derive(Parser)]
#[command(
    name = "auditfwd",
    version,
    about = "Streams the IBM i security audit journal (JS entries) to a SIEM, at least once",
    after_help = "Examples:
  auditfwd run                                   simulator → stdout, state in ./data
  auditfwd run -c /etc/auditfwd/auditfwd.toml
  auditfwd run -c base.toml -c site.toml --set source.batch_rows=500
  AUDITFWD_SOURCE__KIND=simulator auditfwd check-config -c auditfwd.toml
  auditfwd enrich --input export.csv > events.ndjson
  auditfwd checkpoint show -c /etc/auditfwd/auditfwd.toml
  auditfwd doctor -c /etc/auditfwd/auditfwd.toml  check the IBM i first (read-only)

Shipped with the package under /usr/share/auditfwd/: Prometheus alerting rules,
a Grafana dashboard, the Splunk app, the QRadar LEEF map, the event JSON schemas.

Configuration layers, lowest first: built-in defaults, each -c file in order,
AUDITFWD_* environment variables (nested keys joined by __), --set KEY=VALUE.
Exit codes:
  0   done: drained, caught up, or stopped by a signal with nothing lost
  65  enrich: bad input rows (the good ones are written)
  69  a peer refused for good (sink start-up check, permanent delivery error)
  70  internal error: a panic or an unexpected end (nothing committed past delivery)
  73  state directory locked by another process or unusable
  74  enrich: cannot write the output
  78  configuration, including unreadable secret, CA and key files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct ConfigArgs {
    /// Configuration file (TOML); repeat to layer several, later ones win.
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
    config: Vec<PathBuf>,
    /// Override one key, e.g. --set source.batch_rows=500 (highest precedence).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    set: Vec<String>,
    /// Log line format (same as --set log.format=...).
    #[arg(long = "log-format", value_name = "text|json", global = true)]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run {
        #[command(flatten)]
        config: ConfigArgs,
        /// Exit 0 once the source has nothing more to read and every sink has
        /// acknowledged everything.
        #[arg(long)]
        exit_when_caught_up: bool,
        /// Start even though the state directory shows that it held a
        /// checkpoint which is now gone or empty: read from source.start_at and
        /// send an audit_gap event first. Without it such a start exits 73.
        #[arg(long)]
        accept_lost_checkpoint: bool,
    },
    /// Validate the configuration and print it as TOML, secrets redacted.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Enrich AUDIT_JOURNAL_JS rows (JSON lines or CSV with a header) into
    /// events, one JSON line per row, in input order. No filtering.
    Enrich {
        #[command(flatten)]
        config: ConfigArgs,
        /// Input file, or - for standard input.
        #[arg(long, short = 'i', default_value = "-")]
        input: String,
        /// IANA zone of the IBM i clock that wrote ENTRY_TIMESTAMP.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// The audit type the rows are (JS, PW, CP, ...): an export of its
        /// SYSTOOLS.AUDIT_JOURNAL_xx function.
        #[arg(long, default_value = "JS")]
        audit_type: String,
        /// Output format: native, ecs, ocsf, cef or leef (one event a line).
        #[arg(long, default_value = "native", value_parser = parse_format)]
        format: auditfwd::format::Format,
        /// With --format cef: "auditfwd" or "ibm" (IBM i's own CEF layout).
        #[arg(long, default_value = "auditfwd", value_parser = parse_cef_dialect)]
        cef_dialect: auditfwd::format::cef::CefDialect,
        /// With --cef-dialect ibm: the IBM i release for the CEF header (e.g. 7.5).
        #[arg(long, default_value = "")]
        ibm_release: String,
    },
    /// Turn a native NDJSON export (a file sink's output, or `enrich`'s) into a
    /// table of sessions: who was connected to which job, from where, over
    /// what, from when to when. Uses the export's session events, or derives
    /// them from its JS entries as the daemon does.
    Sessions {
        #[command(flatten)]
        config: ConfigArgs,
        /// Input file of native events, or - for standard input.
        #[arg(long, short = 'i', default_value = "-")]
        input: String,
        /// Output: csv (a header, then one session a line) or json (one object a line).
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        output: String,
    },
    /// Read a closed range of the journal (local times of the IBM i clock)
    /// into the chosen sinks, without touching the live checkpoint: own state
    /// under <state.dir>/backfill/, resumable (run the same command again),
    /// progress on the terminal or as lines. Can run beside the daemon.
    Backfill {
        #[command(flatten)]
        config: ConfigArgs,
        /// First local time of the range, e.g. 2026-10-01T00:00:00.
        #[arg(long)]
        from: String,
        /// Last local time of the range (inclusive).
        #[arg(long)]
        to: String,
        /// A sink to send to (repeat for several); default: every configured sink.
        #[arg(long = "sink")]
        sinks: Vec<String>,
        /// Audit types to read, comma-separated (default: source.audit_types).
        #[arg(long, value_delimiter = ',')]
        audit_types: Vec<String>,
        /// With [[sources]]: the system to read (its name).
        #[arg(long)]
        source: Option<String>,
    },
    /// Resend native events from a file written by the file sink (or a
    /// dead-letter file) to one configured sink, with progress. Every line is
    /// checked first: a bad one is reported by number and nothing is sent.
    Replay {
        #[command(flatten)]
        config: ConfigArgs,
        /// The NDJSON file to resend.
        file: std::path::PathBuf,
        /// The sink: its description (e.g. kafka:audit@host:9092), its type
        /// when only one sink has it, or its index in [[sinks]].
        #[arg(long)]
        sink: String,
    },
    /// Check a live IBM i, read-only: the connection, each configured SYSTOOLS
    /// function and its columns, the Db2 PTF group, QAUDCTL/QAUDLVL for the
    /// configured types, the time zone, the receivers, a real read. One line
    /// per check (✔ passed, ✗ failed with the remedy, ? unknown); exit 0 when
    /// every required check passed, 78 otherwise.
    Doctor {
        #[command(flatten)]
        config: ConfigArgs,
        /// With [[sources]]: the system to check (its name).
        #[arg(long)]
        source: Option<String>,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Pause between the two reads of the attached receiver's last sequence number.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        interval: std::time::Duration,
    },
    /// List the audit entry types auditfwd reads: SYSTOOLS function, the
    /// QAUDLVL value that turns each on, the PTF group that brings it, and
    /// every code with its label, action and severity.
    AuditTypes,
    /// Inspect or move the stored position (the daemon must not be running).
    Checkpoint {
        #[command(subcommand)]
        action: CheckpointAction,
        /// With [[sources]]: the system whose position to use (its name).
        #[arg(long, global = true)]
        source: Option<String>,
    },
}

#[derive(Subcommand)]
enum CheckpointAction {
    /// Print the stored cursor as JSON.
    Show {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Store a cursor: the next run reads the entries after it.
    Set {
        #[command(flatten)]
        config: ConfigArgs,
        /// IBM i system name (SYSTEM_NAME).
        #[arg(long)]
        system: String,
        /// Receiver as LIBRARY/NAME, e.g. QGPL/AUDRCV0042.
        #[arg(long)]
        receiver: String,
        /// Sequence number of the last entry already delivered.
        #[arg(long)]
        sequence: u64,
        /// Local ENTRY_TIMESTAMP of that entry, e.g. 2026-04-08T10:15:30.123456.
        #[arg(long)]
        timestamp: Option<String>,
    },
    /// Forget the position: the next run starts from the source's start point.
    Clear {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Give a checkpoint to another source name (a renamed source, or
    /// `[source]` moved to `[[sources]]`): the position moves, the old store is
    /// cleared. Names are `[[sources]]` names, or `.` for a single `[source]`.
    /// The daemon must not be running.
    Move {
        #[command(flatten)]
        config: ConfigArgs,
        /// The checkpoint's current name (`.` = the state directory itself).
        #[arg(long)]
        from: String,
        /// The source name that takes it (`.` = a single `[source]`).
        #[arg(long)]
        to: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A panic on the main path is an internal error (70), like one in a task,
    // not Rust's 101: systemd restarts, and nothing was committed past what
    // every sink acknowledged (commits happen only after delivery).
    let code = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cli))) {
        Ok(code) => code,
        Err(payload) => {
            let what = auditfwd::source::panic_message(&*payload);
            eprintln!("auditfwd: internal error: {what}; nothing was committed past what every sink acknowledged");
            exit_code::SOFTWARE
        }
    };
    ExitCode::from(code as u8)
}

fn dispatch(cli: Cli) -> i32 {
    auditfwd::failpoint::hit("main");
    match cli.command {
        Command::Run {
            config,
            exit_when_caught_up,
            accept_lost_checkpoint,
        } => run(
            &config,
            RunOptions {
                exit_when_caught_up,
                accept_lost_checkpoint,
                end_at: None,
            },
        ),
        Command::CheckConfig { config } => check_config(&config),
        Command::Enrich {
            config,
            input,
            timezone,
            audit_type,
            format,
            cef_dialect,
            ibm_release,
        } => enrich(
            &config,
            &input,
            &timezone,
            &audit_type,
            format,
            (cef_dialect, &ibm_release),
        ),
        Command::Sessions {
            config,
            input,
            output,
        } => sessions(&config, &input, &output),
        Command::AuditTypes => audit_types(),
        Command::Doctor {
            config,
            source,
            json,
            interval,
        } => doctor(&config, source.as_deref(), json, interval),
        Command::Backfill {
            config,
            from,
            to,
            sinks,
            audit_types,
            source,
        } => backfill(&config, &from, &to, sinks, audit_types, source.as_deref()),
        Command::Replay { config, file, sink } => replay(&config, &file, &sink),
        Command::Checkpoint { action, source } => checkpoint(action, source.as_deref()),
    }
}

fn backfill(
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
    auditfwd::telemetry::init_logging(&derived.log);
    // No fallback: a zone that does not parse is a configuration error.
    let zone = match derived.source.odbc.zone() {
        Ok(zone) => zone,
        Err(problem) => {
            eprintln!("auditfwd: backfill: {problem}");
            return exit_code::CONFIG;
        }
    };
    let end_at = auditfwd::source::rows::LocalClock::new(zone).to_utc(&request.to);
    // The runtime and the signal handlers first: a SIGTERM from now on drains
    // and exits 0, even while the extent is read below.
    let (runtime, shutdown) = match runtime_with_signals() {
        Ok(started) => started,
        Err(code) => return code,
    };
    // The extent (receivers holding the range) sizes the progress; without it
    // the backfill still runs, showing entries only.
    let extent = match auditfwd::source::Source::open(&derived.source, &derived.filter, None) {
        Ok(auditfwd::source::Source::Odbc(mut source)) => match source.receivers() {
            Ok(receivers) => Extent::of(&receivers, request.from, request.to),
            Err(error) => {
                tracing::warn!(%error, "cannot read the receivers to size the progress");
                Extent::default()
            }
        },
        _ => Extent::default(),
    };
    let state = derived.state.dir.clone();
    tracing::info!(from = %request.from, to = %request.to, state_dir = %state.display(), sinks = %derived.effective_sinks().iter().map(|sink| sink.describe()).collect::<Vec<_>>().join(", "), "backfill starting");
    let on_terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = std::sync::Arc::new(Progress::new(extent, on_terminal));
    let observer: app::Observer = {
        let progress = progress.clone();
        std::sync::Arc::new(move |metrics: &auditfwd::telemetry::Metrics| {
            progress.show(metrics.committed_cursor().as_ref())
        })
    };
    let options = RunOptions {
        exit_when_caught_up: true,
        accept_lost_checkpoint: false,
        end_at: Some(end_at),
    };
    let result = runtime.block_on(app::run_observed(
        derived,
        options,
        shutdown,
        Some(observer),
    ));
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

fn doctor(
    args: &ConfigArgs,
    source: Option<&str>,
    json: bool,
    interval: std::time::Duration,
) -> i32 {
    use auditfwd::source::odbc::doctor::Options;
    let config = match load_for_source(args, source, "doctor") {
        Ok(config) => config,
        Err(code) => return code,
    };
    auditfwd::telemetry::init_logging(&config.log);
    if config.source.kind != auditfwd::source::config::SourceKind::Odbc {
        eprintln!("auditfwd: doctor checks an IBM i: set source.kind = \"odbc\" (the simulator has nothing to check)");
        return exit_code::CONFIG;
    }
    // The checkpoint's receiver, when the state can be read without the
    // daemon's lock (freed receivers before it no longer matter).
    let checkpoint_receiver = config
        .state
        .dir
        .exists()
        .then(|| CheckpointStore::open(&config.state.dir).ok())
        .flatten()
        .and_then(|store| store.load().ok().flatten())
        .map(|checkpoint| auditfwd::source::odbc::chain::ReceiverId {
            library: checkpoint.cursor.receiver_library.clone(),
            name: checkpoint.cursor.receiver_name.clone(),
        });
    let source = match auditfwd::source::Source::open(&config.source, &config.filter, None) {
        Ok(auditfwd::source::Source::Odbc(source)) => source,
        Ok(_) => unreachable!("source.kind is odbc"),
        Err(error) => {
            eprintln!("auditfwd: doctor: {error}");
            return exit_code::CONFIG;
        }
    };
    let report = source.doctor(&Options {
        interval,
        checkpoint_receiver,
    });
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serialises")
        );
    } else {
        print!("{}", report.text());
    }
    if report.ok {
        exit_code::OK
    } else {
        exit_code::CONFIG
    }
}

fn replay(args: &ConfigArgs, file: &std::path::Path, sink: &str) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    auditfwd::telemetry::init_logging(&config.log);
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

/// Prints the audit type catalog, the same table the code uses.
fn audit_types() -> i32 {
    use auditfwd::event::audit::catalog;
    let mut out = String::new();
    for spec in catalog::ALL {
        out.push_str(&format!(
            "{} {}\n  function: SYSTOOLS.{}\n  turned on by QAUDLVL: {}\n  available since: {}\n",
            spec.code, spec.name, spec.function, spec.qaudlvl, spec.since
        ));
        if spec.is_js() {
            out.push_str("  codes: IBM's JS entry types, labelled as IBM's connection-tracking query does (see README)\n");
            continue;
        }
        out.push_str(&format!(
            "  codes ({}):\n",
            spec.code_column
                .unwrap_or("no code column: one code for every entry")
        ));
        for code in spec.codes {
            out.push_str(&format!(
                "    {:<10} {:<9} {:<34} {}\n",
                code.code,
                format!("{:?}", code.severity).to_lowercase(),
                code.action,
                code.label
            ));
        }
    }
    print!("{out}");
    exit_code::OK
}

fn load(args: &ConfigArgs) -> Result<Config, ConfigErrors> {
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

fn config_failed(errors: &ConfigErrors) -> i32 {
    for error in &errors.0 {
        eprintln!("auditfwd: configuration error: {error}");
    }
    exit_code::CONFIG
}

fn check_config(args: &ConfigArgs) -> i32 {
    match load(args) {
        Ok(config) => {
            for warning in config.warnings() {
                eprintln!("auditfwd: warning: {warning}");
            }
            print!("{}", config.to_redacted_toml());
            exit_code::OK
        }
        Err(errors) => config_failed(&errors),
    }
}

fn run(args: &ConfigArgs, options: RunOptions) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    auditfwd::telemetry::init_logging(&config.log);
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
    let result = runtime.block_on(app::run(config, options, shutdown));
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

/// An error and its causes, "outer: inner: innermost", skipping causes whose
/// text the outer message already contains.
fn error_chain(error: &dyn std::error::Error) -> String {
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
fn runtime_with_signals() -> Result<
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

fn shutdown_signal() -> impl std::future::Future<Output = ()> {
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

/// `--cef-dialect`: auditfwd or ibm.
fn parse_cef_dialect(name: &str) -> Result<auditfwd::format::cef::CefDialect, String> {
    match name {
        "auditfwd" => Ok(auditfwd::format::cef::CefDialect::Auditfwd),
        "ibm" => Ok(auditfwd::format::cef::CefDialect::Ibm),
        other => Err(format!("{other:?} is not a CEF dialect: auditfwd or ibm")),
    }
}

/// `--format`: a format by its configuration name.
fn parse_format(name: &str) -> Result<auditfwd::format::Format, String> {
    auditfwd::format::Format::ALL
        .iter()
        .copied()
        .find(|format| format.name() == name)
        .ok_or_else(|| format!("{name:?} is not one of native, ecs, ocsf, cef, leef"))
}

fn enrich(
    args: &ConfigArgs,
    input: &str,
    timezone: &str,
    audit_type: &str,
    format: auditfwd::format::Format,
    (cef_dialect, ibm_release): (auditfwd::format::cef::CefDialect, &str),
) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    let Some(spec) = auditfwd::event::audit::TypeSpec::find(audit_type) else {
        eprintln!(
            "auditfwd: --audit-type {audit_type:?} is not a type auditfwd reads (see auditfwd audit-types)"
        );
        return exit_code::CONFIG;
    };
    if !spec.is_js() && config.event.schema_version == auditfwd::event::SCHEMA_VERSION_V1 {
        eprintln!(
            "auditfwd: --audit-type {} needs event.schema_version = 2",
            spec.code
        );
        return exit_code::CONFIG;
    }
    let zone: chrono_tz::Tz = match timezone.parse() {
        Ok(zone) => zone,
        Err(_) => {
            eprintln!(
                "auditfwd: --timezone {timezone:?} is not an IANA time zone such as Europe/Rome"
            );
            return exit_code::CONFIG;
        }
    };
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        match std::fs::File::open(input) {
            Ok(file) => Box::new(BufReader::new(file)),
            Err(error) => {
                eprintln!("auditfwd: cannot read {input}: {error}");
                return exit_code::DATA_ERROR;
            }
        }
    };
    let rows = match RowReader::new(reader) {
        Ok(rows) => rows,
        Err(error) => {
            eprintln!("auditfwd: {input}: {error}");
            return exit_code::DATA_ERROR;
        }
    };
    let enricher = Enricher::new(&config.alerts).with_schema(config.event.schema_version);
    let mut clock = LocalClock::new(zone);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad_rows = 0usize;
    for item in rows {
        let result = item.map_err(|error| error.to_string()).and_then(|input_row| {
            if input_row.replaced_invalid_utf8 {
                eprintln!(
                    "auditfwd: {input}: input line {}: bytes that are not UTF-8 were replaced by U+FFFD; row kept",
                    input_row.line
                );
            }
            typed_row(spec, &input_row.row, &mut clock)
                .map_err(|error| format!("input line {}: {error}", input_row.line))
        });
        match result {
            Ok(row) => {
                let event = enricher.enrich_owned(row);
                let mut line = match (format, cef_dialect) {
                    (auditfwd::format::Format::Cef, auditfwd::format::cef::CefDialect::Ibm) => {
                        auditfwd::format::cef::cef_ibm(&event, ibm_release, 0).into_bytes()
                    }
                    _ => auditfwd::format::encode(&event, format),
                };
                line.push(b'\n');
                let written = out.write_all(&line);
                if let Err(error) = written {
                    eprintln!("auditfwd: cannot write output: {error}");
                    return exit_code::IO_ERROR;
                }
            }
            Err(message) => {
                bad_rows += 1;
                eprintln!("auditfwd: {input}: {message}; row skipped");
            }
        }
    }
    if let Err(error) = out.flush() {
        eprintln!("auditfwd: cannot write output: {error}");
        return exit_code::IO_ERROR;
    }
    if bad_rows > 0 {
        eprintln!("auditfwd: {bad_rows} row(s) could not be enriched (see above)");
        return exit_code::DATA_ERROR;
    }
    exit_code::OK
}

/// `auditfwd sessions`: every line is checked first; a bad one is reported
/// by number and nothing is written.
fn sessions(args: &ConfigArgs, input: &str, output: &str) -> i32 {
    use auditfwd::enrich::session_table;
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    let text = if input == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map(|_| text)
    } else {
        std::fs::read_to_string(input)
    };
    let text = match text {
        Ok(text) => text,
        Err(error) => {
            eprintln!("auditfwd: cannot read {input}: {error}");
            return exit_code::DATA_ERROR;
        }
    };
    let mut events = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match auditfwd::event::wire::parse_native(line) {
            Ok(event) => events.push(event),
            Err(error) => {
                eprintln!(
                    "auditfwd: {input}: line {}: not a native event: {error}; nothing written",
                    number + 1
                );
                return exit_code::DATA_ERROR;
            }
        }
    }
    let enricher = Enricher::new(&config.alerts);
    let rows = session_table::sessions_of(events, &config.sessions, &enricher);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match output {
        "json" => session_table::write_json(&rows, &mut out),
        _ => session_table::write_csv(&rows, &mut out),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => exit_code::OK,
        Err(error) => {
            eprintln!("auditfwd: cannot write output: {error}");
            exit_code::IO_ERROR
        }
    }
}

/// The configuration of the system `--source` names: required with
/// [[sources]], and then one of their names.
/// Loads the configuration and narrows it to one system (`--source`); the
/// error is the exit code, already reported under `command`'s name.
fn load_for_source(args: &ConfigArgs, source: Option<&str>, command: &str) -> Result<Config, i32> {
    let config = load(args).map_err(|errors| config_failed(&errors))?;
    select_source(&config, source).map_err(|problem| {
        eprintln!("auditfwd: {command}: {problem}");
        exit_code::CONFIG
    })
}

/// `checkpoint move`: the position of the store named `from` goes to the store
/// named `to` (both under `state.dir`), and `from` is cleared.
fn checkpoint_move(args: &ConfigArgs, from: &str, to: &str) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    let root = config.state.dir.clone();
    let dir_of = |name: &str| -> Result<PathBuf, String> {
        let name = name.trim();
        if name == "." {
            return Ok(root.clone());
        }
        if name.is_empty()
            || name.contains('/')
            || name.contains('\\')
            || name == ".."
            || name == "backfill"
        {
            return Err(format!("{name:?} is not a checkpoint name: use a [[sources]] name, or . for a single [source]"));
        }
        Ok(root.join(name))
    };
    let (from_dir, to_dir) = match (dir_of(from), dir_of(to)) {
        (Ok(from_dir), Ok(to_dir)) if from_dir != to_dir => (from_dir, to_dir),
        (Ok(_), Ok(_)) => {
            eprintln!("auditfwd: checkpoint move: --from and --to name the same checkpoint");
            return exit_code::CONFIG;
        }
        (Err(problem), _) | (_, Err(problem)) => {
            eprintln!("auditfwd: checkpoint move: {problem}");
            return exit_code::CONFIG;
        }
    };
    if !from_dir.join(auditfwd::checkpoint::MARKER_FILE).exists() {
        eprintln!(
            "auditfwd: checkpoint move: there is no checkpoint named {from:?} ({} has no marker); `auditfwd checkpoint show` and the start's warnings list the ones there are",
            from_dir.display()
        );
        return exit_code::CONFIG;
    }
    let opened = CheckpointStore::open(&from_dir)
        .and_then(|source| Ok((source, CheckpointStore::open(&to_dir)?)));
    let (source, target) = match opened {
        Ok(stores) => stores,
        Err(error) => {
            eprintln!("auditfwd: {error}");
            return exit_code::STATE;
        }
    };
    let moved = (|| -> Result<Result<auditfwd::event::Cursor, String>, auditfwd::checkpoint::CheckpointError> {
        let Some(checkpoint) = source.load()? else {
            return Ok(Err(format!("{} holds no position to move (its store is empty or lost)", from_dir.display())));
        };
        if let Some(existing) = target.load()? {
            return Ok(Err(format!(
                "{} already holds a position ({}); clear it first (`auditfwd checkpoint clear`) if it is stale",
                to_dir.display(),
                existing.cursor
            )));
        }
        // The open sessions go with the position they belong to.
        target.replace_sessions(&source.load_sessions()?)?;
        target.commit(&checkpoint.cursor)?;
        source.clear()?;
        Ok(Ok(checkpoint.cursor))
    })();
    match moved {
        Ok(Ok(cursor)) => {
            println!(
                "checkpoint moved from {} to {}: {cursor}",
                from_dir.display(),
                to_dir.display()
            );
            exit_code::OK
        }
        Ok(Err(problem)) => {
            eprintln!("auditfwd: checkpoint move: {problem}");
            exit_code::CONFIG
        }
        Err(error) => {
            eprintln!("auditfwd: {error}");
            exit_code::STATE
        }
    }
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

fn checkpoint(action: CheckpointAction, source: Option<&str>) -> i32 {
    let args = match &action {
        CheckpointAction::Show { config }
        | CheckpointAction::Set { config, .. }
        | CheckpointAction::Clear { config } => config,
        CheckpointAction::Move { config, from, to } => return checkpoint_move(config, from, to),
    };
    let config = match load_for_source(args, source, "checkpoint") {
        Ok(config) => config,
        Err(code) => return code,
    };
    let store = match CheckpointStore::open(&config.state.dir) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("auditfwd: {error}");
            return exit_code::STATE;
        }
    };
    let result = match action {
        CheckpointAction::Show { .. } => store.load().map(|checkpoint| match checkpoint {
            Some(checkpoint) => println!(
                "{}",
                serde_json::to_string_pretty(&checkpoint).expect("checkpoint serialises")
            ),
            None if store.is_lost().unwrap_or(false) => println!(
                "no checkpoint in {}, but it held one: the checkpoint was lost. `auditfwd run` refuses to start until you set the position (`auditfwd checkpoint set`) or start once with --accept-lost-checkpoint",
                config.state.dir.display()
            ),
            None => println!("no checkpoint in {}", config.state.dir.display()),
        }),
        CheckpointAction::Set {
            system,
            receiver,
            sequence,
            timestamp,
            ..
        } => {
            let cursor = match operator_cursor(&system, &receiver, sequence, timestamp.as_deref()) {
                Ok(cursor) => cursor,
                Err(message) => {
                    eprintln!("auditfwd: checkpoint set: {message}");
                    return exit_code::CONFIG;
                }
            };
            // Sessions open at the old position say nothing about the new one.
            store.clear_sessions().and_then(|forgotten| {
                store.commit(&cursor)?;
                println!("checkpoint set to {cursor}");
                if forgotten > 0 {
                    println!("{forgotten} open session(s) of the old position forgotten: their ends will not be reported");
                }
                Ok(())
            })
        }
        CheckpointAction::Clear { .. } => store
            .clear()
            .map(|()| println!("checkpoint cleared in {}", config.state.dir.display())),
        CheckpointAction::Move { .. } => unreachable!("handled above"),
    };
    match result {
        Ok(()) => exit_code::OK,
        Err(error) => {
            eprintln!("auditfwd: {error}");
            exit_code::STATE
        }
    }
}
