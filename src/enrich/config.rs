//! `[filter]` and `[alerts]`: which rows are forwarded, which profiles are privileged.

use serde::{Deserialize, Serialize};

use super::classify::EVENT_ACTIONS;
use crate::config::Problems;

/// Which rows `run` forwards (the `enrich` command does not filter).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterConfig {
    /// JS entry codes to keep; empty = all. Default: IBM's S, E, B, M.
    pub entry_types: Vec<String>,
    /// REAL_USER_PROFILE values to keep, compared upper-case; empty = all.
    pub include_users: Vec<String>,
    /// REAL_USER_PROFILE values to drop. Default: IBM's QCTP and QUSER.
    pub exclude_users: Vec<String>,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            entry_types: ["S", "E", "B", "M"].map(String::from).to_vec(),
            include_users: Vec::new(),
            exclude_users: ["QCTP", "QUSER"].map(String::from).to_vec(),
        }
    }
}

/// `[alerts]`: which profiles count as privileged, and the sign-on failure burst.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Profiles whose use marks an event `privileged` (real or effective user).
    pub privileged_profiles: Vec<String>,
    /// Also treat as privileged every profile the system reports holding
    /// *ALLOBJ or *SECADM (`QSYS2.USER_INFO`, ODBC source only).
    pub privileged_from_system: bool,
    /// How often that list is read again.
    #[serde(with = "crate::config::duration")]
    pub privileged_refresh: std::time::Duration,
    /// A `signon_failure_burst` event when one user or one remote address
    /// collects this many PW failures within `window`.
    pub signon_failure_burst: BurstConfig,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            privileged_profiles: vec!["QSECOFR".into()],
            privileged_from_system: true,
            privileged_refresh: std::time::Duration::from_secs(3600),
            signon_failure_burst: BurstConfig::default(),
        }
    }
}

/// `[alerts.signon_failure_burst]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BurstConfig {
    /// Whether the signal runs (default true; needs PW in `source.audit_types`).
    pub enabled: bool,
    /// Failures that make a burst (2 to 1000).
    pub threshold: usize,
    /// The window they must fall within, by entry time (1 s to 24 h).
    #[serde(with = "crate::config::duration")]
    pub window: std::time::Duration,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            enabled: true,
            threshold: 5,
            window: std::time::Duration::from_secs(300),
        }
    }
}

/// `[sessions]`: connections derived from the JS entries (`enrich::sessions`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionsConfig {
    /// Derive `session_start` / `session_end` events (only where JS is read).
    pub enabled: bool,
    /// A session older than this (by entry time) when a JS entry of its
    /// system is read is closed as `max_duration`, with no end time.
    #[serde(with = "crate::config::duration")]
    pub max_duration: std::time::Duration,
    /// Most sessions open at once; past it, the oldest is closed as `evicted`.
    pub max_open: usize,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            enabled: true,
            max_duration: std::time::Duration::from_secs(24 * 3600),
            max_open: 100_000,
        }
    }
}

impl SessionsConfig {
    /// Bounds; `key` is "sessions".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        problems.duration_in(
            format!("{key}.max_duration"),
            self.max_duration,
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(366 * 24 * 3600),
        );
        if !(1..=10_000_000).contains(&self.max_open) {
            problems.fail(
                format!("{key}.max_open"),
                format!("{} is out of range; use 1 to 10000000", self.max_open),
            );
        }
    }
}

impl FilterConfig {
    /// Known entry codes and profile names; `key` is "filter".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        for (index, code) in self.entry_types.iter().enumerate() {
            let known = EVENT_ACTIONS
                .iter()
                .any(|(known, _, _)| code.trim().eq_ignore_ascii_case(known));
            if !known {
                problems.fail(
                    format!("{key}.entry_types[{index}]"),
                    format!("{code:?} is not a JS entry code (A, B, C, E, H, I, J, K, L, M, N, P, Q, R, S, T, U, V)"),
                );
            }
        }
        check_profiles(
            &format!("{key}.include_users"),
            &self.include_users,
            problems,
        );
        check_profiles(
            &format!("{key}.exclude_users"),
            &self.exclude_users,
            problems,
        );
    }
}

impl AlertsConfig {
    /// Profile names; `key` is "alerts".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        check_profiles(
            &format!("{key}.privileged_profiles"),
            &self.privileged_profiles,
            problems,
        );
        problems.duration_in(
            format!("{key}.privileged_refresh"),
            self.privileged_refresh,
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(7 * 24 * 3600),
        );
        let burst = &self.signon_failure_burst;
        if !(2..=1000).contains(&burst.threshold) {
            problems.fail(
                format!("{key}.signon_failure_burst.threshold"),
                format!("{} is out of range; use 2 to 1000", burst.threshold),
            );
        }
        problems.duration_in(
            format!("{key}.signon_failure_burst.window"),
            burst.window,
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(24 * 3600),
        );
    }
}

fn check_profiles(key: &str, names: &[String], problems: &mut Problems) {
    for (index, name) in names.iter().enumerate() {
        if name.trim().is_empty() || name.trim().len() > 10 {
            problems.fail(
                format!("{key}[{index}]"),
                format!("{name:?} is not a user profile name (1 to 10 characters)"),
            );
        }
    }
}
