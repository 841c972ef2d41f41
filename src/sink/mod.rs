//! Sinks: where events go. A sink acknowledges a batch by returning `Ok` from
//! [`Sink::deliver`], and only when the batch is durably in the destination's
//! hands (fsync for a file, flush for stdout; broker or indexer acknowledgement
//! for the network sinks). The pipeline retries, dead-letters and commits.

mod file;
mod kafka;
mod splunk_hec;
mod stdout;
pub mod syslog;

use std::fmt;

use crate::config::SinkConfig;
use crate::event::EventBatch;

pub use file::FileSink;
pub use kafka::KafkaSink;
pub use splunk_hec::HecSink;
pub use stdout::StdoutSink;
pub use syslog::SyslogSink;

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
    pub kind: ErrorKind,
    pub message: String,
    /// The peer asked to wait at least this long (HTTP Retry-After).
    pub retry_after: Option<std::time::Duration>,
}

impl SinkError {
    pub fn transient(message: impl Into<String>) -> SinkError {
        SinkError {
            kind: ErrorKind::Transient,
            message: message.into(),
            retry_after: None,
        }
    }

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

/// The closed set of sinks.
pub enum Sink {
    File(FileSink),
    Stdout(StdoutSink),
    SplunkHec(Box<HecSink>),
    Syslog(Box<SyslogSink>),
    Kafka(Box<KafkaSink>),
}

impl Sink {
    /// Builds a sink; fails only on local set-up problems (unreadable CA or
    /// secret file), which are permanent.
    pub fn build(config: &SinkConfig) -> Result<Sink, SinkError> {
        Ok(match config {
            SinkConfig::File(file) => Sink::File(FileSink::new(file.path.clone())),
            SinkConfig::Stdout(_) => Sink::Stdout(StdoutSink::new()),
            SinkConfig::SplunkHec(hec) => Sink::SplunkHec(Box::new(HecSink::new(hec)?)),
            SinkConfig::Syslog(syslog) => Sink::Syslog(Box::new(SyslogSink::new(syslog)?)),
            SinkConfig::Kafka(kafka) => Sink::Kafka(Box::new(KafkaSink::new(kafka)?)),
        })
    }

    /// Start-up check, before the journal is read.
    pub async fn check(&mut self) -> Result<(), SinkError> {
        match self {
            Sink::File(sink) => sink.check(),
            Sink::Stdout(_) => Ok(()),
            Sink::SplunkHec(sink) => sink.check().await,
            Sink::Syslog(sink) => sink.check().await,
            Sink::Kafka(sink) => sink.check().await,
        }
    }

    /// Hands over what a client library still buffers (only Kafka buffers).
    pub fn shutdown(&self, grace: std::time::Duration) {
        if let Sink::Kafka(sink) = self {
            sink.flush(grace);
        }
    }

    /// Delivers every event of the batch; `Ok` is the acknowledgement.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        if batch.events.is_empty() {
            return Ok(());
        }
        match self {
            Sink::File(sink) => sink.deliver(batch).await,
            Sink::Stdout(sink) => sink.deliver(batch).await,
            Sink::SplunkHec(sink) => sink.deliver(batch).await,
            Sink::Syslog(sink) => sink.deliver(batch).await,
            Sink::Kafka(sink) => sink.deliver(batch).await,
        }
    }
}
