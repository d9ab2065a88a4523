//! The OpenAI-protocol mock on the wire: framing, checks, directives and the
//! request log. Spoken to over plain HTTP/1.1 so the test needs no client crate.
// The HTTP helpers below are test code too: a failure should panic.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// `(event, data)` of each SSE frame.
    fn frames(&self) -> Vec<(String, String)> {
        self.body
            .split("\n\n")
            .filter(|b| !b.is_empty())
            .map(|b| {
                let event = b.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default().to_string();
                let data = b.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or_default().to_string();
                (event, data)
            })
            .collect()
    }
}

async fn send(addr: std::net::SocketAddr, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> Answer {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: mock\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v == "chunked");
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    Answer { status, headers, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    out
}

fn chat(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn serves_four_prefixes_and_records_requests() {
    let mock = spgw_mocks::spawn().await.unwrap();
    for (provider, model) in [
        ("openai", "gpt-5.2"),
        ("xai", "grok-code-fast-1"),
        ("deepseek", "deepseek-chat"),
        ("huggingface", "Qwen/Qwen2.5-72B-Instruct"),
    ] {
        let base = mock.base_url(provider);
        let path = base.split_once(&mock.addr.to_string()).unwrap().1.to_string();
        let a = send(mock.addr, "POST", &format!("{path}/chat/completions"), Some("k"), Some(chat(model, "hi"))).await;
        assert_eq!(a.status, 200, "{provider}: {}", a.body);
        assert_eq!(a.json()["choices"][0]["message"]["content"], "Hello! You said: hi");
        assert_eq!(a.json()["model"], model);
        let rec = mock.requests().pop().unwrap();
        assert_eq!((rec.provider.as_str(), rec.path.as_str()), (provider, "/chat/completions"));
        assert_eq!(rec.body["model"], model);
        assert!(rec.headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer k"));
    }
    assert_eq!(mock.base_url("deepseek"), format!("http://{}/deepseek", mock.addr));
    let log = send(mock.addr, "GET", "/_mock/requests", None, None).await;
    assert_eq!(log.json().as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn refuses_like_openai() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", None, Some(chat("gpt-5.2", "hi"))).await;
    assert_eq!(a.status, 401);
    assert!(a.json()["error"]["message"].as_str().unwrap().starts_with("You didn't provide an API key"));
    let a = send(mock.addr, "POST", "/xai/v1/chat/completions", Some("bad-key"), Some(chat("grok-code-fast-1", "hi")))
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["error"]["code"], "invalid_api_key");
    assert!(a.json()["error"].as_object().unwrap().contains_key("param"));

    let mut body = chat("gpt-5-mini", "hi");
    body["max_tokens"] = json!(10);
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(body.clone())).await;
    assert_eq!((a.status, a.json()["error"]["param"].clone()), (400, json!("max_tokens")));
    // Only OpenAI's reasoning models refuse it.
    body["model"] = json!("deepseek-chat");
    assert_eq!(send(mock.addr, "POST", "/deepseek/chat/completions", Some("k"), Some(body)).await.status, 200);

    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(chat("gpt-5.2-pro", "hi"))).await;
    assert_eq!(a.status, 404);
    assert!(a.json()["error"]["message"].as_str().unwrap().contains("only supported in v1/responses"));
    let a = send(
        mock.addr,
        "POST",
        "/openai/v1/chat/completions",
        Some("k"),
        Some(json!({"model": "gpt-5.2", "messages": []})),
    )
    .await;
    assert_eq!(a.status, 400);
}

#[tokio::test]
async fn status_and_delay_directives() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let a = send(
        mock.addr,
        "POST",
        "/openai/v1/chat/completions",
        Some("k"),
        Some(chat("gpt-5.2", "x [[status:429]] [[retry-after:4]]")),
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some("4"));
    assert_eq!(a.header("x-ratelimit-remaining-requests"), Some("0"));
    assert_eq!(a.json()["error"]["code"], "rate_limit_exceeded");
    let a = send(
        mock.addr,
        "POST",
        "/openai/v1/responses",
        Some("k"),
        Some(json!({"model": "gpt-5.2", "input": "x [[status:503]]"})),
    )
    .await;
    assert_eq!((a.status, a.json()["error"]["type"].clone()), (503, json!("server_error")));

    let started = Instant::now();
    let a =
        send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(chat("gpt-5.2", "x [[delay-ms:80]]")))
            .await;
    assert_eq!(a.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(80));
}

#[tokio::test]
async fn chunk_stream_framing() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let mut body = chat("gpt-5.2", "one two three four [[chunks:2]]");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(body.clone())).await;
    assert!(a.header("content-type").unwrap().starts_with("text/event-stream"));
    assert!(a.body.starts_with("data: {") && a.body.ends_with("data: [DONE]\n\n"));
    let frames = a.frames();
    let chunks: Vec<Value> = frames[..frames.len() - 1].iter().map(|f| serde_json::from_str(&f.1).unwrap()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Hello! You said: one two three four");
    assert_eq!(
        chunks.iter().filter(|c| c["choices"][0]["delta"]["content"].as_str().is_some_and(|t| !t.is_empty())).count(),
        2
    );
    let (last, rest) = chunks.split_last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(
        last["usage"]["total_tokens"],
        last["usage"]["prompt_tokens"].as_u64().unwrap() + last["usage"]["completion_tokens"].as_u64().unwrap()
    );
    assert!(rest.iter().all(|c| c["usage"].is_null() && c.as_object().unwrap().contains_key("usage")));
    assert_eq!(rest.last().unwrap()["choices"][0]["finish_reason"], "stop");

    body["stream_options"] = json!({"include_usage": false});
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(body)).await;
    let frames = a.frames();
    assert!(
        frames[..frames.len() - 1].iter().all(|f| !serde_json::from_str::<Value>(&f.1)
            .unwrap()
            .as_object()
            .unwrap()
            .contains_key("usage"))
    );
}

#[tokio::test]
async fn reasoning_tools_and_mid_stream_errors() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let a = send(
        mock.addr,
        "POST",
        "/deepseek/chat/completions",
        Some("k"),
        Some(chat("deepseek-reasoner", "why? [[thinking]]")),
    )
    .await;
    let answer = a.json();
    assert!(answer["choices"][0]["message"]["reasoning_content"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(answer["usage"]["completion_tokens_details"]["reasoning_tokens"].as_u64().unwrap() > 0);
    let u = &answer["usage"];
    assert_eq!(u["prompt_cache_hit_tokens"].as_u64().unwrap(), u["prompt_tokens"].as_u64().unwrap() / 2);
    assert_eq!(u["prompt_tokens_details"]["cached_tokens"], u["prompt_cache_hit_tokens"]);
    // OpenAI itself has no reasoning_content.
    let a =
        send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(chat("gpt-5.2", "why? [[thinking]]")))
            .await;
    assert!(a.json()["choices"][0]["message"].get("reasoning_content").is_none());

    let body = json!({"model": "gpt-5.2", "messages": [
        {"role": "user", "content": "go [[tool:lookup {\"q\":1}]]"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":1}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "found it"}
    ]});
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(body.clone())).await;
    assert_eq!(a.json()["choices"][0]["message"]["content"], "Tool result: found it");
    let first = json!({"model": "gpt-5.2", "messages": [body["messages"][0].clone()]});
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(first)).await;
    let call = &a.json()["choices"][0];
    assert_eq!(call["finish_reason"], "tool_calls");
    assert_eq!(call["message"]["tool_calls"][0]["function"], json!({"name": "lookup", "arguments": "{\"q\":1}"}));

    let mut body = chat("gpt-5.2", "x [[stream-error]]");
    body["stream"] = json!(true);
    let a = send(mock.addr, "POST", "/openai/v1/chat/completions", Some("k"), Some(body)).await;
    let frames = a.frames();
    assert_eq!(frames.len(), 2);
    assert_eq!(serde_json::from_str::<Value>(&frames[1].1).unwrap()["error"]["type"], "server_error");
}

#[tokio::test]
async fn responses_models_and_embeddings() {
    let mock = spgw_mocks::spawn().await.unwrap();
    let body = json!({"model": "gpt-5.3-codex", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hello [[thinking]]"}]}], "stream": true});
    let a = send(mock.addr, "POST", "/openai/v1/responses", Some("k"), Some(body)).await;
    let frames = a.frames();
    assert_eq!(frames.first().unwrap().0, "response.created");
    assert_eq!(frames.last().unwrap().0, "response.completed");
    assert!(frames.iter().any(|f| f.0 == "response.reasoning_summary_text.delta"));
    for (i, (event, data)) in frames.iter().enumerate() {
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!((v["type"].as_str().unwrap(), v["sequence_number"].as_u64().unwrap()), (event.as_str(), i as u64));
    }
    let done: Value = serde_json::from_str(&frames.last().unwrap().1).unwrap();
    assert_eq!(done["response"]["output"][1]["content"][0]["text"], "Hello! You said: hello");

    let models = send(mock.addr, "GET", "/xai/v1/models", Some("k"), None).await.json();
    assert!(models["data"].as_array().unwrap().iter().any(|m| m["id"] == "grok-code-fast-1"));

    let body = json!({"model": "text-embedding-3-large", "input": "abc", "encoding_format": "base64", "dimensions": 8});
    let a = send(mock.addr, "POST", "/openai/v1/embeddings", Some("k"), Some(body.clone())).await.json();
    let b64 = a["data"][0]["embedding"].as_str().unwrap();
    assert_eq!(b64.len(), 44, "8 f32 = 32 bytes = 44 base64 characters");
    assert_eq!(send(mock.addr, "POST", "/openai/v1/embeddings", Some("k"), Some(body)).await.json()["data"], a["data"]);
}
