// One task, live: status, output, attachments, runs and the tasks it spawned.
import { useEffect, useState, type ReactNode } from "react";
import { resources } from "../api/client";
import type { Agent, Task } from "../api/models";
import { tasks } from "../api/work";
import { useConfirm, useToast } from "../components/dialog";
import { DataTable } from "../components/table";
import { ErrorNote, Facts, Page, Spinner, Status, Tags } from "../components/ui";
import { bytes, dateTime, num, relative, usd } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link } from "../lib/router";
import { formatIn, preview } from "../lib/schedule";

const FINAL = ["completed", "failed", "cancelled", "blocked"];

export default function TaskDetail({ params }: { params: Record<string, string> }) {
  const pid = Number(params.pid);
  const id = Number(params.id);
  const [live, setLive] = useState(true);
  const task = useLoad(() => tasks.get(id), [id], live ? 2000 : undefined);
  const agents = useLoad(() => resources.list<Agent>("agents", { project_id: pid, limit: 500 }), [pid]);
  const children = useLoad(() => tasks.children(id, pid), [id, pid], live ? 4000 : undefined);
  const runs = useLoad(() => tasks.runs(id), [id, task.data?.attempts, task.data?.status]);
  const confirm = useConfirm();
  const toast = useToast();
  const t = task.data;
  useTitle(t ? t.title : "Task");
  // Stop polling once the task has ended (and nothing it spawned is still going).
  const childrenDone = (children.data ?? []).every((c) => FINAL.includes(c.status));
  const ended = !!t && FINAL.includes(t.status) && childrenDone && !t.schedule;
  useEffect(() => {
    if (ended) setLive(false);
  }, [ended]);

  if (!t) {
    return (
      <section className="page">
        <ErrorNote error={task.error} onRetry={task.reload} />
        {!task.error && <Spinner />}
      </section>
    );
  }
  const agent = agents.data?.data.find((a) => a.id === t.agent_id);
  const p = t.schedule ? preview(t.schedule, 3) : null;

  async function cancel() {
    const ok = await confirm({
      title: "Cancel task?",
      message: (
        <>
          “{t!.title}” stops and is kept for history{t!.schedule ? "; its schedule stops firing" : ""}.
        </>
      ),
      confirmLabel: "Cancel task",
      danger: true,
    });
    if (!ok) return;
    try {
      await tasks.cancel(id);
      toast("Task cancelled");
      task.reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  async function retry() {
    try {
      await tasks.update(id, { status: "pending" });
      toast("Task queued again");
      setLive(true);
      task.reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <Page
      back={{ href: `/projects/${pid}/tasks`, label: "Task board" }}
      title={t.title}
      subtitle={
        <span className="task-status" aria-live="polite">
          <Status value={t.status} /> {t.status_reason && <span className="muted">{t.status_reason}</span>}
          {live && !FINAL.includes(t.status) && <span className="live-dot" title="Updating live" aria-label="updating live" />}
        </span>
      }
      actions={
        <>
          {["failed", "blocked", "cancelled"].includes(t.status) && (
            <button type="button" className="btn" onClick={retry}>
              Run again
            </button>
          )}
          {!FINAL.includes(t.status) && (
            <button type="button" className="btn danger-text" onClick={cancel}>
              Cancel task
            </button>
          )}
        </>
      }
    >
      <div className="split">
        <section className="card">
          <h2>Details</h2>
          <Facts
            items={[
              ["Kind", t.kind],
              ["Tags", <Tags items={t.tags} />],
              [
                "Agent",
                agent ? (
                  <Link href={`/projects/${pid}/agents/${agent.id}`}>{agent.name}</Link>
                ) : (
                  <span className="muted">not assigned yet</span>
                ),
              ],
              ["Schedule", p ? (p.error ? p.error : p.summary) : "once"],
              ...(t.next_runs?.length
                ? [
                    [
                      "Next runs",
                      <ol className="next-runs">
                        {t.next_runs.slice(0, 3).map((r) => (
                          <li key={r}>{formatIn(new Date(r), t.schedule?.timezone)}</li>
                        ))}
                      </ol>,
                    ] as [string, ReactNode],
                  ]
                : t.next_run_at
                  ? [["Next run", formatIn(new Date(t.next_run_at), t.schedule?.timezone)] as [string, string]]
                  : []),
              ["Attempts", `${t.attempts} of ${t.max_attempts}`],
              ["Tokens · cost", `${num(t.tokens_used)} · ${usd(t.cost_usd)}`],
              ["Created", dateTime(t.created_at)],
              ["Started", t.started_at ? relative(t.started_at) : "—"],
              ["Finished", t.finished_at ? dateTime(t.finished_at) : "—"],
              ...(t.parent_task_id
                ? [
                    ["Spawned by", <Link href={`/projects/${pid}/tasks/${t.parent_task_id}`}>task {t.parent_task_id}</Link>] as [
                      string,
                      ReactNode,
                    ],
                  ]
                : []),
              ...(t.session_id
                ? [["Session", <Link href={`/sessions/${t.session_id}`}>{t.session_id.slice(0, 12)}…</Link>] as [string, ReactNode]]
                : []),
            ]}
          />
          {t.description && (
            <>
              <h3>Description</h3>
              <p className="prewrap">{t.description}</p>
            </>
          )}
        </section>
        <section className="card" aria-labelledby="output-title">
          <div className="section-head">
            <h2 id="output-title">Output</h2>
            {t.output && (
              <a className="btn small" href={tasks.outputUrl(id)} download={`task-${id}-output.txt`}>
                Download .txt
              </a>
            )}
          </div>
          {t.error && <div className="error-note">{t.error}</div>}
          {t.output ? (
            <pre className="output" data-testid="task-output">
              {t.output}
            </pre>
          ) : (
            <p className="muted">{FINAL.includes(t.status) ? "No output." : "The output appears here when the agent finishes."}</p>
          )}
        </section>
      </div>
      <Attachments task={t} onChanged={task.reload} />
      {runs.data && runs.data.length > 0 && (
        <section className="section">
          <h2>Runs</h2>
          <DataTable
            rows={runs.data}
            rowKey={(r) => r.id}
            caption="Runs"
            columns={[
              { key: "attempt", label: "Attempt", render: (r) => `#${r.attempt}` },
              { key: "status", label: "Status", render: (r) => <Status value={r.status} /> },
              { key: "agent", label: "Agent", render: (r) => agents.data?.data.find((a) => a.id === r.agent_id)?.name ?? "—" },
              { key: "started", label: "Started", render: (r) => dateTime(r.started_at) },
              { key: "tokens", label: "Tokens", numeric: true, render: (r) => num(r.tokens) },
              { key: "cost", label: "Cost", numeric: true, render: (r) => usd(r.cost_usd) },
              { key: "error", label: "Error", render: (r) => r.error ?? "—" },
            ]}
          />
        </section>
      )}
      <section className="section">
        <h2>Spawned tasks</h2>
        {children.data && children.data.length === 0 && <p className="muted">This task has not spawned any task.</p>}
        {children.data && children.data.length > 0 && <SpawnTree pid={pid} items={children.data} />}
      </section>
    </Page>
  );
}

function SpawnTree({ pid, items }: { pid: number; items: Task[] }) {
  return (
    <ul className="tree">
      {items.map((c) => (
        <li key={c.id}>
          <Link href={`/projects/${pid}/tasks/${c.id}`}>{c.title}</Link> <Status value={c.status} />
          <SpawnChildren pid={pid} id={c.id} />
        </li>
      ))}
    </ul>
  );
}

function SpawnChildren({ pid, id }: { pid: number; id: number }) {
  const kids = useLoad(() => tasks.children(id, pid), [id, pid]);
  if (!kids.data?.length) return null;
  return <SpawnTree pid={pid} items={kids.data} />;
}

function Attachments({ task, onChanged }: { task: Task; onChanged: () => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  const items = task.attachments ?? [];
  return (
    <section className="section">
      <div className="section-head">
        <h2>Attachments</h2>
        <label className="btn small" htmlFor="attach-input">
          {busy ? "Uploading…" : "Attach files"}
        </label>
        <input
          id="attach-input"
          className="sr-only"
          type="file"
          multiple
          onChange={async (e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = "";
            if (!files.length) return;
            setBusy(true);
            setError(undefined);
            try {
              await tasks.attach(task.id, files);
              toast(`Attached ${files.length} file${files.length > 1 ? "s" : ""}`);
              onChanged();
            } catch (err) {
              setError(err);
            } finally {
              setBusy(false);
            }
          }}
        />
      </div>
      <ErrorNote error={error} />
      {items.length === 0 ? (
        <p className="muted">No attachments.</p>
      ) : (
        <ul className="files">
          {items.map((a) => (
            <li key={a.id}>
              <a href={tasks.attachmentUrl(task.id, a.id)} download={a.filename}>
                {a.filename}
              </a>{" "}
              <span className="muted small">
                {a.content_type} · {bytes(a.size_bytes)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
