ALTER TABLE roles DROP COLUMN IF EXISTS title;
ALTER TABLE organizations DROP COLUMN IF EXISTS password_policy;
DROP INDEX IF EXISTS users_managed_by_id_idx;
ALTER TABLE users DROP COLUMN IF EXISTS managed_by;
