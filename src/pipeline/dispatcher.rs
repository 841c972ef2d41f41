//! The dispatcher loop: takes batches from the reader, enriches them, hands
//! them to every sink task, records acknowledgements in the ledger and commits
//! what every sink holds. It also watches the reader (through its channel)
//! and the run's tasks (through the supervisor): any unexpected end or panic
//! stops the run with an internal error, and the systemd watchdog is fed only
//! while the reader is not stuck in a poll.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::ledger::{Commit, Ledger};
use super::memory::{Admitted, Growing, Permit, Permits};
use super::sink_task::Report;
use super::supervisor::Supervisor;
use super::{Outcome, RunError};
use crate::checkpoint::CheckpointStore;
use crate::enrich::{Enricher, Filter};
use crate::source::{ReaderHeartbeat, SourceMessage};
use crate::telemetry::notify::Notifier;
use crate::telemetry::Metrics;

/// Everything the loop owns.
pub(crate) struct Dispatcher {
    pub store: Arc<CheckpointStore>,
    pub stats: Arc<Metrics>,
    pub notifier: Notifier,
    pub ledger: Ledger,
    /// Reported as an `audit_gap` at the head of the first batch.
    pub lost_checkpoint: Option<crate::checkpoint::LostCheckpoint>,
    pub source: mpsc::Receiver<SourceMessage>,
    pub stop_reader: Arc<crate::source::StopSignal>,
    pub heartbeat: Arc<ReaderHeartbeat>,
    /// A poll running longer than this means the reader is stuck.
    pub wedge_limit: Duration,
    pub sink_senders: Vec<mpsc::Sender<Arc<Admitted>>>,
    pub reports: mpsc::Receiver<Report>,
    /// The sink tasks and the run's other tasks and threads.
    pub supervisor: Supervisor,
    pub enricher: Enricher,
    pub filter: Filter,
    /// In a fleet: the registry of which source reads which SYSTEM_NAME, and
    /// this source's name; `None` once this source's system is claimed.
    pub systems: Option<(Arc<super::systems::SystemRegistry>, String)>,
    /// For a source that starts without a checkpoint: the other checkpoints
    /// under the state directory, checked against the first entry's system.
    pub elsewhere: Option<Elsewhere>,
    /// The `signon_failure_burst` signal, when enabled and PW is read.
    pub burst: Option<crate::enrich::burst::BurstDetector>,
    /// Sessions derived from the JS entries, when enabled and JS is read.
    pub sessions: Option<crate::enrich::sessions::SessionTracker>,
    pub max_in_flight: usize,
    /// The room for batches whose events are alive (in a sink's channel, or
    /// kept by a sink that resends from events): a batch is read only with a
    /// permit, fitted to its events once enriched, which its events release.
    pub permits: Permits,
    pub grace: Duration,
    pub summary_interval: Duration,
}

/// What the loop knows about the run so far.
#[derive(Default)]
struct State {
    source_open: bool,
    source_finished: bool,
    shutdown_seen: bool,
    draining_since: Option<Instant>,
    ready_sent: bool,
    wedge_reported: bool,
    /// The checkpoint write running on a blocking thread, at most one. The loop
    /// goes on meanwhile; acknowledgements that arrive during it are committed
    /// together by the next one (group commit).
    committing: Option<Committing>,
    /// The memory permit for the next batch, once taken: it goes with the
    /// batch read next.
    permit: Option<Permit>,
    /// Taking that permit: kept across turns of the loop, so the wait keeps
    /// its place in the queue (a fleet's pool serves waiters in order).
    acquiring: Option<std::pin::Pin<Box<dyn Future<Output = Permit> + Send>>>,
    /// A batch read and enriched with more events than its permit held,
    /// waiting for room for the rest before it goes to the sinks (nothing
    /// more is read meanwhile). Not in the ledger yet: a shutdown drops it,
    /// to be read again at the next start.
    admitting: Option<(Enriched, Growing)>,
}

/// A batch enriched, before the ledger and the sinks have it.
struct Enriched {
    events: Vec<crate::event::Event>,
    rows_read: usize,
    cursor: crate::event::Cursor,
    newest_entry_micros: Option<i64>,
}

/// A checkpoint write under way.
struct Committing {
    task: tokio::task::JoinHandle<Result<(), crate::checkpoint::CheckpointError>>,
    commit: Commit,
}

impl State {
    /// Batches taken from the ledger whose checkpoint is not yet on disk.
    fn committing_batches(&self) -> usize {
        self.committing
            .as_ref()
            .map_or(0, |committing| committing.commit.batches)
    }
}

impl Dispatcher {
    /// Runs until drained, shut down, or failed. Leaves the sink tasks to the caller.
    pub(crate) async fn run(
        &mut self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<Outcome, RunError> {
        let mut state = State {
            source_open: true,
            ..State::default()
        };
        let mut summary = tokio::time::interval(self.summary_interval);
        summary.tick().await;
        let watchdog_interval = self.notifier.watchdog_interval();
        let mut watchdog =
            tokio::time::interval(watchdog_interval.unwrap_or(Duration::from_secs(3600)));
        let mut reports_open = true;
        tokio::pin!(shutdown);

        loop {
            if !state.source_open && self.ledger.is_empty() && state.committing.is_none() {
                return Ok(Outcome::Drained);
            }
            // Batches being committed still count: they are not on disk yet.
            let in_flight = self.ledger.len() + state.committing_batches();
            // Sinks that encode release a batch's events once sent; the others
            // keep them until acknowledged. Reading waits for a permit, which
            // the last share of a batch's events gives back.
            let deadline = state.draining_since.map(|since| since + self.grace);
            tokio::select! {
                () = &mut shutdown, if !state.shutdown_seen => self.begin_shutdown(&mut state),
                permit = acquired(&mut state.acquiring, &self.permits), if state.source_open && in_flight < self.max_in_flight && state.permit.is_none() && state.admitting.is_none() => {
                    state.permit = Some(permit);
                }
                (enriched, permit) = grown(&mut state.admitting), if state.admitting.is_some() => {
                    self.dispatch(enriched, permit).await;
                }
                message = self.source.recv(), if state.source_open && in_flight < self.max_in_flight && state.permit.is_some() => {
                    self.on_source(message, &mut state).await?;
                }
                report = self.reports.recv(), if reports_open => match report {
                    Some(report) => self.on_report(report, &mut state)?,
                    // Every task has ended: `join_next` says how.
                    None => reports_open = false,
                },
                ended = self.supervisor.next_end() => self.on_task_end(ended?, &mut state)?,
                written = committed(&mut state.committing), if state.committing.is_some() => {
                    self.on_committed(written, &mut state)?;
                }
                () = sleep_until(deadline) => {
                    if state.committing.is_some() {
                        // Delivered and being written: let the write finish (milliseconds).
                        let written = committed(&mut state.committing).await;
                        let _ = self.record_committed(written);
                    }
                    warn!(undelivered = self.ledger.len(), "shutdown grace expired; undelivered batches will be read again at the next start");
                    return Ok(Outcome::GraceExpired { undelivered_batches: self.ledger.len() });
                }
                _ = summary.tick() => {
                    let line = self.stats.summary();
                    info!("summary: {line}");
                    self.notifier.status(&line);
                }
                _ = watchdog.tick(), if watchdog_interval.is_some() => self.feed_watchdog(&mut state),
            }
            if self.supervisor.workers() == 0
                && !reports_open
                && !self.ledger.is_empty()
                && state.committing.is_none()
            {
                return Err(RunError::Internal(format!(
                    "every sink task has ended with {} batches undelivered",
                    self.ledger.len()
                )));
            }
        }
    }

    fn begin_shutdown(&mut self, state: &mut State) {
        state.shutdown_seen = true;
        self.notifier.stopping();
        info!(in_flight_batches = self.ledger.len(), grace = ?self.grace, "shutdown requested: no more reading; draining in-flight batches");
        self.stop_reading();
        while self.source.try_recv().is_ok() {}
        state.admitting = None;
        state.source_open = false;
        self.sink_senders.clear();
        state.draining_since = Some(Instant::now());
    }

    /// Tells the reader to stop; closing its channel unblocks a reader
    /// waiting to send.
    pub(crate) fn stop_reading(&mut self) {
        self.stop_reader.set();
        self.source.close();
    }

    async fn on_source(
        &mut self,
        message: Option<SourceMessage>,
        state: &mut State,
    ) -> Result<(), RunError> {
        match message {
            Some(SourceMessage::Rows(batch)) => {
                let permit = state.permit.take().expect("read only with a permit");
                let rows = batch.rows.len();
                let enriched = self.on_rows(batch)?;
                match self.permits.fit(permit, enriched.events.len(), rows) {
                    Ok(permit) => self.dispatch(enriched, permit).await,
                    Err(growing) => state.admitting = Some((enriched, growing)),
                }
            }
            Some(SourceMessage::PrivilegedProfiles(profiles)) => {
                self.enricher.set_system_privileged(profiles);
                self.stats
                    .record_system_privileged(self.enricher.system_privileged_count());
            }
            Some(SourceMessage::Started) => {
                if !state.ready_sent {
                    state.ready_sent = true;
                    self.notifier.ready();
                    self.notifier.status("started; reading the journal");
                }
            }
            Some(SourceMessage::CaughtUp) => {
                info!(
                    read_rows = self.stats.rows_read(),
                    "caught up with the journal"
                );
            }
            Some(SourceMessage::Finished) => {
                state.source_finished = true;
            }
            Some(SourceMessage::Failed(error)) => return Err(RunError::SourceFailed(error)),
            Some(SourceMessage::Panicked(message)) => {
                error!(panic = %message, "the source reader panicked");
                return Err(RunError::Internal(format!(
                    "the source reader panicked: {message}"
                )));
            }
            None => {
                if !state.source_finished {
                    return Err(RunError::Internal(
                        "the source reader ended without saying why".into(),
                    ));
                }
                state.source_open = false;
                self.sink_senders.clear();
                info!("source finished; delivering what is in flight");
            }
        }
        Ok(())
    }

    /// A batch of rows: the system checks at the first entry, then enrich.
    fn on_rows(&mut self, batch: crate::source::RowBatch) -> Result<Enriched, RunError> {
        if let Some(row) = batch.rows.iter().find(|row| row.notice.is_none()) {
            if let Some((registry, source)) = self.systems.take() {
                registry
                    .claim(&row.system_name, &source)
                    .map_err(RunError::DuplicateSystem)?;
            }
            if let Some(elsewhere) = self.elsewhere.take() {
                elsewhere
                    .check(&row.system_name)
                    .map_err(RunError::CheckpointElsewhere)?;
            }
        }
        let rows_read = batch.rows.len();
        let gap = self
            .lost_checkpoint
            .take()
            .map(|lost| lost.audit_gap_row(batch.rows.first(), &batch.cursor));
        // Room for a session event per entry besides its own (the simulator's
        // mix makes 1.5 events per entry): growing it copied every event.
        let mut events: Vec<_> = Vec::with_capacity(2 * rows_read + 1);
        events.extend(gap.map(|row| self.enricher.enrich_owned(row)));
        let (kept, newest_entry_micros) = self.enrich(batch.rows, &mut events);
        let mut cursor = batch.cursor;
        if let Some(burst) = &self.burst {
            // The signal's memory is committed with the position it belongs to.
            cursor.signals = Some(burst.snapshot());
        }
        if let Some(sessions) = &mut self.sessions {
            // So is the session table's, as the changes this batch made.
            cursor.sessions = Some(Arc::new(sessions.take_changes()));
            self.stats
                .record_sessions(&sessions.take_tallies(), sessions.open_by_method());
        }
        let gaps = events
            .iter()
            .filter(|event| event.event_action == "audit_gap")
            .count();
        self.stats.record_read(rows_read, rows_read - kept, gaps);
        Ok(Enriched {
            events,
            rows_read,
            cursor,
            newest_entry_micros,
        })
    }

    /// A batch with room for its events: register it in the ledger and hand
    /// it to every sink task.
    async fn dispatch(&mut self, enriched: Enriched, permit: Permit) {
        let Enriched {
            events,
            rows_read,
            cursor,
            newest_entry_micros,
        } = enriched;
        let id = self.ledger.register(cursor.clone(), newest_entry_micros);
        let batch = Arc::new(Admitted::new(
            crate::event::EventBatch {
                id,
                events,
                rows_read,
                cursor,
            },
            Some(permit),
        ));
        debug!(batch = id, rows = rows_read, events = batch.events.len(), cursor = %batch.cursor, "batch read");
        for sender in &self.sink_senders {
            // Capacity equals the in-flight bound, so this never waits long;
            // a closed channel means the task ended, which the supervisor reports.
            let _ = sender.send(batch.clone()).await;
        }
    }

    /// Every row through the session tracker, the filter, the enricher and
    /// the burst signal, in stream order, onto `events`. Returns the rows the
    /// filter kept and the newest kept entry's time.
    fn enrich(
        &mut self,
        rows: Vec<crate::event::JournalRow>,
        events: &mut Vec<crate::event::Event>,
    ) -> (usize, Option<i64>) {
        let mut newest_entry_micros = None;
        let mut kept = 0;
        // One buffer for every entry's session events (a Vec per entry showed).
        let mut derived = Vec::new();
        for row in rows {
            // Sessions see every entry, before the filter; their
            // events follow the entry (forwarded or not) in its place.
            if let Some(sessions) = &mut self.sessions {
                sessions.observe_into(&row, &self.enricher, &mut derived);
            }
            if self.filter.accepts(&row) {
                kept += 1;
                if row.notice.is_none() {
                    newest_entry_micros = Some(row.entry_timestamp.timestamp_micros());
                }
                let event = self.enricher.enrich_owned(row);
                let signals = match &mut self.burst {
                    Some(burst) => burst.observe(&event),
                    None => Vec::new(),
                };
                events.push(event);
                events.extend(signals);
            }
            events.append(&mut derived);
        }
        (kept, newest_entry_micros)
    }

    fn on_report(&mut self, report: Report, state: &mut State) -> Result<(), RunError> {
        match report {
            Report::Ack { batch, sink } => {
                self.ledger
                    .acknowledge(batch, sink)
                    .map_err(|error| RunError::Internal(error.to_string()))?;
                self.start_commit(state);
                Ok(())
            }
            Report::Fatal(error) => Err(error),
        }
    }

    /// Starts writing the longest fully acknowledged prefix (flushed) on a
    /// blocking thread, unless a write is already under way: then the prefix
    /// waits for it and goes in the next write, with whatever joined it.
    fn start_commit(&mut self, state: &mut State) {
        if state.committing.is_some() {
            return;
        }
        let Some(commit) = self.ledger.take_committable() else {
            return;
        };
        let store = self.store.clone();
        let cursor = commit.cursor.clone();
        let sessions = commit.sessions.clone();
        state.committing = Some(Committing {
            task: tokio::task::spawn_blocking(move || {
                store.commit_with_sessions(&cursor, &sessions)
            }),
            commit,
        });
    }

    /// A checkpoint write ended: count it, and start the next if more is ready.
    fn on_committed(&mut self, written: Written, state: &mut State) -> Result<(), RunError> {
        self.record_committed(written)?;
        self.start_commit(state);
        Ok(())
    }

    fn record_committed(&mut self, written: Written) -> Result<(), RunError> {
        let (result, commit) = written;
        result.map_err(|error| {
            RunError::Internal(format!("the checkpoint writer failed: {error}"))
        })??;
        self.stats
            .record_commit(commit.batches, &commit.cursor, commit.newest_entry_micros);
        debug!(cursor = %commit.cursor, batches = commit.batches, "checkpoint committed");
        Ok(())
    }

    /// A sink task ended by itself. Only an orderly end after its channel
    /// closed is expected (panics and other ends are the supervisor's).
    fn on_task_end(&mut self, name: String, state: &mut State) -> Result<(), RunError> {
        // A task that reported a fatal error ends right after: report that.
        while let Ok(report) = self.reports.try_recv() {
            self.on_report(report, state)?;
        }
        if state.source_open {
            Err(RunError::Internal(format!(
                "{name} ended while the source was still open"
            )))
        } else {
            Ok(())
        }
    }

    fn feed_watchdog(&mut self, state: &mut State) {
        match self.heartbeat.in_poll_for() {
            Some(running) if running > self.wedge_limit => {
                if !state.wedge_reported {
                    state.wedge_reported = true;
                    error!(poll_running_for = ?running, limit = ?self.wedge_limit, "the source reader is stuck in a poll; withholding watchdog pings so systemd restarts the daemon");
                }
            }
            _ => {
                if state.wedge_reported {
                    state.wedge_reported = false;
                    info!("the source reader is moving again; watchdog pings resume");
                }
                self.notifier.watchdog();
            }
        }
    }
}

/// How a checkpoint write ended, with what it wrote.
type Written = (
    Result<Result<(), crate::checkpoint::CheckpointError>, tokio::task::JoinError>,
    Commit,
);

/// Waits for the checkpoint write under way (there must be one). Cancel-safe:
/// when another branch wins, the write stays in `committing`.
async fn committed(committing: &mut Option<Committing>) -> Written {
    let running = committing.as_mut().expect("a commit is under way");
    let result = (&mut running.task).await;
    let done = committing.take().expect("a commit is under way");
    (result, done.commit)
}

/// The next memory permit, through the wait kept in `acquiring` (started
/// when there is none). Cancel-safe: when another branch wins, the wait stays.
async fn acquired(
    acquiring: &mut Option<std::pin::Pin<Box<dyn Future<Output = Permit> + Send>>>,
    permits: &Permits,
) -> Permit {
    let waiting = acquiring.get_or_insert_with(|| Box::pin(permits.acquire()));
    let permit = waiting.as_mut().await;
    *acquiring = None;
    permit
}

/// The batch waiting for room for its events, with its permit once there is
/// (there must be one waiting). Cancel-safe: when another branch wins, the
/// wait stays.
async fn grown(admitting: &mut Option<(Enriched, Growing)>) -> (Enriched, Permit) {
    let (_, growing) = admitting.as_mut().expect("a batch is waiting for room");
    let permit = growing.as_mut().await;
    let (enriched, _) = admitting.take().expect("a batch is waiting for room");
    (enriched, permit)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The checkpoints of other names under the state directory, for a source
/// that starts without one of its own.
pub(crate) struct Elsewhere {
    pub stores: Vec<crate::checkpoint::FoundStore>,
    /// The state directory the checkpoint names are relative to.
    pub root: std::path::PathBuf,
    /// This source's checkpoint name (`.` for a single `[source]`).
    pub name: String,
}

impl Elsewhere {
    /// An error when another checkpoint already follows `system`: starting
    /// over would skip (start_at = "now") or repeat what that one holds.
    pub(crate) fn check(&self, system: &str) -> Result<(), String> {
        match self
            .stores
            .iter()
            .find(|store| store.marker.system_name.as_deref() == Some(system))
        {
            None => Ok(()),
            Some(store) => Err(format!(
                "this source (checkpoint name {:?}) has no checkpoint yet, but the IBM i it reads (SYSTEM_NAME {system}) is already followed by the checkpoint in {}: a renamed source, [source] moved to [[sources]], or a second name for one system. Nothing was delivered. If this source replaces that one, give it the position with `auditfwd checkpoint move -c <config> --from {} --to {}` (the daemon stopped); if that checkpoint is stale, delete {}",
                self.name,
                store.describe(&self.root),
                store.name(&self.root),
                self.name,
                store.dir.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests;
