-- An index for an organization's directory (`GET /users`, `/users/count` in
-- organization X: every query there carries `EXISTS (memberships of X)`),
-- chosen from the plans of bench-directory's organization-scoped mix at 10M
-- users, one organization of 1M members (docs/PERFORMANCE.md).

-- Serves `location_id=L` and `filter=location_id eq "L"` in X (`EXISTS
-- (SELECT 1 FROM memberships fm WHERE fm.user_id = users.id AND fm.org_id = X
-- AND fm.location_id = ANY(L))`): the members at L are one index-only range.
-- With the index on location_id alone, a plan planned for any organization
-- (a cached statement's generic plan) ANDed it with a bitmap of all of X's
-- memberships — 1M entries, 110 ms for a 2,400-member location; now 20 ms.
-- It also serves the (org_id, location_id) foreign key check when a location
-- is deleted, so it replaces memberships_location_idx, which it covers.
CREATE INDEX memberships_location_org_idx ON memberships (location_id, org_id, user_id)
    WHERE location_id IS NOT NULL;
DROP INDEX memberships_location_idx;
