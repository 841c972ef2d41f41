//! Memory permits: the bound on the batches whose events are alive, as
//! permits that travel with the events instead of a count looked at again.
//!
//! The dispatcher takes a [`Permit`] before it takes a batch from the reader;
//! the permit goes into the [`Admitted`] batch that every sink task shares,
//! and is released exactly when the events are: the last `Arc<Admitted>`
//! dropped (a sink that keeps events, once acknowledged; a sink that encodes,
//! once encoded). Releasing wakes the dispatcher, so nothing polls.
//!
//! A fleet adds one [`FleetBudget`] for all its systems, in rows: each system
//! has one batch of its own (reserved, so no other system can starve it) and
//! takes any further batch from the fleet's pool, up to its own cap (its share
//! of the budget), so a system whose sink is down holds at most its share.

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

/// One system's permits: a cap on its batches in memory, one batch reserved,
/// the rest (in a fleet) from the fleet's pool.
pub struct Permits {
    /// `cap` permits: the system's own bound, whatever the pool holds.
    cap: Arc<Semaphore>,
    /// One permit: the batch no other system can take from this one.
    reserved: Arc<Semaphore>,
    /// The fleet's pool, and the rows a batch takes from it.
    pool: Option<(Arc<Semaphore>, u32)>,
    stats: Arc<Metrics>,
}

impl Permits {
    /// A single pipeline: at most `cap` batches, no pool.
    pub fn alone(cap: usize, stats: Arc<Metrics>) -> Permits {
        Permits {
            cap: Arc::new(Semaphore::new(cap.max(1))),
            reserved: Arc::new(Semaphore::new(cap.max(1))),
            pool: None,
            stats,
        }
    }

    /// A system of a fleet: at most `cap` batches, the first one reserved,
    /// the others taking `batch_rows` rows each from `fleet`'s pool (none when
    /// a batch is larger than the whole pool: such a wait would never end, and
    /// would hold up every system queued behind it).
    pub fn in_fleet(
        cap: usize,
        batch_rows: usize,
        fleet: &FleetBudget,
        stats: Arc<Metrics>,
    ) -> Permits {
        Permits {
            cap: Arc::new(Semaphore::new(cap.max(1))),
            reserved: Arc::new(Semaphore::new(1)),
            pool: (batch_rows <= fleet.rows).then(|| {
                let rows = u32::try_from(batch_rows).unwrap_or(u32::MAX);
                (fleet.pool.clone(), rows)
            }),
            stats,
        }
    }

    /// Waits until one more batch of this system may hold its events. The
    /// future owns what it needs, so a caller keeps it across other work and
    /// keeps its place in the semaphores' queues. Cancel-safe: a permit half
    /// taken is given back when dropped.
    pub fn acquire(&self) -> impl Future<Output = Permit> + Send + 'static {
        let (cap, reserved) = (self.cap.clone(), self.reserved.clone());
        let (pool, stats) = (self.pool.clone(), self.stats.clone());
        async move {
            // Neither semaphore is ever closed.
            let cap = cap.acquire_owned().await.expect("open");
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
                stats,
                counted: false,
            }
        }
    }
}

/// The right of one batch to hold its events; released (and the dispatcher
/// woken) when dropped.
pub struct Permit {
    _cap: OwnedSemaphorePermit,
    /// The reserved batch's permit, or the batch's rows in the fleet's pool.
    _share: OwnedSemaphorePermit,
    stats: Arc<Metrics>,
    /// Counted in `auditfwd_batches_in_memory`: once it holds a batch.
    counted: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Permit")
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.counted {
            self.stats.add_batches_in_memory(-1);
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
    /// `auditfwd_batches_in_memory` from now until the events are dropped).
    pub fn new(batch: EventBatch, mut permit: Option<Permit>) -> Admitted {
        if let Some(permit) = &mut permit {
            permit.counted = true;
            permit.stats.add_batches_in_memory(1);
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
