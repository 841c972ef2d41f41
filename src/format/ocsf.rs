//! OCSF 1.8.0: every event in the class and activity the mapping table names,
//! with the required attributes of its class always present, `type_uid`
//! computed, and IBM i facts under `unmapped.ibmi`. Tested against OCSF
//! 1.8.0's class and object definitions (`tests/fixtures/ocsf/`).

use serde_json::{json, Map, Value};

use super::mapping::{self, OcsfClass, Outcome};
use crate::event::Event;

/// The OCSF release auditfwd writes.
pub const OCSF_VERSION: &str = "1.8.0";

/// IBM i's "no value" (`*N`): the name used where OCSF requires a user, a
/// file or a privilege and the entry names none.
pub const NOT_AVAILABLE: &str = "*N";

/// Special authorities a CP entry reports with their previous values.
const SPECIAL_AUTHORITIES: &[&str] = &[
    "ALLOBJ", "AUDIT", "IOSYSCFG", "JOBCTL", "SAVSYS", "SECADM", "SERVICE", "SPLCTL",
];

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
    let row = mapping::lookup(event);
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

fn user(name: Option<&str>) -> Value {
    json!({ "name": name.unwrap_or(NOT_AVAILABLE) })
}

/// `event` as an OCSF event.
pub fn ocsf(event: &Event) -> Value {
    let row = mapping::lookup(event);
    let (class, activity_id) = class_and_activity(event);
    let (severity_id, severity) = super::ocsf_severity(event.severity);
    let (actor_name, effective, target) = super::users(event);
    let details = event.details.as_ref();
    let text = |column: &str| details.and_then(|details| details.text(column));
    let message = event
        .message
        .clone()
        .unwrap_or_else(|| mapping::event_name(event));
    let class_uid = class.uid();
    let mut out = json!({
        "activity_id": activity_id,
        "activity_name": class.activity_name(activity_id),
        "category_uid": class.category_uid(),
        "category_name": class.category_name(),
        "class_uid": class_uid,
        "class_name": class.name(),
        "type_uid": u64::from(class_uid) * 100 + u64::from(activity_id),
        "type_name": format!("{}: {}", class.name(), class.activity_name(activity_id)),
        "severity_id": severity_id,
        "severity": severity,
        "time": event.entry_timestamp.timestamp_millis(),
        "message": message,
        "metadata": {
            "product": {
                "name": "auditfwd",
                "vendor_name": "auditfwd",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "version": OCSF_VERSION,
            // `device` is the IBM i the entry was journaled on.
            "profiles": ["host"],
            "uid": event.event_id,
            "event_code": mapping::event_id(event),
            "log_name": "QAUDJRN",
            "log_provider": "IBM i security audit journal",
            "original_time": crate::event::format_local(&event.entry_timestamp_local),
        },
        "device": {
            "hostname": event.system_name,
            "name": event.system_name,
            "type_id": 1,
            "type": "Server",
            "os": { "name": "IBM i", "type_id": 99, "type": "IBM i" },
        },
        "unmapped": { "ibmi": super::ibmi_block(event) },
    });
    if row.outcome != Outcome::Unknown {
        out["status_id"] = json!(row.outcome.ocsf_status_id());
        out["status"] = json!(match row.outcome {
            Outcome::Success => "Success",
            _ => "Failure",
        });
        out["status_detail"] = json!(event.code_label);
    }
    let mut actor = Map::new();
    if let Some(name) = actor_name {
        actor.insert("user".into(), json!({ "name": name }));
    }
    if event.qualified_job_name.is_some() || super::job_number(event).is_some() {
        actor.insert("process".into(), process(event));
    }
    if actor.is_empty() {
        actor.insert("app_name".into(), json!("IBM i"));
    }
    out["actor"] = Value::Object(actor);
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
    if !has_source {
    } else if let Some(ip) = super::remote_ip(event) {
        out["src_endpoint"] = json!({ "ip": ip.to_string(), "port": event.remote_port });
    } else if let Some(address) = &event.remote_address {
        out["src_endpoint"] = json!({ "name": address, "port": event.remote_port });
    }
    match class {
        OcsfClass::Authentication => {
            let subject = match (activity_id, event.audit_type) {
                // A swap authenticates the profile switched to.
                (7, _) => target.or(effective).or(actor_name),
                // PW and AF name the profile that failed to sign on.
                (_, Some("PW" | "AF")) => target.or(actor_name),
                _ => actor_name,
            };
            out["user"] = user(subject);
            out["service"] = json!({
                "name": match event.connection_method.as_ref() {
                    "" | "unknown" => "IBM i",
                    method => method,
                }
            });
            out["dst_endpoint"] = json!({ "hostname": event.system_name });
            out["is_remote"] = json!(event.remote_address.is_some());
            if matches!(activity_id, 1 | 2) {
                if let Some((id, name)) = logon_type(event) {
                    out["logon_type_id"] = json!(id);
                    out["logon_type"] = json!(name);
                }
                if let Some(secure) = event.connection_secure {
                    out["is_cleartext"] = json!(!secure);
                }
            }
            if let Some(session) = &event.session {
                // A session event: when it began, when it ended and how long
                // it lasted, where known (an unknown end has none of these).
                let started = session.started_at.timestamp_millis();
                out["start_time"] = json!(started);
                out["session"] = json!({
                    "uid": session.id,
                    "created_time": started,
                    "is_remote": session.remote_address.is_some(),
                });
                if let Some(ended) = session.ended_at {
                    out["end_time"] = json!(ended.timestamp_millis());
                    out["duration"] = json!(ended.timestamp_millis() - started);
                }
            }
            if activity_id == 7 {
                let (id, name) = account_switch_type(event);
                out["account_switch_type_id"] = json!(id);
                out["account_switch_type"] = json!(name);
            }
        }
        OcsfClass::AccountChange => {
            out["user"] = user(target);
        }
        OcsfClass::UserAccessManagement => {
            out["user"] = user(target);
            out["privileges"] = json!(privileges(event));
        }
        OcsfClass::FileSystemActivity => {
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
            out["file"] = json!({
                "name": name,
                "path": path,
                "type_id": type_id,
                // The caption of type_id; IBM's object type stays in unmapped.ibmi.
                "type": type_name,
                "owner": owner.map(|owner| json!({ "name": owner })),
            });
        }
        OcsfClass::ProcessActivity => {
            out["process"] = process(event);
        }
        OcsfClass::EventLogActivity => {
            out["log_name"] = json!("QAUDJRN");
            out["log_provider"] = json!("IBM i security audit journal");
            out["log_type_id"] = json!(1);
            out["log_type"] = json!("OS");
        }
        OcsfClass::NetworkActivity => {
            let port = details.and_then(|details| match details.value("TCPIP_PORT") {
                Some(crate::event::audit::Value::Integer(port)) => u16::try_from(*port).ok(),
                _ => None,
            });
            out["dst_endpoint"] = json!({ "hostname": event.system_name, "port": port });
        }
        OcsfClass::ApplicationLifecycle => {
            let name = match (text("EXIT_PROGRAM_LIBRARY"), text("EXIT_PROGRAM")) {
                (Some(library), Some(program)) => format!("{library}/{program}"),
                (None, Some(program)) => program.to_owned(),
                _ => text("EXIT_POINT_NAME").unwrap_or(NOT_AVAILABLE).to_owned(),
            };
            out["app"] = json!({ "name": name, "feature": text("EXIT_POINT_NAME").map(|point| json!({ "name": point })) });
        }
        OcsfClass::DeviceConfigStateChange => {}
        OcsfClass::DetectionFinding => {
            out["finding_info"] = json!({
                "uid": event.event_id,
                "title": event.code_label,
                "desc": event.message,
                "types": [event.event_action],
            });
            out["is_alert"] = json!(true);
            // In finding classes status is the finding's workflow state: a new
            // alert is New (1), not In Progress (2), which is what the
            // outcome's Failure would map to.
            out["status_id"] = json!(1);
            out["status"] = json!("New");
        }
    }
    super::prune(&mut out);
    out
}

fn process(event: &Event) -> Value {
    json!({
        "name": event.job_name,
        "pid": super::job_number(event).and_then(|pid| i32::try_from(pid).ok()),
        "uid": event.qualified_job_name.clone().unwrap_or_else(|| event.event_id.clone()),
        "user": event.job_user.as_ref().map(|name| json!({ "name": name })),
    })
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
