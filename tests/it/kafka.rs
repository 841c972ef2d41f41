//! The Kafka sink: fault injection with rdkafka's in-process MockCluster, and a
//! real Kafka-protocol broker (tansu) for end-to-end runs.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use auditfwd::config::{Config, FilterConfig, KafkaSinkConfig, PermanentErrorPolicy, SinkConfig};
use auditfwd::pipeline::{self, Outcome, RunError, RunOptions};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

pub const TOPIC: &str = "ibmi.audit.js";

pub fn config(state: &std::path::Path, brokers: &str, total: u64) -> Config {
    let mut config = Config::default();
    config.source.batch_rows = 100;
    config.source.simulator.total_events = total;
    config.source.simulator.events_per_second = 0;
    config.filter = FilterConfig {
        entry_types: vec![],
        include_users: vec![],
        exclude_users: vec![],
    };
    config.state.dir = state.join("data");
    config.pipeline.retry_initial_backoff = Duration::from_millis(50);
    config.pipeline.retry_max_backoff = Duration::from_millis(300);
    let mut kafka = KafkaSinkConfig {
        brokers: brokers.into(),
        topic: TOPIC.into(),
        ..KafkaSinkConfig::default()
    };
    kafka.delivery_timeout = Duration::from_secs(20);
    config.sinks = vec![
        SinkConfig::File(auditfwd::config::FileSinkConfig {
            path: state.join("events.ndjson"),
        }),
        SinkConfig::Kafka(kafka),
    ];
    config
}

pub fn run(config: Config) -> Result<Outcome, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(pipeline::run(
        config,
        RunOptions {
            exit_when_caught_up: true,
        },
        std::future::pending(),
    ))
}

/// Every record of `topic` (partition 0..partitions), read from the beginning.
pub fn consume(
    brokers: &str,
    topic: &str,
    partitions: i32,
    expected: usize,
) -> Vec<(String, serde_json::Value, Vec<String>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "auditfwd-test")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment
            .add_partition_offset(topic, partition, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut records = Vec::new();
    let started = Instant::now();
    while records.len() < expected && started.elapsed() < Duration::from_secs(30) {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
            let payload: serde_json::Value =
                serde_json::from_slice(message.payload().unwrap_or_default())
                    .expect("JSON payload");
            let headers = message
                .headers()
                .map(|headers| headers.iter().map(|header| header.key.to_owned()).collect())
                .unwrap_or_default();
            records.push((key, payload, headers));
        }
    }
    records
}

fn mock_cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster.create_topic(TOPIC, 1, 1).expect("topic");
    cluster
}

#[test]
fn mock_transient_broker_errors_are_retried_and_nothing_is_lost() {
    let cluster = mock_cluster();
    let brokers = cluster.bootstrap_servers();
    let errors = [
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
    ];
    cluster.request_errors(RDKafkaApiKey::Produce, &errors);
    let state = tempfile::tempdir().unwrap();
    let outcome = run(config(state.path(), &brokers, 500)).expect("run");
    assert_eq!(outcome, Outcome::Drained);
    let expected: HashSet<String> = crate::harness::ids(&crate::harness::read_events(
        &state.path().join("events.ndjson"),
    ))
    .into_iter()
    .collect();
    assert_eq!(expected.len(), 500);
    let records = consume(&brokers, TOPIC, 1, 500);
    let got: HashSet<String> = records.iter().map(|(key, _, _)| key.clone()).collect();
    assert_eq!(got, expected, "every event, keyed by its id");
    for (key, payload, headers) in &records {
        assert_eq!(payload["event_id"].as_str(), Some(key.as_str()));
        assert_eq!(headers, &["schema_version", "entry_type", "system_name"]);
    }
}

#[test]
fn mock_permanent_error_stops_and_the_checkpoint_does_not_advance() {
    let cluster = mock_cluster();
    let brokers = cluster.bootstrap_servers();
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 50],
    );
    let state = tempfile::tempdir().unwrap();
    let error =
        run(config(state.path(), &brokers, 300)).expect_err("a refused topic stops the daemon");
    let message = error.to_string();
    assert!(
        matches!(error, RunError::PermanentDelivery { .. }),
        "{message}"
    );
    assert!(
        message.contains(TOPIC) && message.contains("ACL"),
        "names the topic and the remedy: {message}"
    );
    let store = auditfwd::checkpoint::CheckpointStore::open(&state.path().join("data")).unwrap();
    assert_eq!(
        store.load().unwrap(),
        None,
        "nothing was delivered to Kafka, so nothing is committed"
    );
}

#[test]
fn mock_permanent_error_with_dead_letter_policy_sets_batches_aside() {
    let cluster = mock_cluster();
    let brokers = cluster.bootstrap_servers();
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 2],
    );
    let state = tempfile::tempdir().unwrap();
    let mut config = config(state.path(), &brokers, 300);
    config.pipeline.on_permanent_error = PermanentErrorPolicy::DeadLetter;
    config.pipeline.dead_letter_path = state.path().join("dead.ndjson");
    assert_eq!(run(config).expect("run"), Outcome::Drained);
    let dead: HashSet<String> = crate::harness::read_events(&state.path().join("dead.ndjson"))
        .iter()
        .map(|line| line["event"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    let delivered: HashSet<String> = consume(&brokers, TOPIC, 1, 300 - dead.len())
        .into_iter()
        .map(|(key, _, _)| key)
        .collect();
    let all: HashSet<String> = crate::harness::ids(&crate::harness::read_events(
        &state.path().join("events.ndjson"),
    ))
    .into_iter()
    .collect();
    assert!(!dead.is_empty());
    assert_eq!(dead.union(&delivered).cloned().collect::<HashSet<_>>(), all);
}

#[test]
fn kafka_sasl_password_is_redacted_and_required_keys_are_checked() {
    let workspace = crate::harness::Workspace::new();
    let file = workspace.write(
        "kafka.toml",
        "[[sinks]]\ntype = \"kafka\"\nbrokers = \"k:9093\"\ntopic = \"t\"\nsasl_password = \"s3cret-sasl\"\n[sinks.librdkafka]\n\"sasl.username\" = \"auditfwd\"\n\"ssl.key.password\" = \"s3cret-key\"\n",
    );
    let output = workspace.run(&["check-config", "-c", file.to_str().unwrap()]);
    let text = crate::harness::stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&output)
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("\"sasl.username\" = \"auditfwd\""), "{text}");
    let file = workspace.write(
        "bad.toml",
        "[[sinks]]\ntype = \"kafka\"\nbrokers = \"\"\ntopic = \"t\"\n",
    );
    let output = workspace.run(&["check-config", "-c", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    assert!(crate::harness::stderr(&output).contains("sinks[0].brokers"));
}
