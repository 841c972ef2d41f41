//! The durable checkpoint: the cursor of the last delivered entry, in sled.
//!
//! Written only by the pipeline's committer, only over batches every sink
//! acknowledged, in order, and flushed to disk on every commit.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::Cursor;

const CURSOR_KEY: &[u8] = b"cursor";

/// What is stored: the cursor and when it was committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub cursor: Cursor,
    pub committed_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("the state directory {dir} is in use by another process (is auditfwd already running? stop it first, e.g. `systemctl stop auditfwd`)")]
    Locked { dir: PathBuf },
    #[error("cannot open the checkpoint store in {dir}: {detail}. If the directory is damaged, move it aside, start again and set the position with `auditfwd checkpoint set` (see the runbook in deploy/)")]
    Open { dir: PathBuf, detail: String },
    #[error("the checkpoint in {dir} is unreadable ({detail}). Move the directory aside and set the position with `auditfwd checkpoint set`")]
    Corrupt { dir: PathBuf, detail: String },
    #[error("cannot write the checkpoint in {dir}: {detail}")]
    Write { dir: PathBuf, detail: String },
}

/// The sled-backed store. One process per directory (sled locks it).
pub struct CheckpointStore {
    dir: PathBuf,
    db: sled::Db,
}

impl CheckpointStore {
    pub fn open(dir: &Path) -> Result<CheckpointStore, CheckpointError> {
        if let Err(error) = std::fs::create_dir_all(dir) {
            return Err(CheckpointError::Open {
                dir: dir.into(),
                detail: error.to_string(),
            });
        }
        let db = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|error| match &error {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    CheckpointError::Locked { dir: dir.into() }
                }
                sled::Error::Corruption { .. } => CheckpointError::Corrupt {
                    dir: dir.into(),
                    detail: error.to_string(),
                },
                _ => CheckpointError::Open {
                    dir: dir.into(),
                    detail: error.to_string(),
                },
            })?;
        Ok(CheckpointStore {
            dir: dir.into(),
            db,
        })
    }

    pub fn load(&self) -> Result<Option<Checkpoint>, CheckpointError> {
        let corrupt = |detail: String| CheckpointError::Corrupt {
            dir: self.dir.clone(),
            detail,
        };
        match self
            .db
            .get(CURSOR_KEY)
            .map_err(|error| corrupt(error.to_string()))?
        {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|error| corrupt(error.to_string())),
        }
    }

    /// Stores `cursor` and flushes it to disk before returning.
    pub fn commit(&self, cursor: &Cursor) -> Result<(), CheckpointError> {
        let checkpoint = Checkpoint {
            cursor: cursor.clone(),
            committed_at: Utc::now(),
        };
        let bytes = serde_json::to_vec(&checkpoint).expect("checkpoint serialises");
        let write = |detail: String| CheckpointError::Write {
            dir: self.dir.clone(),
            detail,
        };
        self.db
            .insert(CURSOR_KEY, bytes)
            .map_err(|error| write(error.to_string()))?;
        self.db.flush().map_err(|error| write(error.to_string()))?;
        Ok(())
    }

    /// Forgets the position: the next run starts from the source's beginning.
    pub fn clear(&self) -> Result<(), CheckpointError> {
        let write = |detail: String| CheckpointError::Write {
            dir: self.dir.clone(),
            detail,
        };
        self.db
            .remove(CURSOR_KEY)
            .map_err(|error| write(error.to_string()))?;
        self.db.flush().map_err(|error| write(error.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(sequence_number: u64) -> Cursor {
        Cursor {
            system_name: "SYS1".into(),
            receiver_library: "QGPL".into(),
            receiver_name: "AUDRCV0001".into(),
            sequence_number,
            entry_timestamp_local: None,
            entry_timestamp: None,
        }
    }

    #[test]
    fn commit_survives_reopen_and_clear_forgets() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = CheckpointStore::open(dir.path()).unwrap();
            assert_eq!(store.load().unwrap(), None);
            store.commit(&cursor(7)).unwrap();
            store.commit(&cursor(9)).unwrap();
        }
        let store = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap().unwrap().cursor, cursor(9));
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), None);
    }

    #[test]
    fn second_open_of_the_same_directory_says_locked() {
        let dir = tempfile::tempdir().unwrap();
        let _first = CheckpointStore::open(dir.path()).unwrap();
        match CheckpointStore::open(dir.path()) {
            Err(CheckpointError::Locked { .. }) => {}
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("expected Locked, got a second handle"),
        }
    }
}

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
