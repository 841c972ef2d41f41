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

#[derive(Clone, Debug)]
pub struct BurstDetector {
    threshold: usize,
    window_micros: i64,
    /// (kind, key) → entry times (UTC micros), oldest first.
    trails: BTreeMap<(&'static str, String), VecDeque<i64>>,
}

impl BurstDetector {
    /// A detector continuing from `state` (the committed checkpoint's), if any.
    pub fn new(config: &BurstConfig, state: Option<&SignalState>) -> BurstDetector {
        let mut detector = BurstDetector {
            threshold: config.threshold.max(2),
            window_micros: i64::try_from(config.window.as_micros()).unwrap_or(i64::MAX),
            trails: BTreeMap::new(),
        };
        for trail in state.map(|state| state.failures.as_slice()).unwrap_or(&[]) {
            let kind = match trail.kind.as_str() {
                "user" => "user",
                "remote_address" => "remote_address",
                _ => continue,
            };
            detector.trails.insert(
                (kind, trail.key.clone()),
                trail.times.iter().copied().collect(),
            );
        }
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
            trail.push_back(now);
            while trail
                .front()
                .is_some_and(|first| now.saturating_sub(*first) > self.window_micros)
            {
                trail.pop_front();
            }
            if trail.len() >= self.threshold {
                let count = trail.len();
                let first = trail.front().copied().unwrap_or(now);
                trail.clear();
                signals.push(self.signal(event, kind, key, count, first));
            }
        }
        self.forget_stale(now);
        signals
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

    /// Drops keys whose newest failure left the window, and the idlest keys
    /// beyond [`MAX_KEYS`].
    fn forget_stale(&mut self, now: i64) {
        let window = self.window_micros;
        if self.trails.len() > MAX_KEYS / 2 {
            self.trails.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|last| now.saturating_sub(*last) <= window)
            });
        }
        while self.trails.len() > MAX_KEYS {
            let idlest = self
                .trails
                .iter()
                .min_by_key(|(_, times)| times.back().copied().unwrap_or(i64::MIN))
                .map(|(key, _)| key.clone());
            match idlest {
                Some(key) => {
                    self.trails.remove(&key);
                }
                None => break,
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
        event.event_id = format!("{}#signon_failure_burst/{kind}", trigger.event_id);
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
