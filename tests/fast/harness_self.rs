//! The harness's own rules.

use crate::harness::{free_port, ConfigBuilder};

#[test]
fn free_port_never_repeats() {
    let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
    let unique: std::collections::HashSet<_> = ports.iter().collect();
    assert_eq!(unique.len(), ports.len());
}

#[test]
fn later_lines_replace_a_key_and_tables_keep_their_order() {
    let text = ConfigBuilder::simulator(10, 0)
        .source("batch_rows = 5")
        .pipeline("retry_max_backoff = \"1s\"")
        .pipeline("retry_max_backoff = \"2s\"\nshutdown_grace = \"1s\"")
        .file_sink("events.ndjson")
        .to_toml();
    assert_eq!(
        text,
        "[source]\nbatch_rows = 5\n[source.simulator]\ntotal_events = 10\nevents_per_second = 0\nstart_timestamp = \"2026-01-05T08:00:00\"\n\
         [filter]\nentry_types = []\nexclude_users = []\n[sessions]\nenabled = false\n[state]\ndir = \"data\"\n\
         [pipeline]\nretry_max_backoff = \"2s\"\nshutdown_grace = \"1s\"\n\
         [[sinks]]\ntype = \"file\"\npath = \"events.ndjson\"\n"
    );
}
