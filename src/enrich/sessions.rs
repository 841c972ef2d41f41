//! Sessions: who was connected to which job, from where, over what, and for
//! how long, inferred from the JS entries (IBM i records job lifecycle events,
//! not sign-ons).
//!
//! The tracker sees every JS entry read, before `[filter]`, in journal order.
//! Interactive jobs and SSH spawned jobs open a session at `S` for the job's
//! user; prestart (host-server) jobs open one at a profile swap (`M`/`T`) away
//! from the prestart user. Ends are the job's end, a swap back or to another
//! profile, or an unknown end (an IPL, an `audit_gap`, the age bound, the
//! size bound), which has no end time: we do not know when it ended.
//!
//! Like the sign-on burst memory, the table is a function of the journal, not
//! of the clock, and travels with the checkpoint: each batch carries the
//! sessions it opened and closed ([`SessionChanges`]), and the checkpoint
//! store applies them in the same atomic write as the position it moves to,
//! so a restart from any commit continues exactly. A commit costs what
//! changed, not the size of the table.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::classify::{self, db2_equals};
use super::config::SessionsConfig;
use super::Enricher;
pub use crate::event::session::{JobKind, OpenSession, SessionChanges};
use crate::event::{Event, JournalRow, SessionBlock, Severity};

/// A session that ended, for the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub method: String,
    pub reason: &'static str,
}

/// The open sessions of every system the stream carries.
#[derive(Clone, Debug)]
pub struct SessionTracker {
    max_duration_micros: i64,
    max_open: usize,
    /// System → qualified job → its open session (looked up without allocating).
    open: HashMap<String, HashMap<String, OpenSession>>,
    /// Sessions in `open`.
    count: usize,
    /// Per system: (start, job) of each open session, oldest first.
    by_age: HashMap<String, BTreeSet<(i64, String)>>,
    /// Per system: the last entry's position, to see a sequence reset (IPL).
    last_position: HashMap<String, Position>,
    changes: SessionChanges,
    tallies: Vec<Tally>,
    /// Open sessions per method.
    by_method: BTreeMap<String, usize>,
    /// Jobs whose session opened since the last `take_changes` and whose
    /// entry in `changes` is then all the store needs (a close removes it).
    fresh: std::collections::HashSet<(String, String)>,
    /// Whether the log said the table is full (once per run).
    evicted_said: bool,
}

/// The last entry of a system: a lower sequence next is a reset (IPL); its
/// time is the time of the session ends a notice causes (a notice's own time
/// is when it was noticed, which a restart would not repeat).
#[derive(Clone, Debug)]
struct Position {
    sequence: u64,
    receiver: String,
    time: Option<(DateTime<Utc>, chrono::NaiveDateTime)>,
}

/// Why a session ended, and where, when that is known.
struct End<'a> {
    reason: &'static str,
    /// The closing entry: its time and event id; `None` for an unknown end.
    at: Option<(DateTime<Utc>, &'a str)>,
}

impl SessionTracker {
    /// An empty table with `config`'s bounds.
    pub fn new(config: &SessionsConfig) -> SessionTracker {
        SessionTracker {
            max_duration_micros: i64::try_from(config.max_duration.as_micros()).unwrap_or(i64::MAX),
            max_open: config.max_open.max(1),
            open: HashMap::new(),
            count: 0,
            by_age: HashMap::new(),
            last_position: HashMap::new(),
            changes: SessionChanges::default(),
            tallies: Vec::new(),
            by_method: BTreeMap::new(),
            fresh: std::collections::HashSet::new(),
            evicted_said: false,
        }
    }

    /// The table as committed: `sessions` from the checkpoint store, and the
    /// committed position (its system and sequence), from which a reset is seen.
    pub fn restore(
        config: &SessionsConfig,
        sessions: Vec<OpenSession>,
        position: Option<&crate::event::Cursor>,
    ) -> SessionTracker {
        let mut tracker = SessionTracker::new(config);
        for session in sessions {
            tracker.insert(session);
        }
        // A cursor that ends on an `audit_gap` notice carries the time the gap
        // was noticed, not an entry's: a second gap before the next entry would
        // stamp its session ends with that time (rare; left so).
        if let Some(cursor) = position {
            tracker.last_position.insert(
                cursor.system_name.clone(),
                Position {
                    sequence: cursor.sequence_number,
                    receiver: cursor.receiver_name.clone(),
                    time: cursor.entry_timestamp.zip(cursor.entry_timestamp_local),
                },
            );
        }
        tracker.changes = SessionChanges::default();
        tracker
    }

    /// Sessions open now.
    pub fn open_count(&self) -> usize {
        self.count
    }

    fn get(&self, system: &str, job: &str) -> Option<&OpenSession> {
        self.open.get(system).and_then(|jobs| jobs.get(job))
    }

    /// Open sessions per method, for the gauge (kept as they open and close:
    /// asked for once a batch, it costs the number of methods, not of sessions).
    pub fn open_by_method(&self) -> &BTreeMap<String, usize> {
        &self.by_method
    }

    /// Every open session, in (system, job) order.
    pub fn sessions(&self) -> Vec<OpenSession> {
        let mut all: Vec<OpenSession> = self
            .open
            .values()
            .flat_map(|jobs| jobs.values().cloned())
            .collect();
        all.sort_by(|a, b| (&a.system, &a.job).cmp(&(&b.system, &b.job)));
        all
    }

    /// What changed since the last call: to commit with the batch.
    pub fn take_changes(&mut self) -> SessionChanges {
        self.fresh.clear();
        std::mem::take(&mut self.changes)
    }

    /// Sessions ended since the last call, for the metrics.
    pub fn take_tallies(&mut self) -> Vec<Tally> {
        std::mem::take(&mut self.tallies)
    }

    /// Applies one entry (any type, or a notice) and returns the session
    /// events it causes: ends first, then at most one start.
    pub fn observe(&mut self, row: &JournalRow, enricher: &Enricher) -> Vec<Event> {
        let mut events = Vec::new();
        if let Some(notice) = &row.notice {
            if notice.action == "audit_gap" {
                let last = self
                    .last_position
                    .get(&row.system_name)
                    .and_then(|position| position.time);
                match last {
                    Some((utc, local)) => {
                        let mut cause = row.clone();
                        cause.entry_timestamp = utc;
                        cause.entry_timestamp_local = local;
                        self.close_system(&cause, "audit_gap", enricher, &mut events);
                    }
                    None => self.close_system(row, "audit_gap", enricher, &mut events),
                }
            }
            return events;
        }
        let time = Some((row.entry_timestamp, row.entry_timestamp_local));
        let reset = match self.last_position.get_mut(&row.system_name) {
            Some(last) => {
                let reset = row.sequence_number < last.sequence
                    || (row.sequence_number == last.sequence && last.receiver != row.receiver_name);
                last.sequence = row.sequence_number;
                last.time = time;
                if last.receiver != row.receiver_name {
                    last.receiver.clone_from(&row.receiver_name);
                }
                reset
            }
            None => {
                self.last_position.insert(
                    row.system_name.clone(),
                    Position {
                        sequence: row.sequence_number,
                        receiver: row.receiver_name.clone(),
                        time,
                    },
                );
                false
            }
        };
        if reset {
            self.close_system(row, "ipl", enricher, &mut events);
        }
        if row.details.is_some() {
            return events;
        }
        self.close_aged(row, enricher, &mut events);
        self.apply_js(row, enricher, &mut events);
        events
    }

    /// The JS rules proper, for the job the entry is about.
    fn apply_js(&mut self, row: &JournalRow, enricher: &Enricher, events: &mut Vec<Event>) {
        let Some(entry_type) = row.entry_type.as_deref().map(str::trim) else {
            return;
        };
        let own = row.qualified_job_name.as_deref().map(str::trim);
        // The target names the job itself on most entries; only another job counts.
        let about_other = row
            .target_qualified_job_name
            .as_deref()
            .map(str::trim)
            .filter(|job| !job.is_empty() && Some(*job) != own);
        let Some(job) = about_other.or(own) else {
            return;
        };
        let system = row.system_name.as_str();
        match entry_type {
            "E" | "N" | "A" => {
                if self.get(system, job).is_none() {
                    return;
                }
                let reason = if entry_type == "A" {
                    "job_end_abnormal"
                } else {
                    "job_end"
                };
                let entry_id = row.event_id();
                let at = Some((row.entry_timestamp, entry_id.as_str()));
                self.close(system, job, row, End { reason, at }, enricher, events);
            }
            "S" if about_other.is_none() => {
                if self.get(system, job).is_some() {
                    return;
                }
                let kind = match row.job_type.as_deref().map(str::trim) {
                    Some("INT") => JobKind::Interactive,
                    Some("BCI")
                        if row
                            .job_name
                            .as_deref()
                            .is_some_and(|name| db2_equals(name, "QP0ZSPWP")) =>
                    {
                        JobKind::Ssh
                    }
                    _ => return,
                };
                let Some(user) = profile(row.job_user.as_deref()) else {
                    return;
                };
                self.open_at(row, kind, user, row.event_id(), enricher, events);
            }
            "M" | "T" => {
                let Some(new_user) = profile(row.real_user_profile.as_deref()) else {
                    return;
                };
                let (kind, job_user) = match self.get(system, job) {
                    Some(session) => (session.kind, session.job_user.clone()),
                    None if about_other.is_none()
                        && row.job_type.as_deref().map(str::trim) == Some("PJ") =>
                    {
                        (JobKind::Prestart, profile(row.job_user.as_deref()))
                    }
                    None => return,
                };
                if kind != JobKind::Prestart {
                    return;
                }
                let current = self.get(system, job).map(|session| session.user.as_str());
                if current == Some(new_user.as_str()) {
                    return;
                }
                let had_session = current.is_some();
                let swap_back = job_user.as_deref() == Some(new_user.as_str());
                if swap_back && !had_session {
                    return;
                }
                let entry_id = row.event_id();
                let at = Some((row.entry_timestamp, entry_id.as_str()));
                if swap_back {
                    let end = End {
                        reason: "swap_back",
                        at,
                    };
                    self.close(system, job, row, end, enricher, events);
                    return;
                }
                if had_session {
                    let end = End {
                        reason: "next_swap",
                        at,
                    };
                    self.close(system, job, row, end, enricher, events);
                }
                if about_other.is_some() {
                    // The job's own method and address are not in this entry.
                    return;
                }
                self.open_at(row, kind, new_user, entry_id.clone(), enricher, events);
            }
            _ => {}
        }
    }

    fn open_at(
        &mut self,
        row: &JournalRow,
        kind: JobKind,
        user: String,
        entry_id: String,
        enricher: &Enricher,
        events: &mut Vec<Event>,
    ) {
        while self.count >= self.max_open {
            let Some(oldest) = self.oldest() else { break };
            if !self.evicted_said {
                self.evicted_said = true;
                tracing::warn!(max_open = self.max_open, "the session table is full: the oldest session is closed as evicted (end unknown), and so on while it stays full. Raise sessions.max_open if this many connections are really open; auditfwd_sessions_total{{end_reason=\"evicted\"}} counts them");
            }
            let end = End {
                reason: "evicted",
                at: None,
            };
            self.close(&oldest.0, &oldest.1, row, end, enricher, events);
        }
        let method = classify::connection_method(
            row.job_type.as_deref(),
            row.job_name.as_deref(),
            row.program_name.as_deref(),
        );
        let session = OpenSession {
            system: row.system_name.clone(),
            job: row
                .qualified_job_name
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_owned(),
            kind,
            privileged: enricher.is_privileged_name(&user),
            user,
            job_user: profile(row.job_user.as_deref()),
            method: method.name.to_owned(),
            secure: method.secure,
            remote_address: row
                .remote_address
                .as_deref()
                .map(str::trim)
                .filter(|address| !address.is_empty())
                .map(str::to_owned),
            started: row.entry_timestamp.timestamp_micros(),
            start_entry: entry_id,
        };
        events.push(session_event(enricher, row, &session, None));
        let key = session.key();
        if self
            .changes
            .changes
            .insert(key.clone(), Some(session.clone()))
            .is_none()
        {
            // Not closed earlier in this batch either: the store has no such key.
            self.fresh.insert(key);
        }
        self.insert(session);
    }

    fn insert(&mut self, session: OpenSession) {
        *self.by_method.entry(session.method.clone()).or_default() += 1;
        self.by_age
            .entry(session.system.clone())
            .or_default()
            .insert((session.started, session.job.clone()));
        let replaced = self
            .open
            .entry(session.system.clone())
            .or_default()
            .insert(session.job.clone(), session);
        if replaced.is_none() {
            self.count += 1;
        }
    }

    /// The session opened first, of any system (ties: system, then job).
    fn oldest(&self) -> Option<(String, String)> {
        self.by_age
            .iter()
            .filter_map(|(system, ages)| ages.first().map(|(start, job)| (*start, system, job)))
            .min()
            .map(|(_, system, job)| (system.clone(), job.clone()))
    }

    fn close(
        &mut self,
        system: &str,
        job: &str,
        cause: &JournalRow,
        end: End<'_>,
        enricher: &Enricher,
        events: &mut Vec<Event>,
    ) {
        let Some(session) = self.open.get_mut(system).and_then(|jobs| jobs.remove(job)) else {
            return;
        };
        self.count -= 1;
        if let Some(count) = self.by_method.get_mut(&session.method) {
            *count = count.saturating_sub(1);
        }
        if let Some(ages) = self.by_age.get_mut(&session.system) {
            ages.remove(&(session.started, session.job.clone()));
            if ages.is_empty() {
                self.by_age.remove(&session.system);
            }
        }
        let key = session.key();
        if self.fresh.remove(&key) {
            // Opened since the last take: the store never saw it.
            self.changes.changes.remove(&key);
        } else {
            self.changes.changes.insert(key, None);
        }
        self.tallies.push(Tally {
            method: session.method.clone(),
            reason: end.reason,
        });
        events.push(session_event(enricher, cause, &session, Some(end)));
    }

    /// Closes every open session of the entry's system (an IPL, a gap).
    fn close_system(
        &mut self,
        cause: &JournalRow,
        reason: &'static str,
        enricher: &Enricher,
        events: &mut Vec<Event>,
    ) {
        let jobs: Vec<String> = self
            .by_age
            .get(&cause.system_name)
            .map(|ages| ages.iter().map(|(_, job)| job.clone()).collect())
            .unwrap_or_default();
        for job in jobs {
            let end = End { reason, at: None };
            self.close(&cause.system_name, &job, cause, end, enricher, events);
        }
    }

    /// Closes the sessions of the entry's system older than the bound.
    fn close_aged(&mut self, row: &JournalRow, enricher: &Enricher, events: &mut Vec<Event>) {
        let now = row.entry_timestamp.timestamp_micros();
        loop {
            let aged = self
                .by_age
                .get(&row.system_name)
                .and_then(|ages| ages.first())
                .filter(|(start, _)| now.saturating_sub(*start) > self.max_duration_micros)
                .map(|(_, job)| job.clone());
            let Some(job) = aged else { break };
            let end = End {
                reason: "max_duration",
                at: None,
            };
            self.close(&row.system_name, &job, row, end, enricher, events);
        }
    }
}

/// A profile name as compared: trimmed, upper case; `None` when blank.
fn profile(name: Option<&str>) -> Option<String> {
    name.map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_uppercase)
}

/// The `session_start` (no `end`) or `session_end` event of `session`,
/// placed at `cause`'s position in the stream.
fn session_event(
    enricher: &Enricher,
    cause: &JournalRow,
    session: &OpenSession,
    end: Option<End<'_>>,
) -> Event {
    let started_at =
        DateTime::<Utc>::from_timestamp_micros(session.started).unwrap_or(cause.entry_timestamp);
    let (action, label) = match end {
        None => ("session_start", "Session started"),
        Some(_) => ("session_end", "Session ended"),
    };
    let ended_at = end.as_ref().and_then(|end| end.at.map(|(time, _)| time));
    let duration_seconds = ended_at.map(|ended| {
        (ended.timestamp_micros().saturating_sub(session.started)) as f64 / 1_000_000.0
    });
    let severity = match (session.privileged, session.secure, end.is_none()) {
        (true, Some(false), true) => Severity::Critical,
        (true, _, _) => Severity::High,
        _ => Severity::Info,
    };
    let over = match &session.remote_address {
        Some(address) => format!("{} from {address}", session.method),
        None => session.method.clone(),
    };
    let message = match &end {
        None => format!(
            "{} connected to job {} over {over} at {}",
            session.user,
            session.job,
            crate::event::format_utc(&started_at)
        ),
        Some(End {
            reason,
            at: Some((ended, _)),
        }) => format!(
            "{} was connected to job {} over {over} from {} to {} ({:.6} s; {reason})",
            session.user,
            session.job,
            crate::event::format_utc(&started_at),
            crate::event::format_utc(ended),
            duration_seconds.unwrap_or_default()
        ),
        Some(End { reason, at: None }) => format!(
            "{} connected to job {} over {over} at {}; the end is unknown ({reason})",
            session.user,
            session.job,
            crate::event::format_utc(&started_at)
        ),
    };
    let mut parts = session.job.splitn(3, '/');
    let (job_number, job_user, job_name) = (parts.next(), parts.next(), parts.next());
    let owned = |part: Option<&str>| part.filter(|part| !part.is_empty()).map(str::to_owned);
    let block = SessionBlock {
        id: session.start_entry.clone(),
        user: session.user.clone(),
        job: session.job.clone(),
        method: session.method.clone(),
        secure: session.secure,
        remote_address: session.remote_address.clone(),
        started_at,
        ended_at,
        duration_seconds,
        end_reason: end.as_ref().map(|end| end.reason.to_owned()),
        start_entry: session.start_entry.clone(),
        end_entry: end
            .as_ref()
            .and_then(|end| end.at.map(|(_, entry)| entry.to_owned())),
    };
    Event {
        schema_version: enricher.schema_version(),
        event_id: format!("{}#{action}", session.start_entry),
        entry_timestamp: cause.entry_timestamp,
        entry_timestamp_local: cause.entry_timestamp_local,
        system_name: cause.system_name.clone(),
        receiver_library: cause.receiver_library.clone(),
        receiver_name: cause.receiver_name.clone(),
        sequence_number: cause.sequence_number,
        entry_type: None,
        entry_type_detail: None,
        // v1's labels: IBM's, for no entry type, and for the job's kind.
        job_event_type: Cow::Borrowed(classify::job_event_type(None)),
        event_action: Cow::Borrowed(action),
        user_name: Some(session.user.clone()),
        real_user_profile: Some(session.user.clone()),
        effective_user_profile: None,
        qualified_job_name: Some(session.job.clone()),
        job_name: owned(job_name),
        job_user: owned(job_user),
        job_number: owned(job_number),
        job_type: None,
        job_subtype: None,
        remote_address: session.remote_address.clone(),
        remote_port: None,
        connection_type: Cow::Borrowed(match session.kind {
            JobKind::Interactive => classify::connection_type(Some("INT"), None),
            _ => classify::connection_type(None, job_name),
        }),
        connection_method: Cow::Owned(session.method.clone()),
        connection_secure: session.secure,
        privileged: session.privileged,
        severity,
        device_name: None,
        program_library: None,
        program_name: None,
        target_qualified_job_name: None,
        message: Some(message),
        truncated: Vec::new(),
        audit_type: Some("JS"),
        code: None,
        code_label: Cow::Borrowed(label),
        target_user: None,
        details: None,
        signal: None,
        source_name: enricher.source_name(),
        session: Some(Box::new(block)),
    }
}

#[cfg(test)]
mod tests {
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
                    session.user,
                    session.job,
                    session.end_reason,
                    session.duration_seconds,
                )
            })
            .collect()
    }

    fn seen(
        action: &str,
        user: &str,
        job: &str,
        reason: Option<&str>,
        duration: Option<f64>,
    ) -> Seen {
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
                let mut stored: BTreeMap<(String, String), Vec<u8>> = BTreeMap::new();
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
}
