-- The index on articles.guid served one lookup that nothing has called since feed items got their own table
-- (feed_items, keyed by feed and guid). GUIDs and record ids are arbitrary strings, so every stored article went into
-- it at a random place: 16 % of the cost of storing an article in a large import. The column stays.
DROP INDEX IF EXISTS articles_guid;
