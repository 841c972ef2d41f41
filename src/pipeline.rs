//! The pipeline: source thread → enrich → every sink → in-order commit.
//!
//! ```text
//!  reader thread ──(1 batch)──▶ dispatcher ──(Arc batch)──▶ sink task × N ──ack──▶ committer
//!      ▲ blocks when full          enrich + filter           retry, backoff         in order, fsync
//! ```
//!
//! At most `pipeline.max_batches_in_flight` batches are read but not committed;
//! the dispatcher stops taking rows from the reader until the oldest batch has
//! been acknowledged by every sink, so backpressure ends at the journal poll.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::checkpoint::{CheckpointError, CheckpointStore};
use crate::config::{Config, PermanentErrorPolicy, PipelineConfig};
use crate::enrich::{Enricher, Filter};
use crate::event::{Cursor, EventBatch};
use crate::sink::{ErrorKind, Sink, SinkError};
use crate::source::{self, Source, SourceError, SourceMessage};
use crate::telemetry::notify::Notifier;
use crate::telemetry::{http, Metrics};

/// How `run` was asked to behave.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Exit once the source has nothing more to read and everything is committed.
    pub exit_when_caught_up: bool,
    /// Start even if the state directory lost its checkpoint (see
    /// `CheckpointStore::open_checked`); an `audit_gap` event is sent first.
    pub accept_lost_checkpoint: bool,
}

/// How a run that did not fail ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything read was delivered and committed.
    Drained,
    /// The shutdown grace ran out with batches undelivered; they are read
    /// again at the next start (nothing is lost, some may repeat).
    GraceExpired { undelivered_batches: usize },
}

/// Why a run failed. Each variant maps to an exit code in `main`.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("sink {sink} failed its start-up check: {error}")]
    SinkStartup { sink: String, error: SinkError },
    #[error("sink {sink} rejected a batch for good, and pipeline.on_permanent_error = \"stop\": {error}. Nothing after the last delivered batch was committed; fix the cause and start again, or set pipeline.on_permanent_error = \"dead_letter\"")]
    PermanentDelivery { sink: String, error: SinkError },
    #[error("the dead-letter file {path} cannot be written ({detail}), so the batch that sink {sink} rejected cannot be set aside; stopping without committing it")]
    DeadLetter {
        sink: String,
        path: String,
        detail: String,
    },
    #[error("the source stopped: {0}")]
    SourceFailed(String),
    #[error("cannot start the source thread: {0}")]
    Thread(std::io::Error),
    #[error("{0}")]
    Telemetry(String),
}

/// A delivered (or dead-lettered) batch, from sink task to committer.
struct Ack {
    batch_id: u64,
}

enum SinkReport {
    Ack(Ack),
    Fatal(RunError),
}

struct Pending {
    id: u64,
    cursor: Cursor,
    /// Entry time (UTC µs) of the batch's newest journal event, for the lag gauge.
    newest_entry_micros: Option<i64>,
    /// Sinks that have not acknowledged yet.
    waiting: usize,
}

/// Runs the daemon until the source is exhausted (with `exit_when_caught_up`),
/// `shutdown` completes, or something fails for good.
pub async fn run(
    config: Config,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, RunError> {
    let notifier = Notifier::from_environment();
    let (store, mut lost_checkpoint) = tokio::task::block_in_place(|| {
        CheckpointStore::open_checked(&config.state.dir, options.accept_lost_checkpoint)
    })?;
    if let Some(lost) = &lost_checkpoint {
        error!(state_dir = %lost.dir.display(), "the checkpoint was lost; starting from the source's start point as --accept-lost-checkpoint asks, and sending an audit_gap event");
    }
    let checkpoint = store.load()?;
    match &checkpoint {
        Some(checkpoint) => {
            info!(cursor = %checkpoint.cursor, committed_at = %checkpoint.committed_at, "resuming after the checkpoint")
        }
        None => {
            info!(state_dir = %config.state.dir.display(), "no checkpoint yet: starting from the source's beginning")
        }
    }

    let sink_configs = config.effective_sinks();
    let names: Vec<String> = sink_configs.iter().map(|sink| sink.describe()).collect();
    let stats = Arc::new(Metrics::new(&names));
    let _listener = match config.telemetry.listen.as_str() {
        "" => None,
        address => {
            let listener = http::bind(address).await.map_err(RunError::Telemetry)?;
            if let Ok(bound) = listener.local_addr() {
                info!(address = %bound, "telemetry listening: /metrics and /health");
            }
            Some(AbortOnDrop(tokio::spawn(http::serve(
                listener,
                stats.clone(),
                config.telemetry.health_max_checkpoint_age,
            ))))
        }
    };
    let mut sinks = Vec::with_capacity(sink_configs.len());
    for sink_config in &sink_configs {
        let name = sink_config.describe();
        let mut sink = match Sink::build(sink_config) {
            Ok(sink) => sink,
            Err(error) => return Err(RunError::SinkStartup { sink: name, error }),
        };
        match sink.check().await {
            Ok(()) => info!(sink = %name, "sink ready"),
            Err(error) if error.kind == ErrorKind::Permanent => {
                return Err(RunError::SinkStartup { sink: name, error });
            }
            Err(error) => {
                warn!(sink = %name, %error, "sink not reachable yet; deliveries will retry with backoff")
            }
        }
        sinks.push((name, sink));
    }

    let source = Source::open(
        &config.source,
        &config.filter,
        checkpoint.as_ref().map(|c| &c.cursor),
    )?;
    let (source_sender, mut source_receiver) = mpsc::channel::<SourceMessage>(1);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = source::spawn_reader(
        source,
        &config.source,
        source_sender,
        stop.clone(),
        options.exit_when_caught_up,
        stats.clone(),
    )
    .map_err(RunError::Thread)?;

    let in_flight = config.pipeline.max_batches_in_flight;
    let (report_sender, mut reports) = mpsc::channel::<SinkReport>(in_flight * sinks.len() + 1);
    let dead_letter = Arc::new(Mutex::new(DeadLetter::new(&config.pipeline)));
    let mut sink_senders = Vec::new();
    let mut sink_tasks = JoinSet::new();
    for (index, (name, sink)) in sinks.into_iter().enumerate() {
        let (sender, receiver) = mpsc::channel::<Arc<EventBatch>>(in_flight);
        sink_senders.push(sender);
        sink_tasks.spawn(sink_task(
            index,
            name,
            sink,
            receiver,
            report_sender.clone(),
            config.pipeline.clone(),
            dead_letter.clone(),
            stats.clone(),
        ));
    }
    drop(report_sender);
    let sink_count = sink_senders.len();

    let enricher = Enricher::new(&config.alerts);
    let filter = Filter::new(&config.filter);
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut next_batch_id = 0u64;
    let mut source_open = true;
    let mut draining_since: Option<Instant> = None;
    let grace = config.pipeline.shutdown_grace;
    let mut summary = tokio::time::interval(config.telemetry.summary_interval);
    summary.tick().await;
    let mut watchdog = tokio::time::interval(
        notifier
            .watchdog_interval()
            .unwrap_or(Duration::from_secs(3600)),
    );
    let watchdog_enabled = notifier.watchdog_interval().is_some();
    let mut ready_sent = false;
    tokio::pin!(shutdown);
    let mut shutdown_seen = false;

    let result = loop {
        if !source_open && pending.is_empty() {
            break Ok(Outcome::Drained);
        }
        let deadline = draining_since.map(|since| since + grace);
        tokio::select! {
            () = &mut shutdown, if !shutdown_seen => {
                shutdown_seen = true;
                notifier.stopping();
                info!(in_flight_batches = pending.len(), grace = ?grace, "shutdown requested: no more reading; draining in-flight batches");
                stop.store(true, Ordering::Release);
                // Dropping the receiver unblocks a reader waiting to send.
                source_receiver.close();
                while source_receiver.try_recv().is_ok() {}
                source_open = false;
                sink_senders.clear();
                draining_since = Some(Instant::now());
            }
            message = source_receiver.recv(), if source_open && pending.len() < in_flight => {
                match message {
                    Some(SourceMessage::Rows(batch)) => {
                        let rows_read = batch.rows.len();
                        let mut events: Vec<_> = batch.rows.iter().filter(|row| filter.accepts(row)).map(|row| enricher.enrich(row)).collect();
                        let filtered = rows_read - events.len();
                        if let Some(lost) = lost_checkpoint.take() {
                            events.insert(0, enricher.enrich(&lost.audit_gap_row(batch.rows.first(), &batch.cursor)));
                        }
                        let gaps = events.iter().filter(|event| event.event_action == "audit_gap").count();
                        stats.record_read(rows_read, filtered, gaps);
                        let batch = Arc::new(EventBatch { id: next_batch_id, events, rows_read, cursor: batch.cursor });
                        next_batch_id += 1;
                        debug!(batch = batch.id, rows = rows_read, events = batch.events.len(), cursor = %batch.cursor, "batch read");
                        let newest_entry_micros = batch
                            .events
                            .iter()
                            .rev()
                            .find(|event| event.message.is_none())
                            .and_then(|event| chrono::DateTime::parse_from_rfc3339(&event.entry_timestamp).ok())
                            .map(|instant| instant.timestamp_micros());
                        pending.push_back(Pending { id: batch.id, cursor: batch.cursor.clone(), newest_entry_micros, waiting: sink_count });
                        for sender in &sink_senders {
                            // Capacity equals the in-flight bound, so this never waits long.
                            if sender.send(batch.clone()).await.is_err() {
                                warn!("a sink task ended early; its batches will be read again at the next start");
                            }
                        }
                    }
                    Some(SourceMessage::Started) => {
                        if !ready_sent {
                            ready_sent = true;
                            notifier.ready();
                            notifier.status("started; reading the journal");
                        }
                    }
                    Some(SourceMessage::CaughtUp) => info!(read_rows = stats.rows_read(), "caught up with the journal"),
                    Some(SourceMessage::Failed(message)) => break Err(RunError::SourceFailed(message)),
                    None => {
                        source_open = false;
                        sink_senders.clear();
                        info!("source finished; delivering what is in flight");
                    }
                }
            }
            report = reports.recv() => {
                match report {
                    Some(SinkReport::Ack(ack)) => {
                        let Some(front) = pending.front() else { continue };
                        let offset = (ack.batch_id - front.id) as usize;
                        if let Some(entry) = pending.get_mut(offset) {
                            entry.waiting -= 1;
                        }
                        if let Err(error) = commit_delivered(&store, &mut pending, &stats) {
                            break Err(error.into());
                        }
                    }
                    Some(SinkReport::Fatal(error)) => break Err(error),
                    None => {
                        if !pending.is_empty() {
                            warn!(undelivered = pending.len(), "every sink task has ended with batches undelivered");
                            break Ok(Outcome::GraceExpired { undelivered_batches: pending.len() });
                        }
                    }
                }
            }
            () = sleep_until(deadline) => {
                warn!(undelivered = pending.len(), "shutdown grace expired; undelivered batches will be read again at the next start");
                break Ok(Outcome::GraceExpired { undelivered_batches: pending.len() });
            }
            _ = summary.tick() => {
                let line = stats.summary();
                info!("summary: {line}");
                notifier.status(&line);
            }
            _ = watchdog.tick(), if watchdog_enabled => notifier.watchdog(),
        }
    };
    notifier.stopping();

    stop.store(true, Ordering::Release);
    drop(source_receiver);
    sink_tasks.abort_all();
    while sink_tasks.join_next().await.is_some() {}
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    info!("summary: {}", stats.summary());
    result
}

/// Aborts a background task when the run ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Commits the longest prefix of fully acknowledged batches, newest cursor once.
fn commit_delivered(
    store: &CheckpointStore,
    pending: &mut VecDeque<Pending>,
    stats: &Metrics,
) -> Result<(), CheckpointError> {
    let mut newest = None;
    let mut newest_entry = None;
    let mut batches = 0;
    while pending.front().is_some_and(|batch| batch.waiting == 0) {
        let batch = pending.pop_front().expect("front exists");
        newest = Some(batch.cursor);
        newest_entry = batch.newest_entry_micros.or(newest_entry);
        batches += 1;
    }
    if let Some(cursor) = newest {
        tokio::task::block_in_place(|| store.commit(&cursor))?;
        stats.record_commit(batches, &cursor, newest_entry);
        debug!(%cursor, batches, "checkpoint committed");
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn sink_task(
    index: usize,
    name: String,
    mut sink: Sink,
    mut batches: mpsc::Receiver<Arc<EventBatch>>,
    reports: mpsc::Sender<SinkReport>,
    pipeline: PipelineConfig,
    dead_letter: Arc<Mutex<DeadLetter>>,
    stats: Arc<Metrics>,
) {
    let mut backoff = Backoff::new(&pipeline, index as u64);
    while let Some(batch) = batches.recv().await {
        let report = match deliver_with_retry(
            &mut sink,
            index,
            &name,
            &batch,
            &pipeline,
            &mut backoff,
            &stats,
        )
        .await
        {
            Ok(()) => {
                stats.record_delivered(index, batch.events.len());
                SinkReport::Ack(Ack { batch_id: batch.id })
            }
            Err(error) => match pipeline.on_permanent_error {
                PermanentErrorPolicy::Stop => {
                    stats.record_permanent(index, &error.message, None);
                    error!(sink = %name, %error, "permanent delivery error; stopping");
                    SinkReport::Fatal(RunError::PermanentDelivery {
                        sink: name.clone(),
                        error,
                    })
                }
                PermanentErrorPolicy::DeadLetter => {
                    let written = {
                        let mut file = dead_letter
                            .lock()
                            .unwrap_or_else(|poison| poison.into_inner());
                        tokio::task::block_in_place(|| file.write(&name, &error, &batch))
                    };
                    match written {
                        Ok(()) => {
                            stats.record_permanent(index, &error.message, Some(batch.events.len()));
                            error!(sink = %name, %error, events = batch.events.len(), path = %pipeline.dead_letter_path.display(), "permanent delivery error; batch written to the dead-letter file");
                            SinkReport::Ack(Ack { batch_id: batch.id })
                        }
                        Err(detail) => SinkReport::Fatal(RunError::DeadLetter {
                            sink: name.clone(),
                            path: pipeline.dead_letter_path.display().to_string(),
                            detail,
                        }),
                    }
                }
            },
        };
        let fatal = matches!(report, SinkReport::Fatal(_));
        if reports.send(report).await.is_err() || fatal {
            return;
        }
    }
    tokio::task::block_in_place(|| sink.shutdown(pipeline.shutdown_grace));
}

/// Delivers until acknowledged, retrying transient errors with backoff; returns
/// a permanent error (or a transient one past `retry_max_attempts`).
async fn deliver_with_retry(
    sink: &mut Sink,
    index: usize,
    name: &str,
    batch: &EventBatch,
    pipeline: &PipelineConfig,
    backoff: &mut Backoff,
    stats: &Metrics,
) -> Result<(), SinkError> {
    backoff.reset();
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        match sink.deliver(batch).await {
            Ok(()) => {
                if attempt > 1 {
                    info!(sink = %name, attempt, batch = batch.id, "delivered after retrying");
                }
                return Ok(());
            }
            Err(error) if error.kind == ErrorKind::Permanent => return Err(error),
            Err(error) => {
                stats.record_retry(index, &error.message);
                if pipeline.retry_max_attempts > 0 && attempt >= pipeline.retry_max_attempts {
                    return Err(SinkError::permanent(format!(
                        "gave up after {attempt} attempts (pipeline.retry_max_attempts): {error}"
                    )));
                }
                // A peer's Retry-After is honoured up to retry_max_backoff: one
                // answer of `Retry-After: 31536000` must not park the sink a year.
                let delay = backoff.next_delay().max(
                    error
                        .retry_after
                        .unwrap_or_default()
                        .min(pipeline.retry_max_backoff),
                );
                warn!(sink = %name, attempt, retry_in = ?delay, %error, "delivery failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Exponential backoff with jitter: each delay is drawn from [d/2, d], and d
/// doubles up to the maximum.
struct Backoff {
    initial: Duration,
    maximum: Duration,
    current: Duration,
    random: u64,
}

impl Backoff {
    fn new(pipeline: &PipelineConfig, salt: u64) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        Backoff {
            initial: pipeline.retry_initial_backoff,
            maximum: pipeline.retry_max_backoff,
            current: pipeline.retry_initial_backoff,
            random: seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    fn reset(&mut self) {
        self.current = self.initial;
    }

    fn next_delay(&mut self) -> Duration {
        // xorshift64
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        let fraction = 0.5 + (self.random % 1000) as f64 / 2000.0;
        let delay = self.current.mul_f64(fraction);
        self.current = (self.current * 2).min(self.maximum);
        delay
    }
}

/// The dead-letter file: one JSON line per event with the sink and the error.
struct DeadLetter {
    path: std::path::PathBuf,
}

impl DeadLetter {
    fn new(pipeline: &PipelineConfig) -> DeadLetter {
        DeadLetter {
            path: pipeline.dead_letter_path.clone(),
        }
    }

    fn write(&mut self, sink: &str, error: &SinkError, batch: &EventBatch) -> Result<(), String> {
        use std::io::Write;
        let mut bytes = Vec::new();
        let failed_at = crate::event::format_utc(&chrono::Utc::now());
        for event in &batch.events {
            let line = serde_json::json!({
                "dead_letter": { "sink": sink, "error": error.message, "failed_at": failed_at },
                "event": event,
            });
            serde_json::to_writer(&mut bytes, &line).map_err(|error| error.to_string())?;
            bytes.push(b'\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|error| error.to_string())?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_data())
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_maximum_with_jitter_in_the_upper_half() {
        let pipeline = PipelineConfig {
            retry_initial_backoff: Duration::from_millis(100),
            retry_max_backoff: Duration::from_millis(800),
            ..PipelineConfig::default()
        };
        let mut backoff = Backoff::new(&pipeline, 3);
        let bounds = [100, 200, 400, 800, 800, 800];
        for bound in bounds {
            let delay = backoff.next_delay();
            let bound = Duration::from_millis(bound);
            assert!(
                delay >= bound / 2 && delay <= bound,
                "{delay:?} not in [{:?}, {bound:?}]",
                bound / 2
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
