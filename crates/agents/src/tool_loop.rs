//! The bounded tool loop. One round: check the guard, call the model, store
//! the reply; when it calls tools the gateway owns (built-in skills), run
//! them, store each result, and go again. It ends when the model answers,
//! when it calls a tool the caller owns (returned to the caller), when a
//! guard trips, when the rounds run out, or on cancellation.
//!
//! Bounds, from runtime settings:
//! - `mcp.max_tool_iterations` (default 3, min 1): rounds of tool execution.
//!   When the model wants another round past it, its calls are answered
//!   "not executed" and it gets one follow-up turn with `tool_choice: none` to
//!   answer with what it has.
//! - `mcp.max_needs_follow_up_turns` (default 2, 0–10): turns the gateway adds
//!   on its own when a reply needs one: cut off (`finish_reason: length`),
//!   empty, or the wrap-up after the tool rounds ran out.
//! - `mcp.auto_execute_skills` (default true): when false, built-in calls are
//!   returned to the caller like any other.

use futures::future::BoxFuture;
use serde_json::Value;
use spgw_providers::{ChatRequest, FinishReason, Message, Role, ToolCall, ToolChoice, Usage};
use spgw_sessions::{SessionStore, Sessions};
use spgw_store::repo::settings::Settings;
use spgw_tasks::Limits;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::error::{AgentError, Result};
use crate::guards::{DEFAULT_MAX_IDENTICAL_CALLS, Guard, Metered, Trip};
use crate::model::{Model, ModelTurn};

/// The loop's bounds, read from `gateway_config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopSettings {
    /// `mcp.auto_execute_skills`.
    pub auto_execute: bool,
    /// `mcp.max_tool_iterations`.
    pub max_tool_iterations: u32,
    /// `mcp.max_needs_follow_up_turns`.
    pub max_follow_ups: u32,
    /// `agents.max_identical_tool_calls`.
    pub max_identical_calls: u32,
}

impl Default for LoopSettings {
    fn default() -> Self {
        LoopSettings { auto_execute: true, max_tool_iterations: 3, max_follow_ups: 2, max_identical_calls: 3 }
    }
}

impl LoopSettings {
    /// The current values (clamped to their documented ranges).
    pub async fn load(s: &Settings) -> Self {
        let d = LoopSettings::default();
        LoopSettings {
            auto_execute: s.bool("mcp.auto_execute_skills", d.auto_execute).await,
            max_tool_iterations: s.int("mcp.max_tool_iterations", 3).await.clamp(1, 100) as u32,
            max_follow_ups: s.int("mcp.max_needs_follow_up_turns", 2).await.clamp(0, 10) as u32,
            max_identical_calls: s
                .int("agents.max_identical_tool_calls", i64::from(DEFAULT_MAX_IDENTICAL_CALLS))
                .await
                .clamp(0, 1000) as u32,
        }
    }
}

/// What a tool call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The result as the model reads it (JSON text for the built-in skills).
    pub text: String,
    pub is_error: bool,
}

impl ToolOutput {
    /// A failed call.
    pub fn error(text: impl Into<String>) -> Self {
        ToolOutput { text: text.into(), is_error: true }
    }
}

/// The tools the gateway executes itself.
pub trait Tools: Send + Sync {
    /// Whether the gateway runs `name` (else the call goes back to the caller).
    fn handles(&self, name: &str) -> bool;
    /// Runs one call; `remaining` is what is left of the run's limits (a task
    /// spawned by this call inherits it).
    fn execute<'a>(&'a self, call: &'a ToolCall, remaining: &'a Limits) -> BoxFuture<'a, ToolOutput>;
}

/// Where the loop stores each message as it happens.
pub trait Transcript: Send + Sync {
    /// Appends `messages`, with the tokens and cost of the call that produced them.
    fn record<'a>(
        &'a mut self,
        messages: &'a [Message],
        tokens: u64,
        cost_usd: f64,
        model_id: Option<i64>,
    ) -> BoxFuture<'a, Result<()>>;
}

/// A transcript that keeps nothing.
pub struct NoTranscript;

impl Transcript for NoTranscript {
    fn record<'a>(&'a mut self, _: &'a [Message], _: u64, _: f64, _: Option<i64>) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// A transcript in a chat session.
pub struct SessionTranscript {
    pub sessions: Sessions,
    pub session_id: String,
    pub mcp_config: Option<Value>,
    /// When false, a failed append is logged and the run goes on (a task's
    /// work matters more than its history); when true it ends the loop.
    pub strict: bool,
}

impl Transcript for SessionTranscript {
    fn record<'a>(
        &'a mut self,
        messages: &'a [Message],
        tokens: u64,
        cost_usd: f64,
        model_id: Option<i64>,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let r = self
                .sessions
                .append(&self.session_id, messages, tokens, cost_usd, model_id, self.mcp_config.as_ref())
                .await;
            match r {
                Ok(()) => Ok(()),
                Err(e) if !self.strict => {
                    tracing::warn!(session_id = %self.session_id, error = %e, "could not store agent messages in the session");
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// Progress of a run, for callers that show it as it happens.
#[derive(Debug, Clone)]
pub enum LoopEvent {
    /// The gateway is about to run a tool.
    ToolCall(ToolCall),
    /// A tool finished.
    ToolResult { id: String, name: String, output: ToolOutput },
}

/// Why the loop ended.
#[derive(Debug)]
pub enum Stop {
    /// The model answered.
    Answered,
    /// The model called tools the caller owns; they are in `pending`.
    ClientTools,
    /// The model kept calling tools after the rounds ran out.
    ToolLimit {
        iterations: u32,
    },
    /// A guard tripped.
    Guard(Trip),
    /// `mcp.auto_execute_skills` is off; the built-in calls are in `pending`.
    AutoExecuteOff,
    Cancelled,
    /// The model call failed (after the router's retries and fallbacks) or the
    /// transcript could not be written.
    Failed(AgentError),
}

/// One executed tool call.
#[derive(Debug, Clone)]
pub struct Executed {
    pub call: ToolCall,
    pub output: ToolOutput,
}

/// What a run of the loop did.
#[derive(Debug)]
pub struct LoopOutcome {
    pub stop: Stop,
    /// The last model turn, if any.
    pub last: Option<ModelTurn>,
    /// Text of every assistant reply, in order.
    pub texts: Vec<String>,
    /// Tool calls left for the caller.
    pub pending: Vec<ToolCall>,
    pub executed: Vec<Executed>,
    /// Usage summed over every model call.
    pub usage: Usage,
    /// Turns, tool calls, tokens and cost as the guard metered them.
    pub metered: Metered,
    pub iterations: u32,
    pub follow_ups: u32,
}

impl LoopOutcome {
    /// The answer: the last reply's text.
    pub fn answer(&self) -> String {
        self.last.as_ref().map(|t| t.response.text()).unwrap_or_default()
    }

    /// Everything the agent wrote, for a run that stopped early; when it wrote
    /// nothing, which tools it called.
    pub fn partial_output(&self) -> String {
        let written: Vec<&str> = self.texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
        if !written.is_empty() {
            return written.join("\n\n");
        }
        if self.executed.is_empty() {
            return String::new();
        }
        let calls: Vec<String> = self
            .executed
            .iter()
            .map(|e| {
                format!("- {} {} → {}", e.call.name, e.call.arguments, if e.output.is_error { "error" } else { "ok" })
            })
            .collect();
        format!("(no answer written) Tool calls made:\n{}", calls.join("\n"))
    }
}

/// One run of the loop.
pub struct ToolLoop<'a> {
    pub model: &'a dyn Model,
    pub tools: &'a dyn Tools,
    pub transcript: &'a mut dyn Transcript,
    pub guard: &'a mut Guard,
    pub settings: LoopSettings,
    pub cancel: Option<CancellationToken>,
    pub events: Option<UnboundedSender<LoopEvent>>,
}

fn add_usage(sum: &mut Usage, u: &Usage) {
    sum.input_tokens += u.input_tokens;
    sum.output_tokens += u.output_tokens;
    sum.cached_input_tokens += u.cached_input_tokens;
    sum.cache_creation_input_tokens += u.cache_creation_input_tokens;
    sum.reasoning_tokens += u.reasoning_tokens;
}

/// Why a reply needs another turn, if it does.
fn follow_up_prompt(turn: &ModelTurn) -> Option<&'static str> {
    let r = &turn.response;
    if !r.tool_calls.is_empty() {
        return None;
    }
    match r.finish_reason {
        FinishReason::Length => Some("Your reply was cut off. Continue exactly where you stopped."),
        FinishReason::ContentFilter => None,
        _ if r.text().trim().is_empty() => Some("Your reply was empty. Answer the request."),
        _ => None,
    }
}

fn not_executed(calls: &[ToolCall], why: &str) -> Vec<Message> {
    calls
        .iter()
        .map(|c| {
            let mut m = Message::tool_result(&c.id, &c.name, format!("{{\"error\":{}}}", Value::String(why.into())));
            m.is_error = true;
            m
        })
        .collect()
}

impl ToolLoop<'_> {
    fn emit(&self, ev: LoopEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(ev);
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancellationToken::is_cancelled)
    }

    async fn call_model(&self, req: ChatRequest) -> Option<Result<ModelTurn>> {
        match &self.cancel {
            Some(c) => tokio::select! {
                biased;
                _ = c.cancelled() => None,
                r = self.model.call(req) => Some(r),
            },
            None => Some(self.model.call(req).await),
        }
    }

    /// Runs the loop. `request.messages` is the whole prompt (system, history,
    /// this turn); `turn` is the part of it not stored yet, stored with the
    /// first reply.
    pub async fn run(mut self, mut request: ChatRequest, turn: Vec<Message>) -> LoopOutcome {
        let mut out = LoopOutcome {
            stop: Stop::Answered,
            last: None,
            texts: Vec::new(),
            pending: Vec::new(),
            executed: Vec::new(),
            usage: Usage::default(),
            metered: Metered::default(),
            iterations: 0,
            follow_ups: 0,
        };
        let mut unrecorded = turn;
        let mut wrap_up = false;
        out.stop = loop {
            if self.cancelled() {
                break Stop::Cancelled;
            }
            if let Err(trip) = self.guard.before_model_call() {
                break Stop::Guard(trip);
            }
            let mut req = request.clone();
            if wrap_up {
                req.tool_choice = Some(ToolChoice::None);
            }
            let turn = match self.call_model(req).await {
                None => break Stop::Cancelled,
                Some(Err(e)) => break Stop::Failed(e),
                Some(Ok(t)) => t,
            };
            self.guard.record_model_call(turn.tokens(), turn.cost_usd);
            add_usage(&mut out.usage, &turn.response.usage);
            let reply = Message {
                role: Role::Assistant,
                content: turn.response.content.clone(),
                tool_calls: turn.response.tool_calls.clone(),
                tool_call_id: None,
                name: None,
                is_error: false,
            };
            unrecorded.push(reply.clone());
            request.messages.push(reply);
            let stored =
                self.transcript.record(&unrecorded, turn.tokens(), turn.cost_usd, Some(turn.model.model_id)).await;
            unrecorded.clear();
            out.texts.push(turn.response.text());
            let calls = turn.response.tool_calls.clone();
            let follow_up = follow_up_prompt(&turn);
            out.last = Some(turn);
            if let Err(e) = stored {
                break Stop::Failed(e);
            }

            if calls.is_empty() {
                match follow_up {
                    Some(prompt) if out.follow_ups < self.settings.max_follow_ups => {
                        out.follow_ups += 1;
                        let m = Message::text(Role::User, prompt);
                        unrecorded.push(m.clone());
                        request.messages.push(m);
                        continue;
                    }
                    _ => break Stop::Answered,
                }
            }
            let (mine, theirs): (Vec<ToolCall>, Vec<ToolCall>) =
                calls.iter().cloned().partition(|c| self.tools.handles(&c.name));
            if mine.is_empty() {
                out.pending = theirs;
                break Stop::ClientTools;
            }
            if !self.settings.auto_execute {
                out.pending = calls;
                break Stop::AutoExecuteOff;
            }
            if wrap_up || out.iterations >= self.settings.max_tool_iterations {
                let limit = self.settings.max_tool_iterations;
                let why = format!(
                    "not executed: this request reached its limit of {limit} tool rounds; answer with what you have"
                );
                let results = not_executed(&mine, &why);
                if let Err(e) = self.store_results(&mut request, results).await {
                    break Stop::Failed(e);
                }
                if wrap_up || out.follow_ups >= self.settings.max_follow_ups || !theirs.is_empty() {
                    out.pending = theirs;
                    break Stop::ToolLimit { iterations: out.iterations };
                }
                out.follow_ups += 1;
                wrap_up = true;
                continue;
            }

            out.iterations += 1;
            let mut results = Vec::with_capacity(mine.len());
            let mut tripped = None;
            for (i, call) in mine.iter().enumerate() {
                if let Err(trip) = self.guard.before_tool_call(&call.name, &call.arguments) {
                    results.extend(not_executed(&mine[i..], &format!("not executed: {trip}")));
                    tripped = Some(trip);
                    break;
                }
                self.emit(LoopEvent::ToolCall(call.clone()));
                let remaining = self.guard.remaining();
                let output = match &self.cancel {
                    Some(c) => tokio::select! {
                        biased;
                        _ = c.cancelled() => ToolOutput::error("cancelled"),
                        o = self.tools.execute(call, &remaining) => o,
                    },
                    None => self.tools.execute(call, &remaining).await,
                };
                self.emit(LoopEvent::ToolResult {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    output: output.clone(),
                });
                let mut m = Message::tool_result(&call.id, &call.name, output.text.clone());
                m.is_error = output.is_error;
                results.push(m);
                out.executed.push(Executed { call: call.clone(), output });
            }
            if let Err(e) = self.store_results(&mut request, results).await {
                break Stop::Failed(e);
            }
            if let Some(trip) = tripped {
                break Stop::Guard(trip);
            }
            if self.cancelled() {
                break Stop::Cancelled;
            }
            if !theirs.is_empty() {
                out.pending = theirs;
                break Stop::ClientTools;
            }
        };
        out.metered = self.guard.used();
        out
    }

    async fn store_results(&mut self, request: &mut ChatRequest, results: Vec<Message>) -> Result<()> {
        let r = self.transcript.record(&results, 0, 0.0, None).await;
        request.messages.extend(results);
        r
    }
}

/// Drops what a run that died midway left unanswered at the end of a history,
/// so providers accept it again: assistant tool calls without results get a
/// result saying they were interrupted.
pub fn repair_history(history: &mut Vec<Message>) {
    let Some(pos) = history.iter().rposition(|m| m.role == Role::Assistant && !m.tool_calls.is_empty()) else {
        return;
    };
    let answered: Vec<&str> =
        history[pos + 1..].iter().filter(|m| m.role == Role::Tool).filter_map(|m| m.tool_call_id.as_deref()).collect();
    let missing: Vec<ToolCall> =
        history[pos].tool_calls.iter().filter(|c| !answered.contains(&c.id.as_str())).cloned().collect();
    if missing.is_empty() {
        return;
    }
    // Results must follow their call directly: put them right after the tool
    // results that are there.
    let at = pos + 1 + history[pos + 1..].iter().take_while(|m| m.role == Role::Tool).count();
    let filler = not_executed(&missing, "not executed: the run was interrupted");
    history.splice(at..at, filler);
}

#[cfg(test)]
mod tests;
