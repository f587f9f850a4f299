ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_default_org_active;
ALTER TABLE memberships DROP COLUMN IF EXISTS deactivated_at;
