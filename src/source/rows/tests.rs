use super::*;
use chrono::NaiveDate;

fn local(text: &str) -> NaiveDateTime {
    parse_local_timestamp(text).unwrap()
}

#[test]
fn timestamps_in_every_printed_form() {
    let expected = NaiveDate::from_ymd_opt(2026, 4, 8)
        .unwrap()
        .and_hms_micro_opt(10, 15, 30, 123_456)
        .unwrap();
    for text in [
        "2026-04-08-10.15.30.123456",
        "2026-04-08 10:15:30.123456",
        "2026-04-08T10:15:30.123456",
        "2026-04-08T10:15:30.123456789012",
        " 2026-04-08 10:15:30.123456 ",
    ] {
        assert_eq!(parse_local_timestamp(text), Some(expected), "{text}");
    }
    assert_eq!(
        local("2026-04-08 10:15:30"),
        expected - Duration::microseconds(123_456)
    );
    assert_eq!(
        local("2026-04-08 10:15:30.5")
            .and_utc()
            .timestamp_subsec_micros(),
        500_000
    );
    for bad in [
        "",
        "yesterday",
        "2026-13-08 10:15:30",
        "2026-04-08 10:15:30.12x",
    ] {
        assert_eq!(parse_local_timestamp(bad), None, "{bad}");
    }
}

#[test]
fn clean_trims_padding_and_empties() {
    assert_eq!(clean(Some("QSECOFR   ")), Some("QSECOFR".into()));
    assert_eq!(clean(Some("   ")), None);
    assert_eq!(clean(Some("")), None);
    assert_eq!(clean(Some("AB\0\0")), Some("AB".into()));
    assert_eq!(clean(None), None);
}

#[test]
fn numbers_as_drivers_print_them() {
    assert_eq!(parse_unsigned("18446744073709551615"), Some(u64::MAX));
    assert_eq!(parse_unsigned("42."), Some(42));
    assert_eq!(parse_unsigned("42.000"), Some(42));
    assert_eq!(parse_unsigned("+7"), Some(7));
    assert_eq!(parse_unsigned("42.5"), None);
    assert_eq!(parse_unsigned("-1"), None);
    assert_eq!(parse_unsigned("18446744073709551616"), None);
}

#[test]
fn dst_fall_back_hour_resolves_in_journal_order() {
    // Europe/Rome leaves CEST (UTC+2) for CET (UTC+1) at 03:00 local on 2026-10-25.
    let mut clock = LocalClock::new("Europe/Rome".parse().unwrap());
    let utc =
        |clock: &mut LocalClock, text: &str| crate::event::format_utc(&clock.to_utc(&local(text)));
    assert_eq!(
        utc(&mut clock, "2026-10-25 01:59:00"),
        "2026-10-24T23:59:00.000000Z"
    );
    assert_eq!(
        utc(&mut clock, "2026-10-25 02:30:00"),
        "2026-10-25T00:30:00.000000Z"
    );
    assert_eq!(
        utc(&mut clock, "2026-10-25 02:59:59"),
        "2026-10-25T00:59:59.000000Z"
    );
    // The clock goes back: the same local times again, one hour later in UTC.
    assert_eq!(
        utc(&mut clock, "2026-10-25 02:00:01"),
        "2026-10-25T01:00:01.000000Z"
    );
    assert_eq!(
        utc(&mut clock, "2026-10-25 02:30:00"),
        "2026-10-25T01:30:00.000000Z"
    );
    assert_eq!(
        utc(&mut clock, "2026-10-25 03:00:00"),
        "2026-10-25T02:00:00.000000Z"
    );
    // Spring forward: 02:30 does not exist on 2026-03-29; read with the offset before.
    let mut clock = LocalClock::new("Europe/Rome".parse().unwrap());
    assert_eq!(
        utc(&mut clock, "2026-03-29 02:30:00"),
        "2026-03-29T01:30:00.000000Z"
    );
}

fn raw(pairs: &[(&str, Option<&str>)]) -> RawRow {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.map(String::from)))
        .collect()
}

#[test]
fn journal_row_normalises_and_names_what_is_missing() {
    let mut clock = LocalClock::utc();
    let base = [
        ("ENTRY_TIMESTAMP", Some("2026-04-08-10.15.30.000001")),
        ("SEQUENCE_NUMBER", Some("18446744073709551615")),
        ("SYSTEM_NAME", Some("PROD1   ")),
        ("RECEIVER_LIBRARY", Some("QGPL      ")),
        ("RECEIVER_NAME", Some("AUDRCV0042")),
        ("ENTRY_TYPE", Some("S")),
        ("REMOTE_ADDRESS", Some("")),
        ("REMOTE_PORT", Some("  ")),
        ("REAL_USER_PROFILE", Some("qsecofr   ")),
    ];
    let row = journal_row(&raw(&base), &mut clock).unwrap();
    assert_eq!(row.event_id(), "PROD1:QGPL/AUDRCV0042:18446744073709551615");
    assert_eq!(row.remote_address, None);
    assert_eq!(row.remote_port, None);
    assert_eq!(row.real_user_profile.as_deref(), Some("qsecofr"));

    let mut missing = raw(&base);
    missing.insert("SEQUENCE_NUMBER".into(), None);
    assert_eq!(
        journal_row(&missing, &mut clock),
        Err(RowError::Missing("SEQUENCE_NUMBER"))
    );
    let mut bad_port = raw(&base);
    bad_port.insert("REMOTE_PORT".into(), Some("http".into()));
    assert!(matches!(
        journal_row(&bad_port, &mut clock),
        Err(RowError::Invalid {
            column: "REMOTE_PORT",
            ..
        })
    ));
}

#[test]
fn reader_takes_json_lines_and_csv() {
    let json = "\n{\"ENTRY_TYPE\":\"S\",\"sequence_number\":5,\"REMOTE_ADDRESS\":null}\n\n[1]\n";
    let rows: Vec<_> = RowReader::new(json.as_bytes()).unwrap().collect();
    assert_eq!(rows.len(), 2);
    let InputRow { line, row, .. } = rows[0].as_ref().unwrap();
    assert_eq!(*line, 2);
    assert_eq!(row["SEQUENCE_NUMBER"].as_deref(), Some("5"));
    assert_eq!(row["REMOTE_ADDRESS"], None);
    assert_eq!(rows[1].as_ref().unwrap_err().line, 4);

    let csv = "\u{feff}entry_type,SEQUENCE_NUMBER,JOB_NAME\nS,5,\"QZDAS,OINIT\"\nE,6,X\n";
    let rows: Vec<_> = RowReader::new(csv.as_bytes())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].row["ENTRY_TYPE"].as_deref(), Some("S"));
    assert_eq!(rows[0].row["JOB_NAME"].as_deref(), Some("QZDAS,OINIT"));
    assert_eq!(rows[1].line, 3);
}

#[test]
fn a_json_array_is_named_not_read_as_an_empty_csv() {
    let error = RowReader::new(&b"[{\"SEQUENCE_NUMBER\":1},{\"SEQUENCE_NUMBER\":2}]\n"[..])
        .err()
        .expect("refused");
    assert!(error.message.contains("JSON array"), "{}", error.message);
}

#[test]
fn reader_reads_a_bom_prefixed_json_lines_file_as_json() {
    let json = "\u{feff}{\"SEQUENCE_NUMBER\":1}\n{\"SEQUENCE_NUMBER\":2}\n";
    let rows: Vec<_> = RowReader::new(json.as_bytes())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let sequences: Vec<_> = rows
        .iter()
        .map(|row| (row.line, row.row["SEQUENCE_NUMBER"].clone()))
        .collect();
    assert_eq!(
        sequences,
        [(1, Some("1".to_owned())), (2, Some("2".to_owned()))]
    );
}

#[test]
fn reader_keeps_a_row_with_a_non_utf8_byte_and_says_so() {
    let mut json = b"{\"JOB_NAME\":\"QZDAS".to_vec();
    json.push(0xFF);
    json.extend_from_slice(b"INIT\",\"SEQUENCE_NUMBER\":7}\r\n{\"SEQUENCE_NUMBER\":8}\n");
    let rows: Vec<_> = RowReader::new(&json[..])
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].replaced_invalid_utf8);
    assert_eq!(
        rows[0].row["JOB_NAME"].as_deref(),
        Some("QZDAS\u{fffd}INIT")
    );
    assert!(!rows[1].replaced_invalid_utf8);

    let mut csv = b"JOB_NAME,SEQUENCE_NUMBER\nQZ".to_vec();
    csv.push(0xC3);
    csv.extend_from_slice(b"X,7\nOK,8\n");
    let rows: Vec<_> = RowReader::new(&csv[..])
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].replaced_invalid_utf8);
    assert_eq!(rows[0].row["JOB_NAME"].as_deref(), Some("QZ\u{fffd}X"));
}

#[test]
fn an_overlong_line_is_an_error_naming_it_and_the_next_rows_still_come() {
    let long = format!("{{\"JOB_NAME\":\"{}\"}}", "A".repeat(MAX_LINE_BYTES));
    let json = format!("{{\"SEQUENCE_NUMBER\":1}}\n{long}\n{{\"SEQUENCE_NUMBER\":3}}\n");
    let rows: Vec<_> = RowReader::new(json.as_bytes()).unwrap().collect();
    assert_eq!(rows.len(), 3);
    let error = rows[1].as_ref().unwrap_err();
    assert_eq!(error.line, 2);
    assert!(error.to_string().contains("longer than"), "{error}");
    assert_eq!(rows[2].as_ref().unwrap().line, 3);

    let csv = format!(
        "JOB_NAME,SEQUENCE_NUMBER\nA,1\n{},2\nB,3\n",
        "A".repeat(MAX_LINE_BYTES + 1)
    );
    let rows: Vec<_> = RowReader::new(csv.as_bytes()).unwrap().collect();
    assert!(rows[0].is_ok());
    let error = rows.last().unwrap().as_ref().unwrap_err();
    assert_eq!(error.line, 3, "{error}");
    assert!(error.to_string().contains("longer than"), "{error}");
}

mod properties {
    use super::super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn timestamp_parser_never_panics(text in "\\PC{0,40}") {
            let _ = parse_local_timestamp(&text);
        }

        #[test]
        fn timestamp_parser_reads_every_printed_form_back(
            days in 0i64..200_000, micros_of_day in 0i64..86_400_000_000, form in 0usize..3,
        ) {
            let date = chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + Duration::days(days);
            let time = date.and_hms_opt(0, 0, 0).unwrap() + Duration::microseconds(micros_of_day);
            let format = ["%Y-%m-%d-%H.%M.%S%.6f", "%Y-%m-%d %H:%M:%S%.6f", "%Y-%m-%dT%H:%M:%S%.6f"][form];
            let text = time.format(format).to_string();
            prop_assert_eq!(parse_local_timestamp(&text), Some(time), "{}", text);
        }

        #[test]
        fn row_parser_never_panics_and_keeps_the_event_id_columns(
            columns in proptest::collection::hash_map(
                proptest::sample::select(vec!["ENTRY_TIMESTAMP", "SEQUENCE_NUMBER", "SYSTEM_NAME", "RECEIVER_LIBRARY", "RECEIVER_NAME", "REMOTE_PORT", "USER_NAME"]),
                proptest::option::of("\\PC{0,30}"),
                0..8,
            ),
        ) {
            let raw: RawRow = columns.into_iter().map(|(key, value)| (key.to_owned(), value)).collect();
            if let Ok(row) = journal_row(&raw, &mut LocalClock::utc()) {
                prop_assert_eq!(Some(row.system_name.as_str()), raw["SYSTEM_NAME"].as_deref().map(|text| text.trim_end_matches([' ', '\0'])));
            }
        }

        /// Whatever the bytes, the reader never panics, and every non-blank
        /// line of a JSON-lines input gives exactly one row or one error.
        #[test]
        fn reader_accounts_for_every_json_line(lines in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no newline", |byte| *byte != b'\n'), 0..40), 1..12)) {
            let mut input = b"{}\n".to_vec();
            for line in &lines {
                input.extend_from_slice(line);
                input.push(b'\n');
            }
            let items: Vec<_> = RowReader::new(&input[..]).unwrap().collect();
            let expected = 1 + lines
                .iter()
                .filter(|line| !String::from_utf8_lossy(line).trim().is_empty())
                .count();
            prop_assert_eq!(items.len(), expected);
        }

        #[test]
        fn reader_never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(reader) = RowReader::new(&bytes[..]) {
                for item in reader.take(1000) {
                    let _ = item;
                }
            }
        }
    }
}

/// A row whose columns in `typed` come typed, as the ODBC reader binds them.
struct TypedRow {
    text: RawRow,
    typed: HashMap<&'static str, Typed>,
}

impl Columns for TypedRow {
    fn text(&self, column: &str) -> Option<Cow<'_, str>> {
        self.text.text(column)
    }

    fn typed(&self, column: &str) -> Option<Typed> {
        self.typed.get(column).cloned()
    }
}

#[test]
fn typed_columns_give_the_fields_and_errors_their_text_gives() {
    let mut clock = LocalClock::utc();
    let text = raw(&[
        ("ENTRY_TIMESTAMP", Some("2026-04-08 10:15:30.000001")),
        ("SEQUENCE_NUMBER", Some("42")),
        ("SYSTEM_NAME", Some("PROD1   ")),
        ("RECEIVER_LIBRARY", Some("QGPL      ")),
        ("RECEIVER_NAME", Some("AUDRCV0042")),
        ("REMOTE_PORT", Some("50000")),
    ]);
    let local = NaiveDate::from_ymd_opt(2026, 4, 8)
        .unwrap()
        .and_hms_micro_opt(10, 15, 30, 1)
        .unwrap();
    let typed = |changes: &[(&'static str, Typed)]| {
        let mut typed: HashMap<&'static str, Typed> = [
            ("ENTRY_TIMESTAMP", Typed::Timestamp(Ok(local))),
            ("SEQUENCE_NUMBER", Typed::Integer(42)),
            ("REMOTE_PORT", Typed::Integer(50_000)),
        ]
        .into_iter()
        .collect();
        typed.extend(changes.iter().cloned());
        // The text of the typed columns is never read.
        let mut text = text.clone();
        for column in typed.keys() {
            text.insert((*column).to_owned(), Some("not read".into()));
        }
        TypedRow { text, typed }
    };
    assert_eq!(
        journal_row(&typed(&[]), &mut clock),
        journal_row(&text, &mut clock)
    );
    let invalid = |column, value: &str| {
        Err(RowError::Invalid {
            column,
            value: value.into(),
            expected: match column {
                "SEQUENCE_NUMBER" => "a whole number from 0 to 18446744073709551615",
                "REMOTE_PORT" => "a port number",
                _ => "a timestamp like 2026-04-08-10.15.30.123456",
            },
        })
    };
    let cases = [
        (
            ("SEQUENCE_NUMBER", Typed::Integer(-1)),
            invalid("SEQUENCE_NUMBER", "-1"),
        ),
        (
            ("SEQUENCE_NUMBER", Typed::Null),
            Err(RowError::Missing("SEQUENCE_NUMBER")),
        ),
        (
            ("REMOTE_PORT", Typed::Integer(-1)),
            invalid("REMOTE_PORT", "-1"),
        ),
        (
            ("ENTRY_TIMESTAMP", Typed::Null),
            Err(RowError::Missing("ENTRY_TIMESTAMP")),
        ),
        (
            (
                "ENTRY_TIMESTAMP",
                Typed::Timestamp(Err("2026-04-08 24:00:00.000000000".into())),
            ),
            invalid("ENTRY_TIMESTAMP", "2026-04-08 24:00:00.000000000"),
        ),
    ];
    for (change, expected) in cases {
        let what = format!("{change:?}");
        assert_eq!(
            journal_row(&typed(&[change]), &mut clock).map(|row| row.sequence_number),
            expected,
            "{what}"
        );
    }
    let no_port = journal_row(&typed(&[("REMOTE_PORT", Typed::Null)]), &mut clock).unwrap();
    assert_eq!(no_port.remote_port, None);
}
