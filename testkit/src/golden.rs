//! Golden files: an NDJSON output summarised (SHA-256 and line count of the
//! whole output, plus its first lines verbatim, so a change shows what moved)
//! and compared with `tests/golden/<name>.golden`.
//!
//! `AUDITFWD_UPDATE_GOLDEN=1` rewrites the golden file instead (say why in the
//! commit); `AUDITFWD_GOLDEN_KEEP=DIR` keeps each whole output in DIR.

use std::path::{Path, PathBuf};
use std::process::Command;

const SHOWN_LINES: usize = 5;

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/golden")
        .join(format!("{name}.golden"))
}

/// A synthetic notice (an audit gap) carries the time it was detected, which
/// differs on every run: that value alone is replaced before hashing.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.contains("\"event_action\":\"audit_gap\"") {
            let mut event: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            event["entry_timestamp"] = "<detected at>".into();
            event["entry_timestamp_local"] = "<detected at>".into();
            out.push_str(&event.to_string());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// What a golden file records about an NDJSON output.
fn summarize(path: &Path) -> String {
    let text = normalize(&std::fs::read_to_string(path).expect("read output"));
    let normalized = path.with_extension("normalized");
    std::fs::write(&normalized, &text).expect("write normalized output");
    let output = Command::new("sha256sum")
        .arg(&normalized)
        .output()
        .expect("sha256sum (coreutils) must be installed");
    assert!(output.status.success(), "sha256sum failed");
    let digest = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned();
    let lines = text.lines().count();
    let mut summary = format!("sha256 {digest}\nlines {lines}\n");
    for line in text.lines().take(SHOWN_LINES) {
        summary.push_str(line);
        summary.push('\n');
    }
    summary
}

/// Compares the summary of `output` with `tests/golden/<name>.golden`; panics at the
/// first differing line (or rewrites the file under AUDITFWD_UPDATE_GOLDEN).
pub fn check(name: &str, output: &Path) {
    if let Some(keep) = std::env::var_os("AUDITFWD_GOLDEN_KEEP") {
        let _ = std::fs::copy(output, Path::new(&keep).join(format!("{name}.ndjson")));
    }
    let actual = summarize(output);
    let golden = golden_path(name);
    if std::env::var_os("AUDITFWD_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; create it with AUDITFWD_UPDATE_GOLDEN=1",
            golden.display()
        )
    });
    if actual != expected {
        let first_difference = actual
            .lines()
            .zip(expected.lines())
            .position(|(left, right)| left != right)
            .unwrap_or(0);
        panic!(
            "native output of {name} changed (golden file {}), first differing summary line {}:\n  now:    {}\n  golden: {}",
            golden.display(),
            first_difference + 1,
            actual.lines().nth(first_difference).unwrap_or(""),
            expected.lines().nth(first_difference).unwrap_or(""),
        );
    }
}
