-- Users' pictures. Each image is immutable: its four renditions live in the
-- object store under `images/{id}/{size}`, written before this row; the row
-- keeps, per size in the order thumbnail, low, mid, high, the content type,
-- dimensions, byte count and content hash (the ETag), so serving a
-- rendition, or answering 304, needs no read of the store's metadata.
CREATE TABLE images (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    renditions jsonb NOT NULL CHECK (jsonb_typeof(renditions) = 'array' AND jsonb_array_length(renditions) = 4),
    created_at timestamptz NOT NULL
);
CREATE INDEX images_user_id_idx ON images (user_id);

-- The user's current picture. Deleting its image row (replaced, removed,
-- or the user deleted) clears it.
ALTER TABLE users ADD COLUMN avatar_image_id uuid REFERENCES images (id) ON DELETE SET NULL;

-- Objects to delete from the store, after the transaction that dropped
-- their image's row commits (the outbox pattern): filled by the trigger
-- below whatever deleted the row (a replaced or removed picture, a deleted
-- user through the cascade), and by an upload whose row was never written.
-- A worker claims rows with FOR UPDATE SKIP LOCKED, pushing `due_at` one
-- lease ahead: a deletion it does not finish is tried again then.
CREATE TABLE image_deletions (
    image_id uuid PRIMARY KEY,
    due_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX image_deletions_due_idx ON image_deletions (due_at);

CREATE FUNCTION queue_image_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO image_deletions (image_id) VALUES (OLD.id) ON CONFLICT (image_id) DO NOTHING;
    RETURN OLD;
END
$$;

CREATE TRIGGER images_queue_deletion AFTER DELETE ON images
    FOR EACH ROW EXECUTE FUNCTION queue_image_deletion();
