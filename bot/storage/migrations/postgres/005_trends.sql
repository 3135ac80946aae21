-- Twin of sqlite/005_trends.sql: which lexicon entities each article names, for trend charts.
CREATE TABLE article_mentions (
    mention_key TEXT   NOT NULL,
    day         TEXT   COLLATE "C" NOT NULL,
    article_id  BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    PRIMARY KEY (mention_key, day, article_id)
);
CREATE INDEX article_mentions_article ON article_mentions(article_id, mention_key);
ALTER TABLE articles ADD COLUMN mentions_indexed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX articles_unindexed ON articles(id) WHERE mentions_indexed = 0;
CREATE INDEX articles_published ON articles(published);
