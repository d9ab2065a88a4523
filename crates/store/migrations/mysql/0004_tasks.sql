-- Tasks that run themselves (crates/tasks): what a task carries for its run, who
-- created it, the firing ledger, one row per run attempt, and trigger history.

-- JSON the runner reads (e.g. {"report": {"period": "monthly"}}, the trigger payload).
ALTER TABLE tasks ADD COLUMN context MEDIUMTEXT NULL;
-- The agent whose tool call created the task (skills), beside created_by (a user).
ALTER TABLE tasks ADD COLUMN created_by_agent BIGINT NULL;
-- The schedule slot (ms) an occurrence of a recurring task runs for.
ALTER TABLE tasks ADD COLUMN schedule_slot BIGINT NULL;
-- The trigger that created the task.
ALTER TABLE tasks ADD COLUMN trigger_id BIGINT NULL;
CREATE INDEX ix_tasks_created_by_agent ON tasks (created_by_agent);
CREATE INDEX ix_tasks_trigger ON tasks (trigger_id);
ALTER TABLE tasks
    ADD CONSTRAINT fk_tasks_created_by_agent FOREIGN KEY (created_by_agent) REFERENCES agents (id) ON DELETE SET NULL,
    ADD CONSTRAINT fk_tasks_trigger_id FOREIGN KEY (trigger_id) REFERENCES triggers (id) ON DELETE SET NULL;

-- How many tasks of the project may run at once (NULL: gateway_config tasks.max_concurrent_per_project).
ALTER TABLE projects ADD COLUMN max_concurrent_tasks BIGINT NULL;

ALTER TABLE triggers ADD COLUMN webhook_secret_enc TEXT NULL;
ALTER TABLE triggers ADD COLUMN last_evaluated_at BIGINT NULL;
ALTER TABLE triggers ADD COLUMN last_error TEXT NULL;
ALTER TABLE triggers ADD COLUMN created_by BIGINT NULL;
CREATE INDEX ix_triggers_created_by ON triggers (created_by);
ALTER TABLE triggers
    ADD CONSTRAINT fk_triggers_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL;

-- One row per attempt to run a task: who ran it, when, how it ended, what it cost.
CREATE TABLE task_runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    task_id BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    agent_id BIGINT,
    worker VARCHAR(191) NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'running',
    error TEXT,
    tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE NOT NULL DEFAULT 0,
    session_id VARCHAR(64),
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    INDEX ix_task_runs_task (task_id, attempt),
    INDEX ix_task_runs_agent (agent_id, started_at),
    CONSTRAINT fk_task_runs_task_id FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE,
    CONSTRAINT fk_task_runs_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The firing ledger: one row per (schedule, slot). The unique key is what makes a
-- slot fire at most once, across restarts and across gateway processes.
CREATE TABLE schedule_firings (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    schedule_key VARCHAR(64) NOT NULL,
    slot BIGINT NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT,
    task_id BIGINT,
    worker VARCHAR(191) NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_schedule_firings_slot UNIQUE (schedule_key, slot),
    INDEX ix_schedule_firings_task (task_id),
    CONSTRAINT fk_schedule_firings_task_id FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What each trigger did: fired (and the task it made), or why it did not.
CREATE TABLE trigger_firings (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    trigger_id BIGINT NOT NULL,
    source VARCHAR(16) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    reason TEXT,
    task_id BIGINT,
    payload MEDIUMTEXT,
    created_at BIGINT NOT NULL,
    INDEX ix_trigger_firings_trigger (trigger_id, created_at),
    INDEX ix_trigger_firings_task (task_id),
    CONSTRAINT fk_trigger_firings_trigger_id FOREIGN KEY (trigger_id) REFERENCES triggers (id) ON DELETE CASCADE,
    CONSTRAINT fk_trigger_firings_task_id FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
