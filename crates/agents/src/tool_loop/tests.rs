//! The loop against a scripted fake model and fake tools.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use spgw_providers::{ChatResponse, ContentPart, FinishReason, Pricing, Protocol, ToolCall, Usage};
use spgw_routing::ResolvedModel;

use super::*;

/// Replays prepared replies and records every request.
struct Scripted {
    replies: Mutex<VecDeque<ChatResponse>>,
    seen: Mutex<Vec<ChatRequest>>,
    model: spgw_routing::Candidate,
}

fn candidate() -> spgw_routing::Candidate {
    Arc::new(ResolvedModel {
        model_id: 42,
        code: "fake-1".into(),
        name: "Fake".into(),
        features: vec!["chat".into(), "function_calling".into()],
        output_formats: vec!["text".into()],
        supports_mcp: true,
        enabled: true,
        max_output_tokens: None,
        pricing: Pricing::default(),
        provider_id: 1,
        provider: "fake".into(),
        protocol: Protocol::OpenAi,
        base_url: String::new(),
        provider_enabled: true,
    })
}

impl Scripted {
    fn new(replies: Vec<ChatResponse>) -> Self {
        Scripted { replies: Mutex::new(replies.into()), seen: Mutex::new(Vec::new()), model: candidate() }
    }
    fn requests(&self) -> Vec<ChatRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Model for Scripted {
    fn call(&self, request: ChatRequest) -> BoxFuture<'_, Result<ModelTurn>> {
        Box::pin(async move {
            self.seen.lock().unwrap().push(request);
            let response = self.replies.lock().unwrap().pop_front().unwrap_or_else(|| text("(script exhausted)"));
            Ok(ModelTurn { response, model: self.model.clone(), cost_usd: 0.01, latency_ms: 1, attempts: 1 })
        })
    }
}

fn reply(text: Option<&str>, calls: &[(&str, &str)], finish: FinishReason) -> ChatResponse {
    ChatResponse {
        id: "r".into(),
        model: "fake-1".into(),
        content: text.map(|t| vec![ContentPart::text(t)]).unwrap_or_default(),
        tool_calls: calls
            .iter()
            .enumerate()
            .map(|(i, (n, a))| ToolCall {
                id: format!("call_{n}_{i}_{a}"),
                name: n.to_string(),
                arguments: a.to_string(),
            })
            .collect(),
        finish_reason: finish,
        usage: Usage { input_tokens: 100, output_tokens: 20, ..Usage::default() },
        raw: None,
    }
}

fn text(t: &str) -> ChatResponse {
    reply(Some(t), &[], FinishReason::Stop)
}

fn calls(c: &[(&str, &str)]) -> ChatResponse {
    reply(None, c, FinishReason::ToolCalls)
}

/// Tools named `skill.*` are ours; they echo their arguments.
#[derive(Default)]
struct Echo {
    ran: Mutex<Vec<String>>,
}

impl Tools for Echo {
    fn handles(&self, name: &str) -> bool {
        name.starts_with("skill.")
    }
    fn execute<'a>(&'a self, call: &'a ToolCall, _remaining: &'a Limits) -> BoxFuture<'a, ToolOutput> {
        Box::pin(async move {
            self.ran.lock().unwrap().push(call.name.clone());
            if call.name == "skill.fail" {
                return ToolOutput::error("{\"error\":\"boom\"}");
            }
            ToolOutput { text: format!("ran {} with {}", call.name, call.arguments), is_error: false }
        })
    }
}

/// Keeps what the loop stores.
#[derive(Default)]
struct Kept {
    batches: Vec<(Vec<Message>, u64)>,
}

impl Transcript for Kept {
    fn record<'a>(&'a mut self, m: &'a [Message], tokens: u64, _: f64, _: Option<i64>) -> BoxFuture<'a, Result<()>> {
        self.batches.push((m.to_vec(), tokens));
        Box::pin(async { Ok(()) })
    }
}

impl Kept {
    fn messages(&self) -> Vec<Message> {
        self.batches.iter().flat_map(|(m, _)| m.clone()).collect()
    }
}

fn start() -> (ChatRequest, Vec<Message>) {
    let turn = vec![Message::text(Role::User, "do it")];
    let req =
        ChatRequest { messages: vec![Message::text(Role::System, "sys"), turn[0].clone()], ..ChatRequest::default() };
    (req, turn)
}

async fn run(model: &Scripted, tools: &Echo, kept: &mut Kept, guard: &mut Guard, s: LoopSettings) -> LoopOutcome {
    let (req, turn) = start();
    ToolLoop { model, tools, transcript: kept, guard, settings: s, cancel: None, events: None }.run(req, turn).await
}

fn settings(iterations: u32, follow_ups: u32) -> LoopSettings {
    LoopSettings { max_tool_iterations: iterations, max_follow_ups: follow_ups, ..LoopSettings::default() }
}

#[tokio::test]
async fn executes_builtin_calls_then_answers() {
    let model = Scripted::new(vec![
        calls(&[("skill.create", r#"{"title":"a"}"#), ("skill.note", "{}")]),
        calls(&[("skill.fail", "{}")]),
        text("All done."),
    ]);
    let tools = Echo::default();
    let mut kept = Kept::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(3, 2)).await;
    assert!(matches!(out.stop, Stop::Answered), "{:?}", out.stop);
    assert_eq!(out.answer(), "All done.");
    assert_eq!(out.iterations, 2);
    assert_eq!(*tools.ran.lock().unwrap(), ["skill.create", "skill.note", "skill.fail"]);
    assert_eq!(out.metered.turns, 3);
    assert_eq!(out.metered.tool_calls, 3);
    assert_eq!(out.metered.tokens, 360);
    assert_eq!(out.usage.input_tokens, 300);
    // Stored in order: the user turn with the first reply, then each batch of results.
    let stored = out_roles(&kept.messages());
    assert_eq!(stored, ["user", "assistant", "tool", "tool", "assistant", "tool", "assistant"]);
    let m = kept.messages();
    assert!(m[5].is_error, "a failed tool's result is marked as an error");
    assert_eq!(m[2].tool_call_id, Some(m[1].tool_calls[0].id.clone()), "results answer their calls");
    assert_eq!(kept.batches[0].1, 120, "a reply is stored with its tokens");
    // The model saw its own calls and their results on the next turn.
    let reqs = model.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(out_roles(&reqs[2].messages), ["system", "user", "assistant", "tool", "tool", "assistant", "tool"]);
}

fn out_roles(m: &[Message]) -> Vec<&'static str> {
    m.iter()
        .map(|m| match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        })
        .collect()
}

#[tokio::test]
async fn client_tools_go_back_to_the_caller() {
    let model = Scripted::new(vec![calls(&[("skill.note", "{}"), ("weather.get", r#"{"city":"Oslo"}"#)])]);
    let tools = Echo::default();
    let mut kept = Kept::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(3, 2)).await;
    assert!(matches!(out.stop, Stop::ClientTools), "{:?}", out.stop);
    assert_eq!(out.pending.len(), 1);
    assert_eq!(out.pending[0].name, "weather.get");
    assert_eq!(*tools.ran.lock().unwrap(), ["skill.note"], "the built-in one ran");
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn a_runaway_loop_stops_at_its_limit() {
    let replies = (0..10).map(|i| calls(&[("skill.step", &format!("{{\"i\":{i}}}"))])).collect();
    let model = Scripted::new(replies);
    let tools = Echo::default();
    let mut kept = Kept::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(3, 1)).await;
    assert!(matches!(out.stop, Stop::ToolLimit { iterations: 3 }), "{:?}", out.stop);
    assert_eq!(tools.ran.lock().unwrap().len(), 3, "three rounds ran");
    // Round four was refused; one wrap-up turn with tool_choice none; it still called tools.
    let reqs = model.requests();
    assert_eq!(reqs.len(), 5);
    assert_eq!(reqs[4].tool_choice, Some(ToolChoice::None));
    // Every call in the history has its result, executed or not.
    let m = kept.messages();
    let asked: usize = m.iter().map(|m| m.tool_calls.len()).sum();
    assert_eq!(m.iter().filter(|m| m.role == Role::Tool).count(), asked);
    assert!(m.last().unwrap().joined_text().contains("not executed"));
    assert!(out.partial_output().contains("skill.step"), "{}", out.partial_output());
}

#[tokio::test]
async fn the_wrap_up_turn_can_answer() {
    let model = Scripted::new(vec![calls(&[("skill.a", "{}")]), calls(&[("skill.b", "{}")]), text("Summary.")]);
    let tools = Echo::default();
    let mut kept = Kept::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(1, 2)).await;
    assert!(matches!(out.stop, Stop::Answered), "{:?}", out.stop);
    assert_eq!(out.answer(), "Summary.");
    assert_eq!(*tools.ran.lock().unwrap(), ["skill.a"]);
    assert_eq!(out.follow_ups, 1);
}

#[tokio::test]
async fn guards_stop_before_the_next_model_call() {
    let replies = (0..10).map(|i| calls(&[("skill.step", &format!("{{\"i\":{i}}}"))])).collect();
    let model = Scripted::new(replies);
    let tools = Echo::default();
    let mut kept = Kept::default();
    let limits = Limits { max_tokens: Some(300), ..Limits::default() };
    let mut guard = Guard::new(limits, 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(50, 2)).await;
    match &out.stop {
        Stop::Guard(t) => assert_eq!(t.code(), "max_tokens"),
        other => panic!("{other:?}"),
    }
    assert_eq!(model.requests().len(), 3, "120 tokens a call: the fourth call would start at 360 ≥ 300");
}

#[tokio::test]
async fn identical_calls_are_refused() {
    let same = r#"{"q":"x"}"#;
    let model = Scripted::new((0..6).map(|_| calls(&[("skill.search", same)])).collect());
    let tools = Echo::default();
    let mut kept = Kept::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(50, 2)).await;
    match &out.stop {
        Stop::Guard(t) => assert_eq!(t.code(), "repeated_tool_call"),
        other => panic!("{other:?}"),
    }
    assert_eq!(tools.ran.lock().unwrap().len(), 2, "the third identical call did not run");
    let last = kept.messages().pop().unwrap();
    assert!(last.is_error && last.joined_text().contains("not executed"), "{last:?}");
}

#[tokio::test]
async fn cut_off_and_empty_replies_get_follow_up_turns() {
    let model = Scripted::new(vec![
        reply(Some("Part one,"), &[], FinishReason::Length),
        reply(Some(""), &[], FinishReason::Stop),
        text("part two."),
    ]);
    let tools = Echo::default();
    let mut kept = Kept::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut kept, &mut guard, settings(3, 2)).await;
    assert!(matches!(out.stop, Stop::Answered));
    assert_eq!(out.follow_ups, 2);
    assert_eq!(out.partial_output(), "Part one,\n\npart two.");
    let reqs = model.requests();
    assert!(reqs[1].messages.last().unwrap().joined_text().contains("cut off"));

    // With no follow-ups allowed, the cut-off reply is the answer.
    let model = Scripted::new(vec![reply(Some("Part one,"), &[], FinishReason::Length)]);
    let mut guard = Guard::new(Limits::default(), 3);
    let out = run(&model, &tools, &mut Kept::default(), &mut guard, settings(3, 0)).await;
    assert_eq!(out.answer(), "Part one,");
    assert_eq!(model.requests().len(), 1);
}

#[tokio::test]
async fn auto_execute_off_returns_builtin_calls() {
    let model = Scripted::new(vec![calls(&[("skill.create", "{}")])]);
    let tools = Echo::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let s = LoopSettings { auto_execute: false, ..LoopSettings::default() };
    let out = run(&model, &tools, &mut Kept::default(), &mut guard, s).await;
    assert!(matches!(out.stop, Stop::AutoExecuteOff));
    assert_eq!(out.pending.len(), 1);
    assert!(tools.ran.lock().unwrap().is_empty());
}

#[tokio::test]
async fn cancellation_stops_the_loop() {
    let model = Scripted::new(vec![calls(&[("skill.a", "{}")]), text("never")]);
    let tools = Echo::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (req, turn) = start();
    let mut kept = Kept::default();
    let out = ToolLoop {
        model: &model,
        tools: &tools,
        transcript: &mut kept,
        guard: &mut guard,
        settings: LoopSettings::default(),
        cancel: Some(cancel),
        events: None,
    }
    .run(req, turn)
    .await;
    assert!(matches!(out.stop, Stop::Cancelled));
    assert!(model.requests().is_empty());
}

#[tokio::test]
async fn events_report_each_call_and_result() {
    let model = Scripted::new(vec![calls(&[("skill.a", "{}")]), text("ok")]);
    let tools = Echo::default();
    let mut guard = Guard::new(Limits::default(), 3);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (req, turn) = start();
    let mut kept = Kept::default();
    let loop_ = ToolLoop {
        model: &model,
        tools: &tools,
        transcript: &mut kept,
        guard: &mut guard,
        settings: LoopSettings::default(),
        cancel: None,
        events: Some(tx),
    };
    let out = loop_.run(req, turn).await;
    assert!(matches!(out.stop, Stop::Answered));
    assert!(matches!(rx.recv().await, Some(LoopEvent::ToolCall(c)) if c.name == "skill.a"));
    assert!(
        matches!(rx.recv().await, Some(LoopEvent::ToolResult { name, output, .. }) if name == "skill.a" && !output.is_error)
    );
}

#[test]
fn interrupted_histories_are_repaired() {
    let call = |id: &str| ToolCall { id: id.into(), name: "skill.a".into(), arguments: "{}".into() };
    let mut asked = Message::text(Role::Assistant, "");
    asked.tool_calls = vec![call("1"), call("2")];
    let mut h = vec![Message::text(Role::User, "go"), asked, Message::tool_result("1", "skill.a", "done")];
    repair_history(&mut h);
    assert_eq!(out_roles(&h), ["user", "assistant", "tool", "tool"]);
    assert_eq!(h[3].tool_call_id.as_deref(), Some("2"));
    assert!(h[3].is_error);
    let before = h.clone();
    repair_history(&mut h);
    assert_eq!(h, before, "a complete history is left alone");
}
