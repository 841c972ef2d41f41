use std::time::Duration;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::event::Notice;

const SYSTEM: &str = "PROD1";

fn config(max_open: usize, max_duration_hours: u64) -> SessionsConfig {
    SessionsConfig {
        enabled: true,
        max_duration: Duration::from_secs(max_duration_hours * 3600),
        max_open,
    }
}

/// One scripted journal line: sequence, seconds into the day, entry
/// type, job type, qualified job, job user, real user, remote address.
#[derive(Clone, Debug)]
struct Line {
    sequence: u64,
    second: i64,
    entry: &'static str,
    job_type: &'static str,
    job: &'static str,
    real: Option<&'static str>,
    address: Option<&'static str>,
    target: Option<&'static str>,
    receiver: &'static str,
}

fn line(
    sequence: u64,
    second: i64,
    entry: &'static str,
    job_type: &'static str,
    job: &'static str,
) -> Line {
    Line {
        sequence,
        second,
        entry,
        job_type,
        job,
        real: None,
        address: None,
        target: None,
        receiver: "AUDRCV0001",
    }
}

impl Line {
    fn real(mut self, user: &'static str) -> Line {
        self.real = Some(user);
        self
    }
    fn from(mut self, address: &'static str) -> Line {
        self.address = Some(address);
        self
    }
    fn target(mut self, job: &'static str) -> Line {
        self.target = Some(job);
        self
    }
    fn receiver(mut self, name: &'static str) -> Line {
        self.receiver = name;
        self
    }
}

fn row(line: &Line) -> JournalRow {
    let local = NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        + chrono::Duration::seconds(line.second);
    let mut row = JournalRow::bare(
        SYSTEM,
        "QSYS",
        line.receiver,
        line.sequence,
        local,
        local.and_utc(),
    );
    if line.entry == "GAP" {
        row.notice = Some(Notice {
            action: "audit_gap",
            message: "lost".into(),
        });
        return row;
    }
    let mut parts = line.job.splitn(3, '/');
    let (number, user, name) = (parts.next(), parts.next(), parts.next());
    row.entry_type = Some(line.entry.into());
    row.job_type = Some(line.job_type.into());
    row.qualified_job_name = Some(line.job.into());
    row.job_number = number.map(Into::into);
    row.job_user = user.map(Into::into);
    row.job_name = name.map(Into::into);
    row.real_user_profile = line.real.map(Into::into);
    row.remote_address = line.address.map(Into::into);
    row.target_qualified_job_name = line.target.map(Into::into);
    row
}

/// (event action, session user, job, end reason, duration) of every session event.
type Seen = (String, String, String, Option<String>, Option<f64>);

fn run(tracker: &mut SessionTracker, lines: &[Line]) -> Vec<Seen> {
    let enricher = Enricher::default();
    lines
        .iter()
        .flat_map(|line| tracker.observe(&row(line), &enricher))
        .map(|event| {
            let session = event.session.expect("a session block");
            (
                event.event_action.into_owned(),
                session.user.into(),
                session.job.into(),
                session.end_reason.map(String::from),
                session.duration_seconds,
            )
        })
        .collect()
}

fn seen(action: &str, user: &str, job: &str, reason: Option<&str>, duration: Option<f64>) -> Seen {
    (
        action.into(),
        user.into(),
        job.into(),
        reason.map(Into::into),
        duration,
    )
}

const INT: &str = "100001/ALICE/DSP01";
const ODBC: &str = "200001/QUSER/QZDASOINIT";
const SSH: &str = "300001/BOB/QP0ZSPWP";

#[test]
fn interactive_and_ssh_sessions_open_at_start_and_close_at_the_job_end() {
    let mut tracker = SessionTracker::new(&config(100, 24));
    let got = run(
        &mut tracker,
        &[
            line(1, 10, "S", "INT", INT).from("192.0.2.7"),
            // A second S, and swaps inside an interactive job, change nothing.
            line(2, 20, "S", "INT", INT),
            line(3, 30, "M", "INT", INT).real("QSECOFR"),
            // A target naming the job itself: the job's own entry.
            line(4, 40, "S", "BCI", SSH)
                .from("198.51.100.9")
                .target(SSH),
            line(5, 100, "E", "INT", INT),
            line(6, 200, "A", "BCI", SSH),
            // An end with no session, and batch work: nothing.
            line(7, 210, "E", "INT", INT),
            line(8, 220, "S", "BCI", "400001/CARL/NIGHTLY"),
            line(9, 230, "S", "BCH", "400002/CARL/PAYROLL"),
        ],
    );
    assert_eq!(
        got,
        vec![
            seen("session_start", "ALICE", INT, None, None),
            seen("session_start", "BOB", SSH, None, None),
            seen("session_end", "ALICE", INT, Some("job_end"), Some(90.0)),
            seen(
                "session_end",
                "BOB",
                SSH,
                Some("job_end_abnormal"),
                Some(160.0)
            ),
        ]
    );
    assert_eq!(tracker.open_count(), 0);
}

#[test]
fn a_prestart_job_serves_users_in_turn() {
    let mut tracker = SessionTracker::new(&config(100, 24));
    let got = run(
        &mut tracker,
        &[
            // P alone, a swap with no profile, a swap to the prestart user: nothing.
            line(1, 0, "P", "PJ", ODBC),
            line(2, 1, "M", "PJ", ODBC),
            line(3, 2, "M", "PJ", ODBC).real("QUSER"),
            line(4, 10, "M", "PJ", ODBC)
                .real("QSECOFR")
                .from("203.0.113.66"),
            // The same profile again: nothing.
            line(5, 11, "T", "PJ", ODBC).real("QSECOFR"),
            line(6, 20, "M", "PJ", ODBC).real("QUSER"),
            line(7, 30, "T", "PJ", ODBC).real("ALICE"),
            line(8, 40, "M", "PJ", ODBC).real("BOB"),
            line(9, 50, "N", "BCH", "500001/QSYSOPR/ENDER").target(ODBC),
        ],
    );
    assert_eq!(
        got,
        vec![
            seen("session_start", "QSECOFR", ODBC, None, None),
            seen(
                "session_end",
                "QSECOFR",
                ODBC,
                Some("swap_back"),
                Some(10.0)
            ),
            seen("session_start", "ALICE", ODBC, None, None),
            seen("session_end", "ALICE", ODBC, Some("next_swap"), Some(10.0)),
            seen("session_start", "BOB", ODBC, None, None),
            seen("session_end", "BOB", ODBC, Some("job_end"), Some(10.0)),
        ]
    );
}

#[test]
fn a_prestart_user_other_than_quser_counts_as_the_jobs_own() {
    let job = "200002/SRVUSR/QZDASSINIT";
    let mut tracker = SessionTracker::new(&config(100, 24));
    let got = run(
        &mut tracker,
        &[
            line(1, 0, "M", "PJ", job).real("SRVUSR"),
            line(2, 5, "M", "PJ", job).real("QUSER"),
            line(3, 9, "M", "PJ", job).real("SRVUSR"),
        ],
    );
    assert_eq!(
        got,
        vec![
            seen("session_start", "QUSER", job, None, None),
            seen("session_end", "QUSER", job, Some("swap_back"), Some(4.0)),
        ]
    );
}

#[test]
fn unknown_ends_have_no_time_and_the_real_end_then_says_nothing() {
    let mut tracker = SessionTracker::new(&config(100, 1));
    let got = run(
        &mut tracker,
        &[
            line(10, 0, "S", "INT", INT),
            line(11, 1, "M", "PJ", ODBC).real("ALICE"),
            // A sequence reset: an IPL closes both before the entry counts.
            line(1, 600, "S", "INT", "100009/CARL/DSP02").receiver("AUDRCV0002"),
            line(2, 610, "E", "INT", INT).receiver("AUDRCV0002"),
            line(3, 620, "M", "PJ", ODBC)
                .real("BOB")
                .receiver("AUDRCV0002"),
            line(4, 630, "GAP", "", "").receiver("AUDRCV0002"),
            line(5, 640, "S", "INT", INT).receiver("AUDRCV0002"),
            // Exactly one hour is not older than the bound; one more second is.
            line(6, 640 + 3600, "P", "INT", "100010/X/Y").receiver("AUDRCV0002"),
            line(7, 641 + 3600, "P", "INT", "100010/X/Y").receiver("AUDRCV0002"),
            line(8, 642 + 3600, "E", "INT", INT).receiver("AUDRCV0002"),
        ],
    );
    assert_eq!(
        got,
        vec![
            seen("session_start", "ALICE", INT, None, None),
            seen("session_start", "ALICE", ODBC, None, None),
            seen("session_end", "ALICE", INT, Some("ipl"), None),
            seen("session_end", "ALICE", ODBC, Some("ipl"), None),
            seen("session_start", "CARL", "100009/CARL/DSP02", None, None),
            seen("session_start", "BOB", ODBC, None, None),
            seen(
                "session_end",
                "CARL",
                "100009/CARL/DSP02",
                Some("audit_gap"),
                None
            ),
            seen("session_end", "BOB", ODBC, Some("audit_gap"), None),
            seen("session_start", "ALICE", INT, None, None),
            seen("session_end", "ALICE", INT, Some("max_duration"), None),
        ]
    );
}

#[test]
fn the_table_is_bounded_and_the_oldest_is_evicted() {
    let mut tracker = SessionTracker::new(&config(2, 24));
    let got = run(
        &mut tracker,
        &[
            line(1, 0, "S", "INT", "1/A/D1"),
            line(2, 1, "S", "INT", "2/B/D2"),
            line(3, 2, "S", "INT", "3/C/D3"),
            line(4, 3, "E", "INT", "1/A/D1"),
        ],
    );
    assert_eq!(
        got,
        vec![
            seen("session_start", "A", "1/A/D1", None, None),
            seen("session_start", "B", "2/B/D2", None, None),
            seen("session_end", "A", "1/A/D1", Some("evicted"), None),
            seen("session_start", "C", "3/C/D3", None, None),
        ]
    );
    assert_eq!(tracker.open_count(), 2);
}

#[test]
fn events_carry_the_contracts_fields() {
    let mut tracker = SessionTracker::new(&config(100, 24));
    let enricher = Enricher::default();
    let open = row(&line(7, 10, "M", "PJ", ODBC)
        .real("QSECOFR")
        .from("203.0.113.66"));
    let start = tracker.observe(&open, &enricher).remove(0);
    assert_eq!(start.event_id, format!("{}#session_start", open.event_id()));
    assert_eq!(start.audit_type, Some("JS"));
    assert_eq!(
        start.severity,
        Severity::Critical,
        "privileged over clear-text ODBC"
    );
    let close = row(&line(9, 2230, "M", "PJ", ODBC).real("QUSER"));
    let end = tracker.observe(&close, &enricher).remove(0);
    assert_eq!(end.event_id, format!("{}#session_end", open.event_id()));
    assert_eq!(end.severity, Severity::High);
    let json = serde_json::to_value(&end).unwrap();
    let block = &json["session"];
    assert_eq!(block["id"], open.event_id().as_str());
    assert_eq!(block["method"], "database_server");
    assert_eq!(block["secure"], false);
    assert_eq!(block["remote_address"], "203.0.113.66");
    assert_eq!(block["duration_seconds"], 2220.0);
    assert_eq!(block["end_entry"], close.event_id().as_str());
    assert_eq!(block["ended_at"], "2026-03-02T00:37:10.000000Z");
    assert!(json.get("js").is_none(), "a session event has no js block");
    let json = serde_json::to_value(&start).unwrap();
    for key in ["ended_at", "duration_seconds", "end_reason", "end_entry"] {
        assert!(json["session"][key].is_null(), "{key} on a start");
    }
}

/// A journal of a few jobs doing everything sessions care about.
fn journal() -> impl Strategy<Value = Vec<Line>> {
    let jobs = [INT, ODBC, SSH, "200009/QUSER/QZRCSRVS"];
    let users = ["QSECOFR", "ALICE", "QUSER", "BOB"];
    let step = (0usize..4, 0usize..8, 0usize..4, 1i64..4000, 0u8..30);
    proptest::collection::vec(step, 1..60).prop_map(move |steps| {
        let mut sequence = 100;
        let mut second = 0;
        let mut receiver = 0;
        steps
            .into_iter()
            .map(|(job, kind, user, gap, special)| {
                second += gap;
                sequence += 1;
                let receivers = ["AUDRCV0001", "AUDRCV0002", "AUDRCV0003"];
                if special == 0 && receiver < 2 {
                    receiver += 1;
                    sequence = 1;
                }
                let job = jobs[job];
                let job_type = match job {
                    INT => "INT",
                    SSH => "BCI",
                    _ => "PJ",
                };
                let entry = ["S", "E", "A", "N", "M", "T", "P", "GAP"][kind];
                let mut line = line(sequence, second, entry, job_type, job)
                    .from("192.0.2.1")
                    .receiver(receivers[receiver]);
                if special == 1 && entry != "GAP" {
                    line = line.target(job);
                }
                if matches!(entry, "M" | "T") {
                    line = line.real(users[user]);
                }
                line
            })
            .collect()
    })
}

proptest! {
    /// Cut anywhere, stored as the checkpoint stores it, restarted: the
    /// same session events as one unbroken run.
    #[test]
    fn a_restart_anywhere_gives_the_same_events(lines in journal()) {
        let settings = config(3, 1);
        let whole = run(&mut SessionTracker::new(&settings), &lines);
        for cut in 0..=lines.len() {
            let mut first = SessionTracker::new(&settings);
            // Batches of three, each batch's changes applied as the store does.
            let mut got = Vec::new();
            let mut stored: BTreeMap<(crate::event::Text, crate::event::Text), Vec<u8>> = BTreeMap::new();
            for chunk in lines[..cut].chunks(3) {
                got.extend(run(&mut first, chunk));
                for (key, session) in first.take_changes().changes {
                    match session {
                        Some(session) => { stored.insert(key, serde_json::to_vec(&session).unwrap()); }
                        None => { prop_assert!(stored.remove(&key).is_some(), "a close of a session the store never had"); }
                    }
                }
            }
            prop_assert_eq!(stored.len(), first.open_count());
            let restored: Vec<OpenSession> = stored
                .values()
                .map(|bytes| serde_json::from_slice(bytes).unwrap())
                .collect();
            // The committed cursor: the last entry that is not a notice.
            let position = lines[..cut]
                .iter()
                .rev()
                .find(|line| line.entry != "GAP")
                .map(|line| crate::event::Cursor::of(&row(line)));
            let mut second = SessionTracker::restore(&settings, restored, position.as_ref());
            got.extend(run(&mut second, &lines[cut..]));
            prop_assert_eq!(
                second.open_by_method().values().sum::<usize>(),
                second.open_count()
            );
            prop_assert_eq!(&got, &whole, "cut at {}", cut);
        }
    }
}
