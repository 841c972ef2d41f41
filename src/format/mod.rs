//! Output formats: pure functions from an [`Event`] to bytes, shared by every
//! sink. `native` is the event's own serialisation (schema v1 or v2); `ecs`,
//! `ocsf`, `cef` and `leef` translate it through the one mapping table
//! ([`mapping`]), from which the Splunk app, the QRadar mapping file and
//! `deploy/FORMATS.md` are generated too ([`artifacts`]). No I/O, cannot fail.

#[cfg(test)]
mod artifacts;
pub mod cef;
pub mod cim;
pub mod ecs;
pub mod light;
pub mod mapping;
pub mod ocsf;

use serde::{Deserialize, Serialize};

use crate::event::{Event, Severity};

/// What a sink writes for each event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// auditfwd's own JSON, schema v1 or v2 (`event.schema_version`);
    /// `json` is the older name.
    #[default]
    #[serde(alias = "json")]
    Native,
    /// Elastic Common Schema 8.x JSON.
    Ecs,
    /// OCSF 1.8.0 JSON.
    Ocsf,
    /// ArcSight CEF text (syslog bodies).
    Cef,
    /// QRadar LEEF 2.0 text (syslog bodies).
    Leef,
}

impl Format {
    /// Every format auditfwd writes.
    pub const ALL: &'static [Format] = &[
        Format::Native,
        Format::Ecs,
        Format::Ocsf,
        Format::Cef,
        Format::Leef,
    ];

    /// The name the configuration uses (`format = "ecs"`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Ecs => "ecs",
            Format::Ocsf => "ocsf",
            Format::Cef => "cef",
            Format::Leef => "leef",
        }
    }

    /// A JSON object per event (every sink can carry it).
    pub fn is_json(self) -> bool {
        matches!(self, Format::Native | Format::Ecs | Format::Ocsf)
    }

    /// The Splunk sourcetype of events in this format, e.g. `ibmi:audit:ocsf`.
    pub fn sourcetype(self) -> String {
        format!("ibmi:audit:{}", self.name())
    }

    /// Checks a sink's `format` key: `key` is "sinks[N].format". Sinks other
    /// than syslog write JSON objects only.
    pub fn validate_json_only(self, key: String, problems: &mut crate::config::Problems) {
        if !self.is_json() {
            problems.fail(
                key,
                format!(
                    "{:?} is a syslog body; this sink writes one of \"native\", \"ecs\", \"ocsf\"",
                    self.name()
                ),
            );
        }
    }
}

/// Appends `event` in `format` to `out`, without a line end.
pub fn write(event: &Event, format: Format, out: &mut Vec<u8>) {
    match format {
        Format::Native => serde_json::to_writer(&mut *out, event).expect("events serialise"),
        Format::Ecs => ecs::write(event, out),
        Format::Ocsf => ocsf::write(event, out),
        // Where the optional items are matters to the syslog sink only.
        Format::Cef => {
            cef::write_cef(event, out);
        }
        Format::Leef => {
            cef::write_leef(event, out);
        }
    }
}

/// `event` in `format` as bytes, without a line end.
pub fn encode(event: &Event, format: Format) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write(event, format, &mut out);
    out
}

/// Events as newline-delimited lines in `format` (what the file and stdout
/// sinks write).
pub fn ndjson(events: &[Event], format: Format) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.len() * 1024);
    for event in events {
        write(event, format, &mut out);
        out.push(b'\n');
    }
    out
}

/// Severity on the 0-10 scale of CEF, LEEF (`sev`), ECS `event.severity`
/// and the QRadar mapping: info 1, low 3, medium 5, high 8, critical 10.
pub fn severity_0_10(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 10,
        Severity::High => 8,
        Severity::Medium => 5,
        Severity::Low => 3,
        Severity::Info => 1,
    }
}

/// OCSF `severity_id` and its caption: info 1 Informational, low 2, medium
/// 3, high 4, critical 5.
pub fn ocsf_severity(severity: Severity) -> (u8, &'static str) {
    match severity {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The severity's name as the native event writes it.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// The users an event names: (acting user, effective user, target user).
/// JS: the real user, the effective user, and for a swap the effective one as
/// target; other types: the job's user and the profile the entry is about.
pub fn users(event: &Event) -> (Option<&str>, Option<&str>, Option<&str>) {
    // A failed sign-on is about the profile that failed, not the host server's
    // QUSER job that reported it.
    let failed_profile = (event.audit_type == Some("PW"))
        .then_some(event.target_user.as_deref())
        .flatten();
    let actor = failed_profile
        .or(event.real_user_profile.as_deref())
        .or(event.user_name.as_deref());
    let effective = event.effective_user_profile.as_deref();
    let target = event.target_user.as_deref().or_else(|| {
        // A swap's target is the profile switched to.
        matches!(event.code(), Some("M" | "T"))
            .then_some(effective)
            .flatten()
            .filter(|_| event.audit_type == Some("JS"))
    });
    (actor, effective, target)
}

/// The JS access method, when it is known.
pub fn non_empty_method(event: &Event) -> Option<&str> {
    match event.connection_method.as_ref() {
        "" | "unknown" => None,
        method => Some(method),
    }
}

/// The job number as a number (IBM i job numbers are six digits).
pub fn job_number(event: &Event) -> Option<u64> {
    event.job_number.as_deref()?.trim().parse().ok()
}

/// The remote address, when it is an IP address (IBM i may report other text).
pub fn remote_ip(event: &Event) -> Option<std::net::IpAddr> {
    event.remote_address.as_deref()?.trim().parse().ok()
}

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
pub(crate) mod validate;

/// IBM i facts no standard field holds, under `ibmi` (ECS) or
/// `unmapped.ibmi` (OCSF): position, type and code, labels, job, program,
/// the typed block, the signal or the session; a light tree borrowing from
/// `event`.
pub fn ibmi_light(event: &Event) -> light::J<'_> {
    use light::{os, s, J};
    let mut block = vec![
        ("audit_type", os(event.audit_type)),
        ("code", os(event.code())),
        ("code_label", s(&event.code_label)),
        ("event_action", s(&event.event_action)),
        ("severity", s(severity_name(event.severity))),
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
            light::owned(crate::event::format_local(&event.entry_timestamp_local)),
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
fn ibmi_typed_block(event: &Event) -> Option<(&'static str, light::J<'_>)> {
    use light::{os, s, J};
    if let Some(session) = &event.session {
        let time = |at: &chrono::DateTime<chrono::Utc>| light::owned(crate::event::format_utc(at));
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
                    light::owned(crate::event::format_utc(&signal.first_entry_timestamp)),
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
                (lower_case(column.name), value)
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

/// A catalog column name in lower case, made once per name for the process.
fn lower_case(name: &'static str) -> &'static str {
    static NAMES: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static str>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        crate::event::audit::catalog::ALL
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

/// Removes nulls, and the objects and arrays left empty, at every depth.
pub fn prune(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                prune(child);
            }
            map.retain(|_, child| match child {
                Value::Null => false,
                Value::Object(inner) => !inner.is_empty(),
                Value::Array(items) => !items.is_empty(),
                _ => true,
            });
        }
        Value::Array(items) => {
            for child in items.iter_mut() {
                prune(child);
            }
            items.retain(|child| !child.is_null());
        }
        _ => {}
    }
}
