//! Rows from the driver: columnar fetch into two buffers that take turns,
//! column names resolved once per statement, and the small statements run
//! once (catalog, system values). Every call here blocks.

use std::borrow::Cow;

use odbc_api::buffers::TextRowSet;
use odbc_api::parameter::InputParameter;
use odbc_api::{Connection, Cursor, IntoParameter, ResultSetMetadata};

use super::sql::{self, Query, Value};
use crate::source::rows::Columns;

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

/// Where each column IBM names sits in this statement's result, resolved once
/// per statement from the driver's column names.
pub(super) struct ColumnIndex {
    /// Every column name, upper case, by position.
    names: Vec<String>,
    slots: [Option<usize>; KNOWN],
    /// Columns outside the JS set (other audit types' own), looked up by name.
    others: Vec<(String, usize)>,
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
    pub(super) fn new(names: &[String]) -> ColumnIndex {
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
        }
    }
}

/// One row of a fetched block.
pub struct RowView<'a> {
    index: &'a ColumnIndex,
    block: &'a TextRowSet,
    row: usize,
}

impl RowView<'_> {
    /// The text at column position `position` (any statement).
    pub fn at(&self, position: usize) -> Option<Cow<'_, str>> {
        if position >= self.index.count {
            return None;
        }
        // Valid UTF-8 (nearly always) is borrowed as is; anything else is
        // replaced character by character, never dropped.
        self.block
            .at(position, self.row)
            .map(|bytes| match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(bytes),
            })
    }

    pub fn columns(&self) -> usize {
        self.index.count
    }

    /// Whether the value at `position` did not fit its buffer (the driver
    /// says how long it was, or that it cannot say).
    pub fn is_truncated(&self, position: usize) -> bool {
        use odbc_api::buffers::Indicator;
        match self.block.indicator_at(position, self.row) {
            Indicator::Null => false,
            Indicator::NoTotal => true,
            Indicator::Length(length) => length > self.block.max_len(position),
        }
    }
}

impl Columns for RowView<'_> {
    fn truncated(&self) -> Vec<String> {
        (0..self.index.count)
            .filter(|position| self.is_truncated(*position))
            .map(|position| self.index.names[position].clone())
            .collect()
    }

    fn text(&self, column: &str) -> Option<Cow<'_, str>> {
        let position = match slot(column) {
            Some(slot) => self.index.slots[slot]?,
            None => self.index.others.iter().find(|(name, _)| name == column)?.1,
        };
        self.at(position)
    }
}

/// Hands each of at most `max_rows` rows of `cursor` to `visit`, straight from
/// the columnar fetch buffer; the column names are resolved once.
///
/// Fetching and visiting overlap: this thread fetches the next block from the
/// driver (which waits for the server) while a scoped thread visits the block
/// fetched before. Two buffers take turns, so at most two blocks are held and
/// the rows are still visited in order, each once.
pub(super) fn visit_cursor(
    mut cursor: impl Cursor,
    max_rows: usize,
    visit: impl FnMut(&RowView<'_>) + Send,
) -> Result<(), odbc_api::Error> {
    let names: Result<Vec<String>, odbc_api::Error> =
        cursor.column_names().and_then(|names| names.collect());
    let buffers = names.and_then(|names| {
        let lengths = column_lengths(&mut cursor, names.len())?;
        let rows_per_block = rows_per_block(&lengths, max_rows);
        let first = TextRowSet::from_max_str_lens(rows_per_block, lengths.iter().copied())?;
        let second = TextRowSet::from_max_str_lens(rows_per_block, lengths.iter().copied())?;
        Ok((names, first, second))
    });
    let (names, first, second) = match buffers {
        Ok(ready) => ready,
        Err(error) => {
            // See below: a cursor on a lost connection must not be dropped.
            std::mem::forget(cursor);
            return Err(error);
        }
    };
    let index = ColumnIndex::new(&names);
    std::thread::scope(|scope| {
        // Filled blocks with the number of their rows to visit, one waiting at most.
        let (filled, to_visit) = std::sync::mpsc::sync_channel::<(TextRowSet, usize)>(1);
        // Visited blocks, back for the next fetch.
        let (give_back, free) = std::sync::mpsc::sync_channel::<TextRowSet>(2);
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

/// The buffer length of each column: what its declared type can need in UTF-8,
/// at most MAX_COLUMN_BYTES.
fn column_lengths(cursor: &mut impl Cursor, count: usize) -> Result<Vec<usize>, odbc_api::Error> {
    (1..=count)
        .map(|column| {
            let column = u16::try_from(column).unwrap_or(u16::MAX);
            let declared = match cursor.col_data_type(column)?.utf8_len() {
                Some(length) => Some(length.get()),
                None => cursor.col_display_size(column)?.map(|size| size.get()),
            };
            Ok(declared
                .unwrap_or(UNDECLARED_COLUMN_BYTES)
                .clamp(1, MAX_COLUMN_BYTES))
        })
        .collect()
}

/// Rows per fetch block: FETCH_ROWS, fewer when the rows are wide.
fn rows_per_block(lengths: &[usize], max_rows: usize) -> usize {
    let row_bytes: usize = lengths
        .iter()
        .map(|length| length + 1)
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
        visit_cursor(cursor, usize::MAX, |view| {
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
        visit_cursor(cursor, usize::MAX, |view| {
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
        let index = ColumnIndex::new(&["sequence_number".into(), "ENTRY_TIMESTAMP".into()]);
        assert_eq!(index.slots[1], Some(0));
        assert_eq!(index.slots[0], Some(1));
        assert_eq!(index.slots[2], None);
    }
}
