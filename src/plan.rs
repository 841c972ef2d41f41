//! The run plan: the one step from the loaded configuration to ready values,
//! after which the components are built.
//!
//! load (`config::load`: layers, deserialize, validate, read every file the
//! configuration names: secrets, CA, certificates, keys) → plan
//! ([`RunPlan::new`]: per system its source with types, zone, first start and
//! password resolved, its state directory, its sinks with their format and
//! loaded material; the listener's address parsed) → build (`app`: the
//! store, the listener, the sinks, the reader). Nothing downstream of the
//! plan reads a file the configuration names or parses its text again, and
//! nothing falls back to a default: a value that does not parse is a
//! problem naming its key (exit 78).

use std::net::SocketAddr;

use crate::config::{ConfigErrors, Problems};
use crate::settings::Config;
use crate::sink::SinkConfig;
use crate::source::config::SourcePlan;

/// What one run (or backfill) does, as ready values.
#[derive(Debug)]
pub struct RunPlan {
    /// The configuration as loaded, for what is printed and reported.
    pub config: Config,
    /// `telemetry.listen`; `None`: no listener.
    pub listen: Option<SocketAddr>,
    /// The systems to read: the one `[source]`, or every `[[sources]]`
    /// entry in order (a fleet).
    pub systems: Vec<SystemPlan>,
}

/// One system's pipeline, as ready values.
#[derive(Debug)]
pub struct SystemPlan {
    /// `source.name`, trimmed (may be empty for a single `[source]`).
    pub name: String,
    /// This system's configuration: in a fleet its own `[source]`, state
    /// under `state.dir/<name>`, file sink paths with `{source}` filled in,
    /// and no listener of its own ([`Config::for_source`]).
    pub config: Config,
    /// What this system reads, with its values ready (zone, first start,
    /// connection, audit types).
    pub source: SourcePlan,
    /// The sinks to build: the configured ones, or stdout.
    pub sinks: Vec<SinkPlan>,
}

/// One sink to build: its section, whose secrets and TLS material were
/// read at load, and its name.
#[derive(Debug)]
pub struct SinkPlan {
    /// "file:/var/log/x.ndjson", "stdout": for logs and metrics.
    pub name: String,
    /// The sink's section, its files already read.
    pub config: SinkConfig,
}

impl RunPlan {
    /// Turns a loaded configuration into the plan. Every problem names its
    /// key; a configuration that went through loading has none left, so
    /// this fails only for one built in code.
    pub fn new(config: Config) -> Result<RunPlan, ConfigErrors> {
        let mut problems = Problems::default();
        let listen = config
            .telemetry
            .listen_address()
            .map_err(|problem| problems.fail("telemetry.listen", problem))
            .ok()
            .flatten();
        let fleet = !config.sources.is_empty();
        let mut systems = Vec::new();
        for (index, source) in config.effective_sources().iter().enumerate() {
            let key = if fleet {
                format!("sources[{index}]")
            } else {
                "source".to_owned()
            };
            let one = if fleet {
                config.for_source(source)
            } else {
                config.clone()
            };
            let Some(source) = source.plan(&key, &mut problems) else {
                continue;
            };
            let sinks = one
                .effective_sinks()
                .into_iter()
                .map(|sink| SinkPlan {
                    name: sink.describe(),
                    config: sink,
                })
                .collect();
            systems.push(SystemPlan {
                name: source.config.name.trim().to_owned(),
                config: one,
                source,
                sinks,
            });
        }
        if problems.is_empty() {
            Ok(RunPlan {
                config,
                listen,
                systems,
            })
        } else {
            Err(ConfigErrors(problems.errors))
        }
    }

    /// Whether several systems are read (`[[sources]]`).
    pub fn is_fleet(&self) -> bool {
        !self.config.sources.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_does_not_parse_is_a_problem_naming_its_key() {
        let mut config = Config::default();
        config.telemetry.listen = "localhost".into();
        config.source.audit_types = vec!["XX".into()];
        let errors = RunPlan::new(config).unwrap_err().0;
        let keys: Vec<&str> = errors.iter().map(|error| error.key.as_str()).collect();
        assert_eq!(
            keys,
            ["telemetry.listen", "source.audit_types"],
            "{errors:?}"
        );
    }

    #[test]
    fn an_odbc_password_file_never_read_is_a_problem_not_an_empty_password() {
        let mut config = Config::default();
        config.source.kind = crate::source::config::SourceKind::Odbc;
        config.source.odbc.password_file = Some("/nonexistent/odbc.pw".into());
        let errors = RunPlan::new(config).unwrap_err().0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].key, "source.odbc.password_file");
        assert!(errors[0].message.contains("was not read"), "{errors:?}");
    }

    #[test]
    fn a_fleet_plans_each_system_with_its_own_state_and_files() {
        let mut config = Config::default();
        config.telemetry.listen = "127.0.0.1:9464".into();
        for name in ["alpha", "beta"] {
            config.sources.push(crate::source::config::SourceConfig {
                name: name.into(),
                ..Default::default()
            });
        }
        config.sinks = vec![SinkConfig::File(crate::sink::FileSinkConfig {
            path: "out-{source}.ndjson".into(),
            format: crate::format::Format::Native,
        })];
        let plan = RunPlan::new(config).unwrap();
        assert!(plan.is_fleet());
        assert_eq!(plan.listen, Some("127.0.0.1:9464".parse().unwrap()));
        let names: Vec<(&str, String, &str)> = plan
            .systems
            .iter()
            .map(|system| {
                (
                    system.name.as_str(),
                    system.config.state.dir.display().to_string(),
                    system.sinks[0].name.as_str(),
                )
            })
            .collect();
        let state = crate::checkpoint::StateConfig::default().dir;
        assert_eq!(
            names,
            [
                (
                    "alpha",
                    state.join("alpha").display().to_string(),
                    "file:out-alpha.ndjson"
                ),
                (
                    "beta",
                    state.join("beta").display().to_string(),
                    "file:out-beta.ndjson"
                ),
            ]
        );
        assert!(plan
            .systems
            .iter()
            .all(|system| system.config.telemetry.listen.is_empty()));
    }
}
