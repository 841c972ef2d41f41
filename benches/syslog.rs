//! Events per second from the simulator through the pipeline into a private
//! rsyslog, over TCP (acknowledged when written) and over RELP (acknowledged when
//! rsyslog answered 200 for every message, several batches in flight on one
//! session), side by side in one run. Each run reads back what rsyslog wrote and
//! checks it is exactly the expected set of event ids. Two figures per run: the
//! pipeline's (until every batch is acknowledged and committed) and until the
//! last line is in rsyslog's file (TCP's acknowledgement says nothing of that).
//!
//!     cargo bench --bench syslog           # BENCH_EVENTS=200000 by default
//!
//! Needs rsyslog, rsyslog-gnutls, rsyslog-relp and openssl (bash .ci/setup).

use testkit::bench as common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use auditfwd::sink::syslog::config::SyslogTransport;
use auditfwd::sink::{SinkConfig, SyslogSinkConfig};
use common::peers::Rsyslog;

struct Run {
    acknowledged: f64,
    written: f64,
    check: String,
}

fn run(events: u64, sink: SyslogSinkConfig, expected: &HashSet<String>) -> Run {
    let rsyslog = Rsyslog::start();
    let dir = tempfile::tempdir().unwrap();
    let listener = match sink.transport {
        SyslogTransport::Relp => "relp",
        _ => "tcp",
    };
    let sink = SinkConfig::Syslog(SyslogSinkConfig {
        address: format!("127.0.0.1:{}", rsyslog.port(listener)),
        ..sink
    });
    let config = common::simulator_into(dir.path(), events, sink);
    let started = Instant::now();
    let outcome = common::run_caught_up(config).expect("pipeline run");
    assert_eq!(outcome, auditfwd::app::Outcome::Drained);
    let acknowledged = started.elapsed();
    common::wait::poll_until(Duration::from_secs(120), || {
        rsyslog.lines(listener) >= events as usize
    });
    let written = started.elapsed();
    let ids = rsyslog.event_ids(listener, events as usize);
    let got: HashSet<&String> = ids.iter().collect();
    let missing = expected.iter().filter(|id| !got.contains(id)).count();
    let unexpected = got.iter().filter(|id| !expected.contains(**id)).count();
    assert!(
        missing == 0 && unexpected == 0,
        "{listener}: {} lines, {missing} expected ids missing, {unexpected} unexpected",
        ids.len()
    );
    Run {
        acknowledged: events as f64 / acknowledged.as_secs_f64(),
        written: events as f64 / written.as_secs_f64(),
        check: format!(
            "{} lines, every expected id, {} repeated",
            ids.len(),
            ids.len() - got.len()
        ),
    }
}

fn main() {
    let events = common::knob("BENCH_EVENTS", 200_000);
    let simulator = auditfwd::source::config::SimulatorConfig {
        events_per_second: 0,
        ..Default::default()
    };
    let enricher = auditfwd::enrich::Enricher::default();
    let expected: HashSet<String> = (0..events)
        .map(|ordinal| {
            enricher
                .enrich(&auditfwd::source::simulator::entry(&simulator, ordinal))
                .event_id
        })
        .collect();
    let defaults = SyslogSinkConfig::default();
    let tcp = run(events, defaults.clone(), &expected);
    let relp = run(
        events,
        SyslogSinkConfig {
            transport: SyslogTransport::Relp,
            ..defaults.clone()
        },
        &expected,
    );
    // The window of one batch at a time, as before batches shared the session.
    let relp_one = run(
        events,
        SyslogSinkConfig {
            transport: SyslogTransport::Relp,
            max_in_flight: 1,
            relp_window: 128,
            ..defaults.clone()
        },
        &expected,
    );
    println!(
        "machine: {} cores (shared); {events} events, batch_rows 1000; RELP max_in_flight {}, relp_window {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        defaults.max_in_flight,
        defaults.relp_window
    );
    for (name, run) in [
        ("TCP", &tcp),
        ("RELP", &relp),
        ("RELP, 1 batch, window 128 (before)", &relp_one),
    ] {
        println!(
            "{name}: {:.0} events/s acknowledged, {:.0} events/s in rsyslog's file; read back: {}",
            run.acknowledged, run.written, run.check
        );
    }
    println!(
        "ratio RELP/TCP: {:.2} acknowledged, {:.2} in the file (target >= 0.50)",
        relp.acknowledged / tcp.acknowledged,
        relp.written / tcp.written
    );
}
