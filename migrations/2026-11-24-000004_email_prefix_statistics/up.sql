-- `filter=email sw "…"` compiles to `lower(email) LIKE 'prefix%'`, a range of
-- users_email_lower_key. With the default statistics the planner guessed
-- 1,000 of 10M rows for a prefix matching 46,000, read them all and sorted
-- them (180 ms); with a finer histogram it estimates 40,000 and walks the
-- sort order's index instead (1.4 ms). See docs/PERFORMANCE.md.
ALTER INDEX users_email_lower_key ALTER COLUMN 1 SET STATISTICS 1000;
