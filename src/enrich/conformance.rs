//! Native lines read back (`event::wire`) write out byte for byte. Here
//! rather than in `event`, because building events takes the enricher. (The
//! v2 JSON Schema over every kind of event is checked in `format::tests`,
//! which builds them.)

use crate::enrich::Enricher;
use crate::event::audit::{catalog, Details, Kind, Value};
use crate::event::wire::parse_native;
use crate::event::JournalRow;

/// Events of every type and code, a JS event, a notice and a burst signal,
/// enriched as the pipeline does, are valid v2 events; their v1 JS
/// counterpart is a valid v1 event.
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
