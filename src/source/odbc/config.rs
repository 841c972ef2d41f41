//! `[source.odbc]`: the connection and how the journal is read.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{duration, read_secret_file, Problems, Secret};

/// The ODBC source: `SYSTOOLS.AUDIT_JOURNAL_JS` through an ODBC driver.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OdbcConfig {
    /// Redacted in output: it may carry `PWD=`.
    pub connection_string: Secret,
    pub password: Secret,
    /// File whose first line is the password (systemd credentials, Kubernetes secrets).
    pub password_file: Option<PathBuf>,
    /// The password `password_file` held, read once by `load_files`.
    #[serde(skip)]
    pub password_from_file: Option<Secret>,
    pub dialect: Dialect,
    /// IANA zone of the IBM i clock (ENTRY_TIMESTAMP is local time), or "server".
    pub timezone: String,
    /// First run only: "now", "earliest" or a local timestamp.
    pub start_at: String,
    pub exclude_own_connections: bool,
    #[serde(with = "duration")]
    pub query_timeout: Duration,
    /// Sequence numbers one table-function call covers at most (its rows are
    /// read whole before they are handed out): 10,000, less in a fleet, whose
    /// memory budget sets it (`pipeline::memory::FleetPlan`). Not a key.
    #[serde(skip)]
    pub window_entries: u64,
}

impl Default for OdbcConfig {
    fn default() -> Self {
        OdbcConfig {
            connection_string: Secret::default(),
            password: Secret::default(),
            password_file: None,
            password_from_file: None,
            window_entries: super::chain::WINDOW_ENTRIES,
            dialect: Dialect::Db2i,
            timezone: "UTC".into(),
            start_at: "now".into(),
            exclude_own_connections: true,
            query_timeout: Duration::from_secs(60),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    Db2i,
    Postgres,
}

impl OdbcConfig {
    /// Required keys, values that must parse; `key` is "source.odbc".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        let at = |name: &str| format!("{key}.{name}");
        if self.connection_string.is_empty() {
            problems.fail(
                at("connection_string"),
                "required when source.kind = \"odbc\"",
            );
        }
        if !self.password.is_empty() && self.password_file.is_some() {
            problems.fail(
                at("password_file"),
                "set either password or password_file, not both",
            );
        }
        let start_at = self.start_at.trim();
        if start_at != "now"
            && start_at != "earliest"
            && crate::source::rows::parse_local_timestamp(start_at).is_none()
        {
            problems.fail(
                at("start_at"),
                format!("{start_at:?} is not \"now\", \"earliest\" or a local timestamp like \"2026-04-08T00:00:00\""),
            );
        }
        problems.duration_in(
            at("query_timeout"),
            self.query_timeout,
            Duration::from_secs(1),
            Duration::from_secs(3600),
        );
        if self.timezone != "server" && self.timezone.parse::<chrono_tz::Tz>().is_err() {
            problems.fail(
                at("timezone"),
                format!(
                    "{:?} is not an IANA time zone such as \"Europe/Rome\"",
                    self.timezone
                ),
            );
        }
    }

    /// The zone of the IBM i clock: the one place `timezone` is parsed
    /// ("server" reads local times as UTC). The error names the key.
    pub fn zone(&self) -> Result<chrono_tz::Tz, String> {
        match self.timezone.as_str() {
            "server" => Ok(chrono_tz::Tz::UTC),
            name => name
                .parse()
                .map_err(|_| format!("source.odbc.timezone {name:?} is not an IANA zone")),
        }
    }

    /// Reads the password file once, so a missing one is a configuration error.
    pub fn load_files(&mut self, key: &str, problems: &mut Problems) {
        if let Some(path) = &self.password_file {
            match read_secret_file(&format!("{key}.password_file"), path) {
                Ok(password) => self.password_from_file = Some(password),
                Err(error) => problems.errors.push(error),
            }
        }
    }

    /// The password to connect with (see [`crate::config::secret_in_use`]).
    pub fn password_in_use(&self) -> Result<Secret, String> {
        crate::config::secret_in_use(
            &self.password,
            self.password_file.as_deref(),
            self.password_from_file.as_ref(),
            "source.odbc.password_file",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The password file is read at load; it may go away afterwards.
    #[test]
    fn the_password_file_is_read_once_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odbc.pw");
        std::fs::write(&path, "s3cret\nsecond line\n").unwrap();
        let mut odbc = OdbcConfig {
            password_file: Some(path.clone()),
            ..Default::default()
        };
        assert!(odbc.password_in_use().is_err(), "not loaded yet");
        let mut problems = Problems::default();
        odbc.load_files("source.odbc", &mut problems);
        assert!(problems.errors.is_empty());
        std::fs::remove_file(&path).unwrap();
        assert_eq!(odbc.password_in_use().unwrap().expose(), "s3cret");
    }
}
