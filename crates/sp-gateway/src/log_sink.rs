//! Where log lines go: a shared buffer that a writer thread empties every
//! [`INTERVAL`], in one `write` per batch.
//!
//! Under load the gateway logs a line per request. A channel to a writer thread
//! (what `tracing-appender` does) woke that thread for nearly every line on a
//! busy core: `strace` showed a `write`, a futex wake and two `sched_yield`s per
//! request (bench/README.md). Here a line is appended under a mutex and nobody is
//! woken; the thread wakes on its own every 50 ms, or early when a batch is big.
//! Nothing is dropped: when the thread cannot keep up (the buffer holds
//! [`CAP`] bytes), the code logging waits for room.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait in the buffer.
const INTERVAL: Duration = Duration::from_millis(50);
/// A batch this big is written at once.
const EARLY: usize = 256 * 1024;
/// Past this, loggers wait for the writer (backpressure).
const CAP: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct State {
    buf: Vec<u8>,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The writer waits on this (early batches, stop).
    wake: Condvar,
    /// Loggers wait on this when the buffer is full.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bytes behind: keep using them.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `MakeWriter` given to the subscriber.
#[derive(Clone)]
pub struct Sink(Arc<Shared>);

/// Stops the writer thread after it has written everything (at shutdown).
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread over `out`.
pub fn start<W: Write + Send + 'static>(mut out: W) -> std::io::Result<(Sink, Guard)> {
    let shared = Arc::new(Shared::default());
    let s = shared.clone();
    let thread = std::thread::Builder::new().name("spgw-log-writer".into()).spawn(move || {
        let mut batch = Vec::new();
        loop {
            let stop = {
                let mut st = s.lock();
                if st.buf.len() < EARLY && !st.stop {
                    st = s.wake.wait_timeout(st, INTERVAL).map(|(g, _)| g).unwrap_or_else(|p| p.into_inner().0);
                }
                // Swap rather than copy: both buffers keep their capacity.
                std::mem::swap(&mut batch, &mut st.buf);
                st.stop
            };
            s.room.notify_all();
            if !batch.is_empty() {
                // A failing stderr cannot be reported anywhere better; drop the batch.
                let _ = out.write_all(&batch).and_then(|()| out.flush());
                batch.clear();
            }
            if stop && s.lock().buf.is_empty() {
                return;
            }
        }
    })?;
    Ok((Sink(shared.clone()), Guard { shared, thread: Some(thread) }))
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One event's writer: the subscriber formats a line and writes it in one call.
pub struct Line<'a>(&'a Shared);

impl Write for Line<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut st = self.0.lock();
        while st.buf.len() >= CAP && !st.stop {
            st = self.0.room.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.buf.extend_from_slice(bytes);
        if st.buf.len() >= EARLY {
            self.0.wake.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Sink {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

    /// A `Write` into a shared vector, counting the writes.
    #[derive(Clone, Default)]
    struct Out(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Out {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let mut g = self.0.lock().unwrap();
            g.0.extend_from_slice(b);
            g.1 += 1;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_batched_and_all_written_by_shutdown() {
        let out = Out::default();
        let (sink, guard) = start(out.clone()).unwrap();
        for i in 0..10_000 {
            sink.make_writer().write_all(format!("line {i}\n").as_bytes()).unwrap();
        }
        drop(guard);
        let (bytes, writes) = out.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count(), 10_000);
        assert!(text.lines().enumerate().all(|(i, l)| l == format!("line {i}")), "in order, whole lines");
        assert!(writes < 100, "batched: {writes} writes for 10,000 lines");
    }

    #[test]
    fn a_line_appears_within_the_interval_when_idle() {
        let out = Out::default();
        let (sink, _guard) = start(out.clone()).unwrap();
        sink.make_writer().write_all(b"hello\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while out.0.lock().unwrap().0.is_empty() {
            assert!(std::time::Instant::now() < deadline, "the line was never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(out.0.lock().unwrap().0, b"hello\n");
    }

    #[test]
    fn a_full_buffer_makes_loggers_wait_not_drop() {
        let out = Out::default();
        let (sink, guard) = start(out.clone()).unwrap();
        let line = vec![b'x'; 64 * 1024];
        // 16 MB through a 4 MB buffer.
        for _ in 0..256 {
            sink.make_writer().write_all(&line).unwrap();
        }
        drop(guard);
        assert_eq!(out.0.lock().unwrap().0.len(), 256 * 64 * 1024);
    }
}
