//! Many systems from one daemon: 8 lab "systems" (8 PostgreSQL databases,
//! each its own SYSTEM_NAME) through one daemon into one Kafka topic, each
//! exact, with one system down for a while mid-run while the others keep
//! flowing; per-system metrics, health and checkpoints; kill -9 and restart.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use crate::harness::config::lab_source;
use crate::harness::{free_port, signal, stderr, wait_for, wait_with_limit, Lab, Tansu, Workspace};
use crate::kafka::consume;
use crate::telemetry::get;

const TOPIC: &str = "ibmi-fleet";
const SYSTEMS: usize = 8;
/// The system taken down mid-run.
const DOWN: usize = 3;

fn configure(workspace: &Workspace, labs: &[Lab], brokers: &str, port: u16) -> String {
    workspace.write("odbc.pw", "lab\n");
    let mut text = format!(
        r#"
[filter]
entry_types = []
exclude_users = []
[state]
dir = "data"
[pipeline]
retry_initial_backoff = "100ms"
retry_max_backoff = "1s"
[sessions]
enabled = false
[telemetry]
listen = "127.0.0.1:{port}"
[[sinks]]
type = "kafka"
brokers = "{brokers}"
topic = "{TOPIC}"
"#
    );
    for (index, lab) in labs.iter().enumerate() {
        text.push_str(&lab_source(
            lab,
            Some(&format!("s{index}")),
            "batch_rows = 250",
            "query_timeout = \"10s\"",
        ));
    }
    workspace
        .write("fleet.toml", &text)
        .to_str()
        .unwrap()
        .to_owned()
}

/// Event ids received, by SYSTEM_NAME.
fn by_system(
    records: &[(String, serde_json::Value, Vec<String>)],
) -> BTreeMap<String, Vec<String>> {
    let mut systems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, payload, _) in records {
        systems
            .entry(payload["system_name"].as_str().unwrap().to_owned())
            .or_default()
            .push(key.clone());
    }
    systems
}

fn generate(lab: &Lab, index: usize, count: u32, minute: u32) {
    lab.sql(&format!(
        "SELECT lab.generate({count}, {}, TIMESTAMP '2026-10-01 08:{minute:02}:00', INTERVAL '10 milliseconds', 100000, 'SYS{index}')",
        index + 1
    ));
}

#[test]
fn eight_systems_one_down_mid_run_each_exact_into_one_topic() {
    let labs: Vec<Lab> = (0..SYSTEMS).map(|_| Lab::new("fleet")).collect();
    for (index, lab) in labs.iter().enumerate() {
        generate(lab, index, 1000, 0);
    }
    let workspace = Workspace::new();
    let tansu = Tansu::start(&workspace.path("tansu.log"), &[TOPIC]);
    let port = free_port();
    let config = configure(&workspace, &labs, &tansu.brokers(), port);
    let started = Instant::now();
    let mut daemon = workspace.spawn(&["run", "-c", &config]);
    let total = |expected: usize| {
        move || {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                return false;
            }
            let (_, body) = get(port, "/metrics");
            body.lines()
                .filter(|line| line.starts_with("auditfwd_events_delivered_total{"))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>()
                >= expected as f64
        }
    };
    wait_for(
        "8,000 events delivered",
        Duration::from_secs(90),
        total(8000),
    );

    // One system goes down: no new connection, its sessions killed.
    let down = &labs[DOWN];
    down.sql(&format!(
        "ALTER DATABASE {} CONNECTION LIMIT 0",
        down.database
    ));
    labs[0].sql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '{}'",
        down.database
    ));
    let down_at = started.elapsed();
    // The others get new entries and keep flowing while it is down.
    for (index, lab) in labs.iter().enumerate().filter(|(index, _)| *index != DOWN) {
        generate(lab, index, 1000, 10);
    }
    wait_for(
        "the other systems' second wave",
        Duration::from_secs(60),
        total(15000),
    );
    let others_done_at = started.elapsed();
    wait_for(
        "the down system to show as down",
        Duration::from_secs(30),
        || {
            get(port, "/metrics")
                .1
                .contains(&format!("auditfwd_source_up{{source=\"s{DOWN}\"}} 0"))
        },
    );
    let (status, health) = get(port, "/health");
    assert_eq!(status, 503, "{health}");
    assert!(
        health.contains(&format!("source s{DOWN}: source down")),
        "{health}"
    );
    std::thread::sleep(Duration::from_secs(5));
    // Back up (from another database: it cannot connect to itself), with more entries.
    labs[0].sql(&format!(
        "ALTER DATABASE {} CONNECTION LIMIT -1",
        down.database
    ));
    let up_at = started.elapsed();
    generate(down, DOWN, 1000, 10);
    wait_for(
        "every system caught up",
        Duration::from_secs(90),
        total(16000),
    );
    println!(
        "system s{DOWN} down at {down_at:?}, the other 7 delivered their second wave by {others_done_at:?}, s{DOWN} back at {up_at:?}, all caught up by {:?}",
        started.elapsed()
    );
    assert!(
        others_done_at < up_at,
        "the others flowed while s{DOWN} was down"
    );

    // kill -9, restart from the per-system checkpoints, one more wave: exact.
    signal(&daemon, "KILL");
    let _ = wait_with_limit(&mut daemon, Duration::from_secs(10));
    for (index, lab) in labs.iter().enumerate() {
        generate(lab, index, 500, 20);
    }
    for index in 0..SYSTEMS {
        let shown = workspace.run(&[
            "checkpoint",
            "show",
            "-c",
            &config,
            "--source",
            &format!("s{index}"),
        ]);
        assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
        assert!(
            String::from_utf8_lossy(&shown.stdout).contains(&format!("SYS{index}")),
            "{}",
            String::from_utf8_lossy(&shown.stdout)
        );
    }
    let mut daemon = workspace.spawn(&["run", "-c", &config]);
    wait_for("the last wave", Duration::from_secs(90), total(4000));
    let records = consume(&tansu.brokers(), TOPIC, 1, SYSTEMS * 2500);
    signal(&daemon, "INT");
    let (status, _) = wait_with_limit(&mut daemon, Duration::from_secs(30));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());

    let received = by_system(&records);
    assert_eq!(received.len(), SYSTEMS, "{:?}", received.keys());
    for (index, lab) in labs.iter().enumerate() {
        let expected = lab.all_ids("TRUE");
        assert_eq!(expected.len(), 2500);
        let got = &received[&format!("SYS{index}")];
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(
            unique,
            expected.iter().collect::<HashSet<_>>(),
            "system SYS{index}: exactly its entries"
        );
        // In order per system (keys are per entry; one partition).
        let mut seen = HashSet::new();
        let order: Vec<&String> = got.iter().filter(|id| seen.insert(*id)).collect();
        assert_eq!(
            order,
            expected.iter().collect::<Vec<_>>(),
            "SYS{index} in journal order"
        );
        assert!(
            got.len() - unique.len() <= 4 * 250,
            "SYS{index}: at most what was in flight repeated"
        );
        assert!(records
            .iter()
            .filter(|(_, payload, _)| payload["system_name"] == format!("SYS{index}"))
            .all(|(_, payload, _)| payload["source"] == format!("s{index}")));
    }
}

#[test]
fn two_sources_on_one_system_stop_the_daemon() {
    let lab = Lab::new("fleet_twice");
    lab.sql("SELECT lab.generate(100, 1, TIMESTAMP '2026-10-01 08:00:00', INTERVAL '1 second', 1000, 'TWICE')");
    let workspace = Workspace::new();
    workspace.write("odbc.pw", "lab\n");
    let mut text = String::from(
        "[filter]\nentry_types = []\nexclude_users = []\n[sessions]\nenabled = false\n[state]\ndir = \"data\"\n[[sinks]]\ntype = \"file\"\npath = \"events-{source}.ndjson\"\n",
    );
    for name in ["a", "b"] {
        text.push_str(&lab_source(&lab, Some(name), "", ""));
    }
    let config = workspace.write("twice.toml", &text);
    let output = workspace.run(&[
        "run",
        "-c",
        config.to_str().unwrap(),
        "--exit-when-caught-up",
    ]);
    assert_eq!(output.status.code(), Some(78), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("both read the IBM i whose SYSTEM_NAME is TWICE"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sources_need_unique_names_and_per_system_files() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "bad.toml",
        "[[sources]]\nname = \"a\"\n[[sources]]\nname = \"A\"\n[[sinks]]\ntype = \"file\"\npath = \"events.ndjson\"\n",
    );
    let output = workspace.run(&["check-config", "-c", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(78));
    let text = stderr(&output);
    assert!(
        text.contains("sources[1].name") && text.contains("names two systems"),
        "{text}"
    );
    assert!(
        text.contains("sinks[0].path") && text.contains("{source}"),
        "{text}"
    );
}

/// Scaling out: two daemons, each with its own systems and state, into one
/// topic; every system exact and in order.
#[test]
fn two_instances_with_their_own_systems_share_one_topic() {
    let labs: Vec<Lab> = (0..4).map(|_| Lab::new("scale")).collect();
    for (index, lab) in labs.iter().enumerate() {
        generate(lab, index, 800, 0);
    }
    let first = Workspace::new();
    let second = Workspace::new();
    let tansu = Tansu::start(&first.path("tansu.log"), &[TOPIC]);
    let config_first = configure(&first, &labs[..2], &tansu.brokers(), free_port());
    // The second instance's systems are named s0 and s1 too: names are per instance.
    let config_second = configure(&second, &labs[2..], &tansu.brokers(), free_port());
    let mut daemons = [
        first.spawn(&["run", "-c", &config_first, "--exit-when-caught-up"]),
        second.spawn(&["run", "-c", &config_second, "--exit-when-caught-up"]),
    ];
    for daemon in &mut daemons {
        let (status, _) = wait_with_limit(daemon, Duration::from_secs(120));
        assert_eq!(status.code(), Some(0));
    }
    let records = consume(&tansu.brokers(), TOPIC, 1, 4 * 800);
    let received = by_system(&records);
    for (index, lab) in labs.iter().enumerate() {
        let expected = lab.all_ids("TRUE");
        let got = &received[&format!("SYS{index}")];
        let mut seen = HashSet::new();
        let order: Vec<&String> = got.iter().filter(|id| seen.insert(*id)).collect();
        assert_eq!(order, expected.iter().collect::<Vec<_>>(), "SYS{index}");
    }
}

/// Each system's secrets stay out of check-config, from the file or the
/// environment (indexed: AUDITFWD_SOURCES__1__ODBC__PASSWORD).
#[test]
fn every_systems_secrets_are_redacted() {
    let workspace = Workspace::new();
    let config = workspace.write(
        "fleet.toml",
        "[[sources]]\nname = \"a\"\nkind = \"odbc\"\n[sources.odbc]\nconnection_string = \"DSN=x;UID=u;PWD=hunter2secret\"\n\
         [[sources]]\nname = \"b\"\nkind = \"odbc\"\n[sources.odbc]\nconnection_string = \"DSN=y;UID=u\"\n",
    );
    let output = workspace
        .command(&["check-config", "-c", config.to_str().unwrap()])
        .env("AUDITFWD_SOURCES__1__ODBC__PASSWORD", "sup3rsecretpw")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &stderr(&output);
    assert!(
        !text.contains("hunter2secret") && !text.contains("sup3rsecretpw"),
        "{text}"
    );
    assert!(text.matches("<redacted>").count() >= 3, "{text}");
}
