//! The PostgreSQL lab (deploy/lab/): a real PostgreSQL reached through unixODBC
//! and psqlODBC, standing in for the IBM i services. Each test gets its own
//! database cloned from the lab's template, dropped when the value drops.
//! `lab.sh` reads LAB_DIR and LAB_PORT, so parallel labs stay apart.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const LAB_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/lab/lab.sh");

/// A database of its own in the running lab, dropped when the value drops.
pub struct Lab {
    /// The database's name: `t_<name>_<pid>_<counter>`.
    pub database: String,
}

fn lab(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(LAB_SCRIPT)
        .args(args)
        .output()
        .expect("run deploy/lab/lab.sh")
}

impl Lab {
    /// A fresh database; fails (never skips) when the lab is not running.
    pub fn new(name: &str) -> Lab {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let status = lab(&["status"]);
        assert!(
            status.status.success(),
            "the PostgreSQL lab is not running: start it with `bash deploy/lab/lab.sh start` \
             (needs `apt-get install postgresql unixodbc odbc-postgresql`; `bash .ci/run` does both). {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let database = format!(
            "t_{name}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let created = lab(&["new-db", &database]);
        assert!(
            created.status.success(),
            "lab.sh new-db failed: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        Lab { database }
    }

    /// Runs SQL as the lab role; returns unaligned, tuples-only output.
    pub fn sql(&self, statement: &str) -> String {
        let output = self.psql(&["-At", "-v", "ON_ERROR_STOP=1", "-c", statement]);
        assert!(
            output.status.success(),
            "SQL failed: {statement}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned()
    }

    /// Runs SQL that may fail: the output, or the server's error text.
    pub fn try_sql(&self, statement: &str) -> Result<String, String> {
        let output = self.psql(&["-At", "-v", "ON_ERROR_STOP=1", "-c", statement]);
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// `psql` on this database with `args`, as it ran (COPY's raw stdout).
    pub fn psql(&self, args: &[&str]) -> std::process::Output {
        lab(&[&["psql", self.database.as_str()], args].concat())
    }

    /// The psqlODBC connection string, password included.
    pub fn connection_string_with_password(&self) -> String {
        let output = lab(&["odbc-connection-string", &self.database]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The psqlODBC connection string without the password (given separately).
    pub fn connection_string(&self) -> String {
        self.connection_string_with_password()
            .split(';')
            .filter(|pair| !pair.trim().to_uppercase().starts_with("PWD="))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Event ids of every entry, in journal order, as the stand-in itself returns them.
    pub fn all_ids(&self, condition: &str) -> Vec<String> {
        let text = self.sql(&format!(
            "SELECT rtrim(\"SYSTEM_NAME\") || ':' || rtrim(\"RECEIVER_LIBRARY\") || '/' || rtrim(\"RECEIVER_NAME\") || ':' || \"SEQUENCE_NUMBER\" \
             FROM systools.audit_journal_js(starting_receiver_name => '*CURAVLCHN') X WHERE {condition} \
             ORDER BY (SELECT R.receiver_ordinal FROM lab.receivers R \
                       WHERE R.receiver_library = rtrim(X.\"RECEIVER_LIBRARY\") AND R.receiver_name = rtrim(X.\"RECEIVER_NAME\")), \
                      X.\"SEQUENCE_NUMBER\""
        ));
        text.lines()
            .map(str::to_owned)
            .filter(|line| !line.is_empty())
            .collect()
    }

    /// `SYSTEM:LIB/RECEIVER:SEQUENCE` of every entry of every type the lab
    /// holds (JS and the typed ones), in journal order, skipping the entries
    /// of the receiver named `except` (when given).
    pub fn journal(&self, except: Option<&str>) -> Vec<String> {
        let condition = match except {
            Some(receiver) => format!("WHERE rtrim(n) <> '{receiver}'"),
            None => String::new(),
        };
        self.sql(&format!(
            "SELECT s || ':' || rtrim(l) || '/' || rtrim(n) || ':' || q FROM ( \
               SELECT \"SYSTEM_NAME\" s, \"RECEIVER_LIBRARY\" l, \"RECEIVER_NAME\" n, \"SEQUENCE_NUMBER\" q, receiver_ordinal o FROM lab.entries \
               UNION ALL \
               SELECT \"SYSTEM_NAME\", \"RECEIVER_LIBRARY\", \"RECEIVER_NAME\", \"SEQUENCE_NUMBER\", receiver_ordinal FROM lab.typed_entries) x \
             {condition} ORDER BY o, q"
        ))
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// Terminates every session on this database but the caller's.
    pub fn terminate_sessions(&self) -> usize {
        self.sql(&format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{}' AND usename = current_user AND pid <> pg_backend_pid()) killed",
            self.database
        ))
        .parse()
        .unwrap_or(0)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = lab(&[
            "psql",
            "postgres",
            "-q",
            "-c",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        ]);
    }
}
