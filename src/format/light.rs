//! Test code: the light JSON tree ECS and OCSF were built in before they
//! were written straight into the buffer (`format/json.rs`), kept with the
//! documents built in it (`light/ecs.rs`, `light/ocsf.rs`) as the oracle the
//! writers are compared against. Values borrow from the event, objects are
//! small vectors, and writing gives exactly the bytes the `Value` way gave
//! (keys sorted, nulls and emptied objects and arrays left out, numbers and
//! strings written by serde_json).

use std::borrow::Cow;

use crate::event::Event;
use crate::format::json::write_str;

pub(crate) mod ecs;
pub(crate) mod ocsf;

/// A JSON value that borrows what it can.
#[derive(Clone, Debug)]
pub(super) enum J<'a> {
    /// `null` (left out of objects when written).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A non-negative whole number.
    U64(u64),
    /// A whole number that may be negative.
    I64(i64),
    /// A number with a fraction, written by serde_json.
    F64(f64),
    /// A string, borrowed from the event where it can be.
    Str(Cow<'a, str>),
    /// An array (left out of objects when empty).
    Arr(Vec<J<'a>>),
    /// An object as key/value pairs in any order; keys sorted when written.
    Obj(Vec<(&'a str, J<'a>)>),
}

impl<'a> J<'a> {
    /// An object of `entries` (any order; keys unique).
    pub(super) fn obj(entries: Vec<(&'a str, J<'a>)>) -> J<'a> {
        J::Obj(entries)
    }

    /// Whether the value disappears as an object member: null, or an object
    /// or array with nothing left once pruned.
    fn is_dropped(&self) -> bool {
        match self {
            J::Null => true,
            J::F64(number) => !number.is_finite(),
            J::Obj(entries) => entries.iter().all(|(_, value)| value.is_dropped()),
            J::Arr(items) => items.iter().all(J::is_null),
            _ => false,
        }
    }

    /// Whether the value is null once written (an array drops such items).
    fn is_null(&self) -> bool {
        match self {
            J::Null => true,
            J::F64(number) => !number.is_finite(),
            _ => false,
        }
    }

    /// Appends the value to `out`, sorting each object's members in place
    /// (no allocation: the tree is written once).
    pub(super) fn write(&mut self, out: &mut Vec<u8>) {
        match self {
            J::Null => out.extend_from_slice(b"null"),
            J::Bool(value) => out.extend_from_slice(if *value { b"true" } else { b"false" }),
            J::U64(number) => out.extend_from_slice(itoa::Buffer::new().format(*number).as_bytes()),
            J::I64(number) => out.extend_from_slice(itoa::Buffer::new().format(*number).as_bytes()),
            J::F64(number) if number.is_finite() => {
                serde_json::to_writer(&mut *out, number).expect("a number");
            }
            J::F64(_) => out.extend_from_slice(b"null"),
            J::Str(text) => write_str(out, text),
            J::Arr(items) => {
                out.push(b'[');
                let mut first = true;
                for item in items.iter_mut().filter(|item| !item.is_null()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    item.write(out);
                }
                out.push(b']');
            }
            J::Obj(entries) => {
                entries.sort_unstable_by(|a, b| key_order(a.0, b.0));
                out.push(b'{');
                let mut first = true;
                for (key, value) in entries.iter_mut() {
                    if value.is_dropped() {
                        continue;
                    }
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_str(out, key);
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// Object keys in byte order, first bytes compared before the rest (most
/// keys differ there, which saves a `memcmp` call per comparison).
fn key_order(left: &str, right: &str) -> std::cmp::Ordering {
    match (left.as_bytes().first(), right.as_bytes().first()) {
        (Some(a), Some(b)) if a != b => a.cmp(b),
        _ => left.cmp(right),
    }
}

/// A string, borrowed.
pub(super) fn s(text: &str) -> J<'_> {
    J::Str(Cow::Borrowed(text))
}

/// An optional string, borrowed (null when absent).
pub(super) fn os(text: Option<&str>) -> J<'_> {
    text.map_or(J::Null, s)
}

/// An owned string.
pub(super) fn owned<'a>(text: String) -> J<'a> {
    J::Str(Cow::Owned(text))
}

/// An optional unsigned number.
pub(super) fn ou64(number: Option<u64>) -> J<'static> {
    number.map_or(J::Null, J::U64)
}

/// IBM i facts no standard field holds, under `ibmi` (ECS) or
/// `unmapped.ibmi` (OCSF): position, type and code, labels, job, program,
/// the typed block, the signal or the session; a light tree borrowing from
/// `event`.
pub(crate) fn ibmi_light(event: &Event) -> J<'_> {
    let mut block = vec![
        ("audit_type", os(event.audit_type)),
        ("code", os(event.code())),
        ("code_label", s(&event.code_label)),
        ("event_action", s(&event.event_action)),
        ("severity", s(crate::format::severity_name(event.severity))),
        ("privileged", J::Bool(event.privileged)),
        ("system_name", s(&event.system_name)),
        (
            "receiver",
            J::obj(vec![
                ("library", s(&event.receiver_library)),
                ("name", s(&event.receiver_name)),
            ]),
        ),
        ("sequence_number", J::U64(event.sequence_number)),
        (
            "entry_timestamp_local",
            owned(crate::event::format_local(&event.entry_timestamp_local)),
        ),
        (
            "qualified_job_name",
            os(event.qualified_job_name.as_deref()),
        ),
        (
            "job",
            J::obj(vec![
                ("name", os(event.job_name.as_deref())),
                ("user", os(event.job_user.as_deref())),
                ("number", os(event.job_number.as_deref())),
            ]),
        ),
        (
            "program",
            J::obj(vec![
                ("library", os(event.program_library.as_deref())),
                ("name", os(event.program_name.as_deref())),
            ]),
        ),
        ("remote_address", os(event.remote_address.as_deref())),
        ("user_name", os(event.user_name.as_deref())),
        ("target_user", os(event.target_user.as_deref())),
    ];
    if let Some(typed) = ibmi_typed_block(event) {
        block.push(typed);
    }
    J::obj(block)
}

/// The typed block of the `ibmi` object: the session, the signal, the
/// type's columns, or JS's own fields, whichever the event has.
fn ibmi_typed_block(event: &Event) -> Option<(&'static str, J<'_>)> {
    if let Some(session) = &event.session {
        let time = |at: &chrono::DateTime<chrono::Utc>| owned(crate::event::format_utc(at));
        Some((
            "session",
            J::obj(vec![
                ("id", s(&session.id)),
                ("user", s(&session.user)),
                ("job", s(&session.job)),
                ("method", s(&session.method)),
                ("secure", session.secure.map_or(J::Null, J::Bool)),
                ("remote_address", os(session.remote_address.as_deref())),
                ("started_at", time(&session.started_at)),
                ("ended_at", session.ended_at.as_ref().map_or(J::Null, time)),
                (
                    "duration_seconds",
                    session.duration_seconds.map_or(J::Null, J::F64),
                ),
                ("end_reason", os(session.end_reason.as_deref())),
                ("start_entry", s(&session.start_entry)),
                ("end_entry", os(session.end_entry.as_deref())),
            ]),
        ))
    } else if let Some(signal) = &event.signal {
        Some((
            "signal",
            J::obj(vec![
                ("key_kind", s(signal.key_kind)),
                ("key", s(&signal.key)),
                ("count", J::U64(signal.count as u64)),
                ("window_seconds", J::U64(signal.window_seconds)),
                (
                    "first_entry_timestamp",
                    owned(crate::event::format_utc(&signal.first_entry_timestamp)),
                ),
            ]),
        ))
    } else if let Some(details) = &event.details {
        let columns = details
            .spec
            .columns
            .iter()
            .zip(&details.values)
            .map(|(column, value)| {
                let value = match value {
                    crate::event::audit::Value::Null => J::Null,
                    crate::event::audit::Value::Text(text) => s(text),
                    crate::event::audit::Value::Integer(number) => J::I64(*number),
                    crate::event::audit::Value::Flag(flag) => J::Bool(*flag),
                };
                (crate::format::ibmi::lower_case(column.name), value)
            })
            .collect();
        Some((details.spec.key(), J::obj(columns)))
    } else if event.audit_type == Some("JS") {
        Some((
            "js",
            J::obj(vec![
                ("entry_type", os(event.entry_type.as_deref())),
                ("entry_type_detail", os(event.entry_type_detail.as_deref())),
                ("job_event_type", s(&event.job_event_type)),
                ("connection_type", s(&event.connection_type)),
                ("connection_method", s(&event.connection_method)),
                (
                    "connection_secure",
                    event.connection_secure.map_or(J::Null, J::Bool),
                ),
                ("real_user_profile", os(event.real_user_profile.as_deref())),
                (
                    "effective_user_profile",
                    os(event.effective_user_profile.as_deref()),
                ),
                ("job_type", os(event.job_type.as_deref())),
                ("job_subtype", os(event.job_subtype.as_deref())),
                ("device_name", os(event.device_name.as_deref())),
                (
                    "target_qualified_job_name",
                    os(event.target_qualified_job_name.as_deref()),
                ),
            ]),
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The light tree writes what the Value way wrote, for the shapes the
    /// formats use: nested objects, nulls, emptied objects and arrays,
    /// arrays with nulls, numbers of every kind, escapes.
    #[test]
    fn writes_what_a_pruned_value_writes() {
        let mut light = J::obj(vec![
            ("zeta", s("last \"quoted\" \u{1}")),
            ("alpha", J::U64(7)),
            ("empty", J::obj(vec![("gone", J::Null)])),
            ("none", J::Null),
            ("list", J::Arr(vec![J::Null, s("a"), J::obj(vec![])])),
            ("nulls", J::Arr(vec![J::Null])),
            ("minus", J::I64(-3)),
            ("float", J::F64(0.00025)),
            ("nan", J::F64(f64::NAN)),
            (
                "nested",
                J::obj(vec![("b", J::Bool(false)), ("a", os(Some("x")))]),
            ),
        ]);
        let mut value = json!({
            "zeta": "last \"quoted\" \u{1}",
            "alpha": 7,
            "empty": { "gone": null },
            "none": null,
            "list": [null, "a", {}],
            "nulls": [null],
            "minus": -3,
            "float": 0.00025,
            "nan": null,
            "nested": { "b": false, "a": "x" },
        });
        super::super::prune(&mut value);
        let mut out = Vec::new();
        light.write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&value).unwrap()
        );
    }

    /// The writers against the tree: ECS and OCSF of `event`, appended after
    /// what the buffer holds, are the tree's bytes.
    fn same_as_the_tree(event: &Event) -> Result<(), proptest::test_runner::TestCaseError> {
        use crate::format::Format;
        for (format, mut tree) in [
            (Format::Ecs, super::ecs::document(event)),
            (Format::Ocsf, super::ocsf::document(event)),
        ] {
            let mut expected = b"before\n".to_vec();
            tree.write(&mut expected);
            let mut written = b"before\n".to_vec();
            crate::format::write(event, format, &mut written);
            proptest::prop_assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(expected).unwrap(),
                "{:?} of {}",
                format,
                event.event_id
            );
        }
        Ok(())
    }

    /// Every kind of event (every code of every type, JS over every access
    /// method, detections, notices, signals, sessions) as the tree wrote it.
    #[test]
    fn writers_write_what_the_tree_wrote_for_every_kind_of_event() {
        for event in crate::format::cef::tests::every_kind_of_event() {
            same_as_the_tree(event).unwrap();
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]

        /// Every kind of event with hostile text, absent fields, odd times,
        /// addresses and numbers: the writers give the tree's bytes.
        #[test]
        fn writers_write_what_the_tree_wrote_for_hostile_events(
            pick in 0usize..1000,
            hostile in crate::format::cef::tests::hostile(),
        ) {
            let events = crate::format::cef::tests::every_kind_of_event();
            let event = crate::format::cef::tests::apply(&events[pick % events.len()], &hostile);
            same_as_the_tree(&event)?;
        }
    }
}
