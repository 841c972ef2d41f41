//! Reading native events back (for `auditfwd replay`): a line written by the
//! file or stdout sink (schema v1 or v2), or a dead-letter line wrapping one.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::audit::{Details, Kind, TypeSpec, Value};
use super::{Event, SessionBlock, Signal, SCHEMA_VERSION, SCHEMA_VERSION_V1};

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
        event.code_label = event.job_event_type.clone();
    }
    Ok(event)
}

/// The text at `key` as a `String` or a [`Text`](crate::event::Text).
fn text<T: for<'a> From<&'a str>>(json: &Json, key: &str) -> Result<Option<T>, String> {
    match json.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(text)) => Ok(Some(T::from(text.as_str()))),
        Some(other) => Err(format!("{key} is {other}, not text")),
    }
}

fn required_text<T: for<'a> From<&'a str>>(json: &Json, key: &str) -> Result<T, String> {
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
    let audit_type = match text::<String>(json, "audit_type")? {
        None => None,
        Some(code) => Some(
            TypeSpec::find(&code)
                .ok_or_else(|| format!("audit_type {code:?} is not a type auditfwd reads"))?,
        ),
    };
    let severity = serde_json::from_value(json.get("severity").cloned().unwrap_or(Json::Null))
        .map_err(|error| format!("severity: {error}"))?;
    let js = json.get("js");
    let js_text = |key: &str| -> Result<Option<crate::event::Text>, String> {
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
    let signal = signal_block(json.get("signal"))?;
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
        job_event_type: Cow::Owned(js_text("job_event_type")?.unwrap_or_default().into()),
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
        connection_type: Cow::Owned(js_text("connection_type")?.unwrap_or_default().into()),
        connection_method: Cow::Owned(js_text("connection_method")?.unwrap_or_default().into()),
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
        truncated: json
            .get("truncated")
            .and_then(Json::as_array)
            .map(|names| {
                names
                    .iter()
                    .filter_map(|name| name.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        audit_type: audit_type.map(|spec| spec.code),
        code: text(json, "code")?,
        code_label: Cow::Owned(text(json, "code_label")?.unwrap_or_default()),
        target_user: text(json, "target_user")?,
        details,
        signal,
        source_name: text::<String>(json, "source")?.map(std::sync::Arc::from),
        session: session_block(json.get("session"))?,
    })
}

/// The `signal` block of a burst event back into its [`Signal`].
fn signal_block(block: Option<&Json>) -> Result<Option<Signal>, String> {
    Ok(match block {
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
            first_entry_timestamp: chrono::DateTime::parse_from_rfc3339(&required_text::<String>(
                block,
                "first_entry_timestamp",
            )?)
            .map_err(|error| format!("signal.first_entry_timestamp: {error}"))?
            .with_timezone(&chrono::Utc),
        }),
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
                (Kind::Text, Some(Json::String(text))) => Ok(Value::Text(text.as_str().into())),
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

/// The `session` block of a session event back into [`SessionBlock`].
fn session_block(block: Option<&Json>) -> Result<Option<Box<SessionBlock>>, String> {
    let Some(block) = block.filter(|block| !block.is_null()) else {
        return Ok(None);
    };
    let time = |key: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        text::<String>(block, key)?
            .map(|value| {
                chrono::DateTime::parse_from_rfc3339(&value)
                    .map(|time| time.with_timezone(&chrono::Utc))
                    .map_err(|error| format!("session.{key}: {error}"))
            })
            .transpose()
    };
    Ok(Some(Box::new(SessionBlock {
        id: required_text(block, "id")?,
        user: required_text(block, "user")?,
        job: required_text(block, "job")?,
        method: text(block, "method")?.unwrap_or_default(),
        secure: block.get("secure").and_then(Json::as_bool),
        remote_address: text(block, "remote_address")?,
        started_at: time("started_at")?.ok_or("session.started_at is missing")?,
        ended_at: time("ended_at")?,
        duration_seconds: block.get("duration_seconds").and_then(Json::as_f64),
        end_reason: text(block, "end_reason")?,
        start_entry: required_text(block, "start_entry")?,
        end_entry: text(block, "end_entry")?,
    })))
}
