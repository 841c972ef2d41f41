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
//! Parts: [`machine`] holds the position and decides every step (pure, with
//! [`chain`] for the receiver walk); this module is the thin loop that runs
//! what it asks for; [`read`] makes one call for every audit type through one
//! read path; [`session`] and [`fetch`] talk to the driver; [`classify`] turns
//! driver errors into what happens next; [`sql`] writes the statements (pure);
//! `connection` holds the connection string and its secrets; [`doctor`] is
//! `auditfwd doctor`. Runs on the source thread: every call here blocks.

pub mod chain;
pub(crate) mod classify;
pub mod config;
mod connection;
pub mod doctor;
mod fetch;
pub(crate) mod machine;
mod read;
pub(crate) mod session;
pub mod sql;

use chrono::Utc;
use tracing::{error, info, warn};

use self::chain::ReceiverInfo;
use self::classify::Doing;
pub use self::classify::{DriverError, Failure, OdbcError};
use self::config::{OdbcConfig, OdbcConnection, OdbcPlan, StartAt};
use self::machine::{Action, Chunk, Input, Machine, Position};
use self::session::{Kind, Session};
use self::sql::SqlFilter;
use super::rows::LocalClock;
use crate::enrich::config::FilterConfig;
use crate::event::audit::TypeSpec;
use crate::event::{Cursor as JournalCursor, JournalRow};
use crate::source::config::SourcePlan;

/// What one poll produced.
#[derive(Debug, Default)]
pub struct OdbcPoll {
    /// Rows to deliver, in journal order (at most `source.batch_rows`).
    pub rows: Vec<JournalRow>,
    /// Position after this poll, when it moved (even with no rows to deliver).
    pub cursor: Option<JournalCursor>,
    /// Whether the reader has read everything there is for now.
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

/// The ODBC reader: one connection to the IBM i (opened on demand, dropped on an
/// error) and the state machine that decides each statement.
pub struct OdbcSource {
    config: OdbcConfig,
    /// The connection string with the password, its secrets and its host.
    connection: OdbcConnection,
    batch_rows: usize,
    filter: SqlFilter,
    session: Option<Session>,
    /// The position, the receivers, the window and the rows to hand out.
    machine: Machine,
    unreported: QueryCounts,
    total: QueryCounts,
    clock: LocalClock,
    /// Whether JS entries are read (`source.audit_types` lists JS).
    read_js: bool,
    /// The other audit types configured, in catalog order, and the optional ones.
    types: Vec<&'static TypeSpec>,
    optional: Vec<&'static TypeSpec>,
}

impl OdbcSource {
    /// Prepares the source; connects on the first poll (on the source thread).
    pub fn new(
        plan: &SourcePlan,
        odbc: &OdbcPlan,
        filter: &FilterConfig,
        cursor: Option<&JournalCursor>,
    ) -> Result<OdbcSource, String> {
        let source = &plan.config;
        let config = source.odbc.clone();
        let mut clock = LocalClock::new(odbc.zone);
        let position = match cursor {
            Some(cursor) => {
                clock.resume_after(cursor.entry_timestamp);
                Position::of(cursor)
            }
            None => match odbc.start_at {
                StartAt::Earliest => Position::FromOldest,
                StartAt::Now => Position::FromTime {
                    at: clock.now_local(),
                    receiver: None,
                },
                StartAt::At(at) => Position::FromTime { at, receiver: None },
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
            filter: SqlFilter {
                entry_types: upper(&filter.entry_types),
                include_users: upper(&filter.include_users),
                exclude_users: upper(&filter.exclude_users),
            },
            batch_rows: source.batch_rows.max(1),
            session: None,
            machine: Machine::new(position, source.batch_rows).with_window(config.window_entries),
            unreported: QueryCounts::default(),
            total: QueryCounts::default(),
            clock,
            read_js: plan.reads_js(),
            types: plan
                .types
                .iter()
                .copied()
                .filter(|spec| !spec.is_js())
                .collect(),
            optional: plan.optional_types.clone(),
            config,
            connection: odbc.connection.clone(),
        })
    }

    /// The host named by the connection string, for log lines.
    pub fn host(&self) -> &str {
        &self.connection.host
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
        self.machine.forget_receivers();
    }

    /// Hands out the next rows: from the last window while it has some, else
    /// from a new call. On an error the connection is dropped; rows
    /// already read stay to be handed out.
    pub fn poll(&mut self) -> Result<OdbcPoll, OdbcError> {
        let result = if self.machine.has_pending() {
            Ok(self.machine.next_chunk().into())
        } else {
            self.poll_connected()
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

    /// Asks the machine what to do, does it, and feeds the answer back,
    /// until there is something to hand out or nothing to read. At most one
    /// table-function call is made per poll.
    fn poll_connected(&mut self) -> Result<OdbcPoll, OdbcError> {
        self.connect()?;
        let mut input = Input::Poll;
        loop {
            input = match self.machine.step(input) {
                Action::ReadReceivers => Input::Receivers(self.refresh_receivers()?),
                Action::Read(call) => match self.read(&call) {
                    Ok(read) => Input::Rows(read),
                    Err(error) if call.kind == Kind::Window && is_row_data_error(&error) => {
                        Input::DataError {
                            sqlstate: error.failure().sqlstate.clone(),
                            message: error.failure().message.clone(),
                        }
                    }
                    Err(error) => return Err(error),
                },
                Action::Deliver { chunk, anomaly } => {
                    if let Some(anomaly) = anomaly {
                        error!("{anomaly}");
                    }
                    return Ok(chunk.into());
                }
                Action::Moved { from, to, cursor } => {
                    info!(from = %from, to = %to, "receiver read to its end; moving to the next one");
                    match cursor {
                        Some(cursor) => {
                            return Ok(OdbcPoll {
                                cursor: Some(cursor),
                                ..OdbcPoll::default()
                            })
                        }
                        None => Input::Continue,
                    }
                }
                Action::Notice(notice) => {
                    if notice.reconnect {
                        self.disconnect();
                    }
                    error!("{}", notice.message);
                    let row = notice.row(self.clock.now_local(), Utc::now());
                    return Ok(self.machine.deliver(vec![row], 0, notice.end).into());
                }
                Action::Narrowed {
                    receiver,
                    first,
                    last,
                    window,
                    sqlstate,
                } => {
                    self.disconnect();
                    warn!(receiver = %receiver, first, last, window, sqlstate = ?sqlstate, "an entry in this window cannot be converted by the server; narrowing the window to find it");
                    return Ok(OdbcPoll::default());
                }
                Action::CaughtUp { waiting } => {
                    if let Some((receiver, status)) = waiting {
                        warn!(receiver = %receiver, status, "receiver cannot be read and no receiver follows it yet; waiting");
                    }
                    return Ok(OdbcPoll {
                        caught_up: true,
                        ..OdbcPoll::default()
                    });
                }
                Action::Idle => return Ok(OdbcPoll::default()),
            };
        }
    }

    /// Reads `QSYS2.JOURNAL_RECEIVER_INFO` (oldest first), never empty.
    fn refresh_receivers(&mut self) -> Result<Vec<ReceiverInfo>, OdbcError> {
        let session = self.session.as_mut().expect("connected");
        self.unreported.journal_receiver_info += 1;
        self.total.journal_receiver_info += 1;
        let query = sql::receivers();
        let mut receivers = Vec::new();
        let result = session.run_receivers(&query.params, 1_000_000, |view| {
            let text = |index: usize| {
                view.at(index)
                    .map(|value| value.trim().to_owned())
                    .filter(|value| !value.is_empty())
            };
            receivers.extend(chain::receiver_of_row(text));
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
}

impl From<Chunk> for OdbcPoll {
    fn from(chunk: Chunk) -> OdbcPoll {
        OdbcPoll {
            rows: chunk.rows,
            cursor: chunk.cursor,
            caught_up: false,
            own_rows_dropped: chunk.own_rows_dropped,
            queries: QueryCounts::default(),
        }
    }
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
