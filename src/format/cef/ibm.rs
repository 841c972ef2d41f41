//! CEF in IBM i's own layout (`cef_dialect = "ibm"`).

use super::*;

/// IBM's severity word for `event`: where IBM's published samples show the
/// word for a type it is used (AF: Medium), else one from auditfwd's severity.
pub(super) fn ibm_severity(event: &Event) -> &'static str {
    use crate::event::Severity;
    match (event.audit_type, event.severity) {
        (_, Severity::Critical) => "Very-High",
        (_, Severity::High) => "High",
        (Some("AF"), _) => "Medium",
        (_, Severity::Medium) => "Medium",
        _ => "Low",
    }
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
    let mut out = Vec::with_capacity(640);
    write_cef_ibm(event, release, &mut out).remove(&mut out, dropped);
    into_text(out)
}

/// The header: `CEF:0|IBM|IBM i|<release>|QSYS-QAUDJRN|T-<type>|<severity>|`
/// (a notice or signal names itself in place of the journal and type).
fn push_ibm_header(out: &mut Vec<u8>, event: &Event, release: &str, journal_entry: bool) {
    out.extend_from_slice(b"CEF:0|IBM|IBM i|");
    // An empty header field stops some parsers (pycef among them): without a
    // configured release the field says so.
    let release = release.trim();
    push_cef_header(
        out,
        if release.is_empty() {
            "unknown"
        } else {
            release
        },
    );
    match event.audit_type {
        Some(kind) if journal_entry => {
            out.extend_from_slice(b"|QSYS-QAUDJRN|T-");
            push_cef_header(out, kind);
        }
        _ => {
            out.extend_from_slice(b"|AUDITFWD|");
            push_upper(out, &event.event_action, push_cef_header);
        }
    }
    out.push(b'|');
    out.extend_from_slice(ibm_severity(event).as_bytes());
    out.push(b'|');
}

/// Appends [`cef_ibm`]'s line with every item to `out`; returns where its
/// optional items are.
pub fn write_cef_ibm(event: &Event, release: &str, out: &mut Vec<u8>) -> Optional {
    let (actor, effective, target) = crate::format::users(event);
    let journal_entry = event.audit_type.is_some() && event.signal.is_none();
    push_ibm_header(out, event, release, journal_entry);
    let mut line = Line::new(out, b' ');
    let reason = event
        .audit_type
        .and_then(crate::event::audit::TypeSpec::find)
        .filter(|_| journal_entry);
    match reason {
        Some(spec) => push_cef_value(line.key("reason"), spec.name),
        None => {
            let value = line.key("reason");
            let start = value.len();
            push_cef_value(value, &event.event_action);
            // The action's words: `_` is never an escape, a space never needs one.
            for byte in &mut value[start..] {
                if *byte == b'_' {
                    *byte = b' ';
                }
            }
        }
    }
    line.optional(const { slot(CEF_IBM_DROP_ORDER, "msg") }, |line| {
        let message = event
            .message
            .as_deref()
            .unwrap_or_else(|| mapping::event_name(event));
        push_cef_value(line.key("msg"), message);
    });
    let detail = |column: &str| {
        event
            .details
            .as_ref()
            .and_then(|details| details.text(column))
    };
    if let Some(object_type) = detail("OBJECT_TYPE") {
        push_cef_value(line.key("fileType"), object_type);
    }
    let library = detail("OBJECT_LIBRARY").or_else(|| detail("LIBRARY_NAME"));
    let object = match (library, detail("OBJECT_NAME")) {
        (library, Some(name)) => Some((library, name)),
        _ => detail("PATH_NAME").map(|path| (None, path)),
    };
    if let Some((library, name)) = object {
        line.pair("cs1Label", "objName");
        let value = line.key("cs1");
        if let Some(library) = library {
            push_cef_value(value, library);
            value.push(b'/');
        }
        push_cef_value(value, name);
    }
    if let Some(actor) = actor {
        push_cef_value(line.key("suser"), actor);
    }
    if let Some(job) = &event.qualified_job_name {
        push_cef_value(line.key("sproc"), job);
    }
    push_cef_value(line.key("shost"), &event.system_name);
    if let Some(ip) = crate::format::remote_ip(event) {
        push_ip(line.key("src"), ip);
    }
    if let Some(port) = event.remote_port {
        push_number(line.key("spt"), port);
    }
    line.pair("evtAggregation", "*NO");
    if let Some(code) = event.code() {
        push_cef_value(line.key("entryTypeField"), code);
    }
    // auditfwd's additions, in keys the IBM i parsers ignore.
    push_ibm_time(line.key("rt"), event);
    let long = long_id(event);
    push_external_id(line.key("externalId"), &event.event_id, long);
    push_cef_value(line.key("act"), &event.event_action);
    line.optional(const { slot(CEF_IBM_DROP_ORDER, "duser") }, |line| {
        if let Some(user) = target.or(effective) {
            push_cef_value(line.key("duser"), user);
        }
    });
    line.optional(const { slot(CEF_IBM_DROP_ORDER, "cs3") }, |line| {
        line.pair("cs3Label", "receiver");
        push_receiver(line.key("cs3"), event, push_cef_value);
    });
    line.optional(const { slot(CEF_IBM_DROP_ORDER, "cs4") }, |line| {
        if let Some(method) = crate::format::non_empty_method(event) {
            line.pair("cs4Label", "connectionMethod");
            push_cef_value(line.key("cs4"), method);
        }
    });
    if let Ok(sequence) = i64::try_from(event.sequence_number) {
        line.pair("cn1Label", "sequence");
        push_number(line.key("cn1"), sequence);
    }
    if long {
        line.pair("cs6Label", "eventId");
        push_cef_value(line.key("cs6"), &event.event_id);
    }
    line.optional
}
