//! `auditfwd replay FILE --sink NAME`: resends native events written by the
//! file sink (or a dead-letter file) to one configured sink.
//!
//! The whole file is checked first (read once without keeping the events,
//! then read again to send, so memory is one batch whatever its size): any line that is not a native event is
//! reported by number and nothing is sent (exit 65), so a replay never stops
//! half-way on bad input. Then every line checked is handed over once per
//! run, in file order, `batch_rows` at a time, to the sink task the daemon
//! delivers with: several batches in flight, a transient failure retried
//! with the shared backoff (a peer's `Retry-After` capped at
//! `retry_max_backoff`), a permanent one handled by
//! `pipeline.on_permanent_error`; a retry may repeat a batch in the peer, as
//! any at-least-once delivery. The events are the ones the file holds: same
//! ids, so the SIEM can de-duplicate.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::event::wire::parse_native;
use crate::event::{Cursor, Event, EventBatch};
use crate::pipeline::dead_letter::DeadLetter;
use crate::pipeline::memory::Admitted;
use crate::pipeline::sink_task::{Report, SinkTask};
use crate::pipeline::supervisor::{Role, Supervisor};
use crate::pipeline::RunError;
use crate::settings::Config;
use crate::sink::{ErrorKind, Sink, SinkConfig};
use crate::source::rows::MAX_LINE_BYTES;
use crate::telemetry::Metrics;

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file cannot be read, or a line is no native event: nothing was sent (exit 65).
    #[error("{0}")]
    Input(String),
    /// The sink cannot be built or refused for good at its check (exit 69).
    #[error("{0}")]
    Sink(String),
    /// The chosen sink cannot take this replay (its file is the input, or a template) (exit 78).
    #[error("{0}")]
    Config(String),
    /// What stops a run stops a replay, with the run's exit code (a panic: 70).
    #[error(transparent)]
    Run(RunError),
}

impl ReplayError {
    /// The process exit code for this error, from the one table (`crate::exit_code`).
    pub fn exit_code(&self) -> i32 {
        match self {
            ReplayError::Input(_) => crate::exit_code::DATA_ERROR,
            ReplayError::Sink(_) => crate::exit_code::UNAVAILABLE,
            ReplayError::Config(_) => crate::exit_code::CONFIG,
            ReplayError::Run(error) => error.exit_code(),
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
    /// Opens `path` for reading line by line (an unreadable file is [`ReplayError::Input`]).
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
    /// Events sent (every line of the file).
    pub events: usize,
    /// Batches they were sent in (`source.batch_rows` lines at most each).
    pub batches: usize,
    /// Deliveries that failed and were retried.
    pub retries: usize,
}

/// Sends the events of `path` to the sink `selector` names, through the sink
/// task the daemon delivers with, printing progress to `progress`.
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
    // Two passes, so memory stays bounded whatever the file's size: check
    // every line first (nothing is sent if one is bad), then send.
    let total = check_file(path)?;
    // The supervisor first: the sink starts its background work under it.
    let supervisor = Supervisor::default();
    let clients = crate::sink::Clients::default();
    let mut sink = Sink::build(sink_config, &clients, &supervisor.spawner())
        .map_err(|error| ReplayError::Sink(format!("sink {name}: {error}")))?;
    if let Err(error) = sink.check().await {
        if error.kind == ErrorKind::Permanent {
            return Err(ReplayError::Sink(format!("sink {name}: {error}")));
        }
        warn!(sink = %name, %error, "sink not reachable yet; retrying with backoff");
    }
    let mut delivery = Delivery::start(config, sink_config, sink, total, supervisor);
    let batch_rows = config.source.batch_rows.max(1);
    let mut lines = NativeLines::open(path)?;
    // Only the lines checked: a file that grows meanwhile (the dead-letter
    // file itself, with on_permanent_error = "dead_letter") ends where it did.
    let mut read = 0;
    let mut id = 0;
    while read < total {
        let mut chunk: Vec<Event> = Vec::with_capacity(batch_rows.min(total - read));
        for item in lines.by_ref() {
            match item? {
                (_, Ok(event)) => chunk.push(event),
                (number, Err(why)) => {
                    return Err(ReplayError::Input(format!(
                    "{} changed while it was replayed: line {number}: {why}; {} events were sent",
                    path.display(),
                    delivery.summary.events
                )))
                }
            }
            if chunk.len() == batch_rows.min(total - read) {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        read += chunk.len();
        if !delivery.send(batch(id, chunk), &mut progress).await? {
            break;
        }
        id += 1;
    }
    let summary = delivery.finish(&mut progress).await?;
    info!(events = summary.events, batches = summary.batches, retries = summary.retries, sink = %name, "replay finished");
    Ok(summary)
}

/// A batch of replayed events; its cursor is the last event's position.
fn batch(id: u64, events: Vec<Event>) -> EventBatch {
    let last = events.last().expect("a non-empty chunk");
    EventBatch {
        id,
        rows_read: events.len(),
        cursor: Cursor {
            system_name: last.system_name.to_string(),
            receiver_library: last.receiver_library.to_string(),
            receiver_name: last.receiver_name.to_string(),
            sequence_number: last.sequence_number,
            entry_timestamp_local: Some(last.entry_timestamp_local),
            entry_timestamp: Some(last.entry_timestamp),
            signals: None,
            sessions: None,
        },
        events,
    }
}

/// The daemon's delivery engine for one sink: its sink task (retry with the
/// shared backoff and the capped `Retry-After`, the permanent-error policy
/// and the dead-letter brake, many batches in flight) under a supervisor,
/// which also owns the sink's background work and is watched throughout.
struct Delivery {
    /// `None` once every batch was handed over.
    batches: Option<mpsc::Sender<Arc<Admitted>>>,
    reports: mpsc::Receiver<Report>,
    supervisor: Supervisor,
    stats: Arc<Metrics>,
    /// The events of each batch handed over and not yet acknowledged.
    pending: HashMap<u64, usize>,
    summary: ReplaySummary,
    total: usize,
    started: Instant,
    last_report: Instant,
}

impl Delivery {
    /// Starts the sink task. At most `pipeline.max_batches_in_memory` batches
    /// are in flight (the sink's `max_in_flight` below that), one more waits
    /// in the channel and one is read: the events in memory stay bounded as
    /// in a run.
    fn start(
        config: &Config,
        sink_config: &SinkConfig,
        sink: Sink,
        total: usize,
        mut supervisor: Supervisor,
    ) -> Delivery {
        let pipeline = config.pipeline.clone();
        let in_memory = pipeline.batches_in_memory();
        let name = sink_config.describe();
        let (batches, receiver) = mpsc::channel(1);
        let (report_sender, reports) = mpsc::channel(in_memory + 1);
        let stats = Arc::new(Metrics::new(std::slice::from_ref(&name)));
        let task = SinkTask {
            index: 0,
            name,
            sink,
            max_in_flight: sink_config.max_in_flight().clamp(1, in_memory),
            dead_letter: Arc::new(DeadLetter::new(&pipeline.dead_letter_path)),
            pipeline,
            stats: stats.clone(),
            reports: report_sender,
        };
        supervisor.spawn("the sink task", Role::Worker, task.run(receiver));
        let now = Instant::now();
        Delivery {
            batches: Some(batches),
            reports,
            supervisor,
            stats,
            pending: HashMap::new(),
            summary: ReplaySummary {
                events: 0,
                batches: 0,
                retries: 0,
            },
            total,
            started: now,
            last_report: now,
        }
    }

    /// Hands a batch to the sink task, taking its answers while it waits.
    /// `false` when the task has ended (`finish` says why).
    async fn send(
        &mut self,
        batch: EventBatch,
        progress: &mut impl FnMut(&str),
    ) -> Result<bool, ReplayError> {
        self.pending.insert(batch.id, batch.events.len());
        // The sink task's `max_in_flight` and the one-slot channel bound the
        // batches here: no memory permit.
        let batch = Arc::new(Admitted::new(batch, None));
        let Some(sender) = self.batches.clone() else {
            return Ok(false);
        };
        loop {
            tokio::select! {
                permit = sender.reserve() => return Ok(match permit {
                    Ok(permit) => {
                        permit.send(batch);
                        true
                    }
                    Err(_) => false,
                }),
                report = self.reports.recv() => match report {
                    Some(report) => self.on_report(report, progress)?,
                    None => return Ok(false),
                },
                // Its input is open: any end now is a failure.
                ended = self.supervisor.next_end() => {
                    let name = ended.map_err(|failure| ReplayError::Run(failure.into()))?;
                    while let Ok(report) = self.reports.try_recv() {
                        self.on_report(report, progress)?;
                    }
                    return Err(ReplayError::Run(RunError::Internal(format!(
                        "{name} ended before the last batch"
                    ))));
                }
            }
        }
    }

    fn on_report(
        &mut self,
        report: Report,
        progress: &mut impl FnMut(&str),
    ) -> Result<(), ReplayError> {
        match report {
            Report::Ack { batch, .. } => {
                self.summary.events += self.pending.remove(&batch).unwrap_or(0);
                self.summary.batches += 1;
                if self.last_report.elapsed() >= Duration::from_secs(2)
                    || self.summary.events == self.total
                {
                    self.last_report = Instant::now();
                    progress(&progress_line(
                        self.summary.events,
                        self.total,
                        self.started.elapsed(),
                    ));
                }
                Ok(())
            }
            Report::Fatal(RunError::PermanentDelivery { sink, error }) => {
                Err(ReplayError::Sink(format!(
                    "sink {sink} refused a batch for good: {error}; {} events were acknowledged before it",
                    self.summary.events
                )))
            }
            Report::Fatal(error) => Err(ReplayError::Run(error)),
        }
    }

    /// Closes the channel: the task delivers what it holds, hands over what
    /// a client library buffers, and ends; then says how it ended.
    async fn finish(
        mut self,
        progress: &mut impl FnMut(&str),
    ) -> Result<ReplaySummary, ReplayError> {
        self.batches = None;
        let (mut reports_open, mut task_running) = (true, true);
        while reports_open || task_running {
            tokio::select! {
                report = self.reports.recv(), if reports_open => match report {
                    Some(report) => self.on_report(report, progress)?,
                    None => reports_open = false,
                },
                ended = self.supervisor.next_end(), if task_running => {
                    ended.map_err(|failure| ReplayError::Run(failure.into()))?;
                    task_running = false;
                }
            }
        }
        // Joins the sink's background work: a panic there fails the replay.
        self.supervisor
            .shutdown(Duration::from_secs(2))
            .await
            .map_err(ReplayError::Run)?;
        if !self.pending.is_empty() {
            return Err(ReplayError::Run(RunError::Internal(format!(
                "the sink task ended with {} batches unacknowledged",
                self.pending.len()
            ))));
        }
        self.summary.retries = self.stats.retries(0) as usize;
        Ok(self.summary)
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
