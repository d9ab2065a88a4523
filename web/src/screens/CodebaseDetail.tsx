// A codebase: its runner, and its runs (lint, test, build, custom) with a live log.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { resources } from "../api/client";
import type { Codebase, CodebaseRun } from "../api/models";
import { codebases } from "../api/work";
import { useToast } from "../components/dialog";
import { FormError } from "../components/form";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Facts, Page, Spinner, Status } from "../components/ui";
import { dateTime, relative } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";

const ACTIVE = ["queued", "running", "pending"];

export default function CodebaseDetail({ params }: { params: Record<string, string> }) {
  const pid = Number(params.pid);
  const id = Number(params.id);
  const cb = useLoad(() => resources.get<Codebase>("codebase", id), [id]);
  const [fast, setFast] = useState(false);
  const runs = useLoad(() => codebases.runs(id), [id], fast ? 2000 : 10_000);
  const [selected, setSelected] = useState<number | null>(null);
  const c = cb.data;
  useTitle(c ? c.name : "Codebase");
  const list = runs.data ?? [];
  const anyActive = list.some((r) => ACTIVE.includes(r.status));
  useEffect(() => setFast(anyActive), [anyActive]);
  const run = list.find((r) => r.id === selected) ?? list[0];

  if (!c) {
    return (
      <section className="page">
        <ErrorNote error={cb.error} onRetry={cb.reload} />
        {!cb.error && <Spinner />}
      </section>
    );
  }
  const runner = c.runtime_config?.runner;
  return (
    <Page back={{ href: `/projects/${pid}/codebases`, label: "Codebases" }} title={c.name} subtitle={c.repo_url}>
      <section className="card">
        <Facts
          items={[
            ["State", <Status value={c.enabled ? "enabled" : "disabled"} />],
            [
              "Runner",
              runner?.host ? (
                `${runner.ssh_user ?? "?"}@${runner.host}:${runner.workspace_root ?? "?"}`
              ) : (
                <span className="muted">not configured (edit runtime_config.runner)</span>
              ),
            ],
            ["Stack", c.preferred_stack ?? "—"],
            ["Prerequisites", c.prerequisites ?? "—"],
          ]}
        />
        {c.architecture_notes && (
          <>
            <h3>Architecture notes</h3>
            <p className="prewrap">{c.architecture_notes}</p>
          </>
        )}
      </section>
      <section className="section">
        <div className="section-head">
          <h2>Runs</h2>
          {!runs.error && (
            <QueueRun
              codebaseId={id}
              onQueued={(r) => {
                setSelected(r.id);
                setFast(true);
                runs.reload();
              }}
            />
          )}
        </div>
        <ErrorNote error={runs.error} onRetry={runs.reload} />
        {runs.data && list.length === 0 && (
          <Empty title="No runs yet">
            Queue a lint, test or build run; a runner worker executes it over SSH on the codebase's runner and streams its log here.
          </Empty>
        )}
        {list.length > 0 && (
          <div className="split runs">
            <DataTable
              rows={list}
              rowKey={(r) => r.id}
              caption="Runs"
              columns={[
                {
                  key: "kind",
                  label: "Run",
                  render: (r) => (
                    <button type="button" className="linklike" onClick={() => setSelected(r.id)} aria-pressed={run?.id === r.id}>
                      #{r.id} {r.kind}
                    </button>
                  ),
                },
                { key: "status", label: "Status", render: (r) => <Status value={r.status} /> },
                { key: "when", label: "Queued", render: (r) => relative(r.created_at) },
                { key: "exit", label: "Exit", numeric: true, render: (r) => (r.exit_code ?? "—").toString() },
              ]}
            />
            {run && <RunLog codebaseId={id} run={run} onEnded={runs.reload} />}
          </div>
        )}
      </section>
    </Page>
  );
}

function QueueRun({ codebaseId, onQueued }: { codebaseId: number; onQueued: (r: CodebaseRun) => void }) {
  const [kind, setKind] = useState("test");
  const [command, setCommand] = useState("");
  const [error, setError] = useState<string>();
  const toast = useToast();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await codebases.queue(codebaseId, { kind, ...(command ? { command } : {}) });
      toast(`Queued ${kind} run`);
      onQueued(r);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form className="inline-form" onSubmit={submit}>
      <select aria-label="Kind of run" value={kind} onChange={(e) => setKind(e.target.value)}>
        {["lint", "test", "build", "custom"].map((k) => (
          <option key={k}>{k}</option>
        ))}
      </select>
      <input
        aria-label="Command (optional)"
        placeholder={kind === "custom" ? "command to run" : "command (optional)"}
        value={command}
        onChange={(e) => setCommand(e.target.value)}
        required={kind === "custom"}
      />
      <button type="submit" className="btn primary">
        Run
      </button>
      <FormError message={error} />
    </form>
  );
}

function RunLog({ codebaseId, run, onEnded }: { codebaseId: number; run: CodebaseRun; onEnded: () => void }) {
  const active = ACTIVE.includes(run.status);
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>();
  const [following, setFollowing] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const toast = useToast();

  useEffect(() => {
    setText("");
    setError(undefined);
    if (!active) {
      let stale = false;
      codebases
        .log(codebaseId, run.id)
        .then((t) => !stale && setText(t))
        .catch((e) => !stale && setError(e));
      return () => {
        stale = true;
      };
    }
    // Live: stored chunks first, then new ones as the runner sends them.
    const es = new EventSource(codebases.logStreamUrl(codebaseId, run.id));
    const seen = new Set<number>();
    setFollowing(true);
    es.addEventListener("log", (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { seq: number; text: string };
      if (seen.has(d.seq)) return;
      seen.add(d.seq);
      setText((t) => t + d.text);
    });
    es.addEventListener("done", () => {
      es.close();
      setFollowing(false);
      onEnded();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setFollowing(false);
    };
    return () => {
      es.close();
      setFollowing(false);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [codebaseId, run.id, active]);

  useEffect(() => {
    // Follow the log's end while it grows, as a terminal does.
    const el = pre.current;
    if (el && following) el.scrollTop = el.scrollHeight;
  }, [text, following]);

  return (
    <section className="card log-card" aria-label={`Log of run ${run.id}`}>
      <div className="section-head">
        <h3>
          Run #{run.id}: {run.kind} {following && <span className="live-dot" aria-label="live" />}
        </h3>
        <span className="actions">
          <Status value={run.status} />
          {active && !run.cancel_requested && (
            <button
              type="button"
              className="btn small danger-text"
              onClick={async () => {
                try {
                  await codebases.cancel(codebaseId, run.id);
                  toast("Cancelling the run");
                  onEnded();
                } catch (e) {
                  toast((e as Error).message, "bad");
                }
              }}
            >
              Cancel run
            </button>
          )}
        </span>
      </div>
      <p className="muted small">
        {run.command ?? "default command"} · queued {dateTime(run.created_at)}
        {run.finished_at ? ` · finished ${dateTime(run.finished_at)}` : ""}
        {run.exit_code !== null && run.exit_code !== undefined ? ` · exit ${run.exit_code}` : ""}
      </p>
      {run.error && <div className="error-note">{run.error}</div>}
      <ErrorNote error={error} />
      <pre className="log" ref={pre} tabIndex={0} aria-label="Log output">
        {text || (active ? "Waiting for output…" : "No output.")}
      </pre>
    </section>
  );
}
