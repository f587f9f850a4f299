-- `push_tokens:read` no longer exists: nobody holds it.
UPDATE roles SET permissions = array_remove(permissions, 'push_tokens:read');
UPDATE memberships SET permissions = array_remove(permissions, 'push_tokens:read');
UPDATE api_keys SET permissions = array_remove(permissions, 'push_tokens:read');
DROP TABLE push_tokens;
ALTER TABLE users DROP CONSTRAINT users_settings_object;
ALTER TABLE users DROP COLUMN settings;
