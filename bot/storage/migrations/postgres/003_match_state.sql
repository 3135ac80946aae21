-- Twin of sqlite/003_match_state.sql.
ALTER TABLE articles ADD COLUMN matched INTEGER NOT NULL DEFAULT 1;
CREATE INDEX articles_unmatched ON articles(id) WHERE matched = 0;
