//! Start-up and shutdown: data directory, master key, database and
//! migrations, the first admin, the HTTP server, and the background sweeper.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method};
use spgw_config::{Config, MasterKeySource};
use spgw_core::MasterKey;
use spgw_store::{Db, DbOptions};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::state::AppState;

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] spgw_config::ConfigError),
    #[error("security.master_key: {0}")]
    Key(#[from] spgw_core::CoreError),
    #[error("{0}")]
    Store(#[from] spgw_store::StoreError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("model catalog: {0}")]
    Catalog(#[from] spgw_routing::RouteError),
    #[error("redis.url: {0}")]
    Sessions(String),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let context = context.into();
    move |source| StartError::Io { context, source }
}

/// Connects to the configured database.
pub async fn connect_db(config: &Config) -> Result<Db, StartError> {
    connect_pool(config, config.database.max_open, config.database.max_idle).await
}

async fn connect_pool(config: &Config, max_open: u32, max_idle: u32) -> Result<Db, StartError> {
    let opts = DbOptions {
        url: config.database_url(),
        max_open,
        max_idle,
        connect_timeout: config.database.connect_timeout(),
    };
    Ok(Db::connect(&opts).await?)
}

/// Loads (or on first start generates) the master key.
pub fn master_key(config: &Config) -> Result<MasterKey, StartError> {
    let source = config.master_key_source();
    if let MasterKeySource::Generated(path) = &source {
        if !path.exists() {
            tracing::warn!(
                path = %path.display(),
                "no security.master_key configured: generated one; back this file up, losing it makes stored provider keys and credentials unreadable"
            );
        } else {
            tracing::info!(path = %path.display(), "using the generated master key");
        }
    }
    let text = source.load_or_create(MasterKey::generate_text)?;
    Ok(MasterKey::parse(text.expose())?)
}

/// Creates the `admin` user on first start, with `SPGW_ADMIN_PASSWORD` or a
/// generated password printed once.
async fn bootstrap_admin(db: &Db) -> Result<(), StartError> {
    if spgw_store::repo::users::count(db).await? > 0 {
        return Ok(());
    }
    let (password, generated) = match std::env::var("SPGW_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (spgw_core::apikey::random_token()[..20].to_string(), true),
    };
    let hash = spgw_core::password::hash(&password)?;
    spgw_store::repo::users::create(db, "admin", &hash, "admin", None).await?;
    if generated {
        // Printed, not logged: it must not end up in log aggregation.
        println!(
            "\n  First start: created user `admin` with password  {password}\n  (shown once; set SPGW_ADMIN_PASSWORD to choose it)\n"
        );
    } else {
        println!("First start: created user `admin` with the password from SPGW_ADMIN_PASSWORD");
    }
    Ok(())
}

/// Everything up to a bound listener; `run` serves it.
pub struct Prepared {
    pub state: AppState,
    pub log_writer: spgw_routing::log::LogWriter,
    /// The request log's own connection, closed after the writer's last flush.
    pub log_db: Db,
    pub listener: TcpListener,
    pub addr: SocketAddr,
}

/// Opens storage, applies migrations, creates the first admin and binds the port.
pub async fn prepare(config: Config) -> Result<Prepared, StartError> {
    let data_dir = config.server.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(io(format!("server.data_dir {}", data_dir.display())))?;
    let key = master_key(&config)?;
    let db = connect_db(&config).await?;
    db.migrate().await?;
    bootstrap_admin(&db).await?;
    let synced = spgw_routing::catalog_sync::sync(&db).await?;
    tracing::info!(?synced, "model catalog synced");
    // The request log writes through a connection of its own (beside the pool's
    // `database.max_open`): its batch INSERTs (up to 1,408 parameters) are
    // prepared once, not on every pool connection a flush lands on (~0.6 MB
    // each, `heaptrack`), and a flush never waits for a pool slot.
    let log_db = connect_pool(&config, 1, 1).await?;
    let (log, log_writer) = spgw_routing::log::RequestLog::start(log_db.clone());
    let settings = spgw_store::repo::settings::Settings::new(db.clone());
    let redis_url = config.redis.url.as_deref().filter(|u| !u.trim().is_empty());
    let (limiter, cache) = limits_and_cache(&db, &settings, redis_url, &config.redis.key_prefix).await?;
    let router = spgw_routing::Router::new(db.clone(), key.clone(), log, spgw_routing::RouterOptions::default())?
        .with_settings(settings.clone())
        .with_metrics(Arc::new(spgw_routing::Metrics::new()))
        .with_limiter(limiter)
        .with_cache(cache);
    let ttl = config.redis.session_ttl();
    let sessions = match config.redis.url.as_deref().filter(|u| !u.trim().is_empty()) {
        None => spgw_sessions::Sessions::Sql(spgw_sessions::SqlStore::new(db.clone(), settings.clone(), ttl)),
        Some(url) => spgw_sessions::Sessions::Redis(
            spgw_sessions::RedisStore::connect(db.clone(), settings.clone(), url, &config.redis.key_prefix, ttl)
                .await
                .map_err(|e| StartError::Sessions(e.to_string()))?,
        ),
    };
    let bind = format!("{}:{}", config.server.host, config.server.port);
    let listener = TcpListener::bind(&bind).await.map_err(io(format!("cannot listen on {bind}")))?;
    let addr = listener.local_addr().map_err(io("listener address"))?;
    let state = AppState::new(db, Arc::new(config), key, Arc::new(router), sessions, settings);
    Ok(Prepared { state, log_writer, log_db, listener, addr })
}

/// Rate-limit counters and the response cache: in Redis when it is configured
/// (shared by every gateway process), else in this process's memory.
async fn limits_and_cache(
    db: &Db,
    settings: &spgw_store::repo::settings::Settings,
    redis_url: Option<&str>,
    prefix: &str,
) -> Result<(Arc<spgw_routing::Limiter>, Arc<spgw_routing::ResponseCache>), StartError> {
    use spgw_routing::{Limiter, ResponseCache};
    Ok(match redis_url {
        None => {
            let mb = settings.int("cache.max_memory_mb", 64).await.clamp(1, 1 << 16) as usize;
            (Arc::new(Limiter::in_memory(db.clone())), Arc::new(ResponseCache::in_memory(mb << 20)))
        }
        Some(url) => {
            let conn = spgw_routing::connect_redis(url).await.map_err(|e| StartError::Sessions(e.to_string()))?;
            (Arc::new(Limiter::redis(db.clone(), conn.clone(), prefix)), Arc::new(ResponseCache::redis(conn, prefix)))
        }
    })
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let list: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                axum::http::header::CONTENT_TYPE,
                axum::http::header::AUTHORIZATION,
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-spgw-cache"),
            ]),
    )
}

/// The full application router with its middleware.
///
/// `Router::layer` wraps every route on its own, and axum clones a route's whole
/// stack of boxed services for each request (and each `from_fn` clones what it
/// wraps again): with five layers that was ~40 small allocations per request
/// (`heaptrack`, bench/README.md). So what does not need the matched route (CORS
/// and the access log) wraps the router once, as its fallback service. The
/// metrics layer labels by the route's template (`MatchedPath`, known only inside
/// the router), so it stays per route, and the timeout with it, inside it, so a
/// request cut off with 408 is still counted.
pub fn app(state: AppState) -> axum::Router {
    let config = state.config.clone();
    let metrics = state.router.metrics().cloned();
    // One `layer` call for both: each call boxes every route once more, and each
    // box is cloned per request.
    let per_route = tower::ServiceBuilder::new()
        .option_layer(metrics.map(|m| axum::middleware::from_fn_with_state(m, crate::routes::metrics::track)))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            config.server.request_timeout(),
        ));
    let routes = crate::routes::router(state).layer(per_route);
    let outer = tower::ServiceBuilder::new()
        .option_layer(cors(&config.server.allowed_origins))
        .layer(axum::middleware::from_fn(crate::middleware::request_log))
        .service(routes);
    axum::Router::new().fallback_service(outer)
}

/// Serves until SIGINT/SIGTERM, then drains in-flight requests for up to
/// `server.shutdown_grace_secs`.
pub async fn run(p: Prepared) -> Result<(), StartError> {
    let Prepared { state, log_writer, log_db, listener, addr } = p;
    println!(
        "SP Gateway listening on http://{addr}  (UI: http://{addr}/ , API: http://{addr}/api/v1 , log in as admin)"
    );
    let sweeper = tokio::spawn(sweep_sessions(state.clone()));
    let session_sweeper = state.sessions.spawn_sweeper(Duration::from_secs(300));
    // Codebase runs: lease recovery, and the in-process runner (setting `runner.local_enabled`).
    let run_workers = state.runs.start_workers();
    let mcp = state.mcp.clone();
    // External MCP servers: the background health check (`mcp.health_interval_seconds`).
    let mcp_health = mcp.spawn_health();
    // Tasks: the scheduler, the trigger evaluator and the executor (agents run through `state.agents`).
    let mut task_config = spgw_tasks::worker::WorkerConfig::new(
        state.config.server.data_dir.clone(),
        state.config.server.shutdown_grace(),
    );
    if let Some(m) = state.router.metrics().cloned() {
        task_config.claim_observer = Some(Arc::new(move |d: Duration| m.task_claim(d.as_secs_f64())));
    }
    let task_workers = spgw_tasks::worker::start(
        state.db.clone(),
        state.settings.clone(),
        Some(Arc::new(state.agents.clone())),
        task_config,
    );
    let stop_tasks = task_workers.stopper();
    let grace = state.config.server.shutdown_grace();
    let db = state.db.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // `into_make_service`: each connection gets a clone of the finished router (an Arc).
    // Served as a plain `Router`, axum re-runs `with_state` per connection, rebuilding the
    // route table: ~36 KB and a rehash for every new connection (heaptrack: 9.5 MB at 256).
    let server = axum::serve(listener, app(state).into_make_service()).with_graceful_shutdown(async move {
        shutdown_signal().await;
        stop_tasks.cancel();
        tracing::info!("shutting down: draining in-flight requests");
        let _ = tx.send(());
    });
    let served = tokio::spawn(async move { server.await });
    // Past the grace period, stop waiting for slow streams.
    tokio::select! {
        r = served => { r.map_err(|e| StartError::Io { context: "server task".into(), source: std::io::Error::other(e) })?.map_err(io("server"))?; }
        _ = async { let _ = rx.await; tokio::time::sleep(grace).await } => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
    sweeper.abort();
    session_sweeper.abort();
    mcp_health.abort();
    // Runs executing here go back to the queue before the pool closes.
    run_workers.shutdown().await;
    // In-flight task runs finish within the grace period or go back to the queue.
    task_workers.shutdown().await;
    // MCP sessions end properly: stdio servers stopped, HTTP sessions deleted.
    mcp.shutdown().await;
    // Every queued request-log row is written before the pool closes.
    log_writer.shutdown().await;
    log_db.close().await;
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Removes expired login sessions every ten minutes.
async fn sweep_sessions(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match spgw_store::repo::auth::sweep_sessions(&state.db).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired login sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session sweep failed"),
        }
    }
}
