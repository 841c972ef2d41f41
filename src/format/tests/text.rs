//! CEF and LEEF parsed back with parsers written here, and hostile input in
//! every format.

use super::*;

// ------------------------------------------------------------ CEF, LEEF

use crate::format::cef::unescape;

/// A CEF line: the seven header fields and the extensions, by the rules of
/// ArcSight's CEF specification (header `|` and `\` escaped; an extension
/// value runs to the space before the next unescaped `key=`).
pub(super) fn parse_cef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
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
pub(super) fn parse_leef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
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
    row.qualified_job_name = Some(format!("123456/{nasty}/QPADEV0001").into());
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
        *field = Some(text.into());
    }
    if spec.is_js() {
        row.entry_type = Some(code.into());
        row.job_type = Some(text.into());
        row.device_name = Some(text.into());
        row.real_user_profile = Some(text.into());
        row.effective_user_profile = Some(text.into());
        return row;
    }
    let values = spec
        .columns
        .iter()
        .map(
            |column| match (Some(column.name) == spec.code_column, column.kind) {
                (true, _) => Column::Text(code.into()),
                (false, Kind::Text) => Column::Text(text.into()),
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
