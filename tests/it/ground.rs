//! Nothing lost when operations move the ground: a renamed source, `[source]`
//! moved to `[[sources]]`, a second name for a system already followed, the
//! state directory removed under a running daemon, and a fleet with one
//! system stopped for good.

use std::time::Duration;

use crate::harness::config::lab_source;
use crate::harness::wait::wait_for_listener;
use crate::harness::{free_port, ids, stderr, stdout, wait_for, wait_with_limit, Lab, Workspace};
use crate::telemetry::get;

/// A `[[sources]]` entry (or `[source]` when `name` is None) on `lab`.
fn source(lab: &Lab, name: Option<&str>, start_at: &str) -> String {
    lab_source(
        lab,
        name,
        "batch_rows = 100",
        &format!("start_at = \"{start_at}\""),
    )
}

fn config(workspace: &Workspace, file: &str, sources: &[String], extra: &str) -> String {
    workspace.write("odbc.pw", "lab\n");
    let text = format!(
        "[filter]\nentry_types = []\nexclude_users = []\n[sessions]\nenabled = false\n[state]\ndir = \"data\"\n[pipeline]\nretry_initial_backoff = \"50ms\"\nretry_max_backoff = \"200ms\"\n{extra}\n[[sinks]]\ntype = \"file\"\npath = \"events-{{source}}.ndjson\"\n{}",
        sources.join("\n")
    );
    workspace.write(file, &text).to_str().unwrap().to_owned()
}

/// `n` JS entries of system `system`, an hour or more in the future (so
/// `start_at = "now"` reads them), `minute` minutes apart from other calls.
fn generate(lab: &Lab, n: u32, seed: u32, minute: u32, system: &str) {
    lab.sql(&format!(
        "SELECT lab.generate({n}, {seed}, date_trunc('second', now() AT TIME ZONE 'UTC') + INTERVAL '1 hour' + INTERVAL '{minute} minutes', INTERVAL '100 milliseconds', 100000, '{system}')"
    ));
}

fn run(workspace: &Workspace, config: &str) -> std::process::Output {
    workspace.run(&["run", "-c", config, "--exit-when-caught-up"])
}

#[test]
fn a_renamed_source_refuses_to_start_over_until_checkpoint_move_gives_it_its_position() {
    let lab = Lab::new("ground_rename");
    generate(&lab, 100, 1, 0, "SYSR");
    let workspace = Workspace::new();
    let first = config(
        &workspace,
        "a.toml",
        &[source(&lab, Some("prod"), "earliest")],
        "",
    );
    let output = run(&workspace, &first);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(workspace.events("events-prod.ndjson").len(), 100);
    // Down for a while; 50 entries are written meanwhile.
    generate(&lab, 50, 2, 10, "SYSR");
    let expected: Vec<String> = lab.all_ids("TRUE").into_iter().skip(100).collect();
    assert_eq!(expected.len(), 50);
    // Renamed, and `start_at = "now"`: a fresh start would skip the 50.
    let renamed = config(
        &workspace,
        "b.toml",
        &[source(&lab, Some("production"), "now")],
        "",
    );
    generate(&lab, 5, 3, 20, "SYSR");
    let output = run(&workspace, &renamed);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(78), "{text}");
    assert!(
        text.contains("belongs to no configured source"),
        "reported at start: {text}"
    );
    assert!(
        text.contains("checkpoint move")
            && text.contains("--from prod --to production")
            && text.contains("SYSR"),
        "{text}"
    );
    assert!(
        workspace.events("events-production.ndjson").is_empty(),
        "nothing delivered"
    );
    let moved = workspace.run(&[
        "checkpoint",
        "move",
        "-c",
        &renamed,
        "--from",
        "prod",
        "--to",
        "production",
    ]);
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    assert!(
        stdout(&moved).contains("checkpoint moved"),
        "{}",
        stdout(&moved)
    );
    let output = run(&workspace, &renamed);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("belongs to no configured source"), "{text}");
    let got = ids(&workspace.events("events-production.ndjson"));
    let mut wanted = expected;
    wanted.extend(lab.all_ids("TRUE").into_iter().skip(150));
    assert_eq!(got, wanted, "exactly the entries after the old checkpoint");
    // Moving again finds nothing to move.
    let again = workspace.run(&[
        "checkpoint",
        "move",
        "-c",
        &renamed,
        "--from",
        "prod",
        "--to",
        "production",
    ]);
    assert_eq!(again.status.code(), Some(78), "{}", stderr(&again));
}

#[test]
fn source_moved_to_sources_finds_its_checkpoint_with_move_from_dot() {
    let lab = Lab::new("ground_move");
    generate(&lab, 80, 4, 0, "SYSM");
    let workspace = Workspace::new();
    let single = config(
        &workspace,
        "single.toml",
        &[source(&lab, None, "earliest")],
        "",
    );
    let output = run(&workspace, &single);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    generate(&lab, 20, 5, 10, "SYSM");
    let fleet = config(
        &workspace,
        "fleet.toml",
        &[source(&lab, Some("main"), "now")],
        "",
    );
    let output = run(&workspace, &fleet);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--from . --to main"),
        "{}",
        stderr(&output)
    );
    let moved = workspace.run(&[
        "checkpoint",
        "move",
        "-c",
        &fleet,
        "--from",
        ".",
        "--to",
        "main",
    ]);
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    let output = run(&workspace, &fleet);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected: Vec<String> = lab.all_ids("TRUE").into_iter().skip(80).collect();
    assert_eq!(ids(&workspace.events("events-main.ndjson")), expected);
}

#[test]
fn a_second_name_for_a_system_already_followed_is_refused_before_anything_is_delivered() {
    let lab = Lab::new("ground_second");
    generate(&lab, 200, 6, 0, "SYSD");
    let workspace = Workspace::new();
    let one = config(
        &workspace,
        "one.toml",
        &[source(&lab, Some("a"), "earliest")],
        "",
    );
    let output = run(&workspace, &one);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Read to the end; now a second name for the same system is added.
    let two = config(
        &workspace,
        "two.toml",
        &[
            source(&lab, Some("a"), "earliest"),
            source(&lab, Some("b"), "earliest"),
        ],
        "",
    );
    let output = run(&workspace, &two);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(78), "{text}");
    assert!(
        text.contains("already followed by the checkpoint") && text.contains("SYSD"),
        "{text}"
    );
    assert!(
        workspace.events("events-b.ndjson").is_empty(),
        "b delivered nothing"
    );
    assert_eq!(
        workspace.events("events-a.ndjson").len(),
        200,
        "a sent nothing again"
    );
}

#[test]
fn the_state_directory_removed_while_running_stops_with_73_and_the_marker_keeps_the_position() {
    let lab = Lab::new("ground_vanish");
    generate(&lab, 300, 7, 0, "SYSV");
    let workspace = Workspace::new();
    let first = config(&workspace, "a.toml", &[source(&lab, None, "earliest")], "");
    let mut daemon = workspace.spawn(&["run", "-c", &first]);
    wait_for("300 events", Duration::from_secs(60), || {
        workspace.events_so_far("events-{source}.ndjson").len() >= 300
    });
    std::fs::remove_dir_all(workspace.path("data")).unwrap();
    generate(&lab, 30, 8, 10, "SYSV");
    let (status, _) = wait_with_limit(&mut daemon, Duration::from_secs(60));
    assert_eq!(status.code(), Some(73), "{}", workspace.log());
    assert!(
        workspace.log().contains("removed or replaced"),
        "{}",
        workspace.log()
    );
    // The next start, even with start_at = "now", refuses to begin afresh and
    // names the exact position to set.
    let now = config(&workspace, "b.toml", &[source(&lab, None, "now")], "");
    let output = run(&workspace, &now);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(73), "{text}");
    let command = text
        .split('`')
        .find(|part| part.starts_with("auditfwd checkpoint set"))
        .unwrap_or_else(|| panic!("no checkpoint set command: {text}"))
        .to_owned();
    let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
    args.extend(["-c", now.as_str()]);
    let set = workspace.run(&args);
    assert_eq!(set.status.code(), Some(0), "{}", stderr(&set));
    generate(&lab, 10, 9, 20, "SYSV");
    let output = run(&workspace, &now);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Every entry delivered, none lost; at most the last batch before the
    // removal repeated.
    let got = ids(&workspace.events("events-{source}.ndjson"));
    let unique: std::collections::BTreeSet<&String> = got.iter().collect();
    let all = lab.all_ids("TRUE");
    assert_eq!(unique.len(), all.len(), "{} of {}", unique.len(), all.len());
    assert!(
        got.len() - unique.len() <= 100,
        "{} repeated",
        got.len() - unique.len()
    );
}

#[test]
fn a_fleet_system_stopped_for_good_is_down_in_health_and_metrics() {
    let good = Lab::new("ground_fleet_good");
    generate(&good, 50, 10, 0, "GOOD");
    let bad = Lab::new("ground_fleet_bad");
    generate(&bad, 50, 11, 0, "BAD");
    let workspace = Workspace::new();
    let port = free_port();
    // The bad system's password is refused: exit 78 for it alone.
    let refused = source(&bad, Some("bad"), "earliest").replace(
        "password_file = \"odbc.pw\"",
        "password = \"wrong-password\"",
    );
    let fleet = config(
        &workspace,
        "fleet.toml",
        &[source(&good, Some("good"), "earliest"), refused.clone()],
        &format!("[telemetry]\nlisten = \"127.0.0.1:{port}\"\n[fleet]\nfailure_reminder = \"1s\""),
    );
    let mut daemon = workspace.spawn(&["run", "-c", &fleet]);
    wait_for("the good system's events", Duration::from_secs(60), || {
        workspace.events_so_far("events-good.ndjson").len() >= 50
    });
    wait_for_listener("telemetry", port, Duration::from_secs(30));
    wait_for("the bad system reported", Duration::from_secs(30), || {
        let (status, body) = get(port, "/health");
        status == 503 && body.contains("source bad: stopped for good (exit 78)")
    });
    let (_, metrics) = get(port, "/metrics");
    assert!(
        metrics.contains("auditfwd_up{source=\"bad\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auditfwd_up{source=\"good\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auditfwd_source_up{source=\"bad\"} 0"),
        "{metrics}"
    );
    wait_for("the reminder", Duration::from_secs(10), || {
        workspace.log().matches("system still stopped").count() >= 2
    });
    assert!(
        !workspace.log().contains("wrong-password"),
        "{}",
        workspace.log()
    );
    crate::harness::signal(&daemon, "TERM");
    let (status, _) = wait_with_limit(&mut daemon, Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(78),
        "the exit code still says a system failed"
    );

    // on_source_failure = "exit": the whole daemon stops.
    let workspace = Workspace::new();
    let fleet = config(
        &workspace,
        "fleet.toml",
        &[source(&good, Some("good"), "earliest"), refused],
        "[fleet]\non_source_failure = \"exit\"",
    );
    let mut daemon = workspace.spawn(&["run", "-c", &fleet]);
    let (status, _) = wait_with_limit(&mut daemon, Duration::from_secs(60));
    assert_eq!(status.code(), Some(78), "{}", workspace.log());
    assert!(
        workspace.log().contains("on_source_failure = \"exit\""),
        "{}",
        workspace.log()
    );
}
