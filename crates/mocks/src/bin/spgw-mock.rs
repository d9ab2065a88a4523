//! Serves the mock upstreams on a fixed address, for the SDK tests and benchmarks:
//! `spgw-mock [ADDR]` (default `127.0.0.1:0`); prints `listening on ADDR`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let server = spgw_mocks::serve_on(&addr).await?;
    println!("listening on {}", server.addr);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
