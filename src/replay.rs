//! `auditfwd replay FILE --sink NAME`: resends native events written by the
//! file sink (or a dead-letter file) to one configured sink.
//!
//! The whole file is checked first (read once without keeping the events,
//! then read again to send, so memory is one batch whatever its size): any line that is not a native event is
//! reported by number and nothing is sent (exit 65), so a replay never stops
//! half-way on bad input. Then every line is sent exactly once per run, in
//! file order, `batch_rows` at a time; each batch is acknowledged before the
//! next (a transient failure is retried with backoff, and may repeat that
//! batch in the peer, as any at-least-once delivery). The events are the ones
//! the file holds: same ids, so the SIEM can de-duplicate.

use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::event::wire::parse_native;
use crate::event::{Cursor, Event, EventBatch};
use crate::retry::Backoff;
use crate::settings::Config;
use crate::sink::{ErrorKind, Sink, SinkConfig, SinkError};
use crate::source::rows::MAX_LINE_BYTES;

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Sink(String),
    #[error("{0}")]
    Config(String),
}

impl ReplayError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ReplayError::Input(_) => crate::exit_code::DATA_ERROR,
            ReplayError::Sink(_) => crate::exit_code::UNAVAILABLE,
            ReplayError::Config(_) => crate::exit_code::CONFIG,
        }
    }
}

/// Which configured sink `selector` names: its description (`file:/path`,
/// `kafka:topic@brokers`, ...), its type when only one sink has it, or its
/// position in `[[sinks]]` counting from 0.
pub fn select_sink<'a>(sinks: &'a [SinkConfig], selector: &str) -> Result<&'a SinkConfig, String> {
    let described: Vec<String> = sinks.iter().map(SinkConfig::describe).collect();
    if let Some(index) = described.iter().position(|name| name == selector) {
        return Ok(&sinks[index]);
    }
    if let Ok(index) = selector.parse::<usize>() {
        if let Some(sink) = sinks.get(index) {
            return Ok(sink);
        }
    }
    let of_type: Vec<usize> = described
        .iter()
        .enumerate()
        .filter(|(_, name)| name.split(':').next() == Some(selector))
        .map(|(index, _)| index)
        .collect();
    match of_type.as_slice() {
        [index] => Ok(&sinks[*index]),
        _ => Err(format!(
            "--sink {selector:?} names no single configured sink; use one of {} (or its type when only one sink has it, or its index)",
            described.join(", ")
        )),
    }
}

/// The native events of a file, one per non-blank line, read as they are
/// needed: `(line number, the event or why the line is not one)`.
pub struct NativeLines {
    path: std::path::PathBuf,
    reader: std::io::BufReader<std::fs::File>,
    line: Vec<u8>,
    number: usize,
}

impl NativeLines {
    pub fn open(path: &Path) -> Result<NativeLines, ReplayError> {
        let file = std::fs::File::open(path).map_err(|error| {
            ReplayError::Input(format!("cannot read {}: {error}", path.display()))
        })?;
        Ok(NativeLines {
            path: path.to_path_buf(),
            reader: std::io::BufReader::new(file),
            line: Vec::new(),
            number: 0,
        })
    }
}

impl Iterator for NativeLines {
    type Item = Result<(usize, Result<Event, String>), ReplayError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.line.clear();
            let read = std::io::Read::take(&mut self.reader, MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut self.line);
            match read {
                Err(error) => {
                    return Some(Err(ReplayError::Input(format!(
                        "cannot read {}: {error}",
                        self.path.display()
                    ))))
                }
                Ok(0) => return None,
                Ok(_) => {}
            }
            self.number += 1;
            if self.line.len() > MAX_LINE_BYTES && !self.line.ends_with(b"\n") {
                // Skip the rest of the over-long line, a buffer at a time.
                loop {
                    let (found, used) = match self.reader.fill_buf() {
                        Ok([]) | Err(_) => break,
                        Ok(buffer) => match buffer.iter().position(|byte| *byte == b'\n') {
                            Some(end) => (true, end + 1),
                            None => (false, buffer.len()),
                        },
                    };
                    self.reader.consume(used);
                    if found {
                        break;
                    }
                }
                return Some(Ok((
                    self.number,
                    Err(format!("longer than {MAX_LINE_BYTES} bytes")),
                )));
            }
            let text = String::from_utf8_lossy(&self.line);
            let text = text.trim();
            if !text.is_empty() {
                return Some(Ok((self.number, parse_native(text))));
            }
        }
    }
}

/// Checks every line of `path` without keeping the events: how many there
/// are, or every bad line by number (the first 20 shown).
pub fn check_file(path: &Path) -> Result<usize, ReplayError> {
    let mut events = 0usize;
    let mut bad = Vec::new();
    let mut bad_count = 0usize;
    for item in NativeLines::open(path)? {
        match item? {
            (_, Ok(_)) => events += 1,
            (number, Err(why)) => {
                bad_count += 1;
                if bad.len() < 20 {
                    bad.push(format!("line {number}: {why}"));
                }
            }
        }
    }
    if bad_count > 0 {
        return Err(ReplayError::Input(format!(
            "{} has {bad_count} line(s) that are not native auditfwd events, so nothing was sent:\n  {}{}",
            path.display(),
            bad.join("\n  "),
            if bad_count > bad.len() {
                format!("\n  ... and {} more", bad_count - bad.len())
            } else {
                String::new()
            }
        )));
    }
    Ok(events)
}

/// Refuses what would never end or write somewhere unexpected: an input that
/// is not a regular file (a device or a pipe: `/dev/zero` never ends), the
/// very file the chosen sink writes (every line sent would be read again),
/// and a fleet's `{source}` path template (replay has no system to fill in).
fn refuse_unsafe(path: &Path, sink: &SinkConfig) -> Result<(), ReplayError> {
    let meta = std::fs::metadata(path)
        .map_err(|error| ReplayError::Input(format!("cannot read {}: {error}", path.display())))?;
    if !meta.is_file() {
        return Err(ReplayError::Input(format!(
            "{} is not a regular file: replay reads a file written by the file sink or the dead-letter file",
            path.display()
        )));
    }
    if let SinkConfig::File(file) = sink {
        if file.path.to_string_lossy().contains("{source}") {
            return Err(ReplayError::Config(format!(
                "the sink's path {} is a [[sources]] template; replay sends to one file: give it a configuration whose file sink names the file",
                file.path.display()
            )));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(target) = std::fs::metadata(&file.path) {
                if target.dev() == meta.dev() && target.ino() == meta.ino() {
                    return Err(ReplayError::Config(format!(
                        "{} is the file the chosen sink writes: replaying it into itself would never end; copy it first, or choose another sink",
                        path.display()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    pub events: usize,
    pub batches: usize,
    pub retries: usize,
}

/// Sends `events` to the sink `selector` names, printing progress to `progress`.
pub async fn replay(
    config: &Config,
    path: &Path,
    selector: &str,
    mut progress: impl FnMut(&str),
) -> Result<ReplaySummary, ReplayError> {
    let sinks = config.effective_sinks();
    let sink_config = select_sink(&sinks, selector).map_err(ReplayError::Config)?;
    let name = sink_config.describe();
    refuse_unsafe(path, sink_config)?;
    // Two passes, so memory stays one batch whatever the file's size: check
    // every line first (nothing is sent if one is bad), then send.
    let total = check_file(path)?;
    let mut sink = Sink::build(sink_config)
        .map_err(|error| ReplayError::Sink(format!("sink {name}: {error}")))?;
    if let Err(error) = sink.check().await {
        if error.kind == ErrorKind::Permanent {
            return Err(ReplayError::Sink(format!("sink {name}: {error}")));
        }
        warn!(sink = %name, %error, "sink not reachable yet; retrying with backoff");
    }
    let batch_rows = config.source.batch_rows.max(1);
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut summary = ReplaySummary {
        events: 0,
        batches: 0,
        retries: 0,
    };
    let mut lines = NativeLines::open(path)?;
    let mut id = 0;
    loop {
        let mut chunk: Vec<Event> = Vec::with_capacity(batch_rows);
        for item in lines.by_ref() {
            match item? {
                (_, Ok(event)) => chunk.push(event),
                (number, Err(why)) => {
                    return Err(ReplayError::Input(format!(
                    "{} changed while it was replayed: line {number}: {why}; {} events were sent",
                    path.display(),
                    summary.events
                )))
                }
            }
            if chunk.len() == batch_rows {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let last = chunk.last().expect("a non-empty chunk");
        let batch = EventBatch {
            id,
            rows_read: chunk.len(),
            cursor: Cursor {
                system_name: last.system_name.clone(),
                receiver_library: last.receiver_library.clone(),
                receiver_name: last.receiver_name.clone(),
                sequence_number: last.sequence_number,
                entry_timestamp_local: Some(last.entry_timestamp_local),
                entry_timestamp: Some(last.entry_timestamp),
                signals: None,
                sessions: None,
            },
            events: chunk,
        };
        id += 1;
        deliver(&mut sink, &name, &batch, config, &mut summary).await?;
        summary.events += batch.events.len();
        summary.batches += 1;
        if last_report.elapsed() >= Duration::from_secs(2) || summary.events == total {
            last_report = Instant::now();
            progress(&progress_line(summary.events, total, started.elapsed()));
        }
    }
    let grace = config.pipeline.shutdown_grace;
    tokio::task::spawn_blocking(move || sink.shutdown(grace))
        .await
        .map_err(|error| ReplayError::Sink(format!("sink {name}: shutdown: {error}")))?;
    info!(events = summary.events, batches = summary.batches, retries = summary.retries, sink = %name, "replay finished");
    Ok(summary)
}

async fn deliver(
    sink: &mut Sink,
    name: &str,
    batch: &EventBatch,
    config: &Config,
    summary: &mut ReplaySummary,
) -> Result<(), ReplayError> {
    let mut backoff = Backoff::new(
        config.pipeline.retry_initial_backoff,
        config.pipeline.retry_max_backoff,
        u64::from(std::process::id()),
    );
    loop {
        match sink.deliver(batch).await {
            Ok(()) => return Ok(()),
            Err(SinkError {
                kind: ErrorKind::Permanent,
                message,
                ..
            }) => {
                return Err(ReplayError::Sink(format!(
                "sink {name} refused batch {} for good: {message}; {} events were sent before it",
                batch.id, summary.events
            )))
            }
            Err(error) => {
                // The peer's Retry-After is honoured up to retry_max_backoff,
                // as in the daemon: a peer cannot park a replay for a day.
                let delay = backoff.next_delay_after(error.retry_after);
                summary.retries += 1;
                warn!(sink = %name, batch = batch.id, retry_in = ?delay, %error, "delivery failed; retrying with backoff");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// `replay: 12000/50000 events (24%), 8000 events/s, about 5s left`.
pub fn progress_line(done: usize, total: usize, elapsed: Duration) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let left = if rate > 0.0 {
        format!("{:.0}s", (total - done) as f64 / rate)
    } else {
        "unknown".into()
    };
    format!("replay: {done}/{total} events ({percent}%), {rate:.0} events/s, about {left} left")
}
