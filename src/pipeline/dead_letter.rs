//! The dead-letter file: events a sink refused for good, one JSON line each
//! with the sink and the error, appended and synced. Created 0600: it holds
//! audit data.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::event::Event;
use crate::sink::SinkError;

/// The dead-letter file could not be opened, written or synced.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the dead-letter file {path}: {source}")]
pub struct DeadLetterError {
    /// The dead-letter file (`pipeline.dead_letter_path`).
    pub path: PathBuf,
    /// What the system said.
    #[source]
    pub source: std::io::Error,
}

/// Appends refused batches to one file. Blocking: call from a blocking thread.
#[derive(Debug)]
pub struct DeadLetter {
    path: PathBuf,
}

impl DeadLetter {
    /// A writer for `path`; nothing is opened until the first write.
    pub fn new(path: &Path) -> DeadLetter {
        DeadLetter {
            path: path.to_path_buf(),
        }
    }

    /// The file it appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Current size of the file (0 when it does not exist yet).
    pub fn size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |meta| meta.len())
    }

    /// Appends every event of a refused batch and syncs the file.
    pub fn write(
        &self,
        sink: &str,
        error: &SinkError,
        events: &[Event],
    ) -> Result<(), DeadLetterError> {
        let failed = |source: std::io::Error| DeadLetterError {
            path: self.path.clone(),
            source,
        };
        let mut bytes = Vec::new();
        let failed_at = crate::event::format_utc(&chrono::Utc::now());
        for event in events {
            let line = serde_json::json!({
                "dead_letter": { "sink": sink, "error": error.message, "failed_at": failed_at },
                "event": event,
            });
            serde_json::to_writer(&mut bytes, &line).map_err(|error| failed(error.into()))?;
            bytes.push(b'\n');
        }
        let mut file = crate::fsmode::private_file_options()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(failed)?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_data())
            .map_err(failed)
    }
}
