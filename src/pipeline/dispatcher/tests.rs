use super::*;
use crate::event::Cursor;
use crate::pipeline::memory::Bounds;
use crate::source::RowBatch;

/// A dispatcher over one sink, whose batches the test holds (a sink that
/// keeps events), within `bounds`; the reader is the returned sender.
fn dispatcher(
    bounds: Bounds,
    state: &std::path::Path,
) -> (
    Dispatcher,
    mpsc::Sender<SourceMessage>,
    mpsc::Receiver<Arc<Admitted>>,
    mpsc::Sender<Report>,
) {
    let stats = Arc::new(Metrics::new(&["held".to_owned()]));
    let (source_sender, source) = mpsc::channel(16);
    let (sink_sender, sink) = mpsc::channel(64);
    let (report_sender, reports) = mpsc::channel(64);
    let dispatcher = Dispatcher {
        store: Arc::new(CheckpointStore::open(state).unwrap()),
        permits: Permits::alone(bounds, stats.clone()),
        stats,
        notifier: Notifier::from_environment(),
        ledger: Ledger::new(1),
        lost_checkpoint: None,
        source,
        stop_reader: Arc::default(),
        heartbeat: Arc::new(ReaderHeartbeat::new()),
        wedge_limit: Duration::from_secs(3600),
        sink_senders: vec![sink_sender],
        reports,
        supervisor: Supervisor::default(),
        enricher: Enricher::default(),
        filter: Filter::new(&crate::enrich::FilterConfig::default()),
        systems: None,
        elsewhere: None,
        burst: None,
        sessions: None,
        max_in_flight: 64,
        grace: Duration::from_secs(20),
        summary_interval: Duration::from_secs(3600),
    };
    (dispatcher, source_sender, sink, report_sender)
}

fn rows(sequence: u64) -> SourceMessage {
    rows_of(sequence, 0)
}

/// A batch of `count` JS rows, each an event.
fn rows_of(sequence: u64, count: usize) -> SourceMessage {
    SourceMessage::Rows(RowBatch {
        rows: (0..count)
            .map(|_| crate::enrich::tests::row("S", "I", "QZDASOINIT", Some("ALICE")))
            .collect(),
        cursor: Cursor {
            system_name: "S".into(),
            receiver_library: "L".into(),
            receiver_name: "R".into(),
            sequence_number: sequence,
            entry_timestamp_local: None,
            entry_timestamp: None,
            signals: None,
            sessions: None,
        },
    })
}

/// Runs the dispatcher for an hour of paused time, long enough for any
/// polling loop; it must not end meanwhile.
async fn an_hour<T, E: std::fmt::Debug>(
    run: &mut std::pin::Pin<&mut impl Future<Output = Result<T, E>>>,
) {
    tokio::select! {
        ended = run.as_mut() => panic!("the dispatcher ended: {:?}", ended.map(|_| ())),
        () = tokio::time::sleep(Duration::from_secs(3600)) => {}
    }
}

/// Every batch the sink has been handed so far.
fn taken(sink: &mut mpsc::Receiver<Arc<Admitted>>) -> Vec<Arc<Admitted>> {
    std::iter::from_fn(|| sink.try_recv().ok()).collect()
}

/// The ids of the batches in `held`.
fn ids(held: &[Arc<Admitted>]) -> Vec<u64> {
    held.iter().map(|batch| batch.id).collect()
}

#[tokio::test(start_paused = true)]
async fn reading_waits_for_a_released_permit_and_never_passes_the_bound() {
    let state = tempfile::tempdir().unwrap();
    let bounds = Bounds {
        batches: 2,
        events: 1000,
        batch_rows: 1000,
    };
    let (mut dispatcher, reader, mut sink, _reports) = dispatcher(bounds, state.path());
    for sequence in 1..=5 {
        reader.send(rows(sequence)).await.unwrap();
    }
    let stats = dispatcher.stats.clone();
    let run = dispatcher.run(std::future::pending());
    tokio::pin!(run);
    // Nothing but a release can make it read more.
    an_hour(&mut run).await;
    let mut held = taken(&mut sink);
    assert_eq!(ids(&held), [0, 1]);
    assert_eq!(reader.capacity(), 16 - 3, "three batches still wait");
    assert!(stats.render().contains("auditfwd_batches_in_memory 2\n"));
    // The sink lets go of one batch's events: exactly one more is read.
    held.remove(0);
    an_hour(&mut run).await;
    held.extend(taken(&mut sink));
    assert_eq!(ids(&held), [1, 2]);
    assert_eq!(reader.capacity(), 16 - 2);
    // Both go: two more, never three.
    held.clear();
    an_hour(&mut run).await;
    held.extend(taken(&mut sink));
    assert_eq!(ids(&held), [3, 4]);
    assert!(stats.render().contains("auditfwd_batches_in_memory 2\n"));
}

#[tokio::test(start_paused = true)]
async fn a_batch_goes_to_the_sinks_only_with_room_for_its_events() {
    let state = tempfile::tempdir().unwrap();
    let bounds = Bounds {
        batches: 16,
        events: 10,
        batch_rows: 4,
    };
    let (mut dispatcher, reader, mut sink, _reports) = dispatcher(bounds, state.path());
    // 4 events, then 8 (more than the 6 left), then 20 (more than the
    // bound), then 1.
    for (sequence, count) in [(1, 4), (2, 8), (3, 20), (4, 1)] {
        reader.send(rows_of(sequence, count)).await.unwrap();
    }
    let stats = dispatcher.stats.clone();
    let gauges = || {
        let text = stats.render();
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name} ")))
                .unwrap()
                .to_owned()
        };
        (
            value("auditfwd_batches_in_memory"),
            value("auditfwd_events_in_memory"),
        )
    };
    let run = dispatcher.run(std::future::pending());
    tokio::pin!(run);
    an_hour(&mut run).await;
    // The second batch is read and enriched, and waits for room: nothing
    // more is read meanwhile.
    let mut held = taken(&mut sink);
    assert_eq!(ids(&held), [0]);
    assert_eq!(reader.capacity(), 16 - 2, "two batches still wait");
    assert_eq!(gauges(), ("1".into(), "4".into()));
    held.clear();
    an_hour(&mut run).await;
    held.extend(taken(&mut sink));
    assert_eq!(ids(&held), [1]);
    assert_eq!(held[0].events.len(), 8);
    assert_eq!(gauges(), ("1".into(), "8".into()));
    // The third carries twice the bound: it goes once the second is gone,
    // alone.
    an_hour(&mut run).await;
    assert!(taken(&mut sink).is_empty());
    held.clear();
    an_hour(&mut run).await;
    held.extend(taken(&mut sink));
    assert_eq!(ids(&held), [2]);
    assert_eq!(gauges(), ("1".into(), "20".into()));
    an_hour(&mut run).await;
    assert!(taken(&mut sink).is_empty(), "nothing beside it");
    assert_eq!(reader.capacity(), 16 - 1, "not even read");
    drop(held);
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_drops_the_batch_waiting_for_room_unregistered() {
    let state = tempfile::tempdir().unwrap();
    let bounds = Bounds {
        batches: 16,
        events: 10,
        batch_rows: 4,
    };
    let (mut dispatcher, reader, mut sink, _reports) = dispatcher(bounds, state.path());
    reader.send(rows_of(1, 4)).await.unwrap();
    reader.send(rows_of(2, 8)).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = dispatcher.run(async {
        let _ = stopped.await;
    });
    tokio::pin!(run);
    an_hour(&mut run).await;
    let held = taken(&mut sink);
    assert_eq!(ids(&held), [0], "the second waits for room");
    stop.send(()).unwrap();
    tokio::select! {
        ended = &mut run => panic!("the dispatcher ended: {:?}", ended.map(|_| ())),
        () = tokio::task::yield_now() => {}
    }
    // Room comes after the shutdown: the waiting batch is gone, so only the
    // one the sink held is undelivered (the other is read again at the next
    // start).
    drop(held);
    assert_eq!(
        run.await.unwrap(),
        Outcome::GraceExpired {
            undelivered_batches: 1
        }
    );
    assert!(taken(&mut sink).is_empty());
}
