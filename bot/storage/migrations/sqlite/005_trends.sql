-- Trend charts: which lexicon entities each article names, stored at ingest from the matcher's scan, so a
-- chart counts rows of one key over a range of days instead of re-matching the archive. ``day`` is the
-- article's publication date (ISO text; the storage date when it has none), copied here so the count is
-- one index range. Articles stored before this table existed, or archived without matching, are caught up
-- in batches (``mentions_indexed = 0``).
CREATE TABLE article_mentions (
    mention_key TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    article_id  INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    PRIMARY KEY (mention_key, day, article_id)
);
CREATE INDEX article_mentions_article ON article_mentions(article_id, mention_key);
ALTER TABLE articles ADD COLUMN mentions_indexed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX articles_unindexed ON articles(id) WHERE mentions_indexed = 0;
-- Free-text trend queries narrow by date before confirming candidates with the matcher.
CREATE INDEX articles_published ON articles(published);
