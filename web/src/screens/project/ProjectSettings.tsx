// A project's name and description, and deleting it.
import { resources } from "../../api/client";
import type { Project } from "../../api/models";
import { useConfirm, useToast } from "../../components/dialog";
import { Form } from "../../components/form";
import { navigate } from "../../lib/router";
import { PROJECT_FIELDS } from "../Projects";

export function ProjectSettings({ project, onSaved }: { project: Project; onSaved: (p: Project) => void }) {
  const confirm = useConfirm();
  const toast = useToast();
  return (
    <>
      <section className="section card">
        <h2>Project</h2>
        <Form
          key={project.updated_at}
          fields={PROJECT_FIELDS}
          row={project as unknown as Record<string, unknown>}
          submitLabel="Save"
          onSubmit={async (body) => {
            onSaved(await resources.patch<Project>("project", project.id, body));
            toast("Saved");
          }}
        />
      </section>
      <section className="section card danger-zone">
        <h2>Delete project</h2>
        <p className="muted">Its agents, tasks, reports, documents, codebases, resources, assets and credentials are deleted with it.</p>
        <button
          type="button"
          className="btn danger"
          onClick={async () => {
            const ok = await confirm({
              title: `Delete ${project.name}?`,
              message: "Everything in the project is deleted. This cannot be undone.",
              confirmLabel: "Delete project",
              danger: true,
            });
            if (!ok) return;
            try {
              await resources.del("project", project.id);
              toast(`Deleted ${project.name}`);
              navigate("/projects");
            } catch (e) {
              toast((e as Error).message, "bad");
            }
          }}
        >
          Delete project
        </button>
      </section>
    </>
  );
}
