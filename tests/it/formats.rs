//! `sinks[].format`: each sink kind writes the format it is given, and a
//! format a sink cannot carry is a configuration error naming the key.

use std::collections::HashSet;

use crate::harness::config::merged;
use crate::harness::{
    ids, read_events, stderr, stdout, ConfigBuilder, HecStandin, Workspace, ALL_AUDIT_TYPES,
};

const TOTAL: u64 = 400;

fn simulator() -> ConfigBuilder {
    ConfigBuilder::simulator(TOTAL, 0).source("batch_rows = 100")
}

fn run(workspace: &Workspace, config: &str) -> std::process::Output {
    let output = workspace.run(&["run", "-c", config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

/// An ECS document as the file and stdout sinks write it.
fn check_ecs(document: &serde_json::Value) {
    assert_eq!(document["event"]["module"], "ibmi", "{document}");
    assert_eq!(document["event"]["dataset"], "ibmi.audit");
    assert_eq!(document["ecs"]["version"], "8.17.0");
    assert!(document["@timestamp"].as_str().unwrap().ends_with('Z'));
    let code = document["event"]["code"].as_str().unwrap();
    assert!(
        code.starts_with("JS_") || code.starts_with("SESSION_"),
        "{code}"
    );
    assert!(document["host"]["hostname"].is_string());
}

/// An OCSF event as the sinks write it.
fn check_ocsf(event: &serde_json::Value) {
    let class_uid = event["class_uid"].as_u64().unwrap();
    let activity_id = event["activity_id"].as_u64().unwrap();
    assert_eq!(
        event["type_uid"].as_u64(),
        Some(class_uid * 100 + activity_id)
    );
    assert_eq!(event["metadata"]["version"], "1.8.0");
    assert_eq!(event["metadata"]["product"]["name"], "auditfwd");
    assert!(event["time"].is_u64() && event["severity_id"].is_u64());
}

#[test]
fn file_sinks_write_native_ecs_and_ocsf_for_the_same_events() {
    let workspace = Workspace::new();
    let config = workspace.config(
        &simulator()
            .file_sink("native.ndjson")
            .sink(&format!(
                "type = \"file\"\npath = \"{}\"\nformat = \"ecs\"",
                workspace.path("ecs.ndjson").display()
            ))
            .sink(&format!(
                "type = \"file\"\npath = \"{}\"\nformat = \"ocsf\"",
                workspace.path("ocsf.ndjson").display()
            )),
    );
    run(&workspace, &config);
    let native = ids(&workspace.events("native.ndjson"));
    assert_eq!(native.len() as u64, TOTAL);
    let ecs = workspace.events("ecs.ndjson");
    let ocsf = workspace.events("ocsf.ndjson");
    for document in &ecs {
        check_ecs(document);
    }
    for event in &ocsf {
        check_ocsf(event);
    }
    let ecs_ids: Vec<&str> = ecs
        .iter()
        .map(|d| d["event"]["id"].as_str().unwrap())
        .collect();
    let ocsf_ids: Vec<&str> = ocsf
        .iter()
        .map(|e| e["metadata"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(ecs_ids, native, "same events, same order");
    assert_eq!(ocsf_ids, native, "same events, same order");
    // JS starts and ends are OCSF Authentication Logon/Logoff.
    assert!(ocsf
        .iter()
        .any(|event| event["class_uid"] == 3002 && event["activity_id"] == 1));
}

#[test]
fn stdout_writes_ocsf() {
    let workspace = Workspace::new();
    let config = workspace.config(&simulator().sink("type = \"stdout\"\nformat = \"ocsf\""));
    let output = run(&workspace, &config);
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, TOTAL);
    lines.iter().for_each(check_ocsf);
}

#[test]
fn a_format_the_sink_cannot_carry_is_exit_78_naming_the_key() {
    let workspace = Workspace::new();
    for (sink, key) in [
        (
            "type = \"file\"\npath = \"x.ndjson\"\nformat = \"cef\"",
            "sinks[0].format",
        ),
        ("type = \"stdout\"\nformat = \"leef\"", "sinks[0].format"),
        // An unknown value: the key, the value and the accepted ones.
        (
            "type = \"file\"\npath = \"x.ndjson\"\nformat = \"xml\"",
            "sinks[0].format",
        ),
        (
            "type = \"file\"\npath = \"x.ndjson\"\nformat = \"xml\"",
            "`ocsf`",
        ),
        (
            "type = \"syslog\"\naddress = \"127.0.0.1:514\"\nbody = \"cef\"\nformat = \"leef\"",
            "sinks[0].body",
        ),
        (
            "type = \"kafka\"\nbrokers = \"127.0.0.1:9092\"\ntopic = \"t\"\nformat = \"cef\"",
            "sinks[0].format",
        ),
    ] {
        let config = workspace.config(&ConfigBuilder::simulator(10, 0).sink(sink));
        let output = workspace
            .command(&["check-config", "-c", &config])
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(78),
            "{sink}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains(key), "{sink}: {}", stderr(&output));
    }
}

#[test]
fn splunk_hec_sends_the_format_its_sourcetype_and_cim_fields() {
    const TOKEN: &str = "11111111-2222-3333-4444-555555555555";
    let workspace = Workspace::new();
    workspace.write("hec.token", &format!("{TOKEN}\n"));
    let standin = HecStandin::start(workspace.dir.path(), TOKEN, &["--ack"]);
    let hec = merged(
        &format!(
            "type = \"splunk_hec\"\nendpoint = \"http://127.0.0.1:{}\"\ntoken_file = \"hec.token\"\nindex = \"ibmi\"",
            standin.port
        ),
        "format = \"ocsf\"",
    );
    let config = workspace.config(&simulator().file_sink("events.ndjson").sink(&hec));
    run(&workspace, &config);
    let expected: HashSet<String> = ids(&workspace.events("events.ndjson"))
        .into_iter()
        .collect();
    let indexed = standin.indexed();
    let mut seen = HashSet::new();
    for line in &indexed {
        let envelope = &line["envelope"];
        assert_eq!(envelope["sourcetype"], "ibmi:audit:ocsf");
        check_ocsf(&envelope["event"]);
        let fields = &envelope["fields"];
        assert!(
            fields["signature_id"].as_str().unwrap().starts_with("JS_"),
            "{fields}"
        );
        assert_eq!(fields["dest"], envelope["host"]);
        assert!(
            matches!(fields["action"].as_str(), Some("success" | "failure")),
            "{fields}"
        );
        assert!(fields["ibmi_tags"].is_array() || fields.get("ibmi_tags").is_none());
        seen.insert(
            envelope["event"]["metadata"]["uid"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(seen, expected, "every event indexed");
    assert!(indexed
        .iter()
        .any(|line| line["envelope"]["fields"]["ibmi_tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|tag| tag == "authentication"))));
}

#[test]
fn native_file_output_is_unchanged_by_the_format_key() {
    let workspace = Workspace::new();
    let config = workspace.config(&simulator().file_sink("default.ndjson").sink(&format!(
        "type = \"file\"\npath = \"{}\"\nformat = \"native\"",
        workspace.path("native.ndjson").display()
    )));
    run(&workspace, &config);
    assert_eq!(
        std::fs::read(workspace.path("default.ndjson")).unwrap(),
        std::fs::read(workspace.path("native.ndjson")).unwrap()
    );
    assert_eq!(
        read_events(&workspace.path("native.ndjson")).len() as u64,
        TOTAL
    );
}

#[test]
fn kafka_records_carry_the_format() {
    let cluster = rdkafka::mocking::MockCluster::new(1).expect("mock cluster");
    cluster
        .create_topic(crate::kafka::TOPIC, 1, 1)
        .expect("topic");
    let brokers = cluster.bootstrap_servers();
    let state = tempfile::tempdir().unwrap();
    let mut config = crate::kafka::config(state.path(), &brokers, 300);
    for sink in &mut config.sinks {
        if let auditfwd::sink::SinkConfig::Kafka(kafka) = sink {
            kafka.format = auditfwd::format::Format::Ecs;
        }
    }
    crate::kafka::run(config).expect("run");
    let records = crate::kafka::consume(&brokers, crate::kafka::TOPIC, 1, 300);
    assert_eq!(records.len(), 300);
    for (key, document, _) in &records {
        check_ecs(document);
        assert_eq!(
            document["event"]["id"],
            key.as_str(),
            "the key is the event id"
        );
    }
}

#[test]
fn syslog_bodies_in_leef_and_ocsf() {
    let rsyslog = crate::harness::Rsyslog::start();
    for format in ["leef", "ocsf"] {
        let workspace = Workspace::new();
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(rsyslog.dir().join("out/tcp.jsonl"));
        let config = workspace.config(&simulator().file_sink("events.ndjson").sink(&format!(
            "type = \"syslog\"\naddress = \"127.0.0.1:{}\"\nformat = \"{format}\"",
            rsyslog.port("tcp")
        )));
        run(&workspace, &config);
        let events = workspace.events("events.ndjson");
        let received = rsyslog.received_at_least("tcp", events.len());
        assert_eq!(received.len(), events.len(), "{format}");
        for line in &received {
            let msg = line["msg"].as_str().unwrap().trim_start();
            if format == "ocsf" {
                check_ocsf(&serde_json::from_str(msg).expect("the body is the OCSF event"));
            } else {
                let header: Vec<&str> = msg.splitn(7, '|').collect();
                assert_eq!(header[0], "LEEF:2.0", "{msg}");
                assert_eq!(header[5], "x09");
                assert!(header[4].starts_with("JS_"));
                let attributes: std::collections::HashMap<&str, &str> = header[6]
                    .split('\t')
                    .filter_map(|pair| pair.split_once('='))
                    .collect();
                assert_eq!(attributes["devTimeFormat"], "MMM dd yyyy HH:mm:ss.SSS z");
                assert!(attributes.contains_key("devTime") && attributes.contains_key("cat"));
            }
        }
    }
}

/// Every event of `path` (one JSON object a line) validates against OCSF
/// 1.8.0 or ECS 8.17 (the same validators as the library's unit tests).
fn validate_file(path: &std::path::Path, format: &str) -> usize {
    let events = read_events(path);
    let ocsf = crate::format_validate::OcsfSchema::load();
    let ecs = crate::format_validate::EcsSchema::load();
    for event in &events {
        let errors = match format {
            "ocsf" => ocsf.validate(event),
            _ => ecs.validate(event),
        };
        assert!(errors.is_empty(), "{format}: {errors:#?}\nin {event:#}");
    }
    events.len()
}

fn file_sinks_in_both_formats(workspace: &Workspace) -> String {
    ["ecs", "ocsf"]
        .iter()
        .map(|format| {
            format!(
                "\n[[sinks]]\ntype = \"file\"\npath = \"{}\"\nformat = \"{format}\"\n",
                workspace.path(&format!("{format}.ndjson")).display()
            )
        })
        .collect()
}

#[test]
fn the_simulators_events_validate_as_ocsf_and_ecs() {
    let workspace = Workspace::new();
    let base = workspace.config(&ConfigBuilder::simulator(5_000, 0).source(&format!(
        "batch_rows = 1000\naudit_types = {ALL_AUDIT_TYPES}"
    )));
    let config = std::fs::read_to_string(&base).unwrap() + &file_sinks_in_both_formats(&workspace);
    let config = workspace.write("formats.toml", &config);
    run(&workspace, config.to_str().unwrap());
    for format in ["ecs", "ocsf"] {
        // 5,000 JS entries, the other types' entries between them, and the signals.
        let count = validate_file(&workspace.path(&format!("{format}.ndjson")), format);
        assert!(count > 5_000, "{format}: {count}");
    }
}

#[test]
fn the_labs_events_validate_as_ocsf_and_ecs() {
    let lab = crate::harness::Lab::new("formats");
    lab.sql("SELECT lab.generate(3000, 3, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', 1000)");
    lab.sql("SELECT lab.generate_mixed(3000, 4, TIMESTAMP '2026-04-08 09:00:00', INTERVAL '1 second', 1000)");
    let workspace = Workspace::new();
    let base = workspace.lab_config(
        &ConfigBuilder::lab(&lab)
            .source(&format!(
                "batch_rows = 500\naudit_types = {ALL_AUDIT_TYPES}"
            ))
            .odbc("exclude_own_connections = false")
            .every_entry(),
    );
    let config = std::fs::read_to_string(&base).unwrap() + &file_sinks_in_both_formats(&workspace);
    let config = workspace.write("formats.toml", &config);
    run(&workspace, config.to_str().unwrap());
    for format in ["ecs", "ocsf"] {
        let count = validate_file(&workspace.path(&format!("{format}.ndjson")), format);
        assert!(count >= 6_000, "{format}: {count}");
    }
}

#[test]
fn enrich_writes_any_format() {
    let workspace = Workspace::new();
    let rows = workspace.write(
        "rows.jsonl",
        concat!(
            r#"{"ENTRY_TIMESTAMP":"2026-04-08-10.15.30.000120","SEQUENCE_NUMBER":"42","SYSTEM_NAME":"PROD1","#,
            r#""RECEIVER_LIBRARY":"QGPL","RECEIVER_NAME":"AUDRCV0042","ENTRY_TYPE":"S","USER_NAME":"JSMITH","#,
            r#""QUALIFIED_JOB_NAME":"123456/QUSER/QZDASOINIT","JOB_NAME":"QZDASOINIT","JOB_TYPE":"PJ","#,
            r#""REMOTE_ADDRESS":"192.0.2.9","REMOTE_PORT":"50123","REAL_USER_PROFILE":"JSMITH"}"#,
            "\n"
        ),
    );
    let enrich = |format: &str| {
        let output = workspace
            .command(&["enrich", "--format", format, "-i", rows.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let ocsf: serde_json::Value = serde_json::from_str(enrich("ocsf").trim()).unwrap();
    assert!(crate::format_validate::OcsfSchema::load()
        .validate(&ocsf)
        .is_empty());
    assert_eq!(
        (ocsf["class_uid"].as_u64(), ocsf["logon_type_id"].as_u64()),
        (Some(3002), Some(8))
    );
    let ecs: serde_json::Value = serde_json::from_str(enrich("ecs").trim()).unwrap();
    assert!(crate::format_validate::EcsSchema::load()
        .validate(&ecs)
        .is_empty());
    assert!(enrich("cef").starts_with("CEF:0|auditfwd|auditfwd|"));
    assert!(enrich("leef").starts_with("LEEF:2.0|auditfwd|auditfwd|"));
    let native: serde_json::Value = serde_json::from_str(enrich("native").trim()).unwrap();
    assert_eq!(native["event_id"], "PROD1:QGPL/AUDRCV0042:42");
}
