//! auditfwd: streams IBM i JS audit entries (`SYSTOOLS.AUDIT_JOURNAL_JS`) to a
//! SIEM, at least once. See ARCHITECTURE.md for the map and the invariants.

pub mod checkpoint;
pub mod config;
pub mod enrich;
pub mod event;
pub mod fsmode;
pub mod pipeline;
pub mod sink;
pub mod source;
pub mod telemetry;

/// Process exit codes (sysexits.h where one fits).
pub mod exit_code {
    pub const OK: i32 = 0;
    /// A runtime failure: the source stopped, an internal error.
    pub const FAILURE: i32 = 1;
    /// Bad input to the `enrich` command (EX_DATAERR).
    pub const DATA_ERROR: i32 = 65;
    /// A sink rejected data for good with `on_permanent_error = "stop"` (EX_UNAVAILABLE).
    pub const UNAVAILABLE: i32 = 69;
    /// The state directory cannot be used (EX_CANTCREAT).
    pub const STATE: i32 = 73;
    /// Invalid configuration (EX_CONFIG): systemd must not restart-loop on it.
    pub const CONFIG: i32 = 78;
}
