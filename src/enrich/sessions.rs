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
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::classify::{self, db2_equals};
use super::config::SessionsConfig;
use super::fast_hash::{FastMap, FastSet};
use super::Enricher;
pub use crate::event::session::{JobKind, OpenSession, SessionChanges};
use crate::event::{Event, JournalRow, SessionBlock, Severity, Text};

/// A session that ended, for the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The session's access method (`connection_method` when it opened).
    pub method: Text,
    /// Why it ended (`job_end`, `swap_back`, `max_duration`, `evicted`, ...).
    pub reason: &'static str,
}

/// The open sessions of every system the stream carries.
#[derive(Clone, Debug)]
pub struct SessionTracker {
    max_duration_micros: i64,
    max_open: usize,
    /// System → qualified job → its open session (looked up without allocating).
    open: FastMap<Text, FastMap<Text, OpenSession>>,
    /// Sessions in `open`.
    count: usize,
    /// Per system: (start, job) of each open session, oldest first.
    by_age: FastMap<Text, BTreeSet<(i64, Text)>>,
    /// Per system: the last entry's position, to see a sequence reset (IPL).
    last_position: FastMap<Text, Position>,
    changes: SessionChanges,
    tallies: Vec<Tally>,
    /// Open sessions per method.
    by_method: BTreeMap<String, usize>,
    /// Jobs whose session opened since the last `take_changes` and whose
    /// entry in `changes` is then all the store needs (a close removes it).
    fresh: FastSet<(Text, Text)>,
    /// Whether the log said the table is full (once per run).
    evicted_said: bool,
}

/// The last entry of a system: a lower sequence next is a reset (IPL); its
/// time is the time of the session ends a notice causes (a notice's own time
/// is when it was noticed, which a restart would not repeat).
#[derive(Clone, Debug)]
struct Position {
    sequence: u64,
    receiver: Text,
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
            open: FastMap::default(),
            count: 0,
            by_age: FastMap::default(),
            last_position: FastMap::default(),
            changes: SessionChanges::default(),
            tallies: Vec::new(),
            by_method: BTreeMap::new(),
            fresh: FastSet::default(),
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
                Text::from(cursor.system_name.as_str()),
                Position {
                    sequence: cursor.sequence_number,
                    receiver: Text::from(cursor.receiver_name.as_str()),
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
        self.observe_into(row, enricher, &mut events);
        events
    }

    /// [`SessionTracker::observe`], appending the events to `events`.
    pub fn observe_into(&mut self, row: &JournalRow, enricher: &Enricher, events: &mut Vec<Event>) {
        if let Some(notice) = &row.notice {
            if notice.action == "audit_gap" {
                let last = self
                    .last_position
                    .get(row.system_name.as_str())
                    .and_then(|position| position.time);
                match last {
                    Some((utc, local)) => {
                        let mut cause = row.clone();
                        cause.entry_timestamp = utc;
                        cause.entry_timestamp_local = local;
                        self.close_system(&cause, "audit_gap", enricher, events);
                    }
                    None => self.close_system(row, "audit_gap", enricher, events),
                }
            }
            return;
        }
        let time = Some((row.entry_timestamp, row.entry_timestamp_local));
        let reset = match self.last_position.get_mut(row.system_name.as_str()) {
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
            self.close_system(row, "ipl", enricher, events);
        }
        if row.details.is_some() {
            return;
        }
        self.close_aged(row, enricher, events);
        self.apply_js(row, enricher, events);
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
        user: Text,
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
            job: Text::from(
                row.qualified_job_name
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or_default(),
            ),
            kind,
            privileged: enricher.is_privileged_name(&user),
            user,
            job_user: profile(row.job_user.as_deref()),
            // Static: the session events borrow it (`Text::as_static_str`).
            method: Text::const_new(method.name),
            secure: method.secure,
            remote_address: row
                .remote_address
                .as_deref()
                .map(str::trim)
                .filter(|address| !address.is_empty())
                .map(Text::from),
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
        // Counted without a new key's allocation but for a method's first session.
        match self.by_method.get_mut(session.method.as_str()) {
            Some(count) => *count += 1,
            None => {
                self.by_method.insert(session.method.to_string(), 1);
            }
        }
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
    fn oldest(&self) -> Option<(Text, Text)> {
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
        if let Some(count) = self.by_method.get_mut(session.method.as_str()) {
            *count = count.saturating_sub(1);
        }
        if let Some(ages) = self.by_age.get_mut(session.system.as_str()) {
            ages.remove(&(session.started, session.job.clone()));
            if ages.is_empty() {
                self.by_age.remove(session.system.as_str());
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
        let jobs: Vec<Text> = self
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
                .get(row.system_name.as_str())
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
fn profile(name: Option<&str>) -> Option<Text> {
    name.map(str::trim)
        .filter(|name| !name.is_empty())
        .map(Text::from_str_to_uppercase)
}

/// What a session event says, appended piece by piece into one `String`
/// (a third of the simulator's entries make one: `format!` showed).
fn session_message(
    session: &OpenSession,
    end: Option<&End<'_>>,
    started_at: &DateTime<Utc>,
    duration_seconds: Option<f64>,
) -> String {
    use std::fmt::Write;
    let mut message = String::with_capacity(160);
    message.push_str(&session.user);
    message.push_str(match end {
        Some(End { at: Some(_), .. }) => " was connected to job ",
        _ => " connected to job ",
    });
    message.push_str(&session.job);
    message.push_str(" over ");
    message.push_str(&session.method);
    if let Some(address) = &session.remote_address {
        message.push_str(" from ");
        message.push_str(address);
    }
    match end {
        None => {
            message.push_str(" at ");
            crate::event::push_utc(&mut message, started_at);
        }
        Some(End {
            reason,
            at: Some((ended, _)),
        }) => {
            message.push_str(" from ");
            crate::event::push_utc(&mut message, started_at);
            message.push_str(" to ");
            crate::event::push_utc(&mut message, ended);
            // Writing a number into a `String` cannot fail.
            let _ = write!(message, " ({:.6} s; ", duration_seconds.unwrap_or_default());
            message.push_str(reason);
            message.push(')');
        }
        Some(End { reason, at: None }) => {
            message.push_str(" at ");
            crate::event::push_utc(&mut message, started_at);
            message.push_str("; the end is unknown (");
            message.push_str(reason);
            message.push(')');
        }
    }
    message
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
    let message = session_message(session, end.as_ref(), &started_at, duration_seconds);
    let mut parts = session.job.splitn(3, '/');
    let (job_number, job_user, job_name) = (parts.next(), parts.next(), parts.next());
    let owned = |part: Option<&str>| part.filter(|part| !part.is_empty()).map(Text::from);
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
        end_reason: end.as_ref().map(|end| Text::const_new(end.reason)),
        start_entry: session.start_entry.clone(),
        end_entry: end
            .as_ref()
            .and_then(|end| end.at.map(|(_, entry)| entry.to_owned())),
    };
    Event {
        schema_version: enricher.schema_version(),
        event_id: [session.start_entry.as_str(), "#", action].concat(),
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
        connection_method: match session.method.as_static_str() {
            Some(method) => Cow::Borrowed(method),
            None => Cow::Owned(session.method.to_string()),
        },
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
mod tests;
