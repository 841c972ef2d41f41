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
        Sink::shutdown(self, grace)
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
    pub fn of(pipeline: &PipelineConfig) -> RetryPolicy {
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
    /// The events: the sink sends from them.
    Events(Arc<EventBatch>),
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
    pub async fn run(mut self, mut batches: mpsc::Receiver<Arc<EventBatch>>) {
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
    pub fn new(pipeline: &PipelineConfig) -> Brake {
        Brake {
            max_consecutive: pipeline.dead_letter_max_consecutive,
            max_bytes: pipeline.dead_letter_max_bytes,
            consecutive: 0,
        }
    }

    pub fn delivered(&mut self) {
        self.consecutive = 0;
    }

    pub fn dead_lettered(&mut self) {
        self.consecutive = self.consecutive.saturating_add(1);
    }

    /// Why the next refused batch must not be dead-lettered, if it must not.
    pub fn engaged(&self, file_bytes: u64) -> Option<String> {
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
mod tests {
    use super::*;
    use crate::event::Cursor;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    /// Answers each start from a script: an immediate error, or an
    /// acknowledgement after a delay (or a failure after a delay).
    #[derive(Clone, Debug)]
    enum Answer {
        Refuse(SinkError),
        AckAfter(u64),
        FailAfter(u64, SinkError),
    }

    /// What a scripted start or send returns; acknowledged at once when the
    /// script has run out.
    fn answer(next: Option<Answer>) -> Result<Pending, SinkError> {
        match next.unwrap_or(Answer::AckAfter(0)) {
            Answer::Refuse(error) => Err(error),
            Answer::AckAfter(millis) => Ok(Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                Ok(())
            })),
            Answer::FailAfter(millis, error) => Ok(Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                Err(error)
            })),
        }
    }

    struct Scripted {
        answers: VecDeque<Answer>,
        /// (batch id, time of start) of every start.
        starts: Arc<Mutex<Vec<(u64, Instant)>>>,
        ordered: bool,
    }

    impl Deliver for Scripted {
        async fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError> {
            self.starts.lock().unwrap().push((batch.id, Instant::now()));
            answer(self.answers.pop_front())
        }

        fn ordered(&self) -> bool {
            self.ordered
        }
    }

    fn batch(id: u64) -> Arc<EventBatch> {
        Arc::new(EventBatch {
            id,
            events: Vec::new(),
            rows_read: 0,
            cursor: Cursor {
                system_name: "S".into(),
                receiver_library: "L".into(),
                receiver_name: "R".into(),
                sequence_number: id,
                entry_timestamp_local: None,
                entry_timestamp: None,
                signals: None,
                sessions: None,
            },
        })
    }

    fn busy(after: Option<u64>) -> SinkError {
        let mut error = SinkError::transient("busy");
        error.retry_after = after.map(Duration::from_secs);
        error
    }

    struct Run {
        acks: Vec<(u64, Instant)>,
        fatal: Option<String>,
        starts: Vec<(u64, Instant)>,
        began: Instant,
    }

    /// Feeds `batches` batches to a task over `answers` and collects the reports.
    async fn run(
        answers: Vec<Answer>,
        batches: u64,
        max_in_flight: usize,
        pipeline: PipelineConfig,
    ) -> Run {
        run_sink(answers, batches, max_in_flight, pipeline, false).await
    }

    async fn run_sink(
        answers: Vec<Answer>,
        batches: u64,
        max_in_flight: usize,
        pipeline: PipelineConfig,
        ordered: bool,
    ) -> Run {
        let began = Instant::now();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let (report_sender, mut reports) = mpsc::channel(64);
        let (batch_sender, batch_receiver) = mpsc::channel(64);
        let directory = tempfile::tempdir().unwrap();
        let task = SinkTask {
            index: 0,
            name: "scripted".into(),
            sink: Scripted {
                answers: answers.into(),
                starts: starts.clone(),
                ordered,
            },
            max_in_flight,
            pipeline,
            dead_letter: Arc::new(DeadLetter::new(&directory.path().join("dead.ndjson"))),
            stats: Arc::new(Metrics::new(&["scripted".to_owned()])),
            reports: report_sender,
        };
        let handle = tokio::spawn(task.run(batch_receiver));
        for id in 0..batches {
            batch_sender.send(batch(id)).await.unwrap();
        }
        drop(batch_sender);
        let mut acks = Vec::new();
        let mut fatal = None;
        while let Some(report) = reports.recv().await {
            match report {
                Report::Ack { batch, .. } => acks.push((batch, Instant::now())),
                Report::Fatal(error) => fatal = Some(error.to_string()),
            }
        }
        handle.await.unwrap();
        let starts = starts.lock().unwrap().clone();
        Run {
            acks,
            fatal,
            starts,
            began,
        }
    }

    fn pipeline() -> PipelineConfig {
        PipelineConfig {
            retry_initial_backoff: Duration::from_secs(1),
            retry_max_backoff: Duration::from_secs(8),
            ..PipelineConfig::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn batches_in_flight_hide_the_acknowledgement_latency() {
        // Eight batches, each acknowledged 2 s after it was sent, four at a time.
        let answers = vec![Answer::AckAfter(2000); 8];
        let result = run(answers, 8, 4, pipeline()).await;
        assert_eq!(result.acks.len(), 8);
        let last = result.acks.iter().map(|(_, at)| *at).max().unwrap();
        // Two waves of 2 s, not eight.
        assert_eq!(last - result.began, Duration::from_secs(4));
        let in_first_wave = result
            .starts
            .iter()
            .filter(|(_, at)| *at == result.began)
            .count();
        assert_eq!(in_first_wave, 4, "never more than max_in_flight at once");
    }

    #[tokio::test(start_paused = true)]
    async fn an_ordered_sink_resends_failed_batches_in_order_before_any_new_one() {
        // Four in flight; 2 then 1 fail while 0 and 3 are still in flight.
        let failed = || SinkError::transient("disk full");
        let answers = vec![
            Answer::AckAfter(300),
            Answer::FailAfter(150, failed()),
            Answer::FailAfter(100, failed()),
            Answer::AckAfter(350),
        ];
        let result = run_sink(answers, 6, 4, pipeline(), true).await;
        let started: Vec<u64> = result.starts.iter().map(|(batch, _)| *batch).collect();
        // 4 and 5 wait until 1 and 2 are through; 1 goes again before 2.
        assert_eq!(started, [0, 1, 2, 3, 1, 2, 4, 5]);
        let order: Vec<u64> = result.acks.iter().map(|(batch, _)| *batch).collect();
        assert_eq!(order, [0, 3, 1, 2, 4, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn acknowledgements_are_reported_in_the_order_they_come() {
        let answers = vec![
            Answer::AckAfter(3000),
            Answer::AckAfter(1000),
            Answer::AckAfter(2000),
        ];
        let result = run(answers, 3, 3, pipeline()).await;
        let order: Vec<u64> = result.acks.iter().map(|(batch, _)| *batch).collect();
        assert_eq!(order, [1, 2, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_batch_is_resent_alone_while_the_others_are_acknowledged() {
        let answers = vec![
            Answer::AckAfter(100),
            Answer::FailAfter(100, busy(None)),
            Answer::AckAfter(100),
            Answer::AckAfter(100),
        ];
        let result = run(answers, 3, 3, pipeline()).await;
        let started: Vec<u64> = result.starts.iter().map(|(batch, _)| *batch).collect();
        assert_eq!(started, [0, 1, 2, 1], "only batch 1 was sent again");
        let order: Vec<u64> = result.acks.iter().map(|(batch, _)| *batch).collect();
        assert_eq!(order, [0, 2, 1]);
        // The resend waited for the backoff: [0.5 s, 1 s] after the failure.
        let resent = result.starts[3].1 - result.began;
        assert!(
            resent >= Duration::from_millis(600) && resent <= Duration::from_millis(1100),
            "{resent:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_pauses_the_whole_sink_up_to_the_maximum_backoff() {
        let answers = vec![
            Answer::Refuse(busy(Some(5))),
            Answer::AckAfter(0),
            Answer::AckAfter(0),
        ];
        let result = run(answers, 2, 4, pipeline()).await;
        // Batch 0 was refused at t=0 with Retry-After 5 s: nothing else was sent
        // before t=5 s, although batch 1 was waiting and there was room.
        let after_refusal: Vec<Duration> = result.starts[1..]
            .iter()
            .map(|(_, at)| *at - result.began)
            .collect();
        assert!(
            after_refusal.iter().all(|at| *at >= Duration::from_secs(5)),
            "{after_refusal:?}"
        );
        assert_eq!(result.acks.len(), 2);

        let answers = vec![Answer::Refuse(busy(Some(31_536_000))), Answer::AckAfter(0)];
        let result = run(answers, 1, 4, pipeline()).await;
        assert_eq!(
            result.starts[1].1 - result.began,
            Duration::from_secs(8),
            "a year-long Retry-After is capped at retry_max_backoff"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_back_off_exponentially_until_delivered() {
        let answers = vec![
            Answer::Refuse(busy(None)),
            Answer::Refuse(busy(None)),
            Answer::Refuse(busy(None)),
            Answer::Refuse(busy(None)),
            Answer::AckAfter(0),
        ];
        let result = run(answers, 1, 1, pipeline()).await;
        let gaps: Vec<Duration> = result
            .starts
            .windows(2)
            .map(|pair| pair[1].1 - pair[0].1)
            .collect();
        for (gap, bound) in gaps.iter().zip([1, 2, 4, 8]) {
            let bound = Duration::from_secs(bound);
            assert!(*gap >= bound / 2 && *gap <= bound, "{gap:?} vs {bound:?}");
        }
        assert_eq!(result.acks.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_stop_and_exhausted_attempts_are_permanent() {
        let answers = vec![Answer::Refuse(SinkError::permanent("403"))];
        let result = run(answers, 1, 2, pipeline()).await;
        assert!(result.acks.is_empty());
        assert!(result.fatal.unwrap().contains("403"));

        let config = PipelineConfig {
            retry_max_attempts: 3,
            ..pipeline()
        };
        let answers = vec![Answer::Refuse(busy(None)); 3];
        let result = run(answers, 1, 1, config).await;
        assert_eq!(result.starts.len(), 3);
        assert!(result.fatal.unwrap().contains("gave up after 3 attempts"));
    }

    /// Encodes each batch to its event ids, one body, and answers each send
    /// from a script; records every body sent.
    struct Encoding {
        answers: VecDeque<Answer>,
        sent: Arc<Mutex<Vec<(u64, bytes::Bytes)>>>,
    }

    impl Deliver for Encoding {
        async fn start(&mut self, _batch: &EventBatch) -> Result<Pending, SinkError> {
            panic!("an encoding sink is sent its encoded batches")
        }

        fn encode(&mut self, batch: &EventBatch) -> Option<Result<Encoded, SinkError>> {
            let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id.as_str()).collect();
            Some(Ok(Encoded {
                id: batch.id,
                events: batch.events.len(),
                bodies: vec![bytes::Bytes::from(ids.join("\n"))],
            }))
        }

        async fn send(&mut self, encoded: &Encoded) -> Result<Pending, SinkError> {
            let mut sent = self.sent.lock().unwrap();
            sent.extend(encoded.bodies.iter().map(|body| (encoded.id, body.clone())));
            answer(self.answers.pop_front())
        }
    }

    fn batch_of_events(id: u64, count: u32) -> Arc<EventBatch> {
        let enricher = crate::enrich::Enricher::default();
        let mut batch = Arc::into_inner(batch(id)).unwrap();
        batch.events = (0..count)
            .map(|index| {
                let mut row = crate::enrich::tests::row("S", "INT", "QPADEV0001", Some("JSMITH"));
                row.sequence_number = u64::from(index) + 1;
                enricher.enrich(&row)
            })
            .collect();
        Arc::new(batch)
    }

    /// Runs one encoding task over `batches`, checking between answers
    /// whether any batch's events are still alive.
    async fn run_encoding(
        answers: Vec<Answer>,
        batches: Vec<Arc<EventBatch>>,
        pipeline: PipelineConfig,
        dead_letter: &std::path::Path,
    ) -> (Vec<(u64, bytes::Bytes)>, Vec<u64>, Option<String>, bool) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (report_sender, mut reports) = mpsc::channel(64);
        let (batch_sender, batch_receiver) = mpsc::channel(64);
        let task = SinkTask {
            index: 0,
            name: "encoding".into(),
            sink: Encoding {
                answers: answers.into(),
                sent: sent.clone(),
            },
            max_in_flight: 4,
            pipeline,
            dead_letter: Arc::new(DeadLetter::new(dead_letter)),
            stats: Arc::new(Metrics::new(&["encoding".to_owned()])),
            reports: report_sender,
        };
        let handle = tokio::spawn(task.run(batch_receiver));
        let alive: Vec<_> = batches.iter().map(Arc::downgrade).collect();
        for batch in batches {
            batch_sender.send(batch).await.unwrap();
        }
        drop(batch_sender);
        // Every batch is sent by now and none is acknowledged (the script's
        // first answers come later): what the task keeps are the bodies.
        tokio::time::sleep(Duration::from_millis(10)).await;
        let released = alive.iter().all(|batch| batch.upgrade().is_none());
        let (mut acks, mut fatal) = (Vec::new(), None);
        while let Some(report) = reports.recv().await {
            match report {
                Report::Ack { batch, .. } => acks.push(batch),
                Report::Fatal(error) => fatal = Some(error.to_string()),
            }
        }
        handle.await.unwrap();
        let sent = sent.lock().unwrap().clone();
        (sent, acks, fatal, released)
    }

    #[tokio::test(start_paused = true)]
    async fn an_encoding_sink_keeps_its_bodies_not_the_events_and_resends_the_same_bytes() {
        // With the dead-letter policy the task keeps the events packed instead
        // of the bodies, and encodes them again for the resend: same bytes.
        for policy in [PermanentErrorPolicy::Stop, PermanentErrorPolicy::DeadLetter] {
            let directory = tempfile::tempdir().unwrap();
            let answers = vec![
                Answer::AckAfter(300),
                Answer::FailAfter(100, busy(None)),
                Answer::AckAfter(200),
                Answer::AckAfter(0),
            ];
            let batches = (0..3).map(|id| batch_of_events(id, 5)).collect();
            let config = PipelineConfig {
                on_permanent_error: policy,
                ..pipeline()
            };
            let (sent, acks, fatal, released) = run_encoding(
                answers,
                batches,
                config,
                &directory.path().join("dead.ndjson"),
            )
            .await;
            assert!(
                released,
                "{policy:?}: the events of batches in flight were released"
            );
            assert_eq!(fatal, None);
            assert_eq!(acks, [2, 0, 1]);
            let resent: Vec<_> = sent.iter().filter(|(id, _)| *id == 1).collect();
            assert_eq!(resent.len(), 2, "batch 1 was sent twice");
            assert_eq!(
                resent[0].1, resent[1].1,
                "{policy:?}: the same bytes both times"
            );
            assert!(resent[0].1.len() > 10);
            assert_eq!(sent.len(), 4, "only batch 1 was sent again");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_encoded_batch_refused_for_good_reaches_the_dead_letter_file_whole() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("dead.ndjson");
        let config = PipelineConfig {
            on_permanent_error: PermanentErrorPolicy::DeadLetter,
            ..pipeline()
        };
        let batch = batch_of_events(7, 4);
        let expected: Vec<serde_json::Value> = batch
            .events
            .iter()
            .map(|event| serde_json::to_value(event).unwrap())
            .collect();
        let answers = vec![Answer::FailAfter(50, SinkError::permanent("400 invalid"))];
        let (_, acks, fatal, released) = run_encoding(answers, vec![batch], config, &path).await;
        assert!(released);
        assert_eq!(fatal, None);
        assert_eq!(acks, [7], "dead-lettered counts as handled");
        let written: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .collect();
        assert_eq!(written.len(), 4);
        for (line, event) in written.iter().zip(&expected) {
            assert_eq!(&line["event"], event);
            assert_eq!(line["dead_letter"]["error"], "400 invalid");
        }
    }

    #[test]
    fn the_brake_engages_after_consecutive_dead_letters_or_at_the_size_cap() {
        let pipeline = PipelineConfig {
            dead_letter_max_consecutive: 2,
            dead_letter_max_bytes: 1000,
            ..PipelineConfig::default()
        };
        let mut brake = Brake::new(&pipeline);
        assert_eq!(brake.engaged(0), None);
        brake.dead_lettered();
        assert_eq!(brake.engaged(0), None);
        brake.dead_lettered();
        assert!(brake.engaged(0).is_some());
        brake.delivered();
        assert_eq!(brake.engaged(999), None);
        assert!(brake
            .engaged(1000)
            .unwrap()
            .contains("dead_letter_max_bytes"));
    }
}
