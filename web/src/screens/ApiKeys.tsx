// Gateway API keys: created with the full key shown once (with a copy
// button), listed by name and prefix, revoked with confirmation.
import { useState } from "react";
import { resources } from "../api/client";
import type { ApiKey, User } from "../api/models";
import { CopyButton, Modal, useConfirm, useToast } from "../components/dialog";
import { Form, type FieldSpec } from "../components/form";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Page, Spinner } from "../components/ui";
import { dateTime, relative } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { useMe } from "../lib/me";

const FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", required: true, placeholder: "laptop", help: "Where the key is used, so you know which to revoke." },
  { name: "expires_at", label: "Expires", kind: "datetime", help: "Leave empty for a key that does not expire." },
];

export default function ApiKeys() {
  useTitle("API keys");
  const me = useMe();
  const list = useLoad(() => resources.list<ApiKey>("gateway-api-keys", { limit: 500 }), []);
  const users = useLoad(() => (me.role === "admin" ? resources.list<User>("users", { limit: 500 }) : Promise.resolve(null)), [me.role]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKey | null>(null);
  const confirm = useConfirm();
  const toast = useToast();
  const userName = (id: number) => users.data?.data.find((u) => u.id === id)?.username ?? `user ${id}`;

  async function revoke(k: ApiKey) {
    const ok = await confirm({
      title: "Revoke key?",
      message: (
        <>
          Programs using <strong>{k.name}</strong> stop working at once.
        </>
      ),
      confirmLabel: "Revoke",
      danger: true,
    });
    if (!ok) return;
    try {
      await resources.del("gateway-api-key", k.id);
      toast(`Revoked ${k.name}`);
      list.reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  const newButton = (
    <button type="button" className="btn primary" onClick={() => setCreating(true)}>
      Create API key
    </button>
  );
  const rows = list.data?.data ?? [];
  return (
    <Page
      title="API keys"
      subtitle={
        <>
          Send a key as <code>X-API-Key</code> or <code>Authorization: Bearer</code>. Keys are stored hashed: the full key is shown once.
        </>
      }
      actions={newButton}
    >
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty title="No API keys yet" action={newButton}>
          Create one for each program or person that calls the gateway.
        </Empty>
      )}
      {rows.length > 0 && (
        <DataTable
          rows={rows}
          rowKey={(k) => k.id}
          caption="API keys"
          columns={[
            { key: "name", label: "Name", render: (k) => <strong>{k.name}</strong> },
            { key: "prefix", label: "Key", render: (k) => <span className="mono">{(k.key_prefix ?? k.prefix ?? "spgw_") + "…"}</span> },
            ...(me.role === "admin" ? [{ key: "user", label: "Owner", render: (k: ApiKey) => userName(k.user_id) }] : []),
            { key: "created", label: "Created", render: (k) => dateTime(k.created_at) },
            { key: "used", label: "Last used", render: (k) => (k.last_used_at ? relative(k.last_used_at) : "never") },
            { key: "expires", label: "Expires", render: (k) => (k.expires_at ? dateTime(k.expires_at) : "never") },
          ]}
          actions={(k) => (
            <button type="button" className="btn small danger-text" onClick={() => revoke(k)} aria-label={`Revoke ${k.name}`}>
              Revoke
            </button>
          )}
        />
      )}
      <Modal open={creating} title="Create API key" onClose={() => setCreating(false)}>
        <Form
          fields={FIELDS}
          submitLabel="Create key"
          onCancel={() => setCreating(false)}
          onSubmit={async (body) => {
            const k = await resources.add<ApiKey>("gateway-api-key", body);
            setCreating(false);
            setCreated(k);
            list.reload();
          }}
        />
      </Modal>
      <Modal open={created !== null} title="Your new API key" onClose={() => setCreated(null)}>
        {created && (
          <div className="new-key">
            <p>
              Copy <strong>{created.name}</strong> now: it is <strong>shown only once</strong>. If you lose it, revoke it and create
              another.
            </p>
            <div className="secret-box">
              <code className="mono break" data-testid="new-key">
                {created.key}
              </code>
              <CopyButton text={created.key ?? ""} />
            </div>
            <div className="form-actions">
              <button type="button" className="btn primary" onClick={() => setCreated(null)}>
                I have copied it
              </button>
            </div>
          </div>
        )}
      </Modal>
    </Page>
  );
}
