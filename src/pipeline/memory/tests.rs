use super::*;
use std::time::Duration;

fn stats() -> Arc<Metrics> {
    Arc::new(Metrics::new(&["sink".to_owned()]))
}

fn batch(id: u64) -> EventBatch {
    EventBatch::empty_for_tests(id)
}

/// A batch of `events` events.
fn batch_of(id: u64, events: usize) -> EventBatch {
    let enricher = crate::enrich::Enricher::default();
    let mut batch = batch(id);
    batch.events = (0..events)
        .map(|_| {
            enricher.enrich_owned(crate::enrich::tests::row(
                "JS",
                "I",
                "QZDASOINIT",
                Some("ALICE"),
            ))
        })
        .collect();
    batch
}

/// Bounds of `batches` batches of 10 rows, and room for as many events as
/// they have rows unless a test says otherwise.
fn bounds(batches: usize) -> Bounds {
    Bounds {
        batches,
        events: batches * 10,
        batch_rows: 10,
    }
}

/// `auditfwd_batches_in_memory` as `/metrics` shows it.
fn gauge(stats: &Metrics) -> f64 {
    gauge_named(stats, "auditfwd_batches_in_memory")
}

/// A gauge as `/metrics` shows it.
fn gauge_named(stats: &Metrics, name: &str) -> f64 {
    let text = stats.render();
    let line = text
        .lines()
        .find(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' '))
        })
        .expect("the gauge is rendered");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Whether `acquire` completes within an hour of paused time: a wait that
/// only a release can end does not.
async fn acquired_within_an_hour(permits: &Permits) -> Option<Permit> {
    tokio::time::timeout(Duration::from_secs(3600), permits.acquire())
        .await
        .ok()
}

#[tokio::test(start_paused = true)]
async fn the_next_batch_waits_until_every_share_of_a_held_one_is_dropped() {
    let stats = stats();
    let permits = Permits::alone(bounds(2), stats.clone());
    let first = Arc::new(Admitted::new(batch(0), Some(permits.acquire().await)));
    let second = Arc::new(Admitted::new(batch(1), Some(permits.acquire().await)));
    assert_eq!(gauge(&stats), 2.0);
    // Two sinks hold the first batch.
    let other_sink = first.clone();
    assert!(acquired_within_an_hour(&permits).await.is_none());
    drop(first);
    assert!(
        acquired_within_an_hour(&permits).await.is_none(),
        "one sink still holds the events"
    );
    assert_eq!(gauge(&stats), 2.0);
    // The last share goes: the waiting acquire wakes without any time passing.
    let waiting = tokio::spawn({
        let permits = Arc::new(permits);
        async move { permits.acquire().await }
    });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    let before = tokio::time::Instant::now();
    drop(other_sink);
    let third = waiting.await.unwrap();
    assert_eq!(tokio::time::Instant::now(), before, "woken, not polled");
    assert_eq!(
        gauge(&stats),
        1.0,
        "a permit not yet holding a batch is not counted"
    );
    let third = Admitted::new(batch(2), Some(third));
    assert_eq!(gauge(&stats), 2.0);
    drop((second, third));
    assert_eq!(gauge(&stats), 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_system_holding_its_share_of_the_fleet_never_starves_another() {
    // 10 rows a batch; a pool of 20 rows beyond each system's reserved batch.
    let fleet = FleetBudget::new(20);
    let (stuck_stats, other_stats) = (stats(), stats());
    let stuck = Permits::in_fleet(bounds(8), &fleet, stuck_stats.clone());
    let other = Permits::in_fleet(bounds(8), &fleet, other_stats);
    // The stuck system (its sink is down) takes its reserved batch and the
    // whole pool, and then waits: never more than the budget.
    let mut held = Vec::new();
    while let Some(permit) = acquired_within_an_hour(&stuck).await {
        held.push(Admitted::new(batch(held.len() as u64), Some(permit)));
        assert!(held.len() <= 3, "more than its batch and the pool");
    }
    assert_eq!(held.len(), 3);
    assert_eq!(fleet.available(), 0);
    // The other system still has its own batch, and only that.
    let own = acquired_within_an_hour(&other)
        .await
        .expect("its reserved batch");
    assert!(acquired_within_an_hour(&other).await.is_none());
    // Releasing its own batch lets it go on, batch after batch.
    drop(own);
    for _ in 0..3 {
        let next = acquired_within_an_hour(&other).await.expect("released");
        drop(next);
    }
    // Once the stuck system lets go, the pool serves the other one too.
    held.pop();
    let own = acquired_within_an_hour(&other).await.expect("reserved");
    let pooled = acquired_within_an_hour(&other)
        .await
        .expect("from the pool");
    assert!(acquired_within_an_hour(&other).await.is_none());
    drop((own, pooled));
    assert_eq!(gauge(&stuck_stats), 2.0);
}

#[tokio::test(start_paused = true)]
async fn a_system_never_holds_more_than_its_cap_whatever_the_pool() {
    let fleet = FleetBudget::new(1_000);
    let permits = Permits::in_fleet(bounds(3), &fleet, stats());
    let mut held = Vec::new();
    while let Some(permit) = acquired_within_an_hour(&permits).await {
        held.push(permit);
        assert!(held.len() <= 3);
    }
    assert_eq!(held.len(), 3);
    assert_eq!(
        fleet.available(),
        1_000 - 2 * 10,
        "the first batch is reserved, not pooled"
    );
    held.clear();
    assert_eq!(fleet.available(), 1_000);
}

#[test]
fn a_fleet_plan_reserves_a_batch_each_and_splits_the_rest() {
    // One system: the budget is its 16 batches, the window the usual one.
    assert_eq!(
        FleetPlan::new(16_000, &[(1000, 16)]),
        FleetPlan {
            pool: 15_000,
            systems: vec![SystemShare {
                cap: 16,
                window_entries: 10_000
            }],
        }
    );
    // Eight: 8 batches reserved, 8 pooled; each at most twice its even
    // split (4 batches), each call at most 2,000 entries.
    let plan = FleetPlan::new(16_000, &[(1000, 16); 8]);
    assert_eq!(plan.pool, 8_000);
    assert!(plan.systems.iter().all(|share| *share
        == SystemShare {
            cap: 4,
            window_entries: 2_000
        }));
    // As many systems as batches: nothing pooled, one batch each, a call
    // never smaller than a batch; a small batch_rows gets more batches.
    let plan = FleetPlan::new(64_000, &[(1000, 16), (250, 16), (1000, 2)]);
    assert_eq!(plan.pool, 64_000 - 2_250);
    assert_eq!(
        plan.systems,
        [
            SystemShare {
                cap: 16,
                window_entries: 10_000
            },
            SystemShare {
                cap: 16,
                window_entries: 10_000
            },
            SystemShare {
                cap: 2,
                window_entries: 10_000
            },
        ]
    );
    let plan = FleetPlan::new(64_000, &[(1000, 16); 64]);
    assert_eq!(plan.pool, 0);
    assert!(plan.systems.iter().all(|share| *share
        == SystemShare {
            cap: 2,
            window_entries: 1_000
        }));
}

#[tokio::test(start_paused = true)]
async fn a_batch_larger_than_the_pool_never_queues_in_it() {
    // A pool of 500 rows: a system of 1000-row batches keeps to its own
    // batch instead of waiting in the pool's queue for ever, and a system
    // of 100-row batches behind it still gets the pool.
    let fleet = FleetBudget::new(500);
    let large = Permits::in_fleet(
        Bounds {
            batches: 4,
            events: 4000,
            batch_rows: 1000,
        },
        &fleet,
        stats(),
    );
    let small = Permits::in_fleet(
        Bounds {
            batches: 4,
            events: 400,
            batch_rows: 100,
        },
        &fleet,
        stats(),
    );
    let held = acquired_within_an_hour(&large).await.expect("reserved");
    let waiting = tokio::spawn(large.acquire());
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    let mut small_held = Vec::new();
    for _ in 0..4 {
        small_held.push(
            acquired_within_an_hour(&small)
                .await
                .expect("reserved or pooled"),
        );
    }
    assert_eq!(fleet.available(), 200);
    drop(held);
    waiting.await.unwrap();
}

/// A batch of `events` events (of `rows` rows) admitted by `permits`: fitted
/// at once, or after waiting for room; `None` when an hour of paused time
/// brings none.
async fn admitted(permits: &mut Permits, id: u64, events: usize, rows: usize) -> Option<Admitted> {
    let permit = acquired_within_an_hour(permits).await?;
    let permit = match permits.fit(permit, events, rows) {
        Ok(permit) => permit,
        Err(growing) => tokio::time::timeout(Duration::from_secs(3600), growing)
            .await
            .ok()?,
    };
    Some(Admitted::new(batch_of(id, events), Some(permit)))
}

fn events_gauge(stats: &Metrics) -> f64 {
    gauge_named(stats, "auditfwd_events_in_memory")
}

/// One system's permits: 16 batches of 10 rows, 100 events in all.
fn a_hundred_events() -> (Arc<Metrics>, Permits) {
    let stats = stats();
    let bounds = Bounds {
        batches: 16,
        events: 100,
        batch_rows: 10,
    };
    (stats.clone(), Permits::alone(bounds, stats))
}

#[tokio::test(start_paused = true)]
async fn a_batch_waits_for_room_for_its_events_and_gives_back_what_it_did_not_use() {
    let (stats, mut permits) = a_hundred_events();
    // The first batch is expected to carry an event a row (10): it carries
    // 40 (sessions' ends and starts), and there is room for them.
    let first = admitted(&mut permits, 0, 40, 10).await.expect("room");
    assert_eq!(events_gauge(&stats), 40.0);
    // The next one is expected to carry 40 as well, and does get them; it
    // carries 70, 10 more than there is room for beside the first: it waits.
    let permit = acquired_within_an_hour(&permits).await.expect("40 of 60");
    assert_eq!(permit.events(), 40);
    let waiting = tokio::spawn(permits.fit(permit, 70, 10).expect_err("grows"));
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!waiting.is_finished(), "60 free, 70 needed");
    let before = tokio::time::Instant::now();
    drop(first);
    let permit = waiting.await.unwrap();
    assert_eq!(tokio::time::Instant::now(), before, "woken, not polled");
    assert_eq!(permit.events(), 70);
    let second = Admitted::new(batch_of(1, 70), Some(permit));
    assert_eq!((gauge(&stats), events_gauge(&stats)), (1.0, 70.0));
    drop(second);
    // A batch whose rows the filter all dropped holds no room at all, and
    // the next one is expected to be as small.
    let permit = acquired_within_an_hour(&permits).await.expect("room");
    assert_eq!(permit.events(), 70, "expected from the last ratio");
    let Ok(permit) = permits.fit(permit, 0, 10) else {
        panic!("a permit shrinks at once");
    };
    assert_eq!(permit.events(), 0);
    assert_eq!(permits.events.available_permits(), 100);
    let next = acquired_within_an_hour(&permits).await.expect("room");
    assert_eq!(next.events(), 1);
    drop((permit, next));
    assert_eq!((gauge(&stats), events_gauge(&stats)), (0.0, 0.0));
}

#[tokio::test(start_paused = true)]
async fn a_batch_with_more_events_than_the_bound_is_admitted_alone() {
    let (stats, mut permits) = a_hundred_events();
    let small = admitted(&mut permits, 0, 10, 10).await.expect("room");
    // An IPL closes 250 sessions in one batch: it waits for the whole bound
    // (never for 250, which would never come) ...
    let permit = acquired_within_an_hour(&permits).await.expect("10 of 90");
    let waiting = tokio::spawn(permits.fit(permit, 250, 10).expect_err("grows"));
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(!waiting.is_finished(), "another batch holds 10");
    drop(small);
    let permit = waiting.await.unwrap();
    assert_eq!(permit.events(), 100);
    // ... and is alone in memory until it goes.
    let big = Admitted::new(batch_of(1, 250), Some(permit));
    assert_eq!(events_gauge(&stats), 250.0);
    assert!(acquired_within_an_hour(&permits).await.is_none());
    drop(big);
    let next = acquired_within_an_hour(&permits).await.expect("released");
    assert_eq!(next.events(), 100, "expected 250, at most the bound");
}

#[tokio::test(start_paused = true)]
async fn a_reserved_batch_of_a_fleet_takes_its_events_from_its_own_bound() {
    // A pool of 20 rows; 10-row batches; each system at most 80 events.
    let fleet = FleetBudget::new(20);
    let stuck = Permits::in_fleet(bounds(8), &fleet, stats());
    let mut other = Permits::in_fleet(bounds(8), &fleet, stats());
    let mut held = Vec::new();
    while let Some(permit) = acquired_within_an_hour(&stuck).await {
        held.push(permit);
    }
    assert_eq!((held.len(), fleet.available()), (3, 0));
    // The other system's reserved batch carries three times its rows in
    // events: admitted, from its own bound, not the (empty) pool.
    let own = admitted(&mut other, 0, 30, 10).await.expect("reserved");
    assert_eq!(fleet.available(), 0);
    assert_eq!(other.events.available_permits(), 80 - 30);
    // No second batch beside it while the pool is held ...
    assert!(acquired_within_an_hour(&other).await.is_none());
    // ... and the next after it as soon as it goes, whatever its events.
    drop(own);
    assert!(admitted(&mut other, 1, 80, 10).await.is_some());
}
