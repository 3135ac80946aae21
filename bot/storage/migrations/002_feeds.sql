-- Feed polling: what the feed last said about each item (to judge whether an edit is worth a new alert,
-- independent of any full text fetched for the article), and the scheduler's "what is due" lookup.
ALTER TABLE feed_items ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE feed_items ADD COLUMN body  TEXT NOT NULL DEFAULT '';
CREATE INDEX feeds_due ON feeds(enabled, next_poll_at);
