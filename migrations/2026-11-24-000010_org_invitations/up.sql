-- Invitations into an organization, by email. Unlike the platform's
-- `invitations` they create no pending user: whether the address has an
-- account is settled when the invitation is accepted (the account joins,
-- or one is created and joins). The link's token is stored here as its
-- SHA-256, not in `one_time_tokens`, which needs a user.
CREATE TABLE org_invitations (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- As normalized by the domain; compared with lower().
    email          text NOT NULL,
    -- The role and location the invitee gets. An invitation to a deleted
    -- role or location is void: it goes with them, so deleting a role or a
    -- location only open invitations name succeeds.
    role_id        uuid NOT NULL,
    location_id    uuid,
    -- Kept when the inviter is deleted; NULL also for an API key.
    invited_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    -- SHA-256 of the mailed token; an invitation is accepted by it.
    token_hash     bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    -- At most one of these three is set: an invitation is closed once.
    accepted_at    timestamptz,
    revoked_at     timestamptz,
    superseded_at  timestamptz,
    CHECK (num_nonnulls(accepted_at, revoked_at, superseded_at) <= 1),
    -- The role and the location are the organization's own. With MATCH
    -- SIMPLE a NULL location passes.
    CONSTRAINT org_invitations_role_fkey
        FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE CASCADE,
    CONSTRAINT org_invitations_location_fkey
        FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id) ON DELETE CASCADE
);
-- Listing an organization's invitations, newest first; also serves the
-- cascades from the organization, its roles and its locations.
CREATE INDEX org_invitations_org_idx ON org_invitations (org_id, created_at DESC, id DESC);
-- At most one open invitation per address and organization. An expired
-- one is still open here: a new invitation supersedes it.
CREATE UNIQUE INDEX org_invitations_open_key ON org_invitations (org_id, lower(email))
    WHERE accepted_at IS NULL AND revoked_at IS NULL AND superseded_at IS NULL;
-- For the SET NULL when an inviter is deleted.
CREATE INDEX org_invitations_invited_by_idx ON org_invitations (invited_by) WHERE invited_by IS NOT NULL;
