//! Elastic Common Schema 8.x: the event's facts in ECS fields, the mapping
//! table's `event.category`/`event.type`/`event.outcome`, IBM i facts under
//! `ibmi.*`. Tested against ECS 8.17's field definitions
//! (`tests/fixtures/ecs/`).

use serde_json::{json, Value};

use super::mapping::{self, Key};
use crate::event::Event;

/// The ECS release the field names and allowed values come from.
pub const ECS_VERSION: &str = "8.17.0";

/// `event.kind` of an event: `alert` for a signal auditfwd derived,
/// `pipeline_error` for a row it could not parse, `event` otherwise.
pub fn kind(event: &Event) -> &'static str {
    if event.signal.is_some() {
        "alert"
    } else if mapping::lookup(event).key == Key::Own("malformed_row") {
        "pipeline_error"
    } else {
        "event"
    }
}

/// `event` as an ECS document.
pub fn ecs(event: &Event) -> Value {
    let row = mapping::lookup(event);
    let (actor, effective, target) = super::users(event);
    let ip = super::remote_ip(event).map(|ip| ip.to_string());
    let mut related_users: Vec<&str> = Vec::new();
    for name in [actor, effective, target, event.job_user.as_deref()]
        .into_iter()
        .flatten()
    {
        if !related_users.contains(&name) {
            related_users.push(name);
        }
    }
    let message = event
        .message
        .clone()
        .unwrap_or_else(|| mapping::event_name(event));
    let mut document = json!({
        "@timestamp": crate::event::format_utc(&event.entry_timestamp),
        "ecs": { "version": ECS_VERSION },
        "message": message,
        "event": {
            "kind": kind(event),
            "module": "ibmi",
            "dataset": "ibmi.audit",
            "provider": "QAUDJRN",
            "id": event.event_id,
            "code": mapping::event_id(event),
            "action": event.event_action,
            "category": row.ecs_category,
            "type": row.ecs_type,
            "outcome": row.outcome.ecs(),
            "severity": super::severity_0_10(event.severity),
            // A signed long in ECS: left out above 2^63 - 1 (ibmi.sequence_number has it).
            "sequence": i64::try_from(event.sequence_number).ok(),
        },
        "user": {
            "name": actor,
            "effective": { "name": effective },
            "target": { "name": target },
        },
        "source": {
            "address": event.remote_address,
            "ip": ip,
            "port": event.remote_port,
        },
        "host": {
            "hostname": event.system_name,
            "name": event.system_name,
        },
        "process": {
            "name": event.job_name,
            "pid": super::job_number(event),
            "entity_id": event.qualified_job_name,
            "user": { "name": event.job_user },
        },
        "related": {
            "user": related_users,
            "ip": ip.iter().collect::<Vec<_>>(),
        },
        "ibmi": super::ibmi_block(event),
    });
    if let Some(session) = &event.session {
        document["event"]["start"] = json!(crate::event::format_utc(&session.started_at));
        if let Some(ended) = &session.ended_at {
            document["event"]["end"] = json!(crate::event::format_utc(ended));
            let nanos = (ended.timestamp_micros() - session.started_at.timestamp_micros()) * 1000;
            document["event"]["duration"] = json!(nanos);
        }
    }
    super::prune(&mut document);
    document
}
