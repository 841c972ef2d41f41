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

/// The session table of an export read one event at a time, in stream
/// order: memory grows with the sessions, not with the export.
///
/// Session events in the export are the table. Until the first one is seen,
/// the journal entries also go through a tracker, as the daemon does, for
/// an export that holds none; the first session event drops that.
pub struct SessionTable<'e> {
    enricher: &'e Enricher,
    /// Fed the journal entries while no session event was seen.
    tracker: Option<SessionTracker>,
    derived: Rows,
    recorded: Rows,
}

impl<'e> SessionTable<'e> {
    /// An empty table; `config` bounds the tracker as it bounds the daemon's.
    pub fn new(config: &SessionsConfig, enricher: &'e Enricher) -> SessionTable<'e> {
        SessionTable {
            enricher,
            tracker: Some(SessionTracker::new(config)),
            derived: Rows::default(),
            recorded: Rows::default(),
        }
    }

    /// The next event of the export.
    pub fn push(&mut self, event: Event) {
        if event.session.is_some() {
            if self.tracker.take().is_some() {
                self.derived = Rows::default();
            }
            self.recorded.add(event);
        } else if let Some(tracker) = &mut self.tracker {
            if let Some(row) = row_of(&event) {
                for session in tracker.observe(&row, self.enricher) {
                    self.derived.add(session);
                }
            }
        }
    }

    /// The sessions, in the order they started.
    pub fn finish(self) -> Vec<SessionRow> {
        match self.tracker {
            Some(_) => self.derived.rows,
            None => self.recorded.rows,
        }
    }
}

/// Sessions by id, in the order they started.
#[derive(Default)]
struct Rows {
    rows: Vec<SessionRow>,
    index: HashMap<String, usize>,
}

impl Rows {
    /// A session event: a new row at its start, the end filled in at its end
    /// (a repeated event, as at-least-once delivery can give, changes nothing).
    fn add(&mut self, event: Event) {
        let Some(session) = event.session else {
            return;
        };
        let rows = &mut self.rows;
        let position = *self.index.entry(session.id.clone()).or_insert_with(|| {
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
            rows.len() - 1
        });
        if event.event_action == "session_end" {
            let row = &mut self.rows[position];
            row.ended_at = session.ended_at.as_ref().map(crate::event::format_utc);
            row.duration_seconds = session.duration_seconds;
            row.end_reason = session.end_reason.map(String::from);
        }
    }
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

    /// ALICE's 5250 job starts at 08:00:00 and ends a minute later: the
    /// journal entries, and the export the daemon writes of them (each
    /// entry, then the session events it caused).
    fn export() -> (Vec<Event>, Vec<Event>) {
        let enricher = Enricher::default();
        let mut tracker = SessionTracker::new(&SessionsConfig::default());
        let (mut entries, mut written) = (Vec::new(), Vec::new());
        for (sequence, minute, entry) in [(1, 0, "S"), (2, 1, "E")] {
            let local = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
                .and_then(|day| day.and_hms_opt(8, minute, 0))
                .expect("a time");
            let mut row = JournalRow::bare(
                "PROD1",
                "QSYS",
                "AUDRCV0001",
                sequence,
                local,
                local.and_utc(),
            );
            row.entry_type = Some(entry.into());
            row.job_type = Some("INT".into());
            row.qualified_job_name = Some("100001/ALICE/DSP01".into());
            row.job_number = Some("100001".into());
            row.job_user = Some("ALICE".into());
            row.job_name = Some("DSP01".into());
            written.push(enricher.enrich(&row));
            written.extend(tracker.observe(&row, &enricher));
            entries.push(enricher.enrich(&row));
        }
        (entries, written)
    }

    fn table(events: Vec<Event>) -> Vec<SessionRow> {
        let enricher = Enricher::default();
        let mut table = SessionTable::new(&SessionsConfig::default(), &enricher);
        for event in events {
            table.push(event);
        }
        table.finish()
    }

    #[test]
    fn an_export_of_entries_only_is_tracked_as_the_daemon_would() {
        let (entries, _) = export();
        let rows = table(entries);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].user, "ALICE");
        assert_eq!(rows[0].duration_seconds, Some(60.0));
        assert_eq!(
            rows[0].ended_at.as_deref(),
            Some("2026-03-02T08:01:00.000000Z")
        );
    }

    #[test]
    fn an_exports_session_events_are_the_table_and_repeats_change_nothing() {
        let (_, mut written) = export();
        assert!(
            written
                .iter()
                .filter(|event| event.session.is_some())
                .count()
                == 2
        );
        // What the export says wins over what a tracker would derive.
        for event in &mut written {
            if let Some(session) = &mut event.session {
                session.method = "as_recorded".into();
            }
        }
        // At-least-once: the end delivered twice.
        let end = written.last().cloned().expect("the session_end");
        written.push(end);
        let rows = table(written);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].method, "as_recorded");
        assert_eq!(rows[0].duration_seconds, Some(60.0));
        assert_eq!(rows[0].end_reason.as_deref(), Some("job_end"));
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("QSECOFR"), "QSECOFR");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
    }
}
