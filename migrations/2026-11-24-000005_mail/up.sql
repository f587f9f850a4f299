-- Mail-bearing flows: invitations, one-time tokens (email verification,
-- change of address, password reset, invitation), the transactional outbox
-- that delivers their letters, and fixed-window rate-limit counters.

-- An invitation outlives its user: revoking it removes the invited user while
-- still pending, and the invitation stays listed as revoked (and revoking it
-- again is a no-op). So `user_id` is a plain reference, not a foreign key;
-- deleting a user through the directory deletes their invitations too.
CREATE TABLE invitations (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL,
    email          text NOT NULL,
    -- The role in the default organization the user gets (and has while pending).
    role_id        uuid NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    invited_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    -- At most one of these three is set: an invitation is closed once.
    accepted_at    timestamptz,
    revoked_at     timestamptz,
    superseded_at  timestamptz,
    CHECK (num_nonnulls(accepted_at, revoked_at, superseded_at) <= 1)
);
-- Listing, newest first.
CREATE INDEX invitations_created_idx ON invitations (created_at DESC, id DESC);
-- The invitations of a user: the open ones are superseded by a new
-- invitation and looked for when revoking; all go when the user is deleted
-- (by the adapter, in place of a cascade).
CREATE INDEX invitations_user_idx ON invitations (user_id);
-- For ON DELETE SET NULL when an inviter is deleted.
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);

-- Mailed one-time tokens, stored as SHA-256 digests only. Issuing a token
-- supersedes the user's live tokens of the same purpose; redeeming one marks
-- it used, under a row lock.
CREATE TABLE one_time_tokens (
    token_hash     bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    purpose        text NOT NULL
                   CHECK (purpose IN ('verify_email', 'change_email', 'reset_password', 'invitation')),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the token was mailed to (the new one for change_email).
    email          text NOT NULL,
    -- Exactly the invitation tokens accept an invitation.
    invitation_id  uuid REFERENCES invitations (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    superseded_at  timestamptz,
    CHECK ((purpose = 'invitation') = (invitation_id IS NOT NULL))
);
-- The live tokens of a user and purpose, superseded by each new one.
CREATE INDEX one_time_tokens_live_idx ON one_time_tokens (user_id, purpose)
    WHERE used_at IS NULL AND superseded_at IS NULL;
CREATE INDEX one_time_tokens_invitation_idx ON one_time_tokens (invitation_id)
    WHERE invitation_id IS NOT NULL;

-- The transactional outbox: letters are queued in the transaction of the
-- change that causes them, and delivered by workers that claim due rows
-- with FOR UPDATE SKIP LOCKED. The content is sealed (encrypted) because it
-- carries live tokens, and erased once sent; the recipient stays in the
-- clear for the administrators' listing.
CREATE TABLE outbox (
    id               uuid PRIMARY KEY,
    template         text NOT NULL,
    recipient        text NOT NULL,
    payload          bytea,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    -- Attempts so far; a claim counts one.
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error       text,
    created_at       timestamptz NOT NULL,
    -- When a pending message is due: its first attempt, its retry, or the
    -- end of the lease of the worker that claimed it.
    next_attempt_at  timestamptz NOT NULL,
    sent_at          timestamptz,
    CHECK ((status = 'sent') = (payload IS NULL))
);
-- Claiming due messages, and the pending/due figures of the metrics.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_dead_idx ON outbox (created_at) WHERE status = 'dead';
-- Listing, newest first.
CREATE INDEX outbox_created_idx ON outbox (created_at DESC, id DESC);
-- Pruning sent messages.
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE status = 'sent';

-- Fixed-window counters shared by every process: one row per key and window,
-- incremented with an upsert. Old windows are pruned.
CREATE TABLE rate_limit_hits (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
