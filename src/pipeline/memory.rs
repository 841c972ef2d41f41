//! Memory permits: the bound on the events alive, as permits that travel
//! with the events instead of a count looked at again.
//!
//! The dispatcher takes a [`Permit`] before it takes a batch from the reader;
//! the permit goes into the [`Admitted`] batch that every sink task shares,
//! and is released exactly when the events are: the last `Arc<Admitted>`
//! dropped (a sink that keeps events, once acknowledged; a sink that encodes,
//! once encoded). Releasing wakes the dispatcher, so nothing polls.
//!
//! A permit counts a batch and its events. The events are not known before
//! the batch is read (sessions add a session's end and start to a row, an
//! IPL closes every open session at once), so the permit reserves the events
//! a batch of `batch_rows` carried at the last ratio of events to rows seen,
//! and once the batch is enriched [`Permits::fit`] gives back what it did
//! not use or waits for the rest; a batch with more events than the whole
//! bound takes all of it, so it is admitted alone instead of never.
//!
//! A fleet adds one [`FleetBudget`] for all its systems, in rows: each system
//! has one batch of its own (reserved, so no other system can starve it) and
//! takes any further batch from the fleet's pool, up to its own cap (its share
//! of the budget), so a system whose sink is down holds at most its share.
//! Each system's events stay under its own events bound besides.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::event::EventBatch;
use crate::telemetry::Metrics;

/// How a fleet's memory budget (`fleet.max_rows_in_memory`) is split.
#[derive(Debug, PartialEq, Eq)]
pub struct FleetPlan {
    /// Rows shared by every system, beyond each one's reserved batch.
    pub pool: usize,
    /// Per system, in the order given.
    pub systems: Vec<SystemShare>,
}

/// One system's part of a fleet's budget.
#[derive(Debug, PartialEq, Eq)]
pub struct SystemShare {
    /// Batches whose events it may hold at once.
    pub cap: usize,
    /// Sequence numbers one ODBC call covers at most.
    pub window_entries: u64,
}

impl FleetPlan {
    /// Splits `budget` rows among systems given as (`batch_rows`,
    /// `max_batches_in_memory`): each has one batch reserved and the rest is
    /// pooled; a system holds at most twice an even split (so one whose sink
    /// is down leaves the others most of the pool), and one call reads at most
    /// an even split of entries (at least a batch, at most the usual window).
    /// Validation has checked that the reserved batches fit.
    pub fn new(budget: usize, systems: &[(usize, usize)]) -> FleetPlan {
        let reserved: usize = systems.iter().map(|(rows, _)| *rows).sum();
        let even = budget / systems.len().max(1);
        FleetPlan {
            pool: budget.saturating_sub(reserved),
            systems: systems
                .iter()
                .map(|&(rows, in_memory)| {
                    let rows = rows.max(1);
                    SystemShare {
                        cap: (2 * even / rows).clamp(1, in_memory.max(1)),
                        window_entries: (even.max(rows) as u64)
                            .min(crate::source::odbc::chain::WINDOW_ENTRIES),
                    }
                })
                .collect(),
        }
    }
}

/// The fleet-wide part of the budget: the rows beyond each system's reserved
/// batch, shared by every system.
#[derive(Debug)]
pub struct FleetBudget {
    pool: Arc<Semaphore>,
    rows: usize,
}

impl FleetBudget {
    /// A pool of `rows` permits (`fleet.max_rows_in_memory` less each system's
    /// reserved batch).
    pub fn new(rows: usize) -> FleetBudget {
        FleetBudget {
            pool: Arc::new(Semaphore::new(rows)),
            rows,
        }
    }

    /// Rows of the pool not held by any batch.
    pub fn available(&self) -> usize {
        self.pool.available_permits()
    }
}

/// A system's bounds on what it holds in memory.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Batches whose events may be alive at once.
    pub batches: usize,
    /// Events alive at once (`pipeline.max_events_in_memory`).
    pub events: usize,
    /// Rows of one poll (`source.batch_rows`), for the expected events.
    pub batch_rows: usize,
}

/// A permit growing to a batch's events: waits for room the batches in
/// memory give back.
pub type Growing = std::pin::Pin<Box<dyn Future<Output = Permit> + Send>>;

/// One system's permits: a cap on its batches and on their events in
/// memory, one batch reserved, the rest (in a fleet) from the fleet's pool.
pub struct Permits {
    /// `cap` permits: the system's own bound, whatever the pool holds.
    cap: Arc<Semaphore>,
    /// One permit per event alive, `bounds.events` in all.
    events: Arc<Semaphore>,
    /// One permit: the batch no other system can take from this one.
    reserved: Arc<Semaphore>,
    /// The fleet's pool, and the rows a batch takes from it.
    pool: Option<(Arc<Semaphore>, u32)>,
    bounds: Bounds,
    /// Events the next batch is expected to carry: `batch_rows` at the ratio
    /// of events to rows of the last batch read (at first, one a row).
    expected: usize,
    stats: Arc<Metrics>,
}

impl Permits {
    /// A single pipeline: at most `bounds`, no pool.
    pub fn alone(bounds: Bounds, stats: Arc<Metrics>) -> Permits {
        let batches = bounds.batches.max(1);
        Permits::new(bounds, Arc::new(Semaphore::new(batches)), None, stats)
    }

    /// A system of a fleet: at most `bounds`, the first batch reserved, the
    /// others taking `batch_rows` rows each from `fleet`'s pool (none when a
    /// batch is larger than the whole pool: such a wait would never end, and
    /// would hold up every system queued behind it).
    pub fn in_fleet(bounds: Bounds, fleet: &FleetBudget, stats: Arc<Metrics>) -> Permits {
        let pool = (bounds.batch_rows <= fleet.rows).then(|| {
            let rows = u32::try_from(bounds.batch_rows).unwrap_or(u32::MAX);
            (fleet.pool.clone(), rows)
        });
        Permits::new(bounds, Arc::new(Semaphore::new(1)), pool, stats)
    }

    fn new(
        bounds: Bounds,
        reserved: Arc<Semaphore>,
        pool: Option<(Arc<Semaphore>, u32)>,
        stats: Arc<Metrics>,
    ) -> Permits {
        let bounds = Bounds {
            batches: bounds.batches.max(1),
            events: bounds.events.clamp(1, Semaphore::MAX_PERMITS),
            batch_rows: bounds.batch_rows.max(1),
        };
        Permits {
            cap: Arc::new(Semaphore::new(bounds.batches)),
            events: Arc::new(Semaphore::new(bounds.events)),
            reserved,
            pool,
            expected: bounds.batch_rows,
            bounds,
            stats,
        }
    }

    /// Waits until one more batch of this system may hold its events (the
    /// events it is expected to carry: [`Permits::fit`] corrects them). The
    /// future owns what it needs, so a caller keeps it across other work and
    /// keeps its place in the semaphores' queues. Cancel-safe: a permit half
    /// taken is given back when dropped.
    pub fn acquire(&self) -> impl Future<Output = Permit> + Send + 'static {
        let (cap, reserved) = (self.cap.clone(), self.reserved.clone());
        let (pool, stats) = (self.pool.clone(), self.stats.clone());
        let (events, expected) = (self.events.clone(), self.within_bound(self.expected));
        async move {
            // No semaphore is ever closed.
            let cap = cap.acquire_owned().await.expect("open");
            let events = events.acquire_many_owned(expected).await.expect("open");
            // The reserved batch first; in a fleet, whichever comes first of
            // the reserved batch (released by this system) and room in the pool.
            let share = match (reserved.clone().try_acquire_owned(), pool) {
                (Ok(reserved), _) => Ok(reserved),
                (Err(_), None) => reserved.acquire_owned().await,
                (Err(_), Some((pool, rows))) => tokio::select! {
                    reserved = reserved.acquire_owned() => reserved,
                    pooled = pool.acquire_many_owned(rows) => pooled,
                },
            }
            .expect("open");
            Permit {
                _cap: cap,
                _share: share,
                events,
                stats,
                counted: None,
            }
        }
    }

    /// Fits `permit` to the batch it admitted, now that its `events` (of
    /// `rows` rows read) are known: gives back what it holds beyond them at
    /// once, or returns the wait for the rest. A batch with more events than
    /// the bound takes the whole bound, so it waits for every other batch to
    /// go and is then admitted alone. Also learns the events to expect of the
    /// next batch.
    pub fn fit(
        &mut self,
        mut permit: Permit,
        events: usize,
        rows: usize,
    ) -> Result<Permit, Growing> {
        if rows > 0 {
            self.expected = (events.saturating_mul(self.bounds.batch_rows))
                .div_ceil(rows)
                .max(1);
        }
        let needed = self.within_bound(events) as usize;
        let held = permit.events.num_permits();
        if needed <= held {
            // Dropping the split part gives it back.
            drop(permit.events.split(held - needed));
            return Ok(permit);
        }
        let more = u32::try_from(needed - held).expect("within the bound");
        let semaphore = self.events.clone();
        Err(Box::pin(async move {
            let more = semaphore.acquire_many_owned(more).await.expect("open");
            permit.events.merge(more);
            permit
        }))
    }

    /// `events` as permits to take: at most the whole bound.
    fn within_bound(&self, events: usize) -> u32 {
        u32::try_from(events.min(self.bounds.events)).unwrap_or(u32::MAX)
    }
}

/// The right of one batch to hold its events; released (and the dispatcher
/// woken) when dropped.
pub struct Permit {
    _cap: OwnedSemaphorePermit,
    /// The reserved batch's permit, or the batch's rows in the fleet's pool.
    _share: OwnedSemaphorePermit,
    /// One per event of the batch (at most the bound).
    events: OwnedSemaphorePermit,
    stats: Arc<Metrics>,
    /// Counted in `auditfwd_batches_in_memory` and, with its events, in
    /// `auditfwd_events_in_memory`: once it holds a batch.
    counted: Option<i64>,
}

impl Permit {
    /// Events this permit holds room for.
    pub fn events(&self) -> usize {
        self.events.num_permits()
    }
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Permit({} events)", self.events())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(events) = self.counted {
            self.stats.add_batches_in_memory(-1);
            self.stats.add_events_in_memory(-events);
        }
    }
}

/// A batch handed to the sink tasks with its permit: the permit goes when
/// the last share of the batch does.
#[derive(Debug)]
pub struct Admitted {
    batch: EventBatch,
    /// `None` where something else bounds the batches (replay, tests).
    _permit: Option<Permit>,
}

impl Admitted {
    /// `batch` with the permit that admitted it (counted in
    /// `auditfwd_batches_in_memory` and `auditfwd_events_in_memory` from now
    /// until the events are dropped).
    pub fn new(batch: EventBatch, mut permit: Option<Permit>) -> Admitted {
        if let Some(permit) = &mut permit {
            let events = i64::try_from(batch.events.len()).unwrap_or(i64::MAX);
            permit.counted = Some(events);
            permit.stats.add_batches_in_memory(1);
            permit.stats.add_events_in_memory(events);
        }
        Admitted {
            batch,
            _permit: permit,
        }
    }
}

impl Deref for Admitted {
    type Target = EventBatch;

    fn deref(&self) -> &EventBatch {
        &self.batch
    }
}

#[cfg(test)]
mod tests;
