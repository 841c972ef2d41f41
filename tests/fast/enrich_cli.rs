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

/// Parses CEF lines with pycef (PyPI), a parser nobody here wrote; fails with
/// how to get it.
fn pycef(lines: &str) -> Vec<serde_json::Value> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys, pycef\nfor line in sys.stdin:\n    print(json.dumps(pycef.parse(line.rstrip('\\n'))))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "pycef is needed: `python3 -m pip install pycef` (bash .ci/setup does it): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("pycef output"))
        .collect()
}

/// The AF entry of Sekoia's published IBM i sample (an IBM i 7.4 generator
/// line): the same facts as an AUDIT_JOURNAL_AF row.
const AF_ROW: &str = r#"{"ENTRY_TIMESTAMP":"2026-04-08-10.15.30.123456","SEQUENCE_NUMBER":"42","SYSTEM_NAME":"I5OSP4","RECEIVER_LIBRARY":"QSYS","RECEIVER_NAME":"QAUDRCV001","USER_NAME":"THOMAS","QUALIFIED_JOB_NAME":"722470/THOMAS/QPADEV000P","JOB_NAME":"QPADEV000P","JOB_USER":"THOMAS","JOB_NUMBER":"722470","REMOTE_ADDRESS":"192.168.126.71","REMOTE_PORT":"36868","VIOLATION_TYPE":"A","OBJECT_LIBRARY":"QZRDSECSRM","OBJECT_NAME":"CFGJSCR","OBJECT_TYPE":"*PGM"}"#;

#[test]
fn the_ibm_cef_dialect_writes_ibm_i_s_own_layout() {
    let workspace = Workspace::new();
    workspace.write("af.jsonl", &format!("{AF_ROW}\n"));
    let output = workspace.run(&[
        "enrich",
        "--input",
        "af.jsonl",
        "--audit-type",
        "AF",
        "--format",
        "cef",
        "--cef-dialect",
        "ibm",
        "--ibm-release",
        "7.4",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let line = stdout(&output);
    // IBM's layout, byte for byte, up to the last key IBM's generator writes
    // (header, key names, their order, the severity word, *NO, the object as
    // cs1 labelled objName); auditfwd's keys follow.
    let ibm = "CEF:0|IBM|IBM i|7.4|QSYS-QAUDJRN|T-AF|Medium|reason=Authority failure msg=Not authorized to object fileType=*PGM cs1Label=objName cs1=QZRDSECSRM/CFGJSCR suser=THOMAS sproc=722470/THOMAS/QPADEV000P shost=I5OSP4 src=192.168.126.71 spt=36868 evtAggregation=*NO entryTypeField=A";
    assert!(line.starts_with(&format!("{ibm} ")), "{line}");
    let parsed = pycef(&line);
    assert_eq!(parsed.len(), 1);
    let event = &parsed[0];
    for (key, value) in [
        ("DeviceVendor", "IBM"),
        ("DeviceProduct", "IBM i"),
        ("DeviceEventClassID", "QSYS-QAUDJRN"),
        ("Name", "T-AF"),
        ("Severity", "Medium"),
        ("suser", "THOMAS"),
        ("sproc", "722470/THOMAS/QPADEV000P"),
        ("shost", "I5OSP4"),
        ("src", "192.168.126.71"),
        ("objName", "QZRDSECSRM/CFGJSCR"),
        ("entryTypeField", "A"),
        ("rt", "2026-04-08-10.15.30.123456"),
    ] {
        assert_eq!(event[key], value, "{key} in {event}");
    }
}

#[test]
fn both_cef_dialects_stay_one_record_each_under_hostile_text_for_an_independent_parser() {
    let workspace = Workspace::new();
    let nasty = "Jö|h=n\\\\ \\\"Ä]\\nX^y\\r\\t✓ a=b\\u0000|";
    let row = AF_ROW
        .replace("\"QZRDSECSRM\"", &format!("\"{nasty}\""))
        .replace(
            "\"722470/THOMAS/QPADEV000P\"",
            &format!("\"722470/{nasty}/QPADEV000P\""),
        );
    workspace.write("af.jsonl", &format!("{row}\n{row}\n"));
    for dialect in ["auditfwd", "ibm"] {
        let output = workspace.run(&[
            "enrich",
            "--input",
            "af.jsonl",
            "--audit-type",
            "AF",
            "--format",
            "cef",
            "--cef-dialect",
            dialect,
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert_eq!(text.lines().count(), 2, "two entries, two records: {text}");
        let parsed = pycef(&text);
        assert_eq!(parsed.len(), 2);
        let job = if dialect == "ibm" { "sproc" } else { "dproc" };
        for event in &parsed {
            // pycef splits the record but leaves CEF's escapes in place; undone
            // here by the spec: the line ends come back, tab and NUL are spaces.
            let value = event[job].as_str().unwrap();
            let mut unescaped = String::new();
            let mut chars = value.chars();
            while let Some(c) = chars.next() {
                match (c, c == '\\') {
                    (_, true) => match chars.next() {
                        Some('n') => unescaped.push('\n'),
                        Some('r') => unescaped.push('\r'),
                        Some(other) => unescaped.push(other),
                        None => {}
                    },
                    (c, false) => unescaped.push(c),
                }
            }
            assert_eq!(
                unescaped, "722470/Jö|h=n\\ \"Ä]\nX^y\r ✓ a=b |/QPADEV000P",
                "{dialect}: {event}"
            );
        }
    }
}
