//! From column values as text (ODBC, JSON lines, CSV) to [`JournalRow`]s.
//!
//! Every value is read as text and normalised the same way, whatever produced
//! it: CHAR padding trimmed, empty meaning NULL, numbers parsed leniently, and
//! the local ENTRY_TIMESTAMP resolved to UTC in journal order. The ODBC reader
//! may hand the timestamp and whole numbers over typed instead ([`Typed`]);
//! they then become the same fields and the same errors as their text would.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::event::audit::{Details, Kind, TypeSpec, Value};
use crate::event::{JournalRow, Text};

/// A row as named columns; keys are IBM's upper-case column names.
pub type RawRow = HashMap<String, Option<String>>;

/// Anything that can hand out a column's text by IBM's column name.
pub trait Columns {
    /// The raw text of `column`; `None` for NULL or a column the row lacks.
    /// Bytes that are not UTF-8 arrive replaced (U+FFFD), never dropped.
    fn text(&self, column: &str) -> Option<Cow<'_, str>>;

    /// The columns whose value arrived cut (longer than the driver could
    /// hand over), upper case; empty when every value is whole.
    fn truncated(&self) -> Vec<String> {
        Vec::new()
    }

    /// The value of `column` when the driver handed it over typed; `None`
    /// means: read its text.
    fn typed(&self, _column: &str) -> Option<Typed> {
        None
    }
}

/// A value the driver handed over typed, not as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Typed {
    /// The column was NULL.
    Null,
    /// A whole number (SEQUENCE_NUMBER, REMOTE_PORT, a type's numeric column).
    Integer(i64),
    /// A local time; `Err` holds the driver's fields as text when they are
    /// no valid time.
    Timestamp(Result<NaiveDateTime, String>),
}

impl Columns for RawRow {
    fn text(&self, column: &str) -> Option<Cow<'_, str>> {
        self.get(column)
            .and_then(|value| value.as_deref())
            .map(Cow::Borrowed)
    }
}

/// Why a row could not become an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// A column the position needs (system, receiver, sequence, time) is absent.
    #[error("column {0} is missing or NULL, and the event id needs it")]
    Missing(&'static str),
    /// A column holds a value that cannot be read as its type.
    #[error("column {column} has {value:?}, which is not {expected}")]
    Invalid {
        /// The column's name, upper case.
        column: &'static str,
        /// The value as read.
        value: String,
        /// What it should have been (e.g. "a whole number").
        expected: &'static str,
    },
}

/// Trims CHAR padding (trailing blanks and NULs); empty means "none". The
/// text is copied once, from the driver's buffer into the [`Text`] (inline
/// when short).
pub fn clean(value: Option<&str>) -> Option<Text> {
    let trimmed = value?.trim_end_matches([' ', '\0']);
    (!trimmed.is_empty()).then(|| Text::from(trimmed))
}

/// Parses the timestamp forms IBM i tools print: `2026-04-08-10.15.30.123456`
/// (Db2), `2026-04-08 10:15:30.123456` (ODBC, ACS) and ISO 8601 with `T`.
/// Fractions beyond microseconds are truncated.
pub fn parse_local_timestamp(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.trim().as_bytes();
    // yyyy-mm-dd, then '-', ' ' or 'T', then hh?mm?ss with '.' (Db2) or ':' between.
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let separator = match (bytes[10], bytes[13]) {
        (b'-', b'.') => b'.',
        (b' ' | b'T', b':') => b':',
        _ => return None,
    };
    if bytes[16] != separator {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |value, byte| {
            byte.is_ascii_digit()
                .then(|| value * 10 + u32::from(byte - b'0'))
        })
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let (hours, minutes, seconds) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let micros = match bytes.get(19) {
        None => 0,
        Some(b'.') => {
            let fraction = &bytes[20..];
            if fraction.len() > 12 || !fraction.iter().all(u8::is_ascii_digit) {
                return None;
            }
            fraction
                .iter()
                .chain(std::iter::repeat(&b'0'))
                .take(6)
                .fold(0u32, |value, byte| value * 10 + u32::from(byte - b'0'))
        }
        Some(_) => return None,
    };
    date.and_hms_micro_opt(hours, minutes, seconds, micros)
}

/// Converts local journal times to UTC, in journal order.
///
/// In the repeated hour of a DST fall-back a local time has two instants; the
/// earlier is taken until the times go backwards, then the later one, so rows in
/// sequence order stay in order. A local time inside a spring-forward gap (which
/// a correct system clock never writes) is read with the offset before the gap.
#[derive(Clone, Debug)]
pub struct LocalClock {
    zone: Tz,
    last: Option<DateTime<Utc>>,
}

impl LocalClock {
    /// A clock for the journal's zone (`source.odbc.timezone`, an IANA name).
    pub fn new(zone: Tz) -> LocalClock {
        LocalClock { zone, last: None }
    }

    /// A clock for UTC, where local time is UTC (no DST to resolve).
    pub fn utc() -> LocalClock {
        LocalClock::new(Tz::UTC)
    }

    /// Continues after an entry already converted (from the checkpoint), so a
    /// restart inside a repeated DST hour keeps resolving in order.
    pub fn resume_after(&mut self, last: Option<DateTime<Utc>>) {
        self.last = last;
    }

    /// The current local time of this zone.
    pub fn now_local(&self) -> NaiveDateTime {
        Utc::now().with_timezone(&self.zone).naive_local()
    }

    /// The UTC instant of the journal's local time `local`; call in journal order.
    pub fn to_utc(&mut self, local: &NaiveDateTime) -> DateTime<Utc> {
        if self.zone == Tz::UTC {
            return Utc.from_utc_datetime(local);
        }
        let instant = match self.zone.from_local_datetime(local) {
            LocalResult::Single(time) => time.with_timezone(&Utc),
            LocalResult::Ambiguous(first, second) => {
                let first = first.with_timezone(&Utc);
                if self.last.is_some_and(|last| first < last) {
                    second.with_timezone(&Utc)
                } else {
                    first
                }
            }
            LocalResult::None => {
                let before = self
                    .zone
                    .from_local_datetime(&(*local - Duration::hours(3)));
                let offset = before
                    .earliest()
                    .map(|time| time.naive_local() - time.naive_utc())
                    .unwrap_or_default();
                Utc.from_utc_datetime(&(*local - offset))
            }
        };
        self.last = Some(instant);
        instant
    }
}

fn take(row: &impl Columns, column: &str) -> Option<Text> {
    clean(row.text(column).as_deref())
}

fn required(row: &impl Columns, column: &'static str) -> Result<Text, RowError> {
    take(row, column).ok_or(RowError::Missing(column))
}

/// The entry's local timestamp and sequence number, which every entry has.
fn position(row: &impl Columns) -> Result<(chrono::NaiveDateTime, u64), RowError> {
    Ok((entry_timestamp(row)?, sequence_number(row)?))
}

/// The entry's local ENTRY_TIMESTAMP.
pub fn entry_timestamp(row: &impl Columns) -> Result<NaiveDateTime, RowError> {
    const COLUMN: &str = "ENTRY_TIMESTAMP";
    let text = match row.typed(COLUMN) {
        Some(Typed::Timestamp(Ok(local))) => return Ok(local),
        Some(Typed::Timestamp(Err(text))) => text,
        Some(Typed::Null) => return Err(RowError::Missing(COLUMN)),
        _ => required(row, COLUMN)?.into(),
    };
    parse_local_timestamp(&text).ok_or(RowError::Invalid {
        column: COLUMN,
        value: text,
        expected: "a timestamp like 2026-04-08-10.15.30.123456",
    })
}

/// The entry's SEQUENCE_NUMBER.
fn sequence_number(row: &impl Columns) -> Result<u64, RowError> {
    const COLUMN: &str = "SEQUENCE_NUMBER";
    let invalid = |value| RowError::Invalid {
        column: COLUMN,
        value,
        expected: "a whole number from 0 to 18446744073709551615",
    };
    match whole(row, COLUMN) {
        None => Err(RowError::Missing(COLUMN)),
        Some(Whole::Number(number)) => {
            u64::try_from(number).map_err(|_| invalid(number.to_string()))
        }
        Some(Whole::Text(text)) => parse_unsigned(&text).ok_or_else(|| invalid(text.into())),
    }
}

/// A whole-number column as the driver handed it over.
enum Whole {
    Number(i64),
    Text(Text),
}

/// The value of a whole-number column; `None` for NULL (or blank text).
fn whole(row: &impl Columns, column: &str) -> Option<Whole> {
    match row.typed(column) {
        Some(Typed::Integer(number)) => Some(Whole::Number(number)),
        Some(Typed::Null) => None,
        _ => take(row, column).map(Whole::Text),
    }
}

/// Builds a [`JournalRow`] from named text columns.
pub fn journal_row(row: &impl Columns, clock: &mut LocalClock) -> Result<JournalRow, RowError> {
    let (entry_timestamp_local, sequence_number) = position(row)?;
    let remote_port = port(row)?;
    Ok(JournalRow {
        entry_timestamp: clock.to_utc(&entry_timestamp_local),
        entry_timestamp_local,
        sequence_number,
        system_name: required(row, "SYSTEM_NAME")?,
        receiver_library: required(row, "RECEIVER_LIBRARY")?,
        receiver_name: required(row, "RECEIVER_NAME")?,
        entry_type: take(row, "ENTRY_TYPE"),
        entry_type_detail: take(row, "ENTRY_TYPE_DETAIL"),
        user_name: take(row, "USER_NAME"),
        qualified_job_name: take(row, "QUALIFIED_JOB_NAME"),
        job_name: take(row, "JOB_NAME"),
        job_user: take(row, "JOB_USER"),
        job_number: take(row, "JOB_NUMBER"),
        job_type: take(row, "JOB_TYPE"),
        job_subtype: take(row, "JOB_SUBTYPE"),
        program_library: take(row, "PROGRAM_LIBRARY"),
        program_name: take(row, "PROGRAM_NAME"),
        remote_address: take(row, "REMOTE_ADDRESS"),
        remote_port,
        device_name: take(row, "DEVICE_NAME"),
        real_user_profile: take(row, "REAL_USER_PROFILE"),
        effective_user_profile: take(row, "EFFECTIVE_USER_PROFILE"),
        target_qualified_job_name: take(row, "TARGET_QUALIFIED_JOB_NAME"),
        notice: None,
        details: None,
        truncated: row.truncated(),
    })
}

/// Builds a [`JournalRow`] of audit entry type `spec` from named text columns:
/// the common header, then (for JS) JS's own columns or (for the others) the
/// type's typed entry-specific block.
pub fn typed_row(
    spec: &'static TypeSpec,
    row: &impl Columns,
    clock: &mut LocalClock,
) -> Result<JournalRow, RowError> {
    if spec.is_js() {
        return journal_row(row, clock);
    }
    let details = details(spec, row)?;
    let (entry_timestamp_local, sequence_number) = position(row)?;
    let mut typed = JournalRow::bare(
        &required(row, "SYSTEM_NAME")?,
        &required(row, "RECEIVER_LIBRARY")?,
        &required(row, "RECEIVER_NAME")?,
        sequence_number,
        entry_timestamp_local,
        clock.to_utc(&entry_timestamp_local),
    );
    typed.user_name = take(row, "USER_NAME");
    typed.qualified_job_name = take(row, "QUALIFIED_JOB_NAME");
    typed.job_name = take(row, "JOB_NAME");
    typed.job_user = take(row, "JOB_USER");
    typed.job_number = take(row, "JOB_NUMBER");
    typed.program_library = take(row, "PROGRAM_LIBRARY");
    typed.program_name = take(row, "PROGRAM_NAME");
    typed.remote_address = take(row, "REMOTE_ADDRESS");
    typed.remote_port = port(row)?;
    typed.details = Some(details);
    typed.truncated = row.truncated();
    Ok(typed)
}

/// Reads and types the entry-specific columns of `spec` from `row`.
pub fn details(spec: &'static TypeSpec, row: &impl Columns) -> Result<Details, RowError> {
    let values = spec
        .columns
        .iter()
        .map(|column| match column.kind {
            Kind::Text => Ok(take(row, column.name).map_or(Value::Null, Value::Text)),
            Kind::Integer => match whole(row, column.name) {
                None => Ok(Value::Null),
                Some(Whole::Number(number)) => Ok(Value::Integer(number)),
                Some(Whole::Text(text)) => {
                    parse_integer(&text)
                        .map(Value::Integer)
                        .ok_or(RowError::Invalid {
                            column: column.name,
                            value: text.into(),
                            expected: "a whole number",
                        })
                }
            },
            Kind::Flag => match take(row, column.name) {
                None => Ok(Value::Null),
                Some(text) => parse_flag(&text).map(Value::Flag).ok_or(RowError::Invalid {
                    column: column.name,
                    value: text.into(),
                    expected: "Y or N",
                }),
            },
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Details { spec, values })
}

fn port(row: &impl Columns) -> Result<Option<u32>, RowError> {
    let invalid = |value| RowError::Invalid {
        column: "REMOTE_PORT",
        value,
        expected: "a port number",
    };
    match whole(row, "REMOTE_PORT") {
        None => Ok(None),
        Some(Whole::Number(number)) => u32::try_from(number)
            .map(Some)
            .map_err(|_| invalid(number.to_string())),
        Some(Whole::Text(text)) => parse_unsigned(&text)
            .and_then(|port| u32::try_from(port).ok())
            .map(Some)
            .ok_or_else(|| invalid(text.into())),
    }
}

fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let whole = match text.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|byte| byte == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    whole.trim_start_matches('+').parse().ok()
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_uppercase().as_str() {
        "Y" | "YES" | "*YES" | "1" | "TRUE" => Some(true),
        "N" | "NO" | "*NO" | "0" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Whole numbers as drivers print DECIMAL: "42", "42.", "42.000", "+42".
fn parse_unsigned(text: &str) -> Option<u64> {
    let text = text.trim().trim_start_matches('+');
    let whole = match text.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|byte| byte == b'0') => whole,
        Some(_) => return None,
        None => text,
    };
    whole.parse().ok()
}

/// Decodes `bytes` as UTF-8, replacing what is not; says whether it had to.
fn lossy(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    let text = String::from_utf8_lossy(bytes);
    let replaced = matches!(text, Cow::Owned(_));
    (text, replaced)
}

mod input;
pub use input::{InputError, InputRow, RowReader, MAX_LINE_BYTES};

#[cfg(test)]
mod tests;
