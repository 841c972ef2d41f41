//! `auditfwd.toml` built from sections instead of pasted: most tests want the
//! simulator, every entry forwarded, state in `data/`, and differ in a few
//! keys of `[source]`, `[pipeline]` and their sinks.

/// The simulator's clock in every test configuration: a fixed start, so
/// that runs compare byte for byte (the daemon's default is "now").
pub const FIXED_START: &str = "2026-01-05T08:00:00";

/// Tables in the order first named, each a list of `key = value` lines, then
/// the `[[sinks]]` in order.
#[derive(Clone, Debug, Default)]
pub struct ConfigBuilder {
    tables: Vec<(String, Vec<String>)>,
    sinks: Vec<String>,
}

impl ConfigBuilder {
    /// An empty file (every default).
    pub fn new() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The simulator with `total_events` at `events_per_second` (0: unpaced),
    /// no filter (every entry type, every user), state in `data/`, and no
    /// derived session events: these tests count journal entries one for one
    /// (the goldens and `sessions.rs` cover sessions; `with_sessions` turns
    /// them back on).
    pub fn simulator(total_events: u64, events_per_second: u64) -> ConfigBuilder {
        ConfigBuilder::new()
            .table("source", "")
            .table(
                "source.simulator",
                &format!(
                    "total_events = {total_events}\nevents_per_second = {events_per_second}\n\
                     start_timestamp = \"{FIXED_START}\""
                ),
            )
            .table("filter", "entry_types = []\nexclude_users = []")
            .table("sessions", "enabled = false")
            .table("state", "dir = \"data\"")
    }

    /// The lab over ODBC (psqlODBC, the `postgres` dialect): every entry
    /// from the oldest, the entry times in UTC, 200 ms between polls, a 20 s
    /// query limit, the password in `odbc.pw` (`Workspace::lab_config`
    /// writes it), state in `data/`. The filter and sessions keep the
    /// daemon's defaults; `every_entry` and `without_sessions` change them.
    pub fn lab(lab: &crate::peers::Lab) -> ConfigBuilder {
        ConfigBuilder::new()
            .table("source", "kind = \"odbc\"\npoll_interval = \"200ms\"")
            .table(
                "source.odbc",
                &format!(
                    "connection_string = \"{}\"\npassword_file = \"odbc.pw\"\n\
                     dialect = \"postgres\"\ntimezone = \"UTC\"\nstart_at = \"earliest\"\n\
                     query_timeout = \"20s\"",
                    lab.connection_string()
                ),
            )
            .table("state", "dir = \"data\"")
    }

    /// `[source.odbc]` lines.
    pub fn odbc(self, lines: &str) -> ConfigBuilder {
        self.table("source.odbc", lines)
    }

    /// No filter: every entry type, every user.
    pub fn every_entry(self) -> ConfigBuilder {
        self.table("filter", "entry_types = []\nexclude_users = []")
    }

    /// No derived session events, for tests that count the journal's
    /// entries one for one.
    pub fn without_sessions(self) -> ConfigBuilder {
        self.table("sessions", "enabled = false")
    }

    /// Sink retries after 50 ms, at most 200 ms apart.
    pub fn quick_retries(self) -> ConfigBuilder {
        self.pipeline("retry_initial_backoff = \"50ms\"\nretry_max_backoff = \"200ms\"")
    }

    /// Session events on again (the default of a real configuration).
    pub fn with_sessions(self) -> ConfigBuilder {
        self.table("sessions", "enabled = true")
    }

    /// Adds the `key = value` lines of `lines` to `[name]`; a key already
    /// there takes the new value. Blank lines are skipped.
    pub fn table(mut self, name: &str, lines: &str) -> ConfigBuilder {
        let index = match self.tables.iter().position(|(table, _)| table == name) {
            Some(index) => index,
            None => {
                self.tables.push((name.to_owned(), Vec::new()));
                self.tables.len() - 1
            }
        };
        merge_into(&mut self.tables[index].1, lines);
        self
    }

    /// `[source]` lines.
    pub fn source(self, lines: &str) -> ConfigBuilder {
        self.table("source", lines)
    }

    /// `[pipeline]` lines.
    pub fn pipeline(self, lines: &str) -> ConfigBuilder {
        self.table("pipeline", lines)
    }

    /// A `[[sinks]]` entry with the body `lines` (`type = …` first).
    pub fn sink(mut self, lines: &str) -> ConfigBuilder {
        self.sinks.push(lines.trim().to_owned());
        self
    }

    /// A file sink writing NDJSON to `path`.
    pub fn file_sink(self, path: &str) -> ConfigBuilder {
        self.sink(&format!("type = \"file\"\npath = \"{path}\""))
    }

    /// The configuration as TOML text: each table, then each `[[sinks]]` entry.
    pub fn to_toml(&self) -> String {
        let mut text = String::new();
        for (name, entries) in &self.tables {
            text.push_str(&format!("[{name}]\n"));
            for entry in entries {
                text.push_str(entry);
                text.push('\n');
            }
        }
        for sink in &self.sinks {
            text.push_str("[[sinks]]\n");
            text.push_str(sink);
            text.push('\n');
        }
        text
    }
}

/// One system of a fleet on `lab`: a `[[sources]]` entry named `name` (or
/// the single `[source]` when `name` is None) with the keys of
/// `ConfigBuilder::lab`; the `key = value` lines of `source` and `odbc`
/// replace or add keys of the entry and of its `odbc` table.
pub fn lab_source(lab: &crate::peers::Lab, name: Option<&str>, source: &str, odbc: &str) -> String {
    let (header, odbc_header) = match name {
        Some(name) => (format!("[[sources]]\nname = \"{name}\""), "[sources.odbc]"),
        None => ("[source]".to_owned(), "[source.odbc]"),
    };
    let base = ConfigBuilder::lab(lab);
    let lines = |table: &str| {
        base.tables
            .iter()
            .find(|(name, _)| name == table)
            .map(|(_, lines)| lines.join("\n"))
            .unwrap_or_default()
    };
    format!(
        "{header}\n{}\n{odbc_header}\n{}\n",
        merged(&lines("source"), source),
        merged(&lines("source.odbc"), odbc)
    )
}

/// `base` with the `key = value` lines of `overrides`: a key already in
/// `base` takes the new value, a new key is added at the end. For a sink body
/// with defaults that a test may replace.
pub fn merged(base: &str, overrides: &str) -> String {
    let mut entries = Vec::new();
    merge_into(&mut entries, base);
    merge_into(&mut entries, overrides);
    entries.join("\n")
}

fn merge_into(entries: &mut Vec<String>, lines: &str) {
    for line in lines.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let key = key_of(line);
        match entries.iter_mut().find(|entry| key_of(entry) == key) {
            Some(entry) => *entry = line.to_owned(),
            None => entries.push(line.to_owned()),
        }
    }
}

fn key_of(line: &str) -> &str {
    line.split('=').next().unwrap_or(line).trim()
}
