//! ArcSight CEF and QRadar LEEF 2.0 text for every entry type, with the
//! `<type>_<code>` event ids of the mapping table (`PW_P`, `JS_M`, `CP_CHG`).
//!
//! `dropped` leaves out that many optional items, in the order of
//! [`CEF_DROP_ORDER`] / [`LEEF_DROP_ORDER`]: the syslog sink uses it to fit a
//! message in `max_message_bytes` without cutting it.

use super::mapping;
use crate::event::Event;

/// CEF extensions dropped first, in this order (the rest are kept).
pub const CEF_DROP_ORDER: &[&str] = &["cs4", "cs2", "duser", "cs3", "cs1", "msg"];
/// LEEF attributes dropped first, in this order.
pub const LEEF_DROP_ORDER: &[&str] = &[
    "jobType",
    "connectionType",
    "effectiveUser",
    "receiver",
    "connectionMethod",
    "msg",
];

/// The LEEF attribute delimiter: a tab, LEEF 2.0's default, written `x09`
/// in the header.
pub const LEEF_DELIMITER: char = '\t';
/// The `devTimeFormat` of `devTime` (Java `SimpleDateFormat`, as QRadar reads it).
pub const LEEF_DEV_TIME_FORMAT: &str = "MMM dd yyyy HH:mm:ss.SSS z";

/// Escapes a CEF header field: `\` and `|`.
pub fn cef_header(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|")
}

/// Backslash-escapes `\`, then `special`, then line ends as `\n` and `\r`:
/// the rule CEF extensions (`=`) share.
fn escape_with(text: &str, special: char) -> String {
    text.replace('\\', "\\\\")
        .replace(special, &format!("\\{special}"))
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// CEF extension value escaping: `\`, `=`, and line ends.
pub fn cef_value(text: &str) -> String {
    escape_with(text, '=')
}

/// LEEF attribute value escaping: `\`, and the tab delimiter and line ends
/// written as `\t`, `\n`, `\r`, so a value never holds a raw delimiter.
pub fn leef_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// A LEEF header field: `|` cannot be escaped there, so it becomes `_`.
pub fn leef_header(text: &str) -> String {
    text.replace('|', "_")
}

/// Milliseconds since the epoch of the entry, as CEF `rt` wants.
fn epoch_millis(event: &Event) -> i64 {
    event.entry_timestamp.timestamp_millis()
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// The CEF line of `event`.
pub fn cef(event: &Event, dropped: usize) -> String {
    let drop = &CEF_DROP_ORDER[..dropped.min(CEF_DROP_ORDER.len())];
    let row = mapping::lookup(event);
    let (actor, effective, target) = super::users(event);
    let mut extensions: Vec<(&str, String)> = vec![
        ("rt", epoch_millis(event).to_string()),
        ("dvchost", event.system_name.clone()),
    ];
    let mut optional = |key: &'static str, value: Option<String>| {
        if let Some(value) = value {
            extensions.push((key, value));
        }
    };
    optional("suser", actor.map(str::to_owned));
    optional("src", super::remote_ip(event).map(|ip| ip.to_string()));
    optional("spt", event.remote_port.map(|port| port.to_string()));
    optional("act", Some(event.event_action.to_string()));
    optional("outcome", Some(row.outcome.ecs().to_owned()));
    optional("externalId", Some(event.event_id.clone()));
    optional("dproc", event.qualified_job_name.clone());
    optional("cn1", Some(event.sequence_number.to_string()));
    optional("cn1Label", Some("sequence".into()));
    optional(
        "cat",
        Some(event.audit_type.unwrap_or("AUDITFWD").to_owned()),
    );
    optional("duser", target.or(effective).map(str::to_owned));
    optional("cs1", non_empty(&event.connection_method));
    optional(
        "cs1Label",
        non_empty(&event.connection_method).map(|_| "connectionMethod".into()),
    );
    optional("cs2", non_empty(&event.connection_type));
    optional(
        "cs2Label",
        non_empty(&event.connection_type).map(|_| "connectionType".into()),
    );
    optional(
        "cs3",
        Some(format!(
            "{}/{}",
            event.receiver_library, event.receiver_name
        )),
    );
    optional("cs3Label", Some("receiver".into()));
    optional("cs4", event.job_type.clone());
    optional(
        "cs4Label",
        event.job_type.as_ref().map(|_| "jobType".into()),
    );
    optional("cs5", Some(event.privileged.to_string()));
    optional("cs5Label", Some("privileged".into()));
    optional(
        "shost",
        event
            .remote_address
            .clone()
            .filter(|_| super::remote_ip(event).is_none()),
    );
    optional(
        "msg",
        event
            .message
            .clone()
            .or_else(|| event.entry_type_detail.clone()),
    );
    extensions.retain(|(key, _)| {
        !drop
            .iter()
            .any(|dropped| key == dropped || key.strip_suffix("Label") == Some(dropped))
    });
    format!(
        "CEF:0|auditfwd|auditfwd|{}|{}|{}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        cef_header(&mapping::event_id(event)),
        cef_header(&mapping::event_name(event)),
        super::severity_0_10(event.severity),
        extensions
            .iter()
            .map(|(key, value)| format!("{key}={}", cef_value(value)))
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The LEEF 2.0 line of `event`: tab-separated attributes, `devTime` with
/// its `devTimeFormat`.
pub fn leef(event: &Event, dropped: usize) -> String {
    let drop = &LEEF_DROP_ORDER[..dropped.min(LEEF_DROP_ORDER.len())];
    let row = mapping::lookup(event);
    let (actor, effective, target) = super::users(event);
    let attributes: Vec<(&str, Option<String>)> = vec![
        (
            "devTime",
            Some(
                event
                    .entry_timestamp
                    .format("%b %d %Y %H:%M:%S%.3f UTC")
                    .to_string(),
            ),
        ),
        ("devTimeFormat", Some(LEEF_DEV_TIME_FORMAT.to_owned())),
        ("cat", Some(event.event_action.to_string())),
        (
            "sev",
            Some(super::severity_0_10(event.severity).to_string()),
        ),
        ("identHostName", Some(event.system_name.clone())),
        ("usrName", actor.map(str::to_owned)),
        ("accountName", target.map(str::to_owned)),
        ("src", super::remote_ip(event).map(|ip| ip.to_string())),
        ("srcPort", event.remote_port.map(|port| port.to_string())),
        ("outcome", Some(row.outcome.ecs().to_owned())),
        ("eventId", Some(event.event_id.clone())),
        ("auditType", event.audit_type.map(str::to_owned)),
        ("jobName", event.qualified_job_name.clone()),
        ("sequence", Some(event.sequence_number.to_string())),
        ("privileged", Some(event.privileged.to_string())),
        ("effectiveUser", effective.map(str::to_owned)),
        ("connectionMethod", non_empty(&event.connection_method)),
        ("connectionType", non_empty(&event.connection_type)),
        (
            "receiver",
            Some(format!(
                "{}/{}",
                event.receiver_library, event.receiver_name
            )),
        ),
        ("jobType", event.job_type.clone()),
        (
            "remoteAddress",
            event
                .remote_address
                .clone()
                .filter(|_| super::remote_ip(event).is_none()),
        ),
        (
            "msg",
            event
                .message
                .clone()
                .or_else(|| event.entry_type_detail.clone()),
        ),
    ];
    let pairs: Vec<String> = attributes
        .into_iter()
        .filter(|(key, value)| value.is_some() && !drop.contains(key))
        .map(|(key, value)| format!("{key}={}", leef_value(&value.unwrap_or_default())))
        .collect();
    format!(
        "LEEF:2.0|auditfwd|auditfwd|{}|{}|x09|{}",
        env!("CARGO_PKG_VERSION"),
        leef_header(&mapping::event_id(event)),
        pairs.join(&LEEF_DELIMITER.to_string())
    )
}
