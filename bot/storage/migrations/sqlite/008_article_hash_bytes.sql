-- A content hash (a SHA-256 hex digest) is kept as its 32 bytes: half the key of the unique index that every new
-- article enters at a random place, the index that wrote the most pages in a large import. unhex() is the
-- storage layer's own function here (SQLite has one only from 3.41); other strings stay as they are.
UPDATE articles SET content_hash = unhex(content_hash)
 WHERE typeof(content_hash) = 'text' AND length(content_hash) = 64 AND content_hash NOT GLOB '*[^0-9a-f]*';
