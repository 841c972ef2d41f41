//! Golden native output: the simulator (seeds 1, 2, 3; 50,000 entries each) and
//! the PostgreSQL lab must produce byte-identical native JSON across refactors.
//!
//! Each golden file holds the SHA-256 and line count of the whole output plus
//! its first lines verbatim (so a change shows what moved). To accept a change
//! on purpose: `AUDITFWD_UPDATE_GOLDEN=1 cargo test --test it golden`, and say
//! why in the commit. `AUDITFWD_GOLDEN_KEEP=DIR` keeps each whole output in DIR.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::Lab;
use crate::harness::{stderr, Workspace};

const SHOWN_LINES: usize = 5;

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.golden"))
}

/// A synthetic notice (an audit gap) carries the time it was detected, which
/// differs on every run: that value alone is replaced before hashing.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.contains("\"event_action\":\"audit_gap\"") {
            let mut event: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            event["entry_timestamp"] = "<detected at>".into();
            event["entry_timestamp_local"] = "<detected at>".into();
            out.push_str(&event.to_string());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// What a golden file records about an NDJSON output.
fn summarize(path: &Path) -> String {
    let text = normalize(&std::fs::read_to_string(path).expect("read output"));
    let normalized = path.with_extension("normalized");
    std::fs::write(&normalized, &text).expect("write normalized output");
    let output = Command::new("sha256sum")
        .arg(&normalized)
        .output()
        .expect("sha256sum (coreutils) must be installed");
    assert!(output.status.success(), "sha256sum failed");
    let digest = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned();
    let lines = text.lines().count();
    let mut summary = format!("sha256 {digest}\nlines {lines}\n");
    for line in text.lines().take(SHOWN_LINES) {
        summary.push_str(line);
        summary.push('\n');
    }
    summary
}

fn check(name: &str, output: &Path) {
    if let Some(keep) = std::env::var_os("AUDITFWD_GOLDEN_KEEP") {
        let _ = std::fs::copy(output, Path::new(&keep).join(format!("{name}.ndjson")));
    }
    let actual = summarize(output);
    let golden = golden_path(name);
    if std::env::var_os("AUDITFWD_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; create it with AUDITFWD_UPDATE_GOLDEN=1",
            golden.display()
        )
    });
    if actual != expected {
        let first_difference = actual
            .lines()
            .zip(expected.lines())
            .position(|(left, right)| left != right)
            .unwrap_or(0);
        panic!(
            "native output of {name} changed (golden file {}), first differing summary line {}:\n  now:    {}\n  golden: {}",
            golden.display(),
            first_difference + 1,
            actual.lines().nth(first_difference).unwrap_or(""),
            expected.lines().nth(first_difference).unwrap_or(""),
        );
    }
}

/// Simulator output in native schema `schema`, compared with golden file `name`.
fn simulator(seed: u64, schema: u32, name: &str) {
    simulator_with(seed, schema, "[\"JS\"]", name)
}

fn simulator_with(seed: u64, schema: u32, types: &str, name: &str) {
    simulator_as(seed, schema, types, "native", name)
}

/// The same, written in `format` by the file sink.
fn simulator_as(seed: u64, schema: u32, types: &str, format: &str, name: &str) {
    let workspace = Workspace::new();
    let config = workspace.write(
        "auditfwd.toml",
        &format!(
            r#"
[source]
batch_rows = 1000
audit_types = {types}
[source.simulator]
seed = {seed}
total_events = 50000
events_per_second = 0
[filter]
entry_types = []
exclude_users = []
[event]
schema_version = {schema}
[state]
dir = "data"
[[sinks]]
type = "file"
path = "events.ndjson"
format = "{format}"
"#
        ),
    );
    let output = workspace.run(&[
        "run",
        "-c",
        config.to_str().unwrap(),
        "--exit-when-caught-up",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    check(name, &workspace.path("events.ndjson"));
}

#[test]
fn simulator_seed_1_native_output_is_unchanged() {
    simulator(1, 1, "simulator-seed1");
}

#[test]
fn simulator_seed_2_native_output_is_unchanged() {
    simulator(2, 1, "simulator-seed2");
}

#[test]
fn simulator_seed_3_native_output_is_unchanged() {
    simulator(3, 1, "simulator-seed3");
}

/// Schema v2 of the same JS stream: its own golden, so v1 and v2 each stay fixed.
#[test]
fn simulator_seed_1_native_v2_output_is_unchanged() {
    simulator(1, 2, "simulator-seed1-v2");
}

/// Every audit type, with the detections and the burst signal.
#[test]
fn simulator_seed_1_every_type_output_is_unchanged() {
    simulator_with(
        1,
        2,
        r#"["JS", "PW", "CP", "AF", "SV", "PS", "GR", "CA", "OW", "AD", "PA"]"#,
        "simulator-seed1-types",
    );
}

const EVERY_TYPE: &str = r#"["JS", "PW", "CP", "AF", "SV", "PS", "GR", "CA", "OW", "AD", "PA"]"#;

/// ECS and OCSF of the every-type stream (sessions and signals included), so
/// a change in how a format is encoded cannot change its bytes unnoticed
/// (CEF and LEEF, syslog bodies, have their goldens in `format::tests`).
#[test]
fn simulator_seed_1_every_type_ecs_output_is_unchanged() {
    simulator_as(1, 2, EVERY_TYPE, "ecs", "simulator-seed1-types-ecs");
}

#[test]
fn simulator_seed_1_every_type_ocsf_output_is_unchanged() {
    simulator_as(1, 2, EVERY_TYPE, "ocsf", "simulator-seed1-types-ocsf");
}

/// The lab: generated traffic over several receivers, one deleted receiver (an
/// audit gap), a sequence reset, own connections excluded, Rome local time.
#[test]
fn lab_native_output_is_unchanged() {
    let lab = Lab::new("golden");
    lab.sql(
        "SELECT lab.generate(6000, 7, TIMESTAMP '2026-10-25 01:30:00', INTERVAL '1 second', 1500)",
    );
    lab.sql(
        "SELECT lab.attach_receiver('AUDRCV0005', 'QGPL', true, TIMESTAMP '2026-10-25 04:00:00')",
    );
    lab.sql(
        "SELECT lab.generate(2000, 8, TIMESTAMP '2026-10-25 04:00:00', INTERVAL '1 second', 1500)",
    );
    lab.sql("SELECT lab.delete_receiver('AUDRCV0002')");
    let workspace = Workspace::new();
    workspace.write("odbc.pw", "lab\n");
    let config = workspace.write(
        "auditfwd.toml",
        &format!(
            r#"
[source]
kind = "odbc"
batch_rows = 700
poll_interval = "200ms"
[source.odbc]
connection_string = "{}"
password_file = "odbc.pw"
dialect = "postgres"
timezone = "Europe/Rome"
start_at = "earliest"
query_timeout = "20s"
[filter]
entry_types = []
exclude_users = []
[event]
schema_version = 1
[state]
dir = "data"
[[sinks]]
type = "file"
path = "events.ndjson"
"#,
            lab.connection_string()
        ),
    );
    let output = workspace.run(&[
        "run",
        "-c",
        config.to_str().unwrap(),
        "--exit-when-caught-up",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    check("lab", &workspace.path("events.ndjson"));
}
