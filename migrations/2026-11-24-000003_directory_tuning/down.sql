DROP INDEX IF EXISTS users_family_given_idx;
DROP INDEX IF EXISTS users_attributes_path_idx;
