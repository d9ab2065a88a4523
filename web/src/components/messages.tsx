// A conversation as people read it: user and assistant turns, the model's
// thinking (folded), tool calls with their arguments, and tool results.
import type { ReactNode } from "react";
import type { ContentPart, SessionMessage, ToolCall } from "../api/models";
import { ms, num, usd } from "../lib/format";

/** One turn as the chat screen keeps it (streamed pieces accumulate here). */
export interface Turn {
  id: string;
  role: "user" | "assistant" | "tool" | "system";
  text: string;
  thinking?: string;
  toolCalls?: ToolCall[];
  /** For tool results: the call answered. */
  toolCallId?: string;
  toolName?: string;
  isError?: boolean;
  streaming?: boolean;
  error?: string;
  meta?: {
    provider?: string;
    model?: string;
    input_tokens?: number;
    output_tokens?: number;
    cost_usd?: number;
    latency_ms?: number;
    ttft_ms?: number;
    finish_reason?: string;
  };
}

function textOf(content: SessionMessage["content"]): { text: string; thinking: string } {
  if (!content) return { text: "", thinking: "" };
  if (typeof content === "string") return { text: content, thinking: "" };
  const parts = content as ContentPart[];
  return {
    text: parts
      .filter((p) => p.type === "text")
      .map((p) => p.text ?? "")
      .join(""),
    thinking: parts
      .filter((p) => p.type === "thinking")
      .map((p) => p.thinking ?? "")
      .join(""),
  };
}

/** Stored session messages as turns. */
export function turnsFromMessages(messages: SessionMessage[]): Turn[] {
  return messages.map((m, i) => {
    const { text, thinking } = textOf(m.content);
    return {
      id: `m${i}`,
      role: m.role,
      text,
      thinking: thinking || undefined,
      toolCalls: m.tool_calls?.length ? m.tool_calls : undefined,
      toolCallId: m.tool_call_id ?? undefined,
      toolName: m.name ?? undefined,
      isError: m.is_error,
    };
  });
}

/** A tool's JSON output, indented; other text as it is. */
function prettyResult(text: string): string {
  const t = text.trim();
  if (!t.startsWith("{") && !t.startsWith("[")) return text;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return text;
  }
}

function prettyArgs(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}

const WHO: Record<Turn["role"], string> = { user: "You", assistant: "Assistant", tool: "Tool result", system: "System" };

export function Messages(props: { turns: Turn[]; renderToolActions?: (call: ToolCall, turn: Turn) => ReactNode; answered?: Set<string> }) {
  return (
    <ol className="messages" aria-label="Conversation">
      {props.turns.map((t) => (
        <li key={t.id} className={`msg msg-${t.role}${t.error ? " msg-error" : ""}`} aria-busy={t.streaming || undefined}>
          <p className="msg-who">
            {t.role === "tool" && t.toolName ? `Result of ${t.toolName}` : WHO[t.role]}
            {t.streaming && <span className="live-dot" aria-label="receiving" />}
          </p>
          {t.thinking && (
            <details className="thinking">
              <summary>Thinking</summary>
              <p className="prewrap">{t.thinking}</p>
            </details>
          )}
          {(t.text || (!t.toolCalls && !t.error)) && (
            <div className={t.role === "tool" ? `prewrap mono small${t.isError ? " danger-text" : ""}` : "prewrap"}>
              {(t.role === "tool" ? prettyResult(t.text) : t.text) || (t.streaming ? "…" : "")}
            </div>
          )}
          {t.toolCalls?.map((c) => (
            <div className="tool-call" key={c.id || c.name}>
              <p>
                Calls <code>{c.name}</code>
                {c.id && <span className="muted small"> ({c.id})</span>}
              </p>
              <pre className="mono small">{prettyArgs(c.arguments)}</pre>
              {props.renderToolActions && !props.answered?.has(c.id) && props.renderToolActions(c, t)}
            </div>
          ))}
          {t.error && (
            <div className="error-note" role="alert">
              {t.error}
            </div>
          )}
          {t.meta && (
            <p className="msg-meta muted small">
              {[
                t.meta.provider && t.meta.model ? `${t.meta.provider}/${t.meta.model}` : null,
                t.meta.input_tokens !== undefined ? `${num(t.meta.input_tokens)} in · ${num(t.meta.output_tokens)} out` : null,
                t.meta.cost_usd !== undefined ? usd(t.meta.cost_usd) : null,
                t.meta.ttft_ms ? `first token ${ms(t.meta.ttft_ms)}` : null,
                t.meta.latency_ms ? ms(t.meta.latency_ms) : null,
              ]
                .filter(Boolean)
                .join(" · ")}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
