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

    /// The sink's name in logs and metrics: `stdout`.
    pub fn describe(&self) -> String {
        "stdout".into()
    }

    /// Only the JSON formats (native, ECS, OCSF) are allowed; `key` is `sinks[N]`.
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        self.format
            .validate_json_only(format!("{key}.format"), problems);
    }

    /// Nothing to read at load.
    pub fn load_files(&self, _key: &str, _problems: &mut Problems) {}
}
