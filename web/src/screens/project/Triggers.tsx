// A project's triggers: rules that create tasks on a schedule and/or when a
// condition holds.
import { useState, type FormEvent } from "react";
import type { Project, Schedule, Trigger } from "../../api/models";
import { triggers } from "../../api/work";
import { CopyButton, Modal, useConfirm, useToast } from "../../components/dialog";
import { Field, FormError, splitError, type FieldErrors, type FieldSpec } from "../../components/form";
import { ScheduleEditor } from "../../components/schedule";
import { DataTable } from "../../components/table";
import { Empty, ErrorNote, Spinner, Status } from "../../components/ui";
import { relative } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { Link } from "../../lib/router";
import { preview } from "../../lib/schedule";

const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", required: true, placeholder: "Nightly dependency check" },
  { name: "description", label: "Description", kind: "textarea", rows: 2 },
  {
    name: "task_title",
    label: "Task title",
    required: true,
    placeholder: "Check for outdated dependencies",
    help: "The task each firing creates.",
  },
  { name: "task_tags", label: "Task tags", kind: "tags", placeholder: "maintenance" },
  { name: "task_description", label: "Task description", kind: "textarea", rows: 3 },
  {
    name: "condition",
    label: "Condition (JSON, optional)",
    kind: "json",
    placeholder: '{"metric": "failed_tasks", "hours": 24, "op": ">=", "value": 3}',
    help: "Fire only when this holds. Metrics: failed_tasks, completed_tasks, pending_tasks, running_tasks, spend_usd, spend_today_usd, stale_documents; combine with all / any / not.",
  },
  { name: "cooldown_seconds", label: "Cooldown (seconds)", kind: "number", default: 0, help: "Least time between two firings." },
  { name: "enabled", label: "Enabled", kind: "bool", default: true },
];

export function Triggers({ project }: { project: Project }) {
  const list = useLoad(() => triggers.list(project.id), [project.id], 10_000);
  const [editing, setEditing] = useState<Trigger | "new" | null>(null);
  const [secret, setSecret] = useState<Trigger | null>(null);
  const confirm = useConfirm();
  const toast = useToast();
  const rows = list.data ?? [];
  const newButton = (
    <button type="button" className="btn primary" onClick={() => setEditing("new")}>
      New trigger
    </button>
  );

  async function remove(t: Trigger) {
    const ok = await confirm({
      title: "Delete trigger?",
      message: (
        <>
          <strong>{t.name}</strong> stops firing; the tasks it created stay.
        </>
      ),
      confirmLabel: "Delete",
      danger: true,
    });
    if (!ok) return;
    try {
      await triggers.remove(t.id);
      toast(`Deleted ${t.name}`);
      list.reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <section className="section" aria-label="Triggers">
      <div className="section-head">
        <h2>Triggers</h2>
        {!list.error && newButton}
      </div>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && !list.error && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty title="No triggers yet" action={newButton}>
          A trigger creates a task on a schedule, or when a condition on the project's metrics holds.
        </Empty>
      )}
      {rows.length > 0 && (
        <DataTable
          rows={rows}
          rowKey={(t) => t.id}
          caption="Triggers"
          columns={[
            { key: "name", label: "Trigger", render: (t) => <Link href={`/projects/${project.id}/triggers/${t.id}`}>{t.name}</Link> },
            {
              key: "when",
              label: "When",
              render: (t) =>
                [t.schedule ? preview(t.schedule, 0).summary : null, t.condition ? "when its condition holds" : null]
                  .filter(Boolean)
                  .join(", ") || "on webhook",
            },
            { key: "state", label: "State", render: (t) => <Status value={t.enabled ? "enabled" : "disabled"} /> },
            { key: "last", label: "Last fired", render: (t) => (t.last_fired_at ? relative(t.last_fired_at) : "never") },
            { key: "next", label: "Next check", render: (t) => (t.next_run_at ? relative(t.next_run_at) : "—") },
          ]}
          actions={(t) => (
            <>
              <button type="button" className="btn small" onClick={() => setEditing(t)} aria-label={`Edit ${t.name}`}>
                Edit
              </button>
              <button type="button" className="btn small danger-text" onClick={() => remove(t)} aria-label={`Delete ${t.name}`}>
                Delete
              </button>
            </>
          )}
        />
      )}
      <Modal open={editing !== null} title={editing === "new" ? "New trigger" : "Edit trigger"} onClose={() => setEditing(null)} wide>
        {editing !== null && (
          <TriggerForm
            project={project}
            trigger={editing === "new" ? undefined : editing}
            onCancel={() => setEditing(null)}
            onSaved={(saved) => {
              setEditing(null);
              list.reload();
              if (saved.webhook_secret) setSecret(saved);
            }}
          />
        )}
      </Modal>
      <Modal open={secret !== null} title="Webhook secret" onClose={() => setSecret(null)}>
        {secret && <WebhookSecret trigger={secret} onDone={() => setSecret(null)} />}
      </Modal>
    </section>
  );
}

function TriggerForm(props: { project: Project; trigger?: Trigger; onCancel: () => void; onSaved: (t: Trigger) => void }) {
  const t = props.trigger;
  const tpl = (t?.task_template ?? {}) as { title?: string; tags?: string[]; description?: string };
  const [values, setValues] = useState<Record<string, string | boolean>>({
    name: t?.name ?? "",
    description: t?.description ?? "",
    task_title: tpl.title ?? "",
    task_tags: (tpl.tags ?? []).join(", "),
    task_description: tpl.description ?? "",
    condition: t?.condition ? JSON.stringify(t.condition, null, 2) : "",
    cooldown_seconds: String(t?.cooldown_seconds ?? 0),
    enabled: t?.enabled ?? true,
  });
  const [schedule, setSchedule] = useState<Schedule | null>(t?.schedule ?? null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [general, setGeneral] = useState<string>();
  const toast = useToast();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setGeneral(undefined);
    let condition: unknown = null;
    if (String(values.condition).trim()) {
      try {
        condition = JSON.parse(String(values.condition));
      } catch {
        setErrors({ condition: "is not valid JSON" });
        return;
      }
    }
    const body = {
      project_id: props.project.id,
      name: values.name,
      description: values.description || null,
      enabled: values.enabled,
      schedule,
      condition,
      cooldown_seconds: Number(values.cooldown_seconds) || 0,
      task_template: {
        ...tpl,
        title: values.task_title,
        description: values.task_description || undefined,
        tags: String(values.task_tags)
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean),
      },
    };
    try {
      const saved = t ? await triggers.update(t.id, body) : await triggers.create(body);
      toast(t ? "Saved" : `Created ${values.name}`);
      props.onSaved(saved);
    } catch (err) {
      // The API names template fields as task_template.title etc.
      const s = splitError(err, [...FIELDS.map((f) => f.name), "schedule", "task_template"]);
      if (s.fields.task_template) s.fields.task_title = s.fields.task_template;
      setErrors(s.fields);
      setGeneral(s.general);
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
        <ScheduleEditor value={schedule} onChange={setSchedule} error={errors.schedule} />
      </div>
      <div className="form-actions">
        <button type="button" className="btn" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn primary">
          {t ? "Save" : "Create trigger"}
        </button>
      </div>
    </form>
  );
}

/** The webhook URL and secret of a trigger, the secret shown this once. */
export function WebhookSecret({ trigger, onDone }: { trigger: Trigger; onDone: () => void }) {
  const url = trigger.webhook_url ? new URL(trigger.webhook_url, window.location.origin).toString() : "";
  return (
    <div className="new-key">
      <p>
        Other systems fire <strong>{trigger.name}</strong> by POSTing JSON to its webhook, signed with this secret (header{" "}
        <code>X-Signature-256: sha256=HMAC</code>). The secret is <strong>shown only once</strong>.
      </p>
      {url && (
        <div className="secret-box">
          <code className="mono break">{url}</code>
          <CopyButton text={url} label="Copy URL" />
        </div>
      )}
      <div className="secret-box">
        <code className="mono break">{trigger.webhook_secret}</code>
        <CopyButton text={trigger.webhook_secret ?? ""} label="Copy secret" />
      </div>
      <div className="form-actions">
        <button type="button" className="btn primary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </div>
  );
}
