//! `type = "stdout"`.

use serde::{Deserialize, Serialize};

use crate::config::Problems;

/// Newline-delimited JSON on standard output (logs go to standard error).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdoutSinkConfig {}

impl StdoutSinkConfig {
    /// Delivered one batch at a time: the peer answers at once.
    pub fn max_in_flight(&self) -> usize {
        1
    }

    pub fn describe(&self) -> String {
        "stdout".into()
    }

    pub fn validate(&self, _key: &str, _problems: &mut Problems) {}

    pub fn load_files(&self, _key: &str, _problems: &mut Problems) {}
}
