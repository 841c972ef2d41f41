//! What sessions cost: 1,000,000 JS entries with 100,000 sessions open at
//! once, through the dispatcher's per-row work (sessions, filter, enrich),
//! with sessions off and on, side by side in one run; and what the session
//! table costs the checkpoint (bytes on disk, time of the commits).
//!
//! `cargo bench --bench sessions` (`AUDITFWD_BENCH_ROWS` to change the size).

use std::time::Instant;

use auditfwd::checkpoint::CheckpointStore;
use auditfwd::enrich::config::{FilterConfig, SessionsConfig};
use auditfwd::enrich::sessions::SessionTracker;
use auditfwd::enrich::{Enricher, Filter};
use auditfwd::event::{Cursor, JournalRow};
use chrono::NaiveDate;

const CONCURRENT: u64 = 100_000;
const BATCH: usize = 1_000;

/// Entry `n`: the first 100,000 sign on interactively (and stay); then
/// prestart jobs serve users in turn (P, M to a user, M back), while one
/// interactive job in twenty ends and another signs on, so about 100,000
/// sessions stay open throughout.
fn row(n: u64) -> JournalRow {
    let local = NaiveDate::from_ymd_opt(2026, 10, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap()
        + chrono::Duration::milliseconds(n as i64);
    let mut row = JournalRow::bare("BENCH", "QGPL", "AUDRCV0001", n + 1, local, local.and_utc());
    let job = |row: &mut JournalRow, number: u64, user: &str, name: &str, kind: &str| {
        row.job_number = Some(format!("{number:06}").into());
        row.job_user = Some(user.into());
        row.job_name = Some(name.into());
        row.job_type = Some(kind.into());
        row.qualified_job_name = Some(format!("{number:06}/{user}/{name}").into());
    };
    let users = ["ALICE", "BOB", "CAROL", "DAVE", "QSECOFR"];
    if n < CONCURRENT {
        let user = format!("U{n:05}");
        job(&mut row, n, &user, "QPADEV0001", "INT");
        row.entry_type = Some("S".into());
        row.real_user_profile = Some(user.into());
        row.remote_address = Some("192.0.2.10".into());
        return row;
    }
    let step = n % 60;
    if step == 0 {
        // An interactive job ends, and (at the next step) another signs on.
        let old = (n / 60) % CONCURRENT;
        job(&mut row, old, &format!("U{old:05}"), "QPADEV0001", "INT");
        row.entry_type = Some("E".into());
    } else if step == 1 {
        let old = (n / 60) % CONCURRENT;
        job(&mut row, old, &format!("U{old:05}"), "QPADEV0001", "INT");
        row.entry_type = Some("S".into());
    } else {
        let prestart = 500_000 + (n / 3) % 64;
        job(&mut row, prestart, "QUSER", "QZDASOINIT", "PJ");
        let user = users[(n / 3) as usize % users.len()];
        let (entry, real) = match n % 3 {
            0 => ("P", "QUSER"),
            1 => ("M", user),
            _ => ("M", "QUSER"),
        };
        row.entry_type = Some(entry.into());
        row.real_user_profile = Some(real.into());
        row.remote_address = Some("203.0.113.66".into());
    }
    row
}

fn main() {
    let rows: u64 = std::env::var("AUDITFWD_BENCH_ROWS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let enricher = Enricher::default();
    let filter = Filter::new(&FilterConfig::default());
    let config = SessionsConfig::default();
    println!(
        "sessions bench: {rows} JS entries ({CONCURRENT} sign-ons first, untimed; then the rest timed), \
         {CONCURRENT} sessions open at once, batches of {BATCH}, a commit every 10 batches; \
         per entry: sessions (when on), [filter], enrich, native JSON of every event, the commit"
    );
    let mut off_rate = 0.0;
    for sessions_on in [false, true, false, true] {
        let mut input = (0..rows).map(row);
        let mut tracker = sessions_on.then(|| SessionTracker::new(&config));
        let dir = tempfile::tempdir().expect("temp dir");
        let store = CheckpointStore::open(dir.path()).expect("store");
        let mut run = Run::default();
        // The sign-ons that fill the table, untimed.
        for row in input.by_ref().take(CONCURRENT as usize) {
            run.entry(row, tracker.as_mut(), &enricher, &filter, &store);
        }
        let started = Instant::now();
        let timed = rows.saturating_sub(CONCURRENT);
        let events_before = run.events;
        for row in input {
            run.entry(row, tracker.as_mut(), &enricher, &filter, &store);
        }
        run.flush(tracker.as_mut(), &store);
        let elapsed = started.elapsed().as_secs_f64();
        let rate = timed as f64 / elapsed;
        let events = run.events - events_before;
        if sessions_on {
            let tracker = tracker.expect("on");
            let stored = store.load_sessions().expect("load").len();
            drop(store);
            println!(
                "sessions on : {rate:>9.0} entries/s ({elapsed:.2} s, {events} events, {:.0} events/s), {:.2} x off; open at the end {}; checkpoint dir {:.1} MiB with {stored} sessions; commits {:.2} s",
                events as f64 / elapsed,
                rate / off_rate,
                tracker.open_count(),
                walk(dir.path()) as f64 / (1024.0 * 1024.0),
                run.commit_time.as_secs_f64()
            );
        } else {
            off_rate = rate;
            println!(
                "sessions off: {rate:>9.0} entries/s ({elapsed:.2} s, {events} events, {:.0} events/s); commits {:.2} s",
                events as f64 / elapsed,
                run.commit_time.as_secs_f64()
            );
        }
    }
}

/// The dispatcher's work per entry, and its batches and commits.
#[derive(Default)]
struct Run {
    events: usize,
    in_batch: usize,
    batches: usize,
    out: Vec<u8>,
    pending: Vec<std::sync::Arc<auditfwd::event::session::SessionChanges>>,
    last: Option<Cursor>,
    commit_time: std::time::Duration,
}

impl Run {
    fn entry(
        &mut self,
        row: JournalRow,
        mut tracker: Option<&mut SessionTracker>,
        enricher: &Enricher,
        filter: &Filter,
        store: &CheckpointStore,
    ) {
        let derived = match tracker.as_deref_mut() {
            Some(tracker) => tracker.observe(&row, enricher),
            None => Vec::new(),
        };
        self.last = Some(Cursor::of(&row));
        if filter.accepts(&row) {
            self.encode(&enricher.enrich_owned(row));
        }
        for event in &derived {
            self.encode(event);
        }
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.in_batch = 0;
            self.out.clear();
            self.batches += 1;
            if let Some(tracker) = tracker {
                self.pending
                    .push(std::sync::Arc::new(tracker.take_changes()));
                let _ = tracker.open_by_method();
            }
            if self.batches % 10 == 0 {
                self.flush(None, store);
            }
        }
    }

    fn encode(&mut self, event: &auditfwd::event::Event) {
        serde_json::to_writer(&mut self.out, event).expect("encode");
        self.out.push(b'\n');
        self.events += 1;
    }

    fn flush(&mut self, tracker: Option<&mut SessionTracker>, store: &CheckpointStore) {
        if let Some(tracker) = tracker {
            self.pending
                .push(std::sync::Arc::new(tracker.take_changes()));
        }
        let Some(cursor) = self.last.clone() else {
            return;
        };
        let at = Instant::now();
        store
            .commit_with_sessions(&cursor, &self.pending)
            .expect("commit");
        self.commit_time += at.elapsed();
        self.pending.clear();
    }
}

fn walk(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => walk(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
