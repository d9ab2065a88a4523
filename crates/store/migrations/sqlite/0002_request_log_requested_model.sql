-- The model a call asked for, beside the model that answered (they differ after a fallback).
ALTER TABLE request_log ADD COLUMN requested_model VARCHAR(191);
CREATE INDEX ix_request_log_agent ON request_log (agent_id, created_at);
CREATE INDEX ix_sessions_task ON sessions (task_id);
CREATE INDEX ix_codebase_runs_lease ON codebase_runs (status, lease_expires_at);
