//! The open-session table's stored form (see `enrich::sessions`, which keeps
//! it): what the checkpoint writes beside the position.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Text;

/// The kind of job a session lives in; it decides which entries end it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// `INT`: opened at `S`, closed at the job's end.
    Interactive,
    /// A `BCI` job named `QP0ZSPWP` (SSH and spawned processes): as interactive.
    Ssh,
    /// `PJ`: opened and closed by profile swaps, or the job's end.
    Prestart,
}

/// One open session, as the checkpoint stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSession {
    /// The system (SYSTEM_NAME) the job runs on.
    pub system: Text,
    /// The qualified job name (`number/user/name`): with `system`, the table's key.
    pub job: Text,
    /// The kind of job, which decides what ends the session.
    pub kind: JobKind,
    /// Who the session is: the job's user at start, the new profile after a swap.
    pub user: Text,
    /// The job's own user (the prestart user of a `PJ` job).
    pub job_user: Option<Text>,
    /// The access method when it opened (`telnet_5250`, `database_server`, `ssh`, ...).
    pub method: Text,
    /// `Some(true)` encrypted, `Some(false)` clear text, `None` unknown.
    pub secure: Option<bool>,
    /// The client's IP address, when the job served a connection.
    pub remote_address: Option<Text>,
    /// Entry time of the opening entry, UTC microseconds.
    pub started: i64,
    /// The opening entry's event id: the session's id.
    pub start_entry: String,
    /// Whether the user was privileged when the session opened.
    pub privileged: bool,
}

impl OpenSession {
    /// The table's key: (system, qualified job name).
    pub fn key(&self) -> (Text, Text) {
        (self.system.clone(), self.job.clone())
    }
}

/// What a batch did to the table: per job, the session now open (`Some`) or
/// none (`None`); later batches' changes override earlier ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionChanges {
    /// Per (system, job) key: the session open after the batch, or `None` for none.
    pub changes: BTreeMap<(Text, Text), Option<OpenSession>>,
}
