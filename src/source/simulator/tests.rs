use super::*;

fn config() -> SimulatorConfig {
    SimulatorConfig {
        total_events: 0,
        events_per_second: 0,
        start_timestamp: SimulatorStart::At("2026-01-05T08:00:00".parse().expect("a valid time")),
        ..SimulatorConfig::default()
    }
}

#[test]
fn cursor_maps_back_to_its_ordinal_across_receivers_and_resets() {
    let config = config();
    for ordinal in [0, 1, 1999, 2000, 5999, 6000, 6001, 19_999, 20_000, 123_456] {
        let row = entry(&config, ordinal);
        let cursor = Cursor::of(&row);
        assert_eq!(
            position_of(&config, &cursor).unwrap().0,
            ordinal,
            "{cursor}"
        );
    }
}

#[test]
fn sequence_rises_within_a_chain_and_resets_at_an_ipl() {
    let config = config();
    let rows: Vec<_> = (0..8 * ENTRIES_PER_RECEIVER)
        .map(|n| entry(&config, n))
        .collect();
    let mut resets = Vec::new();
    for pair in rows.windows(2) {
        if pair[1].sequence_number <= pair[0].sequence_number {
            assert_ne!(
                pair[0].receiver_name, pair[1].receiver_name,
                "reset inside a receiver"
            );
            resets.push(pair[1].receiver_name.clone());
        }
    }
    assert_eq!(resets, vec!["AUDRCV0004".to_string()]);
    assert!(rows[3 * ENTRIES_PER_RECEIVER as usize].sequence_number < 10);
}

#[test]
fn same_seed_same_stream_other_seed_other_stream() {
    let config = config();
    let other = SimulatorConfig {
        seed: 2,
        ..config.clone()
    };
    let first: Vec<_> = (0..300).map(|n| entry(&config, n)).collect();
    let again: Vec<_> = (0..300).map(|n| entry(&config, n)).collect();
    let different: Vec<_> = (0..300).map(|n| entry(&other, n)).collect();
    assert_eq!(first, again);
    assert_ne!(first, different);
}

#[test]
fn resumes_after_the_cursor() {
    let config = SimulatorConfig {
        total_events: 10,
        ..config()
    };
    let mut simulator = Simulator::new(config.clone(), &[], None).unwrap();
    let first = simulator.poll(4);
    let mut resumed = Simulator::new(config, &[], Some(&Cursor::of(&first[3]))).unwrap();
    let rest = resumed.poll(100);
    assert_eq!(rest.len(), 6);
    assert_eq!(
        rest[0].sequence_number,
        entry(&resumed.config, 4).sequence_number
    );
    assert!(resumed.exhausted());
}

/// With every type: the stream carries them all in sequence order, is the
/// same for the same seed, and resumes exactly after any cursor, a typed
/// entry's included.
#[test]
fn every_type_in_order_and_exact_resume_after_any_entry() {
    let types = crate::event::audit::catalog::ALL.to_vec();
    let config = SimulatorConfig {
        total_events: 3000,
        ..config()
    };
    let all: Vec<JournalRow> = Simulator::new(config.clone(), &types, None)
        .unwrap()
        .poll(10_000);
    assert!(all.len() > 3000, "{}", all.len());
    let kinds: std::collections::HashSet<&str> = all
        .iter()
        .filter_map(|row| row.details.as_ref().map(|details| details.spec.code))
        .collect();
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    for pair in all.windows(2) {
        if pair[0].receiver_name == pair[1].receiver_name {
            assert!(pair[0].sequence_number < pair[1].sequence_number);
        }
    }
    let again: Vec<JournalRow> = Simulator::new(config.clone(), &types, None)
        .unwrap()
        .poll(10_000);
    assert_eq!(again, all);
    for cut in [0, 1, 2, 3, 17, 1000, all.len() - 2] {
        let mut resumed =
            Simulator::new(config.clone(), &types, Some(&Cursor::of(&all[cut]))).unwrap();
        let mut rest = Vec::new();
        loop {
            let rows = resumed.poll(7);
            if rows.is_empty() {
                break;
            }
            assert!(rows.len() <= 7);
            rest.extend(rows);
        }
        assert_eq!(rest, all[cut + 1..].to_vec(), "resume after entry {cut}");
    }
    // A brute-force burst is in the stream.
    let burst = all
        .iter()
        .filter(|row| {
            row.details
                .as_ref()
                .is_some_and(|details| details.target_user() == Some("PAYADMIN"))
        })
        .count();
    assert!(burst >= 6, "{burst}");
}

#[test]
fn the_default_clock_starts_now_and_a_resumed_run_continues_it() {
    let now = SimulatorConfig {
        start_timestamp: SimulatorStart::Now,
        ..config()
    };
    let types: Vec<&'static TypeSpec> = crate::event::audit::catalog::ALL.to_vec();
    let before = Utc::now().naive_utc();
    let mut first = Simulator::new(now.clone(), &types, None).expect("simulator");
    let rows = first.poll(500);
    let after = Utc::now().naive_utc();
    let start = rows[0].entry_timestamp_local;
    assert!(
        start >= before - Duration::seconds(1) && start <= after,
        "the first entry is at {start}, not between {before} and {after}"
    );
    // A restart after entry 321 (seconds or hours later) gives the entries an
    // unbroken run gives: same sequence numbers, same times.
    let cursor = Cursor::of(&rows[321]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut resumed = Simulator::new(now, &types, Some(&cursor)).expect("resumed");
    let again = resumed.poll(100);
    let expected = &rows[322..422];
    assert_eq!(
        again
            .iter()
            .map(|row| (row.sequence_number, row.entry_timestamp_local))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|row| (row.sequence_number, row.entry_timestamp_local))
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_start_reads_now_or_a_local_time_and_names_a_bad_value() {
    let read = |text: &str| toml::from_str::<SimulatorConfig>(&format!("start_timestamp = {text}"));
    assert_eq!(
        read("\"now\"").unwrap().start_timestamp,
        SimulatorStart::Now
    );
    assert_eq!(
        read("\"2026-01-05T08:00:00\"").unwrap().start_timestamp,
        SimulatorStart::At("2026-01-05T08:00:00".parse().unwrap())
    );
    let error = read("\"yesterday\"").unwrap_err().to_string();
    assert!(
        error.contains("yesterday") && error.contains("now"),
        "{error}"
    );
    assert_eq!(
        SimulatorConfig::default().start_timestamp,
        SimulatorStart::Now
    );
}
