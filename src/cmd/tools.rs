//! `check-config`, `doctor`, `audit-types`, `enrich` and `sessions`.

use std::io::{BufRead, BufReader, Write};

use auditfwd::checkpoint::CheckpointStore;
use auditfwd::enrich::Enricher;
use auditfwd::exit_code;
use auditfwd::source::rows::{typed_row, LocalClock, RowReader};

use super::{config_failed, load, load_for_source, plan, start_logging};
use crate::ConfigArgs;

pub(crate) fn check_config(args: &ConfigArgs) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    // Planned as `run` plans it: what `run` would refuse is refused here.
    let plan = match plan(config) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    for warning in plan.config.warnings() {
        eprintln!("auditfwd: warning: {warning}");
    }
    print!("{}", plan.config.to_redacted_toml());
    exit_code::OK
}

pub(crate) fn doctor(
    args: &ConfigArgs,
    source: Option<&str>,
    json: bool,
    interval: std::time::Duration,
) -> i32 {
    use auditfwd::source::odbc::doctor::Options;
    let config = match load_for_source(args, source, "doctor") {
        Ok(config) => config,
        Err(code) => return code,
    };
    if let Err(code) = start_logging(&config.log) {
        return code;
    }
    if config.source.kind != auditfwd::source::config::SourceKind::Odbc {
        eprintln!("auditfwd: doctor checks an IBM i: set source.kind = \"odbc\" (the simulator has nothing to check)");
        return exit_code::CONFIG;
    }
    // The checkpoint's receiver, when the state can be read without the
    // daemon's lock (freed receivers before it no longer matter).
    let checkpoint_receiver = config
        .state
        .dir
        .exists()
        .then(|| CheckpointStore::open(&config.state.dir).ok())
        .flatten()
        .and_then(|store| store.load().ok().flatten())
        .map(|checkpoint| auditfwd::source::odbc::chain::ReceiverId {
            library: checkpoint.cursor.receiver_library.clone(),
            name: checkpoint.cursor.receiver_name.clone(),
        });
    let planned = {
        let mut problems = auditfwd::config::Problems::default();
        match config.source.plan("source", &mut problems) {
            Some(planned) => planned,
            None => return config_failed(&auditfwd::config::ConfigErrors(problems.errors)),
        }
    };
    let source = match auditfwd::source::Source::open(&planned, &config.filter, None) {
        Ok(auditfwd::source::Source::Odbc(source)) => source,
        Ok(_) => unreachable!("source.kind is odbc"),
        Err(error) => {
            eprintln!("auditfwd: doctor: {error}");
            return exit_code::CONFIG;
        }
    };
    let report = source.doctor(&Options {
        interval,
        checkpoint_receiver,
    });
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serialises")
        );
    } else {
        print!("{}", report.text());
    }
    if report.ok {
        exit_code::OK
    } else {
        exit_code::CONFIG
    }
}

/// Prints the audit type catalog, the same table the code uses.
pub(crate) fn audit_types() -> i32 {
    use auditfwd::event::audit::catalog;
    let mut out = String::new();
    for spec in catalog::ALL {
        out.push_str(&format!(
            "{} {}\n  function: SYSTOOLS.{}\n  turned on by QAUDLVL: {}\n  available since: {}\n",
            spec.code, spec.name, spec.function, spec.qaudlvl, spec.since
        ));
        if spec.is_js() {
            out.push_str("  codes: IBM's JS entry types, labelled as IBM's connection-tracking query does (see README)\n");
            continue;
        }
        out.push_str(&format!(
            "  codes ({}):\n",
            spec.code_column
                .unwrap_or("no code column: one code for every entry")
        ));
        for code in spec.codes {
            out.push_str(&format!(
                "    {:<10} {:<9} {:<34} {}\n",
                code.code,
                format!("{:?}", code.severity).to_lowercase(),
                code.action,
                code.label
            ));
        }
    }
    print!("{out}");
    exit_code::OK
}

pub(crate) fn enrich(
    args: &ConfigArgs,
    input: &str,
    timezone: &str,
    audit_type: &str,
    format: auditfwd::format::Format,
    (cef_dialect, ibm_release): (auditfwd::format::cef::CefDialect, &str),
) -> i32 {
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    let Some(spec) = auditfwd::event::audit::TypeSpec::find(audit_type) else {
        eprintln!(
            "auditfwd: --audit-type {audit_type:?} is not a type auditfwd reads (see auditfwd audit-types)"
        );
        return exit_code::CONFIG;
    };
    if !spec.is_js() && config.event.schema_version == auditfwd::event::SCHEMA_VERSION_V1 {
        eprintln!(
            "auditfwd: --audit-type {} needs event.schema_version = 2",
            spec.code
        );
        return exit_code::CONFIG;
    }
    let zone: chrono_tz::Tz = match timezone.parse() {
        Ok(zone) => zone,
        Err(_) => {
            eprintln!(
                "auditfwd: --timezone {timezone:?} is not an IANA time zone such as Europe/Rome"
            );
            return exit_code::CONFIG;
        }
    };
    let reader: Box<dyn BufRead> = if input == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        match std::fs::File::open(input) {
            Ok(file) => Box::new(BufReader::new(file)),
            Err(error) => {
                eprintln!("auditfwd: cannot read {input}: {error}");
                return exit_code::DATA_ERROR;
            }
        }
    };
    let rows = match RowReader::new(reader) {
        Ok(rows) => rows,
        Err(error) => {
            eprintln!("auditfwd: {input}: {error}");
            return exit_code::DATA_ERROR;
        }
    };
    let enricher = Enricher::new(&config.alerts).with_schema(config.event.schema_version);
    let mut clock = LocalClock::new(zone);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad_rows = 0usize;
    for item in rows {
        let result = item.map_err(|error| error.to_string()).and_then(|input_row| {
            if input_row.replaced_invalid_utf8 {
                eprintln!(
                    "auditfwd: {input}: input line {}: bytes that are not UTF-8 were replaced by U+FFFD; row kept",
                    input_row.line
                );
            }
            typed_row(spec, &input_row.row, &mut clock)
                .map_err(|error| format!("input line {}: {error}", input_row.line))
        });
        match result {
            Ok(row) => {
                let event = enricher.enrich_owned(row);
                let mut line = match (format, cef_dialect) {
                    (auditfwd::format::Format::Cef, auditfwd::format::cef::CefDialect::Ibm) => {
                        auditfwd::format::cef::cef_ibm(&event, ibm_release, 0).into_bytes()
                    }
                    _ => auditfwd::format::encode(&event, format),
                };
                line.push(b'\n');
                let written = out.write_all(&line);
                if let Err(error) = written {
                    eprintln!("auditfwd: cannot write output: {error}");
                    return exit_code::IO_ERROR;
                }
            }
            Err(message) => {
                bad_rows += 1;
                eprintln!("auditfwd: {input}: {message}; row skipped");
            }
        }
    }
    if let Err(error) = out.flush() {
        eprintln!("auditfwd: cannot write output: {error}");
        return exit_code::IO_ERROR;
    }
    if bad_rows > 0 {
        eprintln!("auditfwd: {bad_rows} row(s) could not be enriched (see above)");
        return exit_code::DATA_ERROR;
    }
    exit_code::OK
}

/// `auditfwd sessions`: every line is checked first; a bad one is reported
/// by number and nothing is written.
pub(crate) fn sessions(args: &ConfigArgs, input: &str, output: &str) -> i32 {
    use auditfwd::enrich::session_table;
    let config = match load(args) {
        Ok(config) => config,
        Err(errors) => return config_failed(&errors),
    };
    let reader: Box<dyn std::io::BufRead> = if input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(input) {
            Ok(file) => Box::new(std::io::BufReader::new(file)),
            Err(error) => {
                eprintln!("auditfwd: cannot read {input}: {error}");
                return exit_code::DATA_ERROR;
            }
        }
    };
    let enricher = Enricher::new(&config.alerts);
    // One line at a time: memory follows the sessions, not the export.
    use std::io::BufRead as _;
    let mut table = session_table::SessionTable::new(&config.sessions, &enricher);
    for (number, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(error) => {
                eprintln!(
                    "auditfwd: cannot read {input} at line {}: {error}; nothing written",
                    number + 1
                );
                return exit_code::DATA_ERROR;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match auditfwd::event::wire::parse_native(&line) {
            Ok(event) => table.push(event),
            Err(error) => {
                eprintln!(
                    "auditfwd: {input}: line {}: not a native event: {error}; nothing written",
                    number + 1
                );
                return exit_code::DATA_ERROR;
            }
        }
    }
    let rows = table.finish();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match output {
        "json" => session_table::write_json(&rows, &mut out),
        _ => session_table::write_csv(&rows, &mut out),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => exit_code::OK,
        Err(error) => {
            eprintln!("auditfwd: cannot write output: {error}");
            exit_code::IO_ERROR
        }
    }
}

/// `--cef-dialect`: auditfwd or ibm.
pub(crate) fn parse_cef_dialect(name: &str) -> Result<auditfwd::format::cef::CefDialect, String> {
    match name {
        "auditfwd" => Ok(auditfwd::format::cef::CefDialect::Auditfwd),
        "ibm" => Ok(auditfwd::format::cef::CefDialect::Ibm),
        other => Err(format!("{other:?} is not a CEF dialect: auditfwd or ibm")),
    }
}

/// `--format`: a format by its configuration name.
pub(crate) fn parse_format(name: &str) -> Result<auditfwd::format::Format, String> {
    auditfwd::format::Format::ALL
        .iter()
        .copied()
        .find(|format| format.name() == name)
        .ok_or_else(|| format!("{name:?} is not one of native, ecs, ocsf, cef, leef"))
}
