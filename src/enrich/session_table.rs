//! `auditfwd sessions`: a native NDJSON export turned into a table of
//! sessions (CSV or JSON), so an auditor can answer "who was connected, from
//! where, over what, for how long" from a file, without a SIEM.
//!
//! An export that holds session events (written by `run`) is tabulated from
//! them; one that holds only journal entries (an older export, or one made
//! with `enrich`) is first run through the same tracker as the daemon.

use std::collections::HashMap;
use std::io::Write;

use super::config::SessionsConfig;
use super::sessions::SessionTracker;
use super::Enricher;
use crate::event::{Event, JournalRow, Notice};

/// One session: one line of the table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SessionRow {
    /// The IBM i system (SYSTEM_NAME) the session was on.
    pub system_name: String,
    /// The session's id: the event id of its opening entry.
    pub session_id: String,
    /// Who the session is: the job's user at start, the new profile after a swap.
    pub user: String,
    /// Whether the session's start event was marked privileged.
    pub privileged: bool,
    /// The qualified job name (`number/user/name`).
    pub job: String,
    /// The access method (`telnet_5250`, `database_server`, `ssh`, ...).
    pub method: String,
    /// `Some(true)` encrypted, `Some(false)` clear text, `None` unknown.
    pub secure: Option<bool>,
    /// The client's IP address, when the job served a connection.
    pub remote_address: Option<String>,
    /// UTC of the opening entry, RFC 3339 with microseconds.
    pub started_at: String,
    /// UTC of the closing entry; `None` while open, or when no entry closed it.
    pub ended_at: Option<String>,
    /// Seconds, to the microsecond; `None` where `ended_at` is.
    pub duration_seconds: Option<f64>,
    /// Why it ended; `None` while still open at the end of the export.
    pub end_reason: Option<String>,
}

/// The CSV header, in column order.
pub const CSV_HEADER: &str = "system_name,session_id,user,privileged,job,method,secure,remote_address,started_at,ended_at,duration_seconds,end_reason";

/// The sessions of `events` (in stream order), in the order they started.
pub fn sessions_of(
    events: Vec<Event>,
    config: &SessionsConfig,
    enricher: &Enricher,
) -> Vec<SessionRow> {
    let derived = if events.iter().any(|event| event.session.is_some()) {
        events
            .into_iter()
            .filter(|event| event.session.is_some())
            .collect()
    } else {
        let mut tracker = SessionTracker::new(config);
        events
            .iter()
            .filter_map(row_of)
            .flat_map(|row| tracker.observe(&row, enricher))
            .collect::<Vec<_>>()
    };
    let mut rows: Vec<SessionRow> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for event in derived {
        let Some(session) = event.session else {
            continue;
        };
        let position = match index.get(&session.id) {
            Some(position) => *position,
            None => {
                rows.push(SessionRow {
                    system_name: event.system_name.to_string(),
                    session_id: session.id.clone(),
                    user: session.user.to_string(),
                    privileged: event.privileged,
                    job: session.job.to_string(),
                    method: session.method.to_string(),
                    secure: session.secure,
                    remote_address: session.remote_address.as_deref().map(str::to_owned),
                    started_at: crate::event::format_utc(&session.started_at),
                    ended_at: None,
                    duration_seconds: None,
                    end_reason: None,
                });
                index.insert(session.id.clone(), rows.len() - 1);
                rows.len() - 1
            }
        };
        if event.event_action == "session_end" {
            let row = &mut rows[position];
            row.ended_at = session.ended_at.as_ref().map(crate::event::format_utc);
            row.duration_seconds = session.duration_seconds;
            row.end_reason = session.end_reason.map(String::from);
        }
    }
    rows
}

/// A native event back into the journal row the tracker reads: JS entries and
/// audit gaps; `None` for everything else.
fn row_of(event: &Event) -> Option<JournalRow> {
    let mut row = JournalRow::bare(
        &event.system_name,
        &event.receiver_library,
        &event.receiver_name,
        event.sequence_number,
        event.entry_timestamp_local,
        event.entry_timestamp,
    );
    match (event.audit_type, event.event_action.as_ref()) {
        (None, "audit_gap") => {
            row.notice = Some(Notice {
                action: "audit_gap",
                message: event.message.clone().unwrap_or_default(),
            });
        }
        (Some("JS"), _) if event.signal.is_none() => {
            row.entry_type = event.entry_type.clone();
            row.user_name = event.user_name.clone();
            row.qualified_job_name = event.qualified_job_name.clone();
            row.job_name = event.job_name.clone();
            row.job_user = event.job_user.clone();
            row.job_number = event.job_number.clone();
            row.job_type = event.job_type.clone();
            row.program_name = event.program_name.clone();
            row.remote_address = event.remote_address.clone();
            row.real_user_profile = event.real_user_profile.clone();
            row.target_qualified_job_name = event.target_qualified_job_name.clone();
        }
        // Other types count for the sequence (a reset is an IPL).
        (Some(_), _) if event.signal.is_none() => {
            row.details = Some(crate::event::audit::Details {
                spec: crate::event::audit::TypeSpec::find(event.audit_type?)?,
                values: Vec::new(),
            });
        }
        _ => return None,
    }
    Some(row)
}

/// The table as CSV (RFC 4180), a header first. A cell that a spreadsheet
/// would take for a formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
pub fn write_csv(rows: &[SessionRow], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for row in rows {
        let cells = [
            row.system_name.clone(),
            row.session_id.clone(),
            row.user.clone(),
            row.privileged.to_string(),
            row.job.clone(),
            row.method.clone(),
            row.secure
                .map(|secure| secure.to_string())
                .unwrap_or_default(),
            row.remote_address.clone().unwrap_or_default(),
            row.started_at.clone(),
            row.ended_at.clone().unwrap_or_default(),
            row.duration_seconds
                .map(|seconds| format!("{seconds:.6}"))
                .unwrap_or_default(),
            row.end_reason.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

/// The table as one JSON object a line.
pub fn write_json(rows: &[SessionRow], out: &mut impl Write) -> std::io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *out, row)?;
        writeln!(out)?;
    }
    Ok(())
}

fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("QSECOFR"), "QSECOFR");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
    }
}
