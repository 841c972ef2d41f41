//! What the benchmarks share beyond the harness itself: knobs, events per
//! second of an in-process run, /proc and /metrics readings, a topic check.
//! Peers, ports and the in-process pipeline are the tests' own (re-exported
//! here), so tests and benches start peers and run the daemon the same way.

use std::time::Instant;

use auditfwd::app::Outcome;
use auditfwd::settings::Config;

pub use crate::in_process::{run_caught_up, runtime, simulator_into};
pub use crate::{in_process, peers, wait};

/// Runs `config` until everything is delivered; events per second.
pub fn events_per_second(config: Config) -> f64 {
    let events = config.source.simulator.total_events;
    let started = Instant::now();
    let outcome = in_process::run_caught_up(config).expect("pipeline run");
    assert_eq!(outcome, Outcome::Drained);
    events as f64 / started.elapsed().as_secs_f64()
}

/// BENCH_EVENTS (or another knob) from the environment, or `default`.
pub fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// The Python the benches run their scripts with: BENCH_PYTHON, else the venv
/// `.ci/setup bench` makes (~/.cache/auditfwd/bench-venv, with pyodbc and
/// confluent-kafka), else `python3`.
pub fn python() -> String {
    if let Ok(python) = std::env::var("BENCH_PYTHON") {
        return python;
    }
    let venv = std::env::var("HOME")
        .map(|home| format!("{home}/.cache/auditfwd/bench-venv/bin/python"))
        .unwrap_or_default();
    if std::path::Path::new(&venv).exists() {
        venv
    } else {
        "python3".into()
    }
}

/// A `kB` (or plain number) field of /proc/<pid>/status: "VmRSS:", "VmHWM:",
/// "Threads:"; 0 once the process is gone.
pub fn proc_status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The daemon's /metrics text from its telemetry port; empty when it does
/// not answer.
pub fn scrape(port: u16) -> String {
    use std::io::{Read, Write};
    let mut text = String::new();
    if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let _ = stream.read_to_string(&mut text);
    }
    text
}

/// Reads `topic` back and checks it holds exactly `expected`, once each;
/// `what` names the expected set in the returned line.
pub fn check_topic(
    broker: &peers::Tansu,
    topic: &str,
    expected: &std::collections::HashSet<String>,
    what: &str,
) -> String {
    let all = broker.keys(topic, expected.len());
    // Events derived from the journal (sessions: `<entry id>#session_start`)
    // come on top of the entries; they are counted, not checked.
    let (derived, keys): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|key| key.contains('#'));
    let got: std::collections::HashSet<&String> = keys.iter().collect();
    let missing = expected.iter().filter(|key| !got.contains(key)).count();
    let unexpected = got.iter().filter(|key| !expected.contains(**key)).count();
    assert!(
        missing == 0 && unexpected == 0 && keys.len() == expected.len(),
        "{topic}: {} records read back, {missing} expected ids missing, {unexpected} unexpected, {} duplicates",
        keys.len(),
        keys.len() - got.len()
    );
    format!(
        "{} records, exactly {what} (and {} derived events)",
        keys.len(),
        derived.len()
    )
}
