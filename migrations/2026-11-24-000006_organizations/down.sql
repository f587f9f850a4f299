DROP TABLE IF EXISTS org_permissions;

DROP INDEX IF EXISTS memberships_location_idx;
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_location_fkey;
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_role_fkey;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_id_fkey
    FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE RESTRICT;
ALTER TABLE memberships DROP COLUMN IF EXISTS location_id;

DROP TABLE IF EXISTS locations;

-- The built-in roles' permissions as the foundation migration set them.
UPDATE roles SET permissions = ARRAY[
    'users:read', 'users:write', 'users:delete', 'users:manage_status', 'sessions:revoke', 'org:manage', 'roles:manage']
WHERE builtin AND name = 'owner';
UPDATE roles SET permissions = ARRAY[
    'users:read', 'users:write', 'users:delete', 'users:manage_status', 'sessions:revoke']
WHERE builtin AND name = 'admin';

ALTER TABLE roles DROP CONSTRAINT IF EXISTS roles_org_id_id_key;
ALTER TABLE roles DROP COLUMN IF EXISTS requires_location;
