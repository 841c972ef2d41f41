//! The PostgreSQL lab → tansu, end to end: auditfwd (ODBC source → Kafka sink,
//! the release binary, `--exit-when-caught-up`) against the script an IBM i user
//! would write today (benches/kafka_e2e/ibmi_to_kafka.py: pyodbc fetch of IBM's
//! seed query with its two CASE labels, JSON, confluent-kafka with
//! enable.idempotence=true and acks=all, a key per entry, flushed), on the same
//! journal, in one run. Both topics are consumed back and must hold exactly the
//! journal's entry ids. See benches/kafka_e2e/README.md.
//!
//!     bash deploy/lab/lab.sh start
//!     pip install pyodbc confluent-kafka
//!     cargo bench --bench kafka_e2e            # BENCH_EVENTS=200000 by default
//!
//! BENCH_LAB_COST sets the lab function's extra cost per row returned, in
//! microseconds (`lab.set_cost_per_row`). The default, 20, plays a real
//! materializing AUDIT_JOURNAL_JS, so the bench is never easier than the real
//! peer; 0 is the lab as it is. BENCH_BASELINE_BIN names another auditfwd binary (an older build) to run on the same journal, into a topic of
//! its own, for a before/after in one run.

use testkit::bench as common;

use std::collections::HashSet;
use std::process::Command;
use std::time::Instant;

use common::peers::{Lab, Tansu};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/benches/kafka_e2e/ibmi_to_kafka.py"
);
const AUDITFWD: &str = env!("CARGO_BIN_EXE_auditfwd");

/// The Python to run the script with (`common::python`); fails with how to
/// get the modules when they are missing.
fn python() -> String {
    let python = common::python();
    let output = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, pyodbc, confluent_kafka; \
             print('pyodbc', pyodbc.version, 'confluent-kafka', m.version('confluent-kafka'), 'librdkafka', confluent_kafka.libversion()[0])",
        ])
        .output();
    match output {
        Ok(output) if output.status.success() => {
            println!(
                "{python}: {}",
                String::from_utf8_lossy(&output.stdout).trim()
            );
            python
        }
        _ => panic!(
            "{python} cannot import pyodbc and confluent_kafka: `{python} -m pip install pyodbc confluent-kafka` \
             (or, for Debian's python3, `apt-get install python3-pyodbc python3-confluent-kafka`); \
             BENCH_PYTHON names another interpreter"
        ),
    }
}

/// Runs `binary` (ODBC source → Kafka sink into `topic`) until caught up; seconds.
fn auditfwd(lab: &Lab, brokers: &str, dir: &std::path::Path, binary: &str, topic: &str) -> f64 {
    let dir = dir.join(topic);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("odbc.pw"), "lab\n").unwrap();
    let config = dir.join("auditfwd.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[source]
kind = "odbc"
[source.odbc]
connection_string = "{connection_string}"
password_file = "{password}"
dialect = "postgres"
timezone = "UTC"
start_at = "earliest"
exclude_own_connections = false
[filter]
entry_types = []
exclude_users = []
[state]
dir = "{state}"
[[sinks]]
type = "kafka"
brokers = "{brokers}"
topic = "{topic}"
"#,
            connection_string = lab.connection_string(),
            password = dir.join("odbc.pw").display(),
            state = dir.join("data").display(),
        ),
    )
    .unwrap();
    let log = dir.join("auditfwd.log");
    let started = Instant::now();
    let status = Command::new(binary)
        .args(["run", "-c"])
        .arg(&config)
        .arg("--exit-when-caught-up")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .status()
        .expect("run auditfwd");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        status.success(),
        "auditfwd failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    seconds
}

fn script(python: &str, lab: &Lab, brokers: &str) -> f64 {
    let started = Instant::now();
    let output = Command::new(python)
        .arg(SCRIPT)
        .arg(lab.connection_string_with_password())
        .arg("2026-04-01T00:00:00")
        .arg(brokers)
        .arg("script")
        .output()
        .expect("run the script");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "the script failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    seconds
}

fn main() {
    let events = common::knob("BENCH_EVENTS", 200_000);
    let cost = common::knob("BENCH_LAB_COST", 20);
    let baseline = std::env::var("BENCH_BASELINE_BIN").ok();
    let python = python();
    let lab = Lab::new("kafka_e2e");
    // Two receivers of half the entries each, 10 ms apart from 2026-04-08 08:00.
    lab.sql(&format!(
        "SELECT lab.generate({events}, 1, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', {})",
        events.div_ceil(2)
    ));
    lab.sql(&format!("SELECT lab.set_cost_per_row({cost})"));
    // Also warms PostgreSQL's cache for both readers.
    let expected: HashSet<String> = lab.all_ids("true").into_iter().collect();
    assert_eq!(expected.len() as u64, events);
    let dir = tempfile::tempdir().unwrap();
    let broker = Tansu::start(
        &dir.path().join("tansu.log"),
        &["auditfwd", "script", "baseline"],
    );
    let brokers = broker.brokers();

    let script_seconds = script(&python, &lab, &brokers);
    let baseline_seconds = baseline
        .as_deref()
        .map(|binary| auditfwd(&lab, &brokers, dir.path(), binary, "baseline"));
    let auditfwd_seconds = auditfwd(&lab, &brokers, dir.path(), AUDITFWD, "auditfwd");

    let check =
        |topic: &str| common::check_topic(&broker, topic, &expected, "the journal's entry ids");
    let script_rate = events as f64 / script_seconds;
    println!(
        "machine: {} cores (shared); {events} entries in 2 receivers; PostgreSQL lab over psqlODBC, lab cost {cost} µs per row; tansu in memory on loopback",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "the user's script (pyodbc + CASE labels + JSON + confluent-kafka): {script_seconds:.2} s = {script_rate:.0} entries/s; read back: {}",
        check("script")
    );
    if let (Some(binary), Some(seconds)) = (&baseline, baseline_seconds) {
        let rate = events as f64 / seconds;
        println!(
            "baseline {binary}: {seconds:.2} s = {rate:.0} entries/s, {:.2}× the script; read back: {}",
            rate / script_rate,
            check("baseline")
        );
    }
    let auditfwd_rate = events as f64 / auditfwd_seconds;
    println!(
        "auditfwd (ODBC source → Kafka sink, defaults): {auditfwd_seconds:.2} s = {auditfwd_rate:.0} entries/s; read back: {}",
        check("auditfwd")
    );
    println!(
        "ratio auditfwd/script: {:.2} (target >= 2.00)",
        auditfwd_rate / script_rate
    );
}
