//! A catch-up against the materializing PostgreSQL lab: `psql COPY` of the
//! journal function next to the auditfwd daemon (ODBC source → file sink,
//! `--exit-when-caught-up`), on the same rows, in one run, per size.
//!
//!     bash deploy/lab/lab.sh start
//!     cargo bench --bench odbc_source          # BENCH_SIZES=200000,1000000 by default
//!
//! Each size is one receiver of that many entries. Prints both rates and their
//! ratio, the table-function calls the daemon made (from pg_stat_user_functions,
//! and per 1,000 events), the peak RSS of the daemon process (GNU time's %M),
//! and how time grows from the first size to the last. BENCH_BATCH_ROWS sets
//! `source.batch_rows` (default 1000, the daemon's default).
//!
//! It also times the driver floor: the daemon's statements (one per window of
//! 10,000 sequence numbers), executed and fetched through odbc-api into the
//! same text buffers, with nothing parsed, enriched or written. No daemon can
//! read the rows faster through this driver than that.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/lab/lab.sh");
const AUDITFWD: &str = env!("CARGO_BIN_EXE_auditfwd");

fn lab(args: &[&str]) -> String {
    let output = Command::new("bash")
        .arg(LAB)
        .args(args)
        .output()
        .expect("run lab.sh");
    assert!(
        output.status.success(),
        "lab.sh {args:?} failed (start the lab: bash deploy/lab/lab.sh start): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn function_calls(database: &str) -> u64 {
    lab(&[
        "psql",
        database,
        "-At",
        "-c",
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions \
         WHERE schemaname = 'systools' AND funcname = 'audit_journal_js'",
    ])
    .parse()
    .expect("a count")
}

/// Statistics reach pg_stat_user_functions when a session ends: wait until the
/// count stops moving.
fn settled_calls(database: &str) -> u64 {
    let mut last = function_calls(database);
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let now = function_calls(database);
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

struct Run {
    rows: u64,
    copy_seconds: f64,
    floor_seconds: f64,
    daemon_seconds: f64,
    calls: u64,
    peak_rss_kib: u64,
}

fn run(rows: u64, batch_rows: usize) -> Run {
    let database = format!("bench_{}_{rows}", std::process::id());
    lab(&["new-db", &database]);
    let started = Instant::now();
    lab(&["psql", &database, "-q", "-c", &format!("SELECT lab.generate({rows}, 1, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', {rows})")]);
    println!(
        "[{rows}] generated {rows} entries in one receiver in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let columns = auditfwd::source::odbc::sql::REQUIRED_COLUMNS
        .iter()
        .chain(auditfwd::source::odbc::sql::OPTIONAL_COLUMNS)
        .map(|name| format!("X.\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let copy = format!(
        "COPY (SELECT {columns} FROM systools.audit_journal_js(starting_receiver_name => '*CURAVLCHN') X) TO STDOUT"
    );
    let started = Instant::now();
    let output = Command::new("bash")
        .arg(LAB)
        .args(["psql", &database, "-q", "-c", &copy])
        .output()
        .expect("psql COPY");
    let copy_seconds = started.elapsed().as_secs_f64();
    let copied = output.stdout.iter().filter(|byte| **byte == b'\n').count() as u64;
    assert_eq!(copied, rows, "COPY returned a different number of rows");
    let full_connection_string = lab(&["odbc-connection-string", &database]);
    let floor_seconds = driver_floor(&full_connection_string, rows);
    let calls_before = settled_calls(&database);

    let workspace = tempfile::tempdir().expect("temporary directory");
    let dir = workspace.path();
    let connection_string: String = full_connection_string
        .split(';')
        .filter(|pair| !pair.trim().to_uppercase().starts_with("PWD="))
        .collect::<Vec<_>>()
        .join(";");
    std::fs::write(dir.join("odbc.pw"), "lab\n").unwrap();
    let config = dir.join("auditfwd.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[source]
kind = "odbc"
batch_rows = {batch_rows}
[source.odbc]
connection_string = "{connection_string}"
password_file = "{password}"
dialect = "postgres"
timezone = "UTC"
start_at = "earliest"
exclude_own_connections = false
[filter]
entry_types = []
exclude_users = []
[state]
dir = "{state}"
[[sinks]]
type = "file"
path = "{events}"
"#,
            password = dir.join("odbc.pw").display(),
            state = dir.join("data").display(),
            events = dir.join("events.ndjson").display(),
        ),
    )
    .unwrap();
    let timing = dir.join("time.txt");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&timing)
        .arg(AUDITFWD)
        .args(["run", "-c"])
        .arg(&config)
        .arg("--exit-when-caught-up")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("log.txt")).unwrap())
        .status()
        .expect("run auditfwd under /usr/bin/time (apt-get install time)");
    let daemon_seconds = started.elapsed().as_secs_f64();
    assert!(
        status.success(),
        "auditfwd failed: {}",
        std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default()
    );
    let peak_rss_kib: u64 = std::fs::read_to_string(&timing)
        .expect("GNU time output")
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("peak RSS in KiB");
    let delivered = count_lines(&dir.join("events.ndjson"));
    assert_eq!(delivered, rows, "auditfwd delivered a different number");
    let calls = settled_calls(&database) - calls_before;

    lab(&[
        "psql",
        "postgres",
        "-q",
        "-c",
        &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
    ]);
    Run {
        rows,
        copy_seconds,
        floor_seconds,
        daemon_seconds,
        calls,
        peak_rss_kib,
    }
}

/// Seconds to execute and fetch the daemon's window statements over the one
/// receiver (`lab.generate` names it QGPL/AUDRCV0001), rows into text buffers
/// of the daemon's size, nothing else.
fn driver_floor(connection_string: &str, rows: u64) -> f64 {
    use auditfwd::source::odbc::{config::Dialect, sql};
    use odbc_api::buffers::TextRowSet;
    use odbc_api::parameter::InputParameter;
    use odbc_api::{ConnectionOptions, Cursor, Environment, IntoParameter};

    let database = connection_string
        .split(';')
        .find_map(|pair| pair.strip_prefix("Database="))
        .expect("a database in the connection string");
    let last: u64 = lab(&[
        "psql",
        database,
        "-At",
        "-c",
        "SELECT max(last_sequence_number) FROM lab.receivers",
    ])
    .parse()
    .expect("the last sequence number");
    let columns: Vec<String> = sql::REQUIRED_COLUMNS
        .iter()
        .chain(sql::OPTIONAL_COLUMNS)
        .map(|name| name.to_string())
        .collect();
    let filter = sql::SqlFilter {
        entry_types: Vec::new(),
        include_users: Vec::new(),
        exclude_users: Vec::new(),
    };
    let environment = Environment::new().expect("an ODBC environment");
    let started = Instant::now();
    let connection = environment
        .connect_with_connection_string(connection_string, ConnectionOptions::default())
        .expect("connect to the lab");
    let text = sql::read_window(
        sql::JS_FUNCTION,
        Dialect::Postgres,
        &columns,
        "",
        "",
        0,
        0,
        &filter,
    )
    .text;
    let mut statement = connection
        .prepare(&text)
        .expect("prepare the window statement");
    let mut fetched = 0u64;
    let mut first = 1u64;
    while first <= last {
        let end = (first + 9_999).min(last);
        let query = sql::read_window(
            sql::JS_FUNCTION,
            Dialect::Postgres,
            &columns,
            "QGPL",
            "AUDRCV0001",
            first,
            end,
            &filter,
        );
        let params: Vec<Box<dyn InputParameter>> = query
            .params
            .iter()
            .map(|value| -> Box<dyn InputParameter> {
                match value {
                    sql::Value::Text(text) => Box::new(text.clone().into_parameter()),
                    sql::Value::Integer(number) => Box::new(*number),
                }
            })
            .collect();
        let mut cursor = statement
            .execute(params.as_slice())
            .expect("execute a window")
            .expect("a result set");
        let mut buffer = TextRowSet::for_cursor(500, &mut cursor, Some(1024)).expect("a buffer");
        let mut block_cursor = cursor.bind_buffer(&mut buffer).expect("bind");
        while let Some(block) = block_cursor.fetch().expect("fetch") {
            fetched += block.num_rows() as u64;
        }
        first = end + 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        fetched, rows,
        "the driver floor read a different number of rows"
    );
    seconds
}

fn count_lines(path: &Path) -> u64 {
    std::fs::read(path)
        .expect("events file")
        .iter()
        .filter(|byte| **byte == b'\n')
        .count() as u64
}

fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "200000,1000000".into())
        .split(',')
        .map(|size| size.trim().parse().expect("BENCH_SIZES: numbers"))
        .collect();
    let batch_rows: usize = std::env::var("BENCH_BATCH_ROWS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000);
    let runs: Vec<Run> = sizes.iter().map(|rows| run(*rows, batch_rows)).collect();
    println!();
    println!("| entries in one receiver | psql COPY | driver floor (ODBC fetch only) | floor / COPY | auditfwd → file | auditfwd / COPY | function calls | calls per 1,000 events | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for run in &runs {
        let copy_rate = run.rows as f64 / run.copy_seconds;
        let daemon_rate = run.rows as f64 / run.daemon_seconds;
        let floor_rate = run.rows as f64 / run.floor_seconds;
        println!(
            "| {} | {:.2} s = {:.0} rows/s | {:.2} s = {:.0} rows/s | {:.2}× | {:.2} s = {:.0} rows/s | {:.2}× | {} | {:.3} | {:.1} MiB |",
            run.rows,
            run.copy_seconds,
            copy_rate,
            run.floor_seconds,
            floor_rate,
            floor_rate / copy_rate,
            run.daemon_seconds,
            daemon_rate,
            daemon_rate / copy_rate,
            run.calls,
            run.calls as f64 * 1000.0 / run.rows as f64,
            run.peak_rss_kib as f64 / 1024.0,
        );
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        if last.rows != first.rows {
            println!(
                "time({}) / time({}) = {:.2} for {:.1}× the entries (auditfwd); COPY: {:.2}",
                last.rows,
                first.rows,
                last.daemon_seconds / first.daemon_seconds,
                last.rows as f64 / first.rows as f64,
                last.copy_seconds / first.copy_seconds,
            );
        }
    }
}
