-- Schema 6: a message the portal acknowledged leaves the outbox for the delivery ledger, which
-- keeps what reached the national portal and when (the evidence for Decision 766's 1.4). Keyed
-- by the rowid of the event whose message it was, like the outbox; a dossier's records are found
-- through the events' (dossier, seq) index.
CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,   -- events.id of the event whose message was delivered
    dossier      INTEGER NOT NULL,      -- dossiers.id
    seq          INTEGER NOT NULL,      -- that event's number in the dossier
    delivered_at INTEGER NOT NULL       -- minutes since 1970-01-01T00:00Z, the acknowledgement
);

