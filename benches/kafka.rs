//! Events per second from the simulator through the whole pipeline into a real
//! Kafka-protocol broker (tansu), next to a bare rdkafka producer sending the same
//! number of pre-rendered lines with the same acks and idempotence: the limit to
//! approach. Needs `tansu` on the PATH (or TANSU_BIN).
//!
//!     cargo bench --bench kafka            # BENCH_EVENTS=50000 by default

mod common;

use std::time::{Duration, Instant};

use auditfwd::sink::{KafkaSinkConfig, SinkConfig};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

use common::peers::Tansu;

fn main() {
    let events = common::knob("BENCH_EVENTS", 50_000);
    let dir = tempfile::tempdir().unwrap();
    let broker = Tansu::start(&dir.path().join("tansu.log"), &["pipeline", "bare"]);
    let brokers = broker.brokers();
    let runtime = common::runtime();

    // The whole daemon: simulator → enrich → Kafka sink, checkpoint commits included.
    let sink = SinkConfig::Kafka(KafkaSinkConfig {
        brokers: brokers.clone(),
        topic: "pipeline".into(),
        ..KafkaSinkConfig::default()
    });
    let pipeline_rate = common::events_per_second(common::simulator_into(dir.path(), events, sink));

    // A bare producer: the same number of pre-rendered events, same settings.
    let lines: Vec<(String, Vec<u8>)> = {
        let simulator = auditfwd::source::config::SimulatorConfig {
            events_per_second: 0,
            ..Default::default()
        };
        let enricher = auditfwd::enrich::Enricher::default();
        (0..events)
            .map(|ordinal| {
                let event =
                    enricher.enrich(&auditfwd::source::simulator::entry(&simulator, ordinal));
                (event.event_id.clone(), serde_json::to_vec(&event).unwrap())
            })
            .collect()
    };
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "zstd")
        .create()
        .unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let mut pending = Vec::with_capacity(lines.len());
        for (key, payload) in &lines {
            let mut record = FutureRecord::to("bare").key(key.as_str()).payload(payload);
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((_, returned)) => {
                        record = returned;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
        }
        for delivery in pending {
            delivery.await.unwrap().unwrap();
        }
    });
    let bare_rate = events as f64 / started.elapsed().as_secs_f64();
    drop(broker);
    println!("simulator → pipeline → Kafka: {pipeline_rate:.0} events/s ({events} events)");
    println!("bare rdkafka producer:         {bare_rate:.0} events/s ({events} events)");
    println!("ratio bare/pipeline: {:.2}x", bare_rate / pipeline_rate);
}
