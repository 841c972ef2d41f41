//! Logging set-up and the counters the pipeline keeps. One place logs the
//! periodic summary; nothing logs per event above debug, and no secret is logged.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tracing::info;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};
use crate::event::Cursor;

/// Installs the global subscriber: to standard error (standard output may be a sink).
/// Under systemd (`JOURNAL_STREAM` set) no timestamps of our own: journald adds them.
pub fn init_logging(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let under_journald = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let result = match (config.format, under_journald) {
        (LogFormat::Json, _) => builder.json().flatten_event(true).try_init(),
        (LogFormat::Text, true) => builder.without_time().with_ansi(false).try_init(),
        (LogFormat::Text, false) => builder.try_init(),
    };
    // A second call (tests) keeps the first subscriber.
    let _ = result;
}

/// Counters of one run.
#[derive(Default)]
pub struct Stats {
    rows_read: AtomicU64,
    events_filtered: AtomicU64,
    events_delivered: AtomicU64,
    events_dead_lettered: AtomicU64,
    delivery_retries: AtomicU64,
    batches_committed: AtomicU64,
    last_cursor: Mutex<Option<Cursor>>,
}

impl Stats {
    pub fn record_read(&self, rows: usize, filtered: usize) {
        self.rows_read.fetch_add(rows as u64, Ordering::Relaxed);
        self.events_filtered
            .fetch_add(filtered as u64, Ordering::Relaxed);
    }

    /// Events acknowledged by one sink (counted once per sink).
    pub fn record_delivered(&self, events: usize) {
        self.events_delivered
            .fetch_add(events as u64, Ordering::Relaxed);
    }

    pub fn record_dead_lettered(&self, events: usize) {
        self.events_dead_lettered
            .fetch_add(events as u64, Ordering::Relaxed);
    }

    pub fn record_retry(&self) {
        self.delivery_retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_commit(&self, batches: usize, cursor: &Cursor) {
        self.batches_committed
            .fetch_add(batches as u64, Ordering::Relaxed);
        *self
            .last_cursor
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(cursor.clone());
    }

    pub fn rows_read(&self) -> u64 {
        self.rows_read.load(Ordering::Relaxed)
    }

    /// One INFO line for people without a metrics system.
    pub fn log_summary(&self) {
        let cursor = self
            .last_cursor
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .as_ref()
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        info!(
            rows_read = self.rows_read.load(Ordering::Relaxed),
            events_filtered = self.events_filtered.load(Ordering::Relaxed),
            events_delivered = self.events_delivered.load(Ordering::Relaxed),
            events_dead_lettered = self.events_dead_lettered.load(Ordering::Relaxed),
            delivery_retries = self.delivery_retries.load(Ordering::Relaxed),
            batches_committed = self.batches_committed.load(Ordering::Relaxed),
            checkpoint = %cursor,
            "summary"
        );
    }
}
