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

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Profiles whose use marks an event `privileged` (real or effective user).
    pub privileged_profiles: Vec<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            privileged_profiles: vec!["QSECOFR".into()],
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
