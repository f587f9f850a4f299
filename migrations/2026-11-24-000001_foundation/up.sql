-- Foundation schema: users, password credentials, organizations with roles and
-- memberships, sessions with hashed refresh tokens, and signing keys.

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_verified  boolean NOT NULL DEFAULT false,
    name            text,
    given_name      text,
    family_name     text,
    phone           text,
    locale          text,
    timezone        text,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('pending', 'active', 'inactive', 'banned')),
    birthdate       date,
    gender          text,
    pronouns        text,
    employee_id     text,
    position        text,
    department      text,
    attributes      jsonb NOT NULL DEFAULT '{}'::jsonb
                    CHECK (jsonb_typeof(attributes) = 'object'),
    is_superadmin   boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);

-- Email is unique case-insensitively; the database decides, not a check-then-insert.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_created_at_idx ON users (created_at, id);
CREATE INDEX users_status_idx ON users (status);

CREATE TABLE password_credentials (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL,
    is_default  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- At most one default organization.
CREATE UNIQUE INDEX organizations_one_default ON organizations (is_default) WHERE is_default;

CREATE TABLE roles (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    description  text,
    permissions  text[] NOT NULL DEFAULT '{}',
    builtin      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);

CREATE TABLE memberships (
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id      uuid NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    permissions  text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);
CREATE INDEX memberships_role_idx ON memberships (role_id);

CREATE TABLE sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text,
    user_agent      text,
    ip              text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored as SHA-256 digests only. Each rotation marks the
-- presented token used and inserts its successor in the same transaction.
CREATE TABLE refresh_tokens (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id   uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    successor_hash bytea
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Token signing keys; the private half is encrypted (AES-256-GCM) with the
-- key-encryption secret from configuration, never stored in the clear.
CREATE TABLE signing_keys (
    kid                   text PRIMARY KEY,
    algorithm             text NOT NULL CHECK (algorithm IN ('EdDSA')),
    public_key            bytea NOT NULL,
    private_key_sealed    bytea NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    retired_at            timestamptz
);

-- The default organization and its built-in roles, with fixed ids so every
-- deployment (and every process) agrees on them.
INSERT INTO organizations (id, slug, name, is_default)
VALUES ('00000000-0000-7000-8000-000000000001', 'default', 'Default', true);

INSERT INTO roles (id, org_id, name, description, permissions, builtin) VALUES
  ('00000000-0000-7000-8000-000000000011', '00000000-0000-7000-8000-000000000001',
   'owner', 'Full control of the organization',
   ARRAY['users:read', 'users:write', 'users:delete', 'users:manage_status', 'sessions:revoke', 'org:manage', 'roles:manage'], true),
  ('00000000-0000-7000-8000-000000000012', '00000000-0000-7000-8000-000000000001',
   'admin', 'Manages the users of the organization',
   ARRAY['users:read', 'users:write', 'users:delete', 'users:manage_status', 'sessions:revoke'], true),
  ('00000000-0000-7000-8000-000000000013', '00000000-0000-7000-8000-000000000001',
   'member', 'Reads and edits only itself',
   ARRAY[]::text[], true);
