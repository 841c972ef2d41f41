//! The machine against a journal in memory: restarts, IPLs, deleted and
//! freed receivers, a start at a time, roll-overs, and a property over
//! random chains cut at every batch. No driver, no PostgreSQL.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use super::*;

const SYSTEM: &str = "SYS1";

fn at(minute: i64) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap()
        + Duration::minutes(minute)
}

fn id(name: &str) -> ReceiverId {
    ReceiverId {
        library: "QSYS".into(),
        name: name.into(),
    }
}

/// One receiver and the entries a call returns from it (sequence, minute).
#[derive(Clone, Debug)]
struct Stored {
    info: ReceiverInfo,
    entries: Vec<(u64, i64)>,
    /// Deleted: not in the receiver list.
    gone: bool,
}

/// A journal in memory that answers the machine's calls like the server.
#[derive(Clone, Debug)]
struct Journal {
    receivers: Vec<Stored>,
    batch_rows: usize,
    /// Calls made, by kind.
    calls: Vec<Kind>,
    /// The sequence range of each call that has one.
    ranges: Vec<(u64, u64)>,
    lists: usize,
}

impl Journal {
    /// Receivers named R1, R2, ... each (first, last, entries returned), the
    /// last one attached; each names the next one; attached a minute after
    /// the previous one was detached.
    fn new(shapes: &[(u64, u64, Vec<u64>)], batch_rows: usize) -> Journal {
        let count = shapes.len();
        let mut minute = 0;
        let receivers = shapes
            .iter()
            .enumerate()
            .map(|(index, (first, last, sequences))| {
                let attached = index + 1 == count;
                let attach = minute;
                let entries: Vec<(u64, i64)> = sequences
                    .iter()
                    .map(|sequence| {
                        minute += 1;
                        (*sequence, minute)
                    })
                    .collect();
                minute += 1;
                Stored {
                    info: ReceiverInfo {
                        id: id(&format!("R{}", index + 1)),
                        attached,
                        first_sequence: Some(*first),
                        last_sequence: Some(*last),
                        attach_timestamp: Some(at(attach)),
                        detach_timestamp: (!attached).then(|| at(minute)),
                        next: (!attached).then(|| id(&format!("R{}", index + 2))),
                        unreadable: None,
                    },
                    entries,
                    gone: false,
                }
            })
            .collect();
        Journal {
            receivers,
            batch_rows,
            calls: Vec::new(),
            ranges: Vec::new(),
            lists: 0,
        }
    }

    fn list(&self) -> Vec<ReceiverInfo> {
        self.receivers
            .iter()
            .filter(|stored| !stored.gone)
            .map(|stored| stored.info.clone())
            .collect()
    }

    fn row(receiver: &ReceiverId, sequence: u64, minute: i64) -> JournalRow {
        let local = at(minute);
        JournalRow::bare(
            SYSTEM,
            &receiver.library,
            &receiver.name,
            sequence,
            local,
            local.and_utc(),
        )
    }

    fn answer(&mut self, call: &Call) -> Read {
        self.calls.push(call.kind);
        if let (Start::Sequence(first), Some(last)) = (&call.start, call.last) {
            self.ranges.push((*first, last));
        }
        let stored = self
            .receivers
            .iter()
            .find(|stored| stored.info.id == call.receiver && !stored.gone)
            .expect("the machine reads only listed receivers");
        let wanted = |(sequence, minute): &&(u64, i64)| match (&call.start, call.last) {
            (Start::Sequence(first), Some(last)) => (*first..=last).contains(sequence),
            (Start::Sequence(first), None) => sequence >= first,
            (Start::Timestamp(from), _) => at(*minute) >= *from,
        };
        let bound = match call.kind {
            Kind::Window => usize::MAX,
            _ => self.batch_rows,
        };
        let rows: Vec<JournalRow> = stored
            .entries
            .iter()
            .filter(wanted)
            .take(bound)
            .map(|(sequence, minute)| Journal::row(&call.receiver, *sequence, *minute))
            .collect();
        Read {
            last: rows.last().map(|row| Seen {
                system: Some(row.system_name.to_string()),
                sequence: row.sequence_number,
                timestamp: Some(row.entry_timestamp_local),
            }),
            returned: rows.len(),
            own_dropped: 0,
            rows,
        }
    }
}

/// What one poll handed out, as the reader would.
#[derive(Clone, Debug, PartialEq)]
struct Out {
    rows: Vec<JournalRow>,
    cursor: Option<JournalCursor>,
    caught_up: bool,
}

/// One poll of the reader's loop, with `journal` as the server.
fn poll(machine: &mut Machine, journal: &mut Journal) -> Out {
    if machine.has_pending() {
        let chunk = machine.next_chunk();
        return Out {
            rows: chunk.rows,
            cursor: chunk.cursor,
            caught_up: false,
        };
    }
    let mut input = Input::Poll;
    loop {
        input = match machine.step(input) {
            Action::ReadReceivers => {
                journal.lists += 1;
                Input::Receivers(journal.list())
            }
            Action::Read(call) => Input::Rows(journal.answer(&call)),
            Action::Deliver { chunk, .. } => {
                return Out {
                    rows: chunk.rows,
                    cursor: chunk.cursor,
                    caught_up: false,
                }
            }
            Action::Moved { cursor: None, .. } => Input::Continue,
            Action::Moved { cursor, .. } => {
                return Out {
                    rows: Vec::new(),
                    cursor,
                    caught_up: false,
                }
            }
            Action::Notice(notice) => {
                let row = notice.row(at(9_999), at(9_999).and_utc());
                let chunk = machine.deliver(vec![row], 0, notice.end);
                return Out {
                    rows: chunk.rows,
                    cursor: chunk.cursor,
                    caught_up: false,
                };
            }
            Action::CaughtUp { .. } => {
                return Out {
                    rows: Vec::new(),
                    cursor: None,
                    caught_up: true,
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Polls until caught up: every poll's output.
fn run(machine: &mut Machine, journal: &mut Journal) -> Vec<Out> {
    let mut outs = Vec::new();
    for _ in 0..10_000 {
        let out = poll(machine, journal);
        let done = out.caught_up;
        outs.push(out);
        if done {
            return outs;
        }
    }
    panic!("never caught up");
}

/// One row handed out: (receiver, sequence, notice action).
type Handed = (String, u64, Option<&'static str>);

/// What a poll sequence delivered.
fn delivered(outs: &[Out]) -> Vec<Handed> {
    outs.iter()
        .flat_map(|out| &out.rows)
        .map(|row| {
            (
                row.receiver_name.to_string(),
                row.sequence_number,
                row.notice.as_ref().map(|notice| notice.action),
            )
        })
        .collect()
}

fn seqs(range: std::ops::RangeInclusive<u64>) -> Vec<u64> {
    range.collect()
}

fn after(receiver: &str, sequence: u64) -> Position {
    Position::After {
        system: Some(SYSTEM.into()),
        receiver: id(receiver),
        sequence,
        timestamp: None,
    }
}

fn rows(receiver: &str, range: std::ops::RangeInclusive<u64>) -> Vec<Handed> {
    range
        .map(|sequence| (receiver.to_owned(), sequence, None))
        .collect()
}

/// The receiver and sequence of a position after an entry.
fn spot(position: &Position) -> (&str, u64) {
    match position {
        Position::After {
            receiver, sequence, ..
        } => (receiver.name.as_str(), *sequence),
        other => panic!("not after an entry: {other:?}"),
    }
}

#[test]
fn restart_from_a_checkpoint_continues_exactly_after_it() {
    let shapes = vec![(1, 30, seqs(1..=30)), (31, 50, seqs(31..=50))];
    // (checkpoint, what the restart delivers)
    let cases: Vec<(Position, Vec<Handed>)> = vec![
        (
            after("R1", 0),
            [rows("R1", 1..=30), rows("R2", 31..=50)].concat(),
        ),
        (
            after("R1", 12),
            [rows("R1", 13..=30), rows("R2", 31..=50)].concat(),
        ),
        (after("R1", 30), rows("R2", 31..=50)),
        (after("R2", 30), rows("R2", 31..=50)),
        (after("R2", 44), rows("R2", 45..=50)),
        (after("R2", 50), vec![]),
    ];
    for (checkpoint, expected) in cases {
        let mut journal = Journal::new(&shapes, 7);
        let mut machine = Machine::new(checkpoint.clone(), 7);
        let outs = run(&mut machine, &mut journal);
        assert_eq!(delivered(&outs), expected, "{checkpoint:?}");
        assert_eq!(spot(&machine.position), ("R2", 50), "{checkpoint:?}");
    }
}

#[test]
fn an_ipl_restarts_the_sequence_in_a_new_receiver_and_nothing_is_lost() {
    // R2 starts at 1 again, after the IPL; R3 continues it.
    let shapes = vec![
        (1, 40, seqs(1..=40)),
        (1, 25, seqs(1..=25)),
        (26, 30, seqs(26..=30)),
    ];
    for checkpoint in [
        after("R1", 35),
        after("R1", 40),
        after("R2", 0),
        after("R2", 20),
    ] {
        let mut journal = Journal::new(&shapes, 10);
        let mut machine = Machine::new(checkpoint.clone(), 10);
        let got = delivered(&run(&mut machine, &mut journal));
        let Position::After {
            receiver, sequence, ..
        } = &checkpoint
        else {
            unreachable!()
        };
        let expected: Vec<_> = [rows("R1", 1..=40), rows("R2", 1..=25), rows("R3", 26..=30)]
            .concat()
            .into_iter()
            .skip_while(|(name, seq, _)| !(name == &receiver.name && seq == sequence))
            .skip(1)
            .collect();
        let expected = if *sequence == 0 {
            [rows("R2", 1..=25), rows("R3", 26..=30)].concat()
        } else {
            expected
        };
        assert_eq!(got, expected, "{checkpoint:?}");
        assert!(
            got.iter().all(|(_, _, notice)| notice.is_none()),
            "no gap at an IPL"
        );
    }
}

#[test]
fn a_deleted_or_freed_receiver_is_one_gap_notice_never_silent() {
    let shapes = vec![
        (1, 30, seqs(1..=30)),
        (31, 60, seqs(31..=60)),
        (61, 70, seqs(61..=70)),
    ];
    // (what happens to R2, checkpoint, the notice's receiver and sequence, then the rows)
    type Case = (&'static str, Position, (&'static str, u64), Vec<Handed>);
    let cases: Vec<Case> = vec![
        (
            "deleted while read",
            after("R2", 40),
            ("R2", 40),
            rows("R3", 61..=70),
        ),
        (
            "deleted before read",
            after("R1", 30),
            ("R1", 30),
            rows("R3", 61..=70),
        ),
        (
            "freed while read",
            after("R2", 40),
            ("R2", 40),
            rows("R3", 61..=70),
        ),
        (
            "freed before read",
            after("R1", 30),
            ("R2", 30),
            rows("R3", 61..=70),
        ),
    ];
    for (case, checkpoint, (gap_receiver, gap_sequence), expected) in cases {
        let mut journal = Journal::new(&shapes, 100);
        if case.starts_with("deleted") {
            journal.receivers[1].gone = true;
        } else {
            journal.receivers[1].info.unreadable = Some("FREED".into());
        }
        let mut machine = Machine::new(checkpoint, 100);
        let outs = run(&mut machine, &mut journal);
        let got = delivered(&outs);
        assert_eq!(
            got[0],
            (
                gap_receiver.to_owned(),
                gap_sequence,
                Some(NoticeRow::AUDIT_GAP)
            ),
            "{case}"
        );
        assert_eq!(got[1..], expected[..], "{case}");
        let gap = outs.iter().find(|out| !out.rows.is_empty()).unwrap();
        let message = &gap.rows[0].notice.as_ref().unwrap().message;
        let said = if case.starts_with("freed") {
            "FREED"
        } else {
            "R2"
        };
        assert!(message.contains(said), "{case}: {message}");
        // The checkpoint moves past the hole with the notice.
        let cursor = gap.cursor.as_ref().unwrap();
        assert_eq!(
            (cursor.receiver_name.as_str(), cursor.sequence_number),
            ("R3", 60),
            "{case}"
        );
    }
}

#[test]
fn a_first_start_at_a_time_reads_from_the_receiver_holding_it() {
    // R1 minutes 1..=10, R2 (attached at 11) 12..=21, R3 (attached at 22) 23..=27.
    let shapes = vec![
        (1, 10, seqs(1..=10)),
        (11, 20, seqs(11..=20)),
        (21, 25, seqs(21..=25)),
    ];
    // (start minute, first sequence delivered)
    for (minute, first) in [(0, 1), (5, 5), (11, 11), (15, 14), (23, 21), (26, 24)] {
        let mut journal = Journal::new(&shapes, 4);
        let mut machine = Machine::new(
            Position::FromTime {
                at: at(minute),
                receiver: None,
            },
            4,
        );
        let got = delivered(&run(&mut machine, &mut journal));
        let sequences: Vec<u64> = got.iter().map(|(_, sequence, _)| *sequence).collect();
        assert_eq!(
            sequences,
            (first..=25).collect::<Vec<_>>(),
            "start at minute {minute}"
        );
        // One rows-bounded call from the time, then windows.
        assert_eq!(
            journal.calls[0],
            Kind::FromTimestamp,
            "start at minute {minute}"
        );
        assert_eq!(
            journal
                .calls
                .iter()
                .filter(|kind| **kind == Kind::FromTimestamp)
                .count(),
            1,
            "start at minute {minute}"
        );
    }
    // After the last entry: nothing, and the start waits for entries.
    let mut journal = Journal::new(&shapes, 4);
    let mut machine = Machine::new(
        Position::FromTime {
            at: at(1_000),
            receiver: None,
        },
        4,
    );
    let outs = run(&mut machine, &mut journal);
    assert!(delivered(&outs).is_empty());
    assert!(matches!(&machine.position, Position::FromTime { .. }));
}

#[test]
fn a_receiver_read_to_its_end_rolls_over_and_the_checkpoint_follows() {
    let shapes = vec![(1, 20, seqs(1..=18)), (21, 30, seqs(21..=30))];
    let mut journal = Journal::new(&shapes, 100);
    let mut machine = Machine::new(after("R1", 0), 100);
    let outs = run(&mut machine, &mut journal);
    // The first window ends at R1's last sequence (20), past the last row
    // read (18); then the move to R2 is a poll of its own, rows none.
    assert_eq!(outs[0].rows.len(), 18);
    assert_eq!(outs[0].cursor.as_ref().unwrap().sequence_number, 20);
    assert!(outs[1].rows.is_empty());
    let moved = outs[1].cursor.as_ref().unwrap();
    assert_eq!(
        (moved.receiver_name.as_str(), moved.sequence_number),
        ("R2", 20)
    );
    assert_eq!(outs[2].rows.len(), 10);
    assert!(outs[3].caught_up);
    // The detached receiver's list is reused while its windows are read.
    assert_eq!(journal.calls, [Kind::Window, Kind::Window]);
}

#[test]
fn a_long_detached_receiver_is_read_window_by_window_with_one_list() {
    let shapes = vec![
        (1, 25_000, vec![1, 9_999, 10_000, 10_001, 25_000]),
        (25_001, 25_001, vec![25_001]),
    ];
    let mut journal = Journal::new(&shapes, 1_000);
    let mut machine = Machine::new(after("R1", 0), 1_000);
    let outs = run(&mut machine, &mut journal);
    let cursors: Vec<u64> = outs
        .iter()
        .filter_map(|out| out.cursor.as_ref())
        .map(|cursor| cursor.sequence_number)
        .collect();
    // Three windows of R1 (to 10,000, 20,000, 25,000), the move, R2.
    assert_eq!(cursors, [10_000, 20_000, 25_000, 25_000, 25_001]);
    // The list: once for R1's windows, at the move, and twice on R2 (attached).
    assert_eq!(journal.lists, 4);
}

#[test]
fn a_fleet_s_smaller_window_reads_a_long_receiver_in_more_calls_of_fewer_rows() {
    let shapes = vec![
        (1, 25_000, vec![1, 9_999, 10_000, 10_001, 25_000]),
        (25_001, 25_001, vec![25_001]),
    ];
    let mut journal = Journal::new(&shapes, 1_000);
    let mut machine = Machine::new(after("R1", 0), 1_000).with_window(4_000);
    let outs = run(&mut machine, &mut journal);
    let read: Vec<u64> = outs
        .iter()
        .flat_map(|out| out.rows.iter().map(|row| row.sequence_number))
        .collect();
    assert_eq!(read, [1, 9_999, 10_000, 10_001, 25_000, 25_001]);
    // R1 in windows of 4,000 sequence numbers, then R2 (attached).
    let r1: Vec<(u64, u64)> = journal
        .ranges
        .iter()
        .copied()
        .filter(|(first, _)| *first <= 25_000)
        .collect();
    assert_eq!(
        r1,
        [
            (1, 4_000),
            (4_001, 8_000),
            (8_001, 12_000),
            (12_001, 16_000),
            (16_001, 20_000),
            (20_001, 24_000),
            (24_001, 25_000)
        ]
    );
}

#[test]
fn an_entry_the_server_cannot_convert_narrows_the_window_then_becomes_one_notice() {
    let shapes = vec![(1, 8, seqs(1..=8))];
    let mut machine = Machine::new(after("R1", 0), 100);
    let mut journal = Journal::new(&shapes, 100);
    let bad = 6;
    let mut narrowed = Vec::new();
    let mut got = Vec::new();
    for _ in 0..50 {
        let mut input = Input::Poll;
        let out = loop {
            input = match machine.step(input) {
                Action::ReadReceivers => Input::Receivers(journal.list()),
                Action::Read(call) => match (&call.start, call.last) {
                    (Start::Sequence(first), Some(last)) if (*first..=last).contains(&bad) => {
                        Input::DataError {
                            sqlstate: Some("22023".into()),
                            message: "conversion".into(),
                        }
                    }
                    _ => Input::Rows(journal.answer(&call)),
                },
                Action::Narrowed {
                    first,
                    last,
                    window,
                    ..
                } => {
                    narrowed.push((first, last, window));
                    machine.forget_receivers();
                    break None;
                }
                Action::Notice(notice) => {
                    assert!(notice.reconnect);
                    let row = notice.row(at(0), at(0).and_utc());
                    break Some(machine.deliver(vec![row], 0, notice.end));
                }
                Action::Deliver { chunk, .. } => break Some(chunk),
                Action::CaughtUp { .. } => break Some(Chunk::default()),
                other => panic!("unexpected {other:?}"),
            }
        };
        match out {
            Some(chunk) if chunk.rows.is_empty() && chunk.cursor.is_none() => break,
            Some(chunk) => got.extend(
                chunk
                    .rows
                    .into_iter()
                    .map(|row| (row.sequence_number, row.notice.map(|notice| notice.action))),
            ),
            None => {}
        }
    }
    assert_eq!(narrowed, [(1, 8, 4), (5, 8, 2), (5, 6, 1)]);
    let expected: Vec<(u64, Option<&str>)> = (1..=8)
        .map(|sequence| {
            (
                sequence,
                (sequence == bad).then_some(NoticeRow::MALFORMED_ROW),
            )
        })
        .collect();
    assert_eq!(got, expected);
}

/// A random journal: receivers with sequence ranges (continuing, or
/// restarting at 1 as after an IPL), a random subset of each range returned
/// (the rest filtered out), with or without LAST_SEQUENCE_NUMBER, cut into
/// batches of a random size.
fn journals() -> impl Strategy<Value = Journal> {
    let receiver = (
        any::<bool>(),
        0u64..25_000,
        proptest::collection::btree_set(0u64..25_000, 0..6),
    );
    (
        proptest::collection::vec(receiver, 1..5),
        1usize..5,
        any::<bool>(),
    )
        .prop_map(|(parts, batch_rows, ends_known)| {
            let mut next_first = 1;
            let shapes: Vec<(u64, u64, Vec<u64>)> = parts
                .into_iter()
                .enumerate()
                .map(|(index, (ipl, span, offsets))| {
                    let first = if ipl && index > 0 { 1 } else { next_first };
                    let last = first + span;
                    next_first = last + 1;
                    let sequences = offsets
                        .into_iter()
                        .filter(|offset| *offset <= span)
                        .map(|offset| first + offset)
                        .collect();
                    (first, last, sequences)
                })
                .collect();
            let mut journal = Journal::new(&shapes, batch_rows);
            if !ends_known {
                for stored in &mut journal.receivers {
                    stored.info.last_sequence = None;
                }
            }
            journal
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Stopping at any batch and restarting from its cursor delivers exactly
    /// what the unbroken run delivered after that batch: nothing lost,
    /// nothing repeated.
    #[test]
    fn a_restart_at_every_cut_equals_the_unbroken_run(journal in journals()) {
        let batch_rows = journal.batch_rows;
        let mut whole = journal.clone();
        let mut machine = Machine::new(Position::FromOldest, batch_rows);
        let outs = run(&mut machine, &mut whole);
        let all = delivered(&outs);
        let expected: Vec<Handed> = journal
            .receivers
            .iter()
            .flat_map(|stored| {
                stored.entries.iter().map(|(sequence, _)| (stored.info.id.name.clone(), *sequence, None))
            })
            .collect();
        prop_assert_eq!(&all, &expected);
        prop_assert!(outs.iter().all(|out| out.rows.len() <= batch_rows));
        let end = machine.position.clone();
        let mut before = 0;
        for (index, out) in outs.iter().enumerate() {
            before += out.rows.len();
            let Some(cursor) = &out.cursor else { continue };
            let mut restarted = journal.clone();
            let mut again = Machine::new(Position::of(cursor), batch_rows);
            let rest = delivered(&run(&mut again, &mut restarted));
            prop_assert_eq!(&rest[..], &all[before..], "restart after poll {}", index);
            prop_assert_eq!(&again.position, &end);
        }
    }
}
