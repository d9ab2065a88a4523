-- SP Gateway: complete database schema, MySQL 8 / MariaDB 10.11 reference.
--
-- This file is documentation, never executed by the gateway. The gateway
-- creates and upgrades its schema with the migrations in
-- crates/store/migrations/mysql (MySQL/MariaDB) and
-- crates/store/migrations/sqlite (SQLite, the embedded default), recorded in
-- the `_sqlx_migrations` table. Below this header the file is exactly those
-- MySQL migrations, concatenated in file-name order, each introduced by a
-- `-- migration: <file name>` line. crates/store/tests/schema_drift.rs fails
-- when this file, the MySQL migrations and the SQLite migrations disagree; to
-- add migration 0002, write it for both dialects, then append it here after
-- its own marker line (or run the drift test once with
-- SPGW_UPDATE_SCHEMA_DOC=1, which rewrites everything below this header).
--
-- Conventions shared by both dialects:
--   * ids are BIGINT AUTO_INCREMENT (INTEGER PRIMARY KEY in SQLite);
--   * times are BIGINT milliseconds since the Unix epoch, UTC; the API renders
--     them as RFC 3339;
--   * JSON values are TEXT (MEDIUMTEXT for bodies that can grow large);
--   * booleans are TINYINT(1) 0/1;
--   * secrets are stored only encrypted (`*_enc`) next to a masked hint;
--   * every foreign-key column leads an index, and names are stable:
--     uq_<table>_* for unique constraints, ix_<table>_* for indexes,
--     fk_<table>_<column> for foreign keys (MySQL only; SQLite leaves them
--     unnamed).
-- Running the part below on an empty database creates the same schema as the
-- migrations (without the `_sqlx_migrations` bookkeeping).

-- migration: 0001_init.sql
-- SP Gateway schema, MySQL 8 / MariaDB 10.11 dialect. docs/database.sql is the
-- MySQL reference (these migrations concatenated); migrations/sqlite holds the
-- SQLite twin and crates/store/tests/schema_drift.rs fails when they disagree.
-- Conventions: BIGINT ids; times are BIGINT milliseconds since the Unix epoch
-- (UTC), rendered as RFC 3339 by the API; JSON values are stored as TEXT
-- (MEDIUMTEXT for bodies that can grow large); booleans are TINYINT(1) 0/1;
-- secrets are stored only encrypted (`*_enc`) with a masked hint. VARCHAR(191)
-- keeps utf8mb4 index keys within InnoDB limits. Every foreign-key column leads
-- a named index, so InnoDB never adds an implicit one.

CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(191) NOT NULL,
    email VARCHAR(191),
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(16) NOT NULL DEFAULT 'user',
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_users_username UNIQUE (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_sessions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    token_hash CHAR(64) NOT NULL,
    user_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_user_sessions_token UNIQUE (token_hash),
    INDEX ix_user_sessions_user (user_id),
    INDEX ix_user_sessions_expires (expires_at),
    CONSTRAINT fk_user_sessions_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE gateway_api_keys (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    prefix VARCHAR(32) NOT NULL,
    key_hash CHAR(64) NOT NULL,
    limits TEXT,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_gateway_api_keys_hash UNIQUE (key_hash),
    INDEX ix_gateway_api_keys_user (user_id, created_at),
    CONSTRAINT fk_gateway_api_keys_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE providers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    display_name VARCHAR(191) NOT NULL,
    protocol VARCHAR(32) NOT NULL DEFAULT 'openai',
    base_url VARCHAR(1024) NOT NULL,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    builtin TINYINT(1) NOT NULL DEFAULT 0,
    config TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_providers_name UNIQUE (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE provider_keys (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    provider_id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    key_enc TEXT NOT NULL,
    key_hint VARCHAR(32) NOT NULL,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    status VARCHAR(16) NOT NULL DEFAULT 'ok',
    last_error TEXT,
    cooldown_until BIGINT,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_provider_keys_name UNIQUE (provider_id, name),
    CONSTRAINT fk_provider_keys_provider_id FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE models (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    provider_id BIGINT NOT NULL,
    model_code VARCHAR(191) NOT NULL,
    name VARCHAR(191) NOT NULL,
    features TEXT NOT NULL,
    output_formats TEXT NOT NULL,
    supports_mcp TINYINT(1) NOT NULL DEFAULT 0,
    context_window BIGINT,
    max_output_tokens BIGINT,
    pricing TEXT,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    source VARCHAR(16) NOT NULL DEFAULT 'operator',
    edited TINYINT(1) NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_models_code UNIQUE (provider_id, model_code),
    CONSTRAINT fk_models_provider_id FOREIGN KEY (provider_id) REFERENCES providers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE gateway_config (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    config_key VARCHAR(191) NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_gateway_config_key UNIQUE (config_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE projects (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    description TEXT,
    logo_url VARCHAR(1024),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_projects_name UNIQUE (user_id, name),
    CONSTRAINT fk_projects_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE codebases (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    repo_url VARCHAR(1024),
    architecture_notes TEXT,
    preferred_stack TEXT,
    prerequisites TEXT,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    runtime_config TEXT,
    host_key_fingerprint VARCHAR(191),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_codebases_name UNIQUE (project_id, name),
    CONSTRAINT fk_codebases_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE agents (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    job_title VARCHAR(191),
    role TEXT,
    job_tags TEXT NOT NULL,
    soul TEXT,
    codebase_id BIGINT,
    avatar_url VARCHAR(1024),
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    max_concurrent_tasks BIGINT NOT NULL DEFAULT 1,
    config TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_agents_name UNIQUE (project_id, name),
    INDEX ix_agents_codebase (codebase_id),
    CONSTRAINT fk_agents_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_agents_codebase_id FOREIGN KEY (codebase_id) REFERENCES codebases (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE agent_models (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    agent_id BIGINT NOT NULL,
    model_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    CONSTRAINT uq_agent_models_priority UNIQUE (agent_id, priority),
    INDEX ix_agent_models_model (model_id),
    CONSTRAINT fk_agent_models_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_agent_models_model_id FOREIGN KEY (model_id) REFERENCES models (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    session_id VARCHAR(64) NOT NULL,
    user_id BIGINT NOT NULL,
    project_id BIGINT,
    agent_id BIGINT,
    model_id BIGINT,
    task_id BIGINT,
    title VARCHAR(191),
    message_count BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    total_cost_usd DOUBLE NOT NULL DEFAULT 0,
    mcp_config TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_sessions_session_id UNIQUE (session_id),
    INDEX ix_sessions_user (user_id, updated_at),
    INDEX ix_sessions_expires (expires_at),
    INDEX ix_sessions_agent (agent_id),
    INDEX ix_sessions_project (project_id),
    INDEX ix_sessions_model (model_id),
    CONSTRAINT fk_sessions_user_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_sessions_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE SET NULL,
    CONSTRAINT fk_sessions_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE SET NULL,
    CONSTRAINT fk_sessions_model_id FOREIGN KEY (model_id) REFERENCES models (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Message history of a session in the embedded (no Redis) configuration.
CREATE TABLE session_messages (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    session_id VARCHAR(64) NOT NULL,
    seq BIGINT NOT NULL,
    message MEDIUMTEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_session_messages_seq UNIQUE (session_id, seq),
    CONSTRAINT fk_session_messages_session_id FOREIGN KEY (session_id) REFERENCES sessions (session_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE tasks (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    parent_task_id BIGINT,
    title VARCHAR(191) NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    kind VARCHAR(16) NOT NULL DEFAULT 'external',
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    status_reason TEXT,
    schedule TEXT,
    next_run_at BIGINT,
    priority BIGINT NOT NULL DEFAULT 0,
    agent_id BIGINT,
    session_id VARCHAR(64),
    output MEDIUMTEXT,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 3,
    limits TEXT,
    tokens_used BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE NOT NULL DEFAULT 0,
    lease_owner VARCHAR(64),
    lease_expires_at BIGINT,
    created_by BIGINT,
    started_at BIGINT,
    finished_at BIGINT,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    INDEX ix_tasks_project_status (project_id, status, created_at),
    INDEX ix_tasks_due (status, next_run_at),
    INDEX ix_tasks_lease (status, lease_expires_at),
    INDEX ix_tasks_parent (parent_task_id),
    INDEX ix_tasks_agent (agent_id, status),
    INDEX ix_tasks_created_by (created_by),
    CONSTRAINT fk_tasks_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_tasks_parent_task_id FOREIGN KEY (parent_task_id) REFERENCES tasks (id) ON DELETE SET NULL,
    CONSTRAINT fk_tasks_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE SET NULL,
    CONSTRAINT fk_tasks_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE task_attachments (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    task_id BIGINT NOT NULL,
    filename VARCHAR(255) NOT NULL,
    content_type VARCHAR(191) NOT NULL,
    size_bytes BIGINT NOT NULL,
    storage_path VARCHAR(1024) NOT NULL,
    created_at BIGINT NOT NULL,
    INDEX ix_task_attachments_task (task_id),
    CONSTRAINT fk_task_attachments_task_id FOREIGN KEY (task_id) REFERENCES tasks (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE triggers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    name VARCHAR(191) NOT NULL,
    description TEXT,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    condition_spec TEXT,
    schedule TEXT,
    task_template TEXT NOT NULL,
    cooldown_seconds BIGINT NOT NULL DEFAULT 0,
    next_run_at BIGINT,
    last_fired_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_triggers_name UNIQUE (project_id, name),
    INDEX ix_triggers_due (enabled, next_run_at),
    CONSTRAINT fk_triggers_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE reports (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    agent_id BIGINT,
    title VARCHAR(191) NOT NULL,
    period VARCHAR(16) NOT NULL,
    period_start VARCHAR(10) NOT NULL,
    content MEDIUMTEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_reports_period UNIQUE (project_id, period, period_start),
    INDEX ix_reports_agent (agent_id),
    CONSTRAINT fk_reports_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_reports_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE documents (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    agent_id BIGINT,
    title VARCHAR(191) NOT NULL,
    description TEXT,
    extended_description TEXT,
    content MEDIUMTEXT,
    revision BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_documents_title UNIQUE (project_id, title),
    INDEX ix_documents_agent (agent_id),
    CONSTRAINT fk_documents_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_documents_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE document_revisions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    document_id BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    title VARCHAR(191) NOT NULL,
    description TEXT,
    extended_description TEXT,
    content MEDIUMTEXT,
    author_user_id BIGINT,
    author_agent_id BIGINT,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_document_revisions UNIQUE (document_id, revision),
    INDEX ix_document_revisions_user (author_user_id),
    INDEX ix_document_revisions_agent (author_agent_id),
    CONSTRAINT fk_document_revisions_document_id FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE,
    CONSTRAINT fk_document_revisions_author_user_id FOREIGN KEY (author_user_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT fk_document_revisions_author_agent_id FOREIGN KEY (author_agent_id) REFERENCES agents (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE codebase_runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    codebase_id BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    command TEXT,
    assigned_tags TEXT NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'queued',
    exit_code BIGINT,
    error TEXT,
    runner_id VARCHAR(191),
    lease_expires_at BIGINT,
    log_bytes BIGINT NOT NULL DEFAULT 0,
    requested_by BIGINT,
    started_at BIGINT,
    finished_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    INDEX ix_codebase_runs_codebase (codebase_id, created_at),
    INDEX ix_codebase_runs_queue (status, created_at),
    INDEX ix_codebase_runs_user (requested_by),
    CONSTRAINT fk_codebase_runs_codebase_id FOREIGN KEY (codebase_id) REFERENCES codebases (id) ON DELETE CASCADE,
    CONSTRAINT fk_codebase_runs_requested_by FOREIGN KEY (requested_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE codebase_run_logs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    run_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    chunk MEDIUMTEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_codebase_run_logs_seq UNIQUE (run_id, seq),
    CONSTRAINT fk_codebase_run_logs_run_id FOREIGN KEY (run_id) REFERENCES codebase_runs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE resources (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    agent_id BIGINT,
    resource_type VARCHAR(32) NOT NULL,
    name VARCHAR(191) NOT NULL,
    description TEXT,
    config TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    INDEX ix_resources_project (project_id, resource_type),
    INDEX ix_resources_agent (agent_id, resource_type),
    CONSTRAINT fk_resources_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_resources_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE assets (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    agent_id BIGINT,
    name VARCHAR(191) NOT NULL,
    asset_type VARCHAR(64) NOT NULL,
    uri VARCHAR(1024),
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    INDEX ix_assets_project (project_id, asset_type),
    INDEX ix_assets_agent (agent_id),
    CONSTRAINT fk_assets_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_assets_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE credentials (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT NOT NULL,
    agent_id BIGINT,
    asset_id BIGINT,
    name VARCHAR(191) NOT NULL,
    credential_type VARCHAR(64) NOT NULL,
    secret_enc TEXT NOT NULL,
    secret_hint VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_credentials_name UNIQUE (project_id, name),
    INDEX ix_credentials_agent (agent_id),
    INDEX ix_credentials_asset (asset_id),
    CONSTRAINT fk_credentials_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_credentials_agent_id FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE,
    CONSTRAINT fk_credentials_asset_id FOREIGN KEY (asset_id) REFERENCES assets (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mcp_tools (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    project_id BIGINT,
    name VARCHAR(191) NOT NULL,
    transport VARCHAR(16) NOT NULL,
    command VARCHAR(1024),
    args TEXT,
    env_enc TEXT,
    url VARCHAR(1024),
    headers_enc TEXT,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    status VARCHAR(16) NOT NULL DEFAULT 'unknown',
    tools_cache MEDIUMTEXT,
    refreshed_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_mcp_tools_name UNIQUE (project_id, name),
    INDEX ix_mcp_tools_user (created_by),
    CONSTRAINT fk_mcp_tools_project_id FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
    CONSTRAINT fk_mcp_tools_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per upstream call (chat, embeddings, media). No foreign keys: the log
-- outlives the rows it mentions.
CREATE TABLE request_log (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    request_id VARCHAR(64) NOT NULL,
    user_id BIGINT,
    api_key_id BIGINT,
    project_id BIGINT,
    agent_id BIGINT,
    task_id BIGINT,
    session_id VARCHAR(64),
    endpoint VARCHAR(64) NOT NULL,
    provider VARCHAR(64) NOT NULL,
    model VARCHAR(191) NOT NULL,
    stream TINYINT(1) NOT NULL DEFAULT 0,
    status_code BIGINT NOT NULL,
    error_code VARCHAR(64),
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE NOT NULL DEFAULT 0,
    latency_ms BIGINT NOT NULL DEFAULT 0,
    ttft_ms BIGINT,
    created_at BIGINT NOT NULL,
    INDEX ix_request_log_created (created_at),
    INDEX ix_request_log_user (user_id, created_at),
    INDEX ix_request_log_key (api_key_id, created_at),
    INDEX ix_request_log_project (project_id, created_at),
    INDEX ix_request_log_model (provider, model, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- migration: 0002_request_log_requested_model.sql
-- The model a call asked for, beside the model that answered (they differ after a fallback).
ALTER TABLE request_log ADD COLUMN requested_model VARCHAR(191) NULL;
CREATE INDEX ix_request_log_agent ON request_log (agent_id, created_at);
CREATE INDEX ix_sessions_task ON sessions (task_id);
CREATE INDEX ix_codebase_runs_lease ON codebase_runs (status, lease_expires_at);

-- migration: 0003_limits.sql
-- Per-user rate limits and budgets (`{"rpm","tpm","usd_per_day","usd_per_month","cache","cache_ttl_seconds"}`),
-- beside the per-key ones in gateway_api_keys.limits.
ALTER TABLE users ADD COLUMN limits TEXT NULL;

-- migration: 0004_tasks.sql
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

-- migration: 0005_agents.sql
-- Why a living document changed: every revision records its reason beside its author (user or agent).
ALTER TABLE document_revisions ADD COLUMN reason TEXT NULL;

-- migration: 0006_runner.sql
-- Codebase runs executed by runners over SSH (crates/runner).
-- A run's own timeout, how many times it was claimed (a run whose runner lost its lease is
-- re-queued once), a cancel the runner picks up with its next heartbeat, whether the log hit
-- its size cap, and whether the checkout is fetched and reset before the command.
ALTER TABLE codebase_runs ADD COLUMN timeout_seconds BIGINT NOT NULL DEFAULT 1800;
ALTER TABLE codebase_runs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE codebase_runs ADD COLUMN cancel_requested TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE codebase_runs ADD COLUMN log_truncated TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE codebase_runs ADD COLUMN sync_workspace TINYINT(1) NOT NULL DEFAULT 1;
-- When the SSH host key fingerprint was recorded (trust on first use).
ALTER TABLE codebases ADD COLUMN host_key_recorded_at BIGINT NULL;

-- migration: 0007_mcp_health.sql
-- External MCP servers (crates/mcp): per-server limits that override the `mcp.*`
-- runtime settings, and the outcome of the last health check.
ALTER TABLE mcp_tools ADD COLUMN call_timeout_seconds BIGINT;
ALTER TABLE mcp_tools ADD COLUMN max_output_bytes BIGINT;
ALTER TABLE mcp_tools ADD COLUMN checked_at BIGINT;
ALTER TABLE mcp_tools ADD COLUMN last_error TEXT;

-- migration: 0008_request_log_indexes.sql
-- The request log grows to millions of rows and is listed newest first
-- (`created_at`, see spgw_store::repo::table::Listing::Log): every filter the
-- web UI offers leads an index that ends with `created_at`, so a filtered page
-- is read in order and the read stops after one page.
CREATE INDEX ix_request_log_status ON request_log (status_code, created_at);
CREATE INDEX ix_request_log_error ON request_log (error_code, created_at);
CREATE INDEX ix_request_log_session ON request_log (session_id, created_at);
CREATE INDEX ix_request_log_request ON request_log (request_id);

-- migration: 0009_request_log_partial_indexes.sql
-- SQLite only (partial indexes on the request log's mostly-NULL columns, see the
-- SQLite migration of the same number). MySQL has no partial indexes and runs its
-- inserts in its own process; nothing changes here.
DO 0;

