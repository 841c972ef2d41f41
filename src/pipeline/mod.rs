//! The pipeline: source thread → enrich → every sink → in-order commit.
//!
//! ```text
//!  reader thread ──(1 batch)──▶ dispatcher ──(Arc batch)──▶ sink task × N ──ack──▶ ledger ──▶ commit
//!      ▲ blocks when full          enrich + filter           retry, backoff        longest fully
//!                                                            dead letter            acked prefix
//! ```
//!
//! Files, one concern each: this one holds the run's outcome and error types
//! (the wiring of a run is `crate::app`); `dispatcher.rs` is the loop; `ledger.rs` the pure bookkeeping of what may be
//! committed; `sink_task.rs` delivery with retry and the permanent-error
//! policy; `memory.rs` the memory permits (and a fleet's shared budget) that
//! bound the batches whose events are alive; `supervisor.rs` owns the run's tasks and threads and turns a panic
//! or an unexpected end into exit 70; `dead_letter.rs` the dead-letter file; `config.rs` the `[pipeline]`
//! section. The retry pause policy is `crate::retry::Backoff`.
//!
//! At most `pipeline.max_batches_in_flight` batches are read but not committed;
//! the dispatcher stops taking rows from the reader until the oldest batch has
//! been acknowledged by every sink, so backpressure ends at the journal poll.

pub mod config;
pub mod dead_letter;
pub(crate) mod dispatcher;
pub mod ledger;
pub mod memory;
pub(crate) mod sink_task;
pub(crate) mod supervisor;
pub mod systems;

use crate::checkpoint::CheckpointError;
use crate::exit_code;
use crate::sink::SinkError;
use crate::source::SourceError;

pub use self::config::{PermanentErrorPolicy, PipelineConfig};
use self::dead_letter::DeadLetterError;

/// How `run` was asked to behave.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Exit once the source has nothing more to read and everything is committed.
    pub exit_when_caught_up: bool,
    /// Start even if the state directory lost its checkpoint (see
    /// `CheckpointStore::open_checked`); an `audit_gap` event is sent first.
    pub accept_lost_checkpoint: bool,
    /// Stop reading at the first entry after this instant (a backfill's end):
    /// the entries up to it are delivered and committed, then the run ends.
    pub end_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How a run that did not fail ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything read was delivered and committed.
    Drained,
    /// The shutdown grace ran out with batches undelivered; they are read
    /// again at the next start (nothing is lost, some may repeat).
    GraceExpired {
        /// Batches read and not committed when the grace ran out.
        undelivered_batches: usize,
    },
}

/// Why a run failed. [`RunError::exit_code`] maps each to the exit-code table.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The checkpoint store could not be opened, read or written (exit 73).
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The source could not be built from its configuration (exit 78).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A sink could not be built from its configuration (exit 78).
    #[error("sink {sink} cannot be set up: {error}")]
    SinkSetup {
        /// The sink's name (`describe`).
        sink: String,
        /// Why the sink could not be built.
        #[source]
        error: SinkError,
    },
    /// A sink failed its start-up check, e.g. its peer is unreachable (exit 69).
    #[error("sink {sink} failed its start-up check: {error}")]
    SinkStartup {
        /// The sink's name (`describe`).
        sink: String,
        /// What the check found.
        #[source]
        error: SinkError,
    },
    /// A sink rejected a batch for good under `on_permanent_error = "stop"` (exit 69).
    #[error("sink {sink} rejected a batch for good, and pipeline.on_permanent_error = \"stop\": {error}. Nothing after the last delivered batch was committed; fix the cause and start again, or set pipeline.on_permanent_error = \"dead_letter\"")]
    PermanentDelivery {
        /// The sink's name (`describe`).
        sink: String,
        /// The sink's permanent error.
        #[source]
        error: SinkError,
    },
    /// A rejected batch could not be written to the dead-letter file (exit 69).
    #[error("the batch that sink {sink} rejected cannot be set aside, so the daemon stops without committing it: {source}")]
    DeadLetter {
        /// The sink whose batch was rejected.
        sink: String,
        /// Why the dead-letter file could not take it.
        #[source]
        source: DeadLetterError,
    },
    /// The reader ended with an error it cannot recover from (exit 78).
    #[error("the source stopped: {0}")]
    SourceFailed(#[source] crate::source::odbc::OdbcError),
    /// The telemetry listener could not bind its address (exit 78).
    #[error("{0}")]
    Telemetry(String),
    /// Two sources of a fleet read one IBM i (one SYSTEM_NAME): the message names both.
    #[error("{0}")]
    DuplicateSystem(String),
    /// A source without a checkpoint reads a system another checkpoint in the
    /// state directory follows (renamed, moved, or a second name).
    #[error("{0}")]
    CheckpointElsewhere(String),
    /// A bug: a panic, a task or thread that ended unexpectedly.
    #[error("internal error: {0}; nothing was committed past what every sink acknowledged")]
    Internal(String),
}

impl RunError {
    /// The process exit code for this failure (see README, "Exit codes").
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Checkpoint(_) => exit_code::STATE,
            // An operator must act (credentials, authority, set-up): a restart
            // loop would not help and, for a password, could disable the profile.
            RunError::Source(_)
            | RunError::SourceFailed(_)
            | RunError::SinkSetup { .. }
            | RunError::Telemetry(_)
            | RunError::DuplicateSystem(_)
            | RunError::CheckpointElsewhere(_) => exit_code::CONFIG,
            RunError::SinkStartup { .. }
            | RunError::PermanentDelivery { .. }
            | RunError::DeadLetter { .. } => exit_code::UNAVAILABLE,
            RunError::Internal(_) => exit_code::SOFTWARE,
        }
    }
}
