use super::*;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn a_task_that_panics_is_a_fault_with_its_message_at_the_time_it_panicked() {
    let background = Background::default();
    let spawner = background.spawner();
    let _held = spawner
        .spawn("the poller".into(), async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            panic!("bad reply");
        })
        .unwrap();
    let began = Instant::now();
    let (name, fault) = background.next_fault().await;
    assert_eq!(began.elapsed(), Duration::from_secs(3));
    assert_eq!(name, "the poller");
    assert_eq!(fault, Fault::Panicked("bad reply".into()));
}

#[tokio::test(start_paused = true)]
async fn a_task_that_returns_while_its_tether_is_held_is_an_unexpected_end() {
    let background = Background::default();
    let _held = background
        .spawner()
        .spawn("the poller".into(), async {
            tokio::time::sleep(Duration::from_secs(1)).await;
        })
        .unwrap();
    assert_eq!(
        background.next_fault().await,
        ("the poller".to_owned(), Fault::Returned)
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_tether_stops_the_task_and_is_no_fault() {
    let background = Background::default();
    let (stopped, dropped) = tokio::sync::oneshot::channel::<()>();
    let held = background
        .spawner()
        .spawn("the poller".into(), async move {
            let _stopped = stopped;
            std::future::pending::<()>().await;
        })
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(held);
    // The job was dropped (its sender with it), and its end is not a fault.
    assert!(dropped.await.is_err());
    let waited = tokio::time::timeout(Duration::from_secs(3600), background.next_fault()).await;
    assert!(waited.is_err(), "a released job was reported: {waited:?}");
    assert!(background.stop(Instant::now()).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_job_added_while_the_supervisor_waits_is_watched() {
    let background = Background::default();
    let spawner = background.spawner();
    let adder = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let held = spawner
            .spawn("late".into(), async { panic!("late panic") })
            .unwrap();
        std::future::pending::<()>().await;
        drop(held);
    });
    let (name, fault) = background.next_fault().await;
    assert_eq!(
        (name.as_str(), fault),
        ("late", Fault::Panicked("late panic".into()))
    );
    adder.abort();
}

#[tokio::test]
async fn a_thread_that_panics_is_a_fault_and_one_that_ends_early_an_unexpected_end() {
    let background = Background::default();
    let spawner = background.spawner();
    let _held = spawner
        .thread("the writer".into(), "test-writer", || {
            panic!("disk on fire")
        })
        .unwrap();
    assert_eq!(
        background.next_fault().await,
        (
            "the writer".to_owned(),
            Fault::Panicked("disk on fire".into())
        )
    );
    // Reported once: not again when the run stops.
    assert!(background
        .stop(Instant::now() + Duration::from_secs(2))
        .await
        .is_empty());
    let _held = spawner
        .thread("the writer".into(), "test-writer", || {})
        .unwrap();
    assert_eq!(
        background.next_fault().await,
        ("the writer".to_owned(), Fault::Returned)
    );
}

#[tokio::test]
async fn a_thread_that_ends_when_its_input_closes_after_the_tether_is_no_fault() {
    let background = Background::default();
    let (input, jobs) = std::sync::mpsc::channel::<u32>();
    let held = background
        .spawner()
        .thread("the writer".into(), "test-writer", move || {
            while jobs.recv().is_ok() {}
        })
        .unwrap();
    input.send(1).unwrap();
    // A sink drops its tether first, then the channel the thread reads.
    drop(held);
    drop(input);
    let waited = tokio::time::timeout(Duration::from_millis(300), background.next_fault()).await;
    assert!(
        waited.is_err(),
        "a released thread was reported: {waited:?}"
    );
    assert!(background
        .stop(Instant::now() + Duration::from_secs(2))
        .await
        .is_empty());
}

#[tokio::test]
async fn a_thread_s_panic_while_stopping_is_reported_by_stop() {
    let background = Background::default();
    let (input, jobs) = std::sync::mpsc::channel::<u32>();
    let held = background
        .spawner()
        .thread("the writer".into(), "test-writer", move || {
            while jobs.recv().is_ok() {}
            panic!("while closing");
        })
        .unwrap();
    drop(held);
    drop(input);
    assert_eq!(
        background
            .stop(Instant::now() + Duration::from_secs(2))
            .await,
        vec![("the writer".to_owned(), "while closing".to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_spawner_outliving_its_supervisor_refuses_to_start_anything() {
    let spawner = Background::default().spawner();
    let error = spawner.spawn("late".into(), async {}).unwrap_err();
    assert!(
        error.to_string().contains("supervisor has stopped"),
        "{error}"
    );
    assert!(spawner.thread("late".into(), "test", || {}).is_err());
}
