//! Loud failures: panics and unexpected ends exit 70 with the checkpoint
//! intact, the watchdog stops only for a stuck reader, and every failure class
//! has its exit code (README, "Exit codes").

use std::collections::HashSet;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::harness::{ids, signal, stderr, stdout, wait_with_limit, ConfigBuilder, Workspace};

const TOTAL: u64 = 6000;

fn config(workspace: &Workspace, pipeline: &str) -> String {
    workspace.config(
        &ConfigBuilder::simulator(TOTAL, 0)
            .source("batch_rows = 250\npoll_interval = \"200ms\"")
            .pipeline(
                "max_batches_in_flight = 2\nretry_initial_backoff = \"50ms\"\nretry_max_backoff = \"200ms\"",
            )
            .pipeline(pipeline)
            .file_sink("events.ndjson"),
    )
}

/// The event id the stored checkpoint points at, if there is one.
fn checkpoint_id(workspace: &Workspace, config: &str) -> Option<String> {
    let show = workspace.run(&["checkpoint", "show", "-c", config]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    let text = stdout(&show);
    if text.starts_with("no checkpoint") {
        return None;
    }
    let checkpoint: serde_json::Value = serde_json::from_str(&text).expect("checkpoint JSON");
    let cursor = &checkpoint["cursor"];
    Some(format!(
        "{}:{}/{}:{}",
        cursor["system_name"].as_str().unwrap(),
        cursor["receiver_library"].as_str().unwrap(),
        cursor["receiver_name"].as_str().unwrap(),
        cursor["sequence_number"]
    ))
}

/// Runs with a failpoint, expects exit 70 naming the panic, then checks that
/// the checkpoint points at a delivered event and a clean rerun completes the
/// stream with nothing missing.
fn panic_exits_70_with_the_checkpoint_intact(failpoint: &str, panicked: &str) {
    let workspace = Workspace::new();
    let config = config(&workspace, "");
    let output = workspace
        .command(&["run", "-c", &config, "--exit-when-caught-up"])
        .env("AUDITFWD_FAILPOINTS", failpoint)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(70), "{}", stderr(&output));
    assert!(stderr(&output).contains(panicked), "{}", stderr(&output));
    let delivered = ids(&workspace.events("events.ndjson"));
    assert!(
        (delivered.len() as u64) < TOTAL,
        "the failpoint fired too late to test anything"
    );
    if let Some(checkpoint) = checkpoint_id(&workspace, &config) {
        assert!(
            delivered.contains(&checkpoint),
            "checkpoint {checkpoint} is past what was delivered"
        );
    }
    let rerun = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    let all: HashSet<String> = ids(&workspace.events("events.ndjson"))
        .into_iter()
        .collect();
    assert_eq!(all.len() as u64, TOTAL, "entries lost across the panic");
}

#[test]
fn a_panicking_reader_exits_70_and_commits_nothing_undelivered() {
    panic_exits_70_with_the_checkpoint_intact(
        "reader.poll=panic@8",
        "the source reader panicked: failpoint reader.poll fired on hit 8",
    );
}

#[test]
fn a_panicking_sink_task_exits_70_and_commits_nothing_undelivered() {
    panic_exits_70_with_the_checkpoint_intact(
        "sink.deliver=panic@6",
        "a sink task panicked: failpoint sink.deliver fired on hit 6",
    );
}

/// Collects WATCHDOG=1 arrival times (since start) for `duration`.
fn watchdog_pings(
    workspace: &Workspace,
    args: &[&str],
    failpoints: &str,
    duration: Duration,
) -> (Vec<Duration>, String) {
    let socket_path = workspace.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut child = workspace
        .command(args)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "400000")
        .env("AUDITFWD_FAILPOINTS", failpoints)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut pings = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < duration {
        if let Ok(length) = socket.recv(&mut buffer) {
            if &buffer[..length] == b"WATCHDOG=1" {
                pings.push(started.elapsed());
            }
        }
    }
    signal(&child, "KILL");
    let _ = wait_with_limit(&mut child, Duration::from_secs(10));
    (pings, workspace.log())
}

#[test]
fn watchdog_pings_stop_when_the_reader_is_stuck_in_a_poll() {
    let workspace = Workspace::new();
    let config = config(&workspace, "");
    // The 3rd poll never returns; the simulator's wedge limit is 5 s.
    let (pings, log) = watchdog_pings(
        &workspace,
        &["run", "-c", &config],
        "reader.poll=wedge@3",
        Duration::from_secs(9),
    );
    assert!(
        pings.iter().any(|at| *at < Duration::from_secs(4)),
        "no pings while the reader was fine: {pings:?}\n{log}"
    );
    assert!(
        pings.iter().all(|at| *at < Duration::from_secs(7)),
        "pings went on with the reader stuck: {pings:?}\n{log}"
    );
    assert!(log.contains("stuck in a poll"), "{log}");
}

#[test]
fn watchdog_pings_continue_while_a_sink_is_down_and_retrying() {
    let workspace = Workspace::new();
    let config = config(&workspace, "");
    // The file sink's directory does not exist: every delivery fails transiently.
    let (pings, log) = watchdog_pings(
        &workspace,
        &[
            "run",
            "-c",
            &config,
            "--set",
            "sinks=[{type=\"file\",path=\"missing/dir/events.ndjson\"}]",
        ],
        "",
        Duration::from_secs(9),
    );
    assert!(log.contains("retrying"), "the sink never failed: {log}");
    assert!(
        pings.iter().any(|at| *at > Duration::from_secs(7)),
        "pings stopped while only a sink was down: {pings:?}\n{log}"
    );
}

/// One run per class of the exit-code table.
#[test]
fn exit_codes_follow_one_table() {
    let workspace = Workspace::new();
    let config = config(&workspace, "");

    // 0: caught up, everything delivered.
    let done = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));

    // 78: configuration, including an unreadable secret file.
    let bad_key = workspace.run(&[
        "check-config",
        "-c",
        &config,
        "--set",
        "source.batch_rows=0",
    ]);
    assert_eq!(bad_key.status.code(), Some(78), "{}", stderr(&bad_key));
    let missing_secret = workspace.run(&[
        "run",
        "-c",
        &config,
        "--set",
        "sinks=[{type=\"splunk_hec\",endpoint=\"http://127.0.0.1:9\",token_file=\"no-such-token\"}]",
    ]);
    assert_eq!(
        missing_secret.status.code(),
        Some(78),
        "{}",
        stderr(&missing_secret)
    );
    assert!(
        stderr(&missing_secret).contains("token_file"),
        "{}",
        stderr(&missing_secret)
    );

    // 69: a peer refused for good (file sink path is a directory: permanent).
    std::fs::create_dir(workspace.path("a-directory")).unwrap();
    let refused = workspace.run(&[
        "run",
        "-c",
        &config,
        "--set",
        "sinks=[{type=\"file\",path=\"a-directory\"}]",
        "--exit-when-caught-up",
    ]);
    assert_eq!(refused.status.code(), Some(69), "{}", stderr(&refused));

    // 70: internal error.
    let internal = workspace
        .command(&[
            "run",
            "-c",
            &config,
            "--set",
            "state.dir=data70",
            "--exit-when-caught-up",
        ])
        .env("AUDITFWD_FAILPOINTS", "reader.poll=panic@1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(internal.status.code(), Some(70), "{}", stderr(&internal));

    // 73: state directory locked, the same from `run` and `checkpoint`.
    let mut holder = workspace.spawn(&[
        "run",
        "-c",
        &config,
        "--set",
        "source.simulator.total_events=0",
    ]);
    let started = Instant::now();
    while !workspace.log().contains("sink ready") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            workspace.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for args in [
        vec!["run", "-c", &config, "--exit-when-caught-up"],
        vec!["checkpoint", "show", "-c", &config],
        vec!["checkpoint", "clear", "-c", &config],
    ] {
        let locked = workspace.run(&args);
        assert_eq!(
            locked.status.code(),
            Some(73),
            "{args:?}: {}",
            stderr(&locked)
        );
    }
    signal(&holder, "TERM");
    let (status, _) = wait_with_limit(&mut holder, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

/// Errors are printed once, not once by the logger and once more by main.
#[test]
fn a_fatal_error_is_printed_once() {
    let workspace = Workspace::new();
    let config = config(&workspace, "");
    std::fs::create_dir(workspace.path("a-directory")).unwrap();
    let refused = workspace.run(&[
        "run",
        "-c",
        &config,
        "--set",
        "sinks=[{type=\"file\",path=\"a-directory\"}]",
        "--exit-when-caught-up",
    ]);
    let text = stderr(&refused);
    assert_eq!(
        text.matches("sinks[].path must name a file").count(),
        1,
        "{text}"
    );
}

/// A SIGTERM during start-up (here: a HEC health check the peer never answers)
/// is kept and drains the run once it starts; it does not kill the process.
#[test]
fn a_signal_during_start_up_drains_instead_of_killing() {
    let workspace = Workspace::new();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    workspace.write("hec.token", "t0ken\n");
    let config = config(&workspace, "");
    let sink = format!(
        "sinks=[{{type=\"splunk_hec\",endpoint=\"http://127.0.0.1:{port}\",token_file=\"hec.token\",request_timeout=\"4s\"}}]"
    );
    let mut child = workspace.spawn(&["run", "-c", &config, "--set", &sink]);
    let started = Instant::now();
    while !workspace.log().contains("auditfwd starting") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            workspace.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(30));
    drop(silent);
    assert_eq!(
        status.code(),
        Some(0),
        "killed instead of drained: {}",
        workspace.log()
    );
    assert!(
        workspace.log().contains("SIGTERM received"),
        "{}",
        workspace.log()
    );
}

#[test]
fn a_panic_on_the_main_path_exits_70_not_101() {
    let workspace = Workspace::new();
    let config = config(&workspace, "");
    for command in [
        vec!["run", "-c", config.as_str(), "--exit-when-caught-up"],
        vec!["check-config", "-c", config.as_str()],
    ] {
        let output = workspace
            .command(&command)
            .env("AUDITFWD_FAILPOINTS", "main=panic@1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(70), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("internal error: failpoint main fired on hit 1"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_panicking_file_writer_thread_exits_70_instead_of_being_retried_quietly() {
    panic_exits_70_with_the_checkpoint_intact(
        "sink.file.write=panic@3",
        "the writer thread panicked: failpoint sink.file.write fired on hit 3",
    );
}
