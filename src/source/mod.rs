//! Sources read journal rows on their own OS thread and hand them to the
//! pipeline through a bounded channel. The channel's capacity is the
//! backpressure: when it is full the reader blocks and stops polling the journal.

pub mod rows;
pub mod simulator;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::{SourceConfig, SourceKind};
use crate::event::{Cursor, JournalRow};

/// Rows from one poll, in journal order, and the cursor after the last one.
#[derive(Debug)]
pub struct RowBatch {
    pub rows: Vec<JournalRow>,
    pub cursor: Cursor,
}

/// What the reader thread tells the pipeline.
#[derive(Debug)]
pub enum SourceMessage {
    Rows(RowBatch),
    /// Nothing more to read right now (sent once each time the source catches up).
    CaughtUp,
    /// The source cannot go on; the text is for the operator.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    ForeignCursor(#[from] simulator::ForeignCursor),
    #[error("source.kind = \"odbc\" is not available in this build yet: the ODBC reader is planned (see CHANGELOG.md); use source.kind = \"simulator\"")]
    OdbcNotBuilt,
}

/// The closed set of sources.
pub enum Source {
    Simulator(simulator::Simulator),
}

impl Source {
    /// Opens the configured source, continuing after `cursor`.
    pub fn open(config: &SourceConfig, cursor: Option<&Cursor>) -> Result<Source, SourceError> {
        match config.kind {
            SourceKind::Simulator => Ok(Source::Simulator(simulator::Simulator::new(
                config.simulator.clone(),
                cursor,
            )?)),
            SourceKind::Odbc => Err(SourceError::OdbcNotBuilt),
        }
    }

    /// Reads up to `max_rows` rows; `(rows, caught_up)`.
    fn poll(&mut self, max_rows: usize) -> Result<(Vec<JournalRow>, bool), String> {
        match self {
            Source::Simulator(simulator) => {
                let rows = simulator.poll(max_rows);
                let caught_up = rows.is_empty() && simulator.exhausted();
                Ok((rows, caught_up))
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Source::Simulator(_) => "simulator",
        }
    }
}

/// Runs the reader on its own thread until `stop` is set, the receiver is
/// dropped, or (with `exit_when_caught_up`) the source has nothing more to read.
pub fn spawn_reader(
    mut source: Source,
    config: &SourceConfig,
    sender: mpsc::Sender<SourceMessage>,
    stop: Arc<AtomicBool>,
    exit_when_caught_up: bool,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let batch_rows = config.batch_rows;
    let poll_interval = config.poll_interval;
    std::thread::Builder::new()
        .name(format!("source-{}", source.name()))
        .spawn(move || {
            let mut was_caught_up = false;
            while !stop.load(Ordering::Acquire) {
                match source.poll(batch_rows) {
                    Ok((rows, caught_up)) => {
                        let full = rows.len() == batch_rows;
                        if let Some(last) = rows.last() {
                            let cursor = Cursor::of(last);
                            was_caught_up = false;
                            if sender
                                .blocking_send(SourceMessage::Rows(RowBatch { rows, cursor }))
                                .is_err()
                            {
                                return;
                            }
                        }
                        if caught_up {
                            if !was_caught_up
                                && sender.blocking_send(SourceMessage::CaughtUp).is_err()
                            {
                                return;
                            }
                            was_caught_up = true;
                            if exit_when_caught_up {
                                return;
                            }
                        }
                        if !full {
                            sleep_unless_stopped(
                                &stop,
                                if caught_up {
                                    poll_interval
                                } else {
                                    poll_interval.min(Duration::from_millis(200))
                                },
                            );
                        }
                    }
                    Err(message) => {
                        let _ = sender.blocking_send(SourceMessage::Failed(message));
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
