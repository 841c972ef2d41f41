//! `auditfwd doctor`: a read-only check of a live IBM i, the first command an
//! administrator runs. Each check is one statement (listed with it, so it can
//! be run by hand) and a verdict: passed, failed (with the remedy) or unknown.
//!
//! The verdicts are pure functions of what the statements return, tested
//! without a connection; [`OdbcSource::doctor`] runs the statements.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{Offset, TimeZone, Utc};
use serde::Serialize;

use super::chain::ReceiverInfo;
use super::sql;
use crate::event::audit::TypeSpec;

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The system meets the requirement.
    Passed,
    /// It does not: see the check's `remedy`.
    Failed,
    /// Could not be decided (a view this release lacks, no activity to see).
    Unknown,
}

impl Status {
    /// The mark printed before the check's line: ✔, ✗ or ?.
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
    /// What the check found.
    pub status: Status,
    /// A failed required check makes `doctor` exit 78.
    pub required: bool,
    /// What was seen, in a sentence (a level, a count, the driver's error).
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
    /// The host the checks ran against (from the connection string).
    pub host: String,
    /// Every required check passed.
    pub ok: bool,
    /// Every check, in the order run.
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
            super::chain::receiver_of_row(|index| {
                row.get(index)
                    .cloned()
                    .flatten()
                    .filter(|value| !value.is_empty())
            })
        })
        .collect()
}

mod run;

#[cfg(test)]
mod tests;
