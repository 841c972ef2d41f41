//! systemd notifications, /metrics, /health and log formats, against the real binary.

use std::io::{Read, Write};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::harness::{ids, signal, stderr, stdout, wait_for, wait_with_limit, Workspace};

/// One HTTP/1.1 GET of `path` on the loopback `port`: the status and the body.
pub fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to telemetry");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Waits for the daemon's "telemetry listening" line and returns the port.
pub fn telemetry_port(workspace: &Workspace) -> u16 {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let log = workspace.log();
        if let Some(port) = log
            .lines()
            .find(|line| line.contains("telemetry listening"))
            .and_then(|line| line.split("address=").nth(1))
            .and_then(|address| address.split_whitespace().next())
            .and_then(|address| address.rsplit(':').next())
            .and_then(|port| port.parse().ok())
        {
            return port;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no telemetry listening line in the log: {}",
        workspace.log()
    );
}

#[test]
fn systemd_sees_ready_watchdog_and_stopping_in_order() {
    let workspace = Workspace::new();
    let socket_path = workspace.path("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut child = workspace
        .command(&[
            "run",
            "--set",
            "source.simulator.events_per_second=500",
            "--set",
            "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
        ])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let mut messages: Vec<String> = Vec::new();
    let mut buffer = [0u8; 4096];
    let started = Instant::now();
    let mut terminated = false;
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(length) = socket.recv(&mut buffer) {
            messages.push(String::from_utf8_lossy(&buffer[..length]).into_owned());
        }
        let watchdogs = messages
            .iter()
            .filter(|message| *message == "WATCHDOG=1")
            .count();
        if !terminated && messages.iter().any(|message| message == "READY=1") && watchdogs >= 2 {
            signal(&child, "TERM");
            terminated = true;
        }
        if messages.iter().any(|message| message == "STOPPING=1") {
            break;
        }
    }
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    let position = |wanted: &str| messages.iter().position(|message| message == wanted);
    let ready = position("READY=1").unwrap_or_else(|| panic!("no READY=1 in {messages:?}"));
    let watchdog =
        position("WATCHDOG=1").unwrap_or_else(|| panic!("no WATCHDOG=1 in {messages:?}"));
    let stopping =
        position("STOPPING=1").unwrap_or_else(|| panic!("no STOPPING=1 in {messages:?}"));
    assert!(ready < stopping && watchdog < stopping, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("STATUS=")),
        "{messages:?}"
    );
}

#[test]
fn metrics_parse_as_prometheus_text_and_agree_with_what_was_sent() {
    let workspace = Workspace::new();
    let mut child = workspace.spawn(&[
        "run",
        "--set",
        "telemetry.listen=127.0.0.1:0",
        "--set",
        "source.simulator.total_events=3000",
        "--set",
        "sessions.enabled=false",
        "--set",
        "source.simulator.events_per_second=0",
        "--set",
        "source.simulator.start_timestamp=\"2026-01-05T08:00:00\"",
        "--set",
        "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
    ]);
    let port = telemetry_port(&workspace);
    wait_for("all 3000 rows committed", Duration::from_secs(30), || {
        let (_, body) = get(port, "/metrics");
        body.contains("auditfwd_rows_read_total 3000\n")
            && body.contains("auditfwd_batches_in_flight 0\n")
    });
    let (status, body) = get(port, "/metrics");
    assert_eq!(status, 200);
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|line| Ok(line.to_owned())))
        .expect("Prometheus text");
    let value = |name: &str| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|sample| sample.metric == name)
            .unwrap_or_else(|| panic!("no {name}"));
        match sample.value {
            prometheus_parse::Value::Counter(value)
            | prometheus_parse::Value::Gauge(value)
            | prometheus_parse::Value::Untyped(value) => value,
            _ => panic!("{name} is not a number"),
        }
    };
    let delivered = ids(&workspace.events("events.ndjson")).len() as f64;
    assert!(delivered > 0.0);
    assert_eq!(value("auditfwd_rows_read_total"), 3000.0);
    assert_eq!(value("auditfwd_events_delivered_total"), delivered);
    assert_eq!(value("auditfwd_events_filtered_total"), 3000.0 - delivered);
    assert_eq!(value("auditfwd_sink_up"), 1.0);
    assert!(
        value("auditfwd_journal_lag_seconds") > 0.0,
        "the simulator's entries are in the past"
    );
    // The checkpoint gauge stands on the last entry read (entry 2999 of the stream).
    let last = auditfwd::source::simulator::entry(
        &auditfwd::source::config::SimulatorConfig {
            start_timestamp: auditfwd::source::config::SimulatorStart::At(
                "2026-01-05T08:00:00".parse().unwrap(),
            ),
            ..Default::default()
        },
        2999,
    );
    assert_eq!(
        value("auditfwd_checkpoint_sequence_number"),
        last.sequence_number as f64
    );
    let (status, body) = get(port, "/health");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn health_is_503_while_a_sink_is_down_and_200_after_it_recovers() {
    let workspace = Workspace::new();
    let mut child = workspace.spawn(&[
        "run",
        "--set",
        "telemetry.listen=127.0.0.1:0",
        "--set",
        "source.simulator.total_events=500",
        "--set",
        "source.simulator.events_per_second=0",
        "--set",
        "pipeline.retry_initial_backoff=\"100ms\"",
        "--set",
        "pipeline.retry_max_backoff=\"200ms\"",
        "--set",
        "sinks=[{type=\"file\",path=\"later/events.ndjson\"}]",
    ]);
    let port = telemetry_port(&workspace);
    wait_for("a 503", Duration::from_secs(20), || {
        get(port, "/health").0 == 503
    });
    let (_, reason) = get(port, "/health");
    assert!(reason.contains("later/events.ndjson"), "{reason}");
    std::fs::create_dir(workspace.path("later")).unwrap();
    wait_for("a 200 after recovery", Duration::from_secs(20), || {
        get(port, "/health").0 == 200
    });
    let (_, body) = get(port, "/metrics");
    assert!(
        !body.contains("auditfwd_delivery_retries_total{sink=\"file:later/events.ndjson\"} 0\n"),
        "{body}"
    );
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn logs_carry_journald_priorities_or_json() {
    let workspace = Workspace::new();
    let args = [
        "run",
        "--exit-when-caught-up",
        "--set",
        "source.simulator.total_events=10",
        "--set",
        "source.simulator.events_per_second=0",
        "--set",
        "sinks=[{type=\"file\",path=\"e.ndjson\"}]",
    ];
    let output = workspace
        .command(&args)
        .env("JOURNAL_STREAM", "8:12345")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output);
    assert!(text.lines().all(|line| line.starts_with('<')), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("<6>") && line.contains("auditfwd starting")),
        "{text}"
    );
    assert!(
        !text.contains("2026-") || !text.lines().next().unwrap_or("").contains('T'),
        "journald adds the time: {text}"
    );

    let output = workspace
        .command(&[&args[..], &["--log-format", "json"]].concat())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    for line in stderr(&output).lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"));
        assert!(
            value["level"].is_string() && value["message"].is_string(),
            "{line}"
        );
    }
}

/// CPU seconds (user + system) the process has used, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based).
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[test]
fn idle_connections_at_the_descriptor_limit_neither_spin_nor_lock_out_scrapers() {
    let workspace = Workspace::new();
    let log = std::fs::File::create(workspace.path("daemon.log")).unwrap();
    // A descriptor limit far below the number of idle sockets thrown at it.
    let mut child = std::process::Command::new("prlimit")
        .args(["--nofile=100", "--"])
        .arg(crate::harness::bin())
        .args([
            "run",
            "--set",
            "telemetry.listen=127.0.0.1:0",
            "--set",
            "source.simulator.events_per_second=5",
            "--set",
            "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
        ])
        .current_dir(workspace.dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("prlimit (util-linux) is needed: apt-get install util-linux");
    let port = telemetry_port(&workspace);
    let idle: Vec<_> = (0..300)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    assert!(idle.len() >= 200, "could open only {} sockets", idle.len());
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_seconds(child.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_seconds(child.id()) - before;
    assert!(
        used < 0.6,
        "the daemon used {used:.2} CPU seconds in 3 s with idle connections: it spins"
    );
    drop(idle);
    // Slots held by the idle sockets are freed by the header timeout.
    let started = Instant::now();
    let (status, body) = get(port, "/health");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "/health took {:?}",
        started.elapsed()
    );
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
}

#[test]
fn head_answers_like_get_without_a_body() {
    let workspace = Workspace::new();
    let mut child = workspace.spawn(&[
        "run",
        "--set",
        "telemetry.listen=127.0.0.1:0",
        "--set",
        "source.simulator.events_per_second=5",
        "--set",
        "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
    ]);
    let port = telemetry_port(&workspace);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "HEAD /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("\r\n\r\n"), "no body: {response}");
    signal(&child, "TERM");
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

/// promtool from Debian's `prometheus` package; the test fails (never skips)
/// without it.
fn promtool(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new("promtool");
    command
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/prometheus"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap_or_else(|error| {
        panic!(
            "promtool is needed ({error}): `apt-get install prometheus` (bash .ci/setup does it)"
        )
    });
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn alert_rules_and_dashboard_query_only_metrics_a_live_daemon_exports() {
    let root = env!("CARGO_MANIFEST_DIR");
    // The rules are valid and their unit tests pass.
    let checked = promtool(&["check", "rules", "auditfwd-rules.yml"], None);
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    let tested = promtool(&["test", "rules", "auditfwd-rules.test.yml"], None);
    assert!(
        tested.status.success(),
        "{}{}",
        stdout(&tested),
        stderr(&tested)
    );

    // A live scrape of a fleet of two (so every metric carries its labels).
    let workspace = Workspace::new();
    workspace.write(
        "fleet.toml",
        "[state]\ndir = \"data\"\n[telemetry]\nlisten = \"127.0.0.1:0\"\n[[sinks]]\ntype = \"file\"\npath = \"events-{source}.ndjson\"\n[[sources]]\nname = \"one\"\nkind = \"simulator\"\n[sources.simulator]\ntotal_events = 500\nevents_per_second = 0\nsystem_name = \"SYSONE\"\n[[sources]]\nname = \"two\"\nkind = \"simulator\"\n[sources.simulator]\ntotal_events = 500\nevents_per_second = 0\nsystem_name = \"SYSTWO\"\n",
    );
    let mut child = workspace.spawn(&["run", "-c", "fleet.toml"]);
    let port = telemetry_port(&workspace);
    wait_for("both systems read", Duration::from_secs(30), || {
        let (_, body) = get(port, "/metrics");
        body.contains("auditfwd_rows_read_total{source=\"one\"} 500")
            && body.contains("auditfwd_rows_read_total{source=\"two\"} 500")
    });
    let (_, body) = get(port, "/metrics");
    signal(&child, "TERM");
    wait_with_limit(&mut child, Duration::from_secs(20));
    let linted = promtool(&["check", "metrics"], Some(&body));
    assert!(
        linted.status.success(),
        "{}{}",
        stdout(&linted),
        stderr(&linted)
    );
    let exported: std::collections::BTreeSet<String> = body
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next().map(str::to_owned))
        .collect();
    // No label with unbounded values: only these, each from configuration.
    for line in body.lines().filter(|line| !line.starts_with('#')) {
        if let Some(labels) = line
            .split_once('{')
            .map(|(_, rest)| rest.split_once('}').unwrap().0)
        {
            for pair in labels.split("\",") {
                let name = pair.split('=').next().unwrap();
                assert!(
                    ["source", "sink", "function", "type", "method", "end_reason"].contains(&name),
                    "label {name} in {line}"
                );
            }
        }
    }
    // Every metric the rules and the dashboard query is exported.
    let rules =
        std::fs::read_to_string(format!("{root}/deploy/prometheus/auditfwd-rules.yml")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/deploy/grafana/auditfwd-dashboard.json")).unwrap(),
    )
    .unwrap();
    let mut expressions: Vec<String> = rules
        .lines()
        .filter_map(|line| line.trim().strip_prefix("expr:"))
        .map(str::to_owned)
        .collect();
    let mut stack = vec![&dashboard];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(expr) = map.get("expr").and_then(|expr| expr.as_str()) {
                    expressions.push(expr.to_owned());
                }
                if let Some(query) = map.get("query").and_then(|query| query.as_str()) {
                    expressions.push(query.to_owned());
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(expressions.len() > 15, "{expressions:?}");
    let mut used = std::collections::BTreeSet::new();
    for expression in &expressions {
        let mut rest = expression.as_str();
        while let Some(at) = rest.find("auditfwd_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[at + name.len()..];
            used.insert(name);
        }
    }
    let missing: Vec<&String> = used
        .iter()
        .filter(|name| !exported.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "queried but not exported: {missing:?} (exported: {exported:?})"
    );
    assert!(used.len() >= 12, "{used:?}");
}

#[test]
fn a_panic_while_answering_a_scrape_fails_the_run_with_exit_70() {
    let workspace = Workspace::new();
    let mut child = workspace
        .command(&[
            "run",
            "--set",
            "telemetry.listen=127.0.0.1:0",
            "--set",
            "source.simulator.events_per_second=50",
            "--set",
            "sinks=[{type=\"file\",path=\"events.ndjson\"}]",
        ])
        .env("AUDITFWD_FAILPOINTS", "telemetry.answer=panic@2")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let port = telemetry_port(&workspace);
    let (status, _) = get(port, "/health");
    assert_eq!(status, 200, "the first answer is fine");
    // The second answer panics: the connection drops, and the run stops.
    let _ = std::net::TcpStream::connect(("127.0.0.1", port)).map(|mut stream| {
        let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(20));
    let log = workspace.log();
    assert_eq!(status.code(), Some(70), "{log}");
    assert!(
        log.contains("the telemetry listener panicked: failpoint telemetry.answer fired on hit 2"),
        "{log}"
    );
}

#[test]
fn a_panic_in_a_fleet_s_shared_listener_stops_every_system_with_exit_70() {
    let workspace = Workspace::new();
    workspace.write(
        "fleet.toml",
        "[state]\ndir = \"data\"\n[telemetry]\nlisten = \"127.0.0.1:0\"\n[[sinks]]\ntype = \"file\"\npath = \"events-{source}.ndjson\"\n[[sources]]\nname = \"one\"\nkind = \"simulator\"\n[sources.simulator]\nevents_per_second = 50\nsystem_name = \"SYSONE\"\n[[sources]]\nname = \"two\"\nkind = \"simulator\"\n[sources.simulator]\nevents_per_second = 50\nsystem_name = \"SYSTWO\"\n",
    );
    let mut child = workspace
        .command(&["run", "-c", "fleet.toml"])
        .env("AUDITFWD_FAILPOINTS", "telemetry.answer=panic@2")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    let port = telemetry_port(&workspace);
    let (status, _) = get(port, "/metrics");
    assert_eq!(status, 200);
    let _ = std::net::TcpStream::connect(("127.0.0.1", port)).map(|mut stream| {
        let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(30));
    let log = workspace.log();
    assert_eq!(status.code(), Some(70), "{log}");
    assert!(
        log.contains("the telemetry listener panicked; stopping every system"),
        "{log}"
    );
}
