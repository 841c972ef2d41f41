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
    /// Password for the connection, kept out of the connection string; redacted in output.
    pub password: Secret,
    /// File whose first line is the password (systemd credentials, Kubernetes secrets).
    pub password_file: Option<PathBuf>,
    /// The password `password_file` held, read once by `load_files`.
    #[serde(skip)]
    pub password_from_file: Option<Secret>,
    /// SQL dialect: "db2i" (Db2 for IBM i, the default) or "postgres" (the lab).
    pub dialect: Dialect,
    /// IANA zone of the IBM i clock (ENTRY_TIMESTAMP is local time), or "server".
    pub timezone: String,
    /// First run only: "now", "earliest" or a local timestamp.
    pub start_at: String,
    /// Drop the database host-server rows (QZDASOINIT, QZDASSINIT) whose real user is the
    /// forwarder's own profile, so it does not report its own polling (default true).
    pub exclude_own_connections: bool,
    /// Statement timeout of every journal query (default 1m); on Db2 for i the query
    /// governor limit, compared with the optimizer's estimate before a call runs.
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

/// `[source.odbc]`'s values that are parsed or read, as ready values: made
/// once at load ([`OdbcConfig::plan`]), never parsed again.
#[derive(Clone, Debug)]
pub struct OdbcPlan {
    /// The zone of the IBM i clock (`timezone`; "server" is UTC).
    pub zone: chrono_tz::Tz,
    /// Where a first run starts (`start_at`).
    pub start_at: StartAt,
    /// The connection, assembled with its password.
    pub connection: OdbcConnection,
}

/// How the source connects, assembled once from `connection_string` and the
/// password in use (inline, or what `password_file` held).
#[derive(Clone, Debug)]
pub struct OdbcConnection {
    /// The connection string with the password added: what the driver is given.
    pub text: Secret,
    /// Every text no message may show: the password, and the connection
    /// string's own as written and as meant.
    pub secrets: Vec<Secret>,
    /// `SYSTEM=`, `SERVER=` or `DSN=` of the connection string, for messages.
    pub host: String,
}

/// Where a first run starts (`start_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// At the newest entry: only what is journaled from now on.
    Now,
    /// At the oldest entry still in the journal.
    Earliest,
    /// A local time of the IBM i clock.
    At(chrono::NaiveDateTime),
}

/// `source.odbc.dialect`: the SQL the statements are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Db2 for IBM i, through the IBM i Access ODBC driver.
    Db2i,
    /// The PostgreSQL lab in deploy/lab/, a stand-in for testing.
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
        if let Err(problem) = self.start() {
            problems.fail(at("start_at"), problem);
        }
        problems.duration_in(
            at("query_timeout"),
            self.query_timeout,
            Duration::from_secs(1),
            Duration::from_secs(3600),
        );
        if let Err(problem) = self.zone() {
            problems.fail(at("timezone"), problem);
        }
    }

    /// The zone of the IBM i clock: the one place `timezone` is parsed
    /// ("server" reads local times as UTC).
    fn zone(&self) -> Result<chrono_tz::Tz, String> {
        match self.timezone.as_str() {
            "server" => Ok(chrono_tz::Tz::UTC),
            name => name
                .parse()
                .map_err(|_| format!("{name:?} is not an IANA time zone such as \"Europe/Rome\"")),
        }
    }

    /// Where a first run starts: the one place `start_at` is parsed.
    fn start(&self) -> Result<StartAt, String> {
        match self.start_at.trim() {
            "now" => Ok(StartAt::Now),
            "earliest" => Ok(StartAt::Earliest),
            text => crate::source::rows::parse_local_timestamp(text)
                .map(StartAt::At)
                .ok_or_else(|| format!("{text:?} is not \"now\", \"earliest\" or a local timestamp like \"2026-04-08T00:00:00\"")),
        }
    }

    /// The ready values the source opens with (`key` is "source.odbc"):
    /// each problem names its key.
    pub fn plan(&self, key: &str, problems: &mut Problems) -> Option<OdbcPlan> {
        let at = |name: &str| format!("{key}.{name}");
        let zone = self
            .zone()
            .map_err(|problem| problems.fail(at("timezone"), problem));
        let start_at = self
            .start()
            .map_err(|problem| problems.fail(at("start_at"), problem));
        let password = self
            .password_in_use()
            .map_err(|problem| problems.fail(at("password_file"), problem));
        let password = password.ok()?;
        Some(OdbcPlan {
            zone: zone.ok()?,
            start_at: start_at.ok()?,
            connection: OdbcConnection {
                text: super::connection::with_password(&self.connection_string, &password),
                secrets: super::connection::secrets_of(&self.connection_string, &password),
                host: super::connection::host_of(self.connection_string.expose()),
            },
        })
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
    fn password_in_use(&self) -> Result<Secret, String> {
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

    /// The plan holds what the source connects with, made once: the
    /// connection string with the password, the secrets, the host; its
    /// `Debug` shows neither secret.
    #[test]
    fn the_plan_assembles_the_connection_once_and_shows_no_secret() {
        let odbc = OdbcConfig {
            connection_string: Secret::new("DSN=lab;UID=u;PWD={pw;x}"),
            password: Secret::new("s3cret}"),
            timezone: "Europe/Rome".into(),
            start_at: "2026-04-08T00:00:00".into(),
            ..Default::default()
        };
        let mut problems = Problems::default();
        let plan = odbc.plan("sources[1].odbc", &mut problems).expect("plans");
        assert!(problems.errors.is_empty());
        assert_eq!(plan.zone, chrono_tz::Europe::Rome);
        assert!(matches!(plan.start_at, StartAt::At(_)));
        assert_eq!(
            plan.connection.text.expose(),
            "DSN=lab;UID=u;PWD={pw;x};PWD={s3cret}}};"
        );
        let secrets: Vec<&str> = plan.connection.secrets.iter().map(Secret::expose).collect();
        assert_eq!(secrets, ["s3cret}", "pw;x"]);
        assert_eq!(plan.connection.host, "lab");
        let shown = format!("{plan:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("pw;x"),
            "{shown}"
        );
        let bad = OdbcConfig {
            timezone: "Mars/Olympus".into(),
            start_at: "yesterday".into(),
            ..Default::default()
        };
        let mut problems = Problems::default();
        assert!(bad.plan("sources[1].odbc", &mut problems).is_none());
        let keys: Vec<&str> = problems
            .errors
            .iter()
            .map(|error| error.key.as_str())
            .collect();
        assert_eq!(
            keys,
            ["sources[1].odbc.timezone", "sources[1].odbc.start_at"]
        );
    }
}
