DROP TRIGGER images_queue_deletion ON images;
DROP FUNCTION queue_image_deletion();
DROP TABLE image_deletions;
ALTER TABLE users DROP COLUMN avatar_image_id;
DROP TABLE images;
