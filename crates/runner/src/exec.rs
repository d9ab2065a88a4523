//! Executing one claimed run over SSH, the same way for the in-process worker
//! and the remote runner (they differ only in their [`RunSink`]): connect with
//! the host key checked, prepare the checkout, run the command in its own
//! process group, stream its output as log chunks, heartbeat the lease, and
//! stop it on cancel, timeout, lost lease or shutdown.

use std::future::Future;
use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, RunnerError};
use crate::logs::Appended;
use crate::queue::Heartbeat;
use crate::ssh::{SshSession, kill_group, killable, sq};
use crate::types::{Job, Outcome, RunStatus};

/// Where a runner reports: the queue itself (in-process) or the gateway's API (remote).
pub trait RunSink: Send + Sync {
    /// Records the host key seen on first use; an error refuses the connection.
    fn record_host_key(&self, fingerprint: &str) -> impl Future<Output = Result<()>> + Send;
    /// Stores a log chunk.
    fn append(&self, seq: i64, text: &str) -> impl Future<Output = Result<Appended>> + Send;
    /// Renews the lease.
    fn heartbeat(&self) -> impl Future<Output = Result<Heartbeat>> + Send;
    /// Reports the end of the run.
    fn finish(&self, outcome: &Outcome) -> impl Future<Output = Result<()>> + Send;
    /// Gives the run back to the queue (shutdown).
    fn release(&self, reason: &str) -> impl Future<Output = Result<()>> + Send;
}

/// Output is sent as a chunk when this much is buffered, or every [`FLUSH_EVERY`].
const FLUSH_BYTES: usize = 32 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// Buffers output into chunks on UTF-8 boundaries and numbers them.
struct LogWriter<'a, S> {
    sink: &'a S,
    seq: i64,
    buf: Vec<u8>,
    /// The log hit its cap: output is read and dropped.
    full: bool,
    lease_lost: bool,
}

/// How many leading bytes of `buf` end on a character boundary (an incomplete
/// multi-byte sequence at the end waits for the next packet).
fn complete_prefix(buf: &[u8]) -> usize {
    let n = buf.len();
    for back in 1..=n.min(3) {
        let b = buf[n - back];
        if b & 0xC0 != 0x80 {
            let need = match b {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            return if need > back { n - back } else { n };
        }
    }
    n
}

impl<S: RunSink> LogWriter<'_, S> {
    async fn push(&mut self, data: &[u8]) {
        if self.full {
            return;
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= FLUSH_BYTES {
            self.flush(false).await;
        }
    }

    async fn line(&mut self, text: &str) {
        self.push(format!("[runner] {text}\n").as_bytes()).await;
    }

    /// Sends what is buffered; `all` also sends an incomplete trailing character.
    async fn flush(&mut self, all: bool) {
        let n = if all { self.buf.len() } else { complete_prefix(&self.buf) };
        if n == 0 || self.full {
            return;
        }
        let text = String::from_utf8_lossy(&self.buf[..n]).into_owned();
        self.buf.drain(..n);
        let seq = self.seq;
        self.seq += 1;
        match self.sink.append(seq, &text).await {
            Ok(a) if a.truncated => {
                self.full = true;
                self.buf.clear();
            }
            Ok(_) => {}
            Err(RunnerError::LeaseLost(_)) => self.lease_lost = true,
            // A lost chunk is not worth stopping the run for; followers re-read the stored log.
            Err(e) => tracing::warn!(seq, error = %e, "could not store a log chunk"),
        }
    }
}

/// Why a channel stopped being read.
enum End {
    Exited { code: Option<i64>, signal: Option<String> },
    Cancelled,
    TimedOut,
    LeaseLost,
    Shutdown,
}

/// Cancellation inputs of one execution.
#[derive(Clone, Default)]
pub struct Stop {
    /// A user asked to cancel (in-process: set at once by the API).
    pub cancel: CancellationToken,
    /// The runner is shutting down: give the run back.
    pub shutdown: CancellationToken,
}

/// Runs `job` to its end and reports it through `sink`.
pub async fn execute<S: RunSink>(job: &Job, sink: &S, stop: &Stop) {
    let mut log = LogWriter { sink, seq: job.next_seq, buf: Vec::new(), full: false, lease_lost: false };
    let heartbeat_every = Duration::from_secs((job.lease_seconds / 3).clamp(1, 3));
    let deadline = Instant::now() + Duration::from_secs(job.timeout_seconds);
    let end = run(job, &mut log, stop, heartbeat_every, deadline).await;
    let outcome = match end {
        Err(e) => {
            log.line(&e.to_string()).await;
            Some(Outcome::failed(e.to_string()))
        }
        Ok(End::Exited { code: Some(0), .. }) => {
            Some(Outcome { status: RunStatus::Succeeded, exit_code: Some(0), error: None })
        }
        Ok(End::Exited { code: Some(c), .. }) => Some(Outcome {
            status: RunStatus::Failed,
            exit_code: Some(c),
            error: Some(format!("exited with status {c}")),
        }),
        Ok(End::Exited { code: None, signal }) => Some(Outcome::failed(match signal {
            Some(s) => format!("killed by signal {s}"),
            None => "the command ended without an exit status (connection lost?)".to_string(),
        })),
        Ok(End::Cancelled) => {
            log.line("cancelled").await;
            Some(Outcome { status: RunStatus::Cancelled, exit_code: None, error: Some("cancelled".into()) })
        }
        Ok(End::TimedOut) => {
            let msg = format!("timed out after {} s", job.timeout_seconds);
            log.line(&msg).await;
            Some(Outcome { status: RunStatus::TimedOut, exit_code: None, error: Some(msg) })
        }
        Ok(End::LeaseLost) => None,
        Ok(End::Shutdown) => {
            log.line("runner shutting down; the run goes back to the queue").await;
            log.flush(true).await;
            if let Err(e) = sink.release("runner shutting down").await {
                tracing::warn!(run_id = job.run_id, error = %e, "could not give the run back");
            }
            return;
        }
    };
    if let Some(o) = &outcome
        && let Some(code) = o.exit_code
    {
        log.line(&format!("exit status {code}")).await;
    }
    log.flush(true).await;
    match outcome {
        Some(o) if !log.lease_lost => {
            if let Err(e) = sink.finish(&o).await {
                tracing::warn!(run_id = job.run_id, error = %e, "could not report the end of the run");
            }
        }
        _ => tracing::warn!(run_id = job.run_id, "lost the lease; the gateway re-queues or fails the run"),
    }
}

/// Connects, prepares the checkout and runs the command; kills the process group on any stop.
async fn run<S: RunSink>(
    job: &Job,
    log: &mut LogWriter<'_, S>,
    stop: &Stop,
    heartbeat_every: Duration,
    deadline: Instant,
) -> Result<End> {
    let t = &job.ssh;
    log.line(&format!("attempt {} on {}@{}:{} in {}", job.attempt, t.user, t.host, t.port, job.workspace)).await;
    // Connecting can take a while (up to the connect timeout): keep the lease alive meanwhile.
    let connect = SshSession::connect(&job.ssh);
    tokio::pin!(connect);
    let mut beat = tokio::time::interval_at(Instant::now() + heartbeat_every, heartbeat_every);
    let session = loop {
        tokio::select! {
            s = &mut connect => break s?,
            _ = beat.tick() => match log.sink.heartbeat().await {
                Ok(h) if h.cancel_requested => return Ok(End::Cancelled),
                Err(RunnerError::LeaseLost(_)) => return Ok(End::LeaseLost),
                _ => {}
            },
            _ = stop.cancel.cancelled() => return Ok(End::Cancelled),
            _ = stop.shutdown.cancelled() => return Ok(End::Shutdown),
            _ = tokio::time::sleep_until(deadline) => return Ok(End::TimedOut),
        }
    };
    if session.first_use {
        log.line(&format!("host key {} recorded (first use)", session.fingerprint)).await;
        if let Err(e) = log.sink.record_host_key(&session.fingerprint).await {
            session.close().await;
            return Err(e);
        }
    }
    let pidfile = format!("{}/.spgw/run-{}.pid", job.workspace_root.trim_end_matches('/'), job.run_id);
    let mut end = {
        let mut channel = session.exec(&prepare_script(job, &pidfile)).await?;
        pump(&mut channel, log, stop, heartbeat_every, deadline).await
    };
    if let End::Exited { code, .. } = &end {
        if *code != Some(0) {
            session.close().await;
            return Err(RunnerError::Action(format!(
                "preparing the workspace failed (exit status {})",
                code.map(|c| c.to_string()).unwrap_or_else(|| "none".into())
            )));
        }
        log.push(format!("$ {}\n", job.command).as_bytes()).await;
        let mut channel = session.exec(&killable(&job.command, &job.workspace, &pidfile)).await?;
        end = pump(&mut channel, log, stop, heartbeat_every, deadline).await;
        if !matches!(end, End::Exited { .. }) {
            let _ = channel.close().await;
        }
    }
    if !matches!(end, End::Exited { .. }) {
        // Stop what the command started, wherever it is; bounded so a dead host cannot hang us.
        let script = kill_group(&pidfile);
        let kill = tokio::time::timeout(Duration::from_secs(10), session.capture(&script, None, 4096));
        if let Err(e) = kill.await.map_err(|_| RunnerError::Ssh("timed out".into())).and_then(|r| r.map(|_| ())) {
            log.line(&format!("could not stop the remote process group: {e}")).await;
        }
    }
    session.close().await;
    Ok(end)
}

/// Clones the repository into the workspace, or fetches and hard-resets it (`sync`); kills a
/// process left behind by an earlier attempt of the same run.
fn prepare_script(job: &Job, pidfile: &str) -> String {
    let ws = sq(&job.workspace);
    let mut s = format!("set -e\n{}\n", kill_group(pidfile));
    match &job.repo_url {
        Some(url) => {
            let url = sq(url);
            s.push_str(&format!("if [ -d {ws}/.git ]; then\n  cd {ws}\n"));
            if job.sync {
                s.push_str(
                    "  echo '[runner] fetching and resetting the checkout'\n  git fetch --quiet --prune origin\n  \
                     git reset --quiet --hard '@{upstream}' 2>/dev/null || git reset --quiet --hard origin/HEAD\n",
                );
            } else {
                s.push_str("  echo '[runner] running on the workspace as it is (sync: false)'\n");
            }
            s.push_str(&format!(
                "else\n  mkdir -p {root}\n  echo '[runner] cloning the repository'\n  git clone --quiet {url} {ws}\n  cd {ws}\nfi\n\
                 git log -1 --format='[runner] at commit %h: %s' 2>/dev/null || true\n",
                root = sq(&job.workspace_root)
            ));
        }
        None => s.push_str(&format!("mkdir -p {ws}\necho '[runner] no repo_url: using the workspace as it is'\n")),
    }
    s
}

/// Reads a channel until the command exits or something stops it; flushes and heartbeats meanwhile.
async fn pump<S: RunSink>(
    channel: &mut Channel<Msg>,
    log: &mut LogWriter<'_, S>,
    stop: &Stop,
    heartbeat_every: Duration,
    deadline: Instant,
) -> End {
    let mut code = None;
    let mut signal = None;
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    let mut beat = tokio::time::interval_at(Instant::now() + heartbeat_every, heartbeat_every);
    let mut failed_beats = 0u32;
    loop {
        if log.lease_lost {
            return End::LeaseLost;
        }
        tokio::select! {
            msg = channel.wait() => match msg {
                Some(ChannelMsg::Data { data }) => log.push(&data).await,
                Some(ChannelMsg::ExtendedData { data, .. }) => log.push(&data).await,
                Some(ChannelMsg::ExitStatus { exit_status }) => code = Some(i64::from(exit_status)),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => signal = Some(format!("{signal_name:?}")),
                Some(_) => {}
                None => {
                    log.flush(true).await;
                    return End::Exited { code, signal };
                }
            },
            _ = flush.tick() => log.flush(false).await,
            _ = beat.tick() => match log.sink.heartbeat().await {
                Ok(h) if h.cancel_requested => return End::Cancelled,
                Ok(_) => failed_beats = 0,
                Err(RunnerError::LeaseLost(_)) => return End::LeaseLost,
                Err(e) => {
                    failed_beats += 1;
                    tracing::warn!(error = %e, failed_beats, "heartbeat failed");
                    // Past the lease the gateway has given the run away: stop working on it.
                    if failed_beats >= 10 {
                        return End::LeaseLost;
                    }
                }
            },
            _ = tokio::time::sleep_until(deadline) => return End::TimedOut,
            _ = stop.cancel.cancelled() => return End::Cancelled,
            _ = stop.shutdown.cancelled() => return End::Shutdown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_characters_wait_for_the_next_packet() {
        let e = "é".as_bytes(); // 2 bytes
        let euro = "€".as_bytes(); // 3 bytes
        assert_eq!(complete_prefix(b"abc"), 3);
        assert_eq!(complete_prefix(&[b'a', e[0]]), 1);
        assert_eq!(complete_prefix(&[b'a', e[0], e[1]]), 3);
        assert_eq!(complete_prefix(&[b'a', euro[0], euro[1]]), 1);
        assert_eq!(complete_prefix(&[euro[0], euro[1], euro[2]]), 3);
        assert_eq!(complete_prefix(&[]), 0);
    }
}
