//! A RELP client (the protocol of rsyslog's omrelp/imrelp): frames are
//! `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; the session opens with offers,
//! every `syslog` command is answered `rsp` with a status, and a message counts
//! as delivered only when answered `200`.
//!
//! One session carries several batches at once. [`RelpClient::send_batch`]
//! writes a batch's messages as the window allows (at most `window` messages
//! unanswered on the session, across batches) and returns a [`BatchAck`] that
//! completes when every one of them is answered `200`. A task of the session
//! reads the answers, in any order, and settles each batch; a batch with a
//! message answered otherwise fails alone. When the session breaks (EOF, a read
//! or write error, `serverclose`, an unknown transaction, no answer in time)
//! every batch not yet settled fails, so the pipeline resends exactly those.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use crate::background::{Spawner, Tether};

const MAX_TXNR: u32 = 999_999_999;
/// The largest frame data accepted from the receiver.
pub(super) const MAX_FRAME_DATA: usize = 128 * 1024;
/// The longest header field (TXNR, COMMAND, DATALEN).
const MAX_HEADER_FIELD: usize = 32;

/// One frame read from the server.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Frame {
    pub txnr: u32,
    pub command: String,
    pub data: Vec<u8>,
}

fn broken(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.into())
}

pub(super) fn encode(txnr: u32, command: &str, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(data.len() + 32);
    encode_into(&mut frame, txnr, command, data);
    frame
}

fn encode_into(frame: &mut Vec<u8>, txnr: u32, command: &str, data: &[u8]) {
    use std::io::Write;
    let _ = write!(frame, "{txnr} {command} {}", data.len());
    if !data.is_empty() {
        frame.push(b' ');
        frame.extend_from_slice(data);
    }
    frame.push(b'\n');
}

/// The first frame of `buffer` and the bytes it took, `None` when more bytes
/// are needed; an error for anything that is not a frame. Pure: the reader
/// feeds it whatever arrived, so a read cut short loses nothing.
pub(super) fn parse_frame(buffer: &[u8]) -> std::io::Result<Option<(Frame, usize)>> {
    // TXNR SP COMMAND SP DATALEN, then SP DATA LF, or directly LF.
    let mut fields: Vec<&[u8]> = Vec::with_capacity(3);
    let mut position = 0;
    let mut ended_by_lf = false;
    while fields.len() < 3 {
        let rest = &buffer[position..];
        let last = fields.len() == 2;
        let window = &rest[..rest.len().min(MAX_HEADER_FIELD + 1)];
        match window
            .iter()
            .position(|byte| *byte == b' ' || (last && *byte == b'\n'))
        {
            Some(end) => {
                fields.push(&rest[..end]);
                ended_by_lf = rest[end] == b'\n';
                position += end + 1;
            }
            None if rest.len() > MAX_HEADER_FIELD => {
                return Err(broken("RELP header too long"))
            }
            None => return Ok(None),
        }
    }
    let text = |field: &[u8]| String::from_utf8_lossy(field).into_owned();
    let txnr: u32 = text(fields[0])
        .parse()
        .map_err(|_| broken(format!("bad RELP txnr {:?}", text(fields[0]))))?;
    let length: usize = text(fields[2])
        .parse()
        .map_err(|_| broken(format!("bad RELP length {:?}", text(fields[2]))))?;
    let command = text(fields[1]);
    if ended_by_lf {
        if length != 0 {
            return Err(broken("RELP frame ended before its data"));
        }
        return Ok(Some((
            Frame {
                txnr,
                command,
                data: Vec::new(),
            },
            position,
        )));
    }
    if length > MAX_FRAME_DATA {
        return Err(broken("RELP frame too large"));
    }
    let Some(trailer) = buffer.get(position + length) else {
        return Ok(None);
    };
    // The trailer is exactly one LF; reading "until LF" would let a broken
    // or hostile server grow the buffer without end.
    if *trailer != b'\n' {
        return Err(broken("RELP frame without its trailing LF"));
    }
    Ok(Some((
        Frame {
            txnr,
            command,
            data: buffer[position..position + length].to_vec(),
        },
        position + length + 1,
    )))
}

/// Frames from a byte stream. Cancel-safe: what was read stays in the buffer,
/// so a read under a timeout loses nothing. The buffer holds at most one
/// frame (≤ [`MAX_FRAME_DATA`]) plus one read.
#[derive(Default)]
struct FrameReader {
    buffer: Vec<u8>,
    start: usize,
}

impl FrameReader {
    async fn next<R: AsyncRead + Unpin>(&mut self, stream: &mut R) -> std::io::Result<Frame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buffer[self.start..])? {
                self.start += used;
                return Ok(frame);
            }
            self.buffer.drain(..self.start);
            self.start = 0;
            self.buffer.reserve(8192);
            if stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }
}

/// A batch waiting for its answers.
struct Waiting {
    remaining: usize,
    done: oneshot::Sender<Result<(), String>>,
}

/// What the sender and the answer reader share.
#[derive(Default)]
struct State {
    /// Unanswered messages on the wire: txnr → batch number. Its size is the window in use.
    txnrs: HashMap<u32, u64>,
    /// Batches not yet settled.
    batches: HashMap<u64, Waiting>,
    next_batch: u64,
    /// When the oldest unanswered message was sent or the last answer came.
    last_progress: Option<Instant>,
    /// Why the session can carry nothing more.
    broken: Option<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Window room freed, or the session broke.
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bookkeeping: still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One frame from the server: settles a message, or says why the session is over.
    fn answer(&self, frame: Frame) -> Result<(), String> {
        if frame.command == "serverclose" {
            return Err("the RELP server closed the session".into());
        }
        if frame.command != "rsp" {
            return Err(format!("unexpected RELP command {:?}", frame.command));
        }
        let mut state = self.lock();
        let Some(batch) = state.txnrs.remove(&frame.txnr) else {
            return Err(format!(
                "RELP answer for unknown transaction {}",
                frame.txnr
            ));
        };
        state.last_progress = Some(Instant::now());
        let accepted = frame.data.starts_with(b"200");
        if let Some(waiting) = state.batches.get_mut(&batch) {
            waiting.remaining -= 1;
            if !accepted || waiting.remaining == 0 {
                let waiting = state.batches.remove(&batch).expect("found above");
                let _ = waiting.done.send(if accepted {
                    Ok(())
                } else {
                    Err(format!(
                        "RELP transaction {} answered {}",
                        frame.txnr,
                        String::from_utf8_lossy(&frame.data)
                    ))
                });
            }
        }
        drop(state);
        self.changed.notify_waiters();
        Ok(())
    }

    /// Ends the session: every batch not yet settled fails with `reason`.
    fn close(&self, reason: String) {
        let mut state = self.lock();
        if state.broken.is_none() {
            state.txnrs.clear();
            for (_, waiting) in state.batches.drain() {
                let _ = waiting.done.send(Err(reason.clone()));
            }
            state.broken = Some(reason);
        }
        drop(state);
        self.changed.notify_waiters();
    }
}

/// Completes when every message of one batch is answered `200`.
pub(super) struct BatchAck(Option<oneshot::Receiver<Result<(), String>>>);

impl BatchAck {
    pub(super) async fn answered(self) -> std::io::Result<()> {
        let Some(receiver) = self.0 else {
            return Ok(());
        };
        match receiver.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(broken(reason)),
            Err(_) => Err(broken(
                "the RELP session ended before every message was answered",
            )),
        }
    }
}

pub(super) struct RelpClient<S> {
    writer: WriteHalf<S>,
    next_txnr: u32,
    /// Messages sent and not yet answered, at most.
    window: usize,
    /// No answer for this long while messages wait breaks the session; also the write limit.
    timeout: Duration,
    shared: Arc<Shared>,
    /// The answer reader runs under the run's supervisor while this is held.
    _reader: Tether,
}

impl<S> Drop for RelpClient<S> {
    fn drop(&mut self) {
        self.shared
            .close("the RELP session was dropped before every message was answered".into());
    }
}

impl<S: AsyncRead + AsyncWrite + Send + 'static> RelpClient<S> {
    /// Opens a session (offers `relp_version=0` and `commands=syslog`) with up
    /// to `window` messages unanswered at once; `timeout` bounds the open, each
    /// write, and the wait for an answer while messages are unanswered. The
    /// answer reader is started through `spawner`, named `name`.
    pub(super) async fn open(
        mut stream: S,
        window: usize,
        timeout: Duration,
        (spawner, name): (&Spawner, String),
    ) -> std::io::Result<RelpClient<S>>
    where
        S: Unpin,
    {
        let offers = format!(
            "relp_version=0\nrelp_software=auditfwd,{},https://github.com/auditfwd/auditfwd\ncommands=syslog",
            env!("CARGO_PKG_VERSION")
        );
        let txnr = 1;
        let mut frames = FrameReader::default();
        let reply = tokio::time::timeout(timeout, async {
            stream
                .write_all(&encode(txnr, "open", offers.as_bytes()))
                .await?;
            stream.flush().await?;
            frames.next(&mut stream).await
        })
        .await
        .map_err(|_| broken("no answer to RELP open"))??;
        let text = String::from_utf8_lossy(&reply.data);
        if reply.txnr != txnr || reply.command != "rsp" || !text.starts_with("200") {
            return Err(broken(format!(
                "RELP open refused: {} {} {text}",
                reply.txnr, reply.command
            )));
        }
        if !text
            .lines()
            .any(|line| line.trim().starts_with("commands=syslog"))
        {
            return Err(broken(format!(
                "the RELP server does not offer the syslog command: {text}"
            )));
        }
        let (reader, writer) = tokio::io::split(stream);
        let shared = Arc::new(Shared::default());
        let answers = read_answers(reader, frames, shared.clone(), timeout);
        let reader = spawner.spawn(name, async move {
            answers.await;
            // A broken session's reader is done; its client goes at the next
            // delivery (it is not an unexpected end meanwhile).
            std::future::pending::<()>().await;
        })?;
        Ok(RelpClient {
            writer,
            next_txnr: txnr + 1,
            window: window.max(1),
            timeout,
            shared,
            _reader: reader,
        })
    }

    /// True once the session can carry nothing more: open a new one.
    pub(super) fn is_broken(&self) -> bool {
        self.shared.lock().broken.is_some()
    }

    fn take_txnr(next_txnr: &mut u32) -> u32 {
        let txnr = *next_txnr;
        *next_txnr = if txnr >= MAX_TXNR { 1 } else { txnr + 1 };
        txnr
    }

    /// Sends every message of one batch, waiting for window room as needed,
    /// and returns as soon as the last one is written; the [`BatchAck`]
    /// completes when all are answered `200`. An error here breaks the session.
    pub(super) async fn send_batch(&mut self, messages: &[String]) -> std::io::Result<BatchAck> {
        if messages.is_empty() {
            return Ok(BatchAck(None));
        }
        let (done, ack) = oneshot::channel();
        let batch = {
            let mut state = self.shared.lock();
            if let Some(reason) = &state.broken {
                return Err(broken(reason.clone()));
            }
            let batch = state.next_batch;
            state.next_batch += 1;
            state.batches.insert(
                batch,
                Waiting {
                    remaining: messages.len(),
                    done,
                },
            );
            batch
        };
        let mut next = 0;
        let mut frames = Vec::new();
        while next < messages.len() {
            let notified = self.shared.changed.notified();
            let room = {
                let state = self.shared.lock();
                if let Some(reason) = &state.broken {
                    return Err(broken(reason.clone()));
                }
                self.window.saturating_sub(state.txnrs.len())
            };
            if room == 0 {
                // The answer reader wakes us when room is freed or the session
                // breaks (it breaks it when no answer comes in time).
                notified.await;
                continue;
            }
            let end = (next + room).min(messages.len());
            frames.clear();
            {
                let mut state = self.shared.lock();
                if state.txnrs.is_empty() {
                    state.last_progress = Some(Instant::now());
                }
                for message in &messages[next..end] {
                    // Registered before it is written, so its answer always finds it.
                    let txnr = Self::take_txnr(&mut self.next_txnr);
                    encode_into(&mut frames, txnr, "syslog", message.as_bytes());
                    state.txnrs.insert(txnr, batch);
                }
            }
            next = end;
            let written = tokio::time::timeout(self.timeout, async {
                self.writer.write_all(&frames).await?;
                self.writer.flush().await
            })
            .await;
            let failure = match written {
                Ok(Ok(())) => continue,
                Ok(Err(error)) => format!("RELP write failed: {error}"),
                Err(_) => format!("RELP write did not finish within {:?}", self.timeout),
            };
            self.shared.close(failure.clone());
            return Err(broken(failure));
        }
        Ok(BatchAck(Some(ack)))
    }
}

/// The session's answer reader: settles batches until the session breaks.
async fn read_answers<S: AsyncRead>(
    mut stream: ReadHalf<S>,
    mut frames: FrameReader,
    shared: Arc<Shared>,
    timeout: Duration,
) {
    let reason = loop {
        match tokio::time::timeout(timeout, frames.next(&mut stream)).await {
            Ok(Ok(frame)) => {
                if let Err(reason) = shared.answer(frame) {
                    break reason;
                }
            }
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                break "the RELP server closed the connection".into()
            }
            Ok(Err(error)) => break format!("RELP read failed: {error}"),
            // Idle is fine; waiting messages with no answer for `timeout` is not.
            Err(_) => {
                let state = shared.lock();
                if !state.txnrs.is_empty()
                    && state
                        .last_progress
                        .is_some_and(|since| since.elapsed() >= timeout)
                {
                    break format!("no RELP answer within {timeout:?}");
                }
            }
        }
    };
    shared.close(reason);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::DuplexStream;

    #[test]
    fn frames_are_encoded_with_exact_lengths() {
        assert_eq!(
            encode(2, "syslog", b"<13>1 - - - - - - hi"),
            b"2 syslog 20 <13>1 - - - - - - hi\n"
        );
        assert_eq!(encode(7, "close", b""), b"7 close 0\n");
    }

    /// A scripted receiver: answers the open, then hands the test its side.
    async fn opened(window: usize) -> (RelpClient<DuplexStream>, DuplexStream) {
        let (client_side, mut server_side) = tokio::io::duplex(1 << 16);
        let server = tokio::spawn(async move {
            let mut frames = FrameReader::default();
            let open = frames.next(&mut server_side).await.unwrap();
            assert_eq!((open.txnr, open.command.as_str()), (1, "open"));
            server_side
                .write_all(b"1 rsp 37 200 OK\nrelp_version=0\ncommands=syslog\n")
                .await
                .unwrap();
            server_side
        });
        // Kept for the test's life: dropping it would stop the answer reader.
        let background = Box::leak(Box::new(crate::background::Background::default()));
        let reader = (&background.spawner(), "the answer reader".to_owned());
        let client = RelpClient::open(client_side, window, Duration::from_secs(5), reader)
            .await
            .unwrap();
        (client, server.await.unwrap())
    }

    async fn read_frames(server: &mut DuplexStream, count: usize) -> Vec<Frame> {
        let mut frames = FrameReader::default();
        let mut read = Vec::new();
        while read.len() < count {
            read.push(frames.next(server).await.unwrap());
        }
        read
    }

    fn messages(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| text.to_string()).collect()
    }

    #[tokio::test]
    async fn batches_share_the_session_and_settle_out_of_order() {
        let (mut client, mut server) = opened(16).await;
        let first = client.send_batch(&messages(&["a", "bb"])).await.unwrap();
        let second = client.send_batch(&messages(&["c"])).await.unwrap();
        let third = client.send_batch(&messages(&["d"])).await.unwrap();
        let sent = read_frames(&mut server, 4).await;
        let sent: Vec<(u32, &[u8])> = sent
            .iter()
            .map(|frame| (frame.txnr, frame.data.as_slice()))
            .collect();
        assert_eq!(
            sent,
            [(2, &b"a"[..]), (3, b"bb"), (4, b"c"), (5, b"d")],
            "all sent before any answer"
        );
        // The second batch first, then half of the first, a refusal for the
        // third, then the rest of the first.
        server
            .write_all(b"4 rsp 6 200 OK\n3 rsp 6 200 OK\n5 rsp 24 500 something went wrong\n")
            .await
            .unwrap();
        second.answered().await.unwrap();
        let refused = third.answered().await.unwrap_err();
        assert!(refused.to_string().contains("500"), "{refused}");
        server.write_all(b"2 rsp 6 200 OK\n").await.unwrap();
        first.answered().await.unwrap();
        assert!(!client.is_broken(), "a refused message fails its batch only");
    }

    #[tokio::test]
    async fn the_window_bounds_unanswered_messages_across_batches() {
        let (mut client, mut server) = opened(3).await;
        let first = client.send_batch(&messages(&["a", "b"])).await.unwrap();
        // Two more do not fit: this send waits until an answer frees room.
        let sending = tokio::spawn(async move {
            let second = client.send_batch(&messages(&["c", "d"])).await.unwrap();
            (client, second)
        });
        let sent = read_frames(&mut server, 3).await;
        assert_eq!(sent.last().unwrap().data, b"c");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sending.is_finished(), "the fourth message waits for room");
        server.write_all(b"2 rsp 6 200 OK\n").await.unwrap();
        let (_client, second) = sending.await.unwrap();
        assert_eq!(read_frames(&mut server, 1).await[0].data, b"d");
        server
            .write_all(b"3 rsp 6 200 OK\n4 rsp 6 200 OK\n5 rsp 6 200 OK\n")
            .await
            .unwrap();
        first.answered().await.unwrap();
        second.answered().await.unwrap();
    }

    #[tokio::test]
    async fn a_session_lost_mid_window_fails_exactly_the_unanswered_batches() {
        let (mut client, mut server) = opened(16).await;
        let first = client.send_batch(&messages(&["a"])).await.unwrap();
        let second = client.send_batch(&messages(&["b", "c"])).await.unwrap();
        let third = client.send_batch(&messages(&["d"])).await.unwrap();
        read_frames(&mut server, 4).await;
        // The first batch in full and half of the second, then the receiver dies.
        server
            .write_all(b"2 rsp 6 200 OK\n3 rsp 6 200 OK\n")
            .await
            .unwrap();
        first.answered().await.unwrap();
        drop(server);
        assert!(second.answered().await.is_err());
        assert!(third.answered().await.is_err());
        assert!(client.is_broken());
        assert!(client.send_batch(&messages(&["e"])).await.is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn no_answer_in_time_breaks_the_session_but_idling_does_not() {
        let (mut client, mut server) = opened(16).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!client.is_broken(), "an idle session stays open");
        let batch = client.send_batch(&messages(&["a"])).await.unwrap();
        read_frames(&mut server, 1).await;
        let error = batch.answered().await.unwrap_err();
        assert!(error.to_string().contains("no RELP answer"), "{error}");
        assert!(client.is_broken());
    }

    #[tokio::test]
    async fn serverclose_and_unknown_transactions_break_the_session() {
        for answer in [&b"0 serverclose 0\n"[..], b"99 rsp 6 200 OK\n"] {
            let (mut client, mut server) = opened(16).await;
            let batch = client.send_batch(&messages(&["a"])).await.unwrap();
            read_frames(&mut server, 1).await;
            server.write_all(answer).await.unwrap();
            assert!(batch.answered().await.is_err());
            assert!(client.is_broken());
        }
    }

    fn read_all_frames(bytes: Vec<u8>) -> (Vec<Frame>, Option<std::io::Error>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut stream = std::io::Cursor::new(bytes);
            let mut reader = FrameReader::default();
            let mut frames = Vec::new();
            loop {
                match reader.next(&mut stream).await {
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

            /// A frame cut anywhere parses as "more bytes needed", never as a
            /// shorter frame or an error.
            #[test]
            fn a_cut_frame_waits_for_the_rest(
                data in proptest::collection::vec(any::<u8>(), 0..300),
                cut in any::<prop::sample::Index>(),
            ) {
                let bytes = encode(42, "rsp", &data);
                let at = cut.index(bytes.len());
                prop_assert!(parse_frame(&bytes[..at]).unwrap().is_none());
                let (frame, used) = parse_frame(&bytes).unwrap().unwrap();
                prop_assert_eq!((frame.txnr, frame.data, used), (42, data, bytes.len()));
            }

            /// Any bytes from a server end in frames or an error, never a panic
            /// or a frame longer than the limit.
            #[test]
            fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
                let (frames, _) = read_all_frames(bytes);
                prop_assert!(frames.iter().all(|frame| frame.data.len() <= MAX_FRAME_DATA));
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
