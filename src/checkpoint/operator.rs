//! What the operator tools read: the stores under a state directory (by their
//! markers) and the cursor an operator names for `checkpoint set`.

use std::path::{Path, PathBuf};

use super::*;

/// A checkpoint store found under a state directory, by its marker.
#[derive(Clone, Debug)]
pub struct FoundStore {
    /// The directory that holds the store and its marker.
    pub dir: PathBuf,
    /// The store's marker: the system, when it first committed, any last cursor.
    pub marker: Marker,
}

impl FoundStore {
    /// The name `auditfwd checkpoint move` knows it by: `.` for the state
    /// directory itself, else its subdirectory (a `[[sources]]` name).
    pub fn name(&self, root: &Path) -> String {
        match self.dir.strip_prefix(root) {
            Ok(rest) if rest.as_os_str().is_empty() => ".".into(),
            Ok(rest) => rest.display().to_string(),
            Err(_) => self.dir.display().to_string(),
        }
    }

    /// One line for the operator: the directory, its checkpoint name, system and first commit.
    pub fn describe(&self, root: &Path) -> String {
        format!(
            "{} (checkpoint name {:?}, system {}, first stored {})",
            self.dir.display(),
            self.name(root),
            self.marker.system_name.as_deref().unwrap_or("unknown"),
            self.marker.first_commit_at.to_rfc3339()
        )
    }
}

/// Every checkpoint store under `root`: `root` itself (a single `[source]`)
/// and each subdirectory (a `[[sources]]` name), backfills excluded. Read from
/// the markers, so stores another process holds are seen too.
pub fn inventory(root: &Path) -> Vec<FoundStore> {
    let mut found = Vec::new();
    if let Some(marker) = Marker::read(root) {
        found.push(FoundStore {
            dir: root.to_owned(),
            marker,
        });
    }
    if let Ok(entries) = std::fs::read_dir(root) {
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path())
            .filter(|path| path.is_dir() && path.file_name().is_some_and(|name| name != "backfill"))
            .collect();
        dirs.sort();
        for dir in dirs {
            if let Some(marker) = Marker::read(&dir) {
                found.push(FoundStore { dir, marker });
            }
        }
    }
    found
}

/// The cursor an operator gives `auditfwd checkpoint set`, validated: every
/// name present and free of the `:` and `/` that separate them in an event id
/// (so `:/:5` or `--receiver /X` is refused), and the timestamp shown as typed
/// when it does not parse.
pub fn operator_cursor(
    system: &str,
    receiver: &str,
    sequence: u64,
    timestamp: Option<&str>,
) -> Result<Cursor, String> {
    let Some((library, name)) = receiver.split_once('/') else {
        return Err(format!(
            "--receiver {receiver}: expected LIBRARY/NAME, e.g. QGPL/AUDRCV0042"
        ));
    };
    let name_of = |flag: &str, what: &str, value: &str| -> Result<String, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(format!(
                "{flag}: the {what} is empty; give it as the journal shows it, e.g. {}",
                match what {
                    "system name" => "--system SYS1",
                    _ => "--receiver QGPL/AUDRCV0042",
                }
            ));
        }
        if value.contains([':', '/']) || value.chars().any(char::is_whitespace) {
            return Err(format!(
                "{flag}: the {what} {value:?} contains ':', '/' or a blank, which no IBM i name has"
            ));
        }
        Ok(value.to_uppercase())
    };
    let system_name = name_of("--system", "system name", system)?;
    let receiver_library = name_of("--receiver", "receiver library", library)?;
    let receiver_name = name_of("--receiver", "receiver name", name)?;
    let entry_timestamp_local =
        match timestamp {
            None => None,
            Some(text) => Some(crate::source::rows::parse_local_timestamp(text).ok_or_else(
                || format!("--timestamp {text}: not a timestamp like 2026-04-08T10:15:30.123456"),
            )?),
        };
    Ok(Cursor {
        system_name,
        receiver_library,
        receiver_name,
        sequence_number: sequence,
        entry_timestamp_local,
        entry_timestamp: None,
        signals: None,
        sessions: None,
    })
}
