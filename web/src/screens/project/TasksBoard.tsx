// A project's tasks as a board by status, live (polled), with a dialog to
// create one: schedule with its next runs, tags, attachments.
import { useMemo, useState, type FormEvent } from "react";
import { api, call, resources } from "../../api/client";
import type { Agent, KnownSetting, Project, Schedule, Task, TaskStatus } from "../../api/models";
import { tasks } from "../../api/work";
import { Modal, useToast } from "../../components/dialog";
import { Field, FormError, splitError, type FieldErrors, type FieldSpec } from "../../components/form";
import { ScheduleEditor } from "../../components/schedule";
import { Empty, ErrorNote, Spinner, Status, Tags } from "../../components/ui";
import { relative } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { useMe } from "../../lib/me";
import { Link, navigate } from "../../lib/router";
import { preview } from "../../lib/schedule";

const COLUMNS: { status: TaskStatus[]; label: string; hint: string }[] = [
  { status: ["scheduled"], label: "Scheduled", hint: "Waiting for their time" },
  { status: ["pending"], label: "Pending", hint: "Waiting for an agent" },
  { status: ["running"], label: "Running", hint: "An agent is on it" },
  { status: ["completed"], label: "Completed", hint: "Done, with output" },
  { status: ["failed", "blocked", "cancelled"], label: "Stopped", hint: "Failed, blocked or cancelled" },
];

const DEFAULT_HIDE_HOURS = 72;

/** `tasks.hide_completed_after_hours`, when this user may read settings. */
function useHideHours(): number {
  const me = useMe();
  const known = useLoad(
    () => (me.role === "admin" ? call<{ data: KnownSetting[] }>(api.GET("/api/v1/settings/known")) : Promise.resolve(null)),
    [me.role],
  );
  const s = known.data?.data.find((k) => k.key === "tasks.hide_completed_after_hours");
  const v = parseFloat(String(s?.is_set ? s.value : (s?.default ?? DEFAULT_HIDE_HOURS)));
  return Number.isFinite(v) ? v : DEFAULT_HIDE_HOURS;
}

export function TasksBoard({ project }: { project: Project }) {
  const hideHours = useHideHours();
  const [showOld, setShowOld] = useState(false);
  const list = useLoad(() => tasks.list({ project_id: project.id, include_hidden: showOld || undefined }), [project.id, showOld], 3000);
  const agents = useLoad(() => resources.list<Agent>("agents", { project_id: project.id, limit: 500 }), [project.id]);
  const [tag, setTag] = useState("");
  const [creating, setCreating] = useState(false);
  const all = list.data ?? [];
  const tagsInUse = useMemo(() => [...new Set(all.flatMap((t) => t.tags))].sort(), [all]);
  const agentName = (id: number | null) => agents.data?.data.find((a) => a.id === id)?.name;

  const cutoff = Date.now() - hideHours * 3600_000;
  const isOld = (t: Task) =>
    hideHours > 0 && t.status === "completed" && new Date(t.finished_at ?? t.updated_at ?? t.created_at).getTime() < cutoff;
  const visible = all.filter((t) => (!tag || t.tags.includes(tag)) && (showOld || !isOld(t)));

  const newButton = (
    <button type="button" className="btn primary" onClick={() => setCreating(true)}>
      New task
    </button>
  );
  return (
    <section className="section" aria-label="Tasks">
      <div className="section-head">
        <h2>Tasks</h2>
        <div className="actions">
          {tagsInUse.length > 0 && (
            <select aria-label="Filter by tag" value={tag} onChange={(e) => setTag(e.target.value)}>
              <option value="">All tags</option>
              {tagsInUse.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          )}
          {newButton}
        </div>
      </div>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && !list.error && <Spinner />}
      {list.data && all.length === 0 && (
        <Empty title="No tasks yet" action={newButton}>
          A task goes to an agent of this project whose job tags match its tags; schedule it once, on a cron pattern or at an interval.
        </Empty>
      )}
      {all.length > 0 && (
        <div className="board" role="list" aria-label="Task board">
          {COLUMNS.map((c) => {
            const items = visible.filter((t) => c.status.includes(t.status));
            return (
              <section key={c.label} className="board-col" role="listitem" aria-labelledby={`col-${c.label}`}>
                <header>
                  <h3 id={`col-${c.label}`}>
                    {c.label} <span className="count">{items.length}</span>
                  </h3>
                  <p className="muted small">{c.hint}</p>
                </header>
                <ul>
                  {items.map((t) => (
                    <li key={t.id} className="task-card" data-status={t.status}>
                      <Link href={`/projects/${project.id}/tasks/${t.id}`} className="task-title">
                        {t.title}
                      </Link>
                      <div className="task-meta">
                        <Status value={t.status} />
                        {agentName(t.agent_id) && <span className="muted small">{agentName(t.agent_id)}</span>}
                      </div>
                      <Tags items={t.tags} />
                      <p className="muted small">
                        {t.status === "scheduled" && t.next_run_at
                          ? `next ${relative(t.next_run_at)}`
                          : t.status === "running"
                            ? `started ${relative(t.started_at)}`
                            : relative(t.finished_at ?? t.updated_at ?? t.created_at)}
                        {t.schedule && ` · ${preview(t.schedule, 0).summary}`}
                      </p>
                      {t.status_reason && t.status !== "completed" && <p className="small reason">{t.status_reason}</p>}
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      )}
      {hideHours > 0 && (
        <p className="muted small">
          {showOld ? "Showing" : "Hiding"} completed tasks older than {hideHours} h (setting <code>tasks.hide_completed_after_hours</code>).{" "}
          <button type="button" className="linklike" onClick={() => setShowOld((s) => !s)}>
            {showOld ? "Hide them" : "Show them"}
          </button>
        </p>
      )}
      <Modal open={creating} title="New task" onClose={() => setCreating(false)} wide>
        {creating && (
          <TaskCreate
            project={project}
            tagsInUse={[...new Set([...tagsInUse, ...(agents.data?.data ?? []).flatMap((a) => a.job_tags)])].sort()}
            onCancel={() => setCreating(false)}
            onCreated={(t) => {
              setCreating(false);
              list.reload();
              navigate(`/projects/${project.id}/tasks/${t.id}`);
            }}
          />
        )}
      </Modal>
    </section>
  );
}

const FIELDS: FieldSpec[] = [
  { name: "title", label: "Title", required: true, placeholder: "Write the release notes for 2.4" },
  {
    name: "description",
    label: "Description",
    kind: "textarea",
    rows: 4,
    help: "What the agent should do and what a good result looks like.",
  },
  { name: "tags", label: "Tags", kind: "tags", placeholder: "release", help: "Given to an agent whose job tags include one of these." },
  { name: "priority", label: "Priority", kind: "number", default: 0, help: "Higher runs first." },
];

function TaskCreate(props: { project: Project; tagsInUse: string[]; onCancel: () => void; onCreated: (t: Task) => void }) {
  const [values, setValues] = useState<Record<string, string | boolean>>({ title: "", description: "", tags: "", priority: "0" });
  const [schedule, setSchedule] = useState<Schedule | null>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [general, setGeneral] = useState<string>();
  const [busy, setBusy] = useState(false);
  const toast = useToast();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setGeneral(undefined);
    const p = preview(schedule);
    if (schedule && p.error && !p.error.startsWith("this time has passed")) {
      setErrors({ schedule: p.error });
      return;
    }
    const body: Record<string, unknown> = {
      project_id: props.project.id,
      title: values.title,
      tags: String(values.tags)
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
      priority: Number(values.priority) || 0,
    };
    if (values.description) body.description = values.description;
    if (schedule) body.schedule = schedule;
    setBusy(true);
    try {
      const t = await tasks.create(body);
      if (files.length) {
        try {
          await tasks.attach(t.id, files);
        } catch (err) {
          toast(`Task created, but the attachments failed: ${(err as Error).message}`, "bad");
        }
      }
      toast(`Created ${t.title}`);
      props.onCreated(t);
    } catch (err) {
      const s = splitError(err, [...FIELDS.map((f) => f.name), "schedule"]);
      setErrors(s.fields);
      setGeneral(s.general);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit}>
      <FormError message={general} />
      <div className="form-grid">
        {FIELDS.map((f) => (
          <Field
            key={f.name}
            spec={f}
            value={values[f.name] ?? ""}
            error={errors[f.name]}
            onChange={(v) => setValues((s) => ({ ...s, [f.name]: v }))}
          />
        ))}
        {props.tagsInUse.length > 0 && (
          <p className="hint full">
            Tags in use:{" "}
            {props.tagsInUse.map((t) => (
              <button
                type="button"
                key={t}
                className="tag linklike"
                onClick={() => {
                  const cur = String(values.tags)
                    .split(",")
                    .map((x) => x.trim())
                    .filter(Boolean);
                  if (!cur.includes(t)) setValues((s) => ({ ...s, tags: [...cur, t].join(", ") }));
                }}
              >
                {t}
              </button>
            ))}
          </p>
        )}
        <ScheduleEditor value={schedule} onChange={setSchedule} error={errors.schedule} />
        <div className="field full">
          <label htmlFor="task-files">Attachments</label>
          <input id="task-files" type="file" multiple onChange={(e) => setFiles([...(e.target.files ?? [])])} />
          <p className="hint">Files the agent can read with the task.</p>
        </div>
      </div>
      <div className="form-actions">
        <button type="button" className="btn" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? "Creating…" : "Create task"}
        </button>
      </div>
    </form>
  );
}
