//! The ODBC source: tails `SYSTOOLS.AUDIT_JOURNAL_JS` receiver by receiver, in
//! bounded sequence windows.
//!
//! The position is (receiver library, receiver name, sequence number). Each
//! table-function call reads one receiver from the next sequence number to at
//! most [`chain::WINDOW_ENTRIES`] sequence numbers further (never past the
//! receiver's LAST_SEQUENCE_NUMBER), whole, in one statement that finishes; its
//! rows are handed out `batch_rows` at a time, and the next call is made only
//! when they are all handed out, so backpressure stops the calls. When a
//! detached receiver is read to its end, the reader moves to the next one in
//! the chain (`QSYS2.JOURNAL_RECEIVER_INFO`). Timestamps are used only for the
//! very first start. This survives sequence resets (each receiver is read on its
//! own) and repeated local hours.
//!
//! Parts: [`chain`] decides (pure), [`session`] talks to the driver,
//! [`classify`] turns driver errors into what happens next, [`sql`] writes the
//! statements (pure). Runs on the source thread: every call here blocks.

pub mod chain;
pub mod classify;
pub mod config;
pub mod doctor;
pub mod session;
pub mod sql;

use std::collections::VecDeque;

use chrono::{DateTime, NaiveDateTime, Utc};
use tracing::{error, info, warn};

use self::chain::{Decision, ReceiverId, ReceiverInfo, WINDOW_ENTRIES};
use self::classify::{classify, Doing};
pub use self::classify::{DriverError, Failure, OdbcError};
use self::config::OdbcConfig;
use self::session::{Kind, RowView, Session, Target};
use self::sql::{SqlFilter, Start};
use super::rows::{journal_row, typed_row, Columns, LocalClock};
use crate::config::Secret;
use crate::enrich::config::FilterConfig;
use crate::event::audit::TypeSpec;
use crate::event::{Cursor as JournalCursor, JournalRow, Notice};
use crate::source::config::SourceConfig;

/// Database host-server jobs: the forwarder's own connection shows up as these.
const OWN_CONNECTION_JOBS: &[&str] = &["QZDASOINIT", "QZDASSINIT"];

/// What one poll produced.
#[derive(Debug, Default)]
pub struct OdbcPoll {
    pub rows: Vec<JournalRow>,
    /// Position after this poll, when it moved (even with no rows to deliver).
    pub cursor: Option<JournalCursor>,
    pub caught_up: bool,
    /// Rows dropped as the forwarder's own database connections.
    pub own_rows_dropped: usize,
    /// Statements run on the server since the previous successful poll.
    pub queries: QueryCounts,
}

/// Statements run against the IBM i, by what they read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryCounts {
    /// Calls of SYSTOOLS.AUDIT_JOURNAL_JS (each reads and sorts its range).
    pub audit_journal_js: u64,
    /// Calls of the other types' functions (AUDIT_JOURNAL_PW, ...): each also
    /// reads its range of the journal.
    pub audit_journal_types: u64,
    /// Reads of QSYS2.JOURNAL_RECEIVER_INFO.
    pub journal_receiver_info: u64,
}

/// Where the next read starts.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Position {
    /// First start: entries at or after a local time, from the receiver holding it.
    FromTime {
        at: NaiveDateTime,
        receiver: Option<ReceiverId>,
    },
    /// First start with `start_at = "earliest"`.
    FromOldest,
    /// After an entry read (delivered, skipped, or the end of a window).
    After {
        /// Unknown until the first row is read on a first start.
        system: Option<String>,
        receiver: ReceiverId,
        sequence: u64,
        timestamp: Option<NaiveDateTime>,
    },
}

pub struct OdbcSource {
    config: OdbcConfig,
    password: Secret,
    batch_rows: usize,
    filter: SqlFilter,
    session: Option<Session>,
    /// The receiver chain as last read; kept while a detached receiver is read
    /// window by window (its end cannot move), read again otherwise.
    receivers: Option<Vec<ReceiverInfo>>,
    position: Position,
    /// Rows of the last window not handed out yet, and the cursor after them.
    pending: VecDeque<JournalRow>,
    pending_end: Option<JournalCursor>,
    pending_own: usize,
    unreported: QueryCounts,
    total: QueryCounts,
    clock: LocalClock,
    host: String,
    /// Whether JS entries are read (`source.audit_types` lists JS).
    read_js: bool,
    /// The other audit types configured, in catalog order, and the optional ones.
    types: Vec<&'static TypeSpec>,
    optional: Vec<&'static TypeSpec>,
    /// Sequence numbers per call: WINDOW_ENTRIES, halved while a window holds
    /// an entry the server cannot convert, until that entry is alone.
    window: u64,
    /// The last sequence of the window that failed while narrowing.
    bad_until: u64,
}

/// What one read of a receiver brought back.
#[derive(Default)]
struct Read {
    rows: Vec<JournalRow>,
    /// The last row read, kept or not: (system, sequence, local time).
    last: Option<(Option<String>, u64, Option<NaiveDateTime>)>,
    own_dropped: usize,
    /// Rows the statement returned (kept, dropped or malformed).
    returned: usize,
}

impl OdbcSource {
    /// Prepares the source; connects on the first poll (on the source thread).
    pub fn new(
        source: &SourceConfig,
        filter: &FilterConfig,
        password: Secret,
        cursor: Option<&JournalCursor>,
    ) -> Result<OdbcSource, String> {
        let config = source.odbc.clone();
        let zone = config.zone()?;
        let mut clock = LocalClock::new(zone);
        let position = match cursor {
            Some(cursor) => {
                clock.resume_after(cursor.entry_timestamp);
                position_of(cursor)
            }
            None => match config.start_at.trim() {
                "earliest" => Position::FromOldest,
                "now" => Position::FromTime { at: clock.now_local(), receiver: None },
                text => Position::FromTime {
                    at: super::rows::parse_local_timestamp(text).ok_or_else(|| {
                        format!("source.odbc.start_at {text:?} is not \"now\", \"earliest\" or a local timestamp like 2026-04-08T00:00:00")
                    })?,
                    receiver: None,
                },
            },
        };
        let upper = |names: &[String]| {
            names
                .iter()
                .map(|name| name.trim().to_uppercase())
                .collect::<Vec<_>>()
        };
        if config.timezone == "server" {
            warn!("source.odbc.timezone = \"server\" reads local times as UTC; set the IANA zone of the IBM i (e.g. \"Europe/Rome\") for correct UTC and DST handling");
        }
        Ok(OdbcSource {
            host: host_of(config.connection_string.expose()),
            filter: SqlFilter {
                entry_types: upper(&filter.entry_types),
                include_users: upper(&filter.include_users),
                exclude_users: upper(&filter.exclude_users),
            },
            batch_rows: source.batch_rows.max(1),
            session: None,
            receivers: None,
            position,
            pending: VecDeque::new(),
            pending_end: None,
            pending_own: 0,
            unreported: QueryCounts::default(),
            total: QueryCounts::default(),
            clock,
            read_js: source.types().iter().any(|spec| spec.is_js()),
            types: source
                .types()
                .into_iter()
                .filter(|spec| !spec.is_js())
                .collect(),
            optional: source
                .types()
                .into_iter()
                .filter(|spec| source.is_optional(spec))
                .collect(),
            config,
            password,
            window: WINDOW_ENTRIES,
            bad_until: 0,
        })
    }

    /// The host named by the connection string, for log lines.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Statements run since the source was made.
    pub fn queries(&self) -> QueryCounts {
        self.total
    }

    /// The receivers of QSYS/QAUDJRN, oldest first (connects if needed).
    pub fn receivers(&mut self) -> Result<Vec<ReceiverInfo>, OdbcError> {
        self.connect()?;
        self.refresh_receivers()
    }

    /// Optional audit types the connected system lacks.
    pub fn missing_types(&self) -> Vec<&'static str> {
        self.session
            .as_ref()
            .map(|session| session.missing.iter().map(|spec| spec.code).collect())
            .unwrap_or_default()
    }

    /// Profiles holding *ALLOBJ or *SECADM, from `QSYS2.USER_INFO`.
    pub fn privileged_profiles(&mut self) -> Result<Vec<String>, OdbcError> {
        self.connect()?;
        let session = self.session.as_mut().expect("connected");
        match session.privileged_profiles() {
            Ok(names) => Ok(names),
            Err(session::PrivilegedError::Driver(error)) => Err(self.fail(Doing::UserInfo, &error)),
            Err(session::PrivilegedError::Prepare(text)) => Err(OdbcError::fatal(text)),
        }
    }

    /// Drops the connection; the next poll reconnects.
    pub fn disconnect(&mut self) {
        self.session = None;
        self.receivers = None;
    }

    /// Hands out the next rows: from the last window while it has some, else
    /// from a new call. On an error the connection is dropped; rows
    /// already read stay to be handed out.
    pub fn poll(&mut self) -> Result<OdbcPoll, OdbcError> {
        let result = if self.pending.is_empty() && self.pending_end.is_none() {
            self.poll_connected()
        } else {
            Ok(self.next_chunk())
        };
        if result.is_err() {
            // After any error the statements may be mid-cursor: start afresh.
            self.disconnect();
        }
        result.map(|mut poll| {
            poll.queries = std::mem::take(&mut self.unreported);
            poll
        })
    }

    fn poll_connected(&mut self) -> Result<OdbcPoll, OdbcError> {
        self.connect()?;
        // Steps that make no call (moving between receivers) run in one poll;
        // at most one table-function call is made per poll.
        for _ in 0..64 {
            match self.position.clone() {
                Position::FromOldest => {
                    let receivers = self.refresh_receivers()?;
                    let oldest = &receivers[0];
                    self.position = Position::After {
                        system: None,
                        receiver: oldest.id.clone(),
                        sequence: oldest.first_sequence.unwrap_or(1).saturating_sub(1),
                        timestamp: None,
                    };
                }
                Position::FromTime { at, receiver } => {
                    let receivers = self.refresh_receivers()?;
                    let index = match receiver.as_ref().and_then(|id| chain::find(&receivers, id)) {
                        Some(index) => index,
                        None => receivers
                            .iter()
                            .rposition(|info| {
                                info.attach_timestamp.is_some_and(|attached| attached <= at)
                            })
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
                        continue;
                    }
                    let read = self.read(
                        &info.id,
                        Kind::FromTimestamp,
                        &Start::Timestamp(at),
                        None,
                        None,
                    )?;
                    if let Some((system, sequence, timestamp)) = read.last {
                        self.position = Position::After {
                            system,
                            receiver: info.id.clone(),
                            sequence,
                            timestamp,
                        };
                        let end = self.end_cursor(&read.rows);
                        return Ok(self.deliver(read.rows, read.own_dropped, end));
                    }
                    match chain::after_empty_open_read(&receivers, index) {
                        Decision::Move { next } | Decision::Gap { next, .. } => {
                            // Nothing read yet: no entry can have been missed.
                            self.position = Position::FromTime {
                                at,
                                receiver: Some(receivers[next].id.clone()),
                            }
                        }
                        _ => return Ok(caught_up()),
                    }
                }
                Position::After {
                    system,
                    receiver,
                    sequence,
                    timestamp,
                } => {
                    let receivers = match self.receivers.take() {
                        // A detached receiver with more to read: its end cannot move.
                        // The attached one, while a whole window lies below the
                        // LAST_SEQUENCE_NUMBER read before: every entry in it was
                        // written then, so reading the list again could not change
                        // the window (one read per catch-up instead of one per window).
                        Some(cached)
                            if matches!(
                                chain::decide(&cached, &receiver, sequence, timestamp, self.window),
                                Decision::Read { index, last: Some(last), .. }
                                    if !cached[index].attached
                                        || last == sequence.saturating_add(self.window)
                            ) =>
                        {
                            cached
                        }
                        _ => self.refresh_receivers()?,
                    };
                    let decision =
                        chain::decide(&receivers, &receiver, sequence, timestamp, self.window);
                    self.receivers = Some(receivers.clone());
                    match decision {
                        Decision::Read {
                            index,
                            first,
                            last: Some(last),
                        } => {
                            let info = &receivers[index];
                            let read = match self.read(
                                &info.id,
                                Kind::Window,
                                &Start::Sequence(first),
                                Some(last),
                                system.as_deref(),
                            ) {
                                Ok(read) => read,
                                Err(error) if is_row_data_error(&error) => {
                                    return Ok(self.isolate(error, system, receiver, first, last));
                                }
                                Err(error) => return Err(error),
                            };
                            // Past the window that failed: whole windows again.
                            if self.window < WINDOW_ENTRIES && last >= self.bad_until {
                                self.window = WINDOW_ENTRIES;
                            }
                            if let Some(row) = read
                                .rows
                                .first()
                                .filter(|row| row.sequence_number <= sequence)
                            {
                                error!("audit gap: sequence numbers went backwards inside receiver {receiver} (read {} after {sequence}); entries may be missing or repeated", row.sequence_number);
                            }
                            let system = system.or_else(|| {
                                read.last.as_ref().and_then(|(system, _, _)| system.clone())
                            });
                            let last_row = read.rows.last();
                            let timestamp =
                                last_row.map(|row| row.entry_timestamp_local).or(timestamp);
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
                            return Ok(self.deliver(read.rows, read.own_dropped, end));
                        }
                        Decision::Read {
                            index,
                            first,
                            last: None,
                        } => {
                            let info = &receivers[index];
                            let read = self.read(
                                &info.id,
                                Kind::FromSequence,
                                &Start::Sequence(first),
                                None,
                                system.as_deref(),
                            )?;
                            if let Some((seen_system, last, last_timestamp)) = read.last {
                                self.position = Position::After {
                                    system: system.or(seen_system),
                                    receiver,
                                    sequence: last,
                                    timestamp: last_timestamp.or(timestamp),
                                };
                                let end = self.end_cursor(&read.rows);
                                return Ok(self.deliver(read.rows, read.own_dropped, end));
                            }
                            let decision = chain::after_empty_open_read(&receivers, index);
                            if let Some(poll) = self
                                .follow(decision, &receivers, system, receiver, sequence, timestamp)
                            {
                                return Ok(poll);
                            }
                        }
                        other => {
                            if let Some(poll) = self
                                .follow(other, &receivers, system, receiver, sequence, timestamp)
                            {
                                return Ok(poll);
                            }
                        }
                    }
                }
            }
        }
        Ok(OdbcPoll::default())
    }

    /// A window read failed on an entry the server cannot convert (SQLSTATE
    /// class 22): halve the window and read again, until the entry is alone;
    /// then it becomes one `malformed_row` notice at its position, and reading
    /// goes on after it with whole windows. The good entries around it are
    /// read, none is skipped.
    fn isolate(
        &mut self,
        error: OdbcError,
        system: Option<String>,
        receiver: ReceiverId,
        first: u64,
        last: u64,
    ) -> OdbcPoll {
        // The statement failed mid-call: start the next one on a new connection.
        self.disconnect();
        let width = last.saturating_sub(first).saturating_add(1);
        if width > 1 {
            self.window = (width / 2).max(1);
            self.bad_until = last;
            warn!(receiver = %receiver, first, last, window = self.window, sqlstate = ?error.failure().sqlstate, "an entry in this window cannot be converted by the server; narrowing the window to find it");
            return OdbcPoll::default();
        }
        let message = format!(
            "journal entry {first} of receiver {receiver} cannot be read: the server cannot convert it (SQLSTATE {}); it is skipped and reading goes on after it. {}",
            error.failure().sqlstate.as_deref().unwrap_or("none"),
            error.failure().message
        );
        error!("{message}");
        self.window = WINDOW_ENTRIES;
        let shown = system.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
        let row = malformed_row(&shown, &receiver, first, self.clock.now_local(), message);
        self.position = Position::After {
            system: system.clone(),
            receiver: receiver.clone(),
            sequence: first,
            timestamp: None,
        };
        let end = self.position_cursor();
        self.deliver(vec![row], 0, end)
    }

    /// Carries out a decision that makes no call; `None` to go on stepping.
    fn follow(
        &mut self,
        decision: Decision,
        receivers: &[ReceiverInfo],
        system: Option<String>,
        receiver: ReceiverId,
        sequence: u64,
        timestamp: Option<NaiveDateTime>,
    ) -> Option<OdbcPoll> {
        let shown_system = system.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
        match decision {
            Decision::Read { .. } => None,
            Decision::CaughtUp => Some(caught_up()),
            Decision::Move { next } => {
                let next = &receivers[next];
                info!(from = %receiver, to = %next.id, "receiver read to its end; moving to the next one");
                self.position = Position::After {
                    system,
                    receiver: next.id.clone(),
                    sequence: next.first_sequence.unwrap_or(1).saturating_sub(1),
                    timestamp,
                };
                // The checkpoint moves too (when there is one to move).
                let cursor = self.position_cursor()?;
                Some(OdbcPoll {
                    cursor: Some(JournalCursor {
                        entry_timestamp: None,
                        ..cursor
                    }),
                    ..OdbcPoll::default()
                })
            }
            Decision::Gap { next, lost } => {
                let next = &receivers[next];
                let message = format!(
                    "audit gap: between receiver {receiver} (read to sequence {sequence}) and receiver {}: {lost}; those entries were deleted before they were read; continuing with receiver {}",
                    next.id, next.id
                );
                Some(self.gap(&shown_system, &receiver, sequence, message, next))
            }
            Decision::Deleted { resume } => {
                let resume = &receivers[resume];
                let message = format!(
                    "audit gap: receiver {receiver} was deleted before it was read to the end; entries after sequence {sequence} in it{} are lost; continuing with receiver {} (keep receivers longer than the longest outage)",
                    timestamp.map(|at| format!(" (after local time {at})")).unwrap_or_default(),
                    resume.id
                );
                Some(self.gap(&shown_system, &receiver, sequence, message, resume))
            }
            Decision::Unreadable { index, resume } => {
                let info = &receivers[index];
                let status = info.unreadable.as_deref().unwrap_or("not readable");
                let range = match info.last_sequence {
                    Some(last) if last > sequence => {
                        format!("sequence numbers {} to {last}", sequence.saturating_add(1))
                    }
                    _ => format!("every entry after sequence {sequence}"),
                };
                let Some(resume) = resume else {
                    // Nothing after it yet: say so once a poll, and wait.
                    warn!(receiver = %receiver, status, "receiver cannot be read and no receiver follows it yet; waiting");
                    return Some(caught_up());
                };
                let resume = &receivers[resume];
                let message = format!(
                    "audit gap: receiver {receiver} cannot be read (STATUS {status}: it was saved with its storage freed); {range} in it are lost to auditfwd; continuing with receiver {}. To recover them, restore the receiver (RSTOBJ OBJTYPE(*JRNRCV)) and run `auditfwd backfill` over that range",
                    resume.id
                );
                Some(self.gap(&shown_system, &receiver, sequence, message, resume))
            }
            Decision::Replaced { resume, last } => {
                let resume = &receivers[resume];
                let message = format!(
                    "audit gap: receiver {receiver} now ends at sequence {last} but sequence {sequence} was already read from it: the receiver was replaced; its entries cannot be trusted to be complete; continuing with receiver {}",
                    resume.id
                );
                Some(self.gap(&shown_system, &receiver, sequence, message, resume))
            }
        }
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

    /// Keeps `rows` to hand out, `end` being the cursor after the last of them;
    /// returns the first chunk.
    fn deliver(
        &mut self,
        rows: Vec<JournalRow>,
        own_dropped: usize,
        end: Option<JournalCursor>,
    ) -> OdbcPoll {
        self.pending = rows.into();
        self.pending_end = end;
        self.pending_own = own_dropped;
        self.next_chunk()
    }

    /// The next `batch_rows` rows of the last read, with the cursor after them.
    fn next_chunk(&mut self) -> OdbcPoll {
        let take = self.pending.len().min(self.batch_rows);
        let rows: Vec<JournalRow> = self.pending.drain(..take).collect();
        let cursor = if self.pending.is_empty() {
            self.pending_end
                .take()
                .or_else(|| rows.last().map(JournalCursor::of))
        } else {
            rows.last().map(JournalCursor::of)
        };
        OdbcPoll {
            rows,
            cursor,
            caught_up: false,
            own_rows_dropped: std::mem::take(&mut self.pending_own),
            queries: QueryCounts::default(),
        }
    }

    /// A synthetic `audit_gap` row about `receiver`, and the position after it.
    fn gap(
        &mut self,
        system: &str,
        receiver: &ReceiverId,
        sequence: u64,
        message: String,
        resume: &ReceiverInfo,
    ) -> OdbcPoll {
        error!("{message}");
        let local = self.clock.now_local();
        let cursor = JournalCursor {
            system_name: system.to_owned(),
            receiver_library: resume.id.library.clone(),
            receiver_name: resume.id.name.clone(),
            sequence_number: resume.first_sequence.unwrap_or(1).saturating_sub(1),
            entry_timestamp_local: None,
            entry_timestamp: None,
            signals: None,
            sessions: None,
        };
        let mut row = JournalRow::bare(
            system,
            &receiver.library,
            &receiver.name,
            sequence,
            local,
            Utc::now(),
        );
        row.entry_type_detail = Some("Journal entries lost before they were read".into());
        row.notice = Some(Notice {
            action: "audit_gap",
            message,
        });
        self.position = position_of(&cursor);
        OdbcPoll {
            rows: vec![row],
            cursor: Some(cursor),
            caught_up: false,
            own_rows_dropped: 0,
            queries: QueryCounts::default(),
        }
    }

    /// The connection string with the password added, and the secrets that
    /// must never appear in a message.
    fn connection_text(&self) -> (String, Vec<String>) {
        let mut text = self.config.connection_string.expose().to_owned();
        if !self.password.is_empty() {
            if !text.trim_end().ends_with(';') && !text.trim().is_empty() {
                text.push(';');
            }
            text.push_str(&format!(
                "PWD={{{}}};",
                self.password.expose().replace('}', "}}")
            ));
        }
        (text, self.secrets())
    }

    /// Every text that must never appear in a message: the password, and the
    /// connection string's own password as written and as meant (braces and
    /// `}}` escapes undone).
    fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![self.password.expose().to_owned()];
        secrets.extend(password_forms(self.config.connection_string.expose()));
        secrets
    }

    fn connect(&mut self) -> Result<(), OdbcError> {
        if self.session.is_some() {
            return Ok(());
        }
        let (text, secrets) = self.connection_text();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let session = Session::open(&Target {
            connection_string: &text,
            host: &self.host,
            secrets: &secrets,
            dialect: self.config.dialect,
            filter: &self.filter,
            timeout_seconds: self.config.query_timeout.as_secs().max(1) as usize,
            exclude_own_connections: self.config.exclude_own_connections,
            types: &self.types,
            optional: &self.optional,
        })?;
        self.session = Some(session);
        self.receivers = None;
        Ok(())
    }

    fn fail(&self, doing: Doing, error: &odbc_api::Error) -> OdbcError {
        let secrets = self.secrets();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        classify(&doing, &self.host, DriverError::redacted(error, &secrets))
    }

    /// Reads `QSYS2.JOURNAL_RECEIVER_INFO` (oldest first), never empty.
    fn refresh_receivers(&mut self) -> Result<Vec<ReceiverInfo>, OdbcError> {
        let session = self.session.as_mut().expect("connected");
        self.unreported.journal_receiver_info += 1;
        self.total.journal_receiver_info += 1;
        let query = sql::receivers();
        let mut receivers = Vec::new();
        let result = session.run(Kind::Receivers, &query.params, 1_000_000, |view| {
            let text = |index: usize| {
                view.at(index)
                    .map(|value| value.trim().to_owned())
                    .filter(|value| !value.is_empty())
            };
            receivers.extend(receiver_of_row(text));
        });
        if let Err(error) = result {
            return Err(self.fail(Doing::ReceiverInfo, &error));
        }
        if receivers.is_empty() {
            return Err(OdbcError::fatal(
                "QSYS2.JOURNAL_RECEIVER_INFO shows no receiver for QSYS/QAUDJRN: is auditing set up (CHGSECAUD), and may this profile see the receivers (*USE)?",
            ));
        }
        Ok(receivers)
    }

    /// Reads every configured audit type over the same range of `receiver`
    /// and merges them in sequence order: a window from `start` to `last`
    /// (whole), or from `start` bounded by `batch_rows` per type when `last` is
    /// `None`, in which case only the prefix that every type has read entirely
    /// is kept (the rest is read again on the next call).
    fn read(
        &mut self,
        receiver: &ReceiverId,
        kind: Kind,
        start: &Start,
        last: Option<u64>,
        system: Option<&str>,
    ) -> Result<Read, OdbcError> {
        let typed = self
            .session
            .as_ref()
            .map_or(0, |session| session.typed.len());
        if typed == 0 {
            return self.read_js_rows(receiver, kind, start, last, system);
        }
        let clock_before = self.clock.clone();
        let mut read = if self.read_js {
            self.read_js_rows(receiver, kind, start, last, system)?
        } else {
            Read::default()
        };
        let limit = self.batch_rows;
        // Rows-bounded reads: a type that returned a full chunk may have more
        // after its last row, so the merge is complete only up to the lowest
        // such last row.
        let mut complete_to: Option<u64> = None;
        let mut note_bound = |part: &Read| {
            if last.is_none() && part.returned >= limit {
                if let Some((_, sequence, _)) = part.last {
                    complete_to = Some(complete_to.map_or(sequence, |bound| bound.min(sequence)));
                }
            }
        };
        note_bound(&read);
        for index in 0..typed {
            let part = self.read_typed_rows(index, receiver, kind, start, last, system)?;
            note_bound(&part);
            read.own_dropped += part.own_dropped;
            read.returned += part.returned;
            read.rows.extend(part.rows);
            read.last = match (read.last.take(), part.last) {
                (Some(mine), Some(theirs)) => Some(if theirs.1 > mine.1 {
                    (theirs.0.or(mine.0), theirs.1, theirs.2)
                } else {
                    (mine.0.or(theirs.0), mine.1, mine.2)
                }),
                (mine, theirs) => mine.or(theirs),
            };
        }
        // One journal, one sequence: each part is in order, the merge is a stable sort.
        read.rows.sort_by_key(|row| row.sequence_number);
        if let Some(bound) = complete_to {
            read.rows.retain(|row| row.sequence_number <= bound);
            let system = read.last.take().and_then(|(system, _, _)| system);
            let timestamp = read
                .rows
                .iter()
                .rev()
                .find(|row| row.notice.is_none())
                .map(|row| row.entry_timestamp_local);
            read.last = Some((system, bound, timestamp));
        }
        // Local times resolve to UTC in journal order (DST), across types.
        self.clock = clock_before;
        for row in read.rows.iter_mut().filter(|row| row.notice.is_none()) {
            row.entry_timestamp = self.clock.to_utc(&row.entry_timestamp_local);
        }
        Ok(read)
    }

    /// One call of the function of the other type at `index` over `receiver`.
    fn read_typed_rows(
        &mut self,
        index: usize,
        receiver: &ReceiverId,
        kind: Kind,
        start: &Start,
        last: Option<u64>,
        system: Option<&str>,
    ) -> Result<Read, OdbcError> {
        let session = self.session.as_mut().expect("connected");
        let spec = session.typed[index].spec;
        let none = SqlFilter::default();
        let query = match (last, start) {
            (Some(last), Start::Sequence(first)) => sql::read_window(
                spec.function,
                self.config.dialect,
                &[],
                &receiver.library,
                &receiver.name,
                *first,
                last,
                &none,
            ),
            _ => sql::read_receiver(
                spec.function,
                self.config.dialect,
                &[],
                &receiver.library,
                &receiver.name,
                start,
                &none,
                self.batch_rows,
            ),
        };
        let max_rows = rows_expected(last, start, self.batch_rows);
        self.unreported.audit_journal_types += 1;
        self.total.audit_journal_types += 1;
        // A throwaway clock: UTC is resolved again once all types are merged.
        let mut clock = self.clock.clone();
        let anchor = match &self.position {
            Position::After { sequence, .. } => *sequence,
            _ => 0,
        };
        let mut read = Read::default();
        let result = session.run_typed(index, kind, &query.params, max_rows, |view| {
            read.returned += 1;
            match typed_row(spec, view, &mut clock) {
                Ok(row) => {
                    read.last = Some((
                        Some(row.system_name.clone()),
                        row.sequence_number,
                        Some(row.entry_timestamp_local),
                    ));
                    read.rows.push(row);
                }
                Err(problem) => {
                    let sequence = view
                        .text("SEQUENCE_NUMBER")
                        .and_then(|text| parse_sequence(&text));
                    let known = system
                        .map(str::to_owned)
                        .or_else(|| read.last.as_ref().and_then(|(system, _, _)| system.clone()));
                    let near = sequence
                        .or(read.last.as_ref().map(|(_, sequence, _)| *sequence))
                        .unwrap_or(anchor);
                    let message = format!(
                        "malformed {} row in receiver {receiver} near sequence {near}: {problem}",
                        spec.code
                    );
                    error!("{message}");
                    let local = clock.now_local();
                    let shown = known.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
                    let row = malformed_row(&shown, receiver, near, local, message);
                    if let Some(sequence) = sequence {
                        read.last = Some((known.or(Some(shown)), sequence, None));
                    }
                    read.rows.push(row);
                }
            }
        });
        if let Err(error) = result {
            return Err(self.fail(Doing::Read(receiver.clone()), &error));
        }
        Ok(read)
    }

    /// One call of the JS function over `receiver`: a window from `start` to
    /// `last` (whole), or from `start` bounded by `batch_rows` when `last` is
    /// `None`. Own-connection rows are dropped before they are parsed.
    fn read_js_rows(
        &mut self,
        receiver: &ReceiverId,
        kind: Kind,
        start: &Start,
        last: Option<u64>,
        system: Option<&str>,
    ) -> Result<Read, OdbcError> {
        let query = match (last, start) {
            (Some(last), Start::Sequence(first)) => sql::read_window(
                sql::JS_FUNCTION,
                self.config.dialect,
                &[],
                &receiver.library,
                &receiver.name,
                *first,
                last,
                &self.filter,
            ),
            _ => sql::read_receiver(
                sql::JS_FUNCTION,
                self.config.dialect,
                &[],
                &receiver.library,
                &receiver.name,
                start,
                &self.filter,
                self.batch_rows,
            ),
        };
        let max_rows = rows_expected(last, start, self.batch_rows);
        self.unreported.audit_journal_js += 1;
        self.total.audit_journal_js += 1;
        let session = self.session.as_mut().expect("connected");
        let own_profile = session.own_profile.clone();
        let mut rows: Vec<JournalRow> = Vec::with_capacity(max_rows.min(WINDOW_ENTRIES as usize));
        let mut last_seen: Option<(Option<String>, u64, Option<NaiveDateTime>)> = None;
        let mut own_dropped = 0;
        let clock = &mut self.clock;
        let anchor = match &self.position {
            Position::After { sequence, .. } => *sequence,
            _ => 0,
        };
        let mut returned = 0;
        let result = session.run(kind, &query.params, max_rows, |view| {
            returned += 1;
            if is_own(view, own_profile.as_deref()) {
                own_dropped += 1;
                let sequence = view
                    .text("SEQUENCE_NUMBER")
                    .and_then(|text| parse_sequence(&text));
                if let Some(sequence) = sequence {
                    let timestamp = view
                        .text("ENTRY_TIMESTAMP")
                        .and_then(|text| super::rows::parse_local_timestamp(text.trim()));
                    let known = system
                        .map(str::to_owned)
                        .or_else(|| last_seen.as_ref().and_then(|(system, _, _)| system.clone()));
                    let known = known
                        .or_else(|| view.text("SYSTEM_NAME").map(|text| text.trim().to_owned()));
                    last_seen = Some((known, sequence, timestamp));
                }
                return;
            }
            match journal_row(view, clock) {
                Ok(row) => {
                    let known = match last_seen.take() {
                        Some((Some(known), _, _)) => Some(known),
                        _ => Some(row.system_name.clone()),
                    };
                    last_seen = Some((known, row.sequence_number, Some(row.entry_timestamp_local)));
                    rows.push(row);
                }
                Err(problem) => {
                    // A row that cannot become an event is still reported, never skipped silently.
                    let sequence = view
                        .text("SEQUENCE_NUMBER")
                        .and_then(|text| parse_sequence(&text));
                    let known = system
                        .map(str::to_owned)
                        .or_else(|| last_seen.as_ref().and_then(|(system, _, _)| system.clone()));
                    let near = sequence
                        .or(last_seen.as_ref().map(|(_, sequence, _)| *sequence))
                        .unwrap_or(anchor);
                    let message = format!(
                        "malformed row in receiver {receiver} near sequence {near}: {problem}"
                    );
                    error!("{message}");
                    let local = clock.now_local();
                    let shown = known.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
                    let row = malformed_row(&shown, receiver, near, local, message);
                    if let Some(sequence) = sequence {
                        last_seen = Some((known.or(Some(shown)), sequence, None));
                    }
                    rows.push(row);
                }
            }
        });
        if let Err(error) = result {
            return Err(self.fail(Doing::Read(receiver.clone()), &error));
        }
        Ok(Read {
            rows,
            last: last_seen,
            own_dropped,
            returned,
        })
    }
}

fn caught_up() -> OdbcPoll {
    OdbcPoll {
        caught_up: true,
        ..OdbcPoll::default()
    }
}

/// A row of the forwarder's own database connection (when it excludes them).
fn is_own(view: &RowView<'_>, own_profile: Option<&str>) -> bool {
    let Some(own) = own_profile else {
        return false;
    };
    view.text("REAL_USER_PROFILE")
        .is_some_and(|user| user.trim().eq_ignore_ascii_case(own))
        && view.text("JOB_NAME").is_some_and(|job| {
            let job = job.trim();
            OWN_CONNECTION_JOBS.iter().any(|prefix| {
                job.len() >= prefix.len() && job[..prefix.len()].eq_ignore_ascii_case(prefix)
            })
        })
}

fn parse_sequence(text: &str) -> Option<u64> {
    text.trim()
        .split('.')
        .next()
        .and_then(|whole| whole.parse::<u64>().ok())
}

fn position_of(cursor: &JournalCursor) -> Position {
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

/// Rows a call may return: its whole sequence range when the receiver's last
/// sequence number bounds it, else one batch.
fn rows_expected(last: Option<u64>, start: &Start, batch_rows: usize) -> usize {
    match (last, start) {
        (Some(last), Start::Sequence(first)) => {
            usize::try_from(last.saturating_sub(*first).saturating_add(1)).unwrap_or(usize::MAX)
        }
        _ => batch_rows,
    }
}

/// One row of `sql::receivers()` (columns by position, trimmed, empty as
/// `None`) as the chain reads it; `None` without a library and a name.
fn receiver_of_row(text: impl Fn(usize) -> Option<String>) -> Option<ReceiverInfo> {
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
        attach_timestamp: text(5).and_then(|value| super::rows::parse_local_timestamp(&value)),
        detach_timestamp: text(6).and_then(|value| super::rows::parse_local_timestamp(&value)),
        next,
        unreadable: ReceiverInfo::unreadable_status(text(2).as_deref()),
        id,
    })
}

/// A data exception (SQLSTATE class 22) while reading a window: one entry the
/// server cannot convert, not a broken connection or a bad statement.
fn is_row_data_error(error: &OdbcError) -> bool {
    error
        .failure()
        .sqlstate
        .as_deref()
        .is_some_and(|state| state.starts_with("22"))
}

fn malformed_row(
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
        action: "malformed_row",
        message,
    });
    row
}

/// The value of `SYSTEM=` or `SERVER=` in a connection string.
fn host_of(connection_string: &str) -> String {
    keyword(connection_string, &["SYSTEM", "SERVER", "DSN"])
        .map(|(_, value)| value)
        .unwrap_or_else(|| "(unnamed host)".to_owned())
}

/// The password of a connection string (`PWD=` or `PASSWORD=`, any case), as
/// written and as meant, each only when it is long enough to redact safely.
fn password_forms(connection_string: &str) -> Vec<String> {
    let mut forms = Vec::new();
    if let Some((raw, value)) = keyword(connection_string, &["PWD", "PASSWORD"]) {
        for form in [value, raw] {
            if !form.is_empty() && !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

/// The first `name=value` pair of `connection_string` whose name is one of
/// `names` (case-insensitive): (the value as written, the value as meant).
///
/// ODBC's grammar (SQLDriverConnect): pairs separated by `;`; a value may be
/// enclosed in braces, inside which `;` and `=` are plain and `}}` is one `}`.
fn keyword(connection_string: &str, names: &[&str]) -> Option<(String, String)> {
    connection_pairs(connection_string)
        .into_iter()
        .find(|(key, _, _)| names.iter().any(|name| key.eq_ignore_ascii_case(name)))
        .map(|(_, raw, value)| (raw, value))
}

/// Every pair of a connection string: (name, value as written, value as meant).
fn connection_pairs(text: &str) -> Vec<(String, String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([';', ' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let Some(equals) = rest.find('=') else {
            break;
        };
        let key = rest[..equals].trim().to_owned();
        let after = rest[equals + 1..].trim_start();
        let (raw, value, remaining) = if let Some(inside) = after.strip_prefix('{') {
            // Up to the first `}` not doubled; `}}` is a literal `}`.
            let mut value = String::new();
            let mut chars = inside.char_indices().peekable();
            let mut end = inside.len();
            while let Some((at, c)) = chars.next() {
                if c == '}' {
                    if chars.peek().is_some_and(|(_, next)| *next == '}') {
                        chars.next();
                        value.push('}');
                        continue;
                    }
                    end = at;
                    break;
                }
                value.push(c);
            }
            let raw = inside[..end].to_owned();
            let remaining = inside.get(end + 1..).unwrap_or("");
            let remaining = remaining.find(';').map_or("", |at| &remaining[at..]);
            (raw, value, remaining)
        } else {
            let end = after.find(';').unwrap_or(after.len());
            let value = after[..end].trim().to_owned();
            (value.clone(), value, &after[end..])
        };
        pairs.push((key, raw, value));
        rest = remaining;
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_password_are_found_in_connection_strings() {
        let text = "Driver={IBM i Access ODBC Driver};System=ibmi.example.com;UID=AUDITFWD;PWD={s3;cret};SSL=1";
        assert_eq!(host_of(text), "ibmi.example.com");
        assert_eq!(
            host_of("Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432"),
            "127.0.0.1"
        );
        assert_eq!(password_forms("UID=A;Password=xyz"), ["xyz"]);
        assert!(password_forms("UID=A").is_empty());
    }

    #[test]
    fn passwords_in_every_connection_string_form_are_found_whole() {
        // (connection string, the forms to redact)
        let cases: &[(&str, &[&str])] = &[
            ("UID=A;PWD=plain;SSL=1", &["plain"]),
            ("UID=A;pwd=lower", &["lower"]),
            ("UID=A;PassWord=mixed-case;", &["mixed-case"]),
            ("UID=A;PWD={s3;cret};SSL=1", &["s3;cret"]),
            ("UID=A;PWD={a}}b;c=d};SSL=1", &["a}b;c=d", "a}}b;c=d"]),
            ("UID=A; PWD = {  spaced } ;SSL=1", &["  spaced "]),
            (
                "Driver={IBM i Access ODBC Driver};System=x;PWD={}}};",
                &["}", "}}"],
            ),
            ("PWD=first;PASSWORD=second", &["first"]),
        ];
        for (text, expected) in cases {
            assert_eq!(&password_forms(text), expected, "{text}");
        }
        // The braces hide `;` and `=` from the pair that follows.
        assert_eq!(
            host_of("Driver={x;System=wrong};System=right;PWD={a;System=evil}"),
            "right"
        );
    }
}
