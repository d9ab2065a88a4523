// The workplace endpoints (tasks, triggers, document revisions, codebase
// runs) over the typed client. Their answers are described in words in the
// OpenAPI document, so the rows are typed by the view models in models.ts.
import { api, call, http } from "./client";
import type { Attachment, CodebaseRun, Revision, Task, TaskRun, Trigger, TriggerFiring } from "./models";

type List<T> = { data: T[] };
const rows = <T>(v: List<T>) => v.data;
/** Bodies the document declares as free-form objects. */
const body = (b: object) => b as Record<string, never>;

export const tasks = {
  /** Tasks of a project, newest first; completed ones older than the setting only with `include_hidden`. */
  list(query: { project_id: number; status?: string; parent_task_id?: number; include_hidden?: boolean }): Promise<Task[]> {
    return call<List<Task>>(api.GET("/api/v1/tasks", { params: { query: { limit: 500, ...query } } })).then(rows);
  },
  get(id: number): Promise<Task> {
    return call(api.GET("/api/v1/tasks/{id}", { params: { path: { id } } }));
  },
  create(b: Record<string, unknown>): Promise<Task> {
    return call(api.POST("/api/v1/tasks", { body: body(b) }));
  },
  update(id: number, b: Record<string, unknown>): Promise<Task> {
    return call(api.PATCH("/api/v1/tasks/{id}", { params: { path: { id } }, body: body(b) }));
  },
  cancel(id: number): Promise<Task> {
    return call(api.DELETE("/api/v1/tasks/{id}", { params: { path: { id } } }));
  },
  attach(id: number, files: File[]): Promise<List<Attachment>> {
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    // Multipart: the generated client would send JSON, so this one goes by hand.
    return http("POST", `/api/v1/tasks/${id}/attachments`, form);
  },
  attachmentUrl(taskId: number, attachmentId: number): string {
    return `/api/v1/tasks/${taskId}/attachments/${attachmentId}`;
  },
  outputUrl(id: number): string {
    return `/api/v1/tasks/${id}/output.txt`;
  },
  runs(id: number): Promise<TaskRun[]> {
    return call<List<TaskRun>>(api.GET("/api/v1/tasks/{id}/runs", { params: { path: { id } } })).then(rows);
  },
  children(id: number, projectId: number): Promise<Task[]> {
    return tasks.list({ project_id: projectId, parent_task_id: id, include_hidden: true });
  },
};

export const triggers = {
  list(projectId: number): Promise<Trigger[]> {
    return call<List<Trigger>>(api.GET("/api/v1/triggers", { params: { query: { project_id: projectId } } })).then(rows);
  },
  get(id: number): Promise<Trigger> {
    return call(api.GET("/api/v1/triggers/{id}", { params: { path: { id } } }));
  },
  create(b: Record<string, unknown>): Promise<Trigger> {
    return call(api.POST("/api/v1/triggers", { body: body(b) }));
  },
  update(id: number, b: Record<string, unknown>): Promise<Trigger> {
    return call(api.PATCH("/api/v1/triggers/{id}", { params: { path: { id } }, body: body(b) }));
  },
  remove(id: number): Promise<unknown> {
    return call(api.DELETE("/api/v1/triggers/{id}", { params: { path: { id } } }));
  },
  firings(id: number): Promise<TriggerFiring[]> {
    return call<List<TriggerFiring>>(api.GET("/api/v1/triggers/{id}/firings", { params: { path: { id }, query: { limit: 100 } } })).then(
      rows,
    );
  },
  rotateSecret(id: number): Promise<{ id: number; webhook_secret: string }> {
    return call(api.POST("/api/v1/triggers/{id}/rotate-secret", { params: { path: { id } } }));
  },
};

export const documents = {
  /** Every revision, newest first, without content. */
  revisions(id: number): Promise<Revision[]> {
    return call<List<Revision>>(api.GET("/api/v1/documents/{id}/revisions", { params: { path: { id } } })).then(rows);
  },
  /** One revision with its content. */
  revision(id: number, rev: number): Promise<Revision> {
    return call(api.GET("/api/v1/documents/{id}/revisions/{rev}", { params: { path: { id, rev } } }));
  },
};

export const codebases = {
  runs(id: number, limit = 20): Promise<CodebaseRun[]> {
    return call<List<CodebaseRun>>(api.GET("/api/v1/codebases/{id}/tasks", { params: { path: { id }, query: { limit } } })).then(rows);
  },
  queue(id: number, b: { kind: string; command?: string }): Promise<CodebaseRun> {
    return call(api.POST("/api/v1/codebases/{id}/tasks", { params: { path: { id } }, body: body(b) }));
  },
  cancel(id: number, runId: number): Promise<CodebaseRun> {
    return call(api.POST("/api/v1/codebases/{id}/runs/{run_id}/cancel", { params: { path: { id, run_id: runId } } }));
  },
  /** The whole log so far, as text. */
  log(id: number, runId: number): Promise<string> {
    return call(api.GET("/api/v1/codebases/{id}/runs/{run_id}/log", { params: { path: { id, run_id: runId } }, parseAs: "text" }));
  },
  /** The live log (SSE, read with EventSource): `log` events {seq, text}, then `done` {status, exit_code, error}. */
  logStreamUrl(id: number, runId: number): string {
    return `/api/v1/codebases/${id}/runs/${runId}/log/stream`;
  },
};
