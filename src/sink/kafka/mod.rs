//! Kafka with librdkafka: idempotent, `acks=all`, keyed by `event_id`. A batch is
//! acknowledged only when every record of it is acknowledged by the brokers;
//! a full local queue (`QueueFull`) means wait, not fail.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

pub(crate) mod config;

use self::config::{AlertRouting, KafkaSinkConfig};
use super::{Clients, SinkError};
use crate::event::{Event, EventBatch, Severity};

/// Produces each event as one record keyed by its event id, through a producer
/// shared with the daemon's other Kafka sinks of the same properties.
pub struct KafkaSink {
    config: KafkaSinkConfig,
    /// Shared with every sink of the daemon built with the same properties:
    /// each record's delivery report comes back through its own future, so
    /// each system still sees only its own.
    producer: Arc<FutureProducer>,
    name: String,
}

impl KafkaSink {
    /// Builds the sink on the producer `clients` holds for its properties (made if none).
    pub fn new(config: &KafkaSinkConfig, clients: &Clients) -> Result<KafkaSink, SinkError> {
        let name = format!("kafka {} at {}", config.topic, config.brokers);
        // One list of properties, shared with the load-time check
        // (`KafkaSinkConfig::client_properties`): defaults, then [sinks.librdkafka].
        let mut properties = config.client_properties();
        let loosened = config
            .librdkafka
            .get("acks")
            .is_some_and(|acks| acks != "all" && acks != "-1")
            || config
                .librdkafka
                .get("enable.idempotence")
                .is_some_and(|value| value == "false");
        if loosened {
            tracing::warn!(sink = %name, "librdkafka overrides loosen delivery (acks other than all, or enable.idempotence = false): acknowledged records can be lost or duplicated by the broker");
        }
        let password = crate::config::secret_in_use(
            &config.sasl_password,
            config.sasl_password_file.as_deref(),
            config.sasl_password_from_file.as_ref(),
            "sasl_password_file",
        )
        .map_err(|error| SinkError::permanent(format!("{name}: {error}")))?;
        let password = (!password.is_empty()).then_some(password);
        if let Some(password) = password {
            // Part of the key too: other credentials, another producer.
            properties.push(("sasl.password".into(), password.expose().to_owned()));
        }
        let producer = clients.producer(properties).map_err(|error| {
            SinkError::permanent(format!(
                "{name}: invalid producer configuration: {error}; check sinks[].librdkafka"
            ))
        })?;
        Ok(KafkaSink {
            config: config.clone(),
            producer,
            name,
        })
    }

    /// Start-up check: metadata for the topic(s), reported before reading the journal.
    pub async fn check(&mut self) -> Result<(), SinkError> {
        let mut topics = vec![self.config.topic.clone()];
        if !self.config.alert_topic.is_empty() {
            topics.push(self.config.alert_topic.clone());
        }
        for topic in topics {
            let producer = Arc::clone(&self.producer);
            let wanted = topic.clone();
            let metadata = tokio::task::spawn_blocking(move || {
                producer
                    .client()
                    .fetch_metadata(Some(&wanted), Duration::from_secs(10))
            })
            .await
            .map_err(|error| {
                SinkError::transient(format!("{}: metadata task failed: {error}", self.name))
            })?
            .map_err(|error| self.classify(&error, &topic))?;
            match metadata.topics().iter().find(|found| found.name() == topic) {
                Some(found) => match found.error() {
                    None => {
                        tracing::info!(sink = %self.name, topic = %topic, partitions = found.partitions().len(), brokers = metadata.brokers().len(), "Kafka topic ready");
                    }
                    Some(error) => {
                        let code = RDKafkaErrorCode::from(error);
                        let error = KafkaError::MetadataFetch(code);
                        if matches!(
                            code,
                            RDKafkaErrorCode::UnknownTopicOrPartition
                                | RDKafkaErrorCode::UnknownTopic
                        ) {
                            // It may be created (or auto-created) before the first delivery;
                            // if it is not, deliveries fail for good and say so.
                            tracing::warn!(sink = %self.name, topic = %topic, "the brokers do not know the topic yet: create it, or enable auto-creation");
                        } else {
                            return Err(self.classify(&error, &topic));
                        }
                    }
                },
                None => {
                    tracing::warn!(sink = %self.name, topic = %topic, "the brokers do not list the topic yet; deliveries will tell");
                }
            }
        }
        Ok(())
    }

    fn topics_for(&self, event: &Event) -> Vec<&str> {
        let alert = event.privileged || event.severity >= Severity::High;
        match (
            alert && !self.config.alert_topic.is_empty(),
            self.config.alert_routing,
        ) {
            (false, _) => vec![self.config.topic.as_str()],
            (true, AlertRouting::Copy) => {
                vec![self.config.topic.as_str(), self.config.alert_topic.as_str()]
            }
            (true, AlertRouting::Move) => vec![self.config.alert_topic.as_str()],
        }
    }

    /// Sends the batch and waits until the brokers acknowledged every record.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        self.start(batch).await?.await
    }

    /// Hands every record of the batch to librdkafka (waiting while its local
    /// queue is full) and returns a future, owning nothing of the sink, that
    /// completes when every delivery report is back: the next batch can be
    /// produced meanwhile, and librdkafka pipelines them.
    pub async fn start(&mut self, batch: &EventBatch) -> Result<super::Pending, SinkError> {
        let mut pending = Vec::with_capacity(batch.events.len());
        for event in &batch.events {
            let payload = crate::format::encode(event, self.config.format);
            for topic in self.topics_for(event) {
                let headers = record_headers(event, self.config.format);
                let mut record = FutureRecord::to(topic)
                    .key(event.event_id.as_str())
                    .payload(&payload)
                    .headers(headers);
                loop {
                    match self.producer.send_result(record) {
                        Ok(delivery) => {
                            pending.push((topic.to_owned(), delivery));
                            break;
                        }
                        // The local queue is full: wait for deliveries to drain it (backpressure).
                        Err((
                            KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
                            returned,
                        )) => {
                            record = returned;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        Err((error, _)) => return Err(self.classify(&error, topic)),
                    }
                }
            }
        }
        let name = self.name.clone();
        Ok(Box::pin(async move { await_reports(&name, pending).await }))
    }

    /// Flushes what librdkafka still holds, within `grace`, when no other
    /// sink uses the producer. A shared one is left to the others: this
    /// system's records it still holds belong to no acknowledged batch, and
    /// a flush would wait for the other systems' records too.
    pub fn flush(&self, grace: Duration) {
        if Arc::strong_count(&self.producer) > 1 {
            return;
        }
        if let Err(error) = self.producer.flush(grace) {
            tracing::warn!(sink = %self.name, %error, "Kafka producer flush at shutdown did not finish");
        }
    }

    fn classify(&self, error: &KafkaError, topic: &str) -> SinkError {
        classify(&self.name, error, topic)
    }
}

/// Awaits every delivery report of one batch; the first permanent error wins.
async fn await_reports(
    name: &str,
    pending: Vec<(String, rdkafka::producer::DeliveryFuture)>,
) -> Result<(), SinkError> {
        let mut first_error = None;
        for (topic, delivery) in pending {
            let outcome = match delivery.await {
                Ok(Ok(_)) => None,
                Ok(Err((error, _))) => Some(classify(name, &error, &topic)),
                Err(_) => Some(SinkError::transient(format!(
                    "{name}: the producer dropped a delivery report"
                ))),
            };
            // Await every report before answering, so nothing of this batch is still in flight.
            if let Some(error) = outcome {
                if first_error
                    .as_ref()
                    .is_none_or(|first: &SinkError| first.kind == super::ErrorKind::Transient)
                {
                    first_error = Some(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
}

/// By what happens next: authorization, unknown topic, oversize records and
/// refused credentials are permanent, with the remedy; the rest retries.
fn classify(name: &str, error: &KafkaError, topic: &str) -> SinkError {
        use RDKafkaErrorCode as Code;
        let code = error.rdkafka_error_code();
        let remedy = match code {
            Some(Code::TopicAuthorizationFailed | Code::ClusterAuthorizationFailed) => {
                format!("the principal may not write to topic {topic}: grant WRITE (and IDEMPOTENT_WRITE on the cluster) in the broker's ACLs")
            }
            Some(Code::UnknownTopicOrPartition | Code::UnknownTopic) => {
                format!("topic {topic} does not exist and the brokers do not create it: create it, or enable auto-creation")
            }
            Some(Code::MessageSizeTooLarge | Code::InvalidMessageSize | Code::MessageBatchTooLarge) => {
                "a record is larger than the broker or topic allows: raise max.message.bytes on the topic (and message.max.bytes in sinks[].librdkafka)".into()
            }
            Some(Code::SaslAuthenticationFailed | Code::Authentication) => {
                "the brokers refused the credentials: check sasl.username, the SASL password and sasl.mechanism".into()
            }
            Some(Code::InvalidTopic | Code::PolicyViolation | Code::InvalidRecord | Code::InvalidConfig | Code::UnsupportedVersion | Code::InvalidArgument) => {
                "the brokers reject these records or settings: see the broker's log".into()
            }
            _ => return SinkError::transient(format!("{name}: {error}; retrying")),
        };
        SinkError::permanent(format!("{name}: {error}; {remedy}"))
}

impl super::Component for KafkaSink {
    type Config = KafkaSinkConfig;

    fn build(
        config: &KafkaSinkConfig,
        clients: &Clients,
        _spawner: &super::Spawner,
    ) -> Result<KafkaSink, SinkError> {
        KafkaSink::new(config, clients)
    }

    async fn check(&mut self) -> Result<(), SinkError> {
        KafkaSink::check(self).await
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        KafkaSink::deliver(self, batch).await
    }

    async fn start(&mut self, batch: &EventBatch) -> Result<super::Pending, SinkError> {
        KafkaSink::start(self, batch).await
    }

    fn shutdown(&self, grace: std::time::Duration) {
        self.flush(grace);
    }
}

/// The headers of every record, for routing without parsing the payload:
/// `format` (native, ecs, ocsf), `schema_version` (of the native layout the
/// event was made for), `audit_type` (JS, PW, ...; empty on auditfwd's own
/// events), `entry_type` (the entry's code: JS's entry type, PW's violation
/// type, ...), `system_name`.
pub fn record_headers(event: &crate::event::Event, format: crate::format::Format) -> OwnedHeaders {
    let schema = event.schema_version.to_string();
    OwnedHeaders::new()
        .insert(Header {
            key: "format",
            value: Some(format.name()),
        })
        .insert(Header {
            key: "schema_version",
            value: Some(schema.as_str()),
        })
        .insert(Header {
            key: "audit_type",
            value: Some(event.audit_type.unwrap_or_default()),
        })
        .insert(Header {
            key: "entry_type",
            value: Some(event.code().unwrap_or_default()),
        })
        .insert(Header {
            key: "system_name",
            value: Some(event.system_name.as_str()),
        })
}

#[cfg(test)]
mod tests {
    /// The headers say what the payload is, for every type and format.
    #[test]
    fn headers_name_format_schema_type_and_code() {
        use rdkafka::message::Headers;
        let local = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let mut row = crate::event::JournalRow::bare("PROD1", "QGPL", "R", 7, local, local.and_utc());
        let spec = &crate::event::audit::catalog::PW;
        row.details = Some(crate::event::audit::Details {
            spec,
            values: spec
                .columns
                .iter()
                .map(|column| match column.name {
                    "VIOLATION_TYPE" => crate::event::audit::Value::Text("P".into()),
                    _ => crate::event::audit::Value::Null,
                })
                .collect(),
        });
        let event = crate::enrich::Enricher::default().enrich_owned(row);
        let headers = record_headers(&event, crate::format::Format::Ocsf);
        let values: Vec<(String, String)> = headers
            .iter()
            .map(|header| {
                (
                    header.key.to_owned(),
                    String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = [
            ("format", "ocsf"),
            ("schema_version", "2"),
            ("audit_type", "PW"),
            ("entry_type", "P"),
            ("system_name", "PROD1"),
        ]
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
        assert_eq!(values, expected);
    }

    use super::*;
    use crate::enrich::tests::row;
    use crate::enrich::Enricher;

    fn sink(alert_topic: &str, alert_routing: AlertRouting) -> KafkaSink {
        // Creating a producer connects lazily: no broker is needed here.
        KafkaSink::new(
            &KafkaSinkConfig {
                brokers: "127.0.0.1:1".into(),
                topic: "main".into(),
                alert_topic: alert_topic.into(),
                alert_routing,
                ..KafkaSinkConfig::default()
            },
            &Clients::default(),
        )
        .unwrap()
    }

    /// The systems of a fleet with the same brokers and settings share one
    /// producer, whatever their topics; other brokers or other credentials
    /// get their own, and the producer goes with its last sink.
    #[test]
    fn systems_with_the_same_client_share_one_producer() {
        let clients = Clients::new(3);
        let build = |brokers: &str, topic: &str, password: &str| {
            let config = KafkaSinkConfig {
                brokers: brokers.into(),
                topic: topic.into(),
                sasl_password: crate::config::Secret::new(password),
                ..KafkaSinkConfig::default()
            };
            KafkaSink::new(&config, &clients).unwrap()
        };
        let first = build("127.0.0.1:1", "one", "");
        let second = build("127.0.0.1:1", "two", "");
        assert!(Arc::ptr_eq(&first.producer, &second.producer));
        assert_eq!(Arc::strong_count(&first.producer), 2);
        let elsewhere = build("127.0.0.1:2", "one", "");
        let other_user = build("127.0.0.1:1", "one", "other");
        assert!(!Arc::ptr_eq(&first.producer, &elsewhere.producer));
        assert!(!Arc::ptr_eq(&first.producer, &other_user.producer));
        assert_eq!(Arc::strong_count(&first.producer), 2);
        let weak = Arc::downgrade(&first.producer);
        drop((first, second));
        assert_eq!(weak.strong_count(), 0);
        let again = build("127.0.0.1:1", "one", "");
        assert_eq!(Arc::strong_count(&again.producer), 1);
    }

    #[test]
    fn alerts_are_copied_or_moved_to_the_alert_topic() {
        let enricher = Enricher::new(&crate::enrich::config::AlertsConfig::default());
        let ordinary = enricher.enrich(&row("S", "INT", "QPADEV0001", Some("JSMITH")));
        let privileged = enricher.enrich(&row("S", "INT", "QPADEV0001", Some("QSECOFR")));
        let none = sink("", AlertRouting::Copy);
        assert_eq!(none.topics_for(&privileged), ["main"]);
        let copy = sink("alerts", AlertRouting::Copy);
        assert_eq!(copy.topics_for(&ordinary), ["main"]);
        assert_eq!(copy.topics_for(&privileged), ["main", "alerts"]);
        let moved = sink("alerts", AlertRouting::Move);
        assert_eq!(moved.topics_for(&privileged), ["alerts"]);
    }
}
