//! Load generator on raw tokio TCP (HTTP/1.1 keep-alive), closed loop
//! (`rate` 0: every connection sends back to back) or open loop (`rate` R:
//! requests are scheduled at fixed times whatever the server does, and the
//! latency counts from the scheduled time, so a stalled server is not hidden
//! by coordinated omission). Stream mode also records time to first SSE event
//! and the gaps between events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

use crate::mock::{content_length, find};

/// What to send and how.
#[derive(Clone)]
pub struct Plan {
    /// `host:port`.
    pub addr: String,
    /// The raw request bytes (head and body).
    pub request: Arc<Vec<u8>>,
    /// Requests per second; 0 = closed loop.
    pub rate: u64,
    /// Connections (workers).
    pub conns: usize,
    /// How long to send for.
    pub duration: Duration,
    /// Parse SSE events (and close the connection after each response).
    pub stream: bool,
}

#[derive(Default)]
struct Tally {
    lat_us: Vec<u64>,
    ttft_us: Vec<u64>,
    gap_us: Vec<u64>,
    ok: u64,
    errors: u64,
    unsent: u64,
    statuses: Vec<u16>,
}

/// Builds the raw request.
pub fn request(addr: &str, path: &str, headers: &[String], body: &str, close: bool) -> Vec<u8> {
    let mut r = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if close {
        r.push_str("connection: close\r\n");
    }
    r.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    r.into_bytes()
}

/// One response: status and the instants of every SSE `data:` line.
async fn exchange(sock: &mut TcpStream, req: &[u8], stream: bool, events: &mut Vec<Instant>) -> std::io::Result<u16> {
    sock.write_all(req).await?;
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut tmp = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.contains("transfer-encoding: chunked");
    let len = content_length(&buf[..head_end]);
    let mut pos = head_end;
    let count = |buf: &[u8], pos: &mut usize, events: &mut Vec<Instant>| {
        if stream {
            let now = Instant::now();
            while let Some(p) = find(&buf[*pos..], b"data:") {
                events.push(now);
                *pos += p + 5;
            }
            // Keep 4 bytes so a `data:` split across two reads is still found.
            *pos = (*pos).max(buf.len().saturating_sub(4));
        }
    };
    count(&buf, &mut pos, events);
    loop {
        let done = if chunked {
            let body = &buf[head_end..];
            body == b"0\r\n\r\n" || body.ends_with(b"\r\n0\r\n\r\n")
        } else if len > 0 || !stream {
            buf.len() >= head_end + len
        } else {
            false
        };
        if done {
            return Ok(status);
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            // Read-to-EOF bodies (no length, not chunked) end here.
            return if !chunked && len == 0 { Ok(status) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
        }
        buf.extend_from_slice(&tmp[..n]);
        count(&buf, &mut pos, events);
    }
}

async fn worker(plan: Plan, queue: Option<Arc<Mutex<mpsc::Receiver<Instant>>>>, end: Instant) -> Tally {
    let mut t = Tally::default();
    let mut sock: Option<TcpStream> = None;
    let mut events = Vec::new();
    loop {
        let start = match &queue {
            Some(q) => match q.lock().await.recv().await {
                // Past the end, what is still queued is never sent: an
                // overloaded server shows as errors, not as a round that never ends.
                Some(_) if Instant::now() > end + Duration::from_secs(1) => {
                    t.errors += 1;
                    t.unsent += 1;
                    continue;
                }
                Some(at) => at,
                None => break,
            },
            None => {
                if Instant::now() >= end {
                    break;
                }
                Instant::now()
            }
        };
        if sock.is_none() {
            match TcpStream::connect(&plan.addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    sock = Some(s);
                }
                Err(_) => {
                    t.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(s) = sock.as_mut() else { continue };
        let sent = Instant::now();
        events.clear();
        let r =
            tokio::time::timeout(Duration::from_secs(60), exchange(s, &plan.request, plan.stream, &mut events)).await;
        let done = Instant::now();
        match r {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                t.ok += 1;
                t.lat_us.push(done.duration_since(start).as_micros() as u64);
                if let Some(first) = events.first() {
                    t.ttft_us.push(first.duration_since(sent).as_micros() as u64);
                    t.gap_us.extend(events.windows(2).map(|w| w[1].duration_since(w[0]).as_micros() as u64));
                }
            }
            Ok(Ok(status)) => {
                t.errors += 1;
                if t.statuses.len() < 5 {
                    t.statuses.push(status);
                }
            }
            _ => {
                t.errors += 1;
                sock = None;
            }
        }
        if plan.stream {
            sock = None;
        }
    }
    t
}

/// Sleeps until shortly before `at`, then yields the core until it is reached
/// (a plain sleep wakes up to tens of microseconds late, more on a VM).
fn wait_until(at: Instant) {
    const SPIN: Duration = Duration::from_micros(100);
    let now = Instant::now();
    if at > now + SPIN {
        std::thread::sleep(at - now - SPIN);
    }
    while Instant::now() < at {
        std::thread::yield_now();
    }
}

fn pct(v: &[u64], p: f64) -> f64 {
    if v.is_empty() {
        return -1.0;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)] as f64 / 1000.0
}

/// Runs the plan and returns the result as one JSON object.
pub async fn run(plan: Plan) -> String {
    let begin = Instant::now();
    let end = begin + plan.duration;
    // Rate 0 (closed loop): no schedule.
    let queue = if let Some(ns) = 1_000_000_000u64.checked_div(plan.rate) {
        let (tx, rx) = mpsc::channel::<Instant>(1 << 20);
        let step = Duration::from_nanos(ns);
        // Paced on its own thread, not with tokio's timer: that one ticks in
        // whole milliseconds, so every request went out up to ~1 ms after its
        // slot and that lateness was counted as the server's latency (direct
        // calls to the mock measured 0.8-1.4 ms at p50). Sleeping to just
        // before the slot and yielding the core until it comes sends within a
        // few microseconds of it.
        std::thread::spawn(move || {
            let mut next = Instant::now();
            while next < end {
                wait_until(next);
                // Catch up: every slot that is due goes out now.
                let now = Instant::now();
                while next <= now && next < end {
                    if tx.blocking_send(next).is_err() {
                        return;
                    }
                    next += step;
                }
            }
        });
        Some(Arc::new(Mutex::new(rx)))
    } else {
        None
    };
    let handles: Vec<_> = (0..plan.conns).map(|_| tokio::spawn(worker(plan.clone(), queue.clone(), end))).collect();
    let mut all = Tally::default();
    for h in handles {
        // A worker stuck past the grace period counts as one error.
        match tokio::time::timeout(plan.duration + Duration::from_secs(30), h).await {
            Ok(Ok(t)) => {
                all.lat_us.extend(t.lat_us);
                all.ttft_us.extend(t.ttft_us);
                all.gap_us.extend(t.gap_us);
                all.ok += t.ok;
                all.errors += t.errors;
                all.unsent += t.unsent;
                all.statuses.extend(t.statuses);
            }
            _ => all.errors += 1,
        }
    }
    let elapsed = begin.elapsed().as_secs_f64();
    for v in [&mut all.lat_us, &mut all.ttft_us, &mut all.gap_us] {
        v.sort_unstable();
    }
    let mean_gap = if all.gap_us.is_empty() {
        -1.0
    } else {
        all.gap_us.iter().sum::<u64>() as f64 / all.gap_us.len() as f64 / 1000.0
    };
    all.statuses.truncate(5);
    format!(
        concat!(
            r#"{{"ok":{},"errors":{},"unsent":{},"error_statuses":{:?},"seconds":{:.3},"rps":{:.1},"#,
            r#""p50_ms":{:.3},"p90_ms":{:.3},"p99_ms":{:.3},"max_ms":{:.3},"#,
            r#""ttft_p50_ms":{:.3},"ttft_p99_ms":{:.3},"gap_p50_ms":{:.3},"gap_p99_ms":{:.3},"gap_mean_ms":{:.3}}}"#
        ),
        all.ok,
        all.errors,
        all.unsent,
        all.statuses,
        elapsed,
        all.ok as f64 / plan.duration.as_secs_f64(),
        pct(&all.lat_us, 0.5),
        pct(&all.lat_us, 0.9),
        pct(&all.lat_us, 0.99),
        pct(&all.lat_us, 1.0),
        pct(&all.ttft_us, 0.5),
        pct(&all.ttft_us, 0.99),
        pct(&all.gap_us, 0.5),
        pct(&all.gap_us, 0.99),
        mean_gap,
    )
}
