-- The canonical form of an address or range can be as short as `::/0`
-- (4 characters) or `::1/128` (7): the check written with the table
-- (9 to 43) refused IPv6 loopback and other short IPv6 forms. The longest
-- stays `ffff:…:ffff/128` (43).
ALTER TABLE user_allowed_ips DROP CONSTRAINT user_allowed_ips_cidr_check;
ALTER TABLE user_allowed_ips ADD CONSTRAINT user_allowed_ips_cidr_check CHECK (length(cidr) BETWEEN 4 AND 43);
