//! Golden output of the simulator (seeds 1, 2, 3; 50,000 entries each; native,
//! ECS and OCSF): byte-identical across refactors. The lab's golden is in the
//! peer tier (`tests/it/golden_lab.rs`); both compare with `testkit::golden`.
//!
//! To accept a change on purpose: `AUDITFWD_UPDATE_GOLDEN=1 cargo test --test
//! fast golden`, and say why in the commit.

use crate::harness::golden::check;
use crate::harness::{stderr, Workspace};

/// Simulator output in native schema `schema`, compared with golden file `name`.
fn simulator(seed: u64, schema: u32, name: &str) {
    simulator_with(seed, schema, "[\"JS\"]", name);
}

fn simulator_with(seed: u64, schema: u32, types: &str, name: &str) {
    simulator_as(seed, schema, types, "native", name);
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
start_timestamp = "2026-01-05T08:00:00"
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
