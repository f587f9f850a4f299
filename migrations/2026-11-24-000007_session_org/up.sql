-- The organization a session acts in: its access tokens carry the role and
-- permissions of the user there. Existing sessions act in the default
-- organization; a session ends with its organization.
ALTER TABLE sessions
    ADD COLUMN org_id uuid NOT NULL DEFAULT '00000000-0000-7000-8000-000000000001'
        REFERENCES organizations (id) ON DELETE CASCADE;
-- For the cascade when an organization is deleted.
CREATE INDEX sessions_org_idx ON sessions (org_id) WHERE org_id <> '00000000-0000-7000-8000-000000000001';
