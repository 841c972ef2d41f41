//! Configuration: layering, unknown keys, stray variables, secrets, exit 78.

use crate::harness::{stderr, stdout, Workspace};

fn check_config(
    workspace: &Workspace,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut command = workspace.command(&[&["check-config"], args].concat());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run check-config")
}

fn printed(output: &std::process::Output) -> toml::Table {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    stdout(output).parse().expect("check-config prints TOML")
}

fn batch_rows(table: &toml::Table) -> i64 {
    table["source"]["batch_rows"].as_integer().unwrap()
}

#[test]
fn layers_defaults_files_environment_command_line() {
    let workspace = Workspace::new();
    let base = workspace.write(
        "base.toml",
        "[source]\nbatch_rows = 10\npoll_interval = \"7s\"\n",
    );
    let site = workspace.write("site.toml", "[source]\nbatch_rows = 20\n");
    let base = base.to_str().unwrap();
    let site = site.to_str().unwrap();

    let defaults = printed(&check_config(&workspace, &[], &[]));
    assert_eq!(batch_rows(&defaults), 1000);
    // The events bound in effect is shown even unset: 16 batches of 1000 rows, halved.
    assert_eq!(
        defaults["pipeline"]["max_events_in_memory"].as_integer(),
        Some(8000)
    );
    assert_eq!(
        defaults["sinks"].as_array().unwrap()[0]["type"].as_str(),
        Some("stdout")
    );

    let one_file = printed(&check_config(&workspace, &["-c", base], &[]));
    assert_eq!(batch_rows(&one_file), 10);

    let two_files = printed(&check_config(&workspace, &["-c", base, "-c", site], &[]));
    assert_eq!(batch_rows(&two_files), 20);
    assert_eq!(
        two_files["source"]["poll_interval"].as_str(),
        Some("7s"),
        "later files keep what they do not set"
    );

    let environment = printed(&check_config(
        &workspace,
        &["-c", base, "-c", site],
        &[
            ("AUDITFWD_SOURCE__BATCH_ROWS", "30"),
            ("AUDITFWD_SOURCE__SIMULATOR__SYSTEM_NAME", "ENVSYS"),
        ],
    ));
    assert_eq!(batch_rows(&environment), 30);
    assert_eq!(
        environment["source"]["simulator"]["system_name"].as_str(),
        Some("ENVSYS")
    );

    let command_line = printed(&check_config(
        &workspace,
        &["-c", base, "-c", site, "--set", "source.batch_rows=40"],
        &[("AUDITFWD_SOURCE__BATCH_ROWS", "30")],
    ));
    assert_eq!(batch_rows(&command_line), 40);
    assert_eq!(
        command_line["pipeline"]["max_events_in_memory"].as_integer(),
        Some(16 * 40 / 2),
        "derived from the batch size in effect"
    );
}

#[test]
fn unknown_key_in_a_file_names_key_and_file() {
    let workspace = Workspace::new();
    let file = workspace.write("bad.toml", "[source]\nbatch_rowz = 10\n");
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(message.contains("batch_rowz"), "{message}");
    assert!(message.contains("source"), "{message}");
    assert!(message.contains("bad.toml"), "{message}");
}

/// A `[[sinks]]` entry is read whole by its `type`; its errors still name
/// the field, show a plain value, and hide a secret's.
#[test]
fn an_error_in_a_sink_entry_names_its_field() {
    let workspace = Workspace::new();
    let file_sink = "[[sinks]]\ntype = \"file\"\npath = \"x.ndjson\"\n";
    for (entries, key, shown, hidden) in [
        (
            "[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:9092\"\ntopic = \"t\"\nmax_in_flight = \"lots\"\n".to_owned(),
            "sinks[0].max_in_flight",
            Some("lots"),
            None,
        ),
        (
            format!("{file_sink}[[sinks]]\ntype = \"syslog\"\nhost = \"h\"\n"),
            "sinks[1].host",
            None,
            None,
        ),
        (
            "[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:9092\"\n".to_owned(),
            "sinks[0].topic",
            Some("required"),
            None,
        ),
        (
            "[[sinks]]\ntype = \"kafak\"\n".to_owned(),
            "sinks[0].type",
            Some("kafak"),
            None,
        ),
        (
            "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://h:8088\"\ntoken = [\"s3cr3t-tok\"]\n".to_owned(),
            "sinks[0].token",
            None,
            Some("s3cr3t-tok"),
        ),
    ] {
        let file = workspace.write("sinks.toml", &entries);
        let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(78), "{message}");
        assert!(message.contains(&format!("`{key}`")), "{key}: {message}");
        assert!(message.contains("sinks.toml"), "{message}");
        if let Some(shown) = shown {
            assert!(message.contains(shown), "{shown}: {message}");
        }
        if let Some(hidden) = hidden {
            assert!(!message.contains(hidden), "{message}");
        }
    }
}

#[test]
fn unknown_sink_type_and_sink_key_are_errors() {
    let workspace = Workspace::new();
    let file = workspace.write("bad.toml", "[[sinks]]\ntype = \"carrier_pigeon\"\n");
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("carrier_pigeon"),
        "{}",
        stderr(&output)
    );

    let file = workspace.write(
        "bad2.toml",
        "[[sinks]]\ntype = \"file\"\npath = \"x\"\nfsync = false\n",
    );
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(stderr(&output).contains("fsync"), "{}", stderr(&output));
}

#[test]
fn stray_environment_variable_is_a_readable_error() {
    let workspace = Workspace::new();
    let output = check_config(&workspace, &[], &[("AUDITFWD_BOGUS", "1")]);
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(message.contains("bogus"), "{message}");
    assert!(
        message.contains("AUDITFWD_BOGUS") || message.contains("environment"),
        "{message}"
    );
    assert!(!message.contains("panicked"), "{message}");

    let output = check_config(&workspace, &[], &[("AUDITFWD_SOURCE__NOPE__DEEPER", "x")]);
    assert_eq!(output.status.code(), Some(78));
    assert!(stderr(&output).contains("nope"), "{}", stderr(&output));
}

#[test]
fn a_fleet_larger_than_its_memory_budget_is_refused_naming_the_key() {
    let workspace = Workspace::new();
    let sources = |count: usize| {
        (0..count)
            .map(|index| format!("[[sources]]\nname = \"s{index}\"\n"))
            .collect::<String>()
    };
    // Unset, the budget holds a batch of each of 17 systems; 16,000 rows do not.
    let file = workspace.write("fleet.toml", &sources(17));
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = check_config(
        &workspace,
        &["-c", file.to_str().unwrap()],
        &[("AUDITFWD_FLEET__MAX_ROWS_IN_MEMORY", "16000")],
    );
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains("fleet.max_rows_in_memory") && message.contains("17000"),
        "{message}"
    );
    // A budget that holds one batch of each lets it load.
    let output = check_config(
        &workspace,
        &["-c", file.to_str().unwrap()],
        &[("AUDITFWD_FLEET__MAX_ROWS_IN_MEMORY", "17000")],
    );
    assert_eq!(
        printed(&output)["fleet"]["max_rows_in_memory"].as_integer(),
        Some(17000)
    );
}

#[test]
fn validation_errors_name_key_and_origin() {
    let workspace = Workspace::new();
    let file = workspace.write(
        "bad.toml",
        "[source]\nbatch_rows = 0\n[pipeline]\nshutdown_grace = \"soon\"\n",
    );
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains("shutdown_grace") && message.contains("soon"),
        "{message}"
    );

    let file = workspace.write("bad.toml", "[source]\nbatch_rows = 0\n");
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains("source.batch_rows") && message.contains("bad.toml"),
        "{message}"
    );

    let output = check_config(
        &workspace,
        &[],
        &[("AUDITFWD_FILTER__ENTRY_TYPES", "[\"S\", \"X\"]")],
    );
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("filter.entry_types[1]"),
        "{}",
        stderr(&output)
    );

    let output = check_config(&workspace, &["--set", "no_equals_sign"], &[]);
    assert_eq!(output.status.code(), Some(78));

    let output = check_config(&workspace, &["-c", "/nonexistent/auditfwd.toml"], &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("/nonexistent/auditfwd.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn secrets_never_printed_from_file_environment_or_secret_file() {
    let workspace = Workspace::new();
    let secret_file = workspace.write("odbc.pw", "from-file-s3cret\n");
    let file = workspace.write(
        "odbc.toml",
        &format!(
            "[source]\nkind = \"odbc\"\n[source.odbc]\nconnection_string = \"DSN=x;UID=AUDITFWD;PWD=inline-s3cret\"\npassword_file = \"{}\"\n",
            secret_file.display()
        ),
    );
    let file = file.to_str().unwrap();
    let output = check_config(&workspace, &["-c", file], &[]);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");

    let output = check_config(
        &workspace,
        &["-c", file],
        &[("AUDITFWD_SOURCE__ODBC__PASSWORD", "env-s3cret")],
    );
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(
        output.status.code(),
        Some(78),
        "both password and password_file: {text}"
    );
    assert!(text.contains("source.odbc.password_file"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    let output = workspace
        .command(&["run", "-c", file, "--set", "state.dir=./state"])
        .output()
        .expect("run");
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn example_configuration_loads_and_shows_every_key() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/auditfwd.example.toml");
    let workspace = Workspace::new();
    let output = check_config(&workspace, &["-c", example], &[]);
    let effective = printed(&output);
    let text = std::fs::read_to_string(example).unwrap();
    let written: toml::Table = text.parse().unwrap();
    let defaults = printed(&check_config(&workspace, &[], &[]));
    let mut missing = Vec::new();
    collect_missing("", &defaults, &written, &mut missing);
    // A key whose default is derived from others is shown commented out
    // (`# key = value`), so a copy of the example keeps deriving it.
    missing.retain(|path| {
        let leaf = path.rsplit('.').next().unwrap_or(path);
        !text
            .lines()
            .any(|line| line.starts_with(&format!("# {leaf} = ")))
    });
    assert!(missing.is_empty(), "keys without an example: {missing:?}");
    assert!(effective["sinks"].as_array().unwrap().len() >= 2);
}

fn collect_missing(
    prefix: &str,
    expected: &toml::Table,
    written: &toml::Table,
    missing: &mut Vec<String>,
) {
    for (key, value) in expected {
        let path = format!("{prefix}{key}");
        match (value, written.get(key)) {
            (_, None) if key != "sinks" => missing.push(path),
            (toml::Value::Table(inner), Some(toml::Value::Table(other))) => {
                collect_missing(&format!("{path}."), inner, other, missing);
            }
            _ => {}
        }
    }
}

#[test]
fn lab_configuration_loads() {
    let lab = concat!(env!("CARGO_MANIFEST_DIR"), "/config/lab.toml");
    let workspace = Workspace::new();
    let output = check_config(
        &workspace,
        &["-c", lab],
        &[("AUDITFWD_SOURCE__ODBC__PASSWORD", "lab")],
    );
    let effective = printed(&output);
    assert_eq!(effective["source"]["kind"].as_str(), Some("odbc"));
    assert_eq!(
        effective["source"]["odbc"]["password"].as_str(),
        Some("<redacted>")
    );
}

#[test]
fn unreadable_password_file_is_a_configuration_error() {
    let workspace = Workspace::new();
    let file = workspace.write(
        "odbc.toml",
        "[source]\nkind = \"odbc\"\n[source.odbc]\nconnection_string = \"DSN=x\"\npassword_file = \"/nonexistent/odbc.pw\"\n",
    );
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains("source.odbc.password_file") && message.contains("/nonexistent/odbc.pw"),
        "{message}"
    );
}

/// A self-signed CA certificate: CA files are parsed at load.
const EXAMPLE_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBkjCCATmgAwIBAgIUavhPIbEddA7ROYUw77nNeN9GOF4wCgYIKoZIzj0EAwIw\nHjEcMBoGA1UEAwwTYXVkaXRmd2QgZXhhbXBsZSBDQTAgFw0yNjExMjgwNjUyMzZa\nGA8yMTI2MTEwNDA2NTIzNlowHjEcMBoGA1UEAwwTYXVkaXRmd2QgZXhhbXBsZSBD\nQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABAEngsXNTmfo9qtKFRkI5q0wTFkH\nDqrvtQjz4fZ2vzxJD28TroBj1B5lkLc4Hzhfrg5D+pu6IbybAzWT9z6Z5S+jUzBR\nMB0GA1UdDgQWBBQjkU1nssIYeax4BHVF3OFxjKcODzAfBgNVHSMEGDAWgBQjkU1n\nssIYeax4BHVF3OFxjKcODzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cA\nMEQCICaU2DHmIS0vP0BNKZZ6iBoKwfY7TPsjsh1rLgzQRyM3AiB/ETenCowY2XI5\nBd8WLt160GhKp6Gh9Y+modSnUNwqMg==\n-----END CERTIFICATE-----\n";

#[test]
fn commented_sink_examples_in_the_example_file_load() {
    // The example file shows network sinks commented out; each must still load
    // once uncommented, so the examples cannot rot.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/auditfwd.example.toml"
    ))
    .unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line == "# [[sinks]]" {
            if let Some(block) = current.take() {
                blocks.push(block);
            }
            current = Some("[[sinks]]\n".into());
        } else if let Some(block) = current.as_mut() {
            match line.strip_prefix("# ") {
                Some(rest) if !rest.starts_with("# ") => {
                    block.push_str(rest);
                    block.push('\n');
                }
                Some(_) => {}
                None => {
                    blocks.push(current.take().unwrap());
                }
            }
        }
    }
    blocks.extend(current);
    assert!(!blocks.is_empty(), "no commented sink examples found");
    let workspace = Workspace::new();
    workspace.write("hec.token", "t0ken\n");
    for (index, block) in blocks.iter().enumerate() {
        let mut block = block
            .replace("sasl_password = \"\"", "sasl_password_file = \"hec.token\"")
            .replace("token = \"\"", "token_file = \"hec.token\"");
        // Files the examples name (CA, certificates) are read at load: give the
        // example stand-ins for them so only the keys are under test.
        while let Some(start) = block.find("\"/etc/auditfwd/") {
            let end = start + 1 + block[start + 1..].find('"').unwrap();
            let name = block[start + 15..end].replace('/', "_");
            let stand_in = workspace.write(&name, EXAMPLE_CA);
            block.replace_range(start + 1..end, stand_in.to_str().unwrap());
        }
        let path = workspace.write(&format!("sink{index}.toml"), &block);
        let output = check_config(&workspace, &["-c", path.to_str().unwrap()], &[]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "example {index} does not load:\n{block}\n{}",
            stderr(&output)
        );
    }
}

#[test]
fn one_file_spelled_two_ways_is_one_file() {
    let workspace = Workspace::new();
    std::fs::create_dir(workspace.path("logs")).unwrap();
    let absolute = workspace.path("a.ndjson");
    let absolute = absolute.to_str().unwrap();
    let sink = |path: &str| format!("[[sinks]]\ntype = \"file\"\npath = \"{path}\"\n");
    for (first, second) in [
        ("a.ndjson", "./a.ndjson"),
        ("a.ndjson", absolute),
        ("logs/../a.ndjson", "a.ndjson"),
        ("./logs/b.ndjson", "logs//b.ndjson"),
    ] {
        let file = workspace.write("twice.toml", &(sink(first) + &sink(second)));
        let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
        assert_eq!(output.status.code(), Some(78), "{first} vs {second}");
        assert!(
            stderr(&output).contains("sinks[1].path"),
            "{}",
            stderr(&output)
        );
    }

    // The dead-letter file on a sink's file, however spelled.
    let file = workspace.write(
        "dead.toml",
        &format!(
            "[pipeline]\non_permanent_error = \"dead_letter\"\ndead_letter_path = \"./logs/../a.ndjson\"\n{}",
            sink(absolute)
        ),
    );
    let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("pipeline.dead_letter_path"),
        "{}",
        stderr(&output)
    );

    // Different files stay accepted.
    let file = workspace.write(
        "distinct.toml",
        &format!(
            "[pipeline]\non_permanent_error = \"dead_letter\"\ndead_letter_path = \"dead.ndjson\"\n{}{}",
            sink("a.ndjson"),
            sink("logs/a.ndjson")
        ),
    );
    printed(&check_config(
        &workspace,
        &["-c", file.to_str().unwrap()],
        &[],
    ));
}

#[test]
fn files_inside_the_state_directory_are_refused() {
    let workspace = Workspace::new();
    let state = workspace.path("state");
    std::fs::create_dir(&state).unwrap();
    let state_absolute = state.to_str().unwrap();
    for (dir, sink_path, dead_letter, key) in [
        (
            "state",
            "state/events.ndjson",
            "dead.ndjson",
            "sinks[0].path",
        ),
        (
            state_absolute,
            "./state/events.ndjson",
            "dead.ndjson",
            "sinks[0].path",
        ),
        ("./state/", "state", "dead.ndjson", "sinks[0].path"),
        (
            "not-yet",
            "not-yet/sub/events.ndjson",
            "dead.ndjson",
            "sinks[0].path",
        ),
        (
            "state",
            "events.ndjson",
            "./state/dead.ndjson",
            "pipeline.dead_letter_path",
        ),
    ] {
        let file = workspace.write(
            "inside.toml",
            &format!(
                "[state]\ndir = \"{dir}\"\n[pipeline]\non_permanent_error = \"dead_letter\"\ndead_letter_path = \"{dead_letter}\"\n[[sinks]]\ntype = \"file\"\npath = \"{sink_path}\"\n"
            ),
        );
        let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
        let message = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(78),
            "{dir} {sink_path} {dead_letter}"
        );
        assert!(
            message.contains(key) && message.contains("state directory"),
            "{message}"
        );
    }
    // A sibling whose name starts like the state directory is outside it.
    let file = workspace.write(
        "beside.toml",
        "[state]\ndir = \"state\"\n[[sinks]]\ntype = \"file\"\npath = \"state-events.ndjson\"\n",
    );
    printed(&check_config(
        &workspace,
        &["-c", file.to_str().unwrap()],
        &[],
    ));
}

#[test]
fn rows_in_flight_have_an_overall_bound_naming_both_keys() {
    let workspace = Workspace::new();
    let output = check_config(
        &workspace,
        &[
            "--set",
            "pipeline.max_batches_in_flight=1024",
            "--set",
            "source.batch_rows=100000",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(78));
    let message = stderr(&output);
    assert!(
        message.contains("pipeline.max_batches_in_flight")
            && message.contains("source.batch_rows")
            && message.contains("200000")
            && message.contains("memory for throughput"),
        "{message}"
    );
    // `run` refuses it the same way, before reading anything.
    let output = workspace.run(&[
        "run",
        "--set",
        "pipeline.max_batches_in_flight=3",
        "--set",
        "source.batch_rows=100000",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    // At the bound is fine.
    let table = printed(&check_config(
        &workspace,
        &[
            "--set",
            "pipeline.max_batches_in_flight=2",
            "--set",
            "source.batch_rows=100000",
        ],
        &[],
    ));
    assert_eq!(batch_rows(&table), 100_000);
}

#[test]
fn events_in_memory_out_of_range_is_a_configuration_error_naming_the_key() {
    let workspace = Workspace::new();
    for events in ["0", "200001", "many"] {
        let set = format!("pipeline.max_events_in_memory={events}");
        let output = check_config(&workspace, &["--set", &set], &[]);
        assert_eq!(output.status.code(), Some(78), "{events}");
        let message = stderr(&output);
        assert!(
            message.contains("pipeline.max_events_in_memory"),
            "{events}: {message}"
        );
    }
    // The bound itself, and one batch's worth, are fine.
    for events in [200_000, 1] {
        let set = format!("pipeline.max_events_in_memory={events}");
        let table = printed(&check_config(&workspace, &["--set", &set], &[]));
        assert_eq!(
            table["pipeline"]["max_events_in_memory"].as_integer(),
            Some(events)
        );
    }
}

#[test]
fn tls_set_up_errors_are_configuration_errors_in_check_config_and_run() {
    let workspace = Workspace::new();
    workspace.write("empty-ca.pem", "not a certificate\n");
    workspace.write("ca.pem", EXAMPLE_CA);
    for (name, sink, key) in [
        (
            "HEC CA without a certificate",
            "type = \"splunk_hec\"\nendpoint = \"https://x.example:8088\"\ntoken = \"t\"\ntls_ca_file = \"empty-ca.pem\"\n",
            "sinks[0].tls_ca_file",
        ),
        (
            "syslog CA without a certificate",
            "type = \"syslog\"\naddress = \"x.example:6514\"\ntransport = \"tls\"\ntls_ca_file = \"empty-ca.pem\"\n",
            "sinks[0].tls_ca_file",
        ),
        (
            "syslog TLS server name",
            "type = \"syslog\"\naddress = \"x.example:6514\"\ntransport = \"tls\"\ntls_ca_file = \"ca.pem\"\ntls_server_name = \"not a name!\"\n",
            "sinks[0].tls_server_name",
        ),
        (
            "syslog client key that is not a key",
            "type = \"syslog\"\naddress = \"x.example:6514\"\ntransport = \"tls\"\ntls_ca_file = \"ca.pem\"\ntls_cert_file = \"ca.pem\"\ntls_key_file = \"ca.pem\"\n",
            "sinks[0].tls_key_file",
        ),
    ] {
        let file = workspace.write("tls.toml", &format!("[[sinks]]\n{sink}"));
        let file = file.to_str().unwrap();
        for command in ["check-config", "run"] {
            let output = workspace.run(&[command, "-c", file, "--set", "state.dir=./state"]);
            let message = stderr(&output);
            assert_eq!(output.status.code(), Some(78), "{command}, {name}: {message}");
            assert!(message.contains(key), "{command}, {name}: {message}");
        }
    }
    // A real CA loads.
    let file = workspace.write(
        "tls.toml",
        "[[sinks]]\ntype = \"syslog\"\naddress = \"x.example:6514\"\ntransport = \"tls\"\ntls_ca_file = \"ca.pem\"\n",
    );
    printed(&check_config(
        &workspace,
        &["-c", file.to_str().unwrap()],
        &[],
    ));
}

#[test]
fn tls_files_that_cannot_be_used_are_exit_78_naming_the_key_at_check_config() {
    let workspace = Workspace::new();
    workspace.write("ca.pem", EXAMPLE_CA);
    workspace.write(
        "bad-cert.pem",
        "-----BEGIN CERTIFICATE-----\nMIIB@@@not base64@@@\n-----END CERTIFICATE-----\n",
    );
    // Secret-looking text in a key file the parser refuses: never echoed.
    workspace.write(
        "bad-key.pem",
        "-----BEGIN PRIVATE KEY-----\nS3cr3tK3yM4t3r14l!!\n-----END PRIVATE KEY-----\n",
    );
    let syslog = "type = \"syslog\"\naddress = \"x.example:6514\"\ntransport = \"tls\"\ntls_ca_file = \"ca.pem\"\n";
    for (name, sink, key, says) in [
        (
            "a certificate file that is not PEM",
            format!("{syslog}tls_cert_file = \"bad-cert.pem\"\ntls_key_file = \"bad-key.pem\"\n"),
            "sinks[0].tls_cert_file",
            "not a PEM certificate file",
        ),
        (
            "a key file that is not PEM",
            format!("{syslog}tls_cert_file = \"ca.pem\"\ntls_key_file = \"bad-key.pem\"\n"),
            "sinks[0].tls_key_file",
            "not a PEM private key file",
        ),
        (
            "a key file that cannot be read",
            format!("{syslog}tls_cert_file = \"ca.pem\"\ntls_key_file = \"no-such-key.pem\"\n"),
            "sinks[0].tls_key_file",
            "cannot read",
        ),
        (
            "a key file that is a directory",
            format!("{syslog}tls_cert_file = \"ca.pem\"\ntls_key_file = \".\"\n"),
            "sinks[0].tls_key_file",
            "cannot read",
        ),
        (
            "a key without a certificate",
            format!("{syslog}tls_key_file = \"bad-key.pem\"\n"),
            "sinks[0].tls_key_file",
            "set tls_cert_file and tls_key_file together",
        ),
        (
            "a HEC CA file that cannot be read",
            "type = \"splunk_hec\"\nendpoint = \"https://x.example:8088\"\ntoken = \"t\"\ntls_ca_file = \"no-such-ca.pem\"\n".to_owned(),
            "sinks[0].tls_ca_file",
            "cannot read",
        ),
    ] {
        let file = workspace.write("tls.toml", &format!("[[sinks]]\n{sink}"));
        let output = check_config(&workspace, &["-c", file.to_str().unwrap()], &[]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(78), "{name}: {message}");
        let line = message
            .lines()
            .find(|line| line.contains(key))
            .unwrap_or_else(|| panic!("{name}: no line names {key}: {message}"));
        assert!(line.contains(says), "{name}: {line}");
        let everything = format!("{}{message}", stdout(&output));
        assert!(!everything.contains("S3cr3tK3y"), "{name}: {everything}");
    }
}

#[test]
fn an_hec_endpoint_no_http_client_can_parse_is_exit_78_at_load() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "hec.toml",
        "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://splunk example:8088\"\ntoken = \"t\"\n",
    );
    let output = check_config(&workspace, &["-c", config.to_str().unwrap()], &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(78), "{message}");
    assert!(
        message.contains("sinks[0].endpoint") && message.contains("not a URL"),
        "{message}"
    );
}

#[test]
fn a_syslog_facility_is_read_by_name_once_and_an_unknown_one_is_exit_78() {
    let workspace = Workspace::new();
    let sink = |facility: &str| {
        format!("[[sinks]]\ntype = \"syslog\"\naddress = \"x.example:514\"\nfacility = \"{facility}\"\n")
    };
    let config = workspace.write("syslog.toml", &sink("Local7"));
    let table = printed(&check_config(
        &workspace,
        &["-c", config.to_str().unwrap()],
        &[],
    ));
    assert_eq!(table["sinks"][0]["facility"].as_str(), Some("local7"));
    let config = workspace.write("syslog.toml", &sink("local8"));
    let output = check_config(&workspace, &["-c", config.to_str().unwrap()], &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(78), "{message}");
    assert!(
        message.contains("`sinks[0].facility`")
            && message.contains("facility \"local8\" is not a syslog facility"),
        "{message}"
    );
}

#[test]
fn credentials_in_the_hec_endpoint_url_are_refused_without_being_echoed() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "hec.toml",
        "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://admin:hunter2-secret@splunk.example:8088\"\ntoken = \"t0ken-value\"\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        text.contains("sinks[0].endpoint") && text.contains("credentials"),
        "{text}"
    );
    assert!(!text.contains("hunter2-secret"), "{text}");
}

#[test]
fn a_sink_path_template_is_checked_once_expanded() {
    let workspace = Workspace::new();
    workspace.write("odbc.pw", "x\n");
    // `{source}` = "audit" puts this file in the state directory of a system.
    let config = workspace.write(
        "fleet.toml",
        "[state]\ndir = \"state/audit\"\n[[sources]]\nname = \"audit\"\n[[sources]]\nname = \"other\"\n[[sinks]]\ntype = \"file\"\npath = \"state/{source}/db\"\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("sinks[0].path")
            && stderr(&output).contains("inside the state directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_secret_typed_into_a_file_key_is_not_echoed() {
    let workspace = Workspace::new();
    // The password itself, typed where the name of its file belongs.
    let config = workspace.write(
        "odbc.toml",
        "[source]\nkind = \"odbc\"\n[source.odbc]\nconnection_string = \"Driver={IBM i Access ODBC Driver};System=ibmi.example.com;UID=AUDITFWD\"\npassword_file = \"Tr0ub4dor&3\"\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(text.contains("source.odbc.password_file"), "{text}");
    assert!(!text.contains("Tr0ub4dor"), "{text}");
    // A number there: the type error does not repeat it either.
    let config = workspace.write(
        "hec.toml",
        "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"https://splunk.example:8088\"\ntoken_file = 98765432123\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        text.contains("sinks[0].token_file") && !text.contains("98765432123"),
        "{text}"
    );
}

/// The exit codes a table lists: the first number of each `| N |` row.
fn table_codes(text: &str, heading: &str) -> std::collections::BTreeSet<i32> {
    let section = text
        .split_once(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"))
        .1;
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| {
            line.trim_start_matches('|')
                .split('|')
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn every_exit_code_table_agrees_with_the_code() {
    let root = env!("CARGO_MANIFEST_DIR");
    let source = std::fs::read_to_string(format!("{root}/src/lib.rs")).unwrap();
    let code: std::collections::BTreeSet<i32> = source
        .split("pub mod exit_code")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|line| !line.starts_with('}'))
        .filter_map(|line| {
            line.trim()
                .strip_prefix("pub const ")?
                .split('=')
                .nth(1)?
                .trim()
                .trim_end_matches(';')
                .parse()
                .ok()
        })
        .collect();
    assert!(code.contains(&78) && code.contains(&0), "{code:?}");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    assert_eq!(table_codes(&readme, "### Exit codes"), code, "README.md");
    let runbook = std::fs::read_to_string(format!("{root}/deploy/RUNBOOK.md")).unwrap();
    assert_eq!(
        table_codes(&runbook, "## Exit codes and what systemd does"),
        code,
        "deploy/RUNBOOK.md"
    );
    let workspace = Workspace::new();
    let help = stdout(&workspace.run(&["--help"]));
    let listed: std::collections::BTreeSet<i32> = help
        .split_once("Exit codes:")
        .unwrap()
        .1
        .lines()
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(listed, code, "auditfwd --help");
}
