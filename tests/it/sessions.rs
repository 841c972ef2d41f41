//! Sessions over a scripted journal in the lab: roll-overs, an IPL in the
//! middle of a session, a receiver deleted in the middle of another, and a
//! stop in between, against the real binary reading PostgreSQL over ODBC.

use crate::harness::{stderr, ConfigBuilder, Lab, Workspace};

fn configure(workspace: &Workspace, lab: &Lab) -> String {
    workspace.lab_config(
        &ConfigBuilder::lab(lab)
            .source("batch_rows = 3")
            .file_sink("events.ndjson"),
    )
}

/// The first half of the script: two receivers, three sessions under way.
const FIRST: &str = "
SELECT lab.attach_receiver('AUDRCV0001', at => '2026-10-01 07:59:00');
SELECT lab.add_entry('S', 'QPADEV0001', 'ALICE', 'INT', 'ALICE', '2026-10-01 08:00:00', '192.0.2.10', 50001, '100001');
SELECT lab.add_entry('P', 'QZDASOINIT', 'QUSER', 'PJ', 'QUSER', '2026-10-01 08:00:59', NULL, NULL, '200001');
SELECT lab.add_entry('M', 'QZDASOINIT', 'QUSER', 'PJ', 'QSECOFR', '2026-10-01 08:01:00', '203.0.113.66', 50002, '200001');
SELECT lab.add_entry('M', 'QZDASOINIT', 'QUSER', 'PJ', 'QUSER', '2026-10-01 08:38:00', '203.0.113.66', 50002, '200001');
SELECT lab.attach_receiver('AUDRCV0002', at => '2026-10-01 08:39:00');
SELECT lab.add_entry('T', 'QZDASOINIT', 'QUSER', 'PJ', 'BOB', '2026-10-01 08:40:00', '198.51.100.7', 50003, '200001');
SELECT lab.add_entry('E', 'QPADEV0001', 'ALICE', 'INT', 'ALICE', '2026-10-01 08:45:00', '192.0.2.10', 50001, '100001');
";

/// The rest: a swap to another user, an IPL, a receiver that is deleted.
const SECOND: &str = "
SELECT lab.add_entry('M', 'QZDASOINIT', 'QUSER', 'PJ', 'CAROL', '2026-10-01 08:50:00', '198.51.100.8', 50004, '200001');
SELECT lab.attach_receiver('AUDRCV0003', reset_sequence => true, at => '2026-10-01 09:30:00');
SELECT lab.add_entry('S', 'QPADEV0002', 'DAVE', 'INT', 'DAVE', '2026-10-01 09:31:00', '192.0.2.11', 50005, '100002');
SELECT lab.attach_receiver('AUDRCV0004', at => '2026-10-01 09:39:00');
SELECT lab.add_entry('S', 'QP0ZSPWP', 'EVE', 'BCI', 'EVE', '2026-10-01 09:40:00', '192.0.2.12', 50006, '300001');
SELECT lab.attach_receiver('AUDRCV0005', at => '2026-10-01 09:50:00');
SELECT lab.delete_receiver('AUDRCV0004');
SELECT lab.add_entry('E', 'QPADEV0002', 'DAVE', 'INT', 'DAVE', '2026-10-01 10:00:00', '192.0.2.11', 50005, '100002');
SELECT lab.add_entry('E', 'QP0ZSPWP', 'EVE', 'BCI', 'EVE', '2026-10-01 10:01:00', '192.0.2.12', 50006, '300001');
";

/// (action, user, end reason, duration) of every session event, in stream order.
fn sessions(events: &[serde_json::Value]) -> Vec<(String, String, String, String)> {
    events
        .iter()
        .filter(|event| event["session"].is_object())
        .map(|event| {
            let session = &event["session"];
            (
                event["event_action"].as_str().unwrap().to_owned(),
                session["user"].as_str().unwrap().to_owned(),
                session["end_reason"].as_str().unwrap_or("-").to_owned(),
                session["duration_seconds"].to_string(),
            )
        })
        .collect()
}

fn run_to_end(workspace: &Workspace, config: &str) {
    let output = workspace.run(&["run", "-c", config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_scripted_journal_gives_exactly_its_sessions_across_a_stop() {
    let lab = Lab::new("sessions_scripted");
    lab.sql(FIRST);
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab);
    // Stop after the first half: three sessions are open at the checkpoint.
    run_to_end(&workspace, &config);
    lab.sql(SECOND);
    run_to_end(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let expected = [
        ("session_start", "ALICE", "-", "null"),
        ("session_start", "QSECOFR", "-", "null"),
        ("session_end", "QSECOFR", "swap_back", "2220.0"),
        ("session_start", "BOB", "-", "null"),
        ("session_end", "ALICE", "job_end", "2700.0"),
        ("session_end", "BOB", "next_swap", "600.0"),
        ("session_start", "CAROL", "-", "null"),
        // The first entry after the IPL closes CAROL's session, end unknown.
        ("session_end", "CAROL", "ipl", "null"),
        ("session_start", "DAVE", "-", "null"),
        // AUDRCV0004 was deleted: the gap closes DAVE's session; his E says nothing.
        ("session_end", "DAVE", "audit_gap", "null"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| ((*a).into(), (*b).into(), (*c).into(), (*d).into()))
        .collect();
    assert_eq!(sessions(&events), expected);
    // The swap back to QUSER is filtered out ([filter] default) yet closed QSECOFR's
    // session; the session_end sits where that entry would be.
    assert!(!events
        .iter()
        .any(|event| event["js"]["real_user_profile"] == "QUSER"));
    let start = events
        .iter()
        .find(|event| {
            event["event_action"] == "session_start" && event["session"]["user"] == "QSECOFR"
        })
        .unwrap();
    assert_eq!(
        start["severity"], "critical",
        "QSECOFR over clear-text ODBC"
    );
    assert_eq!(start["session"]["method"], "database_server");
    assert_eq!(start["session"]["remote_address"], "203.0.113.66");
    let gap = events
        .iter()
        .position(|event| event["event_action"] == "audit_gap")
        .expect("an audit_gap for the deleted receiver");
    assert_eq!(events[gap + 1]["session"]["end_reason"], "audit_gap");

    // One unbroken run over the whole journal gives the same session events.
    let whole = Workspace::new();
    let config = configure(&whole, &lab);
    run_to_end(&whole, &config);
    assert_eq!(sessions(&whole.events("events.ndjson")), expected);

    // And the export as a table, from a file, without a SIEM.
    let table = workspace.run(&[
        "sessions",
        "--input",
        workspace.path("events.ndjson").to_str().unwrap(),
    ]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("system_name,session_id,user"),
        "{text}"
    );
    assert_eq!(lines.len(), 1 + 5, "{text}");
    assert!(
        lines.iter().any(|line| line.contains(",QSECOFR,true,")
            && line.contains("2026-10-01T08:38:00.000000Z,2220.000000,swap_back")),
        "{text}"
    );
}

/// The simulator's stream (every JS pattern; 21,000 entries reach the IPL
/// at entry 20,000, which cuts a session), sessions on, small batches.
fn simulator_config(workspace: &Workspace, events_per_second: u64) -> String {
    workspace.config(
        &crate::harness::ConfigBuilder::simulator(21_000, events_per_second)
            .with_sessions()
            .source("batch_rows = 100\npoll_interval = \"200ms\"")
            .file_sink("events.ndjson"),
    )
}

/// Session events by id; a repeated id must repeat the same event.
fn session_events(workspace: &Workspace) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut found = std::collections::BTreeMap::new();
    for event in workspace.events("events.ndjson") {
        if event["session"].is_object() {
            let id = event["event_id"].as_str().unwrap().to_owned();
            if let Some(earlier) = found.insert(id.clone(), event.clone()) {
                assert_eq!(earlier, event, "{id} sent twice with different content");
            }
        }
    }
    found
}

#[test]
fn kill_9_at_random_moments_gives_the_session_events_of_an_unbroken_run() {
    // The simulator's entry times depend on its rate: the same in both runs.
    let reference = Workspace::new();
    let config = simulator_config(&reference, 8_000);
    run_to_end(&reference, &config);
    let expected = session_events(&reference);
    assert!(
        expected
            .values()
            .any(|event| event["session"]["end_reason"] == "ipl"),
        "the stream has sessions cut by an IPL"
    );
    let workspace = Workspace::new();
    let config = simulator_config(&workspace, 8_000);
    let mut random = crate::harness::TestRandom::from_env_or_time();
    for _ in 0..4 {
        let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
        std::thread::sleep(std::time::Duration::from_millis(150 + random.below(500)));
        crate::harness::signal(&child, "KILL");
        let _ = child.wait();
    }
    run_to_end(&workspace, &config);
    let got = session_events(&workspace);
    let missing: Vec<&String> = expected
        .keys()
        .filter(|id| !got.contains_key(*id))
        .collect();
    let extra: Vec<&String> = got
        .keys()
        .filter(|id| !expected.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} missing (first {:?}), {} not in the unbroken run (first {:?})",
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
    for (id, event) in &expected {
        assert_eq!(&got[id], event, "{id} differs from the unbroken run's");
    }
}

#[test]
fn a_journal_without_profile_swaps_is_said_at_start_up() {
    let lab = Lab::new("sessions_no_swaps");
    lab.sql(FIRST);
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab);
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).contains("neither *JOBCHGUSR nor *JOBDTA"),
        "the lab audits *JOBDTA: {}",
        stderr(&output)
    );
    lab.sql("SELECT lab.set_system_value('QAUDLVL', '*AUTFAIL *JOBBAS *SECURITY')");
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let log = stderr(&output);
    assert_eq!(
        log.matches("neither *JOBCHGUSR nor *JOBDTA").count(),
        1,
        "once: {log}"
    );
}
