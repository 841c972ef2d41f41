//! The syslog sink: RFC 5424 (or RFC 3164) messages over TCP, TLS, RELP or UDP.
//!
//! What "acknowledged" means depends on the transport, and the docs say so:
//! - **relp**: every message of the batch answered `200` by the receiver; up to
//!   `max_in_flight` batches share the session's window (`relp_window` messages
//!   unanswered), each acknowledged when its last message is answered, and a
//!   broken session fails exactly the batches not yet answered in full;
//! - **tcp / tls**: written and flushed to the socket; a receiver that dies with
//!   data in flight loses it (reconnect and resend only cover the failed batch);
//! - **udp**: sent; nothing confirms it, so it needs `accept_loss = true`.

pub mod config;
pub mod format;
mod relp;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::SinkError;
use self::config::{SyslogFraming, SyslogSinkConfig, SyslogTransport};
use crate::event::EventBatch;

/// A byte stream: plain TCP or TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

enum Connection {
    Stream(Box<dyn Stream>),
    Relp(relp::RelpClient<Box<dyn Stream>>),
    Udp(UdpSocket),
}

/// Sends each event as one syslog message over TCP, TLS, RELP or UDP.
pub struct SyslogSink {
    config: SyslogSinkConfig,
    facility: u8,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    )>,
    connection: Option<Connection>,
    trimmed_total: u64,
    /// Starts a RELP session's answer reader under the run's supervisor.
    spawner: crate::sink::Spawner,
}

fn permanent(config: &SyslogSinkConfig, message: String) -> SinkError {
    SinkError::permanent(format!("syslog {}: {message}", config.address))
}

impl SyslogSink {
    /// Builds the sink (the facility and the TLS settings checked); connects at first use.
    pub fn new(
        config: &SyslogSinkConfig,
        spawner: &crate::sink::Spawner,
    ) -> Result<SyslogSink, SinkError> {
        let tls = match config.transport {
            SyslogTransport::Tls => Some(tls_connector(config)?),
            _ => None,
        };
        Ok(SyslogSink {
            config: config.clone(),
            facility: config.facility.code(),
            tls,
            connection: None,
            trimmed_total: 0,
            spawner: spawner.clone(),
        })
    }

    /// Start-up check: connect (UDP has nothing to check).
    pub async fn check(&mut self) -> Result<(), SinkError> {
        self.connect().await.map(|_| ())
    }

    /// How long a write, or an awaited answer, may take before the connection counts as broken.
    fn answer_timeout(&self) -> Duration {
        self.config.connect_timeout.max(Duration::from_secs(5))
    }

    async fn connect(&mut self) -> Result<&mut Connection, SinkError> {
        if let Some(Connection::Relp(client)) = &self.connection {
            if client.is_broken() {
                // Its unanswered batches have failed and will be resent.
                self.connection = None;
            }
        }
        if self.connection.is_none() {
            let address = &self.config.address;
            let transient = |what: &str, error: &dyn std::fmt::Display| {
                SinkError::transient(format!("syslog {address}: {what}: {error}"))
            };
            let connection = match self.config.transport {
                SyslogTransport::Udp => {
                    let socket = UdpSocket::bind(if address.starts_with('[') {
                        "[::]:0"
                    } else {
                        "0.0.0.0:0"
                    })
                    .await
                    .map_err(|error| transient("cannot open a UDP socket", &error))?;
                    socket
                        .connect(address)
                        .await
                        .map_err(|error| transient("cannot resolve", &error))?;
                    Connection::Udp(socket)
                }
                transport => {
                    let tcp = tokio::time::timeout(
                        self.config.connect_timeout,
                        TcpStream::connect(address),
                    )
                    .await
                    .map_err(|_| transient("connect", &"timed out"))?
                    .map_err(|error| transient("cannot connect", &error))?;
                    let _ = tcp.set_nodelay(true);
                    let stream: Box<dyn Stream> = match &self.tls {
                        Some((connector, name)) => Box::new(
                            tokio::time::timeout(
                                self.config.connect_timeout,
                                connector.connect(name.clone(), tcp),
                            )
                            .await
                            .map_err(|_| transient("TLS handshake", &"timed out"))?
                            .map_err(|error| transient("TLS handshake failed", &error))?,
                        ),
                        None => Box::new(tcp),
                    };
                    if transport == SyslogTransport::Relp {
                        Connection::Relp(
                            relp::RelpClient::open(
                                stream,
                                self.config.relp_window,
                                self.answer_timeout(),
                                (
                                    &self.spawner,
                                    format!(
                                        "syslog {}: the RELP answer reader",
                                        self.config.address
                                    ),
                                ),
                            )
                            .await
                            .map_err(|error| transient("RELP open failed", &error))?,
                        )
                    } else {
                        Connection::Stream(stream)
                    }
                }
            };
            tracing::info!(address = %self.config.address, transport = ?self.config.transport, "syslog connected");
            self.connection = Some(connection);
        }
        Ok(self.connection.as_mut().expect("connected above"))
    }

    /// The batch as syslog messages; warns once per batch about trimmed ones.
    fn render(&mut self, batch: &EventBatch) -> Vec<String> {
        let mut messages = Vec::with_capacity(batch.events.len());
        let mut trimmed = 0;
        for event in &batch.events {
            let (text, was_trimmed) = format::message(event, &self.config, self.facility);
            trimmed += usize::from(was_trimmed);
            messages.push(text);
        }
        if trimmed > 0 {
            self.trimmed_total += trimmed as u64;
            tracing::warn!(address = %self.config.address, trimmed, total = self.trimmed_total, limit = self.config.max_message_bytes, "messages over max_message_bytes: optional fields dropped");
        }
        messages
    }

    /// Sends the batch; over RELP waits until the receiver answered every message.
    pub async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        if self.config.transport == SyslogTransport::Relp {
            return self.start_relp(batch).await?.await;
        }
        let messages = self.render(batch);
        let result = self.send(&messages).await;
        if result.is_err() {
            // Reconnect next time; the pipeline resends the whole batch.
            self.connection = None;
        }
        result
    }

    /// RELP: writes the batch into the session's window and returns as soon as
    /// it is written; the [`super::Pending`] completes when every message is
    /// answered `200`. Earlier batches may still be waiting for theirs.
    async fn start_relp(&mut self, batch: &EventBatch) -> Result<super::Pending, SinkError> {
        let messages = self.render(batch);
        let address = self.config.address.clone();
        let transient = move |error: std::io::Error| {
            SinkError::transient(format!("syslog {address}: RELP delivery failed: {error}"))
        };
        let Connection::Relp(client) = self.connect().await? else {
            unreachable!("transport relp connects with RELP");
        };
        match client.send_batch(&messages).await {
            Ok(ack) => Ok(Box::pin(async move { ack.answered().await.map_err(transient) })),
            Err(error) => {
                // The session is broken: the batches it carried fail and are resent.
                self.connection = None;
                Err(transient(error))
            }
        }
    }

    async fn send(&mut self, messages: &[String]) -> Result<(), SinkError> {
        let framing = self.config.framing;
        let address = self.config.address.clone();
        let timeout = self.answer_timeout();
        let transient = |what: &str, error: &dyn std::fmt::Display| {
            SinkError::transient(format!("syslog {address}: {what}: {error}"))
        };
        match self.connect().await? {
            Connection::Udp(socket) => {
                for message in messages {
                    socket
                        .send(message.as_bytes())
                        .await
                        .map_err(|error| transient("UDP send failed", &error))?;
                }
                Ok(())
            }
            Connection::Stream(stream) => {
                let mut buffer =
                    Vec::with_capacity(messages.iter().map(|message| message.len() + 8).sum());
                for message in messages {
                    match framing {
                        SyslogFraming::OctetCounting => {
                            buffer.extend_from_slice(format!("{} ", message.len()).as_bytes());
                            buffer.extend_from_slice(message.as_bytes());
                        }
                        SyslogFraming::Lf => {
                            // A raw line end would split the message: send it as a space.
                            buffer.extend(message.bytes().map(|byte| {
                                if byte == b'\n' || byte == b'\r' {
                                    b' '
                                } else {
                                    byte
                                }
                            }));
                            buffer.push(b'\n');
                        }
                    }
                }
                tokio::time::timeout(timeout, async {
                    stream.write_all(&buffer).await?;
                    stream.flush().await
                })
                .await
                .map_err(|_| transient("write", &"timed out"))?
                .map_err(|error| transient("write failed", &error))
            }
            Connection::Relp(client) => {
                let ack = client
                    .send_batch(messages)
                    .await
                    .map_err(|error| transient("RELP delivery failed", &error))?;
                ack.answered()
                    .await
                    .map_err(|error| transient("RELP delivery failed", &error))
            }
        }
    }
}

/// The TLS set-up from the material `load_files` read (no file is opened
/// here): the CA's certificates (or the public roots), the client identity,
/// the name to verify.
fn tls_connector(
    config: &SyslogSinkConfig,
) -> Result<
    (
        tokio_rustls::TlsConnector,
        rustls_pki_types::ServerName<'static>,
    ),
    SinkError,
> {
    use rustls_pki_types::ServerName;
    let material = crate::config::TlsMaterial::in_use(
        config.tls_material.as_ref(),
        config.names_tls_files(),
        "tls_ca_file, tls_cert_file and tls_key_file",
    )
    .map_err(|error| permanent(config, error))?;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    match material.ca {
        Some(certificates) => {
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|error| permanent(config, format!("tls_ca_file: {error}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| permanent(config, format!("TLS set-up: {error}")))?
        .with_root_certificates(roots);
    let client_config = match material.identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain, identity.key.expose())
            .map_err(|error| permanent(config, format!("client certificate: {error}")))?,
        None => builder.with_no_client_auth(),
    };
    let host = if config.tls_server_name.is_empty() {
        config
            .address
            .rsplit_once(':')
            .map_or(config.address.as_str(), |(host, _)| host)
            .trim_matches(['[', ']'])
            .to_owned()
    } else {
        config.tls_server_name.clone()
    };
    let name = ServerName::try_from(host.clone()).map_err(|error| {
        permanent(
            config,
            format!("{host:?} is not a valid TLS server name: {error}"),
        )
    })?;
    Ok((
        tokio_rustls::TlsConnector::from(Arc::new(client_config)),
        name,
    ))
}

impl super::Component for SyslogSink {
    type Config = SyslogSinkConfig;

    fn build(
        config: &SyslogSinkConfig,
        _clients: &crate::sink::Clients,
        spawner: &crate::sink::Spawner,
    ) -> Result<SyslogSink, SinkError> {
        SyslogSink::new(config, spawner)
    }

    async fn check(&mut self) -> Result<(), SinkError> {
        SyslogSink::check(self).await
    }

    async fn deliver(&mut self, batch: &EventBatch) -> Result<(), SinkError> {
        SyslogSink::deliver(self, batch).await
    }

    /// RELP keeps several batches on one session; TCP, TLS and UDP have no
    /// answer to wait for, so a batch is done when written.
    async fn start(&mut self, batch: &EventBatch) -> Result<super::Pending, SinkError> {
        if self.config.transport == SyslogTransport::Relp {
            return self.start_relp(batch).await;
        }
        let result = SyslogSink::deliver(self, batch).await;
        Ok(Box::pin(std::future::ready(result)))
    }
}
