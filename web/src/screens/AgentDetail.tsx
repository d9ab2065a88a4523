// One agent: avatar, identity, soul, job tags, models in priority order, skills.
import { useState } from "react";
import { resources, uploadImage } from "../api/client";
import type { Agent, AgentModel, Codebase, Project } from "../api/models";
import { useConfirm, useToast } from "../components/dialog";
import { Form } from "../components/form";
import { ModelOrder } from "../components/modelorder";
import { ImageUpload } from "../components/upload";
import { Avatar, ErrorNote, Page, Spinner } from "../components/ui";
import { useLoad, useTitle } from "../lib/hooks";
import { Link, navigate } from "../lib/router";
import { agentFields, normalizeAgentBody, SKILLS } from "./project/agentFields";
import { useChatModels } from "./project/Agents";

interface SkillRow {
  id: number;
  name: string;
  resource_type: string;
  agent_id: number | null;
}

export default function AgentDetail({ params }: { params: Record<string, string> }) {
  const pid = Number(params.pid);
  const id = Number(params.id);
  const agent = useLoad(() => resources.get<Agent>("agent", id), [id]);
  const project = useLoad(() => resources.get<Project>("project", pid), [pid]);
  const codebases = useLoad(() => resources.list<Codebase>("codebases", { project_id: pid, limit: 500 }), [pid]);
  const models = useChatModels();
  const [order, setOrder] = useState<AgentModel[] | null>(null);
  const toast = useToast();
  const confirm = useConfirm();
  const a = agent.data;
  useTitle(a ? a.name : "Agent");

  if (!a) {
    return (
      <section className="page">
        <ErrorNote error={agent.error} onRetry={agent.reload} />
        {!agent.error && <Spinner />}
      </section>
    );
  }
  const current = order ?? a.models;
  const orderChanged = JSON.stringify(current) !== JSON.stringify(a.models);

  async function remove() {
    const ok = await confirm({
      title: `Delete ${a!.name}?`,
      message: "Its tasks stay, unassigned. This cannot be undone.",
      confirmLabel: "Delete agent",
      danger: true,
    });
    if (!ok) return;
    try {
      await resources.del("agent", id);
      toast(`Deleted ${a!.name}`);
      navigate(`/projects/${pid}/agents`);
    } catch (e) {
      toast((e as Error).message, "bad");
    }
  }

  return (
    <Page
      back={{ href: `/projects/${pid}/agents`, label: project.data ? `${project.data.name}: agents` : "Agents" }}
      title={
        <span className="title-with-avatar">
          <Avatar url={a.avatar_url} name={a.name} size={48} />
          {a.name}
        </span>
      }
      subtitle={a.job_title}
      actions={
        <>
          <ImageUpload
            label={a.avatar_url ? "Change avatar" : "Upload avatar"}
            onFile={async (f) => {
              const updated = await uploadImage<Agent>("agent", id, f);
              agent.setData(() => updated);
              toast("Avatar updated");
            }}
          />
          <Link className="btn" href={`/chat?agent_id=${id}`}>
            Chat with {a.name}
          </Link>
          <button type="button" className="btn danger-text" onClick={remove}>
            Delete
          </button>
        </>
      }
    >
      <section className="section card">
        <h2>Profile</h2>
        <Form
          key={a.updated_at}
          fields={agentFields(codebases.data?.data ?? [])}
          row={{ ...a, codebase_id: a.codebase_id === null ? null : String(a.codebase_id) } as unknown as Record<string, unknown>}
          submitLabel="Save agent"
          extraFields={["models"]}
          onSubmit={async (body) => {
            normalizeAgentBody(body);
            if (orderChanged) body.models = current;
            const updated = await resources.patch<Agent>("agent", id, body);
            agent.setData(() => updated);
            setOrder(null);
            toast("Saved");
          }}
        >
          {(errors) => <ModelOrder value={current} models={models.data ?? []} onChange={setOrder} error={errors.models} />}
        </Form>
      </section>
      <Skills projectId={pid} agentId={id} />
    </Page>
  );
}

function Skills({ projectId, agentId }: { projectId: number; agentId: number }) {
  const rows = useLoad(
    () => resources.list<SkillRow>("resources", { project_id: projectId, agent_id: agentId, resource_type: "skill", limit: 500 }),
    [projectId, agentId],
  );
  const toast = useToast();
  // The box flips at once; the list catches up after the write.
  const [wanted, setWanted] = useState<Record<string, boolean>>({});
  const has = (name: string) => rows.data?.data.find((r) => r.name === name);

  async function toggle(name: string) {
    const row = has(name);
    setWanted((w) => ({ ...w, [name]: !row }));
    try {
      if (row) await resources.del("resource", row.id);
      else
        await resources.add("resource", {
          project_id: projectId,
          agent_id: agentId,
          resource_type: "skill",
          name,
          description: "Built-in skill",
        });
      toast(row ? `Removed ${name}` : `Gave ${name}`);
      rows.reload();
    } catch (e) {
      setWanted(({ [name]: _, ...rest }) => rest);
      toast((e as Error).message, "bad");
    }
  }

  return (
    <section className="section card">
      <h2>Skills</h2>
      <p className="muted">Built-in tools the gateway runs for this agent when its model calls them.</p>
      <ErrorNote error={rows.error} onRetry={rows.reload} />
      <ul className="skill-list">
        {SKILLS.map((s) => (
          <li key={s.name}>
            <label className="check">
              <input
                type="checkbox"
                checked={wanted[s.name] ?? !!has(s.name)}
                disabled={!rows.data || (s.name in wanted && wanted[s.name] !== !!has(s.name))}
                onChange={() => void toggle(s.name)}
              />
              <span>
                <strong>{s.label}</strong> <code className="small">{s.name}</code>
                <span className="muted small block">{s.tools}</span>
              </span>
            </label>
          </li>
        ))}
      </ul>
    </section>
  );
}
