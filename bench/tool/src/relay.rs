//! A plain TCP relay: every accepted connection is joined byte for byte to a
//! new connection to the upstream. `bench/run` puts it where the gateway runs
//! (the same core, the same mock behind it) to measure the floor: what any
//! proxy adds on this machine before it does any work of its own (two more
//! loopback hops and the cross-core wake-ups that come with them).

use tokio::net::{TcpListener, TcpStream};

/// Relays until the process is killed.
pub async fn serve(port: u16, to: String) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("relay listening on 127.0.0.1:{} to {to}", listener.local_addr()?.port());
    loop {
        let (mut sock, _) = listener.accept().await?;
        let _ = sock.set_nodelay(true);
        let to = to.clone();
        tokio::spawn(async move {
            let Ok(mut up) = TcpStream::connect(&to).await else { return };
            let _ = up.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
        });
    }
}
