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

pub(super) fn environment() -> Result<&'static Environment, OdbcError> {
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
        // The columns of each function from the catalog views: one statement,
        // no function invoked. A function the catalog does not show (or a
        // catalog that cannot be read) is probed with an empty call instead,
        // which also tells a missing function from a hidden one.
        let catalog = catalog_columns(&connection, timeout).unwrap_or_else(|error| {
            let error = DriverError::redacted(&error, target.secrets);
            tracing::warn!(host = %target.host, "cannot read the columns of the SYSTOOLS functions from QSYS2.SYSPARMS ({error}); probing each function instead");
            std::collections::HashMap::new()
        });
        let columns_of = |function: &str| -> Result<Vec<String>, odbc_api::Error> {
            match catalog.get(function) {
                Some(columns) => Ok(columns.clone()),
                None => column_names(
                    &connection,
                    &sql::discover_columns(function, target.dialect),
                    timeout,
                ),
            }
        };
        let discovered = columns_of(sql::JS_FUNCTION).map_err(fail(Doing::DiscoverColumns))?;
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
            match columns_of(spec.function) {
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
        // Host-server sessions are attributed by the profile swaps M and T,
        // which only *JOBCHGUSR (or *JOBDTA) writes: say so once at start-up.
        warn_without_swaps(&connection, target, timeout);
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
            .or_else(|error| {
                tracing::warn!(host = %target.host, "cannot read QSYS2.GROUP_PROFILE_ENTRIES ({error}); privileged profiles are those holding *ALLOBJ or *SECADM themselves, not through a group");
                prepare(
                    &sql::privileged_profiles_direct(target.dialect).text,
                    Doing::UserInfo,
                )
            })
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
    pub fn new(names: &[String]) -> ColumnIndex {
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
fn visit_cursor(
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

/// Warns (once a process) when QAUDLVL/QAUDLVL2 lack both *JOBCHGUSR and
/// *JOBDTA: JS then has starts and ends but no profile swaps, so sessions of
/// host-server jobs cannot be attributed. Silent when the values cannot be
/// read (`auditfwd doctor` says why).
fn warn_without_swaps(connection: &Connection<'_>, target: &Target<'_>, timeout: Option<usize>) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SAID.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let query = sql::audit_levels();
    let Ok(rows) = query_rows(connection, &query, timeout) else {
        return;
    };
    let value = |name: &str| {
        rows.iter()
            .find(|row| row.first().and_then(|value| value.as_deref()) == Some(name))
            .and_then(|row| row.get(1).cloned().flatten())
    };
    let Some(qaudlvl) = value("QAUDLVL") else {
        return;
    };
    let levels = super::doctor::levels_in_effect(&qaudlvl, value("QAUDLVL2").as_deref());
    if !levels.contains("*JOBCHGUSR") && !levels.contains("*JOBDTA") {
        SAID.store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::warn!(host = %target.host, qaudlvl = %levels.iter().cloned().collect::<Vec<_>>().join(" "), "QAUDLVL has neither *JOBCHGUSR nor *JOBDTA: the journal has no profile swaps (JS M and T), so sessions of host-server jobs (ODBC, file server, remote command, ...) cannot be attributed; only interactive and SSH sessions are seen. CHGSECAUD QAUDCTL(*AUDLVL) QAUDLVL(*JOBCHGUSR) adds it");
    }
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
