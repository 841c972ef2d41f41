//! The run's counters and gauges, rendered as Prometheus text and judged for
//! `/health`. One registry per run, shared by the reader thread, the pipeline
//! and the sink tasks; every update is a relaxed atomic, nothing blocks.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;

use crate::event::Cursor;

/// Counters of one sink.
pub struct SinkMetrics {
    /// The sink's name (`describe`), the `sink` label of its samples.
    pub name: String,
    events_delivered: AtomicU64,
    delivery_retries: AtomicU64,
    permanent_errors: AtomicU64,
    events_dead_lettered: AtomicU64,
    up: AtomicBool,
    /// The dead-letter brake holds: the sink refuses everything.
    dead_letter_brake: AtomicBool,
    last_error: Mutex<Option<String>>,
}

/// Everything `/metrics`, `/health`, the summary line and STATUS= report.
pub struct Metrics {
    rows_read: AtomicU64,
    events_filtered: AtomicU64,
    batches_committed: AtomicU64,
    batches_in_flight: AtomicI64,
    batches_in_memory: AtomicI64,
    events_in_memory: AtomicI64,
    audit_gaps: AtomicU64,
    source_reconnects: AtomicU64,
    source_queries_audit_journal_js: AtomicU64,
    source_queries_audit_journal_types: AtomicU64,
    source_queries_journal_receiver_info: AtomicU64,
    /// Optional audit types the system lacks (not read).
    source_missing_types: Mutex<Vec<&'static str>>,
    /// Profiles the system reported holding *ALLOBJ or *SECADM (-1: never read).
    system_privileged: AtomicI64,
    source_up: AtomicBool,
    /// Set when this system's pipeline stopped for good (a fleet goes on
    /// without it): the exit code and why.
    stopped: Mutex<Option<(i32, String)>>,
    source_caught_up: AtomicBool,
    source_error: Mutex<Option<String>>,
    checkpoint_sequence: AtomicU64,
    /// Microseconds since the epoch of the last commit; 0 before the first.
    checkpoint_committed_micros: AtomicI64,
    /// Entry time (UTC, µs since the epoch) of the newest delivered entry; 0 before.
    newest_delivered_micros: AtomicI64,
    last_cursor: Mutex<Option<Cursor>>,
    started_micros: i64,
    /// One entry per configured sink, in configuration order.
    pub sinks: Vec<SinkMetrics>,
    /// Sessions open now, per method.
    sessions_open: Mutex<std::collections::BTreeMap<String, usize>>,
    /// Sessions ended, per (method, end reason).
    sessions_ended: Mutex<std::collections::BTreeMap<(crate::event::Text, &'static str), u64>>,
}

fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl Metrics {
    /// A registry for the sinks named `sink_names`, every counter at zero.
    pub fn new(sink_names: &[String]) -> Metrics {
        Metrics {
            rows_read: AtomicU64::new(0),
            events_filtered: AtomicU64::new(0),
            batches_committed: AtomicU64::new(0),
            batches_in_flight: AtomicI64::new(0),
            batches_in_memory: AtomicI64::new(0),
            events_in_memory: AtomicI64::new(0),
            audit_gaps: AtomicU64::new(0),
            source_reconnects: AtomicU64::new(0),
            source_queries_audit_journal_js: AtomicU64::new(0),
            source_queries_audit_journal_types: AtomicU64::new(0),
            source_queries_journal_receiver_info: AtomicU64::new(0),
            source_missing_types: Mutex::new(Vec::new()),
            system_privileged: AtomicI64::new(-1),
            source_up: AtomicBool::new(true),
            stopped: Mutex::new(None),
            source_caught_up: AtomicBool::new(false),
            source_error: Mutex::new(None),
            checkpoint_sequence: AtomicU64::new(0),
            checkpoint_committed_micros: AtomicI64::new(0),
            newest_delivered_micros: AtomicI64::new(0),
            last_cursor: Mutex::new(None),
            started_micros: now_micros(),
            sessions_open: Mutex::new(std::collections::BTreeMap::new()),
            sessions_ended: Mutex::new(std::collections::BTreeMap::new()),
            sinks: sink_names
                .iter()
                .map(|name| SinkMetrics {
                    name: name.clone(),
                    events_delivered: AtomicU64::new(0),
                    delivery_retries: AtomicU64::new(0),
                    permanent_errors: AtomicU64::new(0),
                    events_dead_lettered: AtomicU64::new(0),
                    up: AtomicBool::new(true),
                    dead_letter_brake: AtomicBool::new(false),
                    last_error: Mutex::new(None),
                })
                .collect(),
        }
    }

    /// A batch read: `rows` rows, `filtered` of them dropped by the filter, `audit_gaps`
    /// gap notices among them; one more batch in flight.
    pub fn record_read(&self, rows: usize, filtered: usize, audit_gaps: usize) {
        self.rows_read.fetch_add(rows as u64, Ordering::Relaxed);
        self.events_filtered
            .fetch_add(filtered as u64, Ordering::Relaxed);
        self.audit_gaps
            .fetch_add(audit_gaps as u64, Ordering::Relaxed);
        self.batches_in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// Batches whose events are alive (read, not yet released by every sink).
    /// After a batch: the sessions it ended, and those open now, per method.
    pub fn record_sessions(
        &self,
        tallies: &[crate::enrich::sessions::Tally],
        open: &std::collections::BTreeMap<String, usize>,
    ) {
        let mut ended = lock(&self.sessions_ended);
        for tally in tallies {
            *ended
                .entry((tally.method.clone(), tally.reason))
                .or_default() += 1;
        }
        drop(ended);
        let mut gauge = lock(&self.sessions_open);
        // Methods whose sessions all ended read 0, not vanish.
        for count in gauge.values_mut() {
            *count = 0;
        }
        for (method, count) in open {
            gauge.insert(method.clone(), *count);
        }
    }

    /// A batch's events admitted (`1`) or released (`-1`): kept by the
    /// batch's memory permit, so the gauge is exact without looking again.
    pub fn add_batches_in_memory(&self, batches: i64) {
        self.batches_in_memory.fetch_add(batches, Ordering::Relaxed);
    }

    /// The events of a batch admitted (positive) or released (negative), by
    /// the same permit.
    pub fn add_events_in_memory(&self, events: i64) {
        self.events_in_memory.fetch_add(events, Ordering::Relaxed);
    }

    /// A poll succeeded: the source is up, `caught_up` when nothing more is waiting.
    pub fn record_source_ok(&self, caught_up: bool) {
        self.source_up.store(true, Ordering::Relaxed);
        self.source_caught_up.store(caught_up, Ordering::Relaxed);
        *lock(&self.source_error) = None;
    }

    /// Statements the source ran on the IBM i: table-function calls and
    /// receiver-chain reads.
    pub fn record_source_queries(
        &self,
        audit_journal_js: u64,
        audit_journal_types: u64,
        journal_receiver_info: u64,
    ) {
        self.source_queries_audit_journal_js
            .fetch_add(audit_journal_js, Ordering::Relaxed);
        self.source_queries_audit_journal_types
            .fetch_add(audit_journal_types, Ordering::Relaxed);
        self.source_queries_journal_receiver_info
            .fetch_add(journal_receiver_info, Ordering::Relaxed);
    }

    /// How many profiles the system last reported as privileged.
    pub fn record_system_privileged(&self, count: usize) {
        self.system_privileged
            .store(i64::try_from(count).unwrap_or(i64::MAX), Ordering::Relaxed);
    }

    /// The optional audit types the system lacks, as the source last found.
    pub fn record_missing_types(&self, types: &[&'static str]) {
        let mut missing = lock(&self.source_missing_types);
        if missing.as_slice() != types {
            *missing = types.to_vec();
        }
    }

    /// This system stopped for good: it stays down in `/metrics` and `/health`.
    pub fn record_stopped(&self, exit_code: i32, message: &str) {
        self.source_up.store(false, Ordering::Relaxed);
        *lock(&self.stopped) = Some((exit_code, message.to_owned()));
    }

    /// Why this system stopped for good, if it did.
    pub fn stopped(&self) -> Option<(i32, String)> {
        lock(&self.stopped).clone()
    }

    /// A poll failed with `message` (redacted): the source is down, one more reconnect.
    pub fn record_source_error(&self, message: &str) {
        self.source_up.store(false, Ordering::Relaxed);
        self.source_reconnects.fetch_add(1, Ordering::Relaxed);
        *lock(&self.source_error) = Some(message.to_owned());
    }

    /// `sink` delivered `events` events: it is up.
    pub fn record_delivered(&self, sink: usize, events: usize) {
        let sink = &self.sinks[sink];
        sink.events_delivered
            .fetch_add(events as u64, Ordering::Relaxed);
        sink.up.store(true, Ordering::Relaxed);
        *lock(&sink.last_error) = None;
    }

    /// A delivery to `sink` failed and will be retried: it is down until one succeeds.
    pub fn record_retry(&self, sink: usize, error: &str) {
        let sink = &self.sinks[sink];
        sink.delivery_retries.fetch_add(1, Ordering::Relaxed);
        sink.up.store(false, Ordering::Relaxed);
        *lock(&sink.last_error) = Some(error.to_owned());
    }

    /// `sink` rejected a batch for good; `dead_lettered` is the events set aside, `None`
    /// when the batch was not (the sink is then down).
    pub fn record_permanent(&self, sink: usize, error: &str, dead_lettered: Option<usize>) {
        let sink = &self.sinks[sink];
        sink.permanent_errors.fetch_add(1, Ordering::Relaxed);
        *lock(&sink.last_error) = Some(error.to_owned());
        match dead_lettered {
            Some(events) => {
                sink.events_dead_lettered
                    .fetch_add(events as u64, Ordering::Relaxed);
            }
            None => sink.up.store(false, Ordering::Relaxed),
        }
    }

    /// The dead-letter brake of `sink` engaged (the sink is down) or released.
    pub fn record_dead_letter_brake(&self, sink: usize, engaged: bool) {
        let sink = &self.sinks[sink];
        sink.dead_letter_brake.store(engaged, Ordering::Relaxed);
        if engaged {
            sink.up.store(false, Ordering::Relaxed);
        }
    }

    /// A commit of `batches` batches ending at `cursor`, whose newest entry is
    /// `newest_entry_micros` (UTC µs), if the batches had events.
    pub fn record_commit(&self, batches: usize, cursor: &Cursor, newest_entry_micros: Option<i64>) {
        self.batches_committed
            .fetch_add(batches as u64, Ordering::Relaxed);
        self.batches_in_flight
            .fetch_sub(batches as i64, Ordering::Relaxed);
        self.checkpoint_sequence
            .store(cursor.sequence_number, Ordering::Relaxed);
        self.checkpoint_committed_micros
            .store(now_micros(), Ordering::Relaxed);
        if let Some(micros) = newest_entry_micros {
            self.newest_delivered_micros
                .fetch_max(micros, Ordering::Relaxed);
        }
        *lock(&self.last_cursor) = Some(cursor.clone());
    }

    /// The position last committed, if any.
    pub fn committed_cursor(&self) -> Option<Cursor> {
        lock(&self.last_cursor).clone()
    }

    /// Rows the reader handed over since the start, the filtered ones included.
    pub fn rows_read(&self) -> u64 {
        self.rows_read.load(Ordering::Relaxed)
    }

    /// Deliveries to `sink` that failed and were retried.
    pub fn retries(&self, sink: usize) -> u64 {
        self.sinks[sink].delivery_retries.load(Ordering::Relaxed)
    }

    fn seconds_since(micros: i64) -> Option<f64> {
        (micros > 0).then(|| (now_micros() - micros) as f64 / 1e6)
    }

    /// Now minus the newest delivered entry's timestamp.
    pub fn journal_lag_seconds(&self) -> Option<f64> {
        Metrics::seconds_since(self.newest_delivered_micros.load(Ordering::Relaxed))
    }

    /// Seconds since the last commit; `None` before the first.
    pub fn checkpoint_age_seconds(&self) -> Option<f64> {
        Metrics::seconds_since(self.checkpoint_committed_micros.load(Ordering::Relaxed))
    }

    /// One line for logs and systemd's STATUS=.
    pub fn summary(&self) -> String {
        let cursor = lock(&self.last_cursor)
            .as_ref()
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        let delivered: Vec<String> = self
            .sinks
            .iter()
            .map(|sink| {
                format!(
                    "{}={}",
                    sink.name,
                    sink.events_delivered.load(Ordering::Relaxed)
                )
            })
            .collect();
        format!(
            "rows read {}, filtered {}, delivered [{}], lag {}, checkpoint {} ({} ago)",
            self.rows_read.load(Ordering::Relaxed),
            self.events_filtered.load(Ordering::Relaxed),
            delivered.join(", "),
            self.journal_lag_seconds()
                .map_or_else(|| "n/a".into(), |lag| format!("{lag:.0}s")),
            cursor,
            self.checkpoint_age_seconds()
                .map_or_else(|| "never".into(), |age| format!("{age:.0}s")),
        )
    }

    /// `Ok(())` when healthy, else the reasons.
    pub fn health(&self, max_checkpoint_age: Duration) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        if let Some((code, why)) = self.stopped() {
            reasons.push(format!("stopped for good (exit {code}): {why}"));
            return Err(reasons);
        }
        if !self.source_up.load(Ordering::Relaxed) {
            let error = lock(&self.source_error).clone().unwrap_or_default();
            reasons.push(format!("source down: {error}"));
        }
        for sink in &self.sinks {
            if !sink.up.load(Ordering::Relaxed) {
                let error = lock(&sink.last_error).clone().unwrap_or_default();
                reasons.push(format!("sink {} down: {error}", sink.name));
            }
        }
        let idle = self.source_caught_up.load(Ordering::Relaxed)
            && self.batches_in_flight.load(Ordering::Relaxed) <= 0;
        let age = self
            .checkpoint_age_seconds()
            .unwrap_or_else(|| (now_micros() - self.started_micros) as f64 / 1e6);
        if !idle && age > max_checkpoint_age.as_secs_f64() {
            reasons.push(format!(
                "checkpoint has not advanced for {age:.0}s with work pending (limit {}s)",
                max_checkpoint_age.as_secs()
            ));
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }

    /// The Prometheus text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.render_run(&mut out);
        self.render_source(&mut out);
        self.render_sessions(&mut out);
        self.render_sinks(&mut out);
        out
    }

    /// The run's own gauges and counters, one value each.
    fn render_run(&self, out: &mut String) {
        let mut single = |name: &str, kind: &str, help: &str, value: f64| {
            let _ = writeln!(
                *out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        single(
            "auditfwd_up",
            "gauge",
            "1 while the pipeline runs; 0 once it stopped for good (a fleet goes on without it).",
            if self.stopped().is_some() { 0.0 } else { 1.0 },
        );
        single(
            "auditfwd_rows_read_total",
            "counter",
            "Journal rows read from the source.",
            self.rows_read.load(Ordering::Relaxed) as f64,
        );
        single(
            "auditfwd_events_filtered_total",
            "counter",
            "Rows read but not forwarded because of [filter].",
            self.events_filtered.load(Ordering::Relaxed) as f64,
        );
        single(
            "auditfwd_batches_committed_total",
            "counter",
            "Batches every sink acknowledged and the checkpoint moved over.",
            self.batches_committed.load(Ordering::Relaxed) as f64,
        );
        single(
            "auditfwd_batches_in_flight",
            "gauge",
            "Batches read but not yet committed.",
            self.batches_in_flight.load(Ordering::Relaxed).max(0) as f64,
        );
        single(
            "auditfwd_batches_in_memory",
            "gauge",
            "Batches in flight whose events are still in memory (pipeline.max_batches_in_memory).",
            self.batches_in_memory.load(Ordering::Relaxed).max(0) as f64,
        );
        single(
            "auditfwd_events_in_memory",
            "gauge",
            "Events of those batches (pipeline.max_events_in_memory).",
            self.events_in_memory.load(Ordering::Relaxed).max(0) as f64,
        );
        single(
            "auditfwd_audit_gaps_total",
            "counter",
            "audit_gap events: journal entries lost before they were read.",
            self.audit_gaps.load(Ordering::Relaxed) as f64,
        );
        single(
            "auditfwd_source_reconnects_total",
            "counter",
            "Source errors followed by a reconnect.",
            self.source_reconnects.load(Ordering::Relaxed) as f64,
        );
        single(
            "auditfwd_source_up",
            "gauge",
            "1 when the last source poll succeeded.",
            f64::from(u8::from(self.source_up.load(Ordering::Relaxed))),
        );
        single(
            "auditfwd_checkpoint_sequence_number",
            "gauge",
            "Sequence number of the last committed entry.",
            self.checkpoint_sequence.load(Ordering::Relaxed) as f64,
        );
        single(
            "auditfwd_checkpoint_age_seconds",
            "gauge",
            "Seconds since the checkpoint last advanced (-1 before the first commit).",
            self.checkpoint_age_seconds().unwrap_or(-1.0),
        );
        single(
            "auditfwd_journal_lag_seconds",
            "gauge",
            "Now minus the newest delivered entry's timestamp (-1 before the first delivery).",
            self.journal_lag_seconds().unwrap_or(-1.0),
        );
    }

    /// What the source ran and what it found missing or privileged.
    fn render_source(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP auditfwd_source_queries_total Statements the source ran on the IBM i, by what they read (each audit_journal_js call reads and sorts one sequence window; audit_journal_other_types counts the calls of the other types' functions, one per type per window).\n# TYPE auditfwd_source_queries_total counter\nauditfwd_source_queries_total{{function=\"audit_journal_js\"}} {}\nauditfwd_source_queries_total{{function=\"audit_journal_other_types\"}} {}\nauditfwd_source_queries_total{{function=\"journal_receiver_info\"}} {}",
            self.source_queries_audit_journal_js.load(Ordering::Relaxed),
            self.source_queries_audit_journal_types.load(Ordering::Relaxed),
            self.source_queries_journal_receiver_info.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP auditfwd_source_audit_type_missing Optional audit types (source.optional_audit_types) whose SYSTOOLS function this system lacks: 1 while not read.\n# TYPE auditfwd_source_audit_type_missing gauge"
        );
        for code in lock(&self.source_missing_types).iter() {
            let _ = writeln!(
                out,
                "auditfwd_source_audit_type_missing{{type=\"{code}\"}} 1"
            );
        }
        let _ = writeln!(
            out,
            "# HELP auditfwd_privileged_profiles_from_system Profiles QSYS2.USER_INFO last reported holding *ALLOBJ or *SECADM (-1: not read).\n# TYPE auditfwd_privileged_profiles_from_system gauge\nauditfwd_privileged_profiles_from_system {}",
            self.system_privileged.load(Ordering::Relaxed)
        );
    }

    /// Sessions open now and ended, by method (and end reason).
    fn render_sessions(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP auditfwd_sessions_open Sessions open now (derived from the JS entries), by connection method.\n# TYPE auditfwd_sessions_open gauge"
        );
        for (method, count) in lock(&self.sessions_open).iter() {
            let _ = writeln!(
                out,
                "auditfwd_sessions_open{{method=\"{}\"}} {count}",
                escape_label(method)
            );
        }
        let _ = writeln!(
            out,
            "# HELP auditfwd_sessions_total Sessions ended, by connection method and end reason (evicted: closed because sessions.max_open was reached).\n# TYPE auditfwd_sessions_total counter"
        );
        for ((method, reason), count) in lock(&self.sessions_ended).iter() {
            let _ = writeln!(
                out,
                "auditfwd_sessions_total{{method=\"{}\",end_reason=\"{reason}\"}} {count}",
                escape_label(method)
            );
        }
    }

    /// One family per sink figure, a line per sink.
    fn render_sinks(&self, out: &mut String) {
        type PerSink<'a> = (&'a str, &'a str, &'a str, fn(&SinkMetrics) -> f64);
        let per_sink: [PerSink; 6] = [
            (
                "auditfwd_events_delivered_total",
                "counter",
                "Events a sink acknowledged.",
                |sink| sink.events_delivered.load(Ordering::Relaxed) as f64,
            ),
            (
                "auditfwd_delivery_retries_total",
                "counter",
                "Deliveries retried after a transient error.",
                |sink| sink.delivery_retries.load(Ordering::Relaxed) as f64,
            ),
            (
                "auditfwd_permanent_errors_total",
                "counter",
                "Batches a sink rejected for good.",
                |sink| sink.permanent_errors.load(Ordering::Relaxed) as f64,
            ),
            (
                "auditfwd_events_dead_lettered_total",
                "counter",
                "Events written to the dead-letter file.",
                |sink| sink.events_dead_lettered.load(Ordering::Relaxed) as f64,
            ),
            (
                "auditfwd_sink_dead_letter_brake",
                "gauge",
                "1 while the sink is treated as down because it refused batch after batch (dead-letter brake).",
                |sink| f64::from(u8::from(sink.dead_letter_brake.load(Ordering::Relaxed))),
            ),
            (
                "auditfwd_sink_up",
                "gauge",
                "1 when the sink's last delivery succeeded.",
                |sink| f64::from(u8::from(sink.up.load(Ordering::Relaxed))),
            ),
        ];
        for (name, kind, help, value) in per_sink {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for sink in &self.sinks {
                let _ = writeln!(
                    out,
                    "{name}{{sink=\"{}\"}} {}",
                    escape_label(&sink.name),
                    value(sink)
                );
            }
        }
    }
}

/// Label values escape backslash, double quote and newline.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor() -> Cursor {
        Cursor {
            system_name: "S".into(),
            receiver_library: "QGPL".into(),
            receiver_name: "R".into(),
            sequence_number: 42,
            entry_timestamp_local: None,
            entry_timestamp: None,
            signals: None,
            sessions: None,
        }
    }

    #[test]
    fn health_follows_sinks_source_and_checkpoint_age() {
        let metrics = Metrics::new(&["file:\"x\"".into()]);
        assert!(metrics.health(Duration::from_secs(60)).is_ok());
        metrics.record_retry(0, "disk full");
        let reasons = metrics.health(Duration::from_secs(60)).unwrap_err();
        assert!(reasons[0].contains("disk full"), "{reasons:?}");
        metrics.record_delivered(0, 3);
        metrics.record_source_error("connection reset");
        assert!(
            metrics.health(Duration::from_secs(60)).unwrap_err()[0].contains("connection reset")
        );
        metrics.record_source_ok(false);
        metrics.record_read(3, 0, 0);
        assert!(metrics.health(Duration::ZERO).unwrap_err()[0].contains("checkpoint"));
        metrics.record_commit(1, &cursor(), Some(now_micros()));
        metrics.record_source_ok(true);
        assert!(
            metrics.health(Duration::ZERO).is_ok(),
            "idle and caught up is healthy"
        );
    }

    #[test]
    fn render_escapes_labels_and_counts() {
        let metrics = Metrics::new(&["file:\"x\"\\y".into()]);
        metrics.record_read(10, 4, 1);
        metrics.record_delivered(0, 6);
        let text = metrics.render();
        assert!(text.contains("auditfwd_rows_read_total 10\n"), "{text}");
        assert!(
            text.contains("auditfwd_events_delivered_total{sink=\"file:\\\"x\\\"\\\\y\"} 6\n"),
            "{text}"
        );
        assert!(text.contains("auditfwd_audit_gaps_total 1\n"));
    }
}
