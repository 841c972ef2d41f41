//! Fault injection for tests of the daemon's failure paths (a panicking reader
//! or sink, a wedged reader). Only in builds with the `failpoints` feature,
//! which the test harness (testkit) turns on for tests and benches and a
//! release build of the daemon never has; off unless
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

// Without the feature only the no-op `hit` is compiled.
#[cfg(feature = "failpoints")]
use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(feature = "failpoints")]
use std::sync::OnceLock;

/// The environment variable read once at the first hit.
pub const VARIABLE: &str = "AUDITFWD_FAILPOINTS";

#[cfg(feature = "failpoints")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Panic,
    Wedge,
}

#[cfg(feature = "failpoints")]
#[derive(Debug)]
struct Point {
    name: String,
    action: Action,
    at: u64,
    hits: AtomicU64,
}

#[cfg(feature = "failpoints")]
fn points() -> &'static [Point] {
    static POINTS: OnceLock<Vec<Point>> = OnceLock::new();
    POINTS.get_or_init(|| {
        std::env::var(VARIABLE)
            .map(|spec| parse(&spec))
            .unwrap_or_default()
    })
}

#[cfg(feature = "failpoints")]
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
/// Without the `failpoints` feature (every release build) the call does
/// nothing, so no environment variable can make a production daemon panic.
#[cfg(not(feature = "failpoints"))]
pub fn hit(_name: &str) {}

/// Passes through a named point: panics or blocks forever when configured to.
#[cfg(feature = "failpoints")]
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

#[cfg(all(test, feature = "failpoints"))]
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
