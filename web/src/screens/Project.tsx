// One project: its header (logo, name) and a tab per kind of thing it holds.
import { resources, uploadImage } from "../api/client";
import type { Project as ProjectRow } from "../api/models";
import { useToast } from "../components/dialog";
import { ImageUpload } from "../components/upload";
import { Avatar, ErrorNote, Page, Spinner, TabLinks } from "../components/ui";
import { useLoad, useTitle } from "../lib/hooks";
import { Agents } from "./project/Agents";
import { Library, LIBRARY_TABS } from "./project/Library";
import { ProjectSettings } from "./project/ProjectSettings";
import { TasksBoard } from "./project/TasksBoard";
import { Triggers } from "./project/Triggers";

const TABS = [
  { id: "tasks", label: "Tasks" },
  { id: "agents", label: "Agents" },
  { id: "triggers", label: "Triggers" },
  ...LIBRARY_TABS,
  { id: "settings", label: "Settings" },
];

export default function Project({ params }: { params: Record<string, string> }) {
  const pid = Number(params.pid);
  const tab = TABS.some((t) => t.id === params.tab) ? params.tab : "tasks";
  const project = useLoad(() => resources.get<ProjectRow>("project", pid), [pid]);
  const toast = useToast();
  const p = project.data;
  useTitle(p ? `${p.name} · ${TABS.find((t) => t.id === tab)?.label}` : "Project");

  if (!p) {
    return (
      <section className="page">
        <ErrorNote error={project.error} onRetry={project.reload} />
        {!project.error && <Spinner />}
      </section>
    );
  }
  return (
    <Page
      back={{ href: "/projects", label: "Projects" }}
      title={
        <span className="title-with-avatar">
          <Avatar url={p.logo_url} name={p.name} size={36} />
          {p.name}
        </span>
      }
      subtitle={p.description}
      actions={
        <ImageUpload
          label={p.logo_url ? "Change logo" : "Upload logo"}
          onFile={async (f) => {
            const updated = await uploadImage<ProjectRow>("project", pid, f);
            project.setData(() => updated);
            toast("Logo updated");
          }}
        />
      }
    >
      <TabLinks current={tab} tabs={TABS.map((t) => ({ ...t, href: `/projects/${pid}/${t.id}` }))} />
      {tab === "tasks" && <TasksBoard project={p} />}
      {tab === "agents" && <Agents project={p} />}
      {tab === "triggers" && <Triggers project={p} />}
      {LIBRARY_TABS.some((t) => t.id === tab) && <Library project={p} tab={tab} />}
      {tab === "settings" && <ProjectSettings project={p} onSaved={(u) => project.setData(() => u)} />}
    </Page>
  );
}
