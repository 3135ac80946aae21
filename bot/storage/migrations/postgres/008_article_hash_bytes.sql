-- SQLite keeps a content hash as its 32 bytes from this version on; PostgreSQL keeps the hex text (its b-tree
-- is not SQLite's, and the single-writer import this helps runs on SQLite). The number is kept in step.
SELECT 1;
