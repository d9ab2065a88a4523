// Chat sessions: who, which model or agent, how much, until when.
import { api, call } from "../api/client";
import type { Session } from "../api/models";
import { useConfirm, useToast } from "../components/dialog";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Page, Spinner } from "../components/ui";
import { num, relative, usd } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link } from "../lib/router";

export default function Sessions() {
  useTitle("Sessions");
  const list = useLoad(() => call<{ data: Session[] }>(api.GET("/api/v1/session", { params: { query: { limit: 200 } } })), []);
  const confirm = useConfirm();
  const toast = useToast();
  const rows = list.data?.data ?? [];

  async function remove(s: Session) {
    const ok = await confirm({
      title: "Delete session?",
      message: "Its history is deleted everywhere (database and Redis). This cannot be undone.",
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await call(api.DELETE("/api/v1/session/{session_id}", { params: { path: { session_id: s.session_id } } }));
      toast("Session deleted");
      list.reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <Page title="Sessions" subtitle="Conversations the gateway remembers. Idle sessions expire (7 days unless configured).">
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty
          title="No sessions yet"
          action={
            <Link className="btn primary" href="/chat">
              Start a chat
            </Link>
          }
        >
          Every chat (operation <code>chat</code> or <code>conversation</code>) is kept as a session you can continue.
        </Empty>
      )}
      {rows.length > 0 && (
        <DataTable
          rows={rows}
          rowKey={(s) => s.session_id}
          caption="Sessions"
          columns={[
            {
              key: "title",
              label: "Session",
              render: (s) => <Link href={`/sessions/${s.session_id}`}>{s.title || `${s.session_id.slice(0, 12)}…`}</Link>,
            },
            {
              key: "model",
              label: "With",
              render: (s) => (s.agent_id ? `agent ${s.agent_id}` : s.provider ? `${s.provider}/${s.model}` : "—"),
            },
            { key: "messages", label: "Messages", numeric: true, render: (s) => num(s.message_count) },
            { key: "tokens", label: "Tokens", numeric: true, render: (s) => num(s.total_tokens) },
            { key: "cost", label: "Cost", numeric: true, render: (s) => usd(s.total_cost_usd) },
            { key: "updated", label: "Last active", render: (s) => relative(s.updated_at) },
            { key: "expires", label: "Expires", render: (s) => relative(s.expires_at) },
          ]}
          actions={(s) => (
            <>
              <Link className="btn small" href={`/chat?session=${s.session_id}`}>
                Continue
              </Link>
              <button
                type="button"
                className="btn small danger-text"
                onClick={() => remove(s)}
                aria-label={`Delete session ${s.session_id}`}
              >
                Delete
              </button>
            </>
          )}
        />
      )}
    </Page>
  );
}
