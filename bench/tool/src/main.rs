//! `spgw-bench mock --port P [--chunks N] [--gap-ms G] [--threads T]`: the mock OpenAI upstream.
//! `spgw-bench relay --port P --to H:P`: a plain TCP relay (the floor any proxy pays).
//! `spgw-bench load --addr H:P --path /v1/chat/completions --body JSON [--header 'k: v']...
//!   [--rate R] [--conns C] [--seconds S] [--stream] [--threads T]`: one load round, result as JSON on stdout.

mod load;
mod mock;
mod relay;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn num<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    match arg(args, name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{name}: not a number: {v}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spgw-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main(args: &[String]) -> Result<(), String> {
    let threads: usize = num(args, "--threads", 1)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    match args.first().map(String::as_str) {
        Some("mock") => {
            let shape = mock::StreamShape {
                chunks: num(args, "--chunks", 20)?,
                gap: Duration::from_micros((num::<f64>(args, "--gap-ms", 10.0)? * 1000.0) as u64),
            };
            rt.block_on(mock::serve(num(args, "--port", 18090)?, shape)).map_err(|e| e.to_string())
        }
        Some("relay") => {
            let to = arg(args, "--to").ok_or("--to is required")?.to_string();
            rt.block_on(relay::serve(num(args, "--port", 18091)?, to)).map_err(|e| e.to_string())
        }
        Some("load") => {
            let addr = arg(args, "--addr").ok_or("--addr is required")?.to_string();
            let path = arg(args, "--path").unwrap_or("/v1/chat/completions");
            let body = arg(args, "--body").ok_or("--body is required")?;
            let headers: Vec<String> = args.windows(2).filter(|w| w[0] == "--header").map(|w| w[1].clone()).collect();
            let stream = args.iter().any(|a| a == "--stream");
            let plan = load::Plan {
                request: Arc::new(load::request(&addr, path, &headers, body, stream)),
                addr,
                rate: num(args, "--rate", 0)?,
                conns: num(args, "--conns", 64)?,
                duration: Duration::from_secs_f64(num(args, "--seconds", 5.0)?),
                stream,
            };
            println!("{}", rt.block_on(load::run(plan)));
            Ok(())
        }
        _ => Err("usage: spgw-bench mock|relay|load [options] (see bench/README.md)".into()),
    }
}
