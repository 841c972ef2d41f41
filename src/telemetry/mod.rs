//! Telemetry: logging set-up, the metrics registry, the HTTP listener for
//! `/metrics` and `/health`, and the systemd notification protocol. One place
//! logs the periodic summary; nothing logs per event above debug, and no secret
//! is logged.

pub mod fleet;
pub mod http;
pub mod metrics;
pub(crate) mod notify;

use std::io::IsTerminal;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

pub mod config;

use self::config::{LogConfig, LogFormat};

pub use fleet::{FleetMetrics, Telemetry};
pub use metrics::Metrics;

/// Installs the global subscriber, writing to standard error (standard output
/// may be a sink). Under systemd (`JOURNAL_STREAM` set) text lines carry no
/// timestamp of their own and start with a `<N>` syslog priority, which journald
/// turns into the entry's priority.
///
/// A `log.level` that is not a filter is an error naming the key (loading
/// refuses it first), never a quiet "info".
pub fn init_logging(config: &LogConfig) -> Result<(), crate::config::ConfigError> {
    let filter = config
        .filter()
        .map_err(|message| crate::config::ConfigError {
            key: "log.level".into(),
            origin: String::new(),
            message,
        })?;
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(!under_journald && std::io::stderr().is_terminal())
        .with_target(false);
    let result = match (config.format, under_journald) {
        (LogFormat::Json, _) => builder.json().flatten_event(true).try_init(),
        (LogFormat::Text, true) => builder
            .event_format(JournaldPriority(
                format().without_time().with_target(false).with_ansi(false),
            ))
            .try_init(),
        (LogFormat::Text, false) => builder.try_init(),
    };
    // A second call (tests) keeps the first subscriber.
    let _ = result;
    Ok(())
}

fn format() -> format::Format {
    format::Format::default()
}

/// Prefixes each line with `<3>` (error), `<4>` (warn), `<6>` (info) or `<7>`.
struct JournaldPriority<F>(F);

impl<S, N, F> FormatEvent<S, N> for JournaldPriority<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let priority = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            _ => 7,
        };
        write!(writer, "<{priority}>")?;
        self.0.format_event(context, writer, event)
    }
}
