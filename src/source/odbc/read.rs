//! One call of the machine ([`Call`]): every configured audit type over the
//! same range of one receiver, each through the one read path
//! ([`OdbcSource::read_rows`]), merged in sequence order.

use tracing::error;

use super::chain::{ReceiverId, WINDOW_ENTRIES};
use super::classify::{Doing, OdbcError};
use super::config::Dialect;
use super::fetch::{RowView, Want};
use super::machine::{malformed_row, Call, Read, Seen};
use super::session::Function;
use super::sql::{self, Query, SqlFilter, Start};
use super::{OdbcSource, QueryCounts};
use crate::event::audit::{catalog, Kind, TypeSpec};
use crate::source::rows::{entry_timestamp, typed_row, Columns, Typed};

/// Database host-server jobs: the forwarder's own connection shows up as these.
const OWN_CONNECTION_JOBS: &[&str] = &["QZDASOINIT", "QZDASSINIT"];

/// The other types are read whole: the filters are JS's.
const NO_FILTER: SqlFilter = SqlFilter {
    entry_types: Vec::new(),
    include_users: Vec::new(),
    exclude_users: Vec::new(),
};

impl OdbcSource {
    /// Reads every configured audit type over the same range of `receiver`
    /// and merges them in sequence order: a window from `start` to `last`
    /// (whole), or from `start` bounded by `batch_rows` per type when `last` is
    /// `None`, in which case only the prefix that every type has read entirely
    /// is kept (the rest is read again on the next call).
    pub(super) fn read(&mut self, call: &Call) -> Result<Read, OdbcError> {
        let typed = self
            .session
            .as_ref()
            .map_or(0, |session| session.typed.len());
        if typed == 0 {
            return self.read_rows(Function::Js, call);
        }
        let clock_before = self.clock.clone();
        let mut read = if self.read_js {
            self.read_rows(Function::Js, call)?
        } else {
            Read::default()
        };
        let limit = self.batch_rows;
        // Rows-bounded reads: a type that returned a full chunk may have more
        // after its last row, so the merge is complete only up to the lowest
        // such last row.
        let mut complete_to: Option<u64> = None;
        let mut note_bound = |part: &Read| {
            if call.last.is_none() && part.returned >= limit {
                if let Some(seen) = &part.last {
                    complete_to =
                        Some(complete_to.map_or(seen.sequence, |bound| bound.min(seen.sequence)));
                }
            }
        };
        note_bound(&read);
        for index in 0..typed {
            let part = self.read_rows(Function::Typed(index), call)?;
            note_bound(&part);
            read.own_dropped += part.own_dropped;
            read.returned += part.returned;
            read.rows.extend(part.rows);
            read.last = match (read.last.take(), part.last) {
                (Some(mine), Some(theirs)) => Some(if theirs.sequence > mine.sequence {
                    Seen {
                        system: theirs.system.or(mine.system),
                        ..theirs
                    }
                } else {
                    Seen {
                        system: mine.system.or(theirs.system),
                        ..mine
                    }
                }),
                (mine, theirs) => mine.or(theirs),
            };
        }
        // One journal, one sequence: each part is in order, the merge is a stable sort.
        read.rows.sort_by_key(|row| row.sequence_number);
        if let Some(bound) = complete_to {
            read.rows.retain(|row| row.sequence_number <= bound);
            let system = read.last.take().and_then(|seen| seen.system);
            let timestamp = read
                .rows
                .iter()
                .rev()
                .find(|row| row.notice.is_none())
                .map(|row| row.entry_timestamp_local);
            read.last = Some(Seen {
                system,
                sequence: bound,
                timestamp,
            });
        }
        // Local times resolve to UTC in journal order (DST), across types.
        self.clock = clock_before;
        for row in read.rows.iter_mut().filter(|row| row.notice.is_none()) {
            row.entry_timestamp = self.clock.to_utc(&row.entry_timestamp_local);
        }
        Ok(read)
    }

    /// One call of one type's function over the range of `call`, each row
    /// read by the type's columns in the catalog. For JS, the filters apply
    /// and the forwarder's own connection's rows are dropped before they are
    /// parsed. A row that cannot become an event is still reported as a
    /// `malformed_row` notice, never skipped silently.
    fn read_rows(&mut self, function: Function, call: &Call) -> Result<Read, OdbcError> {
        let session = self.session.as_mut().expect("connected");
        let (spec, filter, own_profile): (&'static TypeSpec, _, _) = match function {
            Function::Js => (&catalog::JS, &self.filter, session.own_profile.clone()),
            Function::Typed(index) => (session.typed[index].spec, &NO_FILTER, None),
        };
        let query = statement(
            call,
            spec.function,
            self.config.dialect,
            filter,
            self.batch_rows,
        );
        let max_rows = rows_expected(call, self.batch_rows);
        let counter: fn(&mut QueryCounts) -> &mut u64 = match function {
            Function::Js => |counts| &mut counts.audit_journal_js,
            Function::Typed(_) => |counts| &mut counts.audit_journal_types,
        };
        *counter(&mut self.unreported) += 1;
        *counter(&mut self.total) += 1;
        // In a read of several types the clock is set back and UTC resolved
        // again once they are merged.
        let clock = &mut self.clock;
        let label = if spec.is_js() {
            String::new()
        } else {
            format!("{} ", spec.code)
        };
        let receiver = &call.receiver;
        let mut read = Read {
            rows: Vec::with_capacity(max_rows.min(WINDOW_ENTRIES as usize)),
            ..Read::default()
        };
        let want = |column: &str| want(spec, column);
        let result = session.run_read(function, call.kind, &query.params, max_rows, &want, |view| {
            read.returned += 1;
            if is_own(view, own_profile.as_deref()) {
                read.own_dropped += 1;
                if let Some(sequence) = sequence_of(view) {
                    let timestamp = entry_timestamp(view).ok();
                    let system = known_system(call, &read.last)
                        .or_else(|| view.text("SYSTEM_NAME").map(|text| text.trim().to_owned()));
                    read.last = Some(Seen {
                        system,
                        sequence,
                        timestamp,
                    });
                }
                return;
            }
            match typed_row(spec, view, clock) {
                Ok(row) => {
                    let system = match read.last.take() {
                        Some(Seen {
                            system: Some(known),
                            ..
                        }) => known,
                        _ => row.system_name.to_string(),
                    };
                    read.last = Some(Seen {
                        system: Some(system),
                        sequence: row.sequence_number,
                        timestamp: Some(row.entry_timestamp_local),
                    });
                    read.rows.push(row);
                }
                Err(problem) => {
                    let sequence = sequence_of(view);
                    let known = known_system(call, &read.last);
                    let near = sequence
                        .or(read.last.as_ref().map(|seen| seen.sequence))
                        .unwrap_or(call.anchor);
                    let message = format!(
                        "malformed {label}row in receiver {receiver} near sequence {near}: {problem}"
                    );
                    error!("{message}");
                    let shown = known.clone().unwrap_or_else(|| "UNKNOWN".to_owned());
                    let row = malformed_row(&shown, receiver, near, clock.now_local(), message);
                    if let Some(sequence) = sequence {
                        read.last = Some(Seen {
                            system: known.or(Some(shown)),
                            sequence,
                            timestamp: None,
                        });
                    }
                    read.rows.push(row);
                }
            }
        });
        if let Err(error) = result {
            return Err(self.fail(Doing::Read(receiver.clone()), &error));
        }
        Ok(read)
    }
}

/// The system as known before a row: the call's, else the last row's.
fn known_system(call: &Call, last: &Option<Seen>) -> Option<String> {
    call.system
        .clone()
        .or_else(|| last.as_ref().and_then(|seen| seen.system.clone()))
}

/// The statement of `call` for `function`: a window from its start to its
/// last sequence (whole), or from its start bounded by `batch_rows`.
fn statement(
    call: &Call,
    function: &str,
    dialect: Dialect,
    filter: &SqlFilter,
    batch_rows: usize,
) -> Query {
    let ReceiverId { library, name } = &call.receiver;
    match (call.last, &call.start) {
        (Some(last), Start::Sequence(first)) => {
            sql::read_window(function, dialect, &[], library, name, *first, last, filter)
        }
        _ => sql::read_receiver(
            function,
            dialect,
            &[],
            library,
            name,
            &call.start,
            filter,
            batch_rows,
        ),
    }
}

/// Rows a call may return: its whole sequence range when the receiver's last
/// sequence number bounds it, else one batch.
fn rows_expected(call: &Call, batch_rows: usize) -> usize {
    match (call.last, &call.start) {
        (Some(last), Start::Sequence(first)) => {
            usize::try_from(last.saturating_sub(*first).saturating_add(1)).unwrap_or(usize::MAX)
        }
        _ => batch_rows,
    }
}

/// A row of the forwarder's own database connection (when it excludes them).
fn is_own(view: &RowView<'_>, own_profile: Option<&str>) -> bool {
    let Some(own) = own_profile else {
        return false;
    };
    view.text("REAL_USER_PROFILE")
        .is_some_and(|user| user.trim().eq_ignore_ascii_case(own))
        && view.text("JOB_NAME").is_some_and(|job| {
            let job = job.trim();
            OWN_CONNECTION_JOBS.iter().any(|prefix| {
                job.len() >= prefix.len() && job[..prefix.len()].eq_ignore_ascii_case(prefix)
            })
        })
}

/// The row's SEQUENCE_NUMBER, when it can be read (its whole part, from text).
fn sequence_of(view: &RowView<'_>) -> Option<u64> {
    match view.typed("SEQUENCE_NUMBER") {
        Some(Typed::Integer(number)) => u64::try_from(number).ok(),
        Some(Typed::Null) => None,
        _ => view.text("SEQUENCE_NUMBER").and_then(|text| {
            text.trim()
                .split('.')
                .next()
                .and_then(|whole| whole.parse::<u64>().ok())
        }),
    }
}

/// How a read of `spec` wants `column`: the entry's time and every whole
/// number typed, the rest as text.
fn want(spec: &TypeSpec, column: &str) -> Want {
    match column {
        "ENTRY_TIMESTAMP" => Want::Timestamp,
        "SEQUENCE_NUMBER" => Want::Sequence,
        "REMOTE_PORT" => Want::Integer,
        _ if spec
            .columns
            .iter()
            .any(|own| own.name == column && own.kind == Kind::Integer) =>
        {
            Want::Integer
        }
        _ => Want::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(last: Option<u64>, start: Start) -> Call {
        Call {
            receiver: ReceiverId {
                library: "QGPL".into(),
                name: "R1".into(),
            },
            kind: super::super::session::Kind::Window,
            start,
            last,
            system: None,
            anchor: 0,
        }
    }

    #[test]
    fn a_window_expects_its_range_and_an_open_read_one_batch() {
        assert_eq!(
            rows_expected(&call(Some(10_000), Start::Sequence(1)), 500),
            10_000
        );
        assert_eq!(rows_expected(&call(Some(5), Start::Sequence(5)), 500), 1);
        assert_eq!(rows_expected(&call(None, Start::Sequence(5)), 500), 500);
        let at = chrono::NaiveDateTime::MIN;
        assert_eq!(rows_expected(&call(None, Start::Timestamp(at)), 7), 7);
    }

    #[test]
    fn a_window_call_binds_both_bounds_and_an_open_call_the_row_limit() {
        let window = statement(
            &call(Some(20), Start::Sequence(11)),
            "AUDIT_JOURNAL_PW",
            Dialect::Db2i,
            &NO_FILTER,
            500,
        );
        assert!(window.text.contains("ENDING_SEQUENCE"), "{}", window.text);
        assert!(window.params.contains(&sql::Value::Text("20".into())));
        let open = statement(
            &call(None, Start::Sequence(11)),
            "AUDIT_JOURNAL_PW",
            Dialect::Db2i,
            &NO_FILTER,
            500,
        );
        assert!(!open.text.contains("ENDING_SEQUENCE"), "{}", open.text);
        assert_eq!(open.params.last(), Some(&sql::Value::Integer(500)));
    }
}
