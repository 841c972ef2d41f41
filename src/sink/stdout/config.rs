//! `type = "stdout"`.

use serde::{Deserialize, Serialize};

use crate::config::Problems;
use crate::format::Format;

/// Newline-delimited JSON on standard output (logs go to standard error).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutSinkConfig {
    /// One JSON object a line: "native" (schema v1/v2, the default), "ecs" or "ocsf".
    #[serde(default)]
    pub format: Format,
}

impl StdoutSinkConfig {
    /// Delivered one batch at a time: the peer answers at once.
    pub fn max_in_flight(&self) -> usize {
        1
    }

    pub fn describe(&self) -> String {
        "stdout".into()
    }

    pub fn validate(&self, key: &str, problems: &mut Problems) {
        self.format
            .validate_json_only(format!("{key}.format"), problems);
    }

    pub fn load_files(&self, _key: &str, _problems: &mut Problems) {}
}
