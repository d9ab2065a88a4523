//! The chat service: resolves what to call (explicit model, session, agent),
//! builds the prompt (agent soul and context, history, new messages, MCP
//! instructions), routes the call, and appends the turn to the session.

use serde_json::{Value, json};
use spgw_providers::{ChatRequest, ChatResponse, ContentPart, Message, Role, ToolCall, Usage};
use spgw_routing::{CallMeta, Candidate, ModelRef, Needs};
use spgw_sessions::SessionStore;
use spgw_store::repo::table::{self, Filter};

use super::input::{self, ChatBody, ChatQuery, Operation};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::resources::defs;
use crate::resources::service::load;
use crate::state::AppState;

/// Everything decided before the upstream call.
pub struct Plan {
    pub request: ChatRequest,
    pub candidates: Vec<Candidate>,
    pub meta: CallMeta,
    pub operation: Operation,
    /// The session the turn is appended to (none for `completion`).
    pub session_id: Option<String>,
    /// Messages of this turn to append (the reply is added after the call).
    pub turn: Vec<Message>,
    pub mcp_config: Option<Value>,
    /// Set for a `conversation` with an agent that has built-in skills: the
    /// turn runs through the agent runtime's tool loop.
    pub agent_loop: Option<spgw_agents::ChatAgent>,
}

/// Resolves a chat call.
pub async fn plan(
    state: &AppState,
    caller: &Caller,
    q: ChatQuery,
    body: ChatBody,
    request_id: String,
) -> ApiResult<Plan> {
    let operation = input::Operation::parse(q.operation.as_deref())?;
    let mut meta = CallMeta {
        request_id,
        user_id: Some(caller.user_id),
        api_key_id: caller.api_key_id,
        endpoint: "chat",
        ..CallMeta::default()
    };

    // The task binds project and, when it has one, the session.
    let mut session_id = q.session.clone();
    if let Some(task_id) = q.task_id {
        let task = load(state, caller, def("task")?, task_id).await?;
        meta.task_id = Some(task_id);
        meta.project_id = task.i64("project_id");
        if session_id.is_none() {
            session_id = task.str("session_id").map(str::to_owned);
        }
    }

    // An existing session supplies history, model, agent and MCP config.
    let mut history = Vec::new();
    let mut session_model: Option<ModelRef> = None;
    let mut agent_id = q.agent_id;
    let mut mcp_config = body.mcp_config.as_ref().map(|c| serde_json::to_value(c).unwrap_or(Value::Null));
    if let Some(sid) = &session_id {
        let s = state.sessions.load(sid).await?;
        let s = s
            .filter(|s| caller.is_admin() || s.meta.user_id == caller.user_id)
            .ok_or_else(|| ApiError::NotFound(format!("session {sid} not found")))?;
        if let (Some(p), Some(m)) = (&s.meta.provider, &s.meta.model) {
            session_model = Some(ModelRef { provider: p.clone(), model: m.clone() });
        }
        agent_id = agent_id.or(s.meta.agent_id);
        meta.project_id = meta.project_id.or(s.meta.project_id);
        if mcp_config.is_none() {
            mcp_config = s.meta.mcp_config.clone();
        }
        history = s.messages;
    }

    // The new messages of this turn.
    let mut turn = Vec::new();
    if let Some(sys) = &body.system_message {
        turn.push(Message::text(Role::System, sys.clone()));
    }
    turn.extend(input::messages(&body.messages)?);
    if let Some(u) = &body.user_message {
        turn.push(Message::text(Role::User, u.clone()));
    }
    if turn.is_empty() {
        return Err(ApiError::field("user_message", "give user_message or messages"));
    }

    let cfg: Option<input::McpConfig> = mcp_config.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok());
    let mut tools = input::tools(cfg.as_ref())?;
    let response_format = input::response_format(body.response_format.as_ref())?;

    // Prompt: agent context first, then MCP instructions, then history and the turn.
    let mut messages = Vec::with_capacity(history.len() + turn.len() + 2);
    let mut candidates = Vec::new();
    let mut agent_loop = None;
    if let (Some(p), Some(m)) = (&q.provider, &q.model) {
        candidates.push(state.router.models.resolve(&ModelRef { provider: p.clone(), model: m.clone() }).await?);
    } else if q.provider.is_some() != q.model.is_some() {
        return Err(ApiError::field(
            if q.provider.is_some() { "model" } else { "provider" },
            "provider and model go together",
        ));
    }
    if let Some(aid) = agent_id {
        let agent = load(state, caller, def("agent")?, aid).await?;
        meta.agent_id = Some(aid);
        meta.project_id = meta.project_id.or(agent.i64("project_id"));
        let mut system = spgw_agents::prompt::agent_prompt(&state.db, &agent, &caller.username).await?;
        if operation == Operation::Conversation {
            let ops = cfg.as_ref().map(|c| c.operations.as_slice()).unwrap_or_default();
            agent_loop = state.agents.chat_agent(&agent, caller.user_id, ops).await?;
        }
        if let Some(a) = &agent_loop {
            if let Some(s) = spgw_agents::prompt::skills_prompt(&a.skills) {
                system.push_str("\n\n");
                system.push_str(&s);
            }
            // A client tool named like a built-in would be shadowed by it.
            tools.retain(|t| !a.skills.has_tool(&t.name));
            tools.extend(a.skills.tool_defs());
        }
        messages.push(Message::text(Role::System, system));
        candidates.extend(state.router.models.agent_models(aid).await?);
    }
    if candidates.is_empty()
        && let Some(r) = &session_model
    {
        candidates.push(state.router.models.resolve(r).await?);
    }
    if candidates.is_empty() {
        return Err(ApiError::field("model", "give provider and model, an agent_id, or a session"));
    }
    if let Some(text) = cfg.as_ref().and_then(|c| c.instructions.clone()).filter(|t| !t.is_empty()) {
        messages.push(Message::text(Role::System, text));
    }
    messages.extend(history);
    messages.extend(turn.iter().cloned());

    let needs = Needs {
        tools: !tools.is_empty(),
        vision: messages.iter().any(|m| m.content.iter().any(|p| matches!(p, ContentPart::Image { .. }))),
        json: matches!(
            response_format,
            Some(spgw_providers::ResponseFormat::JsonObject | spgw_providers::ResponseFormat::JsonSchema { .. })
        ),
        stream: body.stream,
    };
    let total = candidates.len();
    let first = candidates.first().cloned();
    meta.requested_model = first.as_ref().map(|c| c.label());
    candidates.retain(|c| c.lacks(needs).is_none());
    if candidates.is_empty() {
        let missing = first.as_ref().and_then(|c| c.lacks(needs)).unwrap_or("chat");
        let which = first.map(|c| c.label()).unwrap_or_default();
        return Err(ApiError::field(
            "model",
            format!("{which} does not support {missing} (none of {total} candidate models does)"),
        ));
    }

    let request = ChatRequest {
        model: String::new(),
        messages,
        tools,
        temperature: body.temperature,
        max_tokens: body.max_tokens,
        response_format,
        stream: body.stream,
        user: body.user_id.as_ref().map(|u| u.as_str().map(str::to_owned).unwrap_or_else(|| u.to_string())),
        ..ChatRequest::default()
    };

    // A stateful call needs its session before the upstream call, so the id can be returned.
    if operation != Operation::Completion && session_id.is_none() {
        let created = state
            .sessions
            .create(spgw_sessions::NewSession {
                user_id: caller.user_id,
                project_id: meta.project_id,
                agent_id: meta.agent_id,
                model_id: Some(candidates[0].model_id),
                task_id: meta.task_id,
                title: turn
                    .iter()
                    .rev()
                    .find(|m| m.role == Role::User)
                    .map(|m| m.joined_text().chars().take(80).collect()),
                mcp_config: mcp_config.clone(),
            })
            .await?;
        if let Some(task_id) = meta.task_id {
            table::update(
                &state.db,
                "tasks",
                &[("session_id", created.session_id.as_str().into())],
                &[Filter::Eq("id", task_id.into())],
            )
            .await?;
        }
        session_id = Some(created.session_id);
    }
    if operation == Operation::Completion {
        session_id = None;
    }
    meta.session_id = session_id.clone();
    Ok(Plan { request, candidates, meta, operation, session_id, turn, mcp_config, agent_loop })
}

fn def(kind: &str) -> ApiResult<&'static defs::ResourceDef> {
    defs::by_singular(kind).ok_or_else(|| ApiError::internal(format!("no resource type {kind}")))
}

/// The assistant message of a reply, as stored in the session.
pub fn reply_message(content: Vec<ContentPart>, tool_calls: Vec<ToolCall>) -> Message {
    Message { role: Role::Assistant, content, tool_calls, tool_call_id: None, name: None, is_error: false }
}

/// Appends the turn and the reply to the session (stateful operations).
pub async fn record_turn(
    state: &AppState,
    plan: &Plan,
    reply: Message,
    usage: &Usage,
    cost: f64,
    model_id: i64,
) -> ApiResult<()> {
    let Some(sid) = &plan.session_id else { return Ok(()) };
    let mut msgs = plan.turn.clone();
    msgs.push(reply);
    state
        .sessions
        .append(sid, &msgs, usage.total(), cost, Some(model_id), plan.mcp_config.as_ref())
        .await
        .map_err(ApiError::from)
}

/// The JSON answer of a non-streamed call.
pub fn response_json(
    plan: &Plan,
    r: &ChatResponse,
    model: &Candidate,
    cost: f64,
    latency_ms: u64,
    attempts: u32,
) -> Value {
    json!({
        "id": r.id,
        "object": "chat.completion",
        "session_id": plan.session_id,
        "operation": match plan.operation { Operation::Completion => "completion", Operation::Chat => "chat", Operation::Conversation => "conversation" },
        "provider": model.provider,
        "model": model.code,
        "content": r.text(),
        "message": reply_message(r.content.clone(), r.tool_calls.clone()),
        "tool_calls": r.tool_calls,
        "finish_reason": r.finish_reason,
        "usage": usage_json(&r.usage),
        "cost_usd": cost,
        "latency_ms": latency_ms,
        "attempts": attempts,
        "request_id": plan.meta.request_id,
    })
}

/// Usage as the API reports it.
pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cached_input_tokens": u.cached_input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "reasoning_tokens": u.reasoning_tokens,
        "total_tokens": u.total(),
    })
}
