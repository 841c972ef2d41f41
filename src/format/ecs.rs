//! Elastic Common Schema 8.x: the event's facts in ECS fields, the mapping
//! table's `event.category`/`event.type`/`event.outcome`, IBM i facts under
//! `ibmi.*`. Tested against ECS 8.17's field definitions
//! (`tests/fixtures/ecs/`).

use serde_json::Value;

use super::light::{self, os, ou64, s, J};

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

/// `event` as an ECS document (a `Value`, for tests and callers that want one).
pub fn ecs(event: &Event) -> Value {
    document(event).into_value()
}

/// Appends `event` as an ECS document to `out`: the same bytes as [`ecs`]
/// written by serde_json, without a `Value` tree.
pub fn write(event: &Event, out: &mut Vec<u8>) {
    document(event).write(out);
}

/// The ECS document as a light tree borrowing from `event`.
fn document(event: &Event) -> J<'_> {
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
    let message = match &event.message {
        Some(message) => s(message),
        None => s(mapping::event_name(event)),
    };
    let strings = |list: &'static [&'static str]| J::Arr(list.iter().map(|item| s(item)).collect());
    let mut event_fields = vec![
        ("kind", s(kind(event))),
        ("module", s("ibmi")),
        ("dataset", s("ibmi.audit")),
        ("provider", s("QAUDJRN")),
        ("id", s(&event.event_id)),
        ("code", light::owned(mapping::event_id(event))),
        ("action", s(&event.event_action)),
        ("category", strings(row.ecs_category)),
        ("type", strings(row.ecs_type)),
        ("outcome", s(row.outcome.ecs())),
        (
            "severity",
            J::U64(u64::from(super::severity_0_10(event.severity))),
        ),
        // A signed long in ECS: left out above 2^63 - 1 (ibmi.sequence_number has it).
        (
            "sequence",
            i64::try_from(event.sequence_number).map_or(J::Null, J::I64),
        ),
    ];
    if let Some(session) = &event.session {
        event_fields.push((
            "start",
            light::owned(crate::event::format_utc(&session.started_at)),
        ));
        if let Some(ended) = &session.ended_at {
            event_fields.push(("end", light::owned(crate::event::format_utc(ended))));
            let nanos = (ended.timestamp_micros() - session.started_at.timestamp_micros()) * 1000;
            event_fields.push(("duration", J::I64(nanos)));
        }
    }
    let ip_value = ip.clone().map_or(J::Null, light::owned);
    J::obj(vec![
        (
            "@timestamp",
            light::owned(crate::event::format_utc(&event.entry_timestamp)),
        ),
        ("ecs", J::obj(vec![("version", s(ECS_VERSION))])),
        ("message", message),
        ("event", J::obj(event_fields)),
        (
            "user",
            J::obj(vec![
                ("name", os(actor)),
                ("effective", J::obj(vec![("name", os(effective))])),
                ("target", J::obj(vec![("name", os(target))])),
            ]),
        ),
        (
            "source",
            J::obj(vec![
                ("address", os(event.remote_address.as_deref())),
                ("ip", ip_value),
                ("port", ou64(event.remote_port.map(u64::from))),
            ]),
        ),
        (
            "host",
            J::obj(vec![
                ("hostname", s(&event.system_name)),
                ("name", s(&event.system_name)),
            ]),
        ),
        (
            "process",
            J::obj(vec![
                ("name", os(event.job_name.as_deref())),
                ("pid", ou64(super::job_number(event))),
                ("entity_id", os(event.qualified_job_name.as_deref())),
                (
                    "user",
                    J::obj(vec![("name", os(event.job_user.as_deref()))]),
                ),
            ]),
        ),
        (
            "related",
            J::obj(vec![
                ("user", J::Arr(related_users.into_iter().map(s).collect())),
                ("ip", J::Arr(ip.into_iter().map(light::owned).collect())),
            ]),
        ),
        ("ibmi", super::ibmi_light(event)),
    ])
}
