//! One task per sink: takes batches in order, delivers each with retry and
//! backoff, applies the permanent-error policy (stop, or dead letter with a
//! brake), and reports every acknowledgement to the dispatcher.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{error, info, warn};

use super::config::{PermanentErrorPolicy, PipelineConfig};
use super::dead_letter::DeadLetter;
use super::memory::Admitted;
use super::RunError;
use crate::event::{Cursor, Event, EventBatch};
use crate::retry::Backoff;
use crate::sink::{Encoded, ErrorKind, Pending, Sink, SinkError};
use crate::telemetry::Metrics;

/// What a sink task tells the dispatcher.
#[derive(Debug)]
pub(crate) enum Report {
    /// `sink` holds batch `batch` durably, or set it aside in the dead-letter file.
    Ack { batch: u64, sink: usize },
    /// The run must stop.
    Fatal(RunError),
}

/// Something a sink task can hand batches to: the real sinks, and scripted
/// ones in tests.
pub(crate) trait Deliver: Send + 'static {
    /// Starts delivering; the [`Pending`] completes with the acknowledgement.
    async fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError>;
    /// Sinks that resend bytes: the batch encoded once; the task then keeps
    /// that and releases the events. `None`: the task keeps the events.
    fn encode(&mut self, _batch: &EventBatch) -> Option<Result<Encoded, SinkError>> {
        None
    }
    /// Sends what `encode` made.
    async fn send(&mut self, encoded: &Encoded) -> Result<Pending, SinkError> {
        Err(Encoded::not_for_this_sink(encoded.id))
    }
    /// Hands over what a client library still buffers. Blocking.
    fn shutdown(&self, _grace: Duration) {}
    /// Failed batches are resent in batch order, one at a time with nothing
    /// else in flight, and no new batch starts before they are through: the
    /// destination keeps journal order across a failure (a file). Otherwise a
    /// failed batch is resent alone while the others go on.
    fn ordered(&self) -> bool {
        false
    }
}

impl Deliver for Sink {
    async fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError> {
        Sink::start(self, batch).await
    }

    fn encode(&mut self, batch: &EventBatch) -> Option<Result<Encoded, SinkError>> {
        Sink::encode(self, batch)
    }

    async fn send(&mut self, encoded: &Encoded) -> Result<Pending, SinkError> {
        Sink::send(self, encoded).await
    }

    fn ordered(&self) -> bool {
        matches!(self, Sink::File(_))
    }

    fn shutdown(&self, grace: Duration) {
        Sink::shutdown(self, grace);
    }
}

/// How deliveries are retried.
#[derive(Debug, Clone)]
pub(crate) struct RetryPolicy {
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a transient error counts as permanent; 0 = forever.
    pub max_attempts: u32,
}

impl RetryPolicy {
    pub(crate) fn of(pipeline: &PipelineConfig) -> RetryPolicy {
        RetryPolicy {
            initial_backoff: pipeline.retry_initial_backoff,
            max_backoff: pipeline.retry_max_backoff,
            max_attempts: pipeline.retry_max_attempts,
        }
    }
}

/// Everything one sink task needs.
pub(crate) struct SinkTask<S: Deliver = Sink> {
    pub index: usize,
    pub name: String,
    pub sink: S,
    /// Batches started and not yet acknowledged (or waiting to be resent).
    pub max_in_flight: usize,
    pub pipeline: PipelineConfig,
    pub dead_letter: Arc<DeadLetter>,
    pub stats: Arc<Metrics>,
    pub reports: mpsc::Sender<Report>,
}

/// What the task keeps of a batch until its peer acknowledges it.
enum Held {
    /// The events (and their memory permit): the sink sends from them.
    Events(Arc<Admitted>),
    /// What the sink sent, resent as the same bytes; nothing of the events.
    Encoded(Encoded),
    /// When permanent errors go to the dead-letter file: the batch as
    /// gzip-compressed native lines, one copy that serves both the file and a
    /// resend (read back and encoded again, to the same bytes: native lines
    /// round-trip through `event::wire`).
    Packed {
        id: u64,
        events: usize,
        cursor: Cursor,
        native: Vec<u8>,
    },
}

impl Held {
    fn id(&self) -> u64 {
        match self {
            Held::Events(batch) => batch.id,
            Held::Encoded(encoded) => encoded.id,
            Held::Packed { id, .. } => *id,
        }
    }

    fn events(&self) -> usize {
        match self {
            Held::Events(batch) => batch.events.len(),
            Held::Encoded(encoded) => encoded.events,
            Held::Packed { events, .. } => *events,
        }
    }

    /// The events, for the dead-letter file or to encode again.
    fn to_events(&self) -> Result<Vec<Event>, String> {
        match self {
            Held::Events(batch) => Ok(batch.events.clone()),
            Held::Encoded(encoded) => {
                Err(format!("batch {} kept no copy of its events", encoded.id))
            }
            Held::Packed { native, .. } => unpack(native),
        }
    }
}

/// The batch as native lines, gzip-compressed (fast): what an encoded batch
/// keeps when refused batches go to the dead-letter file.
fn pack(batch: &EventBatch) -> Vec<u8> {
    use std::io::Write;
    let lines = batch.to_ndjson();
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(lines.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing to memory cannot fail.
    encoder.write_all(&lines).expect("gzip into memory");
    let mut packed = encoder.finish().expect("gzip into memory");
    packed.shrink_to_fit();
    packed
}

/// The events of [`pack`]; they round-trip byte for byte (`event::wire`).
fn unpack(packed: &[u8]) -> Result<Vec<Event>, String> {
    use std::io::Read;
    let mut lines = String::new();
    flate2::read::GzDecoder::new(packed)
        .read_to_string(&mut lines)
        .map_err(|error| format!("cannot unpack a kept batch: {error}"))?;
    lines
        .lines()
        .map(crate::event::wire::parse_native)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("cannot read back a kept batch: {error}"))
}

/// A batch whose delivery failed transiently, waiting to be sent again alone.
struct Retry {
    at: Instant,
    batch: Held,
    attempt: u32,
}

/// What the task loop does next.
enum Step {
    Go,
    Stop,
}

/// The moving parts of one running task.
struct Flight {
    /// Deliveries handed to the peer: (batch, attempt, acknowledgement).
    started: JoinSet<(Held, u32, Result<(), SinkError>)>,
    retries: Vec<Retry>,
    /// A peer's `Retry-After` stops new sends for the whole sink until then.
    paused_until: Option<Instant>,
    backoff: Backoff,
    brake: Brake,
}

impl<S: Deliver> SinkTask<S> {
    /// Runs until the batch channel closes and everything started has an
    /// answer (then hands over what a client library still buffers), or until
    /// a fatal error was reported. Up to `max_in_flight` batches are started
    /// without waiting for earlier acknowledgements; each answer is reported
    /// as it comes, in any order; a batch that fails transiently is resent
    /// alone after a backoff while the others go on.
    pub(crate) async fn run(mut self, mut batches: mpsc::Receiver<Arc<Admitted>>) {
        let policy = RetryPolicy::of(&self.pipeline);
        let mut flight = Flight {
            started: JoinSet::new(),
            retries: Vec::new(),
            paused_until: None,
            backoff: Backoff::new(
                policy.initial_backoff,
                policy.max_backoff,
                self.index as u64,
            ),
            brake: Brake::new(&self.pipeline),
        };
        let mut open = true;
        let ordered = self.sink.ordered();
        loop {
            if !open && flight.started.is_empty() && flight.retries.is_empty() {
                break;
            }
            let now = Instant::now();
            let paused = flight.paused_until.is_some_and(|until| until > now);
            let busy = flight.started.len() + flight.retries.len();
            let held_back = ordered && !flight.retries.is_empty();
            let next_retry = match ordered {
                // The oldest failed batch, once nothing else is in flight.
                true if !flight.started.is_empty() => None,
                true => flight
                    .retries
                    .iter()
                    .min_by_key(|retry| retry.batch.id())
                    .map(|retry| retry.at),
                false => flight.retries.iter().map(|retry| retry.at).min(),
            };
            let wake = match (next_retry, flight.paused_until) {
                (Some(retry), Some(until)) => Some(retry.max(until)),
                (retry, _) => retry,
            };
            let step = tokio::select! {
                batch = batches.recv(), if open && !paused && !held_back && busy < self.max_in_flight => match batch {
                    Some(batch) => self.start(Held::Events(batch), 1, &policy, &mut flight).await,
                    None => {
                        open = false;
                        Step::Go
                    }
                },
                Some(done) = flight.started.join_next(), if !flight.started.is_empty() => match done {
                    Ok((batch, attempt, result)) => self.answered(batch, attempt, result, &policy, &mut flight).await,
                    // A panic inside a delivery is this task's panic: the dispatcher reports it.
                    Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                    Err(_) => Step::Stop,
                },
                () = sleep_until(wake) => {
                    let now = Instant::now();
                    let due = match ordered {
                        true => flight
                            .retries
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, retry)| retry.batch.id())
                            .filter(|(_, retry)| retry.at <= now && flight.started.is_empty())
                            .map(|(index, _)| index),
                        false => flight.retries.iter().position(|retry| retry.at <= now),
                    };
                    match due {
                        Some(due) if flight.paused_until.is_none_or(|until| until <= now) => {
                            let retry = flight.retries.swap_remove(due);
                            self.start(retry.batch, retry.attempt, &policy, &mut flight).await
                        }
                        _ => Step::Go,
                    }
                }
            };
            if let Step::Stop = step {
                return;
            }
        }
        let grace = self.pipeline.shutdown_grace;
        let sink = self.sink;
        let _ = tokio::task::spawn_blocking(move || sink.shutdown(grace)).await;
    }

    /// Hands a batch to the sink; the acknowledgement is awaited in `started`.
    /// A sink that encodes gets the batch encoded on its first start, and from
    /// then on the task keeps that instead of the events.
    async fn start(
        &mut self,
        held: Held,
        attempt: u32,
        policy: &RetryPolicy,
        flight: &mut Flight,
    ) -> Step {
        crate::failpoint::hit("sink.deliver");
        let dead_letter = self.pipeline.on_permanent_error == PermanentErrorPolicy::DeadLetter;
        // `fresh`: an encoding made for this attempt only, dropped once sent.
        let (held, fresh) = match held {
            Held::Events(batch) => match self.sink.encode(&batch) {
                None => (Held::Events(batch), None),
                // This task's share of the events goes with `batch` here.
                Some(Ok(encoded)) if dead_letter => (
                    Held::Packed {
                        id: batch.id,
                        events: batch.events.len(),
                        cursor: batch.cursor.clone(),
                        native: pack(&batch),
                    },
                    Some(encoded),
                ),
                Some(Ok(encoded)) => (Held::Encoded(encoded), None),
                Some(Err(error)) => {
                    return self
                        .answered(Held::Events(batch), attempt, Err(error), policy, flight)
                        .await
                }
            },
            Held::Packed {
                id,
                events,
                cursor,
                native,
            } => {
                let again = unpack(&native).map(|read| EventBatch {
                    id,
                    events: read,
                    rows_read: 0,
                    cursor: cursor.clone(),
                });
                let held = Held::Packed {
                    id,
                    events,
                    cursor,
                    native,
                };
                match again.map(|batch| self.sink.encode(&batch)) {
                    Ok(Some(Ok(encoded))) => (held, Some(encoded)),
                    Ok(Some(Err(error))) => {
                        return self
                            .answered(held, attempt, Err(error), policy, flight)
                            .await
                    }
                    Ok(None) | Err(_) => {
                        let failure = RunError::Internal(format!(
                            "sink {}: batch {id} could not be encoded again from its kept copy",
                            self.name
                        ));
                        return self.report(Report::Fatal(failure)).await;
                    }
                }
            }
            encoded => (encoded, None),
        };
        let started = match (&held, &fresh) {
            (_, Some(encoded)) | (Held::Encoded(encoded), None) => self.sink.send(encoded).await,
            (Held::Events(batch), None) => self.sink.start(batch).await,
            (Held::Packed { .. }, None) => unreachable!("a packed batch is encoded first"),
        };
        drop(fresh);
        match started {
            Ok(pending) => {
                flight
                    .started
                    .spawn(async move { (held, attempt, pending.await) });
                Step::Go
            }
            Err(error) => {
                self.answered(held, attempt, Err(error), policy, flight)
                    .await
            }
        }
    }

    /// One answer from the peer: report it, schedule a resend, or apply the
    /// permanent-error policy.
    async fn answered(
        &mut self,
        batch: Held,
        attempt: u32,
        result: Result<(), SinkError>,
        policy: &RetryPolicy,
        flight: &mut Flight,
    ) -> Step {
        let (index, name) = (self.index, self.name.clone());
        let error = match result {
            Ok(()) => {
                if attempt > 1 {
                    info!(sink = %name, attempts = attempt, batch = batch.id(), "delivered after retrying");
                }
                flight.brake.delivered();
                flight.backoff.reset();
                self.stats.record_dead_letter_brake(index, false);
                self.stats.record_delivered(index, batch.events());
                return self
                    .report(Report::Ack {
                        batch: batch.id(),
                        sink: index,
                    })
                    .await;
            }
            Err(error) if error.kind == ErrorKind::Transient => {
                if policy.max_attempts > 0 && attempt >= policy.max_attempts {
                    SinkError::permanent(format!(
                        "gave up after {attempt} attempts (pipeline.retry_max_attempts): {error}"
                    ))
                } else {
                    let delay = flight.backoff.next_delay_after(error.retry_after);
                    self.stats.record_retry(index, &error.message);
                    warn!(sink = %name, attempt, batch = batch.id(), retry_in = ?delay, %error, "delivery failed; retrying");
                    let at = Instant::now() + delay;
                    if error.retry_after.is_some() {
                        // The peer asked the whole sink to wait (503 busy, 429).
                        flight.paused_until = Some(at);
                    }
                    flight.retries.push(Retry {
                        at,
                        batch,
                        attempt: attempt + 1,
                    });
                    return Step::Go;
                }
            }
            Err(error) => error,
        };
        if self.pipeline.on_permanent_error == PermanentErrorPolicy::Stop {
            self.stats.record_permanent(index, &error.message, None);
            error!(sink = %name, %error, "permanent delivery error; stopping");
            let _ = self
                .reports
                .send(Report::Fatal(RunError::PermanentDelivery {
                    sink: name,
                    error,
                }))
                .await;
            return Step::Stop;
        }
        if let Some(reason) = flight.brake.engaged(self.dead_letter.size()) {
            // A sink that refuses everything is down, not a source of dead letters.
            self.stats.record_permanent(index, &error.message, None);
            self.stats.record_dead_letter_brake(index, true);
            let delay = flight.backoff.next_delay();
            error!(sink = %name, %error, retry_in = ?delay, "{reason}: the sink is treated as down and the batch is retried instead of dead-lettered");
            flight.retries.push(Retry {
                at: Instant::now() + delay,
                batch,
                attempt: attempt + 1,
            });
            return Step::Go;
        }
        let events = match batch.to_events() {
            Ok(events) => events,
            Err(failure) => {
                return self
                    .report(Report::Fatal(RunError::Internal(format!(
                        "sink {name}: {failure}"
                    ))))
                    .await
            }
        };
        let count = events.len();
        let dead_letter = self.dead_letter.clone();
        let (sink_name, error_for_file) = (name.clone(), error.clone());
        let written = tokio::task::spawn_blocking(move || {
            dead_letter.write(&sink_name, &error_for_file, &events)
        })
        .await;
        let report = match written {
            Ok(Ok(())) => {
                flight.brake.dead_lettered();
                self.stats
                    .record_permanent(index, &error.message, Some(count));
                error!(sink = %name, %error, events = count, path = %self.dead_letter.path().display(), "permanent delivery error; batch written to the dead-letter file");
                Report::Ack {
                    batch: batch.id(),
                    sink: index,
                }
            }
            Ok(Err(failure)) => Report::Fatal(RunError::DeadLetter {
                sink: name,
                source: failure,
            }),
            Err(join) => Report::Fatal(RunError::Internal(format!(
                "the dead-letter writer of sink {name} failed: {join}"
            ))),
        };
        self.report(report).await
    }

    async fn report(&mut self, report: Report) -> Step {
        let fatal = matches!(report, Report::Fatal(_));
        if self.reports.send(report).await.is_err() || fatal {
            Step::Stop
        } else {
            Step::Go
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The dead-letter brake: dead letters are for the odd poisoned batch. After
/// `dead_letter_max_consecutive` batches in a row, or once the file reaches
/// `dead_letter_max_bytes`, the sink counts as down until a delivery succeeds.
#[derive(Debug)]
pub(crate) struct Brake {
    max_consecutive: u32,
    max_bytes: u64,
    consecutive: u32,
}

impl Brake {
    pub(crate) fn new(pipeline: &PipelineConfig) -> Brake {
        Brake {
            max_consecutive: pipeline.dead_letter_max_consecutive,
            max_bytes: pipeline.dead_letter_max_bytes,
            consecutive: 0,
        }
    }

    pub(crate) fn delivered(&mut self) {
        self.consecutive = 0;
    }

    pub(crate) fn dead_lettered(&mut self) {
        self.consecutive = self.consecutive.saturating_add(1);
    }

    /// Why the next refused batch must not be dead-lettered, if it must not.
    pub(crate) fn engaged(&self, file_bytes: u64) -> Option<String> {
        if self.max_consecutive > 0 && self.consecutive >= self.max_consecutive {
            return Some(format!(
                "{} batches in a row were dead-lettered (pipeline.dead_letter_max_consecutive)",
                self.consecutive
            ));
        }
        if self.max_bytes > 0 && file_bytes >= self.max_bytes {
            return Some(format!(
                "the dead-letter file holds {file_bytes} bytes (pipeline.dead_letter_max_bytes = {})",
                self.max_bytes
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests;
