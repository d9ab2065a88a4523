// The chat playground: a model or an agent, streamed token by token, tool
// calls and their results shown (and answerable), sessions continued.
import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api, call, resources } from "../api/client";
import type { Agent, Model, Session, ToolCall } from "../api/models";
import type { components, operations } from "../api/schema";
import { postSse, type SseEvent } from "../api/sse";
import { FormError } from "../components/form";
import { Messages, turnsFromMessages, type Turn } from "../components/messages";
import { ErrorNote, Page } from "../components/ui";
import { useLoad, useTitle } from "../lib/hooks";
import { Link, setQuery, useLocation } from "../lib/router";

type ChatQuery = NonNullable<operations["chat"]["parameters"]["query"]>;
type ChatBody = components["schemas"]["ChatBody"];

interface Usage {
  input_tokens?: number;
  output_tokens?: number;
}

let seq = 0;
const nextId = () => `t${++seq}`;

export default function Chat() {
  useTitle("Chat");
  const { query } = useLocation();
  const sessionParam = query.get("session") ?? "";
  const models = useLoad(
    async () => (await resources.list<Model>("models", { limit: 500 })).data.filter((m) => m.enabled && m.features.includes("chat")),
    [],
  );
  const agents = useLoad(() => resources.list<Agent>("agents", { limit: 500 }), []);

  const [mode, setMode] = useState<"model" | "agent">(query.get("agent_id") ? "agent" : "model");
  const [target, setTarget] = useState(query.get("provider") && query.get("model") ? `${query.get("provider")}/${query.get("model")}` : "");
  const [agentId, setAgentId] = useState(query.get("agent_id") ?? "");
  const [operation, setOperation] = useState("chat");
  const [system, setSystem] = useState("");
  const [temperature, setTemperature] = useState("");
  const [maxTokens, setMaxTokens] = useState("");
  const [stream, setStream] = useState(true);
  const [tools, setTools] = useState("");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [input, setInput] = useState("");
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<string>();
  const [toolsError, setToolsError] = useState<string>();
  const [answered, setAnswered] = useState<Set<string>>(new Set());
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  // Continue a stored session: its history and its model.
  const loaded = useLoad<Session | null>(
    () =>
      sessionParam
        ? call<Session>(api.GET("/api/v1/session/{session_id}", { params: { path: { session_id: sessionParam } } }))
        : Promise.resolve(null),
    [sessionParam],
  );
  const loadedFor = useRef("");
  useEffect(() => {
    const s = loaded.data;
    if (!s || loadedFor.current === s.session_id || busy) return;
    loadedFor.current = s.session_id;
    setTurns(turnsFromMessages(s.messages ?? []));
    if (s.agent_id) {
      setMode("agent");
      setAgentId(String(s.agent_id));
    } else if (s.provider && s.model) {
      setMode("model");
      setTarget(`${s.provider}/${s.model}`);
    }
  }, [loaded.data, busy]);

  const byProvider = useMemo(() => {
    const m = new Map<string, Model[]>();
    for (const x of models.data ?? []) m.set(x.provider, [...(m.get(x.provider) ?? []), x]);
    return [...m.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([p, ms]) => [p, ms.sort((a, b) => (a.name ?? a.model_code).localeCompare(b.name ?? b.model_code))] as const);
  }, [models.data]);

  // Default to the first chat model once the catalog is loaded.
  useEffect(() => {
    if (!target && !sessionParam && byProvider.length) {
      const first = byProvider[0][1][0];
      setTarget(`${first.provider}/${first.model_code}`);
    }
  }, [byProvider, target, sessionParam]);

  useEffect(() => {
    // Follow the conversation's end inside its own scroll area (the page does not jump).
    const el = bottom.current?.parentElement;
    if (el) el.scrollTop = el.scrollHeight;
  }, [turns]);

  function patchTurn(id: string, fn: (t: Turn) => Turn) {
    setTurns((ts) => ts.map((t) => (t.id === id ? fn(t) : t)));
  }

  function buildQuery(): ChatQuery {
    const q: ChatQuery = { operation };
    if (sessionParam) q.session = sessionParam;
    else if (mode === "agent") q.agent_id = Number(agentId);
    else {
      const i = target.indexOf("/");
      q.provider = target.slice(0, i);
      q.model = target.slice(i + 1);
    }
    return q;
  }

  async function send(body: ChatBody, userTurn?: Turn) {
    setFormError(undefined);
    let mcp: ChatBody["mcp_config"] = undefined;
    if (tools.trim()) {
      try {
        const parsed = JSON.parse(tools);
        mcp = { tools: Array.isArray(parsed) ? parsed : [parsed] };
        setToolsError(undefined);
      } catch {
        setToolsError("Tools must be JSON: a tool definition or an array of them.");
        return;
      }
    }
    const q = buildQuery();
    if (!q.session && mode === "agent" && !agentId) return setFormError("Choose an agent.");
    if (!q.session && mode === "model" && !target) return setFormError("Choose a model.");
    const full: ChatBody = { ...body, stream };
    if (!sessionParam && system.trim()) full.system_message = system;
    if (temperature !== "") full.temperature = Number(temperature);
    if (maxTokens !== "") full.max_tokens = Number(maxTokens);
    if (mcp) full.mcp_config = mcp;

    const reply: Turn = { id: nextId(), role: "assistant", text: "", streaming: true };
    setTurns((ts) => [...ts, ...(userTurn ? [userTurn] : []), reply]);
    setBusy(true);
    const ctl = new AbortController();
    abort.current = ctl;
    try {
      if (stream) await streamReply(q, full, reply.id, ctl.signal);
      else {
        const r = await call<{
          session_id: string;
          content: string;
          tool_calls: ToolCall[];
          usage: Usage;
          cost_usd: number;
          latency_ms: number;
          provider: string;
          model: string;
          finish_reason: string;
        }>(api.POST("/api/v1/chat", { params: { query: q }, body: full, signal: ctl.signal }));
        patchTurn(reply.id, (t) => ({
          ...t,
          streaming: false,
          text: r.content ?? "",
          toolCalls: r.tool_calls?.length ? r.tool_calls : undefined,
          meta: {
            provider: r.provider,
            model: r.model,
            ...r.usage,
            cost_usd: r.cost_usd,
            latency_ms: r.latency_ms,
            finish_reason: r.finish_reason,
          },
        }));
        if (r.session_id && r.session_id !== sessionParam) adoptSession(r.session_id);
      }
    } catch (e) {
      const err = e as Error;
      const message = err.name === "AbortError" ? "Stopped." : err.message;
      // The error belongs to the turn that was being written (a conversation may have moved on to a later one).
      setTurns((ts) => {
        const last = [...ts].reverse().find((t) => t.streaming) ?? ts.find((t) => t.id === reply.id);
        return ts.map((t) => (t === last ? { ...t, streaming: false, error: message } : t.streaming ? { ...t, streaming: false } : t));
      });
    } finally {
      setBusy(false);
      abort.current = null;
    }
  }

  function adoptSession(id: string) {
    // Keep the conversation on screen; only the URL learns the session.
    loadedFor.current = id;
    setQuery({ session: id });
  }

  async function streamReply(q: ChatQuery, body: ChatBody, firstReplyId: string, signal: AbortSignal) {
    // With operation=conversation the gateway runs tools between model rounds: each result
    // is its own turn, and the model's next words start a new assistant turn after it.
    let replyId = firstReplyId;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
    await postSse(
      `/api/v1/chat?${params}`,
      body,
      (ev: SseEvent) => {
        const d = (ev.data ?? {}) as Record<string, unknown>;
        switch (ev.event) {
          case "start":
            patchTurn(replyId, (t) => ({ ...t, meta: { provider: d.provider as string, model: d.model as string } }));
            if (typeof d.session_id === "string" && d.session_id !== sessionParam) adoptSession(d.session_id);
            break;
          case "text_delta":
            patchTurn(replyId, (t) => ({ ...t, text: t.text + String(d.text ?? "") }));
            break;
          case "thinking_delta":
            patchTurn(replyId, (t) => ({ ...t, thinking: (t.thinking ?? "") + String(d.thinking ?? "") }));
            break;
          case "tool_call_start":
            patchTurn(replyId, (t) => {
              const calls = [...(t.toolCalls ?? [])];
              calls[Number(d.index ?? calls.length)] = { id: String(d.id ?? ""), name: String(d.name ?? ""), arguments: "" };
              return { ...t, toolCalls: calls };
            });
            break;
          case "tool_call_delta":
            patchTurn(replyId, (t) => {
              const calls = [...(t.toolCalls ?? [])];
              const i = Number(d.index ?? 0);
              if (calls[i]) calls[i] = { ...calls[i], arguments: calls[i].arguments + String(d.arguments ?? "") };
              return { ...t, toolCalls: calls };
            });
            break;
          case "tool_call": {
            // The gateway is about to run this call itself.
            const c = {
              id: String(d.id ?? ""),
              name: String(d.name ?? ""),
              arguments: typeof d.arguments === "string" ? d.arguments : JSON.stringify(d.arguments ?? {}),
            };
            setAnswered((a) => new Set(a).add(c.id));
            patchTurn(replyId, (t) => ({ ...t, toolCalls: [...(t.toolCalls ?? []).filter((x) => x.id !== c.id), c] }));
            break;
          }
          case "tool_result": {
            const finished = replyId;
            const next = nextId();
            replyId = next;
            const result: Turn = {
              id: nextId(),
              role: "tool",
              text: typeof d.content === "string" ? d.content : JSON.stringify(d.content ?? null),
              toolName: d.name as string,
              toolCallId: d.id as string,
              isError: Boolean(d.is_error),
            };
            setTurns((ts) => [
              ...ts.map((t) => (t.id === finished ? { ...t, streaming: false } : t)),
              result,
              { id: next, role: "assistant", text: "", streaming: true },
            ]);
            break;
          }
          case "usage": {
            const u = (d.usage ?? {}) as Usage;
            patchTurn(replyId, (t) => ({ ...t, meta: { ...t.meta, input_tokens: u.input_tokens, output_tokens: u.output_tokens } }));
            break;
          }
          case "done": {
            const u = (d.usage ?? {}) as Usage;
            patchTurn(replyId, (t) => ({
              ...t,
              streaming: false,
              text: t.text || String(d.content ?? ""),
              toolCalls: t.toolCalls ?? ((d.tool_calls as ToolCall[])?.length ? (d.tool_calls as ToolCall[]) : undefined),
              meta: {
                ...t.meta,
                provider: d.provider as string,
                model: d.model as string,
                input_tokens: u.input_tokens,
                output_tokens: u.output_tokens,
                cost_usd: d.cost_usd as number,
                latency_ms: d.latency_ms as number,
                ttft_ms: d.ttft_ms as number,
                finish_reason: d.finish_reason as string,
              },
            }));
            break;
          }
          case "error": {
            const e = (d.error ?? {}) as { message?: string; code?: string };
            patchTurn(replyId, (t) => ({
              ...t,
              streaming: false,
              error: `${e.message ?? "The stream failed"}${e.code ? ` (${e.code})` : ""}`,
            }));
            break;
          }
          default:
            break;
        }
      },
      signal,
    );
    patchTurn(replyId, (t) =>
      t.streaming ? { ...t, streaming: false, error: t.error ?? "The stream ended before the answer was complete." } : t,
    );
  }

  function submit(e?: FormEvent) {
    e?.preventDefault();
    const text = input.trim();
    if (!text || busy) return;
    setInput("");
    void send({ user_message: text }, { id: nextId(), role: "user", text });
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function sendToolResult(callId: string, name: string, content: string) {
    setAnswered((s) => new Set(s).add(callId));
    void send(
      { messages: [{ role: "tool", tool_call_id: callId, name, content }] },
      { id: nextId(), role: "tool", text: content, toolName: name, toolCallId: callId },
    );
  }

  function newChat() {
    abort.current?.abort();
    loadedFor.current = "";
    setTurns([]);
    setAnswered(new Set());
    setQuery({ session: undefined });
  }

  const lastMeta = [...turns].reverse().find((t) => t.meta?.provider)?.meta;
  const sessionWith = loaded.data?.agent_id
    ? (agents.data?.data.find((a) => a.id === loaded.data?.agent_id)?.name ?? `agent ${loaded.data.agent_id}`)
    : loaded.data?.provider
      ? `${loaded.data.provider}/${loaded.data.model}`
      : lastMeta
        ? `${lastMeta.provider}/${lastMeta.model}`
        : mode === "agent"
          ? (agents.data?.data.find((a) => String(a.id) === agentId)?.name ?? "an agent")
          : target;

  const settings = (
    <div className="chat-settings">
      {sessionParam ? (
        <div className="field">
          <p className="muted small">Continuing a session with</p>
          <p>
            <strong>{sessionWith}</strong>
          </p>
          <p className="hint">
            <Link href={`/sessions/${sessionParam}`}>Session details</Link> · “New chat” picks another model or agent.
          </p>
        </div>
      ) : (
        <>
          <fieldset className="field">
            <legend>Talk to</legend>
            <div className="radio-row">
              <label className="check">
                <input type="radio" name="mode" checked={mode === "model"} onChange={() => setMode("model")} disabled={!!sessionParam} />{" "}
                <span>A model</span>
              </label>
              <label className="check">
                <input type="radio" name="mode" checked={mode === "agent"} onChange={() => setMode("agent")} disabled={!!sessionParam} />{" "}
                <span>An agent</span>
              </label>
            </div>
          </fieldset>
          {mode === "model" ? (
            <div className="field">
              <label htmlFor="chat-model">Model</label>
              <select id="chat-model" value={target} onChange={(e) => setTarget(e.target.value)} disabled={!!sessionParam}>
                {byProvider.map(([p, ms]) => (
                  <optgroup key={p} label={p}>
                    {ms.map((m) => (
                      <option key={m.id} value={`${m.provider}/${m.model_code}`}>
                        {m.name || m.model_code}
                      </option>
                    ))}
                  </optgroup>
                ))}
              </select>
            </div>
          ) : (
            <div className="field">
              <label htmlFor="chat-agent">Agent</label>
              <select id="chat-agent" value={agentId} onChange={(e) => setAgentId(e.target.value)} disabled={!!sessionParam}>
                <option value="">Choose an agent…</option>
                {(agents.data?.data ?? []).map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                    {a.job_title ? ` (${a.job_title})` : ""}
                  </option>
                ))}
              </select>
              {agents.data?.data.length === 0 && (
                <p className="hint">
                  No agents yet: <Link href="/projects">create one in a project</Link>.
                </p>
              )}
            </div>
          )}
        </>
      )}
      <div className="field">
        <label htmlFor="chat-op">Operation</label>
        <select id="chat-op" value={operation} onChange={(e) => setOperation(e.target.value)}>
          <option value="chat">chat: keep a session, tool calls come back to you</option>
          <option value="conversation">conversation: the gateway runs built-in tools</option>
          <option value="completion">completion: stateless</option>
        </select>
      </div>
      <label className="check">
        <input type="checkbox" checked={stream} onChange={(e) => setStream(e.target.checked)} /> <span>Stream tokens as they come</span>
      </label>
      <details className="advanced">
        <summary>More options</summary>
        <div className="field">
          <label htmlFor="chat-system">System message</label>
          <textarea
            id="chat-system"
            rows={3}
            value={system}
            onChange={(e) => setSystem(e.target.value)}
            disabled={!!sessionParam}
            placeholder="You are a terse assistant."
          />
        </div>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="chat-temp">Temperature</label>
            <input
              id="chat-temp"
              type="number"
              step="0.1"
              min="0"
              max="2"
              value={temperature}
              onChange={(e) => setTemperature(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="chat-max">Max tokens</label>
            <input id="chat-max" type="number" min="1" value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} />
          </div>
        </div>
        <div className="field">
          <label htmlFor="chat-tools">Tools (JSON)</label>
          <textarea
            id="chat-tools"
            className="mono"
            rows={4}
            value={tools}
            onChange={(e) => setTools(e.target.value)}
            aria-invalid={toolsError ? true : undefined}
            aria-describedby="chat-tools-err"
            placeholder='[{"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]'
          />
          {toolsError && (
            <p className="field-error" id="chat-tools-err" role="alert">
              {toolsError}
            </p>
          )}
        </div>
      </details>
    </div>
  );

  return (
    <Page
      title="Chat"
      subtitle={
        sessionParam ? (
          <>
            Session <code>{sessionParam.slice(0, 12)}…</code>
          </>
        ) : (
          "Try a model or an agent; each conversation is kept as a session."
        )
      }
      actions={
        <button type="button" className="btn" onClick={newChat}>
          New chat
        </button>
      }
    >
      <div className="chat">
        <aside className="card chat-side" aria-label="Chat settings">
          {settings}
        </aside>
        <section className="chat-main" aria-label="Conversation">
          <ErrorNote error={loaded.error ?? models.error} />
          <div className="chat-scroll" tabIndex={0} aria-label="Messages">
            {turns.length === 0 ? (
              <div className="empty">
                <p className="empty-title">Say something</p>
                <p className="muted">The answer streams in as the model writes it. Tool calls and their results show up inline.</p>
              </div>
            ) : (
              <Messages
                turns={turns}
                answered={answered}
                renderToolActions={(c, turn) =>
                  operation === "chat" && !turn.streaming && turn === turns[turns.length - 1] ? (
                    <ToolResultForm call={c} onSend={sendToolResult} />
                  ) : null
                }
              />
            )}
            <div ref={bottom} />
          </div>
          <form className="composer" onSubmit={submit}>
            <FormError message={formError} />
            <label htmlFor="chat-input" className="sr-only">
              Message
            </label>
            <textarea
              id="chat-input"
              rows={3}
              value={input}
              onChange={(e) => setInput(e.target.value)}
              onKeyDown={onKey}
              placeholder="Write a message. Enter sends, Shift+Enter adds a line."
            />
            <div className="composer-actions">
              {busy ? (
                <button type="button" className="btn" onClick={() => abort.current?.abort()}>
                  Stop
                </button>
              ) : (
                <button type="submit" className="btn primary" disabled={!input.trim()}>
                  Send
                </button>
              )}
            </div>
          </form>
        </section>
      </div>
    </Page>
  );
}

function ToolResultForm({ call: c, onSend }: { call: ToolCall; onSend: (id: string, name: string, content: string) => void }) {
  const [text, setText] = useState("");
  const id = `tool-result-${c.id}`;
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (text.trim()) onSend(c.id, c.name, text);
      }}
    >
      <label htmlFor={id} className="sr-only">
        Result of {c.name}
      </label>
      <input id={id} value={text} onChange={(e) => setText(e.target.value)} placeholder={`Result of ${c.name}`} />
      <button type="submit" className="btn small" disabled={!text.trim()}>
        Send result
      </button>
    </form>
  );
}
