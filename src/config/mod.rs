//! Configuration machinery, shared by every component and knowing none of
//! them: layering (built-in defaults < TOML file(s) < `AUDITFWD_*` environment
//! < `--set key=value`), error reports that name the key and where its value
//! came from, `Secret`, durations, and secret files.
//!
//! Each component owns its section type and validates it (`source::SourceConfig`,
//! `sink::SinkConfig`, `pipeline::PipelineConfig`, ...); `crate::settings`
//! assembles them into the whole configuration. Nothing here imports a component.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of every environment variable the configuration reads.
pub const ENV_PREFIX: &str = "AUDITFWD_";
/// Environment variables with the prefix that are not configuration keys.
pub const ENV_NOT_KEYS: &[&str] = &["config", "failpoints"];

/// What `load` needs of the whole configuration type.
pub trait Validate: Serialize + DeserializeOwned + Default {
    /// Ranges, conflicts, values that must parse: no I/O.
    fn validate(&self, problems: &mut Problems);
    /// Reads the files the configuration names (secret, CA and key files)
    /// once, so a missing or unreadable one is a configuration error (exit 78)
    /// in `check-config` and `run` alike.
    fn load_files(&mut self, problems: &mut Problems);
}

/// A value that never appears in logs, errors or printed configuration.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const REDACTED: &'static str = "<redacted>";

    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself: call only where it is handed to a peer.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            Secret::REDACTED
        })
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0.is_empty() {
            ""
        } else {
            Secret::REDACTED
        })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// Reads a secret from a `*_file` key: the first line, without its line end.
pub fn read_secret_file(key: &str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
        key: key.into(),
        origin: String::new(),
        message: format!("cannot read secret file {}: {error}", path.display()),
    })?;
    Ok(Secret::new(text.lines().next().unwrap_or("").to_owned()))
}

/// Checks that a file named by `key` can be read (a CA, certificate or key).
pub fn check_readable_file(key: &str, path: &Path, problems: &mut Problems) {
    if let Err(error) = std::fs::read(path) {
        problems.fail(key, format!("cannot read {}: {error}", path.display()));
    }
}

/// Durations as humantime strings ("5s", "1m 30s"), for `#[serde(with = "duration")]`.
pub mod duration {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(|error| {
            serde::de::Error::custom(format!(
                "invalid duration {text:?} ({error}); write it like \"5s\", \"500ms\" or \"2m\""
            ))
        })
    }
}

/// A configuration problem, naming the key and where its value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    /// "config/auditfwd.toml", "environment variable AUDITFWD_X", ... or empty.
    pub origin: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = if self.key.is_empty() {
            "(top level)"
        } else {
            &self.key
        };
        write!(f, "configuration key `{key}`")?;
        if !self.origin.is_empty() {
            write!(f, " (from {})", self.origin)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Problems found while validating, collected so all are reported at once.
#[derive(Debug, Default)]
pub struct Problems {
    pub errors: Vec<ConfigError>,
}

impl Problems {
    /// Records a problem with `key` (its origin is found later).
    pub fn fail(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError {
            key: key.into(),
            origin: String::new(),
            message: message.into(),
        });
    }

    /// Records a problem unless `minimum <= value <= maximum`.
    pub fn duration_in(
        &mut self,
        key: impl Into<String>,
        value: Duration,
        minimum: Duration,
        maximum: Duration,
    ) {
        if value < minimum || value > maximum {
            let show = |duration: Duration| humantime::format_duration(duration).to_string();
            let lowest = if minimum.is_zero() {
                "0s".to_owned()
            } else {
                show(minimum)
            };
            self.fail(
                key,
                format!(
                    "{} is out of range; use {lowest} to {}",
                    show(value),
                    show(maximum)
                ),
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Several configuration problems, reported together.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// `--set key=value` pairs from the command line, as a figment provider.
#[derive(Clone, Debug, Default)]
pub struct CommandLine {
    pub pairs: Vec<(String, String)>,
}

impl CommandLine {
    /// Parses "a.b=value"; the value is TOML when it parses as TOML, else a string.
    pub fn push(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let (key, value) = assignment.split_once('=').ok_or_else(|| ConfigError {
            key: assignment.into(),
            origin: "the command line (--set)".into(),
            message: "expected KEY=VALUE, for example --set source.batch_rows=500".into(),
        })?;
        self.pairs.push((key.trim().to_owned(), value.to_owned()));
        Ok(())
    }

    fn to_toml(&self) -> String {
        let mut text = String::new();
        for (key, value) in &self.pairs {
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|table| table.get("v").cloned())
                .unwrap_or_else(|| toml::Value::String(value.clone()));
            text.push_str(&format!("{key} = {parsed}\n"));
        }
        text
    }
}

impl Provider for CommandLine {
    fn metadata(&self) -> Metadata {
        Metadata::named("the command line (--set)")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Toml::string(&self.to_toml()).data()
    }
}

/// Builds the layered figment: defaults < files < environment < command line.
pub fn figment<T: Serialize + Default>(files: &[PathBuf], command_line: &CommandLine) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    for file in files {
        figment = figment.merge(Toml::file_exact(file));
    }
    figment
        .merge(
            Env::prefixed(ENV_PREFIX)
                .split("__")
                .ignore(ENV_NOT_KEYS)
                .map(|key| key.as_str().to_lowercase().into()),
        )
        .merge(command_line.clone())
}

/// Loads, deserialises, validates, then reads the files the configuration names.
pub fn load<T: Validate>(files: &[PathBuf], command_line: &CommandLine) -> Result<T, ConfigErrors> {
    for file in files {
        if !file.is_file() {
            return Err(ConfigErrors(vec![ConfigError {
                key: String::new(),
                origin: file.display().to_string(),
                message: "configuration file not found or not a file".into(),
            }]));
        }
    }
    let figment = figment::<T>(files, command_line);
    let mut config: T = figment.extract().map_err(|error| {
        ConfigErrors(
            error
                .into_iter()
                .map(|error| ConfigError {
                    key: error.path.join("."),
                    origin: describe_origin(error.metadata.as_ref()),
                    message: error.kind.to_string(),
                })
                .collect(),
        )
    })?;
    let mut problems = Problems::default();
    config.validate(&mut problems);
    if problems.is_empty() {
        config.load_files(&mut problems);
    }
    let mut errors = problems.errors;
    for error in &mut errors {
        if error.origin.is_empty() {
            error.origin = find_origin(&figment, &error.key);
        }
    }
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

fn describe_origin(metadata: Option<&Metadata>) -> String {
    let Some(metadata) = metadata else {
        return String::new();
    };
    match &metadata.source {
        Some(figment::Source::File(path)) => path.display().to_string(),
        _ => metadata.name.to_string(),
    }
}

/// Where the value of `key` (or its nearest parent) was set.
fn find_origin(figment: &Figment, key: &str) -> String {
    let mut path = key.replace('[', ".").replace(']', "");
    loop {
        if let Some(metadata) = figment.find_metadata(&path) {
            return describe_origin(Some(metadata));
        }
        match path.rfind('.') {
            Some(dot) => path.truncate(dot),
            None => return String::new(),
        }
    }
}
