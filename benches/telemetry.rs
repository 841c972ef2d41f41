//! The telemetry listener under idle connections: the latency of a scrape of
//! /metrics with 0 (the baseline), 100 and 2,000 idle connections open, side by
//! side in one run, in process (the listener the daemon runs, with its default
//! limits). Prints median and worst of 50 scrapes for each.
//!
//!     cargo bench --bench telemetry

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn scrape(address: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200"), "not answered");
    started.elapsed()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let address = runtime.block_on(async {
        let listener = auditfwd::telemetry::http::bind(([127, 0, 0, 1], 0).into())
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        let metrics = Arc::new(auditfwd::telemetry::Metrics::new(&["file:x".to_owned()]));
        tokio::spawn(auditfwd::telemetry::http::serve(
            listener,
            metrics,
            Duration::from_secs(3600),
        ));
        address
    });
    let mut baseline = None;
    println!("idle connections | scrapes | median ms | worst ms | median vs 0 idle");
    for idle_count in [0usize, 100, 2000] {
        let idle: Vec<TcpStream> = (0..idle_count)
            .map(|_| TcpStream::connect(address).expect("idle connection"))
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut times: Vec<Duration> = (0..50).map(|_| scrape(address)).collect();
        times.sort();
        let median = times[times.len() / 2];
        let worst = *times.last().unwrap();
        let base = *baseline.get_or_insert(median);
        println!(
            "{idle_count:>16} | {:>7} | {:>9.3} | {:>8.3} | {:>6.2} x",
            times.len(),
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            median.as_secs_f64() / base.as_secs_f64()
        );
        drop(idle);
        std::thread::sleep(Duration::from_millis(500));
    }
}
