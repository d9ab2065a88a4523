// A project's agents: cards, and a dialog to create one with its models.
import { useState } from "react";
import { resources } from "../../api/client";
import type { Agent, AgentModel, Codebase, Model, Project } from "../../api/models";
import { Modal, useToast } from "../../components/dialog";
import { Form } from "../../components/form";
import { ModelOrder } from "../../components/modelorder";
import { Avatar, Empty, ErrorNote, Spinner, Status, Tags } from "../../components/ui";
import { useLoad } from "../../lib/hooks";
import { Link, navigate } from "../../lib/router";
import { agentFields, normalizeAgentBody } from "./agentFields";

/** Enabled models that can hold a conversation. */
export function useChatModels() {
  return useLoad(
    async () => (await resources.list<Model>("models", { limit: 500 })).data.filter((m) => m.enabled && m.features.includes("chat")),
    [],
  );
}

export function Agents({ project }: { project: Project }) {
  const list = useLoad(() => resources.list<Agent>("agents", { project_id: project.id, limit: 500 }), [project.id]);
  const codebases = useLoad(() => resources.list<Codebase>("codebases", { project_id: project.id, limit: 500 }), [project.id]);
  const models = useChatModels();
  const [creating, setCreating] = useState(false);
  const [order, setOrder] = useState<AgentModel[]>([]);
  const toast = useToast();
  const rows = list.data?.data ?? [];
  const newButton = (
    <button
      type="button"
      className="btn primary"
      onClick={() => {
        setOrder([]);
        setCreating(true);
      }}
    >
      New agent
    </button>
  );
  return (
    <section className="section" aria-label="Agents">
      <div className="section-head">
        <h2>Agents</h2>
        {newButton}
      </div>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty title="No agents yet" action={newButton}>
          An agent takes the project's tasks whose tags match its job tags, using its models in order.
        </Empty>
      )}
      <ul className="cards">
        {rows.map((a) => (
          <li key={a.id} className="card agent-card">
            <Avatar url={a.avatar_url} name={a.name} size={56} />
            <div>
              <h3 className="card-title">
                <Link href={`/projects/${project.id}/agents/${a.id}`}>{a.name}</Link>
              </h3>
              <p className="muted">{a.job_title || "No job title"}</p>
              <Tags items={a.job_tags} />
              <p className="muted small">
                {a.models.length
                  ? `${a.models.length} model${a.models.length > 1 ? "s" : ""}: ${a.models[0].model_code} first`
                  : "No model: it cannot work yet"}
              </p>
              {!a.enabled && <Status value="disabled" />}
            </div>
          </li>
        ))}
      </ul>
      <Modal open={creating} title="New agent" onClose={() => setCreating(false)} wide>
        <Form
          fields={agentFields(codebases.data?.data ?? [])}
          submitLabel="Create agent"
          extraFields={["models"]}
          onCancel={() => setCreating(false)}
          onSubmit={async (body) => {
            const a = await resources.add<Agent>("agent", { ...normalizeAgentBody(body), project_id: project.id, models: order });
            toast(`Created ${a.name}`);
            setCreating(false);
            navigate(`/projects/${project.id}/agents/${a.id}`);
          }}
        >
          {(errors) => <ModelOrder value={order} models={models.data ?? []} onChange={setOrder} error={errors.models} />}
        </Form>
      </Modal>
    </section>
  );
}
