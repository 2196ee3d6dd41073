-- Schema version 2: leaner rows for the write path (issue #4 performance).
-- * dossiers: the integer id is the key other tables use; `summary` holds the projection as
--   MessagePack bytes (BLOB) — rows migrated from version 1 keep their JSON text, read as such.
-- * events: rows in arrival order (a commit appends at the table's end) with a small
--   integer index (dossier id, seq) instead of a text one. A table keyed by (dossier, seq)
--   would rewrite leaf pages all over the file on every commit, because a day's commands
--   interleave thousands of dossiers. `prev` is dropped: it is the previous row's hash, and the
--   hash (which covers it) is what verify recomputes.
-- * outbox: rows in arrival order, found by (dossier id, seq); a partial index holds only
--   undelivered messages. `message` is MessagePack bytes (BLOB), or JSON text for rows from
--   version 1.

CREATE TABLE dossiers_v2 (
    id      INTEGER PRIMARY KEY,
    code    TEXT    NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    parties TEXT    NOT NULL,   -- JSON
    summary         NOT NULL    -- MessagePack BLOB (JSON TEXT from version 1)
);
INSERT INTO dossiers_v2 (id, code, version, parties, summary)
    SELECT id, dossier, version, parties, summary FROM dossiers;

CREATE TABLE events_v2 (
    id      INTEGER PRIMARY KEY,
    dossier INTEGER NOT NULL,   -- dossiers.id
    seq     INTEGER NOT NULL,
    schema  INTEGER NOT NULL,
    payload         NOT NULL,   -- the sealed bytes: MessagePack BLOB (schema 2), JSON TEXT (schema 1)
    hash    BLOB    NOT NULL    -- SHA-256 over prev, dossier code, seq, schema, canonical bytes
);
INSERT INTO events_v2 (dossier, seq, schema, payload, hash)
    SELECT d.id, e.seq, e.schema, e.payload, e.hash FROM events e JOIN dossiers_v2 d ON d.code = e.dossier
    ORDER BY e.id;

CREATE TABLE outbox_v2 (
    id           INTEGER PRIMARY KEY,
    dossier      INTEGER NOT NULL,  -- dossiers.id
    seq          INTEGER NOT NULL,  -- the event that changed the national status
    at           INTEGER NOT NULL,  -- minutes since 1970-01-01T00:00Z
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    delivered    INTEGER NOT NULL DEFAULT 0,
    message              NOT NULL   -- MessagePack BLOB (JSON TEXT from version 1)
);
INSERT INTO outbox_v2 (dossier, seq, at, attempts, next_attempt, delivered, message)
    SELECT d.id, CAST(substr(o.id, instr(o.id, '#') + 1) AS INTEGER), o.at, o.attempts, o.next_attempt,
           o.delivered, o.message
    FROM outbox o JOIN dossiers_v2 d ON d.code = substr(o.id, 1, instr(o.id, '#') - 1)
    ORDER BY o.rowid;

DROP TABLE events;
DROP TABLE outbox;
DROP TABLE dossiers;
ALTER TABLE dossiers_v2 RENAME TO dossiers;
ALTER TABLE events_v2 RENAME TO events;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE UNIQUE INDEX events_by_dossier ON events (dossier, seq);
CREATE UNIQUE INDEX outbox_by_event ON outbox (dossier, seq);
CREATE INDEX outbox_pending ON outbox (next_attempt, at) WHERE delivered = 0;
