//! Configuration: built-in defaults < TOML file(s) < `AUDITFWD_*` environment <
//! command line (`--set key=value`). Every struct here is part of the public
//! contract: keys are documented in `config/auditfwd.example.toml`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of every environment variable the configuration reads.
pub const ENV_PREFIX: &str = "AUDITFWD_";
/// Environment variables with the prefix that are not configuration keys.
pub const ENV_NOT_KEYS: &[&str] = &["config", "failpoints"];

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

/// Which journal reader runs, and how often it polls.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    pub kind: SourceKind,
    /// Pause between polls once the source has caught up.
    #[serde(with = "duration")]
    pub poll_interval: Duration,
    /// Most rows read per poll: also the size of a delivery batch.
    pub batch_rows: usize,
    pub simulator: SimulatorConfig,
    pub odbc: OdbcConfig,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            kind: SourceKind::Simulator,
            // IBM warns that polling the journal functions sub-second hurts the system.
            poll_interval: Duration::from_secs(5),
            batch_rows: 1000,
            simulator: SimulatorConfig::default(),
            odbc: OdbcConfig::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Deterministic synthetic JS traffic: the embedded default.
    Simulator,
    /// `SYSTOOLS.AUDIT_JOURNAL_JS` over ODBC.
    Odbc,
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
    pub system_name: String,
    /// Local time of the first entry (the simulated system runs on UTC).
    pub start_timestamp: chrono::NaiveDateTime,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            seed: 1,
            events_per_second: 200,
            total_events: 0,
            system_name: "SIMSYS".into(),
            start_timestamp: chrono::NaiveDate::from_ymd_opt(2026, 1, 5)
                .and_then(|date| date.and_hms_opt(8, 0, 0))
                .expect("valid constant date"),
        }
    }
}

/// The ODBC source: `SYSTOOLS.AUDIT_JOURNAL_JS` through an ODBC driver.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OdbcConfig {
    /// Redacted in output: it may carry `PWD=`.
    pub connection_string: Secret,
    pub password: Secret,
    /// File whose first line is the password (systemd credentials, Kubernetes secrets).
    pub password_file: Option<PathBuf>,
    pub dialect: Dialect,
    /// IANA zone of the IBM i clock (ENTRY_TIMESTAMP is local time), or "server".
    pub timezone: String,
    /// First run only: "now", "earliest" or a local timestamp.
    pub start_at: String,
    pub exclude_own_connections: bool,
    #[serde(with = "duration")]
    pub query_timeout: Duration,
}

impl Default for OdbcConfig {
    fn default() -> Self {
        OdbcConfig {
            connection_string: Secret::default(),
            password: Secret::default(),
            password_file: None,
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

/// Which rows `run` forwards (the `enrich` command does not filter).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// JS entry codes to keep; empty = all. Default: IBM's S, E, B, M.
    pub entry_types: Vec<String>,
    /// REAL_USER_PROFILE values to keep, compared upper-case; empty = all.
    pub include_users: Vec<String>,
    /// REAL_USER_PROFILE values to drop. Default: IBM's QCTP and QUSER.
    pub exclude_users: Vec<String>,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            entry_types: ["S", "E", "B", "M"].map(String::from).to_vec(),
            include_users: Vec::new(),
            exclude_users: ["QCTP", "QUSER"].map(String::from).to_vec(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Profiles whose use marks an event `privileged` (real or effective user).
    pub privileged_profiles: Vec<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            privileged_profiles: vec!["QSECOFR".into()],
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Directory of the sled database that holds the checkpoint.
    pub dir: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            dir: PathBuf::from("./data"),
        }
    }
}

pub use crate::pipeline::config::{PermanentErrorPolicy, PipelineConfig};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: "info", "auditfwd=debug", ...
    pub level: String,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// One destination. The set is closed: each variant is a sink in `src/sink/`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SinkConfig {
    File(FileSinkConfig),
    Stdout(StdoutSinkConfig),
    SplunkHec(SplunkHecSinkConfig),
    Syslog(SyslogSinkConfig),
    Kafka(KafkaSinkConfig),
}

impl SinkConfig {
    /// Short name for logs: "file:/var/log/x.ndjson", "stdout".
    pub fn describe(&self) -> String {
        match self {
            SinkConfig::File(file) => format!("file:{}", file.path.display()),
            SinkConfig::Stdout(_) => "stdout".into(),
            SinkConfig::SplunkHec(hec) => format!("splunk_hec:{}", hec.endpoint),
            SinkConfig::Kafka(kafka) => format!("kafka:{}@{}", kafka.topic, kafka.brokers),
            SinkConfig::Syslog(syslog) => {
                format!("syslog:{:?}:{}", syslog.transport, syslog.address).to_lowercase()
            }
        }
    }
}

/// Newline-delimited JSON appended to a file, acknowledged after write + fsync.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    pub path: PathBuf,
}

/// Newline-delimited JSON on standard output (logs go to standard error).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutSinkConfig {}

/// Splunk HTTP Event Collector, acknowledged when Splunk says the events were
/// indexed (indexer acknowledgement), not merely received.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplunkHecSinkConfig {
    /// Base URL of the collector, e.g. "https://splunk.example.com:8088".
    pub endpoint: String,
    /// HEC token; or `token_file`, or AUDITFWD_SINKS__<n>__TOKEN. Redacted everywhere.
    pub token: Secret,
    pub token_file: Option<PathBuf>,
    /// Target index; empty = the token's default index.
    pub index: String,
    pub sourcetype: String,
    pub source: String,
    /// Poll /services/collector/ack and acknowledge a batch only once indexed.
    pub indexer_ack: bool,
    /// No acknowledgement by then: the batch is sent again (duplicates, never loss).
    #[serde(with = "duration")]
    pub ack_timeout: Duration,
    /// Largest request body before compression; batches are split to stay under it.
    pub max_batch_bytes: usize,
    pub compression: HecCompression,
    /// PEM file of a CA to trust for the collector's certificate.
    pub tls_ca_file: Option<PathBuf>,
    /// false accepts any certificate: only for tests, and logged loudly.
    pub tls_verify: bool,
    /// Longest wait for one HTTP request.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
}

impl Default for SplunkHecSinkConfig {
    fn default() -> Self {
        SplunkHecSinkConfig {
            endpoint: String::new(),
            token: Secret::default(),
            token_file: None,
            index: String::new(),
            sourcetype: "ibmi:audit:js".into(),
            source: "auditfwd".into(),
            indexer_ack: true,
            ack_timeout: Duration::from_secs(60),
            max_batch_bytes: 1024 * 1024,
            compression: HecCompression::Gzip,
            tls_ca_file: None,
            tls_verify: true,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Kafka: idempotent, keyed by event id, acknowledged when every record of the
/// batch is acknowledged by the brokers (acks=all).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSinkConfig {
    /// bootstrap.servers: "kafka1:9093,kafka2:9093".
    pub brokers: String,
    pub topic: String,
    /// Privileged or high-severity events also go here (empty = no alert topic).
    pub alert_topic: String,
    /// "copy": alerts go to both topics; "move": alerts go to alert_topic only.
    pub alert_routing: AlertRouting,
    /// "json": native schema v1.
    pub format: KafkaFormat,
    /// compression.type: "zstd", "lz4", "gzip", "snappy" or "none".
    pub compression: String,
    /// How long librdkafka keeps trying one record (message.timeout.ms).
    #[serde(with = "duration")]
    pub delivery_timeout: Duration,
    /// sasl.password; or sasl_password_file, or AUDITFWD_SINKS__<n>__SASL_PASSWORD.
    pub sasl_password: Secret,
    pub sasl_password_file: Option<PathBuf>,
    /// Any librdkafka property, passed through (TLS, SASL, linger, ...). Values of
    /// keys that name a password, secret or key are redacted when printed.
    #[serde(serialize_with = "serialize_redacted_map")]
    pub librdkafka: std::collections::BTreeMap<String, String>,
}

impl Default for KafkaSinkConfig {
    fn default() -> Self {
        KafkaSinkConfig {
            brokers: String::new(),
            topic: String::new(),
            alert_topic: String::new(),
            alert_routing: AlertRouting::Copy,
            format: KafkaFormat::Json,
            compression: "zstd".into(),
            delivery_timeout: Duration::from_secs(120),
            sasl_password: Secret::default(),
            sasl_password_file: None,
            librdkafka: std::collections::BTreeMap::new(),
        }
    }
}

/// True for librdkafka property names whose values are secrets.
pub fn is_secret_property(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "ssl.key.pem", "private.key"]
        .iter()
        .any(|marker| key.contains(marker))
}

fn serialize_redacted_map<S: Serializer>(
    map: &std::collections::BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut out = serializer.serialize_map(Some(map.len()))?;
    for (key, value) in map {
        let shown = if is_secret_property(key) {
            Secret::REDACTED
        } else {
            value.as_str()
        };
        out.serialize_entry(key, shown)?;
    }
    out.end()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertRouting {
    Copy,
    Move,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KafkaFormat {
    Json,
}

/// Syslog: RFC 5424 (or 3164) over TCP, TLS, RELP or UDP, with JSON, CEF or LEEF bodies.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogSinkConfig {
    /// host:port of the receiver.
    pub address: String,
    /// "tcp" | "tls" | "relp" | "udp". Only relp confirms delivery (see the docs).
    pub transport: SyslogTransport,
    /// "octet-counting" (RFC 6587) | "lf"; tcp and tls only.
    pub framing: SyslogFraming,
    /// "rfc5424" | "rfc3164" (old receivers).
    pub protocol: SyslogProtocol,
    /// "json" (native schema v1) | "cef" | "leef".
    pub body: SyslogBody,
    /// Facility name; the severity comes from the event.
    pub facility: String,
    pub app_name: String,
    /// STRUCTURED-DATA id; 32473 is the documentation enterprise number: set your own.
    pub sd_id: String,
    /// Larger messages lose optional fields in a documented order; never cut.
    pub max_message_bytes: usize,
    /// CA that signed the receiver's certificate (tls); default: public roots.
    pub tls_ca_file: Option<PathBuf>,
    /// Client certificate and key for mutual TLS.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Name to verify the certificate against; default: the host of `address`.
    pub tls_server_name: String,
    /// Required for udp: UDP cannot confirm delivery, so loss must be accepted knowingly.
    pub accept_loss: bool,
    /// Connect, TLS handshake and write time limit.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
}

impl Default for SyslogSinkConfig {
    fn default() -> Self {
        SyslogSinkConfig {
            address: String::new(),
            transport: SyslogTransport::Tcp,
            framing: SyslogFraming::OctetCounting,
            protocol: SyslogProtocol::Rfc5424,
            body: SyslogBody::Json,
            facility: "auth".into(),
            app_name: "auditfwd".into(),
            sd_id: "auditfwd@32473".into(),
            max_message_bytes: 8192,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_server_name: String::new(),
            accept_loss: false,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogTransport {
    Tcp,
    Tls,
    Relp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyslogFraming {
    #[serde(rename = "octet-counting")]
    OctetCounting,
    #[serde(rename = "lf")]
    Lf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogProtocol {
    Rfc5424,
    Rfc3164,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogBody {
    Json,
    Cef,
    Leef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HecCompression {
    None,
    Gzip,
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
pub fn figment(files: &[PathBuf], command_line: &CommandLine) -> Figment {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
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

/// Loads, deserialises and validates the configuration.
pub fn load(files: &[PathBuf], command_line: &CommandLine) -> Result<Config, ConfigErrors> {
    for file in files {
        if !file.is_file() {
            return Err(ConfigErrors(vec![ConfigError {
                key: String::new(),
                origin: file.display().to_string(),
                message: "configuration file not found or not a file".into(),
            }]));
        }
    }
    let figment = figment(files, command_line);
    let config: Config = figment.extract().map_err(|error| {
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
    let mut errors = config.validate();
    if errors.is_empty() {
        errors = config.check_secret_files();
    }
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

impl Config {
    /// Checks what deserialisation cannot: ranges, empty values, conflicts.
    /// Touches nothing outside the struct (secret files are read when building).
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut problems = Problems::default();
        self.pipeline.validate("pipeline", &mut problems);
        let mut errors = problems.errors;
        let mut fail = |key: &str, message: String| {
            errors.push(ConfigError {
                key: key.into(),
                origin: String::new(),
                message,
            })
        };
        if self.source.batch_rows == 0 || self.source.batch_rows > 100_000 {
            fail(
                "source.batch_rows",
                format!(
                    "{} is out of range; use 1 to 100000",
                    self.source.batch_rows
                ),
            );
        }
        if self.source.poll_interval < Duration::from_millis(100) {
            fail(
                "source.poll_interval",
                "below 100ms; IBM warns that sub-second polling of the journal functions hurts the system".into(),
            );
        }
        let system = &self.source.simulator.system_name;
        if system.trim().is_empty() || system.len() > 8 {
            fail(
                "source.simulator.system_name",
                format!("{system:?} is not an IBM i system name (1 to 8 characters)"),
            );
        }
        if self.source.kind == SourceKind::Odbc {
            let odbc = &self.source.odbc;
            if odbc.connection_string.is_empty() {
                fail(
                    "source.odbc.connection_string",
                    "required when source.kind = \"odbc\"".into(),
                );
            }
            if !odbc.password.is_empty() && odbc.password_file.is_some() {
                fail(
                    "source.odbc.password_file",
                    "set either password or password_file, not both".into(),
                );
            }
            let start_at = odbc.start_at.trim();
            if start_at != "now"
                && start_at != "earliest"
                && crate::source::rows::parse_local_timestamp(start_at).is_none()
            {
                fail(
                    "source.odbc.start_at",
                    format!("{start_at:?} is not \"now\", \"earliest\" or a local timestamp like \"2026-04-08T00:00:00\""),
                );
            }
            if odbc.query_timeout.is_zero() {
                fail("source.odbc.query_timeout", "must be above zero".into());
            }
            if odbc.timezone != "server" && odbc.timezone.parse::<chrono_tz::Tz>().is_err() {
                fail(
                    "source.odbc.timezone",
                    format!(
                        "{:?} is not an IANA time zone such as \"Europe/Rome\"",
                        odbc.timezone
                    ),
                );
            }
        }
        for (index, code) in self.filter.entry_types.iter().enumerate() {
            let known = crate::enrich::classify::EVENT_ACTIONS
                .iter()
                .any(|(known, _, _)| code.trim().eq_ignore_ascii_case(known));
            if !known {
                fail(
                    &format!("filter.entry_types[{index}]"),
                    format!("{code:?} is not a JS entry code (A, B, C, E, H, I, J, K, L, M, N, P, Q, R, S, T, U, V)"),
                );
            }
        }
        for (key, names) in [
            ("filter.include_users", &self.filter.include_users),
            ("filter.exclude_users", &self.filter.exclude_users),
            (
                "alerts.privileged_profiles",
                &self.alerts.privileged_profiles,
            ),
        ] {
            for (index, name) in names.iter().enumerate() {
                if name.trim().is_empty() || name.trim().len() > 10 {
                    fail(
                        &format!("{key}[{index}]"),
                        format!("{name:?} is not a user profile name (1 to 10 characters)"),
                    );
                }
            }
        }
        if self.state.dir.as_os_str().is_empty() {
            fail("state.dir", "must name a directory".into());
        }
        if !self.telemetry.listen.is_empty()
            && self
                .telemetry
                .listen
                .parse::<std::net::SocketAddr>()
                .is_err()
        {
            fail(
                "telemetry.listen",
                format!(
                    "{:?} is not an address like \"127.0.0.1:9464\"",
                    self.telemetry.listen
                ),
            );
        }
        if self.telemetry.summary_interval < Duration::from_secs(1) {
            fail("telemetry.summary_interval", "must be at least 1s".into());
        }
        if let Err(error) = self.log.level.parse::<tracing_subscriber::EnvFilter>() {
            fail(
                "log.level",
                format!("{:?} is not a log filter: {error}", self.log.level),
            );
        }
        let mut file_paths = std::collections::HashSet::new();
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::Kafka(kafka) = sink {
                let key = |name: &str| format!("sinks[{index}].{name}");
                if kafka.brokers.trim().is_empty() {
                    fail(
                        &key("brokers"),
                        "required, e.g. \"kafka1:9093,kafka2:9093\"".into(),
                    );
                }
                if kafka.topic.trim().is_empty() {
                    fail(&key("topic"), "required".into());
                }
                if !["zstd", "lz4", "gzip", "snappy", "none"].contains(&kafka.compression.as_str())
                {
                    fail(
                        &key("compression"),
                        format!(
                            "{:?} is not zstd, lz4, gzip, snappy or none",
                            kafka.compression
                        ),
                    );
                }
                if !kafka.sasl_password.is_empty() && kafka.sasl_password_file.is_some() {
                    fail(
                        &key("sasl_password_file"),
                        "set either sasl_password or sasl_password_file, not both".into(),
                    );
                }
                if kafka.librdkafka.contains_key("sasl.password") {
                    fail(&key("librdkafka"), "put the SASL password in sasl_password, sasl_password_file or AUDITFWD_SINKS__<n>__SASL_PASSWORD, not in the librdkafka table".into());
                }
            }
            if let SinkConfig::Syslog(syslog) = sink {
                let key = |name: &str| format!("sinks[{index}].{name}");
                if syslog
                    .address
                    .rsplit_once(':')
                    .is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err())
                {
                    fail(
                        &key("address"),
                        format!("{:?} is not host:port", syslog.address),
                    );
                }
                if syslog.transport == SyslogTransport::Udp && !syslog.accept_loss {
                    fail(&key("accept_loss"), "transport = \"udp\" cannot confirm delivery: events can be lost without a trace; set accept_loss = true to accept that, or use relp".into());
                }
                if crate::sink::syslog::format::facility_code(&syslog.facility).is_none() {
                    fail(&key("facility"), format!("{:?} is not a syslog facility (auth, authpriv, security, local0..local7, ...)", syslog.facility));
                }
                let (name, number) = syslog.sd_id.split_once('@').unwrap_or(("", ""));
                let printable = |text: &str| {
                    text.chars()
                        .all(|c| ('!'..='~').contains(&c) && !matches!(c, '=' | ']' | '"'))
                };
                if name.is_empty()
                    || number.is_empty()
                    || !number.chars().all(|c| c.is_ascii_digit() || c == '.')
                    || syslog.sd_id.len() > 32
                    || !printable(&syslog.sd_id)
                {
                    fail(&key("sd_id"), format!("{:?} is not an SD-ID like \"auditfwd@32473\" (name@private enterprise number, at most 32 characters)", syslog.sd_id));
                }
                if syslog.app_name.is_empty()
                    || syslog.app_name.len() > 48
                    || !printable(&syslog.app_name)
                {
                    fail(&key("app_name"), "1 to 48 printable characters".into());
                }
                if syslog.max_message_bytes < 480 {
                    fail(
                        &key("max_message_bytes"),
                        "at least 480 (RFC 5424 receivers must take 480 bytes)".into(),
                    );
                }
                if syslog.tls_cert_file.is_some() != syslog.tls_key_file.is_some() {
                    fail(
                        &key("tls_key_file"),
                        "set tls_cert_file and tls_key_file together".into(),
                    );
                }
                if syslog.transport != SyslogTransport::Tls
                    && (syslog.tls_ca_file.is_some() || syslog.tls_cert_file.is_some())
                {
                    fail(
                        &key("transport"),
                        "tls_* keys need transport = \"tls\"".into(),
                    );
                }
            }
            if let SinkConfig::SplunkHec(hec) = sink {
                let key = |name: &str| format!("sinks[{index}].{name}");
                let endpoint = hec.endpoint.trim_end_matches('/');
                if !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
                    || endpoint.len() < 10
                {
                    fail(
                        &key("endpoint"),
                        format!(
                            "{:?} is not a URL like \"https://splunk.example.com:8088\"",
                            hec.endpoint
                        ),
                    );
                }
                if hec.token.is_empty() && hec.token_file.is_none() {
                    fail(
                        &key("token"),
                        "required: set token, token_file or AUDITFWD_SINKS__<n>__TOKEN".into(),
                    );
                }
                if !hec.token.is_empty() && hec.token_file.is_some() {
                    fail(
                        &key("token_file"),
                        "set either token or token_file, not both".into(),
                    );
                }
                if hec.max_batch_bytes < 1024 {
                    fail(
                        &key("max_batch_bytes"),
                        format!("{} is too small; use at least 1024", hec.max_batch_bytes),
                    );
                }
                if hec.ack_timeout.is_zero() || hec.request_timeout.is_zero() {
                    fail(&key("ack_timeout"), "timeouts must be above zero".into());
                }
            }
            if let SinkConfig::File(file) = sink {
                if file.path.as_os_str().is_empty() {
                    fail(&format!("sinks[{index}].path"), "must name a file".into());
                } else if !file_paths.insert(file.path.clone()) {
                    fail(
                        &format!("sinks[{index}].path"),
                        format!(
                            "{} is already the path of another file sink",
                            file.path.display()
                        ),
                    );
                }
            }
        }
        errors
    }

    /// Reads every `*_file` secret once, so a missing or unreadable file is a
    /// configuration error at `check-config` time, not a surprise at start.
    pub fn check_secret_files(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (index, sink) in self.sinks.iter().enumerate() {
            if let SinkConfig::SplunkHec(SplunkHecSinkConfig {
                token_file: Some(path),
                ..
            }) = sink
            {
                if let Err(error) = read_secret_file(&format!("sinks[{index}].token_file"), path) {
                    errors.push(error);
                }
            }
        }
        if self.source.kind == SourceKind::Odbc {
            if let Some(path) = &self.source.odbc.password_file {
                if let Err(error) = read_secret_file("source.odbc.password_file", path) {
                    errors.push(error);
                }
            }
        }
        errors
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
