//! A tiny, fast mock OpenAI upstream on raw tokio TCP: HTTP/1.1 keep-alive,
//! a fixed ~1 KB chat completion with usage, or (when the body asks for
//! `"stream": true`) an SSE stream of N chunks with a set gap between them.
//! No HTTP framework: the point is that the mock costs far less than any
//! gateway in front of it, so the measurement is the gateway's.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the mock answers streams.
#[derive(Clone, Copy)]
pub struct StreamShape {
    /// Content chunks per stream (plus a role chunk, a final chunk with usage and `[DONE]`).
    pub chunks: usize,
    /// Pause between content chunks.
    pub gap: Duration,
}

/// Serves until the process is killed.
pub async fn serve(port: u16, shape: StreamShape) -> std::io::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let reply = Arc::new(completion_response());
    eprintln!("mock listening on 127.0.0.1:{}", listener.local_addr()?.port());
    loop {
        let (sock, _) = listener.accept().await?;
        let _ = sock.set_nodelay(true);
        let reply = reply.clone();
        tokio::spawn(async move {
            let _ = connection(sock, &reply, shape).await;
        });
    }
}

fn completion_body() -> String {
    // ~1 KB of content, like a short model answer.
    let content = "The quick brown fox jumps over the lazy dog. ".repeat(20);
    format!(
        concat!(
            r#"{{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-5-mini","#,
            r#""choices":[{{"index":0,"message":{{"role":"assistant","content":"{}"}},"finish_reason":"stop"}}],"#,
            r#""usage":{{"prompt_tokens":12,"completion_tokens":200,"total_tokens":212}}}}"#
        ),
        content.trim_end()
    )
}

fn completion_response() -> Vec<u8> {
    let body = completion_body();
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: keep-alive\r\n\r\n{}",
        body.len(),
        body
    )
    .into_bytes()
}

/// One SSE event as an HTTP chunk of a chunked body.
fn chunk(event: &str) -> Vec<u8> {
    let data = format!("data: {event}\n\n");
    format!("{:x}\r\n{data}\r\n", data.len()).into_bytes()
}

fn delta(content: &str, finish: Option<&str>, usage: bool) -> String {
    let finish = finish.map_or("null".to_string(), |f| format!("\"{f}\""));
    let usage = if usage { r#","usage":{"prompt_tokens":12,"completion_tokens":200,"total_tokens":212}"# } else { "" };
    format!(
        r#"{{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-5-mini","choices":[{{"index":0,"delta":{content},"finish_reason":{finish}}}]{usage}}}"#
    )
}

async fn stream(sock: &mut TcpStream, shape: StreamShape) -> std::io::Result<()> {
    sock.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n",
    )
    .await?;
    sock.write_all(&chunk(&delta(r#"{"role":"assistant","content":""}"#, None, false))).await?;
    let piece = chunk(&delta(r#"{"content":"token "}"#, None, false));
    for _ in 0..shape.chunks {
        if !shape.gap.is_zero() {
            tokio::time::sleep(shape.gap).await;
        }
        sock.write_all(&piece).await?;
    }
    sock.write_all(&chunk(&delta("{}", Some("stop"), true))).await?;
    sock.write_all(&chunk("[DONE]")).await?;
    sock.write_all(b"0\r\n\r\n").await
}

/// Serves requests on one keep-alive connection until the peer closes it.
async fn connection(mut sock: TcpStream, reply: &[u8], shape: StreamShape) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut tmp = [0u8; 16 * 1024];
    loop {
        // Read one request: headers, then content-length bytes of body.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = sock.read(&mut tmp).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&tmp[..n]);
        };
        let len = content_length(&buf[..head_end]);
        while buf.len() < head_end + len {
            let n = sock.read(&mut tmp).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        let body = &buf[head_end..head_end + len];
        let wants_stream = find(body, b"\"stream\":true").is_some() || find(body, b"\"stream\": true").is_some();
        if wants_stream {
            stream(&mut sock, shape).await?;
        } else {
            sock.write_all(reply).await?;
        }
        buf.drain(..head_end + len);
    }
}

/// Position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The Content-Length of a header block, 0 when absent.
pub fn content_length(head: &[u8]) -> usize {
    let text = String::from_utf8_lossy(head);
    text.split("\r\n")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0)
}
