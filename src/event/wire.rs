//! Reading native events back (for `auditfwd replay`): a line written by the
//! file or stdout sink (schema v1 or v2), or a dead-letter line wrapping one.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::audit::{Details, Kind, TypeSpec, Value};
use super::{Event, Signal, SCHEMA_VERSION, SCHEMA_VERSION_V1};

/// Parses one native event line; the error says what is wrong with it.
pub fn parse_native(line: &str) -> Result<Event, String> {
    let json: Json = serde_json::from_str(line).map_err(|error| format!("not JSON: {error}"))?;
    // A dead-letter line: {"dead_letter": {...}, "event": {...}}.
    let json = match json {
        Json::Object(mut object) if object.contains_key("dead_letter") => object
            .remove("event")
            .ok_or("a dead-letter line without its \"event\"")?,
        other => other,
    };
    match json.get("schema_version").and_then(Json::as_u64) {
        Some(version) if version == u64::from(SCHEMA_VERSION_V1) => v1(json),
        Some(version) if version == u64::from(SCHEMA_VERSION) => v2(&json),
        Some(version) => Err(format!(
            "schema_version {version} is not one auditfwd writes (1 or 2)"
        )),
        None => Err("not an auditfwd native event (no schema_version)".into()),
    }
}

fn v1(json: Json) -> Result<Event, String> {
    let mut event: Event =
        serde_json::from_value(json).map_err(|error| format!("not a v1 event: {error}"))?;
    if event.message.is_none() {
        event.audit_type = Some("JS");
        event.code = event.entry_type.clone();
        event.code_label = event.job_event_type.clone();
    }
    Ok(event)
}

fn text(json: &Json, key: &str) -> Result<Option<String>, String> {
    match json.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(format!("{key} is {other}, not text")),
    }
}

fn required_text(json: &Json, key: &str) -> Result<String, String> {
    text(json, key)?.ok_or_else(|| format!("{key} is missing"))
}

fn v2(json: &Json) -> Result<Event, String> {
    let timestamp = |key: &str| -> Result<String, String> { required_text(json, key) };
    let entry_timestamp = chrono::DateTime::parse_from_rfc3339(&timestamp("entry_timestamp")?)
        .map_err(|error| format!("entry_timestamp: {error}"))?
        .with_timezone(&chrono::Utc);
    let entry_timestamp_local = chrono::NaiveDateTime::parse_from_str(
        &timestamp("entry_timestamp_local")?,
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .map_err(|error| format!("entry_timestamp_local: {error}"))?;
    let audit_type = match text(json, "audit_type")? {
        None => None,
        Some(code) => Some(
            TypeSpec::find(&code)
                .ok_or_else(|| format!("audit_type {code:?} is not a type auditfwd reads"))?,
        ),
    };
    let severity = serde_json::from_value(json.get("severity").cloned().unwrap_or(Json::Null))
        .map_err(|error| format!("severity: {error}"))?;
    let js = json.get("js");
    let js_text = |key: &str| -> Result<Option<String>, String> {
        js.map_or(Ok(None), |block| text(block, key))
    };
    let details = match audit_type {
        Some(spec) if !spec.is_js() && json.get("signal").is_none() => {
            let block = json.get(spec.key()).ok_or_else(|| {
                format!("a {} event without its {:?} block", spec.code, spec.key())
            })?;
            Some(details(spec, block)?)
        }
        _ => None,
    };
    let signal = match json.get("signal") {
        None | Some(Json::Null) => None,
        Some(block) => Some(Signal {
            key_kind: match block.get("key_kind").and_then(Json::as_str) {
                Some("user") => "user",
                Some("remote_address") => "remote_address",
                other => {
                    return Err(format!(
                        "signal.key_kind {other:?} is not user or remote_address"
                    ))
                }
            },
            key: required_text(block, "key")?,
            count: block.get("count").and_then(Json::as_u64).unwrap_or(0) as usize,
            window_seconds: block
                .get("window_seconds")
                .and_then(Json::as_u64)
                .unwrap_or(0),
            first_entry_timestamp: chrono::DateTime::parse_from_rfc3339(&required_text(
                block,
                "first_entry_timestamp",
            )?)
            .map_err(|error| format!("signal.first_entry_timestamp: {error}"))?
            .with_timezone(&chrono::Utc),
        }),
    };
    Ok(Event {
        schema_version: SCHEMA_VERSION,
        event_id: required_text(json, "event_id")?,
        entry_timestamp,
        entry_timestamp_local,
        system_name: required_text(json, "system_name")?,
        receiver_library: required_text(json, "receiver_library")?,
        receiver_name: required_text(json, "receiver_name")?,
        sequence_number: json
            .get("sequence_number")
            .and_then(Json::as_u64)
            .ok_or("sequence_number is missing or not a whole number")?,
        entry_type: js_text("entry_type")?,
        entry_type_detail: js_text("entry_type_detail")?,
        job_event_type: Cow::Owned(js_text("job_event_type")?.unwrap_or_default()),
        event_action: Cow::Owned(required_text(json, "event_action")?),
        user_name: text(json, "user_name")?,
        real_user_profile: js_text("real_user_profile")?,
        effective_user_profile: js_text("effective_user_profile")?
            .or(text(json, "effective_user")?),
        qualified_job_name: text(json, "qualified_job_name")?,
        job_name: text(json, "job_name")?,
        job_user: text(json, "job_user")?,
        job_number: text(json, "job_number")?,
        job_type: js_text("job_type")?,
        job_subtype: js_text("job_subtype")?,
        remote_address: text(json, "remote_address")?,
        remote_port: json
            .get("remote_port")
            .and_then(Json::as_u64)
            .map(|port| {
                u32::try_from(port).map_err(|_| format!("remote_port {port} is not a port"))
            })
            .transpose()?,
        connection_type: Cow::Owned(js_text("connection_type")?.unwrap_or_default()),
        connection_method: Cow::Owned(js_text("connection_method")?.unwrap_or_default()),
        connection_secure: js
            .and_then(|block| block.get("connection_secure"))
            .and_then(Json::as_bool),
        privileged: json
            .get("privileged")
            .and_then(Json::as_bool)
            .unwrap_or(false),
        severity,
        device_name: js_text("device_name")?,
        program_library: text(json, "program_library")?,
        program_name: text(json, "program_name")?,
        target_qualified_job_name: js_text("target_qualified_job_name")?,
        message: text(json, "message")?,
        audit_type: audit_type.map(|spec| spec.code),
        code: text(json, "code")?,
        code_label: Cow::Owned(text(json, "code_label")?.unwrap_or_default()),
        target_user: text(json, "target_user")?,
        details,
        signal,
    })
}

/// The typed block of `spec` back into [`Details`], column by column.
fn details(spec: &'static TypeSpec, block: &Json) -> Result<Details, String> {
    let values = spec
        .columns
        .iter()
        .map(|column| {
            let key = column.name.to_ascii_lowercase();
            match (column.kind, block.get(&key)) {
                (_, None | Some(Json::Null)) => Ok(Value::Null),
                (Kind::Text, Some(Json::String(text))) => Ok(Value::Text(text.clone())),
                (Kind::Integer, Some(number)) if number.is_i64() => {
                    Ok(Value::Integer(number.as_i64().unwrap_or_default()))
                }
                (Kind::Flag, Some(Json::Bool(flag))) => Ok(Value::Flag(*flag)),
                (_, Some(other)) => Err(format!(
                    "{}.{key} is {other}, not {:?}",
                    spec.key(),
                    column.kind
                )),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Details { spec, values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::Enricher;
    use crate::event::audit::catalog;
    use crate::event::JournalRow;

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
            let dead =
                serde_json::json!({"dead_letter": {"sink": "x"}, "event": event}).to_string();
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
}
