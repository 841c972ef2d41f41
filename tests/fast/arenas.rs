//! `run` of a fleet caps glibc's malloc arenas by starting itself again in
//! the same process (`exec`), unless the environment chose already; one
//! system keeps glibc's default.

use crate::harness::{ConfigBuilder, Workspace};
use std::time::{Duration, Instant};

/// `MALLOC_ARENA_MAX` in the environment of the live process `pid`, once
/// the daemon is past its start (its log says it runs); `None` when unset.
fn arena_max_of(workspace: &Workspace, pid: u32) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !workspace.log().contains("auditfwd starting") {
        assert!(
            Instant::now() < deadline,
            "the daemon did not start: {}",
            workspace.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the daemon's environment");
    environ
        .split(|byte| *byte == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix("MALLOC_ARENA_MAX="))
        .map(str::to_owned)
}

/// A fleet of two simulated systems, paced so that it runs until stopped.
const FLEET: &str = "[state]\ndir = \"data\"\n[[sinks]]\ntype = \"file\"\npath = \"events-{source}.ndjson\"\n[[sources]]\nname = \"one\"\nkind = \"simulator\"\n[sources.simulator]\nevents_per_second = 50\nsystem_name = \"SYSONE\"\n[[sources]]\nname = \"two\"\nkind = \"simulator\"\n[sources.simulator]\nevents_per_second = 50\nsystem_name = \"SYSTWO\"\n";

/// `MALLOC_ARENA_MAX` as the running daemon sees it, for one system or a
/// fleet, started with `preset` in its environment (or none).
fn daemon_arenas(fleet: bool, preset: Option<&str>) -> Option<String> {
    let workspace = Workspace::new();
    let config = if fleet {
        workspace
            .write("auditfwd.toml", FLEET)
            .to_str()
            .expect("UTF-8 temp path")
            .to_owned()
    } else {
        workspace.config(&ConfigBuilder::simulator(0, 50))
    };
    let mut command = workspace.command(&["run", "-c", &config]);
    command
        .env_remove("MALLOC_ARENA_MAX")
        .env_remove("GLIBC_TUNABLES")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(workspace.path("daemon.log")).expect("log file"));
    if let Some(value) = preset {
        command.env("MALLOC_ARENA_MAX", value);
    }
    let mut daemon = command.spawn().expect("spawn auditfwd");
    // The process id the test knows is the one that runs: `exec` keeps it.
    let seen = arena_max_of(&workspace, daemon.id());
    daemon.kill().expect("stop the daemon");
    daemon.wait().expect("reap the daemon");
    seen
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn a_fleet_caps_the_arenas_in_its_own_process() {
    assert_eq!(daemon_arenas(true, None).as_deref(), Some("2"));
}

/// One system keeps glibc's default: its reader thread, where the ODBC
/// driver allocates every cell, gets an arena of its own.
#[test]
fn one_system_keeps_glibcs_arenas() {
    assert_eq!(daemon_arenas(false, None), None);
}

#[test]
fn an_operators_arena_setting_is_kept() {
    assert_eq!(daemon_arenas(true, Some("0")).as_deref(), Some("0"));
    assert_eq!(daemon_arenas(true, Some("6")).as_deref(), Some("6"));
    assert_eq!(daemon_arenas(false, Some("2")).as_deref(), Some("2"));
}
