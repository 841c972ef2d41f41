//! Newline-delimited JSON appended to a file; acknowledged after write + fsync.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind as IoKind, Write};
use std::path::PathBuf;

use super::SinkError;
use crate::event::EventBatch;

pub struct FileSink {
    path: PathBuf,
    file: Option<File>,
}

impl FileSink {
    pub fn new(path: PathBuf) -> FileSink {
        FileSink { path, file: None }
    }

    pub fn check(&mut self) -> Result<(), SinkError> {
        self.open().map(|_| ())
    }

    fn open(&mut self) -> Result<&mut File, SinkError> {
        if self.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|error| self.classify("cannot open", &error))?;
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    /// Appends the batch and syncs it to disk. Runs on a tokio worker thread
    /// through `block_in_place`: a file write is short and the sink is sequential.
    pub fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        let bytes = batch.to_ndjson();
        let result = tokio::task::block_in_place(|| {
            let file = self.open()?;
            let length_before = file.metadata().map(|meta| meta.len());
            match file.write_all(&bytes).and_then(|()| file.sync_data()) {
                Ok(()) => Ok(()),
                Err(error) => {
                    // Cut a half-written batch off so the retry does not glue a
                    // broken line to a whole one.
                    if let Ok(length) = length_before {
                        let _ = file.set_len(length);
                    }
                    Err(self.classify("write failed", &error))
                }
            }
        });
        if result.is_err() {
            // Reopen next time: the file may have been rotated, removed or remounted.
            self.file = None;
        }
        result
    }

    fn classify(&self, what: &str, error: &std::io::Error) -> SinkError {
        let message = format!("file sink {}: {what}: {error}", self.path.display());
        match error.kind() {
            IoKind::PermissionDenied => SinkError::permanent(format!(
                "{message}; give the auditfwd user write access to the file and its directory"
            )),
            IoKind::IsADirectory => SinkError::permanent(format!(
                "{message}; sinks[].path must name a file, not a directory"
            )),
            // A missing directory may be a mount that is not there yet: retry.
            _ => SinkError::transient(message),
        }
    }
}
