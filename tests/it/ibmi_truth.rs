//! What a real IBM i does that a kind lab would not show, played by the lab:
//! a receiver saved with its storage freed, the Db2 for i query governor,
//! values longer than 1 KB, *ALLOBJ held through a group, the catalog views;
//! and `auditfwd doctor` against a healthy and a broken system.

use crate::harness::{stderr, stdout, ConfigBuilder, Lab, Workspace, ALL_AUDIT_TYPES};

fn configure(workspace: &Workspace, lab: &Lab, source: &str) -> String {
    workspace.lab_config(
        &ConfigBuilder::lab(lab)
            .source(&format!(
                "batch_rows = 500\naudit_types = {ALL_AUDIT_TYPES}\n{source}"
            ))
            .every_entry()
            .quick_retries()
            .file_sink("events.ndjson"),
    )
}

fn entry_ids(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["message"].is_null())
        .map(|event| event["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn run_to_end(workspace: &Workspace, config: &str) -> std::process::Output {
    let output = workspace.run(&["run", "-c", config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

#[test]
fn a_freed_receiver_is_one_audit_gap_and_the_run_completes() {
    let lab = Lab::new("truth_freed");
    // Three receivers of 400 entries each.
    lab.sql("SELECT lab.generate_mixed(1200, 5, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 400)");
    let range = lab.sql(
        "SELECT first_sequence_number || '-' || last_sequence_number FROM lab.receivers WHERE receiver_name = 'AUDRCV0002'",
    );
    lab.sql("SELECT lab.free_receiver('QGPL/AUDRCV0002')");
    assert_eq!(
        lab.sql("SELECT \"STATUS\" FROM qsys2.journal_receiver_info WHERE \"JOURNAL_RECEIVER_NAME\" = 'AUDRCV0002'"),
        "FREED"
    );
    // The function itself refuses a range that covers it, as IBM i does.
    let refused = lab.try_sql(
        "SELECT count(*) FROM systools.audit_journal_js(starting_receiver_name => 'AUDRCV0002', ending_receiver_name => 'AUDRCV0002')",
    );
    assert!(refused.is_err(), "{refused:?}");
    let expected = lab.journal(Some("AUDRCV0002"));
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    run_to_end(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert_eq!(
        entry_ids(&events),
        expected,
        "every readable entry, once, in order"
    );
    let gaps: Vec<&serde_json::Value> = events
        .iter()
        .filter(|event| event["event_action"] == "audit_gap")
        .collect();
    assert_eq!(gaps.len(), 1, "one gap for the freed receiver");
    let message = gaps[0]["message"].as_str().unwrap();
    let (first, last) = range.split_once('-').unwrap();
    assert!(
        message.contains("QGPL/AUDRCV0002")
            && message.contains("FREED")
            && message.contains(&format!("sequence numbers {first} to {last}")),
        "{message}"
    );
}

#[test]
fn the_query_governor_refusal_is_a_configuration_error() {
    let lab = Lab::new("truth_governor");
    lab.sql("SELECT lab.generate_mixed(50, 6, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 1000)");
    // The optimizer estimates 75 s for a call; query_timeout is 20 s.
    lab.sql("SELECT lab.set_optimizer_estimate(75)");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(78), "{text}");
    assert!(
        text.contains("source.odbc.query_timeout")
            && text.contains("query governor")
            && text.contains("57005"),
        "{text}"
    );
    // Not retried: one refused call, then the stop.
    assert!(!text.contains("retrying"), "{text}");
    // Under the estimate, the same journal reads.
    lab.sql("SELECT lab.set_optimizer_estimate(5)");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    run_to_end(&workspace, &config);
    assert_eq!(entry_ids(&workspace.events("events.ndjson")).len(), 50);
}

#[test]
fn long_values_arrive_whole() {
    let lab = Lab::new("truth_long");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    // A 1,500-character system value (two-byte characters in UTF-8 among
    // them) and a 5,000-character IFS path (three-byte characters among them).
    let value: String = "*TLS13 *ECDHE_RSA_AES_256_GCM_SHA384 é"
        .repeat(40)
        .chars()
        .take(1500)
        .collect();
    assert_eq!(value.chars().count(), 1500);
    let path: String = format!("/home/{}", "données€/".repeat(600))
        .chars()
        .take(5000)
        .collect();
    assert_eq!(path.chars().count(), 5000);
    lab.sql(&format!(
        "SELECT lab.add_audit('SV', TIMESTAMP '2026-10-01 08:00:00', jsonb_build_object('ENTRY_TYPE', 'A', 'SYSTEM_VALUE', 'QSSLCSL', 'OLD_VALUE', '*RSA_AES_128_CBC_SHA', 'NEW_VALUE', '{value}'), 'QSECOFR')"
    ));
    lab.sql(&format!(
        "SELECT lab.add_audit('OW', TIMESTAMP '2026-10-01 08:00:01', jsonb_build_object('OBJECT_TYPE', '*STMF', 'PREVIOUS_OWNER', 'OPSADM', 'NEW_OWNER', 'JSMITH', 'PATH_NAME', '{path}'), 'OPSADM')"
    ));
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    run_to_end(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["sv"]["new_value"], value.as_str());
    assert_eq!(events[1]["ow"]["path_name"], path.as_str());
    assert_eq!(
        events[1]["code"], "A",
        "OW's one code, without an ENTRY_TYPE column"
    );
    assert_eq!(events[1]["event_action"], "owner_changed");
    assert!(events.iter().all(|event| event.get("truncated").is_none()));
}

#[test]
fn a_value_longer_than_auditfwd_can_fetch_is_marked_truncated() {
    let lab = Lab::new("truth_truncated");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    // No documented column is wider than auditfwd's 32 KiB per value; make one
    // so: NEW_VALUE as VARCHAR(20000), holding 15,000 three-byte characters.
    lab.sql(
        "ALTER TYPE lab.audit_journal_sv_row ALTER ATTRIBUTE \"NEW_VALUE\" TYPE varchar(20000)",
    );
    lab.sql(
        "DO $$ DECLARE definition text; BEGIN \
           SELECT pg_get_functiondef('systools.audit_journal_sv'::regproc) INTO definition; \
           EXECUTE replace(definition, 'CAST((e.details ->> ''NEW_VALUE'') AS varchar(1500))', \
                                       'CAST((e.details ->> ''NEW_VALUE'') AS varchar(20000))'); \
         END $$",
    );
    let value = "€".repeat(15_000);
    lab.sql(&format!(
        "SELECT lab.add_audit('SV', TIMESTAMP '2026-10-01 08:00:00', jsonb_build_object('ENTRY_TYPE', 'A', 'SYSTEM_VALUE', 'QSSLCSL', 'OLD_VALUE', 'short', 'NEW_VALUE', '{value}'), 'QSECOFR')"
    ));
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    run_to_end(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert_eq!(events.len(), 1, "{events:?}");
    let got = events[0]["sv"]["new_value"].as_str().unwrap();
    assert!(
        got.len() < value.len(),
        "the value was cut ({} bytes)",
        got.len()
    );
    assert!(
        value.starts_with(got.trim_end_matches('\u{fffd}')),
        "what arrived is the start of the value"
    );
    assert_eq!(events[0]["sv"]["old_value"], "short");
    assert_eq!(
        events[0]["truncated"],
        serde_json::json!(["NEW_VALUE"]),
        "{}",
        events[0]
    );
    crate::schema::assert_all_valid(&crate::schema::schema_of(2), &events);
}

#[test]
fn allobj_through_a_group_profile_is_privileged() {
    let lab = Lab::new("truth_groups");
    lab.sql("SELECT lab.attach_receiver('AUDRCV0001')");
    lab.sql("SELECT lab.set_special_authorities('SECGRP', '*ALLOBJ')");
    lab.sql("SELECT lab.set_special_authorities('JDOE', NULL)");
    lab.sql("SELECT lab.add_group_member('SECGRP', 'JDOE')");
    lab.sql("SELECT lab.add_audit('CP', TIMESTAMP '2026-10-01 08:00:00', '{\"COMMAND_TYPE\":\"CHG\",\"USER_PROFILE\":\"MROSSI\"}', 'JDOE')");
    lab.sql("SELECT lab.add_audit('CP', TIMESTAMP '2026-10-01 08:00:01', '{\"COMMAND_TYPE\":\"CHG\",\"USER_PROFILE\":\"MROSSI\"}', 'OPSADM')");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    run_to_end(&workspace, &config);
    let events = workspace.events("events.ndjson");
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["privileged"], true,
        "JDOE holds *ALLOBJ through SECGRP: {}",
        events[0]
    );
    assert_eq!(events[1]["privileged"], false, "{}", events[1]);
}

#[test]
fn columns_come_from_the_catalog_views_and_a_hidden_catalog_falls_back_to_a_probe() {
    let lab = Lab::new("truth_catalog");
    lab.sql("SELECT lab.generate_mixed(200, 7, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 1000)");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    let output = run_to_end(&workspace, &config);
    let text = stderr(&output);
    assert!(!text.contains("QSYS2.SYSPARMS"), "{text}");
    assert!(
        !text.contains("lacks some"),
        "the catalog matches the lab: {text}"
    );
    lab.sql("DROP VIEW qsys2.sysparms");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    let output = run_to_end(&workspace, &config);
    assert!(
        stderr(&output).contains("probing each function instead"),
        "{}",
        stderr(&output)
    );
    assert_eq!(entry_ids(&workspace.events("events.ndjson")).len(), 200);
}

#[test]
fn sub_second_polls_of_an_ibm_i_are_refused() {
    let workspace = Workspace::new();
    workspace.write("odbc.pw", "secret\n");
    let config = workspace.write(
        "auditfwd.toml",
        "[source]\nkind = \"odbc\"\npoll_interval = \"500ms\"\n[source.odbc]\nconnection_string = \"Driver={IBM i Access ODBC Driver};System=ibmi.example.com;UID=AUDITFWD\"\npassword_file = \"odbc.pw\"\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("source.poll_interval") && text.contains("disruptive"),
        "{text}"
    );
}

// ---- auditfwd doctor ----

fn doctor(workspace: &Workspace, config: &str) -> (i32, serde_json::Value) {
    let output = workspace.run(&["doctor", "-c", config, "--json", "--interval", "300ms"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", stdout(&output), stderr(&output)));
    (output.status.code().unwrap(), report)
}

fn status<'a>(report: &'a serde_json::Value, name: &str) -> &'a str {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#}"))["status"]
        .as_str()
        .unwrap()
}

fn failed(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["status"] == "failed" && check["required"] == true)
        .map(|check| check["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn doctor_passes_a_healthy_system() {
    let lab = Lab::new("doctor_healthy");
    lab.sql("SELECT lab.generate_mixed(300, 8, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 100)");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    let (code, report) = doctor(&workspace, &config);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert!(failed(&report).is_empty(), "{report:#}");
    for name in [
        "connection",
        "function.JS",
        "columns.OW",
        "audit_control",
        "audit_level.JS",
        "timezone",
        "receivers_readable",
        "journal_read",
        "ptf_group",
    ] {
        assert_eq!(status(&report, name), "passed", "{name}: {report:#}");
    }
    // Every check carries the statement behind it, to run by hand.
    let with_sql = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|check| check["sql"].is_string())
        .count();
    assert!(with_sql >= 10, "{report:#}");
    // The text report: one line per check, the summary last.
    let output = workspace.run(&["doctor", "-c", &config, "--interval", "300ms"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("✔ function.PW") && text.ends_with("every required check passed\n"),
        "{text}"
    );
    // Read-only: no state directory was made, nothing was written.
    assert!(!workspace.path("data").exists());
}

#[test]
fn doctor_names_each_fault_of_a_broken_system() {
    let lab = Lab::new("doctor_broken");
    lab.sql("SELECT lab.generate_mixed(300, 9, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 100)");
    // A missing function, a missing column, swaps not audited, the clock one
    // hour off from the configured zone, a freed receiver still to read.
    lab.sql("DROP FUNCTION systools.audit_journal_gr");
    lab.sql("ALTER TYPE lab.audit_journal_ow_row DROP ATTRIBUTE \"NEW_OWNER\" CASCADE");
    lab.sql("SELECT lab.set_system_value('QAUDLVL', '*AUTFAIL *JOBBAS *SECURITY')");
    lab.sql("SELECT lab.set_system_value('QUTCOFFSET', '+0100')");
    lab.sql("SELECT lab.free_receiver('AUDRCV0002')");
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    let (code, report) = doctor(&workspace, &config);
    assert_eq!(code, 78, "{report:#}");
    assert_eq!(report["ok"], false);
    let mut names = failed(&report);
    names.sort();
    assert_eq!(
        names,
        [
            "audit_level.JS",
            "function.GR",
            "receivers_readable",
            "timezone"
        ],
        "{report:#}"
    );
    // A missing optional column fails without stopping (read as null).
    assert_eq!(status(&report, "columns.OW"), "failed");
    let checks = report["checks"].as_array().unwrap();
    let find = |name: &str| checks.iter().find(|check| check["name"] == name).unwrap();
    assert!(find("columns.OW")["detail"]
        .as_str()
        .unwrap()
        .contains("NEW_OWNER"));
    assert!(find("audit_level.JS")["detail"]
        .as_str()
        .unwrap()
        .contains("*JOBCHGUSR"));
    assert!(find("audit_level.JS")["remedy"]
        .as_str()
        .unwrap()
        .contains("CHGSECAUD"));
    assert!(find("function.GR")["remedy"]
        .as_str()
        .unwrap()
        .contains("PTF group"));
    assert!(find("receivers_readable")["detail"]
        .as_str()
        .unwrap()
        .contains("QGPL/AUDRCV0002 (FREED"));
    assert!(find("timezone")["detail"]
        .as_str()
        .unwrap()
        .contains("+0100"));
    // GR listed as optional: its absence no longer fails the doctor alone.
    let workspace = Workspace::new();
    lab.sql("SELECT lab.set_system_value('QAUDLVL', '*AUTFAIL *JOBDTA *SECURITY')");
    lab.sql("SELECT lab.set_system_value('QUTCOFFSET', '+0000')");
    let config = configure(&workspace, &lab, "optional_audit_types = [\"GR\"]");
    let (_, report) = doctor(&workspace, &config);
    assert_eq!(failed(&report), ["receivers_readable"], "{report:#}");
    // The password never appears.
    let output = workspace.run(&["doctor", "-c", &config]);
    assert!(!stdout(&output).contains("PWD=lab") && !stderr(&output).contains("PWD=lab"));
}

#[test]
fn doctor_reports_a_refused_connection_without_the_password() {
    let workspace = Workspace::new();
    workspace.write("odbc.pw", "n0t-the-pa55word\n");
    let config = workspace.write(
        "auditfwd.toml",
        "[source]\nkind = \"odbc\"\n[source.odbc]\nconnection_string = \"Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=1;Database=none;UID=auditfwd\"\npassword_file = \"odbc.pw\"\ndialect = \"postgres\"\n",
    );
    let output = workspace.run(&["doctor", "-c", config.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        text.contains("\"connection\"") && text.contains("\"failed\""),
        "{text}"
    );
    assert!(!text.contains("n0t-the-pa55word"), "{text}");
}

#[test]
fn an_entry_the_server_cannot_convert_is_isolated_not_its_window() {
    let lab = Lab::new("truth_unconvertible");
    lab.sql("SELECT lab.generate_mixed(1500, 12, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 100000)");
    let all = lab.journal(None);
    // The 700th entry of the journal cannot be converted by the server.
    let bad = &all[699];
    let (receiver, sequence) = {
        let mut parts = bad.rsplitn(2, ':');
        let sequence = parts.next().unwrap().to_owned();
        let receiver = parts.next().unwrap().rsplit('/').next().unwrap().to_owned();
        (receiver, sequence)
    };
    lab.sql(&format!(
        "SELECT lab.make_unconvertible('{receiver}', {sequence})"
    ));
    let workspace = Workspace::new();
    let config = configure(&workspace, &lab, "");
    run_to_end(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let expected: Vec<String> = all.iter().filter(|id| *id != bad).cloned().collect();
    assert_eq!(
        entry_ids(&events),
        expected,
        "every other entry, once, in order"
    );
    let notices: Vec<&serde_json::Value> = events
        .iter()
        .filter(|event| event["event_action"] == "malformed_row")
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        notices[0]["sequence_number"].as_u64().unwrap().to_string(),
        sequence
    );
    let message = notices[0]["message"].as_str().unwrap();
    assert!(
        message.contains("22021") && message.contains(&receiver),
        "{message}"
    );
}
