-- Twin of sqlite/002_feeds.sql.
ALTER TABLE feed_items ADD COLUMN title     TEXT NOT NULL DEFAULT '';
ALTER TABLE feed_items ADD COLUMN body      TEXT NOT NULL DEFAULT '';
ALTER TABLE feed_items ADD COLUMN last_seen TEXT COLLATE "C";
CREATE INDEX feed_items_seen ON feed_items(feed_id, last_seen);
CREATE INDEX feeds_due ON feeds(enabled, next_poll_at);
