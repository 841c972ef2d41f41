use super::*;
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

fn batch(id: u64) -> Arc<Admitted> {
    Arc::new(Admitted::new(event_batch(id), None))
}

fn event_batch(id: u64) -> EventBatch {
    EventBatch::empty_for_tests(id)
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

fn batch_of_events(id: u64, count: u32) -> Arc<Admitted> {
    let enricher = crate::enrich::Enricher::default();
    let mut batch = event_batch(id);
    batch.events = (0..count)
        .map(|index| {
            let mut row = crate::enrich::tests::row("S", "INT", "QPADEV0001", Some("JSMITH"));
            row.sequence_number = u64::from(index) + 1;
            enricher.enrich(&row)
        })
        .collect();
    Arc::new(Admitted::new(batch, None))
}

/// Runs one encoding task over `batches`, checking between answers
/// whether any batch's events are still alive.
async fn run_encoding(
    answers: Vec<Answer>,
    batches: Vec<Arc<Admitted>>,
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
