//! The `auditfwd` command: parse arguments, load configuration, dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use auditfwd::app::RunOptions;
use auditfwd::exit_code;

// One module per group of commands; they read the arguments declared here.
mod cmd;
use cmd::checkpoint::checkpoint;
use cmd::run::{backfill, replay, run};
use cmd::tools::{
    audit_types, check_config, doctor, enrich, parse_cef_dialect, parse_format, sessions,
};

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
