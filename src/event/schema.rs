//! The native schema v2 as JSON Schema, generated from the audit type catalog
//! so the published file (`deploy/schema/event-v2.schema.json`) cannot drift
//! from what the code writes. The JS fields reuse v1's definitions.

use serde_json::{json, Map, Value};

use super::audit::{catalog, Kind};

const V1: &str = include_str!("../../deploy/schema/event-v1.schema.json");

/// Envelope fields, in output order, each always present.
const ENVELOPE: &[&str] = &[
    "schema_version",
    "event_id",
    "entry_timestamp",
    "entry_timestamp_local",
    "system_name",
    "source",
    "receiver_library",
    "receiver_name",
    "sequence_number",
    "audit_type",
    "code",
    "code_label",
    "event_action",
    "severity",
    "privileged",
    "user_name",
    "effective_user",
    "target_user",
    "qualified_job_name",
    "job_name",
    "job_user",
    "job_number",
    "remote_address",
    "remote_port",
    "program_library",
    "program_name",
];

/// The `js` block's fields, as v1 defines them.
const JS_BLOCK: &[&str] = &[
    "entry_type",
    "entry_type_detail",
    "job_event_type",
    "connection_type",
    "connection_method",
    "connection_secure",
    "real_user_profile",
    "effective_user_profile",
    "job_type",
    "job_subtype",
    "device_name",
    "target_qualified_job_name",
];

fn nullable(kind: &str, description: &str) -> Value {
    json!({ "description": description, "type": [kind, "null"] })
}

/// One property per audit type other than JS: its block, the columns of its
/// SYSTOOLS function, trimmed and typed.
fn type_blocks(properties: &mut Map<String, Value>) {
    for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
        let mut block = Map::new();
        for column in spec.columns {
            let kind = match column.kind {
                Kind::Text => "string",
                Kind::Integer => "integer",
                Kind::Flag => "boolean",
            };
            block.insert(
                column.name.to_ascii_lowercase(),
                nullable(kind, &format!("{} column {}", spec.function, column.name)),
            );
        }
        let required: Vec<String> = spec
            .columns
            .iter()
            .map(|column| column.name.to_ascii_lowercase())
            .collect();
        properties.insert(
            spec.key().into(),
            json!({
                "description": format!("{} ({}) entry: the columns of SYSTOOLS.{}, trimmed and typed; null where the entry or the release has no value.", spec.code, spec.name, spec.function),
                "type": "object",
                "properties": block,
                "required": required,
                "additionalProperties": false
            }),
        );
    }
}

/// The JSON Schema of native events, version 2.
pub(crate) fn v2() -> Value {
    let v1: Value = serde_json::from_str(V1).expect("the v1 schema is JSON");
    let v1 = &v1["properties"];
    let codes: Vec<Value> = catalog::ALL
        .iter()
        .map(|spec| Value::from(spec.code))
        .chain([Value::Null])
        .collect();
    let mut properties = Map::new();
    for name in ENVELOPE {
        let property = match *name {
            "schema_version" => json!({
                "description": "Version of this event format; always 2 for this schema.",
                "const": 2
            }),
            "audit_type" => json!({
                "description": "The journal entry type (JS job change, PW password failure, CP profile change, ...); null on events auditfwd itself reports (audit gaps, malformed rows).",
                "enum": codes
            }),
            "code" => nullable("string", "The entry's code within its type: the JS entry type, the PW or AF violation type, the CP or CA command type, the SV, PS, GR, OW, AD or PA entry type. Null when the journal gave none, and on signals and notices."),
            "code_label" => json!({
                "description": "A readable label for the code (for JS, IBM's JOB_EVENT_TYPE label verbatim); for notices and signals, what they are.",
                "type": "string"
            }),
            "event_action" => json!({
                "description": "Machine-readable action: the code's meaning, or a detection (privilege_granted, audit_policy_changed, default_signon_attempt, signon_failure_burst, audit_gap, ...).",
                "type": "string",
                "pattern": "^[a-z][a-z_]*$"
            }),
            "severity" => json!({
                "description": "How alarming the event is, from the code, the detections and whether a privileged profile is involved.",
                "enum": ["info", "low", "medium", "high", "critical"]
            }),
            "privileged" => json!({
                "description": "True when the job's user, the effective user or the profile the entry is about is privileged (configured, or holding *ALLOBJ or *SECADM on the system).",
                "type": "boolean"
            }),
            "source" => nullable("string", "The operator's name for the system in auditfwd's configuration ([[sources]] name), besides the system's own SYSTEM_NAME; null with a single [source] without a name."),
            "effective_user" => nullable("string", "The effective user profile, where the entry type has one (JS)."),
            "target_user" => nullable("string", "The profile the entry is about when it is not the job's user: the failed user of a PW, the changed profile of a CP, the new owner of an OW, ..."),
            other => v1[other].clone(),
        };
        assert!(!property.is_null(), "no definition for {name}");
        properties.insert((*name).to_owned(), property);
    }
    properties.insert("message".into(), v1["message"].clone());
    properties.insert("truncated".into(), v1["truncated"].clone());
    properties.insert("session".into(), v1["session"].clone());
    properties.insert(
        "signal".into(),
        json!({
            "description": "On a signal event (signon_failure_burst): what the counted entries share and how many there were.",
            "type": "object",
            "properties": {
                "key_kind": { "enum": ["user", "remote_address"] },
                "key": { "type": "string" },
                "count": { "type": "integer", "minimum": 2 },
                "window_seconds": { "type": "integer", "minimum": 1 },
                "first_entry_timestamp": v1["entry_timestamp"].clone()
            },
            "required": ["key_kind", "key", "count", "window_seconds", "first_entry_timestamp"],
            "additionalProperties": false
        }),
    );
    let mut js = Map::new();
    for name in JS_BLOCK {
        js.insert((*name).to_owned(), v1[*name].clone());
    }
    properties.insert(
        "js".into(),
        json!({
            "description": "JS (job change) entry: IBM's labels verbatim and JS's own columns.",
            "type": "object",
            "properties": js,
            "required": JS_BLOCK,
            "additionalProperties": false
        }),
    );
    type_blocks(&mut properties);
    let mut conditions = Vec::new();
    for spec in catalog::ALL {
        conditions.push(json!({
            "if": {
                "properties": { "audit_type": { "const": spec.code } },
                "required": ["audit_type"],
                "not": { "anyOf": [{ "required": ["signal"] }, { "required": ["session"] }] }
            },
            "then": { "required": [spec.key()] }
        }));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://auditfwd.invalid/schema/event-v2.schema.json",
        "title": "auditfwd native event, schema v2",
        "description": "One line of auditfwd's native newline-delimited JSON output: an IBM i audit journal entry of any type auditfwd reads, as a common envelope (identity, time, position, type and code, action, severity, users, job, remote address) followed by one typed block named after the entry type (js, pw, cp, af, sv, ps, gr, ca, ow, ad, pa), or a signal block on a signal event. Envelope fields are always present (absent values are null). Generated from auditfwd's audit type catalog.",
        "type": "object",
        "properties": properties,
        "required": ENVELOPE,
        "allOf": conditions,
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published file is exactly what the catalog generates;
    /// `AUDITFWD_UPDATE_SCHEMA=1 cargo test --lib schema` rewrites it.
    #[test]
    fn the_published_v2_schema_is_generated_from_the_catalog() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/schema/event-v2.schema.json"
        );
        let generated = serde_json::to_string_pretty(&v2()).unwrap() + "\n";
        if std::env::var_os("AUDITFWD_UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let published = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            published == generated,
            "{path} differs from the catalog; rewrite it with AUDITFWD_UPDATE_SCHEMA=1 cargo test --lib schema"
        );
    }
}
