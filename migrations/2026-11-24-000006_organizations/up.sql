-- Organizations as tenants: roles that may require a location, the
-- locations of an organization, the permissions a host application
-- registers per organization, and memberships that can only ever name a role
-- and a location of their own organization.

-- Members with such a role must have a location (checked by the domain).
ALTER TABLE roles ADD COLUMN requires_location boolean NOT NULL DEFAULT false;
-- The target of the composite foreign key from memberships: a member's role
-- belongs to the member's organization.
ALTER TABLE roles ADD CONSTRAINT roles_org_id_id_key UNIQUE (org_id, id);

-- The built-in roles get the new catalogue: owner every built-in
-- permission, admin the user and member management, member none. (The same
-- lists are in `roster-postgres`, `orgs.rs`, for organizations created later.)
UPDATE roles SET permissions = ARRAY[
    'users:read', 'users:write', 'users:delete', 'users:manage_status', 'sessions:revoke',
    'members:manage', 'roles:manage', 'locations:manage', 'api_keys:manage', 'org:manage']
WHERE builtin AND name = 'owner';
UPDATE roles SET permissions = ARRAY[
    'users:read', 'users:write', 'users:delete', 'users:manage_status', 'sessions:revoke',
    'members:manage', 'locations:manage']
WHERE builtin AND name = 'admin';

CREATE TABLE locations (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL,
    -- IANA time zone, validated by the domain.
    timezone    text NOT NULL,
    -- Searched with the name by `?q=`.
    keywords    text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- The target of the composite foreign key from memberships.
    CONSTRAINT locations_org_id_id_key UNIQUE (org_id, id)
);
-- Listing an organization's locations by name.
CREATE INDEX locations_org_name_idx ON locations (org_id, lower(name), id);

-- A member's location, if any, is one of their organization's; a location
-- (and a role) cannot be deleted while members have it. With MATCH SIMPLE a
-- NULL location passes.
ALTER TABLE memberships ADD COLUMN location_id uuid;
ALTER TABLE memberships DROP CONSTRAINT memberships_role_id_fkey;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_fkey
    FOREIGN KEY (org_id, role_id) REFERENCES roles (org_id, id) ON DELETE RESTRICT;
ALTER TABLE memberships ADD CONSTRAINT memberships_location_fkey
    FOREIGN KEY (org_id, location_id) REFERENCES locations (org_id, id) ON DELETE RESTRICT;
-- For the foreign key check when a location is deleted.
CREATE INDEX memberships_location_idx ON memberships (location_id) WHERE location_id IS NOT NULL;

-- Permissions of the host application, registered per organization (the
-- built-in catalogue is not stored). Roles and memberships name them in their
-- `permissions` arrays; the adapter refuses to delete one still named.
CREATE TABLE org_permissions (
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         text NOT NULL
                 CHECK (length(name) <= 64 AND name ~ '^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$'),
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);
