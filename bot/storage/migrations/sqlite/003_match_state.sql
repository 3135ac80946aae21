-- Matching is part of storing an article: an article stored for alerting stays "unmatched" until its outbox
-- rows are written in the same transaction that marks it matched, so a crash in between is caught up at start.
-- Existing articles were matched (or deliberately archived) already.
ALTER TABLE articles ADD COLUMN matched INTEGER NOT NULL DEFAULT 1;
CREATE INDEX articles_unmatched ON articles(id) WHERE matched = 0;
