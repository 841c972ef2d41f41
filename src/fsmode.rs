//! Owner-only files and directories for audit data and state.
//!
//! Audit events, dead letters and the checkpoint are sensitive, so everything
//! auditfwd creates is `0600` (files) or `0700` (directories) whatever the
//! process umask. Existing files and directories keep the mode the operator
//! gave them: auditfwd never widens or narrows a mode it did not create.

use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of every file auditfwd creates.
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;
/// The mode of every directory auditfwd creates.
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;

/// `OpenOptions` that create a missing file as `0600`. Set `append`, `write`,
/// `read` and `create` as needed; an existing file keeps its mode. The umask can
/// only clear bits, so `0600` survives any umask that leaves the owner's bits.
pub(crate) fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(PRIVATE_FILE_MODE);
    options
}

/// Creates `path` and its missing parents as `0700` (a no-op if it exists).
/// Directories created here are chmod'ed afterwards, so an umask that clears
/// owner bits cannot make them unusable either.
pub(crate) fn create_private_dir_all(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    // Remember which ancestors are missing, to fix exactly those afterwards.
    let missing: Vec<&Path> = path
        .ancestors()
        .take_while(|ancestor| !ancestor.as_os_str().is_empty() && !ancestor.exists())
        .collect();
    DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(path)?;
    for directory in missing {
        std::fs::set_permissions(directory, Permissions::from_mode(PRIVATE_DIR_MODE))?;
    }
    Ok(())
}

/// Restricts the entries of `dir` that `select` picks by name (what a library
/// created with its own modes, e.g. sled's `conf`, `db`, `blobs/`, `snap.*`) to
/// the owner: files `0600`, directories `0700` with everything under them.
/// Other entries are not touched, so a state directory shared with other files
/// keeps theirs. Symbolic links are left alone; bits are only ever removed.
pub(crate) fn restrict_entries(dir: &Path, select: impl Fn(&str) -> bool) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if select(&entry.file_name().to_string_lossy()) {
            restrict(&entry)?;
        }
    }
    Ok(())
}

fn restrict(entry: &std::fs::DirEntry) -> io::Result<()> {
    let kind = entry.file_type()?;
    if kind.is_symlink() {
        return Ok(());
    }
    let mode = if kind.is_dir() {
        for inner in std::fs::read_dir(entry.path())? {
            restrict(&inner?)?;
        }
        PRIVATE_DIR_MODE
    } else {
        PRIVATE_FILE_MODE
    };
    let current = entry.metadata()?.permissions().mode() & 0o777;
    if current & !mode != 0 {
        std::fs::set_permissions(entry.path(), Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_files_and_directories_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b/c");
        create_private_dir_all(&nested).unwrap();
        for path in [dir.path().join("a"), dir.path().join("a/b"), nested.clone()] {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
        }
        let file = nested.join("events.ndjson");
        let mut handle = private_file_options()
            .create(true)
            .append(true)
            .open(&file)
            .unwrap();
        handle.write_all(b"x\n").unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn existing_modes_are_kept_and_library_files_are_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing");
        std::fs::write(&existing, "x").unwrap();
        std::fs::set_permissions(&existing, Permissions::from_mode(0o640)).unwrap();
        private_file_options().append(true).open(&existing).unwrap();
        assert_eq!(mode(&existing), 0o640);

        let sub = dir.path().join("blobs");
        std::fs::create_dir(&sub).unwrap();
        std::fs::set_permissions(&sub, Permissions::from_mode(0o755)).unwrap();
        std::fs::write(sub.join("1"), "x").unwrap();
        std::fs::set_permissions(sub.join("1"), Permissions::from_mode(0o644)).unwrap();
        let other = dir.path().join("operator-notes.txt");
        std::fs::write(&other, "x").unwrap();
        std::fs::set_permissions(&other, Permissions::from_mode(0o644)).unwrap();
        restrict_entries(dir.path(), |name| name == "existing" || name == "blobs").unwrap();
        assert_eq!(mode(&existing), 0o600);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&sub.join("1")), 0o600);
        assert_eq!(mode(&other), 0o644, "entries not selected are left alone");
    }
}
