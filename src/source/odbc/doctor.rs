//! `auditfwd doctor`: a read-only check of a live IBM i, the first command an
//! administrator runs. Each check is one statement (listed with it, so it can
//! be run by hand) and a verdict: passed, failed (with the remedy) or unknown.
//!
//! The verdicts are pure functions of what the statements return, tested
//! without a connection; [`OdbcSource::doctor`] runs the statements.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{Offset, TimeZone, Utc};
use odbc_api::{Connection, ConnectionOptions};
use serde::Serialize;

use super::chain::ReceiverInfo;
use super::classify::DriverError;
use super::session::{catalog_columns, environment, query_rows};
use super::sql::{self, Query, SqlFilter};
use super::OdbcSource;
use crate::event::audit::TypeSpec;

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    /// Could not be decided (a view this release lacks, no activity to see).
    Unknown,
}

impl Status {
    pub fn mark(self) -> char {
        match self {
            Status::Passed => '✔',
            Status::Failed => '✗',
            Status::Unknown => '?',
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// Stable name, e.g. `function.PW`, `audit_level.JS`.
    pub name: String,
    pub status: Status,
    /// A failed required check makes `doctor` exit 78.
    pub required: bool,
    pub detail: String,
    /// What to do about a failure (a command, a PTF group, a setting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// The statement behind the check, to run by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

impl Check {
    fn new(
        name: impl Into<String>,
        status: Status,
        required: bool,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            name: name.into(),
            status,
            required,
            detail: detail.into(),
            remedy: None,
            sql: None,
        }
    }

    fn remedy(mut self, remedy: impl Into<String>) -> Check {
        if self.status == Status::Failed {
            self.remedy = Some(remedy.into());
        }
        self
    }

    fn sql(mut self, sql: impl Into<String>) -> Check {
        self.sql = Some(sql.into());
        self
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub host: String,
    /// Every required check passed.
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    fn new(host: &str, checks: Vec<Check>) -> Report {
        Report {
            host: host.to_owned(),
            ok: checks
                .iter()
                .all(|check| !check.required || check.status == Status::Passed),
            checks,
        }
    }

    /// One line per check, a remedy line under each failure. Values read from
    /// the system (system values, receiver names, driver text) cannot add a
    /// line: control characters are shown as spaces.
    pub fn text(&self) -> String {
        let line = |text: &str| -> String {
            text.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect()
        };
        let mut out = format!("auditfwd doctor: {}\n", self.host);
        for check in &self.checks {
            out.push_str(&format!(
                "{} {}: {}{}\n",
                check.status.mark(),
                check.name,
                line(&check.detail),
                if check.required || check.status == Status::Passed {
                    ""
                } else {
                    " (not required)"
                }
            ));
            if let Some(remedy) = &check.remedy {
                out.push_str(&format!("    remedy: {}\n", line(remedy)));
            }
        }
        let failed = self
            .checks
            .iter()
            .filter(|check| check.required && check.status == Status::Failed)
            .count();
        out.push_str(&if failed == 0 {
            "every required check passed\n".to_owned()
        } else {
            format!("{failed} required check(s) failed\n")
        });
        out
    }
}

/// How `doctor` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Pause between the two reads of the attached receiver's last sequence.
    pub interval: Duration,
    /// The receiver the checkpoint is in, when one could be read: freed
    /// receivers before it no longer matter.
    pub checkpoint_receiver: Option<super::chain::ReceiverId>,
}

/// The QAUDLVL / QAUDLVL2 values that write each type's entries: any one will do.
pub fn levels_for(spec: &TypeSpec) -> &'static [&'static str] {
    match spec.code {
        // The profile swaps M and T come from *JOBCHGUSR; *JOBDTA includes it.
        "JS" => &["*JOBCHGUSR", "*JOBDTA"],
        "PW" | "AF" => &["*AUTFAIL"],
        "CP" | "SV" | "GR" | "AD" | "PA" => &["*SECCFG", "*SECURITY"],
        "CA" | "OW" => &["*SECRUN", "*SECURITY"],
        "PS" => &["*SECVFY", "*SECURITY"],
        _ => &[],
    }
}

/// The audit levels in effect: QAUDLVL, plus QAUDLVL2 when QAUDLVL names *AUDLVL2.
pub fn levels_in_effect(qaudlvl: &str, qaudlvl2: Option<&str>) -> BTreeSet<String> {
    let words = |text: &str| -> Vec<String> {
        text.split_whitespace()
            .map(|word| word.to_ascii_uppercase())
            .collect()
    };
    let mut levels: BTreeSet<String> = words(qaudlvl).into_iter().collect();
    if levels.contains("*AUDLVL2") {
        levels.extend(words(qaudlvl2.unwrap_or("")));
    }
    levels
}

/// Whether QAUDCTL turns on the action auditing that QAUDLVL describes.
pub fn audit_control_check(qaudctl: Option<&str>) -> Check {
    let sql = system_value_sql();
    match qaudctl {
        None => Check::new(
            "audit_control",
            Status::Unknown,
            true,
            "QAUDCTL could not be read",
        )
        .sql(sql),
        Some(value) => {
            let on = value
                .split_whitespace()
                .any(|word| word.eq_ignore_ascii_case("*AUDLVL"));
            Check::new(
                "audit_control",
                if on { Status::Passed } else { Status::Failed },
                true,
                format!("QAUDCTL is {value:?}"),
            )
            .remedy("QAUDCTL must include *AUDLVL, or the system writes no action auditing: CHGSECAUD QAUDCTL(*AUDLVL) (or CHGSYSVAL QAUDCTL('*AUDLVL *OBJAUD *NOQTEMP'))")
            .sql(sql)
        }
    }
}

/// One check per configured type: is a level that writes it in effect.
pub fn audit_level_checks(
    types: &[&'static TypeSpec],
    qaudlvl: Option<&str>,
    qaudlvl2: Option<&str>,
) -> Vec<Check> {
    types
        .iter()
        .map(|spec| {
            let name = format!("audit_level.{}", spec.code);
            let Some(qaudlvl) = qaudlvl else {
                return Check::new(name, Status::Unknown, true, "QAUDLVL could not be read")
                    .sql(system_value_sql());
            };
            let levels = levels_in_effect(qaudlvl, qaudlvl2);
            let needed = levels_for(spec);
            let found = needed.iter().find(|level| levels.contains(**level));
            let mut check = match found {
                Some(level) => Check::new(
                    name,
                    Status::Passed,
                    true,
                    format!("{} entries are written ({level} is in effect)", spec.code),
                ),
                None => Check::new(
                    name,
                    Status::Failed,
                    true,
                    format!(
                        "no {} entries are written: QAUDLVL/QAUDLVL2 lack {}",
                        spec.code,
                        needed.join(" or ")
                    ),
                )
                .remedy(format!(
                    "CHGSECAUD QAUDCTL(*AUDLVL) QAUDLVL({}) adds it to what is set",
                    needed[0]
                )),
            };
            // JS with *JOBBAS alone: starts and ends, but no profile swaps.
            if spec.is_js() && found.is_none() && levels.contains("*JOBBAS") {
                check.detail = "*JOBBAS writes job starts and ends but not the profile swaps (JS M and T) that attribute host-server sessions: *JOBCHGUSR (or *JOBDTA) is missing".into();
            }
            check.sql(system_value_sql())
        })
        .collect()
}

/// `QUTCOFFSET` (e.g. `+0100`) as seconds east of UTC.
pub fn parse_utc_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => (1, text),
    };
    if digits.len() != 4 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Whether `source.odbc.timezone` gives the IBM i's current UTC offset.
pub fn timezone_check(configured: &str, qutcoffset: Option<&str>, qtimzon: Option<&str>) -> Check {
    let name = "timezone";
    let sql = system_value_sql();
    let zone_text = qtimzon
        .map(|zone| format!(" (QTIMZON {zone})"))
        .unwrap_or_default();
    let Some(offset) = qutcoffset.and_then(parse_utc_offset) else {
        return Check::new(name, Status::Unknown, true, "QUTCOFFSET could not be read").sql(sql);
    };
    if configured == "server" {
        return Check::new(
            name,
            if offset == 0 { Status::Passed } else { Status::Failed },
            true,
            format!("source.odbc.timezone = \"server\" reads local times as UTC; the IBM i is at UTC{}{zone_text}", qutcoffset.unwrap_or("")),
        )
        .remedy("set source.odbc.timezone to the IANA zone of the IBM i (e.g. \"Europe/Rome\")")
        .sql(sql);
    }
    let Ok(zone) = configured.parse::<chrono_tz::Tz>() else {
        return Check::new(
            name,
            Status::Failed,
            true,
            format!("{configured:?} is not an IANA zone"),
        )
        .remedy("set source.odbc.timezone to the IANA zone of the IBM i (e.g. \"Europe/Rome\")");
    };
    let ours = zone
        .offset_from_utc_datetime(&Utc::now().naive_utc())
        .fix()
        .local_minus_utc();
    let matches = ours == offset;
    Check::new(
        name,
        if matches { Status::Passed } else { Status::Failed },
        true,
        format!(
            "source.odbc.timezone {configured} is UTC{}, the IBM i is UTC{}{zone_text}",
            format_offset(ours),
            format_offset(offset)
        ),
    )
    .remedy("set source.odbc.timezone to the IANA zone the IBM i's QTIMZON describes; every UTC timestamp is wrong by the difference until then")
    .sql(sql)
}

fn format_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    format!("{sign}{:02}{:02}", seconds / 3600, seconds / 60 % 60)
}

/// Freed receivers the reader still has to pass (at or after the checkpoint's
/// receiver; every one without a checkpoint).
pub fn receivers_check(
    receivers: &[ReceiverInfo],
    checkpoint: Option<&super::chain::ReceiverId>,
) -> Check {
    let from = checkpoint
        .and_then(|id| super::chain::find(receivers, id))
        .unwrap_or(0);
    let unreadable: Vec<String> = receivers[from..]
        .iter()
        .filter_map(|info| {
            info.unreadable.as_ref().map(|status| {
                let range = match (info.first_sequence, info.last_sequence) {
                    (Some(first), Some(last)) => format!(", sequences {first}-{last}"),
                    _ => String::new(),
                };
                format!("{} ({status}{range})", info.id)
            })
        })
        .collect();
    let earlier = receivers[..from]
        .iter()
        .filter(|info| info.unreadable.is_some())
        .count();
    let mut detail = format!(
        "{} receivers of QSYS/QAUDJRN, {} that cannot be read in the range still to read",
        receivers.len(),
        unreadable.len()
    );
    if !unreadable.is_empty() {
        detail.push_str(&format!(": {}", unreadable.join(", ")));
    }
    if earlier > 0 {
        detail.push_str(&format!(
            "; {earlier} older freed receiver(s) lie before the checkpoint and do not matter"
        ));
    }
    Check::new(
        "receivers_readable",
        if unreadable.is_empty() { Status::Passed } else { Status::Failed },
        true,
        detail,
    )
    .remedy("a receiver saved with its storage freed (SAVRCV STG(*FREE)) cannot be read: restore it (RSTOBJ OBJTYPE(*JRNRCV)) before auditfwd reaches it, or accept that its entries become one audit_gap event")
    .sql(sql::receivers().text)
}

fn shown(sequence: Option<u64>) -> String {
    sequence.map_or_else(|| "null".into(), |sequence| sequence.to_string())
}

fn system_value_sql() -> String {
    "SELECT \"SYSTEM_VALUE_NAME\", \"CURRENT_NUMERIC_VALUE\", \"CURRENT_CHARACTER_VALUE\" FROM QSYS2.SYSTEM_VALUE_INFO WHERE \"SYSTEM_VALUE_NAME\" IN ('QAUDCTL', 'QAUDLVL', 'QAUDLVL2', 'QTIMZON', 'QUTCOFFSET', 'QQRYTIMLMT')".into()
}

/// The Db2 for i PTF groups installed (7.3 SF99703, 7.4 SF99704, 7.5 SF99950, 7.6 SF99960).
fn ptf_sql() -> String {
    "SELECT \"PTF_GROUP_NAME\", \"PTF_GROUP_LEVEL\", \"PTF_GROUP_STATUS\" FROM QSYS2.GROUP_PTF_INFO WHERE \"PTF_GROUP_NAME\" IN ('SF99703', 'SF99704', 'SF99950', 'SF99960') ORDER BY \"PTF_GROUP_LEVEL\" DESC".into()
}

/// The function and column checks of one configured type, from the catalog's
/// columns of every SYSTOOLS audit journal function (`None`: unreadable).
pub fn function_checks(
    spec: &'static TypeSpec,
    optional: bool,
    catalog: Option<&HashMap<String, Vec<String>>>,
) -> Vec<Check> {
    let sql = sql::routine_columns().text;
    let name = format!("function.{}", spec.code);
    let Some(catalog) = catalog else {
        return vec![Check::new(
            name,
            Status::Unknown,
            !optional,
            "QSYS2.SYSROUTINES / SYSPARMS could not be read",
        )
        .sql(sql)];
    };
    let Some(columns) = catalog.get(spec.function) else {
        return vec![Check::new(
            name,
            Status::Failed,
            !optional,
            format!("SYSTOOLS.{} ({} {}) is not on the system", spec.function, spec.code, spec.name),
        )
        .remedy(format!(
            "apply the Db2 for i PTF group that brings it: {}; or remove {} from source.audit_types (or list it in source.optional_audit_types)",
            spec.since, spec.code
        ))
        .sql(sql)];
    };
    let present: BTreeSet<&str> = columns.iter().map(String::as_str).collect();
    let (required, wanted): (Vec<&str>, Vec<&str>) = if spec.is_js() {
        (
            sql::REQUIRED_COLUMNS.to_vec(),
            sql::OPTIONAL_COLUMNS.to_vec(),
        )
    } else {
        (
            sql::COMMON_REQUIRED_COLUMNS.to_vec(),
            sql::COMMON_OPTIONAL_COLUMNS
                .iter()
                .copied()
                .chain(spec.columns.iter().map(|column| column.name))
                .collect(),
        )
    };
    let missing_required: Vec<&str> = required
        .iter()
        .copied()
        .filter(|column| !present.contains(column))
        .collect();
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|column| !present.contains(column))
        .collect();
    let function = Check::new(
        name,
        Status::Passed,
        !optional,
        format!(
            "SYSTOOLS.{} is there ({} columns)",
            spec.function,
            columns.len()
        ),
    )
    .sql(sql.clone());
    let columns_check = if !missing_required.is_empty() {
        Check::new(
            format!("columns.{}", spec.code),
            Status::Failed,
            !optional,
            format!(
                "SYSTOOLS.{} lacks {}, without which no row can be read",
                spec.function,
                missing_required.join(", ")
            ),
        )
        .remedy(format!(
            "apply the latest Db2 for i PTF group ({})",
            spec.since
        ))
    } else if !missing.is_empty() {
        Check::new(
            format!("columns.{}", spec.code),
            Status::Failed,
            false,
            format!(
                "SYSTOOLS.{} lacks {} of the {} columns auditfwd reads: {} (read as null)",
                spec.function,
                missing.len(),
                wanted.len() + required.len(),
                missing.join(", ")
            ),
        )
        .remedy("apply the latest Db2 for i PTF group; until then these fields are null")
    } else {
        Check::new(
            format!("columns.{}", spec.code),
            Status::Passed,
            !optional,
            format!(
                "every column auditfwd reads from SYSTOOLS.{} is there",
                spec.function
            ),
        )
    };
    vec![function, columns_check.sql(sql)]
}

/// The value of `name` among system-value rows (name, numeric, character).
fn system_value<'a>(rows: &'a [Vec<Option<String>>], name: &str) -> Option<&'a str> {
    rows.iter()
        .find(|row| row.first().and_then(|value| value.as_deref()) == Some(name))
        .and_then(|row| {
            row.get(2)
                .and_then(|value| value.as_deref())
                .or_else(|| row.get(1).and_then(|value| value.as_deref()))
        })
}

/// Receiver rows of `sql::receivers()` as the reader reads them.
fn receiver_infos(rows: &[Vec<Option<String>>]) -> Vec<ReceiverInfo> {
    rows.iter()
        .filter_map(|row| {
            super::receiver_of_row(|index| {
                row.get(index)
                    .cloned()
                    .flatten()
                    .filter(|value| !value.is_empty())
            })
        })
        .collect()
}

impl OdbcSource {
    /// Runs every check against the system; never writes anything.
    pub fn doctor(&self, options: &Options) -> Report {
        let mut checks = Vec::new();
        let (text, secrets) = self.connection_text();
        let timeout = Some(self.config.query_timeout.as_secs().max(1) as usize);
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let redact = |error: &odbc_api::Error| DriverError::redacted(error, &secrets).to_string();
        let connection = match environment().map_err(|error| error.to_string()).and_then(
            |environment| {
                environment
                    .connect_with_connection_string(
                        &text,
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
                    Check::new("connection", Status::Failed, true, format!("cannot connect to {}: {error}", self.host))
                        .remedy("check source.odbc.connection_string (Driver, System, UID) and the password; the driver must be registered in odbcinst.ini (odbcinst -q -d)"),
                );
                return Report::new(&self.host, checks);
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
                self.host, self.config.dialect
            ),
        ));
        let run =
            |query: &Query| query_rows(&connection, query, timeout).map_err(|error| redact(&error));
        let plain = |text: String| Query {
            text,
            params: Vec::new(),
        };

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

        // The Db2 PTF group.
        checks.push(match run(&plain(ptf_sql())) {
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
        .sql(ptf_sql()));

        // The audit settings and the clock.
        match run(&plain(system_value_sql())) {
            Ok(rows) => {
                checks.push(audit_control_check(system_value(&rows, "QAUDCTL")));
                checks.extend(audit_level_checks(
                    &all_types,
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

        // The receivers: authority, readability, and a real read.
        let receivers = match run(&sql::receivers()) {
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
        };
        if let Some(check) = self.read_check(&connection, &receivers, &all_types, timeout, &redact)
        {
            checks.push(check);
        }
        if let Some(check) =
            self.movement_check(&connection, &receivers, options.interval, timeout, &redact)
        {
            checks.push(check);
        }
        Report::new(&self.host, checks)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::audit::catalog;

    #[test]
    fn audit_levels_by_type() {
        let types: Vec<&'static TypeSpec> =
            vec![&catalog::JS, &catalog::PW, &catalog::CA, &catalog::PS];
        let checks = audit_level_checks(&types, Some("*AUTFAIL *JOBBAS *SECURITY"), None);
        let status: Vec<(&str, Status)> = checks
            .iter()
            .map(|check| (check.name.as_str(), check.status))
            .collect();
        assert_eq!(
            status,
            vec![
                ("audit_level.JS", Status::Failed),
                ("audit_level.PW", Status::Passed),
                ("audit_level.CA", Status::Passed),
                ("audit_level.PS", Status::Passed),
            ]
        );
        assert!(
            checks[0].detail.contains("*JOBCHGUSR"),
            "{}",
            checks[0].detail
        );
        assert!(checks[0].remedy.as_deref().unwrap().contains("CHGSECAUD"));
        // QAUDLVL2 counts only when QAUDLVL says *AUDLVL2.
        let js = [&catalog::JS as &'static TypeSpec];
        assert_eq!(
            audit_level_checks(&js, Some("*AUDLVL2"), Some("*JOBDTA"))[0].status,
            Status::Passed
        );
        assert_eq!(
            audit_level_checks(&js, Some("*AUTFAIL"), Some("*JOBDTA"))[0].status,
            Status::Failed
        );
        assert_eq!(
            audit_level_checks(&js, None, None)[0].status,
            Status::Unknown
        );
        assert_eq!(
            audit_control_check(Some("*AUDLVL *OBJAUD")).status,
            Status::Passed
        );
        assert_eq!(audit_control_check(Some("*NONE")).status, Status::Failed);
    }

    #[test]
    fn utc_offsets_and_the_time_zone() {
        assert_eq!(parse_utc_offset("+0100"), Some(3600));
        assert_eq!(parse_utc_offset("-0530"), Some(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_utc_offset("0000"), Some(0));
        assert_eq!(parse_utc_offset("+1"), None);
        assert_eq!(
            timezone_check("UTC", Some("+0000"), None).status,
            Status::Passed
        );
        assert_eq!(
            timezone_check("UTC", Some("+0100"), None).status,
            Status::Failed
        );
        assert_eq!(
            timezone_check("Asia/Kolkata", Some("+0530"), None).status,
            Status::Passed
        );
        assert_eq!(timezone_check("UTC", None, None).status, Status::Unknown);
        assert_eq!(
            timezone_check("server", Some("+0200"), None).status,
            Status::Failed
        );
    }

    #[test]
    fn missing_functions_and_columns() {
        let mut catalog_rows: HashMap<String, Vec<String>> = HashMap::new();
        let mut ow: Vec<String> = sql::COMMON_REQUIRED_COLUMNS
            .iter()
            .map(|name| name.to_string())
            .collect();
        ow.extend(
            sql::COMMON_OPTIONAL_COLUMNS
                .iter()
                .map(|name| name.to_string()),
        );
        ow.extend(
            catalog::OW
                .columns
                .iter()
                .map(|column| column.name.to_string()),
        );
        catalog_rows.insert("AUDIT_JOURNAL_OW".into(), ow.clone());
        let healthy = function_checks(&catalog::OW, false, Some(&catalog_rows));
        assert!(
            healthy.iter().all(|check| check.status == Status::Passed),
            "{healthy:?}"
        );
        ow.retain(|name| name != "NEW_OWNER");
        catalog_rows.insert("AUDIT_JOURNAL_OW".into(), ow);
        let lacking = function_checks(&catalog::OW, false, Some(&catalog_rows));
        assert_eq!(lacking[1].status, Status::Failed);
        assert!(
            lacking[1].detail.contains("NEW_OWNER"),
            "{}",
            lacking[1].detail
        );
        let missing = function_checks(&catalog::PW, false, Some(&catalog_rows));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].status, Status::Failed);
        assert!(missing[0].required);
        assert!(!function_checks(&catalog::PW, true, Some(&catalog_rows))[0].required);
    }

    #[test]
    fn a_value_from_the_system_cannot_add_a_line_to_the_report() {
        let report = Report::new(
            "host",
            vec![Check::new(
                "receivers_readable",
                Status::Failed,
                true,
                "receiver QGPL/R1\n✔ forged: line",
            )
            .remedy("restore\rit")],
        );
        let text = report.text();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.contains("R1 ✔ forged") && text.contains("restore it"),
            "{text}"
        );
    }
}
