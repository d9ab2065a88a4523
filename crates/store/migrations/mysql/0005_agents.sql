-- Why a living document changed: every revision records its reason beside its author (user or agent).
ALTER TABLE document_revisions ADD COLUMN reason TEXT NULL;
