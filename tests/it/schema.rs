//! The published JSON Schema validates what the daemon really writes.

use crate::harness::Workspace;

/// The published schema of native version `version`.
pub fn schema_of(version: u32) -> jsonschema::Validator {
    let path = format!(
        "{}/deploy/schema/event-v{version}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn schema() -> jsonschema::Validator {
    schema_of(1)
}

/// The simulator's first `entries` through the daemon into a file sink, with
/// the extra `--set` assignments; the events written.
fn simulate(workspace: &Workspace, entries: u64, sets: &[&str]) -> Vec<serde_json::Value> {
    let total = format!("source.simulator.total_events={entries}");
    let mut args = vec![
        "run",
        "--exit-when-caught-up",
        "--set",
        total.as_str(),
        "--set",
        "source.simulator.events_per_second=0",
        "--set",
        "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
    ];
    for set in sets {
        args.extend(["--set", set]);
    }
    let output = workspace.run(&args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    workspace.events("events.ndjson")
}

/// Every line of `events` is valid under `validator`.
pub fn assert_all_valid(validator: &jsonschema::Validator, events: &[serde_json::Value]) {
    for event in events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {event}");
    }
}

#[test]
fn daemon_output_validates_against_the_schema() {
    let workspace = Workspace::new();
    let events = simulate(
        &workspace,
        6000,
        &[
            "filter.entry_types=[]",
            "filter.exclude_users=[]",
            "event.schema_version=1",
        ],
    );
    // Every entry, and the session events derived from them (validated too).
    assert_entries_and_sessions(&events, 6000);
    let validator = schema();
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {event}");
    }
    // Every IBM connection label the simulator can produce shows up, so the
    // enum in the schema was exercised, not just the happy path.
    let labels: std::collections::HashSet<_> = events
        .iter()
        .map(|event| event["connection_type"].as_str().unwrap().to_owned())
        .collect();
    assert!(labels.len() >= 8, "{labels:?}");
}

#[test]
fn schema_rejects_what_the_contract_forbids() {
    let validator = schema();
    let good: serde_json::Value = serde_json::from_str(
        r#"{"schema_version":1,"event_id":"S:QGPL/R:1","entry_timestamp":"2026-01-05T08:00:00.000000Z","entry_timestamp_local":"2026-01-05T08:00:00.000000","system_name":"S","receiver_library":"QGPL","receiver_name":"R","sequence_number":1,"entry_type":"S","entry_type_detail":null,"job_event_type":"Start","event_action":"job_start","user_name":null,"real_user_profile":null,"effective_user_profile":null,"qualified_job_name":null,"job_name":null,"job_user":null,"job_number":null,"job_type":null,"job_subtype":null,"remote_address":null,"remote_port":null,"connection_type":"Other Host Server (Security Unknown)","connection_method":"unknown","connection_secure":null,"privileged":false,"severity":"info","device_name":null,"program_library":null,"program_name":null,"target_qualified_job_name":null}"#,
    )
    .unwrap();
    assert!(validator.is_valid(&good));
    let broken = [
        ("remote_address", serde_json::json!("null")),
        ("sequence_number", serde_json::json!("1")),
        ("entry_timestamp", serde_json::json!("2026-01-05 08:00:00")),
        ("connection_type", serde_json::json!("ODBC")),
        ("severity", serde_json::json!("urgent")),
        ("surprise", serde_json::json!(1)),
    ];
    for (key, value) in broken {
        let mut event = good.clone();
        event[key] = value;
        assert!(
            !validator.is_valid(&event),
            "schema accepted {key} = {}",
            event[key]
        );
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("event_id");
    assert!(!validator.is_valid(&missing));
}

/// The default (v2) output of the simulator validates against the v2 schema,
/// and the JS block carries IBM's labels.
#[test]
fn daemon_v2_output_validates_against_the_v2_schema() {
    let workspace = Workspace::new();
    let events = simulate(
        &workspace,
        6000,
        &["filter.entry_types=[]", "filter.exclude_users=[]"],
    );
    // Every entry, and the session events derived from them (validated too).
    assert_entries_and_sessions(&events, 6000);
    assert_all_valid(&schema_of(2), &events);
    assert!(events.iter().all(|event| event["schema_version"] == 2
        && (event["js"].is_object() || event["session"].is_object())));
}

#[test]
fn v2_schema_rejects_what_the_contract_forbids() {
    let validator = schema_of(2);
    let good: serde_json::Value = serde_json::from_str(
        r#"{"schema_version":2,"event_id":"S:QGPL/R:7","entry_timestamp":"2026-01-05T08:00:00.000000Z","entry_timestamp_local":"2026-01-05T08:00:00.000000","system_name":"S","source":null,"receiver_library":"QGPL","receiver_name":"R","sequence_number":7,"audit_type":"PW","code":"P","code_label":"Password not valid","event_action":"signon_failed","severity":"medium","privileged":false,"user_name":"QUSER","effective_user":null,"target_user":"JSMITH","qualified_job_name":null,"job_name":null,"job_user":null,"job_number":null,"remote_address":"192.0.2.1","remote_port":null,"program_library":null,"program_name":null,"pw":{"violation_type":"P","violation_type_detail":null,"audit_user_name":"JSMITH","device_name":null,"interface_name":null,"remote_location":null,"local_location":null,"network_id":null,"decrypt_host_variable":null,"decrypt_object_library":null,"decrypt_object_name":null,"decrypt_object_type":null,"decrypt_object_asp_name":null,"decrypt_object_asp_number":null}}"#,
    )
    .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&good)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let mut no_block = good.clone();
    no_block.as_object_mut().unwrap().remove("pw");
    assert!(
        !validator.is_valid(&no_block),
        "a PW event without its pw block"
    );
    let mut wrong_type = good.clone();
    wrong_type["pw"]["decrypt_object_asp_number"] = serde_json::json!("1");
    assert!(!validator.is_valid(&wrong_type));
    let mut unknown_type = good.clone();
    unknown_type["audit_type"] = serde_json::json!("ZZ");
    assert!(!validator.is_valid(&unknown_type));
    let mut extra = good.clone();
    extra["pw"]["surprise"] = serde_json::json!(1);
    assert!(!validator.is_valid(&extra));
}

/// The simulator with every audit type: every event valid under v2, the burst
/// signal and the detections among them.
#[test]
fn every_type_from_the_simulator_validates_against_the_v2_schema() {
    let workspace = Workspace::new();
    let events = simulate(
        &workspace,
        8000,
        &[r#"source.audit_types=["JS","PW","CP","AF","SV","PS","GR","CA","OW","AD","PA"]"#],
    );
    assert_all_valid(&schema_of(2), &events);
    let types: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|event| event["audit_type"].as_str())
        .collect();
    assert_eq!(types.len(), 11, "{types:?}");
    for action in [
        "signon_failure_burst",
        "privilege_granted",
        "audit_policy_changed",
        "exit_program_removed",
    ] {
        assert!(
            events.iter().any(|event| event["event_action"] == action),
            "no {action}"
        );
    }
}

/// `events` hold exactly `entries` journal entries plus at least one session
/// event derived from them.
fn assert_entries_and_sessions(events: &[serde_json::Value], entries: usize) {
    let sessions = events
        .iter()
        .filter(|event| event.get("session").is_some())
        .count();
    assert!(sessions > 0, "the simulator's sessions are in the output");
    assert_eq!(events.len() - sessions, entries);
}
