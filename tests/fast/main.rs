//! The fast tier: checks that need no peer (no lab, broker, rsyslog or HEC
//! stand-in) and finish in seconds: the house rules on the source tree,
//! configuration and its errors, the `enrich` command, the simulator's golden
//! outputs, and the catalog against IBM's documentation. With the library's
//! unit tests it is what `cargo test` runs; the peer tier is `tests/it`
//! (`cargo test --test it`).

mod architecture;
mod arenas;
mod config;
mod enrich_cli;
mod golden;
mod harness_self;
mod plan;
mod reference;

/// The shared harness (the `testkit` crate), under the name the tests use.
mod harness {
    pub(crate) use testkit::*;
}
