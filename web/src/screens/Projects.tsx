// Projects: each a silo of agents, tasks, documents and the rest.
import { useState } from "react";
import { resources, uploadImage } from "../api/client";
import type { Project } from "../api/models";
import { Modal, useToast } from "../components/dialog";
import { Form, type FieldSpec } from "../components/form";
import { Avatar, Empty, ErrorNote, Page, Spinner } from "../components/ui";
import { relative } from "../lib/format";
import { useLoad, useTitle } from "../lib/hooks";
import { Link, navigate } from "../lib/router";

export const PROJECT_FIELDS: FieldSpec[] = [
  { name: "name", label: "Name", required: true, placeholder: "Website relaunch" },
  { name: "description", label: "Description", kind: "textarea", help: "What the project is for: agents read it as context." },
];

export default function Projects() {
  useTitle("Projects");
  const list = useLoad(() => resources.list<Project>("projects", { limit: 500 }), []);
  const [creating, setCreating] = useState(false);
  const toast = useToast();
  const rows = list.data?.data ?? [];
  const newButton = (
    <button type="button" className="btn primary" onClick={() => setCreating(true)}>
      New project
    </button>
  );
  return (
    <Page
      title="Projects"
      subtitle="A project holds its agents, tasks, reports, documents, codebases and credentials, visible only through it."
      actions={newButton}
    >
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!list.data && <Spinner />}
      {list.data && rows.length === 0 && (
        <Empty title="No projects yet" action={newButton}>
          Create a project, add an agent with a model, then give it tasks.
        </Empty>
      )}
      <ul className="cards">
        {rows.map((p) => (
          <li key={p.id} className="card project-card">
            <Avatar url={p.logo_url} name={p.name} size={48} />
            <div>
              <h2 className="card-title">
                <Link href={`/projects/${p.id}`}>{p.name}</Link>
              </h2>
              <p className="muted clamp">{p.description || "No description"}</p>
              <p className="muted small">Updated {relative(p.updated_at ?? p.created_at)}</p>
            </div>
          </li>
        ))}
      </ul>
      <Modal open={creating} title="New project" onClose={() => setCreating(false)}>
        <ProjectCreate
          onDone={(p) => {
            toast(`Created ${p.name}`);
            setCreating(false);
            navigate(`/projects/${p.id}`);
          }}
          onCancel={() => setCreating(false)}
        />
      </Modal>
    </Page>
  );
}

function ProjectCreate({ onDone, onCancel }: { onDone: (p: Project) => void; onCancel: () => void }) {
  const [logo, setLogo] = useState<File | null>(null);
  return (
    <Form
      fields={PROJECT_FIELDS}
      submitLabel="Create project"
      onCancel={onCancel}
      onSubmit={async (body) => {
        let p = await resources.add<Project>("project", body);
        if (logo) p = await uploadImage<Project>("project", p.id, logo);
        onDone(p);
      }}
    >
      <div className="field">
        <label htmlFor="project-logo">Logo (optional)</label>
        <input
          id="project-logo"
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          onChange={(e) => setLogo(e.target.files?.[0] ?? null)}
        />
        <p className="hint">PNG, JPEG, GIF or WebP, up to 5 MB.</p>
      </div>
    </Form>
  );
}
