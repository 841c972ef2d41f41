//! Configuration machinery, shared by every component and knowing none of
//! them: layering (built-in defaults < TOML file(s) < `AUDITFWD_*` environment
//! < `--set key=value`), error reports that name the key and where its value
//! came from, `Secret`, durations, secret files, and TLS material (`tls`).
//!
//! Each component owns its section type and validates it (`source::SourceConfig`,
//! `sink::SinkConfig`, `pipeline::PipelineConfig`, ...); `crate::settings`
//! assembles them into the whole configuration. Nothing here imports a component.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of every environment variable the configuration reads.
pub const ENV_PREFIX: &str = "AUDITFWD_";
/// Environment variables with the prefix that are not configuration keys.
pub const ENV_NOT_KEYS: &[&str] = &["config", "failpoints"];

mod secret_file;
pub mod tls;
pub use secret_file::{read_secret_file, secret_in_use};
pub use tls::{TlsFiles, TlsMaterial};

/// What `load` needs of the whole configuration type.
pub trait Validate: Serialize + DeserializeOwned + Default {
    /// Names of the keys that hold secrets ("password", "token", ...), at any
    /// depth: their values from the environment and `--set` are kept as the
    /// text given (`0042` stays `0042`), never parsed as a number or list.
    fn secret_keys() -> Vec<&'static str>;
    /// Ranges, conflicts, values that must parse: no I/O.
    fn validate(&self, problems: &mut Problems);
    /// Reads the files the configuration names (secret, CA, certificate and
    /// key files) once, keeping what they hold in the configuration, so a
    /// missing, unreadable or malformed one is a configuration error (exit 78)
    /// in `check-config` and `run` alike and no component reads it again.
    fn load_files(&mut self, problems: &mut Problems);
    /// A deserialisation error said more exactly than serde could (a
    /// list entry's field rather than the entry); by default as it is.
    fn explain(_figment: &figment::Figment, error: figment::Error) -> figment::Error {
        error
    }
}

/// A value that never appears in logs, errors or printed configuration.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// What is shown wherever a secret would be.
    pub const REDACTED: &'static str = "<redacted>";

    /// Wraps a secret's text.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself: call only where it is handed to a peer.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (not configured).
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
        deserializer.deserialize_any(ScalarText).map(Secret)
    }
}

/// Any scalar (text, number, boolean) as text; a list or table is refused
/// without quoting it. For secrets and pass-through tables such as
/// `librdkafka`, where an error must never echo the value.
pub fn scalar_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(ScalarText)
}

/// A map whose values are [`scalar_text`].
pub fn scalar_text_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    struct Text(#[serde(deserialize_with = "scalar_text")] String);
    let map = std::collections::BTreeMap::<String, Text>::deserialize(deserializer)?;
    Ok(map
        .into_iter()
        .map(|(key, Text(value))| (key, value))
        .collect())
}

struct ScalarText;

impl<'de> serde::de::Visitor<'de> for ScalarText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<String, E> {
        Ok(value)
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_i128<E: serde::de::Error>(self, value: i128) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_u128<E: serde::de::Error>(self, value: u128) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_char<E: serde::de::Error>(self, value: char) -> Result<String, E> {
        Ok(value.to_string())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(serde::de::Error::custom(
            "must be text, not a list (its value is not shown); quote it",
        ))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(serde::de::Error::custom(
            "must be text, not a table (its value is not shown); quote it",
        ))
    }
}

/// The absolute, normal form of `path`, to compare two spellings of one file:
/// relative to the working directory, its longest existing ancestor resolved
/// (symbolic links, `..`), and the rest with `.` and `..` removed.
pub fn resolve_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = match std::env::current_dir() {
        Ok(directory) if path.is_relative() => directory.join(path),
        _ => path.to_path_buf(),
    };
    let components: Vec<Component> = absolute.components().collect();
    let (mut resolved, rest) = (1..=components.len())
        .rev()
        .find_map(|length| {
            let prefix: PathBuf = components[..length].iter().collect();
            let canonical = prefix.canonicalize().ok()?;
            Some((canonical, &components[length..]))
        })
        .unwrap_or((PathBuf::new(), &components[..]));
    for component in rest {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            other => resolved.push(other),
        }
    }
    resolved
}

/// Durations as humantime strings ("5s", "1m 30s"), for `#[serde(with = "duration")]`.
pub mod duration {
    use super::*;

    /// Writes the duration as humantime text ("1m 30s").
    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    /// Reads humantime text ("5s", "500ms", "2m"); the error shows how to write one.
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
    /// The dotted key (`sinks[0].token`, `source.batch_rows`); empty when none applies.
    pub key: String,
    /// "config/auditfwd.toml", "environment variable AUDITFWD_X", ... or empty.
    pub origin: String,
    /// What is wrong and how to fix it; never quotes a secret.
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
    /// Every problem found, in the order found.
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

    /// Whether no problem was found.
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
    /// The `key`, `value` pairs, in the order given on the command line.
    pub pairs: Vec<(String, String)>,
}

impl CommandLine {
    /// Parses "a.b=value"; the value is TOML when it parses as TOML, else a string.
    pub fn push(&mut self, assignment: &str) -> Result<(), ConfigError> {
        // The assignment is not echoed: without `=` there is no telling a key
        // from a secret typed in the wrong place.
        let (key, value) = assignment.split_once('=').ok_or_else(|| ConfigError {
            key: String::new(),
            origin: "the command line (--set)".into(),
            message: "a --set argument is not KEY=VALUE (it is not shown: it may hold a secret); write for example --set source.batch_rows=500".into(),
        })?;
        self.pairs.push((key.trim().to_owned(), value.to_owned()));
        Ok(())
    }

    fn to_toml(&self) -> String {
        let mut text = String::new();
        for (key, value) in &self.pairs {
            text.push_str(&format!("{key} = {}\n", Self::parse(value)));
        }
        text
    }

    fn parse(value: &str) -> toml::Value {
        format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|table| table.get("v").cloned())
            .unwrap_or_else(|| toml::Value::String(value.to_owned()))
    }

    /// Each key with the text it was given: a quoted TOML string unquoted,
    /// anything else exactly as typed (for secret keys).
    fn texts(&self) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .map(|(key, value)| {
                let text = match Self::parse(value) {
                    toml::Value::String(text) => text,
                    _ => value.clone(),
                };
                (key.clone(), text)
            })
            .collect()
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
///
/// The environment and the command line are [`Upper`] layers: their secret
/// keys keep the text given, and a numeric key addresses an element of an
/// array that a lower layer defines (`AUDITFWD_SINKS__0__TOKEN` and
/// `--set sinks.0.token=...` set the token of the files' first sink).
pub fn figment<T: Validate>(files: &[PathBuf], command_line: &CommandLine) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    for file in files {
        figment = figment.merge(Toml::file_exact(file));
    }
    let environment = Env::prefixed(ENV_PREFIX)
        .split("__")
        .ignore(ENV_NOT_KEYS)
        .map(|key| key.as_str().to_lowercase().into());
    let texts = environment
        .iter()
        .map(|(key, value)| (key.as_str().to_owned(), value))
        .collect();
    let upper = Upper {
        inner: environment,
        texts,
        secret_keys: T::secret_keys(),
        lower: figment.clone(),
    };
    let figment = figment.merge(upper);
    let upper = Upper {
        inner: command_line.clone(),
        texts: command_line.texts(),
        secret_keys: T::secret_keys(),
        lower: figment.clone(),
    };
    figment.merge(upper)
}

/// A layer above the files (environment, command line), as [`figment`] describes.
struct Upper<P> {
    inner: P,
    /// Dotted key and the text it was given, before any parsing.
    texts: Vec<(String, String)>,
    secret_keys: Vec<&'static str>,
    /// Every layer below this one.
    lower: Figment,
}

impl<P: Provider> Provider for Upper<P> {
    fn metadata(&self) -> Metadata {
        self.inner.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut data = self.inner.data()?;
        for dict in data.values_mut() {
            for (key, text) in &self.texts {
                let path: Vec<&str> = key.split('.').collect();
                if path
                    .last()
                    .is_some_and(|leaf| self.secret_keys.contains(leaf))
                {
                    set_text(dict, &path, text);
                }
            }
            for (key, value) in dict.iter_mut() {
                self.index_arrays(key, value).map_err(|error| *error)?;
            }
        }
        Ok(data)
    }
}

impl<P> Upper<P> {
    /// Turns a table of numeric keys at `path` into the array a lower layer
    /// holds there, each addressed element overlaid with this layer's values.
    fn index_arrays(&self, path: &str, value: &mut Value) -> Result<(), Box<figment::Error>> {
        let Value::Dict(_, dict) = value else {
            return Ok(());
        };
        let indexes: Option<Vec<usize>> = dict.keys().map(|key| key.parse().ok()).collect();
        let Some(indexes) = indexes.filter(|indexes| !indexes.is_empty()) else {
            for (key, inner) in dict.iter_mut() {
                self.index_arrays(&format!("{path}.{key}"), inner)?;
            }
            return Ok(());
        };
        let (tag, mut items) = match self.lower.find_value(path) {
            Ok(Value::Array(tag, items)) => (tag, items),
            // A lower layer that failed (a TOML syntax error) reports itself.
            Err(error) if !matches!(error.kind, figment::error::Kind::MissingField(_)) => {
                return Ok(());
            }
            _ => {
                let mut error = figment::Error::from(format!(
                    "addresses element {} of `{path}`, which the layers below do not define as a list: define `{path}` in a configuration file (e.g. [[{path}]]) and set only its secrets here",
                    indexes[0]
                ));
                error.path = vec![path.to_owned(), indexes[0].to_string()];
                return Err(Box::new(error));
            }
        };
        let Value::Dict(_, dict) = std::mem::replace(value, Value::from(false)) else {
            return Ok(());
        };
        for (key, upper) in dict {
            let index: usize = key.parse().unwrap_or(usize::MAX);
            let Some(item) = items.get_mut(index) else {
                let mut error = figment::Error::from(format!(
                    "addresses element {key} of `{path}`, but the layers below define {} (numbered from 0): define it in a configuration file and set only its secrets here",
                    items.len()
                ));
                error.path = vec![path.to_owned(), key];
                return Err(Box::new(error));
            };
            *item = overlay(std::mem::replace(item, Value::from(false)), upper);
        }
        *value = Value::Array(tag, items);
        Ok(())
    }
}

/// `upper`'s keys over `lower`'s, table by table.
fn overlay(lower: Value, upper: Value) -> Value {
    match (lower, upper) {
        (Value::Dict(tag, mut lower), Value::Dict(_, upper)) => {
            for (key, value) in upper {
                let merged = match lower.remove(&key) {
                    Some(old) => overlay(old, value),
                    None => value,
                };
                lower.insert(key, merged);
            }
            Value::Dict(tag, lower)
        }
        (_, upper) => upper,
    }
}

/// Replaces the value at `path` (if present) with `text`, unparsed.
fn set_text(dict: &mut Dict, path: &[&str], text: &str) {
    match path {
        [] => {}
        [leaf] => {
            if let Some(value) = dict.get_mut(*leaf) {
                *value = Value::from(text.to_owned());
            }
        }
        [head, rest @ ..] => {
            if let Some(Value::Dict(_, inner)) = dict.get_mut(*head) {
                set_text(inner, rest, text);
            }
        }
    }
}

/// Whether a key's value is a secret, or names a file that holds one (an
/// operator may type the secret itself there by mistake).
fn holds_or_names_a_secret(leaf: &str, secret_keys: &[&str]) -> bool {
    secret_keys.contains(&leaf) || leaf.ends_with("_file") || leaf == "endpoint"
}

/// A deserialisation error without the value it was given.
fn value_free(kind: &figment::error::Kind) -> String {
    use figment::error::Kind;
    match kind {
        Kind::InvalidType(_, expected) => format!(
            "invalid type: expected {expected} (the value given is not shown: this key holds or names a secret)"
        ),
        Kind::InvalidValue(_, expected) => format!(
            "invalid value: expected {expected} (the value given is not shown: this key holds or names a secret)"
        ),
        _ => "invalid value (not shown: this key holds or names a secret)".into(),
    }
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
    let secret_keys = T::secret_keys();
    let mut config: T = figment.extract().map_err(|error| {
        ConfigErrors(
            error
                .into_iter()
                .map(|error| T::explain(&figment, error))
                .map(|error| ConfigError {
                    key: key_of(&error),
                    origin: describe_origin(error.metadata.as_ref()),
                    // A list element (`sinks.0`, an internally tagged enum) names
                    // no field: its value may be any key's, a secret's too.
                    message: if matches!(
                        error.kind,
                        figment::error::Kind::InvalidType(..)
                            | figment::error::Kind::InvalidValue(..)
                    ) && error.path.last().is_some_and(|leaf| {
                        holds_or_names_a_secret(leaf, &secret_keys) || leaf.parse::<usize>().is_ok()
                    }) {
                        value_free(&error.kind)
                    } else {
                        without_excerpt(&error.kind.to_string())
                    },
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

/// The key an error is about: its path, and the field when one is missing
/// (`sinks.0.topic`, not `sinks.0`).
/// A list entry is written `sinks[0]`, as the checks after loading write it.
fn key_of(error: &figment::Error) -> String {
    let missing = match &error.kind {
        figment::error::Kind::MissingField(field) => Some(field.as_ref()),
        _ => None,
    };
    let mut key = String::new();
    for part in error.path.iter().map(String::as_str).chain(missing) {
        if part.parse::<usize>().is_ok() && !key.is_empty() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    key
}

/// A TOML parse error without the lines it quotes: the line may hold a
/// secret, and its number and column are enough to find it.
fn without_excerpt(message: &str) -> String {
    let excerpt = |line: &str| {
        let line = line.trim_start();
        let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
        rest.trim_start().starts_with('|')
    };
    if !message.lines().any(excerpt) {
        return message.to_owned();
    }
    let kept: Vec<&str> = message
        .lines()
        .filter(|line| !excerpt(line) && !line.trim().is_empty())
        .map(str::trim)
        .collect();
    format!(
        "{} (the line is not shown: it may hold a secret)",
        kept.join("; ")
    )
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

#[cfg(test)]
mod tests;
