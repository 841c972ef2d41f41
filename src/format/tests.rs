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
            row.qualified_job_name = Some(format!("123456/JSMITH/{job_name}"));
            row.remote_address = address.map(str::to_owned);
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
    let simulator = crate::source::config::SimulatorConfig::default();
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
        assert_eq!(document["host"]["hostname"], event.system_name);
        assert_eq!(document["event"]["code"], mapping::event_id(event));
        if !row.ecs_category.is_empty() {
            assert_eq!(
                document["event"]["category"],
                serde_json::json!(row.ecs_category)
            );
        }
    }
}

// ------------------------------------------------------------ CEF, LEEF

/// Undoes backslash escapes: `\n`, `\r`, `\t`, and `\x` for any other `x`.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A CEF line: the seven header fields and the extensions, by the rules of
/// ArcSight's CEF specification (header `|` and `\` escaped; an extension
/// value runs to the space before the next unescaped `key=`).
fn parse_cef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = line.char_indices();
    let mut rest = "";
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => {
                field.push(c);
                if let Some((_, next)) = chars.next() {
                    field.push(next);
                }
            }
            '|' => {
                header.push(unescape(&field));
                field.clear();
                if header.len() == 7 {
                    rest = &line[index + 1..];
                    break;
                }
            }
            c => field.push(c),
        }
    }
    assert_eq!(header.len(), 7, "{line}");
    // Positions of unescaped '=' whose key starts after a space (or at 0).
    let bytes: Vec<char> = rest.chars().collect();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut escaped = false;
    for (index, c) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        if *c == '\\' {
            escaped = true;
            continue;
        }
        if *c == '=' {
            let start = bytes[..index]
                .iter()
                .rposition(|c| *c == ' ')
                .map_or(0, |space| space + 1);
            if bytes[start..index]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == '_')
                && start < index
            {
                keys.push((start, index));
            }
        }
    }
    let mut extensions = BTreeMap::new();
    for (position, (start, equals)) in keys.iter().enumerate() {
        let key: String = bytes[*start..*equals].iter().collect();
        let end = keys
            .get(position + 1)
            .map_or(bytes.len(), |(next, _)| next - 1);
        let value: String = bytes[equals + 1..end.max(equals + 1)].iter().collect();
        extensions.insert(key, unescape(&value));
    }
    (header, extensions)
}

/// A LEEF 2.0 line: five header fields, the delimiter field (a character or
/// `xHH`), then delimiter-separated `key=value` attributes.
fn parse_leef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let parts: Vec<&str> = line.splitn(7, '|').collect();
    assert_eq!(parts.len(), 7, "{line}");
    assert_eq!(parts[0], "LEEF:2.0");
    let delimiter = match parts[5] {
        hex if hex.starts_with('x') || hex.starts_with("0x") => char::from(
            u8::from_str_radix(hex.trim_start_matches("0x").trim_start_matches('x'), 16).unwrap(),
        ),
        single => single.chars().next().unwrap(),
    };
    let attributes = parts[6]
        .split(delimiter)
        .map(|pair| {
            let (key, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{pair:?} in {line:?}"));
            // LEEF has no escapes: a value is what is written.
            (key.to_owned(), value.to_owned())
        })
        .collect();
    (
        parts[..6].iter().map(|part| (*part).to_owned()).collect(),
        attributes,
    )
}

#[test]
fn every_event_as_cef_and_leef_parses_back() {
    for event in &every_kind_of_event() {
        let line = cef::cef(event, 0);
        assert!(!line.contains(['\n', '\r']), "{line}");
        let (header, extensions) = parse_cef(&line);
        assert_eq!(header[0], "CEF:0");
        assert_eq!(
            header[1..4],
            ["auditfwd", "auditfwd", env!("CARGO_PKG_VERSION")]
        );
        assert_eq!(header[4], mapping::event_id(event));
        assert_eq!(header[5], mapping::event_name(event));
        let severity: u8 = header[6].parse().unwrap();
        assert!(severity <= 10);
        assert_eq!(
            extensions["rt"],
            event.entry_timestamp.timestamp_millis().to_string()
        );
        assert_eq!(extensions["dvchost"], event.system_name);
        assert_eq!(extensions["act"], event.event_action);
        if event.event_id.chars().count() <= 40 {
            assert_eq!(extensions["externalId"], event.event_id);
        } else {
            assert!(extensions["externalId"].len() <= 40, "{line}");
            assert_eq!(extensions["cs6"], event.event_id);
            assert_eq!(extensions["cs6Label"], "eventId");
        }
        assert_eq!(extensions["outcome"], mapping::lookup(event).outcome.ecs());
        let (actor, _, _) = users(event);
        assert_eq!(extensions.get("suser").map(String::as_str), actor, "{line}");
        match remote_ip(event) {
            Some(ip) if ip.is_ipv4() => assert_eq!(extensions["src"], ip.to_string()),
            Some(ip) => {
                assert!(!extensions.contains_key("src"), "{line}");
                assert_eq!(extensions["c6a2"], ip.to_string());
            }
            None => {}
        }
        if let Some(port) = event.remote_port {
            assert_eq!(extensions["spt"], port.to_string());
        }
        if let Some(message) = &event.message {
            assert_eq!(&extensions["msg"], message);
        }

        let line = cef::leef(event, 0);
        assert!(!line.contains(['\n', '\r']), "{line}");
        let (header, attributes) = parse_leef(&line);
        assert_eq!(header[4], mapping::event_id(event));
        assert_eq!(header[5], "x09", "tab-separated");
        let time = chrono::NaiveDateTime::parse_from_str(
            &attributes["devTime"],
            "%b %d %Y %H:%M:%S%.3f UTC",
        )
        .unwrap();
        assert_eq!(attributes["devTimeFormat"], "MMM dd yyyy HH:mm:ss.SSS z");
        assert_eq!(
            time.and_utc().timestamp_millis(),
            event.entry_timestamp.timestamp_millis()
        );
        assert_eq!(attributes["cat"], event.event_action);
        assert_eq!(attributes["identHostName"], event.system_name);
        assert_eq!(attributes.get("usrName").map(String::as_str), actor);
        let severity: u8 = attributes["sev"].parse().unwrap();
        assert!((1..=10).contains(&severity));
    }
}

#[test]
fn cef_and_leef_round_trip_hostile_text() {
    let nasty = "Jö|h=n\\ \"Ä]\nX^y\r\t✓ a=b";
    let mut row = bare(9);
    row.entry_type = Some("S".into());
    row.real_user_profile = Some(nasty.into());
    row.qualified_job_name = Some(format!("123456/{nasty}/QPADEV0001"));
    let event = Enricher::default().enrich_owned(row);
    // CEF escapes line ends; a tab (like any other control character) is a space.
    let cef_text = "Jö|h=n\\ \"Ä]\nX^y\r ✓ a=b";
    let (_, extensions) = parse_cef(&cef::cef(&event, 0));
    assert_eq!(extensions["suser"], cef_text);
    assert_eq!(extensions["dproc"], format!("123456/{cef_text}/QPADEV0001"));
    // LEEF has no escapes: the delimiter and line ends are spaces, a
    // backslash stays one backslash.
    let leef_text = "Jö|h=n\\ \"Ä] X^y  ✓ a=b";
    let (_, attributes) = parse_leef(&cef::leef(&event, 0));
    assert_eq!(attributes["usrName"], leef_text);
    assert_eq!(
        attributes["jobName"],
        format!("123456/{leef_text}/QPADEV0001")
    );
}

// ------------------------------------------------- the table's refinements

fn find(
    events: &[crate::event::Event],
    what: impl Fn(&crate::event::Event) -> bool,
) -> &crate::event::Event {
    events
        .iter()
        .find(|event| what(event))
        .expect("such an event")
}

#[test]
fn ocsf_refinements_follow_the_entry() {
    let events = every_kind_of_event();
    let js = |code: &'static str, job: &'static str| {
        move |event: &crate::event::Event| {
            event.entry_type.as_deref() == Some(code) && event.job_name.as_deref() == Some(job)
        }
    };
    let remote_5250 = ocsf::ocsf(find(&events, js("S", "QPADEV0001")));
    assert_eq!(
        (
            remote_5250["class_uid"].as_u64(),
            remote_5250["activity_id"].as_u64()
        ),
        (Some(3002), Some(1))
    );
    assert_eq!(remote_5250["logon_type_id"], 10);
    let console = ocsf::ocsf(find(&events, js("S", "DSP01")));
    assert_eq!(console["logon_type_id"], 2);
    let cleartext = ocsf::ocsf(find(&events, js("S", "QZDASOINIT")));
    assert_eq!(cleartext["logon_type_id"], 8);
    assert_eq!(cleartext["is_cleartext"], true);
    let tls = ocsf::ocsf(find(&events, js("S", "QZDASSINIT")));
    assert_eq!(
        (tls["logon_type_id"].as_u64(), tls["is_cleartext"].as_bool()),
        (Some(3), Some(false))
    );
    assert_eq!(
        ocsf::ocsf(find(&events, js("E", "NIGHTLY")))["logon_type_id"],
        4
    );
    let swap = ocsf::ocsf(find(&events, js("M", "QPADEV0001")));
    assert_eq!(
        (
            swap["activity_id"].as_u64(),
            swap["account_switch_type_id"].as_u64()
        ),
        (Some(7), Some(1))
    );
    assert_eq!(swap["user"]["name"], "QSECOFR");
    let token = ocsf::ocsf(find(&events, js("T", "QPADEV0001")));
    assert_eq!(token["account_switch_type_id"], 2);
    let code = |kind: &'static str, code: &'static str| {
        move |event: &crate::event::Event| {
            event.audit_type == Some(kind) && event.code() == Some(code) && event.signal.is_none()
        }
    };
    let failed = ocsf::ocsf(find(&events, code("PW", "P")));
    assert_eq!(
        (
            failed["class_uid"].as_u64(),
            failed["activity_id"].as_u64(),
            failed["status_id"].as_u64()
        ),
        (Some(3002), Some(1), Some(2))
    );
    let created = ocsf::ocsf(find(&events, code("CP", "CRT")));
    assert_eq!(created["class_uid"], 3001);
    let dst = ocsf::ocsf(find(&events, code("CP", "DST")));
    assert_eq!(
        (dst["class_uid"].as_u64(), dst["activity_id"].as_u64()),
        (Some(3001), Some(4))
    );
    let granted = ocsf::ocsf(find(&events, |event| {
        event.event_action == "privilege_granted"
    }));
    assert_eq!(
        (
            granted["class_uid"].as_u64(),
            granted["activity_id"].as_u64()
        ),
        (Some(3005), Some(1))
    );
    assert!(granted["privileges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|privilege| privilege == "*ALLOBJ" || privilege == "*SECADM"));
    let password = ocsf::ocsf(find(&events, |event| {
        event.event_action == "password_changed"
    }));
    assert_eq!(password["activity_id"], 3);
    let disabled = ocsf::ocsf(find(&events, |event| event.event_action == "user_disabled"));
    assert_eq!(disabled["activity_id"], 5);
    let audit_off = ocsf::ocsf(find(&events, |event| {
        event.event_action == "audit_policy_changed"
            && event
                .details
                .as_ref()
                .and_then(|details| details.text("NEW_VALUE"))
                == Some("*NONE")
    }));
    assert_eq!(
        (
            audit_off["class_uid"].as_u64(),
            audit_off["activity_id"].as_u64()
        ),
        (Some(1008), Some(10))
    );
    let auditing_off = ocsf::ocsf(find(&events, |event| {
        event.event_action == "auditing_disabled"
    }));
    assert_eq!(
        (
            auditing_off["class_uid"].as_u64(),
            auditing_off["activity_id"].as_u64()
        ),
        (Some(1008), Some(10))
    );
    let gap = ocsf::ocsf(find(&events, |event| event.event_action == "audit_gap"));
    assert_eq!(gap["class_uid"], 1008);
    let burst = ocsf::ocsf(find(&events, |event| event.signal.is_some()));
    assert_eq!(
        (burst["class_uid"].as_u64(), burst["type_uid"].as_u64()),
        (Some(2004), Some(200401))
    );
    let port = ocsf::ocsf(find(&events, |event| {
        event.audit_type == Some("AF")
            && event.code() == Some("T")
            && event
                .details
                .as_ref()
                .and_then(|details| details.value("TCPIP_PORT"))
                == Some(&Column::Integer(23))
    }));
    assert_eq!(port["dst_endpoint"]["port"], 23);
}

#[test]
fn cim_fields_and_tags() {
    let events = every_kind_of_event();
    let cleartext_secofr = find(&events, |event| {
        event.entry_type.as_deref() == Some("S")
            && event.job_name.as_deref() == Some("QZDASOINIT")
            && event.real_user_profile.as_deref() == Some("QSECOFR")
    });
    let fields = cim::fields(cleartext_secofr);
    assert_eq!(fields["action"], "success");
    assert_eq!(fields["signature_id"], "JS_S");
    assert_eq!(fields["dest"], "PROD1");
    assert_eq!(fields["user"], "QSECOFR");
    let tags = cim::tags(cleartext_secofr);
    for tag in [
        "authentication",
        "default",
        "insecure",
        "cleartext",
        "privileged",
    ] {
        assert!(tags.contains(&tag), "{tag} in {tags:?}");
    }
    let failed = find(&events, |event| {
        event.audit_type == Some("PW") && event.signal.is_none()
    });
    assert_eq!(cim::fields(failed)["action"], "failure");
    let created = find(&events, |event| {
        event.audit_type == Some("CP") && event.code() == Some("CRT")
    });
    assert_eq!(cim::tags(created), ["change", "account"]);
    assert_eq!(cim::fields(created)["action"], "created");
    for event in &events {
        for tag in cim::tags(event) {
            assert!(cim::ALL_TAGS.contains(&tag), "{tag}");
        }
        assert!(matches!(
            mapping::lookup(event).key,
            Key::Codes(_) | Key::Detection(..) | Key::Own(_)
        ));
    }
}

/// Every kind of event is a valid native v2 event under the published JSON
/// Schema (generated from the catalog), and a JS event written as v1 is a
/// valid v1 event.
#[test]
fn every_kind_of_event_validates_against_the_native_schemas() {
    let validator =
        jsonschema::validator_for(&crate::event::schema::v2()).expect("the v2 schema compiles");
    let events = every_kind_of_event();
    assert!(
        events.iter().any(|event| event.signal.is_some()),
        "a signal"
    );
    assert!(
        events
            .iter()
            .any(|event| event.message.is_some() && event.signal.is_none()),
        "a notice"
    );
    for event in &events {
        let json = serde_json::to_value(event).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?} in {json}");
    }
    let v1: serde_json::Value =
        serde_json::from_str(include_str!("../../deploy/schema/event-v1.schema.json")).unwrap();
    let v1 = jsonschema::validator_for(&v1).unwrap();
    let mut js = bare(1);
    js.entry_type = Some("S".into());
    js.job_type = Some("INT".into());
    js.real_user_profile = Some("QSECOFR".into());
    let old = Enricher::default().with_schema(1).enrich_owned(js);
    assert!(v1.is_valid(&serde_json::to_value(&old).unwrap()));
}

// ------------------------------------------------- hostile input, every format

/// A row of `spec` whose every text column, and every common text field,
/// holds `text`; its code column keeps `code`.
fn hostile_row(
    spec: &'static crate::event::audit::TypeSpec,
    code: &str,
    text: &str,
    sequence: u64,
) -> JournalRow {
    let mut row = bare(sequence);
    for field in [
        &mut row.user_name,
        &mut row.qualified_job_name,
        &mut row.job_name,
        &mut row.job_user,
        &mut row.program_library,
        &mut row.program_name,
        &mut row.remote_address,
        &mut row.entry_type_detail,
    ] {
        *field = Some(text.to_owned());
    }
    if spec.is_js() {
        row.entry_type = Some(code.to_owned());
        row.job_type = Some(text.to_owned());
        row.device_name = Some(text.to_owned());
        row.real_user_profile = Some(text.to_owned());
        row.effective_user_profile = Some(text.to_owned());
        return row;
    }
    let values = spec
        .columns
        .iter()
        .map(
            |column| match (Some(column.name) == spec.code_column, column.kind) {
                (true, _) => Column::Text(code.to_owned()),
                (false, Kind::Text) => Column::Text(text.to_owned()),
                (false, Kind::Integer) => Column::Integer(7),
                (false, Kind::Flag) => Column::Flag(true),
            },
        )
        .collect();
    row.details = Some(Details { spec, values });
    row
}

/// Splits a CEF line into header fields and extensions, by the spec's rules
/// (independent of the writer: `\|` in the header, `\=` `\\` `\n` `\r` in values).
/// A CEF record read back: its seven header fields and its extensions in order.
type CefRecord = (Vec<String>, Vec<(String, String)>);

fn split_cef(line: &str) -> Option<CefRecord> {
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars();
    while header.len() < 7 {
        match chars.next()? {
            '\\' => field.push(chars.next()?),
            '|' => header.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    let rest: String = chars.collect();
    // Extensions: `key=value`, a key being the word before an unescaped `=`.
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut tokens = rest.split(' ').peekable();
    while let Some(token) = tokens.next() {
        let (key, first) = token.split_once('=')?;
        let mut value = first.to_owned();
        while let Some(next) = tokens.peek() {
            let unescaped_eq = next.find('=').is_some_and(|at| {
                !next[..at].ends_with('\\')
                    && !next[..at].is_empty()
                    && next[..at].chars().all(|c| c.is_ascii_alphanumeric())
            });
            if unescaped_eq {
                break;
            }
            value.push(' ');
            value.push_str(tokens.next().unwrap());
        }
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next()? {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    other => out.push(other),
                }
            } else {
                out.push(c);
            }
        }
        pairs.push((key.to_owned(), out));
    }
    Some((header, pairs))
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    /// Text an audited system can put in a column: control characters, the
    /// formats' delimiters and escapes, non-ASCII, replacement characters
    /// (invalid UTF-8 arrives as U+FFFD), long runs.
    fn hostile_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[\\x00-\\x1f\\x7f|=\\\\\t\r\n ^\"\\]a-zé€\u{fffd}\u{85}\u{2028}]{1,40}",
            "\\PC{1,40}",
            "[a=\\\\|]{1,8}".prop_map(|chunk| chunk.repeat(200)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// One entry is one record in every format, whatever its columns hold,
        /// and every value comes back as written or as documented (JSON: exact;
        /// CEF: control characters other than line ends become spaces; LEEF:
        /// every control character becomes a space).
        #[test]
        fn every_column_of_every_type_into_every_format(text in hostile_text(), pick in 0usize..1000) {
            let spec = catalog::ALL[pick % catalog::ALL.len()];
            let code = if spec.is_js() {
                "S"
            } else {
                spec.codes[pick % spec.codes.len()].code
            };
            let event = Enricher::default().enrich_owned(hostile_row(spec, code, &text, 9));
            for format in [Format::Native, Format::Ecs, Format::Ocsf, Format::Cef, Format::Leef] {
                let bytes = encode(&event, format);
                let line = String::from_utf8(bytes).expect("UTF-8 out");
                prop_assert!(!line.contains(['\n', '\r']), "{:?}: {:?}", format, line);
                if matches!(format, Format::Cef | Format::Leef) {
                    // A tab separates LEEF attributes; nothing else unescapable is left.
                    prop_assert!(!line.chars().any(|c| cef::is_unescapable(c) && c != '\t'), "{:?}: {:?}", format, line);
                }
                match format {
                    Format::Native | Format::Ecs | Format::Ocsf => {
                        let value: serde_json::Value = serde_json::from_str(&line).expect("one JSON document");
                        // The job name goes through unchanged.
                        let job = match format {
                            Format::Native => value["job_name"].clone(),
                            Format::Ecs => value["process"]["name"].clone(),
                            _ => value["unmapped"]["ibmi"]["job_name"].clone(),
                        };
                        if !job.is_null() {
                            prop_assert_eq!(job.as_str(), Some(text.as_str()));
                        }
                    }
                    Format::Cef => {
                        let (header, pairs) = split_cef(&line).expect("a CEF record");
                        prop_assert_eq!(header.len(), 7);
                        prop_assert_eq!(header[0].as_str(), "CEF:0");
                        let spaced: String = text
                            .chars()
                            .map(|c| if cef::is_unescapable(c) && c != '\n' && c != '\r' { ' ' } else { c })
                            .collect();
                        let dproc = pairs.iter().find(|(key, _)| key == "dproc").map(|(_, value)| value.clone());
                        prop_assert_eq!(dproc, Some(spaced.clone()));
                        // IBM's dialect: one record too, the job in `sproc`.
                        let ibm = cef::cef_ibm(&event, "7.5", 0);
                        prop_assert!(!ibm.chars().any(cef::is_unescapable), "{:?}", ibm);
                        let (header, pairs) = split_cef(&ibm).expect("an IBM CEF record");
                        prop_assert_eq!(header.len(), 7);
                        prop_assert_eq!(header[1].as_str(), "IBM");
                        let sproc = pairs.iter().find(|(key, _)| key == "sproc").map(|(_, value)| value.clone());
                        prop_assert_eq!(sproc, Some(spaced));
                    }
                    Format::Leef => {
                        let parts: Vec<&str> = line.splitn(7, '|').collect();
                        prop_assert_eq!(parts.len(), 7);
                        let spaced: String = text.chars().map(|c| if cef::is_unescapable(c) { ' ' } else { c }).collect();
                        let job = parts[6]
                            .split('\t')
                            .find_map(|pair| pair.strip_prefix("jobName="))
                            .map(str::to_owned);
                        prop_assert_eq!(job, Some(spaced));
                    }
                }
            }
        }
    }
}

#[test]
fn an_unknown_code_with_a_line_break_in_its_detail_stays_one_record() {
    // The catalog does not know the code, so IBM's detail text names it: it
    // goes into the CEF and LEEF headers, which cannot escape a line end.
    let mut row = typed(&catalog::PW, "9", 1, &[]);
    if let Some(details) = row.details.as_mut() {
        let at = catalog::PW
            .columns
            .iter()
            .position(|column| column.name == "VIOLATION_TYPE_DETAIL")
            .unwrap();
        details.values[at] = Column::Text("forged\nCEF:0|evil|x|1|2|3|10|".into());
        let code = catalog::PW
            .columns
            .iter()
            .position(|column| column.name == "VIOLATION_TYPE")
            .unwrap();
        details.values[code] = Column::Text("9\r\nX".into());
    }
    let event = Enricher::default().enrich_owned(row);
    for line in [cef::cef(&event, 0), cef::leef(&event, 0)] {
        assert!(!line.contains(['\n', '\r']), "{line:?}");
        assert_eq!(
            line.matches("CEF:0|").count() + line.matches("LEEF:2.0|").count(),
            1,
            "{line:?}"
        );
    }
}

#[test]
fn failed_sign_ons_name_the_profile_that_failed_in_every_format() {
    let row = typed(
        &catalog::PW,
        "P",
        1,
        &[("AUDIT_USER_NAME", Column::Text("VICTIM".into()))],
    );
    let event = Enricher::default().enrich_owned(row);
    assert_eq!(ecs::ecs(&event)["user"]["name"], "VICTIM");
    let (_, extensions) = parse_cef(&cef::cef(&event, 0));
    assert_eq!(extensions["suser"], "VICTIM");
    let (_, attributes) = parse_leef(&cef::leef(&event, 0));
    assert_eq!(attributes["usrName"], "VICTIM");
}

#[test]
fn sequence_numbers_above_two_to_the_63_stay_valid_longs() {
    let mut row = bare(u64::MAX);
    row.entry_type = Some("S".into());
    let event = Enricher::default().enrich_owned(row);
    let document = ecs::ecs(&event);
    assert!(document["event"].get("sequence").is_none(), "{document}");
    let (_, extensions) = parse_cef(&cef::cef(&event, 0));
    assert!(!extensions.contains_key("cn1"));
    assert!(event.event_id.ends_with(&u64::MAX.to_string()));
}

#[test]
fn an_ipv6_source_goes_in_c6a2_not_src() {
    let mut row = bare(3);
    row.entry_type = Some("S".into());
    row.remote_address = Some("2001:db8::7".into());
    let event = Enricher::default().enrich_owned(row);
    let (_, extensions) = parse_cef(&cef::cef(&event, 0));
    assert!(!extensions.contains_key("src"));
    assert_eq!(extensions["c6a2"], "2001:db8::7");
    assert_eq!(extensions["c6a2Label"], "Source IPv6 Address");
}

#[test]
fn every_leef_event_has_its_row_in_the_qradar_map() {
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/qradar/auditfwd-leef-event-map.csv"
    ))
    .unwrap();
    let rows: std::collections::HashSet<(String, String)> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
        })
        .collect();
    let mut missing = std::collections::BTreeSet::new();
    // Codes the catalog does not know cannot be in a fixed map (their ids are
    // IBM's new codes); every known code and detection must be.
    for event in every_kind_of_event()
        .into_iter()
        .filter(|event| !matches!(event.event_action.as_ref(), "audit_entry" | "unknown"))
    {
        let (header, attributes) = parse_leef(&cef::leef(&event, 0));
        let key = (header[4].clone(), attributes["cat"].clone());
        if !rows.contains(&key) {
            missing.insert(key);
        }
    }
    assert!(
        missing.is_empty(),
        "LEEF (event id, cat) pairs without a row: {missing:?}"
    );
}

#[test]
fn ocsf_file_type_is_the_caption_of_its_type_id() {
    let row = typed(
        &catalog::OW,
        "A",
        1,
        &[("OBJECT_TYPE", Column::Text("*PGM".into()))],
    );
    let event = Enricher::default().enrich_owned(row);
    let document = ocsf::ocsf(&event);
    assert_eq!(document["file"]["type_id"], 8, "{document}");
    assert_eq!(document["file"]["type"], "Executable File");
}

#[test]
fn session_events_map_to_ocsf_logon_logoff_and_ecs_session() {
    let events = every_kind_of_event();
    let ended = events
        .iter()
        .find(|event| {
            event
                .session
                .as_ref()
                .is_some_and(|session| session.ended_at.is_some())
        })
        .expect("a session with a known end");
    let session = ended.session.as_ref().unwrap();
    let started_ms = session.started_at.timestamp_millis();
    let ended_ms = session.ended_at.unwrap().timestamp_millis();
    let document = ocsf::ocsf(ended);
    assert_eq!(document["class_uid"], 3002);
    assert_eq!(document["activity_id"], 2, "{document}");
    assert_eq!(document["start_time"], started_ms);
    assert_eq!(document["end_time"], ended_ms);
    assert_eq!(document["duration"], ended_ms - started_ms);
    assert_eq!(document["session"]["uid"], session.id.as_str());
    let document = ecs::ecs(ended);
    assert_eq!(
        document["event"]["category"],
        serde_json::json!(["session"])
    );
    assert_eq!(document["event"]["type"], serde_json::json!(["end"]));
    assert_eq!(
        document["event"]["duration"],
        (session.ended_at.unwrap().timestamp_micros() - session.started_at.timestamp_micros())
            * 1000
    );
    let start = events
        .iter()
        .find(|event| event.event_action == "session_start")
        .unwrap();
    assert_eq!(ocsf::ocsf(start)["activity_id"], 1);
    assert_eq!(
        ecs::ecs(start)["event"]["type"],
        serde_json::json!(["start"])
    );
    assert!(ecs::ecs(start)["event"].get("duration").is_none());
    // An unknown end: no end time and no duration anywhere.
    let unknown = events
        .iter()
        .find(|event| {
            event
                .session
                .as_ref()
                .is_some_and(|session| session.end_reason.is_some() && session.ended_at.is_none())
        })
        .unwrap();
    assert!(ocsf::ocsf(unknown).get("duration").is_none());
    assert!(ecs::ecs(unknown)["event"].get("end").is_none());
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
