//! Splunk HTTP Event Collector with indexer acknowledgement: HTTP 200 only means
//! the payload parsed, so with `indexer_ack` a batch is acknowledged once
//! `/services/collector/ack` says every part of it was indexed.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use flate2::write::GzEncoder;
use reqwest::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::sync::oneshot;

pub(crate) mod config;

use self::config::{HecCompression, SplunkHecSinkConfig};
use super::shared::HttpSettings;
use super::{Clients, Encoded, SinkError};
use crate::config::TlsMaterial;
use crate::background::{Spawner, Tether};
use crate::event::{Event, EventBatch};

/// Posts each batch to the collector and, with `indexer_ack`, waits until it is indexed.
pub struct HecSink {
    config: SplunkHecSinkConfig,
    client: reqwest::Client,
    /// `X-Splunk-Request-Channel`: one per sink instance and run.
    channel: String,
    endpoint: String,
    /// ackIds sent and not yet reported indexed, with who waits for each.
    acks: Arc<AckBoard>,
    /// Starts the ack poller under the run's supervisor, which fails the run
    /// (exit 70) if it panics or ends while this sink holds its tether.
    spawner: Spawner,
    /// Held while the poller (polling every pending ackId of the channel in
    /// one request) must run: dropping the sink stops it.
    poller: Option<Tether>,
}

/// Pending ackIds of the channel and the deliveries waiting on them.
#[derive(Default)]
struct AckBoard {
    waiting: Mutex<HashMap<u64, oneshot::Sender<()>>>,
}

impl AckBoard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<()>>> {
        self.waiting.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

#[derive(Deserialize)]
struct HecReply {
    #[serde(default)]
    text: String,
    #[serde(default = "no_code")]
    code: i64,
    #[serde(rename = "ackId")]
    ack_id: Option<u64>,
}

fn no_code() -> i64 {
    -1
}

#[derive(Deserialize)]
struct AckReply {
    acks: std::collections::HashMap<String, bool>,
}

/// A random RFC 4122 version-4 GUID from the process's random hasher keys.
fn new_channel() -> String {
    let random = |salt: u64| {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos()),
        );
        hasher.finish()
    };
    let (high, low) = (random(1), random(2));
    let bytes: Vec<u8> = high
        .to_be_bytes()
        .into_iter()
        .chain(low.to_be_bytes())
        .collect();
    let mut bytes: [u8; 16] = bytes.try_into().expect("16 bytes");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// One envelope: `time` is written as text, seconds with exactly six decimals,
/// because an f64 cannot hold epoch seconds to the microsecond reliably.
pub fn envelope(event: &Event, config: &SplunkHecSinkConfig) -> String {
    let instant = event.entry_timestamp;
    let time = format!(
        "{}.{:06}",
        instant.timestamp(),
        instant.timestamp_subsec_micros()
    );
    let text = |value: &str| serde_json::to_string(value).expect("strings serialise");
    let index = if config.index.is_empty() {
        String::new()
    } else {
        format!(",\"index\":{}", text(&config.index))
    };
    format!(
        "{{\"time\":{time},\"host\":{},\"source\":{},\"sourcetype\":{}{index},\"event\":{},\"fields\":{}}}",
        text(&event.system_name),
        text(&config.source),
        text(&config.sourcetype()),
        String::from_utf8(crate::format::encode(event, config.format)).expect("JSON is UTF-8"),
        serde_json::Value::Object(crate::format::cim::fields(event)),
    )
}

/// Splits envelopes into request bodies of at most `limit` bytes (one envelope
/// larger than the limit goes alone: it cannot be split).
pub fn split(envelopes: &[String], limit: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut body = String::new();
    for envelope in envelopes {
        if !body.is_empty() && body.len() + envelope.len() + 1 > limit {
            bodies.push(std::mem::take(&mut body));
        }
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(envelope);
    }
    if !body.is_empty() {
        bodies.push(body);
    }
    bodies
}

/// The HTTP client for this sink's settings, shared with every HEC sink of
/// the daemon built with the same (connections are pooled per host; each
/// sink keeps its own channel and acknowledgements).
fn http_client(
    config: &SplunkHecSinkConfig,
    endpoint: &str,
    clients: &Clients,
) -> Result<reqwest::Client, SinkError> {
    let material = crate::config::TlsMaterial::in_use(
        config.tls_material.as_ref(),
        config.tls_ca_file.is_some(),
        "tls_ca_file",
    )
    .map_err(|error| SinkError::permanent(format!("splunk_hec {endpoint}: {error}")))?;
    if !config.tls_verify {
        tracing::warn!(endpoint = %endpoint, "TLS VERIFICATION IS OFF for this Splunk HEC sink (tls_verify = false): anyone on the path can read and forge the audit trail; use tls_ca_file instead");
    }
    let settings = http_settings(config, &material);
    clients.http(settings.clone(), || {
        build_client(&settings).map_err(|error| {
            SinkError::permanent(format!(
                "splunk_hec {endpoint}: cannot build the HTTP client: {error}"
            ))
        })
    })
}

/// What the HTTP client of `config` is built from, with the CA `material`.
pub(crate) fn http_settings(config: &SplunkHecSinkConfig, material: &TlsMaterial) -> HttpSettings {
    HttpSettings {
        request_timeout: config.request_timeout,
        ca: material.ca.clone(),
        tls_verify: config.tls_verify,
    }
}

/// An HTTP client from its settings (no connection, no file).
pub(crate) fn build_client(settings: &HttpSettings) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .timeout(settings.request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!("auditfwd/", env!("CARGO_PKG_VERSION")));
    for certificate in settings.ca.iter().flatten() {
        builder = builder.add_root_certificate(reqwest::Certificate::from_der(certificate)?);
    }
    if !settings.tls_verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build()
}

impl HecSink {
    /// Builds the sink: its own channel, on the HTTP client `clients` holds for its settings;
    /// its ack poller runs under `spawner`'s supervisor.
    pub fn new(
        config: &SplunkHecSinkConfig,
        clients: &Clients,
        spawner: &Spawner,
    ) -> Result<HecSink, SinkError> {
        let mut config = config.clone();
        let endpoint = config.endpoint.trim_end_matches('/').to_owned();
        config.token = crate::config::secret_in_use(
            &config.token,
            config.token_file.as_deref(),
            config.token_from_file.as_ref(),
            "token_file",
        )
        .map_err(|error| SinkError::permanent(format!("splunk_hec {endpoint}: {error}")))?;
        let client = http_client(&config, &endpoint, clients)?;
        Ok(HecSink {
            config,
            client,
            channel: new_channel(),
            endpoint,
            acks: Arc::new(AckBoard::default()),
            spawner: spawner.clone(),
            poller: None,
        })
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(mut value) =
            HeaderValue::from_str(&format!("Splunk {}", self.config.token.expose()))
        {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        if let Ok(value) = HeaderValue::from_str(&self.channel) {
            headers.insert("X-Splunk-Request-Channel", value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers
    }

    /// Start-up check: `/services/collector/health`.
    pub async fn check(&mut self) -> Result<(), SinkError> {
        let url = format!("{}/services/collector/health", self.endpoint);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|error| self.network_error("health check", &error))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            tracing::info!(endpoint = %self.endpoint, channel = %self.channel, "Splunk HEC healthy");
            Ok(())
        } else {
            Err(SinkError::transient(format!(
                "splunk_hec {}: health check answered {status}: {}",
                self.endpoint,
                body.trim()
            )))
        }
    }

    /// Encodes and sends the batch, then waits for its acknowledgement.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        let encoded = self.encode(batch)?;
        self.send_encoded(&encoded).await?.await
    }

    /// The batch as request bodies: envelopes split to `max_batch_bytes`, each
    /// compressed when `compression = "gzip"`. Kept for resends instead of the
    /// events.
    pub fn encode(&self, batch: &EventBatch) -> Result<Encoded, SinkError> {
        let envelopes: Vec<String> = batch
            .events
            .iter()
            .map(|event| envelope(event, &self.config))
            .collect();
        let bodies = split(&envelopes, self.config.max_batch_bytes);
        drop(envelopes);
        let mut encoded = Vec::with_capacity(bodies.len());
        for body in bodies {
            if body.len() > self.config.max_batch_bytes {
                tracing::warn!(endpoint = %self.endpoint, bytes = body.len(), "one event is larger than max_batch_bytes; sent alone");
            }
            encoded.push(self.compress(body)?);
        }
        Ok(Encoded {
            id: batch.id,
            events: batch.events.len(),
            bodies: encoded,
        })
    }

    fn compress(&self, body: String) -> Result<Bytes, SinkError> {
        match self.config.compression {
            HecCompression::None => Ok(Bytes::from(body.into_bytes())),
            HecCompression::Gzip => {
                let mut encoder = GzEncoder::new(
                    Vec::with_capacity(body.len() / 4),
                    flate2::Compression::fast(),
                );
                encoder
                    .write_all(body.as_bytes())
                    .and_then(|()| encoder.finish())
                    .map(|mut bytes| {
                        bytes.shrink_to_fit();
                        Bytes::from(bytes)
                    })
                    .map_err(|error| {
                        SinkError::transient(format!(
                            "splunk_hec {}: gzip failed: {error}",
                            self.endpoint
                        ))
                    })
            }
        }
    }

    /// Sends the encoded batch and returns a future that completes once Splunk
    /// reports every part indexed. Later batches are sent meanwhile; one
    /// poller asks for all pending ackIds at once. After `ack_timeout` without
    /// an acknowledgement the future fails transiently and the pipeline sends
    /// the same bodies alone again.
    pub async fn send_encoded(&mut self, encoded: &Encoded) -> Result<super::Pending, SinkError> {
        let mut ack_ids = Vec::with_capacity(encoded.bodies.len());
        for body in &encoded.bodies {
            let ack = self.send(body.clone()).await?;
            if self.config.indexer_ack {
                let ack = ack.ok_or_else(|| {
                    SinkError::permanent(format!(
                        "splunk_hec {}: indexer_ack = true but the response carried no ackId: enable indexer acknowledgement on the HEC token, or set indexer_ack = false",
                        self.endpoint
                    ))
                })?;
                ack_ids.push(ack);
            }
        }
        if !self.config.indexer_ack || ack_ids.is_empty() {
            return Ok(Box::pin(std::future::ready(Ok(()))));
        }
        let mut answers = Vec::with_capacity(ack_ids.len());
        {
            let mut waiting = self.acks.lock();
            for id in &ack_ids {
                let (sender, receiver) = oneshot::channel();
                waiting.insert(*id, sender);
                answers.push(receiver);
            }
        }
        self.ensure_poller()?;
        let (board, timeout) = (self.acks.clone(), self.config.ack_timeout);
        let (endpoint, channel) = (self.endpoint.clone(), self.channel.clone());
        Ok(Box::pin(async move {
            let all = async {
                for answer in answers {
                    // A dropped sender means the board was cleared: not indexed.
                    answer.await.map_err(|_| ())?;
                }
                Ok::<(), ()>(())
            };
            match tokio::time::timeout(timeout, all).await {
                Ok(Ok(())) => Ok(()),
                _ => {
                    let mut waiting = board.lock();
                    for id in &ack_ids {
                        waiting.remove(id);
                    }
                    Err(SinkError::transient(format!(
                        "splunk_hec {endpoint}: no indexer acknowledgement within ack_timeout ({timeout:?}) for ackIds {ack_ids:?} on channel {channel}; sending the batch again"
                    )))
                }
            }
        }))
    }

    /// Starts the ack poller once (it needs the runtime, so not in `new`),
    /// under the run's supervisor: its panic or end fails the run there.
    fn ensure_poller(&mut self) -> Result<(), SinkError> {
        if self.poller.is_some() {
            return Ok(());
        }
        let poller = AckPoller {
            client: self.client.clone(),
            url: format!("{}/services/collector/ack", self.endpoint),
            headers: self.headers(),
            board: self.acks.clone(),
            interval: self.config.ack_poll_interval,
            endpoint: self.endpoint.clone(),
        };
        let name = format!(
            "splunk_hec {}: the indexer-acknowledgement poller",
            self.endpoint
        );
        let tether = self.spawner.spawn(name, poller.run()).map_err(|error| {
            SinkError::transient(format!(
                "splunk_hec {}: cannot start the indexer-acknowledgement poller: {error}",
                self.endpoint
            ))
        })?;
        self.poller = Some(tether);
        Ok(())
    }

    async fn send(&self, payload: Bytes) -> Result<Option<u64>, SinkError> {
        let url = format!("{}/services/collector/event", self.endpoint);
        let mut headers = self.headers();
        if self.config.compression == HecCompression::Gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let response = self
            .client
            .post(&url)
            .headers(headers)
            .body(payload)
            .send()
            .await
            .map_err(|error| self.network_error("send events", &error))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        let reply: Option<HecReply> = serde_json::from_str(&text).ok();
        if status.is_success() && reply.as_ref().is_some_and(|reply| reply.code == 0) {
            return Ok(reply.and_then(|reply| reply.ack_id));
        }
        Err(self.classify(status, reply.as_ref(), &text, retry_after))
    }

    fn network_error(&self, doing: &str, error: &reqwest::Error) -> SinkError {
        // reqwest's text names the URL, never the token (it is only in a header).
        let mut message = format!("splunk_hec {}: cannot {doing}: {error}", self.endpoint);
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        SinkError::transient(message)
    }

    /// By what happens next: 429, 503 and other 5xx retry; token and data errors
    /// are permanent, with the remedy.
    fn classify(
        &self,
        status: StatusCode,
        reply: Option<&HecReply>,
        body: &str,
        retry_after: Option<Duration>,
    ) -> SinkError {
        let (code, text) = reply.map_or((-1, body.trim().to_owned()), |reply| {
            (reply.code, reply.text.clone())
        });
        let endpoint = &self.endpoint;
        let said = format!("HTTP {status}, HEC code {code}: {text}");
        let remedy = match (status.as_u16(), code) {
            (429, _) | (503, _) | (500..=599, _) => {
                let mut error = SinkError::transient(format!("splunk_hec {endpoint}: {said}; retrying"));
                error.retry_after = retry_after;
                return error;
            }
            (401 | 403, _) | (_, 1..=4) => "the token was refused: check token / token_file, that the token is enabled, and that it may write to the index",
            (400, 10 | 11) => "the channel was refused: enable indexer acknowledgement on the token with indexer_ack = true, or disable it on both",
            (400, 14) => "indexer acknowledgement is disabled for this token: enable it, or set indexer_ack = false",
            (400, 7) => "the index is not allowed for this token or does not exist: check index",
            (400, _) => "Splunk rejected the events as invalid; they were not indexed",
            _ => {
                let mut error = SinkError::transient(format!("splunk_hec {endpoint}: unexpected answer, {said}; retrying"));
                error.retry_after = retry_after;
                return error;
            }
        };
        SinkError::permanent(format!("splunk_hec {endpoint}: {said}; {remedy}"))
    }
}

/// Polls `/services/collector/ack` for every pending ackId of the channel in
/// one request per `ack_poll_interval`, and wakes the deliveries whose ids
/// came back true. Errors are logged and polling goes on: a delivery that
/// never hears back fails by its own `ack_timeout`. Runs until its sink drops
/// the tether (the supervisor stops it then).
struct AckPoller {
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    board: Arc<AckBoard>,
    interval: Duration,
    endpoint: String,
}

impl AckPoller {
    async fn run(self) {
        // One poll per interval, not per interval plus the poll's own round trip:
        // every pending ack waits half an interval on average, whatever the RTT.
        let mut ticks = tokio::time::interval_at(
            tokio::time::Instant::now() + self.interval,
            self.interval,
        );
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            crate::failpoint::hit("sink.hec.ack_poll");
            let ids: Vec<u64> = self.board.lock().keys().copied().collect();
            if ids.is_empty() {
                continue;
            }
            let body = serde_json::json!({ "acks": ids }).to_string();
            let answer = self
                .client
                .post(&self.url)
                .headers(self.headers.clone())
                .body(body)
                .send()
                .await;
            let text = match answer {
                Ok(response) if response.status().is_success() => {
                    response.text().await.unwrap_or_default()
                }
                Ok(response) => {
                    tracing::warn!(endpoint = %self.endpoint, status = %response.status(), "acknowledgement poll refused; polling again");
                    continue;
                }
                Err(error) => {
                    tracing::warn!(endpoint = %self.endpoint, %error, "acknowledgement poll failed; polling again");
                    continue;
                }
            };
            let Ok(reply) = serde_json::from_str::<AckReply>(&text) else {
                tracing::warn!(endpoint = %self.endpoint, reply = %text.trim(), "unreadable acknowledgement reply; polling again");
                continue;
            };
            let mut waiting = self.board.lock();
            for (id, indexed) in reply.acks {
                if indexed {
                    if let Some(sender) = id.parse::<u64>().ok().and_then(|id| waiting.remove(&id)) {
                        let _ = sender.send(());
                    }
                }
            }
        }
    }
}

impl super::Component for HecSink {
    type Config = SplunkHecSinkConfig;

    fn build(
        config: &SplunkHecSinkConfig,
        clients: &Clients,
        spawner: &Spawner,
    ) -> Result<HecSink, SinkError> {
        HecSink::new(config, clients, spawner)
    }

    async fn check(&mut self) -> Result<(), SinkError> {
        HecSink::check(self).await
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        HecSink::deliver(self, batch).await
    }

    async fn start(&mut self, batch: &EventBatch) -> Result<super::Pending, SinkError> {
        let encoded = HecSink::encode(self, batch)?;
        self.send_encoded(&encoded).await
    }

    fn encode(&mut self, batch: &EventBatch) -> Option<Result<Encoded, SinkError>> {
        Some(HecSink::encode(self, batch))
    }

    async fn send(&mut self, encoded: &Encoded) -> Result<super::Pending, SinkError> {
        self.send_encoded(encoded).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_is_a_version_4_guid_and_differs_per_sink() {
        let channel = new_channel();
        assert_eq!(channel.len(), 36);
        assert_eq!(&channel[14..15], "4");
        assert!(matches!(&channel[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(channel, new_channel());
    }

    #[test]
    fn envelope_time_is_epoch_seconds_with_six_decimals_and_host_is_the_system() {
        let row = crate::enrich::tests::row("S", "INT", "QPADEV0001", Some("JSMITH"));
        let event = crate::enrich::Enricher::default().enrich(&row);
        let config = SplunkHecSinkConfig {
            index: "ibmi".into(),
            ..SplunkHecSinkConfig::default()
        };
        let text = envelope(&event, &config);
        assert!(text.starts_with("{\"time\":1775643330.000120,\"host\":\"PROD1\",\"source\":\"auditfwd\",\"sourcetype\":\"ibmi:audit:native\",\"index\":\"ibmi\",\"event\":{"), "{text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["event"]["event_id"], "PROD1:QGPL/AUDRCV0042:42");
        let without_index = envelope(&event, &SplunkHecSinkConfig::default());
        assert!(!without_index.contains("\"index\""));
    }

    #[test]
    fn split_keeps_bodies_under_the_limit_and_everything_in_order() {
        let envelopes: Vec<String> = (0..100)
            .map(|index| format!("{{\"event\":{index:04}}}"))
            .collect();
        let bodies = split(&envelopes, 100);
        assert!(bodies.iter().all(|body| body.len() <= 100));
        let joined: Vec<&str> = bodies.iter().flat_map(|body| body.split('\n')).collect();
        assert_eq!(
            joined,
            envelopes.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let huge = vec!["x".repeat(500)];
        assert_eq!(split(&huge, 100), huge);
    }
}
