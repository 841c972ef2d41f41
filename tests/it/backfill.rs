//! `auditfwd backfill`: a closed range of the lab's journal into a sink while
//! the daemon runs, exact, the live checkpoint untouched, resumable after
//! SIGINT, progress lines when not on a terminal.

use std::collections::HashSet;
use std::time::Duration;

use crate::harness::{signal, stderr, wait_for, wait_with_limit, ConfigBuilder, Lab, Workspace};

/// Source and state only: sinks come from the command line of each run.
fn configure(workspace: &Workspace, lab: &Lab) -> String {
    // These tests check the journal read exactly: no derived session events.
    workspace.lab_config(
        &ConfigBuilder::lab(lab)
            .without_sessions()
            .source("batch_rows = 200")
            .every_entry()
            .file_sink("live.ndjson")
            .file_sink("backfill.ndjson"),
    )
}

fn backfill(
    workspace: &Workspace,
    config: &str,
    extra_env: &[(&str, &str)],
) -> std::process::Child {
    let mut command = workspace.command(&[
        "backfill",
        "-c",
        config,
        "--from",
        "2026-10-01T08:20:00",
        "--to",
        "2026-10-01T08:40:00",
        "--sink",
        "file:backfill.ndjson",
    ]);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    command
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the backfill")
}

fn read_ids(path: &std::path::Path) -> Vec<String> {
    if !path.exists() {
        return Vec::new();
    }
    crate::harness::ids(&crate::harness::read_events(path))
}

/// The ids written so far to a file a daemon is still writing.
fn ids_so_far(path: &std::path::Path) -> Vec<String> {
    crate::harness::ids(&crate::harness::read_events_so_far(path))
}

#[test]
fn a_range_backfills_exactly_beside_the_daemon_and_resumes_after_sigint() {
    let lab = Lab::new("backfill");
    // 6,000 entries, one a second from 08:00:00, 1,500 to a receiver.
    lab.sql(
        "SELECT lab.generate(6000, 3, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 1500)",
    );
    let expected: Vec<String> = lab.all_ids(
        "X.\"ENTRY_TIMESTAMP\" BETWEEN TIMESTAMP '2026-10-01 08:20:00' AND TIMESTAMP '2026-10-01 08:40:00'",
    );
    assert!(expected.len() > 1000, "{}", expected.len());
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab);

    // The daemon runs, live, into its own sink, and catches up.
    let mut daemon = workspace.spawn(&[
        "run",
        "-c",
        &config,
        "--set",
        "sinks=[{type=\"file\",path=\"live.ndjson\"}]",
    ]);
    let live = workspace.path("live.ndjson");
    wait_for("the daemon to catch up", Duration::from_secs(60), || {
        ids_so_far(&live).len() >= 6000
    });

    // A backfill beside it, stopped by SIGINT while its reader is stuck on its
    // fourth poll (so part of the range is committed, the rest is not).
    let mut first = backfill(
        &workspace,
        &config,
        &[("AUDITFWD_FAILPOINTS", "reader.poll=wedge@4")],
    );
    let target = workspace.path("backfill.ndjson");
    wait_for("the backfill to deliver", Duration::from_secs(30), || {
        !ids_so_far(&target).is_empty()
    });
    std::thread::sleep(Duration::from_millis(500));
    signal(&first, "INT");
    let (status, _) = wait_with_limit(&mut first, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    let partial = read_ids(&target);
    assert!(
        !partial.is_empty() && partial.len() < expected.len(),
        "the interrupted backfill should have delivered part of the range: {} of {}",
        partial.len(),
        expected.len()
    );

    // The same command again continues: the union is exactly the range, in order.
    let second = backfill(&workspace, &config, &[]);
    let output = second.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("backfill: ") && text.contains("journal entries"),
        "progress lines: {text}"
    );
    let got = read_ids(&target);
    let unique: Vec<&String> = {
        let mut seen = HashSet::new();
        got.iter().filter(|id| seen.insert(id.as_str())).collect()
    };
    assert_eq!(
        unique.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
        expected.iter().map(String::as_str).collect::<Vec<_>>(),
        "exactly the range, in journal order (repeats only across the interruption)"
    );
    assert!(
        got.len() - unique.len() <= 200,
        "repeated at most one batch"
    );

    // The live daemon was not disturbed: it stops cleanly, its checkpoint is
    // at the journal's last entry and its sink holds every entry once.
    signal(&daemon, "INT");
    let (status, _) = wait_with_limit(&mut daemon, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0));
    let all = lab.all_ids("TRUE");
    assert_eq!(read_ids(&live), all);
    let shown = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let last = all.last().unwrap();
    let sequence = last.rsplit(':').next().unwrap();
    assert!(
        String::from_utf8_lossy(&shown.stdout)
            .contains(&format!("\"sequence_number\": {sequence}")),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );

    // A finished range run again reads nothing more.
    let again = backfill(&workspace, &config, &[])
        .wait_with_output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(read_ids(&target), got);
}

#[test]
fn a_backfill_needs_an_odbc_source_and_an_ordered_range() {
    let workspace = Workspace::new();
    let output = workspace.run(&[
        "backfill",
        "--from",
        "2026-10-01T08:00:00",
        "--to",
        "2026-10-01T09:00:00",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("source.kind"),
        "{}",
        stderr(&output)
    );
    let output = workspace.run(&[
        "backfill",
        "--set",
        "source.kind=\"odbc\"",
        "--set",
        "source.odbc.connection_string=\"DSN=x\"",
        "--from",
        "2026-10-01T09:00:00",
        "--to",
        "2026-10-01T08:00:00",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not after"),
        "{}",
        stderr(&output)
    );
}
