-- Every account has one managing organization, which owns it (profile,
-- status, password reset, deletion): the organization whose administrators
-- or API keys created it, or into which its new address was invited and
-- accepted; the platform itself (the default organization) for everyone
-- else. Other organizations the user belongs to manage only the membership.
-- Deleting an organization hands the accounts it managed back to the
-- platform (the adapter makes them members of the default organization in
-- the same transaction, so they can still sign in).
ALTER TABLE users ADD COLUMN managed_by uuid NOT NULL
    DEFAULT '00000000-0000-7000-8000-000000000001'
    REFERENCES organizations (id) ON DELETE SET DEFAULT;
-- Serves `managed eq true` in organization X (`users.managed_by = X`)
-- joined with X's memberships, and "the accounts X manages" when X is
-- deleted: the ids come from the index alone (an index on managed_by alone
-- made a count of a 1M-member organization's 600,000 managed accounts read
-- every row: 1.3 s, against 0.4 s; docs/PERFORMANCE.md). The platform's own
-- accounts are left out.
CREATE INDEX users_managed_by_id_idx ON users (managed_by, id)
    WHERE managed_by <> '00000000-0000-7000-8000-000000000001';

-- The password policy an organization sets for the accounts it manages, at
-- least as strict as the platform's (checked when it is set); null: the
-- platform's.
ALTER TABLE organizations ADD COLUMN password_policy jsonb;

-- A role's display name (`role_name` in user answers), e.g. "Front Desk"
-- for `front-desk`; null: the name itself.
ALTER TABLE roles ADD COLUMN title text;
UPDATE roles SET title = initcap(name) WHERE builtin;
