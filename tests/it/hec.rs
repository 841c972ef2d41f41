//! The Splunk HEC sink against the HEC stand-in (tests/support/hec_standin.py),
//! which follows Splunk's documented protocol, indexer acknowledgement included.

use std::collections::HashSet;
use std::time::Duration;

use crate::harness::config::merged;
use crate::harness::{ids, signal, stderr, stdout, ConfigBuilder, HecStandin, Workspace};

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// 600 simulator entries into a file sink and the stand-in; `hec` and
/// `pipeline` add or replace keys of their sections.
fn configure(workspace: &Workspace, standin: &HecStandin, hec: &str, pipeline: &str) -> String {
    let hec_sink = merged(
        &format!(
            "type = \"splunk_hec\"\nendpoint = \"http://127.0.0.1:{}\"\ntoken_file = \"hec.token\"\n\
             index = \"ibmi\"\nack_timeout = \"1s\"",
            standin.port
        ),
        hec,
    );
    workspace.config(
        &ConfigBuilder::simulator(600, 0)
            .source("batch_rows = 100")
            .pipeline("retry_initial_backoff = \"50ms\"\nretry_max_backoff = \"300ms\"")
            .pipeline(pipeline)
            .file_sink("events.ndjson")
            .sink(&hec_sink),
    )
}

/// Runs to completion and checks every delivered event was indexed at least once.
fn run_and_check_nothing_lost(extra: &[&str], hec: &str) -> (Workspace, HecStandin, String) {
    run_and_check_nothing_lost_with(extra, hec, "")
}

fn run_and_check_nothing_lost_with(
    extra: &[&str],
    hec: &str,
    pipeline: &str,
) -> (Workspace, HecStandin, String) {
    let workspace = Workspace::new();
    workspace.write("hec.token", &format!("{TOKEN}\n"));
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &[&["--ack", "--ack-read-once"], extra].concat(),
    );
    let config = configure(&workspace, &standin, hec, pipeline);
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let expected: HashSet<String> = ids(&workspace.events("events.ndjson"))
        .into_iter()
        .collect();
    assert_eq!(expected.len(), 600);
    let indexed: HashSet<String> = standin.indexed_ids().into_iter().collect();
    let missing: Vec<_> = expected.difference(&indexed).collect();
    assert!(
        missing.is_empty(),
        "{} events never indexed, e.g. {:?}\n{}",
        missing.len(),
        missing.first(),
        stderr(&output)
    );
    let log = stderr(&output);
    assert!(
        log.contains("Splunk HEC healthy") || log.contains("health check answered"),
        "the start-up health check is reported: {log}"
    );
    (workspace, standin, log)
}

#[test]
fn clean_run_indexes_everything_with_correct_envelopes_gzip_and_bounded_bodies() {
    let (workspace, standin, _) = run_and_check_nothing_lost(&[], "max_batch_bytes = 20000");
    let indexed = standin.indexed();
    assert_eq!(indexed.len(), 600, "no duplicates without faults");
    let events = workspace.events("events.ndjson");
    let by_id: std::collections::HashMap<&str, &serde_json::Value> = events
        .iter()
        .map(|event| (event["event_id"].as_str().unwrap(), event))
        .collect();
    for line in &indexed {
        let envelope = &line["envelope"];
        let event = by_id[envelope["event"]["event_id"].as_str().unwrap()];
        assert_eq!(&envelope["event"], event, "the event is the native record");
        assert_eq!(envelope["host"], event["system_name"]);
        assert_eq!(envelope["index"], "ibmi");
        assert_eq!(envelope["sourcetype"], "ibmi:audit:native");
        let instant =
            chrono::DateTime::parse_from_rfc3339(event["entry_timestamp"].as_str().unwrap())
                .unwrap();
        let expected =
            instant.timestamp() as f64 + f64::from(instant.timestamp_subsec_micros()) / 1e6;
        let time = envelope["time"].as_f64().expect("time is a number");
        assert!(
            (time - expected).abs() < 5e-7,
            "time to the microsecond: {time} vs {expected}"
        );
    }
    let stats = standin.stats();
    assert!(stats["gzip_requests"].as_u64().unwrap() > 0);
    assert!(
        stats["max_body_bytes"].as_u64().unwrap() <= 20_000,
        "{stats}"
    );
    assert!(
        stats["event_requests"].as_u64().unwrap() > 6,
        "batches were split: {stats}"
    );
}

#[test]
fn server_busy_and_throttling_are_retried_honouring_retry_after() {
    // Retry-After is obeyed up to pipeline.retry_max_backoff (a peer cannot park
    // the sink for a year), so the cap is set above the stand-in's 1 s here.
    let (_, standin, log) = run_and_check_nothing_lost_with(
        &["--fault", "busy:3", "--fault", "throttle:2"],
        "",
        "retry_max_backoff = \"2s\"",
    );
    // The pipeline's own backoff here starts at 50ms and doubles for at most
    // 5 retries (≤ 800ms); Retry-After: 1 (below the 2s cap) stretches it.
    assert!(
        log.contains("retry_in=1s"),
        "Retry-After was not honoured: {log}"
    );
    let stats = standin.stats();
    assert_eq!(stats["rejected"]["503"], 3, "{stats}");
    assert_eq!(stats["rejected"]["429"], 2, "{stats}");
}

#[test]
fn a_retry_after_of_a_year_is_capped_by_retry_max_backoff() {
    let workspace = Workspace::new();
    workspace.write("hec.token", &format!("{TOKEN}\n"));
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &["--ack", "--fault", "busy:2", "--retry-after", "31536000"],
    );
    // retry_max_backoff is 300ms in this configuration.
    let config = configure(&workspace, &standin, "", "");
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    // Obeyed, the first Retry-After would park the sink for a year.
    let (status, _) =
        crate::harness::wait_with_limit(&mut child, std::time::Duration::from_secs(60));
    let log = workspace.log();
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(standin.stats()["rejected"]["503"], 2);
    assert!(
        log.contains("retry_in=300ms"),
        "Retry-After was not capped: {log}"
    );
    assert_eq!(standin.indexed().len(), 600);
}

#[test]
fn connection_resets_are_retried() {
    let (_, standin, _) = run_and_check_nothing_lost(&["--fault", "reset:3"], "");
    assert_eq!(standin.stats()["rejected"]["reset"], 3);
}

#[test]
fn acks_that_never_come_are_resent_after_the_timeout() {
    let (_, standin, _) = run_and_check_nothing_lost(&["--fault", "ack-never:2"], "");
    let lost = standin.stats()["lost_requests"]
        .as_u64()
        .expect("the stand-in counts lost requests");
    assert!(lost >= 2, "the ack-never fault did not fire: {lost}");
}

#[test]
fn acks_that_come_false_or_slowly_are_waited_for() {
    run_and_check_nothing_lost(&["--fault", "ack-false:4"], "");
    run_and_check_nothing_lost(&["--fault", "slow-ack:2"], "ack_timeout = \"5s\"");
}

#[test]
fn without_indexer_ack_a_200_with_code_0_acknowledges() {
    let workspace = Workspace::new();
    workspace.write("hec.token", TOKEN);
    let standin = HecStandin::start(workspace.dir.path(), TOKEN, &[]);
    let config = configure(
        &workspace,
        &standin,
        "indexer_ack = false\ncompression = \"none\"",
        "",
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(standin.indexed().len(), 600);
    assert_eq!(standin.stats()["gzip_requests"], 0);
}

#[test]
fn a_refused_token_stops_with_the_remedy_and_the_checkpoint_stays_behind() {
    let workspace = Workspace::new();
    workspace.write("hec.token", TOKEN);
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &["--ack", "--fault", "unauthorized-after:2"],
    );
    let config = configure(&workspace, &standin, "max_batch_bytes = 200000", "");
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(69), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("127.0.0.1:{}", standin.port))
            && message.contains("HEC code 3")
            && message.contains("token"),
        "{message}"
    );
    assert!(!message.contains(TOKEN), "the token leaked: {message}");
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    let committed: u64 = stdout(&show)
        .lines()
        .find(|line| line.contains("\"sequence_number\""))
        .and_then(|line| line.split(':').nth(1))
        .and_then(|number| number.trim().trim_end_matches(',').parse().ok())
        .unwrap_or(0);
    let indexed_sequences: HashSet<u64> = standin
        .indexed()
        .iter()
        .map(|line| {
            line["envelope"]["event"]["sequence_number"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let delivered_to_file = workspace.events("events.ndjson");
    for event in delivered_to_file
        .iter()
        .filter(|event| event["sequence_number"].as_u64().unwrap() <= committed)
    {
        assert!(
            indexed_sequences.contains(&event["sequence_number"].as_u64().unwrap()),
            "the checkpoint ({committed}) passed an event Splunk never indexed: {}",
            event["event_id"]
        );
    }
}

#[test]
fn invalid_data_goes_to_the_dead_letter_file_when_configured() {
    let workspace = Workspace::new();
    workspace.write("hec.token", TOKEN);
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &["--ack", "--fault", "invalid-after:2"],
    );
    let config = configure(
        &workspace,
        &standin,
        "",
        // Every request after the second is refused: lift the dead-letter brake,
        // which would otherwise (rightly) treat this sink as down.
        "on_permanent_error = \"dead_letter\"\ndead_letter_path = \"dead.ndjson\"\ndead_letter_max_consecutive = 0",
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dead: HashSet<String> = workspace
        .events("dead.ndjson")
        .iter()
        .map(|line| line["event"]["event_id"].as_str().unwrap().to_owned())
        .collect();
    let indexed: HashSet<String> = standin.indexed_ids().into_iter().collect();
    let all: HashSet<String> = ids(&workspace.events("events.ndjson"))
        .into_iter()
        .collect();
    assert!(!dead.is_empty());
    assert_eq!(
        dead.union(&indexed).cloned().collect::<HashSet<_>>(),
        all,
        "every event is indexed or dead-lettered"
    );
    assert!(workspace.events("dead.ndjson")[0]["dead_letter"]["error"]
        .as_str()
        .unwrap()
        .contains("HEC code 6"));
}

#[test]
fn the_token_is_redacted_from_printed_configuration() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "hec.toml",
        "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://splunk.example.com:8088\"\ntoken = \"s3cret-hec-token\"\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!stdout(&output).contains("s3cret-hec-token"));
    assert!(
        stdout(&output).contains("token = \"<redacted>\""),
        "{}",
        stdout(&output)
    );
    let missing = workspace.write(
        "nohec.toml",
        "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://splunk.example.com:8088\"\n",
    );
    let output = workspace.run(&["check-config", "-c", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("sinks[0].token"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_lost_ack_resends_only_its_batch_while_the_others_stay_acknowledged() {
    let workspace = Workspace::new();
    workspace.write("hec.token", TOKEN);
    // The first request's ack never turns true; acks otherwise come after 0.3 s.
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &["--ack", "--ack-delay", "0.3", "--fault", "ack-never:1"],
    );
    let config = configure(
        &workspace,
        &standin,
        "max_in_flight = 8\nack_poll_interval = \"100ms\"\nack_timeout = \"2s\"",
        "max_batches_in_flight = 8",
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stats = standin.stats();
    // Six batches of 100 events, one body each, plus the one resend.
    assert_eq!(stats["event_requests"], 7, "{stats}");
    let indexed: Vec<String> = standin.indexed_ids();
    let distinct: HashSet<&String> = indexed.iter().collect();
    assert_eq!(distinct.len(), 600);
    assert!(
        indexed.len() <= 700,
        "more than the lost batch was sent again"
    );
}

#[test]
fn kill_9_with_many_batches_in_flight_loses_nothing_and_repeats_at_most_what_was_in_flight() {
    let workspace = Workspace::new();
    workspace.write("hec.token", TOKEN);
    // A fast file sink next to a slow HEC (acks after 1 s): the file sink runs
    // ahead, the HEC sink holds up to 8 batches in flight.
    let standin = HecStandin::start(workspace.dir.path(), TOKEN, &["--ack", "--ack-delay", "1"]);
    let config = configure(
        &workspace,
        &standin,
        "max_in_flight = 8\nack_poll_interval = \"100ms\"\nack_timeout = \"20s\"",
        "max_batches_in_flight = 8",
    );
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    let started = std::time::Instant::now();
    while standin.indexed().len() < 200 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{}",
            workspace.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::harness::signal(&child, "KILL");
    let _ = child.wait();
    // The checkpoint never passed an event the slow sink had not acknowledged.
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    let indexed_before: HashSet<String> = standin.indexed_ids().into_iter().collect();
    if let Ok(checkpoint) = serde_json::from_str::<serde_json::Value>(&stdout(&show)) {
        let committed = checkpoint["cursor"]["sequence_number"].as_u64().unwrap();
        for event in workspace.events("events.ndjson") {
            if event["sequence_number"].as_u64().unwrap() <= committed
                && event["receiver_name"] == checkpoint["cursor"]["receiver_name"]
            {
                assert!(
                    indexed_before.contains(event["event_id"].as_str().unwrap()),
                    "the checkpoint ({committed}) passed {} which the slow sink never acknowledged",
                    event["event_id"]
                );
            }
        }
    }
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let indexed: Vec<String> = standin.indexed_ids();
    let distinct: HashSet<&String> = indexed.iter().collect();
    assert_eq!(distinct.len(), 600, "entries lost across kill -9");
    // At most max_batches_in_flight (8) batches of 100 are sent twice.
    assert!(
        indexed.len() - distinct.len() <= 800,
        "{} repeats",
        indexed.len() - distinct.len()
    );
}

#[test]
fn batches_waiting_for_acks_hold_their_compressed_bodies_not_their_events() {
    // Acks never turn true within the test: every batch the sink sends stays in
    // flight. In flight may reach 20 batches, events in memory only 150 (a
    // batch of 100 rows, more than 150 events with sessions, is alone):
    // reading goes on to 20 batches because the sink released the events of
    // the ones it sent, and stops there (backpressure).
    let workspace = Workspace::new();
    workspace.write("hec.token", &format!("{TOKEN}\n"));
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &["--ack", "--ack-delay", "3600"],
    );
    let hec = format!(
        "type = \"splunk_hec\"\nendpoint = \"http://127.0.0.1:{}\"\ntoken_file = \"hec.token\"\n\
         ack_timeout = \"1h\"\nmax_in_flight = 64",
        standin.port
    );
    let config = workspace.config(
        &ConfigBuilder::simulator(0, 0)
            .with_sessions()
            .source("batch_rows = 100")
            .pipeline(
                "max_batches_in_flight = 20\nmax_batches_in_memory = 2\nmax_events_in_memory = 150",
            )
            .table("telemetry", "listen = \"127.0.0.1:0\"")
            .sink(&hec),
    );
    let mut child = workspace.spawn(&["run", "-c", &config]);
    let port = crate::telemetry::telemetry_port(&workspace);
    let gauge = |body: &str, name: &str| -> u64 {
        body.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} ")))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in {body}")) as u64
    };
    let (mut most_in_memory, mut most_events) = (0, 0);
    let reached = crate::harness::wait::poll_until(Duration::from_secs(30), || {
        let (_, body) = crate::telemetry::get(port, "/metrics");
        most_in_memory = most_in_memory.max(gauge(&body, "auditfwd_batches_in_memory"));
        most_events = most_events.max(gauge(&body, "auditfwd_events_in_memory"));
        gauge(&body, "auditfwd_batches_in_flight") == 20
    });
    std::thread::sleep(Duration::from_secs(1));
    let (_, body) = crate::telemetry::get(port, "/metrics");
    signal(&child, "KILL");
    let _ = child.wait();
    assert!(
        reached,
        "20 batches never got in flight: {body}\n{}",
        workspace.log()
    );
    assert_eq!(gauge(&body, "auditfwd_batches_in_flight"), 20);
    // 20 batches read, plus at most the one the reader holds and the one in
    // its channel: reading stopped.
    let read = gauge(&body, "auditfwd_rows_read_total");
    assert!((2000..=2200).contains(&read), "rows read: {read}");
    // A batch of 100 rows takes at least 100 of the 150 events' room: one
    // at a time, and never more than one batch's events.
    assert!(
        most_in_memory <= 1,
        "events of {most_in_memory} batches in memory"
    );
    assert!(most_events <= 300, "{most_events} events in memory");
    assert_eq!(
        standin.stats()["accepted_requests"],
        20,
        "{}",
        standin.stats()
    );
}

#[test]
fn a_panicking_ack_poller_fails_the_run_with_exit_70_instead_of_resending_forever() {
    let workspace = Workspace::new();
    workspace.write("hec.token", &format!("{TOKEN}\n"));
    let standin = HecStandin::start(workspace.dir.path(), TOKEN, &["--ack"]);
    let config = configure(
        &workspace,
        &standin,
        "ack_poll_interval = \"100ms\"\nack_timeout = \"2s\"",
        "",
    );
    let output = workspace
        .command(&["run", "-c", &config, "--exit-when-caught-up"])
        .env("AUDITFWD_FAILPOINTS", "sink.hec.ack_poll=panic@1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(70), "{log}");
    assert!(
        log.contains(
            "indexer-acknowledgement poller panicked: failpoint sink.hec.ack_poll fired on hit 1"
        ),
        "{log}"
    );
}
