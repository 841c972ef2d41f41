//! `signon_failure_burst`: one user, or one remote address, collecting
//! `threshold` PW failures within `window` of entry time.
//!
//! The signal is a function of the journal, not of the clock or the process:
//! it counts entry timestamps, and its memory travels with the checkpoint
//! ([`SignalState`] in the cursor of every batch), so a restart from any
//! position continues each count exactly where the committed stream left it.
//! When a key reaches the threshold, a signal event follows the entry that
//! completed it, and that key's count starts again.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use super::config::BurstConfig;
use crate::event::{Event, FailureTrail, Severity, Signal, SignalState};

/// Most keys remembered at once: beyond this, the key idle longest is
/// forgotten (a spray from very many addresses cannot take the memory).
pub const MAX_KEYS: usize = 10_000;

/// Most bytes the memory may take in the checkpoint (it is written with every
/// commit): whatever `threshold` and `window` are, past this the keys idle
/// longest are forgotten. Estimated per key ([`KEY_BYTES`]) and per entry
/// time ([`TIME_BYTES`]), the sizes of their JSON.
pub const MAX_STATE_BYTES: usize = 900 * 1024;
const KEY_BYTES: usize = 80;
const TIME_BYTES: usize = 17;

/// The sign-on failure burst signal: counts PW failures per user and per remote
/// address within the window, in stream order, bounded by [`MAX_KEYS`] and
/// [`MAX_STATE_BYTES`].
#[derive(Clone, Debug)]
pub struct BurstDetector {
    threshold: usize,
    window_micros: i64,
    /// (kind, key) → entry times (UTC micros), oldest first.
    trails: BTreeMap<(&'static str, String), VecDeque<i64>>,
    /// Entry times held in every trail, for the byte bound.
    times: usize,
    /// Keys forgotten to keep to the byte bound (said once in the log).
    shed: usize,
}

impl BurstDetector {
    /// A detector continuing from `state` (the committed checkpoint's), if any.
    pub fn new(config: &BurstConfig, state: Option<&SignalState>) -> BurstDetector {
        let mut detector = BurstDetector {
            threshold: config.threshold.max(2),
            window_micros: i64::try_from(config.window.as_micros()).unwrap_or(i64::MAX),
            trails: BTreeMap::new(),
            times: 0,
            shed: 0,
        };
        for trail in state.map(|state| state.failures.as_slice()).unwrap_or(&[]) {
            let kind = match trail.kind.as_str() {
                "user" => "user",
                "remote_address" => "remote_address",
                _ => continue,
            };
            detector.times += trail.times.len();
            detector.trails.insert(
                (kind, trail.key.clone()),
                trail.times.iter().copied().collect(),
            );
        }
        detector.keep_to_budget();
        detector
    }

    /// Counts `event` if it is a PW failure; returns the signal events it completes.
    pub fn observe(&mut self, event: &Event) -> Vec<Event> {
        if event.audit_type != Some("PW") || event.message.is_some() {
            return Vec::new();
        }
        let now = event.entry_timestamp.timestamp_micros();
        let mut signals = Vec::new();
        let keys = [
            ("user", event.target_user.as_deref()),
            ("remote_address", event.remote_address.as_deref()),
        ];
        for (kind, key) in keys {
            let Some(key) = key.map(str::trim).filter(|key| !key.is_empty()) else {
                continue;
            };
            let trail = self.trails.entry((kind, key.to_owned())).or_default();
            let before = trail.len();
            trail.push_back(now);
            while trail
                .front()
                .is_some_and(|first| now.saturating_sub(*first) > self.window_micros)
            {
                trail.pop_front();
            }
            let mut completed = None;
            if trail.len() >= self.threshold {
                completed = Some((trail.len(), trail.front().copied().unwrap_or(now)));
                trail.clear();
            }
            let after = trail.len();
            self.times = (self.times + after).saturating_sub(before);
            if let Some((count, first)) = completed {
                signals.push(self.signal(event, kind, key, count, first));
            }
        }
        self.forget_stale(now);
        self.keep_to_budget();
        signals
    }

    /// The estimated size of the memory in the checkpoint.
    pub fn state_bytes(&self) -> usize {
        self.trails.len() * KEY_BYTES + self.times * TIME_BYTES
    }

    /// Past [`MAX_STATE_BYTES`], forgets the keys idle longest until the memory
    /// is back under nine tenths of it.
    fn keep_to_budget(&mut self) {
        if self.state_bytes() <= MAX_STATE_BYTES {
            return;
        }
        let mut by_idleness: Vec<(i64, (&'static str, String))> = self
            .trails
            .iter()
            .map(|(key, times)| (times.back().copied().unwrap_or(i64::MIN), key.clone()))
            .collect();
        by_idleness.sort_unstable();
        let target = MAX_STATE_BYTES * 9 / 10;
        let mut forgotten = 0;
        for (_, key) in by_idleness {
            if self.state_bytes() <= target {
                break;
            }
            if let Some(times) = self.trails.remove(&key) {
                self.times -= times.len().min(self.times);
                forgotten += 1;
            }
        }
        if self.shed == 0 {
            tracing::warn!(forgotten, bytes = MAX_STATE_BYTES, "the sign-on burst memory reached its bound; the keys idle longest were forgotten (their counts start again). A lower alerts.signon_failure_burst.threshold or window keeps more keys");
        }
        self.shed += forgotten;
    }

    /// The memory to store with the checkpoint after the events observed so far.
    pub fn snapshot(&self) -> SignalState {
        SignalState {
            failures: self
                .trails
                .iter()
                .filter(|(_, times)| !times.is_empty())
                .map(|((kind, key), times)| FailureTrail {
                    kind: (*kind).to_owned(),
                    key: key.clone(),
                    times: times.iter().copied().collect(),
                })
                .collect(),
        }
    }

    /// Past [`MAX_KEYS`], drops the keys whose newest failure left the
    /// window, then, if still too many, the idlest tenth: amortised, and a
    /// function of the stream alone.
    fn forget_stale(&mut self, now: i64) {
        if self.trails.len() <= MAX_KEYS {
            return;
        }
        let window = self.window_micros;
        let mut dropped = 0;
        self.trails.retain(|_, times| {
            let keep = times
                .back()
                .is_some_and(|last| now.saturating_sub(*last) <= window);
            if !keep {
                dropped += times.len();
            }
            keep
        });
        self.times -= dropped.min(self.times);
        let keep = MAX_KEYS * 9 / 10;
        if self.trails.len() > keep {
            // Idlest first; ties in key order, so the choice is deterministic.
            let mut by_idleness: Vec<(i64, (&'static str, String))> = self
                .trails
                .iter()
                .map(|(key, times)| (times.back().copied().unwrap_or(i64::MIN), key.clone()))
                .collect();
            by_idleness.sort_unstable();
            let excess = self.trails.len() - keep;
            for (_, key) in by_idleness.into_iter().take(excess) {
                if let Some(times) = self.trails.remove(&key) {
                    self.times -= times.len().min(self.times);
                }
            }
        }
    }

    fn signal(
        &self,
        trigger: &Event,
        kind: &'static str,
        key: &str,
        count: usize,
        first: i64,
    ) -> Event {
        let window_seconds = u64::try_from(self.window_micros / 1_000_000).unwrap_or(0);
        let first_at =
            DateTime::<Utc>::from_timestamp_micros(first).unwrap_or(trigger.entry_timestamp);
        let subject = match kind {
            "user" => format!("user {key}"),
            _ => format!("remote address {key}"),
        };
        let mut event = trigger.clone();
        event.event_id = format!("{}#signon_failure_burst_{kind}", trigger.event_id);
        event.code = None;
        event.code_label = Cow::Borrowed("Burst of failed sign-ons");
        event.event_action = Cow::Borrowed("signon_failure_burst");
        event.severity = if trigger.privileged {
            Severity::Critical
        } else {
            Severity::High
        };
        event.details = None;
        event.message = Some(format!(
            "{count} failed sign-ons for {subject} within {window_seconds}s (from {} to {})",
            crate::event::format_utc(&first_at),
            crate::event::format_utc(&trigger.entry_timestamp)
        ));
        event.signal = Some(Signal {
            key_kind: kind,
            key: key.to_owned(),
            count,
            window_seconds,
            first_entry_timestamp: first_at,
        });
        event
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::NaiveDate;

    use super::*;
    use crate::enrich::Enricher;
    use crate::event::audit::{catalog, Details, Value};
    use crate::event::JournalRow;

    fn config(threshold: usize, window_seconds: u64) -> BurstConfig {
        BurstConfig {
            enabled: true,
            threshold,
            window: Duration::from_secs(window_seconds),
        }
    }

    /// A PW 'P' failure for `user` from `address`, `second` seconds into the day.
    fn failure(sequence: u64, second: i64, user: &str, address: &str) -> Event {
        let local = NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap()
            + chrono::Duration::seconds(second);
        let mut row = JournalRow::bare(
            "PROD1",
            "QGPL",
            "AUDRCV0001",
            sequence,
            local,
            local.and_utc(),
        );
        row.remote_address = Some(address.into());
        row.user_name = Some("QUSER".into());
        let values = catalog::PW
            .columns
            .iter()
            .map(|column| match column.name {
                "VIOLATION_TYPE" => Value::Text("P".into()),
                "AUDIT_USER_NAME" => Value::Text(user.into()),
                _ => Value::Null,
            })
            .collect();
        row.details = Some(Details {
            spec: &catalog::PW,
            values,
        });
        Enricher::default().enrich_owned(row)
    }

    fn run(detector: &mut BurstDetector, events: &[Event]) -> Vec<Event> {
        events
            .iter()
            .flat_map(|event| detector.observe(event))
            .collect()
    }

    #[test]
    fn fires_at_the_threshold_within_the_window_then_starts_again() {
        let mut detector = BurstDetector::new(&config(5, 300), None);
        // Four failures, spread over distinct addresses: no signal yet.
        let events: Vec<Event> = (0..9)
            .map(|n| failure(10 + n, n as i64 * 30, "JSMITH", &format!("192.0.2.{n}")))
            .collect();
        let signals = run(&mut detector, &events[..4]);
        assert!(signals.is_empty());
        let signals = run(&mut detector, &events[4..5]);
        assert_eq!(signals.len(), 1);
        let signal = &signals[0];
        assert_eq!(
            signal.event_id,
            "PROD1:QGPL/AUDRCV0001:14#signon_failure_burst_user"
        );
        assert_eq!(signal.event_action, "signon_failure_burst");
        assert_eq!(signal.severity, Severity::High);
        assert_eq!(signal.signal.as_ref().unwrap().count, 5);
        assert_eq!(signal.signal.as_ref().unwrap().key, "JSMITH");
        // The count starts again: four more are not a burst.
        assert!(run(&mut detector, &events[5..9]).is_empty());
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let mut detector = BurstDetector::new(&config(3, 60), None);
        let events = [
            failure(1, 0, "A", "198.51.100.1"),
            failure(2, 50, "A", "198.51.100.2"),
            failure(3, 100, "A", "198.51.100.3"), // the first is 100 s old: out
            failure(4, 110, "A", "198.51.100.4"), // 50, 100, 110: within 60 s
        ];
        let signals = run(&mut detector, &events);
        assert_eq!(signals.len(), 1);
        assert_eq!(signals[0].sequence_number, 4);
    }

    #[test]
    fn one_address_spraying_many_users_is_a_burst_of_the_address() {
        let mut detector = BurstDetector::new(&config(4, 300), None);
        let events: Vec<Event> = (0..4)
            .map(|n| failure(n, n as i64, &format!("USER{n}"), "203.0.113.9"))
            .collect();
        let signals = run(&mut detector, &events);
        assert_eq!(signals.len(), 1);
        assert!(signals[0]
            .event_id
            .ends_with("#signon_failure_burst_remote_address"));
        assert_eq!(
            signals[0].signal.as_ref().unwrap().key_kind,
            "remote_address"
        );
    }

    #[test]
    fn a_privileged_target_makes_the_burst_critical() {
        let mut detector = BurstDetector::new(&config(2, 300), None);
        let signals = run(
            &mut detector,
            &[
                failure(1, 0, "QSECOFR", "192.0.2.1"),
                failure(2, 1, "QSECOFR", "192.0.2.2"),
            ],
        );
        assert_eq!(signals.len(), 1);
        assert_eq!(signals[0].severity, Severity::Critical);
    }

    /// A restart in the middle of a window: the committed memory, through the
    /// checkpoint's JSON, continues the count exactly as an unbroken run does.
    #[test]
    fn a_restart_mid_window_continues_the_count_exactly() {
        let events: Vec<Event> = (0..12)
            .map(|n| failure(n, n as i64 * 20, "JSMITH", "192.0.2.77"))
            .collect();
        let mut unbroken = BurstDetector::new(&config(5, 300), None);
        let expected: Vec<String> = run(&mut unbroken, &events)
            .into_iter()
            .map(|signal| signal.event_id)
            .collect();
        assert_eq!(expected.len(), 4, "{expected:?}");
        for cut in 1..events.len() {
            let mut first = BurstDetector::new(&config(5, 300), None);
            let mut ids: Vec<String> = run(&mut first, &events[..cut])
                .into_iter()
                .map(|signal| signal.event_id)
                .collect();
            let stored = serde_json::to_string(&first.snapshot()).unwrap();
            let state: SignalState = serde_json::from_str(&stored).unwrap();
            let mut second = BurstDetector::new(&config(5, 300), Some(&state));
            ids.extend(
                run(&mut second, &events[cut..])
                    .into_iter()
                    .map(|signal| signal.event_id),
            );
            assert_eq!(ids, expected, "restart after {cut} events");
        }
    }

    #[test]
    fn other_types_and_notices_are_not_counted() {
        let mut detector = BurstDetector::new(&config(2, 300), None);
        let mut js = failure(1, 0, "A", "192.0.2.1");
        js.audit_type = Some("JS");
        let mut notice = failure(2, 1, "A", "192.0.2.1");
        notice.message = Some("gap".into());
        assert!(run(&mut detector, &[js, notice]).is_empty());
        assert!(detector.snapshot().failures.is_empty());
    }

    #[test]
    fn memory_is_bounded_under_a_spray_from_many_addresses() {
        let mut detector = BurstDetector::new(&config(5, 3600), None);
        for n in 0..(MAX_KEYS as u64 + 500) {
            let address = format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255);
            detector.observe(&failure(n, 0, &format!("U{n}"), &address));
        }
        assert!(detector.trails.len() <= MAX_KEYS);
    }

    #[test]
    fn the_memory_stays_under_its_byte_bound_whatever_the_settings() {
        // The largest settings allowed: 1,000 failures in 24 hours. 600 users
        // from 600 addresses, 400 failures each, none reaching the threshold:
        // 480,000 entry times unbounded, some 8 MB of checkpoint.
        let mut detector = BurstDetector::new(&config(1000, 24 * 3600), None);
        let mut sequence = 0;
        for round in 0..400 {
            for user in 0..600 {
                sequence += 1;
                let signals = detector.observe(&failure(
                    sequence,
                    round,
                    &format!("USER{user:04}"),
                    &format!("198.51.100.{}", user % 250),
                ));
                assert!(signals.is_empty());
            }
        }
        let snapshot = serde_json::to_vec(&detector.snapshot()).unwrap();
        assert!(
            snapshot.len() < 1024 * 1024,
            "{} bytes in the checkpoint",
            snapshot.len()
        );
        assert!(detector.state_bytes() <= MAX_STATE_BYTES);
        // The estimate is not below what is written.
        assert!(
            snapshot.len() <= detector.state_bytes(),
            "{} > {}",
            snapshot.len(),
            detector.state_bytes()
        );
        // A restart from that snapshot keeps the bound and the counts.
        let again = BurstDetector::new(&config(1000, 24 * 3600), Some(&detector.snapshot()));
        assert_eq!(again.state_bytes(), detector.state_bytes());
    }
}
