//! Newline-delimited JSON appended to a file; acknowledged after write + fsync.
//!
//! Group commit: the sink task starts up to `max_in_flight` batches; each is
//! encoded on the task and handed to the sink's writer thread, which appends
//! every batch waiting for it, then calls `fsync` once for all of them, and only
//! then acknowledges each. No batch is acknowledged before an `fsync` that
//! covers its bytes has returned. A failed write or `fsync` fails the whole
//! group and cuts the file back to where the group began, so a retry does not
//! follow a half-written batch; the sink task then resends the failed batches
//! one by one in batch order before any new one, and the writer refuses what
//! was started before the failure was known: the file keeps journal order.
//!
//! A new file is created `0600` (audit data). A path that is not a regular file
//! (`/dev/null` for a dry run, a FIFO, a terminal) is written without `fsync`,
//! which such files refuse with EINVAL, and without the torn-line repair.

use std::fs::File;
use std::io::{ErrorKind as IoKind, Write};
use std::path::PathBuf;
use std::sync::mpsc;

pub(crate) mod config;

use self::config::FileSinkConfig;
use super::{Pending, SinkError};
use crate::background::{Spawner, Tether};
use crate::event::EventBatch;
use crate::format::Format;

/// Appends each batch to a file and fsyncs it, on a writer thread of its own.
pub struct FileSink {
    path: PathBuf,
    /// How each event is written (native, ECS, OCSF).
    format: Format,
    /// The file, until the writer thread takes it over at the first batch.
    file: Option<FileWriter>,
    /// The writer thread's input, once started.
    writer: Option<Writer>,
    /// Starts the writer thread under the run's supervisor, which fails the
    /// run (exit 70) with its message if it panics or ends early.
    spawner: Spawner,
}

/// What the sink keeps of its writer thread: channels only. Fields drop in
/// order: the tether first, so the thread's end (when `jobs` closes) is
/// expected by then.
struct Writer {
    _tether: Tether,
    /// Batches for the writer thread; it ends when this is dropped.
    jobs: mpsc::Sender<Job>,
    /// Buffers the writer thread is done with, to encode the next batches
    /// into (at most [`SPARE_BUFFERS`]): a fresh megabyte per batch cost
    /// page faults and the allocator's consolidation.
    spare: mpsc::Receiver<Vec<u8>>,
}

/// Encoded batches' buffers kept for reuse, each as large as the largest
/// batch it held.
const SPARE_BUFFERS: usize = 2;

/// One encoded batch for the writer thread, and where to answer.
struct Job {
    batch: u64,
    bytes: Vec<u8>,
    done: tokio::sync::oneshot::Sender<Result<(), SinkError>>,
}

impl FileSink {
    /// A sink for `path` writing `format`; the file is opened at the first check or batch.
    pub fn new(path: PathBuf, format: Format, spawner: &Spawner) -> FileSink {
        FileSink {
            file: Some(FileWriter::new(path.clone())),
            path,
            format,
            writer: None,
            spawner: spawner.clone(),
        }
    }

    /// Opens the file (created 0600, appended to) so a bad path fails at start-up.
    pub fn check(&mut self) -> Result<(), SinkError> {
        match self.file.as_mut() {
            Some(file) => file.open().map(|_| ()),
            // The writer thread holds the file: it was opened and is in use.
            None => Ok(()),
        }
    }

    /// Encodes the batch and hands it to the writer thread; the [`Pending`]
    /// completes once an `fsync` covering it has returned.
    pub fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError> {
        let mut bytes = self
            .writer
            .as_ref()
            .and_then(|writer| writer.spare.try_recv().ok())
            .unwrap_or_default();
        bytes.clear();
        crate::format::ndjson_into(&batch.events, self.format, &mut bytes);
        let (done, answer) = tokio::sync::oneshot::channel();
        let sender = self.writer()?;
        let job = Job {
            batch: batch.id,
            bytes,
            done,
        };
        if sender.send(job).is_err() {
            return Err(self.writer_gone());
        }
        // The thread gone: the supervisor fails the run with its panic.
        let gone = self.writer_gone();
        Ok(Box::pin(async move { answer.await.unwrap_or(Err(gone)) }))
    }

    /// Appends the batch and syncs it to disk.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        self.start(batch)?.await
    }

    /// The writer thread's channel, starting the thread (under the run's
    /// supervisor) at the first batch. One thread per sink: after it is
    /// gone, every batch fails while the supervisor stops the run.
    fn writer(&mut self) -> Result<&mpsc::Sender<Job>, SinkError> {
        if self.writer.is_none() {
            let Some(mut file) = self.file.take() else {
                return Err(self.writer_gone());
            };
            let (jobs, receiver) = mpsc::channel::<Job>();
            let (give_back, spare) = mpsc::sync_channel::<Vec<u8>>(SPARE_BUFFERS);
            let name = format!("file sink {}: the writer thread", self.path.display());
            let tether = self
                .spawner
                .thread(name, "sink-file", move || file.run(receiver, give_back))
                .map_err(|error| {
                    SinkError::transient(format!(
                        "file sink {}: cannot start the writer thread: {error}",
                        self.path.display()
                    ))
                })?;
            self.writer = Some(Writer {
                _tether: tether,
                jobs,
                spare,
            });
        }
        Ok(&self.writer.as_ref().expect("started above").jobs)
    }

    fn writer_gone(&self) -> SinkError {
        SinkError::transient(format!(
            "file sink {}: the writer thread ended",
            self.path.display()
        ))
    }
}

/// The file and its state, owned by the writer thread once batches flow.
struct FileWriter {
    path: PathBuf,
    file: Option<File>,
    /// A regular file (synced, repaired); false for devices and FIFOs.
    regular: bool,
}

impl FileWriter {
    fn new(path: PathBuf) -> FileWriter {
        FileWriter {
            path,
            file: None,
            regular: true,
        }
    }

    /// The writer thread: takes the first batch waiting, then every other one
    /// already waiting (at most the sink's `max_in_flight`), writes them in
    /// order, syncs once, and answers each with the group's result.
    ///
    /// After a failed group, batches started before the sink task heard of the
    /// failure are refused (transient) until a resent one comes, whose id is
    /// at most the highest refused: the task resends in batch order (see
    /// `Deliver::ordered`), so the file keeps journal order across a failure.
    fn run(&mut self, jobs: mpsc::Receiver<Job>, give_back: mpsc::SyncSender<Vec<u8>>) {
        // After a failure: the highest batch id refused so far, and why.
        let mut refusing: Option<(u64, SinkError)> = None;
        while let Ok(first) = jobs.recv() {
            let mut group = vec![first];
            group.extend(jobs.try_iter());
            if let Some((highest, error)) = refusing.take() {
                let (resent, newer): (Vec<Job>, Vec<Job>) =
                    group.into_iter().partition(|job| job.batch <= highest);
                if resent.is_empty() {
                    let highest = newer.iter().map(|job| job.batch).max().unwrap_or(highest);
                    for job in newer {
                        let _ = job.done.send(Err(error.clone()));
                    }
                    refusing = Some((highest, error));
                    continue;
                }
                group = resent;
                group.extend(newer);
            }
            crate::failpoint::hit("sink.file.write");
            let result = self.write_synced(group.iter().map(|job| job.bytes.as_slice()));
            if let Err(error) = &result {
                let highest = group.iter().map(|job| job.batch).max().unwrap_or(0);
                refusing = Some((highest, error.clone()));
            }
            for job in group {
                // A dropped answer means the delivery was abandoned (shutdown).
                let _ = job.done.send(result.clone());
                // Kept for the next batch while fewer than SPARE_BUFFERS wait.
                let _ = give_back.try_send(job.bytes);
            }
        }
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

    /// Appends every part, then syncs once (flushes for a device or FIFO).
    fn write_synced<'a>(
        &mut self,
        parts: impl Iterator<Item = &'a [u8]>,
    ) -> Result<(), SinkError> {
        let result = (|| {
            let file = self.open()?;
            let length_before = file.metadata().map(|meta| meta.len());
            let regular = self.regular;
            let file = self.file.as_mut().expect("opened above");
            let mut written = Ok(());
            for part in parts {
                written = file.write_all(part);
                if written.is_err() {
                    break;
                }
            }
            let written = written.and_then(|()| {
                if regular {
                    file.sync_data()
                } else {
                    file.flush()
                }
            });
            match written {
                Ok(()) => Ok(()),
                Err(error) => {
                    // Cut the half-written group off so the retry does not glue
                    // a broken line to a whole one.
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

    fn build(
        config: &FileSinkConfig,
        _clients: &crate::sink::Clients,
        spawner: &Spawner,
    ) -> Result<FileSink, SinkError> {
        Ok(FileSink::new(config.path.clone(), config.format, spawner))
    }

    async fn check(&mut self) -> Result<(), SinkError> {
        FileSink::check(self)
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        FileSink::deliver(self, batch).await
    }

    async fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError> {
        FileSink::start(self, batch)
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
