-- SQLite only (partial indexes on the request log's mostly-NULL columns, see the
-- SQLite migration of the same number). MySQL has no partial indexes and runs its
-- inserts in its own process; nothing changes here.
DO 0;
