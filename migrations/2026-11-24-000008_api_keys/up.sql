-- API keys: how a host service acts in one organization without a user.
-- Only a key's SHA-256 is stored, with its first characters to tell keys
-- apart in listings. Revoked keys are kept (their prefix stays taken) but
-- never listed or accepted again.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name          text NOT NULL,
    -- `rsk_` and the next 8 characters of the key.
    prefix        text NOT NULL UNIQUE,
    -- SHA-256 of the whole key; a key is looked up by it.
    secret_hash   bytea NOT NULL UNIQUE,
    -- Built-in or registered permissions; the adapter refuses to delete a
    -- registered one a live key still names.
    permissions   text[] NOT NULL DEFAULT '{}',
    -- Kept when the user who created the key is deleted.
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL,
    -- Written at most once a minute.
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
-- Listing an organization's keys, newest first; also serves the cascade when
-- an organization is deleted (hence not partial on live keys).
CREATE INDEX api_keys_org_idx ON api_keys (org_id, created_at DESC, id DESC);
-- For the SET NULL when a user is deleted.
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by) WHERE created_by IS NOT NULL;
