//! The event model: a journal row as read, its position in the journal, and the
//! enriched event that every sink receives (native schema v1 or v2).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod audit;

pub(crate) mod config;
#[cfg(test)]
pub(crate) mod schema;
pub mod session;
pub mod wire;

mod micros;
pub use micros::{format_local, format_utc};
use micros::{local_micros, utc_micros, utc_micros_opt, Micros};
pub(crate) use micros::{micros_text, push_utc};

/// The text of a journal row's column or an event's field: IBM i names are
/// short (objects, profiles, libraries and jobs at most 10 characters, a
/// qualified job name at most 28, an address at most 45), and a `Text` of up
/// to 24 bytes is kept inline, so building, cloning and dropping an event
/// allocates for its few long values only. It derefs to `str` and serialises
/// as a string.
pub type Text = compact_str::CompactString;

/// The native JSON schema auditfwd writes unless configured otherwise
/// (`deploy/schema/event-v2.schema.json`).
pub const SCHEMA_VERSION: u32 = 2;
/// The JS-only schema of earlier releases, kept for one release.
pub const SCHEMA_VERSION_V1: u32 = 1;

/// A position in the audit journal: the last entry that was delivered.
///
/// The receiver and the sequence number identify an entry; the timestamp is kept
/// for re-entry after the receiver has gone (and for operators reading it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// SYSTEM_NAME of the entry: the IBM i system whose journal this is.
    pub system_name: String,
    /// Library of the journal receiver that holds the entry (QAUDJRN's receivers, often QSYS).
    pub receiver_library: String,
    /// Name of the journal receiver that holds the entry.
    pub receiver_name: String,
    /// SEQUENCE_NUMBER of the entry; it restarts at 1 after a sequence reset (an IPL).
    pub sequence_number: u64,
    /// Local time of the entry, as the journal recorded it.
    pub entry_timestamp_local: Option<NaiveDateTime>,
    /// The same instant in UTC, as resolved when it was read.
    #[serde(default)]
    pub entry_timestamp: Option<DateTime<Utc>>,
    /// What the stream's stateful signals remembered after this entry, so a
    /// restart from this position continues them exactly (absent when no
    /// signal is enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signals: Option<SignalState>,
    /// The sessions this batch opened and closed (`enrich::sessions`), which
    /// the checkpoint store writes beside the position, not inside it.
    #[serde(skip)]
    pub sessions: Option<std::sync::Arc<session::SessionChanges>>,
}

/// The memory of the stateful signals at a position (see `enrich::burst`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalState {
    /// Recent sign-on failures per user and per remote address.
    pub failures: Vec<FailureTrail>,
}

/// Recent failures of one key, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureTrail {
    /// `user` or `remote_address`.
    pub kind: String,
    /// The user name or remote address the failures share.
    pub key: String,
    /// Entry times, UTC microseconds since the epoch.
    pub times: Vec<i64>,
}

impl Cursor {
    /// The cursor that points at `row`.
    pub fn of(row: &JournalRow) -> Cursor {
        Cursor {
            system_name: row.system_name.to_string(),
            receiver_library: row.receiver_library.to_string(),
            receiver_name: row.receiver_name.to_string(),
            sequence_number: row.sequence_number,
            entry_timestamp_local: Some(row.entry_timestamp_local),
            entry_timestamp: Some(row.entry_timestamp),
            signals: None,
            sessions: None,
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}/{}:{}",
            self.system_name, self.receiver_library, self.receiver_name, self.sequence_number
        )
    }
}

/// One `AUDIT_JOURNAL_JS` row after value normalisation: CHAR padding trimmed,
/// empty strings turned into `None`, the local timestamp resolved to UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalRow {
    /// ENTRY_TIMESTAMP as the journal recorded it, in the system's local time (no zone).
    pub entry_timestamp_local: NaiveDateTime,
    /// The same instant in UTC, resolved from the local time with the source's time zone.
    pub entry_timestamp: DateTime<Utc>,
    /// SEQUENCE_NUMBER: the entry's place in the journal; restarts at 1 after a reset.
    pub sequence_number: u64,
    /// SYSTEM_NAME: the IBM i system that wrote the entry.
    pub system_name: Text,
    /// Library of the journal receiver that holds the entry.
    pub receiver_library: Text,
    /// Name of the journal receiver that holds the entry.
    pub receiver_name: Text,
    /// ENTRY_TYPE: the JS entry code (`S` start, `E` end, `M` profile change, ...).
    pub entry_type: Option<Text>,
    /// ENTRY_TYPE_DETAIL: IBM's description of the entry code, when the service gives one.
    pub entry_type_detail: Option<Text>,
    /// USER_NAME: the profile that made the entry, as the journal records it.
    pub user_name: Option<Text>,
    /// QUALIFIED_JOB_NAME, `number/user/name`, of the job the entry is about.
    pub qualified_job_name: Option<Text>,
    /// JOB_NAME: the name part of the job the entry is about.
    pub job_name: Option<Text>,
    /// JOB_USER: the user part of the job's qualified name.
    pub job_user: Option<Text>,
    /// JOB_NUMBER: the six-digit number part of the job's qualified name.
    pub job_number: Option<Text>,
    /// JOB_TYPE, for example `INT` interactive, `BCH` batch, `PJ` prestart.
    pub job_type: Option<Text>,
    /// JOB_SUBTYPE, IBM's subtype code of the job.
    pub job_subtype: Option<Text>,
    /// PROGRAM_LIBRARY: library of the program that made the entry.
    pub program_library: Option<Text>,
    /// PROGRAM_NAME: the program that made the entry.
    pub program_name: Option<Text>,
    /// REMOTE_ADDRESS: the client's IP address, for a job that serves a connection.
    pub remote_address: Option<Text>,
    /// REMOTE_PORT: the client's port, with `remote_address`.
    pub remote_port: Option<u32>,
    /// DEVICE_NAME: the job's device (the 5250 display of an interactive job).
    pub device_name: Option<Text>,
    /// REAL_USER_PROFILE: the profile the job runs under before any swap.
    pub real_user_profile: Option<Text>,
    /// EFFECTIVE_USER_PROFILE: the profile the job's authority checks use now.
    pub effective_user_profile: Option<Text>,
    /// TARGET_QUALIFIED_JOB_NAME: the other job an entry names (for example the job ended).
    pub target_qualified_job_name: Option<Text>,
    /// Set on synthetic rows that report something about the journal itself.
    pub notice: Option<Notice>,
    /// The typed entry-specific block of a non-JS entry; `None` for JS.
    pub details: Option<audit::Details>,
    /// Columns whose value arrived cut by the driver (upper case); empty
    /// when every value is whole.
    pub truncated: Vec<String>,
}

/// What a synthetic row reports (for example an audit gap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// The event's `event_action`, e.g. `audit_gap`.
    pub action: &'static str,
    /// What happened, for the SOC analyst.
    pub message: String,
}

impl JournalRow {
    /// A row at a journal position with every optional column absent; sources
    /// and synthetic notices fill in what they know.
    pub fn bare(
        system_name: &str,
        receiver_library: &str,
        receiver_name: &str,
        sequence_number: u64,
        entry_timestamp_local: NaiveDateTime,
        entry_timestamp: DateTime<Utc>,
    ) -> JournalRow {
        JournalRow {
            entry_timestamp_local,
            entry_timestamp,
            sequence_number,
            system_name: system_name.into(),
            receiver_library: receiver_library.into(),
            receiver_name: receiver_name.into(),
            entry_type: None,
            entry_type_detail: None,
            user_name: None,
            qualified_job_name: None,
            job_name: None,
            job_user: None,
            job_number: None,
            job_type: None,
            job_subtype: None,
            program_library: None,
            program_name: None,
            remote_address: None,
            remote_port: None,
            device_name: None,
            real_user_profile: None,
            effective_user_profile: None,
            target_qualified_job_name: None,
            notice: None,
            details: None,
            truncated: Vec::new(),
        }
    }

    /// `<SYSTEM_NAME>:<RECEIVER_LIBRARY>/<RECEIVER_NAME>:<SEQUENCE_NUMBER>`: the
    /// SIEM's de-duplication key, identical on every delivery of the same entry.
    /// A synthetic row adds `#<action>` to the position it reports about.
    pub fn event_id(&self) -> String {
        // One allocation of the right size, no `format!` (once per entry).
        let mut number = itoa::Buffer::new();
        let number = number.format(self.sequence_number);
        let action = self.notice.as_ref().map_or("", |notice| notice.action);
        let (system, library, receiver) = (
            &self.system_name,
            &self.receiver_library,
            &self.receiver_name,
        );
        let length = system.len() + library.len() + receiver.len() + number.len() + action.len();
        let mut id = String::with_capacity(length + 4);
        for (part, separator) in [(system, ':'), (library, '/'), (receiver, ':')] {
            id.push_str(part);
            id.push(separator);
        }
        id.push_str(number);
        if let Some(notice) = &self.notice {
            id.push('#');
            id.push_str(notice.action);
        }
        id
    }
}

/// How alarming an event is, for routing and SIEM severity fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Routine activity, no action expected.
    Info,
    /// Worth a look: a profile change through a token, a user trace change.
    Low,
    /// Unusual: an abnormal job end, a job ended by ENDJOB.
    Medium,
    /// A privileged profile at work (configured or holding *ALLOBJ/*SECADM).
    High,
    /// A privileged profile over a clear-text channel.
    Critical,
}

/// The enriched event: one line of native JSON, in the layout of its
/// `schema_version`: v1 (JS only; field order below is its output order) or v2
/// (a common envelope and a typed block per audit type, see [`Event::serialize`]).
///
/// Absent values serialise as `null`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Event {
    /// The layout of this line: 1 (JS only, flat) or 2 (envelope and typed block).
    pub schema_version: u32,
    /// `<SYSTEM>:<LIBRARY>/<RECEIVER>:<SEQUENCE>` ([`JournalRow::event_id`]): the SIEM's dedup key.
    pub event_id: String,
    /// RFC 3339, UTC, microseconds.
    #[serde(with = "utc_micros")]
    pub entry_timestamp: DateTime<Utc>,
    /// The journal's local time, as read (no zone).
    #[serde(with = "local_micros")]
    pub entry_timestamp_local: NaiveDateTime,
    /// SYSTEM_NAME: the IBM i system that wrote the entry.
    pub system_name: Text,
    /// Library of the journal receiver that holds the entry.
    pub receiver_library: Text,
    /// Name of the journal receiver that holds the entry.
    pub receiver_name: Text,
    /// SEQUENCE_NUMBER: the entry's place in the journal; restarts at 1 after a reset.
    pub sequence_number: u64,
    /// ENTRY_TYPE: the JS entry code (`S`, `E`, `M`, ...); `None` on other types (see `code`).
    pub entry_type: Option<Text>,
    /// IBM's description of the entry code (ENTRY_TYPE_DETAIL, or IBM's text when NULL).
    pub entry_type_detail: Option<Text>,
    /// IBM's JOB_EVENT_TYPE label, verbatim.
    pub job_event_type: Cow<'static, str>,
    /// What happened, in snake case (`job_start`, `profile_swap`, `audit_gap`, ...).
    pub event_action: Cow<'static, str>,
    /// USER_NAME: the profile that made the entry.
    pub user_name: Option<Text>,
    /// REAL_USER_PROFILE: the profile the job runs under before any swap.
    pub real_user_profile: Option<Text>,
    /// EFFECTIVE_USER_PROFILE: the profile the job's authority checks use now.
    pub effective_user_profile: Option<Text>,
    /// QUALIFIED_JOB_NAME, `number/user/name`, of the job the entry is about.
    pub qualified_job_name: Option<Text>,
    /// JOB_NAME: the name part of the qualified job name.
    pub job_name: Option<Text>,
    /// JOB_USER: the user part of the qualified job name.
    pub job_user: Option<Text>,
    /// JOB_NUMBER: the number part of the qualified job name.
    pub job_number: Option<Text>,
    /// JOB_TYPE, for example `INT` interactive, `BCH` batch, `PJ` prestart.
    pub job_type: Option<Text>,
    /// JOB_SUBTYPE, IBM's subtype code of the job.
    pub job_subtype: Option<Text>,
    /// REMOTE_ADDRESS: the client's IP address, when the job serves a connection.
    pub remote_address: Option<Text>,
    /// REMOTE_PORT: the client's port, with `remote_address`.
    pub remote_port: Option<u32>,
    /// IBM's CONNECTION_TYPE label, verbatim.
    pub connection_type: Cow<'static, str>,
    /// The refined access method (`telnet_5250`, `database_server`, `ssh`, `batch`, ...).
    pub connection_method: Cow<'static, str>,
    /// `Some(true)` encrypted, `Some(false)` clear text, `None` unknown.
    pub connection_secure: Option<bool>,
    /// Whether the real or effective profile is privileged (configured or *ALLOBJ/*SECADM).
    pub privileged: bool,
    /// How alarming the event is (see `enrich::severity`).
    pub severity: Severity,
    /// DEVICE_NAME: the job's device (the display of an interactive job).
    pub device_name: Option<Text>,
    /// PROGRAM_LIBRARY: library of the program that made the entry.
    pub program_library: Option<Text>,
    /// PROGRAM_NAME: the program that made the entry.
    pub program_name: Option<Text>,
    /// TARGET_QUALIFIED_JOB_NAME: the other job an entry names (for example the job ended).
    pub target_qualified_job_name: Option<Text>,
    /// Set on synthetic events only (for example an audit gap).
    #[serde(default)]
    pub message: Option<String>,
    /// Columns whose value arrived cut (longer than auditfwd could fetch),
    /// upper case; absent when every value is whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<String>,
    /// Journal entry type (`JS`, `PW`, ...); `None` on synthetic events. (v2)
    #[serde(skip)]
    pub audit_type: Option<&'static str>,
    /// The entry's code within its type (PW violation type, CP command type,
    /// ...); for JS it is `entry_type`, not copied here: read [`Event::code`]. (v2)
    #[serde(skip)]
    pub code: Option<Text>,
    /// A readable label for the code: IBM's JOB_EVENT_TYPE for JS. (v2)
    #[serde(skip)]
    pub code_label: Cow<'static, str>,
    /// The profile the entry is about, when not the job's user. (v2)
    #[serde(skip)]
    pub target_user: Option<Text>,
    /// The typed entry-specific block of a non-JS entry. (v2)
    #[serde(skip)]
    pub details: Option<audit::Details>,
    /// What a stateful signal saw (for example a burst of failed sign-ons). (v2)
    #[serde(skip)]
    pub signal: Option<Signal>,
    /// The operator's name of the system (`[[sources]]`), besides SYSTEM_NAME. (v2)
    #[serde(skip)]
    pub source_name: Option<std::sync::Arc<str>>,
    /// On a `session_start` or `session_end` event: the session it reports
    /// (see `enrich::sessions`).
    #[serde(skip)]
    pub session: Option<Box<SessionBlock>>,
}

/// The `session` block of a derived session event: who was connected to
/// which job, over what, from where, and for how long.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionBlock {
    /// The opening entry's event id: the same on both events of a session.
    pub id: String,
    /// Who the session is: the job's user at start, the new profile after a swap.
    pub user: Text,
    /// The qualified job name (`number/user/name`).
    pub job: Text,
    /// The opening entry's `connection_method` and `connection_secure`.
    pub method: Text,
    /// `Some(true)` encrypted, `Some(false)` clear text, `None` unknown.
    pub secure: Option<bool>,
    /// The client's IP address, when the job served a connection.
    pub remote_address: Option<Text>,
    /// UTC of the opening entry.
    #[serde(with = "utc_micros")]
    pub started_at: DateTime<Utc>,
    /// UTC of the closing entry; null on a start, and on an end nobody saw.
    #[serde(serialize_with = "utc_micros_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Seconds, to the microsecond; null where `ended_at` is.
    pub duration_seconds: Option<f64>,
    /// `job_end`, `job_end_abnormal`, `swap_back`, `next_swap`, `ipl`,
    /// `audit_gap`, `max_duration` or `evicted`; null on a start.
    pub end_reason: Option<Text>,
    /// The opening entry's event id (the same as `id`).
    pub start_entry: String,
    /// The closing entry's event id; null on a start and when no entry closed it.
    pub end_entry: Option<String>,
}

/// The facts behind a signal event that auditfwd derives from several entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// What the entries share: `user` or `remote_address`.
    pub key_kind: &'static str,
    /// The shared user name or address.
    pub key: String,
    /// How many entries made the signal.
    pub count: usize,
    /// The window they fell within, in seconds.
    pub window_seconds: u64,
    /// Time of the first entry counted (UTC).
    #[serde(with = "utc_micros")]
    pub first_entry_timestamp: DateTime<Utc>,
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.schema_version == SCHEMA_VERSION_V1 {
            self.serialize_v1(serializer)
        } else {
            self.serialize_v2(serializer)
        }
    }
}

impl Event {
    /// The entry's code within its type: JS's entry type, PW's violation type,
    /// CP's command type, ...; `None` on notices and signals.
    pub fn code(&self) -> Option<&str> {
        match (&self.code, self.audit_type) {
            (Some(code), _) => Some(code),
            (None, Some("JS")) => self.entry_type.as_deref(),
            (None, _) => None,
        }
    }

    /// Schema v1: the JS fields, flat, in declaration order.
    fn serialize_v1<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = 35
            + usize::from(self.message.is_some())
            + usize::from(!self.truncated.is_empty())
            + usize::from(self.session.is_some());
        let mut out = serializer.serialize_struct("Event", fields)?;
        out.serialize_field("schema_version", &self.schema_version)?;
        out.serialize_field("event_id", &self.event_id)?;
        out.serialize_field("entry_timestamp", &Micros(&self.entry_timestamp))?;
        out.serialize_field(
            "entry_timestamp_local",
            &Micros(&self.entry_timestamp_local),
        )?;
        out.serialize_field("system_name", &self.system_name)?;
        out.serialize_field("receiver_library", &self.receiver_library)?;
        out.serialize_field("receiver_name", &self.receiver_name)?;
        out.serialize_field("sequence_number", &self.sequence_number)?;
        out.serialize_field("entry_type", &self.entry_type)?;
        out.serialize_field("entry_type_detail", &self.entry_type_detail)?;
        out.serialize_field("job_event_type", &self.job_event_type)?;
        out.serialize_field("event_action", &self.event_action)?;
        out.serialize_field("user_name", &self.user_name)?;
        out.serialize_field("real_user_profile", &self.real_user_profile)?;
        out.serialize_field("effective_user_profile", &self.effective_user_profile)?;
        out.serialize_field("qualified_job_name", &self.qualified_job_name)?;
        out.serialize_field("job_name", &self.job_name)?;
        out.serialize_field("job_user", &self.job_user)?;
        out.serialize_field("job_number", &self.job_number)?;
        out.serialize_field("job_type", &self.job_type)?;
        out.serialize_field("job_subtype", &self.job_subtype)?;
        out.serialize_field("remote_address", &self.remote_address)?;
        out.serialize_field("remote_port", &self.remote_port)?;
        out.serialize_field("connection_type", &self.connection_type)?;
        out.serialize_field("connection_method", &self.connection_method)?;
        out.serialize_field("connection_secure", &self.connection_secure)?;
        out.serialize_field("privileged", &self.privileged)?;
        out.serialize_field("severity", &self.severity)?;
        out.serialize_field("device_name", &self.device_name)?;
        out.serialize_field("program_library", &self.program_library)?;
        out.serialize_field("program_name", &self.program_name)?;
        out.serialize_field("target_qualified_job_name", &self.target_qualified_job_name)?;
        if let Some(message) = &self.message {
            out.serialize_field("message", message)?;
        }
        if !self.truncated.is_empty() {
            out.serialize_field("truncated", &self.truncated)?;
        }
        if let Some(session) = &self.session {
            out.serialize_field("session", session)?;
        }
        out.end()
    }

    /// Schema v2: a common envelope for every audit type, then one typed block
    /// named after the type (`js`, `pw`, `cp`, ...), or `signal` for a signal.
    fn serialize_v2<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("schema_version", &self.schema_version)?;
        out.serialize_entry("event_id", &self.event_id)?;
        out.serialize_entry("entry_timestamp", &Micros(&self.entry_timestamp))?;
        out.serialize_entry(
            "entry_timestamp_local",
            &Micros(&self.entry_timestamp_local),
        )?;
        out.serialize_entry("system_name", &self.system_name)?;
        out.serialize_entry("source", &self.source_name.as_deref())?;
        out.serialize_entry("receiver_library", &self.receiver_library)?;
        out.serialize_entry("receiver_name", &self.receiver_name)?;
        out.serialize_entry("sequence_number", &self.sequence_number)?;
        out.serialize_entry("audit_type", &self.audit_type)?;
        out.serialize_entry("code", &self.code())?;
        out.serialize_entry("code_label", &self.code_label)?;
        out.serialize_entry("event_action", &self.event_action)?;
        out.serialize_entry("severity", &self.severity)?;
        out.serialize_entry("privileged", &self.privileged)?;
        out.serialize_entry("user_name", &self.user_name)?;
        out.serialize_entry("effective_user", &self.effective_user_profile)?;
        out.serialize_entry("target_user", &self.target_user)?;
        out.serialize_entry("qualified_job_name", &self.qualified_job_name)?;
        out.serialize_entry("job_name", &self.job_name)?;
        out.serialize_entry("job_user", &self.job_user)?;
        out.serialize_entry("job_number", &self.job_number)?;
        out.serialize_entry("remote_address", &self.remote_address)?;
        out.serialize_entry("remote_port", &self.remote_port)?;
        out.serialize_entry("program_library", &self.program_library)?;
        out.serialize_entry("program_name", &self.program_name)?;
        if let Some(message) = &self.message {
            out.serialize_entry("message", message)?;
        }
        if !self.truncated.is_empty() {
            out.serialize_entry("truncated", &self.truncated)?;
        }
        if let Some(signal) = &self.signal {
            out.serialize_entry("signal", signal)?;
        }
        if let Some(session) = &self.session {
            out.serialize_entry("session", session)?;
            return out.end();
        }
        match (&self.details, self.audit_type) {
            (Some(details), _) => out.serialize_entry(details.spec.key(), details)?,
            (None, Some("JS")) => out.serialize_entry("js", &JsBlock(self))?,
            _ => {}
        }
        out.end()
    }
}

/// The `js` block of a v2 event: JS's own columns and IBM's labels.
struct JsBlock<'a>(&'a Event);

impl Serialize for JsBlock<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let event = self.0;
        let mut out = serializer.serialize_struct("js", 12)?;
        out.serialize_field("entry_type", &event.entry_type)?;
        out.serialize_field("entry_type_detail", &event.entry_type_detail)?;
        out.serialize_field("job_event_type", &event.job_event_type)?;
        out.serialize_field("connection_type", &event.connection_type)?;
        out.serialize_field("connection_method", &event.connection_method)?;
        out.serialize_field("connection_secure", &event.connection_secure)?;
        out.serialize_field("real_user_profile", &event.real_user_profile)?;
        out.serialize_field("effective_user_profile", &event.effective_user_profile)?;
        out.serialize_field("job_type", &event.job_type)?;
        out.serialize_field("job_subtype", &event.job_subtype)?;
        out.serialize_field("device_name", &event.device_name)?;
        out.serialize_field(
            "target_qualified_job_name",
            &event.target_qualified_job_name,
        )?;
        out.end()
    }
}

/// Events read from the source in one poll, and the cursor after the last of them.
#[derive(Debug)]
pub struct EventBatch {
    /// Position of the batch in this run's stream, starting at 0.
    pub id: u64,
    /// The enriched events of the batch, in journal order (can be empty).
    pub events: Vec<Event>,
    /// Rows read, including the ones the filter dropped.
    pub rows_read: usize,
    /// Where the journal stands once this batch is delivered.
    pub cursor: Cursor,
}

impl EventBatch {
    /// The batch as newline-delimited JSON, one event a line.
    pub fn to_ndjson(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.events.len() * 900);
        for event in &self.events {
            // Serialising a struct of strings, numbers and options cannot fail.
            serde_json::to_writer(&mut out, event).expect("event serialises");
            out.push(b'\n');
        }
        out
    }

    /// A batch of no events whose cursor is sequence `id` of receiver `L/R`
    /// on system `S`: what the pipeline's unit tests deliver.
    #[cfg(test)]
    pub(crate) fn empty_for_tests(id: u64) -> EventBatch {
        EventBatch {
            id,
            events: Vec::new(),
            rows_read: 0,
            cursor: Cursor {
                system_name: "S".into(),
                receiver_library: "L".into(),
                receiver_name: "R".into(),
                sequence_number: id,
                entry_timestamp_local: None,
                entry_timestamp: None,
                signals: None,
                sessions: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_serialise_as_chrono_formats_them() {
        let samples = [
            "2026-04-08T08:00:00.000000",
            "2026-10-25T02:30:00.123456",
            "0001-01-01T00:00:00.000001",
            "9999-12-31T23:59:59.999999",
            "1970-01-01T00:00:00.100000",
        ];
        for text in samples {
            let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").unwrap();
            let utc = DateTime::<Utc>::from_naive_utc_and_offset(local, Utc);
            let mut out = Vec::new();
            let mut serializer = serde_json::Serializer::new(&mut out);
            local_micros::serialize(&local, &mut serializer).unwrap();
            assert_eq!(out, format!("\"{}\"", format_local(&local)).into_bytes());
            out.clear();
            let mut serializer = serde_json::Serializer::new(&mut out);
            utc_micros::serialize(&utc, &mut serializer).unwrap();
            assert_eq!(out, format!("\"{}\"", format_utc(&utc)).into_bytes());
        }
        // Outside four-digit years chrono's text is kept (a sign, more digits).
        use chrono::Datelike;
        let far = NaiveDateTime::parse_from_str("2026-04-08T08:00:00", "%Y-%m-%dT%H:%M:%S")
            .unwrap()
            .with_year(12026)
            .unwrap();
        assert!(micros_text(&far, false).is_none());
        assert_eq!(format_local(&far), "+12026-04-08T08:00:00.000000");
    }
}
