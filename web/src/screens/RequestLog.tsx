// The request log: one row per upstream attempt, filtered by provider, model,
// status, project, session, ...; refreshed live on demand.
import { useState } from "react";
import { resources } from "../api/client";
import type { RequestLogRow } from "../api/models";
import { DataTable, Pager } from "../components/table";
import { Empty, ErrorNote, Page, Spinner } from "../components/ui";
import { dateTime, ms, num, usd } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link, setQuery, useLocation } from "../lib/router";

const FILTERS: { name: string; label: string; placeholder?: string }[] = [
  { name: "provider", label: "Provider", placeholder: "openai" },
  { name: "model", label: "Model", placeholder: "gpt-5-mini" },
  { name: "status_code", label: "Status", placeholder: "429" },
  { name: "error_code", label: "Error code", placeholder: "rate_limited" },
  { name: "endpoint", label: "Endpoint", placeholder: "chat" },
  { name: "project_id", label: "Project id" },
  { name: "session_id", label: "Session id" },
  { name: "request_id", label: "Request id" },
];

const LIMIT = 50;

export default function RequestLog() {
  useTitle("Request log");
  const { query } = useLocation();
  const [live, setLive] = useState(false);
  const filters = Object.fromEntries(FILTERS.map((f) => [f.name, query.get(f.name) ?? ""]));
  const offset = Number(query.get("offset") ?? 0);
  const [draft, setDraft] = useState(filters);
  const list = useLoad(
    () => resources.list<RequestLogRow>("request-logs", { ...filters, limit: LIMIT, offset }),
    [JSON.stringify(filters), offset],
    live ? 3000 : undefined,
  );
  const rows = list.data?.data ?? [];
  const active = Object.values(filters).some(Boolean);

  return (
    <Page
      title="Request log"
      subtitle="Every upstream attempt: retries and fallbacks are separate rows of the same request id."
      actions={
        <label className="check">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} /> <span>Live</span>
        </label>
      }
    >
      <form
        className="filters card"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ ...draft, offset: undefined });
        }}
        aria-label="Filters"
      >
        {FILTERS.map((f) => (
          <div className="field" key={f.name}>
            <label htmlFor={`f-${f.name}`}>{f.label}</label>
            <input
              id={`f-${f.name}`}
              value={draft[f.name]}
              placeholder={f.placeholder}
              onChange={(e) => setDraft((d) => ({ ...d, [f.name]: e.target.value }))}
            />
          </div>
        ))}
        <div className="form-actions">
          {active && (
            <button
              type="button"
              className="btn"
              onClick={() => {
                const cleared = Object.fromEntries(FILTERS.map((f) => [f.name, ""]));
                setDraft(cleared);
                setQuery({ ...cleared, offset: undefined });
              }}
            >
              Clear
            </button>
          )}
          <button type="submit" className="btn primary">
            Filter
          </button>
        </div>
      </form>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && !list.error && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty
          title={active ? "No request matches these filters" : "No requests yet"}
          action={
            active ? undefined : (
              <Link className="btn primary" href="/chat">
                Send one from the chat playground
              </Link>
            )
          }
        >
          {active ? "Loosen or clear the filters." : "Each call to a provider is logged here with its tokens, cost and latency."}
        </Empty>
      )}
      {rows.length > 0 && (
        <DataTable
          rows={rows}
          rowKey={(r) => r.id}
          caption="Requests"
          columns={[
            { key: "time", label: "Time", render: (r) => dateTime(r.created_at) },
            { key: "endpoint", label: "Endpoint", render: (r) => r.endpoint + (r.stream ? " (stream)" : "") },
            {
              key: "model",
              label: "Model",
              render: (r) => (
                <>
                  <span className="mono small">
                    {r.provider}/{r.model}
                  </span>
                  {r.requested_model && r.requested_model !== r.model && r.requested_model !== `${r.provider}/${r.model}` && (
                    <div className="muted small">asked for {r.requested_model}</div>
                  )}
                </>
              ),
            },
            {
              key: "status",
              label: "Status",
              render: (r) => (
                <span title={r.error_code ?? undefined}>
                  <span className={`badge tone-${r.status_code < 400 ? "good" : "bad"}`}>{r.status_code}</span>
                  {r.error_code && <div className="muted small">{r.error_code}</div>}
                </span>
              ),
            },
            { key: "tokens", label: "Tokens in / out", numeric: true, render: (r) => `${num(r.input_tokens)} / ${num(r.output_tokens)}` },
            { key: "cost", label: "Cost", numeric: true, render: (r) => usd(r.cost_usd) },
            {
              key: "latency",
              label: "Latency",
              numeric: true,
              render: (r) => ms(r.latency_ms) + (r.ttft_ms ? ` (first ${ms(r.ttft_ms)})` : ""),
            },
            {
              key: "session",
              label: "Session",
              render: (r) => (r.session_id ? <Link href={`/sessions/${r.session_id}`}>{r.session_id.slice(0, 8)}…</Link> : "—"),
            },
          ]}
        />
      )}
      {list.data && (
        <Pager
          total={list.data.total}
          capped={list.data.total_capped}
          limit={LIMIT}
          offset={offset}
          onOffset={(o) => setQuery({ offset: o || undefined })}
        />
      )}
    </Page>
  );
}
