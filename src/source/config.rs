//! `[source]`: which journal reader runs, and how often it polls.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::odbc::config::{Dialect, OdbcConfig, OdbcPlan};
use crate::config::{duration, Problems};

/// Which journal reader runs, and how often it polls.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// The operator's name for this system (`[[sources]]`: required and
    /// unique; it names the state subdirectory and labels events and metrics).
    pub name: String,
    /// Which journal reader runs: "simulator" (the default) or "odbc".
    pub kind: SourceKind,
    /// Pause between polls once the source has caught up.
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Most rows read per poll: also the size of a delivery batch.
    pub batch_rows: usize,
    /// Audit entry types read, e.g. `["JS", "PW", "CP"]`: all over the same
    /// journal range, merged in sequence order, one checkpoint.
    pub audit_types: Vec<String>,
    /// Types of `audit_types` that may be missing on the system (their
    /// SYSTOOLS function not installed): a warning and a metric, not an error.
    pub optional_audit_types: Vec<String>,
    /// `[source.simulator]`: the embedded generator's settings.
    pub simulator: SimulatorConfig,
    /// `[source.odbc]`: the IBM i connection and how it reads.
    pub odbc: OdbcConfig,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            name: String::new(),
            kind: SourceKind::Simulator,
            // IBM warns that polling the journal functions sub-second hurts the system.
            poll_interval: Duration::from_secs(5),
            batch_rows: 1000,
            audit_types: vec!["JS".into()],
            optional_audit_types: Vec::new(),
            simulator: SimulatorConfig::default(),
            odbc: OdbcConfig::default(),
        }
    }
}

/// `source.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Deterministic synthetic JS traffic: the embedded default.
    Simulator,
    /// `SYSTOOLS.AUDIT_JOURNAL_JS` over ODBC.
    Odbc,
}

/// `[source]` as ready values, made once at load ([`SourceConfig::plan`]):
/// what the reader opens with. Nothing in it is parsed or read again.
#[derive(Clone, Debug)]
pub struct SourcePlan {
    /// The section, for its typed values (kind, batch_rows, poll_interval,
    /// the simulator, the connection string, dialect, query_timeout).
    pub config: SourceConfig,
    /// `audit_types`, in catalog order (JS first).
    pub types: Vec<&'static crate::event::audit::TypeSpec>,
    /// Those of `types` that `optional_audit_types` lists.
    pub optional_types: Vec<&'static crate::event::audit::TypeSpec>,
    /// `kind = "odbc"`: the zone, the first start, the password.
    pub odbc: Option<OdbcPlan>,
}

impl SourcePlan {
    /// Whether the source reads JS entries.
    pub fn reads_js(&self) -> bool {
        self.types.iter().any(|spec| spec.is_js())
    }
}

/// The embedded traffic generator.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimulatorConfig {
    /// Same seed, same event stream.
    pub seed: u64,
    /// Pace of production; 0 = as fast as the pipeline takes them.
    pub events_per_second: u64,
    /// 0 = endless; N = exactly N journal entries, then idle.
    pub total_events: u64,
    /// IBM i system name stamped on every entry (1 to 8 characters; default "SIMSYS").
    pub system_name: String,
    /// Local time of the first entry (the simulated system runs on UTC):
    /// "now" (the default) or a fixed time, for a stream that is the same on
    /// every run.
    pub start_timestamp: SimulatorStart,
}

/// Where the simulated clock starts. `Now` is the time of the first run; a
/// run that resumes from a checkpoint continues the clock of the entry it
/// resumes after, so the stream's times stay in order across restarts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SimulatorStart {
    /// The time of the first run (the default).
    #[default]
    Now,
    /// A fixed local time, for a stream that is the same on every run.
    At(chrono::NaiveDateTime),
}

impl Serialize for SimulatorStart {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SimulatorStart::Now => serializer.serialize_str("now"),
            SimulatorStart::At(at) => at.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for SimulatorStart {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.trim().eq_ignore_ascii_case("now") {
            return Ok(SimulatorStart::Now);
        }
        text.trim()
            .parse::<chrono::NaiveDateTime>()
            .map(SimulatorStart::At)
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{text}` is neither \"now\" nor a local time like \"2026-01-05T08:00:00\""
                ))
            })
    }
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            seed: 1,
            events_per_second: 200,
            total_events: 0,
            system_name: "SIMSYS".into(),
            start_timestamp: SimulatorStart::Now,
        }
    }
}

impl SourceConfig {
    /// The ready values the reader opens with (`key` is the section's key,
    /// "source" or "sources[N]"): the audit types resolved, and for ODBC
    /// the zone, the first start and the password in use. Each problem
    /// names its key; nothing is left to a default.
    pub fn plan(&self, key: &str, problems: &mut Problems) -> Option<SourcePlan> {
        let types = crate::event::audit::resolve(&self.audit_types)
            .map_err(|problem| problems.fail(format!("{key}.audit_types"), problem));
        let odbc = match self.kind {
            SourceKind::Simulator => Some(None),
            SourceKind::Odbc => self.odbc.plan(&format!("{key}.odbc"), problems).map(Some),
        };
        let types = types.ok()?;
        Some(SourcePlan {
            config: self.clone(),
            optional_types: types
                .iter()
                .copied()
                .filter(|spec| self.is_optional(spec))
                .collect(),
            types,
            odbc: odbc?,
        })
    }

    /// Whether `spec` may be missing on the system.
    pub fn is_optional(&self, spec: &crate::event::audit::TypeSpec) -> bool {
        self.optional_audit_types
            .iter()
            .any(|name| name.trim().eq_ignore_ascii_case(spec.code))
    }

    /// Ranges and required keys; `key` is the section's key ("source").
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        if self.batch_rows == 0 || self.batch_rows > 100_000 {
            problems.fail(
                format!("{key}.batch_rows"),
                format!("{} is out of range; use 1 to 100000", self.batch_rows),
            );
        }
        // IBM: "Querying this function at a sub-second rate could have disruptive
        // performance impacts" (QSYS2.DISPLAY_JOURNAL, which the audit journal
        // functions wrap). A real IBM i (dialect db2i) is never polled faster than
        // once a second; the lab and the simulator may go down to 100ms.
        let floor = if self.kind == SourceKind::Odbc && self.odbc.dialect == Dialect::Db2i {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(100)
        };
        if self.poll_interval < floor {
            problems.fail(
                format!("{key}.poll_interval"),
                format!(
                    "{} is below {}; IBM warns that querying the audit journal functions at a sub-second rate \"could have disruptive performance impacts\" on the IBM i",
                    humantime::format_duration(self.poll_interval),
                    humantime::format_duration(floor)
                ),
            );
        } else {
            problems.duration_in(
                format!("{key}.poll_interval"),
                self.poll_interval,
                floor,
                Duration::from_secs(24 * 3600),
            );
        }
        match crate::event::audit::resolve(&self.audit_types) {
            Err(problem) => problems.fail(format!("{key}.audit_types"), problem),
            Ok(types) if types.is_empty() => problems.fail(
                format!("{key}.audit_types"),
                "is empty; list at least one type, e.g. [\"JS\"]",
            ),
            Ok(_) => {}
        }
        match crate::event::audit::resolve(&self.optional_audit_types) {
            Err(problem) => problems.fail(format!("{key}.optional_audit_types"), problem),
            Ok(optional) => {
                for spec in optional {
                    if !self
                        .audit_types
                        .iter()
                        .any(|name| name.trim().eq_ignore_ascii_case(spec.code))
                    {
                        problems.fail(
                            format!("{key}.optional_audit_types"),
                            format!(
                                "{} is not in {key}.audit_types; list it there too",
                                spec.code
                            ),
                        );
                    }
                }
            }
        }
        let system = &self.simulator.system_name;
        if !is_system_name(system) {
            problems.fail(
                format!("{key}.simulator.system_name"),
                format!("{system:?} is not an IBM i system name (1 to 8 letters and digits)"),
            );
        }
        if self.kind == SourceKind::Odbc {
            self.odbc.validate(&format!("{key}.odbc"), problems);
        }
    }

    /// Checks the files the source names (the password file).
    pub fn load_files(&mut self, key: &str, problems: &mut Problems) {
        if self.kind == SourceKind::Odbc {
            self.odbc.load_files(&format!("{key}.odbc"), problems);
        }
    }
}

/// 1 to 8 characters, none of which could make an event id ambiguous.
fn is_system_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && name.len() <= 8
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "$#@_".contains(character))
}
