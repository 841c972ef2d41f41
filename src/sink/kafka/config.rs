//! `type = "kafka"`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use crate::config::{duration, read_secret_file, Problems, Secret};

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
    /// Batches produced and not yet acknowledged by the brokers at once (at
    /// most pipeline.max_batches_in_flight); idempotence keeps per-partition order.
    pub max_in_flight: usize,
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
            max_in_flight: 8,
            compression: "zstd".into(),
            delivery_timeout: Duration::from_secs(120),
            sasl_password: Secret::default(),
            sasl_password_file: None,
            librdkafka: std::collections::BTreeMap::new(),
        }
    }
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

impl KafkaSinkConfig {
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    pub fn describe(&self) -> String {
        format!("kafka:{}@{}", self.topic, self.brokers)
    }

    /// `key` is "sinks[N]".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        let at = |name: &str| format!("{key}.{name}");
        if self.brokers.trim().is_empty() {
            problems.fail(at("brokers"), "required, e.g. \"kafka1:9093,kafka2:9093\"");
        }
        if self.max_in_flight == 0 || self.max_in_flight > 1024 {
            problems.fail(
                at("max_in_flight"),
                format!("{} is out of range; use 1 to 1024", self.max_in_flight),
            );
        }
        if self.topic.trim().is_empty() {
            problems.fail(at("topic"), "required");
        }
        if !["zstd", "lz4", "gzip", "snappy", "none"].contains(&self.compression.as_str()) {
            problems.fail(
                at("compression"),
                format!("{:?} is not zstd, lz4, gzip, snappy or none", self.compression),
            );
        }
        problems.duration_in(
            at("delivery_timeout"),
            self.delivery_timeout,
            Duration::from_millis(1),
            Duration::from_secs(24 * 3600),
        );
        if !self.sasl_password.is_empty() && self.sasl_password_file.is_some() {
            problems.fail(
                at("sasl_password_file"),
                "set either sasl_password or sasl_password_file, not both",
            );
        }
        if self.librdkafka.contains_key("sasl.password") {
            problems.fail(at("librdkafka"), "put the SASL password in sasl_password, sasl_password_file or AUDITFWD_SINKS__<n>__SASL_PASSWORD, not in the librdkafka table");
        }
    }

    /// Reads the SASL password file once, so a typo in its path is exit 78.
    pub fn load_files(&self, key: &str, problems: &mut Problems) {
        if let Some(path) = &self.sasl_password_file {
            if let Err(error) = read_secret_file(&format!("{key}.sasl_password_file"), path) {
                problems.errors.push(error);
            }
        }
    }
}
