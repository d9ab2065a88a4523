// The rest of a project, each on the generic resource screen: reports,
// living documents, codebases, resources and skills, assets, credentials and
// MCP tools.
import { useState } from "react";
import { api, call, resources } from "../../api/client";
import type { Agent, Codebase, Document, Project, Report } from "../../api/models";
import { Modal, useToast } from "../../components/dialog";
import { Form, type FieldSpec } from "../../components/form";
import { ResourceList, type ResourceConfig } from "../../components/resource";
import { Status, Tags } from "../../components/ui";
import { dateTime, relative } from "../../lib/format";
import { useLoad } from "../../lib/hooks";
import { Link, navigate } from "../../lib/router";
import { McpTools } from "./McpTools";

const PERIODS = [
  { value: "monthly", label: "Monthly" },
  { value: "annual", label: "Annual" },
];

export const LIBRARY_TABS = [
  { id: "reports", label: "Reports" },
  { id: "documents", label: "Documents" },
  { id: "codebases", label: "Codebases" },
  { id: "resources", label: "Skills & resources" },
  { id: "assets", label: "Assets" },
  { id: "credentials", label: "Credentials" },
  { id: "mcp-tools", label: "MCP tools" },
];

interface Row {
  id: number;
  name: string;
  agent_id?: number | null;
  [k: string]: unknown;
}

function agentField(agents: Agent[]): FieldSpec {
  return {
    name: "agent_id",
    label: "Agent (optional)",
    kind: "select",
    options: agents.map((a) => ({ value: String(a.id), label: a.name })),
    help: "Leave empty for the whole project.",
  };
}

/** Selects give ids as text; the API takes numbers. */
function ids(body: Record<string, unknown>): Record<string, unknown> {
  for (const k of ["agent_id", "asset_id"]) if (typeof body[k] === "string") body[k] = Number(body[k]);
  return body;
}

export function Library({ project, tab }: { project: Project; tab: string }) {
  const agents = useLoad(() => resources.list<Agent>("agents", { project_id: project.id, limit: 500 }), [project.id]);
  const assets = useLoad(() => resources.list<Row>("assets", { project_id: project.id, limit: 500 }), [project.id]);
  const [viewing, setViewing] = useState<Report | null>(null);
  const [generating, setGenerating] = useState(false);
  const [reportsKey, setReportsKey] = useState(0);
  const toast = useToast();
  const a = agents.data?.data ?? [];
  const agentName = (id: unknown) => (id ? (a.find((x) => x.id === id)?.name ?? `agent ${id}`) : "project");
  const common = { query: { project_id: project.id }, fixed: { project_id: project.id } };
  const toRow = (r: Record<string, unknown>) => ({
    ...r,
    agent_id: r.agent_id == null ? null : String(r.agent_id),
    asset_id: r.asset_id == null ? null : String(r.asset_id),
  });

  // Forms show ids as text (selects); convert them before the resource screen sends them.
  function cfg<T extends { id: number }>(c: ResourceConfig<T>): ResourceConfig<T> {
    return { ...c, ...common, rowTransform: toRow, bodyTransform: ids };
  }

  switch (tab) {
    case "reports":
      return (
        <>
          <div className="toolbar">
            <button
              type="button"
              className="btn"
              onClick={() => setGenerating(true)}
              disabled={!a.length}
              title={a.length ? undefined : "Add an agent first"}
            >
              Have an agent write a report
            </button>
          </div>
          <ResourceList<Report>
            key={reportsKey}
            title="Reports"
            config={cfg<Report>({
              singular: "report",
              plural: "reports",
              noun: "report",
              nameOf: (r) => r.title,
              empty: {
                title: "No reports yet",
                text: "Agents with the report skill write monthly and annual reports from the project's activity; you can also write one here.",
              },
              fields: [
                { name: "title", label: "Title", required: true },
                { name: "period", label: "Period", kind: "select", required: true, options: PERIODS },
                { name: "period_start", label: "Period start", kind: "date", required: true },
                agentField(a),
                { name: "content", label: "Content", kind: "textarea", rows: 10 },
              ],
              columns: [
                {
                  key: "title",
                  label: "Title",
                  render: (r) => (
                    <button type="button" className="linklike" onClick={() => setViewing(r)}>
                      {r.title}
                    </button>
                  ),
                },
                { key: "period", label: "Period", render: (r) => `${r.period} from ${r.period_start}` },
                { key: "agent", label: "By", render: (r) => agentName(r.agent_id) },
                { key: "updated", label: "Updated", render: (r) => relative(r.updated_at ?? r.created_at) },
              ],
            })}
          />
          <Modal open={generating} title="Generate a report" onClose={() => setGenerating(false)}>
            <Form
              fields={[
                {
                  name: "agent_id",
                  label: "Agent",
                  kind: "select",
                  required: true,
                  options: a.map((x) => ({ value: String(x.id), label: x.name })),
                },
                { name: "period", label: "Period", kind: "select", required: true, default: "monthly", options: PERIODS },
                { name: "period_start", label: "A day in the period", kind: "date", help: "Default: the last complete period." },
              ]}
              submitLabel="Write the report"
              onCancel={() => setGenerating(false)}
              onSubmit={async (body) => {
                const r = await call<Report>(
                  api.POST("/api/v1/reports/generate", {
                    body: {
                      project_id: project.id,
                      agent_id: Number(body.agent_id),
                      period: String(body.period),
                      period_start: (body.period_start as string) ?? null,
                    },
                  }),
                );
                toast(`${r.title} written`);
                setGenerating(false);
                setReportsKey((k) => k + 1);
                setViewing(r);
              }}
            />
          </Modal>
          <Modal open={viewing !== null} title={viewing?.title ?? ""} onClose={() => setViewing(null)} wide>
            <p className="muted">
              {viewing?.period} report from {viewing?.period_start}
            </p>
            {viewing && (
              <p>
                <a className="btn small" href={`/api/v1/reports/${viewing.id}/download`} download>
                  Download .md
                </a>
              </p>
            )}
            <pre className="output prewrap">{viewing?.content || "No content yet."}</pre>
          </Modal>
        </>
      );
    case "documents":
      return (
        <ResourceList<Document>
          title="Living documents"
          config={cfg<Document>({
            singular: "document",
            plural: "documents",
            noun: "document",
            nameOf: (d) => d.title,
            onCreated: (d) => navigate(`/projects/${project.id}/documents/${d.id}`),
            empty: {
              title: "No documents yet",
              text: "Knowledge agents keep up to date: a summary, their understanding of the constraints and objectives, and the content, with every revision kept.",
            },
            fields: [
              { name: "title", label: "Title", required: true },
              { name: "description", label: "Summary", kind: "textarea", rows: 2 },
              { name: "extended_description", label: "Understanding (constraints and objectives)", kind: "textarea", rows: 4 },
              { name: "content", label: "Content", kind: "textarea", rows: 10 },
              agentField(a),
            ],
            columns: [
              { key: "title", label: "Title", render: (d) => <Link href={`/projects/${project.id}/documents/${d.id}`}>{d.title}</Link> },
              { key: "summary", label: "Summary", render: (d) => <span className="clamp">{d.description ?? "—"}</span> },
              { key: "rev", label: "Revision", numeric: true, render: (d) => d.revision },
              { key: "updated", label: "Updated", render: (d) => relative(d.updated_at ?? d.created_at) },
            ],
          })}
        />
      );
    case "codebases":
      return (
        <ResourceList<Codebase>
          title="Codebases"
          config={cfg<Codebase>({
            singular: "codebase",
            plural: "codebases",
            noun: "codebase",
            nameOf: (c) => c.name,
            onCreated: (c) => navigate(`/projects/${project.id}/codebases/${c.id}`),
            empty: {
              title: "No codebases yet",
              text: "A codebase is a repository agents work on over SSH, on a runner you name (host, user, workspace).",
            },
            fields: [
              { name: "name", label: "Name", required: true },
              { name: "repo_url", label: "Repository URL", placeholder: "git@github.com:acme/site.git" },
              { name: "architecture_notes", label: "Architecture notes", kind: "textarea" },
              { name: "preferred_stack", label: "Preferred stack and services", kind: "textarea", rows: 2 },
              { name: "prerequisites", label: "Prerequisites", kind: "textarea", rows: 2 },
              {
                name: "runtime_config",
                label: "Runtime config (JSON)",
                kind: "json",
                placeholder: '{"runner": {"host": "build-1.internal", "ssh_user": "agent", "workspace_root": "/srv/work"}}',
                help: "runner.host, runner.ssh_user and runner.workspace_root are needed for coding skills and runs.",
              },
              { name: "enabled", label: "Enabled", kind: "bool", default: true },
            ],
            columns: [
              { key: "name", label: "Codebase", render: (c) => <Link href={`/projects/${project.id}/codebases/${c.id}`}>{c.name}</Link> },
              { key: "repo", label: "Repository", render: (c) => <span className="mono break">{c.repo_url ?? "—"}</span> },
              {
                key: "runner",
                label: "Runner",
                render: (c) =>
                  c.runtime_config?.runner?.host ? `${c.runtime_config.runner.ssh_user ?? "?"}@${c.runtime_config.runner.host}` : "—",
              },
              { key: "state", label: "State", render: (c) => <Status value={c.enabled ? "enabled" : "disabled"} /> },
            ],
          })}
        />
      );
    case "resources":
      return (
        <ResourceList<Row>
          title="Skills and resources"
          config={cfg<Row>({
            singular: "resource",
            plural: "resources",
            noun: "resource",
            nameOf: (r) => r.name,
            empty: {
              title: "No resources yet",
              text: "A resource of type skill named after a built-in tool set (task_plugin, report_plugin, …) gives an agent those tools; other types describe tools and services.",
            },
            fields: [
              { name: "resource_type", label: "Type", required: true, placeholder: "skill", help: "skill, tool, service, …" },
              { name: "name", label: "Name", required: true, placeholder: "task_plugin" },
              agentField(a),
              { name: "description", label: "Description", kind: "textarea", rows: 2 },
              { name: "config", label: "Config (JSON)", kind: "json" },
            ],
            columns: [
              { key: "name", label: "Name", render: (r) => <strong>{r.name}</strong> },
              { key: "type", label: "Type", render: (r) => <Tags items={[String(r.resource_type)]} /> },
              { key: "agent", label: "For", render: (r) => agentName(r.agent_id) },
              { key: "desc", label: "Description", render: (r) => <span className="clamp">{String(r.description ?? "—")}</span> },
            ],
          })}
        />
      );
    case "assets":
      return (
        <ResourceList<Row>
          title="Assets"
          config={cfg<Row>({
            singular: "asset",
            plural: "assets",
            noun: "asset",
            nameOf: (r) => r.name,
            empty: {
              title: "No assets yet",
              text: "Servers, domains, accounts and other things the project owns; credentials can be tied to them.",
            },
            fields: [
              { name: "name", label: "Name", required: true },
              { name: "asset_type", label: "Type", required: true, placeholder: "server" },
              { name: "uri", label: "URI", placeholder: "ssh://build-1.internal" },
              agentField(a),
              { name: "description", label: "Description", kind: "textarea", rows: 2 },
            ],
            columns: [
              { key: "name", label: "Name", render: (r) => <strong>{r.name}</strong> },
              { key: "type", label: "Type", render: (r) => String(r.asset_type) },
              { key: "uri", label: "URI", render: (r) => <span className="mono break">{String(r.uri ?? "—")}</span> },
              { key: "agent", label: "For", render: (r) => agentName(r.agent_id) },
            ],
          })}
        />
      );
    case "credentials":
      return (
        <ResourceList<Row>
          title="Credentials"
          config={cfg<Row>({
            singular: "credential",
            plural: "credentials",
            noun: "credential",
            nameOf: (r) => r.name,
            empty: {
              title: "No credentials yet",
              text: "Secrets agents may use (tokens, passwords, keys): encrypted at rest and never shown again in full.",
            },
            fields: [
              { name: "name", label: "Name", required: true },
              { name: "credential_type", label: "Type", required: true, placeholder: "api_token" },
              { name: "secret", label: "Secret", kind: "secret", required: true },
              {
                name: "asset_id",
                label: "Asset (optional)",
                kind: "select",
                options: (assets.data?.data ?? []).map((x) => ({ value: String(x.id), label: x.name })),
              },
              agentField(a),
            ],
            columns: [
              { key: "name", label: "Name", render: (r) => <strong>{r.name}</strong> },
              { key: "type", label: "Type", render: (r) => String(r.credential_type) },
              { key: "secret", label: "Secret", render: (r) => <span className="mono">{String(r.secret ?? "****")}</span> },
              { key: "agent", label: "For", render: (r) => agentName(r.agent_id) },
              { key: "created", label: "Created", render: (r) => dateTime(String(r.created_at)) },
            ],
          })}
        />
      );
    case "mcp-tools":
      return <McpTools cfg={cfg} />;
    default:
      return null;
  }
}
