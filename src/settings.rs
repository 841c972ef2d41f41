//! The whole configuration: one section per component, each defined and
//! validated by its component. This module only assembles them, and holds
//! the checks that span sections (file paths shared by two sinks, a watched
//! profile that the filter drops).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checkpoint::StateConfig;
use crate::config::{Problems, Validate};
use crate::enrich::config::{AlertsConfig, FilterConfig};
use crate::pipeline::config::{PermanentErrorPolicy, PipelineConfig};
use crate::sink::{SinkConfig, StdoutSinkConfig};
use crate::source::config::SourceConfig;
use crate::telemetry::config::{LogConfig, TelemetryConfig};

/// The whole configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub source: SourceConfig,
    pub filter: FilterConfig,
    pub alerts: AlertsConfig,
    pub state: StateConfig,
    pub pipeline: PipelineConfig,
    pub log: LogConfig,
    pub telemetry: TelemetryConfig,
    /// Where events go. Default: one `stdout` sink.
    pub sinks: Vec<SinkConfig>,
}

impl Validate for Config {
    fn validate(&self, problems: &mut Problems) {
        self.source.validate("source", problems);
        self.filter.validate("filter", problems);
        self.alerts.validate("alerts", problems);
        self.state.validate("state", problems);
        self.pipeline.validate("pipeline", problems);
        self.log.validate("log", problems);
        self.telemetry.validate("telemetry", problems);
        for (index, sink) in self.sinks.iter().enumerate() {
            sink.validate(&format!("sinks[{index}]"), problems);
        }
        self.check_paths(problems);
    }

    fn load_files(&mut self, problems: &mut Problems) {
        self.source.load_files("source", problems);
        for (index, sink) in self.sinks.iter().enumerate() {
            sink.load_files(&format!("sinks[{index}]"), problems);
        }
    }
}

impl Config {
    /// Loads the layered configuration (see [`crate::config::load`]).
    pub fn load(
        files: &[PathBuf],
        command_line: &crate::config::CommandLine,
    ) -> Result<Config, crate::config::ConfigErrors> {
        crate::config::load(files, command_line)
    }

    /// Two sinks writing one file, or the dead-letter file on a sink's file.
    fn check_paths(&self, problems: &mut Problems) {
        let mut seen: Vec<PathBuf> = Vec::new();
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::File(file) = sink {
                if file.path.as_os_str().is_empty() {
                    continue;
                }
                if seen.contains(&file.path) {
                    problems.fail(
                        format!("sinks[{index}].path"),
                        format!(
                            "{} is already the path of another file sink",
                            file.path.display()
                        ),
                    );
                }
                seen.push(file.path.clone());
            }
        }
        if self.pipeline.on_permanent_error == PermanentErrorPolicy::DeadLetter
            && seen
                .iter()
                .any(|path| same_path(path, &self.pipeline.dead_letter_path))
        {
            problems.fail(
                "pipeline.dead_letter_path",
                "is also the path of a file sink: dead letters would mix with delivered events",
            );
        }
    }

    /// The sinks to run: the configured ones, or stdout when none is configured.
    pub fn effective_sinks(&self) -> Vec<SinkConfig> {
        if self.sinks.is_empty() {
            vec![SinkConfig::Stdout(StdoutSinkConfig::default())]
        } else {
            self.sinks.clone()
        }
    }

    /// The effective configuration as TOML, every secret redacted.
    pub fn to_redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.sinks = self.effective_sinks();
        toml::to_string(&shown).unwrap_or_else(|error| format!("# cannot print: {error}\n"))
    }

    /// Warnings that do not stop the daemon but that an operator should read.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let excluded: Vec<String> = self
            .filter
            .exclude_users
            .iter()
            .map(|name| name.trim().to_uppercase())
            .collect();
        for profile in &self.alerts.privileged_profiles {
            if excluded.contains(&profile.trim().to_uppercase()) {
                warnings.push(format!(
                    "filter.exclude_users drops {profile}, which alerts.privileged_profiles watches: its events will not be forwarded"
                ));
            }
        }
        warnings
    }
}

/// The same file, spelled the same way or not (`a.ndjson` vs `./a.ndjson`).
fn same_path(left: &Path, right: &Path) -> bool {
    let normal = |path: &Path| -> PathBuf { path.components().collect() };
    normal(left) == normal(right)
}
