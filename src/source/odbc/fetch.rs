//! Rows from the driver: columnar fetch into two buffers that take turns,
//! column names and bindings resolved once per statement, and the small
//! statements run once (catalog, system values). Every call here blocks.
//!
//! A journal read binds the columns it reads as numbers or times typed
//! (ENTRY_TIMESTAMP as an ODBC timestamp, SEQUENCE_NUMBER and other whole
//! numbers as 64-bit integers), so the driver does not print them as text for
//! the reader to parse again; a column whose SQL type the driver reports as
//! anything else (character) stays text. The other statements read text.

use std::borrow::Cow;

use odbc_api::buffers::{BufferDesc, ColumnarDynBuffer};
use odbc_api::parameter::InputParameter;
use odbc_api::{Connection, Cursor, DataType, IntoParameter, ResultSetMetadata};

use super::sql::{self, Query, Value};
use crate::source::rows::{Columns, Typed};

/// Longest text read from one column, in bytes. Each column is bound with the
/// length its declared type can need in UTF-8 (4 bytes a character: IBM's
/// longest, PATH_NAME VARGRAPHIC(5000), needs 20,000), capped here; a value
/// that still does not fit is marked in the event's `truncated`, never cut
/// silently.
const MAX_COLUMN_BYTES: usize = 32 * 1024;
/// Column length assumed when the driver does not declare one.
const UNDECLARED_COLUMN_BYTES: usize = 4 * 1024;
/// Most rows per block fetched from the driver.
const FETCH_ROWS: usize = 500;
/// Most bytes one fetch block may take: wide rows (long paths, system values)
/// come in smaller blocks, so the two buffers stay under 2 x this.
const BLOCK_BYTES: usize = 8 * 1024 * 1024;

/// How a reader wants a column (by its upper-case name): as text, or typed
/// when the driver's SQL type allows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    Text,
    /// A time (ENTRY_TIMESTAMP).
    Timestamp,
    /// A whole number whose every value fits in 64 bits: INTEGER, BIGINT,
    /// DECIMAL(18, 0) and narrower.
    Integer,
    /// A whole number of any precision: SEQUENCE_NUMBER, DECIMAL(21, 0) on
    /// IBM i, whose values stay below 2^63 (at a million entries a second
    /// that is 290,000 years; a driver reports a larger one as an error,
    /// SQLSTATE 22003, and the entry becomes a `malformed_row` notice).
    Sequence,
}

/// Every column as text: the statements other than the journal reads.
pub(super) fn all_text(_column: &str) -> Want {
    Want::Text
}

/// How one column is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Binding {
    /// Text of at most this many bytes. The buffer holds one byte more: a
    /// value that fills it was longer, and is cut here to the limit.
    Text(usize),
    Integer,
    Timestamp,
}

impl Binding {
    /// The binding of a column the reader wants as `want`, of SQL type
    /// `data_type`, read as at most `text_bytes` bytes when it is text.
    fn of(want: Want, data_type: DataType, text_bytes: usize) -> Binding {
        let fits = |precision: usize, scale: i16| {
            scale == 0 && (want == Want::Sequence || precision <= 18)
        };
        match (want, data_type) {
            (Want::Timestamp, DataType::Timestamp { .. }) => Binding::Timestamp,
            (
                Want::Integer | Want::Sequence,
                DataType::TinyInt | DataType::SmallInt | DataType::Integer | DataType::BigInt,
            ) => Binding::Integer,
            (
                Want::Integer | Want::Sequence,
                DataType::Decimal { precision, scale } | DataType::Numeric { precision, scale },
            ) if fits(precision, scale) => Binding::Integer,
            _ => Binding::Text(text_bytes),
        }
    }

    fn buffer(self) -> BufferDesc {
        match self {
            Binding::Text(bytes) => BufferDesc::Text {
                max_str_len: bytes + 1,
            },
            Binding::Integer => BufferDesc::I64 { nullable: true },
            Binding::Timestamp => BufferDesc::Timestamp { nullable: true },
        }
    }
}

/// Where each column IBM names sits in this statement's result, and how it
/// is bound, resolved once per statement from the driver's column names and types.
pub(super) struct ColumnIndex {
    /// Every column name, upper case, by position.
    names: Vec<String>,
    slots: [Option<usize>; KNOWN],
    /// Columns outside the JS set (other audit types' own), looked up by name.
    others: Vec<(String, usize)>,
    bindings: Vec<Binding>,
    count: usize,
}

/// Every column a row is read by: the SQL's required columns, then its optional ones.
const KNOWN: usize = sql::REQUIRED_COLUMNS.len() + sql::OPTIONAL_COLUMNS.len();

/// The slot of a known column name: a `match` compiles to length checks and a
/// few byte compares, with no allocation and no hashing.
fn slot(name: &str) -> Option<usize> {
    Some(match name {
        "ENTRY_TIMESTAMP" => 0,
        "SEQUENCE_NUMBER" => 1,
        "SYSTEM_NAME" => 2,
        "RECEIVER_LIBRARY" => 3,
        "RECEIVER_NAME" => 4,
        "ENTRY_TYPE" => 5,
        "JOB_NAME" => 6,
        "JOB_TYPE" => 7,
        "ENTRY_TYPE_DETAIL" => 8,
        "USER_NAME" => 9,
        "QUALIFIED_JOB_NAME" => 10,
        "JOB_USER" => 11,
        "JOB_NUMBER" => 12,
        "JOB_SUBTYPE" => 13,
        "PROGRAM_LIBRARY" => 14,
        "PROGRAM_NAME" => 15,
        "REMOTE_ADDRESS" => 16,
        "REMOTE_PORT" => 17,
        "DEVICE_NAME" => 18,
        "REAL_USER_PROFILE" => 19,
        "EFFECTIVE_USER_PROFILE" => 20,
        "TARGET_QUALIFIED_JOB_NAME" => 21,
        _ => return None,
    })
}

impl ColumnIndex {
    /// The index of columns `names`, bound as `bindings` (text when missing).
    fn new(names: &[String], bindings: Vec<Binding>) -> ColumnIndex {
        let mut slots = [None; KNOWN];
        let mut others = Vec::new();
        let names: Vec<String> = names.iter().map(|name| name.to_uppercase()).collect();
        for (position, name) in names.iter().enumerate() {
            match slot(name) {
                Some(slot) => {
                    slots[slot].get_or_insert(position);
                }
                None => others.push((name.clone(), position)),
            }
        }
        ColumnIndex {
            count: names.len(),
            names,
            slots,
            others,
            bindings,
        }
    }

    /// The position of IBM's column `column` in the result.
    fn position(&self, column: &str) -> Option<usize> {
        match slot(column) {
            Some(slot) => self.slots[slot],
            None => self
                .others
                .iter()
                .find(|(name, _)| name == column)
                .map(|(_, position)| *position),
        }
    }
}

/// One row of a fetched block.
pub(crate) struct RowView<'a> {
    index: &'a ColumnIndex,
    block: &'a ColumnarDynBuffer,
    row: usize,
}

impl RowView<'_> {
    /// The text at column position `position` (any statement); a typed
    /// column as the text a driver would print for it.
    pub(crate) fn at(&self, position: usize) -> Option<Cow<'_, str>> {
        let Binding::Text(limit) = *self.index.bindings.get(position)? else {
            return match self.typed_at(position)? {
                Typed::Null => None,
                Typed::Integer(number) => Some(Cow::Owned(number.to_string())),
                Typed::Timestamp(Ok(local)) => Some(Cow::Owned(
                    local.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                )),
                Typed::Timestamp(Err(text)) => Some(Cow::Owned(text)),
            };
        };
        let bytes = self.text_bytes(position)?;
        let bytes = &bytes[..bytes.len().min(limit)];
        // Valid UTF-8 (nearly always) is borrowed as is; anything else is
        // replaced character by character, never dropped.
        Some(match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        })
    }

    /// The bytes of a text column as fetched (one more than its limit when cut).
    fn text_bytes(&self, position: usize) -> Option<&[u8]> {
        self.block.column(position).as_text()?.get(self.row)
    }

    /// The value at `position` when the column is bound typed.
    fn typed_at(&self, position: usize) -> Option<Typed> {
        let column = self.block.column(position);
        match *self.index.bindings.get(position)? {
            Binding::Text(_) => None,
            Binding::Integer => Some(
                column
                    .as_nullable_slice::<i64>()?
                    .get(self.row)
                    .map_or(Typed::Null, |number| Typed::Integer(*number)),
            ),
            Binding::Timestamp => Some(
                column
                    .as_nullable_slice::<odbc_api::sys::Timestamp>()?
                    .get(self.row)
                    .map_or(Typed::Null, |time| Typed::Timestamp(local_time(time))),
            ),
        }
    }

    pub(crate) fn columns(&self) -> usize {
        self.index.count
    }

    /// Whether the value at `position` did not fit its buffer: it filled the
    /// byte past its limit.
    pub(crate) fn is_truncated(&self, position: usize) -> bool {
        match self.index.bindings.get(position) {
            Some(Binding::Text(limit)) => self
                .text_bytes(position)
                .is_some_and(|bytes| bytes.len() > *limit),
            _ => false,
        }
    }
}

/// An ODBC timestamp as a local time, microseconds at most (finer fractions
/// are cut, as from text); the fields as text when they are no valid time.
fn local_time(time: &odbc_api::sys::Timestamp) -> Result<chrono::NaiveDateTime, String> {
    chrono::NaiveDate::from_ymd_opt(time.year.into(), time.month.into(), time.day.into())
        .and_then(|date| {
            date.and_hms_micro_opt(
                time.hour.into(),
                time.minute.into(),
                time.second.into(),
                time.fraction / 1000,
            )
        })
        .ok_or_else(|| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:09}",
                time.year, time.month, time.day, time.hour, time.minute, time.second, time.fraction
            )
        })
}

impl Columns for RowView<'_> {
    fn truncated(&self) -> Vec<String> {
        (0..self.index.count)
            .filter(|position| self.is_truncated(*position))
            .map(|position| self.index.names[position].clone())
            .collect()
    }

    fn text(&self, column: &str) -> Option<Cow<'_, str>> {
        self.at(self.index.position(column)?)
    }

    fn typed(&self, column: &str) -> Option<Typed> {
        self.typed_at(self.index.position(column)?)
    }
}

/// Hands each of at most `max_rows` rows of `cursor` to `visit`, straight from
/// the columnar fetch buffer; the column names and bindings (each column as
/// `want` says, where its SQL type allows) are resolved once.
///
/// Fetching and visiting overlap: this thread fetches the next block from the
/// driver (which waits for the server) while a scoped thread visits the block
/// fetched before. Two buffers take turns, so at most two blocks are held and
/// the rows are still visited in order, each once.
pub(super) fn visit_cursor(
    mut cursor: impl Cursor,
    max_rows: usize,
    want: &dyn Fn(&str) -> Want,
    visit: impl FnMut(&RowView<'_>) + Send,
) -> Result<(), odbc_api::Error> {
    let names: Result<Vec<String>, odbc_api::Error> =
        cursor.column_names().and_then(|names| names.collect());
    let buffers = names.and_then(|names| {
        let bindings = column_bindings(&mut cursor, &names, want)?;
        let rows_per_block = rows_per_block(&bindings, max_rows);
        let descs = || bindings.iter().map(|binding| binding.buffer());
        let first = ColumnarDynBuffer::try_from_descs(rows_per_block, descs())?;
        let second = ColumnarDynBuffer::try_from_descs(rows_per_block, descs())?;
        Ok((ColumnIndex::new(&names, bindings), first, second))
    });
    let (index, first, second) = match buffers {
        Ok(ready) => ready,
        Err(error) => {
            // See below: a cursor on a lost connection must not be dropped.
            std::mem::forget(cursor);
            return Err(error);
        }
    };
    std::thread::scope(|scope| {
        // Filled blocks with the number of their rows to visit, one waiting at most.
        let (filled, to_visit) = std::sync::mpsc::sync_channel::<(ColumnarDynBuffer, usize)>(1);
        // Visited blocks, back for the next fetch.
        let (give_back, free) = std::sync::mpsc::sync_channel::<ColumnarDynBuffer>(2);
        give_back
            .send(second)
            .expect("the channel has room for both buffers");
        let index = &index;
        let mut visit = visit;
        let visiting = std::thread::Builder::new()
            .name("source-parse".into())
            .spawn_scoped(scope, move || {
                for (block, rows) in to_visit {
                    for row in 0..rows {
                        visit(&RowView {
                            index,
                            block: &block,
                            row,
                        });
                    }
                    if give_back.send(block).is_err() {
                        break;
                    }
                }
            });
        if let Err(error) = visiting {
            // No thread to visit with: the rows are not read (the caller retries).
            std::mem::forget(cursor);
            return Err(odbc_api::Error::FailedReadingInput(error));
        }
        let mut buffer = first;
        let mut seen = 0;
        while seen < max_rows {
            let mut block_cursor = cursor.bind_buffer(buffer)?;
            let rows = match block_cursor.fetch() {
                Ok(Some(block)) => block.num_rows(),
                Ok(None) => 0,
                Err(error) => {
                    // odbc-api panics when it cannot close a cursor on drop, which is
                    // what a lost connection does to a prepared statement's cursor.
                    // Forget the cursor (a statement reference and a borrow, nothing
                    // on the heap but this block's buffer); the caller drops the whole
                    // session after any error, which frees the statement.
                    std::mem::forget(block_cursor);
                    return Err(error);
                }
            };
            let (unbound, block) = block_cursor.unbind()?;
            cursor = unbound;
            if rows == 0 {
                break;
            }
            let visit_rows = rows.min(max_rows - seen);
            seen += rows;
            if filled.send((block, visit_rows)).is_err() {
                // The visiting thread panicked; the scope's join reports it.
                break;
            }
            match free.recv() {
                Ok(next) => buffer = next,
                Err(_) => break,
            }
        }
        Ok(())
    })
}

/// The binding of each column: typed where `want` asks for it and its SQL
/// type allows, else text of what its declared type can need in UTF-8, at
/// most MAX_COLUMN_BYTES.
fn column_bindings(
    cursor: &mut impl Cursor,
    names: &[String],
    want: &dyn Fn(&str) -> Want,
) -> Result<Vec<Binding>, odbc_api::Error> {
    (1..=names.len())
        .zip(names)
        .map(|(column, name)| {
            let column = u16::try_from(column).unwrap_or(u16::MAX);
            let data_type = cursor.col_data_type(column)?;
            let declared = match data_type.utf8_len() {
                Some(length) => Some(length.get()),
                None => cursor.col_display_size(column)?.map(|size| size.get()),
            };
            let text_bytes = declared
                .unwrap_or(UNDECLARED_COLUMN_BYTES)
                .clamp(1, MAX_COLUMN_BYTES);
            Ok(Binding::of(
                want(&name.to_uppercase()),
                data_type,
                text_bytes,
            ))
        })
        .collect()
}

/// Rows per fetch block: FETCH_ROWS, fewer when the rows are wide.
fn rows_per_block(bindings: &[Binding], max_rows: usize) -> usize {
    let row_bytes: usize = bindings
        .iter()
        .map(|binding| binding.buffer().bytes_per_row())
        .sum::<usize>()
        .max(1);
    (BLOCK_BYTES / row_bytes)
        .clamp(16, FETCH_ROWS)
        .min(max_rows.max(1))
}

pub(super) fn bind(params: &[Value]) -> Vec<Box<dyn InputParameter>> {
    params
        .iter()
        .map(|value| -> Box<dyn InputParameter> {
            match value {
                Value::Text(text) => Box::new(text.clone().into_parameter()),
                Value::Integer(number) => Box::new(*number),
            }
        })
        .collect()
}

/// Every row of `query`, each column as trimmed text (NULL as `None`).
pub(super) fn query_rows(
    connection: &Connection<'_>,
    query: &Query,
    timeout: Option<usize>,
) -> Result<Vec<Vec<Option<String>>>, odbc_api::Error> {
    let params = bind(&query.params);
    let mut rows = Vec::new();
    if let Some(cursor) = connection.execute(&query.text, params.as_slice(), timeout)? {
        visit_cursor(cursor, usize::MAX, &all_text, |view| {
            rows.push(
                (0..view.columns())
                    .map(|position| view.at(position).map(|text| text.trim().to_owned()))
                    .collect(),
            );
        })?;
    }
    Ok(rows)
}

/// Function name (upper case) to its result columns, from the catalog views.
pub(super) fn catalog_columns(
    connection: &Connection<'_>,
    timeout: Option<usize>,
) -> Result<std::collections::HashMap<String, Vec<String>>, odbc_api::Error> {
    let query = sql::routine_columns();
    let params = bind(&query.params);
    let mut found: std::collections::HashMap<String, Vec<String>> = Default::default();
    if let Some(cursor) = connection.execute(&query.text, params.as_slice(), timeout)? {
        visit_cursor(cursor, usize::MAX, &all_text, |view| {
            if let (Some(function), Some(column)) = (view.at(0), view.at(1)) {
                found
                    .entry(function.trim().to_uppercase())
                    .or_default()
                    .push(column.trim().to_uppercase());
            }
        })?;
    }
    Ok(found)
}

pub(super) fn column_names(
    connection: &Connection<'_>,
    query: &Query,
    timeout: Option<usize>,
) -> Result<Vec<String>, odbc_api::Error> {
    let params = bind(&query.params);
    match connection.execute(&query.text, params.as_slice(), timeout)? {
        Some(mut cursor) => cursor.column_names()?.collect(),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_column_has_its_own_slot() {
        // The slots follow the SQL column lists, in order, one each.
        let listed: Vec<&str> = sql::REQUIRED_COLUMNS
            .iter()
            .chain(sql::OPTIONAL_COLUMNS)
            .copied()
            .collect();
        assert_eq!(listed.len(), KNOWN);
        for (expected, name) in listed.iter().enumerate() {
            assert_eq!(slot(name), Some(expected), "{name}");
        }
        assert_eq!(slot("THREAD"), None);
        let index = ColumnIndex::new(
            &["sequence_number".into(), "ENTRY_TIMESTAMP".into()],
            Vec::new(),
        );
        assert_eq!(index.slots[1], Some(0));
        assert_eq!(index.slots[0], Some(1));
        assert_eq!(index.slots[2], None);
    }

    #[test]
    fn numbers_and_times_bind_typed_only_when_their_sql_type_allows() {
        let sequence = DataType::Decimal {
            precision: 21,
            scale: 0,
        };
        let char26 = DataType::Char {
            length: std::num::NonZeroUsize::new(26),
        };
        for (want, data_type, expected) in [
            (
                Want::Timestamp,
                DataType::Timestamp { precision: 6 },
                Binding::Timestamp,
            ),
            (Want::Timestamp, char26, Binding::Text(99)),
            (Want::Sequence, sequence, Binding::Integer),
            (Want::Integer, sequence, Binding::Text(99)),
            (
                Want::Integer,
                DataType::Decimal {
                    precision: 18,
                    scale: 0,
                },
                Binding::Integer,
            ),
            (
                Want::Integer,
                DataType::Decimal {
                    precision: 9,
                    scale: 2,
                },
                Binding::Text(99),
            ),
            (Want::Integer, DataType::Integer, Binding::Integer),
            (Want::Sequence, char26, Binding::Text(99)),
            (Want::Text, DataType::Integer, Binding::Text(99)),
        ] {
            assert_eq!(
                Binding::of(want, data_type, 99),
                expected,
                "{want:?} {data_type:?}"
            );
        }
    }

    #[test]
    fn an_odbc_timestamp_keeps_microseconds_and_spells_out_an_impossible_time() {
        let mut time = odbc_api::sys::Timestamp {
            year: 2026,
            month: 4,
            day: 8,
            hour: 10,
            minute: 15,
            second: 30,
            fraction: 123_456_789,
        };
        assert_eq!(
            local_time(&time),
            Ok(crate::source::rows::parse_local_timestamp("2026-04-08 10:15:30.123456").unwrap())
        );
        time.hour = 24;
        assert_eq!(
            local_time(&time),
            Err("2026-04-08 24:15:30.123456789".to_owned())
        );
    }
}
