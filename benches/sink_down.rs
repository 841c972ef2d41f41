//! Memory with a sink down: the daemon (release binary) reads an endless
//! simulator backlog into a Splunk HEC sink whose collector does not answer
//! (connection refused), with the default batches in flight, for
//! BENCH_DOWN_SECONDS (default 600, as the issue asks). Prints the peak and
//! final RSS of the daemon, and the rows it read at the start and at the end of
//! the outage: backpressure must stop the reading, so memory stays flat.
//!
//!     cargo bench --bench sink_down            # BENCH_DOWN_SECONDS=600
//!
//! BENCH_IN_FLIGHT sets both `pipeline.max_batches_in_flight` and the sink's
//! `max_in_flight` (default: the defaults) to measure what a batch in flight costs;
//! BENCH_DEAD_LETTER=1 adds `on_permanent_error = "dead_letter"` (each batch held
//! keeps a compressed copy of its events for the dead-letter file).
//! BENCH_AUDITFWD runs another build's binary (a baseline) instead of this
//! one's, so two builds can run side by side.

use testkit::bench as common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AUDITFWD: &str = env!("CARGO_BIN_EXE_auditfwd");

fn rows_read(port: u16) -> Option<u64> {
    metric(port, "auditfwd_rows_read_total")
}

fn metric(port: u16, name: &str) -> Option<u64> {
    common::scrape(port)
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64)
}

fn main() {
    let seconds = common::knob("BENCH_DOWN_SECONDS", 600);
    let in_flight = std::env::var("BENCH_IN_FLIGHT").ok();
    let (pipeline, sink_in_flight) = match &in_flight {
        Some(count) => (
            format!("[pipeline]\nmax_batches_in_flight = {count}\n"),
            format!("max_in_flight = {count}\n"),
        ),
        None => (String::new(), String::new()),
    };
    let pipeline = match std::env::var("BENCH_DEAD_LETTER").as_deref() {
        Ok("1") => {
            let table = if pipeline.is_empty() {
                "[pipeline]\n"
            } else {
                ""
            };
            format!("{pipeline}{table}on_permanent_error = \"dead_letter\"\ndead_letter_path = \"dead.ndjson\"\n")
        }
        _ => pipeline,
    };
    let dir = tempfile::tempdir().unwrap();
    let dead_port = common::wait::free_port();
    let telemetry = common::wait::free_port();
    std::fs::write(dir.path().join("hec.token"), "bench\n").unwrap();
    let config = dir.path().join("auditfwd.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[source]
batch_rows = 1000
[source.simulator]
total_events = 0
events_per_second = 0
[filter]
entry_types = []
exclude_users = []
[state]
dir = "data"
[telemetry]
listen = "127.0.0.1:{telemetry}"
{pipeline}
[[sinks]]
type = "splunk_hec"
endpoint = "http://127.0.0.1:{dead_port}"
token_file = "hec.token"
{sink_in_flight}"#
        ),
    )
    .unwrap();
    let binary = std::env::var("BENCH_AUDITFWD").unwrap_or_else(|_| AUDITFWD.to_owned());
    let mut child = Command::new(&binary)
        .args(["run", "-c", config.to_str().unwrap()])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start auditfwd");
    let pid = child.id();
    let started = Instant::now();
    let mut first_rows = None;
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        samples.push(common::proc_status(pid, "VmRSS:"));
        if first_rows.is_none() && started.elapsed() > Duration::from_secs(10) {
            first_rows = rows_read(telemetry);
        }
    }
    let last_rows = rows_read(telemetry);
    let in_flight_at_end = metric(telemetry, "auditfwd_batches_in_flight");
    let in_memory_at_end = metric(telemetry, "auditfwd_batches_in_memory");
    let events_at_end = metric(telemetry, "auditfwd_events_in_memory");
    let peak = common::proc_status(pid, "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    let last = samples.last().copied().unwrap_or(0);
    let tenth = samples.get(samples.len() / 10).copied().unwrap_or(0);
    println!(
        "{binary}, MALLOC_ARENA_MAX {}: sink down for {seconds} s, simulator backlog unpaced, batch_rows 1000, {} in flight",
        std::env::var("MALLOC_ARENA_MAX").as_deref().unwrap_or("unset"),
        in_flight.as_deref().unwrap_or("the defaults")
    );
    println!("rows read at 10 s: {first_rows:?}; at the end: {last_rows:?} (backpressure: equal)");
    println!(
        "at the end: batches in flight {in_flight_at_end:?}, of which with their events in memory {in_memory_at_end:?} ({events_at_end:?} events)"
    );
    println!(
        "RSS: at 10% of the outage {} KiB, at the end {} KiB, peak {} KiB ({:.1} MiB; target <= 64 MiB)",
        tenth,
        last,
        peak,
        peak as f64 / 1024.0
    );
}
