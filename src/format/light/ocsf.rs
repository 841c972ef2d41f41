//! The OCSF document as it was built before it was written straight into
//! the buffer: a light tree, sorted and pruned when written. The oracle the
//! writer in `format/ocsf.rs` is compared against.

use super::{os, ou64, s, J};
use crate::event::Event;
use crate::format::mapping::{self, OcsfClass, Outcome};
use crate::format::ocsf::{
    account_switch_type, class_and_activity, logon_type, NOT_AVAILABLE, OCSF_VERSION,
};

/// Special authorities a CP entry reports with their previous values.
const SPECIAL_AUTHORITIES: &[&str] = &[
    "ALLOBJ", "AUDIT", "IOSYSCFG", "JOBCTL", "SAVSYS", "SECADM", "SERVICE", "SPLCTL",
];

fn user(name: Option<&str>) -> J<'_> {
    J::obj(vec![("name", s(name.unwrap_or(NOT_AVAILABLE)))])
}

/// Sets `key` in `entries`, replacing an earlier value (the last one wins).
fn set<'a>(entries: &mut Vec<(&'a str, J<'a>)>, key: &'a str, value: J<'a>) {
    match entries.iter_mut().find(|(name, _)| *name == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

/// The OCSF event as a light tree borrowing from `event`.
pub(crate) fn document(event: &Event) -> J<'_> {
    let row = mapping::lookup(event);
    let (class, activity_id) = class_and_activity(event);
    let mut out = common(event, class, activity_id);
    if row.outcome != Outcome::Unknown {
        set(
            &mut out,
            "status_id",
            J::U64(u64::from(row.outcome.ocsf_status_id())),
        );
        set(
            &mut out,
            "status",
            s(match row.outcome {
                Outcome::Success => "Success",
                _ => "Failure",
            }),
        );
        set(&mut out, "status_detail", s(&event.code_label));
    }
    actor_and_source(&mut out, event, class);
    class_fields(&mut out, event, class, activity_id);
    J::obj(out)
}

/// The members every OCSF event has: class, type, severity, time, message,
/// metadata, the device (the IBM i) and the unmapped IBM i block.
fn common(event: &Event, class: OcsfClass, activity_id: u32) -> Vec<(&'static str, J<'_>)> {
    let (severity_id, severity) = crate::format::ocsf_severity(event.severity);
    let message = match &event.message {
        Some(message) => s(message),
        None => s(mapping::event_name(event)),
    };
    let class_uid = class.uid();
    vec![
        ("activity_id", J::U64(u64::from(activity_id))),
        ("activity_name", s(class.activity_name(activity_id))),
        ("category_uid", J::U64(u64::from(class.category_uid()))),
        ("category_name", s(class.category_name())),
        ("class_uid", J::U64(u64::from(class_uid))),
        ("class_name", s(class.name())),
        (
            "type_uid",
            J::U64(u64::from(class_uid) * 100 + u64::from(activity_id)),
        ),
        (
            "type_name",
            super::owned(format!(
                "{}: {}",
                class.name(),
                class.activity_name(activity_id)
            )),
        ),
        ("severity_id", J::U64(u64::from(severity_id))),
        ("severity", s(severity)),
        ("time", J::I64(event.entry_timestamp.timestamp_millis())),
        ("message", message),
        (
            "metadata",
            J::obj(vec![
                (
                    "product",
                    J::obj(vec![
                        ("name", s("auditfwd")),
                        ("vendor_name", s("auditfwd")),
                        ("version", s(env!("CARGO_PKG_VERSION"))),
                    ]),
                ),
                ("version", s(OCSF_VERSION)),
                // `device` is the IBM i the entry was journaled on.
                ("profiles", J::Arr(vec![s("host")])),
                ("uid", s(&event.event_id)),
                ("event_code", super::owned(mapping::event_id(event))),
                ("log_name", s("QAUDJRN")),
                ("log_provider", s("IBM i security audit journal")),
                (
                    "original_time",
                    super::owned(crate::event::format_local(&event.entry_timestamp_local)),
                ),
            ]),
        ),
        (
            "device",
            J::obj(vec![
                ("hostname", s(&event.system_name)),
                ("name", s(&event.system_name)),
                ("type_id", J::U64(1)),
                ("type", s("Server")),
                (
                    "os",
                    J::obj(vec![
                        ("name", s("IBM i")),
                        ("type_id", J::U64(99)),
                        ("type", s("IBM i")),
                    ]),
                ),
            ]),
        ),
        ("unmapped", J::obj(vec![("ibmi", super::ibmi_light(event))])),
    ]
}

/// The actor (user, process or the system itself) and, for the classes
/// that have one, the source endpoint.
fn actor_and_source<'a>(out: &mut Vec<(&'a str, J<'a>)>, event: &'a Event, class: OcsfClass) {
    let (actor_name, _, _) = crate::format::users(event);
    let mut actor = Vec::new();
    if let Some(name) = actor_name {
        actor.push(("user", J::obj(vec![("name", s(name))])));
    }
    if event.qualified_job_name.is_some() || crate::format::job_number(event).is_some() {
        actor.push(("process", process(event)));
    }
    if actor.is_empty() {
        actor.push(("app_name", s("IBM i")));
    }
    set(out, "actor", J::obj(actor));
    // Only IAM, network and event-log classes have a source endpoint; the
    // others keep the remote address in `unmapped.ibmi`.
    let has_source = matches!(
        class,
        OcsfClass::Authentication
            | OcsfClass::AccountChange
            | OcsfClass::UserAccessManagement
            | OcsfClass::NetworkActivity
            | OcsfClass::EventLogActivity
    );
    let port = ou64(event.remote_port.map(u64::from));
    if !has_source {
    } else if let Some(ip) = crate::format::remote_ip(event) {
        set(
            out,
            "src_endpoint",
            J::obj(vec![("ip", super::owned(ip.to_string())), ("port", port)]),
        );
    } else if let Some(address) = &event.remote_address {
        set(
            out,
            "src_endpoint",
            J::obj(vec![("name", s(address)), ("port", port)]),
        );
    }
}

/// What the event's class adds.
fn class_fields<'a>(
    out: &mut Vec<(&'a str, J<'a>)>,
    event: &'a Event,
    class: OcsfClass,
    activity_id: u32,
) {
    let (_, _, target) = crate::format::users(event);
    let details = event.details.as_ref();
    let text = |column: &str| details.and_then(|details| details.text(column));
    match class {
        OcsfClass::Authentication => authentication(out, event, activity_id),
        OcsfClass::AccountChange => {
            set(out, "user", user(target));
        }
        OcsfClass::UserAccessManagement => {
            set(out, "user", user(target));
            set(
                out,
                "privileges",
                J::Arr(privileges(event).into_iter().map(super::owned).collect()),
            );
        }
        OcsfClass::FileSystemActivity => file_system(out, event),
        OcsfClass::ProcessActivity => {
            set(out, "process", process(event));
        }
        OcsfClass::EventLogActivity => {
            set(out, "log_name", s("QAUDJRN"));
            set(out, "log_provider", s("IBM i security audit journal"));
            set(out, "log_type_id", J::U64(1));
            set(out, "log_type", s("OS"));
        }
        OcsfClass::NetworkActivity => {
            let port = details.and_then(|details| match details.value("TCPIP_PORT") {
                Some(crate::event::audit::Value::Integer(port)) => u16::try_from(*port).ok(),
                _ => None,
            });
            set(
                out,
                "dst_endpoint",
                J::obj(vec![
                    ("hostname", s(&event.system_name)),
                    ("port", ou64(port.map(u64::from))),
                ]),
            );
        }
        OcsfClass::ApplicationLifecycle => {
            let name = match (text("EXIT_PROGRAM_LIBRARY"), text("EXIT_PROGRAM")) {
                (Some(library), Some(program)) => format!("{library}/{program}"),
                (None, Some(program)) => program.to_owned(),
                _ => text("EXIT_POINT_NAME").unwrap_or(NOT_AVAILABLE).to_owned(),
            };
            set(
                out,
                "app",
                J::obj(vec![
                    ("name", super::owned(name)),
                    (
                        "feature",
                        text("EXIT_POINT_NAME")
                            .map_or(J::Null, |point| J::obj(vec![("name", s(point))])),
                    ),
                ]),
            );
        }
        OcsfClass::DeviceConfigStateChange => {}
        OcsfClass::DetectionFinding => {
            set(
                out,
                "finding_info",
                J::obj(vec![
                    ("uid", s(&event.event_id)),
                    ("title", s(&event.code_label)),
                    ("desc", os(event.message.as_deref())),
                    ("types", J::Arr(vec![s(&event.event_action)])),
                ]),
            );
            set(out, "is_alert", J::Bool(true));
            // In finding classes status is the finding's workflow state: a new
            // alert is New (1), not In Progress (2), which is what the
            // outcome's Failure would map to.
            set(out, "status_id", J::U64(1));
            set(out, "status", s("New"));
        }
    }
}

/// Authentication: the subject, service, destination, logon type, clear
/// text, the session's times, the kind of account switch.
fn authentication<'a>(out: &mut Vec<(&'a str, J<'a>)>, event: &'a Event, activity_id: u32) {
    let (actor_name, effective, target) = crate::format::users(event);
    let subject = match (activity_id, event.audit_type) {
        // A swap authenticates the profile switched to.
        (7, _) => target.or(effective).or(actor_name),
        // PW and AF name the profile that failed to sign on.
        (_, Some("PW" | "AF")) => target.or(actor_name),
        _ => actor_name,
    };
    set(out, "user", user(subject));
    set(
        out,
        "service",
        J::obj(vec![(
            "name",
            s(match event.connection_method.as_ref() {
                "" | "unknown" => "IBM i",
                method => method,
            }),
        )]),
    );
    set(
        out,
        "dst_endpoint",
        J::obj(vec![("hostname", s(&event.system_name))]),
    );
    set(out, "is_remote", J::Bool(event.remote_address.is_some()));
    if matches!(activity_id, 1 | 2) {
        if let Some((id, name)) = logon_type(event) {
            set(out, "logon_type_id", J::U64(u64::from(id)));
            set(out, "logon_type", s(name));
        }
        if let Some(secure) = event.connection_secure {
            set(out, "is_cleartext", J::Bool(!secure));
        }
    }
    if let Some(session) = &event.session {
        // A session event: when it began, when it ended and how long
        // it lasted, where known (an unknown end has none of these).
        let started = session.started_at.timestamp_millis();
        set(out, "start_time", J::I64(started));
        set(
            out,
            "session",
            J::obj(vec![
                ("uid", s(&session.id)),
                ("created_time", J::I64(started)),
                ("is_remote", J::Bool(session.remote_address.is_some())),
            ]),
        );
        if let Some(ended) = session.ended_at {
            set(out, "end_time", J::I64(ended.timestamp_millis()));
            set(out, "duration", J::I64(ended.timestamp_millis() - started));
        }
    }
    if activity_id == 7 {
        let (id, name) = account_switch_type(event);
        set(out, "account_switch_type_id", J::U64(u64::from(id)));
        set(out, "account_switch_type", s(name));
    }
}

/// File system activity: the object as a file, with its path and owner.
fn file_system<'a>(out: &mut Vec<(&'a str, J<'a>)>, event: &'a Event) {
    let details = event.details.as_ref();
    let text = |column: &str| details.and_then(|details| details.text(column));
    let name = text("OBJECT_NAME")
        .map(str::to_owned)
        .or_else(|| {
            text("PATH_NAME")
                .and_then(|path| path.rsplit('/').find(|part| !part.is_empty()))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| NOT_AVAILABLE.to_owned());
    let path = text("PATH_NAME").map(str::to_owned).or_else(|| {
        Some(format!(
            "{}/{}",
            text("OBJECT_LIBRARY")?,
            text("OBJECT_NAME")?
        ))
    });
    let object_type = text("OBJECT_TYPE");
    let (type_id, type_name) = match object_type.map(str::to_ascii_uppercase).as_deref() {
        Some("*LIB" | "*DIR") => (2, "Folder"),
        Some("*STMF") => (1, "Regular File"),
        Some("*PGM" | "*SRVPGM") => (8, "Executable File"),
        _ => (99, "Other"),
    };
    let owner = text("NEW_OWNER").or(text("OBJECT_OWNER"));
    set(
        out,
        "file",
        J::obj(vec![
            ("name", super::owned(name)),
            ("path", path.map_or(J::Null, super::owned)),
            ("type_id", J::U64(type_id)),
            // The caption of type_id; IBM's object type stays in unmapped.ibmi.
            ("type", s(type_name)),
            (
                "owner",
                owner.map_or(J::Null, |owner| J::obj(vec![("name", s(owner))])),
            ),
        ]),
    );
}

fn process(event: &Event) -> J<'_> {
    J::obj(vec![
        ("name", os(event.job_name.as_deref())),
        (
            "pid",
            crate::format::job_number(event)
                .and_then(|pid| i32::try_from(pid).ok())
                .map_or(J::Null, |pid| J::I64(i64::from(pid))),
        ),
        (
            "uid",
            s(event
                .qualified_job_name
                .as_deref()
                .unwrap_or(&event.event_id)),
        ),
        (
            "user",
            event
                .job_user
                .as_deref()
                .map_or(J::Null, |name| J::obj(vec![("name", s(name))])),
        ),
    ])
}

/// What a User Access Management event assigns or revokes: the special
/// authorities a CP entry newly grants, the function a GR entry opens, the
/// authority a CA entry grants; `*N` when the entry names none.
fn privileges(event: &Event) -> Vec<String> {
    let Some(details) = &event.details else {
        return vec![NOT_AVAILABLE.into()];
    };
    let found: Vec<String> = match details.spec.code {
        "CP" => SPECIAL_AUTHORITIES
            .iter()
            .filter(|authority| {
                details.flag(authority) == Some(true)
                    && details.flag(&format!("PREVIOUS_{authority}")) != Some(true)
            })
            .map(|authority| format!("*{authority}"))
            .collect(),
        "GR" => details
            .text("FUNCTION_NAME")
            .map(|function| match details.text("USAGE_SETTING") {
                Some(usage) => format!("{function} {usage}"),
                None => function.to_owned(),
            })
            .into_iter()
            .collect(),
        _ => details
            .text("OBJECT_AUTHORITY")
            .map(str::to_owned)
            .into_iter()
            .collect(),
    };
    if found.is_empty() {
        vec![NOT_AVAILABLE.into()]
    } else {
        found
    }
}
