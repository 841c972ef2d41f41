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

/// Values come from the audited system: hostile input. In every CEF and LEEF
/// field, a control character (C0, DEL, C1) that the format cannot escape is
/// replaced by a space (so are U+2028 and U+2029), so one entry is always one
/// record whatever it holds.
pub fn is_unescapable(c: char) -> bool {
    // U+2028 and U+2029 end lines for some readers too.
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Escapes a CEF header field: `\` and `|`; a line end or any other control
/// character (which a header cannot escape) becomes a space.
pub fn cef_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\\' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c if is_unescapable(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// CEF extension value escaping: `\`, `=`, and line ends as `\n` and `\r`;
/// any other control character (tab, NUL, ...) becomes a space.
pub fn cef_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unescapable(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A LEEF attribute value. LEEF has no escapes (QRadar shows a backslash as
/// it is written), so a value is kept as it is but for the tab delimiter, line
/// ends and other control characters, each replaced by a space.
pub fn leef_value(text: &str) -> String {
    text.chars()
        .map(|c| if is_unescapable(c) { ' ' } else { c })
        .collect()
}

/// A LEEF header field: `|` cannot be escaped there, so it becomes `_`;
/// control characters become spaces.
pub fn leef_header(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '|' => '_',
            c if is_unescapable(c) => ' ',
            c => c,
        })
        .collect()
}

/// CEF's `externalId` holds at most 40 characters: a longer event id (burst
/// signals, long IBM i names) is given as a stable digest of it, and the
/// event id itself goes in `cs6` (label `eventId`).
pub const CEF_EXTERNAL_ID_MAX: usize = 40;

fn external_id(event_id: &str) -> String {
    if event_id.chars().count() <= CEF_EXTERNAL_ID_MAX {
        return event_id.to_owned();
    }
    // FNV-1a, 64 bits, twice (two offsets): stable across releases and hosts.
    let fnv = |offset: u64| {
        event_id.bytes().fold(offset, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "af-{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

/// Which CEF layout the syslog sink writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CefDialect {
    /// auditfwd's own: `<type>_<code>` signature ids, numeric severity.
    #[default]
    Auditfwd,
    /// IBM i's own generator's (`QSYS2.DISPLAY_JOURNAL(..., GENERATE_SYSLOG =>
    /// 'CEF')`): `QSYS-QAUDJRN`, `T-<type>`, a severity word, and its keys in
    /// its order; auditfwd's additions follow as keys IBM i parsers ignore.
    Ibm,
}

/// IBM's severity word for `event`: where IBM's published samples show the
/// word for a type it is used (AF: Medium), else one from auditfwd's severity.
fn ibm_severity(event: &Event) -> &'static str {
    use crate::event::Severity;
    match (event.audit_type, event.severity) {
        (_, Severity::Critical) => "Very-High",
        (_, Severity::High) => "High",
        (Some("AF"), _) => "Medium",
        (_, Severity::Medium) => "Medium",
        _ => "Low",
    }
}

/// The entry's time as IBM's generator writes `rt` (`2026-04-08-10.15.30.123456`, UTC).
fn ibm_time(event: &Event) -> String {
    event
        .entry_timestamp
        .format("%Y-%m-%d-%H.%M.%S%.6f")
        .to_string()
}

/// CEF extensions dropped first in the IBM dialect (auditfwd's additions).
pub const CEF_IBM_DROP_ORDER: &[&str] = &["cs4", "cs3", "duser", "msg"];

/// The CEF line of `event` in IBM i's own layout:
/// `CEF:0|IBM|IBM i|<release>|QSYS-QAUDJRN|T-<type>|<severity word>|reason=<type>
/// msg=<meaning> fileType= cs1Label=objName cs1= suser= sproc= shost= src= spt=
/// evtAggregation=*NO entryTypeField=<code>`, then auditfwd's keys (`rt` in IBM's
/// form, `externalId`, `act`, `duser`, `cs3` receiver, `cs4` connection method,
/// `cn1` sequence).
pub fn cef_ibm(event: &Event, release: &str, dropped: usize) -> String {
    let drop = &CEF_IBM_DROP_ORDER[..dropped.min(CEF_IBM_DROP_ORDER.len())];
    let (actor, effective, target) = super::users(event);
    let journal_entry = event.audit_type.is_some() && event.signal.is_none();
    let (class, name) = match event.audit_type {
        Some(kind) if journal_entry => ("QSYS-QAUDJRN".to_owned(), format!("T-{kind}")),
        _ => ("AUDITFWD".to_owned(), event.event_action.to_uppercase()),
    };
    let reason = event
        .audit_type
        .and_then(crate::event::audit::TypeSpec::find)
        .map(|spec| spec.name.to_owned())
        .filter(|_| journal_entry)
        .unwrap_or_else(|| event.event_action.replace('_', " "));
    let detail = |column: &str| {
        event
            .details
            .as_ref()
            .and_then(|details| details.text(column))
            .map(str::to_owned)
    };
    let object = match (
        detail("OBJECT_LIBRARY").or(detail("LIBRARY_NAME")),
        detail("OBJECT_NAME"),
    ) {
        (Some(library), Some(name)) => Some(format!("{library}/{name}")),
        (None, Some(name)) => Some(name),
        _ => detail("PATH_NAME"),
    };
    let ip = super::remote_ip(event);
    let mut extensions: Vec<(&str, Option<String>)> = vec![
        ("reason", Some(reason)),
        (
            "msg",
            Some(
                event
                    .message
                    .clone()
                    .unwrap_or_else(|| mapping::event_name(event)),
            ),
        ),
        ("fileType", detail("OBJECT_TYPE")),
        ("cs1Label", object.as_ref().map(|_| "objName".to_owned())),
        ("cs1", object),
        ("suser", actor.map(str::to_owned)),
        ("sproc", event.qualified_job_name.clone()),
        ("shost", Some(event.system_name.clone())),
        ("src", ip.map(|ip| ip.to_string())),
        ("spt", event.remote_port.map(|port| port.to_string())),
        ("evtAggregation", Some("*NO".to_owned())),
        ("entryTypeField", event.code().map(str::to_owned)),
        // auditfwd's additions, in keys the IBM i parsers ignore.
        ("rt", Some(ibm_time(event))),
        ("externalId", Some(external_id(&event.event_id))),
        ("act", Some(event.event_action.to_string())),
        ("duser", target.or(effective).map(str::to_owned)),
        ("cs3Label", Some("receiver".to_owned())),
        (
            "cs3",
            Some(format!(
                "{}/{}",
                event.receiver_library, event.receiver_name
            )),
        ),
        (
            "cs4Label",
            super::non_empty_method(event).map(|_| "connectionMethod".to_owned()),
        ),
        ("cs4", super::non_empty_method(event)),
        (
            "cn1Label",
            i64::try_from(event.sequence_number)
                .ok()
                .map(|_| "sequence".to_owned()),
        ),
        (
            "cn1",
            i64::try_from(event.sequence_number)
                .ok()
                .map(|sequence| sequence.to_string()),
        ),
    ];
    if event.event_id.chars().count() > CEF_EXTERNAL_ID_MAX {
        extensions.push(("cs6Label", Some("eventId".to_owned())));
        extensions.push(("cs6", Some(event.event_id.clone())));
    }
    let text = extensions
        .into_iter()
        .filter(|(key, value)| {
            value.is_some()
                && !drop
                    .iter()
                    .any(|dropped| key == dropped || key.strip_suffix("Label") == Some(dropped))
        })
        .map(|(key, value)| format!("{key}={}", cef_value(&value.unwrap_or_default())))
        .collect::<Vec<_>>()
        .join(" ");
    // An empty header field stops some parsers (pycef among them): without a
    // configured release the field says so.
    let release = if release.trim().is_empty() {
        "unknown"
    } else {
        release.trim()
    };
    format!(
        "CEF:0|IBM|IBM i|{}|{}|{}|{}|{text}",
        cef_header(release),
        cef_header(&class),
        cef_header(&name),
        ibm_severity(event),
    )
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
    // `src` is IPv4 in CEF's dictionary; an IPv6 address goes in c6a2.
    let ip = super::remote_ip(event);
    optional(
        "src",
        ip.filter(std::net::IpAddr::is_ipv4)
            .map(|ip| ip.to_string()),
    );
    optional(
        "c6a2",
        ip.filter(std::net::IpAddr::is_ipv6)
            .map(|ip| ip.to_string()),
    );
    optional(
        "c6a2Label",
        ip.filter(std::net::IpAddr::is_ipv6)
            .map(|_| "Source IPv6 Address".to_owned()),
    );
    optional("spt", event.remote_port.map(|port| port.to_string()));
    optional("act", Some(event.event_action.to_string()));
    optional("outcome", Some(row.outcome.ecs().to_owned()));
    optional("externalId", Some(external_id(&event.event_id)));
    let long_id = event.event_id.chars().count() > CEF_EXTERNAL_ID_MAX;
    optional("cs6", long_id.then(|| event.event_id.clone()));
    optional("cs6Label", long_id.then(|| "eventId".to_owned()));
    optional("dproc", event.qualified_job_name.clone());
    // cn1 is a signed 64-bit long: a sequence number above 2^63 - 1 (IBM i
    // allows up to 2^64 - 1) is left out; the event id still carries it.
    let sequence_fits = i64::try_from(event.sequence_number).is_ok();
    optional(
        "cn1",
        sequence_fits.then(|| event.sequence_number.to_string()),
    );
    optional("cn1Label", sequence_fits.then(|| "sequence".into()));
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
