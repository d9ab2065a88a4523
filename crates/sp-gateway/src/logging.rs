//! Log output: `text` for people, `json` for log pipelines.

use spgw_config::{LogFormat, LoggingConfig};
use tracing_subscriber::EnvFilter;

use crate::log_format;

/// Installs the global subscriber. `RUST_LOG` overrides the configured level.
///
/// Lines go to stderr through [`crate::log_sink`]: a request never waits on a
/// write to a slow terminal, pipe or log collector, and lines are written in
/// batches. The returned guard writes what is buffered when dropped.
pub fn init(cfg: &LoggingConfig) -> std::io::Result<crate::log_sink::Guard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let (writer, guard) = crate::log_sink::start(std::io::stderr())?;
    // Colours only for a terminal: escape codes in a log file are noise (and a dozen
    // small allocations per line). Without them, the same line is written by
    // `log_format`, at a fraction of the cost.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(writer);
    let _ = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text if ansi => builder.try_init(),
        LogFormat::Text => builder.event_format(log_format::Line).fmt_fields(log_format::Fields).try_init(),
    };
    Ok(guard)
}
