//! The heavy clients under the sinks, shared by the systems of one daemon:
//! one Kafka producer per set of librdkafka properties, one HTTP client per
//! set of Splunk HEC client settings. Each system keeps its own sink (topic,
//! channel, ordering, in-flight bound, ledger); only the client is shared.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::producer::FutureProducer;

/// librdkafka's own defaults for its local queue limits, and their maximum.
const QUEUE_MESSAGES: (&str, u64) = ("queue.buffering.max.messages", 100_000);
const QUEUE_KBYTES: (&str, u64) = ("queue.buffering.max.kbytes", 1_048_576);
const QUEUE_LIMIT_MAX: u64 = 2_147_483_647;

/// A producer's librdkafka properties, in order.
type Properties = Vec<(String, String)>;

/// What a Splunk HEC sink's HTTP client is built from.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct HttpSettings {
    pub request_timeout: Duration,
    /// The certificates of `tls_ca_file`, as loaded.
    pub ca: Option<Vec<rustls_pki_types::CertificateDer<'static>>>,
    pub tls_verify: bool,
}

/// The clients of one daemon (a fleet's, or a single run's own).
pub struct Clients {
    /// Systems that may share a client: the shared producer's local queue
    /// holds what each one's own producer would have held, times this.
    systems: usize,
    /// By properties (the SASL password among them); weak, so the producer
    /// goes with its last sink.
    producers: Mutex<HashMap<Properties, Weak<FutureProducer>>>,
    http: Mutex<HashMap<HttpSettings, reqwest::Client>>,
}

impl Default for Clients {
    fn default() -> Self {
        Clients::new(1)
    }
}

impl Clients {
    /// Clients for a daemon of `systems` systems (at least 1).
    pub fn new(systems: usize) -> Clients {
        Clients {
            systems: systems.max(1),
            producers: Mutex::default(),
            http: Mutex::default(),
        }
    }

    /// The producer for these properties: the one already made, or a new one.
    pub(crate) fn producer(
        &self,
        properties: Properties,
    ) -> Result<Arc<FutureProducer>, KafkaError> {
        let mut producers = self
            .producers
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(producer) = producers.get(&properties).and_then(Weak::upgrade) {
            return Ok(producer);
        }
        let mut client = ClientConfig::new();
        for (key, value) in &properties {
            client.set(key, value);
        }
        if self.systems > 1 {
            for (key, default) in [QUEUE_MESSAGES, QUEUE_KBYTES] {
                // librdkafka checked the value at load; one it took that is
                // not a whole number is refused, not replaced by the default.
                let each = match client.get(key) {
                    None => default,
                    Some(value) => value.trim().parse::<u64>().map_err(|_| {
                        KafkaError::ClientCreation(format!(
                            "librdkafka property {key} is not a whole number, so the queue it bounds cannot be shared by {} systems",
                            self.systems
                        ))
                    })?,
                };
                let all = each
                    .saturating_mul(self.systems as u64)
                    .min(QUEUE_LIMIT_MAX);
                client.set(key, all.to_string());
            }
        }
        let producer = Arc::new(client.create::<FutureProducer>()?);
        producers.retain(|_, known| known.strong_count() > 0);
        producers.insert(properties, Arc::downgrade(&producer));
        Ok(producer)
    }

    /// The HTTP client for these settings: the one already made, or `build`'s.
    pub(crate) fn http<E>(
        &self,
        settings: HttpSettings,
        build: impl FnOnce() -> Result<reqwest::Client, E>,
    ) -> Result<reqwest::Client, E> {
        let mut clients = self
            .http
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(client) = clients.get(&settings) {
            return Ok(client.clone());
        }
        let client = build()?;
        clients.insert(settings, client.clone());
        Ok(client)
    }
}
