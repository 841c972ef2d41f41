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
//! 10,000 sequence numbers), executed and fetched through odbc-api into text
//! buffers, with nothing parsed, enriched or written; and a pyodbc client
//! (benches/odbc_source/pyodbc_client.py) that fetches the same statements,
//! rows and columns through the same driver into Python objects (the Python of
//! `testkit::bench::python`; without pyodbc the table says so).
//!
//! BENCH_LAB_COST sets the lab function's extra CPU cost per row returned, in
//! microseconds (`lab.set_cost_per_row`). The default, 20, plays a real
//! materializing AUDIT_JOURNAL_JS (psql COPY of it reads ~42,000 rows/s), so the
//! bench is never easier than the real peer; 0 is the lab as it is, about ten
//! times cheaper. BENCH_BASELINE_BIN names another auditfwd binary (an older build)
//! run on the same rows, for a before/after in one run.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use testkit::bench as common;

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/lab/lab.sh");
const AUDITFWD: &str = env!("CARGO_BIN_EXE_auditfwd");
const PYODBC_CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/benches/odbc_source/pyodbc_client.py"
);

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
    /// Seconds, or why pyodbc could not run.
    pyodbc: Result<f64, String>,
    daemon: Daemon,
    baseline: Option<Daemon>,
}

/// One daemon's catch-up of the journal.
struct Daemon {
    seconds: f64,
    calls: u64,
    peak_rss_kib: u64,
}

/// The columns the daemon selects from JS (all the lab has).
fn js_columns() -> Vec<String> {
    auditfwd::source::odbc::sql::REQUIRED_COLUMNS
        .iter()
        .chain(auditfwd::source::odbc::sql::OPTIONAL_COLUMNS)
        .map(|name| name.to_string())
        .collect()
}

fn run(rows: u64, batch_rows: usize, cost: u64, baseline: Option<&str>) -> Run {
    let database = format!("bench_{}_{rows}", std::process::id());
    lab(&["new-db", &database]);
    let started = Instant::now();
    lab(&["psql", &database, "-q", "-c", &format!("SELECT lab.generate({rows}, 1, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', {rows})")]);
    lab(&[
        "psql",
        &database,
        "-q",
        "-c",
        &format!("SELECT lab.set_cost_per_row({cost})"),
    ]);
    println!(
        "[{rows}] generated {rows} entries in one receiver in {:.1}s; lab cost {cost} µs per row",
        started.elapsed().as_secs_f64()
    );

    let columns = js_columns()
        .iter()
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
    let last = last_sequence(&database);
    let floor_seconds = driver_floor(&full_connection_string, last, rows);
    let pyodbc = pyodbc_client(&full_connection_string, last, rows);
    let baseline =
        baseline.map(|binary| daemon(binary, &database, &full_connection_string, batch_rows, rows));
    let daemon = daemon(
        AUDITFWD,
        &database,
        &full_connection_string,
        batch_rows,
        rows,
    );

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
        pyodbc,
        daemon,
        baseline,
    }
}

/// Runs `binary` (ODBC source → file sink) over the journal of `database`
/// until caught up, and checks it delivered every row.
fn daemon(
    binary: &str,
    database: &str,
    full_connection_string: &str,
    batch_rows: usize,
    rows: u64,
) -> Daemon {
    let calls_before = settled_calls(database);
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
        .arg(binary)
        .args(["run", "-c"])
        .arg(&config)
        .arg("--exit-when-caught-up")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("log.txt")).unwrap())
        .status()
        .expect("run auditfwd under /usr/bin/time (apt-get install time)");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        status.success(),
        "{binary} failed: {}",
        std::fs::read_to_string(dir.join("log.txt")).unwrap_or_default()
    );
    let peak_rss_kib: u64 = std::fs::read_to_string(&timing)
        .expect("GNU time output")
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("peak RSS in KiB");
    let delivered = count_entries(&dir.join("events.ndjson"));
    assert_eq!(delivered, rows, "{binary} delivered a different number");
    Daemon {
        seconds,
        calls: settled_calls(database) - calls_before,
        peak_rss_kib,
    }
}

/// The last sequence number of the one receiver `lab.generate` made.
fn last_sequence(database: &str) -> u64 {
    lab(&[
        "psql",
        database,
        "-At",
        "-c",
        "SELECT max(last_sequence_number) FROM lab.receivers",
    ])
    .parse()
    .expect("the last sequence number")
}

/// The daemon's window statement over JS, as it prepares it.
fn window_statement() -> String {
    use auditfwd::source::odbc::{config::Dialect, sql};
    sql::read_window(
        sql::JS_FUNCTION,
        Dialect::Postgres,
        &js_columns(),
        "",
        "",
        0,
        0,
        &sql::SqlFilter::default(),
    )
    .text
}

/// Seconds the pyodbc client takes to read the windows, or why it cannot run.
fn pyodbc_client(connection_string: &str, last: u64, rows: u64) -> Result<f64, String> {
    let python = common::python();
    let check = Command::new(&python).args(["-c", "import pyodbc"]).output();
    if !check.is_ok_and(|output| output.status.success()) {
        return Err(format!(
            "{python} cannot import pyodbc (`{python} -m pip install pyodbc`, or bash .ci/setup bench)"
        ));
    }
    let started = Instant::now();
    let output = Command::new(&python)
        .arg(PYODBC_CLIENT)
        .arg(connection_string)
        .arg(window_statement())
        .args(["QGPL", "AUDRCV0001"])
        .arg(last.to_string())
        .output()
        .expect("run the pyodbc client");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "the pyodbc client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: u64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a row count");
    assert_eq!(
        read, rows,
        "the pyodbc client read a different number of rows"
    );
    Ok(seconds)
}

/// Seconds to execute and fetch the daemon's window statements over the one
/// receiver (`lab.generate` names it QGPL/AUDRCV0001), rows into text buffers
/// of the daemon's size, nothing else.
fn driver_floor(connection_string: &str, last: u64, rows: u64) -> f64 {
    use auditfwd::source::odbc::{config::Dialect, sql};
    use odbc_api::buffers::TextRowSet;
    use odbc_api::parameter::InputParameter;
    use odbc_api::{ConnectionOptions, Cursor, Environment, IntoParameter};

    let columns = js_columns();
    let filter = sql::SqlFilter::default();
    let environment = Environment::new().expect("an ODBC environment");
    let started = Instant::now();
    let connection = environment
        .connect_with_connection_string(connection_string, ConnectionOptions::default())
        .expect("connect to the lab");
    let text = window_statement();
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

/// Journal entries in an events file: lines whose event id is an entry's,
/// not that of an event derived from one (sessions: `<entry id>#session_start`).
fn count_entries(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).expect("events file");
    text.lines()
        .filter(|line| {
            line.split("\"event_id\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .is_some_and(|id| !id.contains('#'))
        })
        .count() as u64
}

/// "1.23 s = 4567 rows/s"
fn rate(rows: u64, seconds: f64) -> String {
    format!("{seconds:.2} s = {:.0} rows/s", rows as f64 / seconds)
}

fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "200000,1000000".into())
        .split(',')
        .map(|size| size.trim().parse().expect("BENCH_SIZES: numbers"))
        .collect();
    let batch_rows = common::knob("BENCH_BATCH_ROWS", 1_000) as usize;
    let cost = common::knob("BENCH_LAB_COST", 20);
    let baseline = std::env::var("BENCH_BASELINE_BIN").ok();
    let runs: Vec<Run> = sizes
        .iter()
        .map(|rows| run(*rows, batch_rows, cost, baseline.as_deref()))
        .collect();
    println!();
    println!(
        "lab cost {cost} µs per row; batch_rows {batch_rows}; {} cores (shared)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if let Some(binary) = &baseline {
        println!("baseline: {binary}");
    }
    println!("| entries in one receiver | psql COPY | driver floor (ODBC fetch only) | pyodbc client | reader | → file | / floor | / pyodbc | / COPY | function calls | calls per 1,000 events | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for run in &runs {
        let seconds_per = |seconds: f64| run.rows as f64 / seconds;
        let pyodbc = match &run.pyodbc {
            Ok(seconds) => rate(run.rows, *seconds),
            Err(why) => format!("not run: {why}"),
        };
        let readers = run
            .baseline
            .iter()
            .map(|daemon| ("baseline", daemon))
            .chain([("auditfwd", &run.daemon)]);
        for (name, daemon) in readers {
            let daemon_rate = seconds_per(daemon.seconds);
            let versus_pyodbc = match &run.pyodbc {
                Ok(seconds) => format!("{:.2}×", daemon_rate / seconds_per(*seconds)),
                Err(_) => "-".into(),
            };
            println!(
                "| {} | {} | {} | {pyodbc} | {name} | {} | {:.2}× | {versus_pyodbc} | {:.2}× | {} | {:.3} | {:.1} MiB |",
                run.rows,
                rate(run.rows, run.copy_seconds),
                rate(run.rows, run.floor_seconds),
                rate(run.rows, daemon.seconds),
                daemon_rate / seconds_per(run.floor_seconds),
                daemon_rate / seconds_per(run.copy_seconds),
                daemon.calls,
                daemon.calls as f64 * 1000.0 / run.rows as f64,
                daemon.peak_rss_kib as f64 / 1024.0,
            );
        }
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        if last.rows != first.rows {
            println!(
                "time({}) / time({}) = {:.2} for {:.1}× the entries (auditfwd); COPY: {:.2}",
                last.rows,
                first.rows,
                last.daemon.seconds / first.daemon.seconds,
                last.rows as f64 / first.rows as f64,
                last.copy_seconds / first.copy_seconds,
            );
        }
    }
}
