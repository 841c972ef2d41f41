//! From column values as text (ODBC, JSON lines, CSV) to [`JournalRow`]s.
//!
//! Every value is read as text and normalised the same way, whatever produced
//! it: CHAR padding trimmed, empty meaning NULL, numbers parsed leniently, and
//! the local ENTRY_TIMESTAMP resolved to UTC in journal order.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::event::audit::{Details, Kind, TypeSpec, Value};
use crate::event::JournalRow;

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
    #[error("column {0} is missing or NULL, and the event id needs it")]
    Missing(&'static str),
    #[error("column {column} has {value:?}, which is not {expected}")]
    Invalid {
        column: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// Trims CHAR padding (trailing blanks and NULs); empty means "none".
pub fn clean(value: Option<&str>) -> Option<String> {
    let trimmed = value?.trim_end_matches([' ', '\0']);
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
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
    pub fn new(zone: Tz) -> LocalClock {
        LocalClock { zone, last: None }
    }

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

fn take(row: &impl Columns, column: &str) -> Option<String> {
    clean(row.text(column).as_deref())
}

fn required(row: &impl Columns, column: &'static str) -> Result<String, RowError> {
    take(row, column).ok_or(RowError::Missing(column))
}

/// The entry's local timestamp and sequence number, which every entry has.
fn position(row: &impl Columns) -> Result<(chrono::NaiveDateTime, u64), RowError> {
    let timestamp_text = required(row, "ENTRY_TIMESTAMP")?;
    let entry_timestamp_local =
        parse_local_timestamp(&timestamp_text).ok_or_else(|| RowError::Invalid {
            column: "ENTRY_TIMESTAMP",
            value: timestamp_text.clone(),
            expected: "a timestamp like 2026-04-08-10.15.30.123456",
        })?;
    let sequence_text = required(row, "SEQUENCE_NUMBER")?;
    let sequence_number = parse_unsigned(&sequence_text).ok_or_else(|| RowError::Invalid {
        column: "SEQUENCE_NUMBER",
        value: sequence_text.clone(),
        expected: "a whole number from 0 to 18446744073709551615",
    })?;
    Ok((entry_timestamp_local, sequence_number))
}

/// Builds a [`JournalRow`] from named text columns.
pub fn journal_row(row: &impl Columns, clock: &mut LocalClock) -> Result<JournalRow, RowError> {
    let (entry_timestamp_local, sequence_number) = position(row)?;
    let remote_port = match take(row, "REMOTE_PORT") {
        None => None,
        Some(text) => Some(
            parse_unsigned(&text)
                .and_then(|port| u32::try_from(port).ok())
                .ok_or(RowError::Invalid {
                    column: "REMOTE_PORT",
                    value: text,
                    expected: "a port number",
                })?,
        ),
    };
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
        .map(|column| {
            let Some(text) = take(row, column.name) else {
                return Ok(Value::Null);
            };
            match column.kind {
                Kind::Text => Ok(Value::Text(text)),
                Kind::Integer => {
                    parse_integer(&text)
                        .map(Value::Integer)
                        .ok_or(RowError::Invalid {
                            column: column.name,
                            value: text,
                            expected: "a whole number",
                        })
                }
                Kind::Flag => parse_flag(&text).map(Value::Flag).ok_or(RowError::Invalid {
                    column: column.name,
                    value: text,
                    expected: "Y or N",
                }),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Details { spec, values })
}

fn port(row: &impl Columns) -> Result<Option<u32>, RowError> {
    match take(row, "REMOTE_PORT") {
        None => Ok(None),
        Some(text) => parse_unsigned(&text)
            .and_then(|port| u32::try_from(port).ok())
            .map(Some)
            .ok_or(RowError::Invalid {
                column: "REMOTE_PORT",
                value: text,
                expected: "a port number",
            }),
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

/// The longest input line `enrich` accepts, in bytes. A journal row is a few
/// kilobytes; anything near this is not a row, and reading it whole would let
/// one bad line take the memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Reads rows from JSON lines (an object per line, IBM's column names as keys)
/// or CSV with a header row, deciding by the first non-blank character after an
/// optional UTF-8 byte order mark.
///
/// Hostile input is bounded and never lost silently: a line longer than
/// [`MAX_LINE_BYTES`] is an error naming the line (JSON lines: that row is
/// skipped and reading goes on; CSV: reading stops, as the record boundaries
/// are no longer known); bytes that are not UTF-8 are replaced by U+FFFD and
/// the row is kept, with [`InputRow::replaced_invalid_utf8`] set so the caller
/// can say so.
pub struct RowReader<R: std::io::BufRead> {
    inner: Inner<R>,
}

/// One row read from the input.
#[derive(Debug)]
pub struct InputRow {
    /// The line the row starts on (1-based; the CSV header is line 1).
    pub line: usize,
    pub row: RawRow,
    /// Some bytes were not UTF-8 and were replaced by U+FFFD.
    pub replaced_invalid_utf8: bool,
}

enum Inner<R: std::io::BufRead> {
    Json {
        input: R,
        line: usize,
        buffer: Vec<u8>,
    },
    Csv {
        records: csv::ByteRecordsIntoIter<LineLimit<R>>,
        header: Vec<String>,
        line: usize,
        failed: bool,
    },
}

/// A row that could not be read at all, with the line it came from.
#[derive(Debug, thiserror::Error)]
#[error("input line {line}: {message}")]
pub struct InputError {
    pub line: usize,
    pub message: String,
}

fn too_long(line: usize) -> InputError {
    InputError {
        line,
        message: format!(
            "the line is longer than {MAX_LINE_BYTES} bytes, the limit for one row; is this an AUDIT_JOURNAL_JS export?"
        ),
    }
}

impl<R: std::io::BufRead> RowReader<R> {
    pub fn new(mut input: R) -> Result<RowReader<R>, InputError> {
        let io_error = |error: std::io::Error| InputError {
            line: 1,
            message: error.to_string(),
        };
        if input
            .fill_buf()
            .map_err(io_error)?
            .starts_with(b"\xEF\xBB\xBF")
        {
            input.consume(3);
        }
        let starts_with_brace = loop {
            let buffer = input.fill_buf().map_err(io_error)?;
            match buffer.iter().position(|byte| !byte.is_ascii_whitespace()) {
                Some(position) if buffer[position] == b'[' => {
                    return Err(InputError {
                        line: 1,
                        message: "the input is a JSON array; give one JSON object a line (JSON lines: `jq -c '.[]' rows.json`) or CSV with a header".into(),
                    })
                }
                Some(position) => break buffer[position] == b'{',
                None if buffer.is_empty() => break true,
                None => {
                    let length = buffer.len();
                    input.consume(length);
                }
            }
        };
        let inner = if starts_with_brace {
            Inner::Json {
                input,
                line: 0,
                buffer: Vec::new(),
            }
        } else {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(LineLimit::new(input));
            let header = reader
                .byte_headers()
                .map_err(|error| csv_error(error, 1))?
                .iter()
                .map(|name| {
                    String::from_utf8_lossy(name)
                        .trim()
                        .trim_start_matches('\u{feff}')
                        .to_uppercase()
                })
                .collect();
            Inner::Csv {
                records: reader.into_byte_records(),
                header,
                line: 1,
                failed: false,
            }
        };
        Ok(RowReader { inner })
    }
}

fn csv_error(error: csv::Error, line: usize) -> InputError {
    let line = error
        .position()
        .map_or(line, |position| position.line() as usize);
    match error.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            // LineLimit's error: the line number it counted is the exact one.
            let line = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<LineTooLong>())
                .map_or(line, |too_long| too_long.0);
            too_long(line)
        }
        _ => InputError {
            line,
            message: error.to_string(),
        },
    }
}

/// Decodes `bytes` as UTF-8, replacing what is not; says whether it had to.
fn lossy(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    let text = String::from_utf8_lossy(bytes);
    let replaced = matches!(text, Cow::Owned(_));
    (text, replaced)
}

/// Discards the rest of the current line without buffering it.
fn skip_line(input: &mut impl std::io::BufRead) -> std::io::Result<()> {
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|byte| *byte == b'\n') {
            Some(position) => {
                input.consume(position + 1);
                return Ok(());
            }
            None => {
                let length = buffer.len();
                input.consume(length);
            }
        }
    }
}

impl<R: std::io::BufRead> Iterator for RowReader<R> {
    type Item = Result<InputRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::io::{BufRead, Read};
        match &mut self.inner {
            Inner::Json {
                input,
                line,
                buffer,
            } => loop {
                *line += 1;
                buffer.clear();
                let read = input
                    .by_ref()
                    .take(MAX_LINE_BYTES as u64 + 1)
                    .read_until(b'\n', buffer);
                match read {
                    Err(error) => {
                        return Some(Err(InputError {
                            line: *line,
                            message: error.to_string(),
                        }))
                    }
                    Ok(0) => return None,
                    Ok(_) => {}
                }
                if buffer.last() == Some(&b'\n') {
                    buffer.pop();
                    if buffer.last() == Some(&b'\r') {
                        buffer.pop();
                    }
                } else if buffer.len() > MAX_LINE_BYTES {
                    if let Err(error) = skip_line(input) {
                        return Some(Err(InputError {
                            line: *line,
                            message: error.to_string(),
                        }));
                    }
                    return Some(Err(too_long(*line)));
                }
                let (text, replaced_invalid_utf8) = lossy(buffer);
                if text.trim().is_empty() {
                    continue;
                }
                return Some(
                    json_row(&text)
                        .map(|row| InputRow {
                            line: *line,
                            row,
                            replaced_invalid_utf8,
                        })
                        .map_err(|message| InputError {
                            line: *line,
                            message,
                        }),
                );
            },
            Inner::Csv {
                records,
                header,
                line,
                failed,
            } => {
                if *failed {
                    return None;
                }
                let record = records.next()?;
                *line += 1;
                Some(match record {
                    Ok(record) => {
                        let mut replaced_invalid_utf8 = false;
                        let row = header
                            .iter()
                            .cloned()
                            .zip(record.iter().map(|value| {
                                let (text, replaced) = lossy(value);
                                replaced_invalid_utf8 |= replaced;
                                Some(text.into_owned())
                            }))
                            .collect();
                        Ok(InputRow {
                            line: record
                                .position()
                                .map_or(*line, |position| position.line() as usize),
                            row,
                            replaced_invalid_utf8,
                        })
                    }
                    Err(error) => {
                        // After an I/O error (or an over-long line) the record
                        // boundaries are unknown: stop rather than guess.
                        if error.is_io_error() {
                            *failed = true;
                        }
                        Err(csv_error(error, *line))
                    }
                })
            }
        }
    }
}

/// Passes bytes through, failing with [`LineTooLong`] once a line grows past
/// [`MAX_LINE_BYTES`], so the CSV reader never buffers a whole giant record.
struct LineLimit<R> {
    inner: R,
    line: usize,
    line_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("input line {0} is longer than the limit")]
struct LineTooLong(usize);

impl<R> LineLimit<R> {
    fn new(inner: R) -> LineLimit<R> {
        LineLimit {
            inner,
            line: 1,
            line_bytes: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for LineLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.line_bytes > MAX_LINE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                LineTooLong(self.line),
            ));
        }
        let read = self.inner.read(out)?;
        for byte in &out[..read] {
            if *byte == b'\n' {
                self.line += 1;
                self.line_bytes = 0;
            } else {
                self.line_bytes += 1;
                if self.line_bytes > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        LineTooLong(self.line),
                    ));
                }
            }
        }
        Ok(read)
    }
}

fn json_row(text: &str) -> Result<RawRow, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("not a JSON object: {error}"))?;
    let serde_json::Value::Object(object) = value else {
        return Err("not a JSON object".into());
    };
    Ok(object
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                serde_json::Value::Null => None,
                serde_json::Value::String(text) => Some(text),
                other => Some(other.to_string()),
            };
            (key.to_uppercase(), text)
        })
        .collect())
}

#[cfg(test)]
mod tests;
