//! OCSF 1.8.0: every event in the class and activity the mapping table names,
//! with the required attributes of its class always present, `type_uid`
//! computed, and IBM i facts under `unmapped.ibmi`. Tested against OCSF
//! 1.8.0's class and object definitions (`tests/fixtures/ocsf/`).

use serde_json::Value;

use super::json::{self, Obj};
use super::mapping::{self, OcsfClass, Outcome, Row};
use crate::event::{Event, SessionBlock};

/// The OCSF release auditfwd writes.
pub const OCSF_VERSION: &str = "1.8.0";

/// IBM i's "no value" (`*N`): the name used where OCSF requires a user, a
/// file or a privilege and the entry names none.
pub const NOT_AVAILABLE: &str = "*N";

/// `logon_type_id` and its caption from the JS access method: 5250 sessions
/// are interactive (remote when they came over the network), host servers
/// are network logons (`8 Network Cleartext` when the server is known to be
/// unencrypted), batch and system work are what they say; `None` unknown.
pub fn logon_type(event: &Event) -> Option<(u8, &'static str)> {
    let cleartext = event.connection_secure == Some(false);
    match event.connection_method.as_ref() {
        "telnet_5250" if event.remote_address.is_some() => Some((10, "Remote Interactive")),
        "telnet_5250" => Some((2, "Interactive")),
        "ssh" => Some((10, "Remote Interactive")),
        "batch" => Some((4, "Batch")),
        "system" => Some((1, "System")),
        "" | "unknown" => None,
        _ if cleartext => Some((8, "Network Cleartext")),
        _ => Some((3, "Network")),
    }
}

/// `account_switch_type_id` of an Account Switch: a swap (JS M, PS A/E/S)
/// substitutes the user; a token or handle (JS T, PS H/P/V, AF N/V/W)
/// impersonates one.
pub fn account_switch_type(event: &Event) -> (u8, &'static str) {
    match (event.audit_type, event.code()) {
        (Some("JS"), Some("M")) | (Some("PS"), Some("A" | "E" | "S")) | (Some("AF"), Some("P")) => {
            (1, "Substitute User")
        }
        _ => (2, "Impersonate"),
    }
}

/// The OCSF class and activity of `event`: the table's, refined where the
/// entry says more (an audit value set to `*NONE` disables, auditing set
/// from `*NONE` enables, function usage `*DENIED` revokes).
pub fn class_and_activity(event: &Event) -> (OcsfClass, u32) {
    class_and_activity_of(event, mapping::lookup(event))
}

/// [`class_and_activity`] with the event's table row already looked up.
fn class_and_activity_of(event: &Event, row: &Row) -> (OcsfClass, u32) {
    let details = event.details.as_ref();
    let text = |column: &str| details.and_then(|details| details.text(column));
    let is_none =
        |value: Option<&str>| value.is_some_and(|value| value.eq_ignore_ascii_case("*NONE"));
    let activity = match (
        event.audit_type,
        event.event_action.as_ref(),
        row.ocsf_activity,
    ) {
        (Some("SV"), "audit_policy_changed", _) if is_none(text("NEW_VALUE")) => 10,
        (Some("AD"), _, 99)
            if is_none(text("PREV_OBJECT_AUDIT"))
                && text("OBJECT_AUDIT").is_some_and(|now| !now.eq_ignore_ascii_case("*NONE")) =>
        {
            9
        }
        (Some("GR"), _, 1)
            if text("USAGE_SETTING").is_some_and(|usage| usage.eq_ignore_ascii_case("*DENIED")) =>
        {
            2
        }
        (_, _, activity) => activity,
    };
    (row.ocsf_class, activity)
}

/// `event` as an OCSF event (a `Value`, for tests and callers that want one).
pub fn ocsf(event: &Event) -> Value {
    let mut out = Vec::with_capacity(2048);
    write(event, &mut out);
    serde_json::from_slice(&out).expect("the writer writes JSON")
}

/// Members that are the same for every event of a class, an activity or a
/// severity, rendered once for the process ([`json::render`]): about a
/// third of an event's members, copied whole instead of key by key.
struct Constants {
    /// Per class (in declaration order): `category_name` to `class_uid`.
    classes: Vec<&'static str>,
    /// Per class, per activity slot ([`activity_slot`]): `activity_id` and
    /// `activity_name`, and `type_name` and `type_uid`.
    activities: Vec<[(&'static str, &'static str); ACTIVITY_SLOTS]>,
    /// `device` from `os` on.
    device_tail: &'static str,
    /// `metadata`'s `log_name` and `log_provider`.
    metadata_log: &'static str,
    /// `metadata`'s `product` and `profiles`.
    metadata_product: &'static str,
    /// `metadata`'s `version`.
    metadata_version: &'static str,
    /// Event Log Activity's `log_name` to `log_type_id`.
    event_log: &'static str,
    /// Per severity (in declaration order): `severity` and `severity_id`.
    severities: [&'static str; 5],
}

/// Activities 0 to 10 and 99 (Other): every activity the mapping gives.
const ACTIVITY_SLOTS: usize = 12;

/// The slot of `activity_id` in [`Constants::activities`], if it has one.
fn activity_slot(activity_id: u32) -> Option<usize> {
    match activity_id {
        0..=10 => Some(activity_id as usize),
        99 => Some(11),
        _ => None,
    }
}

fn constants() -> &'static Constants {
    use crate::event::Severity;
    static CONSTANTS: std::sync::OnceLock<Constants> = std::sync::OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let mut classes = Vec::new();
        let mut activities = Vec::new();
        for (index, class) in OcsfClass::ALL.iter().copied().enumerate() {
            assert_eq!(class as usize, index, "OcsfClass::ALL in declaration order");
            classes.push(json::render(|o| write_class(o, class)));
            activities.push(std::array::from_fn(|slot| {
                let activity_id = if slot == 11 { 99 } else { slot as u32 };
                (
                    json::render(|o| write_activity(o, class, activity_id)),
                    json::render(|o| write_type(o, class, activity_id)),
                )
            }));
        }
        let severities = [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .map(|severity| {
            assert!(severity as usize <= 4);
            json::render(|o| write_severity(o, severity))
        });
        Constants {
            classes,
            activities,
            device_tail: json::render(|o| {
                o.obj("os", |o| {
                    o.str("name", "IBM i");
                    o.str("type", "IBM i");
                    o.u64("type_id", 99);
                });
                o.str("type", "Server");
                o.u64("type_id", 1);
            }),
            metadata_log: json::render(write_log_names),
            metadata_product: json::render(|o| {
                o.obj("product", |o| {
                    o.str("name", "auditfwd");
                    o.str("vendor_name", "auditfwd");
                    o.str("version", env!("CARGO_PKG_VERSION"));
                });
                // `device` is the IBM i the entry was journaled on.
                o.strs("profiles", ["host"]);
            }),
            metadata_version: json::render(|o| o.str("version", OCSF_VERSION)),
            event_log: json::render(|o| {
                write_log_names(o);
                o.str("log_type", "OS");
                o.u64("log_type_id", 1);
            }),
            severities,
        }
    })
}

/// `log_name` and `log_provider`: the audit journal.
fn write_log_names(o: &mut Obj<'_>) {
    o.str("log_name", "QAUDJRN");
    o.str("log_provider", "IBM i security audit journal");
}

/// `activity_id` and `activity_name`.
fn write_activity(o: &mut Obj<'_>, class: OcsfClass, activity_id: u32) {
    o.u64("activity_id", u64::from(activity_id));
    o.str("activity_name", class.activity_name(activity_id));
}

/// `category_name` to `class_uid`.
fn write_class(o: &mut Obj<'_>, class: OcsfClass) {
    o.str("category_name", class.category_name());
    o.u64("category_uid", u64::from(class.category_uid()));
    o.str("class_name", class.name());
    o.u64("class_uid", u64::from(class.uid()));
}

/// `type_name` and `type_uid`.
fn write_type(o: &mut Obj<'_>, class: OcsfClass, activity_id: u32) {
    o.parts(
        "type_name",
        &[class.name(), ": ", class.activity_name(activity_id)],
    );
    o.u64(
        "type_uid",
        u64::from(class.uid()) * 100 + u64::from(activity_id),
    );
}

/// `severity` and `severity_id`.
fn write_severity(o: &mut Obj<'_>, severity: crate::event::Severity) {
    let (severity_id, severity) = super::ocsf_severity(severity);
    o.str("severity", severity);
    o.u64("severity_id", u64::from(severity_id));
}

/// What decides which members an OCSF event has.
struct Shape<'a> {
    event: &'a Event,
    class: OcsfClass,
    activity_id: u32,
    outcome: Outcome,
    /// Authentication's session facts apply.
    auth: bool,
    /// A logon or logoff (activity 1 or 2 of Authentication).
    logon: bool,
}

/// Appends `event` as an OCSF event to `out`, straight into the buffer: the
/// members every class has and those of the event's class, in key order,
/// absent values and emptied objects left out (the bytes serde_json gave
/// for the pruned `Value`).
pub fn write(event: &Event, out: &mut Vec<u8>) {
    let row = mapping::lookup(event);
    let (class, activity_id) = class_and_activity_of(event, row);
    let auth = class == OcsfClass::Authentication;
    let shape = Shape {
        event,
        class,
        activity_id,
        outcome: row.outcome,
        auth,
        logon: auth && matches!(activity_id, 1 | 2),
    };
    json::document(out, |o| write_members(o, &shape));
}

/// The top-level members, in key order.
fn write_members(o: &mut Obj<'_>, shape: &Shape<'_>) {
    let Shape {
        event,
        class,
        activity_id,
        auth,
        logon,
        ..
    } = *shape;
    let session = event.session.as_deref().filter(|_| auth);
    if auth && activity_id == 7 {
        let (id, name) = account_switch_type(event);
        o.str("account_switch_type", name);
        o.u64("account_switch_type_id", u64::from(id));
    }
    let constants = constants();
    let activity =
        activity_slot(activity_id).map(|slot| constants.activities[class as usize][slot]);
    match activity {
        Some((members, _)) => o.members(members),
        None => write_activity(o, class, activity_id),
    }
    let actor_process = write_actor(o, event);
    if class == OcsfClass::ApplicationLifecycle {
        write_app(o, event);
    }
    o.members(constants.classes[class as usize]);
    write_device(o, event);
    write_dst_endpoint(o, event, class);
    if let Some((started, ended)) =
        session.and_then(|session| Some((session.started_at, session.ended_at?)))
    {
        o.i64(
            "duration",
            ended.timestamp_millis() - started.timestamp_millis(),
        );
        o.i64("end_time", ended.timestamp_millis());
    }
    if class == OcsfClass::FileSystemActivity {
        write_file(o, event);
    }
    let finding = class == OcsfClass::DetectionFinding;
    if finding {
        o.obj("finding_info", |o| {
            o.opt_str("desc", event.message.as_deref());
            o.str("title", &event.code_label);
            o.strs("types", [event.event_action.as_ref()]);
            o.str("uid", &event.event_id);
        });
        o.bool("is_alert", true);
    }
    if logon {
        o.opt_bool(
            "is_cleartext",
            event.connection_secure.map(|secure| !secure),
        );
    }
    if auth {
        o.bool("is_remote", event.remote_address.is_some());
    }
    if class == OcsfClass::EventLogActivity {
        o.members(constants.event_log);
    }
    if let Some((id, name)) = logon.then(|| logon_type(event)).flatten() {
        o.str("logon_type", name);
        o.u64("logon_type_id", u64::from(id));
    }
    o.str("message", message(event));
    write_metadata(o, event);
    if class == OcsfClass::UserAccessManagement {
        write_privileges(o, event);
    }
    if class == OcsfClass::ProcessActivity {
        match actor_process {
            // The same object as the actor's: copied, not written again.
            Some(bytes) => o.raw("process", |out| out.extend_from_within(bytes)),
            None => o.obj("process", |o| write_process(o, event)),
        }
    }
    write_later_members(o, shape, session);
}

/// The top-level members from `service` on, in key order.
fn write_later_members(o: &mut Obj<'_>, shape: &Shape<'_>, session: Option<&SessionBlock>) {
    let Shape {
        event,
        class,
        activity_id,
        outcome,
        auth,
        ..
    } = *shape;
    if auth {
        o.obj("service", |o| {
            o.str(
                "name",
                match event.connection_method.as_ref() {
                    "" | "unknown" => "IBM i",
                    method => method,
                },
            );
        });
    }
    if let Some(session) = session {
        o.obj("session", |o| {
            o.i64("created_time", session.started_at.timestamp_millis());
            o.bool("is_remote", session.remote_address.is_some());
            o.str("uid", &session.id);
        });
    }
    let constants = constants();
    o.members(constants.severities[event.severity as usize]);
    write_src_endpoint(o, event, class);
    if let Some(session) = session {
        o.i64("start_time", session.started_at.timestamp_millis());
    }
    // In finding classes status is the finding's workflow state: a new
    // alert is New (1), not In Progress (2), which is what the outcome's
    // Failure would map to.
    let finding = class == OcsfClass::DetectionFinding;
    let known = outcome != Outcome::Unknown;
    if finding {
        o.str("status", "New");
    } else if known {
        o.str(
            "status",
            match outcome {
                Outcome::Success => "Success",
                _ => "Failure",
            },
        );
    }
    if known {
        o.str("status_detail", &event.code_label);
    }
    if finding {
        o.u64("status_id", 1);
    } else if known {
        o.u64("status_id", u64::from(outcome.ocsf_status_id()));
    }
    o.i64("time", event.entry_timestamp.timestamp_millis());
    match activity_slot(activity_id) {
        Some(slot) => o.members(constants.activities[class as usize][slot].1),
        None => write_type(o, class, activity_id),
    }
    o.obj("unmapped", |o| super::ibmi::write(o, "ibmi", event));
    write_user(o, event, class, activity_id);
}

/// The document's `message`: the event's own, or the name of what happened.
fn message(event: &Event) -> &str {
    match &event.message {
        Some(message) => message,
        None => mapping::event_name(event),
    }
}

/// The actor: the user, the process (the job), or the system itself.
/// Returns where the process object's bytes are in the buffer, if written.
fn write_actor(o: &mut Obj<'_>, event: &Event) -> Option<std::ops::Range<usize>> {
    let (actor_name, _, _) = super::users(event);
    let process = event.qualified_job_name.is_some() || super::job_number(event).is_some();
    let mut process_bytes = None;
    o.obj("actor", |o| {
        if actor_name.is_none() && !process {
            o.str("app_name", "IBM i");
        }
        if process {
            let mut start = 0;
            o.obj("process", |o| {
                // Just after the object's `{`.
                start = o.len() - 1;
                write_process(o, event);
            });
            // `uid` is always written, so the object stays.
            process_bytes = Some(start..o.len());
        }
        if let Some(name) = actor_name {
            o.obj("user", |o| o.str("name", name));
        }
    });
    process_bytes
}

/// Application Lifecycle: the exit program and its exit point.
fn write_app(o: &mut Obj<'_>, event: &Event) {
    let details = event.details.as_ref();
    let text = |column: &str| details.and_then(|details| details.text(column));
    let point = text("EXIT_POINT_NAME");
    o.obj("app", |o| {
        if let Some(point) = point {
            o.obj("feature", |o| o.str("name", point));
        }
        match (text("EXIT_PROGRAM_LIBRARY"), text("EXIT_PROGRAM")) {
            (Some(library), Some(program)) => o.parts("name", &[library, "/", program]),
            (None, Some(program)) => o.str("name", program),
            _ => o.str("name", point.unwrap_or(NOT_AVAILABLE)),
        }
    });
}

/// The device: the IBM i the entry was journaled on.
fn write_device(o: &mut Obj<'_>, event: &Event) {
    o.obj("device", |o| {
        o.str("hostname", &event.system_name);
        o.str("name", &event.system_name);
        o.members(constants().device_tail);
    });
}

/// The destination: the IBM i, for Authentication and Network Activity
/// (with the port the entry names).
fn write_dst_endpoint(o: &mut Obj<'_>, event: &Event, class: OcsfClass) {
    match class {
        OcsfClass::Authentication => {
            o.obj("dst_endpoint", |o| o.str("hostname", &event.system_name));
        }
        OcsfClass::NetworkActivity => {
            let port =
                event
                    .details
                    .as_ref()
                    .and_then(|details| match details.value("TCPIP_PORT") {
                        Some(crate::event::audit::Value::Integer(port)) => {
                            u16::try_from(*port).ok()
                        }
                        _ => None,
                    });
            o.obj("dst_endpoint", |o| {
                o.str("hostname", &event.system_name);
                o.opt_u64("port", port.map(u64::from));
            });
        }
        _ => {}
    }
}

/// The source endpoint, for the classes that have one (IAM, network and
/// event-log classes); the others keep the remote address in `unmapped.ibmi`.
fn write_src_endpoint(o: &mut Obj<'_>, event: &Event, class: OcsfClass) {
    let has_source = matches!(
        class,
        OcsfClass::Authentication
            | OcsfClass::AccountChange
            | OcsfClass::UserAccessManagement
            | OcsfClass::NetworkActivity
            | OcsfClass::EventLogActivity
    );
    if !has_source {
        return;
    }
    let port = event.remote_port.map(u64::from);
    if let Some(ip) = super::remote_ip(event) {
        o.obj("src_endpoint", |o| {
            o.raw("ip", |out| super::ecs::write_ip(out, ip));
            o.opt_u64("port", port);
        });
    } else if let Some(address) = &event.remote_address {
        o.obj("src_endpoint", |o| {
            o.str("name", address);
            o.opt_u64("port", port);
        });
    }
}

/// The metadata: product, schema version, the event's ids and log.
fn write_metadata(o: &mut Obj<'_>, event: &Event) {
    o.obj("metadata", |o| {
        o.raw("event_code", |out| super::ecs::write_event_id(out, event));
        let constants = constants();
        o.members(constants.metadata_log);
        o.local("original_time", &event.entry_timestamp_local);
        o.members(constants.metadata_product);
        o.str("uid", &event.event_id);
        o.members(constants.metadata_version);
    });
}

/// The user a class names: Authentication's subject, or the profile an
/// account change or access management entry is about (`*N` when none).
fn write_user(o: &mut Obj<'_>, event: &Event, class: OcsfClass, activity_id: u32) {
    let (actor_name, effective, target) = super::users(event);
    let name = match class {
        OcsfClass::Authentication => match (activity_id, event.audit_type) {
            // A swap authenticates the profile switched to.
            (7, _) => target.or(effective).or(actor_name),
            // PW and AF name the profile that failed to sign on.
            (_, Some("PW" | "AF")) => target.or(actor_name),
            _ => actor_name,
        },
        OcsfClass::AccountChange | OcsfClass::UserAccessManagement => target,
        _ => return,
    };
    o.obj("user", |o| o.str("name", name.unwrap_or(NOT_AVAILABLE)));
}

/// File system activity: the object as a file, with its path and owner.
fn write_file(o: &mut Obj<'_>, event: &Event) {
    let details = event.details.as_ref();
    let text = |column: &str| details.and_then(|details| details.text(column));
    let name = text("OBJECT_NAME")
        .or_else(|| {
            text("PATH_NAME").and_then(|path| path.rsplit('/').find(|part| !part.is_empty()))
        })
        .unwrap_or(NOT_AVAILABLE);
    let (type_id, type_name) = match text("OBJECT_TYPE") {
        Some(kind)
            if ["*LIB", "*DIR"]
                .iter()
                .any(|known| kind.eq_ignore_ascii_case(known)) =>
        {
            (2, "Folder")
        }
        Some(kind) if kind.eq_ignore_ascii_case("*STMF") => (1, "Regular File"),
        Some(kind)
            if ["*PGM", "*SRVPGM"]
                .iter()
                .any(|known| kind.eq_ignore_ascii_case(known)) =>
        {
            (8, "Executable File")
        }
        _ => (99, "Other"),
    };
    let owner = text("NEW_OWNER").or(text("OBJECT_OWNER"));
    o.obj("file", |o| {
        o.str("name", name);
        if let Some(owner) = owner {
            o.obj("owner", |o| o.str("name", owner));
        }
        match (
            text("PATH_NAME"),
            text("OBJECT_LIBRARY"),
            text("OBJECT_NAME"),
        ) {
            (Some(path), _, _) => o.str("path", path),
            (None, Some(library), Some(object)) => o.parts("path", &[library, "/", object]),
            _ => {}
        }
        // The caption of type_id; IBM's object type stays in unmapped.ibmi.
        o.str("type", type_name);
        o.u64("type_id", type_id);
    });
}

/// A job as an OCSF process (the members of the object, in key order).
fn write_process(o: &mut Obj<'_>, event: &Event) {
    o.opt_str("name", event.job_name.as_deref());
    if let Some(pid) = super::job_number(event).and_then(|pid| i32::try_from(pid).ok()) {
        o.i64("pid", i64::from(pid));
    }
    o.str(
        "uid",
        event
            .qualified_job_name
            .as_deref()
            .unwrap_or(&event.event_id),
    );
    if let Some(name) = event.job_user.as_deref() {
        o.obj("user", |o| o.str("name", name));
    }
}

/// Special authorities a CP entry reports, each with the column of its
/// previous value.
const SPECIAL_AUTHORITIES: &[(&str, &str)] = &[
    ("ALLOBJ", "PREVIOUS_ALLOBJ"),
    ("AUDIT", "PREVIOUS_AUDIT"),
    ("IOSYSCFG", "PREVIOUS_IOSYSCFG"),
    ("JOBCTL", "PREVIOUS_JOBCTL"),
    ("SAVSYS", "PREVIOUS_SAVSYS"),
    ("SECADM", "PREVIOUS_SECADM"),
    ("SERVICE", "PREVIOUS_SERVICE"),
    ("SPLCTL", "PREVIOUS_SPLCTL"),
];

/// What a User Access Management event assigns or revokes: the special
/// authorities a CP entry newly grants, the function a GR entry opens, the
/// authority a CA entry grants; `*N` when the entry names none.
fn write_privileges(o: &mut Obj<'_>, event: &Event) {
    const NONE: [[&str; 3]; 1] = [[NOT_AVAILABLE, "", ""]];
    let Some(details) = &event.details else {
        return o.parts_array("privileges", NONE);
    };
    let mut found = [[""; 3]; 8];
    let mut count = 0;
    match details.spec.code {
        "CP" => {
            for (authority, previous) in SPECIAL_AUTHORITIES {
                if details.flag(authority) == Some(true) && details.flag(previous) != Some(true) {
                    found[count] = ["*", authority, ""];
                    count += 1;
                }
            }
        }
        "GR" => {
            if let Some(function) = details.text("FUNCTION_NAME") {
                found[0] = match details.text("USAGE_SETTING") {
                    Some(usage) => [function, " ", usage],
                    None => [function, "", ""],
                };
                count = 1;
            }
        }
        _ => {
            if let Some(authority) = details.text("OBJECT_AUTHORITY") {
                found[0] = [authority, "", ""];
                count = 1;
            }
        }
    }
    if count == 0 {
        o.parts_array("privileges", NONE);
    } else {
        o.parts_array("privileges", found[..count].iter().copied());
    }
}
