//! `[event]`: the layout of the native JSON every sink receives.

use serde::{Deserialize, Serialize};

use super::{SCHEMA_VERSION, SCHEMA_VERSION_V1};
use crate::config::Problems;

/// `[event]`: the native JSON layout (default 2).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventConfig {
    /// 2 (every audit type, a typed block per type) or 1 (JS only, the layout
    /// of earlier releases, kept for one release).
    pub schema_version: u32,
}

impl Default for EventConfig {
    fn default() -> Self {
        EventConfig {
            schema_version: SCHEMA_VERSION,
        }
    }
}

impl EventConfig {
    /// Only 2 and 1 are valid; `key` is "event".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        if self.schema_version != SCHEMA_VERSION && self.schema_version != SCHEMA_VERSION_V1 {
            problems.fail(
                format!("{key}.schema_version"),
                format!(
                    "{} is not a schema auditfwd writes; use {SCHEMA_VERSION} (every audit type) or {SCHEMA_VERSION_V1} (JS only, earlier releases' layout)",
                    self.schema_version
                ),
            );
        }
    }
}
