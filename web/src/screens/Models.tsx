// The model catalog: features, output formats, prices; admins enable,
// disable, edit and add models.
import { useMemo, useState } from "react";
import { resources } from "../api/client";
import type { Model, Provider } from "../api/models";
import { Modal, useToast } from "../components/dialog";
import { Form, type FieldSpec } from "../components/form";
import { DataTable } from "../components/table";
import { Empty, ErrorNote, Page, Spinner, Status, Tags } from "../components/ui";
import { num } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { useMe } from "../lib/me";
import { setQuery, useLocation } from "../lib/router";

function price(m: Model): string {
  const p = m.pricing;
  if (!p) return "—";
  const parts: string[] = [];
  if (p.input_per_mtok || p.output_per_mtok) parts.push(`$${p.input_per_mtok ?? 0} / $${p.output_per_mtok ?? 0}`);
  if (p.per_image) parts.push(`$${p.per_image}/image`);
  if (p.per_second) parts.push(`$${p.per_second}/s`);
  return parts.join(" · ") || "—";
}

function fields(providers: Provider[]): FieldSpec[] {
  return [
    {
      name: "provider",
      label: "Provider",
      kind: "select",
      required: true,
      createOnly: true,
      options: providers.map((p) => ({ value: p.name, label: p.display_name || p.name })),
    },
    {
      name: "model_code",
      label: "Model code",
      required: true,
      createOnly: true,
      placeholder: "llama3.1",
      help: "As the provider spells it.",
    },
    { name: "name", label: "Display name" },
    {
      name: "features",
      label: "Features",
      kind: "tags",
      placeholder: "chat, streaming, function_calling",
      help: "chat, streaming, function_calling, mcp, vision, reasoning, image_generation, embeddings, …",
    },
    { name: "output_formats", label: "Output formats", kind: "tags", placeholder: "text, json_object" },
    { name: "context_window", label: "Context window (tokens)", kind: "number" },
    { name: "max_output_tokens", label: "Max output tokens", kind: "number" },
    {
      name: "pricing",
      label: "Pricing (USD)",
      kind: "json",
      placeholder: '{"input_per_mtok": 0.25, "output_per_mtok": 2}',
      help: "Per million tokens (input_per_mtok, output_per_mtok, cached_input_per_mtok), or per_image / per_second.",
    },
    { name: "supports_mcp", label: "Supports MCP tools", kind: "bool" },
    { name: "enabled", label: "Enabled", kind: "bool", default: true },
  ];
}

export default function Models() {
  useTitle("Models");
  const me = useMe();
  const admin = me.role === "admin";
  const { query } = useLocation();
  const provider = query.get("provider") ?? "";
  const feature = query.get("feature") ?? "";
  const [text, setText] = useState("");
  const list = useLoad(() => resources.list<Model>("models", { limit: 500 }), []);
  const providers = useLoad(() => resources.list<Provider>("providers", { limit: 500 }), []);
  const [editing, setEditing] = useState<Model | "new" | null>(null);
  const toast = useToast();

  const all = useMemo(
    () =>
      [...(list.data?.data ?? [])].sort(
        (a, b) => a.provider.localeCompare(b.provider) || (a.name ?? a.model_code).localeCompare(b.name ?? b.model_code),
      ),
    [list.data],
  );
  const features = useMemo(() => [...new Set(all.flatMap((m) => m.features))].sort(), [all]);
  const rows = all.filter(
    (m) =>
      (!provider || m.provider === provider) &&
      (!feature || m.features.includes(feature)) &&
      (!text || `${m.name ?? ""} ${m.model_code}`.toLowerCase().includes(text.toLowerCase())),
  );

  async function toggle(m: Model) {
    try {
      await resources.patch("model", m.id, { enabled: !m.enabled });
      list.setData((d) => d && { ...d, data: d.data.map((x) => (x.id === m.id ? { ...x, enabled: !m.enabled } : x)) });
      toast(`${m.name || m.model_code} ${m.enabled ? "disabled" : "enabled"}`);
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <Page
      title="Models"
      subtitle="The catalog every request resolves against. Prices are per million tokens (input / output) unless noted."
      actions={
        admin && (
          <button type="button" className="btn primary" onClick={() => setEditing("new")}>
            Add model
          </button>
        )
      }
    >
      <div className="toolbar" role="search">
        <input
          type="search"
          placeholder="Search models"
          aria-label="Search models"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <select aria-label="Provider" value={provider} onChange={(e) => setQuery({ provider: e.target.value })}>
          <option value="">All providers</option>
          {(providers.data?.data ?? []).map((p) => (
            <option key={p.id} value={p.name}>
              {p.display_name || p.name}
            </option>
          ))}
        </select>
        <select aria-label="Feature" value={feature} onChange={(e) => setQuery({ feature: e.target.value })}>
          <option value="">Any feature</option>
          {features.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </div>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty title="No model matches">Clear the filters, or add a model served by one of your providers.</Empty>
      )}
      {rows.length > 0 && (
        <DataTable
          rows={rows}
          rowKey={(m) => m.id}
          caption="Models"
          columns={[
            {
              key: "name",
              label: "Model",
              render: (m) => (
                <>
                  <strong>{m.name || m.model_code}</strong>
                  <div className="muted mono small">
                    {m.provider}/{m.model_code}
                  </div>
                </>
              ),
            },
            { key: "features", label: "Features", render: (m) => <Tags items={m.features} /> },
            { key: "formats", label: "Outputs", render: (m) => <Tags items={m.output_formats} /> },
            { key: "price", label: "Price", render: price },
            { key: "context", label: "Context", numeric: true, render: (m) => (m.context_window ? num(m.context_window) : "—") },
            { key: "state", label: "State", render: (m) => <Status value={m.enabled ? "enabled" : "disabled"} /> },
          ]}
          actions={
            admin
              ? (m) => (
                  <>
                    <button
                      type="button"
                      className="btn small"
                      onClick={() => toggle(m)}
                      aria-label={`${m.enabled ? "Disable" : "Enable"} ${m.model_code}`}
                    >
                      {m.enabled ? "Disable" : "Enable"}
                    </button>
                    <button type="button" className="btn small" onClick={() => setEditing(m)} aria-label={`Edit ${m.model_code}`}>
                      Edit
                    </button>
                  </>
                )
              : undefined
          }
        />
      )}
      <Modal
        open={editing !== null}
        title={editing === "new" ? "Add model" : `Edit ${editing ? editing.model_code : ""}`}
        onClose={() => setEditing(null)}
        wide
      >
        {editing !== null && (
          <Form
            fields={fields(providers.data?.data ?? [])}
            row={editing === "new" ? undefined : (editing as unknown as Record<string, unknown>)}
            submitLabel={editing === "new" ? "Add model" : "Save"}
            onCancel={() => setEditing(null)}
            onSubmit={async (body) => {
              if (editing === "new") await resources.add("model", body);
              else await resources.patch("model", editing.id, body);
              toast("Saved");
              setEditing(null);
              list.reload();
            }}
          />
        )}
      </Modal>
    </Page>
  );
}
