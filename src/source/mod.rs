//! Sources read journal rows on their own OS thread and hand them to the
//! pipeline through a bounded channel. The channel's capacity is the
//! backpressure: when it is full the reader blocks and stops polling the journal.

pub mod config;
pub mod odbc;
pub mod rows;
pub mod simulator;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::warn;

use self::config::{SourceConfig, SourceKind, SourcePlan};
use crate::enrich::config::FilterConfig;
use crate::event::{Cursor, JournalRow};
use crate::retry::Backoff;

/// Rows from one poll, in journal order, and the cursor after them. A batch may
/// have no rows and still move the cursor (a receiver read to its end).
#[derive(Debug)]
pub struct RowBatch {
    /// The rows, in journal order (can be empty).
    pub rows: Vec<JournalRow>,
    /// Where the journal stands after the batch.
    pub cursor: Cursor,
}

/// What the reader thread tells the pipeline.
#[derive(Debug)]
pub enum SourceMessage {
    /// A batch of rows read in one poll.
    Rows(RowBatch),
    /// The first poll succeeded: the source passed its start-up check.
    Started,
    /// Nothing more to read right now (sent once each time the source catches up).
    CaughtUp,
    /// The reader ended as asked (`exit_when_caught_up`); nothing follows.
    Finished,
    /// The source cannot go on without an operator; the error says what to do.
    Failed(odbc::OdbcError),
    /// The reader thread panicked: a bug. The text is the panic message.
    Panicked(String),
    /// The profiles the system reports holding *ALLOBJ or *SECADM
    /// (`QSYS2.USER_INFO`), read at start and then at an interval.
    PrivilegedProfiles(Vec<String>),
}

/// Whether the reader thread is stuck inside a poll, for the systemd watchdog.
/// A reader that waits for the pipeline (backpressure) or sleeps between polls
/// is not stuck; one whose poll has not returned for too long is.
#[derive(Debug)]
pub struct ReaderHeartbeat {
    origin: std::time::Instant,
    /// Milliseconds since `origin` + 1 when the current poll began; 0 outside a poll.
    poll_began: AtomicU64,
}

impl ReaderHeartbeat {
    /// A heartbeat with no poll running.
    pub fn new() -> ReaderHeartbeat {
        ReaderHeartbeat {
            origin: std::time::Instant::now(),
            poll_began: AtomicU64::new(0),
        }
    }

    fn enter_poll(&self) {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        self.poll_began.store(now, Ordering::Release);
    }

    fn leave_poll(&self) {
        self.poll_began.store(0, Ordering::Release);
    }

    /// How long the current poll has been running, if one is.
    pub fn in_poll_for(&self) -> Option<Duration> {
        match self.poll_began.load(Ordering::Acquire) {
            0 => None,
            began => {
                let now = self.origin.elapsed().as_millis() as u64 + 1;
                Some(Duration::from_millis(now.saturating_sub(began)))
            }
        }
    }
}

impl Default for ReaderHeartbeat {
    fn default() -> Self {
        ReaderHeartbeat::new()
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The source cannot be built from its configuration or its checkpoint (exit 78).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The checkpoint was written by another source (the simulator cannot resume it).
    #[error(transparent)]
    ForeignCursor(#[from] simulator::ForeignCursor),
    /// A configuration problem only found while building the source (a secret file).
    #[error("{0}")]
    Config(String),
}

/// The closed set of sources.
pub enum Source {
    /// The embedded simulator (`source.kind = "simulator"`).
    Simulator(simulator::Simulator),
    /// The ODBC reader (`source.kind = "odbc"`).
    Odbc(Box<odbc::OdbcSource>),
}

/// What one poll produced.
struct Poll {
    rows: Vec<JournalRow>,
    cursor: Option<Cursor>,
    caught_up: bool,
    /// The simulator is pacing itself: poll again soon.
    paced: bool,
    /// Statements run on the server by this poll (ODBC only).
    queries: odbc::QueryCounts,
}

impl Source {
    /// Opens the planned source, continuing after `cursor`. Does no I/O; the
    /// ODBC source connects on its thread.
    pub fn open(
        plan: &SourcePlan,
        filter: &FilterConfig,
        cursor: Option<&Cursor>,
    ) -> Result<Source, SourceError> {
        match (plan.config.kind, &plan.odbc) {
            (SourceKind::Simulator, _) => Ok(Source::Simulator(simulator::Simulator::new(
                plan.config.simulator.clone(),
                &plan.types,
                cursor,
            )?)),
            (SourceKind::Odbc, Some(odbc)) => Ok(Source::Odbc(Box::new(
                odbc::OdbcSource::new(plan, odbc, filter, cursor).map_err(SourceError::Config)?,
            ))),
            (SourceKind::Odbc, None) => Err(SourceError::Config(
                "source.odbc has no plan: the configuration did not go through loading".into(),
            )),
        }
    }

    fn poll(&mut self, max_rows: usize) -> Result<Poll, odbc::OdbcError> {
        match self {
            Source::Simulator(simulator) => {
                let rows = simulator.poll(max_rows);
                let caught_up = rows.is_empty() && simulator.exhausted();
                Ok(Poll {
                    cursor: rows.last().map(Cursor::of),
                    paced: !caught_up && rows.len() < max_rows,
                    rows,
                    caught_up,
                    queries: odbc::QueryCounts::default(),
                })
            }
            Source::Odbc(source) => {
                let poll = source.poll()?;
                if poll.own_rows_dropped > 0 {
                    tracing::debug!(
                        rows = poll.own_rows_dropped,
                        "dropped the forwarder's own database-server rows"
                    );
                }
                Ok(Poll {
                    rows: poll.rows,
                    cursor: poll.cursor,
                    caught_up: poll.caught_up,
                    paced: false,
                    queries: poll.queries,
                })
            }
        }
    }

    /// A poll running longer than this means the reader is stuck (for the
    /// watchdog): the query timeout plus a margin for ODBC; the simulator
    /// polls memory, so seconds are already abnormal.
    pub fn wedge_limit(&self, config: &SourceConfig) -> Duration {
        match self {
            Source::Simulator(_) => Duration::from_secs(5),
            Source::Odbc(_) => config
                .odbc
                .query_timeout
                .saturating_add(Duration::from_secs(30)),
        }
    }

    /// Optional audit types whose function the system lacks.
    fn missing_types(&self) -> Vec<&'static str> {
        match self {
            Source::Simulator(_) => Vec::new(),
            Source::Odbc(source) => source.missing_types(),
        }
    }

    /// Profiles holding *ALLOBJ or *SECADM, from the system (ODBC only).
    fn privileged_profiles(&mut self) -> Option<Result<Vec<String>, odbc::OdbcError>> {
        match self {
            Source::Simulator(_) => None,
            Source::Odbc(source) => Some(source.privileged_profiles()),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Source::Simulator(_) => "simulator",
            Source::Odbc(_) => "odbc",
        }
    }

    fn host(&self) -> &str {
        match self {
            Source::Simulator(_) => "simulator",
            Source::Odbc(source) => source.host(),
        }
    }
}

/// The reader, to run on a thread of its own (named by the first value)
/// until `stop` is set, the receiver is dropped, or (with
/// `exit_when_caught_up`) the source has nothing more to read. Transient
/// source errors are retried here with backoff, forever. A panic is caught
/// and reported as [`SourceMessage::Panicked`], in stream order, never as an end.
pub fn reader(
    source: Source,
    config: &SourceConfig,
    sender: mpsc::Sender<SourceMessage>,
    stop: Arc<StopSignal>,
    options: ReaderOptions,
    metrics: Arc<crate::telemetry::Metrics>,
    heartbeat: Arc<ReaderHeartbeat>,
) -> (String, impl FnOnce() + Send + 'static) {
    let ReaderOptions {
        exit_when_caught_up,
        privileged_refresh,
        end_at,
    } = options;
    let reader = Reader {
        end_at,
        privileged_refresh,
        batch_rows: config.batch_rows,
        poll_interval: config.poll_interval,
        sender,
        stop,
        exit_when_caught_up,
        metrics,
        heartbeat,
    };
    (format!("source-{}", source.name()), move || {
        let sender = reader.sender.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.run(source)));
        if let Err(payload) = outcome {
            let _ = sender.blocking_send(SourceMessage::Panicked(panic_message(&*payload)));
        }
    })
}

/// How the reader thread runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReaderOptions {
    /// End once the source has nothing more to read.
    pub exit_when_caught_up: bool,
    /// Read the privileged profiles from the system this often; `None`: never.
    pub privileged_refresh: Option<Duration>,
    /// Stop at the first entry after this instant: send the rows before it, then finish.
    pub end_at: Option<chrono::DateTime<chrono::Utc>>,
}

struct Reader {
    end_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How often to read the privileged profiles from the system; `None`: never.
    privileged_refresh: Option<Duration>,
    batch_rows: usize,
    poll_interval: Duration,
    sender: mpsc::Sender<SourceMessage>,
    stop: Arc<StopSignal>,
    exit_when_caught_up: bool,
    metrics: Arc<crate::telemetry::Metrics>,
    heartbeat: Arc<ReaderHeartbeat>,
}

impl Reader {
    /// Returns when stopped, when the pipeline is gone, or when finished.
    fn run(&self, mut source: Source) {
        let mut was_caught_up = false;
        let mut started = false;
        let mut failures: u32 = 0;
        // Reconnects wait 0.5 s, 1 s, 2 s, ... up to a minute, with jitter.
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(60), 0);
        let send = |message| self.sender.blocking_send(message).is_ok();
        let mut privileged_due = std::time::Instant::now();
        while !self.stop.is_set() {
            self.heartbeat.enter_poll();
            crate::failpoint::hit("reader.poll");
            let polled = source.poll(self.batch_rows);
            self.heartbeat.leave_poll();
            match polled {
                Ok(poll) => {
                    self.metrics.record_source_ok(poll.caught_up);
                    self.metrics.record_source_queries(
                        poll.queries.audit_journal_js,
                        poll.queries.audit_journal_types,
                        poll.queries.journal_receiver_info,
                    );
                    self.metrics.record_missing_types(&source.missing_types());
                    if let Some(interval) = self.privileged_refresh {
                        if std::time::Instant::now() >= privileged_due {
                            privileged_due = std::time::Instant::now() + interval;
                            match source.privileged_profiles() {
                                Some(Ok(profiles)) => {
                                    tracing::info!(profiles = profiles.len(), next_in = ?interval, "read the profiles holding *ALLOBJ or *SECADM from QSYS2.USER_INFO");
                                    if !send(SourceMessage::PrivilegedProfiles(profiles)) {
                                        return;
                                    }
                                }
                                Some(Err(error)) => {
                                    warn!(host = %source.host(), error = %error, retry_in = ?interval, "cannot read QSYS2.USER_INFO for privileged profiles (needs *USE on QSYS2.USER_INFO and *READ on the profiles); keeping the configured list and the last one read");
                                }
                                None => {}
                            }
                        }
                    }
                    if !started {
                        started = true;
                        if !send(SourceMessage::Started) {
                            return;
                        }
                    }
                    if failures > 0 {
                        tracing::info!(host = %source.host(), attempts = failures + 1, "source reconnected");
                        failures = 0;
                        backoff.reset();
                    }
                    let mut poll = poll;
                    let mut reached_end = false;
                    if let Some(end) = self.end_at {
                        // Entries come in journal order: the first one after the end ends the range.
                        if let Some(beyond) = poll
                            .rows
                            .iter()
                            .position(|row| row.notice.is_none() && row.entry_timestamp > end)
                        {
                            poll.rows.truncate(beyond);
                            poll.cursor = poll.rows.last().map(Cursor::of);
                            reached_end = true;
                        }
                    }
                    if let Some(cursor) = poll.cursor {
                        was_caught_up = false;
                        let batch = RowBatch {
                            rows: poll.rows,
                            cursor,
                        };
                        if !send(SourceMessage::Rows(batch)) {
                            return;
                        }
                    }
                    if reached_end {
                        tracing::info!("reached the end of the requested range");
                        send(SourceMessage::Finished);
                        return;
                    }
                    if poll.caught_up {
                        if !was_caught_up && !send(SourceMessage::CaughtUp) {
                            return;
                        }
                        was_caught_up = true;
                        if self.exit_when_caught_up {
                            send(SourceMessage::Finished);
                            return;
                        }
                        self.stop.sleep(self.poll_interval);
                    } else if poll.paced {
                        self.stop
                            .sleep(self.poll_interval.min(Duration::from_millis(200)));
                    }
                }
                Err(error @ odbc::OdbcError::Transient(..)) => {
                    let message = error.to_string();
                    self.metrics.record_source_error(&message);
                    failures += 1;
                    let delay = backoff.next_delay();
                    warn!(host = %source.host(), attempt = failures, retry_in = ?delay, error = %message, "source error; reconnecting with backoff");
                    self.stop.sleep(delay);
                }
                Err(error) => {
                    send(SourceMessage::Failed(error));
                    return;
                }
            }
        }
    }
}

/// The request that the reader thread stop: set once, it wakes a reader that
/// sleeps between polls at once (no polling of a flag); a reader inside a
/// poll sees it when the poll returns.
#[derive(Debug, Default)]
pub struct StopSignal {
    set: Mutex<bool>,
    wake: Condvar,
}

impl StopSignal {
    /// Asks the reader to stop, waking it if it sleeps.
    pub fn set(&self) {
        *self.lock() = true;
        self.wake.notify_all();
    }

    /// Whether a stop was asked for.
    pub fn is_set(&self) -> bool {
        *self.lock()
    }

    /// Sleeps for `duration`, or until a stop is asked for if that comes first.
    fn sleep(&self, duration: Duration) {
        let guard = self.lock();
        let _ = self
            .wake
            .wait_timeout_while(guard, duration, |set| !*set)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        self.set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::StopSignal;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn a_stop_wakes_a_reader_sleeping_between_polls() {
        let stop = Arc::new(StopSignal::default());
        let sleeper = stop.clone();
        let started = Instant::now();
        let thread = std::thread::spawn(move || sleeper.sleep(Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!stop.is_set());
        stop.set();
        thread.join().unwrap();
        // An hour's sleep ended by the stop, not by its time.
        assert!(started.elapsed() < Duration::from_secs(60));
        assert!(stop.is_set());
        // Once set, a sleep returns at once.
        stop.sleep(Duration::from_secs(3600));
    }
}
