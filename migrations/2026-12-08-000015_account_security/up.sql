-- Account security: TOTP with recovery codes, the MFA step of login,
-- lockout counters shared by every process, per-user IP allowlists, and the
-- authentication methods of each session.

-- One authenticator per user. `secret` is sealed (AES-256-GCM under a key
-- derived from the key-encryption secret, bound to the user id); it is never
-- stored or logged in the clear. `enabled_at` is NULL while an enrolment
-- waits for its first code. `last_step` is the highest 30-second step spent
-- by a login or a confirmation: a code of that step or an earlier one is
-- refused, in every process (RFC 6238 §5.2, ASVS V2.8.4).
CREATE TABLE mfa_totp (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret      bytea NOT NULL,
    enabled_at  timestamptz,
    last_step   bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL
);

-- `users.mfa_enabled` mirrors `mfa_totp.enabled_at IS NOT NULL`, written in
-- the same transaction, so reading a user (and `GET /me`) takes no join.
ALTER TABLE users ADD COLUMN mfa_enabled boolean NOT NULL DEFAULT false;

-- Recovery codes: keyed hashes only (HMAC-SHA-256 under a derived key).
CREATE TABLE mfa_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- The second step of a login with MFA on: the challenge handed out by
-- `POST /auth/login` (its keyed hash), single use, short-lived, with a cap
-- on attempts, remembering what the session will be opened with.
CREATE TABLE mfa_challenges (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id      uuid,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    user_agent  text,
    ip          text
);
CREATE INDEX mfa_challenges_expiry_idx ON mfa_challenges (expires_at);
CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id);

-- Failed sign-ins per account, keyed by a hash of the address signed in
-- with (known or not, so a lock says nothing about which addresses exist).
-- Every attempt takes a slot before the password is checked; a success
-- deletes the row.
CREATE TABLE login_failures (
    key_hash         bytea PRIMARY KEY CHECK (length(key_hash) = 32),
    failures         integer NOT NULL DEFAULT 0,
    window_start     timestamptz NOT NULL,
    locked_until     timestamptz,
    locks            integer NOT NULL DEFAULT 0,
    last_failure_at  timestamptz
);

-- Where the last sign-in came from (`GET /me/security`), beside
-- `last_login_at`.
ALTER TABLE users ADD COLUMN last_login_ip text;

-- Seed 000's "block anonymous IP addresses": with it on, a correct login
-- from an address outside the user's list is refused.
ALTER TABLE users ADD COLUMN block_unknown_ips boolean NOT NULL DEFAULT false;

-- Addresses and ranges a user may sign in from, in canonical CIDR form
-- (`192.0.2.7/32`, `2001:db8::/48`), written by the domain.
CREATE TABLE user_allowed_ips (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cidr        text NOT NULL CHECK (length(cidr) BETWEEN 9 AND 43),
    created_at  timestamptz NOT NULL,
    UNIQUE (user_id, cidr)
);

-- How each session was authenticated (RFC 8176 values), carried into every
-- access token it issues, refreshes included.
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}';
