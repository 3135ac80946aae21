-- Several instances on one database (used on PostgreSQL; on SQLite the one process holds every lease).
-- A chat's unsent alerts are delivered by one instance at a time, which keeps their order: the lease says
-- which instance and until when (an instance that died loses its chats when the lease runs out).
CREATE TABLE delivery_leases (
    chat_id    INTEGER PRIMARY KEY REFERENCES chats(id) ON DELETE CASCADE,
    owner      TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
-- Token buckets shared by every instance (e.g. Telegram's global 30 messages/s), so N instances together
-- stay under one limit instead of N times it.
CREATE TABLE pacing (
    name       TEXT PRIMARY KEY,
    tokens     REAL NOT NULL,
    updated_at REAL NOT NULL
);
