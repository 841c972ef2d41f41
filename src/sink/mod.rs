//! Sinks: where events go. A sink acknowledges a batch by returning `Ok` from
//! [`Sink::deliver`], and only when the batch is durably in the destination's
//! hands (fsync for a file, flush for stdout; broker or indexer acknowledgement
//! for the network sinks). The pipeline retries, dead-letters and commits.
//!
//! Each sink is a folder: `mod.rs` (the sink, implementing [`Component`]) and
//! `config.rs` (its section, with `describe`, `validate` and `load_files`).
//! The set is closed and listed once, in the `sinks!` invocation below: adding
//! a sink is a new folder plus one line there.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Problems;
use crate::event::EventBatch;

pub mod shared;
pub use self::shared::Clients;
pub use crate::background::Spawner;

/// What the pipeline does next with a failed delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Will probably succeed later: retry with backoff.
    Transient,
    /// Will not succeed without an operator: apply `pipeline.on_permanent_error`.
    Permanent,
}

/// A failed delivery. The message names the destination and, for permanent
/// errors, the remedy; it never contains a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError {
    /// Retry, or apply the permanent-error policy.
    pub kind: ErrorKind,
    /// What failed, naming the destination (and the remedy when permanent); no secret.
    pub message: String,
    /// The peer asked to wait at least this long (HTTP Retry-After).
    pub retry_after: Option<std::time::Duration>,
}

impl SinkError {
    /// A failure that will probably pass: retried with backoff.
    pub fn transient(message: impl Into<String>) -> SinkError {
        SinkError {
            kind: ErrorKind::Transient,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A failure that needs an operator: `pipeline.on_permanent_error` decides.
    pub fn permanent(message: impl Into<String>) -> SinkError {
        SinkError {
            kind: ErrorKind::Permanent,
            message: message.into(),
            retry_after: None,
        }
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}

/// A delivery handed to the peer, waiting for its acknowledgement. It owns what
/// it needs (never the sink), so a sink task can start the next batch while
/// earlier ones wait: that is how a sink keeps several batches in flight.
pub type Pending = Pin<Box<dyn Future<Output = Result<(), SinkError>> + Send>>;

/// A batch as a sink sends it: the request bodies (compressed when the sink
/// compresses), kept instead of the events until the peer acknowledges them.
/// A sink that resends from these lets the pipeline release the batch's events
/// once it is encoded, so a batch waiting for a late acknowledgement costs its
/// compressed bytes (about 0.2 KB an event), not its events (about 1.2 KB).
#[derive(Debug)]
pub struct Encoded {
    /// The batch's position in the run's stream ([`EventBatch::id`]).
    pub id: u64,
    /// Events in the batch.
    pub events: usize,
    /// What goes on the wire, in order; cheap to clone for a resend.
    pub bodies: Vec<bytes::Bytes>,
}

impl Encoded {
    /// `send` of an encoded batch to a sink that sends events: a bug.
    pub(crate) fn not_for_this_sink(id: u64) -> SinkError {
        SinkError::permanent(format!(
            "internal: batch {id} was encoded for a sink that sends events"
        ))
    }
}

/// What every sink provides; the `sinks!` list dispatches to it.
pub(crate) trait Component: Sized {
    type Config;
    /// Builds the sink, taking a heavy client from `clients` when another
    /// system's sink already made the same one, and starting its background
    /// work (a task, a thread) only through `spawner`, under the run's
    /// supervisor; fails only on local set-up problems, which are permanent.
    fn build(
        config: &Self::Config,
        clients: &Clients,
        spawner: &Spawner,
    ) -> Result<Self, SinkError>;
    /// Start-up check, before the journal is read.
    async fn check(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    /// Delivers every event of a non-empty batch; `Ok` is the acknowledgement.
    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError>;
    /// Starts delivering a non-empty batch; the returned [`Pending`] completes
    /// with the acknowledgement. Sinks whose peer acknowledges late (Kafka,
    /// Splunk HEC) return as soon as the batch is handed over; the default
    /// delivers to the end first, one batch at a time.
    async fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError> {
        let result = self.deliver(batch).await;
        Ok(Box::pin(std::future::ready(result)))
    }
    /// Sinks that send and resend bytes (Splunk HEC): encodes a non-empty
    /// batch once. `None`: the sink sends from the events (`start`), and the
    /// pipeline keeps them until the acknowledgement.
    fn encode(&mut self, _batch: &EventBatch) -> Option<Result<Encoded, SinkError>> {
        None
    }
    /// Sends what `encode` made; the returned [`Pending`] completes with the
    /// acknowledgement. Called only on sinks whose `encode` returns `Some`.
    async fn send(&mut self, encoded: &Encoded) -> Result<Pending, SinkError> {
        Err(Encoded::not_for_this_sink(encoded.id))
    }
    /// Hands over what a client library still buffers. Blocking.
    fn shutdown(&self, _grace: Duration) {}
}

/// Declares the sink modules and the closed `SinkConfig` and `Sink` enums.
macro_rules! sinks {
    ($($variant:ident => $module:ident :: { $config:ident, $sink:ident },)*) => {
        $(pub mod $module;)*
        $(pub use self::$module::config::$config; pub use self::$module::$sink;)*

        /// One destination, chosen by `type`.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum SinkConfig {
            $(
                /// The section of the sink whose `type` is the variant's name in snake case.
                $variant($config),
            )*
        }

        impl SinkConfig {
            /// The error of one `[[sinks]]` entry as its own type's section
            /// gives it, naming the field (serde reads a tagged entry whole,
            /// so its error names only `sinks.N`); `None` when the entry's
            /// `type` is missing or unknown, or the section reads alone.
            pub fn explain(entry: &figment::value::Value) -> Option<figment::Error> {
                match entry.find_ref("type")?.as_str()? {
                    $(stringify!($module) => entry.deserialize::<$config>().err(),)*
                    _ => None,
                }
            }

            /// Short name for logs: "file:/var/log/x.ndjson", "stdout".
            pub fn describe(&self) -> String {
                match self {
                    $(SinkConfig::$variant(config) => config.describe(),)*
                }
            }

            /// `key` is "sinks[N]".
            pub fn validate(&self, key: &str, problems: &mut Problems) {
                match self {
                    $(SinkConfig::$variant(config) => config.validate(key, problems),)*
                }
            }

            /// Batches this sink may have sent and not yet acknowledged.
            pub fn max_in_flight(&self) -> usize {
                match self {
                    $(SinkConfig::$variant(config) => config.max_in_flight(),)*
                }
            }

            /// Reads and checks the files the sink names (secrets, CA, keys).
            pub fn load_files(&mut self, key: &str, problems: &mut Problems) {
                match self {
                    $(SinkConfig::$variant(config) => config.load_files(key, problems),)*
                }
            }
        }

        /// The closed set of sinks.
        pub enum Sink {
            $(
                /// A built sink of that type.
                $variant(Box<$sink>),
            )*
        }

        impl Sink {
            /// Builds a sink (its client shared through `clients`, its
            /// background work started through `spawner`); fails only on
            /// local set-up problems, which are permanent.
            pub fn build(
                config: &SinkConfig,
                clients: &Clients,
                spawner: &Spawner,
            ) -> Result<Sink, SinkError> {
                Ok(match config {
                    $(SinkConfig::$variant(config) => Sink::$variant(Box::new(
                        <$sink as Component>::build(config, clients, spawner)?,
                    )),)*
                })
            }

            /// Start-up check, before the journal is read.
            pub async fn check(&mut self) -> Result<(), SinkError> {
                match self {
                    $(Sink::$variant(sink) => Component::check(sink.as_mut()).await,)*
                }
            }

            /// Hands over what a client library still buffers. Blocking.
            pub fn shutdown(&self, grace: Duration) {
                match self {
                    $(Sink::$variant(sink) => Component::shutdown(sink.as_ref(), grace),)*
                }
            }

            /// Starts delivering the batch; the [`Pending`] is the acknowledgement.
            pub async fn start(&mut self, batch: &EventBatch) -> Result<Pending, SinkError> {
                if batch.events.is_empty() {
                    return Ok(Box::pin(std::future::ready(Ok(()))));
                }
                match self {
                    $(Sink::$variant(sink) => Component::start(sink.as_mut(), batch).await,)*
                }
            }

            /// Encodes the batch once for sending and resending, if the sink
            /// resends bytes rather than events (see [`Encoded`]).
            pub fn encode(&mut self, batch: &EventBatch) -> Option<Result<Encoded, SinkError>> {
                if batch.events.is_empty() {
                    return None;
                }
                match self {
                    $(Sink::$variant(sink) => Component::encode(sink.as_mut(), batch),)*
                }
            }

            /// Sends an encoded batch; the [`Pending`] is the acknowledgement.
            pub async fn send(&mut self, encoded: &Encoded) -> Result<Pending, SinkError> {
                match self {
                    $(Sink::$variant(sink) => Component::send(sink.as_mut(), encoded).await,)*
                }
            }

            /// Delivers every event of the batch; `Ok` is the acknowledgement.
            pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
                if batch.events.is_empty() {
                    return Ok(());
                }
                match self {
                    $(Sink::$variant(sink) => Component::deliver(sink.as_mut(), batch).await,)*
                }
            }
        }
    };
}

sinks! {
    File => file::{ FileSinkConfig, FileSink },
    Stdout => stdout::{ StdoutSinkConfig, StdoutSink },
    SplunkHec => splunk_hec::{ SplunkHecSinkConfig, HecSink },
    Syslog => syslog::{ SyslogSinkConfig, SyslogSink },
    Kafka => kafka::{ KafkaSinkConfig, KafkaSink },
}
