//! Events per second from the simulator through the whole pipeline into a real
//! Kafka-protocol broker (tansu), next to a bare rdkafka producer: the limit to
//! approach. The bare producer is built from the very property list the sink
//! uses (`KafkaSinkConfig::client_properties`: idempotence, acks=all, zstd,
//! linger.ms, batch.size, message.timeout.ms) and sends pre-rendered records
//! with the same key (event id) and headers. Both topics are consumed back and
//! must hold exactly the expected event ids. Needs `tansu` on the PATH (or TANSU_BIN).
//!
//!     cargo bench --bench kafka            # BENCH_EVENTS=200000 by default

use testkit::bench as common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use auditfwd::sink::{KafkaSinkConfig, SinkConfig};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

use common::peers::Tansu;

fn sink_config(brokers: &str, topic: &str) -> KafkaSinkConfig {
    KafkaSinkConfig {
        brokers: brokers.into(),
        topic: topic.into(),
        ..KafkaSinkConfig::default()
    }
}

/// What the bare producer sends: key, payload and headers, rendered before the clock starts.
struct Record {
    key: String,
    payload: Vec<u8>,
    headers: OwnedHeaders,
}

fn render(events: u64) -> Vec<Record> {
    let simulator = auditfwd::source::config::SimulatorConfig {
        events_per_second: 0,
        ..Default::default()
    };
    let enricher = auditfwd::enrich::Enricher::default();
    (0..events)
        .map(|ordinal| {
            let event = enricher.enrich(&auditfwd::source::simulator::entry(&simulator, ordinal));
            let headers =
                auditfwd::sink::kafka::record_headers(&event, auditfwd::format::Format::Native);
            Record {
                key: event.event_id.clone(),
                payload: serde_json::to_vec(&event).expect("events serialise"),
                headers,
            }
        })
        .collect()
}

/// The bare producer: every record handed to librdkafka (waiting while its
/// queue is full), then every delivery report awaited. Events per second.
fn bare(runtime: &tokio::runtime::Runtime, brokers: &str, records: &[Record]) -> f64 {
    let mut client = ClientConfig::new();
    for (key, value) in sink_config(brokers, "bare").client_properties() {
        client.set(key, value);
    }
    let producer: FutureProducer = client.create().expect("producer");
    let started = Instant::now();
    runtime.block_on(async {
        let mut pending = Vec::with_capacity(records.len());
        for record in records {
            let mut future = FutureRecord::to("bare")
                .key(record.key.as_str())
                .payload(&record.payload)
                .headers(record.headers.clone());
            loop {
                match producer.send_result(future) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        future = returned;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    Err((error, _)) => panic!("bare producer: {error}"),
                }
            }
        }
        for delivery in pending {
            delivery.await.expect("report").expect("delivered");
        }
    });
    records.len() as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let events = common::knob("BENCH_EVENTS", 200_000);
    let dir = tempfile::tempdir().unwrap();
    let broker = Tansu::start(&dir.path().join("tansu.log"), &["pipeline", "bare"]);
    let brokers = broker.brokers();
    let runtime = common::runtime();
    let records = render(events);
    let expected: HashSet<String> = records.iter().map(|record| record.key.clone()).collect();
    assert_eq!(expected.len() as u64, events, "event ids are unique");

    // The whole daemon: simulator → enrich → Kafka sink, checkpoint commits included.
    let sink = SinkConfig::Kafka(sink_config(&brokers, "pipeline"));
    let pipeline_rate = common::events_per_second(common::simulator_into(dir.path(), events, sink));
    let bare_rate = bare(&runtime, &brokers, &records);

    let pipeline_check = common::check_topic(&broker, "pipeline", &expected, "the expected ids");
    let bare_check = common::check_topic(&broker, "bare", &expected, "the expected ids");
    println!(
        "machine: {} cores (shared); {events} events, tansu in memory on loopback; producer properties: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        sink_config(&brokers, "x")
            .client_properties()
            .iter()
            .filter(|(key, _)| key != "bootstrap.servers")
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "simulator → pipeline → Kafka: {pipeline_rate:.0} events/s; read back: {pipeline_check}"
    );
    println!("bare producer, same properties, pre-rendered: {bare_rate:.0} events/s; read back: {bare_check}");
    println!(
        "ratio pipeline/bare: {:.2} (target >= 0.80)",
        pipeline_rate / bare_rate
    );
}
