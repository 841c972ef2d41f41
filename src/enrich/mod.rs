//! Enrichment: a [`JournalRow`] becomes an [`Event`]. No I/O, cannot fail.
//!
//! Filtering (entry types and users) lives here too, so the pipeline and the
//! `enrich` command classify with the same code.

pub mod classify;
pub mod config;

use std::collections::HashSet;

pub use self::config::{AlertsConfig, FilterConfig};
use std::borrow::Cow;

use crate::event::{Event, JournalRow, Severity, SCHEMA_VERSION};

/// Turns rows into events with a fixed set of privileged profiles.
#[derive(Clone, Debug, Default)]
pub struct Enricher {
    privileged_profiles: HashSet<String>,
}

impl Enricher {
    pub fn new(alerts: &AlertsConfig) -> Enricher {
        Enricher {
            privileged_profiles: alerts
                .privileged_profiles
                .iter()
                .map(|name| name.trim().to_uppercase())
                .collect(),
        }
    }

    fn is_privileged(&self, profile: Option<&str>) -> bool {
        profile.is_some_and(|name| self.privileged_profiles.contains(&name.to_uppercase()))
    }

    /// Classifies one row (a copy of it; the pipeline uses [`Enricher::enrich_owned`]).
    pub fn enrich(&self, row: &JournalRow) -> Event {
        self.enrich_owned(row.clone())
    }

    /// Classifies one row, moving its values into the event: no copies of the
    /// text columns, and the fixed labels are static strings.
    pub fn enrich_owned(&self, row: JournalRow) -> Event {
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
            None => classify::entry_type_description(entry_type).map(str::to_owned),
        };
        let severity = match row.notice {
            Some(_) => Severity::High,
            None => severity(privileged, method.secure, action),
        };
        Event {
            schema_version: SCHEMA_VERSION,
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
    pub fn accepts(&self, row: &JournalRow) -> bool {
        if row.notice.is_some() {
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
            user_name: user.map(String::from),
            qualified_job_name: Some(format!("123456/QUSER/{job_name}")),
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
            real_user_profile: user.map(String::from),
            effective_user_profile: user.map(String::from),
            target_qualified_job_name: None,
            notice: None,
            details: None,
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
        let event = Enricher::default().enrich(&row("S", "INT", "QPADEV0001", Some("JSMITH")));
        assert_eq!(event.event_id, "PROD1:QGPL/AUDRCV0042:42");
        assert_eq!(event.job_event_type, "Start");
        assert_eq!(event.connection_type, classify::LABEL_INTERACTIVE);
        assert_eq!(event.entry_type_detail.as_deref(), Some("Job started"));
        let json = serde_json::to_value(&event).unwrap();
        // Instants in the event, fixed six-digit text on the wire.
        assert_eq!(json["entry_timestamp"], "2026-04-08T10:15:30.000120Z");
        assert_eq!(json["entry_timestamp_local"], "2026-04-08T10:15:30.000120");
        let back: crate::event::Event = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, event);
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
