//! The whole configuration: one section per component, each defined and
//! validated by its component. This module only assembles them, and holds
//! the checks that span sections (file paths shared by two sinks, a watched
//! profile that the filter drops).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::checkpoint::StateConfig;
use crate::config::{resolve_path, Problems, Validate};
use crate::enrich::config::{AlertsConfig, FilterConfig, SessionsConfig};
use crate::event::config::EventConfig;
use crate::pipeline::config::{PermanentErrorPolicy, PipelineConfig};
use crate::sink::{SinkConfig, StdoutSinkConfig};
use crate::source::config::SourceConfig;
use crate::telemetry::config::{LogConfig, TelemetryConfig};

/// The whole configuration.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[source]`: the one IBM i system (or the simulator) to read, unless `[[sources]]`.
    pub source: SourceConfig,
    /// Several IBM i systems from one daemon: each entry is a `[source]` with
    /// a `name`. When present, it replaces `[source]`.
    pub sources: Vec<SourceConfig>,
    /// `[filter]`: which JS rows `run` forwards (entry codes, users).
    pub filter: FilterConfig,
    /// `[alerts]`: privileged profiles and the sign-on failure burst signal.
    pub alerts: AlertsConfig,
    /// Sessions derived from the JS entries: who was connected, how long.
    pub sessions: SessionsConfig,
    /// `[event]`: the native JSON layout (`schema_version`, 2 by default).
    pub event: EventConfig,
    /// `[state]`: the directory of the checkpoint.
    pub state: StateConfig,
    /// `[pipeline]`: in-flight bounds, shutdown grace, retry, the permanent-error policy.
    pub pipeline: PipelineConfig,
    /// `[log]`: log level and line format.
    pub log: LogConfig,
    /// `[telemetry]`: the `/metrics` and `/health` listener and the summary line.
    pub telemetry: TelemetryConfig,
    /// Where events go. Default: one `stdout` sink.
    pub sinks: Vec<SinkConfig>,
    /// What a fleet (`[[sources]]`) does when one system stops for good.
    pub fleet: FleetConfig,
}

/// `[fleet]`: what happens when one system of several stops for good, and
/// the memory the systems share.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FleetConfig {
    /// `continue` (default): the other systems go on; the stopped one is
    /// `auditfwd_source_up 0` and `auditfwd_up 0`, `/health` answers 503
    /// naming it and why, and an ERROR repeats every `failure_reminder`.
    /// `exit`: the whole daemon stops with that system's exit code.
    pub on_source_failure: OnSourceFailure,
    /// How often the ERROR about a stopped system repeats (default 5m).
    #[serde(with = "crate::config::duration")]
    pub failure_reminder: std::time::Duration,
    /// Rows whose events may be in memory at once across every system: each
    /// system has one batch of `batch_rows` of its own and shares the rest,
    /// holding at most twice an even split (and its
    /// `pipeline.max_batches_in_memory`); each ODBC call covers at most an even
    /// split of sequence numbers. The sum of the systems' `batch_rows` must
    /// fit. Unset: 8,000 (8 systems in about 75 MiB), or one batch of each
    /// system when that is more. Rows, not events: each system's events stay
    /// within `pipeline.max_events_in_memory` besides. See ARCHITECTURE.md,
    /// "Bounds".
    pub max_rows_in_memory: Option<usize>,
}

/// `fleet.max_rows_in_memory` when unset, unless the systems' batches need more.
pub const FLEET_ROWS_IN_MEMORY: usize = 8_000;

impl FleetConfig {
    /// The fleet's memory budget in rows, given the rows of one batch of
    /// every system (`reserved`).
    pub fn rows_in_memory(&self, reserved: usize) -> usize {
        self.max_rows_in_memory
            .unwrap_or(FLEET_ROWS_IN_MEMORY.max(reserved))
    }
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            on_source_failure: OnSourceFailure::Continue,
            failure_reminder: std::time::Duration::from_secs(300),
            max_rows_in_memory: None,
        }
    }
}

/// `[fleet] on_source_failure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnSourceFailure {
    /// The other systems go on; the stopped one shows in the metrics and `/health` (default).
    Continue,
    /// The whole daemon stops with the stopped system's exit code.
    Exit,
}

/// Most rows whose events are in memory at once: `pipeline.max_batches_in_memory
/// × source.batch_rows` (capped by `max_batches_in_flight`), bounded as a
/// product so memory has an overall bound (about 2 KB per row and event: some
/// 400 MB here; see ARCHITECTURE.md).
pub const MAX_ROWS_IN_FLIGHT: usize = 200_000;

/// Most rows read but not yet committed: `pipeline.max_batches_in_flight ×
/// source.batch_rows`. Beyond the events in memory, a batch in flight costs
/// what its sinks keep to resend it (about 0.2 KB an event, compressed, for
/// Splunk HEC) and what is sent again after a crash.
pub const MAX_ROWS_UNCOMMITTED: usize = 2_000_000;

impl Validate for Config {
    fn explain(figment: &figment::Figment, error: figment::Error) -> figment::Error {
        // A `[[sinks]]` entry is read whole (by its `type`): ask its own
        // section which field failed.
        let [list, index] = error.path.as_slice() else {
            return error;
        };
        let entry = (list == "sinks")
            .then(|| figment.find_value(list).ok())
            .flatten()
            .zip(index.parse::<usize>().ok())
            .and_then(|(sinks, index)| sinks.into_array()?.into_iter().nth(index));
        match entry.as_ref().and_then(SinkConfig::explain) {
            Some(mut inner) => {
                inner.path.splice(0..0, [list.clone(), index.clone()]);
                inner.metadata = inner.metadata.or(error.metadata);
                inner
            }
            None => error,
        }
    }

    fn secret_keys() -> Vec<&'static str> {
        // `[source.odbc]` holds `connection_string` and `password`.
        let mut keys = vec!["connection_string", "password"];
        keys.extend(crate::sink::SplunkHecSinkConfig::SECRET_KEYS);
        keys.extend(crate::sink::KafkaSinkConfig::SECRET_KEYS);
        keys
    }

    fn validate(&self, problems: &mut Problems) {
        self.source.validate("source", problems);
        self.check_sources(problems);
        self.filter.validate("filter", problems);
        self.alerts.validate("alerts", problems);
        self.sessions.validate("sessions", problems);
        self.event.validate("event", problems);
        self.check_schema_carries_types(problems);
        self.state.validate("state", problems);
        self.pipeline.validate("pipeline", problems);
        self.log.validate("log", problems);
        self.telemetry.validate("telemetry", problems);
        if let Some(rows @ (0 | 10_000_001..)) = self.fleet.max_rows_in_memory {
            problems.fail(
                "fleet.max_rows_in_memory",
                format!("{rows} is out of range; use 1 to 10000000"),
            );
        }
        problems.duration_in(
            "fleet.failure_reminder".to_owned(),
            self.fleet.failure_reminder,
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(24 * 3600),
        );
        for (index, sink) in self.sinks.iter().enumerate() {
            sink.validate(&format!("sinks[{index}]"), problems);
        }
        self.check_rows_in_flight(problems);
    }

    fn load_files(&mut self, problems: &mut Problems) {
        self.source.load_files("source", problems);
        for (index, source) in self.sources.iter_mut().enumerate() {
            source.load_files(&format!("sources[{index}]"), problems);
        }
        for (index, sink) in self.sinks.iter_mut().enumerate() {
            sink.load_files(&format!("sinks[{index}]"), problems);
        }
        self.check_paths(problems);
    }
}

/// Most systems one daemon reads, whatever the memory budget allows
/// (`fleet.max_rows_in_memory` / `batch_rows`): each is a reader thread, a
/// connection, a sled store and about four threads in all (see ARCHITECTURE.md,
/// "Many systems").
pub const MAX_SOURCES: usize = 256;

impl Config {
    /// `[[sources]]`: each valid on its own, named uniquely, and not beside a
    /// customised `[source]`.
    fn check_sources(&self, problems: &mut Problems) {
        if self.sources.is_empty() {
            return;
        }
        let default = toml::to_string(&SourceConfig::default()).ok();
        if toml::to_string(&self.source).ok() != default {
            problems.fail(
                "source",
                "is set beside [[sources]]; list every system in [[sources]] (each with a name) and remove [source]",
            );
        }
        if self.sources.len() > MAX_SOURCES {
            problems.fail(
                "sources",
                format!("{} systems are more than the {MAX_SOURCES} one daemon reads (about four threads and a connection each); run several daemons (deploy/systemd/auditfwd@.service)", self.sources.len()),
            );
        }
        let reserved: usize = self.sources.iter().map(|source| source.batch_rows).sum();
        if let Some(budget) = self
            .fleet
            .max_rows_in_memory
            .filter(|budget| *budget < reserved)
        {
            problems.fail(
                "fleet.max_rows_in_memory",
                format!("{budget} rows cannot hold one batch of each of the {} systems (their batch_rows add up to {reserved}); raise fleet.max_rows_in_memory to at least {reserved} (about 4 KB of memory a row), lower sources.batch_rows, or run several daemons (deploy/systemd/auditfwd@.service)", self.sources.len()),
            );
        }
        let mut names = std::collections::HashSet::new();
        for (index, source) in self.sources.iter().enumerate() {
            let key = format!("sources[{index}]");
            source.validate(&key, problems);
            let name = source.name.trim();
            if name.is_empty()
                || name.len() > 32
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                problems.fail(
                    format!("{key}.name"),
                    format!("{name:?}: give each system a name of 1 to 32 letters, digits, - or _ (it names its state directory)"),
                );
            } else if !names.insert(name.to_lowercase()) {
                problems.fail(format!("{key}.name"), format!("{name:?} names two systems"));
            }
        }
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::File(file) = sink {
                if !file.path.to_string_lossy().contains("{source}") {
                    problems.fail(
                        format!("sinks[{index}].path"),
                        "with [[sources]], each system writes its own file: put {source} in the path (e.g. \"events-{source}.ndjson\")",
                    );
                }
            }
        }
    }

    /// The systems to read: `[[sources]]`, or `[source]` alone.
    pub fn effective_sources(&self) -> Vec<SourceConfig> {
        if self.sources.is_empty() {
            vec![self.source.clone()]
        } else {
            self.sources.clone()
        }
    }

    /// The configuration of one system of a fleet: its source, its state
    /// under `state.dir/<name>`, file sink paths with `{source}` filled in,
    /// no telemetry listener of its own.
    pub fn for_source(&self, source: &SourceConfig) -> Config {
        let mut one = self.clone();
        one.sources = Vec::new();
        one.source = source.clone();
        one.state.dir = self.state.dir.join(source.name.trim());
        one.telemetry.listen = String::new();
        one.sinks = self
            .sinks
            .iter()
            .map(|sink| match sink {
                SinkConfig::File(file) => {
                    let mut file = file.clone();
                    file.path = PathBuf::from(
                        file.path
                            .to_string_lossy()
                            .replace("{source}", source.name.trim()),
                    );
                    SinkConfig::File(file)
                }
                other => other.clone(),
            })
            .collect();
        one
    }

    /// Schema v1 has no place for entry types other than JS.
    fn check_schema_carries_types(&self, problems: &mut Problems) {
        if self.event.schema_version != crate::event::SCHEMA_VERSION_V1 {
            return;
        }
        let others: Vec<&str> = self
            .effective_sources()
            .iter()
            // A list that does not resolve is the source's own problem.
            .filter_map(|source| crate::event::audit::resolve(&source.audit_types).ok())
            .flatten()
            .filter(|spec| !spec.is_js())
            .map(|spec| spec.code)
            .collect();
        if !others.is_empty() {
            problems.fail(
                "event.schema_version",
                format!(
                    "schema 1 carries JS entries only, but source.audit_types lists {}; use schema_version = 2",
                    others.join(", ")
                ),
            );
        }
    }

    /// Loads the layered configuration (see [`crate::config::load`]).
    pub fn load(
        files: &[PathBuf],
        command_line: &crate::config::CommandLine,
    ) -> Result<Config, crate::config::ConfigErrors> {
        crate::config::load(files, command_line)
    }

    /// The products of the knobs that size what is held in memory.
    fn check_rows_in_flight(&self, problems: &mut Problems) {
        let rows = self.source.batch_rows;
        let in_memory = self.pipeline.batches_in_memory();
        let product = in_memory.saturating_mul(rows);
        if product > MAX_ROWS_IN_FLIGHT {
            problems.fail(
                "pipeline.max_batches_in_memory",
                format!(
                    "pipeline.max_batches_in_memory ({in_memory}) × source.batch_rows ({rows}) = {product} rows whose events are in memory, above the bound of {MAX_ROWS_IN_FLIGHT} (about 2 KB of memory each); lower pipeline.max_batches_in_memory or source.batch_rows (fewer rows per poll)"
                ),
            );
        }
        let batches = self.pipeline.max_batches_in_flight;
        let product = batches.saturating_mul(rows);
        if product > MAX_ROWS_UNCOMMITTED {
            problems.fail(
                "pipeline.max_batches_in_flight",
                format!(
                    "pipeline.max_batches_in_flight ({batches}) × source.batch_rows ({rows}) = {product} rows in flight, above the bound of {MAX_ROWS_UNCOMMITTED}; lower pipeline.max_batches_in_flight, the knob that trades memory for throughput (more batches in flight hide a slow sink's latency), or source.batch_rows (fewer rows per poll)"
                ),
            );
        }
    }

    /// Compares resolved paths (`a.ndjson`, `./a.ndjson` and `/abs/a.ndjson`
    /// are one file): two sinks writing one file, the dead-letter file on a
    /// sink's file, and files inside the state directory (whose checkpoint
    /// they would destroy).
    fn check_paths(&self, problems: &mut Problems) {
        let state = resolve_path(&self.state.dir);
        // With [[sources]], a path is a template: every path it expands to is
        // checked, since `{source}` can put it anywhere.
        let names: Vec<&str> = self
            .sources
            .iter()
            .map(|source| source.name.trim())
            .collect();
        let expansions = |path: &std::path::Path| -> Vec<PathBuf> {
            let text = path.to_string_lossy();
            if names.is_empty() || !text.contains("{source}") {
                vec![resolve_path(path)]
            } else {
                names
                    .iter()
                    .map(|name| resolve_path(std::path::Path::new(&text.replace("{source}", name))))
                    .collect()
            }
        };
        let mut seen: Vec<PathBuf> = Vec::new();
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::File(file) = sink {
                if file.path.as_os_str().is_empty() {
                    continue;
                }
                let key = format!("sinks[{index}].path");
                for path in expansions(&file.path) {
                    if seen.contains(&path) {
                        problems.fail(
                            &key,
                            format!(
                                "{} is already the path of another file sink ({}): every event would be written twice",
                                file.path.display(),
                                path.display()
                            ),
                        );
                    }
                    if path.starts_with(&state) {
                        problems.fail(
                            &key,
                            format!(
                                "{} is inside the state directory {} (state.dir), where it would destroy the checkpoint: write events elsewhere",
                                path.display(),
                                state.display()
                            ),
                        );
                    }
                    seen.push(path);
                }
            }
        }
        if self.pipeline.on_permanent_error == PermanentErrorPolicy::DeadLetter
            && !self.pipeline.dead_letter_path.as_os_str().is_empty()
        {
            let dead_letter = resolve_path(&self.pipeline.dead_letter_path);
            if seen.contains(&dead_letter) {
                problems.fail(
                    "pipeline.dead_letter_path",
                    format!(
                        "{} is also the path of a file sink: dead letters would mix with delivered events",
                        dead_letter.display()
                    ),
                );
            }
            if dead_letter.starts_with(&state) {
                problems.fail(
                    "pipeline.dead_letter_path",
                    format!(
                        "{} is inside the state directory {} (state.dir), where it would destroy the checkpoint: put it elsewhere",
                        dead_letter.display(),
                        state.display()
                    ),
                );
            }
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
        if self.sources.is_empty() {
            // The bound in effect, derived when unset (a fleet's systems may
            // each read batches of their own size, so theirs stays unset).
            shown.pipeline.max_events_in_memory =
                Some(self.pipeline.events_in_memory(self.source.batch_rows));
        }
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
