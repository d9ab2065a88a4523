// External MCP servers of a project: registration (on the generic resource
// screen), live health (status, last check, last error) and the discovered
// tools with their input schemas, refreshable on demand.
import { useEffect, useState } from "react";
import { api, call } from "../../api/client";
import { Modal, useToast } from "../../components/dialog";
import { ResourceList, type ResourceConfig } from "../../components/resource";
import { ErrorNote, Spinner, Status } from "../../components/ui";
import { jsonInline, relative } from "../../lib/format";

interface Server {
  id: number;
  name: string;
  [k: string]: unknown;
}

interface Tool {
  name: string;
  title?: string | null;
  description?: string | null;
  input_schema?: unknown;
}

interface Listing {
  status: string;
  refreshed_at?: string | null;
  checked_at?: string | null;
  last_error?: string | null;
  tools: Tool[];
}

function Health({ r }: { r: Server }) {
  const status = String(r.status ?? "unknown");
  const when = r.checked_at ? `checked ${relative(String(r.checked_at))}` : "not checked yet";
  return (
    <span title={r.last_error ? String(r.last_error) : when}>
      <Status value={status} /> <span className="muted small">{when}</span>
      {r.last_error ? <span className="muted small break"> · {String(r.last_error)}</span> : null}
    </span>
  );
}

function ToolsDialog({ server, onClose }: { server: Server; onClose: () => void }) {
  const toast = useToast();
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const load = async (refresh: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const params = { params: { path: { id: server.id } } };
      const got = await call<Listing>(
        refresh ? api.POST("/api/v1/mcp-tools/{id}/refresh", params) : api.GET("/api/v1/mcp-tools/{id}/tools", params),
      );
      setListing(got);
      if (refresh) toast(`${got.tools.length} tools listed`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load(false);
  }, [server.id]);
  return (
    <Modal open title={`Tools of ${server.name}`} onClose={onClose} wide>
      <p>
        <button type="button" className="btn small" disabled={busy} onClick={() => void load(true)}>
          {busy ? "Listing…" : "Refresh now"}
        </button>{" "}
        {listing && (
          <span className="muted">
            <Status value={listing.status} /> listed {relative(listing.refreshed_at)}
          </span>
        )}
      </p>
      <ErrorNote error={error} onRetry={() => void load(true)} />
      {busy && !listing && <Spinner label="Asking the server for its tools…" />}
      {listing && listing.tools.length === 0 && <p className="muted">The server offers no tools.</p>}
      {listing?.tools.map((t) => (
        <details key={t.name} className="tool-schema">
          <summary>
            <strong className="mono">{t.name}</strong> {t.description ? <span className="muted">{t.description}</span> : null}
          </summary>
          <pre className="output">{JSON.stringify(t.input_schema ?? {}, null, 2)}</pre>
        </details>
      ))}
    </Modal>
  );
}

export function McpTools({ cfg }: { cfg: (c: ResourceConfig<Server>) => ResourceConfig<Server> }) {
  const [viewing, setViewing] = useState<Server | null>(null);
  return (
    <>
      <ResourceList<Server>
        title="MCP tools"
        config={cfg({
          singular: "mcp-tool",
          plural: "mcp-tools",
          noun: "MCP server",
          nameOf: (r) => r.name,
          empty: {
            title: "No MCP servers yet",
            text: "Register an external MCP server (stdio command or HTTP URL); grant its tools to agents with a resource of type tool named mcp:<server>.",
          },
          fields: [
            { name: "name", label: "Name", required: true },
            {
              name: "transport",
              label: "Transport",
              kind: "select",
              required: true,
              options: [
                { value: "http", label: "HTTP" },
                { value: "stdio", label: "stdio (a command)" },
              ],
            },
            { name: "url", label: "URL (HTTP)", kind: "url", placeholder: "http://127.0.0.1:3001/mcp" },
            { name: "command", label: "Command (stdio)", placeholder: "npx" },
            { name: "args", label: "Arguments (stdio)", kind: "tags", placeholder: "-y, @modelcontextprotocol/server-everything" },
            { name: "headers", label: "Headers (JSON, stored encrypted)", kind: "json", placeholder: '{"Authorization": "Bearer …"}' },
            { name: "env", label: "Environment (JSON, stored encrypted)", kind: "json" },
            {
              name: "call_timeout_seconds",
              label: "Call timeout (seconds)",
              kind: "number",
              help: "1–3600; empty: the setting mcp.call_timeout_seconds (60).",
            },
            {
              name: "max_output_bytes",
              label: "Largest tool result (bytes)",
              kind: "number",
              help: "1024–16777216; empty: the setting mcp.max_output_bytes (65536).",
            },
            { name: "enabled", label: "Enabled", kind: "bool", default: true },
          ],
          columns: [
            { key: "name", label: "Name", render: (r) => <strong>{r.name}</strong> },
            { key: "transport", label: "Transport", render: (r) => String(r.transport) },
            {
              key: "target",
              label: "Target",
              render: (r) => (
                <span className="mono break">
                  {r.transport === "http" ? String(r.url ?? "") : [r.command, ...((r.args as string[]) ?? [])].join(" ")}
                </span>
              ),
            },
            { key: "headers", label: "Headers", render: (r) => <span className="mono">{jsonInline(r.headers)}</span> },
            { key: "health", label: "Health", render: (r) => (r.enabled ? <Health r={r} /> : <Status value="disabled" />) },
          ],
          rowActions: (r) => (
            <button type="button" className="btn small" onClick={() => setViewing(r)} aria-label={`Tools of ${r.name}`}>
              Tools
            </button>
          ),
        })}
      />
      {viewing && <ToolsDialog server={viewing} onClose={() => setViewing(null)} />}
    </>
  );
}
