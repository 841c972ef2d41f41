//! Newline-delimited JSON appended to a file; acknowledged after write + fsync.
//!
//! A new file is created `0600` (audit data). A path that is not a regular file
//! (`/dev/null` for a dry run, a FIFO, a terminal) is written without `fsync`,
//! which such files refuse with EINVAL, and without the torn-line repair.

use std::fs::File;
use std::io::{ErrorKind as IoKind, Write};
use std::path::PathBuf;

pub mod config;

use self::config::FileSinkConfig;
use super::SinkError;
use crate::event::EventBatch;
use crate::format::Format;

pub struct FileSink {
    path: PathBuf,
    format: Format,
    file: Option<File>,
    /// A regular file (synced, repaired); false for devices and FIFOs.
    regular: bool,
}

impl FileSink {
    pub fn new(path: PathBuf, format: Format) -> FileSink {
        FileSink {
            path,
            format,
            file: None,
            regular: true,
        }
    }

    pub fn check(&mut self) -> Result<(), SinkError> {
        self.open().map(|_| ())
    }

    fn open(&mut self) -> Result<&mut File, SinkError> {
        if self.file.is_none() {
            let file = crate::fsmode::private_file_options()
                .create(true)
                .append(true)
                .read(true)
                .open(&self.path)
                .map_err(|error| self.classify("cannot open", &error))?;
            self.regular = file
                .metadata()
                .map_err(|error| self.classify("cannot inspect", &error))?
                .file_type()
                .is_file();
            if self.regular {
                cut_torn_tail(&file).map_err(|error| self.classify("cannot repair", &error))?;
            }
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }

    /// Appends the batch and syncs it to disk, on a blocking thread so the
    /// runtime's workers never wait for the disk.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        let bytes = crate::format::ndjson(&batch.events, self.format);
        let mut owned = std::mem::replace(self, FileSink::new(self.path.clone(), self.format));
        let (owned, result) = tokio::task::spawn_blocking(move || {
            let result = owned.write_synced(&bytes);
            (owned, result)
        })
        .await
        .map_err(|error| {
            SinkError::transient(format!(
                "file sink {}: the writer thread failed: {error}",
                self.path.display()
            ))
        })?;
        *self = owned;
        result
    }

    fn write_synced(&mut self, bytes: &[u8]) -> Result<(), SinkError> {
        let result = (|| {
            let file = self.open()?;
            let length_before = file.metadata().map(|meta| meta.len());
            let regular = self.regular;
            let file = self.file.as_mut().expect("opened above");
            let written = file.write_all(bytes).and_then(|()| {
                if regular {
                    file.sync_data()
                } else {
                    file.flush()
                }
            });
            match written {
                Ok(()) => Ok(()),
                Err(error) => {
                    // Cut a half-written batch off so the retry does not glue a
                    // broken line to a whole one.
                    if let (true, Ok(length)) = (regular, length_before) {
                        let _ = file.set_len(length);
                    }
                    Err(self.classify("write failed", &error))
                }
            }
        })();
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

/// A crash in the middle of a write can leave a last line without its newline.
/// That batch was never acknowledged and will be sent again, so the torn line
/// is cut off before anything is appended after it.
fn cut_torn_tail(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let length = file.metadata()?.len();
    if length == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, length - 1)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    let mut end = length;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.read_exact_at(part, start)?;
        if let Some(position) = part.iter().rposition(|byte| *byte == b'\n') {
            let keep = start + position as u64 + 1;
            tracing::warn!(
                cut_bytes = length - keep,
                "file sink: cut a torn last line left by a crash; its batch is sent again"
            );
            return file.set_len(keep);
        }
        end = start;
    }
    tracing::warn!(
        cut_bytes = length,
        "file sink: cut a torn last line left by a crash; its batch is sent again"
    );
    file.set_len(0)
}

impl super::Component for FileSink {
    type Config = FileSinkConfig;

    fn build(config: &FileSinkConfig) -> Result<FileSink, SinkError> {
        Ok(FileSink::new(config.path.clone(), config.format))
    }

    async fn check(&mut self) -> Result<(), SinkError> {
        FileSink::check(self)
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        FileSink::deliver(self, batch).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torn_tail_is_cut_back_to_the_last_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        for (before, after) in [
            ("{\"a\":1}\n{\"b\":", "{\"a\":1}\n"),
            ("{\"a\":1}\n", "{\"a\":1}\n"),
            ("{\"torn", ""),
            ("", ""),
        ] {
            std::fs::write(&path, before).unwrap();
            let file = std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .open(&path)
                .unwrap();
            cut_torn_tail(&file).unwrap();
            assert_eq!(
                std::fs::read_to_string(&path).unwrap(),
                after,
                "from {before:?}"
            );
        }
    }
}
