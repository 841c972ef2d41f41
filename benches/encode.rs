//! What one event costs per format: enrich + encode of a fixed set of
//! 100,000 events of every audit type (the simulator's stream with all
//! eleven types, sessions and burst signals included), on one core, each
//! format side by side in one run. Prints events per second per core and
//! bytes per event; the ratio to native is the figure to watch.
//!
//!     cargo bench --bench encode          # AUDITFWD_BENCH_EVENTS=100000

use std::time::Instant;

use auditfwd::enrich::burst::BurstDetector;
use auditfwd::enrich::config::{BurstConfig, SessionsConfig};
use auditfwd::enrich::sessions::SessionTracker;
use auditfwd::enrich::Enricher;
use auditfwd::event::audit::TypeSpec;
use auditfwd::event::JournalRow;
use auditfwd::format::Format;
use auditfwd::source::config::SimulatorConfig;
use auditfwd::source::simulator::Simulator;

fn rows(count: usize) -> Vec<JournalRow> {
    let types: Vec<&'static TypeSpec> = auditfwd::event::audit::catalog::ALL
        .iter()
        .copied()
        .filter(|spec| !spec.is_js())
        .collect();
    let config = SimulatorConfig {
        total_events: 0,
        events_per_second: 0,
        start_timestamp: auditfwd::source::config::SimulatorStart::At(
            "2026-01-05T08:00:00".parse().expect("a valid time"),
        ),
        ..SimulatorConfig::default()
    };
    let mut simulator = Simulator::new(config, &types, None).expect("simulator");
    let mut rows = Vec::with_capacity(count);
    while rows.len() < count {
        let batch = simulator.poll(count - rows.len());
        rows.extend(batch);
    }
    rows.truncate(count);
    rows
}

/// The pipeline's events for `rows`: every entry enriched, then its signal
/// and session events.
fn events(rows: &[JournalRow], enricher: &Enricher) -> Vec<auditfwd::event::Event> {
    let mut burst = BurstDetector::new(&BurstConfig::default(), None);
    let mut sessions = SessionTracker::new(&SessionsConfig::default());
    let mut events = Vec::with_capacity(rows.len() * 2);
    for row in rows {
        let derived = sessions.observe(row, enricher);
        let event = enricher.enrich(row);
        let signals = burst.observe(&event);
        events.push(event);
        events.extend(signals);
        events.extend(derived);
    }
    events
}

fn main() {
    let count: usize = std::env::var("AUDITFWD_BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(100_000);
    let enricher = Enricher::default();
    let input = rows(count);
    // Enrichment alone, the part every format shares.
    let started = Instant::now();
    let events = events(&input, &enricher);
    let enrich_seconds = started.elapsed().as_secs_f64();
    println!(
        "encode bench: {count} entries of every type → {} events; enrich {:.0} entries/s",
        events.len(),
        count as f64 / enrich_seconds
    );
    // AUDITFWD_BENCH_FORMATS=ecs,ocsf to time only those (native is the baseline).
    let only = std::env::var("AUDITFWD_BENCH_FORMATS").unwrap_or_default();
    // AUDITFWD_BENCH_ROUNDS=n (default 2); the summary gives each format's
    // best round, the figure least disturbed by whatever else shares the core.
    let rounds: usize = std::env::var("AUDITFWD_BENCH_ROUNDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2);
    let mut best: Vec<(Format, f64)> = Vec::new();
    let mut native_rate = 0.0;
    for round in 0..rounds {
        for format in Format::ALL.iter().filter(|format| {
            only.is_empty()
                || **format == Format::Native
                || only.contains(&format!("{format:?}").to_lowercase())
        }) {
            let started = Instant::now();
            let mut out = Vec::with_capacity(4 << 20);
            let mut bytes = 0usize;
            for event in &events {
                auditfwd::format::write(event, *format, &mut out);
                out.push(b'\n');
                if out.len() > 4 << 20 {
                    bytes += out.len();
                    out.clear();
                }
            }
            bytes += out.len();
            let seconds = started.elapsed().as_secs_f64();
            let rate = events.len() as f64 / seconds;
            if *format == Format::Native {
                native_rate = rate;
            }
            match best.iter_mut().find(|(known, _)| known == format) {
                Some((_, top)) => *top = top.max(rate),
                None => best.push((*format, rate)),
            }
            println!(
                "round {round} {:<6} {rate:>10.0} events/s per core, {:>5} bytes/event, {:.2} x native",
                format!("{format:?}").to_lowercase(),
                bytes / events.len().max(1),
                rate / native_rate
            );
        }
    }
    let native_best = best
        .iter()
        .find(|(format, _)| *format == Format::Native)
        .map_or(1.0, |(_, rate)| *rate);
    for (format, rate) in &best {
        println!(
            "best of {rounds} {:<6} {rate:>10.0} events/s per core, {:.2} x native",
            format!("{format:?}").to_lowercase(),
            rate / native_best
        );
    }
}
