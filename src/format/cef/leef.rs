//! QRadar LEEF 2.0.

use super::*;

/// The LEEF 2.0 line of `event`: tab-separated attributes, `devTime` with
/// its `devTimeFormat`; `dropped` optional items left out.
pub fn leef(event: &Event, dropped: usize) -> String {
    let mut out = Vec::with_capacity(640);
    write_leef(event, &mut out).remove(&mut out, dropped);
    into_text(out)
}

/// Appends the LEEF line of `event` with every attribute to `out`; returns
/// where its optional attributes are.
pub fn write_leef(event: &Event, out: &mut Vec<u8>) -> Optional {
    let row = mapping::lookup(event);
    let (actor, effective, target) = crate::format::users(event);
    let ip = crate::format::remote_ip(event);
    out.extend_from_slice(
        concat!(
            "LEEF:2.0|auditfwd|auditfwd|",
            env!("CARGO_PKG_VERSION"),
            "|"
        )
        .as_bytes(),
    );
    push_event_id(out, event, push_leef_header);
    out.extend_from_slice(b"|x09|");
    let mut line = Line::new(out, LEEF_DELIMITER as u8);
    push_dev_time(line.key("devTime"), event);
    line.pair("devTimeFormat", LEEF_DEV_TIME_FORMAT);
    push_leef_value(line.key("cat"), &event.event_action);
    push_number(
        line.key("sev"),
        crate::format::severity_0_10(event.severity),
    );
    push_leef_value(line.key("identHostName"), &event.system_name);
    if let Some(actor) = actor {
        push_leef_value(line.key("usrName"), actor);
    }
    if let Some(target) = target {
        push_leef_value(line.key("accountName"), target);
    }
    if let Some(ip) = ip {
        push_ip(line.key("src"), ip);
    }
    if let Some(port) = event.remote_port {
        push_number(line.key("srcPort"), port);
    }
    push_leef_value(line.key("outcome"), row.outcome.ecs());
    push_leef_value(line.key("eventId"), &event.event_id);
    if let Some(kind) = event.audit_type {
        push_leef_value(line.key("auditType"), kind);
    }
    if let Some(job) = &event.qualified_job_name {
        push_leef_value(line.key("jobName"), job);
    }
    push_number(line.key("sequence"), event.sequence_number);
    line.pair("privileged", bool_text(event.privileged));
    line.optional(const { slot(LEEF_DROP_ORDER, "effectiveUser") }, |line| {
        if let Some(effective) = effective {
            push_leef_value(line.key("effectiveUser"), effective);
        }
    });
    line.optional(
        const { slot(LEEF_DROP_ORDER, "connectionMethod") },
        |line| {
            if !event.connection_method.is_empty() {
                push_leef_value(line.key("connectionMethod"), &event.connection_method);
            }
        },
    );
    line.optional(const { slot(LEEF_DROP_ORDER, "connectionType") }, |line| {
        if !event.connection_type.is_empty() {
            push_leef_value(line.key("connectionType"), &event.connection_type);
        }
    });
    line.optional(const { slot(LEEF_DROP_ORDER, "receiver") }, |line| {
        push_receiver(line.key("receiver"), event, push_leef_value);
    });
    line.optional(const { slot(LEEF_DROP_ORDER, "jobType") }, |line| {
        if let Some(job_type) = &event.job_type {
            push_leef_value(line.key("jobType"), job_type);
        }
    });
    if let (None, Some(address)) = (ip, &event.remote_address) {
        push_leef_value(line.key("remoteAddress"), address);
    }
    line.optional(const { slot(LEEF_DROP_ORDER, "msg") }, |line| {
        if let Some(message) = event
            .message
            .as_deref()
            .or(event.entry_type_detail.as_deref())
        {
            push_leef_value(line.key("msg"), message);
        }
    });
    line.optional
}
