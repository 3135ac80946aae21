-- Twin of sqlite/005_channels_topics.sql: who manages which Telegram channel from a private chat. A forum
-- topic needs no table: it is a chat row of its own whose chat_id is "<group id>/<thread id>".
CREATE TABLE channel_managers (
    chat_id  BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id  TEXT   NOT NULL,
    lang     TEXT   NOT NULL DEFAULT 'en',
    added_at TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX channel_managers_user ON channel_managers(user_id);
