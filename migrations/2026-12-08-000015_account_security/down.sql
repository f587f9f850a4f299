ALTER TABLE sessions DROP COLUMN amr;
DROP TABLE user_allowed_ips;
ALTER TABLE users DROP COLUMN block_unknown_ips;
ALTER TABLE users DROP COLUMN last_login_ip;
DROP TABLE login_failures;
DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
ALTER TABLE users DROP COLUMN mfa_enabled;
DROP TABLE mfa_totp;
