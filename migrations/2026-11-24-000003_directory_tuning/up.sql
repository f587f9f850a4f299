-- Indexes chosen from EXPLAIN (ANALYZE, BUFFERS) of the bench-directory query
-- mix on 1M users (docs/PERFORMANCE.md).

-- `attributes.<key> eq|ne <value>` compiles to `attributes @> {key: value}`,
-- which this index answers instead of a scan of every row's JSON.
CREATE INDEX users_attributes_path_idx ON users USING gin (attributes jsonb_path_ops);

-- `sort=family_name,given_name` (the usual "by last name" listing), offset and
-- keyset pages: without it every family-name group is sorted by given name.
CREATE INDEX users_family_given_idx ON users (family_name, given_name, id);
