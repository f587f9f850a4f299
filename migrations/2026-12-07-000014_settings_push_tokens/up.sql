-- Users' settings (one JSON document of the keys that were set; the domain
-- checks and merges it, and writes it back by compare-and-set on the old
-- value) and their devices' push tokens.
ALTER TABLE users ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
ALTER TABLE users ADD CONSTRAINT users_settings_object CHECK (jsonb_typeof(settings) = 'object');

CREATE TABLE push_tokens (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- expo, fcm, apns or webpush; the token's format is checked by the domain.
    provider      text NOT NULL CHECK (provider IN ('expo', 'fcm', 'apns', 'webpush')),
    token         text NOT NULL,
    device_name   text,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);
-- One holder per token: registering it again moves it (the device changed hands).
CREATE UNIQUE INDEX push_tokens_provider_token_key ON push_tokens (provider, token);
-- A user's tokens, most recently seen first (the list, and the cap of 20).
CREATE INDEX push_tokens_user_seen_idx ON push_tokens (user_id, last_seen_at DESC);

-- The new built-in permission `push_tokens:read`: owners hold the whole
-- catalogue (the same list is in `roster-postgres`, `orgs.rs`).
UPDATE roles SET permissions = array_append(permissions, 'push_tokens:read')
WHERE builtin AND name = 'owner' AND NOT ('push_tokens:read' = ANY (permissions));
