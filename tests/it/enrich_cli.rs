//! `auditfwd enrich`: JSON lines and CSV in, one event per row out, in order.

use std::io::Write;
use std::process::Stdio;

use crate::harness::{stderr, stdout, Workspace};

fn enrich(workspace: &Workspace, args: &[&str], input: &str) -> std::process::Output {
    let mut child = workspace
        .command(&[&["enrich"], args].concat())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn enrich");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn events(output: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const HEADER: &str = "SYSTEM_NAME,RECEIVER_LIBRARY,RECEIVER_NAME,SEQUENCE_NUMBER,ENTRY_TIMESTAMP,ENTRY_TYPE,JOB_TYPE,JOB_NAME,JOB_USER,JOB_NUMBER,REAL_USER_PROFILE,EFFECTIVE_USER_PROFILE,REMOTE_ADDRESS,REMOTE_PORT";

#[test]
fn csv_rows_become_events_in_input_order_without_filtering() {
    let workspace = Workspace::new();
    let input = format!(
        "{HEADER}\n\
PROD1,QGPL,AUDRCV0042,1001,2026-04-08-10.15.30.000001,S,INT,QPADEV0012,QSECOFR,123456,QSECOFR,QSECOFR,192.0.2.10,50123\n\
PROD1,QGPL,AUDRCV0042,1000,2026-04-08-10.15.29.500000,M,PJ,QZDASSINIT,QUSER,123457,JSMITH   ,JSMITH,,\n\
PROD1,QGPL,AUDRCV0042,1002,2026-04-08-10.15.31.000000,P,PJ,QZDASOINIT,QUSER,123458,QUSER,QUSER,192.0.2.11,50124\n"
    );
    let output = enrich(&workspace, &[], &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let events = events(&output);
    let ids: Vec<_> = events
        .iter()
        .map(|event| event["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "PROD1:QGPL/AUDRCV0042:1001",
            "PROD1:QGPL/AUDRCV0042:1000",
            "PROD1:QGPL/AUDRCV0042:1002"
        ]
    );
    assert_eq!(
        events[0]["js"]["connection_type"],
        "5250 / Telnet (Non-Secure unless SSL/Telnet configured)"
    );
    assert_eq!(events[0]["privileged"], true);
    assert_eq!(events[0]["severity"], "high");
    assert_eq!(events[0]["remote_port"], 50123);
    assert_eq!(events[1]["js"]["real_user_profile"], "JSMITH");
    assert!(events[1]["remote_address"].is_null());
    assert!(events[1]["remote_port"].is_null());
    assert_eq!(events[1]["js"]["connection_secure"], true);
    assert_eq!(
        events[2]["event_action"], "prestart_attach",
        "P rows are not filtered by enrich"
    );
}

#[test]
fn json_lines_with_timezone_and_custom_privileged_profiles() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "alerts.toml",
        "[alerts]\nprivileged_profiles = [\"SECADM\"]\n",
    );
    let input = r#"{"SYSTEM_NAME":"PROD1","RECEIVER_LIBRARY":"QGPL","RECEIVER_NAME":"AUDRCV0001","SEQUENCE_NUMBER":7,"ENTRY_TIMESTAMP":"2026-07-01 12:00:00.250000","ENTRY_TYPE":"M","JOB_TYPE":"PJ","JOB_NAME":"QZDASOINIT","REAL_USER_PROFILE":"SECADM","REMOTE_ADDRESS":null}
{"SYSTEM_NAME":"PROD1","RECEIVER_LIBRARY":"QGPL","RECEIVER_NAME":"AUDRCV0001","SEQUENCE_NUMBER":8,"ENTRY_TIMESTAMP":"2026-07-01 12:00:01","ENTRY_TYPE":"S","JOB_TYPE":"INT","JOB_NAME":"QPADEV0001","REAL_USER_PROFILE":"QSECOFR"}
"#;
    let output = enrich(
        &workspace,
        &["-c", config.to_str().unwrap(), "--timezone", "Europe/Rome"],
        input,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let events = events(&output);
    assert_eq!(events[0]["entry_timestamp"], "2026-07-01T10:00:00.250000Z");
    assert_eq!(
        events[0]["entry_timestamp_local"],
        "2026-07-01T12:00:00.250000"
    );
    assert_eq!(events[0]["privileged"], true);
    assert_eq!(events[0]["severity"], "critical");
    assert_eq!(
        events[1]["privileged"], false,
        "QSECOFR is not in this config's list"
    );
}

#[test]
fn malformed_rows_are_reported_by_line_and_the_rest_still_flows() {
    let workspace = Workspace::new();
    let input = format!(
        "{HEADER}\n\
PROD1,QGPL,AUDRCV0042,1001,2026-04-08-10.15.30.000001,S,INT,QPADEV0012,X,1,X,X,,\n\
PROD1,QGPL,AUDRCV0042,,2026-04-08-10.15.30.000001,S,INT,QPADEV0012,X,1,X,X,,\n\
PROD1,QGPL,AUDRCV0042,1003,not-a-time,S,INT,QPADEV0012,X,1,X,X,,\n\
PROD1,QGPL,AUDRCV0042,1004,2026-04-08-10.15.30.000001,E,INT,QPADEV0012,X,1,X,X,,\n"
    );
    let output = enrich(&workspace, &[], &input);
    assert_eq!(output.status.code(), Some(65));
    let message = stderr(&output);
    assert!(
        message.contains("line 3") && message.contains("SEQUENCE_NUMBER"),
        "{message}"
    );
    assert!(
        message.contains("line 4") && message.contains("ENTRY_TIMESTAMP"),
        "{message}"
    );
    let ids: Vec<_> = events(&output)
        .iter()
        .map(|event| event["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1001, 1004]);
}

#[test]
fn non_utf8_and_non_object_input_is_an_error_not_a_crash() {
    let workspace = Workspace::new();
    let output = enrich(&workspace, &[], "{\"SEQUENCE_NUMBER\": 1}\n[1,2]\n");
    assert_eq!(output.status.code(), Some(65));
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));

    let bytes = workspace.path("latin1.csv");
    std::fs::write(&bytes, b"SYSTEM_NAME,JOB_NAME\nPROD1,CAF\xc9\n").unwrap();
    let output = workspace.run(&["enrich", "--input", bytes.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(65));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

/// An export of another type's function (CSV, as ACS saves it) becomes typed
/// v2 events with the catalog's labels and detections.
#[test]
fn other_audit_types_enrich_into_typed_blocks() {
    let workspace = Workspace::new();
    let csv = "ENTRY_TIMESTAMP,SEQUENCE_NUMBER,SYSTEM_NAME,RECEIVER_LIBRARY,RECEIVER_NAME,USER_NAME,USER_PROFILE,COMMAND_TYPE,ALLOBJ,PREVIOUS_ALLOBJ,STATUS\n\
2026-04-08-10.15.30.000001,11,PROD1,QGPL,AUDRCV0001,QSECOFR,JSMITH    ,CHG,Y,N,*ENABLED\n\
2026-04-08-10.15.31.000001,12,PROD1,QGPL,AUDRCV0001,QSECOFR,MROSSI,DST,,,\n\
2026-04-08-10.15.32.000001,13,PROD1,QGPL,AUDRCV0001,QSECOFR,MROSSI,CHG,maybe,,\n";
    let output = enrich(&workspace, &["--audit-type", "cp"], csv);
    assert_eq!(output.status.code(), Some(65), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ALLOBJ") && stderr(&output).contains("maybe"),
        "{}",
        stderr(&output)
    );
    let events = events(&output);
    assert_eq!(events.len(), 2, "the good rows are still written");
    assert_eq!(events[0]["audit_type"], "CP");
    assert_eq!(events[0]["event_action"], "privilege_granted");
    assert_eq!(events[0]["severity"], "critical");
    assert_eq!(events[0]["target_user"], "JSMITH");
    assert_eq!(events[0]["cp"]["allobj"], true);
    assert_eq!(events[0]["cp"]["previous_allobj"], false);
    assert_eq!(events[1]["event_action"], "password_reset_dst");
    assert!(events[1]["cp"]["allobj"].is_null());
    let unknown = enrich(&workspace, &["--audit-type", "zz"], csv);
    assert_eq!(unknown.status.code(), Some(78));
}
