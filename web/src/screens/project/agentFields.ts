// The fields of an agent, shared by the create dialog and the agent page.
import type { FieldSpec } from "../../components/form";

export function agentFields(codebases: { id: number; name: string }[]): FieldSpec[] {
  return [
    { name: "name", label: "Name", required: true, placeholder: "Ada" },
    { name: "job_title", label: "Job title", placeholder: "Release manager" },
    {
      name: "job_tags",
      label: "Job tags",
      kind: "tags",
      placeholder: "release, changelog",
      help: "Tasks with a matching tag are given to this agent.",
    },
    { name: "role", label: "Role", kind: "textarea", rows: 2, placeholder: "Prepares releases and keeps the changelog." },
    {
      name: "soul",
      label: "Soul",
      kind: "textarea",
      rows: 6,
      placeholder: "Calm, precise, writes short sentences. Never ships on Fridays.",
      help: "Personality and behaviour instructions: the start of every prompt.",
    },
    ...(codebases.length
      ? [
          {
            name: "codebase_id",
            label: "Codebase",
            kind: "select" as const,
            options: codebases.map((c) => ({ value: String(c.id), label: c.name })),
            help: "Needed for the coding skill.",
          },
        ]
      : []),
    { name: "max_concurrent_tasks", label: "Tasks at once", kind: "number", default: 1, editOnly: true },
    { name: "enabled", label: "Takes tasks", kind: "bool", default: true, editOnly: true },
  ];
}

/** Built-in skills an agent gets from a `resources` row of type `skill`. */
export const SKILLS: { name: string; label: string; tools: string }[] = [
  { name: "agent_plugin", label: "Agents", tools: "agent.list" },
  { name: "task_plugin", label: "Tasks", tools: "task.create, task.finish, task.upsert, task.delete, task.list" },
  { name: "report_plugin", label: "Reports", tools: "report.create, report.upsert, report.delete, report.list" },
  { name: "living_document_plugin", label: "Living documents", tools: "living_document.upsert, living_document.list" },
  {
    name: "coding_plugin",
    label: "Coding (over SSH on the codebase's runner)",
    tools: "coding.read_file, coding.write_file, coding.run_command, coding.git_diff, …",
  },
];

/** The form gives the codebase as text; the API takes an id. */
export function normalizeAgentBody(body: Record<string, unknown>): Record<string, unknown> {
  if (body.codebase_id !== undefined) body.codebase_id = body.codebase_id === null ? null : Number(body.codebase_id);
  return body;
}
