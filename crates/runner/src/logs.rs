//! Run logs: chunks in `codebase_run_logs` (the source of truth, read whole or
//! by late joiners), a byte cap per run with one truncation note, and a live
//! fan-out to followers through a broadcast channel per run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::Stream;
use tokio::sync::{broadcast, mpsc};

use crate::error::{Result, RunnerError};
use crate::service::{Runs, settings};
use crate::types::{Run, RunStatus};

/// What followers of a run's log receive.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent {
    /// A stored chunk, in `seq` order.
    Chunk { seq: i64, text: String },
    /// The run is over; nothing follows.
    Done { status: RunStatus, exit_code: Option<i64>, error: Option<String> },
}

/// Live fan-out: one broadcast sender per followed run.
#[derive(Default)]
pub struct LogHub {
    senders: Mutex<HashMap<i64, broadcast::Sender<LogEvent>>>,
}

impl LogHub {
    fn subscribe(&self, run_id: i64) -> Option<broadcast::Receiver<LogEvent>> {
        let mut map = self.senders.lock().ok()?;
        Some(map.entry(run_id).or_insert_with(|| broadcast::channel(256).0).subscribe())
    }

    /// Sends to the run's followers, if any; forgets the run when it is done or nobody listens.
    fn publish(&self, run_id: i64, ev: LogEvent) {
        let Ok(mut map) = self.senders.lock() else { return };
        let done = matches!(ev, LogEvent::Done { .. });
        if let Some(tx) = map.get(&run_id) {
            let _ = tx.send(ev);
            if done || tx.receiver_count() == 0 {
                map.remove(&run_id);
            }
        }
    }
}

/// What happened to an appended chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Appended {
    /// The log reached its cap: this chunk was cut (or dropped) and later ones will be dropped.
    pub truncated: bool,
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Runs {
    /// Appends a chunk written by the run's lease holder. `seq` comes from the runner, so a
    /// retried append (same seq) is stored once. Past `runner.max_log_bytes` the text is cut,
    /// a note is added once, and later chunks are dropped.
    pub async fn append_log(&self, run_id: i64, runner_id: &str, seq: i64, text: &str) -> Result<Appended> {
        let cap = self.setting(settings::MAX_LOG_BYTES).await.max(1024);
        let db = &self.0.db;
        let mut tx = db.begin().await?;
        let row = tx
            .fetch_optional(
                "SELECT status, runner_id, log_bytes, log_truncated FROM codebase_runs WHERE id = ?",
                &[run_id.into()],
            )
            .await?
            .ok_or(RunnerError::LeaseLost(run_id))?;
        if row.str("status") != Some("running") || row.str("runner_id") != Some(runner_id) {
            return Err(RunnerError::LeaseLost(run_id));
        }
        if row.bool("log_truncated") {
            return Ok(Appended { truncated: true });
        }
        let dup = tx
            .fetch_optional(
                "SELECT 1 AS x FROM codebase_run_logs WHERE run_id = ? AND seq = ?",
                &[run_id.into(), seq.into()],
            )
            .await?;
        if dup.is_some() {
            return Ok(Appended { truncated: false });
        }
        let used = row.i64("log_bytes").unwrap_or_default();
        let room = usize::try_from(cap - used).unwrap_or(0);
        let kept = cut(text, room);
        let truncated = kept.len() < text.len();
        let mut chunk = kept.to_string();
        if truncated {
            chunk.push_str(&format!(
                "\n[gateway] log truncated: this run's log reached {cap} bytes (runner.max_log_bytes); \
                 further output is dropped\n"
            ));
        }
        let now = spgw_core::time::now_ms();
        tx.execute(
            "INSERT INTO codebase_run_logs (run_id, seq, chunk, created_at) VALUES (?, ?, ?, ?)",
            &[run_id.into(), seq.into(), chunk.as_str().into(), now.into()],
        )
        .await?;
        tx.execute(
            "UPDATE codebase_runs SET log_bytes = log_bytes + ?, log_truncated = ?, updated_at = ? WHERE id = ?",
            &[(kept.len() as i64).into(), truncated.into(), now.into(), run_id.into()],
        )
        .await?;
        tx.commit().await?;
        self.0.hub.publish(run_id, LogEvent::Chunk { seq, text: chunk });
        Ok(Appended { truncated })
    }

    /// Appends a line written by the gateway itself (claims, recoveries), after the last chunk.
    pub(crate) async fn note(&self, run_id: i64, text: &str) -> Result<i64> {
        let seq = self.next_seq(run_id).await?;
        let line = format!("[gateway] {text}\n");
        self.0
            .db
            .execute(
                "INSERT INTO codebase_run_logs (run_id, seq, chunk, created_at) VALUES (?, ?, ?, ?)",
                &[run_id.into(), seq.into(), line.as_str().into(), spgw_core::time::now_ms().into()],
            )
            .await?;
        self.0.hub.publish(run_id, LogEvent::Chunk { seq, text: line });
        Ok(seq)
    }

    /// The sequence number after the last stored chunk.
    pub(crate) async fn next_seq(&self, run_id: i64) -> Result<i64> {
        let row = self
            .0
            .db
            .fetch_optional("SELECT MAX(seq) AS m FROM codebase_run_logs WHERE run_id = ?", &[run_id.into()])
            .await?;
        Ok(row.and_then(|r| r.i64("m")).unwrap_or(0) + 1)
    }

    /// Chunks after `after_seq`, in order.
    pub async fn log_chunks(&self, run_id: i64, after_seq: i64) -> Result<Vec<(i64, String)>> {
        let rows = self
            .0
            .db
            .fetch_all(
                "SELECT seq, chunk FROM codebase_run_logs WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT 1000",
                &[run_id.into(), after_seq.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.i64("seq").unwrap_or_default(), r.str("chunk").unwrap_or_default().to_string()))
            .collect())
    }

    /// The whole log as text.
    pub async fn read_log(&self, run_id: i64) -> Result<String> {
        let mut out = String::new();
        let mut last = 0;
        loop {
            let chunks = self.log_chunks(run_id, last).await?;
            let Some((seq, _)) = chunks.last() else { break };
            last = *seq;
            for (_, text) in &chunks {
                out.push_str(text);
            }
        }
        Ok(out)
    }

    pub(crate) fn publish_done(&self, run: &Run) {
        self.0
            .hub
            .publish(run.id, LogEvent::Done { status: run.status, exit_code: run.exit_code, error: run.error.clone() });
    }

    /// Follows a run's log: what is stored first, then chunks as they arrive, then `Done`.
    /// Live chunks come through the broadcast of this process; the database is read again
    /// for gaps, for a lagging follower, and every two seconds (chunks appended through
    /// another gateway node), so a follower never misses or repeats a chunk.
    pub fn follow(&self, run_id: i64) -> impl Stream<Item = LogEvent> + Send + use<> {
        let (tx, rx) = mpsc::channel(64);
        let runs = self.clone();
        tokio::spawn(async move {
            if let Err(e) = runs.pump(run_id, tx).await {
                tracing::warn!(run_id, error = %e, "log follower stopped");
            }
        });
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|ev| (ev, rx)) })
    }

    async fn pump(&self, run_id: i64, tx: mpsc::Sender<LogEvent>) -> Result<()> {
        // Subscribe before reading the backlog, so nothing falls between the two.
        let mut live = self.0.hub.subscribe(run_id);
        let mut last = 0;
        loop {
            // Read what is stored, then decide whether the run is over.
            let status = self.run_status(run_id).await?;
            for (seq, text) in self.log_chunks(run_id, last).await? {
                last = seq;
                if tx.send(LogEvent::Chunk { seq, text }).await.is_err() {
                    return Ok(());
                }
            }
            let Some(run) = status else { return Ok(()) };
            if run.status.is_terminal() {
                // Chunks written just before the finish are in the read above (finish comes last).
                let _ =
                    tx.send(LogEvent::Done { status: run.status, exit_code: run.exit_code, error: run.error }).await;
                return Ok(());
            }
            // Wait for live events; deliver in-order chunks directly, fall back to the database otherwise.
            let deadline = tokio::time::sleep(Duration::from_secs(2));
            tokio::pin!(deadline);
            loop {
                let ev = match live.as_mut() {
                    Some(rx) => tokio::select! {
                        ev = rx.recv() => ev,
                        _ = &mut deadline => break,
                        _ = tx.closed() => return Ok(()),
                    },
                    None => {
                        (&mut deadline).await;
                        break;
                    }
                };
                match ev {
                    Ok(LogEvent::Chunk { seq, text }) if seq == last + 1 => {
                        last = seq;
                        if tx.send(LogEvent::Chunk { seq, text }).await.is_err() {
                            return Ok(());
                        }
                    }
                    Ok(LogEvent::Chunk { seq, .. }) if seq <= last => {}
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => {
                        live = self.0.hub.subscribe(run_id);
                        break;
                    }
                }
            }
        }
    }

    async fn run_status(&self, run_id: i64) -> Result<Option<Run>> {
        let row = self.0.db.fetch_optional("SELECT * FROM codebase_runs WHERE id = ?", &[run_id.into()]).await?;
        row.as_ref().map(Run::from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("héllo", 2), "h");
        assert_eq!(cut("héllo", 3), "hé");
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("abc", 0), "");
    }
}
