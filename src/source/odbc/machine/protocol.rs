//! What goes into the machine and what comes out: positions, calls, the
//! server's answers, and the actions the reader carries out. Data only.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::super::chain::{ReceiverId, ReceiverInfo};
use super::super::session::Kind;
use super::super::sql::Start;
use crate::event::{Cursor as JournalCursor, JournalRow, Notice};

/// Where the next read starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Position {
    /// First start: entries at or after a local time, from the receiver holding it.
    FromTime {
        /// The local time to start at (`source.start_at`).
        at: NaiveDateTime,
        /// The receiver that holds `at`, once the receiver list said so; `None` before.
        receiver: Option<ReceiverId>,
    },
    /// First start with `start_at = "earliest"`.
    FromOldest,
    /// After an entry read (delivered, skipped, or the end of a window).
    After {
        /// Unknown until the first row is read on a first start.
        system: Option<String>,
        /// The receiver that holds the entry.
        receiver: ReceiverId,
        /// The entry's sequence number.
        sequence: u64,
        /// The entry's local time, kept to find it again if its receiver has gone.
        timestamp: Option<NaiveDateTime>,
    },
}

impl Position {
    /// The position just after `cursor`.
    pub(crate) fn of(cursor: &JournalCursor) -> Position {
        Position::After {
            system: Some(cursor.system_name.clone()),
            receiver: ReceiverId {
                library: cursor.receiver_library.clone(),
                name: cursor.receiver_name.clone(),
            },
            sequence: cursor.sequence_number,
            timestamp: cursor.entry_timestamp_local,
        }
    }
}

/// The last row a call returned, kept or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    /// The system the row came from, when the row said it.
    pub(crate) system: Option<String>,
    /// The row's sequence number: reading goes on after it.
    pub(crate) sequence: u64,
    /// The row's local time.
    pub(crate) timestamp: Option<NaiveDateTime>,
}

/// What one call (every configured type over one range) brought back.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// Rows to deliver, in sequence order.
    pub(crate) rows: Vec<JournalRow>,
    /// The last row returned, kept or not; `None` when the call returned nothing.
    pub(crate) last: Option<Seen>,
    /// Rows dropped as the forwarder's own database connections.
    pub(crate) own_dropped: usize,
    /// Rows the statements returned (kept, dropped or malformed).
    pub(crate) returned: usize,
}

/// One call to make: every configured type over one range of one receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    /// The receiver to read.
    pub(crate) receiver: ReceiverId,
    /// Which statement shape: a sequence window, or rows from a sequence or a time.
    pub(crate) kind: Kind,
    /// Where the call starts inside the receiver.
    pub(crate) start: Start,
    /// The window's last sequence number; `None` for a call bounded by rows.
    pub(crate) last: Option<u64>,
    /// The system, when known (a row that cannot be read is named after it).
    pub(crate) system: Option<String>,
    /// The sequence number a malformed row without one is placed at.
    pub(crate) anchor: u64,
}

/// What the server answered.
#[derive(Debug)]
pub(crate) enum Input {
    /// A new poll starts.
    Poll,
    /// Go on after [`Action::Moved`] without a cursor.
    Continue,
    /// The rows of `QSYS2.JOURNAL_RECEIVER_INFO`, oldest first, not empty.
    Receivers(Vec<ReceiverInfo>),
    /// What the last [`Action::Read`] returned.
    Rows(Read),
    /// A window call failed on an entry the server cannot convert (SQLSTATE
    /// class 22).
    DataError {
        /// The SQLSTATE the driver reported, when it gave one.
        sqlstate: Option<String>,
        /// The driver's message.
        message: String,
    },
}

/// Rows to hand out, with the cursor after them.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Chunk {
    /// The rows, in sequence order.
    pub(crate) rows: Vec<JournalRow>,
    /// The cursor after the chunk: its last row, or past dropped rows when the call
    /// ended there; `None` when there is no row and no end to move to.
    pub(crate) cursor: Option<JournalCursor>,
    /// Rows dropped as the forwarder's own database connections, for the metrics.
    pub(crate) own_rows_dropped: usize,
}

/// What the reader does next.
#[derive(Debug, PartialEq)]
pub(crate) enum Action {
    /// Read `QSYS2.JOURNAL_RECEIVER_INFO`; answer with [`Input::Receivers`].
    ReadReceivers,
    /// Make this call; answer with [`Input::Rows`] or [`Input::DataError`].
    Read(Call),
    /// Hand these rows out. `anomaly` is an error to log about them.
    Deliver {
        /// The rows and the cursor after them.
        chunk: Chunk,
        /// An error to log about these rows (for example a malformed row), if any.
        anomaly: Option<String>,
    },
    /// The position moved to the next receiver with nothing to hand out;
    /// with a cursor the poll ends with it (the checkpoint moves too),
    /// without one answer with [`Input::Continue`].
    Moved {
        /// The receiver the position left.
        from: ReceiverId,
        /// The receiver the position moved to.
        to: ReceiverId,
        /// The position at the start of `to`; `None` when reading goes on without a commit.
        cursor: Option<JournalCursor>,
    },
    /// Report one synthetic row, then hand it out with [`Machine::deliver`]
    /// and `notice.end`.
    Notice(NoticeRow),
    /// A window holds an entry the server cannot convert: the next call reads
    /// `window` sequence numbers, on a new connection. Nothing to hand out.
    Narrowed {
        /// The receiver the window is in.
        receiver: ReceiverId,
        /// First sequence number of the window that failed.
        first: u64,
        /// Last sequence number of the window that failed.
        last: u64,
        /// How many sequence numbers the next call reads.
        window: u64,
        /// The SQLSTATE of the failure, when the driver gave one.
        sqlstate: Option<String>,
    },
    /// Nothing more to read now. `waiting` names a receiver that cannot be
    /// read while no receiver follows it yet, and its status.
    CaughtUp {
        /// The receiver not readable yet and its status, or `None`.
        waiting: Option<(ReceiverId, String)>,
    },
    /// The poll took [`STEPS_PER_POLL`](super::STEPS_PER_POLL) steps without a call: nothing this time.
    Idle,
}

/// What a synthetic row says, at which position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NoticeRow {
    /// The event's `event_action`: [`NoticeRow::AUDIT_GAP`] or [`NoticeRow::MALFORMED_ROW`].
    pub(crate) action: &'static str,
    /// The system the row is about.
    pub(crate) system: String,
    /// The receiver the row is placed in.
    pub(crate) receiver: ReceiverId,
    /// The sequence number the row is placed at.
    pub(crate) sequence: u64,
    /// What happened, for the SOC analyst.
    pub(crate) message: String,
    /// The cursor after the row.
    pub(crate) end: Option<JournalCursor>,
    /// Whether the connection must be dropped first (a call failed mid-way).
    pub(crate) reconnect: bool,
}

impl NoticeRow {
    /// Entries the reader could not read (lost or gone): the gap is reported, not hidden.
    pub(crate) const AUDIT_GAP: &'static str = "audit_gap";
    /// A row that could not be read or converted, reported in place of the entry.
    pub(crate) const MALFORMED_ROW: &'static str = "malformed_row";

    /// The row, stamped with the reader's local time now and UTC now.
    pub(crate) fn row(&self, local: NaiveDateTime, now: DateTime<Utc>) -> JournalRow {
        if self.action == Self::MALFORMED_ROW {
            return malformed_row(
                &self.system,
                &self.receiver,
                self.sequence,
                local,
                self.message.clone(),
            );
        }
        let mut row = JournalRow::bare(
            &self.system,
            &self.receiver.library,
            &self.receiver.name,
            self.sequence,
            local,
            now,
        );
        row.entry_type_detail = Some("Journal entries lost before they were read".into());
        row.notice = Some(Notice {
            action: self.action,
            message: self.message.clone(),
        });
        row
    }
}

/// A `malformed_row` notice at `sequence` of `receiver`.
pub(crate) fn malformed_row(
    system: &str,
    receiver: &ReceiverId,
    sequence: u64,
    local: NaiveDateTime,
    message: String,
) -> JournalRow {
    let utc = DateTime::<Utc>::from_naive_utc_and_offset(local, Utc);
    let mut row = JournalRow::bare(
        system,
        &receiver.library,
        &receiver.name,
        sequence,
        local,
        utc,
    );
    row.entry_type_detail = Some("A journal row that could not be read".into());
    row.notice = Some(Notice {
        action: NoticeRow::MALFORMED_ROW,
        message,
    });
    row
}
