//! A RELP client (the protocol of rsyslog's omrelp/imrelp): frames are
//! `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; the session opens with offers,
//! every `syslog` command is answered `rsp` with a status, and a message counts
//! as delivered only when answered `200`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Messages sent before waiting for their answers.
const WINDOW: usize = 128;
const MAX_TXNR: u32 = 999_999_999;

pub struct RelpClient<S> {
    stream: BufReader<S>,
    next_txnr: u32,
}

/// One frame read from the server.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub txnr: u32,
    pub command: String,
    pub data: Vec<u8>,
}

fn broken(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.into())
}

pub fn encode(txnr: u32, command: &str, data: &[u8]) -> Vec<u8> {
    let mut frame = format!("{txnr} {command} {}", data.len()).into_bytes();
    if !data.is_empty() {
        frame.push(b' ');
        frame.extend_from_slice(data);
    }
    frame.push(b'\n');
    frame
}

impl<S: AsyncRead + AsyncWrite + Unpin> RelpClient<S> {
    /// Opens a session: offers `relp_version=0` and `commands=syslog`.
    pub async fn open(stream: S, timeout: Duration) -> std::io::Result<RelpClient<S>> {
        let mut client = RelpClient {
            stream: BufReader::new(stream),
            next_txnr: 1,
        };
        let offers = format!(
            "relp_version=0\nrelp_software=auditfwd,{},https://github.com/auditfwd/auditfwd\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        let txnr = client.take_txnr();
        client
            .stream
            .get_mut()
            .write_all(&encode(txnr, "open", offers.as_bytes()))
            .await?;
        client.stream.get_mut().flush().await?;
        let reply = tokio::time::timeout(timeout, client.read_frame())
            .await
            .map_err(|_| broken("no answer to RELP open"))??;
        let text = String::from_utf8_lossy(&reply.data);
        if reply.txnr != txnr || reply.command != "rsp" || !text.starts_with("200") {
            return Err(broken(format!(
                "RELP open refused: {} {} {text}",
                reply.txnr, reply.command
            )));
        }
        if !text.lines().any(|line| {
            line.trim() == "commands=syslog" || line.trim().starts_with("commands=syslog")
        }) {
            return Err(broken(format!(
                "the RELP server does not offer the syslog command: {text}"
            )));
        }
        Ok(client)
    }

    fn take_txnr(&mut self) -> u32 {
        let txnr = self.next_txnr;
        self.next_txnr = if txnr >= MAX_TXNR { 1 } else { txnr + 1 };
        txnr
    }

    /// Sends every message and waits until each is answered `200`.
    pub async fn send_all(
        &mut self,
        messages: &[String],
        timeout: Duration,
    ) -> std::io::Result<()> {
        let mut waiting: VecDeque<u32> = VecDeque::new();
        let mut next = 0;
        while next < messages.len() || !waiting.is_empty() {
            let mut frames = Vec::new();
            while next < messages.len() && waiting.len() < WINDOW {
                let txnr = self.take_txnr();
                frames.extend_from_slice(&encode(txnr, "syslog", messages[next].as_bytes()));
                waiting.push_back(txnr);
                next += 1;
            }
            if !frames.is_empty() {
                self.stream.get_mut().write_all(&frames).await?;
                self.stream.get_mut().flush().await?;
            }
            let reply = tokio::time::timeout(timeout, self.read_frame())
                .await
                .map_err(|_| broken(format!("no RELP answer within {timeout:?}")))??;
            if reply.command == "serverclose" {
                return Err(broken("the RELP server closed the session"));
            }
            let text = String::from_utf8_lossy(&reply.data).into_owned();
            if reply.command != "rsp" {
                return Err(broken(format!(
                    "unexpected RELP command {:?}",
                    reply.command
                )));
            }
            let Some(position) = waiting.iter().position(|txnr| *txnr == reply.txnr) else {
                return Err(broken(format!(
                    "RELP answer for unknown transaction {}",
                    reply.txnr
                )));
            };
            if !text.starts_with("200") {
                return Err(broken(format!(
                    "RELP transaction {} answered {text}",
                    reply.txnr
                )));
            }
            waiting.remove(position);
        }
        Ok(())
    }

    async fn read_frame(&mut self) -> std::io::Result<Frame> {
        let mut header = Vec::with_capacity(32);
        // TXNR SP COMMAND SP DATALEN, then SP DATA or directly LF.
        let mut fields: Vec<String> = Vec::with_capacity(3);
        while fields.len() < 3 {
            header.clear();
            loop {
                let byte = self.stream.read_u8().await?;
                if byte == b' ' || (byte == b'\n' && fields.len() == 2) {
                    fields.push(String::from_utf8_lossy(&header).into_owned());
                    if byte == b'\n' {
                        let txnr = fields[0]
                            .parse()
                            .map_err(|_| broken(format!("bad RELP txnr {:?}", fields[0])))?;
                        let length: usize = fields[2]
                            .parse()
                            .map_err(|_| broken(format!("bad RELP length {:?}", fields[2])))?;
                        if length != 0 {
                            return Err(broken("RELP frame ended before its data"));
                        }
                        return Ok(Frame {
                            txnr,
                            command: fields[1].clone(),
                            data: Vec::new(),
                        });
                    }
                    break;
                }
                if header.len() > 32 {
                    return Err(broken("RELP header too long"));
                }
                header.push(byte);
            }
        }
        let txnr = fields[0]
            .parse()
            .map_err(|_| broken(format!("bad RELP txnr {:?}", fields[0])))?;
        let length: usize = fields[2]
            .parse()
            .map_err(|_| broken(format!("bad RELP length {:?}", fields[2])))?;
        if length > 128 * 1024 {
            return Err(broken("RELP frame too large"));
        }
        let mut data = vec![0; length];
        self.stream.read_exact(&mut data).await?;
        // The trailer is exactly one LF; reading "until LF" would let a
        // broken or hostile server grow the buffer without end.
        if self.stream.read_u8().await? != b'\n' {
            return Err(broken("RELP frame without its trailing LF"));
        }
        Ok(Frame {
            txnr,
            command: fields[1].clone(),
            data,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_encoded_with_exact_lengths() {
        assert_eq!(
            encode(2, "syslog", b"<13>1 - - - - - - hi"),
            b"2 syslog 20 <13>1 - - - - - - hi\n"
        );
        assert_eq!(encode(7, "close", b""), b"7 close 0\n");
    }

    #[tokio::test]
    async fn open_send_and_answers_out_of_band() {
        let (client_side, mut server_side) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            let read = server_side.read(&mut buffer).await.unwrap();
            assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("1 open "));
            server_side
                .write_all(b"1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n")
                .await
                .unwrap();
            let mut got = Vec::new();
            while got.iter().filter(|byte| **byte == b'\n').count() < 2 {
                let read = server_side.read(&mut buffer).await.unwrap();
                got.extend_from_slice(&buffer[..read]);
            }
            // Answer the second message first: order of answers does not matter.
            server_side
                .write_all(b"3 rsp 6 200 OK\n2 rsp 6 200 OK\n")
                .await
                .unwrap();
            let read = server_side.read(&mut buffer).await.unwrap();
            assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("4 syslog "));
            server_side
                .write_all(b"4 rsp 24 500 something went wrong\n")
                .await
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let mut client = RelpClient::open(client_side, Duration::from_secs(5))
            .await
            .unwrap();
        client
            .send_all(&["a".into(), "bb".into()], Duration::from_secs(5))
            .await
            .unwrap();
        let refused = client.send_all(&["c".into()], Duration::from_secs(5)).await;
        assert!(refused.unwrap_err().to_string().contains("500"));
        assert_eq!(server.await.unwrap(), "2 syslog 1 a\n3 syslog 2 bb\n");
    }

    fn read_all_frames(bytes: Vec<u8>) -> (Vec<Frame>, Option<std::io::Error>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut client = RelpClient {
                stream: BufReader::new(std::io::Cursor::new(bytes)),
                next_txnr: 1,
            };
            let mut frames = Vec::new();
            loop {
                match client.read_frame().await {
                    Ok(frame) => frames.push(frame),
                    Err(error) => return (frames, Some(error)),
                }
                if frames.len() > 10_000 {
                    return (frames, None);
                }
            }
        })
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// What `encode` writes, the reader reads back, frame for frame.
            #[test]
            fn frames_round_trip(
                frames in proptest::collection::vec(
                    (0u32..=MAX_TXNR, "[a-z]{1,10}", proptest::collection::vec(any::<u8>(), 0..300)),
                    1..6,
                ),
            ) {
                let bytes: Vec<u8> = frames
                    .iter()
                    .flat_map(|(txnr, command, data)| encode(*txnr, command, data))
                    .collect();
                let (read, error) = read_all_frames(bytes);
                let expected: Vec<Frame> = frames
                    .into_iter()
                    .map(|(txnr, command, data)| Frame { txnr, command, data })
                    .collect();
                prop_assert_eq!(read, expected);
                prop_assert_eq!(error.map(|error| error.kind()), Some(std::io::ErrorKind::UnexpectedEof));
            }

            /// Any bytes from a server end in frames or an error, never a panic
            /// or a frame longer than the limit.
            #[test]
            fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                let (frames, _) = read_all_frames(bytes);
                prop_assert!(frames.iter().all(|frame| frame.data.len() <= 128 * 1024));
            }

            /// Mutating one byte of a valid stream is still handled.
            #[test]
            fn corrupted_frames_never_panic(
                data in proptest::collection::vec(any::<u8>(), 0..100),
                position in any::<prop::sample::Index>(),
                byte in any::<u8>(),
            ) {
                let mut bytes = encode(7, "rsp", &data);
                let at = position.index(bytes.len());
                bytes[at] = byte;
                let _ = read_all_frames(bytes);
            }
        }
    }
}
