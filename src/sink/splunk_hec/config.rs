//! `type = "splunk_hec"`.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{duration, read_secret_file, Problems, Secret, TlsFiles, TlsMaterial};
use crate::format::Format;

/// Splunk HTTP Event Collector, acknowledged when Splunk says the events were
/// indexed (indexer acknowledgement), not merely received.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplunkHecSinkConfig {
    /// Base URL of the collector, e.g. "https://splunk.example.com:8088".
    pub endpoint: String,
    /// HEC token; or `token_file`, or AUDITFWD_SINKS__<n>__TOKEN. Redacted everywhere.
    pub token: Secret,
    /// A file holding the HEC token instead of `token` (read once at load; unreadable: exit 78).
    pub token_file: Option<PathBuf>,
    /// The token `token_file` held, read once by `load_files`.
    #[serde(skip)]
    pub token_from_file: Option<Secret>,
    /// Target index; empty = the token's default index.
    pub index: String,
    /// Empty: "ibmi:audit:<format>" (`ibmi:audit:native`, ...), the
    /// sourcetypes of the app in deploy/splunk/.
    pub sourcetype: String,
    /// The HEC `source` of every event (default "auditfwd").
    pub source: String,
    /// The event: "native" (schema v1/v2, the default), "ecs" or "ocsf". The
    /// CIM fields (action, app, dest, user, src, src_user, signature,
    /// signature_id) and ibmi_tags go beside it as indexed `fields`.
    pub format: Format,
    /// Poll /services/collector/ack and acknowledge a batch only once indexed.
    pub indexer_ack: bool,
    /// No acknowledgement by then: the batch is sent again (duplicates, never loss).
    #[serde(with = "duration")]
    pub ack_timeout: Duration,
    /// How often the pending ackIds of the channel are polled (all in one request).
    #[serde(with = "duration")]
    pub ack_poll_interval: Duration,
    /// Batches sent and not yet acknowledged at once (at most
    /// pipeline.max_batches_in_flight): hides Splunk's indexing latency. By
    /// Little's law a sink needs rate × latency events in flight: 64 batches of
    /// 1000 keep ~25,000 events/s going against acks 2.5 s late. A batch sent
    /// costs its compressed bodies (about 0.2 KB an event), not its events.
    pub max_in_flight: usize,
    /// Largest request body before compression; batches are split to stay under it.
    pub max_batch_bytes: usize,
    /// Request body compression: "gzip" (the default) or "none".
    pub compression: HecCompression,
    /// PEM file of a CA to trust for the collector's certificate.
    pub tls_ca_file: Option<PathBuf>,
    /// The certificates `tls_ca_file` held, read once by `load_files`.
    #[serde(skip)]
    pub tls_material: Option<TlsMaterial>,
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
            token_from_file: None,
            index: String::new(),
            sourcetype: String::new(),
            source: "auditfwd".into(),
            format: Format::Native,
            indexer_ack: true,
            ack_timeout: Duration::from_secs(60),
            ack_poll_interval: Duration::from_millis(500),
            max_in_flight: 64,
            max_batch_bytes: 1024 * 1024,
            compression: HecCompression::Gzip,
            tls_ca_file: None,
            tls_material: None,
            tls_verify: true,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// `compression` of the HEC requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HecCompression {
    /// Bodies sent as they are.
    None,
    /// Bodies gzip-compressed (`Content-Encoding: gzip`).
    Gzip,
}

impl SplunkHecSinkConfig {
    /// Keys whose values are secrets (kept as given text, never printed).
    pub const SECRET_KEYS: &'static [&'static str] = &["token"];

    /// The sink's name in logs and metrics: `splunk_hec:<endpoint>`.
    pub fn describe(&self) -> String {
        format!("splunk_hec:{}", self.endpoint)
    }

    /// The sourcetype sent: `sourcetype`, or the format's (`ibmi:audit:ocsf`).
    pub fn sourcetype(&self) -> String {
        if self.sourcetype.is_empty() {
            self.format.sourcetype()
        } else {
            self.sourcetype.clone()
        }
    }

    /// Batches sent and not yet acknowledged at once (`max_in_flight`).
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// `key` is "sinks[N]".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        let at = |name: &str| format!("{key}.{name}");
        let endpoint = self.endpoint.trim_end_matches('/');
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
            || endpoint.len() < 10
        {
            problems.fail(
                at("endpoint"),
                format!(
                    "{:?} is not a URL like \"https://splunk.example.com:8088\"",
                    self.endpoint
                ),
            );
        } else if endpoint
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .is_some_and(|authority| authority.contains('@'))
        {
            // Never echo the value: it holds a credential.
            problems.fail(
                at("endpoint"),
                "carries credentials (user:password@host), which would appear in logs, metrics and check-config; remove them from the URL and put the HEC token in token or token_file",
            );
        } else if let Err(error) = reqwest::Url::parse(endpoint) {
            // The URL each request is made from: one reqwest cannot parse
            // would fail every request, not once at load.
            problems.fail(
                at("endpoint"),
                format!("is not a URL an HTTP client can use: {error}"),
            );
        }
        self.format.validate_json_only(at("format"), problems);
        if self.token.is_empty() && self.token_file.is_none() {
            problems.fail(
                at("token"),
                "required: set token, token_file or AUDITFWD_SINKS__<n>__TOKEN",
            );
        }
        if !self.token.is_empty() && self.token_file.is_some() {
            problems.fail(at("token_file"), "set either token or token_file, not both");
        }
        if self.max_batch_bytes < 1024 {
            problems.fail(
                at("max_batch_bytes"),
                format!("{} is too small; use at least 1024", self.max_batch_bytes),
            );
        }
        let hour = Duration::from_secs(3600);
        problems.duration_in(at("ack_timeout"), self.ack_timeout, Duration::from_millis(1), hour);
        problems.duration_in(
            at("ack_poll_interval"),
            self.ack_poll_interval,
            Duration::from_millis(10),
            Duration::from_secs(60),
        );
        if self.max_in_flight == 0 || self.max_in_flight > 1024 {
            problems.fail(
                at("max_in_flight"),
                format!("{} is out of range; use 1 to 1024", self.max_in_flight),
            );
        }
        problems.duration_in(
            at("request_timeout"),
            self.request_timeout,
            Duration::from_millis(1),
            hour,
        );
    }

    /// Reads the token file and the CA file once, keeping what they hold.
    pub fn load_files(&mut self, key: &str, problems: &mut Problems) {
        if let Some(path) = &self.token_file {
            match read_secret_file(&format!("{key}.token_file"), path) {
                Ok(token) => self.token_from_file = Some(token),
                Err(error) => problems.errors.push(error),
            }
        }
        let at = format!("{key}.tls_ca_file");
        let files = TlsFiles {
            ca: self.tls_ca_file.as_deref().map(|path| (at.clone(), path)),
            cert: None,
            key: None,
        };
        let material = files.load(problems);
        self.tls_material = material;
        // The HTTP client the sink builds at start-up, built here without
        // a connection, so what it would refuse is exit 78.
        if let (Some(material), Some(path)) = (&self.tls_material, &self.tls_ca_file) {
            if let Err(error) = super::build_client(&super::http_settings(self, material)) {
                problems.fail(
                    at,
                    format!("{} is not a usable CA certificate: {error}", path.display()),
                );
            }
        }
    }
}
