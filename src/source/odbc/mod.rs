//! The ODBC source: tails `SYSTOOLS.AUDIT_JOURNAL_JS` receiver by receiver.
//!
//! The position is (receiver library, receiver name, sequence number). Each poll
//! reads the position's receiver from the next sequence number on, in sequence
//! order, at most `batch_rows` rows. When a detached receiver has nothing more,
//! the reader moves to the next one in the chain (`QSYS2.JOURNAL_RECEIVER_INFO`).
//! Timestamps are used only for the very first start. This survives sequence
//! resets (each receiver is read on its own) and repeated local hours.
//!
//! Runs on the source thread: every call here blocks.

pub mod config;
pub mod sql;

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use odbc_api::buffers::TextRowSet;
use odbc_api::parameter::InputParameter;
use odbc_api::{
    Connection, ConnectionOptions, Cursor, Environment, IntoParameter, ResultSetMetadata,
};
use tracing::{error, info, warn};

use self::config::OdbcConfig;
use self::sql::{Query, SqlFilter, Start, Value};
use super::rows::{journal_row, Columns, LocalClock};
use crate::config::Secret;
use crate::enrich::config::FilterConfig;
use crate::event::{Cursor as JournalCursor, JournalRow, Notice};
use crate::source::config::SourceConfig;

/// Longest text read from one column; longer values are cut by the driver.
const MAX_COLUMN_BYTES: usize = 1024;
/// Database host-server jobs: the forwarder's own connection shows up as these.
const OWN_CONNECTION_JOBS: &[&str] = &["QZDASOINIT", "QZDASSINIT"];

/// Why a poll failed, by what happens next.
#[derive(Debug, thiserror::Error)]
pub enum OdbcError {
    /// Connection lost, timeout, server busy: reconnect with backoff.
    #[error("{0}")]
    Transient(String),
    /// Nothing will work until an operator acts (bad credentials, no authority,
    /// no such function): the message says what to do.
    #[error("{0}")]
    Fatal(String),
}

/// What one poll produced.
#[derive(Debug, Default)]
pub struct OdbcPoll {
    pub rows: Vec<JournalRow>,
    /// Position after this poll, when it moved (even with no rows to deliver).
    pub cursor: Option<JournalCursor>,
    pub caught_up: bool,
    /// Rows dropped as the forwarder's own database connections.
    pub own_rows_dropped: usize,
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
    /// After a delivered (or skipped) entry.
    After {
        system: String,
        receiver: ReceiverId,
        sequence: u64,
        timestamp: Option<NaiveDateTime>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ReceiverId {
    library: String,
    name: String,
}

impl std::fmt::Display for ReceiverId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.library, self.name)
    }
}

/// One row of `QSYS2.JOURNAL_RECEIVER_INFO`.
#[derive(Clone, Debug)]
struct ReceiverInfo {
    id: ReceiverId,
    attached: bool,
    first_sequence: Option<u64>,
    last_sequence: Option<u64>,
    attach_timestamp: Option<NaiveDateTime>,
    detach_timestamp: Option<NaiveDateTime>,
    next: Option<ReceiverId>,
}

struct Session {
    connection: Connection<'static>,
    /// Columns selected, in order: the required ones and the optional ones this release has.
    columns: Vec<String>,
    own_profile: Option<String>,
}

pub struct OdbcSource {
    config: OdbcConfig,
    password: Secret,
    batch_rows: usize,
    filter: SqlFilter,
    session: Option<Session>,
    position: Position,
    clock: LocalClock,
    host: String,
}

fn environment() -> Result<&'static Environment, OdbcError> {
    static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| Environment::new().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(|error| {
            OdbcError::Fatal(format!(
                "cannot create the ODBC environment (is unixODBC installed?): {error}"
            ))
        })
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
        let zone: chrono_tz::Tz = match config.timezone.as_str() {
            "server" => chrono_tz::Tz::UTC,
            name => name
                .parse()
                .map_err(|_| format!("source.odbc.timezone {name:?} is not an IANA zone"))?,
        };
        let mut clock = LocalClock::new(zone);
        let position = match cursor {
            Some(cursor) => {
                clock.resume_after(cursor.entry_timestamp);
                Position::After {
                    system: cursor.system_name.clone(),
                    receiver: ReceiverId { library: cursor.receiver_library.clone(), name: cursor.receiver_name.clone() },
                    sequence: cursor.sequence_number,
                    timestamp: cursor.entry_timestamp_local,
                }
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
        Ok(OdbcSource {
            host: host_of(config.connection_string.expose()),
            filter: SqlFilter {
                entry_types: upper(&filter.entry_types),
                include_users: upper(&filter.include_users),
                exclude_users: upper(&filter.exclude_users),
            },
            batch_rows: source.batch_rows,
            session: None,
            position,
            clock,
            config,
            password,
        })
    }

    /// The host named by the connection string, for log lines.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Drops the connection; the next poll reconnects.
    pub fn disconnect(&mut self) {
        self.session = None;
    }

    /// Reads the next rows. On a transient error the connection is dropped.
    pub fn poll(&mut self) -> Result<OdbcPoll, OdbcError> {
        let result = self.poll_connected();
        if matches!(result, Err(OdbcError::Transient(_))) {
            self.session = None;
        }
        result
    }

    fn poll_connected(&mut self) -> Result<OdbcPoll, OdbcError> {
        self.connect()?;
        let receivers = self.receivers()?;
        if receivers.is_empty() {
            return Err(OdbcError::Fatal(
                "QSYS2.JOURNAL_RECEIVER_INFO shows no receiver for QSYS/QAUDJRN: is auditing set up (CHGSECAUD), and may this profile see the receivers (*USE)?".into(),
            ));
        }
        // Moving between receivers needs no delivery, so a few steps run per poll.
        for _ in 0..receivers.len() + 2 {
            match self.position.clone() {
                Position::FromOldest => {
                    let oldest = &receivers[0];
                    self.position = Position::FromTime {
                        at: NaiveDateTime::MIN,
                        receiver: Some(oldest.id.clone()),
                    };
                }
                Position::FromTime { at, receiver } => {
                    let index = match receiver.as_ref().and_then(|id| find(&receivers, id)) {
                        Some(index) => index,
                        None => receivers
                            .iter()
                            .rposition(|info| {
                                info.attach_timestamp.is_some_and(|attached| attached <= at)
                            })
                            .unwrap_or(0),
                    };
                    let info = &receivers[index];
                    let start = match info.first_sequence {
                        Some(first) if at == NaiveDateTime::MIN => Start::Sequence(first),
                        _ if at == NaiveDateTime::MIN => Start::Sequence(0),
                        _ => Start::Timestamp(at),
                    };
                    let (rows, cursor, own) = self.read(&info.id, &start)?;
                    if let Some(cursor) = cursor {
                        self.position = position_of(&cursor);
                        return Ok(OdbcPoll {
                            rows,
                            cursor: Some(cursor),
                            caught_up: false,
                            own_rows_dropped: own,
                        });
                    }
                    if info.attached {
                        return Ok(OdbcPoll {
                            caught_up: true,
                            ..OdbcPoll::default()
                        });
                    }
                    match receivers.get(index + 1) {
                        Some(next) => {
                            self.position = Position::FromTime {
                                at,
                                receiver: Some(next.id.clone()),
                            }
                        }
                        None => {
                            return Ok(OdbcPoll {
                                caught_up: true,
                                ..OdbcPoll::default()
                            })
                        }
                    }
                }
                Position::After {
                    system,
                    receiver,
                    sequence,
                    timestamp,
                } => {
                    let Some(index) = find(&receivers, &receiver) else {
                        // The receiver holding the position is gone: entries after it were never read.
                        let resume = successor_of(&receivers, &receiver, timestamp);
                        let message = format!(
                            "audit gap: receiver {receiver} was deleted before it was read to the end; entries after sequence {sequence} in it{} are lost; continuing with receiver {} (keep receivers longer than the longest outage)",
                            timestamp.map(|at| format!(" (after local time {at})")).unwrap_or_default(),
                            resume.id
                        );
                        return Ok(self.gap(&system, &receiver, sequence, message, resume));
                    };
                    let info = receivers[index].clone();
                    if !info.attached && info.last_sequence.is_some_and(|last| last < sequence) {
                        let resume = receivers.get(index + 1).unwrap_or(&info).clone();
                        let message = format!(
                            "audit gap: receiver {receiver} now ends at sequence {} but sequence {sequence} was already read from it: the receiver was replaced; its entries cannot be trusted to be complete; continuing with receiver {}",
                            info.last_sequence.unwrap_or(0),
                            resume.id
                        );
                        return Ok(self.gap(&system, &receiver, sequence, message, &resume));
                    }
                    let (rows, cursor, own) =
                        self.read(&info.id, &Start::Sequence(sequence.saturating_add(1)))?;
                    if let Some(cursor) = cursor {
                        if let Some(first) =
                            rows.first().filter(|row| row.sequence_number <= sequence)
                        {
                            let message = format!(
                                "audit gap: sequence numbers went backwards inside receiver {receiver} (read {} after {sequence}); entries may be missing or repeated",
                                first.sequence_number
                            );
                            error!("{message}");
                        }
                        self.position = position_of(&cursor);
                        return Ok(OdbcPoll {
                            rows,
                            cursor: Some(cursor),
                            caught_up: false,
                            own_rows_dropped: own,
                        });
                    }
                    if info.attached {
                        return Ok(OdbcPoll {
                            caught_up: true,
                            ..OdbcPoll::default()
                        });
                    }
                    // A detached receiver read to its end: go on with the next one.
                    let next_index = info
                        .next
                        .as_ref()
                        .and_then(|next| find(&receivers, next))
                        .or_else(|| (index + 1 < receivers.len()).then_some(index + 1));
                    let Some(next_index) = next_index else {
                        return Ok(OdbcPoll {
                            caught_up: true,
                            ..OdbcPoll::default()
                        });
                    };
                    let next = &receivers[next_index];
                    if let Some(lost) = chain_break(&info, next) {
                        let message = format!(
                            "audit gap: between receiver {receiver} (read to sequence {sequence}) and receiver {}: {lost}; those entries were deleted before they were read; continuing with receiver {}",
                            next.id, next.id
                        );
                        let resume = next.clone();
                        return Ok(self.gap(&system, &receiver, sequence, message, &resume));
                    }
                    let cursor = JournalCursor {
                        system_name: system.clone(),
                        receiver_library: next.id.library.clone(),
                        receiver_name: next.id.name.clone(),
                        sequence_number: next.first_sequence.unwrap_or(1).saturating_sub(1),
                        entry_timestamp_local: timestamp,
                        entry_timestamp: None,
                    };
                    info!(from = %receiver, to = %next.id, "receiver read to its end; moving to the next one");
                    self.position = position_of(&cursor);
                    return Ok(OdbcPoll {
                        rows: Vec::new(),
                        cursor: Some(cursor),
                        caught_up: false,
                        own_rows_dropped: 0,
                    });
                }
            }
        }
        Ok(OdbcPoll {
            caught_up: true,
            ..OdbcPoll::default()
        })
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
        }
    }

    fn connect(&mut self) -> Result<(), OdbcError> {
        if self.session.is_some() {
            return Ok(());
        }
        let environment = environment()?;
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
        let connection = environment
            .connect_with_connection_string(
                &text,
                ConnectionOptions {
                    login_timeout_sec: Some(30),
                    ..ConnectionOptions::default()
                },
            )
            .map_err(|error| self.classify("connect", &error))?;
        let dialect = self.config.dialect;
        let discovered = column_names(&connection, &sql::discover_columns(dialect), self.timeout())
            .map_err(|error| {
                self.classify("read the columns of SYSTOOLS.AUDIT_JOURNAL_JS", &error)
            })?;
        let available: std::collections::HashSet<String> =
            discovered.iter().map(|name| name.to_uppercase()).collect();
        let missing: Vec<&str> = sql::REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|name| !available.contains(*name))
            .collect();
        if !missing.is_empty() {
            return Err(OdbcError::Fatal(format!(
                "SYSTOOLS.AUDIT_JOURNAL_JS on {} lacks the columns {missing:?}; apply the Db2 for i PTF group that ships it (see deploy/ibmi/)",
                self.host
            )));
        }
        let mut columns: Vec<String> = sql::REQUIRED_COLUMNS
            .iter()
            .map(|name| name.to_string())
            .collect();
        let absent: Vec<&str> = sql::OPTIONAL_COLUMNS
            .iter()
            .copied()
            .filter(|name| !available.contains(*name))
            .collect();
        columns.extend(
            sql::OPTIONAL_COLUMNS
                .iter()
                .filter(|name| available.contains(**name))
                .map(|name| name.to_string()),
        );
        if !absent.is_empty() {
            warn!(host = %self.host, columns = ?absent, "this release lacks some optional columns; they will be null");
        }
        let own_profile = if self.config.exclude_own_connections {
            let rows = text_rows(&connection, &sql::current_user(dialect), self.timeout(), 1)
                .map_err(|error| self.classify("read the current user", &error))?;
            rows.first()
                .and_then(|row| row.first().cloned().flatten())
                .map(|name| name.trim().to_uppercase())
        } else {
            None
        };
        if self.config.timezone == "server" {
            warn!("source.odbc.timezone = \"server\" reads local times as UTC; set the IANA zone of the IBM i (e.g. \"Europe/Rome\") for correct UTC and DST handling");
        }
        info!(host = %self.host, columns = columns.len(), own_profile = ?own_profile, "connected to the audit journal");
        self.session = Some(Session {
            connection,
            columns,
            own_profile,
        });
        Ok(())
    }

    fn timeout(&self) -> Option<usize> {
        Some(self.config.query_timeout.as_secs().max(1) as usize)
    }

    fn receivers(&mut self) -> Result<Vec<ReceiverInfo>, OdbcError> {
        let timeout = self.timeout();
        let session = self.session.as_ref().expect("connected");
        let table = text_rows(&session.connection, &sql::receivers(), timeout, 100_000)
            .map_err(|error| self.classify("read QSYS2.JOURNAL_RECEIVER_INFO", &error))?;
        Ok(table
            .iter()
            .filter_map(|row| {
                let text = |index: usize| {
                    row.get(index)
                        .cloned()
                        .flatten()
                        .map(|value| value.trim().to_owned())
                        .filter(|value| !value.is_empty())
                };
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
                        .and_then(|value| super::rows::parse_local_timestamp(&value)),
                    detach_timestamp: text(6)
                        .and_then(|value| super::rows::parse_local_timestamp(&value)),
                    next,
                    id,
                })
            })
            .collect())
    }

    /// Reads one receiver from `start`; returns the kept rows, the cursor of the
    /// last row read (kept or not), and how many own-connection rows were dropped.
    fn read(
        &mut self,
        receiver: &ReceiverId,
        start: &Start,
    ) -> Result<(Vec<JournalRow>, Option<JournalCursor>, usize), OdbcError> {
        let timeout = self.timeout();
        let session = self.session.as_ref().expect("connected");
        let query = sql::read_receiver(
            self.config.dialect,
            &session.columns,
            &receiver.library,
            &receiver.name,
            start,
            &self.filter,
            self.batch_rows,
        );
        let own_profile = session.own_profile.clone();
        let mut rows = Vec::with_capacity(self.batch_rows.min(10_000));
        let mut last_cursor = None;
        let mut own_dropped = 0;
        let clock = &mut self.clock;
        let position = &self.position;
        let visited = visit_rows(
            &session.connection,
            &query,
            timeout,
            self.batch_rows,
            |view| {
                match journal_row(view, clock) {
                    Ok(row) => {
                        last_cursor = Some(JournalCursor::of(&row));
                        let own = own_profile.as_deref().is_some_and(|own| {
                            row.real_user_profile
                                .as_deref()
                                .is_some_and(|user| user.eq_ignore_ascii_case(own))
                                && row.job_name.as_deref().is_some_and(|job| {
                                    OWN_CONNECTION_JOBS
                                        .iter()
                                        .any(|prefix| job.starts_with(prefix))
                                })
                        });
                        if own {
                            own_dropped += 1;
                        } else {
                            rows.push(row);
                        }
                    }
                    Err(problem) => {
                        // A row that cannot become an event is still reported, never skipped silently.
                        let sequence = view.text("SEQUENCE_NUMBER").and_then(|text| {
                            text.trim()
                                .split('.')
                                .next()
                                .and_then(|whole| whole.parse::<u64>().ok())
                        });
                        let (system, anchor) = match (&last_cursor, position) {
                            (Some(cursor), _) => {
                                (cursor.system_name.clone(), cursor.sequence_number)
                            }
                            (
                                None,
                                Position::After {
                                    system, sequence, ..
                                },
                            ) => (system.clone(), *sequence),
                            (None, _) => ("UNKNOWN".to_owned(), 0),
                        };
                        let message = format!(
                            "malformed row in receiver {receiver} near sequence {}: {problem}",
                            sequence.unwrap_or(anchor)
                        );
                        error!("{message}");
                        let local = clock.now_local();
                        let row = malformed_row(
                            &system,
                            receiver,
                            sequence.unwrap_or(anchor),
                            local,
                            message,
                        );
                        if sequence.is_some() {
                            last_cursor = Some(JournalCursor {
                                entry_timestamp_local: None,
                                entry_timestamp: None,
                                ..JournalCursor::of(&row)
                            });
                        }
                        rows.push(row);
                    }
                }
            },
        );
        if let Err(error) = visited {
            return Err(self.classify(&format!("read receiver {receiver}"), &error));
        }
        Ok((rows, last_cursor, own_dropped))
    }

    /// Turns a driver error into transient or fatal, with the remedy, and
    /// without the password.
    fn classify(&self, doing: &str, error: &odbc_api::Error) -> OdbcError {
        let state = match error {
            odbc_api::Error::Diagnostics { record, .. } => record.state.as_str().to_owned(),
            _ => String::new(),
        };
        let mut detail = error.to_string().replace('\n', " ");
        for secret in [
            self.password.expose(),
            pwd_in(self.config.connection_string.expose()).unwrap_or(""),
        ] {
            if secret.len() >= 3 {
                detail = detail.replace(secret, Secret::REDACTED);
            }
        }
        let host = &self.host;
        // psqlODBC reports a refused password as 08001 with the server's text;
        // the IBM i Access driver uses its CWBSY* security messages.
        let refused = matches!(state.as_str(), "28000" | "28P01")
            || [
                "password authentication failed",
                "CWBSY",
                "authentication failed",
            ]
            .iter()
            .any(|marker| detail.contains(marker));
        if refused {
            // Never retried: each attempt is a failed sign-on, and QMAXSIGN
            // (3 by default) would disable the profile.
            return OdbcError::Fatal(format!(
                "cannot {doing} on {host}: the server rejected the user or password (SQLSTATE {state}); not retrying, since repeated failed sign-ons can disable the profile (QMAXSIGN). Check UID in source.odbc.connection_string and source.odbc.password / password_file, then start again. Driver said: {detail}"
            ));
        }
        match state.as_str() {
            "42501" => OdbcError::Fatal(format!(
                "cannot {doing} on {host}: the profile lacks authority (SQLSTATE 42501). It needs *USE on QSYS/QAUDJRN and on every receiver, and *OBJEXIST on QAUDJRN; no special authority (see deploy/ibmi/). Driver said: {detail}"
            )),
            "42883" | "42704" if doing.contains("columns") => OdbcError::Fatal(format!(
                "cannot {doing} on {host}: SYSTOOLS.AUDIT_JOURNAL_JS is not there (SQLSTATE {state}); it needs IBM i 7.3 or later with the Db2 PTF group. Driver said: {detail}"
            )),
            // Syntax or access-rule errors in our own statement: retrying cannot help.
            syntax if syntax.starts_with("42") => OdbcError::Fatal(format!(
                "cannot {doing} on {host}: the server rejected the statement (SQLSTATE {state}); is source.odbc.dialect right for this server? Driver said: {detail}"
            )),
            "IM002" | "IM003" => OdbcError::Fatal(format!(
                "cannot {doing}: the ODBC driver named in source.odbc.connection_string is not installed or not registered in odbcinst.ini (SQLSTATE {state}). Driver said: {detail}"
            )),
            _ => OdbcError::Transient(format!("cannot {doing} on {host} (SQLSTATE {}): {detail}", if state.is_empty() { "none" } else { &state })),
        }
    }
}

/// Why the chain from `current` to `next` has a hole, if it has one: the named
/// next receiver is gone, or sequence numbers jump without a reset, or after a
/// reset the attach time does not follow the detach time.
fn chain_break(current: &ReceiverInfo, next: &ReceiverInfo) -> Option<String> {
    if let Some(named) = current.next.as_ref().filter(|named| **named != next.id) {
        return Some(format!("receiver {named} is missing"));
    }
    match (current.last_sequence, next.first_sequence) {
        (Some(last), Some(first)) if first != last.saturating_add(1) && first != 1 => Some(format!(
            "sequence numbers {} to {} are missing",
            last.saturating_add(1),
            first.saturating_sub(1)
        )),
        (Some(_), Some(1)) => match (current.detach_timestamp, next.attach_timestamp) {
            (Some(detached), Some(attached)) if (attached - detached).num_seconds().abs() > 5 => Some(
                "at least one receiver is missing (the sequence restarts, and the next receiver was not attached when this one was detached)".into(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// The receiver to continue with after `lost` disappeared: the first one whose
/// generated name follows it (CHGJRN JRNRCV(*GEN) counts the name up), else the
/// first attached after the last entry read, else the oldest there is.
fn successor_of<'a>(
    receivers: &'a [ReceiverInfo],
    lost: &ReceiverId,
    last_read: Option<NaiveDateTime>,
) -> &'a ReceiverInfo {
    let stem = lost
        .name
        .trim_end_matches(|character: char| character.is_ascii_digit());
    receivers
        .iter()
        .filter(|info| {
            info.id.library == lost.library
                && info.id.name.len() == lost.name.len()
                && info.id.name.starts_with(stem)
                && info.id.name > lost.name
        })
        .min_by(|left, right| left.id.name.cmp(&right.id.name))
        .or_else(|| {
            receivers.iter().find(|info| {
                last_read
                    .is_some_and(|at| info.attach_timestamp.is_some_and(|attached| attached >= at))
            })
        })
        .unwrap_or(&receivers[0])
}

fn find(receivers: &[ReceiverInfo], id: &ReceiverId) -> Option<usize> {
    receivers.iter().position(|info| info.id == *id)
}

fn position_of(cursor: &JournalCursor) -> Position {
    Position::After {
        system: cursor.system_name.clone(),
        receiver: ReceiverId {
            library: cursor.receiver_library.clone(),
            name: cursor.receiver_name.clone(),
        },
        sequence: cursor.sequence_number,
        timestamp: cursor.entry_timestamp_local,
    }
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
        .unwrap_or("(unnamed host)")
        .to_owned()
}

fn pwd_in(connection_string: &str) -> Option<&str> {
    keyword(connection_string, &["PWD", "PASSWORD"])
}

fn keyword<'a>(connection_string: &'a str, names: &[&str]) -> Option<&'a str> {
    connection_string.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        names
            .iter()
            .any(|name| key.trim().eq_ignore_ascii_case(name))
            .then(|| value.trim().trim_start_matches('{').trim_end_matches('}'))
    })
}

/// One row of a fetched block, looked up by column name.
struct RowView<'a> {
    columns: &'a [String],
    block: &'a TextRowSet,
    row: usize,
}

impl Columns for RowView<'_> {
    fn text(&self, column: &str) -> Option<Cow<'_, str>> {
        // About twenty short names: a scan beats hashing.
        let position = self.columns.iter().position(|name| name == column)?;
        // Valid UTF-8 (nearly always) is borrowed as is; anything else is
        // replaced character by character, never dropped.
        self.block
            .at(position, self.row)
            .map(|bytes| match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(bytes),
            })
    }
}

/// Runs `query` and hands each of at most `max_rows` rows to `visit`, straight
/// from the columnar fetch buffer.
fn visit_rows(
    connection: &Connection<'_>,
    query: &Query,
    timeout: Option<usize>,
    max_rows: usize,
    mut visit: impl FnMut(&RowView<'_>),
) -> Result<(), odbc_api::Error> {
    let params = bind(query);
    let Some(mut cursor) = connection.execute(&query.text, params.as_slice(), timeout)? else {
        return Ok(());
    };
    let columns: Vec<String> = cursor
        .column_names()?
        .map(|name| name.map(|name| name.to_uppercase()))
        .collect::<Result<_, _>>()?;
    let buffer = TextRowSet::for_cursor(
        max_rows.clamp(1, 5_000),
        &mut cursor,
        Some(MAX_COLUMN_BYTES),
    )?;
    let mut block_cursor = cursor.bind_buffer(buffer)?;
    let mut seen = 0;
    while seen < max_rows {
        let Some(block) = block_cursor.fetch()? else {
            break;
        };
        for row in 0..block.num_rows().min(max_rows - seen) {
            visit(&RowView {
                columns: &columns,
                block,
                row,
            });
        }
        seen += block.num_rows();
    }
    Ok(())
}

fn bind(query: &Query) -> Vec<Box<dyn InputParameter>> {
    query
        .params
        .iter()
        .map(|value| -> Box<dyn InputParameter> {
            match value {
                Value::Text(text) => Box::new(text.clone().into_parameter()),
                Value::Integer(number) => Box::new(*number),
            }
        })
        .collect()
}

fn column_names(
    connection: &Connection<'_>,
    query: &Query,
    timeout: Option<usize>,
) -> Result<Vec<String>, odbc_api::Error> {
    let params = bind(query);
    match connection.execute(&query.text, params.as_slice(), timeout)? {
        Some(mut cursor) => cursor.column_names()?.collect(),
        None => Ok(Vec::new()),
    }
}

/// Runs `query` and reads at most `max_rows` rows as text, by column position.
fn text_rows(
    connection: &Connection<'_>,
    query: &Query,
    timeout: Option<usize>,
    max_rows: usize,
) -> Result<Vec<Vec<Option<String>>>, odbc_api::Error> {
    let mut rows = Vec::new();
    visit_rows(connection, query, timeout, max_rows, |view| {
        rows.push(
            (0..view.columns.len())
                .map(|column| {
                    view.block
                        .at(column, view.row)
                        .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                })
                .collect(),
        )
    })?;
    Ok(rows)
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
        assert_eq!(pwd_in("UID=A;Password=xyz"), Some("xyz"));
        assert_eq!(pwd_in("UID=A"), None);
    }
}
