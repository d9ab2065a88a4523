-- Codebase runs executed by runners over SSH (crates/runner).
-- A run's own timeout, how many times it was claimed (a run whose runner lost its lease is
-- re-queued once), a cancel the runner picks up with its next heartbeat, whether the log hit
-- its size cap, and whether the checkout is fetched and reset before the command.
ALTER TABLE codebase_runs ADD COLUMN timeout_seconds BIGINT NOT NULL DEFAULT 1800;
ALTER TABLE codebase_runs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE codebase_runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE codebase_runs ADD COLUMN log_truncated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE codebase_runs ADD COLUMN sync_workspace INTEGER NOT NULL DEFAULT 1;
-- When the SSH host key fingerprint was recorded (trust on first use).
ALTER TABLE codebases ADD COLUMN host_key_recorded_at BIGINT;
