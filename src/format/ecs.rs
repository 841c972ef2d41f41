//! Elastic Common Schema 8.x: the event's facts in ECS fields, the mapping
//! table's `event.category`/`event.type`/`event.outcome`, IBM i facts under
//! `ibmi.*`. Tested against ECS 8.17's field definitions
//! (`tests/fixtures/ecs/`).

use serde_json::Value;

use super::json::{self, Obj};
use super::mapping::{self, Key, Outcome, Row};
use crate::event::Event;

/// The ECS release the field names and allowed values come from.
pub const ECS_VERSION: &str = "8.17.0";

/// `event.kind` of an event: `alert` for a signal auditfwd derived,
/// `pipeline_error` for a row it could not parse, `event` otherwise.
pub fn kind(event: &Event) -> &'static str {
    KINDS[kind_of(event, mapping::lookup(event))]
}

/// The values of `event.kind`, by [`kind_of`]'s index.
const KINDS: [&str; 3] = ["alert", "pipeline_error", "event"];

/// The index in [`KINDS`] of the event's `event.kind`.
fn kind_of(event: &Event, row: &Row) -> usize {
    if event.signal.is_some() {
        0
    } else if row.key == Key::Own("malformed_row") {
        1
    } else {
        2
    }
}

/// Members the same for every event, or for every event of a kind and
/// outcome, rendered once for the process ([`json::render`]).
struct Constants {
    /// `ecs`.
    ecs: &'static str,
    /// `event.dataset`.
    dataset: &'static str,
    /// `event.kind` to `event.provider`, by kind ([`KINDS`]) and outcome
    /// (`Outcome` as usize: success, failure, unknown).
    kind_to_provider: [[&'static str; 3]; 3],
}

fn constants() -> &'static Constants {
    static CONSTANTS: std::sync::OnceLock<Constants> = std::sync::OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let outcomes = [Outcome::Success, Outcome::Failure, Outcome::Unknown];
        for (index, outcome) in outcomes.iter().enumerate() {
            assert_eq!(*outcome as usize, index, "outcomes in declaration order");
        }
        Constants {
            ecs: json::render(|o| o.obj("ecs", |o| o.str("version", ECS_VERSION))),
            dataset: json::render(|o| o.str("dataset", "ibmi.audit")),
            kind_to_provider: KINDS.map(|kind| {
                outcomes.map(|outcome| {
                    json::render(|o| {
                        o.str("kind", kind);
                        o.str("module", "ibmi");
                        o.str("outcome", outcome.ecs());
                        o.str("provider", "QAUDJRN");
                    })
                })
            }),
        }
    })
}

/// `event` as an ECS document (a `Value`, for tests and callers that want one).
pub fn ecs(event: &Event) -> Value {
    let mut out = Vec::with_capacity(2048);
    write(event, &mut out);
    serde_json::from_slice(&out).expect("the writer writes JSON")
}

/// Appends `event` as an ECS document to `out`, straight into the buffer:
/// members in key order, absent values and emptied objects left out (the
/// bytes serde_json gave for the pruned `Value`).
pub fn write(event: &Event, out: &mut Vec<u8>) {
    let row = mapping::lookup(event);
    let (actor, effective, target) = super::users(event);
    let ip = super::remote_ip(event);
    json::document(out, |o| {
        o.utc("@timestamp", &event.entry_timestamp);
        o.members(constants().ecs);
        write_event(o, event, row);
        o.obj("host", |o| {
            o.str("hostname", &event.system_name);
            o.str("name", &event.system_name);
        });
        super::ibmi::write(o, "ibmi", event);
        o.str("message", message(event));
        o.obj("process", |o| {
            o.opt_str("entity_id", event.qualified_job_name.as_deref());
            o.opt_str("name", event.job_name.as_deref());
            o.opt_u64("pid", super::job_number(event));
            o.obj("user", |o| o.opt_str("name", event.job_user.as_deref()));
        });
        o.obj("related", |o| {
            if let Some(ip) = ip {
                o.raw("ip", |out| {
                    out.push(b'[');
                    write_ip(out, ip);
                    out.push(b']');
                });
            }
            let mut users: [Option<&str>; 4] = [None; 4];
            let mut count = 0;
            for name in [actor, effective, target, event.job_user.as_deref()]
                .into_iter()
                .flatten()
            {
                if !users[..count].contains(&Some(name)) {
                    users[count] = Some(name);
                    count += 1;
                }
            }
            o.strs("user", users[..count].iter().flatten().copied());
        });
        o.obj("source", |o| {
            o.opt_str("address", event.remote_address.as_deref());
            if let Some(ip) = ip {
                o.raw("ip", |out| write_ip(out, ip));
            }
            o.opt_u64("port", event.remote_port.map(u64::from));
        });
        o.obj("user", |o| {
            o.obj("effective", |o| o.opt_str("name", effective));
            o.opt_str("name", actor);
            o.obj("target", |o| o.opt_str("name", target));
        });
    });
}

/// The document's `message`: the event's own, or the name of what happened.
fn message(event: &Event) -> &str {
    match &event.message {
        Some(message) => message,
        None => mapping::event_name(event),
    }
}

/// An IP address as a JSON string (its text needs no escaping): an IPv4
/// address digit by digit (what `Display` writes, without its machinery),
/// an IPv6 one through `Display`.
pub(crate) fn write_ip(out: &mut Vec<u8>, ip: std::net::IpAddr) {
    use std::io::Write;
    match ip {
        std::net::IpAddr::V4(ip) => {
            out.push(b'"');
            for (index, octet) in ip.octets().into_iter().enumerate() {
                if index > 0 {
                    out.push(b'.');
                }
                out.extend_from_slice(itoa::Buffer::new().format(octet).as_bytes());
            }
            out.push(b'"');
        }
        std::net::IpAddr::V6(ip) => write!(out, "\"{ip}\"").expect("writing to a Vec"),
    }
}

/// The `event` object: what happened, as the mapping table classifies it.
fn write_event(o: &mut Obj<'_>, event: &Event, row: &Row) {
    o.obj("event", |o| {
        o.str("action", &event.event_action);
        o.strs("category", row.ecs_category.iter().copied());
        o.raw("code", |out| write_event_id(out, event));
        o.members(constants().dataset);
        let ended = event
            .session
            .as_ref()
            .and_then(|session| Some((session.started_at, session.ended_at?)));
        if let Some((started, ended)) = ended {
            let nanos = (ended.timestamp_micros() - started.timestamp_micros()) * 1000;
            o.i64("duration", nanos);
            o.utc("end", &ended);
        }
        o.str("id", &event.event_id);
        o.members(constants().kind_to_provider[kind_of(event, row)][row.outcome as usize]);
        // A signed long in ECS: left out above 2^63 - 1 (ibmi.sequence_number has it).
        if let Ok(sequence) = i64::try_from(event.sequence_number) {
            o.i64("sequence", sequence);
        }
        o.u64("severity", u64::from(super::severity_0_10(event.severity)));
        if let Some(session) = &event.session {
            o.utc("start", &session.started_at);
        }
        o.strs("type", row.ecs_type.iter().copied());
    });
}

/// [`mapping::event_id`] as a JSON string, without making the text.
pub(crate) fn write_event_id(out: &mut Vec<u8>, event: &Event) {
    match mapping::event_id_parts(event) {
        // Actions are ASCII names: upper-cased in the buffer, no new string.
        mapping::EventId::Action(action)
            if action.is_ascii() && !json::needs_escape(action.as_bytes()) =>
        {
            let start = out.len();
            json::write_plain(out, action.as_bytes());
            out[start..].make_ascii_uppercase();
        }
        mapping::EventId::Action(action) => json::write_str(out, &action.to_uppercase()),
        mapping::EventId::Entry(kind, Some(code)) => json::write_parts(out, &[kind, "_", code]),
        mapping::EventId::Entry(kind, None) => json::write_str(out, kind),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    #[test]
    fn ip_addresses_are_written_as_display_writes_them() {
        let samples = [
            "0.0.0.0",
            "255.255.255.255",
            "192.0.2.10",
            "10.0.100.7",
            "2001:db8::15",
            "::ffff:192.0.2.1",
            "::",
        ];
        for text in samples {
            let ip: IpAddr = text.parse().unwrap();
            let mut out = Vec::new();
            super::write_ip(&mut out, ip);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("\"{ip}\""),
                "{text}"
            );
        }
    }
}
