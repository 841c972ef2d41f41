//! `auditfwd backfill --from TIME --to TIME`: reads a closed range of the
//! journal into chosen sinks without touching the live checkpoint.
//!
//! A backfill is a run with a derived configuration: the same source and
//! audit types (or `--audit-types`), the chosen sinks, its own state directory
//! under `<state.dir>/backfill/` named after the range (so running the same
//! command again continues where it stopped, and it can run beside the
//! daemon), no telemetry listener, and an end: the reader stops at the first
//! entry after `--to`. Progress counts journal entries against the sequence
//! ranges of the receivers that hold the range.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::event::Cursor;
use crate::settings::Config;
use crate::source::config::SourceKind;
use crate::source::odbc::chain::ReceiverInfo;

/// What the command line asked for.
#[derive(Clone, Debug)]
pub struct Request {
    /// Local times of the IBM i clock (source.odbc.timezone), inclusive.
    pub from: NaiveDateTime,
    /// Local time of the IBM i clock where the range ends, inclusive (same zone as `from`).
    pub to: NaiveDateTime,
    /// Sink selectors (see `replay::select_sink`); empty = every configured sink.
    pub sinks: Vec<String>,
    /// Audit types to read instead of `source.audit_types`.
    pub audit_types: Vec<String>,
}

/// The state directory of the backfill of `request` under `config`.
pub fn state_dir(config: &Config, request: &Request) -> PathBuf {
    use chrono::Timelike;
    // Whole seconds keep the name earlier releases gave (so a backfill they
    // began resumes); a range with fractions carries them in full, so two
    // ranges that differ below a second never share a directory.
    let whole = request.from.nanosecond() == 0 && request.to.nanosecond() == 0;
    let stamp = |time: &NaiveDateTime| {
        if whole {
            time.format("%Y%m%dT%H%M%S").to_string()
        } else {
            time.format("%Y%m%dT%H%M%S%.9f").to_string()
        }
    };
    config.state.dir.join("backfill").join(format!(
        "{}-{}",
        stamp(&request.from),
        stamp(&request.to)
    ))
}

/// The configuration the backfill runs with; the error names what is wrong.
pub fn derive(config: &Config, request: &Request) -> Result<Config, String> {
    if config.source.kind != SourceKind::Odbc {
        return Err("backfill reads a journal: set source.kind = \"odbc\"".into());
    }
    if request.to <= request.from {
        return Err(format!(
            "--to {} is not after --from {}",
            request.to, request.from
        ));
    }
    // No journal entry can lie outside these years; Db2 would refuse the
    // timestamp (SQLSTATE 22008) on every retry.
    for (flag, time) in [("--from", request.from), ("--to", request.to)] {
        use chrono::Datelike;
        if !(1900..=2999).contains(&time.year()) {
            return Err(format!(
                "{flag} {time} is outside the years a journal entry can have (1900 to 2999)"
            ));
        }
    }
    let mut derived = config.clone();
    derived.source.odbc.start_at = request.from.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    derived.state.dir = state_dir(config, request);
    derived.telemetry.listen = String::new();
    if !request.audit_types.is_empty() {
        crate::event::audit::resolve(&request.audit_types)
            .map_err(|error| format!("--audit-types: {error}"))?;
        derived.source.audit_types = request.audit_types.clone();
        derived.source.optional_audit_types.retain(|name| {
            request
                .audit_types
                .iter()
                .any(|kept| kept.eq_ignore_ascii_case(name))
        });
    }
    if !request.sinks.is_empty() {
        let all = config.effective_sinks();
        let mut chosen = Vec::new();
        for selector in &request.sinks {
            chosen.push(crate::replay::select_sink(&all, selector)?.clone());
        }
        derived.sinks = chosen;
    }
    Ok(derived)
}

/// Where the range sits in the journal: for each receiver that may hold
/// entries of the range, its first and last sequence numbers.
#[derive(Clone, Debug, Default)]
pub struct Extent {
    receivers: Vec<(String, String, u64, u64)>,
}

impl Extent {
    /// The receivers whose attach..detach span meets `from..=to`.
    pub fn of(receivers: &[ReceiverInfo], from: NaiveDateTime, to: NaiveDateTime) -> Extent {
        Extent {
            receivers: receivers
                .iter()
                .filter(|info| {
                    info.attach_timestamp.is_none_or(|attached| attached <= to)
                        && info
                            .detach_timestamp
                            .is_none_or(|detached| detached >= from)
                })
                .filter_map(|info| {
                    Some((
                        info.id.library.clone(),
                        info.id.name.clone(),
                        info.first_sequence?,
                        info.last_sequence?,
                    ))
                })
                .collect(),
        }
    }

    /// Journal entries in those receivers: the most the range can hold.
    pub fn total(&self) -> u64 {
        self.receivers
            .iter()
            .map(|(_, _, first, last)| last.saturating_sub(*first) + 1)
            .sum()
    }

    /// Entries of the extent at or before `cursor`.
    pub fn done(&self, cursor: &Cursor) -> u64 {
        let mut done = 0;
        for (library, name, first, last) in &self.receivers {
            if *library == cursor.receiver_library && *name == cursor.receiver_name {
                return done + cursor.sequence_number.clamp(first - 1, *last) + 1 - first;
            }
            done += last.saturating_sub(*first) + 1;
        }
        0
    }
}

/// Progress shown while a backfill runs: entries read against the extent,
/// rate and time left. A bar on a terminal, a line every few seconds otherwise.
pub struct Progress {
    extent: Extent,
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
    /// When the last line was printed, and the position last shown.
    shown: std::sync::Mutex<(Option<Instant>, Option<Cursor>)>,
}

impl Progress {
    /// Progress over `extent`: a bar when `on_terminal`, else a line every few seconds.
    pub fn new(extent: Extent, on_terminal: bool) -> Progress {
        let bar = on_terminal.then(|| {
            let bar = indicatif::ProgressBar::new(extent.total());
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "backfill [{bar:40}] {pos}/{len} entries, {per_sec}, {eta} left",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            extent,
            started: Instant::now(),
            bar,
            shown: std::sync::Mutex::new((None, None)),
        }
    }

    /// Shows where the committed position stands (lines at most every 5 s).
    pub fn show(&self, committed: Option<&Cursor>) {
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if committed.is_some() {
            shown.1 = committed.cloned();
        }
        let total = self.extent.total();
        let done = shown
            .1
            .as_ref()
            .map_or(0, |cursor| self.extent.done(cursor))
            .min(total);
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        if shown
            .0
            .is_some_and(|at| at.elapsed() < Duration::from_secs(5))
        {
            return;
        }
        shown.0 = Some(Instant::now());
        eprintln!(
            "{}",
            line(done, total, self.started.elapsed(), shown.1.as_ref())
        );
    }

    /// The last word: where the backfill stopped.
    pub fn finish(&self) {
        let shown = self
            .shown
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let total = self.extent.total();
        let done = shown
            .1
            .as_ref()
            .map_or(0, |cursor| self.extent.done(cursor))
            .min(total);
        match &self.bar {
            Some(bar) => bar.finish(),
            None => eprintln!(
                "{}",
                line(done, total, self.started.elapsed(), shown.1.as_ref())
            ),
        }
    }
}

/// `backfill: 120000/400000 journal entries (30%), 25000 entries/s, about 11s left, at QGPL/AUDRCV0003:120000`.
pub fn line(done: u64, total: u64, elapsed: Duration, at: Option<&Cursor>) -> String {
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let left = if rate > 0.0 {
        format!(
            "about {:.0}s left",
            total.saturating_sub(done) as f64 / rate
        )
    } else {
        "time left unknown".into()
    };
    let at = at.map_or_else(
        || "nothing committed yet".to_owned(),
        |cursor| format!("at {cursor}"),
    );
    format!(
        "backfill: {done}/{total} journal entries ({percent}%), {rate:.0} entries/s, {left}, {at}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(from: &str, to: &str) -> Request {
        Request {
            from: crate::source::rows::parse_local_timestamp(from).unwrap(),
            to: crate::source::rows::parse_local_timestamp(to).unwrap(),
            sinks: Vec::new(),
            audit_types: Vec::new(),
        }
    }

    #[test]
    fn ranges_that_differ_below_a_second_have_their_own_state() {
        let config = Config::default();
        let whole = state_dir(
            &config,
            &request("2026-10-01T08:00:00", "2026-10-01T09:00:00"),
        );
        assert!(
            whole.ends_with("backfill/20261001T080000-20261001T090000"),
            "{whole:?}"
        );
        let a = state_dir(
            &config,
            &request("2026-10-01T08:00:00.250000", "2026-10-01T09:00:00"),
        );
        let b = state_dir(
            &config,
            &request("2026-10-01T08:00:00.750000", "2026-10-01T09:00:00"),
        );
        assert_ne!(a, b);
        assert_ne!(a, whole);
    }

    #[test]
    fn dates_no_journal_can_hold_are_refused() {
        let mut config = Config::default();
        config.source.kind = SourceKind::Odbc;
        let error = derive(
            &config,
            &request("0001-01-01T00:00:00", "2026-10-01T09:00:00"),
        )
        .unwrap_err();
        assert!(
            error.contains("--from") && error.contains("1900"),
            "{error}"
        );
        assert!(derive(
            &config,
            &request("2026-10-01T08:00:00", "2026-10-01T09:00:00")
        )
        .is_ok());
    }
}
