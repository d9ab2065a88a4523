// Gateway settings: every gateway_config key the gateway reads, its default,
// what it means and its current value; set, change or reset each. Admins only.
import { useState } from "react";
import { api, call, resources } from "../api/client";
import type { ConfigRow, KnownSetting } from "../api/models";
import { Modal, useConfirm, useToast } from "../components/dialog";
import { Form, FormError, type FieldSpec } from "../components/form";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Page, Spinner } from "../components/ui";
import { jsonInline } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { useMe } from "../lib/me";

function parseValue(kind: KnownSetting["kind"], text: string): unknown {
  const t = text.trim();
  if (kind === "integer" || kind === "number") {
    const n = Number(t);
    if (t === "" || !Number.isFinite(n) || (kind === "integer" && !Number.isInteger(n)))
      throw new Error(kind === "integer" ? "must be a whole number" : "must be a number");
    return n;
  }
  if (kind === "boolean") return t === "true";
  // Lists and objects are JSON (`["a","b"]`); anything else is the text itself.
  if (/^[[{"]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      throw new Error("looks like JSON but does not parse");
    }
  }
  return t;
}

/** The document's `code` spans as code. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split("`").map((part, i) =>
        i % 2 ? (
          <code key={i} className="small">
            {part}
          </code>
        ) : (
          part
        ),
      )}
    </>
  );
}

export default function Settings() {
  useTitle("Settings");
  const me = useMe();
  if (me.role !== "admin") {
    return (
      <Page title="Settings">
        <div className="note">Gateway settings are managed by admins.</div>
      </Page>
    );
  }
  return <SettingsAdmin />;
}

function SettingsAdmin() {
  const known = useLoad(() => call<{ data: KnownSetting[] }>(api.GET("/api/v1/settings/known")), []);
  const rows = useLoad(() => resources.list<ConfigRow>("gateway-config", { limit: 500 }), []);
  const [adding, setAdding] = useState(false);
  const toast = useToast();
  const confirm = useConfirm();

  const stored = rows.data?.data ?? [];
  const knownKeys = new Set((known.data?.data ?? []).map((k) => k.key));
  const others = stored.filter((r) => !knownKeys.has(r.key));
  const reload = () => {
    known.reload();
    rows.reload();
  };

  async function save(key: string, value: unknown) {
    const row = stored.find((r) => r.key === key);
    if (row) await resources.patch("gateway-config", row.id, { value });
    else await resources.add("gateway-config", { key, value });
    toast(`${key} saved; every node reads it within 2 s`);
    reload();
  }

  async function reset(key: string) {
    const row = stored.find((r) => r.key === key);
    if (!row) return;
    const ok = await confirm({
      title: `Reset ${key}?`,
      message: "The stored value is removed and the default applies again.",
      confirmLabel: "Reset",
      danger: true,
    });
    if (!ok) return;
    try {
      await resources.del("gateway-config", row.id);
      toast(`${key} reset to its default`);
      reload();
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <Page
      title="Settings"
      subtitle="Runtime settings (gateway_config), read by every gateway node at most 2 seconds after a change. No restart needed."
    >
      <ErrorNote error={known.error ?? rows.error} onRetry={reload} />
      {!known.data && !known.error && <Spinner />}
      {known.data && (
        <DataTable
          rows={known.data.data}
          rowKey={(k) => k.key}
          caption="Known settings"
          columns={[
            {
              key: "key",
              label: "Setting",
              render: (k) => (
                <>
                  <code>{k.key}</code>
                  <div className="muted small">
                    <Prose text={k.meaning} />
                  </div>
                </>
              ),
            },
            { key: "default", label: "Default", render: (k) => <span className="mono">{k.default}</span> },
            {
              key: "value",
              label: "Value",
              render: (k) => <SettingEditor setting={k} onSave={(v) => save(k.key, v)} onReset={() => reset(k.key)} />,
            },
          ]}
        />
      )}
      <section className="section">
        <div className="section-head">
          <h2>Other stored keys</h2>
          <button type="button" className="btn" onClick={() => setAdding(true)}>
            Add a key
          </button>
        </div>
        {rows.data && others.length === 0 && (
          <Empty title="None">Keys the gateway does not read appear here (for instance, ones left from an older version).</Empty>
        )}
        {others.length > 0 && (
          <DataTable
            rows={others}
            rowKey={(r) => r.id}
            caption="Other stored keys"
            columns={[
              { key: "key", label: "Key", render: (r) => <code>{r.key}</code> },
              { key: "value", label: "Value", render: (r) => <span className="mono break">{jsonInline(r.value)}</span> },
            ]}
            actions={(r) => (
              <button type="button" className="btn small danger-text" onClick={() => reset(r.key)} aria-label={`Delete ${r.key}`}>
                Delete
              </button>
            )}
          />
        )}
      </section>
      <Modal open={adding} title="Add a setting" onClose={() => setAdding(false)}>
        <Form
          fields={
            [
              { name: "key", label: "Key", required: true, placeholder: "routing.max_attempts" },
              { name: "value", label: "Value (JSON)", kind: "json", required: true, placeholder: "3" },
            ] satisfies FieldSpec[]
          }
          submitLabel="Save"
          onCancel={() => setAdding(false)}
          onSubmit={async (body) => {
            await resources.add("gateway-config", body);
            toast("Saved");
            setAdding(false);
            reload();
          }}
        />
      </Modal>
    </Page>
  );
}

/** The current value of one setting, editable in place. */
function SettingEditor({
  setting,
  onSave,
  onReset,
}: {
  setting: KnownSetting;
  onSave: (v: unknown) => Promise<void>;
  onReset: () => void;
}) {
  const initial = setting.is_set ? jsonInline(setting.value) : "";
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const label = `Value of ${setting.key}`;
  async function save() {
    setError(undefined);
    let value: unknown;
    try {
      value = parseValue(setting.kind, text);
    } catch (e) {
      setError((e as Error).message);
      return;
    }
    setBusy(true);
    try {
      await onSave(value);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form
      className="inline-form setting-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {setting.kind === "boolean" ? (
        <select aria-label={label} value={text} onChange={(e) => setText(e.target.value)}>
          <option value="">default ({setting.default})</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : (
        <input
          aria-label={label}
          inputMode={setting.kind === "string" ? undefined : "numeric"}
          value={text}
          placeholder={`default: ${setting.default.split(" ")[0]}`}
          onChange={(e) => setText(e.target.value)}
          size={10}
        />
      )}
      <button type="submit" className="btn small" disabled={busy || text === initial || text === ""}>
        Save
      </button>
      {setting.is_set && (
        <button type="button" className="btn small ghost" onClick={onReset}>
          Reset
        </button>
      )}
      <FormError message={error} />
    </form>
  );
}
