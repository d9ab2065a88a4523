// One trigger and its firing history: when it fired, which task it made, or why it did not.
import { useState } from "react";
import type { Trigger, TriggerFiring } from "../api/models";
import { Modal, useConfirm, useToast } from "../components/dialog";
import { WebhookSecret } from "./project/Triggers";
import { triggers } from "../api/work";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Facts, Page, Spinner, Status } from "../components/ui";
import { dateTime, jsonInline, relative } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link } from "../lib/router";
import { preview } from "../lib/schedule";

export default function TriggerDetail({ params }: { params: Record<string, string> }) {
  const pid = Number(params.pid);
  const id = Number(params.id);
  const trigger = useLoad(() => triggers.get(id), [id], 10_000);
  const firings = useLoad<TriggerFiring[]>(
    () => triggers.firings(id),
    [id, trigger.data?.last_fired_at, trigger.data?.last_evaluated_at],
    10_000,
  );
  const [secret, setSecret] = useState<Trigger | null>(null);
  const confirm = useConfirm();
  const toast = useToast();
  const t = trigger.data;
  useTitle(t ? t.name : "Trigger");
  if (!t) {
    return (
      <section className="page">
        <ErrorNote error={trigger.error} onRetry={trigger.reload} />
        {!trigger.error && <Spinner />}
      </section>
    );
  }
  const rows = firings.data ?? [];
  return (
    <Page
      back={{ href: `/projects/${pid}/triggers`, label: "Triggers" }}
      title={t.name}
      subtitle={t.description}
      actions={
        <button
          type="button"
          className="btn"
          onClick={async () => {
            const ok = await confirm({
              title: "New webhook secret?",
              message: "Systems signing with the current secret are refused from now on.",
              confirmLabel: "Rotate secret",
              danger: true,
            });
            if (!ok) return;
            try {
              const r = await triggers.rotateSecret(id);
              setSecret({ ...t, webhook_secret: r.webhook_secret });
            } catch (e) {
              toast((e as Error).message, "bad");
            }
          }}
        >
          Rotate webhook secret
        </button>
      }
    >
      <section className="card">
        <Facts
          items={[
            ["State", <Status value={t.enabled ? "enabled" : "disabled"} />],
            ["Schedule", t.schedule ? preview(t.schedule, 0).summary : "none"],
            ["Condition", <span className="mono break">{jsonInline(t.condition)}</span>],
            ["Webhook", <span className="mono break">{t.webhook_url ?? "—"}</span>],
            ["Creates", <span className="mono break">{jsonInline(t.task_template)}</span>],
            ["Cooldown", `${t.cooldown_seconds} s`],
            ["Last fired", t.last_fired_at ? dateTime(t.last_fired_at) : "never"],
            ["Next check", t.next_run_at ? relative(t.next_run_at) : "—"],
            ...(t.last_error ? [["Last error", t.last_error] as [string, string]] : []),
          ]}
        />
      </section>
      <section className="section">
        <h2>Firing history</h2>
        <ErrorNote error={firings.error} />
        {firings.data && rows.length === 0 && (
          <Empty title="No firings yet">Each time the trigger is checked and fires (or is skipped), a line appears here.</Empty>
        )}
        {rows.length > 0 && (
          <DataTable
            rows={rows}
            rowKey={(f) => f.id}
            caption="Firing history"
            columns={[
              { key: "when", label: "When", render: (f) => dateTime(f.created_at) },
              { key: "source", label: "Source", render: (f) => f.source },
              { key: "outcome", label: "Outcome", render: (f) => <Status value={f.outcome} /> },
              {
                key: "task",
                label: "Task",
                render: (f) => (f.task_id ? <Link href={`/projects/${pid}/tasks/${f.task_id}`}>task {f.task_id}</Link> : "—"),
              },
              { key: "reason", label: "Why", render: (f) => f.reason ?? "—" },
            ]}
          />
        )}
      </section>
      <Modal open={secret !== null} title="Webhook secret" onClose={() => setSecret(null)}>
        {secret && <WebhookSecret trigger={secret} onDone={() => setSecret(null)} />}
      </Modal>
    </Page>
  );
}
