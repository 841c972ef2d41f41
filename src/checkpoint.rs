//! The durable checkpoint: the cursor of the last delivered entry, in sled.
//!
//! Written only by the pipeline's committer, only over batches every sink
//! acknowledged, in order, and flushed to disk on every commit.
//!
//! Beside sled's files the store keeps a marker file, [`MARKER_FILE`], written
//! after the first commit. A directory with the marker but no checkpoint has
//! *lost* one (sled's files were deleted, restored from an old backup, or the
//! volume was replaced): [`CheckpointStore::open_checked`] refuses to treat
//! that as a first run unless the operator says so, because a first run with
//! `start_at = "now"` would silently skip every entry since the loss.
//!
//! Everything the store creates is owner-only (see [`crate::fsmode`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::session::{OpenSession, SessionChanges};
use crate::event::{Cursor, JournalRow, Notice};
use crate::fsmode;

mod operator;
pub use operator::{inventory, operator_cursor, FoundStore};

const CURSOR_KEY: &[u8] = b"cursor";
/// Open sessions are stored beside the cursor, one key each: this prefix,
/// the system name, a NUL, the qualified job name.
const SESSION_PREFIX: &[u8] = b"session\0";

fn session_key(system: &str, job: &str) -> Vec<u8> {
    let mut key = SESSION_PREFIX.to_vec();
    key.extend_from_slice(system.as_bytes());
    key.push(0);
    key.extend_from_slice(job.as_bytes());
    key
}

/// The marker file, in the state directory, that says a checkpoint was stored here.
pub const MARKER_FILE: &str = "auditfwd-checkpoint.marker";

/// What is stored: the cursor and when it was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last entry every sink acknowledged: reading resumes after it.
    pub cursor: Cursor,
    /// When this position was committed (UTC).
    pub committed_at: DateTime<Utc>,
}

/// What can go wrong with the state directory or the checkpoint in it; each message
/// says what the operator does next.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Another process holds sled's lock on the directory (one process per store).
    #[error("the state directory {dir} is in use by another process (is auditfwd already running? stop it first, e.g. `systemctl stop auditfwd`)")]
    Locked {
        /// The state directory.
        dir: PathBuf,
    },
    /// The directory cannot be created or used (permissions, a file in the way, a full disk).
    #[error("cannot use the state directory {dir}: {reason}. {advice}")]
    Directory {
        /// The state directory.
        dir: PathBuf,
        /// What the system said.
        reason: String,
        /// What to check or change, by errno.
        advice: &'static str,
    },
    /// sled cannot open the store in the directory.
    #[error("cannot open the checkpoint store in {dir}: {detail}. If the directory is damaged, move it aside, start again and set the position with `auditfwd checkpoint set` (see the runbook in deploy/)")]
    Open {
        /// The state directory.
        dir: PathBuf,
        /// What sled said.
        detail: String,
    },
    /// The stored checkpoint cannot be read or parsed.
    #[error("the checkpoint in {dir} is unreadable ({detail}). Move the directory aside and set the position with `auditfwd checkpoint set`")]
    Corrupt {
        /// The state directory.
        dir: PathBuf,
        /// What sled or the JSON parser said.
        detail: String,
    },
    /// The directory was removed or replaced under the running daemon (exit 73): nothing
    /// more is committed, and the marker now holds the last committed position.
    #[error("the state directory {dir} was removed or replaced while auditfwd was running ({what}); the checkpoint is no longer where it was opened, so nothing more is committed. auditfwd stops; the next start refuses to begin again from source.start_at: {dir} now holds a marker with the last committed position, and the message then gives the `auditfwd checkpoint set` command that restores it")]
    Vanished {
        /// The state directory as opened.
        dir: PathBuf,
        /// What changed: the directory gone or replaced, or its marker file.
        what: String,
    },
    /// A commit failed: nothing past the last good checkpoint is recorded.
    #[error("cannot write the checkpoint in {dir}: {reason}. {advice}")]
    Write {
        /// The state directory.
        dir: PathBuf,
        /// What the system said.
        reason: String,
        /// What to check or change, by errno.
        advice: &'static str,
    },
    /// The marker says a checkpoint was stored here and the store is gone or empty (exit
    /// 73): refused unless `--accept-lost-checkpoint`, so no gap goes unseen.
    #[error("the checkpoint in {dir} is lost: {marker} says a checkpoint was stored here (first at {first_commit_at}), but the store is gone or empty. Starting as a first run could skip or repeat entries without a trace. To continue on purpose, either set the position with {set_command} ({set_source}), or start once with `auditfwd run --accept-lost-checkpoint`, which starts from source.start_at and sends an audit_gap event")]
    Lost {
        /// The `auditfwd checkpoint set` command that sets the position again.
        set_command: String,
        /// Where that command's position comes from (the marker, or the operator's SIEM).
        set_source: &'static str,
        /// The state directory.
        dir: PathBuf,
        /// The marker file's path.
        marker: PathBuf,
        /// When the lost store first committed (RFC 3339), or "an unknown time".
        first_commit_at: String,
    },
}

/// A checkpoint that existed and is gone, accepted with `--accept-lost-checkpoint`.
///
/// The pipeline sends one `audit_gap` event built by [`LostCheckpoint::audit_gap_row`]
/// with the first batch it reads, so the SIEM records that entries between the
/// lost position and the new start may be missing (or repeated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostCheckpoint {
    /// The state directory whose checkpoint was lost.
    pub dir: PathBuf,
    /// When the lost store first committed, as the marker recorded it.
    pub first_commit_at: Option<DateTime<Utc>>,
}

impl LostCheckpoint {
    /// The `audit_gap` notice row, placed at the position of the first row read
    /// after the loss (or, for a batch without rows, at its cursor), so its
    /// `event_id` (`<position>#audit_gap`) is the same on every redelivery.
    pub fn audit_gap_row(&self, first_row: Option<&JournalRow>, cursor: &Cursor) -> JournalRow {
        let mut row = match first_row {
            Some(first) => JournalRow::bare(
                &first.system_name,
                &first.receiver_library,
                &first.receiver_name,
                first.sequence_number,
                first.entry_timestamp_local,
                first.entry_timestamp,
            ),
            None => {
                let now = Utc::now();
                JournalRow::bare(
                    &cursor.system_name,
                    &cursor.receiver_library,
                    &cursor.receiver_name,
                    cursor.sequence_number,
                    cursor.entry_timestamp_local.unwrap_or(now.naive_utc()),
                    cursor.entry_timestamp.unwrap_or(now),
                )
            }
        };
        row.entry_type_detail = Some("Checkpoint lost; entries may be missing".into());
        row.notice = Some(Notice {
            action: "audit_gap",
            message: format!(
                "the checkpoint in {} was lost (first stored {}); auditfwd was started with --accept-lost-checkpoint and resumed from source.start_at: entries between the lost position and this one may be missing or repeated",
                self.dir.display(),
                self.first_commit_at
                    .map_or_else(|| "at an unknown time".to_owned(), |at| at.to_rfc3339()),
            ),
        });
        row
    }
}

/// The sled-backed store. One process per directory (sled locks it).
pub struct CheckpointStore {
    dir: PathBuf,
    db: sled::Db,
    /// The marker is known to exist (checked or written in this process).
    marked: AtomicBool,
    /// Device and inode of the directory as opened, and of the marker once it
    /// exists: a commit checks both, so a directory removed or replaced under
    /// the running daemon stops it instead of committing into the void.
    opened: Option<(u64, u64)>,
    marker_identity: std::sync::Mutex<Option<(u64, u64)>>,
}

/// The marker: that a checkpoint was stored here, and for which system.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Marker {
    /// When this directory first held a committed checkpoint (UTC).
    pub first_commit_at: DateTime<Utc>,
    /// A sentence for an operator who finds the file: why it is there.
    pub note: String,
    /// The IBM i the checkpoint follows (SYSTEM_NAME); absent in markers of
    /// releases before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name: Option<String>,
    /// The journal it follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
    /// The last committed position, written when the store was found removed
    /// or replaced under a running daemon (so it can be set again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_cursor: Option<Cursor>,
}

impl Marker {
    /// Reads the marker of `dir`, if there is one that parses.
    pub fn read(dir: &Path) -> Option<Marker> {
        std::fs::read(dir.join(MARKER_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }
}

/// The journal every checkpoint follows.
pub const JOURNAL: &str = "QSYS/QAUDJRN";

/// Device and inode of a path, to notice it being replaced.
#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|meta| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|_| (0, 0))
}

impl CheckpointStore {
    /// Opens (creating `0700` if missing) the store in `dir`. Does not look for
    /// a lost checkpoint: the `checkpoint` tools use this, `run` uses
    /// [`CheckpointStore::open_checked`].
    pub fn open(dir: &Path) -> Result<CheckpointStore, CheckpointError> {
        fsmode::create_private_dir_all(dir).map_err(|error| directory_error(dir, &error))?;
        if !dir.is_dir() {
            return Err(directory_error(dir, &io::Error::from_raw_os_error(ENOTDIR)));
        }
        let db = sled::Config::new()
            .path(dir)
            // sled's `cache_capacity` stays at its default: set small (8 or
            // 16 MiB), a catch-up that keeps 100,000 sessions open took 568 MiB
            // and 1 GiB instead of 280-330 MiB (ARCHITECTURE.md, "Invariants").
            .open()
            .map_err(|error| match error {
                sled::Error::Io(io) if is_lock_error(&io) => {
                    CheckpointError::Locked { dir: dir.into() }
                }
                sled::Error::Io(io) if io.raw_os_error().is_some() => directory_error(dir, &io),
                sled::Error::Corruption { .. } => CheckpointError::Corrupt {
                    dir: dir.into(),
                    detail: describe_sled(&error),
                },
                other => CheckpointError::Open {
                    dir: dir.into(),
                    detail: describe_sled(&other),
                },
            })?;
        // sled creates its files with the umask's modes; the data is the
        // position in a security journal, so it is narrowed to the owner.
        restrict_store_files(dir).map_err(|error| directory_error(dir, &error))?;
        let marked = dir.join(MARKER_FILE).exists();
        // A marker from before markers named their system learns it from the store.
        if let Some(mut marker) = Marker::read(dir).filter(|marker| marker.system_name.is_none()) {
            let system = db
                .get(CURSOR_KEY)
                .ok()
                .flatten()
                .and_then(|bytes| serde_json::from_slice::<Checkpoint>(&bytes).ok())
                .map(|checkpoint| checkpoint.cursor.system_name);
            if let Some(system) = system {
                marker.system_name = Some(system);
                marker.journal = Some(JOURNAL.into());
                if let Err(error) = write_marker_file(dir, &marker) {
                    tracing::warn!(dir = %dir.display(), %error, "cannot record the system in the checkpoint marker");
                }
            }
        }
        Ok(CheckpointStore {
            dir: dir.into(),
            db,
            marked: AtomicBool::new(marked),
            opened: identity(dir),
            marker_identity: std::sync::Mutex::new(identity(&dir.join(MARKER_FILE))),
        })
    }

    /// Opens the store for `run`. A directory whose marker says it held a
    /// checkpoint, but whose store is gone or empty, is an error
    /// ([`CheckpointError::Lost`], exit 73) unless `accept_lost`; then the store
    /// opens empty and the [`LostCheckpoint`] is returned for the pipeline to
    /// report as an `audit_gap` event.
    pub fn open_checked(
        dir: &Path,
        accept_lost: bool,
    ) -> Result<(CheckpointStore, Option<LostCheckpoint>), CheckpointError> {
        let store = CheckpointStore::open(dir)?;
        let marker_path = dir.join(MARKER_FILE);
        if !marker_path.exists() || store.load()?.is_some() {
            return Ok((store, None));
        }
        let marker = Marker::read(dir);
        let first_commit_at = marker.as_ref().map(|marker| marker.first_commit_at);
        if !accept_lost {
            let (set_command, set_source) = match marker.as_ref().and_then(|marker| marker.last_cursor.as_ref()) {
                Some(cursor) => (
                    format!(
                        "`auditfwd checkpoint set --system {} --receiver {}/{} --sequence {}{}`",
                        cursor.system_name,
                        cursor.receiver_library,
                        cursor.receiver_name,
                        cursor.sequence_number,
                        cursor
                            .entry_timestamp_local
                            .map(|at| format!(" --timestamp {}", at.format("%Y-%m-%dT%H:%M:%S%.6f")))
                            .unwrap_or_default()
                    ),
                    "the last position committed before the directory was removed, recorded in the marker: nothing is lost",
                ),
                None => (
                    "`auditfwd checkpoint set --system SYS --receiver LIB/NAME --sequence N`".to_owned(),
                    "the last entry your SIEM has",
                ),
            };
            return Err(CheckpointError::Lost {
                dir: dir.into(),
                marker: marker_path,
                first_commit_at: first_commit_at
                    .map_or_else(|| "an unknown time".to_owned(), |at| at.to_rfc3339()),
                set_command,
                set_source,
            });
        }
        Ok((
            store,
            Some(LostCheckpoint {
                dir: dir.into(),
                first_commit_at,
            }),
        ))
    }

    /// The directory's marker says it held a checkpoint, and there is none now.
    pub fn is_lost(&self) -> Result<bool, CheckpointError> {
        Ok(self.dir.join(MARKER_FILE).exists() && self.load()?.is_none())
    }

    /// The stored checkpoint; `None` when nothing was ever committed (or it was cleared).
    pub fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let corrupt = |detail: String| CheckpointError::Corrupt {
            dir: self.dir.clone(),
            detail,
        };
        match self
            .db
            .get(CURSOR_KEY)
            .map_err(|error| corrupt(describe_sled(&error)))?
        {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|error| corrupt(error.to_string())),
        }
    }

    /// Stores `cursor` and flushes it to disk before returning. The first
    /// commit also writes the marker (after the flush, so a marker always
    /// means a checkpoint was durable once).
    pub fn commit(&self, cursor: &Cursor) -> Result<(), CheckpointError> {
        self.commit_with_sessions(cursor, &[])
    }

    /// Stores `cursor` and, in the same atomic write, the session table's
    /// `changes` (in order: later ones win), then flushes.
    pub fn commit_with_sessions(
        &self,
        cursor: &Cursor,
        changes: &[std::sync::Arc<SessionChanges>],
    ) -> Result<(), CheckpointError> {
        self.check_in_place(cursor)?;
        let checkpoint = Checkpoint {
            cursor: cursor.clone(),
            committed_at: Utc::now(),
        };
        let bytes = serde_json::to_vec(&checkpoint).expect("checkpoint serialises");
        let mut batch = sled::Batch::default();
        let mut merged = std::collections::BTreeMap::new();
        for change in changes {
            for (key, session) in &change.changes {
                merged.insert(key, session);
            }
        }
        for ((system, job), session) in merged {
            let key = session_key(system, job);
            match session {
                Some(session) => batch.insert(
                    key,
                    serde_json::to_vec(session).expect("a session serialises"),
                ),
                None => batch.remove(key),
            }
        }
        batch.insert(CURSOR_KEY, bytes);
        let written = self.db.apply_batch(batch).and_then(|()| self.db.flush());
        if let Err(error) = written {
            // A directory removed or replaced during the write fails it: say
            // so, and leave the marker, as a check before the write would.
            self.check_in_place(cursor)?;
            return Err(self.write_error(&error));
        }
        if !self.marked.load(Ordering::Relaxed) {
            self.write_marker(checkpoint.committed_at, Some(&cursor.system_name))
                .map_err(|error| self.write_error(&sled::Error::Io(error)))?;
            self.marked.store(true, Ordering::Relaxed);
            *self
                .marker_identity
                .lock()
                .unwrap_or_else(|poison| poison.into_inner()) =
                identity(&self.dir.join(MARKER_FILE));
        }
        Ok(())
    }

    /// Before a commit: the directory (and its marker, once written) must still
    /// be the ones opened. When not, the directory is made again with a marker
    /// that records `cursor` (delivered, so safe to resume after), and the
    /// commit fails with [`CheckpointError::Vanished`].
    fn check_in_place(&self, cursor: &Cursor) -> Result<(), CheckpointError> {
        let now = identity(&self.dir);
        let what = if now.is_none() {
            Some("the directory is gone".to_owned())
        } else if now != self.opened {
            Some("another directory now has its path".to_owned())
        } else {
            let marker = *self
                .marker_identity
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            match marker {
                Some(known) if identity(&self.dir.join(MARKER_FILE)) != Some(known) => {
                    Some("its marker file was removed or replaced".to_owned())
                }
                _ => None,
            }
        };
        let Some(what) = what else {
            return Ok(());
        };
        // Leave a marker with the position, so the next start refuses to begin
        // afresh and can say exactly where to resume.
        let previous = Marker::read(&self.dir);
        let marker = Marker {
            first_commit_at: previous
                .as_ref()
                .map_or_else(Utc::now, |marker| marker.first_commit_at),
            note: "written by auditfwd when it found this state directory removed or replaced while running; last_cursor is the last position delivered to every sink".into(),
            system_name: Some(cursor.system_name.clone()),
            journal: Some(JOURNAL.into()),
            last_cursor: Some(cursor.clone()),
        };
        let written = fsmode::create_private_dir_all(&self.dir)
            .and_then(|()| write_marker_file(&self.dir, &marker));
        if let Err(error) = written {
            tracing::error!(dir = %self.dir.display(), %error, "cannot leave a marker in the state directory");
        }
        Err(CheckpointError::Vanished {
            dir: self.dir.clone(),
            what,
        })
    }

    /// The open sessions stored with the position, in (system, job) order.
    pub fn load_sessions(&self) -> Result<Vec<OpenSession>, CheckpointError> {
        let corrupt = |detail: String| CheckpointError::Corrupt {
            dir: self.dir.clone(),
            detail,
        };
        let mut sessions = Vec::new();
        for item in self.db.scan_prefix(SESSION_PREFIX) {
            let (_, value) = item.map_err(|error| corrupt(describe_sled(&error)))?;
            sessions.push(
                serde_json::from_slice(&value)
                    .map_err(|error| corrupt(format!("a stored session: {error}")))?,
            );
        }
        Ok(sessions)
    }

    /// Forgets the open sessions (the position moved by hand: they belong to
    /// another one). Returns how many there were.
    pub fn clear_sessions(&self) -> Result<usize, CheckpointError> {
        let mut batch = sled::Batch::default();
        let mut count = 0;
        for item in self.db.scan_prefix(SESSION_PREFIX) {
            let (key, _) = item.map_err(|error| self.write_error(&error))?;
            batch.remove(key);
            count += 1;
        }
        self.db
            .apply_batch(batch)
            .map_err(|error| self.write_error(&error))?;
        self.db.flush().map_err(|error| self.write_error(&error))?;
        Ok(count)
    }

    /// Writes `sessions` as the whole table (a checkpoint moved to another
    /// directory takes its sessions along).
    pub fn replace_sessions(&self, sessions: &[OpenSession]) -> Result<(), CheckpointError> {
        self.clear_sessions()?;
        let mut batch = sled::Batch::default();
        for session in sessions {
            batch.insert(
                session_key(&session.system, &session.job),
                serde_json::to_vec(session).expect("a session serialises"),
            );
        }
        self.db
            .apply_batch(batch)
            .map_err(|error| self.write_error(&error))?;
        self.db.flush().map_err(|error| self.write_error(&error))?;
        Ok(())
    }

    /// Forgets the position: the next run starts from the source's beginning.
    /// Also removes the marker: a cleared store is a deliberate first run.
    pub fn clear(&self) -> Result<(), CheckpointError> {
        self.clear_sessions()?;
        self.db
            .remove(CURSOR_KEY)
            .map_err(|error| self.write_error(&error))?;
        self.db.flush().map_err(|error| self.write_error(&error))?;
        match std::fs::remove_file(self.dir.join(MARKER_FILE)) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(self.write_error(&sled::Error::Io(error))),
        }
        self.marked.store(false, Ordering::Relaxed);
        Ok(())
    }

    fn write_marker(
        &self,
        first_commit_at: DateTime<Utc>,
        system_name: Option<&str>,
    ) -> io::Result<()> {
        let path = self.dir.join(MARKER_FILE);
        if path.exists() {
            return Ok(());
        }
        let marker = Marker {
            first_commit_at,
            note: "written by auditfwd at the first checkpoint; while it is here, a missing or empty checkpoint store stops `auditfwd run` instead of starting over".into(),
            system_name: system_name.map(str::to_owned),
            journal: Some(JOURNAL.into()),
            last_cursor: None,
        };
        write_marker_file(&self.dir, &marker)?;
        // Snapshots sled wrote since the open are narrowed too.
        restrict_store_files(&self.dir)
    }

    fn write_error(&self, error: &sled::Error) -> CheckpointError {
        let (reason, advice) = match error {
            sled::Error::Io(io) if io.raw_os_error().is_some() => (io.to_string(), advice(io)),
            other => (
                describe_sled(other),
                "Check the filesystem that holds state.dir",
            ),
        };
        CheckpointError::Write {
            dir: self.dir.clone(),
            reason,
            advice,
        }
    }
}

fn write_marker_file(dir: &Path, marker: &Marker) -> io::Result<()> {
    use std::io::Write;
    let mut file = fsmode::private_file_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(MARKER_FILE))?;
    file.write_all(&serde_json::to_vec_pretty(marker).expect("marker serialises"))?;
    file.sync_all()
}

/// Narrows sled's files and the marker to the owner; anything else an operator
/// keeps in the state directory is left as it is.
fn restrict_store_files(dir: &Path) -> io::Result<()> {
    fsmode::restrict_entries(dir, |name| {
        matches!(name, "conf" | "db" | "blobs" | MARKER_FILE) || name.starts_with("snap.")
    })
}

const ENOTDIR: i32 = 20;
const EEXIST: i32 = 17;
const ENOSPC: i32 = 28;
const EROFS: i32 = 30;
const EDQUOT: i32 = 122;
const EACCES: i32 = 13;
const EPERM: i32 = 1;

/// What the operator should do about an I/O error on the state directory.
fn advice(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(EACCES | EPERM) => "Give the user auditfwd runs as read, write and search access to the directory and its parents (e.g. `chown -R auditfwd: <dir>`), or set state.dir to a directory it owns",
        Some(ENOSPC | EDQUOT) => "The filesystem (or the user's quota) is full: free some space there; the checkpoint itself needs only a few megabytes",
        Some(EEXIST | ENOTDIR) => "Something that is not a directory is in the way: state.dir (and each of its parents) must be a directory; move the file aside or set state.dir elsewhere",
        Some(EROFS) => "The filesystem is mounted read-only: set state.dir to a writable filesystem (with systemd, StateDirectory= provides one)",
        _ => "Check that state.dir is a writable directory on a local filesystem",
    }
}

fn directory_error(dir: &Path, error: &io::Error) -> CheckpointError {
    CheckpointError::Directory {
        dir: dir.into(),
        reason: plain_io(error),
        advice: advice(error),
    }
}

/// An I/O error as a sentence: the OS text for an OS error, otherwise its kind
/// (a library's own message may embed `Debug` forms).
fn plain_io(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(_) => error.to_string(),
        None => error.kind().to_string(),
    }
}

fn is_lock_error(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::WouldBlock || error.to_string().contains("lock")
}

/// sled's `Display` can carry `Debug` forms (a lock error, a backtrace): say
/// what happened in words instead.
fn describe_sled(error: &sled::Error) -> String {
    match error {
        sled::Error::Io(io) => plain_io(io),
        sled::Error::Corruption { .. } => "sled found corrupted data".into(),
        sled::Error::CollectionNotFound(_) => "sled lacks its default tree".into(),
        sled::Error::Unsupported(what) => format!("unsupported by sled: {what}"),
        sled::Error::ReportableBug(_) => "sled reported an internal error".into(),
    }
}

/// The `[state]` section: where the checkpoint lives.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// Directory of the sled database that holds the checkpoint.
    pub dir: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            dir: PathBuf::from("./data"),
        }
    }
}

impl StateConfig {
    /// `key` is "state".
    pub fn validate(&self, key: &str, problems: &mut crate::config::Problems) {
        if self.dir.as_os_str().is_empty() {
            problems.fail(format!("{key}.dir"), "must name a directory");
        }
    }
}

#[cfg(test)]
mod tests;
