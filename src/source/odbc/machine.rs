//! The ODBC reader as a state machine: no connection, no clock, no I/O.
//!
//! It owns the position (a first start from a time or from the oldest entry,
//! then after an entry of a receiver), the receiver list while it may be
//! reused, the window width (narrowed around an entry the server cannot
//! convert), and the rows of the last call still to be handed out. The reader
//! ([`super::OdbcSource`]) feeds it what the server answered ([`Input`]) and
//! does what it answers ([`Action`]): read the receiver list, run a call, hand
//! rows out, report a gap or a malformed entry, or wait. [`super::chain`]
//! decides each step of the receiver walk.

mod protocol;

use std::collections::VecDeque;

use chrono::NaiveDateTime;

pub(crate) use self::protocol::{
    malformed_row, Action, Call, Chunk, Input, NoticeRow, Position, Read, Seen,
};
use super::chain::{self, Decision, ReceiverId, ReceiverInfo, WINDOW_ENTRIES};
use super::session::Kind;
use super::sql::Start;
use crate::event::{Cursor as JournalCursor, JournalRow};

/// Steps one poll may take that make no call and hand nothing out (moving
/// between receivers) before it gives up until the next poll.
pub(crate) const STEPS_PER_POLL: usize = 64;

/// The answer the machine waits for, with what it needs to go on.
#[derive(Debug)]
enum Waiting {
    Nothing,
    Receivers,
    /// A first start's call from a time over receiver `index`.
    FromTime {
        at: NaiveDateTime,
        index: usize,
        receivers: Vec<ReceiverInfo>,
    },
    /// A window call `first..=last`.
    Window {
        first: u64,
        last: u64,
    },
    /// A call bounded by rows over receiver `index`, whose end is unknown.
    Open {
        index: usize,
        receivers: Vec<ReceiverInfo>,
    },
}

/// The reader as a pure state machine: it owns the position and what is still to
/// hand out, takes what the server answered ([`Input`]) and says what to do next
/// ([`Action`]). No I/O, no clock.
pub(crate) struct Machine {
    position: Position,
    /// The receiver list as last read; kept while a detached receiver is read
    /// window by window (its end cannot move), read again otherwise.
    receivers: Option<Vec<ReceiverInfo>>,
    /// Sequence numbers per call: WINDOW_ENTRIES, halved while a window holds
    /// an entry the server cannot convert, until that entry is alone.
    window: u64,
    /// The width of a whole window: WINDOW_ENTRIES, or less in a fleet.
    whole_window: u64,
    /// The last sequence of the window that failed while narrowing.
    bad_until: u64,
    batch_rows: usize,
    /// Rows of the last call not handed out yet, and the cursor after them.
    pending: VecDeque<JournalRow>,
    pending_end: Option<JournalCursor>,
    pending_own: usize,
    /// Steps taken in this poll (see [`STEPS_PER_POLL`]).
    steps: usize,
    /// The answer the last action asked for.
    waiting: Waiting,
}

/// The fields of [`Position::After`], owned.
struct AfterEntry {
    system: Option<String>,
    receiver: ReceiverId,
    sequence: u64,
    timestamp: Option<NaiveDateTime>,
}

impl Machine {
    /// A machine reading from `position`, handing out at most `batch_rows` rows at a time.
    pub(crate) fn new(position: Position, batch_rows: usize) -> Machine {
        Machine {
            position,
            receivers: None,
            window: WINDOW_ENTRIES,
            whole_window: WINDOW_ENTRIES,
            bad_until: 0,
            batch_rows: batch_rows.max(1),
            pending: VecDeque::new(),
            pending_end: None,
            pending_own: 0,
            steps: 0,
            waiting: Waiting::Nothing,
        }
    }

    /// Whole windows of `entries` sequence numbers (1 to WINDOW_ENTRIES)
    /// instead of WINDOW_ENTRIES: the rows of one call are held at once.
    pub(crate) fn with_window(mut self, entries: u64) -> Machine {
        self.whole_window = entries.clamp(1, WINDOW_ENTRIES);
        self.window = self.whole_window;
        self
    }

    /// The connection was dropped: the receiver list is read again.
    pub(crate) fn forget_receivers(&mut self) {
        self.receivers = None;
    }

    /// Whether rows (or the cursor after them) of the last call are left to hand out.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.pending_end.is_some()
    }

    /// The next step, given what the server answered.
    pub(crate) fn step(&mut self, input: Input) -> Action {
        let waiting = std::mem::replace(&mut self.waiting, Waiting::Nothing);
        match (input, waiting) {
            (Input::Poll, _) => {
                self.steps = 0;
                self.next_step()
            }
            (Input::Continue, _) => self.next_step(),
            (Input::Receivers(receivers), Waiting::Receivers) => self.with_receivers(receivers),
            (
                Input::Rows(read),
                Waiting::FromTime {
                    at,
                    index,
                    receivers,
                },
            ) => self.after_time_read(read, at, index, &receivers),
            (Input::Rows(read), Waiting::Window { last, .. }) => self.after_window(read, last),
            (Input::Rows(read), Waiting::Open { index, receivers }) => {
                self.after_open_read(read, index, &receivers)
            }
            (Input::DataError { sqlstate, message }, Waiting::Window { first, last }) => {
                self.isolate(sqlstate, message, first, last)
            }
            (input, waiting) => {
                panic!("the ODBC reader answered {input:?} while {waiting:?} was asked")
            }
        }
    }

    /// Keeps `rows` to hand out, `end` being the cursor after the last of them;
    /// returns the first chunk.
    pub(crate) fn deliver(
        &mut self,
        rows: Vec<JournalRow>,
        own_dropped: usize,
        end: Option<JournalCursor>,
    ) -> Chunk {
        self.pending = rows.into();
        self.pending_end = end;
        self.pending_own = own_dropped;
        self.next_chunk()
    }

    /// The next `batch_rows` rows of the last call, with the cursor after them.
    pub(crate) fn next_chunk(&mut self) -> Chunk {
        let take = self.pending.len().min(self.batch_rows);
        let rows: Vec<JournalRow> = self.pending.drain(..take).collect();
        let cursor = if self.pending.is_empty() {
            self.pending_end
                .take()
                .or_else(|| rows.last().map(JournalCursor::of))
        } else {
            rows.last().map(JournalCursor::of)
        };
        Chunk {
            rows,
            cursor,
            own_rows_dropped: std::mem::take(&mut self.pending_own),
        }
    }

    /// From the top: what the position needs next.
    fn next_step(&mut self) -> Action {
        if self.steps == STEPS_PER_POLL {
            return Action::Idle;
        }
        self.steps += 1;
        let Position::After {
            receiver, sequence, ..
        } = &self.position
        else {
            self.waiting = Waiting::Receivers;
            return Action::ReadReceivers;
        };
        match self.receivers.take() {
            // A detached receiver with more to read: its end cannot move.
            // The attached one, while a whole window lies below the
            // LAST_SEQUENCE_NUMBER read before: every entry in it was
            // written then, so reading the list again could not change
            // the window (one read per catch-up instead of one per window).
            Some(cached)
                if matches!(
                    chain::decide(&cached, receiver, *sequence, self.timestamp(), self.window),
                    Decision::Read { index, last: Some(last), .. }
                        if !cached[index].attached
                            || last == sequence.saturating_add(self.window)
                ) =>
            {
                self.decide(cached)
            }
            _ => {
                self.waiting = Waiting::Receivers;
                Action::ReadReceivers
            }
        }
    }

    fn timestamp(&self) -> Option<NaiveDateTime> {
        match &self.position {
            Position::After { timestamp, .. } => *timestamp,
            _ => None,
        }
    }

    fn with_receivers(&mut self, receivers: Vec<ReceiverInfo>) -> Action {
        match self.position.clone() {
            Position::FromOldest => {
                let oldest = &receivers[0];
                self.position = Position::After {
                    system: None,
                    receiver: oldest.id.clone(),
                    sequence: oldest.first_sequence.unwrap_or(1).saturating_sub(1),
                    timestamp: None,
                };
                self.next_step()
            }
            Position::FromTime { at, receiver } => self.start_at_time(receivers, at, receiver),
            Position::After { .. } => self.decide(receivers),
        }
    }

    /// A first start from local time `at`: the receiver attached at or before
    /// it (or the oldest), read once from `at`, bounded by rows.
    fn start_at_time(
        &mut self,
        receivers: Vec<ReceiverInfo>,
        at: NaiveDateTime,
        receiver: Option<ReceiverId>,
    ) -> Action {
        let index = match receiver.as_ref().and_then(|id| chain::find(&receivers, id)) {
            Some(index) => index,
            None => receivers
                .iter()
                .rposition(|info| info.attach_timestamp.is_some_and(|attached| attached <= at))
                .unwrap_or(0),
        };
        let info = &receivers[index];
        if info.unreadable.is_some() {
            // Its entries at or after the start time cannot be read:
            // one gap, then the receivers after it (all later).
            self.position = Position::After {
                system: None,
                receiver: info.id.clone(),
                sequence: info.first_sequence.unwrap_or(1).saturating_sub(1),
                timestamp: Some(at),
            };
            return self.next_step();
        }
        let call = Call {
            receiver: info.id.clone(),
            kind: Kind::FromTimestamp,
            start: Start::Timestamp(at),
            last: None,
            system: None,
            anchor: 0,
        };
        self.waiting = Waiting::FromTime {
            at,
            index,
            receivers,
        };
        Action::Read(call)
    }

    fn after_time_read(
        &mut self,
        read: Read,
        at: NaiveDateTime,
        index: usize,
        receivers: &[ReceiverInfo],
    ) -> Action {
        if let Some(seen) = read.last {
            self.position = Position::After {
                system: seen.system,
                receiver: receivers[index].id.clone(),
                sequence: seen.sequence,
                timestamp: seen.timestamp,
            };
            let end = self.end_cursor(&read.rows);
            return self.deliver_read(read.rows, read.own_dropped, end, None);
        }
        match chain::after_empty_open_read(receivers, index) {
            Decision::Move { next } | Decision::Gap { next, .. } => {
                // Nothing read yet: no entry can have been missed.
                self.position = Position::FromTime {
                    at,
                    receiver: Some(receivers[next].id.clone()),
                };
                self.next_step()
            }
            _ => Action::CaughtUp { waiting: None },
        }
    }

    /// The position after an entry, which every step past the first read
    /// stands on (a first start reaches them only after its first row).
    fn after_entry(&self, step: &str) -> AfterEntry {
        match &self.position {
            Position::After {
                system,
                receiver,
                sequence,
                timestamp,
            } => AfterEntry {
                system: system.clone(),
                receiver: receiver.clone(),
                sequence: *sequence,
                timestamp: *timestamp,
            },
            _ => unreachable!("{step} runs only after an entry"),
        }
    }

    /// After an entry: what [`chain::decide`] says, with `receivers`.
    fn decide(&mut self, receivers: Vec<ReceiverInfo>) -> Action {
        let AfterEntry {
            system,
            receiver,
            sequence,
            timestamp,
        } = self.after_entry("decide");
        let decision = chain::decide(&receivers, &receiver, sequence, timestamp, self.window);
        self.receivers = Some(receivers.clone());
        match decision {
            Decision::Read { index, first, last } => {
                let call = Call {
                    receiver: receivers[index].id.clone(),
                    kind: if last.is_some() {
                        Kind::Window
                    } else {
                        Kind::FromSequence
                    },
                    start: Start::Sequence(first),
                    last,
                    system,
                    anchor: sequence,
                };
                self.waiting = match last {
                    Some(last) => Waiting::Window { first, last },
                    None => Waiting::Open { index, receivers },
                };
                Action::Read(call)
            }
            other => self.follow(other, &receivers),
        }
    }

    fn after_window(&mut self, read: Read, last: u64) -> Action {
        let AfterEntry {
            system,
            receiver,
            sequence,
            timestamp,
        } = self.after_entry("a window read");
        // Past the window that failed: whole windows again.
        if self.window < self.whole_window && last >= self.bad_until {
            self.window = self.whole_window;
        }
        let anomaly = read.rows.first().filter(|row| row.sequence_number <= sequence).map(|row| {
            format!("audit gap: sequence numbers went backwards inside receiver {receiver} (read {} after {sequence}); entries may be missing or repeated", row.sequence_number)
        });
        let system = system.or_else(|| read.last.and_then(|seen| seen.system));
        let last_row = read.rows.last();
        let timestamp = last_row.map(|row| row.entry_timestamp_local).or(timestamp);
        let end = system.as_ref().map(|system| JournalCursor {
            system_name: system.clone(),
            receiver_library: receiver.library.clone(),
            receiver_name: receiver.name.clone(),
            sequence_number: last,
            entry_timestamp_local: timestamp,
            entry_timestamp: last_row.map(|row| row.entry_timestamp),
            signals: None,
            sessions: None,
        });
        self.position = Position::After {
            system,
            receiver,
            sequence: last,
            timestamp,
        };
        self.deliver_read(read.rows, read.own_dropped, end, anomaly)
    }

    fn after_open_read(&mut self, read: Read, index: usize, receivers: &[ReceiverInfo]) -> Action {
        let AfterEntry {
            system,
            receiver,
            timestamp,
            ..
        } = self.after_entry("a read from a sequence");
        if let Some(seen) = read.last {
            self.position = Position::After {
                system: system.or(seen.system),
                receiver,
                sequence: seen.sequence,
                timestamp: seen.timestamp.or(timestamp),
            };
            let end = self.end_cursor(&read.rows);
            return self.deliver_read(read.rows, read.own_dropped, end, None);
        }
        let decision = chain::after_empty_open_read(receivers, index);
        self.follow(decision, receivers)
    }

    fn deliver_read(
        &mut self,
        rows: Vec<JournalRow>,
        own_dropped: usize,
        end: Option<JournalCursor>,
        anomaly: Option<String>,
    ) -> Action {
        Action::Deliver {
            chunk: self.deliver(rows, own_dropped, end),
            anomaly,
        }
    }

    /// A window call failed on an entry the server cannot convert (SQLSTATE
    /// class 22): halve the window and read again, until the entry is alone;
    /// then it becomes one `malformed_row` notice at its position, and reading
    /// goes on after it with whole windows. The good entries around it are
    /// read, none is skipped.
    fn isolate(
        &mut self,
        sqlstate: Option<String>,
        message: String,
        first: u64,
        last: u64,
    ) -> Action {
        // The statement failed mid-call: the next one runs on a new connection.
        self.forget_receivers();
        let AfterEntry {
            system, receiver, ..
        } = self.after_entry("a window read");
        let width = last.saturating_sub(first).saturating_add(1);
        if width > 1 {
            self.window = (width / 2).max(1);
            self.bad_until = last;
            return Action::Narrowed {
                receiver,
                first,
                last,
                window: self.window,
                sqlstate,
            };
        }
        let message = format!(
            "journal entry {first} of receiver {receiver} cannot be read: the server cannot convert it (SQLSTATE {}); it is skipped and reading goes on after it. {message}",
            sqlstate.as_deref().unwrap_or("none"),
        );
        self.window = self.whole_window;
        self.position = Position::After {
            system: system.clone(),
            receiver: receiver.clone(),
            sequence: first,
            timestamp: None,
        };
        Action::Notice(NoticeRow {
            action: NoticeRow::MALFORMED_ROW,
            system: system.unwrap_or_else(|| "UNKNOWN".to_owned()),
            receiver,
            sequence: first,
            message,
            end: self.position_cursor(),
            reconnect: true,
        })
    }

    /// Carries out a decision that makes no call.
    fn follow(&mut self, decision: Decision, receivers: &[ReceiverInfo]) -> Action {
        let AfterEntry {
            system,
            receiver,
            sequence,
            timestamp,
        } = self.after_entry("following the chain");
        let message = match decision {
            Decision::Read { .. } => return self.next_step(),
            Decision::CaughtUp => return Action::CaughtUp { waiting: None },
            Decision::Move { next } => {
                let next = &receivers[next];
                self.position = Position::After {
                    system,
                    receiver: next.id.clone(),
                    sequence: next.first_sequence.unwrap_or(1).saturating_sub(1),
                    timestamp,
                };
                // The checkpoint moves too (when there is one to move).
                return Action::Moved {
                    from: receiver,
                    to: next.id.clone(),
                    cursor: self.position_cursor(),
                };
            }
            Decision::Gap { next, lost } => {
                let next = &receivers[next];
                let message = format!(
                    "audit gap: between receiver {receiver} (read to sequence {sequence}) and receiver {}: {lost}; those entries were deleted before they were read; continuing with receiver {}",
                    next.id, next.id
                );
                (message, next)
            }
            Decision::Deleted { resume } => {
                let resume = &receivers[resume];
                let message = format!(
                    "audit gap: receiver {receiver} was deleted before it was read to the end; entries after sequence {sequence} in it{} are lost; continuing with receiver {} (keep receivers longer than the longest outage)",
                    timestamp.map(|at| format!(" (after local time {at})")).unwrap_or_default(),
                    resume.id
                );
                (message, resume)
            }
            Decision::Unreadable { index, resume } => {
                let info = &receivers[index];
                let status = info.unreadable.as_deref().unwrap_or("not readable");
                let Some(resume) = resume else {
                    // Nothing after it yet: said once a poll, and wait.
                    return Action::CaughtUp {
                        waiting: Some((receiver, status.to_owned())),
                    };
                };
                let range = match info.last_sequence {
                    Some(last) if last > sequence => {
                        format!("sequence numbers {} to {last}", sequence.saturating_add(1))
                    }
                    _ => format!("every entry after sequence {sequence}"),
                };
                let resume = &receivers[resume];
                let message = format!(
                    "audit gap: receiver {receiver} cannot be read (STATUS {status}: it was saved with its storage freed); {range} in it are lost to auditfwd; continuing with receiver {}. To recover them, restore the receiver (RSTOBJ OBJTYPE(*JRNRCV)) and run `auditfwd backfill` over that range",
                    resume.id
                );
                (message, resume)
            }
            Decision::Replaced { resume, last } => {
                let resume = &receivers[resume];
                let message = format!(
                    "audit gap: receiver {receiver} now ends at sequence {last} but sequence {sequence} was already read from it: the receiver was replaced; its entries cannot be trusted to be complete; continuing with receiver {}",
                    resume.id
                );
                (message, resume)
            }
        };
        let (message, resume) = message;
        let system = system.unwrap_or_else(|| "UNKNOWN".to_owned());
        self.gap(system, receiver, sequence, message, resume)
    }

    /// One `audit_gap` notice about `receiver`; the position moves to just
    /// before the first entry of `resume`.
    fn gap(
        &mut self,
        system: String,
        receiver: ReceiverId,
        sequence: u64,
        message: String,
        resume: &ReceiverInfo,
    ) -> Action {
        let cursor = JournalCursor {
            system_name: system.clone(),
            receiver_library: resume.id.library.clone(),
            receiver_name: resume.id.name.clone(),
            sequence_number: resume.first_sequence.unwrap_or(1).saturating_sub(1),
            entry_timestamp_local: None,
            entry_timestamp: None,
            signals: None,
            sessions: None,
        };
        self.position = Position::of(&cursor);
        Action::Notice(NoticeRow {
            action: NoticeRow::AUDIT_GAP,
            system,
            receiver,
            sequence,
            message,
            end: Some(cursor),
            reconnect: false,
        })
    }

    /// The cursor of the current position, when the system is known.
    fn position_cursor(&self) -> Option<JournalCursor> {
        match &self.position {
            Position::After {
                system: Some(system),
                receiver,
                sequence,
                timestamp,
            } => Some(JournalCursor {
                system_name: system.clone(),
                receiver_library: receiver.library.clone(),
                receiver_name: receiver.name.clone(),
                sequence_number: *sequence,
                entry_timestamp_local: *timestamp,
                entry_timestamp: None,
                signals: None,
                sessions: None,
            }),
            _ => None,
        }
    }

    /// The cursor after a rows-bounded read: the last row's, unless rows the
    /// forwarder dropped (its own) came after it.
    fn end_cursor(&self, rows: &[JournalRow]) -> Option<JournalCursor> {
        match (&self.position, rows.last()) {
            (Position::After { sequence, .. }, Some(row)) if row.sequence_number == *sequence => {
                Some(JournalCursor::of(row))
            }
            _ => self.position_cursor(),
        }
    }
}

#[cfg(test)]
mod tests;
