//! Many systems through one daemon: BENCH_SYSTEMS lab systems (default 8, at
//! least 4; PostgreSQL databases of the materializing lab, each its own
//! SYSTEM_NAME) into one Kafka topic on tansu, with one system down (no connection possible) for
//! BENCH_DOWN_SECONDS (default 60) while the others catch up. Prints when each
//! system was caught up, the throughput, the daemon's peak RSS and threads,
//! and the connections per system; then reads the topic back and checks each
//! system's events are exactly its journal.
//!
//!     bash deploy/lab/lab.sh start
//!     cargo bench --bench fleet        # BENCH_SYSTEMS=8, BENCH_ENTRIES=25000 per system, BENCH_DOWN_SECONDS=60
//!
//! BENCH_AUDITFWD runs another build of the daemon (say, the main branch's,
//! copied aside) for a before/after in one session. The daemon inherits the
//! environment, so `AUDITFWD_*` variables change its configuration.

use testkit::bench as common;

use std::collections::{BTreeMap, HashSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::peers::{Lab, Tansu};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const AUDITFWD: &str = env!("CARGO_BIN_EXE_auditfwd");
const DOWN: usize = 3;
const TOPIC: &str = "bench-fleet";

/// Delivered events per source, from /metrics.
fn delivered(port: u16) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let text = common::scrape(port);
    for line in text
        .lines()
        .filter(|line| line.starts_with("auditfwd_events_delivered_total{"))
    {
        let source = line
            .split("source=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("")
            .to_owned();
        let value = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        *out.entry(source).or_insert(0) += value as u64;
    }
    out
}

fn main() {
    let entries = common::knob("BENCH_ENTRIES", 25_000);
    let down_seconds = common::knob("BENCH_DOWN_SECONDS", 60);
    let systems = common::knob("BENCH_SYSTEMS", 8) as usize;
    assert!(
        systems > DOWN,
        "BENCH_SYSTEMS must be at least {}",
        DOWN + 1
    );
    let labs: Vec<Lab> = (0..systems).map(|_| Lab::new("bench_fleet")).collect();
    for (index, lab) in labs.iter().enumerate() {
        lab.sql(&format!(
            "SELECT lab.generate({entries}, {}, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '10 milliseconds', 100000, 'SYS{index}')",
            index + 1
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let tansu = Tansu::start(&dir.path().join("tansu.log"), &[TOPIC]);
    let port = common::wait::free_port();
    std::fs::write(dir.path().join("odbc.pw"), "lab\n").unwrap();
    let mut config = format!(
        "[filter]\nentry_types = []\nexclude_users = []\n[sessions]\nenabled = false\n[state]\ndir = \"data\"\n[telemetry]\nlisten = \"127.0.0.1:{port}\"\n[[sinks]]\ntype = \"kafka\"\nbrokers = \"{}\"\ntopic = \"{TOPIC}\"\n",
        tansu.brokers()
    );
    for (index, lab) in labs.iter().enumerate() {
        config.push_str(&format!(
            "[[sources]]\nname = \"s{index}\"\nkind = \"odbc\"\npoll_interval = \"1s\"\n[sources.odbc]\nconnection_string = \"{}\"\npassword_file = \"odbc.pw\"\ndialect = \"postgres\"\ntimezone = \"UTC\"\nstart_at = \"earliest\"\nquery_timeout = \"30s\"\n",
            lab.connection_string()
        ));
    }
    std::fs::write(dir.path().join("fleet.toml"), config).unwrap();
    // The down system cannot be connected to from the start.
    let down = &labs[DOWN];
    labs[0].sql(&format!(
        "ALTER DATABASE {} CONNECTION LIMIT 0",
        down.database
    ));
    let daemon_binary = std::env::var("BENCH_AUDITFWD").unwrap_or_else(|_| AUDITFWD.to_owned());
    let mut daemon = Command::new(&daemon_binary)
        .args(["run", "-c", "fleet.toml"])
        .current_dir(dir.path())
        .env("AUDITFWD_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start auditfwd");
    let pid = daemon.id();
    let started = Instant::now();
    let mut done_at: BTreeMap<String, Duration> = BTreeMap::new();
    let mut peak_rss = 0;
    let mut peak_threads = 0;
    let mut connections: Vec<u64> = Vec::new();
    let mut back_at = None;
    while done_at.len() < systems && started.elapsed() < Duration::from_secs(down_seconds + 600) {
        std::thread::sleep(Duration::from_millis(200));
        peak_rss = peak_rss.max(common::proc_status(pid, "VmRSS:"));
        peak_threads = peak_threads.max(common::proc_status(pid, "Threads:"));
        for (source, count) in delivered(port) {
            if count >= entries && !done_at.contains_key(&source) {
                done_at.insert(source, started.elapsed());
            }
        }
        if back_at.is_none() && started.elapsed() >= Duration::from_secs(down_seconds) {
            connections = labs
                .iter()
                .map(|lab| {
                    labs[0]
                        .sql(&format!(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
                            lab.database
                        ))
                        .parse()
                        .unwrap_or(0)
                })
                .collect();
            labs[0].sql(&format!(
                "ALTER DATABASE {} CONNECTION LIMIT -1",
                down.database
            ));
            back_at = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    let _ = daemon.wait();

    // Read back: every system's events, exactly its journal.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", tansu.brokers())
        .set("group.id", "bench-fleet")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(TOPIC, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let mut got: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut records = 0usize;
    let reading = Instant::now();
    while records < systems * entries as usize && reading.elapsed() < Duration::from_secs(120) {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            records += 1;
            let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
            let system = key.split(':').next().unwrap_or("").to_owned();
            got.entry(system).or_default().insert(key);
        }
    }
    let mut exact = true;
    for (index, lab) in labs.iter().enumerate() {
        let expected: HashSet<String> = lab.all_ids("TRUE").into_iter().collect();
        let mine = got.get(&format!("SYS{index}")).cloned().unwrap_or_default();
        if mine != expected {
            exact = false;
            println!(
                "SYS{index}: {} received, {} expected: NOT EXACT",
                mine.len(),
                expected.len()
            );
        }
    }
    println!("fleet: {systems} systems × {entries} entries into one Kafka topic, one daemon ({daemon_binary}); s{DOWN} unreachable for the first {down_seconds}s");
    for (source, at) in &done_at {
        println!("  {source} caught up at {:.1}s", at.as_secs_f64());
    }
    if let Some(back) = back_at {
        println!("  s{DOWN} reachable again at {:.1}s", back.as_secs_f64());
    }
    let others_last = done_at
        .iter()
        .filter(|(source, _)| source.as_str() != format!("s{DOWN}"))
        .map(|(_, at)| at.as_secs_f64())
        .fold(0.0, f64::max);
    println!(
        "  the other {} were all caught up at {others_last:.1}s, while s{DOWN} was down",
        systems - 1
    );
    println!(
        "  total {:.1}s; {:.0} events/s over the others' catch-up",
        total.as_secs_f64(),
        ((systems as u64 - 1) * entries) as f64 / others_last.max(0.001)
    );
    println!(
        "  peak RSS {:.1} MiB ({:.1} MiB per system), peak threads {peak_threads}",
        peak_rss as f64 / 1024.0,
        peak_rss as f64 / 1024.0 / systems as f64
    );
    println!("  ODBC sessions per system while s{DOWN} was down: {connections:?}");
    println!(
        "  read back {records} records: {}",
        if exact {
            "every system exact"
        } else {
            "NOT EXACT"
        }
    );
    assert!(exact, "a system's events differ from its journal");
}
