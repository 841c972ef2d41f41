//! `type = "file"`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Problems;

/// Newline-delimited JSON appended to a file, acknowledged after write + fsync.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    pub path: PathBuf,
}

impl FileSinkConfig {
    /// Delivered one batch at a time: the peer answers at once.
    pub fn max_in_flight(&self) -> usize {
        1
    }

    pub fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    /// `key` is "sinks[N]".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        if self.path.as_os_str().is_empty() {
            problems.fail(format!("{key}.path"), "must name a file");
        }
    }

    pub fn load_files(&self, _key: &str, _problems: &mut Problems) {}
}
