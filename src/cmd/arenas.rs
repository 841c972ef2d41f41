//! glibc's malloc arenas, capped before a fleet's run starts.
//!
//! glibc gives a thread that finds the arenas busy an arena of its own, up
//! to eight per core, and memory freed in one arena is not reused by
//! another. A fleet's threads (each system's reader, the tokio workers, the
//! sinks' writers) allocate and free in turn, so an uncapped fleet keeps a
//! peak per arena: the fleet bench measured 74-107 MiB for 8 systems with
//! glibc's default against 73.6-76.9 MiB with two arenas. One system is
//! another matter: its ODBC reader thread is where the driver allocates and
//! frees every cell of a window, and sharing two arenas with the pipeline's
//! threads made that thread's malloc slow (ODBC -> file at 200,000 entries:
//! 0.73-0.78 x the driver floor with two arenas, 0.86-0.94 x with glibc's
//! default, interleaved runs), for little memory (the sink-down bench's
//! single system peaked at 54.2 MiB with glibc's default, 54.3 MiB with
//! two). So only a fleet (two systems or more) is capped.
//!
//! glibc reads `MALLOC_ARENA_MAX` once, before `main`, and setting it from
//! inside takes `mallopt` (unsafe code, which the crate forbids). So `run`
//! of a fleet starts the same binary again in its own process (`exec`: same
//! process id, same arguments) with `MALLOC_ARENA_MAX=2`, unless the
//! variable, or an `arena_max` in `GLIBC_TUNABLES`, is already set: whatever
//! the operator chose stays (`MALLOC_ARENA_MAX=0` is glibc's own default).

/// The arenas `run` asks glibc for when it runs a fleet.
pub(crate) const ARENAS: &str = "2";

/// Whether the environment already chose the arena count.
fn chosen(max: Option<&std::ffi::OsStr>, tunables: Option<&std::ffi::OsStr>) -> bool {
    max.is_some()
        || tunables
            .and_then(std::ffi::OsStr::to_str)
            .is_some_and(|text| text.contains("arena_max"))
}

/// Starts this binary again with the arenas capped, when it runs `systems`
/// systems (two or more) and nothing chose the arenas; returns only when it
/// did not (one system, chosen already, not glibc, or the `exec` failed: the
/// run goes on with glibc's default, which costs memory, not correctness).
pub(crate) fn cap(systems: usize) {
    if systems < 2
        || chosen(
            std::env::var_os("MALLOC_ARENA_MAX").as_deref(),
            std::env::var_os("GLIBC_TUNABLES").as_deref(),
        )
    {
        return;
    }
    reexec();
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn reexec() {
    use std::os::unix::process::CommandExt;
    // The binary replaced under its path (an upgrade) has no path to run:
    // carry on as we are.
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        command.arg0(name);
    }
    let error = command.args(args).env("MALLOC_ARENA_MAX", ARENAS).exec();
    eprintln!("auditfwd: could not start again with MALLOC_ARENA_MAX={ARENAS} ({error}); running with glibc's default malloc arenas, which can take more memory");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn reexec() {}

#[cfg(test)]
mod tests {
    use super::chosen;
    use std::ffi::OsStr;

    #[test]
    fn an_operators_choice_is_kept() {
        assert!(!chosen(None, None));
        assert!(!chosen(
            None,
            Some(OsStr::new("glibc.malloc.trim_threshold=0"))
        ));
        assert!(chosen(Some(OsStr::new("0")), None));
        assert!(chosen(Some(OsStr::new("8")), None));
        assert!(chosen(None, Some(OsStr::new("glibc.malloc.arena_max=4"))));
    }
}
