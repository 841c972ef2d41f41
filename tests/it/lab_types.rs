//! Audit types beyond JS, end to end against the lab: every type read over one
//! journal range and delivered merged in sequence order, across roll-over,
//! reset, a deleted receiver and a crash; a missing function; the burst signal
//! across a restart; privileged profiles from QSYS2.USER_INFO.

use std::collections::HashSet;

use crate::harness::{stderr, ConfigBuilder, Lab, Workspace, ALL_AUDIT_TYPES};

fn configure(workspace: &Workspace, lab: &Lab, extra_source: &str, batch_rows: usize) -> String {
    workspace.lab_config(
        &ConfigBuilder::lab(lab)
            .source(&format!(
                "batch_rows = {batch_rows}\naudit_types = {ALL_AUDIT_TYPES}\n{extra_source}"
            ))
            .every_entry()
            .quick_retries()
            .file_sink("events.ndjson"),
    )
}

fn run(workspace: &Workspace, config: &str) -> std::process::Output {
    let output = workspace.run(&["run", "-c", config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

/// Entry events (no notice, no signal): their ids, in output order.
fn entry_ids(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["message"].is_null())
        .map(|event| event["event_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_type_merged_in_sequence_order_across_roll_over_reset_and_a_deleted_receiver() {
    let lab = Lab::new("types");
    lab.sql("SELECT lab.generate_mixed(2500, 1, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 700)");
    // An IPL: a new receiver whose sequence starts again at 1.
    lab.sql(
        "SELECT lab.attach_receiver('AUDRCV0100', 'QGPL', true, TIMESTAMP '2026-10-01 09:00:00')",
    );
    lab.sql("SELECT lab.generate_mixed(1200, 2, TIMESTAMP '2026-10-01 09:00:00', INTERVAL '1 second', 100000)");
    let before_delete = lab.journal(None);
    lab.sql("SELECT lab.delete_receiver('AUDRCV0002')");
    let expected = lab.journal(None);
    assert!(expected.len() < before_delete.len());
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "", 300);
    run(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert_eq!(
        entry_ids(&events),
        expected,
        "every entry of every type, once, in journal order"
    );
    let gaps = events
        .iter()
        .filter(|event| event["event_action"] == "audit_gap")
        .count();
    assert_eq!(gaps, 1, "the deleted receiver is one audit gap");
    let types: HashSet<&str> = events
        .iter()
        .filter_map(|event| event["audit_type"].as_str())
        .collect();
    assert_eq!(types.len(), 11, "{types:?}");
    // Every event valid under the published v2 schema.
    crate::schema::assert_all_valid(&crate::schema::schema_of(2), &events);
    // A few meanings, straight from the lab's rows.
    assert!(events
        .iter()
        .any(|event| event["event_action"] == "privilege_granted"
            && event["severity"] == "critical"
            && event["cp"]["allobj"] == true));
    assert!(events
        .iter()
        .any(|event| event["event_action"] == "audit_policy_changed"));
    assert!(events
        .iter()
        .any(|event| event["event_action"] == "default_signon_attempt"));
    assert!(events
        .iter()
        .any(|event| event["event_action"] == "exit_program_removed"));
    // Calls: one per type per window, not per batch.
    let log = workspace.log();
    assert!(!log.contains("malformed"), "{log}");
}

#[test]
fn a_crash_mid_catch_up_repeats_only_what_was_in_flight() {
    let lab = Lab::new("types_crash");
    lab.sql("SELECT lab.generate_mixed(3000, 3, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 1000)");
    let expected = lab.journal(None);
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "", 100);
    let crashed = workspace
        .command(&["run", "-c", &config, "--exit-when-caught-up"])
        .env("AUDITFWD_FAILPOINTS", "sink.deliver=panic@12")
        .output()
        .unwrap();
    assert_eq!(crashed.status.code(), Some(70), "{}", stderr(&crashed));
    run(&workspace, &config);
    let got = entry_ids(&workspace.events("events.ndjson"));
    let mut seen = HashSet::new();
    let unique: Vec<String> = got
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .cloned()
        .collect();
    assert_eq!(unique, expected);
    assert!(
        got.len() - unique.len() <= 16 * 100,
        "repeats at most the batches in flight"
    );
}

#[test]
fn a_missing_function_stops_the_start_unless_the_type_is_optional() {
    let lab = Lab::new("types_missing");
    lab.sql("SELECT lab.generate_mixed(300, 4, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 1000)");
    lab.sql("DROP FUNCTION systools.audit_journal_gr");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "", 500);
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("SYSTOOLS.AUDIT_JOURNAL_GR") && text.contains("SF99704 level 15"),
        "{text}"
    );
    assert!(
        !workspace.path("events.ndjson").exists() || workspace.events("events.ndjson").is_empty()
    );

    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "optional_audit_types = [\"GR\"]", 500);
    let output = run(&workspace, &config);
    assert!(
        stderr(&output).contains("GR is optional"),
        "{}",
        stderr(&output)
    );
    let events = workspace.events("events.ndjson");
    assert!(events.iter().all(|event| event["audit_type"] != "GR"));
    let without_gr: usize = lab
        .sql("SELECT count(*) FROM lab.typed_entries WHERE audit_type <> 'GR'")
        .parse::<usize>()
        .unwrap()
        + lab
            .sql("SELECT count(*) FROM lab.entries")
            .parse::<usize>()
            .unwrap();
    assert_eq!(entry_ids(&events).len(), without_gr);
}

fn failure(lab: &Lab, second: u32) {
    lab.sql(&format!(
        "SELECT lab.add_audit('PW', TIMESTAMP '2026-10-01 08:00:00' + INTERVAL '{second} seconds', \
         '{{\"VIOLATION_TYPE\":\"P\",\"AUDIT_USER_NAME\":\"PAYCLERK\"}}', 'QUSER', '198.51.100.{second}')"
    ));
}

/// Three failures, a stop, two more: the burst fires on the fifth, counted
/// across the restart from the checkpoint; once, with a stable id.
#[test]
fn the_burst_signal_counts_across_a_restart() {
    let lab = Lab::new("types_burst");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    for second in [0, 10, 20] {
        failure(&lab, second);
    }
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "", 100);
    run(&workspace, &config);
    let burst = |events: &[serde_json::Value]| -> Vec<String> {
        events
            .iter()
            .filter(|event| event["event_action"] == "signon_failure_burst")
            .map(|event| event["event_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(burst(&workspace.events("events.ndjson")).is_empty());
    for second in [30, 40, 50] {
        failure(&lab, second);
    }
    run(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let fired = burst(&events);
    assert_eq!(
        fired,
        ["LABSYS:QGPL/AUDRCV0001:5#signon_failure_burst_user"],
        "{fired:?}"
    );
    let signal = events
        .iter()
        .find(|event| event["event_action"] == "signon_failure_burst")
        .unwrap();
    assert_eq!(signal["signal"]["count"], 5);
    assert_eq!(signal["signal"]["key"], "PAYCLERK");
    assert_eq!(signal["severity"], "high");
}

/// SECADM01 holds *ALLOBJ in QSYS2.USER_INFO but is not configured: its
/// entries are privileged anyway; JSMITH's are not.
#[test]
fn privileged_profiles_come_from_the_system_too() {
    let lab = Lab::new("types_privileged");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    lab.sql("SELECT lab.add_audit('CP', TIMESTAMP '2026-10-01 08:00:00', '{\"COMMAND_TYPE\":\"CHG\",\"USER_PROFILE\":\"JSMITH\"}', 'SECADM01')");
    lab.sql("SELECT lab.add_audit('CP', TIMESTAMP '2026-10-01 08:00:01', '{\"COMMAND_TYPE\":\"CHG\",\"USER_PROFILE\":\"MROSSI\"}', 'JSMITH')");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "", 100);
    let output = run(&workspace, &config);
    assert!(
        stderr(&output).contains("QSYS2.USER_INFO"),
        "{}",
        stderr(&output)
    );
    let events = workspace.events("events.ndjson");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["privileged"], true, "{}", events[0]);
    assert_eq!(events[0]["severity"], "high");
    assert_eq!(events[1]["privileged"], false, "{}", events[1]);
}
