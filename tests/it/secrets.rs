//! Secrets: indexed secret variables (`AUDITFWD_SINKS__<n>__TOKEN`) and
//! `--set sinks.<n>.token` used end to end, and no secret value in any output,
//! whatever its type, its layer (file, environment, `--set`) or the error.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use crate::harness::{stderr, stdout, Workspace};

const STANDIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/hec_standin.py");

/// A token that parses as a number, with a leading zero that parsing would drop.
const NUMERIC_TOKEN: &str = "00271828182845";

struct HecStandin {
    child: Child,
    port: u16,
    store: std::path::PathBuf,
}

impl HecStandin {
    fn start(workspace: &Workspace, token: &str) -> HecStandin {
        let store = workspace.path("indexed.jsonl");
        let mut child = Command::new("python3")
            .arg(STANDIN)
            .args(["--port", "0", "--token", token, "--store"])
            .arg(&store)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(workspace.path("standin.log")).unwrap())
            .spawn()
            .expect("python3 is needed for the HEC stand-in");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|port| port.trim().parse().ok())
            .unwrap_or_else(|| panic!("the HEC stand-in did not start: {line:?}"));
        HecStandin { child, port, store }
    }
}

impl Drop for HecStandin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn all_output(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// Runs `auditfwd args` in `workspace` with `env`.
fn auditfwd(workspace: &Workspace, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = workspace.command(args);
    command.stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run auditfwd")
}

/// A HEC sink whose token is in no file: it comes from `AUDITFWD_SINKS__1__TOKEN`
/// or `--set sinks.1.token=...`, merged into the second sink of the file; the
/// stand-in accepts only that token, so the events arriving prove it was used
/// as given (leading zero and all), and it appears in no output.
#[test]
fn indexed_token_variable_and_set_reach_the_sink_of_the_file() {
    for layer in ["environment", "--set"] {
        let workspace = Workspace::new();
        let standin = HecStandin::start(&workspace, NUMERIC_TOKEN);
        let config = workspace.write(
            "auditfwd.toml",
            &format!(
                r#"
[source]
batch_rows = 50
[source.simulator]
total_events = 120
events_per_second = 0
[sessions]
enabled = false
[filter]
entry_types = []
exclude_users = []
[state]
dir = "data"
[[sinks]]
type = "file"
path = "events.ndjson"
[[sinks]]
type = "splunk_hec"
endpoint = "http://127.0.0.1:{port}"
indexer_ack = false
"#,
                port = standin.port
            ),
        );
        let config = config.to_str().unwrap();
        let set = format!("sinks.1.token={NUMERIC_TOKEN}");
        let (mut args, env) = match layer {
            "environment" => (
                vec!["-c", config],
                vec![("AUDITFWD_SINKS__1__TOKEN", NUMERIC_TOKEN)],
            ),
            _ => (vec!["-c", config, "--set", set.as_str()], vec![]),
        };

        let checked = auditfwd(&workspace, &[&["check-config"], &args[..]].concat(), &env);
        let text = all_output(&checked);
        assert_eq!(checked.status.code(), Some(0), "{layer}: {text}");
        let printed: toml::Table = stdout(&checked).parse().unwrap();
        let sinks = printed["sinks"].as_array().unwrap();
        assert_eq!(sinks.len(), 2, "{layer}: the variable adds no sink: {text}");
        assert_eq!(sinks[0]["type"].as_str(), Some("file"));
        assert_eq!(sinks[1]["token"].as_str(), Some("<redacted>"), "{text}");
        assert_eq!(sinks[1]["indexer_ack"].as_bool(), Some(false), "{text}");
        assert!(!text.contains(NUMERIC_TOKEN), "{layer}: {text}");

        args.insert(0, "run");
        args.push("--exit-when-caught-up");
        let ran = auditfwd(&workspace, &args, &env);
        let text = all_output(&ran);
        assert_eq!(ran.status.code(), Some(0), "{layer}: {text}");
        assert!(!text.contains(NUMERIC_TOKEN), "{layer}: {text}");
        let indexed = crate::harness::read_events(&standin.store);
        assert_eq!(indexed.len(), 120, "{layer}: {text}");
    }
}

#[test]
fn indexed_sasl_password_variable_merges_into_the_kafka_sink() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "kafka.toml",
        "[[sinks]]\ntype = \"file\"\npath = \"events.ndjson\"\n[[sinks]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:1\"\ntopic = \"audit\"\n[sinks.librdkafka]\n\"security.protocol\" = \"sasl_plaintext\"\n\"sasl.mechanism\" = \"PLAIN\"\n\"sasl.username\" = \"auditfwd\"\n",
    );
    let output = auditfwd(
        &workspace,
        &["check-config", "-c", config.to_str().unwrap()],
        &[("AUDITFWD_SINKS__1__SASL_PASSWORD", "31415926535")],
    );
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let printed: toml::Table = stdout(&output).parse().unwrap();
    let kafka = &printed["sinks"].as_array().unwrap()[1];
    assert_eq!(
        kafka["sasl_password"].as_str(),
        Some("<redacted>"),
        "{text}"
    );
    assert_eq!(kafka["topic"].as_str(), Some("audit"), "{text}");
    assert!(!text.contains("31415926535"), "{text}");
}

#[test]
fn an_index_beyond_the_sinks_of_the_files_is_an_error_naming_it() {
    let workspace = Workspace::new();
    let config = workspace.write("one.toml", "[[sinks]]\ntype = \"stdout\"\n");
    let config = config.to_str().unwrap();
    for (args, env) in [
        (
            vec!["-c", config],
            vec![("AUDITFWD_SINKS__3__TOKEN", "Zq8Secret")],
        ),
        (
            vec!["-c", config, "--set", "sinks.3.token=Zq8Secret"],
            vec![],
        ),
        (vec![], vec![("AUDITFWD_SINKS__0__TOKEN", "Zq8Secret")]),
    ] {
        let output = auditfwd(&workspace, &[&["check-config"], &args[..]].concat(), &env);
        let text = all_output(&output);
        assert_eq!(output.status.code(), Some(78), "{args:?} {env:?}: {text}");
        assert!(text.contains("sinks["), "{text}");
        assert!(!text.contains("found map"), "{text}");
        assert!(!text.contains("Zq8Secret"), "{text}");
    }
}

/// A named invocation: arguments and environment variables.
type Case = (String, Vec<String>, Vec<(String, String)>);

/// Secret values of every type, each distinctive enough to find in output.
const INTEGER: &str = "27182818";
const FLOAT: &str = "3.14159265";
const TEXT: &str = "Zx9-Secret-Text";
const LIST: &str = "[16180339]";
const LIST_INSIDE: &str = "16180339";

/// Every secret value of every layer is fed into every error path reachable
/// from the configuration, and no output (stdout, stderr, exit 0 or 78, or a
/// failed `run`) contains one.
#[test]
fn no_secret_value_in_any_output_from_any_layer_or_error() {
    let workspace = Workspace::new();
    let mut cases: Vec<Case> = Vec::new();
    let sinks = "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"http://127.0.0.1:1\"\ntoken_file = \"hec.token\"\n[[sinks]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:1\"\ntopic = \"t\"\n";
    workspace.write("hec.token", "Zx9-Secret-File\n");
    let odbc = "[source]\nkind = \"odbc\"\n[source.odbc]\nconnection_string = \"DSN=auditfwd-no-such-dsn;UID=U\"\n";
    let plain_sinks = "[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"http://127.0.0.1:1\"\n[[sinks]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:1\"\ntopic = \"t\"\n";

    // Files: each type as a TOML value, at each secret key.
    for (literal, what) in [
        (INTEGER.to_owned(), "integer"),
        (FLOAT.to_owned(), "float"),
        (format!("\"{TEXT}\""), "text"),
        (LIST.to_owned(), "list"),
        (format!("\"{TEXT}"), "unterminated"),
        (format!("{INTEGER}x"), "bad number"),
    ] {
        for (name, text) in [
            (
                "odbc password",
                format!("{odbc}password = {literal}\n{plain_sinks}"),
            ),
            (
                "odbc connection string",
                format!("[source.odbc]\nconnection_string = {literal}\n"),
            ),
            (
                "hec token",
                format!("[[sinks]]\ntype = \"splunk_hec\"\nendpoint = \"http://127.0.0.1:1\"\ntoken = {literal}\n"),
            ),
            (
                "kafka sasl_password",
                format!("[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\nsasl_password = {literal}\n"),
            ),
            (
                "librdkafka secret",
                format!("[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\n[sinks.librdkafka]\n\"ssl.key.password\" = {literal}\n"),
            ),
            (
                "unknown librdkafka key",
                format!("[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\n[sinks.librdkafka]\n\"sasl.passwd\" = {literal}\n"),
            ),
            (
                "librdkafka secret, bad settings",
                format!("[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\n[sinks.librdkafka]\n\"ssl.key.password\" = {literal}\n\"ssl.key.location\" = \"/nonexistent/key.pem\"\n\"security.protocol\" = \"ssl\"\n"),
            ),
        ] {
            let file = format!("file-{}.toml", cases.len());
            workspace.write(&file, &text);
            cases.push((format!("file, {name}, {what}"), vec!["-c".into(), file], vec![]));
        }
    }

    // Environment and --set: each type as text, at each secret key, with a
    // file that makes the load succeed, or fail elsewhere, or conflict.
    let good = workspace.write("good.toml", &format!("{odbc}{plain_sinks}"));
    let failing = workspace.write(
        "failing.toml",
        &format!("{odbc}[pipeline]\nshutdown_grace = \"soon\"\n{plain_sinks}"),
    );
    let conflicting = workspace.write(
        "conflicting.toml",
        &format!(
            "{odbc}password_file = \"hec.token\"\n{sinks}sasl_password_file = \"hec.token\"\n"
        ),
    );
    let files = [
        ("loads", good),
        ("fails elsewhere", failing),
        ("conflicts", conflicting),
    ];
    for value in [INTEGER, FLOAT, TEXT, LIST, "true"] {
        for (file_name, file) in &files {
            let file = file.to_str().unwrap().to_owned();
            for (key, variable) in [
                ("source.odbc.password", "AUDITFWD_SOURCE__ODBC__PASSWORD"),
                (
                    "source.odbc.connection_string",
                    "AUDITFWD_SOURCE__ODBC__CONNECTION_STRING",
                ),
                ("sinks.0.token", "AUDITFWD_SINKS__0__TOKEN"),
                ("sinks.1.sasl_password", "AUDITFWD_SINKS__1__SASL_PASSWORD"),
                ("sinks.0.tokn", "AUDITFWD_SINKS__0__TOKN"),
                ("sinks.7.token", "AUDITFWD_SINKS__7__TOKEN"),
            ] {
                cases.push((
                    format!("environment {variable}={value}, file {file_name}"),
                    vec!["-c".into(), file.clone()],
                    vec![(variable.into(), value.into())],
                ));
                cases.push((
                    format!("--set {key}={value}, file {file_name}"),
                    vec![
                        "-c".into(),
                        file.clone(),
                        "--set".into(),
                        format!("{key}={value}"),
                    ],
                    vec![],
                ));
            }
        }
    }
    // A secret where a key should be.
    cases.push((
        "--set without =".into(),
        vec!["--set".into(), TEXT.into()],
        vec![],
    ));

    // `run` past the configuration: an ODBC source that cannot connect, its
    // password and connection string from each layer, each type.
    let runnable = workspace.write(
        "runnable.toml",
        &format!("{odbc}[[sinks]]\ntype = \"file\"\npath = \"events.ndjson\"\n"),
    );
    let runnable = runnable.to_str().unwrap().to_owned();
    let mut runs: Vec<Case> = Vec::new();
    for value in [INTEGER, FLOAT, TEXT, LIST] {
        for (key, variable, prefix) in [
            (
                "source.odbc.password",
                "AUDITFWD_SOURCE__ODBC__PASSWORD",
                "",
            ),
            (
                "source.odbc.connection_string",
                "AUDITFWD_SOURCE__ODBC__CONNECTION_STRING",
                "DSN=auditfwd-no-such-dsn;PWD=",
            ),
        ] {
            let value = format!("{prefix}{value}");
            runs.push((
                format!("run, environment {variable}"),
                vec!["-c".into(), runnable.clone()],
                vec![(variable.into(), value.clone())],
            ));
            runs.push((
                format!("run, --set {key}"),
                vec![
                    "-c".into(),
                    runnable.clone(),
                    "--set".into(),
                    format!("{key}={value}"),
                ],
                vec![],
            ));
        }
    }

    let secrets = [INTEGER, FLOAT, TEXT, LIST_INSIDE, "Zx9-Secret-File"];
    let leaked = |what: &str, output: &Output| {
        let text = all_output(output);
        for secret in secrets {
            assert!(!text.contains(secret), "{what}: {secret} printed:\n{text}");
        }
        assert!(!text.contains("panicked"), "{what}:\n{text}");
    };
    let mut exits = std::collections::BTreeMap::new();
    for (name, args, env) in &cases {
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let checked = auditfwd(&workspace, &[&["check-config"], &args[..]].concat(), &env);
        leaked(&format!("check-config, {name}"), &checked);
        *exits.entry(checked.status.code()).or_insert(0) += 1;
        if checked.status.code() != Some(0) {
            // `run` loads the same way and must fail the same way.
            let ran = auditfwd(
                &workspace,
                &[&["run"], &args[..], &["--set", "state.dir=./state"]].concat(),
                &env,
            );
            leaked(&format!("run, {name}"), &ran);
            assert_eq!(ran.status.code(), checked.status.code(), "{name}");
        }
    }
    // Both outcomes were reached: accepted configurations and refused ones.
    assert!(exits.get(&Some(0)).copied().unwrap_or(0) > 0, "{exits:?}");
    assert!(exits.get(&Some(78)).copied().unwrap_or(0) > 0, "{exits:?}");

    for (name, args, env) in &runs {
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = auditfwd(
            &workspace,
            &[
                &["run"],
                &args[..],
                &["--set", "state.dir=./state", "--exit-when-caught-up"],
            ]
            .concat(),
            &env,
        );
        leaked(name, &ran);
        assert_ne!(ran.status.code(), Some(0), "{name}: no such DSN");
    }
}

/// Secret keys take any scalar as text: a numeric password is a password.
#[test]
fn secret_keys_accept_numbers_and_booleans_as_text() {
    let workspace = Workspace::new();
    let file = workspace.write(
        "odbc.toml",
        "[source]\nkind = \"odbc\"\n[source.odbc]\nconnection_string = \"DSN=x\"\npassword = 31415926\n[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\nsasl_password = true\n[sinks.librdkafka]\n\"linger.ms\" = 5\n\"ssl.key.password\" = 27182818\n",
    );
    let file = file.to_str().unwrap();
    for (args, env) in [
        (vec!["check-config", "-c", file], vec![]),
        (
            vec!["check-config", "-c", file],
            vec![("AUDITFWD_SOURCE__ODBC__PASSWORD", "27182818")],
        ),
        (
            vec![
                "check-config",
                "-c",
                file,
                "--set",
                "source.odbc.password=12345",
            ],
            vec![],
        ),
    ] {
        let output = auditfwd(&workspace, &args, &env);
        let text = all_output(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?} {env:?}: {text}");
        let printed: toml::Table = stdout(&output).parse().unwrap();
        assert_eq!(
            printed["source"]["odbc"]["password"].as_str(),
            Some("<redacted>")
        );
        let kafka = &printed["sinks"].as_array().unwrap()[0];
        assert_eq!(kafka["librdkafka"]["linger.ms"].as_str(), Some("5"));
        for secret in ["31415926", "27182818", "12345"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

/// librdkafka properties are checked at load like the producer will check
/// them, in `check-config` and `run` alike: exit 78 naming the key, never the
/// value of a secret or unknown property, and no broker contacted.
#[test]
fn librdkafka_properties_are_checked_at_load_without_a_broker() {
    let workspace = Workspace::new();
    // Nothing listens here; the check must not need it either way.
    let kafka = "[[sinks]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:1\"\ntopic = \"t\"\n[sinks.librdkafka]\n";
    for (name, properties, key) in [
        (
            "unknown property",
            "\"sasl.passwd\" = \"TopSecret123\"\n",
            "\"sasl.passwd\"",
        ),
        (
            "bad value",
            "\"queue.buffering.max.ms\" = \"TopSecret123\"\n",
            "\"queue.buffering.max.ms\"",
        ),
        (
            "bad value of a property with named values",
            "\"security.protocol\" = \"TopSecret123\"\n",
            "\"security.protocol\"",
        ),
        (
            "conflict seen only at creation",
            "\"acks\" = \"1\"\n\"ssl.key.password\" = \"TopSecret123\"\n",
            "sinks[0].librdkafka",
        ),
        (
            "missing SSL file",
            "\"security.protocol\" = \"ssl\"\n\"ssl.ca.location\" = \"/nonexistent/ca.pem\"\n\"ssl.key.password\" = \"TopSecret123\"\n",
            "sinks[0].librdkafka",
        ),
    ] {
        let file = workspace.write("kafka.toml", &format!("{kafka}{properties}"));
        let file = file.to_str().unwrap();
        for command in ["check-config", "run"] {
            let started = std::time::Instant::now();
            let output = auditfwd(
                &workspace,
                &[command, "-c", file, "--set", "state.dir=./state"],
                &[],
            );
            let text = all_output(&output);
            assert_eq!(output.status.code(), Some(78), "{command}, {name}: {text}");
            assert!(text.contains(key), "{command}, {name}: {text}");
            assert!(!text.contains("TopSecret123"), "{command}, {name}: {text}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{command}, {name}: took {:?}",
                started.elapsed()
            );
        }
    }
}

/// The load-time check builds a producer without `bootstrap.servers`: a broker
/// that is listening is not contacted by `check-config`.
#[test]
fn checking_librdkafka_properties_contacts_no_broker() {
    let broker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    broker.set_nonblocking(true).unwrap();
    let port = broker.local_addr().unwrap().port();
    let workspace = Workspace::new();
    let file = workspace.write(
        "kafka.toml",
        &format!("[[sinks]]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:{port}\"\ntopic = \"t\"\n[sinks.librdkafka]\n\"linger.ms\" = \"20\"\n"),
    );
    let output = auditfwd(
        &workspace,
        &["check-config", "-c", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", all_output(&output));
    std::thread::sleep(std::time::Duration::from_millis(300));
    match broker.accept() {
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("check-config connected to the broker: {other:?}"),
    }
}

#[test]
fn secret_librdkafka_properties_are_redacted_by_what_they_are() {
    let workspace = Workspace::new();
    let file = workspace.write(
        "kafka.toml",
        "[[sinks]]\ntype = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\n[sinks.librdkafka]\n\"sasl.oauthbearer.config\" = \"principal=Zx9Bearer\"\n\"ssl.keystore.password\" = \"Zx9Keystore\"\n\"ssl.key.pem\" = \"Zx9Pem\"\n\"sasl.oauthbearer.client.secret\" = \"Zx9Client\"\n\"sasl.username\" = \"auditfwd\"\n",
    );
    let output = auditfwd(
        &workspace,
        &["check-config", "-c", file.to_str().unwrap()],
        &[],
    );
    let text = all_output(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("Zx9"), "{text}");
    assert!(text.contains("\"sasl.username\" = \"auditfwd\""), "{text}");
}

#[test]
fn a_braced_password_with_separators_never_appears_in_any_output() {
    let workspace = Workspace::new();
    // Braces let a password hold `;` and `=`; `}}` is a literal `}`.
    let connection = "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=1;Database=none;UID=auditfwd;PWD={Sup3r;Se}}cret=Value}";
    let config = workspace.write(
        "odbc.toml",
        &format!("[source]\nkind = \"odbc\"\npoll_interval = \"200ms\"\n[source.odbc]\nconnection_string = \"{connection}\"\ndialect = \"postgres\"\n[state]\ndir = \"data\"\n[pipeline]\nretry_initial_backoff = \"50ms\"\nretry_max_backoff = \"100ms\"\n"),
    );
    let config = config.to_str().unwrap();
    let fragments = ["Sup3r", "Se}cret", "Se}}cret", "cret=Value"];
    let mut outputs = vec![
        workspace.run(&["check-config", "-c", config]),
        workspace.run(&["doctor", "-c", config, "--json"]),
    ];
    let mut daemon = workspace.spawn(&["run", "-c", config]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    crate::harness::signal(&daemon, "TERM");
    crate::harness::wait_with_limit(&mut daemon, std::time::Duration::from_secs(20));
    let log = workspace.log();
    assert!(log.contains("127.0.0.1"), "the daemon tried: {log}");
    outputs.push(workspace.run(&["checkpoint", "show", "-c", config]));
    for output in &outputs {
        let text = format!("{}{}", stdout(output), stderr(output));
        for fragment in fragments {
            assert!(!text.contains(fragment), "{fragment} in {text}");
        }
    }
    for fragment in fragments {
        assert!(!log.contains(fragment), "{fragment} in the log: {log}");
    }
}
