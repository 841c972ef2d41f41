//! `checkpoint show|set|move|clear`.

use auditfwd::checkpoint::{operator_cursor, CheckpointStore};
use auditfwd::exit_code;

use std::path::PathBuf;

use super::{config_failed, load, load_for_source};
use crate::{CheckpointAction, ConfigArgs};

pub(crate) fn checkpoint(action: CheckpointAction, source: Option<&str>) -> i32 {
    let args = match &action {
        CheckpointAction::Show { config }
        | CheckpointAction::Set { config, .. }
        | CheckpointAction::Clear { config } => config,
        CheckpointAction::Move { config, from, to } => return checkpoint_move(config, from, to),
    };
    let config = match load_for_source(args, source, "checkpoint") {
        Ok(config) => config,
        Err(code) => return code,
    };
    let store = match CheckpointStore::open(&config.state.dir) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("auditfwd: {error}");
            return exit_code::STATE;
        }
    };
    let result = match action {
        CheckpointAction::Show { .. } => store.load().map(|checkpoint| match checkpoint {
            Some(checkpoint) => println!(
                "{}",
                serde_json::to_string_pretty(&checkpoint).expect("checkpoint serialises")
            ),
            None if store.is_lost().unwrap_or(false) => println!(
                "no checkpoint in {}, but it held one: the checkpoint was lost. `auditfwd run` refuses to start until you set the position (`auditfwd checkpoint set`) or start once with --accept-lost-checkpoint",
                config.state.dir.display()
            ),
            None => println!("no checkpoint in {}", config.state.dir.display()),
        }),
        CheckpointAction::Set {
            system,
            receiver,
            sequence,
            timestamp,
            ..
        } => {
            let cursor = match operator_cursor(&system, &receiver, sequence, timestamp.as_deref()) {
                Ok(cursor) => cursor,
                Err(message) => {
                    eprintln!("auditfwd: checkpoint set: {message}");
                    return exit_code::CONFIG;
                }
            };
            // Sessions open at the old position say nothing about the new one.
            store.clear_sessions().and_then(|forgotten| {
                store.commit(&cursor)?;
                println!("checkpoint set to {cursor}");
                if forgotten > 0 {
                    println!("{forgotten} open session(s) of the old position forgotten: their ends will not be reported");
                }
                Ok(())
            })
        }
        CheckpointAction::Clear { .. } => store
            .clear()
            .map(|()| println!("checkpoint cleared in {}", config.state.dir.display())),
        CheckpointAction::Move { .. } => unreachable!("handled above"),
    };
    match result {
        Ok(()) => exit_code::OK,
        Err(error) => {
            eprintln!("auditfwd: {error}");
            exit_code::STATE
        }
    }
}

/// `checkpoint move`: the position of the store named `from` goes to the store
/// named `to` (both under `state.dir`), and `from` is cleared.
pub(crate) fn checkpoint_move(args: &ConfigArgs, from: &str, to: &str) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    let root = config.state.dir.clone();
    let dir_of = |name: &str| -> Result<PathBuf, String> {
        let name = name.trim();
        if name == "." {
            return Ok(root.clone());
        }
        if name.is_empty()
            || name.contains('/')
            || name.contains('\\')
            || name == ".."
            || name == "backfill"
        {
            return Err(format!("{name:?} is not a checkpoint name: use a [[sources]] name, or . for a single [source]"));
        }
        Ok(root.join(name))
    };
    let (from_dir, to_dir) = match (dir_of(from), dir_of(to)) {
        (Ok(from_dir), Ok(to_dir)) if from_dir != to_dir => (from_dir, to_dir),
        (Ok(_), Ok(_)) => {
            eprintln!("auditfwd: checkpoint move: --from and --to name the same checkpoint");
            return exit_code::CONFIG;
        }
        (Err(problem), _) | (_, Err(problem)) => {
            eprintln!("auditfwd: checkpoint move: {problem}");
            return exit_code::CONFIG;
        }
    };
    if !from_dir.join(auditfwd::checkpoint::MARKER_FILE).exists() {
        eprintln!(
            "auditfwd: checkpoint move: there is no checkpoint named {from:?} ({} has no marker); `auditfwd checkpoint show` and the start's warnings list the ones there are",
            from_dir.display()
        );
        return exit_code::CONFIG;
    }
    let opened = CheckpointStore::open(&from_dir)
        .and_then(|source| Ok((source, CheckpointStore::open(&to_dir)?)));
    let (source, target) = match opened {
        Ok(stores) => stores,
        Err(error) => {
            eprintln!("auditfwd: {error}");
            return exit_code::STATE;
        }
    };
    let moved = (|| -> Result<Result<auditfwd::event::Cursor, String>, auditfwd::checkpoint::CheckpointError> {
        let Some(checkpoint) = source.load()? else {
            return Ok(Err(format!("{} holds no position to move (its store is empty or lost)", from_dir.display())));
        };
        if let Some(existing) = target.load()? {
            return Ok(Err(format!(
                "{} already holds a position ({}); clear it first (`auditfwd checkpoint clear`) if it is stale",
                to_dir.display(),
                existing.cursor
            )));
        }
        // The open sessions go with the position they belong to.
        target.replace_sessions(&source.load_sessions()?)?;
        target.commit(&checkpoint.cursor)?;
        source.clear()?;
        Ok(Ok(checkpoint.cursor))
    })();
    match moved {
        Ok(Ok(cursor)) => {
            println!(
                "checkpoint moved from {} to {}: {cursor}",
                from_dir.display(),
                to_dir.display()
            );
            exit_code::OK
        }
        Ok(Err(problem)) => {
            eprintln!("auditfwd: checkpoint move: {problem}");
            exit_code::CONFIG
        }
        Err(error) => {
            eprintln!("auditfwd: {error}");
            exit_code::STATE
        }
    }
}
