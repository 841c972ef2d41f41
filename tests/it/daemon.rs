//! The daemon under crashes, signals and failing sinks.

use std::collections::HashSet;
use std::time::Duration;

use crate::harness::{
    self, ids, multiplicity, signal, stderr, stdout, wait_with_limit, ConfigBuilder, TestRandom,
    Workspace,
};

const TOTAL: u64 = 12_000;
const BATCH_ROWS: u64 = 250;

/// A config: simulator with every entry forwarded, one file sink; `pipeline`
/// adds `[pipeline]` keys.
fn config(workspace: &Workspace, events_per_second: u64, pipeline: &str) -> String {
    workspace.config(
        &ConfigBuilder::simulator(TOTAL, events_per_second)
            .source(&format!("batch_rows = {BATCH_ROWS}\npoll_interval = \"200ms\""))
            .pipeline(
                "max_batches_in_flight = 1\nretry_initial_backoff = \"50ms\"\nretry_max_backoff = \"200ms\"",
            )
            .pipeline(pipeline)
            .file_sink("events.ndjson"),
    )
}

/// Waits (at most 30 s) until `condition` holds; under load a fixed sleep is not enough.
fn wait_for(what: &str, condition: impl FnMut() -> bool) {
    harness::wait_for(what, Duration::from_secs(30), condition);
}

/// The ids of an uninterrupted run with the same stream.
fn reference_ids() -> Vec<String> {
    let workspace = Workspace::new();
    let config = config(&workspace, 0, "");
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let ids = ids(&workspace.events("events.ndjson"));
    assert_eq!(ids.len() as u64, TOTAL);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len() as u64,
        TOTAL,
        "reference run has duplicates"
    );
    ids
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_repeats_at_most_the_last_batch() {
    let expected = reference_ids();
    let workspace = Workspace::new();
    let config = config(&workspace, 6_000, "");
    let mut random = TestRandom::from_env_or_time();
    let mut run_lines: Vec<Vec<String>> = Vec::new();
    let mut seen = 0usize;
    for _ in 0..5 {
        let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
        std::thread::sleep(Duration::from_millis(150 + random.below(450)));
        signal(&child, "KILL");
        let _ = child.wait();
        let all = ids(&workspace.events("events.ndjson"));
        run_lines.push(all[seen..].to_vec());
        seen = all.len();
    }
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    let all = ids(&workspace.events("events.ndjson"));
    run_lines.push(all[seen..].to_vec());

    // Every event arrived, and nothing that was not in the stream.
    let union: HashSet<&String> = all.iter().collect();
    let wanted: HashSet<&String> = expected.iter().collect();
    assert_eq!(union, wanted, "the union of all runs is not the stream");
    assert!(
        run_lines.iter().take(5).any(|lines| !lines.is_empty()),
        "no kill landed mid-stream"
    );

    // A run repeats only the batch that was written but not yet committed
    // when the run before was killed: the first lines of a run may be the
    // last batch of everything written so far (whole, from its start, or cut
    // short when this run was killed while writing it again); every other
    // line is new. (A run killed before its first delivery writes nothing.)
    let mut total_duplicates = 0;
    let mut frontier: Vec<&String> = Vec::new();
    let mut written_ids: HashSet<&String> = HashSet::new();
    for lines in &run_lines {
        let repeated = lines
            .iter()
            .take_while(|id| written_ids.contains(id))
            .count();
        if repeated > 0 {
            let at = frontier
                .iter()
                .position(|id| **id == lines[0])
                .expect("a repeated line was written before");
            assert!(
                (frontier.len() - at) as u64 <= BATCH_ROWS,
                "the repeats start {} lines before the end of what was written, more than one batch",
                frontier.len() - at
            );
            assert_eq!(
                frontier[at..at + repeated].to_vec(),
                lines[..repeated].iter().collect::<Vec<_>>(),
                "repeats are not the last batch written"
            );
            assert!(
                at + repeated == frontier.len() || repeated == lines.len(),
                "the run went on past a batch it resent only in part"
            );
        }
        assert!(
            lines[repeated..].iter().all(|id| !written_ids.contains(id)),
            "a duplicate outside the resent batch"
        );
        for id in &lines[repeated..] {
            frontier.push(id);
            written_ids.insert(id);
        }
        total_duplicates += repeated;
    }
    let counts = multiplicity(&all);
    assert_eq!(
        counts.values().map(|count| count - 1).sum::<usize>(),
        total_duplicates
    );
    // And the stream order held: the de-duplicated output is the reference order.
    let mut seen_ids = HashSet::new();
    let ordered: Vec<&String> = all.iter().filter(|id| seen_ids.insert(*id)).collect();
    assert_eq!(ordered, expected.iter().collect::<Vec<_>>());
}

#[test]
fn sigterm_drains_commits_and_exits_zero_within_the_grace() {
    let expected = reference_ids();
    let workspace = Workspace::new();
    let config = config(&workspace, 4_000, "shutdown_grace = \"5s\"");
    let mut child = workspace.spawn(&["run", "-c", &config]);
    wait_for("the first delivered events", || {
        workspace.events_so_far("events.ndjson").len() >= 500
    });
    signal(&child, "TERM");
    let (status, took) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let first = ids(&workspace.events("events.ndjson"));
    assert!(
        !first.is_empty() && (first.len() as u64) < TOTAL,
        "stopped after {} events",
        first.len()
    );
    assert!(
        workspace.log().contains("shutdown requested"),
        "{}",
        workspace.log()
    );

    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let all = ids(&workspace.events("events.ndjson"));
    assert_eq!(
        all, expected,
        "after a clean stop nothing is lost and nothing repeats"
    );
}

#[test]
fn sink_outage_is_retried_with_backoff_until_it_recovers() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "auditfwd.toml",
        r#"
[source]
batch_rows = 100
[source.simulator]
total_events = 1000
events_per_second = 0
[state]
dir = "data"
[pipeline]
retry_initial_backoff = "100ms"
retry_max_backoff = "400ms"
[[sinks]]
type = "file"
path = "later/events.ndjson"
"#,
    );
    let mut child = workspace.spawn(&[
        "run",
        "-c",
        config.to_str().unwrap(),
        "--exit-when-caught-up",
    ]);
    wait_for("three delivery attempts", || {
        workspace.log().contains("attempt=3")
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "gave up instead of retrying: {}",
        workspace.log()
    );
    let log = workspace.log();
    assert!(log.contains("not reachable yet"), "{log}");
    assert!(
        log.contains("retrying") && log.contains("attempt=3"),
        "{log}"
    );
    std::fs::create_dir(workspace.path("later")).unwrap();
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    let events = workspace.events("later/events.ndjson");
    let distinct: HashSet<_> = ids(&events).into_iter().collect();
    assert_eq!(distinct.len(), events.len(), "duplicates after an outage");
    assert!(!events.is_empty());
    assert!(
        workspace.log().contains("delivered after retrying"),
        "{}",
        workspace.log()
    );
}

/// Two file sinks, the second failing for good (its directory is missing);
/// the default filter; `policy` for `on_permanent_error`; `pipeline` adds keys.
fn failing_sink_config(policy: &str, pipeline: &str) -> ConfigBuilder {
    ConfigBuilder::new()
        .source("batch_rows = 100")
        .table("source.simulator", "total_events = 600\nevents_per_second = 0")
        .table("state", "dir = \"data\"")
        .pipeline(&format!(
            "retry_initial_backoff = \"20ms\"\nretry_max_backoff = \"40ms\"\nretry_max_attempts = 3\n\
             on_permanent_error = \"{policy}\"\ndead_letter_path = \"dead.ndjson\""
        ))
        .pipeline(pipeline)
        .file_sink("good.ndjson")
        .file_sink("missing-dir/events.ndjson")
}

#[test]
fn permanent_error_with_stop_policy_exits_69_and_commits_nothing_undelivered() {
    let workspace = Workspace::new();
    let config = workspace.config(&failing_sink_config("stop", ""));
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(69), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("missing-dir/events.ndjson")
            && message.contains("gave up after 3 attempts"),
        "{message}"
    );
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(
        stdout(&show).contains("no checkpoint"),
        "checkpoint moved past an undelivered batch: {}",
        stdout(&show)
    );
}

#[test]
fn permanent_error_with_dead_letter_policy_sets_the_batch_aside_and_goes_on() {
    let workspace = Workspace::new();
    // This sink refuses every batch: without lifting the brake it would count as down.
    let config = workspace.config(&failing_sink_config(
        "dead_letter",
        "dead_letter_max_consecutive = 0",
    ));
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let good: HashSet<String> = ids(&workspace.events("good.ndjson")).into_iter().collect();
    let dead = workspace.events("dead.ndjson");
    assert!(!good.is_empty());
    let dead_ids: HashSet<String> = dead
        .iter()
        .map(|line| line["event"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        dead_ids, good,
        "every event the failing sink could not take is in the dead-letter file"
    );
    assert!(dead.iter().all(|line| line["dead_letter"]["sink"]
        .as_str()
        .unwrap()
        .contains("missing-dir")));
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(
        stdout(&show).contains("\"sequence_number\""),
        "{}",
        stdout(&show)
    );
}

#[test]
fn unusable_sink_path_fails_at_start_up_before_reading() {
    let workspace = Workspace::new();
    std::fs::create_dir(workspace.path("a-directory")).unwrap();
    let output = workspace.run(&[
        "run",
        "--set",
        "sinks=[{type=\"file\",path=\"a-directory\"}]",
        "--exit-when-caught-up",
    ]);
    assert_eq!(output.status.code(), Some(69), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("a-directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn second_daemon_and_checkpoint_tools_refuse_a_state_dir_in_use() {
    let workspace = Workspace::new();
    let config = config(&workspace, 50, "");
    let mut child = workspace.spawn(&["run", "-c", &config]);
    wait_for("the first daemon to hold the state directory", || {
        workspace.log().contains("sink ready")
    });
    let second = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(second.status.code(), Some(73), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("already running"),
        "{}",
        stderr(&second)
    );
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert_eq!(show.status.code(), Some(73), "{}", stderr(&show));
    assert!(
        stderr(&show).contains("already running"),
        "{}",
        stderr(&show)
    );
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
}

#[test]
fn damaged_state_dir_is_a_clear_error_not_a_panic() {
    let workspace = Workspace::new();
    workspace.write("state-is-a-file", "not a directory");
    let output = workspace.run(&[
        "run",
        "--set",
        "state.dir=state-is-a-file",
        "--exit-when-caught-up",
    ]);
    assert_eq!(output.status.code(), Some(73), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("state-is-a-file"),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));

    std::fs::create_dir(workspace.path("garbage")).unwrap();
    workspace.write("garbage/db", &"\u{1}garbage".repeat(5000));
    workspace.write("garbage/conf", "segment_size: banana\n");
    let output = workspace.run(&["run", "--set", "state.dir=garbage", "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(73), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[test]
fn checkpoint_set_moves_the_position_and_show_prints_it() {
    let workspace = Workspace::new();
    let config = config(&workspace, 0, "");
    // Entry 2999 of the stream: after `set`, the run delivers only the rest.
    let reference = reference_ids();
    let last_kept = &reference[2999];
    let (system, rest) = last_kept.split_once(':').unwrap();
    let (receiver, sequence) = rest.rsplit_once(':').unwrap();
    let output = workspace.run(&[
        "checkpoint",
        "set",
        "-c",
        &config,
        "--system",
        system,
        "--receiver",
        receiver,
        "--sequence",
        sequence,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(
        stdout(&show).contains(&format!("\"sequence_number\": {sequence}")),
        "{}",
        stdout(&show)
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        ids(&workspace.events("events.ndjson")),
        reference[3000..].to_vec()
    );

    let cleared = workspace.run(&["checkpoint", "clear", "-c", &config]);
    assert_eq!(cleared.status.code(), Some(0));
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(stdout(&show).contains("no checkpoint"), "{}", stdout(&show));
}

#[test]
fn a_sink_that_refuses_everything_trips_the_dead_letter_brake_instead_of_filling_the_disk() {
    use std::os::unix::fs::PermissionsExt;
    let workspace = Workspace::new();
    let config = workspace.config(
        &failing_sink_config("dead_letter", "shutdown_grace = \"1s\"")
            .table("filter", "entry_types = []\nexclude_users = []")
            .table("sessions", "enabled = false"),
    );
    let mut child = workspace.spawn(&["run", "-c", &config]);
    wait_for("the brake to engage", || {
        workspace.log().contains("treated as down")
    });
    // Three batches of 100 were set aside; then the brake held.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(workspace.events("dead.ndjson").len(), 300);
    let mode = std::fs::metadata(workspace.path("dead.ndjson"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "dead-letter file mode {mode:o}");
    assert!(child.try_wait().unwrap().is_none(), "{}", workspace.log());
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert_eq!(
        show.status.code(),
        Some(73),
        "the state directory is in use"
    );
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    // The checkpoint covers the three dead-lettered batches and nothing after.
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    let good = ids(&workspace.events("good.ndjson"));
    assert!(
        stdout(&show).contains(&format!(
            "\"sequence_number\": {}",
            good[299].rsplit(':').next().unwrap()
        )),
        "{}",
        stdout(&show)
    );
}
