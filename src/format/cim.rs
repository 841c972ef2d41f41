//! Splunk CIM fields and tags of an event: what the Splunk HEC sink sends as
//! indexed `fields` beside the event, so the events land in the
//! Authentication, Change and Alerts data models through the app's
//! eventtypes and tags (`deploy/splunk/`).

use serde_json::{json, Map, Value};

use super::mapping::{self, Cim};
use crate::event::Event;

/// IBM-shipped profiles: a sign-on as one of them is CIM
/// `Default_Authentication` (`default` tag).
pub const DEFAULT_PROFILES: &[&str] = &[
    "QSECOFR", "QSYSOPR", "QPGMR", "QUSER", "QSRV", "QSRVBAS", "QTCP", "QDBSHR",
];

/// Every tag auditfwd may set, for the app's eventtypes and tags.
pub const ALL_TAGS: &[&str] = &[
    "authentication",
    "default",
    "insecure",
    "cleartext",
    "privileged",
    "change",
    "account",
    "audit",
    "endpoint",
    "alert",
];

/// The CIM `user`: for an authentication, the profile that signed on (or was
/// switched to, or failed); for a change, the profile changed when the entry
/// names one; otherwise the acting user.
pub fn user(event: &Event) -> Option<&str> {
    let (actor, effective, target) = super::users(event);
    match mapping::lookup(event).cim {
        Cim::Authentication => target.or(effective).or(actor),
        Cim::AccountManagement => target.or(actor),
        _ => actor.or(target),
    }
}

/// The tags of `event`: its data model's, plus `default` (an IBM-shipped
/// profile signing on), `insecure` and `cleartext` (a channel known to be
/// unencrypted) and `privileged` (a privileged profile involved).
pub fn tags(event: &Event) -> Vec<&'static str> {
    let row = mapping::lookup(event);
    let mut tags: Vec<&'static str> = row.cim.tags().to_vec();
    if row.cim == Cim::Authentication {
        let defaulted = user(event).is_some_and(|name| {
            DEFAULT_PROFILES
                .iter()
                .any(|profile| profile.eq_ignore_ascii_case(name.trim()))
        }) || event.event_action == "default_signon_attempt";
        if defaulted {
            tags.push("default");
        }
        if event.connection_secure == Some(false) {
            tags.extend(["insecure", "cleartext"]);
        }
        if event.privileged {
            tags.push("privileged");
        }
    }
    tags
}

/// The CIM fields of `event` (nulls left out) and `ibmi_tags`.
pub fn fields(event: &Event) -> Map<String, Value> {
    let row = mapping::lookup(event);
    let (actor, _, _) = super::users(event);
    let user = user(event);
    let app = match event.connection_method.as_ref() {
        "" | "unknown" => "ibmi".to_owned(),
        method => format!("ibmi:{method}"),
    };
    let mut fields = json!({
        "action": row.cim_action,
        "app": app,
        "dest": event.system_name,
        "user": user,
        "src": event.remote_address,
        "src_user": actor.filter(|actor| Some(*actor) != user),
        "signature": mapping::event_name(event),
        "signature_id": mapping::event_id(event),
        "ibmi_tags": tags(event),
    });
    super::prune(&mut fields);
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
