-- SP Gateway schema, SQLite dialect. docs/database.sql is the MySQL reference;
-- crates/store/tests/schema_drift.rs fails when the two disagree.
-- Conventions: integer ids; times are BIGINT milliseconds since the Unix epoch
-- (UTC), rendered as RFC 3339 by the API; JSON values are stored as TEXT;
-- booleans are 0/1; secrets are stored only encrypted (`*_enc`) with a masked hint.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(191) NOT NULL,
    email VARCHAR(191),
    password_hash VARCHAR(255) NOT NULL,
    role VARCHAR(16) NOT NULL DEFAULT 'user',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_users_username UNIQUE (username)
);

CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash CHAR(64) NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_user_sessions_token UNIQUE (token_hash)
);
CREATE INDEX ix_user_sessions_user ON user_sessions (user_id);
CREATE INDEX ix_user_sessions_expires ON user_sessions (expires_at);

CREATE TABLE gateway_api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    prefix VARCHAR(32) NOT NULL,
    key_hash CHAR(64) NOT NULL,
    limits TEXT,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_gateway_api_keys_hash UNIQUE (key_hash)
);
CREATE INDEX ix_gateway_api_keys_user ON gateway_api_keys (user_id, created_at);

CREATE TABLE providers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(64) NOT NULL,
    display_name VARCHAR(191) NOT NULL,
    protocol VARCHAR(32) NOT NULL DEFAULT 'openai',
    base_url VARCHAR(1024) NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    builtin INTEGER NOT NULL DEFAULT 0,
    config TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_providers_name UNIQUE (name)
);

CREATE TABLE provider_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id BIGINT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    key_enc TEXT NOT NULL,
    key_hint VARCHAR(32) NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    status VARCHAR(16) NOT NULL DEFAULT 'ok',
    last_error TEXT,
    cooldown_until BIGINT,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_provider_keys_name UNIQUE (provider_id, name)
);

CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id BIGINT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    model_code VARCHAR(191) NOT NULL,
    name VARCHAR(191) NOT NULL,
    features TEXT NOT NULL,
    output_formats TEXT NOT NULL,
    supports_mcp INTEGER NOT NULL DEFAULT 0,
    context_window BIGINT,
    max_output_tokens BIGINT,
    pricing TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    source VARCHAR(16) NOT NULL DEFAULT 'operator',
    edited INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_models_code UNIQUE (provider_id, model_code)
);

CREATE TABLE gateway_config (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    config_key VARCHAR(191) NOT NULL,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_gateway_config_key UNIQUE (config_key)
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    description TEXT,
    logo_url VARCHAR(1024),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_projects_name UNIQUE (user_id, name)
);

CREATE TABLE codebases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    repo_url VARCHAR(1024),
    architecture_notes TEXT,
    preferred_stack TEXT,
    prerequisites TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    runtime_config TEXT,
    host_key_fingerprint VARCHAR(191),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_codebases_name UNIQUE (project_id, name)
);

CREATE TABLE agents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    job_title VARCHAR(191),
    role TEXT,
    job_tags TEXT NOT NULL,
    soul TEXT,
    codebase_id BIGINT REFERENCES codebases(id) ON DELETE SET NULL,
    avatar_url VARCHAR(1024),
    enabled INTEGER NOT NULL DEFAULT 1,
    max_concurrent_tasks BIGINT NOT NULL DEFAULT 1,
    config TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_agents_name UNIQUE (project_id, name)
);
CREATE INDEX ix_agents_codebase ON agents (codebase_id);

CREATE TABLE agent_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    priority BIGINT NOT NULL,
    CONSTRAINT uq_agent_models_priority UNIQUE (agent_id, priority)
);
CREATE INDEX ix_agent_models_model ON agent_models (model_id);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id VARCHAR(64) NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id BIGINT REFERENCES projects(id) ON DELETE SET NULL,
    agent_id BIGINT REFERENCES agents(id) ON DELETE SET NULL,
    model_id BIGINT REFERENCES models(id) ON DELETE SET NULL,
    task_id BIGINT,
    title VARCHAR(191),
    message_count BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    total_cost_usd DOUBLE NOT NULL DEFAULT 0,
    mcp_config TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_sessions_session_id UNIQUE (session_id)
);
CREATE INDEX ix_sessions_user ON sessions (user_id, updated_at);
CREATE INDEX ix_sessions_expires ON sessions (expires_at);
CREATE INDEX ix_sessions_agent ON sessions (agent_id);
CREATE INDEX ix_sessions_project ON sessions (project_id);
CREATE INDEX ix_sessions_model ON sessions (model_id);

-- Message history of a session in the embedded (no Redis) configuration.
CREATE TABLE session_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id VARCHAR(64) NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_session_messages_seq UNIQUE (session_id, seq)
);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    parent_task_id BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    title VARCHAR(191) NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    kind VARCHAR(16) NOT NULL DEFAULT 'external',
    status VARCHAR(16) NOT NULL DEFAULT 'pending',
    status_reason TEXT,
    schedule TEXT,
    next_run_at BIGINT,
    priority BIGINT NOT NULL DEFAULT 0,
    agent_id BIGINT REFERENCES agents(id) ON DELETE SET NULL,
    session_id VARCHAR(64),
    output TEXT,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL DEFAULT 3,
    limits TEXT,
    tokens_used BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE NOT NULL DEFAULT 0,
    lease_owner VARCHAR(64),
    lease_expires_at BIGINT,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    started_at BIGINT,
    finished_at BIGINT,
    deleted_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_tasks_project_status ON tasks (project_id, status, created_at);
CREATE INDEX ix_tasks_due ON tasks (status, next_run_at);
CREATE INDEX ix_tasks_lease ON tasks (status, lease_expires_at);
CREATE INDEX ix_tasks_parent ON tasks (parent_task_id);
CREATE INDEX ix_tasks_agent ON tasks (agent_id, status);
CREATE INDEX ix_tasks_created_by ON tasks (created_by);

CREATE TABLE task_attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    filename VARCHAR(255) NOT NULL,
    content_type VARCHAR(191) NOT NULL,
    size_bytes BIGINT NOT NULL,
    storage_path VARCHAR(1024) NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_task_attachments_task ON task_attachments (task_id);

CREATE TABLE triggers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    description TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    condition_spec TEXT,
    schedule TEXT,
    task_template TEXT NOT NULL,
    cooldown_seconds BIGINT NOT NULL DEFAULT 0,
    next_run_at BIGINT,
    last_fired_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_triggers_name UNIQUE (project_id, name)
);
CREATE INDEX ix_triggers_due ON triggers (enabled, next_run_at);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES agents(id) ON DELETE SET NULL,
    title VARCHAR(191) NOT NULL,
    period VARCHAR(16) NOT NULL,
    period_start VARCHAR(10) NOT NULL,
    content TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_reports_period UNIQUE (project_id, period, period_start)
);
CREATE INDEX ix_reports_agent ON reports (agent_id);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES agents(id) ON DELETE SET NULL,
    title VARCHAR(191) NOT NULL,
    description TEXT,
    extended_description TEXT,
    content TEXT,
    revision BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_documents_title UNIQUE (project_id, title)
);
CREATE INDEX ix_documents_agent ON documents (agent_id);

CREATE TABLE document_revisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id BIGINT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    title VARCHAR(191) NOT NULL,
    description TEXT,
    extended_description TEXT,
    content TEXT,
    author_user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    author_agent_id BIGINT REFERENCES agents(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_document_revisions UNIQUE (document_id, revision)
);
CREATE INDEX ix_document_revisions_user ON document_revisions (author_user_id);
CREATE INDEX ix_document_revisions_agent ON document_revisions (author_agent_id);

CREATE TABLE codebase_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    codebase_id BIGINT NOT NULL REFERENCES codebases(id) ON DELETE CASCADE,
    kind VARCHAR(16) NOT NULL,
    command TEXT,
    assigned_tags TEXT NOT NULL,
    status VARCHAR(16) NOT NULL DEFAULT 'queued',
    exit_code BIGINT,
    error TEXT,
    runner_id VARCHAR(191),
    lease_expires_at BIGINT,
    log_bytes BIGINT NOT NULL DEFAULT 0,
    requested_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    started_at BIGINT,
    finished_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_codebase_runs_codebase ON codebase_runs (codebase_id, created_at);
CREATE INDEX ix_codebase_runs_queue ON codebase_runs (status, created_at);
CREATE INDEX ix_codebase_runs_user ON codebase_runs (requested_by);

CREATE TABLE codebase_run_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL REFERENCES codebase_runs(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    chunk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT uq_codebase_run_logs_seq UNIQUE (run_id, seq)
);

CREATE TABLE resources (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES agents(id) ON DELETE CASCADE,
    resource_type VARCHAR(32) NOT NULL,
    name VARCHAR(191) NOT NULL,
    description TEXT,
    config TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_resources_project ON resources (project_id, resource_type);
CREATE INDEX ix_resources_agent ON resources (agent_id, resource_type);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES agents(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    asset_type VARCHAR(64) NOT NULL,
    uri VARCHAR(1024),
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_assets_project ON assets (project_id, asset_type);
CREATE INDEX ix_assets_agent ON assets (agent_id);

CREATE TABLE credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    agent_id BIGINT REFERENCES agents(id) ON DELETE CASCADE,
    asset_id BIGINT REFERENCES assets(id) ON DELETE SET NULL,
    name VARCHAR(191) NOT NULL,
    credential_type VARCHAR(64) NOT NULL,
    secret_enc TEXT NOT NULL,
    secret_hint VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_credentials_name UNIQUE (project_id, name)
);
CREATE INDEX ix_credentials_agent ON credentials (agent_id);
CREATE INDEX ix_credentials_asset ON credentials (asset_id);

CREATE TABLE mcp_tools (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
    name VARCHAR(191) NOT NULL,
    transport VARCHAR(16) NOT NULL,
    command VARCHAR(1024),
    args TEXT,
    env_enc TEXT,
    url VARCHAR(1024),
    headers_enc TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    status VARCHAR(16) NOT NULL DEFAULT 'unknown',
    tools_cache TEXT,
    refreshed_at BIGINT,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT uq_mcp_tools_name UNIQUE (project_id, name)
);
CREATE INDEX ix_mcp_tools_user ON mcp_tools (created_by);

-- One row per upstream call (chat, embeddings, media). No foreign keys: the log
-- outlives the rows it mentions.
CREATE TABLE request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
    stream INTEGER NOT NULL DEFAULT 0,
    status_code BIGINT NOT NULL,
    error_code VARCHAR(64),
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE NOT NULL DEFAULT 0,
    latency_ms BIGINT NOT NULL DEFAULT 0,
    ttft_ms BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_request_log_created ON request_log (created_at);
CREATE INDEX ix_request_log_user ON request_log (user_id, created_at);
CREATE INDEX ix_request_log_key ON request_log (api_key_id, created_at);
CREATE INDEX ix_request_log_project ON request_log (project_id, created_at);
CREATE INDEX ix_request_log_model ON request_log (provider, model, created_at);
