//! The ODBC source against the PostgreSQL lab, through unixODBC and psqlODBC.

use std::time::Duration;

use crate::harness::Lab;
use crate::harness::{ids, stderr, stdout, wait_with_limit, ConfigBuilder, Workspace};

struct Setup {
    batch_rows: usize,
    timezone: &'static str,
    start_at: String,
    filter: &'static str,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            batch_rows: 1000,
            timezone: "UTC",
            start_at: "earliest".into(),
            filter: "entry_types = []\nexclude_users = []",
        }
    }
}

fn configure(workspace: &Workspace, lab: &Lab, setup: &Setup) -> String {
    // These tests check the journal read exactly (no derived session events)
    // and are about reading JS: they keep schema v1's flat layout so their
    // field expectations read as before (v2 is covered by tests/it/lab_types.rs).
    workspace.lab_config(
        &ConfigBuilder::lab(lab)
            .without_sessions()
            .source(&format!("batch_rows = {}", setup.batch_rows))
            .odbc(&format!(
                "timezone = \"{}\"\nstart_at = \"{}\"",
                setup.timezone, setup.start_at
            ))
            .table("filter", setup.filter)
            .table("event", "schema_version = 1")
            .quick_retries()
            .file_sink("events.ndjson"),
    )
}

fn run_caught_up(workspace: &Workspace, config: &str) -> std::process::Output {
    let output = workspace.run(&["run", "-c", config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

fn entry(lab: &Lab, entry_type: &str, job: &str, job_type: &str, user: &str, at: &str) -> u64 {
    lab.sql(&format!(
        "SELECT lab.add_entry('{entry_type}', '{job}', 'QUSER', '{job_type}', '{user}', TIMESTAMP '{at}', '192.0.2.7', 50000)"
    ))
    .parse()
    .expect("add_entry returns the sequence number")
}

#[test]
fn first_run_from_a_timestamp_then_only_new_rows_then_exact_resume() {
    let lab = Lab::new("incremental");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    for second in 0..10 {
        entry(
            &lab,
            "S",
            "QPADEV0001",
            "INT",
            "JSMITH",
            &format!("2026-04-08 10:00:{second:02}"),
        );
    }
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        &lab,
        &Setup {
            start_at: "2026-04-08T10:00:05".into(),
            batch_rows: 3,
            ..Setup::default()
        },
    );
    run_caught_up(&workspace, &config);
    let first = ids(&workspace.events("events.ndjson"));
    assert_eq!(
        first,
        lab.all_ids("\"ENTRY_TIMESTAMP\" >= TIMESTAMP '2026-04-08 10:00:05'")
    );
    assert_eq!(first.len(), 5);

    for second in 10..14 {
        entry(
            &lab,
            "E",
            "QPADEV0001",
            "INT",
            "JSMITH",
            &format!("2026-04-08 10:00:{second:02}"),
        );
    }
    run_caught_up(&workspace, &config);
    let second = ids(&workspace.events("events.ndjson"));
    assert_eq!(second[..5], first[..]);
    assert_eq!(
        second[5..],
        lab.all_ids("\"ENTRY_TIMESTAMP\" >= TIMESTAMP '2026-04-08 10:00:10'")[..]
    );

    run_caught_up(&workspace, &config);
    assert_eq!(
        ids(&workspace.events("events.ndjson")),
        second,
        "a run with nothing new adds nothing"
    );
}

#[test]
fn shared_timestamps_rollover_sequence_reset_and_dst_fall_back_arrive_once_in_order() {
    let lab = Lab::new("chain");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    for _ in 0..3 {
        entry(
            &lab,
            "S",
            "QZDASOINIT",
            "PJ",
            "JSMITH",
            "2026-10-25 01:30:00.000000",
        );
    }
    // Receiver roll-over: sequence numbers continue.
    lab.sql("SELECT lab.attach_receiver('AUDRCV0002')");
    entry(&lab, "M", "QZRCSRVS", "PJ", "MROSSI", "2026-10-25 02:10:00");
    entry(&lab, "M", "QZRCSRVS", "PJ", "MROSSI", "2026-10-25 02:50:00");
    // An IPL: the new receiver starts again at sequence 1; the clock has fallen
    // back, so 02:xx local times repeat an hour later in UTC.
    lab.sql("SELECT lab.attach_receiver('AUDRCV0003', 'QGPL', true)");
    entry(
        &lab,
        "S",
        "QPADEV0002",
        "INT",
        "QSECOFR",
        "2026-10-25 02:05:00",
    );
    entry(
        &lab,
        "E",
        "QPADEV0002",
        "INT",
        "QSECOFR",
        "2026-10-25 02:45:00",
    );
    entry(&lab, "S", "QP0ZSPWP", "BCI", "LCHEN", "2026-10-25 03:15:00");
    let expected = lab.all_ids("TRUE");
    assert_eq!(expected.len(), 8);
    assert!(
        expected[5].ends_with("AUDRCV0003:1"),
        "the lab did not reset: {expected:?}"
    );

    let workspace = Workspace::new();
    // Two rows per poll: every receiver boundary falls inside or at a batch edge.
    let config = configure(
        &workspace,
        &lab,
        &Setup {
            batch_rows: 2,
            timezone: "Europe/Rome",
            ..Setup::default()
        },
    );
    run_caught_up(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert_eq!(ids(&events), expected);
    let utc: Vec<&str> = events
        .iter()
        .map(|event| event["entry_timestamp"].as_str().unwrap())
        .collect();
    assert_eq!(
        utc,
        [
            "2026-10-24T23:30:00.000000Z",
            "2026-10-24T23:30:00.000000Z",
            "2026-10-24T23:30:00.000000Z",
            "2026-10-25T00:10:00.000000Z",
            "2026-10-25T00:50:00.000000Z",
            "2026-10-25T01:05:00.000000Z",
            "2026-10-25T01:45:00.000000Z",
            "2026-10-25T02:15:00.000000Z",
        ]
    );
    assert_eq!(events[5]["privileged"], true);
    assert_eq!(
        events[5]["severity"], "high",
        "QSECOFR over 5250, whose encryption is unknown"
    );
}

#[test]
fn a_receiver_deleted_before_it_was_read_yields_one_audit_gap_and_the_run_goes_on() {
    let lab = Lab::new("gap");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    entry(
        &lab,
        "S",
        "QPADEV0001",
        "INT",
        "JSMITH",
        "2026-04-08 10:00:00",
    );
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, &Setup::default());
    run_caught_up(&workspace, &config);
    assert_eq!(workspace.events("events.ndjson").len(), 1);

    lab.sql("SELECT lab.attach_receiver('AUDRCV0002')");
    entry(
        &lab,
        "S",
        "QPADEV0003",
        "INT",
        "MROSSI",
        "2026-04-08 11:00:00",
    );
    entry(
        &lab,
        "E",
        "QPADEV0003",
        "INT",
        "MROSSI",
        "2026-04-08 11:05:00",
    );
    lab.sql("SELECT lab.attach_receiver('AUDRCV0003')");
    entry(
        &lab,
        "S",
        "QPADEV0004",
        "INT",
        "LCHEN",
        "2026-04-08 12:00:00",
    );
    let survivors = lab.all_ids("\"RECEIVER_NAME\" = 'AUDRCV0003'");
    lab.sql("SELECT lab.delete_receiver('AUDRCV0002')");

    let output = run_caught_up(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let gaps: Vec<_> = events
        .iter()
        .filter(|event| event["event_action"] == "audit_gap")
        .collect();
    assert_eq!(gaps.len(), 1, "{events:?}");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains("AUDRCV0001") && message.contains("AUDRCV0003"),
        "the gap names its bounds: {message}"
    );
    assert_eq!(gaps[0]["severity"], "high");
    assert!(stderr(&output).contains("audit gap"), "{}", stderr(&output));
    let after_gap: Vec<String> = ids(&events[2..]);
    assert_eq!(after_gap, survivors);

    // The receiver holding the checkpoint itself disappears.
    lab.sql("SELECT lab.attach_receiver('AUDRCV0004')");
    entry(
        &lab,
        "S",
        "QPADEV0005",
        "INT",
        "PGARCIA",
        "2026-04-08 13:00:00",
    );
    lab.sql("SELECT lab.delete_receiver('AUDRCV0003')");
    run_caught_up(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let new: Vec<_> = events[events.len() - 2..].to_vec();
    assert_eq!(new[0]["event_action"], "audit_gap");
    assert!(
        new[0]["message"].as_str().unwrap().contains("AUDRCV0003"),
        "{}",
        new[0]
    );
    assert_eq!(
        ids(&new[1..]),
        lab.all_ids("\"RECEIVER_NAME\" = 'AUDRCV0004'")
    );
}

#[test]
fn killed_database_session_mid_run_reconnects_and_loses_nothing() {
    let lab = Lab::new("terminate");
    lab.sql("SELECT lab.generate(60000, 7, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', 20000)");
    let expected = lab.all_ids("TRUE");
    assert_eq!(expected.len(), 60_000);
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        &lab,
        &Setup {
            batch_rows: 500,
            ..Setup::default()
        },
    );
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    let mut terminated = 0;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(400));
        terminated += lab.terminate_sessions();
    }
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    assert!(
        terminated > 0,
        "no session was terminated: the run ended too soon to test anything"
    );
    let log = workspace.log();
    assert!(
        log.contains("reconnecting with backoff") && log.contains("attempt=1"),
        "{log}"
    );
    assert!(log.contains("127.0.0.1"), "the log names the host: {log}");
    let got = ids(&workspace.events("events.ndjson"));
    let distinct: std::collections::HashSet<_> = got.iter().collect();
    assert_eq!(distinct.len(), expected.len(), "lost events");
    let mut seen = std::collections::HashSet::new();
    let ordered: Vec<&String> = got.iter().filter(|id| seen.insert(*id)).collect();
    assert_eq!(ordered, expected.iter().collect::<Vec<_>>());
}

#[test]
fn nulls_padding_lower_case_users_and_own_connections() {
    let lab = Lab::new("values");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    lab.sql("SELECT lab.add_entry('M', 'QZDASOINIT', 'QUSER', 'PJ', 'JSMITH', TIMESTAMP '2026-04-08 10:00:00', NULL, NULL)");
    entry(
        &lab,
        "M",
        "QZDASOINIT",
        "PJ",
        "QUSER",
        "2026-04-08 10:00:01",
    );
    // The forwarder's own profile: over the database server it is dropped, over 5250 it is not.
    entry(
        &lab,
        "M",
        "QZDASSINIT",
        "PJ",
        "AUDITFWD",
        "2026-04-08 10:00:02",
    );
    entry(
        &lab,
        "S",
        "QPADEV0009",
        "INT",
        "AUDITFWD",
        "2026-04-08 10:00:03",
    );
    entry(
        &lab,
        "S",
        "QPADEV0001",
        "INT",
        "MROSSI",
        "2026-04-08 10:00:04",
    );
    entry(
        &lab,
        "P",
        "QZDASOINIT",
        "PJ",
        "JSMITH",
        "2026-04-08 10:00:05",
    );
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        &lab,
        &Setup { filter: "entry_types = [\"m\", \"s\"]\ninclude_users = [\"jsmith\", \"auditfwd\"]\nexclude_users = [\"quser\"]", ..Setup::default() },
    );
    run_caught_up(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let users: Vec<(&str, &str)> = events
        .iter()
        .map(|event| {
            (
                event["real_user_profile"].as_str().unwrap(),
                event["job_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        users,
        [("JSMITH", "QZDASOINIT"), ("AUDITFWD", "QPADEV0009")]
    );
    assert!(events[0]["remote_address"].is_null() && events[0]["remote_port"].is_null());
    assert_eq!(events[0]["job_user"], "QUSER", "CHAR padding trimmed");
    assert_eq!(events[0]["connection_type"], "ODBC / JDBC (Non-Secure)");
    // Rows the SQL filter drops never reach auditfwd, yet the checkpoint covers
    // them: it stands at the end of the sequence window read (the receiver's last
    // entry, a filtered-out row), past the own-connection row it dropped.
    let show = workspace.run(&["checkpoint", "show", "-c", &config]);
    let last_in_receiver = lab.all_ids("TRUE").pop().unwrap();
    assert!(last_in_receiver.contains("AUDRCV0001"));
    let last_sequence = last_in_receiver.rsplit(':').next().unwrap();
    assert!(
        stdout(&show).contains(&format!("\"sequence_number\": {last_sequence}")),
        "{}",
        stdout(&show)
    );
}

#[test]
fn wrong_password_is_reported_once_with_the_remedy_and_no_secret() {
    let lab = Lab::new("password");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, &Setup::default());
    workspace.write("odbc.pw", "wr0ng-s3cret\n");
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("password") && message.contains("127.0.0.1"),
        "{message}"
    );
    assert!(!message.contains("wr0ng-s3cret"), "{message}");
}

#[test]
fn an_older_release_without_optional_columns_reads_them_as_null() {
    let lab = Lab::new("columns");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    entry(
        &lab,
        "S",
        "QPADEV0001",
        "INT",
        "JSMITH",
        "2026-04-08 10:00:00",
    );
    // Replace the function with one that lacks REMOTE_PORT, REMOTE_ADDRESS and
    // DEVICE_NAME, as an older Db2 for i release might.
    lab.sql(
        "ALTER FUNCTION systools.audit_journal_js RENAME TO audit_journal_js_full; \
         CREATE FUNCTION systools.audit_journal_js( \
             starting_receiver_library varchar DEFAULT NULL, starting_receiver_name varchar DEFAULT '*CURAVLCHN', \
             ending_receiver_library varchar DEFAULT NULL, ending_receiver_name varchar DEFAULT '*CURRENT', \
             starting_timestamp timestamp DEFAULT NULL, ending_timestamp timestamp DEFAULT NULL, \
             user_name varchar DEFAULT NULL, job varchar DEFAULT NULL, program varchar DEFAULT NULL, \
             starting_sequence numeric DEFAULT NULL, ending_sequence numeric DEFAULT NULL) \
         RETURNS TABLE(\"ENTRY_TIMESTAMP\" timestamp, \"SEQUENCE_NUMBER\" numeric, \"SYSTEM_NAME\" varchar, \
             \"RECEIVER_LIBRARY\" varchar, \"RECEIVER_NAME\" varchar, \"ENTRY_TYPE\" char(1), \"JOB_NAME\" varchar, \
             \"JOB_TYPE\" varchar, \"REAL_USER_PROFILE\" varchar) \
         LANGUAGE sql STABLE AS $$ SELECT f.\"ENTRY_TIMESTAMP\", f.\"SEQUENCE_NUMBER\", f.\"SYSTEM_NAME\", \
             f.\"RECEIVER_LIBRARY\", f.\"RECEIVER_NAME\", f.\"ENTRY_TYPE\", f.\"JOB_NAME\", f.\"JOB_TYPE\", f.\"REAL_USER_PROFILE\" \
             FROM systools.audit_journal_js_full(starting_receiver_library, starting_receiver_name, ending_receiver_library, \
             ending_receiver_name, starting_timestamp, ending_timestamp, user_name, job, program, starting_sequence, \
             ending_sequence) f $$",
    );
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, &Setup::default());
    let output = run_caught_up(&workspace, &config);
    assert!(
        stderr(&output).contains("lacks some optional columns"),
        "{}",
        stderr(&output)
    );
    let events = workspace.events("events.ndjson");
    assert_eq!(ids(&events), lab.all_ids("TRUE"));
    assert!(
        events[0]["remote_address"].is_null()
            && events[0]["remote_port"].is_null()
            && events[0]["device_name"].is_null()
    );
    assert_eq!(events[0]["real_user_profile"], "JSMITH");
    assert_eq!(
        events[0]["connection_type"],
        "5250 / Telnet (Non-Secure unless SSL/Telnet configured)"
    );
}

/// An IPL: the journal detached its receiver at power-down and attached a new
/// one, sequence restarted at 1, five minutes later during the IPL.
fn ipl_journal(lab: &Lab, delete_between: bool) {
    lab.sql(
        "SELECT lab.attach_receiver('AUDRCV0001', 'QGPL', false, TIMESTAMP '2026-04-08 09:00:00')",
    );
    entry(
        lab,
        "S",
        "QPADEV0001",
        "INT",
        "JSMITH",
        "2026-04-08 09:30:00",
    );
    entry(
        lab,
        "E",
        "QPADEV0001",
        "INT",
        "JSMITH",
        "2026-04-08 09:40:00",
    );
    if delete_between {
        lab.sql("SELECT lab.attach_receiver('AUDRCV0002', 'QGPL', false, TIMESTAMP '2026-04-08 09:50:00')");
        entry(
            lab,
            "S",
            "QPADEV0002",
            "INT",
            "MROSSI",
            "2026-04-08 09:55:00",
        );
    }
    lab.sql(
        "SELECT lab.attach_receiver('AUDRCV0003', 'QGPL', true, TIMESTAMP '2026-04-08 10:10:00')",
    );
    entry(
        lab,
        "S",
        "QPADEV0003",
        "INT",
        "LCHEN",
        "2026-04-08 10:11:00",
    );
    entry(
        lab,
        "E",
        "QPADEV0003",
        "INT",
        "LCHEN",
        "2026-04-08 10:12:00",
    );
    if delete_between {
        lab.sql("SELECT lab.delete_receiver('AUDRCV0002')");
        // The journal no longer names AUDRCV0001's successor.
        lab.sql("UPDATE lab.receivers SET next_receiver_library = NULL, next_receiver_name = NULL WHERE receiver_name = 'AUDRCV0001'");
    }
    // Detached at power-down, five minutes before the new receiver was attached.
    lab.sql("UPDATE lab.receivers SET detach_timestamp = TIMESTAMP '2026-04-08 10:05:00' WHERE receiver_name = 'AUDRCV0001'");
}

#[test]
fn a_reset_receiver_named_as_next_is_no_gap_however_late_it_was_attached() {
    let lab = Lab::new("ipl");
    ipl_journal(&lab, false);
    assert_eq!(
        lab.sql("SELECT next_receiver_name FROM lab.receivers WHERE receiver_name = 'AUDRCV0001'"),
        "AUDRCV0003"
    );
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, &Setup::default());
    let output = run_caught_up(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert!(
        events
            .iter()
            .all(|event| event["event_action"] != "audit_gap"),
        "{events:?}"
    );
    assert!(
        !stderr(&output).contains("audit gap"),
        "{}",
        stderr(&output)
    );
    assert_eq!(ids(&events), lab.all_ids("TRUE"));
    assert!(ids(&events)[2].ends_with("AUDRCV0003:1"), "{events:?}");
}

#[test]
fn without_the_link_a_deleted_receiver_before_a_late_reset_is_exactly_one_gap() {
    let lab = Lab::new("iplgap");
    ipl_journal(&lab, true);
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, &Setup::default());
    run_caught_up(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let gaps: Vec<_> = events
        .iter()
        .filter(|event| event["event_action"] == "audit_gap")
        .collect();
    assert_eq!(gaps.len(), 1, "{events:?}");
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(events[2]["event_action"], "audit_gap");
    let mut expected = lab.all_ids("\"RECEIVER_NAME\" = 'AUDRCV0001'");
    expected.extend(lab.all_ids("\"RECEIVER_NAME\" = 'AUDRCV0003'"));
    let mut got = ids(&events[..2]);
    got.extend(ids(&events[3..]));
    assert_eq!(got, expected);
}

#[test]
fn a_long_receiver_costs_one_call_per_window_of_sequence_numbers() {
    let lab = Lab::new("windows");
    // 30,000 entries whose sequence numbers span about 120,000 (other entry
    // types interleave), in one receiver, read with small batches.
    lab.sql("SELECT lab.generate(30000, 3, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', 1000000)");
    let span: u64 = lab
        .sql("SELECT max(last_sequence_number) FROM lab.receivers")
        .parse()
        .unwrap();
    let calls = || -> u64 {
        lab.sql("SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'audit_journal_js'")
            .parse()
            .unwrap()
    };
    // (Reading the expected ids calls the function too: before counting.)
    let expected = lab.all_ids("TRUE");
    let before = calls();
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        &lab,
        &Setup {
            batch_rows: 100,
            ..Setup::default()
        },
    );
    run_caught_up(&workspace, &config);
    // Statistics arrive when the daemon's session has ended.
    let mut made = calls() - before;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(300));
        let now = calls() - before;
        if now == made && made > 0 {
            break;
        }
        made = now;
    }
    assert_eq!(
        made,
        span.div_ceil(10_000),
        "table-function calls for {span} sequence numbers (batch_rows 100): one per 10,000"
    );
    assert_eq!(ids(&workspace.events("events.ndjson")), expected);
}
