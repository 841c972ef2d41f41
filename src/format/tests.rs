//! The formats against the real schemas: every kind of event, formatted as
//! OCSF, validates against OCSF 1.8.0's class and object definitions
//! (`tests/fixtures/ocsf/`), as ECS uses only ECS 8.17 fields with their
//! types and allowed values (`tests/fixtures/ecs/`), and as CEF and LEEF
//! parses back with parsers written here, not the formatter's code.

use std::collections::BTreeMap;

use super::validate::{EcsSchema, OcsfSchema};

use super::mapping::{self, Key};
use super::*;
use crate::enrich::Enricher;
use crate::event::audit::{catalog, Details, Kind, Value as Column};
use crate::event::{JournalRow, Notice};

mod refinements;
mod text;

// ---------------------------------------------------------------- events

/// A typed entry with column values that make a detection fire.
type Detection = (
    &'static crate::event::audit::TypeSpec,
    &'static str,
    Vec<(&'static str, Column)>,
);

fn bare(sequence: u64) -> JournalRow {
    let local = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
        .unwrap()
        .and_hms_micro_opt(9, 0, 0, 42)
        .unwrap();
    let mut row = JournalRow::bare(
        "PROD1",
        "QGPL",
        "AUDRCV0001",
        sequence,
        local,
        local.and_utc(),
    );
    row.user_name = Some("QUSER".into());
    row.remote_address = Some("192.0.2.1".into());
    row.remote_port = Some(50000);
    row.qualified_job_name = Some("123456/QUSER/QZDASOINIT".into());
    row.job_name = Some("QZDASOINIT".into());
    row.job_user = Some("QUSER".into());
    row.job_number = Some("123456".into());
    row
}

fn typed(
    spec: &'static crate::event::audit::TypeSpec,
    code: &str,
    sequence: u64,
    extra: &[(&str, Column)],
) -> JournalRow {
    let values = spec
        .columns
        .iter()
        .map(|column| {
            if let Some((_, value)) = extra.iter().find(|(name, _)| *name == column.name) {
                return value.clone();
            }
            match (Some(column.name) == spec.code_column, column.kind) {
                (true, _) => Column::Text(code.into()),
                (false, Kind::Text) => Column::Text("QSECOFR".into()),
                (false, Kind::Integer) => Column::Integer(7),
                (false, Kind::Flag) => Column::Flag(sequence % 2 == 0),
            }
        })
        .collect();
    let mut row = bare(sequence);
    row.details = Some(Details { spec, values });
    row
}

/// Every code of every type (and one the catalog lacks), JS over every access
/// method, the detections, an audit gap, a malformed row, burst signals, and
/// the simulator's first entries.
pub(crate) fn every_kind_of_event() -> Vec<crate::event::Event> {
    let mut enricher = Enricher::default();
    enricher.set_system_privileged(["QSECOFR".to_owned()]);
    let mut rows = Vec::new();
    let mut sequence = 1;
    let mut next = || {
        sequence += 1;
        sequence
    };
    for spec in catalog::ALL.iter().filter(|spec| !spec.is_js()) {
        for code in spec.codes.iter().map(|code| code.code).chain(["?"]) {
            rows.push(typed(spec, code, next(), &[]));
            let mut plain = typed(spec, code, next(), &[]);
            plain.remote_address = Some("APPN.NETWORK".into());
            plain.user_name = None;
            plain.qualified_job_name = None;
            plain.job_number = None;
            rows.push(plain);
        }
    }
    let flag = Column::Flag;
    let text = |value: &str| Column::Text(value.into());
    let detections: Vec<Detection> = vec![
        (
            &catalog::CP,
            "CHG",
            vec![
                ("ALLOBJ", flag(true)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("USER_PROFILE", text("JSMITH")),
            ],
        ),
        (
            &catalog::CP,
            "CRT",
            vec![
                ("SECADM", flag(true)),
                ("PREVIOUS_SECADM", flag(false)),
                ("ALLOBJ", flag(false)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("AUDIT", flag(false)),
                ("PREVIOUS_AUDIT", flag(false)),
                ("SERVICE", flag(false)),
                ("PREVIOUS_SERVICE", flag(false)),
                ("USER_PROFILE", text("NEWADM")),
            ],
        ),
        (
            &catalog::CP,
            "CHG",
            vec![
                ("PASSWORD_CHANGED", flag(true)),
                ("ALLOBJ", flag(false)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("SECADM", flag(false)),
                ("PREVIOUS_SECADM", flag(false)),
                ("AUDIT", flag(false)),
                ("PREVIOUS_AUDIT", flag(false)),
                ("SERVICE", flag(false)),
                ("PREVIOUS_SERVICE", flag(false)),
                ("USER_PROFILE", text("JSMITH")),
            ],
        ),
        (
            &catalog::CP,
            "CHG",
            vec![
                ("STATUS", text("*DISABLED")),
                ("PASSWORD_CHANGED", flag(false)),
                ("ALLOBJ", flag(false)),
                ("PREVIOUS_ALLOBJ", flag(false)),
                ("SECADM", flag(false)),
                ("PREVIOUS_SECADM", flag(false)),
                ("AUDIT", flag(false)),
                ("PREVIOUS_AUDIT", flag(false)),
                ("SERVICE", flag(false)),
                ("PREVIOUS_SERVICE", flag(false)),
                ("USER_PROFILE", text("JSMITH")),
            ],
        ),
        (
            &catalog::SV,
            "A",
            vec![
                ("SYSTEM_VALUE", text("QAUDCTL")),
                ("OLD_VALUE", text("*AUDLVL")),
                ("NEW_VALUE", text("*NONE")),
            ],
        ),
        (
            &catalog::SV,
            "A",
            vec![
                ("SYSTEM_VALUE", text("QAUDLVL")),
                ("OLD_VALUE", text("*AUTFAIL")),
                ("NEW_VALUE", text("*SECURITY")),
            ],
        ),
        (
            &catalog::SV,
            "A",
            vec![
                ("SYSTEM_VALUE", text("QMAXSIGN")),
                ("OLD_VALUE", text("3")),
                ("NEW_VALUE", text("25")),
            ],
        ),
        (
            &catalog::AD,
            "O",
            vec![
                ("OBJECT_AUDIT", text("*NONE")),
                ("PREV_OBJECT_AUDIT", text("*ALL")),
            ],
        ),
        (
            &catalog::AD,
            "O",
            vec![
                ("OBJECT_AUDIT", text("*ALL")),
                ("PREV_OBJECT_AUDIT", text("*NONE")),
            ],
        ),
        (
            &catalog::GR,
            "F",
            vec![
                ("USAGE_SETTING", text("*DENIED")),
                ("FUNCTION_NAME", text("QIBM_DB_SQLADM")),
            ],
        ),
        (
            &catalog::GR,
            "F",
            vec![
                ("USAGE_SETTING", Column::Null),
                ("FUNCTION_NAME", Column::Null),
                ("USER_PROFILE_NAME", Column::Null),
            ],
        ),
        (
            &catalog::AF,
            "A",
            vec![
                ("PATH_NAME", text("/home/jsmith/.profile")),
                ("OBJECT_NAME", Column::Null),
                ("OBJECT_TYPE", text("*STMF")),
            ],
        ),
        (
            &catalog::OW,
            "A",
            vec![
                ("OBJECT_TYPE", text("*PGM")),
                ("PATH_NAME", Column::Null),
                ("NEW_OWNER", text("QSECOFR")),
            ],
        ),
        (&catalog::AF, "T", vec![("TCPIP_PORT", Column::Integer(23))]),
    ];
    for (spec, code, extra) in &detections {
        rows.push(typed(spec, code, next(), extra));
    }
    let methods: &[(&str, &str, Option<&str>)] = &[
        ("INT", "QPADEV0001", Some("192.0.2.7")),
        ("INT", "DSP01", None),
        ("PJ", "QZDASOINIT", Some("192.0.2.8")),
        ("PJ", "QZDASSINIT", Some("2001:db8::8")),
        ("BCH", "NIGHTLY", None),
        ("SYS", "QSYSARB", None),
        ("PJ", "QSSHD", Some("192.0.2.9")),
        ("BCI", "QP0ZSPWP", Some("not an address")),
        ("PJ", "QTFTP01234", Some("192.0.2.10")),
        ("X", "UNKNOWN", None),
    ];
    let codes = crate::enrich::classify::EVENT_ACTIONS
        .iter()
        .map(|(code, _, _)| *code)
        .chain(["?"]);
    for (index, code) in codes.enumerate() {
        for (offset, (job_type, job_name, address)) in methods.iter().enumerate() {
            if offset % 3 != index % 3 && !matches!(code, "S" | "E" | "M" | "T") {
                continue;
            }
            let mut row = bare(next());
            row.entry_type = Some(code.into());
            row.job_type = Some((*job_type).into());
            row.job_name = Some((*job_name).into());
            row.qualified_job_name = Some(format!("123456/JSMITH/{job_name}").into());
            row.remote_address = address.map(Into::into);
            row.real_user_profile = Some(if offset % 2 == 0 { "QSECOFR" } else { "JSMITH" }.into());
            if matches!(code, "M" | "T") {
                row.effective_user_profile = Some("QSECOFR".into());
            }
            rows.push(row);
        }
    }
    let mut gap = bare(next());
    gap.notice = Some(Notice {
        action: "audit_gap",
        message: "receiver AUDRCV0002 deleted before it was read".into(),
    });
    rows.push(gap);
    let mut malformed = bare(next());
    malformed.notice = Some(Notice {
        action: "malformed_row",
        message: "ENTRY_TIMESTAMP \"x\" is not a timestamp".into(),
    });
    malformed.user_name = None;
    malformed.remote_address = None;
    rows.push(malformed);
    let simulator = crate::source::config::SimulatorConfig {
        start_timestamp: crate::source::config::SimulatorStart::At(
            "2026-01-05T08:00:00".parse().expect("a valid time"),
        ),
        ..crate::source::config::SimulatorConfig::default()
    };
    for ordinal in 0..2_000 {
        rows.push(crate::source::simulator::entry(&simulator, ordinal));
    }
    rows.extend(session_rows(next()));
    // Sessions see every row, as in the pipeline; their events go at the end.
    let mut tracker = crate::enrich::sessions::SessionTracker::new(
        &crate::enrich::config::SessionsConfig::default(),
    );
    let sessions: Vec<_> = rows
        .iter()
        .flat_map(|row| tracker.observe(row, &enricher))
        .collect();
    assert!(sessions.iter().any(|event| event
        .session
        .as_ref()
        .is_some_and(|session| session.ended_at.is_none() && session.end_reason.is_some())));
    let mut events: Vec<_> = rows
        .into_iter()
        .map(|row| enricher.enrich_owned(row))
        .collect();
    let mut burst = crate::enrich::burst::BurstDetector::new(
        &crate::enrich::config::BurstConfig::default(),
        None,
    );
    let signals: Vec<_> = events
        .iter()
        .filter(|event| event.audit_type == Some("PW"))
        .flat_map(|event| burst.observe(event))
        .collect();
    assert!(signals
        .iter()
        .any(|signal| signal.signal.as_ref().unwrap().key_kind == "user"));
    events.extend(signals);
    events.extend(sessions);
    events
}

/// A privileged ODBC session over clear text that swaps back, an interactive
/// one ended abnormally, and one cut by an audit gap (an unknown end).
fn session_rows(first: u64) -> Vec<JournalRow> {
    let odbc = "200001/QUSER/QZDASOINIT";
    let steps: [(&str, &str, &str, Option<&str>); 6] = [
        ("M", "PJ", odbc, Some("QSECOFR")),
        ("S", "INT", "100001/JSMITH/QPADEV0001", None),
        ("M", "PJ", odbc, Some("QUSER")),
        ("A", "INT", "100001/JSMITH/QPADEV0001", None),
        ("T", "PJ", odbc, Some("JSMITH")),
        ("GAP", "", "", None),
    ];
    steps
        .iter()
        .enumerate()
        .map(|(index, (entry, job_type, job, real))| {
            let mut row = bare(first + index as u64);
            let later = chrono::Duration::seconds(90 * index as i64 + 1);
            row.entry_timestamp += later;
            row.entry_timestamp_local += later;
            if *entry == "GAP" {
                row.notice = Some(crate::event::Notice {
                    action: "audit_gap",
                    message: "entries lost".into(),
                });
                return row;
            }
            let mut parts = job.splitn(3, '/');
            row.job_number = parts.next().map(Into::into);
            row.job_user = parts.next().map(Into::into);
            row.job_name = parts.next().map(Into::into);
            row.entry_type = Some((*entry).into());
            row.job_type = Some((*job_type).into());
            row.qualified_job_name = Some((*job).into());
            row.real_user_profile = real.map(Into::into);
            row.remote_address = Some("203.0.113.66".into());
            row
        })
        .collect()
}

#[test]
fn every_event_formatted_as_ocsf_validates_against_the_ocsf_1_8_0_definitions() {
    let schema = OcsfSchema::load();
    let events = every_kind_of_event();
    let mut classes = std::collections::BTreeSet::new();
    for event in &events {
        let ocsf = ocsf::ocsf(event);
        let errors = schema.validate(&ocsf);
        assert!(errors.is_empty(), "{errors:#?}\nin {ocsf:#}");
        // What the table says is what the code does.
        let row = mapping::lookup(event);
        assert_eq!(
            ocsf["class_uid"],
            row.ocsf_class.uid(),
            "{}",
            event.event_id
        );
        classes.insert(row.ocsf_class.uid());
    }
    assert_eq!(
        classes.len(),
        mapping::OcsfClass::ALL.len(),
        "every class is exercised: {classes:?}"
    );
}

#[test]
fn every_event_formatted_as_ecs_uses_ecs_8_17_fields_with_their_types() {
    let schema = EcsSchema::load();
    for event in &every_kind_of_event() {
        let document = ecs::ecs(event);
        let errors = schema.validate(&document);
        assert!(errors.is_empty(), "{errors:#?}\nin {document:#}");
        let row = mapping::lookup(event);
        assert_eq!(document["event"]["outcome"], row.outcome.ecs());
        assert_eq!(document["event"]["module"], "ibmi");
        assert_eq!(document["event"]["dataset"], "ibmi.audit");
        assert_eq!(document["host"]["hostname"], event.system_name.as_str());
        assert_eq!(document["event"]["code"], mapping::event_id(event));
        if !row.ecs_category.is_empty() {
            assert_eq!(
                document["event"]["category"],
                serde_json::json!(row.ecs_category)
            );
        }
    }
}

/// Every kind of event in every format, byte for byte: a change in how a
/// format is encoded shows here (`AUDITFWD_UPDATE_GOLDEN=1` rewrites them, on
/// purpose, with the reason in the commit).
#[test]
fn every_kind_of_event_in_every_format_is_unchanged() {
    let events = every_kind_of_event();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut outputs: Vec<(String, Vec<u8>)> = Format::ALL
        .iter()
        .map(|format| {
            (
                format!("every-kind-{}", format!("{format:?}").to_lowercase()),
                crate::format::ndjson(&events, *format),
            )
        })
        .collect();
    let mut ibm = Vec::new();
    for event in &events {
        ibm.extend_from_slice(cef::cef_ibm(event, "7.5", 0).as_bytes());
        ibm.push(b'\n');
    }
    outputs.push(("every-kind-cef-ibm".into(), ibm));
    for (name, bytes) in outputs {
        let path = dir.join(format!("{name}.golden"));
        let summary = summary(&bytes);
        if std::env::var_os("AUDITFWD_UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &summary).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; create it with AUDITFWD_UPDATE_GOLDEN=1",
                path.display()
            )
        });
        assert!(
            summary == expected,
            "{name} changed (golden {}):\nnow:\n{summary}\nwas:\n{expected}",
            path.display()
        );
    }
}

/// A golden's record of an output: a stable 64-bit FNV-1a digest of every
/// byte, the line count, and the first lines to read.
fn summary(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let text = String::from_utf8_lossy(bytes);
    let mut out = format!("fnv1a64 {hash:016x}\nlines {}\n", text.lines().count());
    for line in text.lines().take(3) {
        out.push_str(line);
        out.push('\n');
    }
    out
}
