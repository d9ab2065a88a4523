-- Per-user rate limits and budgets (`{"rpm","tpm","usd_per_day","usd_per_month","cache","cache_ttl_seconds"}`),
-- beside the per-key ones in gateway_api_keys.limits.
ALTER TABLE users ADD COLUMN limits TEXT;
