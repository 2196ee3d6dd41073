-- Schema 4: an outbox row is keyed by the rowid of the event that produced it, and has no
-- secondary index. Writing a message is then one append at the end of one b-tree (schema 3
-- wrote three: the row, a (dossier, seq) index, a partial index of pending rows). An
-- acknowledgement finds the row through the event ((dossier, seq) is already indexed on
-- `events`); messages are offered in the order written, as the memory store offers them.
-- The `delivered` column goes (schema 3 kept it always 0). The price: while the portal is
-- down, a delivery pass reads past the messages still waiting for their backoff to find due
-- ones (the table holds only undelivered messages, so that is the backlog itself).
CREATE TABLE outbox_v4 (
    id           INTEGER PRIMARY KEY,   -- events.id of the event that changed the national status
    dossier      INTEGER NOT NULL,      -- dossiers.id
    seq          INTEGER NOT NULL,      -- that event's number in the dossier
    at           INTEGER NOT NULL,      -- minutes since 1970-01-01T00:00Z
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,
    message              NOT NULL       -- MessagePack BLOB (JSON TEXT from version 1)
);
-- A message whose event is missing (none should be) keeps a fresh rowid rather than vanish.
INSERT INTO outbox_v4 (id, dossier, seq, at, attempts, next_attempt, message)
    SELECT e.id, o.dossier, o.seq, o.at, o.attempts, o.next_attempt, o.message
    FROM outbox o LEFT JOIN events e ON e.dossier = o.dossier AND e.seq = o.seq
    ORDER BY o.id;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;
