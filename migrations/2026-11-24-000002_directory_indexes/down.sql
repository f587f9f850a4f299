-- Undoes 2026-11-24-000002_directory_indexes.
CREATE INDEX users_status_idx ON users (status);
DROP INDEX users_status_created_at_idx;
DROP INDEX users_last_login_at_idx;
DROP INDEX users_updated_at_idx;
DROP INDEX users_family_name_sort_idx;
DROP INDEX users_name_sort_idx;
DROP INDEX users_email_sort_idx;
DROP INDEX users_family_name_trgm_idx;
DROP INDEX users_given_name_trgm_idx;
DROP INDEX users_name_trgm_idx;
DROP INDEX users_email_trgm_idx;
DROP EXTENSION IF EXISTS pg_trgm;
