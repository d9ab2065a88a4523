-- Tasks that run themselves (crates/tasks): what a task carries for its run, who
-- created it, the firing ledger, one row per run attempt, and trigger history.

-- JSON the runner reads (e.g. {"report": {"period": "monthly"}}, the trigger payload).
ALTER TABLE tasks ADD COLUMN context TEXT;
-- The agent whose tool call created the task (skills), beside created_by (a user).
ALTER TABLE tasks ADD COLUMN created_by_agent BIGINT REFERENCES agents(id) ON DELETE SET NULL;
-- The schedule slot (ms) an occurrence of a recurring task runs for.
ALTER TABLE tasks ADD COLUMN schedule_slot BIGINT;
-- The trigger that created the task.
ALTER TABLE tasks ADD COLUMN trigger_id BIGINT REFERENCES triggers(id) ON DELETE SET NULL;
CREATE INDEX ix_tasks_created_by_agent ON tasks (created_by_agent);
CREATE INDEX ix_tasks_trigger ON tasks (trigger_id);

-- How many tasks of the project may run at once (NULL: gateway_config tasks.max_concurrent_per_project).
ALTER TABLE projects ADD COLUMN max_concurrent_tasks BIGINT;

ALTER TABLE triggers ADD COLUMN webhook_secret_enc TEXT;
ALTER TABLE triggers ADD COLUMN last_evaluated_at BIGINT;
ALTER TABLE triggers ADD COLUMN last_error TEXT;
ALTER TABLE triggers ADD COLUMN created_by BIGINT REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX ix_triggers_created_by ON triggers (created_by);

-- One row per attempt to run a task: who ran it, when, how it ended, what it cost.
CREATE TABLE task_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    agent_id BIGINT REFERENCES agents(id) ON DELETE SET NULL,
    worker VARCHAR(191) NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'running',
    error TEXT,
    tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE NOT NULL DEFAULT 0,
    session_id VARCHAR(64),
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX ix_task_runs_task ON task_runs (task_id, attempt);
CREATE INDEX ix_task_runs_agent ON task_runs (agent_id, started_at);

-- The firing ledger: one row per (schedule, slot). The unique key is what makes a
-- slot fire at most once, across restarts and across gateway processes.
CREATE TABLE schedule_firings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_key VARCHAR(64) NOT NULL,
    slot BIGINT NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT,
    task_id BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    worker VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_schedule_firings_slot UNIQUE (schedule_key, slot)
);
CREATE INDEX ix_schedule_firings_task ON schedule_firings (task_id);

-- What each trigger did: fired (and the task it made), or why it did not.
CREATE TABLE trigger_firings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_id BIGINT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
    source VARCHAR(16) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT,
    task_id BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    payload TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_trigger_firings_trigger ON trigger_firings (trigger_id, created_at);
CREATE INDEX ix_trigger_firings_task ON trigger_firings (task_id);
