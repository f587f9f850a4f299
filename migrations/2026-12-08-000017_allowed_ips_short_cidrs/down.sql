DELETE FROM user_allowed_ips WHERE length(cidr) < 9;
ALTER TABLE user_allowed_ips DROP CONSTRAINT user_allowed_ips_cidr_check;
ALTER TABLE user_allowed_ips ADD CONSTRAINT user_allowed_ips_cidr_check CHECK (length(cidr) BETWEEN 9 AND 43);
