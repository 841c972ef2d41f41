use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::time::Instant;

/// Sets its flag when dropped: a task holding one was stopped.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// Runs until stopped, holding `guard`.
async fn forever<T>(guard: T) {
    std::future::pending::<()>().await;
    drop(guard);
}

#[tokio::test(start_paused = true)]
async fn a_task_that_panics_is_an_internal_error_with_its_message() {
    let mut supervisor = Supervisor::default();
    supervisor.spawn("a sink task", Role::Worker, forever(()));
    supervisor.spawn("the telemetry listener", Role::Service, async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        panic!("boom after five seconds");
    });
    let began = Instant::now();
    let failure = supervisor.next_end().await.unwrap_err();
    assert_eq!(began.elapsed(), Duration::from_secs(5));
    assert_eq!(failure.summary(), "the telemetry listener panicked");
    let error = RunError::from(failure);
    assert_eq!(error.exit_code(), crate::exit_code::SOFTWARE);
    assert_eq!(
        error.to_string(),
        "internal error: the telemetry listener panicked: boom after five seconds; nothing was committed past what every sink acknowledged"
    );
    assert_eq!(supervisor.workers(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_service_that_ends_is_an_internal_error_and_a_worker_s_end_is_its_owner_s_call() {
    let mut supervisor = Supervisor::default();
    supervisor.spawn("a sink task", Role::Worker, async {
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    supervisor.spawn("the progress display", Role::Service, async {
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    assert_eq!(supervisor.workers(), 1);
    assert_eq!(supervisor.next_end().await.unwrap(), "a sink task");
    assert_eq!(supervisor.workers(), 0);
    let error = RunError::from(supervisor.next_end().await.unwrap_err());
    assert_eq!(error.exit_code(), crate::exit_code::SOFTWARE);
    assert!(
        error
            .to_string()
            .starts_with("internal error: the progress display ended unexpectedly;"),
        "{error}"
    );
    // Nothing left: waiting for the next end waits for ever.
    let waited = tokio::time::timeout(Duration::from_secs(3600), supervisor.next_end()).await;
    assert!(waited.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_clean_shutdown_stops_every_task_and_joins_the_threads() {
    let mut supervisor = Supervisor::default();
    let (service, worker, thread_done) = (flag(), flag(), flag());
    supervisor.spawn(
        "the telemetry listener",
        Role::Service,
        forever(Dropped(service.clone())),
    );
    // The thread ends when this worker is stopped: its channel closes.
    let (hold, release) = std::sync::mpsc::channel::<()>();
    supervisor.spawn(
        "a sink task",
        Role::Worker,
        forever((Dropped(worker.clone()), hold)),
    );
    let done = thread_done.clone();
    supervisor
        .thread("source-test", move || {
            let _ = release.recv();
            done.store(true, Ordering::SeqCst);
        })
        .unwrap();
    assert!(supervisor.shutdown(Duration::from_secs(2)).await.is_ok());
    assert!(service.load(Ordering::SeqCst), "the service still runs");
    assert!(worker.load(Ordering::SeqCst), "the worker still runs");
    assert!(
        thread_done.load(Ordering::SeqCst),
        "the thread was not joined"
    );
    assert_eq!(supervisor.workers(), 0);
    assert!(supervisor.tasks.is_empty() && supervisor.threads.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_panic_nobody_saw_is_reported_at_shutdown() {
    let mut supervisor = Supervisor::default();
    supervisor.spawn("a sink task", Role::Worker, async {
        panic!("while flushing");
    });
    supervisor
        .thread("source-test", || panic!("in the thread"))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let error = supervisor
        .shutdown(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), crate::exit_code::SOFTWARE);
    assert!(
        error
            .to_string()
            .contains("a sink task panicked: while flushing"),
        "{error}"
    );
    // A thread's panic is reported too, when nothing came first.
    let mut supervisor = Supervisor::default();
    supervisor
        .thread("source-test", || panic!("in the thread"))
        .unwrap();
    let error = supervisor
        .shutdown(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("source-test panicked: in the thread"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_sink_s_background_job_that_panics_or_ends_is_an_internal_error_at_once() {
    let mut supervisor = Supervisor::default();
    let spawner = supervisor.spawner();
    // A sink task holding its poller's tether, as a HEC sink does.
    supervisor.spawn("a sink task", Role::Worker, async move {
        let tether = spawner
            .spawn(
                "splunk_hec http://x: the indexer-acknowledgement poller".into(),
                async {
                    tokio::time::sleep(Duration::from_secs(7)).await;
                    panic!("bad ack reply");
                },
            )
            .unwrap();
        forever(tether).await;
    });
    let began = Instant::now();
    let error = RunError::from(supervisor.next_end().await.unwrap_err());
    assert_eq!(began.elapsed(), Duration::from_secs(7));
    assert_eq!(error.exit_code(), crate::exit_code::SOFTWARE);
    assert!(
        error.to_string().starts_with(
            "internal error: splunk_hec http://x: the indexer-acknowledgement poller panicked: bad ack reply;"
        ),
        "{error}"
    );
    assert_eq!(
        supervisor.workers(),
        1,
        "the sink task is the dispatcher's call"
    );

    let mut supervisor = Supervisor::default();
    let spawner = supervisor.spawner();
    supervisor.spawn("a sink task", Role::Worker, async move {
        let tether = spawner
            .spawn(
                "the poller".into(),
                tokio::time::sleep(Duration::from_secs(2)),
            )
            .unwrap();
        forever(tether).await;
    });
    let error = RunError::from(supervisor.next_end().await.unwrap_err());
    assert!(
        error
            .to_string()
            .starts_with("internal error: the poller ended unexpectedly;"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_sink_that_ends_releases_its_background_job_quietly() {
    let mut supervisor = Supervisor::default();
    let spawner = supervisor.spawner();
    let (stopped, poller_gone) = tokio::sync::oneshot::channel::<()>();
    supervisor.spawn("a sink task", Role::Worker, async move {
        let _tether = spawner
            .spawn("the poller".into(), forever(stopped))
            .unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    assert_eq!(supervisor.next_end().await.unwrap(), "a sink task");
    assert!(poller_gone.await.is_err(), "the poller still runs");
    let waited = tokio::time::timeout(Duration::from_secs(3600), supervisor.next_end()).await;
    assert!(waited.is_err(), "a released job was reported");
    assert!(supervisor.shutdown(Duration::from_secs(2)).await.is_ok());
}

#[tokio::test]
async fn a_writer_thread_s_panic_is_an_internal_error_naming_the_thread() {
    let mut supervisor = Supervisor::default();
    let spawner = supervisor.spawner();
    let (started, wait) = tokio::sync::oneshot::channel();
    supervisor.spawn("a sink task", Role::Worker, async move {
        let tether = spawner
            .thread(
                "file sink /x: the writer thread".into(),
                "sink-file",
                || panic!("failpoint sink.file.write fired on hit 3"),
            )
            .unwrap();
        let _ = started.send(());
        forever(tether).await;
    });
    wait.await.unwrap();
    let error = RunError::from(supervisor.next_end().await.unwrap_err());
    assert!(
        error.to_string().contains(
            "file sink /x: the writer thread panicked: failpoint sink.file.write fired on hit 3"
        ),
        "{error}"
    );
    // Reported once, not again at shutdown.
    assert!(supervisor.shutdown(Duration::from_secs(2)).await.is_ok());
}
