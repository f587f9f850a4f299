DROP INDEX IF EXISTS sessions_org_idx;
ALTER TABLE sessions DROP COLUMN IF EXISTS org_id;
