-- The archive, chats, subscriptions and the delivery outbox.
CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    content_hash TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    published    TEXT,
    source       TEXT,
    url          TEXT,
    guid         TEXT,
    teaser_only  INTEGER NOT NULL DEFAULT 0,
    ingested_at  TEXT    NOT NULL
);
CREATE INDEX articles_guid ON articles(guid) WHERE guid IS NOT NULL;
CREATE INDEX articles_ingested ON articles(ingested_at);

-- External-content FTS5 index; remove_diacritics 2 makes "Pjöngjang" find "Pjongjang" and vice versa.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, body, content='articles', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER articles_au AFTER UPDATE OF title, body ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TABLE chats (
    id             INTEGER PRIMARY KEY,
    platform       TEXT    NOT NULL,
    chat_id        TEXT    NOT NULL,
    lang           TEXT    NOT NULL DEFAULT 'en',
    timezone       TEXT    NOT NULL DEFAULT 'UTC',
    mode           TEXT    NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'hourly', 'daily')),
    digest_time    TEXT    NOT NULL DEFAULT '08:00',
    quiet_start    TEXT,
    quiet_end      TEXT,
    active         INTEGER NOT NULL DEFAULT 1,
    is_group       INTEGER NOT NULL DEFAULT 0,
    title          TEXT,
    last_digest_at TEXT,
    created_at     TEXT    NOT NULL,
    UNIQUE (platform, chat_id)
);

CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    query      TEXT    NOT NULL,
    query_key  TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (chat_id, query_key)
);
CREATE INDEX subscriptions_query ON subscriptions(query_key);

-- One row per (chat, article): the unique key is what makes "never twice" hold across restarts.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    article_id      INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
    query           TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT,
    -- Rows claimed together for one message share a batch; a resend after a crash reuses it, so the
    -- Matrix transaction id (derived from it) lets the homeserver drop the repeat.
    batch           TEXT,
    UNIQUE (chat_id, article_id)
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_chat ON outbox(chat_id, status);

CREATE TABLE feeds (
    id               INTEGER PRIMARY KEY,
    url              TEXT    NOT NULL UNIQUE,
    title            TEXT,
    etag             TEXT,
    last_modified    TEXT,
    poll_seconds     INTEGER NOT NULL,
    next_poll_at     TEXT    NOT NULL,
    last_fetch_at    TEXT,
    last_error       TEXT,
    failures         INTEGER NOT NULL DEFAULT 0,
    items_seen       INTEGER NOT NULL DEFAULT 0,
    enabled          INTEGER NOT NULL DEFAULT 1,
    first_poll_done  INTEGER NOT NULL DEFAULT 0,
    added_by         TEXT,
    created_at       TEXT    NOT NULL
);

-- Which feed item (by GUID or link) became which article version.
CREATE TABLE feed_items (
    feed_id      INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guid         TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    article_id   INTEGER REFERENCES articles(id) ON DELETE SET NULL,
    first_seen   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (feed_id, guid)
);

-- Transport state that must survive restarts (Matrix device id and sync token, Telegram update offset).
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Summary bullets are computed on delivery and cached per (article, focus).
CREATE TABLE summaries (
    article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    focus_key  TEXT    NOT NULL,
    bullets    TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (article_id, focus_key)
);
