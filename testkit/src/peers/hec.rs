//! The Splunk HEC stand-in (tests/support/hec_standin.py) on a port it picks
//! and announces with `READY <port>`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/support/hec_standin.py"
);

/// A running HEC stand-in; the process is killed when the value drops.
pub struct HecStandin {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Every indexed event, one JSON line each.
    pub store: PathBuf,
}

impl HecStandin {
    /// Starts the stand-in accepting `token`, storing into `dir/indexed.jsonl`
    /// and logging to `dir/standin.log`; `extra` are its flags (`--ack`,
    /// `--fault …`, `--tls-cert …`). Fails with how to get python3.
    pub fn start(dir: &Path, token: &str, extra: &[&str]) -> HecStandin {
        let store = dir.join("indexed.jsonl");
        let log = dir.join("standin.log");
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .args(["--port", "0", "--token", token, "--store"])
            .arg(&store)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("stand-in log file"))
            .spawn()
            .expect("python3 is needed for the HEC stand-in: apt-get install python3");
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line);
        let port = line
            .strip_prefix("READY ")
            .and_then(|port| port.trim().parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the HEC stand-in did not start (needs python3: apt-get install python3): {line:?} {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        HecStandin { child, port, store }
    }

    /// Every event indexed so far.
    pub fn indexed(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.store)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("stand-in stored bad JSON ({error}): {line}"))
            })
            .collect()
    }

    /// The event id of every event indexed so far, repeats included.
    pub fn indexed_ids(&self) -> Vec<String> {
        self.indexed()
            .iter()
            .map(|line| {
                line["envelope"]["event"]["event_id"]
                    .as_str()
                    .expect("an indexed event has an event_id")
                    .to_owned()
            })
            .collect()
    }

    /// The stand-in's counters: `GET /_standin/stats`.
    pub fn stats(&self) -> serde_json::Value {
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to stand-in");
        write!(
            stream,
            "GET /_standin/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("send stats request");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read stats response");
        let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        serde_json::from_str(body).unwrap_or_else(|error| panic!("stats ({error}): {response}"))
    }
}

impl Drop for HecStandin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
