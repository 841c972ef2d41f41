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
mod ibmi;
pub(crate) mod json;
#[cfg(test)]
mod light;
pub mod mapping;
mod native;
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
        Format::Native => native::write(event, out),
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
/// sinks write), in a buffer sized for the format's usual line.
pub fn ndjson(events: &[Event], format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    ndjson_into(events, format, &mut out);
    out
}

/// [`ndjson`], appended to `out` (a buffer the caller reuses batch after batch).
pub fn ndjson_into(events: &[Event], format: Format, out: &mut Vec<u8>) {
    let line = match format {
        Format::Native => 1280,
        Format::Ecs => 1664,
        Format::Ocsf => 2176,
        Format::Cef | Format::Leef => 640,
    };
    out.reserve(events.len() * line);
    for event in events {
        write(event, format, out);
        out.push(b'\n');
    }
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
