//! The request log: one row per upstream attempt. Rows are queued and written
//! in batches by one background task, so a request never pays for the insert;
//! at shutdown the queue is drained and flushed.
//!
//! The queue is bounded and nothing is dropped: when the writer falls behind
//! (a saturated single core at 15k requests/s), a request waits for room
//! ([`RequestLog::log`]) rather than queueing without bound. `bench/run` found
//! the earlier fallback, a spawned task per row waiting for room, holding
//! ~1.3 KB per request: 400 MB after a minute at full load.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use spgw_store::{Backend, Db, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::limits::Limiter;
use crate::metrics::Metrics;

/// Rows kept in memory before a request waits for the writer.
const QUEUE: usize = 8192;
const BATCH: usize = 512;
const FLUSH_EVERY: Duration = Duration::from_millis(250);

/// One attempt as recorded.
#[derive(Debug, Clone, Default)]
pub struct LogEntry {
    pub request_id: String,
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub project_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub task_id: Option<i64>,
    pub session_id: Option<String>,
    pub endpoint: &'static str,
    pub provider: String,
    pub model: String,
    /// What the caller asked for (`provider/model`, or the agent's first model).
    pub requested_model: Option<String>,
    pub stream: bool,
    pub status_code: u16,
    pub error_code: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: f64,
    pub latency_ms: u64,
    pub ttft_ms: Option<u64>,
    pub created_at: i64,
}

const COLUMNS: &str = "request_id, user_id, api_key_id, project_id, agent_id, task_id, session_id, endpoint, provider, \
    model, requested_model, stream, status_code, error_code, input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost_usd, \
    latency_ms, ttft_ms, created_at";
const PER_ROW: usize = 22;

impl LogEntry {
    fn push_values(self, out: &mut Vec<Value>) {
        out.extend([
            Value::Text(self.request_id),
            self.user_id.into(),
            self.api_key_id.into(),
            self.project_id.into(),
            self.agent_id.into(),
            self.task_id.into(),
            self.session_id.into(),
            Value::Text(self.endpoint.to_string()),
            Value::Text(self.provider),
            Value::Text(self.model),
            self.requested_model.into(),
            Value::Int(self.stream as i64),
            Value::Int(self.status_code as i64),
            self.error_code.into(),
            Value::Int(self.input_tokens as i64),
            Value::Int(self.output_tokens as i64),
            Value::Int(self.cached_tokens as i64),
            Value::Int(self.reasoning_tokens as i64),
            Value::Float(self.cost_usd),
            Value::Int(self.latency_ms as i64),
            self.ttft_ms.map(|t| t as i64).into(),
            Value::Int(self.created_at),
        ]);
    }
}

/// The sending side, cheap to clone. Every entry also reaches the metrics and
/// the limiter (usage charged to keys and users) when the router has them.
#[derive(Clone)]
pub struct RequestLog {
    tx: mpsc::Sender<LogEntry>,
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) limiter: Option<Arc<Limiter>>,
}

/// The writer task; [`LogWriter::shutdown`] flushes what is queued.
pub struct LogWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RequestLog {
    /// Starts the writer over `db`.
    pub fn start(db: Db) -> (RequestLog, LogWriter) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(db, rx, stopped));
        (RequestLog { tx, metrics: None, limiter: None }, LogWriter { stop, task })
    }

    /// Queues a row, waiting for room when the writer is behind (backpressure).
    pub async fn log(&self, e: LogEntry) {
        self.count(&e);
        let _ = self.tx.send(e).await;
    }

    /// Queues a row from code that cannot wait (a stream's end, in `poll`): when
    /// the queue is full, a task waits for room. Rows from requests go through
    /// [`RequestLog::log`], which waits itself, so these waiters stay few.
    pub fn record(&self, e: LogEntry) {
        self.count(&e);
        if let Err(mpsc::error::TrySendError::Full(e)) = self.tx.try_send(e) {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(e).await;
            });
        }
    }

    fn count(&self, e: &LogEntry) {
        if let Some(m) = &self.metrics {
            m.observe(e);
        }
        if let Some(l) = &self.limiter {
            l.record(e);
        }
    }
}

impl LogWriter {
    /// Stops the writer after writing everything queued.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<LogEntry>, mut stopped: oneshot::Receiver<()>) {
    let mut buf: Vec<LogEntry> = Vec::with_capacity(BATCH);
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        let room = BATCH - buf.len();
        tokio::select! {
            // Everything queued at once (up to a batch), not one row per wake-up.
            got = rx.recv_many(&mut buf, room) => {
                if got == 0 {
                    break;
                }
                if buf.len() >= BATCH {
                    flush(&db, &mut buf).await;
                }
            }
            _ = tick.tick() => flush(&db, &mut buf).await,
            _ = &mut stopped => break,
        }
    }
    while let Ok(e) = rx.try_recv() {
        buf.push(e);
    }
    while !buf.is_empty() {
        flush(&db, &mut buf).await;
    }
}

/// Rows per INSERT statement, largest first. Every statement has one of these
/// shapes, so each connection prepares each once and reuses it: a statement per
/// batch size made SQLite parse a new statement of up to 11,000 parameters at
/// almost every flush (`heaptrack`: ~70 SQLite allocations per logged request).
const SHAPES: [usize; 3] = [64, 8, 1];

fn insert_sql(verb: &str, rows: usize) -> String {
    let row = format!("({})", vec!["?"; PER_ROW].join(", "));
    format!("{verb} INTO request_log ({COLUMNS}) VALUES {}", vec![row.as_str(); rows].join(", "))
}

/// SQLite: `OR ROLLBACK`, so a failed row rolls the whole batch back (as the
/// transaction does anyway). With the default `ABORT`, a multi-row statement
/// inside a transaction needs a statement journal to undo just itself, and a
/// 64-row one outgrows the 64 KiB kept in memory: SQLite created, filled
/// (~360 pages) and deleted a temporary file on every flush (`strace`).
static INSERTS_SQLITE: LazyLock<[String; 3]> = LazyLock::new(|| SHAPES.map(|n| insert_sql("INSERT OR ROLLBACK", n)));
static INSERTS_MYSQL: LazyLock<[String; 3]> = LazyLock::new(|| SHAPES.map(|n| insert_sql("INSERT", n)));

async fn flush(db: &Db, buf: &mut Vec<LogEntry>) {
    if buf.is_empty() {
        return;
    }
    let batch: Vec<LogEntry> = buf.drain(..buf.len().min(BATCH)).collect();
    let n = batch.len();
    let mut args = Vec::with_capacity(n * PER_ROW);
    for e in batch {
        e.push_values(&mut args);
    }
    for attempt in 0..3 {
        match write(db, &args).await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(rows = n, attempt, error = %e, "request log write failed");
                tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
            }
        }
    }
    tracing::error!(rows = n, "request log rows dropped after 3 failed writes");
}

/// Writes the rows whose values are `args` in one transaction (all or none).
async fn write(db: &Db, mut args: &[Value]) -> Result<(), spgw_store::StoreError> {
    let inserts = match db.backend() {
        Backend::Sqlite => &INSERTS_SQLITE,
        Backend::MySql => &INSERTS_MYSQL,
    };
    let mut tx = db.begin().await?;
    for (rows, sql) in SHAPES.iter().zip(inserts.iter()) {
        let mut chunks = args.chunks_exact(rows * PER_ROW);
        for chunk in chunks.by_ref() {
            tx.execute(sql, chunk).await?;
        }
        args = chunks.remainder();
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_row_is_written_whatever_the_batch_size() {
        let t = spgw_store::TempSqlite::new("log").await.unwrap();
        let db = t.db.clone();
        // 1,000 rows: full batches of 512 (8 statements of 64), then a rest of 488
        // (7 × 64, 5 × 8) and single rows from the sizes below.
        let (log, writer) = RequestLog::start(db.clone());
        for i in 0..1_000 {
            log.log(LogEntry { request_id: format!("r{i}"), status_code: 200, created_at: i, ..LogEntry::default() })
                .await;
        }
        // And a few rows that only the shutdown flush writes.
        for i in 0..3 {
            log.record(LogEntry { request_id: format!("late{i}"), created_at: 5_000 + i, ..LogEntry::default() });
        }
        writer.shutdown().await;
        let n = db.fetch_optional("SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM request_log", &[]).await;
        let row = n.unwrap().unwrap();
        assert_eq!((row.i64("n"), row.i64("d")), (Some(1_003), Some(1_003)));
        // Values land in their columns.
        let r =
            db.fetch_optional("SELECT status_code, created_at FROM request_log WHERE request_id = 'r999'", &[]).await;
        let r = r.unwrap().unwrap();
        assert_eq!((r.i64("status_code"), r.i64("created_at")), (Some(200), Some(999)));
        db.close().await;
    }

    #[test]
    fn shapes_cover_any_rest() {
        // Each shape divides the one before it, so a rest always ends in single rows.
        assert!(SHAPES.windows(2).all(|w| w[0] % w[1] == 0) && SHAPES[SHAPES.len() - 1] == 1);
        for inserts in [&INSERTS_SQLITE, &INSERTS_MYSQL] {
            assert_eq!(inserts[2].matches('?').count(), PER_ROW);
            assert_eq!(inserts[0].matches('?').count(), 64 * PER_ROW);
        }
    }

    #[tokio::test]
    async fn a_bad_row_writes_none_of_its_batch() {
        let t = spgw_store::TempSqlite::new("log-rollback").await.unwrap();
        let db = t.db.clone();
        let batch = |n: i64| {
            let mut args = Vec::new();
            for i in 0..n {
                LogEntry { request_id: format!("r{i}"), created_at: i, ..LogEntry::default() }.push_values(&mut args);
            }
            args
        };
        // 73 rows (64 + 8 + 1 statements); the last row breaks NOT NULL.
        let mut bad = batch(73);
        bad[72 * PER_ROW] = Value::Null;
        assert!(write(&db, &bad).await.is_err());
        let count = || async {
            db.fetch_optional("SELECT COUNT(*) AS n FROM request_log", &[]).await.unwrap().unwrap().i64("n")
        };
        assert_eq!(count().await, Some(0));
        // The connection is left usable: the next batch is written whole.
        write(&db, &batch(73)).await.unwrap();
        assert_eq!(count().await, Some(73));
        db.close().await;
    }
}
