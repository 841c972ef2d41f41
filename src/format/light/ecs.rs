//! The ECS document as it was built before it was written straight into the
//! buffer: a light tree, sorted and pruned when written. The oracle the
//! writer in `format/ecs.rs` is compared against.

use super::{os, ou64, s, J};
use crate::event::Event;
use crate::format::ecs::{kind, ECS_VERSION};
use crate::format::mapping;

/// The ECS document as a light tree borrowing from `event`.
pub(crate) fn document(event: &Event) -> J<'_> {
    let row = mapping::lookup(event);
    let (actor, effective, target) = crate::format::users(event);
    let ip = crate::format::remote_ip(event).map(|ip| ip.to_string());
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
        ("code", super::owned(mapping::event_id(event))),
        ("action", s(&event.event_action)),
        ("category", strings(row.ecs_category)),
        ("type", strings(row.ecs_type)),
        ("outcome", s(row.outcome.ecs())),
        (
            "severity",
            J::U64(u64::from(crate::format::severity_0_10(event.severity))),
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
            super::owned(crate::event::format_utc(&session.started_at)),
        ));
        if let Some(ended) = &session.ended_at {
            event_fields.push(("end", super::owned(crate::event::format_utc(ended))));
            let nanos = (ended.timestamp_micros() - session.started_at.timestamp_micros()) * 1000;
            event_fields.push(("duration", J::I64(nanos)));
        }
    }
    let ip_value = ip.clone().map_or(J::Null, super::owned);
    J::obj(vec![
        (
            "@timestamp",
            super::owned(crate::event::format_utc(&event.entry_timestamp)),
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
                ("pid", ou64(crate::format::job_number(event))),
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
                ("ip", J::Arr(ip.into_iter().map(super::owned).collect())),
            ]),
        ),
        ("ibmi", super::ibmi_light(event)),
    ])
}
