-- Telegram channels are managed from private chats: who manages which channel through the bot (listed by
-- the channels command, told when the channel pauses), with the language to tell them in. A forum topic
-- needs no table: it is a chat row of its own whose chat_id is "<group id>/<thread id>".
CREATE TABLE channel_managers (
    chat_id  INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id  TEXT    NOT NULL,
    lang     TEXT    NOT NULL DEFAULT 'en',
    added_at TEXT    NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX channel_managers_user ON channel_managers(user_id);
