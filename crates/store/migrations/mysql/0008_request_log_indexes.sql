-- The request log grows to millions of rows and is listed newest first
-- (`created_at`, see spgw_store::repo::table::Listing::Log): every filter the
-- web UI offers leads an index that ends with `created_at`, so a filtered page
-- is read in order and the read stops after one page.
CREATE INDEX ix_request_log_status ON request_log (status_code, created_at);
CREATE INDEX ix_request_log_error ON request_log (error_code, created_at);
CREATE INDEX ix_request_log_session ON request_log (session_id, created_at);
CREATE INDEX ix_request_log_request ON request_log (request_id);
