-- The request log takes a row per upstream call, and on the embedded backend its
-- inserts run on the gateway's own CPU: each index is a B-tree insert per row.
-- Columns that are NULL on most rows (a compatible call has no project, agent,
-- session or error) are indexed only where set: a filter `col = ?` implies
-- `col IS NOT NULL`, so SQLite still reads these indexes for it, and rows without
-- the value cost nothing. (MySQL has no partial indexes; its inserts run in the
-- database server's process, so 0009 does nothing there.)
DROP INDEX ix_request_log_project;
CREATE INDEX ix_request_log_project ON request_log (project_id, created_at) WHERE project_id IS NOT NULL;
DROP INDEX ix_request_log_agent;
CREATE INDEX ix_request_log_agent ON request_log (agent_id, created_at) WHERE agent_id IS NOT NULL;
DROP INDEX ix_request_log_session;
CREATE INDEX ix_request_log_session ON request_log (session_id, created_at) WHERE session_id IS NOT NULL;
DROP INDEX ix_request_log_error;
CREATE INDEX ix_request_log_error ON request_log (error_code, created_at) WHERE error_code IS NOT NULL;
