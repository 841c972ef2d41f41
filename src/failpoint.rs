//! Fault injection for tests of the daemon's failure paths (a panicking reader
//! or sink, a wedged reader). Debug builds only (the test suite's); off unless
//! `AUDITFWD_FAILPOINTS` is set when the process starts; then each named point
//! acts on its N-th hit:
//!
//! ```text
//! AUDITFWD_FAILPOINTS="reader.poll=panic@3"         the 3rd poll panics
//! AUDITFWD_FAILPOINTS="sink.deliver=panic@2"        the 2nd delivery panics
//! AUDITFWD_FAILPOINTS="reader.poll=wedge@5"         the 5th poll never returns
//! ```
//!
//! Points: `main` (the main thread, before the command runs), `reader.poll`
//! (source thread, before each poll), `sink.deliver` (sink task, before each
//! delivery attempt). An unset variable costs one
//! load of an initialised `OnceLock` per hit.

// Release builds keep the parser (it is tested) but never call it.
#![cfg_attr(not(debug_assertions), allow(dead_code, unused_imports))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The environment variable read once at the first hit.
pub const VARIABLE: &str = "AUDITFWD_FAILPOINTS";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Panic,
    Wedge,
}

#[derive(Debug)]
struct Point {
    name: String,
    action: Action,
    at: u64,
    hits: AtomicU64,
}

fn points() -> &'static [Point] {
    static POINTS: OnceLock<Vec<Point>> = OnceLock::new();
    POINTS.get_or_init(|| {
        std::env::var(VARIABLE)
            .map(|spec| parse(&spec))
            .unwrap_or_default()
    })
}

fn parse(spec: &str) -> Vec<Point> {
    spec.split([',', ';'])
        .filter_map(|item| {
            let (name, rest) = item.trim().split_once('=')?;
            let (action, at) = rest.split_once('@').unwrap_or((rest, "1"));
            let action = match action.trim() {
                "panic" => Action::Panic,
                "wedge" => Action::Wedge,
                _ => return None,
            };
            Some(Point {
                name: name.trim().to_owned(),
                action,
                at: at.trim().parse().ok()?,
                hits: AtomicU64::new(0),
            })
        })
        .collect()
}

/// Passes through a named point: panics or blocks forever when configured to.
/// Release builds carry no failpoints: there the call does nothing, so no
/// environment variable can make a production daemon panic.
#[cfg(not(debug_assertions))]
pub fn hit(_name: &str) {}

/// Passes through a named point: panics or blocks forever when configured to.
#[cfg(debug_assertions)]
pub fn hit(name: &str) {
    for point in points().iter().filter(|point| point.name == name) {
        let count = point.hits.fetch_add(1, Ordering::Relaxed) + 1;
        if count == point.at {
            match point.action {
                Action::Panic => panic!("failpoint {name} fired on hit {count}"),
                Action::Wedge => loop {
                    std::thread::park();
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_items_are_ignored() {
        let points = parse("reader.poll=panic@3, sink.deliver=wedge@2;bad;x=explode@1");
        let summary: Vec<(&str, Action, u64)> = points
            .iter()
            .map(|point| (point.name.as_str(), point.action, point.at))
            .collect();
        assert_eq!(
            summary,
            [
                ("reader.poll", Action::Panic, 3),
                ("sink.deliver", Action::Wedge, 2)
            ]
        );
    }
}
