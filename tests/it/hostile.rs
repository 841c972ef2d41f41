//! Issue 13, as a careless or hostile operator would meet it: a lost checkpoint,
//! SIGHUP, `/dev/null` as a sink, the umask, `checkpoint set` typos and
//! `enrich` input that is too long, not UTF-8 or starts with a BOM.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{
    ids, signal, stderr, stdout, wait_for, wait_with_limit, ConfigBuilder, Workspace,
};

const TOTAL: u64 = 600;

fn config(workspace: &Workspace, events_per_second: u64, sink_path: &str) -> String {
    workspace.config(
        &ConfigBuilder::simulator(TOTAL, events_per_second)
            .source("batch_rows = 100\npoll_interval = \"200ms\"")
            .pipeline(
                "max_batches_in_flight = 1\nretry_initial_backoff = \"50ms\"\nretry_max_backoff = \"200ms\"",
            )
            .file_sink(sink_path),
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_lost_checkpoint_stops_the_run_until_the_operator_accepts_the_gap() {
    let workspace = Workspace::new();
    let config = config(&workspace, 0, "events.ndjson");
    let first = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(workspace.events("events.ndjson").len() as u64, TOTAL);

    // The volume under sled is replaced; the marker beside it survives.
    for entry in std::fs::read_dir(workspace.path("data")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == auditfwd::checkpoint::MARKER_FILE {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
    let refused = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(refused.status.code(), Some(73), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("auditfwd checkpoint set") && message.contains("--accept-lost-checkpoint"),
        "{message}"
    );
    assert_eq!(
        workspace.events("events.ndjson").len() as u64,
        TOTAL,
        "nothing may be read before the loss is accepted"
    );
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(stdout(&show).contains("was lost"), "{}", stdout(&show));

    let accepted = workspace.run(&[
        "run",
        "-c",
        &config,
        "--exit-when-caught-up",
        "--accept-lost-checkpoint",
    ]);
    assert_eq!(accepted.status.code(), Some(0), "{}", stderr(&accepted));
    let events = workspace.events("events.ndjson");
    let second_run = &events[TOTAL as usize..];
    assert_eq!(
        second_run[0]["event_action"], "audit_gap",
        "the second run starts with the gap: {}",
        second_run[0]
    );
    assert!(ids(second_run)[0].ends_with("#audit_gap"));
    assert_eq!(second_run.len() as u64, TOTAL + 1);
    // From now on it is an ordinary store again.
    let again = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn sighup_drains_and_commits_like_sigterm() {
    let workspace = Workspace::new();
    let config = config(&workspace, 100, "events.ndjson");
    let mut child = workspace.spawn(&["run", "-c", &config]);
    wait_for("some events", Duration::from_secs(30), || {
        workspace.events_so_far("events.ndjson").len() >= 100
    });
    signal(&child, "HUP");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    assert!(
        workspace.log().contains("SIGHUP received"),
        "{}",
        workspace.log()
    );
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(
        stdout(&show).contains("sequence_number"),
        "SIGHUP must commit what was delivered: {}",
        stdout(&show)
    );
}

#[test]
fn a_file_sink_at_dev_null_is_a_dry_run_not_a_retry_loop() {
    let workspace = Workspace::new();
    let config = config(&workspace, 0, "/dev/null");
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    assert!(!workspace.log().contains("retry"), "{}", workspace.log());
    assert_eq!(
        mode(Path::new("/dev/null")),
        0o666,
        "the device is left alone"
    );
}

#[test]
fn event_files_and_state_are_owner_only_under_a_permissive_umask() {
    let workspace = Workspace::new();
    let config = config(&workspace, 0, "out/events.ndjson");
    std::fs::create_dir(workspace.path("out")).unwrap();
    let output = Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(crate::harness::bin())
        .args(["run", "-c", &config, "--exit-when-caught-up"])
        .current_dir(workspace.dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(mode(&workspace.path("out/events.ndjson")), 0o600);
    let state = workspace.path("data");
    assert_eq!(mode(&state), 0o700);
    let mut seen = 0;
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        let wanted = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), wanted, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 2, "sled's files and the marker");
}

#[test]
fn checkpoint_set_refuses_empty_names_and_shows_a_bad_timestamp_as_typed() {
    let workspace = Workspace::new();
    let config = config(&workspace, 0, "events.ndjson");
    for (system, receiver) in [("", "/"), ("SYS1", "/AUDRCV0001"), ("SYS1", "QGPL/")] {
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
            "5",
        ]);
        assert_eq!(
            output.status.code(),
            Some(78),
            "{system:?} {receiver:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("empty"), "{}", stderr(&output));
    }
    let output = workspace.run(&[
        "checkpoint",
        "set",
        "-c",
        &config,
        "--system",
        "SYS1",
        "--receiver",
        "QGPL/AUDRCV0001",
        "--sequence",
        "5",
        "--timestamp",
        "yesterday",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("--timestamp yesterday:"), "{message}");
    assert!(!message.contains("Some("), "{message}");
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    assert!(stdout(&show).contains("no checkpoint"), "{}", stdout(&show));
}

const ROW: &str = r#"{"SYSTEM_NAME":"PROD1","RECEIVER_LIBRARY":"QGPL","RECEIVER_NAME":"AUDRCV0001","SEQUENCE_NUMBER":SEQNO,"ENTRY_TIMESTAMP":"2026-07-01 12:00:00","ENTRY_TYPE":"S","JOB_NAME":"JOB"}"#;

fn row(sequence: u64, job_name: &[u8]) -> Vec<u8> {
    let text = ROW.replace("SEQNO", &sequence.to_string());
    let (before, after) = text.split_once("JOB\"").unwrap();
    [before.as_bytes(), job_name, b"\"", after.as_bytes(), b"\n"].concat()
}

fn enrich_file(workspace: &Workspace, bytes: &[u8]) -> std::process::Output {
    let path = workspace.path("input");
    std::fs::write(&path, bytes).unwrap();
    workspace.run(&["enrich", "--input", path.to_str().unwrap()])
}

fn sequences(output: &std::process::Output) -> Vec<u64> {
    stdout(output)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["sequence_number"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn enrich_reads_a_bom_prefixed_json_lines_file_whole() {
    let workspace = Workspace::new();
    let input = [b"\xEF\xBB\xBF".as_slice(), &row(1, b"A"), &row(2, b"B")].concat();
    let output = enrich_file(&workspace, &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(sequences(&output), [1, 2]);
}

#[test]
fn enrich_keeps_a_row_with_a_non_utf8_byte_and_names_its_line() {
    let workspace = Workspace::new();
    let input = [row(1, b"CAF\xC9"), row(2, b"B")].concat();
    let output = enrich_file(&workspace, &input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(sequences(&output), [1, 2]);
    let message = stderr(&output);
    assert!(
        message.contains("line 1") && message.contains("U+FFFD"),
        "{message}"
    );
    assert!(stdout(&output).contains("CAF\u{fffd}"));
}

#[test]
fn enrich_refuses_an_overlong_line_by_number_and_goes_on() {
    let workspace = Workspace::new();
    let long = vec![b'A'; 2 << 20];
    let input = [row(1, b"A"), row(2, &long), row(3, b"C")].concat();
    let output = enrich_file(&workspace, &input);
    assert_eq!(output.status.code(), Some(65), "{}", stderr(&output));
    assert_eq!(sequences(&output), [1, 3]);
    let message = stderr(&output);
    assert!(
        message.contains("line 2") && message.contains("longer than"),
        "{message}"
    );
}

#[test]
fn a_blocked_stdout_does_not_keep_the_daemon_past_the_grace() {
    let workspace = Workspace::new();
    // stdout is a pipe nobody reads: once its buffer is full every write blocks.
    let mut child = workspace
        .command(&[
            "run",
            "--set",
            "source.simulator.events_per_second=0",
            "--set",
            "pipeline.shutdown_grace=\"1s\"",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(workspace.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    wait_for("the pipe to fill", Duration::from_secs(30), || {
        workspace.log().contains("sink ready")
    });
    std::thread::sleep(Duration::from_secs(2));
    signal(&child, "TERM");
    let (status, elapsed) = wait_with_limit(&mut child, Duration::from_secs(15));
    assert!(
        elapsed < Duration::from_secs(6),
        "exited {elapsed:?} after SIGTERM with a 1s grace: {}",
        workspace.log()
    );
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    drop(child.stdout.take());
}
