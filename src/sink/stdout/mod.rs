//! Newline-delimited JSON on standard output; acknowledged after flush.

use tokio::io::AsyncWriteExt;

pub mod config;

use self::config::StdoutSinkConfig;
use super::SinkError;
use crate::event::EventBatch;

pub struct StdoutSink {
    out: tokio::io::Stdout,
}

impl StdoutSink {
    pub fn new() -> StdoutSink {
        StdoutSink {
            out: tokio::io::stdout(),
        }
    }

    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        let bytes = batch.to_ndjson();
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

    fn build(_config: &StdoutSinkConfig) -> Result<StdoutSink, SinkError> {
        Ok(StdoutSink::new())
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        StdoutSink::deliver(self, batch).await
    }
}
