-- Indexes for the user directory (GET /users, GET /users/count): substring
-- search, sorting and keyset paging. Kept to the common cases; tune against
-- production-sized data with EXPLAIN before adding more.

-- Trigram indexes make `ILIKE '%…%'` (and sw/ew patterns) indexable.
-- pg_trgm is a trusted extension (PostgreSQL 13+), so a database owner can create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Serves `q` (substring over email and the names), `filter=email co|sw|ew "…"`.
-- The adapter writes `email ILIKE $pattern` on the raw column, which a
-- gin_trgm_ops index on the raw column answers case-insensitively.
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
-- Serve `q` and `name=` (substring over the three names; a BitmapOr of the
-- four indexes answers the OR of ILIKEs) and `filter=name|given_name|family_name co|sw|ew`.
CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_given_name_trgm_idx ON users USING gin (given_name gin_trgm_ops);
CREATE INDEX users_family_name_trgm_idx ON users USING gin (family_name gin_trgm_ops);

-- Serves `sort=email` / `sort=-email` with offset or keyset paging (`email`
-- is NOT NULL, so `(email, id) > ($1, $2)` is a single range). Equality on
-- email uses the existing unique index on lower(email).
CREATE INDEX users_email_sort_idx ON users (email, id);
-- Serves `sort=name|family_name` (NULLS LAST ascending matches the index
-- order; descending scans it backwards) and their keyset conditions.
CREATE INDEX users_name_sort_idx ON users (name, id);
CREATE INDEX users_family_name_sort_idx ON users (family_name, id);
-- Serves `sort=updated_at` and `sort=last_login_at` ("recently active" lists).
CREATE INDEX users_updated_at_idx ON users (updated_at, id);
CREATE INDEX users_last_login_at_idx ON users (last_login_at, id);
-- Serves `status=…` combined with the default `sort=created_at`, e.g. the
-- newest pending users; replaces the plain index on status, which it covers.
CREATE INDEX users_status_created_at_idx ON users (status, created_at, id);
DROP INDEX users_status_idx;
