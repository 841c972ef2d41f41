//! TLS negative cases: a receiver whose certificate was signed by a CA we do not
//! trust, has expired, or names another host is refused by the syslog TLS sink
//! and the Splunk HEC sink, and nothing is delivered or committed. Each case has
//! its control: the same set-up with the good certificate delivers.
//!
//! Certificates come from tests/support/tls/bad_certs.sh (openssl); the syslog
//! receiver is `openssl s_server`, the HEC receiver the HEC stand-in over HTTPS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{
    free_port, signal, stderr, stdout, wait_with_limit, ConfigBuilder, HecStandin, Workspace,
};

const BAD_CERTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/tls/bad_certs.sh"
);
const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

/// A case: which CA the sink trusts, which certificate the receiver shows, and
/// words the refusal must contain (any of them, lower case).
struct Case {
    name: &'static str,
    trusted_ca: &'static str,
    server_cert: &'static str,
    refusal: &'static [&'static str],
}

const CASES: [Case; 3] = [
    Case {
        name: "wrong CA",
        trusted_ca: "other-ca.pem",
        server_cert: "good.pem",
        refusal: &["unknownissuer", "unknown issuer"],
    },
    Case {
        name: "expired certificate",
        trusted_ca: "ca.pem",
        server_cert: "expired.pem",
        refusal: &["expired"],
    },
    Case {
        name: "wrong host name",
        trusted_ca: "ca.pem",
        server_cert: "wrong-name.pem",
        refusal: &["notvalidforname", "not valid for name"],
    },
];

fn certificates(workspace: &Workspace) -> PathBuf {
    let dir = workspace.path("certs");
    let output = Command::new("bash")
        .arg(BAD_CERTS)
        .arg(&dir)
        .output()
        .expect("run tests/support/tls/bad_certs.sh");
    assert!(
        output.status.success(),
        "bad_certs.sh failed (needs `apt-get install openssl`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// A running receiver; it stops when dropped.
type Receiver = Box<dyn std::any::Any>;

struct OpensslServer(Child);

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `openssl s_server` showing `cert`; returns once it accepts.
fn tls_server(certs: &Path, cert: &str) -> (Receiver, u16) {
    let port = free_port();
    let mut child = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-cert"])
        .arg(certs.join(cert))
        .arg("-key")
        .arg(certs.join("server-key.pem"))
        .arg("-quiet")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is needed: apt-get install openssl");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "openssl s_server did not listen"
        );
        if let Ok(Some(status)) = child.try_wait() {
            panic!("openssl s_server exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (Box::new(OpensslServer(child)), port)
}

/// The HEC stand-in over HTTPS with `cert`.
fn hec_server(workspace: &Workspace, certs: &Path, cert: &str) -> (Receiver, u16) {
    let cert = certs.join(cert);
    let key = certs.join("server-key.pem");
    let standin = HecStandin::start(
        workspace.dir.path(),
        TOKEN,
        &[
            "--tls-cert",
            cert.to_str().expect("UTF-8 path"),
            "--tls-key",
            key.to_str().expect("UTF-8 path"),
        ],
    );
    let port = standin.port;
    (Box::new(standin), port)
}

fn config(workspace: &Workspace, sink: &str) -> String {
    workspace.config(
        &ConfigBuilder::simulator(100, 0)
            .source("batch_rows = 50")
            .pipeline(
                "retry_initial_backoff = \"100ms\"\nretry_max_backoff = \"300ms\"\nshutdown_grace = \"2s\"",
            )
            .sink(sink),
    )
}

/// The control delivers everything; each bad case is refused with its reason,
/// delivers nothing and commits nothing.
fn check(sink_name: &str, start: impl Fn(&Workspace, &Path, &str) -> (Receiver, String)) {
    let certs_workspace = Workspace::new();
    let certs = certificates(&certs_workspace);

    let workspace = Workspace::new();
    let (_receiver, sink) = start(&workspace, &certs, "good.pem");
    let config_path = config(
        &workspace,
        &sink.replace("CA_FILE", &certs.join("ca.pem").display().to_string()),
    );
    let mut child = workspace.spawn(&["run", "-c", &config_path, "--exit-when-caught-up"]);
    let (status, _) = wait_with_limit(&mut child, Duration::from_secs(30));
    assert_eq!(
        status.code(),
        Some(0),
        "{sink_name} control: {}",
        workspace.log()
    );

    for case in &CASES {
        let workspace = Workspace::new();
        let (_receiver, sink) = start(&workspace, &certs, case.server_cert);
        let ca = certs.join(case.trusted_ca).display().to_string();
        let config_path = config(&workspace, &sink.replace("CA_FILE", &ca));
        let mut child = workspace.spawn(&["run", "-c", &config_path, "--exit-when-caught-up"]);
        let started = Instant::now();
        let refused = loop {
            let log = workspace.log().to_lowercase();
            if case.refusal.iter().any(|word| log.contains(word)) {
                break true;
            }
            if started.elapsed() > Duration::from_secs(20) {
                break false;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break case
                    .refusal
                    .iter()
                    .any(|word| workspace.log().to_lowercase().contains(word));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if child.try_wait().unwrap().is_none() {
            signal(&child, "TERM");
        }
        let (status, _) = wait_with_limit(&mut child, Duration::from_secs(15));
        if !refused || std::env::var_os("AUDITFWD_TEST_SHOW_LOG").is_some() {
            eprintln!("{sink_name}, {}: {}", case.name, workspace.log());
        }
        assert!(
            refused,
            "{sink_name}, {}: no refusal naming {:?} in the log: {}",
            case.name,
            case.refusal,
            workspace.log()
        );
        assert_ne!(
            status.code(),
            None,
            "{sink_name}, {}: killed by a signal",
            case.name
        );
        let show = workspace.run(&["checkpoint", "show", "-c", &config_path]);
        assert!(
            stdout(&show).contains("no checkpoint"),
            "{sink_name}, {}: something was committed: {}{}",
            case.name,
            stdout(&show),
            stderr(&show)
        );
    }
}

#[test]
fn syslog_tls_refuses_a_wrong_ca_an_expired_certificate_and_a_wrong_host_name() {
    check("syslog tls", |_, certs, cert| {
        let (receiver, port) = tls_server(certs, cert);
        (
            receiver,
            format!(
                "type = \"syslog\"\naddress = \"localhost:{port}\"\ntransport = \"tls\"\ntls_ca_file = \"CA_FILE\""
            ),
        )
    });
}

#[test]
fn splunk_hec_refuses_a_wrong_ca_an_expired_certificate_and_a_wrong_host_name() {
    check("splunk_hec", |workspace, certs, cert| {
        workspace.write("hec.token", &format!("{TOKEN}\n"));
        let (receiver, port) = hec_server(workspace, certs, cert);
        (
            receiver,
            format!(
                "type = \"splunk_hec\"\nendpoint = \"https://localhost:{port}\"\ntoken_file = \"hec.token\"\ntls_ca_file = \"CA_FILE\"\nindexer_ack = false"
            ),
        )
    });
}
