//! `type = "file"`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Problems;
use crate::format::Format;

/// Newline-delimited JSON appended to a file, acknowledged after write + fsync.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// The file events are appended to (created 0600); its own path, outside `state.dir`.
    pub path: PathBuf,
    /// One JSON object a line: "native" (schema v1/v2, the default), "ecs" or "ocsf".
    #[serde(default)]
    pub format: Format,
}

impl FileSinkConfig {
    /// Batches encoded and written while an `fsync` runs, then covered by one
    /// `fsync` together (group commit); capped by `pipeline.max_batches_in_flight`.
    /// Four amortise an `fsync` of a few milliseconds over batches that take
    /// about as long to encode, and hold at most 4 encoded batches (~4 MB).
    pub fn max_in_flight(&self) -> usize {
        4
    }

    /// The sink's name in logs and metrics: `file:<path>`.
    pub fn describe(&self) -> String {
        format!("file:{}", self.path.display())
    }

    /// `key` is "sinks[N]".
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        if self.path.as_os_str().is_empty() {
            problems.fail(format!("{key}.path"), "must name a file");
        }
        self.format
            .validate_json_only(format!("{key}.format"), problems);
    }

    /// Nothing to read at load: the file is opened by the sink.
    pub fn load_files(&self, _key: &str, _problems: &mut Problems) {}
}
