use super::*;
use crate::event::Cursor;
use crate::source::RowBatch;

/// A dispatcher over one sink, whose batches the test holds (a sink that
/// keeps events), with `in_memory` permits; the reader is the returned sender.
fn dispatcher(
    in_memory: usize,
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
        permits: Permits::alone(in_memory, stats.clone()),
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
    SourceMessage::Rows(RowBatch {
        rows: Vec::new(),
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

/// Every batch the sink has been handed so far.
fn taken(sink: &mut mpsc::Receiver<Arc<Admitted>>) -> Vec<Arc<Admitted>> {
    std::iter::from_fn(|| sink.try_recv().ok()).collect()
}

#[tokio::test(start_paused = true)]
async fn reading_waits_for_a_released_permit_and_never_passes_the_bound() {
    let state = tempfile::tempdir().unwrap();
    let (mut dispatcher, reader, mut sink, _reports) = dispatcher(2, state.path());
    for sequence in 1..=5 {
        reader.send(rows(sequence)).await.unwrap();
    }
    let stats = dispatcher.stats.clone();
    let run = dispatcher.run(std::future::pending());
    tokio::pin!(run);
    // Runs the dispatcher for an hour of paused time: long enough for any
    // polling loop, and nothing but a release can make it read more.
    macro_rules! an_hour {
        () => {
            tokio::select! {
                ended = &mut run => panic!("the dispatcher ended: {:?}", ended.map(|_| ())),
                () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            }
        };
    }
    an_hour!();
    let mut held = taken(&mut sink);
    assert_eq!(
        held.iter().map(|batch| batch.id).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(reader.capacity(), 16 - 3, "three batches still wait");
    assert!(stats.render().contains("auditfwd_batches_in_memory 2\n"));
    // The sink lets go of one batch's events: exactly one more is read.
    held.remove(0);
    an_hour!();
    held.extend(taken(&mut sink));
    assert_eq!(
        held.iter().map(|batch| batch.id).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(reader.capacity(), 16 - 2);
    // Both go: two more, never three.
    held.clear();
    an_hour!();
    held.extend(taken(&mut sink));
    assert_eq!(
        held.iter().map(|batch| batch.id).collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(stats.render().contains("auditfwd_batches_in_memory 2\n"));
}
