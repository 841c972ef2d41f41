use super::*;
use std::os::unix::fs::PermissionsExt;

fn cursor(sequence_number: u64) -> Cursor {
    Cursor {
        system_name: "SYS1".into(),
        receiver_library: "QGPL".into(),
        receiver_name: "AUDRCV0001".into(),
        sequence_number,
        entry_timestamp_local: None,
        entry_timestamp: None,
        signals: None,
        sessions: None,
    }
}

/// Removes what sled keeps, as a lost volume or a bad restore would, and
/// leaves the marker.
fn lose_sled_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == MARKER_FILE {
            continue;
        }
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

#[test]
fn operator_cursor_refuses_empty_names_and_shows_a_bad_timestamp_plainly() {
    let ok = operator_cursor(
        " sys1 ",
        "qgpl/audrcv0042",
        5,
        Some("2026-04-08T10:15:30.5"),
    )
    .unwrap();
    assert_eq!(ok.to_string(), "SYS1:QGPL/AUDRCV0042:5");
    for (system, receiver) in [
        ("", "/"),
        ("SYS1", "/X"),
        ("SYS1", "QGPL/"),
        ("  ", "Q/X"),
        ("A:B", "Q/X"),
        ("SYS1", "Q/X/Y"),
        ("SYS1", "QGPL"),
    ] {
        let error = operator_cursor(system, receiver, 5, None).unwrap_err();
        assert!(
            error.starts_with("--system") || error.starts_with("--receiver"),
            "{system:?} {receiver:?}: {error}"
        );
    }
    let error = operator_cursor("SYS1", "Q/X", 5, Some("yesterday")).unwrap_err();
    assert!(error.starts_with("--timestamp yesterday: "), "{error}");
    assert!(!error.contains("Some("), "{error}");
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
    let (store, _) = reopen_checked(dir.path(), false).unwrap();
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

#[test]
fn a_store_that_existed_and_is_gone_is_lost_not_a_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // A first run: nothing to lose.
    let (store, lost) = CheckpointStore::open_checked(&state, false).unwrap();
    assert_eq!(lost, None);
    store.commit(&cursor(5)).unwrap();
    drop(store);
    // Resuming: the checkpoint is there (sled lets go of its lock a moment
    // after the drop).
    let (store, lost) = reopen_checked(&state, false).unwrap();
    assert_eq!(
        (lost, store.load().unwrap().unwrap().cursor),
        (None, cursor(5))
    );
    drop(store);

    lose_sled_files(&state);
    let Err(error) = reopen_checked(&state, false) else {
        panic!("a lost checkpoint opened as a first run");
    };
    assert!(matches!(error, CheckpointError::Lost { .. }), "{error}");
    let message = error.to_string();
    for needed in [
        "auditfwd checkpoint set",
        "--accept-lost-checkpoint",
        "lost",
    ] {
        assert!(
            message.contains(needed),
            "{needed:?} missing from: {message}"
        );
    }

    // Accepted on purpose: the store opens empty and says what was lost.
    let (store, lost) = reopen_checked(&state, true).unwrap();
    let lost = lost.expect("the loss is reported");
    assert!(lost.first_commit_at.is_some());
    assert_eq!(store.load().unwrap(), None);
    // The next commit makes it a normal store again.
    store.commit(&cursor(6)).unwrap();
    drop(store);
    assert_eq!(reopen_checked(&state, false).unwrap().1, None);
}

/// sled's background flusher can hold the directory lock for a moment after
/// the last handle is dropped; a reopen in the same process waits it out.
fn reopen_checked(
    dir: &Path,
    accept_lost: bool,
) -> Result<(CheckpointStore, Option<LostCheckpoint>), CheckpointError> {
    let started = std::time::Instant::now();
    loop {
        match CheckpointStore::open_checked(dir, accept_lost) {
            Err(CheckpointError::Locked { .. })
                if started.elapsed() < std::time::Duration::from_secs(5) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[test]
fn an_emptied_store_is_lost_and_clear_is_a_deliberate_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(dir.path()).unwrap();
    store.commit(&cursor(5)).unwrap();
    // The cursor key alone removed (e.g. a store replaced by an empty one).
    store.db.remove(CURSOR_KEY).unwrap();
    store.db.flush().unwrap();
    drop(store);
    match reopen_checked(dir.path(), false) {
        Err(CheckpointError::Lost { .. }) => {}
        Err(other) => panic!("expected Lost, got {other}"),
        Ok(_) => panic!("expected Lost, got a store"),
    }
    let (store, _) = reopen_checked(dir.path(), true).unwrap();
    store.clear().unwrap();
    drop(store);
    assert_eq!(reopen_checked(dir.path(), false).unwrap().1, None);
}

#[test]
fn the_audit_gap_row_sits_at_the_first_position_read_after_the_loss() {
    let lost = LostCheckpoint {
        dir: "/var/lib/auditfwd".into(),
        first_commit_at: None,
    };
    let first = JournalRow::bare(
        "SYS1",
        "QSYS",
        "AUDRCV0009",
        42,
        chrono::NaiveDate::from_ymd_opt(2026, 4, 8)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap(),
        Utc::now(),
    );
    let row = lost.audit_gap_row(Some(&first), &cursor(1));
    assert_eq!(row.event_id(), "SYS1:QSYS/AUDRCV0009:42#audit_gap");
    let notice = row.notice.as_ref().unwrap();
    assert_eq!(notice.action, "audit_gap");
    assert!(notice.message.contains("/var/lib/auditfwd"));
    let row = lost.audit_gap_row(None, &cursor(3));
    assert_eq!(row.event_id(), "SYS1:QGPL/AUDRCV0001:3#audit_gap");
}

#[test]
fn state_files_are_owner_only_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("var/state");
    let store = CheckpointStore::open(&state).unwrap();
    store.commit(&cursor(1)).unwrap();
    drop(store);
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&dir.path().join("var")), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files += 1;
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        } else {
            assert_eq!(mode(&path), 0o700, "{}", path.display());
        }
    }
    assert!(files >= 2, "sled's files and the marker");
}

#[test]
fn state_directory_advice_depends_on_the_error() {
    let dir = PathBuf::from("/var/lib/auditfwd");
    let text = |code: i32| directory_error(&dir, &io::Error::from_raw_os_error(code)).to_string();
    let (denied, full, in_the_way) = (text(EACCES), text(ENOSPC), text(EEXIST));
    assert!(
        denied.contains("access") && denied.contains("chown"),
        "{denied}"
    );
    assert!(full.contains("full") && full.contains("space"), "{full}");
    assert!(in_the_way.contains("not a directory"), "{in_the_way}");
    assert!(text(ENOTDIR).contains("not a directory"));
    assert_ne!(denied, full);
    // A library's custom error is reduced to its kind, never its Debug form.
    let custom = io::Error::other("could not acquire: Os { code: 5, kind: Other }");
    let described = describe_sled(&sled::Error::Io(custom));
    assert!(!described.contains("Os {"), "{described}");
}

#[test]
fn a_file_in_place_of_the_state_directory_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state");
    std::fs::write(&file, "").unwrap();
    for path in [file.clone(), file.join("sub")] {
        let error = match CheckpointStore::open(&path) {
            Err(error) => error.to_string(),
            Ok(_) => panic!("opened a store in a file"),
        };
        assert!(error.contains("not a directory"), "{error}");
        assert!(
            !error.contains("Os {") && !error.contains("Custom {"),
            "{error}"
        );
    }
}
