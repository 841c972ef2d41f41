//! Sources read journal rows on their own OS thread and hand them to the
//! pipeline through a bounded channel. The channel's capacity is the
//! backpressure: when it is full the reader blocks and stops polling the journal.

pub mod odbc;
pub mod rows;
pub mod simulator;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::warn;

use crate::config::{read_secret_file, FilterConfig, SourceConfig, SourceKind};
use crate::event::{Cursor, JournalRow};

/// Rows from one poll, in journal order, and the cursor after them. A batch may
/// have no rows and still move the cursor (a receiver read to its end).
#[derive(Debug)]
pub struct RowBatch {
    pub rows: Vec<JournalRow>,
    pub cursor: Cursor,
}

/// What the reader thread tells the pipeline.
#[derive(Debug)]
pub enum SourceMessage {
    Rows(RowBatch),
    /// The first poll succeeded: the source passed its start-up check.
    Started,
    /// Nothing more to read right now (sent once each time the source catches up).
    CaughtUp,
    /// The source cannot go on without an operator; the text says what to do.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    ForeignCursor(#[from] simulator::ForeignCursor),
    #[error("{0}")]
    Config(String),
}

/// The closed set of sources.
pub enum Source {
    Simulator(simulator::Simulator),
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
    /// Opens the configured source, continuing after `cursor`. Does no I/O
    /// beyond reading a password file; the ODBC source connects on its thread.
    pub fn open(
        config: &SourceConfig,
        filter: &FilterConfig,
        cursor: Option<&Cursor>,
    ) -> Result<Source, SourceError> {
        match config.kind {
            SourceKind::Simulator => Ok(Source::Simulator(simulator::Simulator::new(
                config.simulator.clone(),
                cursor,
            )?)),
            SourceKind::Odbc => {
                let password = match &config.odbc.password_file {
                    Some(path) => read_secret_file("source.odbc.password_file", path)
                        .map_err(|error| SourceError::Config(error.to_string()))?,
                    None => config.odbc.password.clone(),
                };
                Ok(Source::Odbc(Box::new(
                    odbc::OdbcSource::new(config, filter, password, cursor)
                        .map_err(SourceError::Config)?,
                )))
            }
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

/// Runs the reader on its own thread until `stop` is set, the receiver is
/// dropped, or (with `exit_when_caught_up`) the source has nothing more to read.
/// Transient source errors are retried here with backoff, forever.
pub fn spawn_reader(
    mut source: Source,
    config: &SourceConfig,
    sender: mpsc::Sender<SourceMessage>,
    stop: Arc<AtomicBool>,
    exit_when_caught_up: bool,
    metrics: Arc<crate::telemetry::Metrics>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let batch_rows = config.batch_rows;
    let poll_interval = config.poll_interval;
    std::thread::Builder::new()
        .name(format!("source-{}", source.name()))
        .spawn(move || {
            let mut was_caught_up = false;
            let mut started = false;
            let mut failures: u32 = 0;
            while !stop.load(Ordering::Acquire) {
                match source.poll(batch_rows) {
                    Ok(poll) => {
                        metrics.record_source_ok(poll.caught_up);
                        metrics.record_source_queries(
                            poll.queries.audit_journal_js,
                            poll.queries.journal_receiver_info,
                        );
                        if !started {
                            started = true;
                            if sender.blocking_send(SourceMessage::Started).is_err() {
                                return;
                            }
                        }
                        if failures > 0 {
                            tracing::info!(host = %source.host(), attempts = failures + 1, "source reconnected");
                            failures = 0;
                        }
                        if let Some(cursor) = poll.cursor {
                            was_caught_up = false;
                            let batch = RowBatch { rows: poll.rows, cursor };
                            if sender.blocking_send(SourceMessage::Rows(batch)).is_err() {
                                return;
                            }
                        }
                        if poll.caught_up {
                            if !was_caught_up && sender.blocking_send(SourceMessage::CaughtUp).is_err() {
                                return;
                            }
                            was_caught_up = true;
                            if exit_when_caught_up {
                                return;
                            }
                            sleep_unless_stopped(&stop, poll_interval);
                        } else if poll.paced {
                            sleep_unless_stopped(&stop, poll_interval.min(Duration::from_millis(200)));
                        }
                    }
                    Err(odbc::OdbcError::Transient(message)) => {
                        metrics.record_source_error(&message);
                        failures += 1;
                        let delay = Duration::from_millis(500)
                            .saturating_mul(1 << failures.min(7))
                            .min(Duration::from_secs(60));
                        warn!(host = %source.host(), attempt = failures, retry_in = ?delay, error = %message, "source error; reconnecting with backoff");
                        sleep_unless_stopped(&stop, delay);
                    }
                    Err(odbc::OdbcError::Fatal(message)) => {
                        let _ = sender.blocking_send(SourceMessage::Failed(message.into()));
                        return;
                    }
                }
            }
        })
}

/// Sleeps in short steps so a stop request is seen within 50 ms.
fn sleep_unless_stopped(stop: &AtomicBool, duration: Duration) {
    let step = Duration::from_millis(50);
    let mut left = duration;
    while !left.is_zero() && !stop.load(Ordering::Acquire) {
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
}
