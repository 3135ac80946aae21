-- Twin of sqlite/004_instances.sql: chat delivery leases and shared token buckets.
CREATE TABLE delivery_leases (
    chat_id    BIGINT PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    owner      TEXT   NOT NULL,
    expires_at TEXT   COLLATE "C" NOT NULL
);
CREATE TABLE pacing (
    name       TEXT PRIMARY KEY,
    tokens     DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
