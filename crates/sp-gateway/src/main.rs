//! `sp-gateway`: the one binary. Parses the command line, loads the
//! configuration, sets up logging and hands over to the crates that do the work.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alloc;
mod log_format;
mod log_sink;
mod logging;

/// SP Gateway: one API to every major AI provider, and a workplace for AI agents.
#[derive(Parser)]
#[command(name = "sp-gateway", version, about)]
struct Cli {
    /// Configuration file (JSON, comments allowed); default: $CONFIG_PATH, else ./sp-gateway.json when present.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the version and exit.
    Version,
    /// Print the OpenAPI document (JSON) and exit; the web UI's client types are generated from it.
    Openapi,
    /// Run codebase runs claimed from a gateway, over SSH, on this machine (see docs/api.md).
    Runner(RunnerArgs),
}

#[derive(clap::Args)]
struct RunnerArgs {
    /// The gateway's base URL, e.g. http://gateway:8080.
    #[arg(long, env = "SPGW_RUNNER_GATEWAY")]
    gateway: String,
    /// A gateway API key of an admin (claims carry the codebases' SSH keys).
    #[arg(long, env = "SPGW_RUNNER_TOKEN", hide_env_values = true)]
    token: String,
    /// Comma-separated tags; runs whose assigned_tags are a subset are claimed.
    #[arg(long, value_delimiter = ',', default_value = "")]
    tags: Vec<String>,
    /// The runner's name (shown as the runs' runner_id); default: random.
    #[arg(long)]
    name: Option<String>,
    /// Runs executed at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
}

fn env_vars() -> Vec<(String, String)> {
    // vars_os: std::env::vars() panics on non-UTF-8 entries; such entries are simply not ours.
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

fn main() -> ExitCode {
    alloc::tune();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Version = command {
        println!("sp-gateway {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Command::Openapi = command {
        return match spgw_api::routes::openapi::spec().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot render the OpenAPI document: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match spgw_config::load(cli.config.as_deref(), env_vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Kept until `main` returns: dropping it flushes the log lines still queued.
    let _log_guard = match logging::init(&config.logging) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("cannot start the log writer: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match runtime(config.server.worker_threads) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Runner(a) = command {
        let tags = a.tags.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        let opts = spgw_runner::remote::RemoteOptions {
            gateway: a.gateway,
            token: a.token,
            tags,
            name: a.name,
            concurrency: a.concurrency,
        };
        return match runtime.block_on(spgw_runner::remote::run_until_signal(opts)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sp-gateway runner: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let result = runtime.block_on(async move {
        match command {
            Command::Migrate => {
                let db = spgw_api::app::connect_db(&config).await?;
                db.migrate().await?;
                println!("migrations applied");
                Ok(())
            }
            _ => spgw_api::app::run(spgw_api::app::prepare(config).await?).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sp-gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The async runtime, one worker per CPU the process may use (affinity and
/// cgroup quota, as `available_parallelism` sees them) unless
/// `server.worker_threads` says otherwise. With one, tokio's current-thread
/// scheduler: a work-stealing pool of one worker has no one to steal from, and
/// its cross-thread queues and wake-ups cost a quarter of the throughput of a
/// proxied request on one core (bench/README.md, sixth session).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let n = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let mut builder = if n == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(n);
        b
    };
    builder.enable_all().build()
}
