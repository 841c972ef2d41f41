//! Runs the doctor's statements on a connection of its own; the verdicts
//! are the pure functions of the parent module.

use odbc_api::{Connection, ConnectionOptions};

use super::super::chain::ReceiverInfo;
use super::super::classify::DriverError;
use super::super::fetch::{catalog_columns, query_rows};
use super::super::session::environment;
use super::super::sql::{self, Query, SqlFilter};
use super::super::OdbcSource;
use super::*;

/// Runs one statement: its rows, or the driver's error, redacted.
type Run<'a> = dyn Fn(&Query) -> Result<Vec<Vec<Option<String>>>, String> + 'a;

fn plain(text: String) -> Query {
    Query {
        text,
        params: Vec::new(),
    }
}

impl OdbcSource {
    /// Runs every check against the system; never writes anything.
    pub fn doctor(&self, options: &Options) -> Report {
        let mut checks = Vec::new();
        let text = self.connection.text.expose();
        let timeout = Some(self.config.query_timeout.as_secs().max(1) as usize);
        let secrets = self.secrets();
        let redact = |error: &odbc_api::Error| DriverError::redacted(error, &secrets).to_string();
        let Some(connection) = self.connect_check(text, &redact, &mut checks) else {
            return Report::new(&self.connection.host, checks);
        };
        let run =
            |query: &Query| query_rows(&connection, query, timeout).map_err(|error| redact(&error));

        // The functions and their columns, from the catalog views.
        // The same statement and reading the reader's connect uses.
        let catalog = catalog_columns(&connection, timeout).map_err(|error| redact(&error));
        if let Err(error) = &catalog {
            tracing::warn!("QSYS2.SYSPARMS: {error}");
        }
        let mut all_types: Vec<&'static TypeSpec> = Vec::new();
        if self.read_js {
            all_types.push(&crate::event::audit::catalog::JS);
        }
        all_types.extend(self.types.iter().copied());
        for spec in &all_types {
            checks.extend(function_checks(
                spec,
                self.optional.contains(spec),
                catalog.as_ref().ok(),
            ));
        }
        checks.push(ptf_check(&run));
        self.system_value_checks(&run, &all_types, &mut checks);
        // The receivers: authority, readability, and a real read.
        let receivers = receivers_checks(&run, options, &mut checks);
        if let Some(check) = self.read_check(&connection, &receivers, &all_types, timeout, &redact)
        {
            checks.push(check);
        }
        if let Some(check) =
            self.movement_check(&connection, &receivers, options.interval, timeout, &redact)
        {
            checks.push(check);
        }
        Report::new(&self.connection.host, checks)
    }

    /// Connects with the source's connection string: the connection and a
    /// passed check, or `None` and a failed one.
    fn connect_check(
        &self,
        text: &str,
        redact: &dyn Fn(&odbc_api::Error) -> String,
        checks: &mut Vec<Check>,
    ) -> Option<Connection<'static>> {
        let connection = match environment().map_err(|error| error.to_string()).and_then(
            |environment| {
                environment
                    .connect_with_connection_string(
                        text,
                        ConnectionOptions {
                            login_timeout_sec: Some(30),
                            ..ConnectionOptions::default()
                        },
                    )
                    .map_err(|error| redact(&error))
            },
        ) {
            Ok(connection) => connection,
            Err(error) => {
                checks.push(
                    Check::new("connection", Status::Failed, true, format!("cannot connect to {}: {error}", self.connection.host))
                        .remedy("check source.odbc.connection_string (Driver, System, UID) and the password; the driver must be registered in odbcinst.ini (odbcinst -q -d)"),
                );
                return None;
            }
        };
        let dbms = connection
            .database_management_system_name()
            .unwrap_or_else(|_| "unknown".into());
        checks.push(Check::new(
            "connection",
            Status::Passed,
            true,
            format!(
                "connected to {} ({dbms}, dialect {:?})",
                self.connection.host, self.config.dialect
            ),
        ));
        Some(connection)
    }

    /// The audit settings and the clock, from the system values.
    fn system_value_checks(
        &self,
        run: &Run<'_>,
        types: &[&'static TypeSpec],
        checks: &mut Vec<Check>,
    ) {
        match run(&plain(system_value_sql())) {
            Ok(rows) => {
                checks.push(audit_control_check(system_value(&rows, "QAUDCTL")));
                checks.extend(audit_level_checks(
                    types,
                    system_value(&rows, "QAUDLVL"),
                    system_value(&rows, "QAUDLVL2"),
                ));
                checks.push(timezone_check(
                    &self.config.timezone,
                    system_value(&rows, "QUTCOFFSET"),
                    system_value(&rows, "QTIMZON"),
                ));
                checks.push(
                    Check::new(
                        "query_governor",
                        Status::Passed,
                        false,
                        format!(
                            "source.odbc.query_timeout = {} becomes the Db2 for i query governor limit for auditfwd's statements (QQRYTIMLMT is {}): a call whose optimizer estimate exceeds it is refused before it runs (SQL0666, SQLSTATE 57005; auditfwd stops with exit 78); a running call is never interrupted",
                            humantime::format_duration(self.config.query_timeout),
                            system_value(&rows, "QQRYTIMLMT").unwrap_or("unknown")
                        ),
                    )
                    .sql(system_value_sql()),
                );
            }
            Err(error) => checks.push(
                Check::new("audit_control", Status::Failed, true, format!("QSYS2.SYSTEM_VALUE_INFO could not be read: {error}"))
                    .remedy("the profile needs *USE on QSYS2.SYSTEM_VALUE_INFO (public by default); or run the statement by hand as a security officer")
                    .sql(system_value_sql()),
            ),
        }
    }

    /// A sequence-only read of the oldest readable receiver that has entries:
    /// it must return entries (were a time default applied to sequence-only
    /// calls, old receivers would read as empty), and it needs the authority
    /// the reader needs.
    fn read_check(
        &self,
        connection: &Connection<'_>,
        receivers: &[ReceiverInfo],
        types: &[&'static TypeSpec],
        timeout: Option<usize>,
        redact: &dyn Fn(&odbc_api::Error) -> String,
    ) -> Option<Check> {
        let spec = types.first()?;
        let oldest = receivers.iter().find(|info| {
            info.unreadable.is_none()
                && matches!((info.first_sequence, info.last_sequence), (Some(first), Some(last)) if last >= first)
        })?;
        let first = oldest.first_sequence?;
        let last = oldest.last_sequence?.min(first.saturating_add(999));
        let columns: Vec<String> = if spec.is_js() {
            sql::REQUIRED_COLUMNS
                .iter()
                .map(|name| name.to_string())
                .collect()
        } else {
            sql::COMMON_REQUIRED_COLUMNS
                .iter()
                .map(|name| name.to_string())
                .collect()
        };
        let query = sql::read_window(
            spec.function,
            self.config.dialect,
            &columns,
            &oldest.id.library,
            &oldest.id.name,
            first,
            last,
            &SqlFilter::default(),
        );
        let shown = format!(
            "{} with STARTING_RECEIVER_NAME => '{}', STARTING_SEQUENCE => {first}, ENDING_SEQUENCE => {last}",
            query.text, oldest.id
        );
        let name = "journal_read";
        Some(match query_rows(connection, &query, timeout) {
            Ok(rows) if !rows.is_empty() => Check::new(
                name,
                Status::Passed,
                true,
                format!(
                    "a sequence-only read of the oldest receiver {} (sequences {first}-{last}) returned {} {} entries: no time default hides old receivers",
                    oldest.id,
                    rows.len(),
                    spec.code
                ),
            ),
            Ok(_) => Check::new(
                name,
                Status::Unknown,
                true,
                format!(
                    "a sequence-only read of the oldest receiver {} (sequences {first}-{last}) returned no {} entry: either there is none in that range, or the function applies a default STARTING_TIMESTAMP to sequence-only calls (then old receivers read as empty)",
                    oldest.id, spec.code
                ),
            ),
            Err(error) => {
                let error = redact(&error);
                Check::new(name, Status::Failed, true, format!("cannot read receiver {}: {error}", oldest.id))
                    .remedy("the profile needs *USE on QSYS/QAUDJRN and on every receiver, and *OBJEXIST on QAUDJRN (deploy/ibmi); SQLSTATE 57005 means source.odbc.query_timeout is below the optimizer's estimate")
            }
        }
        .sql(shown))
    }

    /// The attached receiver's LAST_SEQUENCE_NUMBER, read twice `interval`
    /// apart: if it moves, the view is current and the reader sees new entries
    /// without waiting for a receiver change.
    fn movement_check(
        &self,
        connection: &Connection<'_>,
        receivers: &[ReceiverInfo],
        interval: Duration,
        timeout: Option<usize>,
        redact: &dyn Fn(&odbc_api::Error) -> String,
    ) -> Option<Check> {
        let attached = receivers.iter().find(|info| info.attached)?;
        let before = attached.last_sequence;
        std::thread::sleep(interval);
        let name = "attached_receiver_moves";
        let after = match query_rows(connection, &sql::receivers(), timeout) {
            Ok(rows) => receiver_infos(&rows)
                .into_iter()
                .find(|info| info.id == attached.id)
                .and_then(|info| info.last_sequence),
            Err(error) => {
                return Some(Check::new(
                    name,
                    Status::Unknown,
                    false,
                    format!("second read failed: {}", redact(&error)),
                ));
            }
        };
        Some(
            match (before, after) {
                (Some(before), Some(after)) if after > before => Check::new(
                    name,
                    Status::Passed,
                    false,
                    format!("LAST_SEQUENCE_NUMBER of {} moved from {before} to {after} in {}", attached.id, humantime::format_duration(interval)),
                ),
                (before, after) => Check::new(
                    name,
                    Status::Unknown,
                    false,
                    format!(
                        "LAST_SEQUENCE_NUMBER of {} did not move in {} ({} then {}): no audited activity, or the view is not current for the attached receiver; run again with a longer --interval while someone signs on",
                        attached.id,
                        humantime::format_duration(interval),
                        shown(before),
                        shown(after)
                    ),
                ),
            }
            .sql(sql::receivers().text),
        )
    }
}

/// The Db2 PTF group.
fn ptf_check(run: &Run<'_>) -> Check {
    match run(&plain(ptf_sql())) {
        Ok(rows) => {
            let installed: Vec<String> = rows
                .iter()
                .filter(|row| row.get(2).cloned().flatten().is_some_and(|status| status.eq_ignore_ascii_case("INSTALLED")))
                .filter_map(|row| Some(format!("{} level {}", row.first()?.as_deref()?, row.get(1)?.as_deref()?)))
                .collect();
            match installed.first() {
                Some(group) => Check::new("ptf_group", Status::Passed, false, format!("Db2 for i PTF group {group} installed")),
                None => Check::new("ptf_group", Status::Unknown, false, "no Db2 for i PTF group (SF99703/SF99704/SF99950/SF99960) is listed as INSTALLED"),
            }
        }
        Err(error) => Check::new("ptf_group", Status::Unknown, false, format!("QSYS2.GROUP_PTF_INFO could not be read: {error}")),
    }
    .sql(ptf_sql())
}

/// The receivers: listed, with the authority to see them; the list read.
fn receivers_checks(
    run: &Run<'_>,
    options: &Options,
    checks: &mut Vec<Check>,
) -> Vec<ReceiverInfo> {
    match run(&sql::receivers()) {
        Ok(rows) => {
            let receivers = receiver_infos(&rows);
            if receivers.is_empty() {
                checks.push(
                    Check::new("receivers", Status::Failed, true, "QSYS2.JOURNAL_RECEIVER_INFO shows no receiver of QSYS/QAUDJRN")
                        .remedy("set up auditing (CHGSECAUD creates QAUDJRN), and give the profile *USE on QSYS/QAUDJRN and its receivers (deploy/ibmi)")
                        .sql(sql::receivers().text),
                );
            } else {
                checks.push(receivers_check(
                    &receivers,
                    options.checkpoint_receiver.as_ref(),
                ));
            }
            receivers
        }
        Err(error) => {
            checks.push(
                Check::new("receivers", Status::Failed, true, format!("QSYS2.JOURNAL_RECEIVER_INFO could not be read: {error}"))
                    .remedy("GRTOBJAUT OBJ(QSYS/QAUDJRN) OBJTYPE(*JRN) USER(<profile>) AUT(*USE), and *USE on every receiver (deploy/ibmi)")
                    .sql(sql::receivers().text),
            );
            Vec::new()
        }
    }
}
