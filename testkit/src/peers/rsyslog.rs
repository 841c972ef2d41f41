//! A private rsyslog (tests/support/syslog/rsyslog.sh) with five listeners
//! (tcp, tls, relp, udp, mtls), each on a fresh port, writing what it receives
//! as JSON lines per listener.

use std::process::Command;
use std::time::Duration;

use crate::wait::{free_port, poll_until};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/support/syslog/rsyslog.sh"
);

const LISTENERS: [&str; 5] = ["tcp", "tls", "relp", "udp", "mtls"];

/// A running private rsyslogd with its five listeners; stopped when the value drops.
pub struct Rsyslog {
    dir: tempfile::TempDir,
    ports: [u16; 5],
}

impl Rsyslog {
    /// Starts rsyslog; fails with the packages to install when it cannot.
    pub fn start() -> Rsyslog {
        let rsyslog = Rsyslog {
            dir: tempfile::tempdir().expect("temp dir"),
            ports: [(); 5].map(|_| free_port()),
        };
        rsyslog.script("start");
        rsyslog
    }

    /// Runs rsyslog.sh `action` (start, stop, kill) on this instance.
    pub fn script(&self, action: &str) {
        let mut command = Command::new("bash");
        command.arg(SCRIPT).arg(action).arg(self.dir.path());
        for listener in LISTENERS {
            command.env(
                format!("SYSLOG_{}_PORT", listener.to_uppercase()),
                self.port(listener).to_string(),
            );
        }
        let output = command
            .output()
            .expect("run tests/support/syslog/rsyslog.sh");
        assert!(
            output.status.success(),
            "rsyslog.sh {action} failed (needs `apt-get install rsyslog rsyslog-gnutls rsyslog-relp openssl`; bash .ci/setup does): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The folder rsyslog runs in: `out/<listener>.jsonl`, `tls/`.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The port of `listener`: "tcp", "tls", "relp", "udp" or "mtls".
    pub fn port(&self, listener: &str) -> u16 {
        let index = LISTENERS
            .iter()
            .position(|name| *name == listener)
            .unwrap_or_else(|| panic!("rsyslog has no listener {listener:?}"));
        self.ports[index]
    }

    /// A file of the private CA and certificates rsyslog.sh made.
    pub fn tls(&self, name: &str) -> String {
        self.dir.path().join("tls").join(name).display().to_string()
    }

    /// Every line `listener` received so far.
    pub fn received(&self, listener: &str) -> Vec<serde_json::Value> {
        let path = self
            .dir
            .path()
            .join("out")
            .join(format!("{listener}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("rsyslog wrote bad JSON ({error}): {line}"))
            })
            .collect()
    }

    /// The `event_id` of every message `listener` wrote (from the STRUCTURED-DATA
    /// of RFC 5424 messages), once `count` lines arrived or after 10 s.
    #[allow(dead_code)] // used by benches/syslog.rs
    pub fn event_ids(&self, listener: &str, count: usize) -> Vec<String> {
        self.received_at_least(listener, count)
            .iter()
            .filter_map(|line| {
                let sd = line["structured_data"].as_str()?;
                let start = sd.find("event_id=\"")? + "event_id=\"".len();
                Some(sd[start..].split('"').next()?.to_owned())
            })
            .collect()
    }

    /// Lines `listener` wrote so far, counted without parsing them.
    #[allow(dead_code)] // used by benches/syslog.rs
    pub fn lines(&self, listener: &str) -> usize {
        let path = self
            .dir
            .path()
            .join("out")
            .join(format!("{listener}.jsonl"));
        std::fs::read(path)
            .unwrap_or_default()
            .iter()
            .filter(|byte| **byte == b'\n')
            .count()
    }

    /// What `listener` received once `count` lines arrived, or after 10 s
    /// whatever came (rsyslog writes asynchronously to a RELP ack); the caller
    /// asserts on it.
    pub fn received_at_least(&self, listener: &str, count: usize) -> Vec<serde_json::Value> {
        poll_until(Duration::from_secs(10), || {
            self.received(listener).len() >= count
        });
        self.received(listener)
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}
