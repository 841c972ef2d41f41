//! tansu, a real Kafka-protocol broker, in memory, on a port of its own.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::{free_port, wait_for_listener};

/// A running tansu broker; killed when the value drops.
pub struct Tansu {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Tansu {
    /// `tansu` on the PATH or TANSU_BIN; fails with how to install it.
    pub fn binary() -> String {
        let binary = std::env::var("TANSU_BIN").unwrap_or_else(|_| "tansu".into());
        let works = Command::new(&binary)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success());
        assert!(
            works,
            "the tansu broker is missing: `cargo install tansu --locked --features dynostore` \
             (bash .ci/setup does), or set TANSU_BIN"
        );
        binary
    }

    /// A broker on a fresh port with `topics` (one partition each); its stderr
    /// goes to `log`.
    pub fn start(log: &Path, topics: &[&str]) -> Tansu {
        Tansu::start_on(free_port(), log, topics)
    }

    /// A broker on `port` (a test that must know the port before the broker runs).
    pub fn start_on(port: u16, log: &Path, topics: &[&str]) -> Tansu {
        let binary = Tansu::binary();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("tansu log file"))
            .spawn()
            .expect("start tansu");
        // Dropped on a failed wait below, so no broker outlives its test.
        let tansu = Tansu { child, port };
        wait_for_listener("tansu", port, Duration::from_secs(20));
        for topic in topics {
            let created = Command::new(&binary)
                .args([
                    "topic",
                    "create",
                    topic,
                    "--partitions",
                    "1",
                    "--broker",
                    &url,
                ])
                .output()
                .expect("tansu topic create");
            // A client that asked for the topic's metadata first may have had it
            // auto-created already; then creating it again fails, which is fine.
            if !created.status.success() {
                eprintln!(
                    "tansu topic create {topic}: {}{}",
                    String::from_utf8_lossy(&created.stdout),
                    String::from_utf8_lossy(&created.stderr)
                );
            }
        }
        tansu
    }

    /// `host:port` for `bootstrap.servers` / the sink's `brokers`.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The key of every record of `topic` (one partition), read from the
    /// beginning until `expected` came and 3 s more brought nothing (so a
    /// surplus shows), or 60 s passed.
    pub fn keys(&self, topic: &str, expected: usize) -> Vec<String> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        use rdkafka::{Message, Offset, TopicPartitionList};
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", self.brokers())
            .set("group.id", "auditfwd-read-back")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, 0, Offset::Beginning)
            .expect("partition 0");
        consumer.assign(&assignment).expect("assign");
        let mut keys = Vec::with_capacity(expected);
        let started = std::time::Instant::now();
        let mut last_record = started;
        while started.elapsed() < Duration::from_secs(60)
            && (keys.len() < expected || last_record.elapsed() < Duration::from_secs(3))
        {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                keys.push(String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned());
                last_record = std::time::Instant::now();
            }
        }
        keys
    }

    /// Sends signal `name` (`STOP`, `CONT`, `KILL`, ...) to the broker process.
    pub fn signal(&self, name: &str) {
        super::signal_pid(self.child.id(), name);
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
