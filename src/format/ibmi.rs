//! The `ibmi` object of ECS (`unmapped.ibmi` in OCSF): IBM i facts no
//! standard field holds (position, type and code, labels, job, program) and
//! one typed block (the session, the signal, the type's columns, or JS's own
//! fields), written straight into the buffer in key order. The common
//! members are a sorted plan ([`COMMON`]); the typed block goes in before the
//! first common key that sorts after its own; a type's columns are written
//! in the order of a plan made once per type ([`column_plan`]).

use super::json::Obj;
use crate::event::audit::{catalog, Column, TypeSpec, Value};
use crate::event::Event;

/// The keys of the members every event has, in key order (a test checks the
/// order; [`write`] writes them in this order, and a debug build checks
/// every object's order as it is written).
const COMMON: [&str; 16] = [
    "audit_type",
    "code",
    "code_label",
    "entry_timestamp_local",
    "event_action",
    "job",
    "privileged",
    "program",
    "qualified_job_name",
    "receiver",
    "remote_address",
    "sequence_number",
    "severity",
    "system_name",
    "target_user",
    "user_name",
];

/// Writes the `ibmi` object of `event` as member `key` of `o`: the common
/// members one after the other (no call through a table per member), the
/// typed block before the first common key that sorts after its own.
pub(crate) fn write(o: &mut Obj<'_>, key: &'static str, event: &Event) {
    o.obj(key, |o| {
        let typed = typed_key(event);
        let at = typed.map_or(COMMON.len(), |typed| {
            COMMON.partition_point(|common| *common < typed)
        });
        let typed_before = |o: &mut Obj<'_>, index: usize| {
            if let Some(typed) = typed.filter(|_| index == at) {
                write_typed(o, typed, event);
            }
        };
        typed_before(o, 0);
        o.opt_str("audit_type", event.audit_type);
        typed_before(o, 1);
        o.opt_str("code", event.code());
        typed_before(o, 2);
        o.str("code_label", &event.code_label);
        typed_before(o, 3);
        o.local("entry_timestamp_local", &event.entry_timestamp_local);
        typed_before(o, 4);
        o.str("event_action", &event.event_action);
        typed_before(o, 5);
        o.obj("job", |o| {
            o.opt_str("name", event.job_name.as_deref());
            o.opt_str("number", event.job_number.as_deref());
            o.opt_str("user", event.job_user.as_deref());
        });
        typed_before(o, 6);
        o.bool("privileged", event.privileged);
        typed_before(o, 7);
        o.obj("program", |o| {
            o.opt_str("library", event.program_library.as_deref());
            o.opt_str("name", event.program_name.as_deref());
        });
        typed_before(o, 8);
        o.opt_str("qualified_job_name", event.qualified_job_name.as_deref());
        typed_before(o, 9);
        o.obj("receiver", |o| {
            o.str("library", &event.receiver_library);
            o.str("name", &event.receiver_name);
        });
        typed_before(o, 10);
        o.opt_str("remote_address", event.remote_address.as_deref());
        typed_before(o, 11);
        o.u64("sequence_number", event.sequence_number);
        typed_before(o, 12);
        o.str("severity", super::severity_name(event.severity));
        typed_before(o, 13);
        o.str("system_name", &event.system_name);
        typed_before(o, 14);
        o.opt_str("target_user", event.target_user.as_deref());
        typed_before(o, 15);
        o.opt_str("user_name", event.user_name.as_deref());
        typed_before(o, 16);
    });
}

/// The key of the event's typed block, if it has one.
fn typed_key(event: &Event) -> Option<&'static str> {
    if event.session.is_some() {
        Some("session")
    } else if event.signal.is_some() {
        Some("signal")
    } else if let Some(details) = &event.details {
        Some(details.spec.key())
    } else if event.audit_type == Some("JS") {
        Some("js")
    } else {
        None
    }
}

/// The typed block: the session, the signal, the type's columns, or JS's
/// own fields, whichever the event has (as [`typed_key`] chose).
fn write_typed(o: &mut Obj<'_>, key: &'static str, event: &Event) {
    if let Some(session) = &event.session {
        o.obj(key, |o| {
            o.opt_f64("duration_seconds", session.duration_seconds);
            o.opt_str("end_entry", session.end_entry.as_deref());
            o.opt_str("end_reason", session.end_reason.as_deref());
            if let Some(ended) = &session.ended_at {
                o.utc("ended_at", ended);
            }
            o.str("id", &session.id);
            o.str("job", &session.job);
            o.str("method", &session.method);
            o.opt_str("remote_address", session.remote_address.as_deref());
            o.opt_bool("secure", session.secure);
            o.str("start_entry", &session.start_entry);
            o.utc("started_at", &session.started_at);
            o.str("user", &session.user);
        });
    } else if let Some(signal) = &event.signal {
        o.obj(key, |o| {
            o.u64("count", signal.count as u64);
            o.utc("first_entry_timestamp", &signal.first_entry_timestamp);
            o.str("key", &signal.key);
            o.str("key_kind", signal.key_kind);
            o.u64("window_seconds", signal.window_seconds);
        });
    } else if let Some(details) = &event.details {
        o.obj(key, |o| {
            for &(index, name) in &column_plan(details.spec).sorted {
                match details.values.get(index) {
                    Some(Value::Text(text)) => o.str(name, text),
                    Some(Value::Integer(number)) => o.i64(name, *number),
                    Some(Value::Flag(flag)) => o.bool(name, *flag),
                    Some(Value::Null) | None => {}
                }
            }
        });
    } else {
        write_js(o, key, event);
    }
}

/// JS's own fields.
fn write_js(o: &mut Obj<'_>, key: &'static str, event: &Event) {
    o.obj(key, |o| {
        o.str("connection_method", &event.connection_method);
        o.opt_bool("connection_secure", event.connection_secure);
        o.str("connection_type", &event.connection_type);
        o.opt_str("device_name", event.device_name.as_deref());
        o.opt_str(
            "effective_user_profile",
            event.effective_user_profile.as_deref(),
        );
        o.opt_str("entry_type", event.entry_type.as_deref());
        o.opt_str("entry_type_detail", event.entry_type_detail.as_deref());
        o.str("job_event_type", &event.job_event_type);
        o.opt_str("job_subtype", event.job_subtype.as_deref());
        o.opt_str("job_type", event.job_type.as_deref());
        o.opt_str("real_user_profile", event.real_user_profile.as_deref());
        o.opt_str(
            "target_qualified_job_name",
            event.target_qualified_job_name.as_deref(),
        );
    });
}

/// A type's column names in lower case, in the catalog's order (native)
/// and in key order with their index in the row's values (ECS, OCSF); made
/// once per catalog type for the process.
#[derive(Clone)]
pub(crate) struct Plan {
    pub(crate) names: Vec<&'static str>,
    sorted: Vec<(usize, &'static str)>,
}

/// The plan of `spec`'s columns.
pub(crate) fn column_plan(spec: &TypeSpec) -> std::borrow::Cow<'static, Plan> {
    static PLANS: std::sync::OnceLock<Vec<(&'static [Column], Plan)>> = std::sync::OnceLock::new();
    let plans = PLANS.get_or_init(|| {
        catalog::ALL
            .iter()
            .map(|spec| (spec.columns, make_plan(spec)))
            .collect()
    });
    let same_names = |columns: &[Column]| {
        columns
            .iter()
            .map(|column| column.name)
            .eq(spec.columns.iter().map(|column| column.name))
    };
    let found = plans
        .iter()
        .find(|(columns, _)| std::ptr::eq(*columns, spec.columns))
        .or_else(|| plans.iter().find(|(columns, _)| same_names(columns)));
    match found {
        Some((_, plan)) => std::borrow::Cow::Borrowed(plan),
        // A type the catalog does not hold (tests may make one).
        None => std::borrow::Cow::Owned(make_plan(spec)),
    }
}

fn make_plan(spec: &TypeSpec) -> Plan {
    let names: Vec<&'static str> = spec
        .columns
        .iter()
        .map(|column| lower_case(column.name))
        .collect();
    let mut sorted: Vec<(usize, &'static str)> = names.iter().copied().enumerate().collect();
    sorted.sort_by(|a, b| a.1.cmp(b.1));
    Plan { names, sorted }
}

/// A catalog column name in lower case, made once per name for the process.
pub(crate) fn lower_case(name: &'static str) -> &'static str {
    static NAMES: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        catalog::ALL
            .iter()
            .flat_map(|spec| spec.columns.iter())
            .map(|column| {
                let lower: &'static str =
                    Box::leak(column.name.to_ascii_lowercase().into_boxed_str());
                (column.name, lower)
            })
            .collect()
    });
    names
        .get(name)
        .copied()
        .unwrap_or_else(|| Box::leak(name.to_ascii_lowercase().into_boxed_str()))
}

#[cfg(test)]
mod tests {
    /// The plan's keys are in byte order, and every typed block's key sorts
    /// apart from them (the writer puts it before the first greater one).
    #[test]
    fn common_members_are_in_key_order() {
        let keys = super::COMMON;
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]), "{keys:?}");
        for spec in crate::event::audit::catalog::ALL {
            assert!(!keys.contains(&spec.key()), "{}", spec.key());
        }
        for typed in ["session", "signal", "js"] {
            assert!(!keys.contains(&typed));
        }
    }
}
