//! `sp-gateway runner`: a runner on another machine. It claims runs through
//! the gateway's API (`/api/v1/runner/*`, admin keys only: a claim carries the
//! decrypted SSH key), executes them over SSH like the in-process worker, and
//! reports logs, heartbeats and the end through the same API.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::error::{Result, RunnerError};
use crate::exec::{RunSink, Stop, execute};
use crate::logs::Appended;
use crate::queue::Heartbeat;
use crate::types::{Job, Outcome};

/// Options of a remote runner.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The gateway's base URL (`http://host:8080`).
    pub gateway: String,
    /// A gateway API key of an admin.
    pub token: String,
    /// The runner claims runs whose tags are a subset of these.
    pub tags: Vec<String>,
    /// Name shown as the runs' `runner_id` (default: a random one).
    pub name: Option<String>,
    /// Runs executed at once.
    pub concurrency: usize,
}

/// How long one claim request waits on the gateway for a run.
const CLAIM_WAIT_SECONDS: u64 = 10;

/// The gateway's runner API.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize, run_id: i64) -> Result<Option<T>> {
        let mut delay = Duration::from_millis(300);
        for attempt in 1..=4 {
            let sent =
                self.http.post(format!("{}{path}", self.base)).header("x-api-key", &self.token).json(body).send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) if attempt < 4 => {
                    tracing::debug!(error = %e, path, "gateway unreachable; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    continue;
                }
                Err(e) => return Err(RunnerError::Gateway(e.to_string())),
            };
            let status = resp.status();
            if status == StatusCode::NO_CONTENT {
                return Ok(None);
            }
            if status.is_success() {
                return resp.json().await.map(Some).map_err(|e| RunnerError::Gateway(e.to_string()));
            }
            if status.is_server_error() && attempt < 4 {
                tokio::time::sleep(delay).await;
                delay *= 2;
                continue;
            }
            let body: Json = resp.json().await.unwrap_or(Json::Null);
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(RunnerError::Refused(format!("{path}: {status}: {}", body["error"]["message"])));
            }
            let code = body["error"]["code"].as_str().unwrap_or_default();
            let message = body["error"]["message"].as_str().unwrap_or("no message").to_string();
            return Err(match code {
                "lease_lost" => RunnerError::LeaseLost(run_id),
                _ => RunnerError::Gateway(format!("{path}: {status}: {message}")),
            });
        }
        Err(RunnerError::Gateway(format!("{path}: no answer")))
    }
}

/// Reports to the gateway over HTTP.
struct HttpSink {
    api: Api,
    run_id: i64,
    runner_id: String,
}

impl HttpSink {
    fn path(&self, action: &str) -> String {
        format!("/api/v1/runner/runs/{}/{action}", self.run_id)
    }
}

impl RunSink for HttpSink {
    async fn record_host_key(&self, fingerprint: &str) -> Result<()> {
        let body = json!({"runner_id": self.runner_id, "fingerprint": fingerprint});
        self.api.post::<Json>(&self.path("host-key"), &body, self.run_id).await.map(|_| ())
    }
    async fn append(&self, seq: i64, text: &str) -> Result<Appended> {
        let body = json!({"runner_id": self.runner_id, "seq": seq, "text": text});
        let got = self.api.post::<Appended>(&self.path("log"), &body, self.run_id).await?;
        Ok(got.unwrap_or(Appended { truncated: false }))
    }
    async fn heartbeat(&self) -> Result<Heartbeat> {
        let body = json!({"runner_id": self.runner_id});
        self.api
            .post::<Heartbeat>(&self.path("heartbeat"), &body, self.run_id)
            .await?
            .ok_or_else(|| RunnerError::Gateway("empty heartbeat answer".into()))
    }
    async fn finish(&self, outcome: &Outcome) -> Result<()> {
        let body = json!({"runner_id": self.runner_id, "status": outcome.status, "exit_code": outcome.exit_code, "error": outcome.error});
        self.api.post::<Json>(&self.path("finish"), &body, self.run_id).await.map(|_| ())
    }
    async fn release(&self, reason: &str) -> Result<()> {
        let body = json!({"runner_id": self.runner_id, "reason": reason});
        self.api.post::<Json>(&self.path("release"), &body, self.run_id).await.map(|_| ())
    }
}

/// Runs until `shutdown`: claims, executes, reports. Fails only on a refused token.
pub async fn run(opts: RemoteOptions, shutdown: CancellationToken) -> Result<()> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(CLAIM_WAIT_SECONDS + 30))
        .build()
        .map_err(|e| RunnerError::Gateway(e.to_string()))?;
    let api = Api { http, base: opts.gateway.trim_end_matches('/').to_string(), token: opts.token.clone() };
    let runner_id =
        opts.name.clone().unwrap_or_else(|| format!("remote-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    let limit = opts.concurrency.max(1);
    tracing::info!(runner = %runner_id, gateway = %api.base, tags = ?opts.tags, "runner started");
    println!("sp-gateway runner {runner_id}: claiming runs from {} (tags: {:?})", api.base, opts.tags);
    let mut active = JoinSet::new();
    let mut backoff = Duration::from_secs(1);
    while !shutdown.is_cancelled() {
        while let Some(done) = active.try_join_next() {
            let _ = done;
        }
        if active.len() >= limit {
            tokio::select! {
                _ = active.join_next() => {}
                _ = shutdown.cancelled() => {}
            }
            continue;
        }
        let body = json!({"runner_id": runner_id, "tags": opts.tags, "wait_seconds": CLAIM_WAIT_SECONDS});
        let claimed = tokio::select! {
            r = api.post::<Json>("/api/v1/runner/claim", &body, 0) => r,
            _ = shutdown.cancelled() => break,
        };
        match claimed {
            Ok(Some(v)) => {
                backoff = Duration::from_secs(1);
                let job: Job = serde_json::from_value(v["job"].clone())
                    .map_err(|e| RunnerError::Gateway(format!("unreadable claim: {e}")))?;
                tracing::info!(run_id = job.run_id, runner = %runner_id, "claimed a run");
                let sink = HttpSink { api: api.clone(), run_id: job.run_id, runner_id: runner_id.clone() };
                let stop = Stop { cancel: CancellationToken::new(), shutdown: shutdown.child_token() };
                active.spawn(async move { execute(&job, &sink, &stop).await });
            }
            Ok(None) => backoff = Duration::from_secs(1),
            Err(RunnerError::Refused(m)) => {
                return Err(RunnerError::Refused(format!("{m} (the runner needs an admin's API key)")));
            }
            Err(e) => {
                tracing::warn!(error = %e, "claim failed; retrying in {backoff:?}");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.cancelled() => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
    // Running runs see the shutdown and give themselves back to the queue.
    while active.join_next().await.is_some() {}
    Ok(())
}

/// [`run`] until SIGINT or SIGTERM.
pub async fn run_until_signal(opts: RemoteOptions) -> Result<()> {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    trigger.cancel();
                    return;
                }
            };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("runner shutting down: giving running runs back");
        trigger.cancel();
    });
    run(opts, shutdown).await
}
