-- Members an organization's administrators deactivated: the membership
-- stays (listed, its role kept) but acts as none — no permission there, no
-- session in that organization. It is the organization's decision alone:
-- the account's own status (`users.status`) and the user's other
-- memberships are untouched. The default organization's members are the
-- platform's users, deactivated through their account instead.
ALTER TABLE memberships ADD COLUMN deactivated_at timestamptz;
ALTER TABLE memberships ADD CONSTRAINT memberships_default_org_active
    CHECK (deactivated_at IS NULL OR org_id <> '00000000-0000-7000-8000-000000000001');
