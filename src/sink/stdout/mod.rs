//! Newline-delimited JSON on standard output; acknowledged after flush.

use tokio::io::AsyncWriteExt;

pub(crate) mod config;

use self::config::StdoutSinkConfig;
use super::SinkError;
use crate::event::EventBatch;

/// Writes each batch to standard output in its format, one event a line.
pub struct StdoutSink {
    out: tokio::io::Stdout,
    format: crate::format::Format,
}

impl StdoutSink {
    /// A sink writing native JSON.
    pub fn new() -> StdoutSink {
        StdoutSink::with_format(crate::format::Format::Native)
    }

    /// A sink writing each event in `format`.
    pub fn with_format(format: crate::format::Format) -> StdoutSink {
        StdoutSink {
            out: tokio::io::stdout(),
            format,
        }
    }

    /// Writes the batch and flushes; a closed pipe is permanent, other errors transient.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        let bytes = crate::format::ndjson(&batch.events, self.format);
        let result = async {
            self.out.write_all(&bytes).await?;
            self.out.flush().await
        }
        .await;
        result.map_err(|error| match error.kind() {
            // The reader went away (`auditfwd run | head`): no retry will help.
            std::io::ErrorKind::BrokenPipe => SinkError::permanent(format!(
                "stdout sink: {error}; the reading process closed the pipe"
            )),
            _ => SinkError::transient(format!("stdout sink: {error}")),
        })
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        StdoutSink::new()
    }
}

impl super::Component for StdoutSink {
    type Config = StdoutSinkConfig;

    fn build(
        config: &StdoutSinkConfig,
        _clients: &crate::sink::Clients,
        _spawner: &crate::sink::Spawner,
    ) -> Result<StdoutSink, SinkError> {
        Ok(StdoutSink::with_format(config.format))
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        StdoutSink::deliver(self, batch).await
    }
}
