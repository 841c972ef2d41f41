//! The receiver chain of QSYS/QAUDJRN as data: which receiver to read next,
//! which sequence window to ask for, and when the chain has a hole.
//!
//! Pure: no connection, no clock, no I/O. The ODBC glue asks [`decide`] what to
//! do from its position and the rows of `QSYS2.JOURNAL_RECEIVER_INFO`, and does it.

use chrono::NaiveDateTime;

/// Most journal entries (sequence numbers, every entry type) one table-function
/// call covers. Db2 for i reads and sorts everything a call's range covers before
/// the first row comes back, so this bounds the work of each call on the IBM i,
/// and the rows the forwarder holds at once.
pub const WINDOW_ENTRIES: u64 = 10_000;

/// A journal receiver, by library and name (`QSYS/QAUDJRN0042`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReceiverId {
    /// The receiver's library (JOURNAL_RECEIVER_LIBRARY), trimmed.
    pub library: String,
    /// The receiver's name (JOURNAL_RECEIVER_NAME), trimmed.
    pub name: String,
}

impl std::fmt::Display for ReceiverId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.library, self.name)
    }
}

/// One row of `QSYS2.JOURNAL_RECEIVER_INFO`. Every column but the name may be
/// missing (NULL, or a release without it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiverInfo {
    /// The receiver's library and name.
    pub id: ReceiverId,
    /// Whether the receiver is the one attached now (STATUS `ATTACHED`), still being written.
    pub attached: bool,
    /// FIRST_SEQUENCE_NUMBER: the first entry it holds.
    pub first_sequence: Option<u64>,
    /// LAST_SEQUENCE_NUMBER: the last entry it holds so far.
    pub last_sequence: Option<u64>,
    /// ATTACH_TIMESTAMP, local time: when it started receiving entries.
    pub attach_timestamp: Option<NaiveDateTime>,
    /// DETACH_TIMESTAMP, local time: when the next receiver took over; `None` while attached.
    pub detach_timestamp: Option<NaiveDateTime>,
    /// NEXT_JOURNAL_RECEIVER(_LIBRARY): the receiver attached when this one was detached.
    pub next: Option<ReceiverId>,
    /// The STATUS, when it says the entries cannot be read: `FREED` (saved with
    /// its storage freed, SAVRCV STG(*FREE)). `None` for a readable receiver
    /// (ATTACHED, ONLINE, SAVED, or a status the reader does not know).
    pub unreadable: Option<String>,
}

impl ReceiverInfo {
    /// The STATUS values whose receivers hold no entries that can be read.
    pub const UNREADABLE: &'static [&'static str] = &["FREED"];

    /// `Some(status)` when `status` says the receiver's entries cannot be read.
    pub fn unreadable_status(status: Option<&str>) -> Option<String> {
        let status = status?.trim().to_ascii_uppercase();
        Self::UNREADABLE
            .contains(&status.as_str())
            .then_some(status)
    }
}

/// What the reader does next from a position after `sequence` in a receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Read receiver `index` from sequence `first` to `last` inclusive, in one
    /// call. `last` is `None` when the receiver does not say where it ends (a
    /// release without LAST_SEQUENCE_NUMBER): read from `first`, bounded by rows.
    Read {
        /// Index of the receiver in the list given to [`decide`].
        index: usize,
        /// First sequence number to read.
        first: u64,
        /// Last sequence number to read, or `None`: bounded by rows only.
        last: Option<u64>,
    },
    /// The attached receiver has nothing after the position.
    CaughtUp,
    /// The receiver is read to its end; the chain goes on intact with `next`.
    Move {
        /// Index of the next receiver in the list.
        next: usize,
    },
    /// The receiver is read to its end, but entries between it and `next` are
    /// gone: report one audit gap, then continue with `next`.
    Gap {
        /// Index of the next receiver in the list.
        next: usize,
        /// What is missing between the two, in words, for the audit gap's message.
        lost: String,
    },
    /// The position's receiver itself is gone (deleted before it was read to the
    /// end): report one audit gap, then continue with `resume`.
    Deleted {
        /// Index of the receiver to continue with.
        resume: usize,
    },
    /// The position's receiver now ends before the position: it was replaced.
    Replaced {
        /// Index of the receiver to continue with.
        resume: usize,
        /// The receiver's last sequence number now.
        last: u64,
    },
    /// The position's receiver is there but cannot be read (its storage was
    /// freed): report one audit gap naming it, then continue with `resume`, or
    /// wait when nothing follows it yet.
    Unreadable {
        /// Index of the unreadable receiver in the list.
        index: usize,
        /// Index of the receiver to continue with; `None` when none follows yet.
        resume: Option<usize>,
    },
}

/// The next step after `sequence` in `receiver`, reading at most `window`
/// sequence numbers per call. `receivers` is in attach order and not empty.
pub fn decide(
    receivers: &[ReceiverInfo],
    receiver: &ReceiverId,
    sequence: u64,
    last_read: Option<NaiveDateTime>,
    window: u64,
) -> Decision {
    let Some(index) = find(receivers, receiver) else {
        return Decision::Deleted {
            resume: successor_of(receivers, receiver, last_read),
        };
    };
    let info = &receivers[index];
    if info.unreadable.is_some() {
        return Decision::Unreadable {
            index,
            resume: next_of(receivers, index),
        };
    }
    let first = sequence.saturating_add(1);
    match info.last_sequence {
        Some(last) if !info.attached && last < sequence => Decision::Replaced {
            resume: if index + 1 < receivers.len() {
                index + 1
            } else {
                index
            },
            last,
        },
        Some(last) if first <= last => Decision::Read {
            index,
            first,
            last: Some(last.min(sequence.saturating_add(window.max(1)))),
        },
        None => Decision::Read {
            index,
            first,
            last: None,
        },
        Some(_) if info.attached => Decision::CaughtUp,
        Some(_) => match next_of(receivers, index) {
            None => Decision::CaughtUp,
            Some(next) => match chain_break(info, &receivers[next]) {
                Some(lost) => Decision::Gap { next, lost },
                None => Decision::Move { next },
            },
        },
    }
}

/// After a read of a receiver whose end is unknown came back empty: go on, or stop.
pub fn after_empty_open_read(receivers: &[ReceiverInfo], index: usize) -> Decision {
    let info = &receivers[index];
    if info.attached {
        return Decision::CaughtUp;
    }
    match next_of(receivers, index) {
        None => Decision::CaughtUp,
        Some(next) => match chain_break(info, &receivers[next]) {
            Some(lost) => Decision::Gap { next, lost },
            None => Decision::Move { next },
        },
    }
}

/// The receiver after `index`: the one its NEXT_JOURNAL_RECEIVER names when it
/// is there, else the next one attached.
pub fn next_of(receivers: &[ReceiverInfo], index: usize) -> Option<usize> {
    receivers[index]
        .next
        .as_ref()
        .and_then(|next| find(receivers, next))
        .or_else(|| (index + 1 < receivers.len()).then_some(index + 1))
}

/// Why the chain from `current` to `next` has a hole, if it has one.
///
/// NEXT_JOURNAL_RECEIVER is the journal's own record of the chain: when it names
/// `next`, only the sequence numbers can still show a hole (they continue, or
/// restart at 1), and timestamps are never consulted: a receiver detached at
/// power-down and the one attached during the IPL are minutes apart, with
/// nothing lost. When it names another receiver, that one is missing. Only
/// without the link do the attach and detach times decide whether a reset
/// receiver followed directly.
pub fn chain_break(current: &ReceiverInfo, next: &ReceiverInfo) -> Option<String> {
    if let Some(named) = current.next.as_ref().filter(|named| **named != next.id) {
        return Some(format!("receiver {named} is missing"));
    }
    let linked = current.next.as_ref() == Some(&next.id);
    match (current.last_sequence, next.first_sequence) {
        (Some(last), Some(first)) if first != last.saturating_add(1) && first != 1 => {
            Some(format!(
                "sequence numbers {} to {} are missing",
                last.saturating_add(1),
                first.saturating_sub(1)
            ))
        }
        _ if linked => None,
        (Some(_), Some(1)) => match (current.detach_timestamp, next.attach_timestamp) {
            (Some(detached), Some(attached)) if (attached - detached).num_seconds().abs() > 5 => Some(
                "at least one receiver is missing (the sequence restarts, the journal does not name the next receiver, and the next one was not attached when this one was detached)".into(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// The receiver to continue with after `lost` disappeared: the first one whose
/// generated name follows it (CHGJRN JRNRCV(*GEN) counts the name up), else the
/// first attached after the last entry read, else the oldest there is.
pub fn successor_of(
    receivers: &[ReceiverInfo],
    lost: &ReceiverId,
    last_read: Option<NaiveDateTime>,
) -> usize {
    let stem = lost
        .name
        .trim_end_matches(|character: char| character.is_ascii_digit());
    receivers
        .iter()
        .enumerate()
        .filter(|(_, info)| {
            info.id.library == lost.library
                && info.id.name.len() == lost.name.len()
                && info.id.name.starts_with(stem)
                && info.id.name > lost.name
        })
        .min_by(|(_, left), (_, right)| left.id.name.cmp(&right.id.name))
        .map(|(index, _)| index)
        .or_else(|| {
            receivers.iter().position(|info| {
                last_read
                    .is_some_and(|at| info.attach_timestamp.is_some_and(|attached| attached >= at))
            })
        })
        .unwrap_or(0)
}

/// Index of the receiver `id` in `receivers`, if it is listed.
pub fn find(receivers: &[ReceiverInfo], id: &ReceiverId) -> Option<usize> {
    receivers.iter().position(|info| info.id == *id)
}

/// One row of `sql::receivers()` (columns by position, trimmed, empty as
/// `None`) as the chain reads it; `None` without a library and a name.
pub fn receiver_of_row(text: impl Fn(usize) -> Option<String>) -> Option<ReceiverInfo> {
    let number = |index: usize| {
        text(index).and_then(|value| {
            value
                .split('.')
                .next()
                .and_then(|whole| whole.parse::<u64>().ok())
        })
    };
    let id = ReceiverId {
        library: text(0)?,
        name: text(1)?,
    };
    let next = match (text(7), text(8)) {
        (Some(library), Some(name)) => Some(ReceiverId { library, name }),
        (None, Some(name)) => Some(ReceiverId {
            library: id.library.clone(),
            name,
        }),
        _ => None,
    };
    Some(ReceiverInfo {
        attached: text(2).is_some_and(|status| status.eq_ignore_ascii_case("ATTACHED")),
        first_sequence: number(3),
        last_sequence: number(4),
        attach_timestamp: text(5)
            .and_then(|value| crate::source::rows::parse_local_timestamp(&value)),
        detach_timestamp: text(6)
            .and_then(|value| crate::source::rows::parse_local_timestamp(&value)),
        next,
        unreadable: ReceiverInfo::unreadable_status(text(2).as_deref()),
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn id(name: &str) -> ReceiverId {
        ReceiverId {
            library: "QGPL".into(),
            name: name.into(),
        }
    }

    /// A receiver row: name, first..last, attached at, detached at, next.
    fn rcv(
        name: &str,
        sequences: Option<(u64, u64)>,
        attach: &str,
        detach: Option<&str>,
        next: Option<&str>,
    ) -> ReceiverInfo {
        ReceiverInfo {
            id: id(name),
            attached: detach.is_none(),
            first_sequence: sequences.map(|(first, _)| first),
            last_sequence: sequences.map(|(_, last)| last),
            attach_timestamp: Some(at(attach)),
            detach_timestamp: detach.map(at),
            next: next.map(id),
            unreadable: None,
        }
    }

    #[test]
    fn chain_break_by_table() {
        let t0 = "2026-10-25 01:00:00";
        let t1 = "2026-10-25 02:00:00";
        let t1_plus_3s = "2026-10-25 02:00:03";
        let t1_plus_5min = "2026-10-25 02:05:00";
        // (case, current, next, expected break: None, or a phrase in it)
        let cases: Vec<(&str, ReceiverInfo, ReceiverInfo, Option<&str>)> = vec![
            (
                "roll-over, linked, sequences continue",
                rcv("R1", Some((1, 100)), t0, Some(t1), Some("R2")),
                rcv("R2", Some((101, 150)), t1, None, None),
                None,
            ),
            (
                "roll-over, link missing, sequences continue",
                rcv("R1", Some((1, 100)), t0, Some(t1), None),
                rcv("R2", Some((101, 150)), t1, None, None),
                None,
            ),
            (
                "IPL reset, linked by name, attached 5 minutes after the detach",
                rcv("R1", Some((1, 100)), t0, Some(t1), Some("R2")),
                rcv("R2", Some((1, 40)), t1_plus_5min, None, None),
                None,
            ),
            (
                "reset, link missing, attached at the detach",
                rcv("R1", Some((1, 100)), t0, Some(t1), None),
                rcv("R2", Some((1, 40)), t1_plus_3s, None, None),
                None,
            ),
            (
                "reset, link missing, attached 5 minutes later: a receiver was deleted between",
                rcv("R1", Some((1, 100)), t0, Some(t1), None),
                rcv("R3", Some((1, 40)), t1_plus_5min, None, None),
                Some("at least one receiver is missing"),
            ),
            (
                "the link names a receiver that is gone",
                rcv("R1", Some((1, 100)), t0, Some(t1), Some("R2")),
                rcv("R3", Some((201, 250)), t1, None, None),
                Some("receiver QGPL/R2 is missing"),
            ),
            (
                "hole in the sequence numbers although linked",
                rcv("R1", Some((1, 100)), t0, Some(t1), Some("R3")),
                rcv("R3", Some((201, 250)), t1, None, None),
                Some("sequence numbers 101 to 200 are missing"),
            ),
            (
                "hole in the sequence numbers, link missing",
                rcv("R1", Some((1, 100)), t0, Some(t1), None),
                rcv("R3", Some((201, 250)), t1, None, None),
                Some("sequence numbers 101 to 200 are missing"),
            ),
            (
                "no sequence columns, no link: nothing to judge by",
                rcv("R1", None, t0, Some(t1), None),
                rcv("R2", None, t1_plus_5min, None, None),
                None,
            ),
            (
                "no timestamps after a reset, link missing: no evidence of a hole",
                ReceiverInfo {
                    detach_timestamp: None,
                    attached: false,
                    ..rcv("R1", Some((1, 100)), t0, Some(t1), None)
                },
                ReceiverInfo {
                    attach_timestamp: None,
                    ..rcv("R2", Some((1, 40)), t1, None, None)
                },
                None,
            ),
        ];
        for (case, current, next, expected) in cases {
            let found = chain_break(&current, &next);
            match expected {
                None => assert_eq!(found, None, "{case}"),
                Some(phrase) => assert!(
                    found.as_deref().is_some_and(|text| text.contains(phrase)),
                    "{case}: {found:?}"
                ),
            }
        }
    }

    fn journal() -> Vec<ReceiverInfo> {
        vec![
            rcv(
                "AUDRCV0001",
                Some((1, 25_000)),
                "2026-04-08 08:00:00",
                Some("2026-04-08 09:00:00"),
                Some("AUDRCV0002"),
            ),
            rcv(
                "AUDRCV0002",
                Some((25_001, 25_010)),
                "2026-04-08 09:00:00",
                Some("2026-04-08 10:00:00"),
                Some("AUDRCV0003"),
            ),
            rcv(
                "AUDRCV0003",
                Some((1, 7)),
                "2026-04-08 10:00:00",
                None,
                None,
            ),
        ]
    }

    #[test]
    fn decide_by_table() {
        let receivers = journal();
        let w = WINDOW_ENTRIES;
        let cases: Vec<(&str, &str, u64, Decision)> = vec![
            (
                "start of a long receiver: one full window",
                "AUDRCV0001",
                0,
                Decision::Read {
                    index: 0,
                    first: 1,
                    last: Some(w),
                },
            ),
            (
                "the last window stops at the receiver's end",
                "AUDRCV0001",
                20_000,
                Decision::Read {
                    index: 0,
                    first: 20_001,
                    last: Some(25_000),
                },
            ),
            (
                "read to the end, linked: move on, no call",
                "AUDRCV0001",
                25_000,
                Decision::Move { next: 1 },
            ),
            (
                "reset receiver after a detached one, linked",
                "AUDRCV0002",
                25_010,
                Decision::Move { next: 2 },
            ),
            (
                "attached receiver with new entries: read up to its last",
                "AUDRCV0003",
                3,
                Decision::Read {
                    index: 2,
                    first: 4,
                    last: Some(7),
                },
            ),
            (
                "attached receiver read to its end",
                "AUDRCV0003",
                7,
                Decision::CaughtUp,
            ),
            (
                "receiver now ends before the position: replaced",
                "AUDRCV0002",
                30_000,
                Decision::Replaced {
                    resume: 2,
                    last: 25_010,
                },
            ),
            (
                "position's receiver deleted: the next generated name",
                "AUDRCV0000",
                5,
                Decision::Deleted { resume: 0 },
            ),
        ];
        for (case, name, sequence, expected) in cases {
            assert_eq!(
                decide(&receivers, &id(name), sequence, None, w),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn deletion_and_holes_become_one_gap_each() {
        let mut receivers = journal();
        // DLTJRNRCV AUDRCV0002: the journal still names it as AUDRCV0001's next.
        receivers.remove(1);
        match decide(&receivers, &id("AUDRCV0001"), 25_000, None, WINDOW_ENTRIES) {
            Decision::Gap { next: 1, lost } => assert!(lost.contains("AUDRCV0002"), "{lost}"),
            other => panic!("{other:?}"),
        }
        // The same without the link, the reset receiver attached 5 minutes after the detach.
        receivers[0].next = None;
        receivers[0].detach_timestamp = Some(at("2026-04-08 09:55:00"));
        assert!(matches!(
            decide(&receivers, &id("AUDRCV0001"), 25_000, None, WINDOW_ENTRIES),
            Decision::Gap { next: 1, .. }
        ));
        // Linked by name instead: no gap whatever the timestamps.
        receivers[0].next = Some(id("AUDRCV0003"));
        assert_eq!(
            decide(&receivers, &id("AUDRCV0001"), 25_000, None, WINDOW_ENTRIES),
            Decision::Move { next: 1 }
        );
    }

    #[test]
    fn missing_optional_columns_fall_back_to_reads_bounded_by_rows() {
        let mut receivers = journal();
        for info in &mut receivers {
            info.first_sequence = None;
            info.last_sequence = None;
            info.next = None;
        }
        assert_eq!(
            decide(&receivers, &id("AUDRCV0001"), 9, None, WINDOW_ENTRIES),
            Decision::Read {
                index: 0,
                first: 10,
                last: None
            }
        );
        assert_eq!(
            after_empty_open_read(&receivers, 0),
            Decision::Move { next: 1 }
        );
        assert_eq!(after_empty_open_read(&receivers, 2), Decision::CaughtUp);
        // Without the link the next receiver is the next one attached.
        assert_eq!(next_of(&receivers, 1), Some(2));
    }

    #[test]
    fn successor_of_a_deleted_receiver() {
        let receivers = journal();
        // The next generated name.
        assert_eq!(successor_of(&receivers, &id("AUDRCV0000"), None), 0);
        // No later generated name: the first attached after the last entry read.
        let other = ReceiverId {
            library: "OTHER".into(),
            name: "X1".into(),
        };
        assert_eq!(
            successor_of(&receivers, &other, Some(at("2026-04-08 09:30:00"))),
            2
        );
        // Nothing known: the oldest.
        assert_eq!(successor_of(&receivers, &other, None), 0);
    }

    #[test]
    fn a_freed_receiver_is_one_gap_then_the_next() {
        let mut receivers = journal();
        receivers[1].unreadable = ReceiverInfo::unreadable_status(Some("freed"));
        assert_eq!(receivers[1].unreadable.as_deref(), Some("FREED"));
        assert_eq!(ReceiverInfo::unreadable_status(Some("SAVED")), None);
        assert_eq!(ReceiverInfo::unreadable_status(None), None);
        let second = receivers[1].id.clone();
        // Reached from its start, or from the middle: either way one decision
        // naming it, and the receiver after it.
        assert_eq!(
            decide(&receivers, &second, 0, None, 10),
            Decision::Unreadable {
                index: 1,
                resume: Some(2)
            }
        );
        // The last receiver freed (nothing after it yet): a gap, then wait.
        receivers[2].unreadable = Some("FREED".into());
        let third = receivers[2].id.clone();
        assert_eq!(
            decide(&receivers, &third, 0, None, 10),
            Decision::Unreadable {
                index: 2,
                resume: None
            }
        );
    }
}
