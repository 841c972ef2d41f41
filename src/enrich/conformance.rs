//! Conformance of enriched events with the published contracts: every kind of
//! event validates against the v2 JSON Schema, and native lines read back
//! (`event::wire`) write out byte for byte. Here rather than in `event`,
//! because building events takes the enricher.

use crate::enrich::Enricher;
use crate::event::audit::{catalog, Details, Kind, Value};
use crate::event::schema::v2;
use crate::event::wire::parse_native;
use crate::event::{JournalRow, Notice};

const V1: &str = include_str!("../../deploy/schema/event-v1.schema.json");

/// Events of every type and code, a JS event, a notice and a burst signal,
/// enriched as the pipeline does, are valid v2 events; their v1 JS
/// counterpart is a valid v1 event.
#[test]
fn every_kind_of_event_validates_against_the_v2_schema() {
    let validator = jsonschema::validator_for(&v2()).expect("the schema compiles");
    let local = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_micro_opt(9, 0, 0, 42)
        .unwrap();
    let bare = |sequence| {
        let mut row = JournalRow::bare(
            "PROD1",
            "QGPL",
            "AUDRCV0001",
            sequence,
            local,
            local.and_utc(),
        );
        row.user_name = Some("QUSER".into());
        row.remote_address = Some("192.0.2.1".into());
        row.remote_port = Some(50000);
        row
    };
    let enricher = Enricher::default();
    let mut events = Vec::new();
    let mut sequence = 1;
    for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
        for code in spec.codes.iter().map(|code| code.code).chain(["?"]) {
            let values = spec
                .columns
                .iter()
                .map(
                    |column| match (column.name == spec.code_column, column.kind) {
                        (true, _) => Value::Text(code.into()),
                        (false, Kind::Text) => Value::Text("QSECOFR".into()),
                        (false, Kind::Integer) => Value::Integer(7),
                        (false, Kind::Flag) => Value::Flag(sequence % 2 == 0),
                    },
                )
                .collect();
            let mut row = bare(sequence);
            row.details = Some(Details { spec, values });
            events.push(enricher.enrich_owned(row));
            sequence += 1;
        }
    }
    let mut js = bare(sequence);
    js.entry_type = Some("S".into());
    js.job_type = Some("INT".into());
    js.job_name = Some("QPADEV0001".into());
    js.real_user_profile = Some("QSECOFR".into());
    events.push(enricher.enrich_owned(js.clone()));
    let mut gap = bare(sequence + 1);
    gap.notice = Some(Notice {
        action: "audit_gap",
        message: "receiver deleted".into(),
    });
    events.push(enricher.enrich_owned(gap));
    let mut burst = crate::enrich::burst::BurstDetector::new(
        &crate::enrich::config::BurstConfig::default(),
        None,
    );
    let failures: Vec<_> = events
        .iter()
        .filter(|event| event.audit_type == Some("PW"))
        .cloned()
        .collect();
    let signals: Vec<_> = failures
        .iter()
        .flat_map(|event| burst.observe(event))
        .collect();
    assert!(!signals.is_empty());
    events.extend(signals);
    for event in &events {
        let json = serde_json::to_value(event).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {json}");
    }
    let v1: serde_json::Value = serde_json::from_str(V1).unwrap();
    let v1 = jsonschema::validator_for(&v1).unwrap();
    let old = Enricher::default().with_schema(1).enrich_owned(js);
    assert!(v1.is_valid(&serde_json::to_value(&old).unwrap()));
}

fn row(sequence: u64) -> JournalRow {
    let local = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_micro_opt(9, 0, 0, 7)
        .unwrap();
    let mut row = JournalRow::bare(
        "PROD1",
        "QGPL",
        "AUDRCV0001",
        sequence,
        local,
        local.and_utc(),
    );
    row.user_name = Some("QUSER".into());
    row.remote_address = Some("192.0.2.1".into());
    row.remote_port = Some(443);
    row
}

/// Written, read back, written again: the same bytes, for v1, v2 JS, v2 typed
/// and a dead-letter line.
#[test]
fn native_lines_round_trip_byte_for_byte() {
    let mut js = row(1);
    js.entry_type = Some("S".into());
    js.job_type = Some("INT".into());
    js.job_name = Some("QPADEV0001".into());
    js.real_user_profile = Some("JSMITH".into());
    let mut pw = row(2);
    pw.details = Some(Details {
        spec: &catalog::PW,
        values: catalog::PW
            .columns
            .iter()
            .map(|column| match column.name {
                "VIOLATION_TYPE" => Value::Text("P".into()),
                "AUDIT_USER_NAME" => Value::Text("QSECOFR".into()),
                "DECRYPT_OBJECT_ASP_NUMBER" => Value::Integer(1),
                _ => Value::Null,
            })
            .collect(),
    });
    let mut cp = row(3);
    cp.details = Some(Details {
        spec: &catalog::CP,
        values: catalog::CP
            .columns
            .iter()
            .map(|column| match column.kind {
                Kind::Flag => Value::Flag(true),
                _ => Value::Null,
            })
            .collect(),
    });
    let enricher = Enricher::default();
    let events = [
        Enricher::default().with_schema(1).enrich(&js),
        enricher.enrich(&js),
        enricher.enrich_owned(pw),
        enricher.enrich_owned(cp),
    ];
    for event in &events {
        let line = serde_json::to_string(event).unwrap();
        let back = parse_native(&line).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), line);
        let dead = serde_json::json!({"dead_letter": {"sink": "x"}, "event": event}).to_string();
        assert_eq!(
            serde_json::to_string(&parse_native(&dead).unwrap()).unwrap(),
            line
        );
    }
}

#[test]
fn what_is_not_a_native_event_says_why() {
    for (line, why) in [
        ("{", "not JSON"),
        ("{\"a\":1}", "no schema_version"),
        ("{\"schema_version\":9}", "not one auditfwd writes"),
        ("{\"dead_letter\":{}}", "without its \"event\""),
        ("{\"schema_version\":2,\"event_id\":\"X:L/R:1\",\"entry_timestamp\":\"2026-01-01T00:00:00.000000Z\",\"entry_timestamp_local\":\"2026-01-01T00:00:00.000000\",\"system_name\":\"X\",\"receiver_library\":\"L\",\"receiver_name\":\"R\",\"sequence_number\":1,\"audit_type\":\"PW\",\"event_action\":\"signon_failed\",\"severity\":\"low\"}", "without its \"pw\" block"),
    ] {
        let error = parse_native(line).unwrap_err();
        assert!(error.contains(why), "{line}: {error}");
    }
}
