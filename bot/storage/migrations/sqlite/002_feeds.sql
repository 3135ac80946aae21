-- Feed polling: what the feed last said about each item (to judge whether an edit is worth a new alert,
-- independent of any full text fetched for the article), when the item was last listed (items gone from
-- the feed for long are forgotten, so the table does not grow forever), and the scheduler's "what is due".
ALTER TABLE feed_items ADD COLUMN title     TEXT NOT NULL DEFAULT '';
ALTER TABLE feed_items ADD COLUMN body      TEXT NOT NULL DEFAULT '';
ALTER TABLE feed_items ADD COLUMN last_seen TEXT;
CREATE INDEX feed_items_seen ON feed_items(feed_id, last_seen);
CREATE INDEX feeds_due ON feeds(enabled, next_poll_at);
