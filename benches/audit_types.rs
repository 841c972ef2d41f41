//! What reading more audit types costs: the same lab journal (every type, in
//! one receiver per BENCH_PER_RECEIVER entries) read by the daemon (ODBC →
//! file sink, `--exit-when-caught-up`) with `audit_types = ["JS"]` and with
//! all eleven types, side by side in one run. Prints the time, the entries
//! delivered, and the table-function calls per type, which is what "one call
//! per type per window" costs the IBM i.
//!
//!     bash deploy/lab/lab.sh start
//!     cargo bench --bench audit_types      # BENCH_ENTRIES=100000

use testkit::bench as common;

use std::process::Command;
use std::time::Instant;

use common::peers::Lab;

const AUDITFWD: &str = env!("CARGO_BIN_EXE_auditfwd");
const ALL: &str = r#"["JS", "PW", "CP", "AF", "SV", "PS", "GR", "CA", "OW", "AD", "PA"]"#;

fn calls(lab: &Lab) -> Vec<(String, u64)> {
    lab.sql(
        "SELECT funcname, calls FROM pg_stat_user_functions WHERE schemaname = 'systools' ORDER BY funcname",
    )
    .lines()
    .filter_map(|line| {
        let (name, calls) = line.split_once('|')?;
        Some((name.to_owned(), calls.parse().ok()?))
    })
    .collect()
}

fn run(lab: &Lab, types: &str) -> (f64, usize, Vec<(String, u64)>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("odbc.pw"), "lab\n").unwrap();
    std::fs::write(
        dir.path().join("auditfwd.toml"),
        format!(
            "[source]\nkind = \"odbc\"\naudit_types = {types}\n[source.odbc]\nconnection_string = \"{}\"\npassword_file = \"odbc.pw\"\ndialect = \"postgres\"\ntimezone = \"UTC\"\nstart_at = \"earliest\"\nquery_timeout = \"60s\"\n[filter]\nentry_types = []\nexclude_users = []\n[state]\ndir = \"data\"\n[[sinks]]\ntype = \"file\"\npath = \"events.ndjson\"\n",
            lab.connection_string()
        ),
    )
    .unwrap();
    let before = calls(lab);
    let started = Instant::now();
    let status = Command::new(AUDITFWD)
        .args(["run", "-c", "auditfwd.toml", "--exit-when-caught-up"])
        .current_dir(dir.path())
        .env("AUDITFWD_LOG__LEVEL", "warn")
        .status()
        .expect("run auditfwd");
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success());
    let events = std::fs::read_to_string(dir.path().join("events.ndjson"))
        .unwrap()
        .lines()
        .count();
    // Statistics reach pg_stat_user_functions when the session ends.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let after = calls(lab);
    let made = after
        .iter()
        .map(|(name, count)| {
            let old = before
                .iter()
                .find(|(known, _)| known == name)
                .map_or(0, |(_, c)| *c);
            (name.clone(), count - old)
        })
        .filter(|(_, count)| *count > 0)
        .collect();
    (seconds, events, made)
}

fn main() {
    let entries = common::knob("BENCH_ENTRIES", 100_000);
    let per_receiver = common::knob("BENCH_PER_RECEIVER", 100_000);
    let lab = Lab::new("bench_types");
    lab.sql(&format!(
        "SELECT lab.generate_mixed({entries}, 1, TIMESTAMP '2026-10-01 00:00:00', INTERVAL '100 milliseconds', {per_receiver})"
    ));
    let js_entries: u64 = lab.sql("SELECT count(*) FROM lab.entries").parse().unwrap();
    println!("audit_types: one lab journal of {entries} entries ({js_entries} JS), {per_receiver} per receiver, same run");
    for (label, types) in [("JS only", r#"["JS"]"#), ("all 11 types", ALL)] {
        let (seconds, events, made) = run(&lab, types);
        let total: u64 = made.iter().map(|(_, count)| count).sum();
        println!(
            "  {label:<13} {seconds:>7.2} s  {events:>7} events  {:>9.0} events/s  {total} table-function calls ({:.2} per 1,000 journal entries): {made:?}",
            events as f64 / seconds,
            total as f64 * 1000.0 / entries as f64
        );
    }
}
