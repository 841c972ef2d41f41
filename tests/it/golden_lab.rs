//! The lab's golden native output (generated traffic over several receivers,
//! a deleted receiver, a sequence reset, Rome local time); compared with
//! `testkit::golden`. `AUDITFWD_UPDATE_GOLDEN=1 cargo test --test it
//! golden_lab` accepts a change on purpose.

use crate::harness::golden::check;
use crate::harness::{stderr, ConfigBuilder, Lab, Workspace};

/// The lab: generated traffic over several receivers, one deleted receiver (an
/// audit gap), a sequence reset, own connections excluded, Rome local time.
#[test]
fn lab_native_output_is_unchanged() {
    let lab = Lab::new("golden");
    lab.sql(
        "SELECT lab.generate(6000, 7, TIMESTAMP '2026-10-25 01:30:00', INTERVAL '1 second', 1500)",
    );
    lab.sql(
        "SELECT lab.attach_receiver('AUDRCV0005', 'QGPL', true, TIMESTAMP '2026-10-25 04:00:00')",
    );
    lab.sql(
        "SELECT lab.generate(2000, 8, TIMESTAMP '2026-10-25 04:00:00', INTERVAL '1 second', 1500)",
    );
    lab.sql("SELECT lab.delete_receiver('AUDRCV0002')");
    let workspace = Workspace::new();
    let config = workspace.lab_config(
        &ConfigBuilder::lab(&lab)
            .source("batch_rows = 700")
            .odbc("timezone = \"Europe/Rome\"")
            .every_entry()
            .table("event", "schema_version = 1")
            .file_sink("events.ndjson"),
    );
    let output = workspace.run(&["run", "-c", &config, "--exit-when-caught-up"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    check("lab", &workspace.path("events.ndjson"));
}
