// View models of the rows the UI shows. The generic resource API is typed as
// plain objects in the OpenAPI document; these name the fields the gateway
// renders (see crates/api/src/resources/defs.rs).

export interface Me {
  id: number;
  username: string;
  role: "admin" | "user";
  api_key_id: number | null;
}

interface Timestamps {
  id: number;
  created_at: string;
  updated_at?: string;
}

export interface Provider extends Timestamps {
  name: string;
  display_name: string | null;
  base_url: string;
  protocol: string | null;
  enabled: boolean;
  builtin?: boolean;
}

export interface ProviderKey extends Timestamps {
  provider: string;
  provider_id: number;
  name: string;
  /** Masked: only a hint of the key is ever shown. */
  key: string;
  enabled: boolean;
  status: "ok" | "failing";
  cooldown_until: string | null;
  last_used_at?: string | null;
  last_error?: string | null;
}

export interface Pricing {
  input_per_mtok?: number;
  output_per_mtok?: number;
  cached_input_per_mtok?: number;
  per_image?: number;
  per_second?: number;
  [k: string]: number | undefined;
}

export interface Model extends Timestamps {
  provider: string;
  provider_id: number;
  model_code: string;
  name: string | null;
  features: string[];
  output_formats: string[];
  supports_mcp: boolean;
  context_window: number | null;
  max_output_tokens: number | null;
  pricing: Pricing | null;
  enabled: boolean;
  builtin?: boolean;
  edited?: boolean;
}

export interface User extends Timestamps {
  username: string;
  email: string | null;
  role: "admin" | "user";
  enabled: boolean;
}

export interface ApiKey extends Timestamps {
  name: string;
  user_id: number;
  prefix?: string;
  key_prefix?: string;
  expires_at: string | null;
  last_used_at?: string | null;
  /** Only in the response of `add`, once. */
  key?: string;
}

export interface ConfigRow extends Timestamps {
  key: string;
  value: unknown;
}

export interface KnownSetting {
  key: string;
  /** As docs/api.md states it: `3 (1–100)`, `true`, ... */
  default: string;
  kind: "integer" | "number" | "boolean" | "string";
  meaning: string;
  value: unknown;
  is_set: boolean;
}

export interface Project extends Timestamps {
  name: string;
  description: string | null;
  logo_url: string | null;
  user_id: number;
}

export interface AgentModel {
  provider: string;
  model_code: string;
}

export interface Agent extends Timestamps {
  project_id: number;
  name: string;
  job_title: string | null;
  role: string | null;
  job_tags: string[];
  soul: string | null;
  models: AgentModel[];
  codebase_id: number | null;
  avatar_url: string | null;
  enabled: boolean;
  max_concurrent_tasks: number;
}

export type TaskStatus = "pending" | "scheduled" | "running" | "completed" | "failed" | "cancelled" | "blocked";

export interface Schedule {
  at?: string;
  cron?: string;
  timezone?: string;
  every_seconds?: number;
}

export interface Task extends Timestamps {
  project_id: number;
  parent_task_id: number | null;
  title: string;
  description: string | null;
  tags: string[];
  kind: string;
  status: TaskStatus;
  status_reason: string | null;
  schedule: Schedule | null;
  next_run_at: string | null;
  priority: number;
  agent_id: number | null;
  session_id: string | null;
  output: string | null;
  error: string | null;
  attempts: number;
  max_attempts: number;
  tokens_used: number;
  cost_usd: number;
  started_at: string | null;
  finished_at: string | null;
  deleted_at?: string | null;
  trigger_id?: number | null;
  attachments?: Attachment[];
  /** Upcoming fire times of a scheduled task (detail only). */
  next_runs?: string[];
}

export interface Attachment {
  id: number;
  filename: string;
  content_type: string;
  size_bytes: number;
  url?: string;
  created_at: string;
}

export interface TaskRun {
  id: number;
  task_id?: number;
  attempt: number;
  worker?: string;
  agent_id: number | null;
  status: string;
  error: string | null;
  tokens: number;
  cost_usd: number;
  session_id: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface Trigger extends Timestamps {
  project_id: number;
  name: string;
  description: string | null;
  enabled: boolean;
  condition: unknown;
  schedule: Schedule | null;
  task_template: Record<string, unknown>;
  cooldown_seconds: number;
  next_run_at: string | null;
  last_fired_at: string | null;
  last_evaluated_at?: string | null;
  last_error?: string | null;
  /** Where a signed webhook fires the trigger. */
  webhook_url?: string;
  /** Only in the answer to create (and rotate): shown once. */
  webhook_secret?: string;
}

export interface TriggerFiring {
  id: number;
  source: string;
  outcome: string;
  reason: string | null;
  task_id: number | null;
  created_at: string;
}

export interface Report extends Timestamps {
  project_id: number;
  agent_id: number | null;
  title: string;
  period: "monthly" | "annual";
  period_start: string;
  content: string | null;
}

export interface Document extends Timestamps {
  project_id: number;
  agent_id: number | null;
  title: string;
  description: string | null;
  extended_description: string | null;
  content: string | null;
  revision: number;
}

export interface Revision {
  revision: number;
  title: string;
  description: string | null;
  extended_description: string | null;
  /** Only when one revision is fetched. */
  content?: string | null;
  author?: { type: "user" | "agent"; id: number | null; name: string | null } | null;
  reason?: string | null;
  created_at: string;
}

export interface Codebase extends Timestamps {
  project_id: number;
  name: string;
  repo_url: string | null;
  architecture_notes: string | null;
  preferred_stack: string | null;
  prerequisites: string | null;
  enabled: boolean;
  runtime_config: { runner?: { host?: string; ssh_user?: string; workspace_root?: string } } | null;
}

export interface CodebaseRun {
  id: number;
  codebase_id: number;
  kind: string;
  command: string | null;
  status: string;
  exit_code: number | null;
  error: string | null;
  cancel_requested?: boolean;
  duration_ms?: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface Session {
  session_id: string;
  user_id: number;
  provider?: string | null;
  model?: string | null;
  agent_id: number | null;
  project_id?: number | null;
  task_id?: number | null;
  title: string | null;
  message_count: number;
  total_tokens: number;
  total_cost_usd: number;
  expires_at: string;
  created_at: string;
  updated_at: string;
  messages?: SessionMessage[];
}

export interface ContentPart {
  type: string;
  text?: string;
  thinking?: string;
  image_url?: { url: string };
  source?: unknown;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface SessionMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string | ContentPart[] | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string | null;
  name?: string | null;
  is_error?: boolean;
}

export interface RequestLogRow {
  id: number;
  request_id: string;
  user_id: number | null;
  api_key_id: number | null;
  project_id: number | null;
  agent_id: number | null;
  task_id: number | null;
  session_id: string | null;
  endpoint: string;
  provider: string;
  model: string;
  requested_model: string | null;
  stream: boolean;
  status_code: number;
  error_code: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  latency_ms: number;
  ttft_ms: number | null;
  created_at: string;
}

export interface Sums {
  requests: number;
  attempts: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  avg_latency_ms: number;
}

export interface Stats {
  from: string;
  to: string;
  bucket_seconds: number;
  group_by: string;
  totals: Sums;
  groups: (Sums & { key: string; label: string })[];
  series: (Sums & { t: string; key: string })[];
}
