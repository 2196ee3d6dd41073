-- Schema version 1 of the motcua SQLite store.
-- Events are the source of truth; `dossiers` holds each dossier's projection and parties.

-- Rows of a few hundred bytes: ordinary rowid tables with unique indexes (SQLite advises
-- WITHOUT ROWID only for rows under about 1/20 of a page).
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    dossier TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    schema  INTEGER NOT NULL,
    payload TEXT    NOT NULL,   -- the event as JSON (the bytes the hash seals)
    prev    BLOB    NOT NULL,   -- SHA-256 of the previous event of the dossier
    hash    BLOB    NOT NULL    -- SHA-256 over prev, dossier, seq, schema, payload
);
CREATE UNIQUE INDEX events_by_dossier ON events (dossier, seq);

CREATE TABLE dossiers (
    id      INTEGER PRIMARY KEY,
    dossier TEXT    NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    parties TEXT    NOT NULL,   -- JSON
    summary TEXT    NOT NULL    -- JSON projection
);

CREATE TABLE idempotency (
    key    TEXT PRIMARY KEY,
    record TEXT NOT NULL        -- JSON
) WITHOUT ROWID;

CREATE TABLE outbox (
    id           TEXT    PRIMARY KEY,
    at           INTEGER NOT NULL,  -- minutes since 1970-01-01T00:00Z
    message      TEXT    NOT NULL,  -- JSON
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    delivered    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX outbox_due ON outbox (delivered, next_attempt, at);
