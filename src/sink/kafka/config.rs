//! `type = "kafka"`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use crate::config::{duration, read_secret_file, Problems, Secret};
use crate::format::Format;

/// Kafka: idempotent, keyed by event id, acknowledged when every record of the
/// batch is acknowledged by the brokers (acks=all).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaSinkConfig {
    /// bootstrap.servers: "kafka1:9093,kafka2:9093".
    pub brokers: String,
    /// The topic every event goes to (unless moved to `alert_topic`).
    pub topic: String,
    /// Privileged or high-severity events also go here (empty = no alert topic).
    pub alert_topic: String,
    /// "copy": alerts go to both topics; "move": alerts go to alert_topic only.
    pub alert_routing: AlertRouting,
    /// The record value: "native" (schema v1/v2, the default; "json" is its
    /// older name), "ecs" or "ocsf".
    pub format: Format,
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
    /// A file whose first line is the SASL password, instead of `sasl_password`.
    pub sasl_password_file: Option<PathBuf>,
    /// The password `sasl_password_file` held, read once by `load_files`.
    #[serde(skip)]
    pub sasl_password_from_file: Option<Secret>,
    /// Any librdkafka property, passed through (TLS, SASL, linger, ...); any
    /// scalar is taken as text. Checked at load like librdkafka will (unknown
    /// property, bad value, conflicting settings) without contacting a broker.
    /// Values of keys that name a password, secret, token, key, ... are
    /// redacted when printed ([`is_secret_property`]).
    #[serde(
        serialize_with = "serialize_redacted_map",
        deserialize_with = "crate::config::scalar_text_map"
    )]
    pub librdkafka: std::collections::BTreeMap<String, String>,
}

impl Default for KafkaSinkConfig {
    fn default() -> Self {
        KafkaSinkConfig {
            brokers: String::new(),
            topic: String::new(),
            alert_topic: String::new(),
            alert_routing: AlertRouting::Copy,
            format: Format::Native,
            max_in_flight: 8,
            compression: "zstd".into(),
            delivery_timeout: Duration::from_secs(120),
            sasl_password: Secret::default(),
            sasl_password_file: None,
            sasl_password_from_file: None,
            librdkafka: std::collections::BTreeMap::new(),
        }
    }
}

/// `alert_routing`: what happens to an alert when `alert_topic` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertRouting {
    /// Alerts go to both topics (the default).
    Copy,
    /// Alerts go to `alert_topic` only.
    Move,
}

/// True for librdkafka property names whose values are (or may be) secrets:
/// by what the name says, not by an exact list, so a property librdkafka adds
/// later (or a misspelt one) is redacted too.
pub(crate) fn is_secret_property(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "key",
        "jaas",
        "credential",
        "oauthbearer.config",
        "sasl.oauthbearer",
        "private",
    ]
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
    /// Batches produced and not yet acknowledged at once (`max_in_flight`).
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Keys whose values are secrets (kept as given text, never printed).
    pub const SECRET_KEYS: &'static [&'static str] = &["sasl_password"];

    /// The librdkafka properties the producer is built with (the SASL password
    /// aside): auditfwd's own, then the `librdkafka` table over them.
    pub fn client_properties(&self) -> Vec<(String, String)> {
        let mut properties: std::collections::BTreeMap<String, String> = [
            ("bootstrap.servers", self.brokers.clone()),
            ("client.id", "auditfwd".into()),
            ("enable.idempotence", "true".into()),
            ("acks", "all".into()),
            ("compression.type", self.compression.clone()),
            // Throughput defaults (overridable in [sinks.librdkafka]): wait up to
            // 5 ms to fill batches of up to 1 MiB.
            ("linger.ms", "5".into()),
            ("batch.size", "1048576".into()),
            (
                "message.timeout.ms",
                self.delivery_timeout.as_millis().to_string(),
            ),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect();
        properties.extend(self.librdkafka.clone());
        properties.into_iter().collect()
    }

    /// The sink's name in logs and metrics: `kafka:<topic>@<brokers>`.
    pub fn describe(&self) -> String {
        format!("kafka:{}@{}", self.topic, self.brokers)
    }

    /// `key` is "sinks[N]".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        let at = |name: &str| format!("{key}.{name}");
        if self.brokers.trim().is_empty() {
            problems.fail(at("brokers"), "required, e.g. \"kafka1:9093,kafka2:9093\"");
        }
        self.format.validate_json_only(at("format"), problems);
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
        self.check_properties(key, problems);
    }

    /// Sets every property on a librdkafka configuration, as the producer
    /// will: an unknown property or a bad value is exit 78 here, naming the
    /// key, never the value of a secret or unknown one. No I/O.
    fn check_properties(&self, key: &str, problems: &mut Problems) {
        for (name, value) in self.client_properties() {
            let mut single = rdkafka::ClientConfig::new();
            single.set(name.as_str(), value.as_str());
            let Err(error) = single.create_native_config() else {
                continue;
            };
            let key = format!("{key}.librdkafka.\"{name}\"");
            match error {
                rdkafka::error::KafkaError::ClientConfig(
                    rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN,
                    ..
                ) => problems.fail(
                    key,
                    "librdkafka has no such property (see librdkafka's CONFIGURATION.md); its value is not shown",
                ),
                rdkafka::error::KafkaError::ClientConfig(_, description, ..) => {
                    // librdkafka quotes the value it refuses: the key is named,
                    // the value (which may be a misplaced secret) is not.
                    let description = if value.is_empty() {
                        description
                    } else {
                        description.replace(
                            &format!("\"{value}\""),
                            &format!("\"{}\"", Secret::REDACTED),
                        )
                    };
                    problems.fail(
                        key,
                        format!(
                            "librdkafka refuses the value: {}",
                            self.scrub(&name, &description, &value)
                        ),
                    );
                }
                _ => problems.fail(key, "librdkafka refuses the property (NUL byte?)"),
            }
        }
    }

    /// `text` without the value of `name` if that value is a secret, nor any
    /// other secret this sink holds.
    fn scrub(&self, name: &str, text: &str, value: &str) -> String {
        let mut text = text.to_owned();
        let mut secrets: Vec<&str> = self
            .librdkafka
            .iter()
            .filter(|(key, _)| is_secret_property(key))
            .map(|(_, value)| value.as_str())
            .collect();
        if is_secret_property(name) {
            secrets.push(value);
        }
        secrets.push(self.sasl_password.expose());
        for secret in secrets.into_iter().filter(|secret| !secret.is_empty()) {
            text = text.replace(secret, Secret::REDACTED);
        }
        text
    }

    /// Builds (and drops) a producer from the properties, without
    /// `bootstrap.servers` so that it contacts no broker: what librdkafka
    /// only checks when the client is created (conflicting settings, a
    /// missing SSL file, a SASL mechanism this build lacks) is exit 78 in
    /// `check-config` and `run` alike, not exit 69 at start-up.
    fn check_client(&self, key: &str, problems: &mut Problems) {
        let mut client = rdkafka::ClientConfig::new();
        for (name, value) in self.client_properties() {
            if name != "bootstrap.servers" {
                client.set(name, value);
            }
        }
        if !self.sasl_password.is_empty() || self.sasl_password_file.is_some() {
            client.set("sasl.password", "placeholder");
        }
        let created: Result<rdkafka::producer::BaseProducer, _> = client.create();
        if let Err(error) = created {
            let text = match error {
                rdkafka::error::KafkaError::ClientCreation(text) => text,
                // One property refused: `check_properties` names it. The
                // error's own text would show the value.
                rdkafka::error::KafkaError::ClientConfig(..) => return,
                _ => "the client cannot be created".to_owned(),
            };
            let hint = if text.contains("sasl.password") {
                "; set sasl_password, sasl_password_file or AUDITFWD_SINKS__<n>__SASL_PASSWORD"
            } else {
                ""
            };
            problems.fail(
                format!("{key}.librdkafka"),
                format!(
                    "librdkafka refuses these settings: {}{hint}",
                    self.scrub("", &text, "")
                ),
            );
        }
    }

    /// Reads the SASL password file once, so a typo in its path is exit 78,
    /// then has librdkafka check the settings as a whole (it reads the SSL
    /// files they name).
    pub fn load_files(&mut self, key: &str, problems: &mut Problems) {
        if let Some(path) = &self.sasl_password_file {
            match read_secret_file(&format!("{key}.sasl_password_file"), path) {
                Ok(password) => self.sasl_password_from_file = Some(password),
                Err(error) => problems.errors.push(error),
            }
        }
        self.check_client(key, problems);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_properties_by_what_the_name_says() {
        for secret in [
            "sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
            "sasl.oauthbearer.config",
            "sasl.jaas.config",
            "sasl.passwd",
            "SASL.PASSWORD",
            "some.future.token",
        ] {
            assert!(is_secret_property(secret), "{secret}");
        }
        for plain in ["sasl.username", "linger.ms", "security.protocol", "acks"] {
            assert!(!is_secret_property(plain), "{plain}");
        }
    }

    fn problems(librdkafka: &[(&str, &str)]) -> Vec<String> {
        let mut config = KafkaSinkConfig {
            brokers: "127.0.0.1:1".into(),
            topic: "t".into(),
            librdkafka: librdkafka
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
            ..KafkaSinkConfig::default()
        };
        let mut problems = Problems::default();
        config.validate("sinks[0]", &mut problems);
        config.load_files("sinks[0]", &mut problems);
        problems.errors.iter().map(|error| error.to_string()).collect()
    }

    #[test]
    fn properties_are_checked_as_librdkafka_checks_them() {
        assert!(problems(&[("linger.ms", "5")]).is_empty());
        let unknown = problems(&[("sasl.passwd", "TopSecret123")]);
        assert!(unknown.len() == 1 && unknown[0].contains("\"sasl.passwd\""), "{unknown:?}");
        let bad = problems(&[("ssl.key.password", "TopSecret123"), ("acks", "1")]);
        assert!(bad.len() == 1 && bad[0].contains("acks"), "{bad:?}");
        for text in unknown.iter().chain(&bad) {
            assert!(!text.contains("TopSecret123"), "{text}");
        }
    }
}
