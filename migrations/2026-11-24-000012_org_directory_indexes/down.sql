CREATE INDEX IF NOT EXISTS memberships_location_idx ON memberships (location_id) WHERE location_id IS NOT NULL;
DROP INDEX IF EXISTS memberships_location_org_idx;
