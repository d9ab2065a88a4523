// One session: its metadata and its whole history.
import { api, call } from "../api/client";
import type { Session } from "../api/models";
import { useConfirm, useToast } from "../components/dialog";
import { Messages, turnsFromMessages } from "../components/messages";
import { ErrorNote, Facts, Page, Spinner } from "../components/ui";
import { dateTime, jsonInline, num, relative, usd } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link, navigate } from "../lib/router";

export default function SessionDetail({ params }: { params: Record<string, string> }) {
  const sid = params.sid;
  const s = useLoad(() => call<Session>(api.GET("/api/v1/session/{session_id}", { params: { path: { session_id: sid } } })), [sid]);
  const confirm = useConfirm();
  const toast = useToast();
  useTitle("Session");
  const d = s.data;
  if (!d) {
    return (
      <section className="page">
        <ErrorNote error={s.error} onRetry={s.reload} />
        {!s.error && <Spinner />}
      </section>
    );
  }
  return (
    <Page
      back={{ href: "/sessions", label: "Sessions" }}
      title={d.title || "Session"}
      subtitle={<code>{d.session_id}</code>}
      actions={
        <>
          <Link className="btn primary" href={`/chat?session=${d.session_id}`}>
            Continue in chat
          </Link>
          <button
            type="button"
            className="btn danger-text"
            onClick={async () => {
              const ok = await confirm({
                title: "Delete session?",
                message: "Its history is deleted everywhere. This cannot be undone.",
                confirmLabel: "Delete",
                danger: true,
              });
              if (!ok) return;
              try {
                await call(api.DELETE("/api/v1/session/{session_id}", { params: { path: { session_id: d.session_id } } }));
                toast("Session deleted");
                navigate("/sessions");
              } catch (e) {
                toast((e as Error).message, "bad");
              }
            }}
          >
            Delete
          </button>
        </>
      }
    >
      <section className="card">
        <Facts
          items={[
            ["Model", d.provider ? `${d.provider}/${d.model}` : "—"],
            ["Agent", d.agent_id ?? "—"],
            ["Project", d.project_id ? <Link href={`/projects/${d.project_id}`}>project {d.project_id}</Link> : "—"],
            [
              "Task",
              d.task_id && d.project_id ? (
                <Link href={`/projects/${d.project_id}/tasks/${d.task_id}`}>task {d.task_id}</Link>
              ) : (
                (d.task_id ?? "—")
              ),
            ],
            ["Messages", num(d.message_count)],
            ["Tokens · cost", `${num(d.total_tokens)} · ${usd(d.total_cost_usd)}`],
            ["Created", dateTime(d.created_at)],
            ["Expires", relative(d.expires_at)],
            ["MCP config", <span className="mono break">{jsonInline((d as unknown as { mcp_config?: unknown }).mcp_config)}</span>],
          ]}
        />
      </section>
      <section className="section">
        <h2>History</h2>
        {d.messages?.length ? <Messages turns={turnsFromMessages(d.messages)} /> : <p className="muted">No messages.</p>}
      </section>
    </Page>
  );
}
