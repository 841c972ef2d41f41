//! One task per sink: takes batches in order, delivers each with retry and
//! backoff, applies the permanent-error policy (stop, or dead letter with a
//! brake), and reports every acknowledgement to the dispatcher.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::config::{PermanentErrorPolicy, PipelineConfig};
use super::dead_letter::DeadLetter;
use super::RunError;
use crate::event::EventBatch;
use crate::retry::Backoff;
use crate::sink::{ErrorKind, Sink, SinkError};
use crate::telemetry::Metrics;

/// What a sink task tells the dispatcher.
#[derive(Debug)]
pub(crate) enum Report {
    /// `sink` holds batch `batch` durably, or set it aside in the dead-letter file.
    Ack { batch: u64, sink: usize },
    /// The run must stop.
    Fatal(RunError),
}

/// Something that can be asked to deliver a batch: the real sinks, and
/// scripted ones in tests.
pub(crate) trait Deliver {
    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError>;
}

impl Deliver for Sink {
    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        Sink::deliver(self, batch).await
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

/// Delivers until acknowledged, retrying transient errors with backoff (at
/// least the peer's `Retry-After`, at most `max_backoff`). Returns a permanent
/// error, or a transient one past `max_attempts`. `on_retry` hears each failure.
pub(crate) async fn deliver_with_retry<D: Deliver>(
    sink: &mut D,
    batch: &EventBatch,
    policy: &RetryPolicy,
    backoff: &mut Backoff,
    mut on_retry: impl FnMut(u32, Duration, &SinkError),
) -> Result<u32, SinkError> {
    backoff.reset();
    let mut attempt: u32 = 0;
    loop {
        attempt = attempt.saturating_add(1);
        crate::failpoint::hit("sink.deliver");
        match sink.deliver(batch).await {
            Ok(()) => return Ok(attempt),
            Err(error) if error.kind == ErrorKind::Permanent => return Err(error),
            Err(error) => {
                if policy.max_attempts > 0 && attempt >= policy.max_attempts {
                    return Err(SinkError::permanent(format!(
                        "gave up after {attempt} attempts (pipeline.retry_max_attempts): {error}"
                    )));
                }
                let delay = backoff.next_delay_after(error.retry_after);
                on_retry(attempt, delay, &error);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Everything one sink task needs.
pub(crate) struct SinkTask {
    pub index: usize,
    pub name: String,
    pub sink: Sink,
    pub pipeline: PipelineConfig,
    pub dead_letter: Arc<DeadLetter>,
    pub stats: Arc<Metrics>,
    pub reports: mpsc::Sender<Report>,
}

impl SinkTask {
    /// Runs until the batch channel closes (then hands over what a client
    /// library still buffers) or a fatal error was reported.
    pub async fn run(mut self, mut batches: mpsc::Receiver<Arc<EventBatch>>) {
        let policy = RetryPolicy::of(&self.pipeline);
        let mut backoff = Backoff::new(
            policy.initial_backoff,
            policy.max_backoff,
            self.index as u64,
        );
        let mut brake = Brake::new(&self.pipeline);
        while let Some(batch) = batches.recv().await {
            let report = self
                .deliver(&batch, &policy, &mut backoff, &mut brake)
                .await;
            let fatal = matches!(report, Report::Fatal(_));
            if self.reports.send(report).await.is_err() || fatal {
                return;
            }
        }
        let grace = self.pipeline.shutdown_grace;
        let sink = self.sink;
        let _ = tokio::task::spawn_blocking(move || sink.shutdown(grace)).await;
    }

    async fn deliver(
        &mut self,
        batch: &Arc<EventBatch>,
        policy: &RetryPolicy,
        backoff: &mut Backoff,
        brake: &mut Brake,
    ) -> Report {
        let (index, name, stats) = (self.index, self.name.clone(), self.stats.clone());
        loop {
            let result = deliver_with_retry(&mut self.sink, batch, policy, backoff, |attempt, delay, error| {
                stats.record_retry(index, &error.message);
                warn!(sink = %name, attempt, retry_in = ?delay, %error, "delivery failed; retrying");
            })
            .await;
            let error = match result {
                Ok(attempts) => {
                    if attempts > 1 {
                        info!(sink = %name, attempts, batch = batch.id, "delivered after retrying");
                    }
                    brake.delivered();
                    stats.record_delivered(index, batch.events.len());
                    return Report::Ack {
                        batch: batch.id,
                        sink: index,
                    };
                }
                Err(error) => error,
            };
            if self.pipeline.on_permanent_error == PermanentErrorPolicy::Stop {
                stats.record_permanent(index, &error.message, None);
                error!(sink = %name, %error, "permanent delivery error; stopping");
                return Report::Fatal(RunError::PermanentDelivery { sink: name, error });
            }
            if let Some(reason) = brake.engaged(self.dead_letter.size()) {
                // A sink that refuses everything is down, not a source of dead letters.
                stats.record_permanent(index, &error.message, None);
                stats.record_dead_letter_brake(index, true);
                let delay = backoff.next_delay();
                error!(sink = %name, %error, retry_in = ?delay, "{reason}: the sink is treated as down and the batch is retried instead of dead-lettered");
                tokio::time::sleep(delay).await;
                continue;
            }
            let dead_letter = self.dead_letter.clone();
            let (sink_name, batch_for_file, error_for_file) =
                (name.clone(), batch.clone(), error.clone());
            let written = tokio::task::spawn_blocking(move || {
                dead_letter.write(&sink_name, &error_for_file, &batch_for_file)
            })
            .await;
            return match written {
                Ok(Ok(())) => {
                    brake.dead_lettered();
                    stats.record_dead_letter_brake(index, false);
                    stats.record_permanent(index, &error.message, Some(batch.events.len()));
                    error!(sink = %name, %error, events = batch.events.len(), path = %self.dead_letter.path().display(), "permanent delivery error; batch written to the dead-letter file");
                    Report::Ack {
                        batch: batch.id,
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
        }
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

    /// Answers deliveries from a script and records when each attempt came.
    struct Scripted {
        answers: VecDeque<Result<(), SinkError>>,
        attempts_at: Vec<tokio::time::Instant>,
    }

    impl Deliver for Scripted {
        async fn deliver(&mut self, _batch: &EventBatch) -> Result<(), SinkError> {
            self.attempts_at.push(tokio::time::Instant::now());
            self.answers.pop_front().unwrap_or(Ok(()))
        }
    }

    fn batch() -> EventBatch {
        EventBatch {
            id: 0,
            events: Vec::new(),
            rows_read: 0,
            cursor: Cursor {
                system_name: "S".into(),
                receiver_library: "L".into(),
                receiver_name: "R".into(),
                sequence_number: 1,
                entry_timestamp_local: None,
                entry_timestamp: None,
            },
        }
    }

    fn policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(8),
            max_attempts,
        }
    }

    fn busy(after: Option<u64>) -> Result<(), SinkError> {
        let mut error = SinkError::transient("busy");
        error.retry_after = after.map(Duration::from_secs);
        Err(error)
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_back_off_exponentially_until_delivered() {
        let mut sink = Scripted {
            answers: [busy(None), busy(None), busy(None), busy(None), Ok(())].into(),
            attempts_at: Vec::new(),
        };
        let started = tokio::time::Instant::now();
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 7);
        let mut delays = Vec::new();
        let attempts = deliver_with_retry(
            &mut sink,
            &batch(),
            &policy(0),
            &mut backoff,
            |_, delay, _| delays.push(delay),
        )
        .await
        .expect("delivered");
        assert_eq!(attempts, 5);
        for (delay, bound) in delays.iter().zip([1, 2, 4, 8]) {
            let bound = Duration::from_secs(bound);
            assert!(
                *delay >= bound / 2 && *delay <= bound,
                "{delay:?} vs {bound:?}"
            );
        }
        let waited = sink.attempts_at[4] - started;
        assert_eq!(waited, delays.iter().sum::<Duration>());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_obeyed_but_capped_by_the_maximum_backoff() {
        let mut sink = Scripted {
            answers: [busy(Some(5)), busy(Some(31_536_000)), Ok(())].into(),
            attempts_at: Vec::new(),
        };
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 7);
        deliver_with_retry(&mut sink, &batch(), &policy(0), &mut backoff, |_, _, _| {})
            .await
            .expect("delivered");
        let gaps: Vec<Duration> = sink
            .attempts_at
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .collect();
        assert_eq!(gaps[0], Duration::from_secs(5));
        assert_eq!(gaps[1], Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_and_exhausted_attempts_are_returned_at_once() {
        let mut sink = Scripted {
            answers: [Err(SinkError::permanent("403"))].into(),
            attempts_at: Vec::new(),
        };
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), 7);
        let error = deliver_with_retry(&mut sink, &batch(), &policy(0), &mut backoff, |_, _, _| {})
            .await
            .unwrap_err();
        assert_eq!(error.message, "403");
        assert_eq!(sink.attempts_at.len(), 1);

        let mut sink = Scripted {
            answers: [busy(None), busy(None), busy(None)].into(),
            attempts_at: Vec::new(),
        };
        let error = deliver_with_retry(&mut sink, &batch(), &policy(3), &mut backoff, |_, _, _| {})
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Permanent);
        assert!(
            error.message.starts_with("gave up after 3 attempts"),
            "{error}"
        );
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
