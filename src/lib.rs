//! auditfwd: streams IBM i JS audit entries (`SYSTOOLS.AUDIT_JOURNAL_JS`) to a
//! SIEM, at least once. See ARCHITECTURE.md for the map and the invariants.

pub mod app;
pub mod backfill;
pub mod background;
pub mod checkpoint;
pub mod config;
pub mod enrich;
pub mod event;
pub mod failpoint;
pub mod format;
pub(crate) mod fsmode;
pub mod pipeline;
pub mod plan;
pub mod replay;
pub(crate) mod retry;
pub mod settings;
pub mod sink;
pub mod source;
pub mod telemetry;

/// Process exit codes (sysexits.h), one table for every command. README.md
/// ("Exit codes") and `auditfwd --help` show the same table.
pub mod exit_code {
    /// Done: drained, caught up, or stopped by a signal with nothing lost.
    pub const OK: i32 = 0;
    /// Bad input to the `enrich` command (EX_DATAERR).
    pub const DATA_ERROR: i32 = 65;
    /// A peer refused for good: a sink rejected data with
    /// `on_permanent_error = "stop"`, or failed its start-up check (EX_UNAVAILABLE).
    pub const UNAVAILABLE: i32 = 69;
    /// Internal error: a panic, or a thread or task that ended unexpectedly
    /// (EX_SOFTWARE). Nothing was committed past what was delivered.
    pub const SOFTWARE: i32 = 70;
    /// `enrich` cannot write its output (EX_IOERR).
    pub const IO_ERROR: i32 = 74;
    /// The state directory is locked by another process or unusable (EX_CANTCREAT).
    pub const STATE: i32 = 73;
    /// Configuration, including unreadable secret, CA and key files, and a
    /// source that needs an operator (EX_CONFIG): systemd must not restart-loop.
    pub const CONFIG: i32 = 78;
}
