//! From column values as text (ODBC, JSON lines, CSV) to [`JournalRow`]s.
//!
//! Every value is read as text and normalised the same way, whatever produced
//! it: CHAR padding trimmed, empty meaning NULL, numbers parsed leniently, and
//! the local ENTRY_TIMESTAMP resolved to UTC in journal order.

use std::collections::HashMap;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::event::JournalRow;

/// A row as named columns; keys are IBM's upper-case column names.
pub type RawRow = HashMap<String, Option<String>>;

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
    let text = text.trim();
    let normalised: String = if text.len() >= 19 && text.as_bytes().get(10) == Some(&b'-') {
        // Db2 character form: date-hh.mm.ss.ffffff
        let (date, time) = text.split_at(10);
        let time = &time[1..];
        let mut parts = time.splitn(4, '.');
        let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
        match parts.next() {
            Some(fraction) => format!("{date}T{hours}:{minutes}:{seconds}.{fraction}"),
            None => format!("{date}T{hours}:{minutes}:{seconds}"),
        }
    } else {
        text.replacen(' ', "T", 1)
    };
    let (whole, fraction) = match normalised.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (normalised.as_str(), ""),
    };
    if !fraction.bytes().all(|byte| byte.is_ascii_digit()) || fraction.len() > 12 {
        return None;
    }
    let micros: String = fraction.chars().chain("000000".chars()).take(6).collect();
    let base = NaiveDateTime::parse_from_str(whole, "%Y-%m-%dT%H:%M:%S").ok()?;
    Some(base + Duration::microseconds(micros.parse::<i64>().ok()?))
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

    pub fn to_utc(&mut self, local: &NaiveDateTime) -> DateTime<Utc> {
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

fn take(row: &RawRow, column: &str) -> Option<String> {
    clean(row.get(column).and_then(|value| value.as_deref()))
}

fn required(row: &RawRow, column: &'static str) -> Result<String, RowError> {
    take(row, column).ok_or(RowError::Missing(column))
}

/// Builds a [`JournalRow`] from named text columns.
pub fn journal_row(row: &RawRow, clock: &mut LocalClock) -> Result<JournalRow, RowError> {
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
    })
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

/// Reads rows from JSON lines (an object per line, IBM's column names as keys)
/// or CSV with a header row, deciding by the first non-blank character.
pub struct RowReader<R: std::io::BufRead> {
    inner: Inner<R>,
}

enum Inner<R: std::io::BufRead> {
    Json {
        lines: std::io::Lines<R>,
        line: usize,
    },
    Csv {
        records: csv::StringRecordsIntoIter<R>,
        header: Vec<String>,
        line: usize,
    },
}

/// A row that could not be read at all, with the line it came from.
#[derive(Debug, thiserror::Error)]
#[error("input line {line}: {message}")]
pub struct InputError {
    pub line: usize,
    pub message: String,
}

impl<R: std::io::BufRead> RowReader<R> {
    pub fn new(mut input: R) -> Result<RowReader<R>, InputError> {
        let starts_with_brace = loop {
            let buffer = input.fill_buf().map_err(|error| InputError {
                line: 1,
                message: error.to_string(),
            })?;
            match buffer.iter().position(|byte| !byte.is_ascii_whitespace()) {
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
                lines: input.lines(),
                line: 0,
            }
        } else {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
            let header = reader
                .headers()
                .map_err(|error| InputError {
                    line: 1,
                    message: format!("CSV header: {error}"),
                })?
                .iter()
                .map(|name| name.trim().trim_start_matches('\u{feff}').to_uppercase())
                .collect();
            Inner::Csv {
                records: reader.into_records(),
                header,
                line: 1,
            }
        };
        Ok(RowReader { inner })
    }
}

impl<R: std::io::BufRead> Iterator for RowReader<R> {
    type Item = Result<(usize, RawRow), InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Json { lines, line } => loop {
                *line += 1;
                let text = match lines.next()? {
                    Ok(text) => text,
                    Err(error) => {
                        return Some(Err(InputError {
                            line: *line,
                            message: error.to_string(),
                        }))
                    }
                };
                if text.trim().is_empty() {
                    continue;
                }
                return Some(json_row(&text).map(|row| (*line, row)).map_err(|message| {
                    InputError {
                        line: *line,
                        message,
                    }
                }));
            },
            Inner::Csv {
                records,
                header,
                line,
            } => {
                let record = records.next()?;
                *line += 1;
                Some(match record {
                    Ok(record) => Ok((
                        record
                            .position()
                            .map_or(*line, |position| position.line() as usize),
                        header
                            .iter()
                            .cloned()
                            .zip(record.iter().map(|value| Some(value.to_owned())))
                            .collect(),
                    )),
                    Err(error) => Err(InputError {
                        line: *line,
                        message: error.to_string(),
                    }),
                })
            }
        }
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
