//! `[log]` and `[telemetry]`: log lines, the HTTP listener and the summary.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{duration, Problems};

/// `[log]`: what is logged and how the lines look.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: "info", "auditfwd=debug", ...
    pub level: String,
    /// Line format on standard error: "text" (the default) or "json" (also --log-format).
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Health and metrics for people and machines that watch the daemon.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// Address of the HTTP listener for /metrics and /health, e.g. "127.0.0.1:9464";
    /// empty = no listener.
    pub listen: String,
    /// /health turns 503 when the checkpoint has not advanced for this long while
    /// work is pending (an idle, caught-up journal is healthy).
    #[serde(with = "duration")]
    pub health_max_checkpoint_age: Duration,
    /// How often the one-line INFO summary is logged (and sent as systemd STATUS=).
    #[serde(with = "duration")]
    pub summary_interval: Duration,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            listen: String::new(),
            health_max_checkpoint_age: Duration::from_secs(15 * 60),
            summary_interval: Duration::from_secs(60),
        }
    }
}

/// `log.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people; under systemd with journald priorities and no timestamp.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogConfig {
    /// The filter must parse; `key` is "log".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        if let Err(problem) = self.filter() {
            problems.fail(format!("{key}.level"), problem);
        }
    }

    /// `level`, parsed: the one place it is.
    pub fn filter(&self) -> Result<tracing_subscriber::EnvFilter, String> {
        tracing_subscriber::EnvFilter::try_new(&self.level)
            .map_err(|error| format!("{:?} is not a log filter: {error}", self.level))
    }
}

impl TelemetryConfig {
    /// `listen`, parsed: the one place it is; `None` when empty (no listener).
    pub fn listen_address(&self) -> Result<Option<std::net::SocketAddr>, String> {
        if self.listen.is_empty() {
            return Ok(None);
        }
        self.listen.parse().map(Some).map_err(|_| {
            format!(
                "{:?} is not an address like \"127.0.0.1:9464\"",
                self.listen
            )
        })
    }

    /// Address and intervals; `key` is "telemetry".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        if let Err(problem) = self.listen_address() {
            problems.fail(format!("{key}.listen"), problem);
        }
        problems.duration_in(
            format!("{key}.summary_interval"),
            self.summary_interval,
            Duration::from_secs(1),
            Duration::from_secs(24 * 3600),
        );
        problems.duration_in(
            format!("{key}.health_max_checkpoint_age"),
            self.health_max_checkpoint_age,
            Duration::from_secs(1),
            Duration::from_secs(365 * 24 * 3600),
        );
    }
}
