-- External MCP servers (crates/mcp): per-server limits that override the `mcp.*`
-- runtime settings, and the outcome of the last health check.
ALTER TABLE mcp_tools ADD COLUMN call_timeout_seconds BIGINT;
ALTER TABLE mcp_tools ADD COLUMN max_output_bytes BIGINT;
ALTER TABLE mcp_tools ADD COLUMN checked_at BIGINT;
ALTER TABLE mcp_tools ADD COLUMN last_error TEXT;
