//! Rows per second of the ODBC source alone against the PostgreSQL lab, next to
//! `psql COPY` of the same rows from the same function, in one run.
//!
//!     bash deploy/lab/lab.sh start
//!     cargo bench --bench odbc_source            # BENCH_ROWS=1000000 by default
//!
//! Knobs for exploring the driver: BENCH_BATCH_ROWS (rows per poll, 5000),
//! BENCH_FETCH (psqlODBC rows per round trip), BENCH_NO_DECLARE_FETCH=1,
//! BENCH_DRIVER (e.g. "PostgreSQL ANSI").
//!
//! Prints both rates and their ratio. The source reads through unixODBC and
//! psqlODBC with columnar bulk fetch, parses and normalises every row (what the
//! daemon does before enrichment); COPY only streams text.

mod common;

use std::time::Instant;

use auditfwd::config::Secret;
use auditfwd::enrich::FilterConfig;
use auditfwd::source::config::{SourceConfig, SourceKind};
use auditfwd::source::odbc::config::Dialect;
use auditfwd::source::odbc::OdbcSource;
use common::peers::Lab;

fn main() {
    let rows = common::knob("BENCH_ROWS", 1_000_000);
    let batch_rows = common::knob("BENCH_BATCH_ROWS", 5_000) as usize;
    let lab = Lab::new("bench");
    let started = Instant::now();
    lab.sql(&format!("SELECT lab.generate({rows}, 1, TIMESTAMP '2026-04-08 08:00:00', INTERVAL '10 milliseconds', 250000)"));
    println!(
        "generated {rows} rows in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // BENCH_FETCH overrides psqlODBC's Fetch (rows per round trip with UseDeclareFetch=1).
    let mut connection_string = lab.connection_string_with_password();
    if let Ok(fetch) = std::env::var("BENCH_FETCH") {
        connection_string = connection_string.replace("Fetch=1000", &format!("Fetch={fetch}"));
    }
    if let Ok(driver) = std::env::var("BENCH_DRIVER") {
        connection_string = connection_string.replace("PostgreSQL Unicode", &driver);
    }
    if std::env::var("BENCH_NO_DECLARE_FETCH").is_ok() {
        connection_string = connection_string.replace("UseDeclareFetch=1", "UseDeclareFetch=0");
    }
    let mut source_config = SourceConfig {
        kind: SourceKind::Odbc,
        batch_rows,
        ..SourceConfig::default()
    };
    source_config.odbc.connection_string = Secret::new(connection_string);
    source_config.odbc.dialect = Dialect::Postgres;
    source_config.odbc.start_at = "earliest".into();
    source_config.odbc.exclude_own_connections = false;
    let filter = FilterConfig {
        entry_types: vec![],
        include_users: vec![],
        exclude_users: vec![],
    };
    let mut source =
        OdbcSource::new(&source_config, &filter, Secret::default(), None).expect("source");

    let mut read = 0u64;
    let started = Instant::now();
    loop {
        let poll = source.poll().expect("poll");
        read += poll.rows.len() as u64;
        if poll.caught_up {
            break;
        }
    }
    let source_seconds = started.elapsed().as_secs_f64();
    assert_eq!(read, rows, "the source read a different number of rows");

    let columns = auditfwd::source::odbc::sql::REQUIRED_COLUMNS
        .iter()
        .chain(auditfwd::source::odbc::sql::OPTIONAL_COLUMNS)
        .map(|name| format!("X.\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!(
        "SELECT {columns} FROM systools.audit_journal_js(starting_receiver_name => '*CURAVLCHN') X"
    );
    let copy = format!("COPY ({select}) TO STDOUT");

    // The driver's floor: the same rows through unixODBC + psqlODBC into the same
    // kind of columnar text buffer, with no parsing at all.
    let bare_seconds = {
        use odbc_api::{buffers::TextRowSet, ConnectionOptions, Cursor, Environment};
        let environment = Environment::new().expect("ODBC environment");
        let connection = environment
            .connect_with_connection_string(
                source_config.odbc.connection_string.expose(),
                ConnectionOptions::default(),
            )
            .expect("connect");
        let started = Instant::now();
        let mut cursor = connection
            .execute(&select, (), None)
            .expect("query")
            .expect("a result set");
        let buffer = TextRowSet::for_cursor(batch_rows, &mut cursor, Some(1024)).expect("buffer");
        let mut block_cursor = cursor.bind_buffer(buffer).expect("bind");
        let mut fetched = 0u64;
        let mut checksum = 0usize;
        while let Some(block) = block_cursor.fetch().expect("fetch") {
            fetched += block.num_rows() as u64;
            checksum += block.at(1, 0).map_or(0, <[u8]>::len);
        }
        assert_eq!(
            fetched, rows,
            "the bare fetch read a different number of rows ({checksum})"
        );
        started.elapsed().as_secs_f64()
    };
    let started = Instant::now();
    let output = lab.psql(&["-q", "-c", &copy]);
    assert!(
        output.status.success(),
        "psql COPY: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let copy_seconds = started.elapsed().as_secs_f64();
    let copied = output.stdout.iter().filter(|byte| **byte == b'\n').count() as u64;
    assert_eq!(copied, rows, "COPY returned a different number of rows");

    drop(lab);
    let source_rate = rows as f64 / source_seconds;
    let copy_rate = rows as f64 / copy_seconds;
    println!("odbc source: {rows} rows in {source_seconds:.2}s = {source_rate:.0} rows/s (batch_rows {batch_rows})");
    let bare_rate = rows as f64 / bare_seconds;
    println!(
        "bare ODBC fetch (no parsing): {rows} rows in {bare_seconds:.2}s = {bare_rate:.0} rows/s"
    );
    println!("psql COPY:   {rows} rows in {copy_seconds:.2}s = {copy_rate:.0} rows/s");
    println!("ratio COPY/source: {:.2}x", copy_rate / source_rate);
    println!(
        "ratio COPY/bare fetch: {:.2}x (the driver's share)",
        copy_rate / bare_rate
    );
}
