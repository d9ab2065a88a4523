// Providers (base URL, protocol, enabled) and their API keys: masked, added,
// rotated, disabled. Admins only.
import { useState } from "react";
import { resources } from "../api/client";
import type { Provider, ProviderKey } from "../api/models";
import { Modal, useConfirm, useToast } from "../components/dialog";
import { Form, type FieldSpec } from "../components/form";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Facts, Page, Spinner, Status } from "../components/ui";
import { dateTime, relative } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { useMe } from "../lib/me";
import { setQuery, useLocation } from "../lib/router";

const PROTOCOLS = [
  { value: "openai", label: "OpenAI-compatible" },
  { value: "anthropic", label: "Anthropic" },
  { value: "google", label: "Google Gemini" },
];

const NEW_PROVIDER: FieldSpec[] = [
  { name: "name", label: "Code", required: true, placeholder: "ollama", help: "Unique, used in requests: ?provider=ollama" },
  { name: "display_name", label: "Display name", placeholder: "Ollama on the GPU box" },
  {
    name: "base_url",
    label: "Base URL",
    kind: "url",
    required: true,
    placeholder: "http://127.0.0.1:11434/v1",
    help: "As the provider's SDK takes it; the API path is appended.",
  },
  { name: "protocol", label: "Wire protocol", kind: "select", options: PROTOCOLS, default: "openai" },
  { name: "api_key", label: "API key", kind: "secret", help: "Stored encrypted as the key named “default”." },
  { name: "enabled", label: "Enabled", kind: "bool", default: true },
];

const EDIT_PROVIDER: FieldSpec[] = [
  { name: "display_name", label: "Display name" },
  {
    name: "base_url",
    label: "Base URL",
    kind: "url",
    required: true,
    help: "Takes effect on the next request (a mock, a proxy, a self-hosted server).",
  },
  { name: "protocol", label: "Wire protocol", kind: "select", options: PROTOCOLS },
  { name: "enabled", label: "Enabled", kind: "bool" },
];

const KEY_FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", required: true, placeholder: "team-b", createOnly: true },
  { name: "key", label: "API key", kind: "secret", required: true, help: "Encrypted at rest; only a hint is ever shown again." },
  { name: "enabled", label: "Enabled", kind: "bool", default: true },
];

export default function Providers() {
  useTitle("Providers");
  const me = useMe();
  if (me.role !== "admin") {
    return (
      <Page title="Providers">
        <div className="note">Providers and their keys are managed by admins.</div>
      </Page>
    );
  }
  return <ProvidersAdmin />;
}

function ProvidersAdmin() {
  const { query } = useLocation();
  const selected = query.get("provider");
  const list = useLoad(() => resources.list<Provider>("providers", { limit: 500 }), []);
  const keys = useLoad(() => resources.list<ProviderKey>("provider-keys", { limit: 500 }), []);
  const [adding, setAdding] = useState(false);
  const toast = useToast();

  const keysOf = (p: Provider) => (keys.data?.data ?? []).filter((k) => k.provider === p.name);
  const current = list.data?.data.find((p) => p.name === selected);

  return (
    <Page
      title="Providers"
      subtitle="Where requests go: each provider's base URL and its API keys. Requests spread across a provider's enabled keys."
      actions={
        <button type="button" className="btn primary" onClick={() => setAdding(true)}>
          Add provider
        </button>
      }
    >
      <ErrorNote error={list.error ?? keys.error} onRetry={list.reload} />
      {!list.data && <Spinner />}
      {list.data && list.data.data.length === 0 && (
        <Empty title="No providers">Add an OpenAI-compatible endpoint, or restart the gateway to restore the built-in catalog.</Empty>
      )}
      {list.data && list.data.data.length > 0 && (
        <DataTable
          rows={[...list.data.data].sort((a, b) => a.name.localeCompare(b.name))}
          rowKey={(p) => p.id}
          caption="Providers"
          columns={[
            {
              key: "name",
              label: "Provider",
              render: (p) => (
                <button
                  type="button"
                  className="linklike"
                  onClick={() => setQuery({ provider: p.name })}
                  aria-label={`Manage ${p.display_name || p.name}`}
                >
                  <strong>{p.display_name || p.name}</strong> <span className="muted mono">{p.name}</span>
                </button>
              ),
            },
            { key: "url", label: "Base URL", render: (p) => <span className="mono break">{p.base_url}</span> },
            { key: "protocol", label: "Protocol", render: (p) => p.protocol ?? "—" },
            {
              key: "keys",
              label: "Keys",
              render: (p) => {
                const ks = keysOf(p);
                const ok = ks.filter((k) => k.enabled && k.status === "ok").length;
                return ks.length ? `${ok} of ${ks.length} usable` : <span className="muted">no key</span>;
              },
            },
            { key: "enabled", label: "State", render: (p) => <Status value={p.enabled ? "enabled" : "disabled"} /> },
          ]}
          actions={(p) => (
            <button type="button" className="btn small" onClick={() => setQuery({ provider: p.name })}>
              Manage
            </button>
          )}
        />
      )}
      {current && (
        <ProviderPanel
          key={current.id}
          provider={current}
          keys={keysOf(current)}
          onChanged={() => {
            list.reload();
            keys.reload();
          }}
        />
      )}
      <Modal open={adding} title="Add provider" onClose={() => setAdding(false)} wide>
        <Form
          fields={NEW_PROVIDER}
          submitLabel="Add provider"
          onCancel={() => setAdding(false)}
          onSubmit={async (body) => {
            const p = await resources.add<Provider>("provider", body);
            toast(`Added ${p.name}`);
            setAdding(false);
            list.reload();
            keys.reload();
            setQuery({ provider: p.name });
          }}
        />
      </Modal>
    </Page>
  );
}

function ProviderPanel({ provider, keys, onChanged }: { provider: Provider; keys: ProviderKey[]; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [keyForm, setKeyForm] = useState<ProviderKey | "new" | null>(null);
  const confirm = useConfirm();
  const toast = useToast();

  async function toggleKey(k: ProviderKey) {
    try {
      await resources.patch("provider-key", k.id, { enabled: !k.enabled });
      toast(`${k.name} ${k.enabled ? "disabled" : "enabled"}`);
      onChanged();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  async function removeKey(k: ProviderKey) {
    const ok = await confirm({
      title: "Delete key?",
      message: (
        <>
          The key <strong>{k.name}</strong> of {provider.name} will be deleted. Requests use the provider's other keys.
        </>
      ),
      confirmLabel: "Delete key",
      danger: true,
    });
    if (!ok) return;
    try {
      await resources.del("provider-key", k.id);
      toast(`Deleted ${k.name}`);
      onChanged();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  async function removeProvider() {
    const ok = await confirm({
      title: `Delete ${provider.name}?`,
      message: "Its models and keys go with it. Built-in providers come back at the next start.",
      confirmLabel: "Delete provider",
      danger: true,
    });
    if (!ok) return;
    try {
      await resources.del("provider", provider.id);
      toast(`Deleted ${provider.name}`);
      setQuery({ provider: undefined });
      onChanged();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <section className="section card" aria-labelledby="provider-panel">
      <div className="section-head">
        <h2 id="provider-panel">{provider.display_name || provider.name}</h2>
        <div className="actions">
          <button type="button" className="btn" onClick={() => setEditing(true)}>
            Edit
          </button>
          <button
            type="button"
            className="btn"
            onClick={async () => {
              await resources.patch("provider", provider.id, { enabled: !provider.enabled });
              toast(provider.enabled ? "Provider disabled" : "Provider enabled");
              onChanged();
            }}
          >
            {provider.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" className="btn danger-text" onClick={removeProvider}>
            Delete
          </button>
          <button type="button" className="btn ghost" onClick={() => setQuery({ provider: undefined })}>
            Close
          </button>
        </div>
      </div>
      <Facts
        items={[
          ["Code", <span className="mono">{provider.name}</span>],
          ["Base URL", <span className="mono break">{provider.base_url}</span>],
          ["Protocol", provider.protocol ?? "—"],
          ["State", <Status value={provider.enabled ? "enabled" : "disabled"} />],
        ]}
      />
      <div className="section-head">
        <h3>API keys</h3>
        <button type="button" className="btn primary" onClick={() => setKeyForm("new")}>
          Add key
        </button>
      </div>
      {keys.length === 0 ? (
        <Empty title="No API key">Add the key this provider gave you; add several to spread load and survive a rate limit.</Empty>
      ) : (
        <DataTable
          rows={keys}
          rowKey={(k) => k.id}
          caption={`Keys of ${provider.name}`}
          columns={[
            { key: "name", label: "Name", render: (k) => <strong>{k.name}</strong> },
            { key: "key", label: "Key", render: (k) => <span className="mono">{k.key}</span> },
            {
              key: "status",
              label: "Status",
              render: (k) =>
                !k.enabled ? (
                  <Status value="disabled" />
                ) : k.cooldown_until && new Date(k.cooldown_until) > new Date() ? (
                  <span title={dateTime(k.cooldown_until)}>
                    <Status value="cooldown" /> until {relative(k.cooldown_until)}
                  </span>
                ) : (
                  <Status value={k.status} />
                ),
            },
            { key: "used", label: "Last used", render: (k) => relative(k.last_used_at ?? null) },
          ]}
          actions={(k) => (
            <>
              <button type="button" className="btn small" onClick={() => setKeyForm(k)} aria-label={`Rotate ${k.name}`}>
                Rotate
              </button>
              <button type="button" className="btn small" onClick={() => toggleKey(k)}>
                {k.enabled ? "Disable" : "Enable"}
              </button>
              <button type="button" className="btn small danger-text" onClick={() => removeKey(k)} aria-label={`Delete ${k.name}`}>
                Delete
              </button>
            </>
          )}
        />
      )}
      <Modal open={editing} title={`Edit ${provider.name}`} onClose={() => setEditing(false)} wide>
        <Form
          fields={EDIT_PROVIDER}
          row={provider as unknown as Record<string, unknown>}
          submitLabel="Save"
          onCancel={() => setEditing(false)}
          onSubmit={async (body) => {
            await resources.patch("provider", provider.id, body);
            toast("Saved");
            setEditing(false);
            onChanged();
          }}
        />
      </Modal>
      <Modal
        open={keyForm !== null}
        title={keyForm === "new" ? `Add a key to ${provider.name}` : `Rotate ${keyForm ? keyForm.name : ""}`}
        onClose={() => setKeyForm(null)}
      >
        {keyForm !== null && (
          <Form
            fields={KEY_FIELDS}
            row={keyForm === "new" ? undefined : (keyForm as unknown as Record<string, unknown>)}
            submitLabel={keyForm === "new" ? "Add key" : "Save new key"}
            onCancel={() => setKeyForm(null)}
            onSubmit={async (body) => {
              if (keyForm === "new") await resources.add("provider-key", { provider: provider.name, ...body });
              // A new key also puts a failing key back in rotation.
              else await resources.patch("provider-key", keyForm.id, body.key ? { ...body, status: "ok" } : body);
              toast(keyForm === "new" ? "Key added" : "Key saved");
              setKeyForm(null);
              onChanged();
            }}
          />
        )}
      </Modal>
    </section>
  );
}
