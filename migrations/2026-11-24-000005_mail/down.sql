DROP TABLE IF EXISTS rate_limit_hits;
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS one_time_tokens;
DROP TABLE IF EXISTS invitations;
