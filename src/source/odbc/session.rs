//! The driver glue: one connection, its statements prepared once, and rows
//! handed straight from the columnar fetch buffer. Every call here blocks.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use odbc_api::buffers::TextRowSet;
use odbc_api::handles::StatementConnection;
use odbc_api::parameter::InputParameter;
use odbc_api::{
    Connection, ConnectionOptions, ConnectionTransitions, Cursor, Environment, IntoParameter,
    Prepared, ResultSetMetadata,
};

use super::classify::{classify, Doing, DriverError, OdbcError};
use super::config::Dialect;
use super::sql::{self, Query, SqlFilter, Value};
use crate::event::audit::TypeSpec;
use crate::source::rows::Columns;

/// Longest text read from one column; longer values are cut by the driver.
const MAX_COLUMN_BYTES: usize = 1024;
/// Rows per block fetched from the driver: each column takes up to
/// MAX_COLUMN_BYTES per row in the block, so this bounds the buffer (about 5 MB).
const FETCH_ROWS: usize = 500;

type Statement = Prepared<StatementConnection<Arc<Connection<'static>>>>;

/// The statements a session runs, each prepared once per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `QSYS2.JOURNAL_RECEIVER_INFO` for QSYS/QAUDJRN.
    Receivers,
    /// One receiver, one sequence window (`sql::read_window`).
    Window,
    /// One receiver from a sequence, bounded by rows (`sql::read_receiver`).
    FromSequence,
    /// One receiver from a local time, bounded by rows (`sql::read_receiver`).
    FromTimestamp,
}

pub struct Session {
    /// Columns selected, in order: the required ones and the optional ones this release has.
    pub columns: Vec<String>,
    pub own_profile: Option<String>,
    receivers: Statement,
    window: Statement,
    from_sequence: Statement,
    from_timestamp: Statement,
    /// The other audit types read, each with its own statements, in catalog order.
    pub typed: Vec<TypedStatements>,
    /// Optional types whose function this system lacks (not read).
    pub missing: Vec<&'static TypeSpec>,
    /// `QSYS2.USER_INFO` for the privileged profiles; `Err` when it could not
    /// be prepared (no authority, or the release lacks it), said when used.
    privileged: Result<Statement, String>,
}

/// The statements of one audit type other than JS.
pub struct TypedStatements {
    pub spec: &'static TypeSpec,
    /// Columns selected: the common header ones, then the type's own, as this release has them.
    pub columns: Vec<String>,
    window: Statement,
    from_sequence: Statement,
    from_timestamp: Statement,
}

/// Where the connection goes and how it reads.
pub struct Target<'a> {
    pub connection_string: &'a str,
    pub host: &'a str,
    pub secrets: &'a [&'a str],
    pub dialect: Dialect,
    pub filter: &'a SqlFilter,
    pub timeout_seconds: usize,
    pub exclude_own_connections: bool,
    /// Audit types other than JS to read, in catalog order.
    pub types: &'a [&'static TypeSpec],
    /// Types among `types` that may be missing on the system.
    pub optional: &'a [&'static TypeSpec],
}

fn environment() -> Result<&'static Environment, OdbcError> {
    static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENVIRONMENT
        .get_or_init(|| Environment::new().map_err(|error| error.to_string()))
        .as_ref()
        .map_err(|error| {
            OdbcError::fatal(format!(
                "cannot create the ODBC environment (is unixODBC installed?): {error}"
            ))
        })
}

impl Session {
    /// Connects, learns the columns this release has, and prepares the statements.
    pub fn open(target: &Target<'_>) -> Result<Session, OdbcError> {
        let fail = |doing: Doing| {
            move |error: odbc_api::Error| {
                classify(
                    &doing,
                    target.host,
                    DriverError::redacted(&error, target.secrets),
                )
            }
        };
        let connection = environment()?
            .connect_with_connection_string(
                target.connection_string,
                ConnectionOptions {
                    login_timeout_sec: Some(30),
                    ..ConnectionOptions::default()
                },
            )
            .map_err(fail(Doing::Connect))?;
        let timeout = Some(target.timeout_seconds);
        let discovered = column_names(
            &connection,
            &sql::discover_columns(sql::JS_FUNCTION, target.dialect),
            timeout,
        )
        .map_err(fail(Doing::DiscoverColumns))?;
        let available = upper_case(&discovered);
        let missing = absent_from(&available, sql::REQUIRED_COLUMNS);
        if !missing.is_empty() {
            return Err(OdbcError::fatal(format!(
                "SYSTOOLS.AUDIT_JOURNAL_JS on {} lacks the columns {missing:?}; apply the Db2 for i PTF group that ships it (see deploy/ibmi/)",
                target.host
            )));
        }
        let mut columns: Vec<String> = sql::REQUIRED_COLUMNS
            .iter()
            .map(|name| name.to_string())
            .collect();
        let absent = absent_from(&available, sql::OPTIONAL_COLUMNS);
        columns.extend(
            sql::OPTIONAL_COLUMNS
                .iter()
                .filter(|name| available.contains(**name))
                .map(|name| name.to_string()),
        );
        if !absent.is_empty() {
            tracing::warn!(host = %target.host, columns = ?absent, "this release lacks some optional columns; they will be null");
        }
        let mut typed_columns: Vec<(&'static TypeSpec, Vec<String>)> = Vec::new();
        let mut missing = Vec::new();
        for spec in target.types.iter().copied().filter(|spec| !spec.is_js()) {
            let query = sql::discover_columns(spec.function, target.dialect);
            match column_names(&connection, &query, timeout) {
                Ok(names) => typed_columns.push((spec, typed_select_list(spec, &names, target)?)),
                Err(error) => {
                    let driver = DriverError::redacted(&error, target.secrets);
                    if !is_missing_function(&driver) {
                        return Err(classify(&Doing::DiscoverColumns, target.host, driver));
                    }
                    let why = format!(
                        "SYSTOOLS.{} (audit type {}, {}) is not on {}: it comes with the Db2 for i PTF group {}",
                        spec.function, spec.code, spec.name, target.host, spec.since
                    );
                    if target.optional.contains(&spec) {
                        tracing::warn!("{why}; {} is optional (source.optional_audit_types), so it is not read", spec.code);
                        missing.push(spec);
                    } else {
                        return Err(OdbcError::fatal(format!(
                            "{why}. Apply that PTF group, or remove {} from source.audit_types, or list it in source.optional_audit_types to run without it",
                            spec.code
                        )));
                    }
                }
            }
        }
        let own_profile = if target.exclude_own_connections {
            let mut first = None;
            let query = sql::current_user(target.dialect);
            let params = bind(&query.params);
            if let Some(cursor) = connection
                .execute(&query.text, params.as_slice(), timeout)
                .map_err(fail(Doing::CurrentUser))?
            {
                visit_cursor(cursor, 1, |view| {
                    first = view.at(0).map(|name| name.trim().to_uppercase());
                })
                .map_err(fail(Doing::CurrentUser))?;
            }
            first
        } else {
            None
        };
        // odbc-api's way to own several prepared statements on one connection.
        // The Arc never crosses threads on its own: the session (all statements
        // together) lives on the source thread.
        #[allow(clippy::arc_with_non_send_sync)]
        let shared = Arc::new(connection);
        let prepare = |text: &str, doing: Doing| -> Result<Statement, OdbcError> {
            let mut statement = Arc::clone(&shared)
                .into_prepared(text)
                .map_err(fail(doing.clone()))?;
            statement
                .set_query_timeout_sec(target.timeout_seconds)
                .map_err(fail(doing))?;
            Ok(statement)
        };
        let any = Doing::Read(super::chain::ReceiverId {
            library: "*ANY".into(),
            name: "*ANY".into(),
        });
        let timestamp = chrono::NaiveDateTime::MIN;
        let session = Session {
            receivers: prepare(&sql::receivers().text, Doing::ReceiverInfo)?,
            window: prepare(
                &sql::read_window(
                    sql::JS_FUNCTION,
                    target.dialect,
                    &columns,
                    "",
                    "",
                    0,
                    0,
                    target.filter,
                )
                .text,
                any.clone(),
            )?,
            from_sequence: prepare(
                &sql::read_receiver(
                    sql::JS_FUNCTION,
                    target.dialect,
                    &columns,
                    "",
                    "",
                    &sql::Start::Sequence(0),
                    target.filter,
                    1,
                )
                .text,
                any.clone(),
            )?,
            from_timestamp: prepare(
                &sql::read_receiver(
                    sql::JS_FUNCTION,
                    target.dialect,
                    &columns,
                    "",
                    "",
                    &sql::Start::Timestamp(timestamp),
                    target.filter,
                    1,
                )
                .text,
                any.clone(),
            )?,
            typed: typed_columns
                .into_iter()
                .map(|(spec, columns)| -> Result<TypedStatements, OdbcError> {
                    let none = SqlFilter::default();
                    Ok(TypedStatements {
                        spec,
                        window: prepare(
                            &sql::read_window(
                                spec.function,
                                target.dialect,
                                &columns,
                                "",
                                "",
                                0,
                                0,
                                &none,
                            )
                            .text,
                            any.clone(),
                        )?,
                        from_sequence: prepare(
                            &sql::read_receiver(
                                spec.function,
                                target.dialect,
                                &columns,
                                "",
                                "",
                                &sql::Start::Sequence(0),
                                &none,
                                1,
                            )
                            .text,
                            any.clone(),
                        )?,
                        from_timestamp: prepare(
                            &sql::read_receiver(
                                spec.function,
                                target.dialect,
                                &columns,
                                "",
                                "",
                                &sql::Start::Timestamp(timestamp),
                                &none,
                                1,
                            )
                            .text,
                            any.clone(),
                        )?,
                        columns,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            missing,
            columns,
            own_profile,
            privileged: prepare(
                &sql::privileged_profiles(target.dialect).text,
                Doing::UserInfo,
            )
            .map_err(|error| error.to_string()),
        };
        let types: Vec<&str> = session.typed.iter().map(|typed| typed.spec.code).collect();
        tracing::info!(host = %target.host, columns = session.columns.len(), other_types = ?types, own_profile = ?session.own_profile, "connected to the audit journal");
        Ok(session)
    }

    /// Runs the prepared statement `kind` with `params` and hands each of at
    /// most `max_rows` rows to `visit`.
    pub fn run(
        &mut self,
        kind: Kind,
        params: &[Value],
        max_rows: usize,
        visit: impl FnMut(&RowView<'_>) + Send,
    ) -> Result<(), odbc_api::Error> {
        let statement = match kind {
            Kind::Receivers => &mut self.receivers,
            Kind::Window => &mut self.window,
            Kind::FromSequence => &mut self.from_sequence,
            Kind::FromTimestamp => &mut self.from_timestamp,
        };
        let params = bind(params);
        match statement.execute(params.as_slice())? {
            Some(cursor) => visit_cursor(cursor, max_rows, visit),
            None => Ok(()),
        }
    }
}

impl Session {
    /// Profiles holding *ALLOBJ or *SECADM, from `QSYS2.USER_INFO`, upper case.
    pub fn privileged_profiles(&mut self) -> Result<Vec<String>, PrivilegedError> {
        let statement = self
            .privileged
            .as_mut()
            .map_err(|error| PrivilegedError::Prepare(error.clone()))?;
        let mut names = Vec::new();
        if let Some(cursor) = statement.execute(()).map_err(PrivilegedError::Driver)? {
            visit_cursor(cursor, 1_000_000, |view| {
                if let Some(name) = view.at(0) {
                    let name = name.trim();
                    if !name.is_empty() {
                        names.push(name.to_uppercase());
                    }
                }
            })
            .map_err(PrivilegedError::Driver)?;
        }
        Ok(names)
    }

    /// Runs statement `kind` of the other type at `index` in [`Session::typed`].
    pub fn run_typed(
        &mut self,
        index: usize,
        kind: Kind,
        params: &[Value],
        max_rows: usize,
        visit: impl FnMut(&RowView<'_>) + Send,
    ) -> Result<(), odbc_api::Error> {
        let typed = &mut self.typed[index];
        let statement = match kind {
            Kind::Window => &mut typed.window,
            Kind::FromSequence => &mut typed.from_sequence,
            Kind::FromTimestamp => &mut typed.from_timestamp,
            Kind::Receivers => unreachable!("the receiver list has no typed statement"),
        };
        let params = bind(params);
        match statement.execute(params.as_slice())? {
            Some(cursor) => visit_cursor(cursor, max_rows, visit),
            None => Ok(()),
        }
    }
}

/// Why the privileged profiles could not be read.
pub enum PrivilegedError {
    /// The statement could not be prepared at connect (the text says why).
    Prepare(String),
    Driver(odbc_api::Error),
}

/// A table function that does not exist: PostgreSQL's 42883 (undefined
/// function), Db2 for i's 42704 (SQL0204, object not found) and 42884.
fn is_missing_function(error: &DriverError) -> bool {
    matches!(error.sqlstate.as_deref(), Some("42883" | "42704" | "42884"))
}

/// Discovered column names, upper-cased (drivers differ in case).
fn upper_case(names: &[String]) -> std::collections::HashSet<String> {
    names.iter().map(|name| name.to_uppercase()).collect()
}

/// Which of `names` the function lacks.
fn absent_from<'a>(
    available: &std::collections::HashSet<String>,
    names: &[&'a str],
) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|name| !available.contains(*name))
        .collect()
}

/// The columns to select from `spec`'s function, given the names it has.
fn typed_select_list(
    spec: &'static TypeSpec,
    available: &[String],
    target: &Target<'_>,
) -> Result<Vec<String>, OdbcError> {
    let available = upper_case(available);
    let missing = absent_from(&available, sql::COMMON_REQUIRED_COLUMNS);
    if !missing.is_empty() {
        return Err(OdbcError::fatal(format!(
            "SYSTOOLS.{} on {} lacks the columns {missing:?}; apply the Db2 for i PTF group that ships it ({})",
            spec.function, target.host, spec.since
        )));
    }
    let optional = sql::COMMON_OPTIONAL_COLUMNS
        .iter()
        .copied()
        .chain(spec.columns.iter().map(|column| column.name));
    let mut absent = Vec::new();
    let mut columns: Vec<String> = sql::COMMON_REQUIRED_COLUMNS
        .iter()
        .map(|name| name.to_string())
        .collect();
    for name in optional {
        if available.contains(name) {
            if !columns.iter().any(|known| known == name) {
                columns.push(name.to_owned());
            }
        } else {
            absent.push(name);
        }
    }
    if !absent.is_empty() {
        tracing::warn!(host = %target.host, function = spec.function, columns = ?absent, "this release lacks some columns of the function; they will be null");
    }
    Ok(columns)
}

/// Where each column IBM names sits in this statement's result, resolved once
/// per statement from the driver's column names.
pub struct ColumnIndex {
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
    pub fn new(names: &[String]) -> ColumnIndex {
        let mut slots = [None; KNOWN];
        let mut others = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let name = name.to_uppercase();
            match slot(&name) {
                Some(slot) => {
                    slots[slot].get_or_insert(position);
                }
                None => others.push((name, position)),
            }
        }
        ColumnIndex {
            slots,
            others,
            count: names.len(),
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
}

impl Columns for RowView<'_> {
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
fn visit_cursor(
    mut cursor: impl Cursor,
    max_rows: usize,
    visit: impl FnMut(&RowView<'_>) + Send,
) -> Result<(), odbc_api::Error> {
    let names: Result<Vec<String>, odbc_api::Error> =
        cursor.column_names().and_then(|names| names.collect());
    let rows_per_block = max_rows.clamp(1, FETCH_ROWS);
    let buffers = names.and_then(|names| {
        let first = TextRowSet::for_cursor(rows_per_block, &mut cursor, Some(MAX_COLUMN_BYTES))?;
        let second = TextRowSet::for_cursor(rows_per_block, &mut cursor, Some(MAX_COLUMN_BYTES))?;
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

fn bind(params: &[Value]) -> Vec<Box<dyn InputParameter>> {
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

fn column_names(
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
