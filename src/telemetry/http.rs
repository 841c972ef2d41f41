//! The telemetry listener: `/metrics` (Prometheus text) and `/health`, served
//! by hyper's HTTP/1 server.
//!
//! It faces whatever can reach `telemetry.listen`, so every resource has a
//! bound ([`Limits`]): at most `max_connections` open at once, a header-read
//! timeout (a client that connects and says nothing is dropped), a
//! whole-connection timeout, one request per connection, and a growing pause
//! after an accept error (at the descriptor limit `accept` fails at once; it
//! must not be retried in a tight loop). GET and HEAD only.
//!
//! The listener always accepts: past `max_connections`, it closes the oldest
//! connection that has not sent its request yet. Idle connections (a port
//! scanner, a stuck client, a flood) therefore cannot keep a scraper waiting:
//! the scrape is the newest connection, and the ones shed are the idle.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::Telemetry;

/// The listener's resource bounds.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once; past it the oldest idle one is closed.
    pub max_connections: usize,
    /// From accepting a connection to the end of its request headers.
    pub header_read_timeout: Duration,
    /// The whole connection, request and answer included.
    pub connection_timeout: Duration,
    /// Longest pause after consecutive accept errors (it starts at 10 ms).
    pub max_accept_pause: Duration,
}

impl Default for Limits {
    /// A scraper sends its request at once and reads a few KB: a few seconds
    /// each is generous, and 64 connections are more than any set of scrapers
    /// and health checkers needs while staying far below a descriptor limit.
    fn default() -> Limits {
        Limits {
            max_connections: 64,
            header_read_timeout: Duration::from_secs(3),
            connection_timeout: Duration::from_secs(10),
            max_accept_pause: Duration::from_secs(1),
        }
    }
}

/// Binds `address` (`telemetry.listen`, parsed at load); the error names it.
pub async fn bind(address: std::net::SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on telemetry.listen = \"{address}\": {error}"))
}

/// Serves with the default [`Limits`] until the task is dropped.
pub async fn serve<T: Telemetry + Send + Sync + 'static>(
    listener: TcpListener,
    metrics: Arc<T>,
    max_checkpoint_age: Duration,
) {
    serve_with(listener, metrics, max_checkpoint_age, Limits::default()).await;
}

/// Serves until the task is dropped.
pub async fn serve_with<T: Telemetry + Send + Sync + 'static>(
    listener: TcpListener,
    metrics: Arc<T>,
    max_checkpoint_age: Duration,
    limits: Limits,
) {
    let open = Arc::new(Open::default());
    let first_pause = Duration::from_millis(10);
    let mut pause = first_pause;
    let mut next_id: u64 = 0;
    // Every connection's task: a panic in one (a bug in an answer) ends the
    // listener with that panic, which the run supervises (exit 70), instead of
    // dropping one connection unseen.
    let mut connections: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(ended) = connections.join_next(), if !connections.is_empty() => {
                if let Err(error) = ended {
                    if error.is_panic() {
                        std::panic::resume_unwind(error.into_panic());
                    }
                }
                continue;
            }
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                pause = first_pause;
                stream
            }
            Err(error) => {
                // EMFILE/ENFILE/ENOBUFS fail at once and keep failing until
                // something closes: shed an idle connection, and wait instead
                // of spinning.
                open.shed_to(limits.max_connections.saturating_sub(1));
                if pause == first_pause {
                    tracing::warn!(%error, "telemetry listener cannot accept; pausing");
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(limits.max_accept_pause);
                continue;
            }
        };
        next_id += 1;
        let id = next_id;
        let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let metrics = metrics.clone();
        let flag = busy.clone();
        let registry = open.clone();
        let task = connections.spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                let response = answer(&request, metrics.as_ref(), max_checkpoint_age);
                async move { Ok::<_, Infallible>(response) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .keep_alive(false)
                .max_buf_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            // Errors here are the client's (a reset, a timeout, bad HTTP).
            let _ = tokio::time::timeout(limits.connection_timeout, connection).await;
            registry.remove(id);
        });
        open.add(id, task, busy);
        open.shed_to(limits.max_connections);
    }
}

/// The connections open, oldest first.
#[derive(Default)]
struct Open {
    connections: std::sync::Mutex<
        std::collections::VecDeque<(
            u64,
            tokio::task::AbortHandle,
            Arc<std::sync::atomic::AtomicBool>,
        )>,
    >,
}

impl Open {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::VecDeque<(
            u64,
            tokio::task::AbortHandle,
            Arc<std::sync::atomic::AtomicBool>,
        )>,
    > {
        self.connections
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn add(
        &self,
        id: u64,
        task: tokio::task::AbortHandle,
        busy: Arc<std::sync::atomic::AtomicBool>,
    ) {
        let mut connections = self.lock();
        // A connection that finished before it was listed removes nothing:
        // drop it here instead.
        if task.is_finished() {
            return;
        }
        connections.push_back((id, task, busy));
    }

    fn remove(&self, id: u64) {
        let mut connections = self.lock();
        if let Some(position) = connections.iter().position(|(known, _, _)| *known == id) {
            connections.remove(position);
        }
    }

    /// Closes the oldest idle connections (no request yet) until at most
    /// `budget` are open; busy ones finish on their own within the timeout.
    fn shed_to(&self, budget: usize) {
        let mut connections = self.lock();
        // A connection that ended just before it was listed is dropped here.
        connections.retain(|(_, task, _)| !task.is_finished());
        while connections.len() > budget {
            let idle = connections
                .iter()
                .position(|(_, _, busy)| !busy.load(std::sync::atomic::Ordering::Relaxed));
            match idle {
                Some(position) => {
                    if let Some((_, task, _)) = connections.remove(position) {
                        task.abort();
                    }
                }
                None => break,
            }
        }
    }
}

fn answer(
    request: &Request<Incoming>,
    metrics: &dyn Telemetry,
    max_checkpoint_age: Duration,
) -> Response<Full<Bytes>> {
    const TEXT: &str = "text/plain; charset=utf-8";
    crate::failpoint::hit("telemetry.answer");
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        (&Method::GET | &Method::HEAD, "/health") => match metrics.health(max_checkpoint_age) {
            Ok(()) => (StatusCode::OK, TEXT, "ok\n".to_owned()),
            Err(reasons) => (
                StatusCode::SERVICE_UNAVAILABLE,
                TEXT,
                reasons.join("\n") + "\n",
            ),
        },
        (&Method::GET | &Method::HEAD, _) => (
            StatusCode::NOT_FOUND,
            TEXT,
            "try /metrics or /health\n".to_owned(),
        ),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            TEXT,
            "GET or HEAD only\n".to_owned(),
        ),
    };
    // hyper sends Content-Length for HEAD from the body it is given, and
    // sends no body.
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn start(limits: Limits) -> std::net::SocketAddr {
        let listener = bind(([127, 0, 0, 1], 0).into()).await.unwrap();
        let address = listener.local_addr().unwrap();
        let metrics = Arc::new(crate::telemetry::Metrics::new(&["file:x".to_owned()]));
        tokio::spawn(serve_with(
            listener,
            metrics,
            Duration::from_secs(3600),
            limits,
        ));
        address
    }

    async fn exchange(address: std::net::SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
            .await
            .expect("answered in time")
            .unwrap();
        response
    }

    #[tokio::test]
    async fn get_head_and_other_methods() {
        let address = start(Limits::default()).await;
        let get = exchange(address, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(get.starts_with("HTTP/1.1 200"), "{get}");
        assert!(get.contains("auditfwd_"), "{get}");
        let head = exchange(address, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let (headers, body) = head.split_once("\r\n\r\n").unwrap();
        assert!(
            headers.to_ascii_lowercase().contains("content-length:"),
            "{head}"
        );
        assert_eq!(body, "", "HEAD has no body");
        let post = exchange(
            address,
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        )
        .await;
        assert!(post.starts_with("HTTP/1.1 405"), "{post}");
        assert!(
            post.to_ascii_lowercase().contains("allow: get, head"),
            "{post}"
        );
        let missing = exchange(address, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_scrape_is_answered_while_two_thousand_idle_connections_are_open() {
        let limits = Limits {
            max_connections: 32,
            // Long enough that no idle connection times out during the test:
            // only shedding can make room.
            header_read_timeout: Duration::from_secs(60),
            connection_timeout: Duration::from_secs(120),
            max_accept_pause: Duration::from_millis(100),
        };
        let address = start(limits).await;
        let mut idle = Vec::new();
        for _ in 0..2000 {
            idle.push(TcpStream::connect(address).await.unwrap());
        }
        for _ in 0..3 {
            let answer = exchange(address, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        }
        // The oldest idle ones were closed by the server to make room.
        let mut buffer = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), idle[0].read(&mut buffer))
            .await
            .expect("the oldest idle connection is closed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }

    #[tokio::test]
    async fn idle_connections_are_capped_and_dropped_after_the_header_timeout() {
        let limits = Limits {
            max_connections: 4,
            header_read_timeout: Duration::from_millis(300),
            connection_timeout: Duration::from_secs(2),
            max_accept_pause: Duration::from_millis(100),
        };
        let address = start(limits).await;
        let mut idle = Vec::new();
        for _ in 0..8 {
            idle.push(TcpStream::connect(address).await.unwrap());
        }
        // The first four hold every slot; a scraper still gets its answer
        // once the header timeout has dropped them (and the next four).
        let started = tokio::time::Instant::now();
        let answer = exchange(address, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The silent ones were closed by the server, not left open.
        let mut buffer = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(3), idle[0].read(&mut buffer))
            .await
            .expect("the idle connection is closed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
}
