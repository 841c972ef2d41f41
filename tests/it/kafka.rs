//! The Kafka sink: fault injection with rdkafka's in-process MockCluster, and a
//! real Kafka-protocol broker (tansu) for end-to-end runs.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use auditfwd::app::{Outcome, RunError};
use auditfwd::pipeline::PermanentErrorPolicy;
use auditfwd::settings::Config;
use auditfwd::sink::{KafkaSinkConfig, SinkConfig};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::harness::in_process::simulator_into;
use crate::harness::{free_port, ConfigBuilder, Lab, Tansu};

/// The topic the Kafka tests write.
pub const TOPIC: &str = "ibmi.audit.js";

/// The simulator's `total` entries into a file sink (`events.ndjson` under
/// `state`, the reference) and a Kafka sink on `brokers`, state under `state`.
pub fn config(state: &std::path::Path, brokers: &str, total: u64) -> Config {
    let mut kafka = KafkaSinkConfig {
        brokers: brokers.into(),
        topic: TOPIC.into(),
        ..KafkaSinkConfig::default()
    };
    kafka.delivery_timeout = Duration::from_secs(20);
    let mut config = simulator_into(state, total, SinkConfig::Kafka(kafka));
    config.source.batch_rows = 100;
    config.pipeline.retry_initial_backoff = Duration::from_millis(50);
    config.pipeline.retry_max_backoff = Duration::from_millis(300);
    config.sinks.insert(
        0,
        SinkConfig::File(auditfwd::sink::FileSinkConfig {
            path: state.join("events.ndjson"),
            format: Default::default(),
        }),
    );
    config
}

pub use crate::harness::in_process::run_caught_up as run;

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
    // Every partition the broker reports (an auto-created topic may have several).
    let reported = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .ok()
        .and_then(|metadata| {
            metadata
                .topics()
                .iter()
                .find(|found| found.name() == topic)
                .map(|found| found.partitions().len() as i32)
        })
        .unwrap_or(partitions)
        .max(partitions);
    let mut assignment = TopicPartitionList::new();
    for partition in 0..reported {
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
        assert_eq!(
            headers,
            &[
                "format",
                "schema_version",
                "audit_type",
                "entry_type",
                "system_name"
            ]
        );
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

// ---------------------------------------------------------------- tansu, a real broker

fn kafka_config_file(
    workspace: &crate::harness::Workspace,
    brokers: &str,
    total: u64,
    events_per_second: u64,
) -> String {
    workspace.config(
        &ConfigBuilder::simulator(total, events_per_second)
            .source("batch_rows = 100\npoll_interval = \"200ms\"")
            .pipeline(
                "max_batches_in_flight = 2\nretry_initial_backoff = \"100ms\"\nretry_max_backoff = \"1s\"",
            )
            .table("telemetry", "listen = \"127.0.0.1:0\"")
            .file_sink("events.ndjson")
            .sink(&format!(
                "type = \"kafka\"\nbrokers = \"{brokers}\"\ntopic = \"{TOPIC}\"\ndelivery_timeout = \"2m\""
            )),
    )
}

#[test]
fn tansu_end_to_end_exact_ids_keys_and_schema() {
    let workspace = crate::harness::Workspace::new();
    let tansu = Tansu::start(&workspace.path("tansu.log"), &[TOPIC]);
    let config = kafka_config_file(&workspace, &tansu.brokers(), 1000, 0);
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&output)
    );
    let expected = crate::harness::ids(&workspace.events("events.ndjson"));
    let records = consume(&tansu.brokers(), TOPIC, 1, expected.len());
    let keys: Vec<String> = records.iter().map(|(key, _, _)| key.clone()).collect();
    assert_eq!(
        keys, expected,
        "exactly the expected ids, in order, keyed by event id"
    );
    assert_eq!(
        tansu.keys(TOPIC, expected.len()),
        expected,
        "the benches' read-back sees the same, and nothing more arrives"
    );
    let validator = crate::schema::schema_of(2);
    for (_, payload, _) in &records {
        assert!(validator.is_valid(payload), "{payload}");
    }
}

fn metric(workspace: &crate::harness::Workspace, name: &str) -> f64 {
    let started = Instant::now();
    while !workspace.log().contains("telemetry listening")
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = workspace.log();
    let port: u16 = log
        .lines()
        .filter(|line| line.contains("telemetry listening"))
        .find_map(|line| line.split("address=").nth(1))
        .and_then(|address| address.split_whitespace().next())
        .and_then(|address| address.rsplit(':').next())
        .and_then(|port| port.parse().ok())
        .expect("telemetry port in the log");
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|error| panic!("telemetry on port {port}: {error}\n{log}"));
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn tansu_unreachable_at_start_and_hung_mid_run_loses_nothing_and_memory_stays_bounded() {
    let workspace = crate::harness::Workspace::new();
    let port = free_port();
    let config = kafka_config_file(&workspace, &format!("127.0.0.1:{port}"), 4000, 1000);
    let mut daemon = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "the daemon gave up on a broker that is not there yet: {}",
        workspace.log()
    );
    let read_while_down = metric(&workspace, "auditfwd_rows_read_total");
    assert!(
        read_while_down <= 500.0,
        "the source kept reading while nothing could be delivered: {read_while_down}"
    );
    let tansu = Tansu::start_on(port, &workspace.path("tansu.log"), &[TOPIC]);
    std::thread::sleep(Duration::from_millis(1500));
    // The broker hangs for longer than a retry cycle.
    tansu.signal("STOP");
    std::thread::sleep(Duration::from_millis(1500));
    let first = metric(&workspace, "auditfwd_rows_read_total");
    std::thread::sleep(Duration::from_millis(1500));
    let second = metric(&workspace, "auditfwd_rows_read_total");
    let committed = metric(&workspace, "auditfwd_batches_committed_total");
    tansu.signal("CONT");
    assert!(
        second - first <= 400.0,
        "reading went on while the broker hung: {first} → {second}"
    );
    let (status, _) = crate::harness::wait_with_limit(&mut daemon, Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    assert!(
        committed < 40.0,
        "the run was not mid-stream when the broker hung ({committed} batches committed)"
    );
    let expected = crate::harness::ids(&workspace.events("events.ndjson"));
    let distinct: HashSet<&String> = expected.iter().collect();
    assert_eq!(distinct.len(), 4000);
    let records = consume(&tansu.brokers(), TOPIC, 1, expected.len());
    let got: Vec<String> = records.into_iter().map(|(key, _, _)| key).collect();
    let got_set: HashSet<&String> = got.iter().collect();
    let lost = distinct.difference(&got_set).count();
    assert_eq!(
        lost,
        0,
        "{lost} of {} events lost ({} records read)",
        distinct.len(),
        got.len()
    );
    assert!(
        got.len() - got_set.len() <= 100,
        "{} duplicates: more than one batch",
        got.len() - got_set.len()
    );
}

#[test]
fn tansu_from_the_odbc_lab_delivers_exactly_the_journal() {
    let lab = Lab::new("kafka");
    lab.sql("SELECT lab.generate(3000, 3, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', 1000)");
    let expected = lab.all_ids("TRUE");
    assert_eq!(expected.len(), 3000);
    let workspace = crate::harness::Workspace::new();
    let tansu = Tansu::start(&workspace.path("tansu.log"), &[TOPIC]);
    // The journal read exactly: no derived session events.
    let config = workspace.lab_config(
        &crate::harness::ConfigBuilder::lab(&lab)
            .without_sessions()
            .source("batch_rows = 500")
            .odbc("exclude_own_connections = false")
            .every_entry()
            .sink(&format!(
                "type = \"kafka\"\nbrokers = \"{}\"\ntopic = \"{TOPIC}\"",
                tansu.brokers()
            )),
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::harness::stderr(&output)
    );
    let keys: Vec<String> = consume(&tansu.brokers(), TOPIC, 1, expected.len())
        .into_iter()
        .map(|(key, _, _)| key)
        .collect();
    assert_eq!(keys.len(), expected.len(), "record count");
    assert!(
        keys == expected,
        "the records are not the journal's ids in journal order"
    );
}
