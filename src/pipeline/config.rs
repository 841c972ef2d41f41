//! `[pipeline]`: queues, retries, the permanent-error policy and shutdown.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{duration, Problems};

/// Most events `pipeline.max_events_in_memory` allows (some 240 MB of events).
pub const MAX_EVENTS_IN_MEMORY: usize = 200_000;

/// Queues, retries and shutdown.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Batches read but not yet committed, across all stages. Bounds memory
    /// (see ARCHITECTURE.md) and how much is sent again after a crash.
    pub max_batches_in_flight: usize,
    /// Of those, batches whose events are still in memory: read and not yet
    /// encoded by every sink. A sink that resends from its encoded bodies
    /// (Splunk HEC) releases the events as soon as it has sent a batch, so
    /// `max_batches_in_flight` can be larger at a small cost; the others keep
    /// the events until acknowledged. Capped by `max_batches_in_flight`.
    pub max_batches_in_memory: usize,
    /// Of those batches, events in memory at once: the bound on what costs
    /// memory (about 1.2 KB an event), whatever each batch carries (with
    /// sessions a row may add a session's end and start). A batch with more
    /// events than this is read alone. Unset: `max_batches_in_memory ×
    /// source.batch_rows / 2` (8,000 at the defaults; see ARCHITECTURE.md,
    /// "Bounds").
    pub max_events_in_memory: Option<usize>,
    /// SIGTERM/SIGINT/SIGHUP: time to drain and commit before exiting anyway.
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
    /// First pause after a transient sink error; doubles up to `retry_max_backoff`.
    #[serde(with = "duration")]
    pub retry_initial_backoff: Duration,
    /// Longest pause between retries; also caps a peer's `Retry-After`.
    #[serde(with = "duration")]
    pub retry_max_backoff: Duration,
    /// Attempts before a transient error is treated as permanent; 0 = retry forever.
    pub retry_max_attempts: u32,
    /// What a permanent sink error does: "stop" the daemon (exit 69), or write
    /// the batch to `dead_letter_path` and go on.
    pub on_permanent_error: PermanentErrorPolicy,
    /// File that receives undeliverable batches (NDJSON) with "dead_letter" (default
    /// ./dead-letter.ndjson); not a file sink's path, not inside `state.dir`.
    pub dead_letter_path: PathBuf,
    /// With "dead_letter": after this many dead-lettered batches in a row the
    /// sink is treated as down (retried with backoff, /health 503) instead of
    /// filling the file; 0 = no limit.
    pub dead_letter_max_consecutive: u32,
    /// With "dead_letter": the same once the file holds this many bytes; 0 = no limit.
    pub dead_letter_max_bytes: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            // Enough to hide a Splunk acknowledgement latency of seconds
            // (64 × 1000 events in flight keep ~25,000 events/s going against
            // acks 2.5 s late): cheap, because HEC keeps compressed bodies.
            max_batches_in_flight: 64,
            // About 1.2 MiB of events per batch of 1000.
            max_batches_in_memory: 16,
            // Unset: half an event a row of those batches (8,000), which
            // keeps a daemon whose HEC sink is down within 64 MiB with
            // sessions' events (1.58 a row on the simulator's stream).
            max_events_in_memory: None,
            shutdown_grace: Duration::from_secs(20),
            retry_initial_backoff: Duration::from_millis(500),
            retry_max_backoff: Duration::from_secs(60),
            retry_max_attempts: 0,
            on_permanent_error: PermanentErrorPolicy::Stop,
            dead_letter_path: PathBuf::from("./dead-letter.ndjson"),
            // A poisoned batch is rare; three in a row means the sink refuses everything.
            dead_letter_max_consecutive: 3,
            dead_letter_max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// `pipeline.on_permanent_error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermanentErrorPolicy {
    /// Stop the daemon (exit 69) without committing the batch (the default).
    Stop,
    /// Write the batch to `dead_letter_path` and go on.
    DeadLetter,
}

impl PipelineConfig {
    /// Batches whose events may be in memory at once.
    pub fn batches_in_memory(&self) -> usize {
        self.max_batches_in_memory.min(self.max_batches_in_flight)
    }

    /// Events that may be in memory at once, for batches of `batch_rows`.
    pub fn events_in_memory(&self, batch_rows: usize) -> usize {
        self.max_events_in_memory
            .unwrap_or(self.batches_in_memory().saturating_mul(batch_rows) / 2)
            .max(1)
    }

    /// Ranges and conflicts; `key` is the section's key ("pipeline").
    pub fn validate(&self, key: &str, problems: &mut Problems) {
        let at = |name: &str| format!("{key}.{name}");
        if self.max_batches_in_flight == 0 || self.max_batches_in_flight > 1024 {
            problems.fail(
                at("max_batches_in_flight"),
                format!(
                    "{} is out of range; use 1 to 1024",
                    self.max_batches_in_flight
                ),
            );
        }
        if self.max_batches_in_memory == 0 || self.max_batches_in_memory > 1024 {
            problems.fail(
                at("max_batches_in_memory"),
                format!(
                    "{} is out of range; use 1 to 1024",
                    self.max_batches_in_memory
                ),
            );
        }
        if let Some(events) = self
            .max_events_in_memory
            .filter(|events| !(1..=MAX_EVENTS_IN_MEMORY).contains(events))
        {
            problems.fail(
                at("max_events_in_memory"),
                format!("{events} is out of range; use 1 to {MAX_EVENTS_IN_MEMORY} (about 1.2 KB of memory an event)"),
            );
        }
        problems.duration_in(
            at("shutdown_grace"),
            self.shutdown_grace,
            Duration::ZERO,
            Duration::from_secs(3600),
        );
        problems.duration_in(
            at("retry_initial_backoff"),
            self.retry_initial_backoff,
            Duration::from_millis(1),
            Duration::from_secs(3600),
        );
        problems.duration_in(
            at("retry_max_backoff"),
            self.retry_max_backoff,
            Duration::from_millis(1),
            Duration::from_secs(24 * 3600),
        );
        if self.retry_initial_backoff > self.retry_max_backoff {
            problems.fail(
                at("retry_initial_backoff"),
                "must be at most pipeline.retry_max_backoff",
            );
        }
        if self.on_permanent_error == PermanentErrorPolicy::DeadLetter
            && self.dead_letter_path.as_os_str().is_empty()
        {
            problems.fail(
                at("dead_letter_path"),
                "required when pipeline.on_permanent_error = \"dead_letter\"",
            );
        }
    }
}
