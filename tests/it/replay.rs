//! `auditfwd replay`: native events back out of a file (the file sink's
//! output, or a dead-letter file) into a sink, exactly, with bad lines
//! reported by number and nothing sent.

use crate::harness::{stderr, Workspace};

/// 3,000 simulator events (schema v2, every JS code) in `events.ndjson`.
fn produce(workspace: &Workspace) -> String {
    let output = workspace.run(&[
        "run",
        "--exit-when-caught-up",
        "--set",
        "source.simulator.total_events=3000",
        "--set",
        "source.simulator.events_per_second=0",
        "--set",
        "filter.entry_types=[]",
        "--set",
        "filter.exclude_users=[]",
        "--set",
        "state.dir=\"produce-state\"",
        "--set",
        "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    std::fs::read_to_string(workspace.path("events.ndjson")).unwrap()
}

fn replay(workspace: &Workspace, file: &str) -> std::process::Output {
    workspace.run(&[
        "replay",
        file,
        "--sink",
        "file",
        "--set",
        "sinks=[{type=\"file\",path=\"replayed.ndjson\"}]",
        "--set",
        "source.batch_rows=250",
    ])
}

#[test]
fn a_dead_letter_file_replays_into_a_sink_exactly() {
    let workspace = Workspace::new();
    let written = produce(&workspace);
    let dead_letters: String = written
        .lines()
        .map(|line| {
            format!(
                "{{\"dead_letter\":{{\"sink\":\"kafka:audit@broker:9092\",\"error\":\"refused\",\"failed_at\":\"2026-01-05T08:00:00.000000Z\"}},\"event\":{line}}}\n"
            )
        })
        .collect();
    let file = workspace.write("dead-letter.ndjson", &dead_letters);
    let output = replay(&workspace, file.to_str().unwrap());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "replay: {0}/{0} events (100%)",
            written.lines().count()
        )),
        "{}",
        stderr(&output)
    );
    // The same events, once each, in order, byte for byte.
    let replayed = std::fs::read_to_string(workspace.path("replayed.ndjson")).unwrap();
    assert_eq!(replayed.lines().count(), written.lines().count());
    assert!(
        replayed == written,
        "replayed events differ from the originals"
    );
}

#[test]
fn bad_lines_are_reported_by_number_and_nothing_is_sent() {
    let workspace = Workspace::new();
    let written = produce(&workspace);
    let mut lines: Vec<String> = written.lines().take(10).map(str::to_owned).collect();
    lines[4] = "{\"schema_version\":2,\"event_id\":\"truncated".into();
    lines[8] = "{\"hello\":\"world\"}".into();
    let file = workspace.write("mixed.ndjson", &(lines.join("\n") + "\n"));
    let output = replay(&workspace, file.to_str().unwrap());
    assert_eq!(output.status.code(), Some(65), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("line 5: not JSON"), "{text}");
    assert!(
        text.contains("line 9: not an auditfwd native event"),
        "{text}"
    );
    assert!(text.contains("2 line(s)"), "{text}");
    assert!(
        !workspace.path("replayed.ndjson").exists()
            || std::fs::read_to_string(workspace.path("replayed.ndjson"))
                .unwrap()
                .is_empty(),
        "nothing may be sent when a line is bad"
    );
}

#[test]
fn an_unknown_sink_is_a_configuration_error_naming_the_choices() {
    let workspace = Workspace::new();
    let file = workspace.write("empty.ndjson", "");
    let output = workspace.run(&[
        "replay",
        file.to_str().unwrap(),
        "--sink",
        "kafka",
        "--set",
        "sinks=[{type=\"file\",path=\"a.ndjson\"}]",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(stderr(&output).contains("file:"), "{}", stderr(&output));
}

#[test]
fn replay_refuses_what_would_never_end_or_land_in_an_unexpected_file() {
    let workspace = Workspace::new();
    let written = produce(&workspace);
    // Into the very file the sink writes: it would read its own output forever.
    let output = workspace.run(&[
        "replay",
        "events.ndjson",
        "--sink",
        "file",
        "--set",
        "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("the file the chosen sink writes"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(workspace.path("events.ndjson")).unwrap(),
        written
    );
    // A device never ends.
    let output = replay(&workspace, "/dev/zero");
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a regular file"),
        "{}",
        stderr(&output)
    );
    // A fleet's {source} template names no file for a replay.
    let output = workspace.run(&[
        "replay",
        "events.ndjson",
        "--sink",
        "file",
        "--set",
        "sinks=[{type=\"file\",path=\"out-{source}.ndjson\"}]",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(!workspace.path("out-{source}.ndjson").exists());
}

#[test]
fn sigterm_stops_a_replay_that_cannot_deliver_with_exit_0() {
    let workspace = Workspace::new();
    produce(&workspace);
    // A syslog peer that is not there: the replay retries with backoff.
    let port = crate::harness::free_port();
    let mut child = workspace
        .command(&[
            "replay",
            "events.ndjson",
            "--sink",
            "syslog",
            "--set",
            &format!("sinks=[{{type=\"syslog\",address=\"127.0.0.1:{port}\",transport=\"tcp\"}}]"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("replay.log")).unwrap())
        .spawn()
        .unwrap();
    crate::harness::wait_for("a retry", std::time::Duration::from_secs(30), || {
        std::fs::read_to_string(workspace.path("replay.log"))
            .unwrap_or_default()
            .contains("retry")
    });
    crate::harness::signal(&child, "TERM");
    let (status, _) =
        crate::harness::wait_with_limit(&mut child, std::time::Duration::from_secs(20));
    let log = std::fs::read_to_string(workspace.path("replay.log")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("stopped by a signal"), "{log}");
}

#[test]
fn replay_honours_retry_after_only_up_to_the_backoff_cap() {
    let workspace = Workspace::new();
    produce(&workspace);
    // The stand-in answers "busy" twice with Retry-After: 86400 (a day).
    let standin = crate::harness::HecStandin::start(
        &workspace.path(""),
        "replay-token",
        &["--ack", "--fault", "busy:2", "--retry-after", "86400"],
    );
    let endpoint = format!(
        "sinks=[{{type=\"splunk_hec\",endpoint=\"http://127.0.0.1:{}\",token=\"replay-token\"}}]",
        standin.port
    );
    let mut child = workspace
        .command(&[
            "replay",
            "events.ndjson",
            "--sink",
            "splunk_hec",
            "--set",
            &endpoint,
            "--set",
            "pipeline.retry_max_backoff=\"1s\"",
            "--set",
            "source.batch_rows=1000",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("replay.log")).unwrap())
        .spawn()
        .unwrap();
    // Bounded by the cap, not by a day: past the limit the test fails (a hang
    // guard, not a performance claim).
    let (status, _) =
        crate::harness::wait_with_limit(&mut child, std::time::Duration::from_secs(120));
    let log = std::fs::read_to_string(workspace.path("replay.log")).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("retry_in=1s"),
        "refused first, retried after the cap: {log}"
    );
    // Every line of the file: the 3,000 entries and their session events.
    let lines = std::fs::read_to_string(workspace.path("events.ndjson"))
        .unwrap()
        .lines()
        .count();
    assert!(lines > 3000);
    assert_eq!(standin.indexed_ids().len(), lines);
}
