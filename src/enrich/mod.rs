//! Enrichment: a [`JournalRow`] becomes an [`Event`]. No I/O, cannot fail.
//!
//! Filtering (entry types and users) lives here too, so the pipeline and the
//! `enrich` command classify with the same code.

pub mod burst;
pub mod classify;
pub mod config;
#[cfg(test)]
mod conformance;
mod fast_hash;
pub mod session_table;
pub mod sessions;

use std::collections::HashSet;

pub use self::config::{AlertsConfig, FilterConfig};
use std::borrow::Cow;

use crate::event::audit::{self, Details};
use crate::event::{Event, JournalRow, Severity, Text, SCHEMA_VERSION};

/// Turns rows into events: the configured privileged profiles, those the
/// system reports (refreshed from `QSYS2.USER_INFO`), and the schema to write.
#[derive(Clone, Debug)]
pub struct Enricher {
    privileged_profiles: HashSet<String>,
    /// Profiles holding *ALLOBJ or *SECADM, as the system last reported them.
    system_privileged: HashSet<String>,
    schema_version: u32,
    /// The operator's name of the system (`[[sources]]`), on every event.
    source_name: Option<std::sync::Arc<str>>,
}

impl Default for Enricher {
    fn default() -> Self {
        Enricher::new(&AlertsConfig::default())
    }
}

impl Enricher {
    /// An enricher writing the current schema ([`SCHEMA_VERSION`]).
    pub fn new(alerts: &AlertsConfig) -> Enricher {
        Enricher {
            privileged_profiles: alerts
                .privileged_profiles
                .iter()
                .map(|name| name.trim().to_uppercase())
                .collect(),
            system_privileged: HashSet::new(),
            schema_version: SCHEMA_VERSION,
            source_name: None,
        }
    }

    /// The same enricher writing native schema `version` (1 or 2).
    pub fn with_schema(mut self, version: u32) -> Enricher {
        self.schema_version = version;
        self
    }

    /// The same enricher naming its system `name` on every event (none when empty).
    pub fn with_source_name(mut self, name: &str) -> Enricher {
        let name = name.trim();
        self.source_name = (!name.is_empty()).then(|| std::sync::Arc::from(name));
        self
    }

    /// Replaces the profiles the system reports as privileged.
    pub fn set_system_privileged(&mut self, profiles: impl IntoIterator<Item = String>) {
        self.system_privileged = profiles
            .into_iter()
            .map(|name| name.trim().to_uppercase())
            .collect();
    }

    /// The native schema this enricher writes.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The operator's name of the system, as put on every event.
    pub fn source_name(&self) -> Option<std::sync::Arc<str>> {
        self.source_name.clone()
    }

    /// How many profiles the system reported as privileged.
    pub fn system_privileged_count(&self) -> usize {
        self.system_privileged.len()
    }

    /// Whether `profile` is configured as privileged or holds *ALLOBJ/*SECADM.
    pub fn is_privileged_name(&self, profile: &str) -> bool {
        if self.privileged_profiles.is_empty() && self.system_privileged.is_empty() {
            return false;
        }
        let name = profile.trim();
        // IBM i profile names are upper case already: no copy for those.
        let upper = if name
            .bytes()
            .all(|byte| byte.is_ascii() && !byte.is_ascii_lowercase())
        {
            Cow::Borrowed(name)
        } else {
            Cow::Owned(name.to_uppercase())
        };
        self.privileged_profiles.contains(upper.as_ref())
            || self.system_privileged.contains(upper.as_ref())
    }

    fn is_privileged(&self, profile: Option<&str>) -> bool {
        profile.is_some_and(|name| self.is_privileged_name(name))
    }

    /// Classifies one row (a copy of it; the pipeline uses [`Enricher::enrich_owned`]).
    pub fn enrich(&self, row: &JournalRow) -> Event {
        self.enrich_owned(row.clone())
    }

    /// Classifies one row, moving its values into the event: no copies of the
    /// text columns, and the fixed labels are static strings.
    pub fn enrich_owned(&self, mut row: JournalRow) -> Event {
        if let Some(details) = row.details.take() {
            return self.enrich_typed(row, details);
        }
        let event_id = row.event_id();
        let entry_type = row.entry_type.as_deref();
        let job_type = row.job_type.as_deref();
        let job_name = row.job_name.as_deref();
        let method = classify::connection_method(job_type, job_name, row.program_name.as_deref());
        let privileged = self.is_privileged(row.real_user_profile.as_deref())
            || self.is_privileged(row.effective_user_profile.as_deref());
        let action = match &row.notice {
            Some(notice) => notice.action,
            None => classify::event_action(entry_type),
        };
        let job_event_type = classify::job_event_type(entry_type);
        let connection_type = classify::connection_type(job_type, job_name);
        let entry_type_detail = match row.entry_type_detail {
            Some(detail) => Some(detail),
            None => classify::entry_type_description(entry_type).map(Text::const_new),
        };
        let severity = match row.notice {
            Some(_) => Severity::High,
            None => severity(privileged, method.secure, action),
        };
        let is_notice = row.notice.is_some();
        Event {
            schema_version: self.schema_version,
            audit_type: (!is_notice).then_some("JS"),
            // JS's code is its entry_type (see `Event::code`): no copy per event.
            code: None,
            code_label: Cow::Borrowed(if is_notice { action } else { job_event_type }),
            target_user: None,
            details: None,
            signal: None,
            source_name: self.source_name.clone(),
            session: None,
            event_id,
            entry_timestamp: row.entry_timestamp,
            entry_timestamp_local: row.entry_timestamp_local,
            system_name: row.system_name,
            receiver_library: row.receiver_library,
            receiver_name: row.receiver_name,
            sequence_number: row.sequence_number,
            entry_type: row.entry_type,
            entry_type_detail,
            job_event_type: Cow::Borrowed(job_event_type),
            event_action: Cow::Borrowed(action),
            user_name: row.user_name,
            real_user_profile: row.real_user_profile,
            effective_user_profile: row.effective_user_profile,
            qualified_job_name: row.qualified_job_name,
            job_name: row.job_name,
            job_user: row.job_user,
            job_number: row.job_number,
            job_type: row.job_type,
            job_subtype: row.job_subtype,
            remote_address: row.remote_address,
            remote_port: row.remote_port,
            connection_type: Cow::Borrowed(connection_type),
            connection_method: Cow::Borrowed(method.name),
            connection_secure: method.secure,
            privileged,
            severity,
            device_name: row.device_name,
            program_library: row.program_library,
            program_name: row.program_name,
            target_qualified_job_name: row.target_qualified_job_name,
            message: row.notice.map(|notice| notice.message),
            truncated: row.truncated,
        }
    }
}

impl Enricher {
    /// A non-JS entry: the common envelope, the typed block, and what the
    /// catalog and the detections say it means.
    fn enrich_typed(&self, row: JournalRow, details: Details) -> Event {
        let event_id = row.event_id();
        let target_user = details.target_user().map(Text::from);
        let privileged = self.is_privileged(row.user_name.as_deref())
            || self.is_privileged(target_user.as_deref());
        let detection = audit::detect(&details, |name| self.is_privileged_name(name));
        let code_label = match details.spec.code_spec(details.code().unwrap_or("")) {
            Some(_) => Cow::Borrowed(detection.label),
            // A code the catalog does not know: IBM's own description, when the row has one.
            None => ["VIOLATION_TYPE_DETAIL", "ENTRY_TYPE_DETAIL"]
                .iter()
                .find_map(|column| details.text(column))
                .map(|text| Cow::Owned(text.to_owned()))
                .unwrap_or(Cow::Borrowed(detection.label)),
        };
        let severity = if privileged {
            detection.severity.max(Severity::High)
        } else {
            detection.severity
        };
        Event {
            schema_version: self.schema_version,
            event_id,
            entry_timestamp: row.entry_timestamp,
            entry_timestamp_local: row.entry_timestamp_local,
            system_name: row.system_name,
            receiver_library: row.receiver_library,
            receiver_name: row.receiver_name,
            sequence_number: row.sequence_number,
            entry_type: None,
            entry_type_detail: None,
            job_event_type: Cow::Borrowed(""),
            event_action: Cow::Borrowed(detection.action),
            user_name: row.user_name,
            real_user_profile: None,
            effective_user_profile: None,
            qualified_job_name: row.qualified_job_name,
            job_name: row.job_name,
            job_user: row.job_user,
            job_number: row.job_number,
            job_type: None,
            job_subtype: None,
            remote_address: row.remote_address,
            remote_port: row.remote_port,
            connection_type: Cow::Borrowed(""),
            connection_method: Cow::Borrowed(""),
            connection_secure: None,
            privileged,
            severity,
            device_name: None,
            program_library: row.program_library,
            program_name: row.program_name,
            target_qualified_job_name: None,
            message: None,
            truncated: row.truncated,
            audit_type: Some(details.spec.code),
            code: details.code().map(Text::from),
            code_label,
            target_user,
            details: Some(details),
            signal: None,
            source_name: self.source_name.clone(),
            session: None,
        }
    }
}

/// Severity rules, highest first:
/// - a privileged profile over a clear-text channel: critical;
/// - a privileged profile otherwise: high;
/// - an abnormal end or a job ended by ENDJOB: medium;
/// - a profile change through a token, or a user trace change: low;
/// - everything else: info.
pub fn severity(privileged: bool, secure: Option<bool>, action: &str) -> Severity {
    match (privileged, secure, action) {
        (true, Some(false), _) => Severity::Critical,
        (true, _, _) => Severity::High,
        (false, _, "job_end_abnormal" | "job_ended_by_endjob") => Severity::Medium,
        (false, _, "profile_token_swap" | "user_trace_changed") => Severity::Low,
        _ => Severity::Info,
    }
}

/// Which rows the daemon forwards.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    entry_types: HashSet<String>,
    include_users: HashSet<String>,
    exclude_users: HashSet<String>,
}

impl Filter {
    /// The filter `[filter]` describes; user names compared upper case, trimmed.
    pub fn new(config: &FilterConfig) -> Filter {
        let upper = |names: &[String]| -> HashSet<String> {
            names
                .iter()
                .map(|name| name.trim().to_uppercase())
                .collect()
        };
        Filter {
            entry_types: upper(&config.entry_types),
            include_users: upper(&config.include_users),
            exclude_users: upper(&config.exclude_users),
        }
    }

    /// True when the row is forwarded. Users are compared on REAL_USER_PROFILE,
    /// upper-case, as IBM's query does; an empty list means "all".
    /// The filter is about JS entries (their codes and REAL_USER_PROFILE);
    /// entries of other types and notices always pass: a failed sign-on by
    /// QUSER's host-server job is exactly what a SOC wants to see.
    pub fn accepts(&self, row: &JournalRow) -> bool {
        if row.notice.is_some() || row.details.is_some() {
            return true;
        }
        if !self.entry_types.is_empty() {
            let code = row
                .entry_type
                .as_deref()
                .unwrap_or("")
                .trim()
                .to_uppercase();
            if !self.entry_types.contains(&code) {
                return false;
            }
        }
        let user = row
            .real_user_profile
            .as_deref()
            .map(|name| name.trim().to_uppercase());
        if !self.include_users.is_empty()
            && !user
                .as_ref()
                .is_some_and(|name| self.include_users.contains(name))
        {
            return false;
        }
        !user.is_some_and(|name| self.exclude_users.contains(&name))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    pub(crate) fn row(
        entry_type: &str,
        job_type: &str,
        job_name: &str,
        user: Option<&str>,
    ) -> JournalRow {
        let local = NaiveDate::from_ymd_opt(2026, 4, 8)
            .unwrap()
            .and_hms_micro_opt(10, 15, 30, 120)
            .unwrap();
        JournalRow {
            entry_timestamp_local: local,
            entry_timestamp: Utc.from_utc_datetime(&local),
            sequence_number: 42,
            system_name: "PROD1".into(),
            receiver_library: "QGPL".into(),
            receiver_name: "AUDRCV0042".into(),
            entry_type: Some(entry_type.into()),
            entry_type_detail: None,
            user_name: user.map(Text::from),
            qualified_job_name: Some(format!("123456/QUSER/{job_name}").into()),
            job_name: Some(job_name.into()),
            job_user: Some("QUSER".into()),
            job_number: Some("123456".into()),
            job_type: Some(job_type.into()),
            job_subtype: None,
            program_library: None,
            program_name: None,
            remote_address: None,
            remote_port: None,
            device_name: None,
            real_user_profile: user.map(Text::from),
            effective_user_profile: user.map(Text::from),
            target_qualified_job_name: None,
            notice: None,
            details: None,
            truncated: Vec::new(),
        }
    }

    #[test]
    fn severity_rules_in_order() {
        let cases = [
            (true, Some(false), "job_start", Severity::Critical),
            (true, None, "job_start", Severity::High),
            (true, Some(true), "profile_swap", Severity::High),
            (false, Some(false), "job_end_abnormal", Severity::Medium),
            (false, None, "job_ended_by_endjob", Severity::Medium),
            (false, None, "profile_token_swap", Severity::Low),
            (false, None, "user_trace_changed", Severity::Low),
            (false, Some(false), "job_start", Severity::Info),
        ];
        for (privileged, secure, action, expected) in cases {
            assert_eq!(
                severity(privileged, secure, action),
                expected,
                "{privileged} {secure:?} {action}"
            );
        }
    }

    #[test]
    fn privileged_by_real_or_effective_user_case_insensitively() {
        let enricher = Enricher::new(&AlertsConfig {
            privileged_profiles: vec!["qsecofr".into(), "SECADM".into()],
            ..AlertsConfig::default()
        });
        let event = enricher.enrich(&row("M", "PJ", "QZDASOINIT", Some("QSECOFR")));
        assert!(event.privileged);
        assert_eq!(event.severity, Severity::Critical);
        let mut effective_only = row("M", "PJ", "QZDASSINIT", Some("JSMITH"));
        effective_only.effective_user_profile = Some("SECADM".into());
        let event = enricher.enrich(&effective_only);
        assert!(event.privileged);
        assert_eq!(event.severity, Severity::High);
        assert!(
            !enricher
                .enrich(&row("S", "INT", "QPADEV0001", Some("JSMITH")))
                .privileged
        );
        assert!(
            !enricher
                .enrich(&row("S", "INT", "QPADEV0001", None))
                .privileged
        );
    }

    #[test]
    fn event_carries_ids_labels_and_nulls() {
        let event = Enricher::default().with_schema(1).enrich(&row(
            "S",
            "INT",
            "QPADEV0001",
            Some("JSMITH"),
        ));
        assert_eq!(event.event_id, "PROD1:QGPL/AUDRCV0042:42");
        assert_eq!(event.job_event_type, "Start");
        assert_eq!(event.connection_type, classify::LABEL_INTERACTIVE);
        assert_eq!(event.entry_type_detail.as_deref(), Some("Job started"));
        let json = serde_json::to_value(&event).unwrap();
        // Instants in the event, fixed six-digit text on the wire.
        assert_eq!(json["entry_timestamp"], "2026-04-08T10:15:30.000120Z");
        assert_eq!(json["entry_timestamp_local"], "2026-04-08T10:15:30.000120");
        let back: crate::event::Event = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        assert!(json["remote_address"].is_null());
        assert!(json["connection_secure"].is_null());
        assert!(json.get("message").is_none());
    }

    #[test]
    fn filter_by_entry_type_and_real_user() {
        let filter = Filter::new(&FilterConfig::default());
        assert!(filter.accepts(&row("S", "INT", "QPADEV0001", Some("JSMITH"))));
        assert!(!filter.accepts(&row("P", "PJ", "QZDASOINIT", Some("JSMITH"))));
        assert!(!filter.accepts(&row("M", "PJ", "QZDASOINIT", Some("QUSER"))));
        assert!(filter.accepts(&row("M", "PJ", "QZDASOINIT", None)));

        let only = Filter::new(&FilterConfig {
            entry_types: vec![],
            include_users: vec!["qsecofr".into()],
            exclude_users: vec![],
        });
        assert!(only.accepts(&row("P", "PJ", "QZDASOINIT", Some("QSECOFR"))));
        assert!(!only.accepts(&row("S", "INT", "QPADEV0001", Some("JSMITH"))));
        assert!(!only.accepts(&row("S", "INT", "QPADEV0001", None)));

        let lower_exclude = Filter::new(&FilterConfig {
            entry_types: vec!["s".into()],
            include_users: vec![],
            exclude_users: vec!["jsmith".into()],
        });
        assert!(!lower_exclude.accepts(&row("S", "INT", "QPADEV0001", Some("JSMITH"))));
        assert!(lower_exclude.accepts(&row("S", "INT", "QPADEV0001", Some("MROSSI"))));
    }
}
