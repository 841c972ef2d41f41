//! The one test harness, shared by both test tiers and the benches: a scratch
//! [`Workspace`] with the binary, a [`ConfigBuilder`] for its `auditfwd.toml`,
//! [`wait_for`] and [`free_port`] (`wait.rs`), the real peers (`peers/`:
//! tansu, the lab, rsyslog, the HEC stand-in), and the daemon in process
//! (`in_process.rs`).
//!
//! It depends on `auditfwd` with the `failpoints` feature, so every test and
//! bench build has fault injection and a release build never does.

pub mod bench;
pub mod config;
pub mod golden;
pub mod in_process;
pub mod peers;
pub mod wait;

pub use config::ConfigBuilder;
pub use peers::{HecStandin, Lab, Rsyslog, Tansu};
pub use wait::{free_port, wait_for};

/// Every audit type the catalog reads, as a TOML list for `source.audit_types`.
pub const ALL_AUDIT_TYPES: &str =
    r#"["JS", "PW", "CP", "AF", "SV", "PS", "GR", "CA", "OW", "AD", "PA"]"#;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `auditfwd` binary cargo built beside the running test or bench
/// (`target/<profile>/auditfwd`; the test itself runs from `deps/`).
pub fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the running test");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary under target/<profile>/deps");
    let bin = profile_dir.join("auditfwd");
    assert!(
        bin.exists(),
        "{} is missing: cargo builds it for `cargo test` and `cargo bench`",
        bin.display()
    );
    bin
}

/// A scratch directory holding `auditfwd.toml`, `data/` and output files.
pub struct Workspace {
    /// The directory, removed when the workspace is dropped.
    pub dir: tempfile::TempDir,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace::new()
    }
}

impl Workspace {
    /// A fresh, empty scratch directory.
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The path of `name` inside the workspace (nothing is created).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `text` to `name` in the workspace and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// Writes `config` as `auditfwd.toml`; its path, for `-c`.
    pub fn config(&self, config: &ConfigBuilder) -> String {
        self.write("auditfwd.toml", &config.to_toml())
            .to_str()
            .expect("UTF-8 temp path")
            .to_owned()
    }

    /// Writes the lab's password to `odbc.pw` (what `ConfigBuilder::lab`
    /// names) and `config` as `auditfwd.toml`; its path, for `-c`.
    pub fn lab_config(&self, config: &ConfigBuilder) -> String {
        self.write("odbc.pw", "lab\n");
        self.config(config)
    }

    /// A command for the binary, run in the workspace, with no AUDITFWD_*
    /// variable inherited from the environment of the test run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(bin());
        command.args(args).current_dir(self.dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("AUDITFWD_") {
                command.env_remove(key);
            }
        }
        command.env_remove("JOURNAL_STREAM");
        command
    }

    /// Runs the binary to its end with `args`, stdin empty; stdout and stderr captured.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run auditfwd")
    }

    /// Starts the binary as a daemon with `args`; its stderr goes to `daemon.log`.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("daemon.log")).expect("log file"))
            .spawn()
            .expect("spawn auditfwd")
    }

    /// What the spawned daemon wrote to stderr so far (`daemon.log`); empty if none.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    /// Lines of an NDJSON file; every line must be whole JSON.
    pub fn events(&self, name: &str) -> Vec<serde_json::Value> {
        read_events(&self.path(name))
    }

    /// The same, while a writer may still be adding to the file: a last line
    /// not yet ended by its line feed is left for the next look.
    pub fn events_so_far(&self, name: &str) -> Vec<serde_json::Value> {
        read_events_so_far(&self.path(name))
    }
}

/// The events of an NDJSON file, each line whole JSON; none if the file is missing.
pub fn read_events(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_lines(path, &text)
}

/// [`read_events`] of a file a writer may still be adding to: only the lines
/// ended by a line feed (every line the file sink writes ends with one).
pub fn read_events_so_far(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
    parse_lines(path, complete)
}

fn parse_lines(path: &Path, text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line).unwrap_or_else(|error| {
                panic!(
                    "{}:{}: not JSON ({error}): {line}",
                    path.display(),
                    index + 1
                )
            })
        })
        .collect()
}

/// A JS field of a native event, v1 (top level) or v2 (in the `js` block).
pub fn js_field<'a>(event: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    match event.get("js") {
        Some(block) => &block[name],
        None => &event[name],
    }
}

/// The `event_id` of each event, in order (panics on an event without one).
pub fn ids(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["event_id"].as_str().expect("event_id").to_owned())
        .collect()
}

/// The captured stderr, as text (invalid UTF-8 replaced).
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The captured stdout, as text (invalid UTF-8 replaced).
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits for the child to exit, at most `limit`; kills it and panics past that.
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("auditfwd did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends signal `name` (`TERM`, `KILL`, ...) to the child with `kill`; panics if that fails.
pub fn signal(child: &Child, name: &str) {
    peers::signal_pid(child.id(), name);
}

/// Counts of each id.
pub fn multiplicity(ids: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id.as_str()).or_insert(0) += 1;
    }
    counts
}

/// A small deterministic generator for "random" test moments; the seed is
/// printed so a failure can be replayed with AUDITFWD_TEST_SEED.
pub struct TestRandom(u64);

impl TestRandom {
    /// Seeded from AUDITFWD_TEST_SEED, else from the clock; prints the seed.
    pub fn from_env_or_time() -> TestRandom {
        let seed = std::env::var("AUDITFWD_TEST_SEED")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |elapsed| elapsed.as_nanos() as u64)
            });
        eprintln!("test random seed: {seed} (replay with AUDITFWD_TEST_SEED={seed})");
        TestRandom(seed | 1)
    }

    /// The next value in `0..bound` (xorshift; `bound` must not be 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}
