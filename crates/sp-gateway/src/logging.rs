//! Log output: `text` for people, `json` for log pipelines.

use spgw_config::{LogFormat, LoggingConfig};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG` overrides the configured level.
///
/// Lines go to stderr through a writer thread (`tracing-appender`), so a request
/// never waits on a write to a slow terminal, pipe or log collector; when that
/// thread falls 8,192 lines behind, new lines wait (nothing is dropped; the
/// queue is allocated whole, so it is kept small). The returned guard flushes
/// what is queued when dropped.
pub fn init(cfg: &LoggingConfig) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8_192)
        .thread_name("spgw-log-writer")
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let _ = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}
