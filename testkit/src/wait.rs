//! Waiting for a condition and picking ports: the two things every test and
//! bench that talks to a peer needs. Plain std, no crate paths, so the benches
//! include this file as it is.

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Polls `condition` every 50 ms until it holds; panics naming `what` once
/// `limit` has passed. Under load a fixed sleep is never enough, and a wait
/// without a limit hangs the suite instead of failing it.
pub fn wait_for(what: &str, limit: Duration, condition: impl FnMut() -> bool) {
    assert!(
        poll_until(limit, condition),
        "timed out after {limit:?} waiting for {what}"
    );
}

/// Polls `condition` every 50 ms for at most `limit`; whether it came to hold.
/// For the few callers that inspect what they got instead of failing at once.
pub fn poll_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if condition() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A localhost port free for both TCP and UDP right now, and never handed out
/// before in this process (two peers started side by side cannot collide).
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    for _ in 0..1000 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("bind a TCP port on 127.0.0.1")
            .port();
        if handed_out.contains(&port) || UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
            continue;
        }
        handed_out.insert(port);
        return port;
    }
    panic!("no free localhost port after 1000 tries");
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
pub fn wait_for_listener(what: &str, port: u16, limit: Duration) {
    wait_for(
        &format!("{what} to listen on 127.0.0.1:{port}"),
        limit,
        || std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok(),
    );
}
