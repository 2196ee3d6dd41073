-- Schema version 11: no row repeats what its summary or its event already holds.
-- A dossier row keeps as columns only what a query filters, groups or orders by (agency,
-- procedure, step_agency, due, clock_stopped, open); its status, national status, channel,
-- current step and times are in its summary (about 40 bytes a dossier less).
ALTER TABLE dossiers DROP COLUMN status;
ALTER TABLE dossiers DROP COLUMN national;
ALTER TABLE dossiers DROP COLUMN channel;
ALTER TABLE dossiers DROP COLUMN step;
ALTER TABLE dossiers DROP COLUMN received_at;
ALTER TABLE dossiers DROP COLUMN finished_at;
-- An undelivered message is its event's rowid, the attempts so far and when to try next: the
-- dossier, the event's number and time are the event's (about 45 bytes a dossier less).
ALTER TABLE outbox DROP COLUMN dossier;
ALTER TABLE outbox DROP COLUMN seq;
ALTER TABLE outbox DROP COLUMN at;
-- A delivery is its event's rowid and when the portal acknowledged it.
ALTER TABLE deliveries DROP COLUMN dossier;
ALTER TABLE deliveries DROP COLUMN seq;
-- A counter row's agency, procedure and sector: the dictionary's id (an integer) when the text
-- is there, else the text; the columns take either as written (no type affinity), and reads
-- add up the rows of one key written both ways (about 25 bytes a dossier less).
CREATE TABLE counters_by_id (
    agency              NOT NULL,   -- dictionary id, or the agency code's text
    procedure           NOT NULL,   -- dictionary id, or the procedure code's text
    sector              NOT NULL,   -- dictionary id, or the sector's text ('' when unknown)
    channel             INTEGER NOT NULL,
    day                 INTEGER NOT NULL,   -- local days since 1970-01-01
    received            INTEGER NOT NULL,
    refused             INTEGER NOT NULL,
    resolved            INTEGER NOT NULL,
    early               INTEGER NOT NULL,
    on_time             INTEGER NOT NULL,
    late                INTEGER NOT NULL,
    supplement_requests INTEGER NOT NULL,
    PRIMARY KEY (agency, procedure, sector, channel, day)
) WITHOUT ROWID;
INSERT INTO counters_by_id SELECT * FROM counters;
DROP TABLE counters;
ALTER TABLE counters_by_id RENAME TO counters;
