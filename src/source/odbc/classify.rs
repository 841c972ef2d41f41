//! From a driver error to what happens next: reconnect with backoff, or stop and
//! tell the operator what to do. Pure: the SQLSTATE and the driver's text in,
//! a typed [`OdbcError`] out, never with the password in it.

use super::chain::ReceiverId;

/// Why a poll failed, by what happens next.
#[derive(Debug, thiserror::Error)]
pub enum OdbcError {
    /// Connection lost, timeout, server busy, a receiver that vanished while
    /// being read: reconnect with backoff.
    #[error("{0}")]
    Transient(Failure),
    /// Nothing will work until an operator acts (bad credentials, no authority,
    /// no such function): the message says what to do.
    #[error("{0}")]
    Fatal(Failure),
}

impl OdbcError {
    /// A fatal error of auditfwd's own finding (no driver error behind it).
    pub fn fatal(message: impl Into<String>) -> OdbcError {
        OdbcError::Fatal(Failure::new(message))
    }

    /// The failure, whichever way it is classified.
    pub fn failure(&self) -> &Failure {
        match self {
            OdbcError::Transient(failure) | OdbcError::Fatal(failure) => failure,
        }
    }

    /// Whether a reconnect with backoff may cure it.
    pub fn is_transient(&self) -> bool {
        matches!(self, OdbcError::Transient(_))
    }
}

/// What failed, for the operator, with the driver's diagnostic kept as the cause.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The whole story for a log line: what auditfwd was doing, on which host,
    /// the remedy, and what the driver said (redacted).
    pub message: String,
    /// The SQLSTATE of the driver's first diagnostic record, when there was one.
    pub sqlstate: Option<String>,
    /// The driver's diagnostic (redacted), kept as the error's source.
    #[source]
    pub driver: Option<DriverError>,
}

impl Failure {
    /// A failure with only auditfwd's own message: no SQLSTATE, no driver error.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            sqlstate: None,
            driver: None,
        }
    }
}

/// `&failure` reads as the message wherever text is wanted.
impl std::ops::Deref for Failure {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

impl From<Failure> for String {
    fn from(failure: Failure) -> String {
        failure.message
    }
}

/// The driver's error, with any secret replaced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct DriverError {
    /// The SQLSTATE of the first diagnostic record, when the driver gave one.
    pub sqlstate: Option<String>,
    /// The native error code of that record, as the driver reports it.
    pub native_error: Option<i32>,
    /// The driver's text, on one line, with every secret replaced.
    pub text: String,
}

impl DriverError {
    /// Keeps the diagnostic of `error`, with each of `secrets` (3 characters or
    /// more) replaced by the redaction marker.
    pub fn redacted(error: &odbc_api::Error, secrets: &[&str]) -> DriverError {
        let (sqlstate, native_error) = match error {
            odbc_api::Error::Diagnostics { record, .. } => (
                Some(record.state.as_str().to_owned()).filter(|state| !state.is_empty()),
                Some(record.native_error),
            ),
            _ => (None, None),
        };
        DriverError {
            sqlstate,
            native_error,
            text: redact(&error.to_string().replace('\n', " "), secrets),
        }
    }
}

/// What auditfwd was doing when the driver failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Doing {
    /// Connecting (ODBC connect with the credentials).
    Connect,
    /// Reading which columns the SYSTOOLS audit journal functions have.
    DiscoverColumns,
    /// Reading the current user (the forwarder's own profile).
    CurrentUser,
    /// Reading `QSYS2.JOURNAL_RECEIVER_INFO`.
    ReceiverInfo,
    /// Reading `QSYS2.USER_INFO` (the privileged profiles).
    UserInfo,
    /// Reading journal entries from this receiver.
    Read(ReceiverId),
}

impl std::fmt::Display for Doing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Doing::Connect => f.write_str("connect"),
            Doing::DiscoverColumns => {
                f.write_str("read the columns of the SYSTOOLS audit journal functions")
            }
            Doing::CurrentUser => f.write_str("read the current user"),
            Doing::ReceiverInfo => f.write_str("read QSYS2.JOURNAL_RECEIVER_INFO"),
            Doing::UserInfo => f.write_str("read QSYS2.USER_INFO"),
            Doing::Read(receiver) => write!(f, "read receiver {receiver}"),
        }
    }
}

/// Transient or fatal, with the remedy, for `driver` failing while `doing` on `host`.
pub(crate) fn classify(doing: &Doing, host: &str, driver: DriverError) -> OdbcError {
    let state = driver.sqlstate.clone().unwrap_or_default();
    let detail = driver.text.clone();
    // psqlODBC reports a refused password as 08001 with the server's text;
    // the IBM i Access driver uses its CWBSY* security messages.
    let refused = matches!(state.as_str(), "28000" | "28P01")
        || [
            "password authentication failed",
            "CWBSY",
            "authentication failed",
        ]
        .iter()
        .any(|marker| detail.contains(marker));
    let fatal = |message: String| {
        OdbcError::Fatal(Failure {
            message,
            sqlstate: driver.sqlstate.clone(),
            driver: Some(driver.clone()),
        })
    };
    if refused {
        // Never retried: each attempt is a failed sign-on, and QMAXSIGN
        // (3 by default) would disable the profile.
        return fatal(format!(
            "cannot {doing} on {host}: the server rejected the user or password (SQLSTATE {state}); not retrying, since repeated failed sign-ons can disable the profile (QMAXSIGN). Check UID in source.odbc.connection_string and source.odbc.password / password_file, then start again. Driver said: {detail}"
        ));
    }
    match (state.as_str(), doing) {
        ("42501", _) => fatal(format!(
            "cannot {doing} on {host}: the profile lacks authority (SQLSTATE 42501). It needs *USE on QSYS/QAUDJRN and on every receiver, and *OBJEXIST on QAUDJRN; no special authority (see deploy/ibmi/). Driver said: {detail}"
        )),
        ("42883" | "42704", Doing::DiscoverColumns) => fatal(format!(
            "cannot {doing} on {host}: SYSTOOLS.AUDIT_JOURNAL_JS is not there (SQLSTATE {state}); it needs IBM i 7.3 or later with the Db2 PTF group. Driver said: {detail}"
        )),
        // The receiver was deleted between reading the chain and reading it:
        // read the chain again (where the deletion becomes an audit gap).
        ("42704", Doing::Read(_)) => OdbcError::Transient(Failure {
            message: format!(
                "cannot {doing} on {host}: it is gone (SQLSTATE 42704); reading the receiver chain again. Driver said: {detail}"
            ),
            sqlstate: driver.sqlstate.clone(),
            driver: Some(driver),
        }),
        // Db2 for i's query governor (SQL0666): with the IBM i Access driver the
        // statement's query timeout becomes the governor limit, which is compared
        // with the optimizer's estimate before the call runs. The same call would
        // be refused again on every retry, so this is a configuration error.
        ("57005", _) => fatal(format!(
            "cannot {doing} on {host}: the Db2 for i query governor refused the call before running it (SQLSTATE 57005, SQL0666: the optimizer's estimate exceeds the limit). With the IBM i Access ODBC driver, source.odbc.query_timeout is that governor limit, compared with the estimate, not a limit on the time a call runs; raise source.odbc.query_timeout (or the job's QQRYTIMLMT), then start again. Driver said: {detail}"
        )),
        // Syntax or access-rule errors in our own statement: retrying cannot help.
        (syntax, _) if syntax.starts_with("42") => fatal(format!(
            "cannot {doing} on {host}: the server rejected the statement (SQLSTATE {state}); is source.odbc.dialect right for this server? Driver said: {detail}"
        )),
        // unixODBC found the driver in odbcinst.ini but cannot load its library.
        (_, _) if detail.contains("Can't open lib") || detail.contains("file not found") && detail.contains("Driver Manager") => fatal(format!(
            "cannot {doing}: the ODBC driver library named in odbcinst.ini cannot be loaded (SQLSTATE {state}); is the driver package installed (ibm-iaccess, or odbc-postgresql for the lab)? Driver said: {detail}"
        )),
        // A date or time the server cannot represent: the same on every retry.
        ("22008" | "22007", _) => fatal(format!(
            "cannot {doing} on {host}: the server refused a date or time (SQLSTATE {state}); check source.odbc.start_at and the backfill range. Driver said: {detail}"
        )),
        ("IM002" | "IM003", _) => fatal(format!(
            "cannot {doing}: the ODBC driver named in source.odbc.connection_string is not installed or not registered in odbcinst.ini (SQLSTATE {state}). Driver said: {detail}"
        )),
        _ => OdbcError::Transient(Failure {
            message: format!(
                "cannot {doing} on {host} (SQLSTATE {}): {detail}",
                if state.is_empty() { "none" } else { &state }
            ),
            sqlstate: driver.sqlstate.clone(),
            driver: Some(driver),
        }),
    }
}

fn redact(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets {
        if secret.len() >= 3 {
            text = text.replace(secret, crate::config::Secret::REDACTED);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(state: &str, text: &str) -> DriverError {
        DriverError {
            sqlstate: Some(state.to_owned()).filter(|state| !state.is_empty()),
            native_error: Some(0),
            text: text.to_owned(),
        }
    }

    #[test]
    fn classification_by_table() {
        let read = Doing::Read(ReceiverId {
            library: "QGPL".into(),
            name: "AUDRCV0001".into(),
        });
        // (doing, SQLSTATE, driver text, transient?, phrase in the message)
        let cases = [
            (
                Doing::Connect,
                "08001",
                "FATAL: password authentication failed for user \"auditfwd\"",
                false,
                "QMAXSIGN",
            ),
            (
                Doing::Connect,
                "28000",
                "CWBSY0002 - Password for user AUDITFWD on system X is not correct",
                false,
                "rejected the user or password",
            ),
            (
                Doing::Connect,
                "08001",
                "could not connect to server: Connection refused",
                true,
                "SQLSTATE 08001",
            ),
            (
                Doing::Connect,
                "IM002",
                "Data source name not found",
                false,
                "odbcinst.ini",
            ),
            (
                Doing::DiscoverColumns,
                "42704",
                "AUDIT_JOURNAL_JS in SYSTOOLS type *N not found",
                false,
                "IBM i 7.3",
            ),
            (
                Doing::ReceiverInfo,
                "42501",
                "Not authorized to object QAUDJRN",
                false,
                "*OBJEXIST",
            ),
            (
                read.clone(),
                "42704",
                "AUDRCV0001 in QGPL type *JRNRCV not found.",
                true,
                "reading the receiver chain again",
            ),
            (
                read.clone(),
                "42601",
                "syntax error at or near FETCH",
                false,
                "source.odbc.dialect",
            ),
            (
                read.clone(),
                "HYT00",
                "Query timeout expired",
                true,
                "read receiver QGPL/AUDRCV0001",
            ),
            (
                Doing::Connect,
                "01000",
                "[unixODBC][Driver Manager]Can't open lib '/opt/ibm/iaccess/lib64/libcwbodbc.so' : file not found",
                false,
                "driver library",
            ),
            (
                read.clone(),
                "22008",
                "date/time field value out of range: \"0000-01-01 00:00:00\"",
                false,
                "backfill range",
            ),
            (
                read.clone(),
                "57005",
                "SQL0666 Estimated query processing time 75 exceeds limit 60.",
                false,
                "source.odbc.query_timeout",
            ),
            (read, "", "connection lost", true, "SQLSTATE none"),
        ];
        for (doing, state, text, transient, phrase) in cases {
            let error = classify(&doing, "ibmi.example.com", driver(state, text));
            assert_eq!(error.is_transient(), transient, "{doing} {state}: {error}");
            assert!(
                error.to_string().contains(phrase),
                "{doing} {state}: {error}"
            );
            assert!(
                error.to_string().contains(text),
                "the driver's words are kept: {error}"
            );
            let failure = error.failure();
            assert_eq!(
                failure.sqlstate.as_deref(),
                Some(state).filter(|state| !state.is_empty())
            );
            assert_eq!(
                std::error::Error::source(failure).map(ToString::to_string),
                Some(text.to_owned()),
                "the driver error is the cause"
            );
        }
    }

    #[test]
    fn secrets_are_redacted_but_short_ones_left_alone() {
        assert_eq!(
            redact("login s3cret failed for s3cret, pw x", &["s3cret", "x"]),
            format!(
                "login {0} failed for {0}, pw x",
                crate::config::Secret::REDACTED
            )
        );
    }
}
