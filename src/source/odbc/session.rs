//! The driver glue: one connection, its statements prepared once, and rows
//! handed straight from the columnar fetch buffer ([`super::fetch`]). Every
//! call here blocks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use odbc_api::handles::StatementConnection;
use odbc_api::{Connection, ConnectionOptions, ConnectionTransitions, Environment, Prepared};

use super::classify::{classify, Doing, DriverError, OdbcError};
use super::config::Dialect;
use super::fetch::{
    all_text, bind, catalog_columns, column_names, query_rows, visit_cursor, RowView, Want,
};
use super::sql::{self, SqlFilter, Value};
use crate::event::audit::TypeSpec;

type Statement = Prepared<StatementConnection<Arc<Connection<'static>>>>;

/// The three reads of one audit journal function, by how they bound the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// One receiver, one sequence window (`sql::read_window`).
    Window,
    /// One receiver from a sequence, bounded by rows (`sql::read_receiver`).
    FromSequence,
    /// One receiver from a local time, bounded by rows (`sql::read_receiver`).
    FromTimestamp,
}

/// Which function a read calls: JS, or the other type at this index of
/// [`Session::typed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Function {
    /// SYSTOOLS.AUDIT_JOURNAL_JS.
    Js,
    /// The function of `Session::typed[index]`.
    Typed(usize),
}

/// One ODBC connection with every statement it needs, prepared once at connect.
pub(crate) struct Session {
    /// Columns selected from JS, in order: the required ones and the optional ones this release has.
    pub columns: Vec<String>,
    /// The profile this connection runs as, when `exclude_own_connections` is on: its
    /// database host-server rows (QZDASOINIT, QZDASSINIT) are dropped, not its other jobs.
    pub own_profile: Option<String>,
    /// `QSYS2.JOURNAL_RECEIVER_INFO` for QSYS/QAUDJRN.
    receivers: Statement,
    js: Reads,
    /// The other audit types read, each with its own statements, in catalog order.
    pub typed: Vec<TypedStatements>,
    /// Optional types whose function this system lacks (not read).
    pub missing: Vec<&'static TypeSpec>,
    /// `QSYS2.USER_INFO` for the privileged profiles; `Err` when it could not
    /// be prepared (no authority, or the release lacks it), said when used.
    privileged: Result<Statement, String>,
}

/// The statements of one audit type other than JS.
pub(crate) struct TypedStatements {
    /// The audit type these statements read.
    pub spec: &'static TypeSpec,
    reads: Reads,
}

/// One function's prepared reads, one per [`Kind`].
struct Reads {
    window: Statement,
    from_sequence: Statement,
    from_timestamp: Statement,
}

impl Reads {
    fn get(&mut self, kind: Kind) -> &mut Statement {
        match kind {
            Kind::Window => &mut self.window,
            Kind::FromSequence => &mut self.from_sequence,
            Kind::FromTimestamp => &mut self.from_timestamp,
        }
    }
}

/// Where the connection goes and how it reads.
pub(crate) struct Target<'a> {
    /// The ODBC connection string to connect with (a secret: it may hold the password).
    pub connection_string: &'a str,
    /// The host, for messages (never the connection string).
    pub host: &'a str,
    /// The texts (the password in its forms) that no error message may show.
    pub secrets: &'a [&'a str],
    /// SQL dialect of the server (Db2 for i or the PostgreSQL lab).
    pub dialect: Dialect,
    /// The JS filters pushed into the SQL (`[filter]`).
    pub filter: &'a SqlFilter,
    /// Query timeout for every statement, in seconds (`source.odbc.query_timeout`, at least 1).
    pub timeout_seconds: usize,
    /// `source.odbc.exclude_own_connections`: drop the forwarder's own database jobs' rows.
    pub exclude_own_connections: bool,
    /// Audit types other than JS to read, in catalog order.
    pub types: &'a [&'static TypeSpec],
    /// Types among `types` that may be missing on the system.
    pub optional: &'a [&'static TypeSpec],
}

impl Target<'_> {
    /// Turns a driver error of `doing` into the typed error, redacted.
    fn fail(&self, doing: Doing) -> impl Fn(odbc_api::Error) -> OdbcError + '_ {
        move |error| {
            classify(
                &doing,
                self.host,
                DriverError::redacted(&error, self.secrets),
            )
        }
    }

    fn timeout(&self) -> Option<usize> {
        Some(self.timeout_seconds)
    }
}

/// The columns a connection found: JS's, each other type's, and the optional
/// types the system lacks.
struct Discovered {
    js: Vec<String>,
    typed: Vec<(&'static TypeSpec, Vec<String>)>,
    missing: Vec<&'static TypeSpec>,
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
    pub(crate) fn open(target: &Target<'_>) -> Result<Session, OdbcError> {
        let connection = environment()?
            .connect_with_connection_string(
                target.connection_string,
                ConnectionOptions {
                    login_timeout_sec: Some(30),
                    ..ConnectionOptions::default()
                },
            )
            .map_err(target.fail(Doing::Connect))?;
        let discovered = discover(&connection, target)?;
        let own_profile = if target.exclude_own_connections {
            own_profile(&connection, target)?
        } else {
            None
        };
        // Host-server sessions are attributed by the profile swaps M and T,
        // which only *JOBCHGUSR (or *JOBDTA) writes: say so once at start-up.
        warn_without_swaps(&connection, target);
        let session = prepare(connection, target, discovered, own_profile)?;
        let types: Vec<&str> = session.typed.iter().map(|typed| typed.spec.code).collect();
        tracing::info!(host = %target.host, columns = session.columns.len(), other_types = ?types, own_profile = ?session.own_profile, "connected to the audit journal");
        Ok(session)
    }

    /// Runs the receiver list with `params` and hands each of at most
    /// `max_rows` rows to `visit`.
    pub(crate) fn run_receivers(
        &mut self,
        params: &[Value],
        max_rows: usize,
        visit: impl FnMut(&RowView<'_>) + Send,
    ) -> Result<(), odbc_api::Error> {
        run(&mut self.receivers, params, max_rows, &all_text, visit)
    }

    /// Runs read `kind` of `function` with `params` and hands each of at most
    /// `max_rows` rows to `visit`, each column bound as `want` says.
    pub(crate) fn run_read(
        &mut self,
        function: Function,
        kind: Kind,
        params: &[Value],
        max_rows: usize,
        want: &dyn Fn(&str) -> Want,
        visit: impl FnMut(&RowView<'_>) + Send,
    ) -> Result<(), odbc_api::Error> {
        let reads = match function {
            Function::Js => &mut self.js,
            Function::Typed(index) => &mut self.typed[index].reads,
        };
        run(reads.get(kind), params, max_rows, want, visit)
    }

    /// Profiles holding *ALLOBJ or *SECADM, from `QSYS2.USER_INFO`, upper case.
    pub(crate) fn privileged_profiles(&mut self) -> Result<Vec<String>, PrivilegedError> {
        let statement = self
            .privileged
            .as_mut()
            .map_err(|error| PrivilegedError::Prepare(error.clone()))?;
        let mut names = Vec::new();
        if let Some(cursor) = statement.execute(()).map_err(PrivilegedError::Driver)? {
            visit_cursor(cursor, 1_000_000, &all_text, |view| {
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
}

fn run(
    statement: &mut Statement,
    params: &[Value],
    max_rows: usize,
    want: &dyn Fn(&str) -> Want,
    visit: impl FnMut(&RowView<'_>) + Send,
) -> Result<(), odbc_api::Error> {
    let params = bind(params);
    match statement.execute(params.as_slice())? {
        Some(cursor) => visit_cursor(cursor, max_rows, want, visit),
        None => Ok(()),
    }
}

/// The columns of each function from the catalog views: one statement, no
/// function invoked. A function the catalog does not show (or a catalog that
/// cannot be read) is probed with an empty call instead, which also tells a
/// missing function from a hidden one.
fn discover(connection: &Connection<'_>, target: &Target<'_>) -> Result<Discovered, OdbcError> {
    let catalog = catalog_columns(connection, target.timeout()).unwrap_or_else(|error| {
        let error = DriverError::redacted(&error, target.secrets);
        tracing::warn!(host = %target.host, "cannot read the columns of the SYSTOOLS functions from QSYS2.SYSPARMS ({error}); probing each function instead");
        HashMap::new()
    });
    let columns_of = |function: &str| -> Result<Vec<String>, odbc_api::Error> {
        match catalog.get(function) {
            Some(columns) => Ok(columns.clone()),
            None => column_names(
                connection,
                &sql::discover_columns(function, target.dialect),
                target.timeout(),
            ),
        }
    };
    let found = columns_of(sql::JS_FUNCTION).map_err(target.fail(Doing::DiscoverColumns))?;
    let js = js_select_list(&found, target)?;
    let mut typed = Vec::new();
    let mut missing = Vec::new();
    for spec in target.types.iter().copied().filter(|spec| !spec.is_js()) {
        match columns_of(spec.function) {
            Ok(names) => typed.push((spec, typed_select_list(spec, &names, target)?)),
            Err(error) => {
                let driver = DriverError::redacted(&error, target.secrets);
                if !is_missing_function(&driver) {
                    return Err(classify(&Doing::DiscoverColumns, target.host, driver));
                }
                missing.push(missing_type(spec, target)?);
            }
        }
    }
    Ok(Discovered { js, typed, missing })
}

/// The columns to select from JS, given the names it has: fatal without a
/// required one, a warning for each optional one it lacks.
fn js_select_list(found: &[String], target: &Target<'_>) -> Result<Vec<String>, OdbcError> {
    let available = upper_case(found);
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
    Ok(columns)
}

/// A type whose function the system lacks: `Ok(spec)` (not read, with a
/// warning) when it is optional, else the fatal error with the remedy.
fn missing_type(
    spec: &'static TypeSpec,
    target: &Target<'_>,
) -> Result<&'static TypeSpec, OdbcError> {
    let why = format!(
        "SYSTOOLS.{} (audit type {}, {}) is not on {}: it comes with the Db2 for i PTF group {}",
        spec.function, spec.code, spec.name, target.host, spec.since
    );
    if target.optional.contains(&spec) {
        tracing::warn!(
            "{why}; {} is optional (source.optional_audit_types), so it is not read",
            spec.code
        );
        Ok(spec)
    } else {
        Err(OdbcError::fatal(format!(
            "{why}. Apply that PTF group, or remove {} from source.audit_types, or list it in source.optional_audit_types to run without it",
            spec.code
        )))
    }
}

/// The profile this connection runs as, upper case.
fn own_profile(
    connection: &Connection<'_>,
    target: &Target<'_>,
) -> Result<Option<String>, OdbcError> {
    let mut first = None;
    let query = sql::current_user(target.dialect);
    let params = bind(&query.params);
    if let Some(cursor) = connection
        .execute(&query.text, params.as_slice(), target.timeout())
        .map_err(target.fail(Doing::CurrentUser))?
    {
        visit_cursor(cursor, 1, &all_text, |view| {
            first = view.at(0).map(|name| name.trim().to_uppercase());
        })
        .map_err(target.fail(Doing::CurrentUser))?;
    }
    Ok(first)
}

/// Prepares every statement of the session on `connection`.
fn prepare(
    connection: Connection<'static>,
    target: &Target<'_>,
    discovered: Discovered,
    own_profile: Option<String>,
) -> Result<Session, OdbcError> {
    // odbc-api's way to own several prepared statements on one connection.
    // The Arc never crosses threads on its own: the session (all statements
    // together) lives on the source thread.
    #[allow(clippy::arc_with_non_send_sync)]
    let shared = Arc::new(connection);
    let prepare = |text: &str, doing: Doing| -> Result<Statement, OdbcError> {
        let mut statement = Arc::clone(&shared)
            .into_prepared(text)
            .map_err(target.fail(doing.clone()))?;
        statement
            .set_query_timeout_sec(target.timeout_seconds)
            .map_err(target.fail(doing))?;
        Ok(statement)
    };
    let receivers = prepare(&sql::receivers().text, Doing::ReceiverInfo)?;
    let js = prepare_reads(
        &prepare,
        sql::JS_FUNCTION,
        &discovered.js,
        target.filter,
        target,
    )?;
    let none = SqlFilter::default();
    let typed = discovered
        .typed
        .into_iter()
        .map(|(spec, columns)| {
            Ok(TypedStatements {
                spec,
                reads: prepare_reads(&prepare, spec.function, &columns, &none, target)?,
            })
        })
        .collect::<Result<Vec<_>, OdbcError>>()?;
    let privileged = prepare(
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
    .map_err(|error| error.to_string());
    Ok(Session {
        receivers,
        js,
        typed,
        missing: discovered.missing,
        columns: discovered.js,
        own_profile,
        privileged,
    })
}

/// The three reads of `function` selecting `columns`, with `filter`. The
/// receiver, the bounds and the row limit are parameters, so any values give
/// the text.
fn prepare_reads(
    prepare: &dyn Fn(&str, Doing) -> Result<Statement, OdbcError>,
    function: &str,
    columns: &[String],
    filter: &SqlFilter,
    target: &Target<'_>,
) -> Result<Reads, OdbcError> {
    let any = Doing::Read(super::chain::ReceiverId {
        library: "*ANY".into(),
        name: "*ANY".into(),
    });
    let from = |start: &sql::Start| {
        sql::read_receiver(function, target.dialect, columns, "", "", start, filter, 1).text
    };
    let window = sql::read_window(function, target.dialect, columns, "", "", 0, 0, filter).text;
    Ok(Reads {
        window: prepare(&window, any.clone())?,
        from_sequence: prepare(&from(&sql::Start::Sequence(0)), any.clone())?,
        from_timestamp: prepare(
            &from(&sql::Start::Timestamp(chrono::NaiveDateTime::MIN)),
            any,
        )?,
    })
}

/// Why the privileged profiles could not be read.
pub(crate) enum PrivilegedError {
    /// The statement could not be prepared at connect (the text says why).
    Prepare(String),
    /// Executing the statement or fetching its rows failed.
    Driver(odbc_api::Error),
}

/// A table function that does not exist: PostgreSQL's 42883 (undefined
/// function), Db2 for i's 42704 (SQL0204, object not found) and 42884.
fn is_missing_function(error: &DriverError) -> bool {
    matches!(error.sqlstate.as_deref(), Some("42883" | "42704" | "42884"))
}

/// Discovered column names, upper-cased (drivers differ in case).
fn upper_case(names: &[String]) -> HashSet<String> {
    names.iter().map(|name| name.to_uppercase()).collect()
}

/// Which of `names` the function lacks.
fn absent_from<'a>(available: &HashSet<String>, names: &[&'a str]) -> Vec<&'a str> {
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

/// Warns (once a process) when QAUDLVL/QAUDLVL2 lack both *JOBCHGUSR and
/// *JOBDTA: JS then has starts and ends but no profile swaps, so sessions of
/// host-server jobs cannot be attributed. Silent when the values cannot be
/// read (`auditfwd doctor` says why).
fn warn_without_swaps(connection: &Connection<'_>, target: &Target<'_>) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if SAID.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let query = sql::audit_levels();
    let Ok(rows) = query_rows(connection, &query, target.timeout()) else {
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
