//! Rows from JSON lines or CSV with a header (for `enrich`), bounded and
//! never lost silently.

use super::{lossy, RawRow};

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
    /// The row's columns by IBM's column name.
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
    /// The line the problem is on (1-based).
    pub line: usize,
    /// What is wrong with it.
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
    /// A reader over `input`: skips a UTF-8 byte order mark and decides JSON lines or CSV.
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
