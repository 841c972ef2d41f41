//! The ledger: which batches are read and not yet committed, which sinks have
//! acknowledged each, and how far the checkpoint may move.
//!
//! Pure bookkeeping: no I/O, no time, no async. Acknowledgements may arrive in
//! any order and from any sink; the commit point is always the end of the
//! longest prefix of batches that **every** sink acknowledged.

use std::collections::VecDeque;

use crate::event::Cursor;

/// What the ledger was told that cannot be true: a bug in the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// An acknowledgement for a batch that is not pending (never registered, or committed).
    #[error("sink {sink} acknowledged batch {batch}, which is not pending")]
    UnknownBatch {
        /// The batch id acknowledged.
        batch: u64,
        /// The index of the sink that acknowledged it.
        sink: usize,
    },
    /// A second acknowledgement of one batch by one sink.
    #[error("sink {sink} acknowledged batch {batch} twice")]
    DuplicateAck {
        /// The batch id acknowledged twice.
        batch: u64,
        /// The index of the sink that acknowledged it.
        sink: usize,
    },
    /// An acknowledgement from a sink index the ledger does not have.
    #[error("acknowledgement from sink {sink}, but there are only {sinks} sinks")]
    UnknownSink {
        /// The sink index given.
        sink: usize,
        /// How many sinks the ledger has.
        sinks: usize,
    },
}

/// A move of the checkpoint: the cursor after the last of `batches` batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The cursor after the last committed batch: what the checkpoint stores.
    pub cursor: Cursor,
    /// How many batches this commit covers.
    pub batches: usize,
    /// Entry time (UTC µs) of the newest journal event in the committed
    /// batches, for the lag gauge; `None` when they carried no events.
    pub newest_entry_micros: Option<i64>,
    /// The session table's changes of every committed batch, in read order
    /// (written with the cursor, in the same atomic write).
    pub sessions: Vec<std::sync::Arc<crate::event::session::SessionChanges>>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    cursor: Cursor,
    newest_entry_micros: Option<i64>,
    /// `acked[sink]`: has this sink acknowledged the batch?
    acked: Vec<bool>,
    waiting: usize,
}

/// Pending batches in read order, with per-sink acknowledgements.
#[derive(Debug)]
pub struct Ledger {
    sinks: usize,
    next_id: u64,
    pending: VecDeque<Entry>,
}

impl Ledger {
    /// An empty ledger for `sinks` sinks, indexed from 0.
    pub fn new(sinks: usize) -> Ledger {
        Ledger {
            sinks,
            next_id: 0,
            pending: VecDeque::new(),
        }
    }

    /// Records a batch read up to `cursor`; returns its id (0, 1, 2, ... in read order).
    pub fn register(&mut self, cursor: Cursor, newest_entry_micros: Option<i64>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.push_back(Entry {
            id,
            cursor,
            newest_entry_micros,
            acked: vec![false; self.sinks],
            waiting: self.sinks,
        });
        id
    }

    /// Records that `sink` holds batch `batch` durably (or set it aside).
    pub fn acknowledge(&mut self, batch: u64, sink: usize) -> Result<(), LedgerError> {
        if sink >= self.sinks {
            return Err(LedgerError::UnknownSink {
                sink,
                sinks: self.sinks,
            });
        }
        let front = self
            .pending
            .front()
            .map(|entry| entry.id)
            .ok_or(LedgerError::UnknownBatch { batch, sink })?;
        let entry = batch
            .checked_sub(front)
            .and_then(|offset| usize::try_from(offset).ok())
            .and_then(|offset| self.pending.get_mut(offset))
            .ok_or(LedgerError::UnknownBatch { batch, sink })?;
        if std::mem::replace(&mut entry.acked[sink], true) {
            return Err(LedgerError::DuplicateAck { batch, sink });
        }
        entry.waiting -= 1;
        Ok(())
    }

    /// Removes the longest fully acknowledged prefix and says where the
    /// checkpoint moves; `None` when the oldest batch still waits for a sink.
    pub fn take_committable(&mut self) -> Option<Commit> {
        let mut commit: Option<Commit> = None;
        while self.pending.front().is_some_and(|entry| entry.waiting == 0) {
            let mut entry = self.pending.pop_front()?;
            let newest = entry.newest_entry_micros;
            let changes = entry.cursor.sessions.take();
            commit = Some(match commit {
                None => Commit {
                    cursor: entry.cursor,
                    batches: 1,
                    newest_entry_micros: newest,
                    sessions: changes.into_iter().collect(),
                },
                Some(mut previous) => {
                    previous.sessions.extend(changes);
                    Commit {
                        cursor: entry.cursor,
                        batches: previous.batches + 1,
                        newest_entry_micros: newest.or(previous.newest_entry_micros),
                        sessions: previous.sessions,
                    }
                }
            });
        }
        commit
    }

    /// Batches read and not yet committed.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether no batch is pending (every batch read is committed).
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Batches that `sink` has not acknowledged yet.
    pub fn unacknowledged_by(&self, sink: usize) -> usize {
        self.pending
            .iter()
            .filter(|entry| !entry.acked.get(sink).copied().unwrap_or(true))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(sequence: u64) -> Cursor {
        Cursor {
            system_name: "SYS".into(),
            receiver_library: "QGPL".into(),
            receiver_name: "AUDRCV0001".into(),
            sequence_number: sequence,
            entry_timestamp_local: None,
            entry_timestamp: None,
            signals: None,
            sessions: None,
        }
    }

    /// One step of a table: acknowledge (batch, sink), then the sequence the
    /// checkpoint moved to (None = it did not move).
    struct Step {
        ack: (u64, usize),
        commits_to: Option<u64>,
    }

    fn step(batch: u64, sink: usize, commits_to: Option<u64>) -> Step {
        Step {
            ack: (batch, sink),
            commits_to,
        }
    }

    /// Registers `batches` batches (batch i ends at sequence 10·(i+1)) for
    /// `sinks` sinks and plays the steps.
    fn check(sinks: usize, batches: u64, steps: &[Step]) {
        let mut ledger = Ledger::new(sinks);
        for batch in 0..batches {
            assert_eq!(ledger.register(cursor(10 * (batch + 1)), None), batch);
        }
        for (index, step) in steps.iter().enumerate() {
            ledger
                .acknowledge(step.ack.0, step.ack.1)
                .unwrap_or_else(|error| panic!("step {index}: {error}"));
            let moved = ledger
                .take_committable()
                .map(|commit| commit.cursor.sequence_number);
            assert_eq!(moved, step.commits_to, "step {index}: ack {:?}", step.ack);
        }
    }

    #[test]
    fn one_sink_in_order_commits_each_batch() {
        check(
            1,
            3,
            &[
                step(0, 0, Some(10)),
                step(1, 0, Some(20)),
                step(2, 0, Some(30)),
            ],
        );
    }

    #[test]
    fn out_of_order_acks_wait_for_the_oldest_then_commit_the_whole_prefix() {
        check(
            1,
            4,
            &[
                step(2, 0, None),
                step(1, 0, None),
                step(3, 0, None),
                step(0, 0, Some(40)),
            ],
        );
    }

    #[test]
    fn a_fast_sink_never_moves_the_checkpoint_past_a_slow_one() {
        check(
            2,
            3,
            &[
                step(0, 0, None),
                step(1, 0, None),
                step(2, 0, None),
                step(1, 1, None),
                step(0, 1, Some(20)),
                step(2, 1, Some(30)),
            ],
        );
    }

    #[test]
    fn a_batch_retried_in_the_middle_holds_back_everything_behind_it() {
        // Batch 1 fails and is resent alone; 2 and 3 stay acknowledged.
        check(
            2,
            4,
            &[
                step(0, 0, None),
                step(0, 1, Some(10)),
                step(2, 0, None),
                step(3, 0, None),
                step(2, 1, None),
                step(3, 1, None),
                step(1, 1, None),
                step(1, 0, Some(40)),
            ],
        );
    }

    #[test]
    fn impossible_acks_are_errors_not_silent_commits() {
        let mut ledger = Ledger::new(2);
        assert_eq!(
            ledger.acknowledge(0, 0),
            Err(LedgerError::UnknownBatch { batch: 0, sink: 0 })
        );
        ledger.register(cursor(10), None);
        assert_eq!(
            ledger.acknowledge(0, 2),
            Err(LedgerError::UnknownSink { sink: 2, sinks: 2 })
        );
        ledger.acknowledge(0, 1).unwrap();
        assert_eq!(
            ledger.acknowledge(0, 1),
            Err(LedgerError::DuplicateAck { batch: 0, sink: 1 })
        );
        assert_eq!(
            ledger.acknowledge(7, 0),
            Err(LedgerError::UnknownBatch { batch: 7, sink: 0 })
        );
        assert_eq!(ledger.take_committable(), None);
        ledger.acknowledge(0, 0).unwrap();
        assert_eq!(ledger.take_committable().map(|c| c.batches), Some(1));
        // Committed batches are gone: a late duplicate is an error.
        assert_eq!(
            ledger.acknowledge(0, 0),
            Err(LedgerError::UnknownBatch { batch: 0, sink: 0 })
        );
    }

    #[test]
    fn a_commit_reports_its_batch_count_and_newest_entry_time() {
        let mut ledger = Ledger::new(1);
        ledger.register(cursor(10), Some(100));
        ledger.register(cursor(20), Some(200));
        ledger.register(cursor(30), None);
        assert_eq!(ledger.unacknowledged_by(0), 3);
        for batch in [2, 1, 0] {
            ledger.acknowledge(batch, 0).unwrap();
        }
        assert_eq!(
            ledger.take_committable(),
            Some(Commit {
                cursor: cursor(30),
                batches: 3,
                newest_entry_micros: Some(200),
                sessions: Vec::new(),
            })
        );
        assert!(ledger.is_empty());
    }
}
