//! The syslog sink against a private rsyslog (tests/support/syslog/rsyslog.sh):
//! every transport, every body format, and receiver restarts.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::harness::{ids, stderr, wait_with_limit, ConfigBuilder, Rsyslog, Workspace};

fn configure(workspace: &Workspace, total: u64, events_per_second: u64, sink: &str) -> String {
    workspace.config(
        &ConfigBuilder::simulator(total, events_per_second)
            .source("batch_rows = 50\npoll_interval = \"200ms\"")
            .pipeline("retry_initial_backoff = \"100ms\"\nretry_max_backoff = \"500ms\"")
            .file_sink("events.ndjson")
            .sink(&format!("type = \"syslog\"\n{sink}")),
    )
}

fn run(workspace: &Workspace, config: &str) {
    let output = workspace.run(&["run", "-c", config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

fn event_id_in(line: &serde_json::Value) -> Option<String> {
    let sd = line["structured_data"].as_str()?;
    let start = sd.find("event_id=\"")? + "event_id=\"".len();
    Some(sd[start..].split('"').next()?.to_owned())
}

/// Every field rsyslog parsed, for every event, against what was sent.
fn check_rfc5424_json(
    received: &[serde_json::Value],
    events: &[serde_json::Value],
    listener: &str,
) {
    let by_id: HashMap<String, &serde_json::Value> = received
        .iter()
        .filter_map(|line| Some((event_id_in(line)?, line)))
        .collect();
    for event in events {
        let id = event["event_id"].as_str().unwrap();
        let line = by_id
            .get(id)
            .unwrap_or_else(|| panic!("{id} did not arrive over {listener}"));
        assert_eq!(line["input"], listener);
        assert_eq!(line["protocol_version"], "1");
        assert_eq!(line["facility"], 4, "auth");
        let severity = match event["severity"].as_str().unwrap() {
            "critical" => 2,
            "high" => 3,
            "medium" => 4,
            "low" => 5,
            _ => 6,
        };
        assert_eq!(line["severity"], severity, "{line}");
        assert_eq!(line["hostname"], event["system_name"]);
        assert_eq!(line["app_name"], "auditfwd");
        assert_eq!(line["timestamp"], event["entry_timestamp"]);
        assert_eq!(
            line["procid"].as_str(),
            Some(event["job_number"].as_str().unwrap_or("-"))
        );
        assert_eq!(
            line["msgid"].as_str().unwrap(),
            format!(
                "JS_{}",
                crate::harness::js_field(event, "entry_type")
                    .as_str()
                    .unwrap()
            )
        );
        let sd = line["structured_data"].as_str().unwrap();
        assert!(sd.starts_with("[auditfwd@32473 event_id="), "{sd}");
        assert!(
            sd.contains(&format!("seq=\"{}\"", event["sequence_number"])),
            "{sd}"
        );
        if let Some(user) = crate::harness::js_field(event, "real_user_profile").as_str() {
            assert!(sd.contains(&format!("user=\"{user}\"")), "{sd}");
        }
        if let Some(address) = event["remote_address"].as_str() {
            assert!(
                sd.contains(&format!("remote_address=\"{address}\"")),
                "{sd}"
            );
        }
        let body: serde_json::Value =
            serde_json::from_str(line["msg"].as_str().unwrap()).expect("msg is the JSON event");
        assert_eq!(&body, event);
    }
}

fn transport_case(sink: impl Fn(&Rsyslog) -> String, listener: &str, total: u64) {
    let rsyslog = Rsyslog::start();
    let workspace = Workspace::new();
    let config = configure(&workspace, total, 0, &sink(&rsyslog));
    run(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let received = rsyslog.received_at_least(listener, events.len());
    check_rfc5424_json(&received, &events, listener);
    assert_eq!(received.len(), events.len(), "no duplicates without faults");
}

/// Kills rsyslog, starts it again 0.8 s later, and waits for the daemon to
/// finish: exit 0, with the outage seen in its log.
fn outage_survived(rsyslog: &Rsyslog, child: &mut std::process::Child, workspace: &Workspace) {
    rsyslog.script("kill");
    std::thread::sleep(Duration::from_millis(800));
    rsyslog.script("start");
    let (status, _) = wait_with_limit(child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{}", workspace.log());
    assert!(
        workspace.log().contains("retrying"),
        "the outage was noticed: {}",
        workspace.log()
    );
}

#[test]
fn tcp_with_octet_counting_delivers_every_field() {
    transport_case(
        |r| {
            format!(
                "address = \"127.0.0.1:{}\"\ntransport = \"tcp\"",
                r.port("tcp")
            )
        },
        "tcp",
        400,
    );
}

#[test]
fn tcp_with_lf_framing_delivers_every_field() {
    transport_case(
        |r| {
            format!(
                "address = \"127.0.0.1:{}\"\ntransport = \"tcp\"\nframing = \"lf\"",
                r.port("tcp")
            )
        },
        "tcp",
        400,
    );
}

#[test]
fn tls_verifies_the_receiver_against_the_ca() {
    transport_case(
        |r| {
            format!(
                "address = \"localhost:{}\"\ntransport = \"tls\"\ntls_ca_file = \"{}\"",
                r.port("tls"),
                r.tls("ca.pem")
            )
        },
        "tls",
        400,
    );
}

#[test]
fn mutual_tls_presents_the_client_certificate() {
    transport_case(
        |r| {
            format!(
                "address = \"127.0.0.1:{}\"\ntransport = \"tls\"\ntls_ca_file = \"{}\"\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"",
                r.port("mtls"),
                r.tls("ca.pem"),
                r.tls("client.pem"),
                r.tls("client-key.pem")
            )
        },
        "mtls",
        300,
    );
}

#[test]
fn relp_delivers_every_field() {
    transport_case(
        |r| {
            format!(
                "address = \"127.0.0.1:{}\"\ntransport = \"relp\"",
                r.port("relp")
            )
        },
        "relp",
        400,
    );
}

#[test]
fn udp_needs_accept_loss_and_then_sends() {
    let rsyslog = Rsyslog::start();
    let workspace = Workspace::new();
    let refused = configure(
        &workspace,
        50,
        0,
        &format!(
            "address = \"127.0.0.1:{}\"\ntransport = \"udp\"",
            rsyslog.port("udp")
        ),
    );
    let output = workspace.run(&["run", "-c", &refused, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr(&output).contains("accept_loss"),
        "{}",
        stderr(&output)
    );

    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        200,
        0,
        &format!(
            "address = \"127.0.0.1:{}\"\ntransport = \"udp\"\naccept_loss = true",
            rsyslog.port("udp")
        ),
    );
    run(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let received = rsyslog.received_at_least("udp", events.len());
    // UDP confirms nothing; on loopback nearly everything arrives. What did arrive is whole.
    assert!(
        received.len() * 10 >= events.len() * 9,
        "{} of {} arrived",
        received.len(),
        events.len()
    );
    let arrived: HashSet<String> = received.iter().filter_map(event_id_in).collect();
    let sent: Vec<serde_json::Value> = events
        .into_iter()
        .filter(|event| arrived.contains(event["event_id"].as_str().unwrap()))
        .collect();
    check_rfc5424_json(&received, &sent, "udp");
}

/// Adds the format-neutral names `user`, `id`, `job`, `address` for the
/// format's own keys, so CEF and LEEF are checked by the same assertions.
fn with_common_names(
    mut fields: HashMap<String, String>,
    keys: [&str; 4],
) -> HashMap<String, String> {
    for (common, own) in ["user", "id", "job", "address"].into_iter().zip(keys) {
        let value = fields.get(own).cloned().unwrap_or_default();
        fields.insert(common.into(), value);
    }
    fields
}

/// Splits on `separator` not preceded by a backslash, into at most `limit` parts.
fn split_unescaped_at_most(text: &str, separator: char, limit: usize) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            parts.last_mut().unwrap().push(c);
            escaped = false;
        } else if c == '\\' {
            parts.last_mut().unwrap().push(c);
            escaped = true;
        } else if c == separator && parts.len() < limit {
            parts.push(String::new());
        } else {
            parts.last_mut().unwrap().push(c);
        }
    }
    parts
}

/// Splits on `separator` not preceded by a backslash.
fn split_unescaped(text: &str, separator: char) -> Vec<String> {
    split_unescaped_at_most(text, separator, usize::MAX)
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// CEF extensions: `key=value` pairs, a value running to the next ` key=`.
fn cef_extensions(text: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut key: Option<String> = None;
    let mut value = String::new();
    for token in text.split(' ') {
        let unescaped_equals = token
            .char_indices()
            .find(|(index, c)| *c == '=' && (*index == 0 || !token[..*index].ends_with('\\')));
        match unescaped_equals {
            Some((index, _)) if token[..index].chars().all(|c| c.is_ascii_alphanumeric()) => {
                if let Some(key) = key.take() {
                    map.insert(key, unescape(&value));
                }
                key = Some(token[..index].to_owned());
                value = token[index + 1..].to_owned();
            }
            _ => {
                value.push(' ');
                value.push_str(token);
            }
        }
    }
    if let Some(key) = key {
        map.insert(key, unescape(&value));
    }
    map
}

#[test]
fn cef_and_leef_bodies_parse_with_the_fields_siems_expect() {
    let rsyslog = Rsyslog::start();
    for body in ["cef", "leef"] {
        let workspace = Workspace::new();
        std::fs::write(workspace.path("x"), "").unwrap();
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(rsyslog.dir().join("out/tcp.jsonl"));
        let config = configure(
            &workspace,
            300,
            0,
            &format!(
                "address = \"127.0.0.1:{}\"\nbody = \"{body}\"",
                rsyslog.port("tcp")
            ),
        );
        run(&workspace, &config);
        let events = workspace.events("events.ndjson");
        let received = rsyslog.received_at_least("tcp", events.len());
        assert_eq!(received.len(), events.len(), "{body}");
        let by_id: HashMap<String, &serde_json::Value> = received
            .iter()
            .filter_map(|line| Some((event_id_in(line)?, line)))
            .collect();
        for event in &events {
            let msg = by_id[event["event_id"].as_str().unwrap()]["msg"]
                .as_str()
                .unwrap();
            let fields: HashMap<String, String> = if body == "cef" {
                // Pipes are escaped in the CEF header only: the extension is the 8th part.
                let header = split_unescaped_at_most(msg, '|', 8);
                assert_eq!(header.len(), 8, "{msg}");
                assert_eq!(&header[..3], ["CEF:0", "auditfwd", "auditfwd"]);
                assert_eq!(
                    header[4],
                    format!(
                        "JS_{}",
                        crate::harness::js_field(event, "entry_type")
                            .as_str()
                            .unwrap()
                    )
                );
                let severity: u8 = header[6].parse().unwrap();
                assert!((1..=10).contains(&severity));
                let mut extensions = cef_extensions(&header[7]);
                // An IPv6 source is CEF's c6a2 (src is IPv4 only).
                if let Some(v6) = extensions.get("c6a2").cloned() {
                    assert!(!extensions.contains_key("src"), "{msg}");
                    extensions.insert("src".into(), v6);
                }
                with_common_names(extensions, ["suser", "externalId", "dproc", "src"])
            } else {
                assert!(msg.starts_with("LEEF:2.0|auditfwd|auditfwd|"), "{msg}");
                let header = split_unescaped(msg, '|');
                // LEEF 2.0's default delimiter, the tab, named in the header.
                assert_eq!(header[5], "x09");
                let fields: HashMap<String, String> = header[6]
                    .split('\t')
                    .filter_map(|pair| {
                        // LEEF has no escapes: a value is what is written.
                        pair.split_once('=')
                            .map(|(key, value)| (key.to_owned(), value.to_owned()))
                    })
                    .collect();
                with_common_names(fields, ["usrName", "eventId", "jobName", "src"])
            };
            assert_eq!(
                fields["id"],
                event["event_id"].as_str().unwrap(),
                "{body}: {msg}"
            );
            assert_eq!(
                fields["user"],
                crate::harness::js_field(event, "real_user_profile")
                    .as_str()
                    .unwrap_or(""),
                "{body}: {msg}"
            );
            assert_eq!(
                fields["job"],
                event["qualified_job_name"].as_str().unwrap_or(""),
                "{body}: {msg}"
            );
            assert_eq!(
                fields["address"],
                event["remote_address"].as_str().unwrap_or(""),
                "{body}: {msg}"
            );
        }
    }
}

#[test]
fn rfc3164_for_old_receivers() {
    let rsyslog = Rsyslog::start();
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        100,
        0,
        &format!(
            "address = \"127.0.0.1:{}\"\nprotocol = \"rfc3164\"\nframing = \"lf\"",
            rsyslog.port("tcp")
        ),
    );
    run(&workspace, &config);
    let events = workspace.events("events.ndjson");
    let received = rsyslog.received_at_least("tcp", events.len());
    assert_eq!(received.len(), events.len());
    for (line, event) in received.iter().zip(&events) {
        assert_eq!(line["protocol_version"], "0");
        assert_eq!(line["hostname"], event["system_name"]);
        assert_eq!(line["app_name"], "auditfwd");
        let body: serde_json::Value =
            serde_json::from_str(line["msg"].as_str().unwrap().trim_start()).unwrap();
        assert_eq!(&body, event);
    }
}

#[test]
fn oversize_messages_lose_optional_fields_but_stay_whole() {
    let rsyslog = Rsyslog::start();
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        100,
        0,
        &format!(
            "address = \"127.0.0.1:{}\"\nmax_message_bytes = 900",
            rsyslog.port("tcp")
        ),
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("optional fields dropped"),
        "{}",
        stderr(&output)
    );
    let received = rsyslog.received_at_least("tcp", 100);
    assert_eq!(received.len(), 100);
    for line in &received {
        assert!(line["rawmsg"].as_str().unwrap().len() <= 900, "{line}");
        let body: serde_json::Value =
            serde_json::from_str(line["msg"].as_str().unwrap()).expect("whole JSON");
        let block = body.get("js").unwrap_or(&body);
        assert!(body["event_id"].is_string() && block.get("target_qualified_job_name").is_none());
    }
}

/// Kills and restarts rsyslog mid-run; returns (sent ids, received ids).
fn restart_case(transport: &str, listener: &str) -> (Vec<String>, Vec<String>) {
    let rsyslog = Rsyslog::start();
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        3000,
        1000,
        &format!(
            "address = \"127.0.0.1:{}\"\ntransport = \"{transport}\"",
            rsyslog.port(listener)
        ),
    );
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    std::thread::sleep(Duration::from_millis(1200));
    outage_survived(&rsyslog, &mut child, &workspace);
    let sent = ids(&workspace.events("events.ndjson"));
    let received: Vec<String> = rsyslog
        .received_at_least(listener, sent.len())
        .iter()
        .filter_map(event_id_in)
        .collect();
    (sent, received)
}

/// A TCP proxy in front of `target` that cuts its first session (both ways)
/// once `cut_after` bytes came from the client; later sessions pass through.
fn cutting_proxy(target: u16, cut_after: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let port = crate::harness::free_port();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for (session, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { return };
            let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                return;
            };
            let limit = if session == 0 { cut_after } else { usize::MAX };
            let (mut from_client, mut to_upstream) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            let (mut from_upstream, mut to_client) = (upstream, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from_upstream, &mut to_client);
                let _ = to_client.shutdown(Shutdown::Both);
            });
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                let mut forwarded = 0;
                loop {
                    let read = match from_client.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => read,
                    };
                    let take = read.min(limit - forwarded);
                    if to_upstream.write_all(&buffer[..take]).is_err() {
                        break;
                    }
                    forwarded += take;
                    if forwarded >= limit {
                        break;
                    }
                }
                let _ = to_upstream.shutdown(Shutdown::Both);
                let _ = from_client.shutdown(Shutdown::Both);
            });
        }
    });
    port
}

#[test]
fn relp_session_cut_mid_window_loses_nothing_and_resends_only_unanswered_batches() {
    let rsyslog = Rsyslog::start();
    // About 150 messages into the session, with several batches of 50 on the
    // wire: the receiver survives, the session does not.
    let proxy = cutting_proxy(rsyslog.port("relp"), 150_000);
    let workspace = Workspace::new();
    let config = configure(
        &workspace,
        3000,
        0,
        &format!("address = \"127.0.0.1:{proxy}\"\ntransport = \"relp\"\nmax_in_flight = 8"),
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("retrying"),
        "the cut was noticed: {}",
        stderr(&output)
    );
    let sent = ids(&workspace.events("events.ndjson"));
    assert_eq!(sent.len(), 3000);
    let received = rsyslog.event_ids("relp", sent.len());
    assert_eq!(
        received.len(),
        rsyslog.lines("relp"),
        "every line has its id"
    );
    let got: HashSet<&String> = received.iter().collect();
    let missing = sent.iter().filter(|id| !got.contains(id)).count();
    assert_eq!(missing, 0, "lost over a cut RELP session");
    // Only batches not answered in full are sent again: at most max_in_flight of them.
    let repeated = received.len() - got.len();
    assert!(
        repeated <= 8 * 50,
        "{repeated} repeated: more than the batches in flight"
    );
}

#[test]
fn relp_survives_a_receiver_kill_with_nothing_lost_and_at_most_the_batches_in_flight_repeated() {
    let (sent, received) = restart_case("relp", "relp");
    let got: HashSet<&String> = received.iter().collect();
    let missing: Vec<&String> = sent.iter().filter(|id| !got.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} lost over RELP, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    // Batches not answered in full are resent: at most max_in_flight (8) of 50.
    let duplicates = received.len() - got.len();
    assert!(
        duplicates <= 8 * 50,
        "{duplicates} duplicates: more than the batches in flight"
    );
}

#[test]
fn tcp_survives_a_receiver_kill_by_reconnecting_and_the_loss_is_measured() {
    let (sent, received) = restart_case("tcp", "tcp");
    let got: HashSet<&String> = received.iter().collect();
    let lost = sent.iter().filter(|id| !got.contains(id)).count();
    // Plain TCP confirms nothing: what the receiver held when it died is gone.
    // The run must still reach the end, after reconnecting.
    println!(
        "tcp receiver kill: {lost} of {} events lost, {} duplicates",
        sent.len(),
        received.len() - got.len()
    );
    assert!(
        got.contains(sent.last().unwrap()),
        "nothing arrived after the restart"
    );
    assert!(lost <= 200, "{lost} lost: more than the data in flight");
}

/// The CA, certificate and key are read at load: deleted once the daemon
/// runs, they are not missed when the receiver restarts and the sink
/// reconnects (mutual TLS, a new handshake with the material in memory).
#[test]
fn mutual_tls_reconnects_after_its_files_are_deleted() {
    let rsyslog = Rsyslog::start();
    let workspace = Workspace::new();
    let copies: Vec<String> = ["ca.pem", "client.pem", "client-key.pem"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(rsyslog.tls(name)).expect("the harness's TLS files");
            workspace.write(name, &text).display().to_string()
        })
        .collect();
    let config = configure(
        &workspace,
        3000,
        1000,
        &format!(
            "address = \"127.0.0.1:{}\"\ntransport = \"tls\"\ntls_ca_file = \"{}\"\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"",
            rsyslog.port("mtls"),
            copies[0],
            copies[1],
            copies[2]
        ),
    );
    let mut child = workspace.spawn(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert!(
        !rsyslog.received_at_least("mtls", 1).is_empty(),
        "the first session delivered: {}",
        workspace.log()
    );
    for copy in &copies {
        std::fs::remove_file(copy).unwrap();
    }
    outage_survived(&rsyslog, &mut child, &workspace);
    let sent = ids(&workspace.events("events.ndjson"));
    assert_eq!(sent.len(), 3000);
    let received: HashSet<String> = rsyslog
        .received_at_least("mtls", sent.len())
        .iter()
        .filter_map(event_id_in)
        .collect();
    // TLS confirms nothing (as TCP): what the receiver held when it died may
    // be gone, but the last event came over a session made after the files
    // were deleted.
    assert!(
        received.contains(sent.last().unwrap()),
        "nothing arrived after the restart: {}",
        workspace.log()
    );
}
