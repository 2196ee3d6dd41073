-- Schema 5: the projection row as queryable columns, counters and code sequences in the store.
-- * dossiers: each row's current state in columns beside its summary (which stays the exact
--   projection `verify` compares): receiving agency, procedure, status, national status,
--   channel, the current step and its agency, due time, whether the clock is stopped, receipt
--   and finish instants (minutes since 1970-01-01T00:00Z), and whether the dossier is open.
--   Partial indexes over open rows only (the backlog, not the history) answer the portal's
--   questions in index order. The program fills the columns of existing rows when it migrates (it replays
--   each dossier; the columns are NULL here).
-- * counters: the indicator tallies per (agency, procedure, sector, channel, local day), added
--   to in the same transaction as the events.
-- * sequences: the last dossier-code number issued per agency and local day.
ALTER TABLE dossiers ADD COLUMN agency TEXT;
ALTER TABLE dossiers ADD COLUMN procedure TEXT;
ALTER TABLE dossiers ADD COLUMN status TEXT;
ALTER TABLE dossiers ADD COLUMN national INTEGER;
ALTER TABLE dossiers ADD COLUMN channel INTEGER;
ALTER TABLE dossiers ADD COLUMN step TEXT;
ALTER TABLE dossiers ADD COLUMN step_agency TEXT;
ALTER TABLE dossiers ADD COLUMN due INTEGER;
ALTER TABLE dossiers ADD COLUMN clock_stopped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dossiers ADD COLUMN received_at INTEGER;
ALTER TABLE dossiers ADD COLUMN finished_at INTEGER;
ALTER TABLE dossiers ADD COLUMN open INTEGER NOT NULL DEFAULT 0;

-- Two indexes over open rows: overdue now and due within a window, for the province or one
-- receiving agency. A filter by step agency or procedure reads the first and filters its rows
-- (open rows are few); two more indexes would cost every write more than they save those reads.
CREATE INDEX dossiers_open_due ON dossiers (clock_stopped, due, code) WHERE open = 1;
CREATE INDEX dossiers_open_agency ON dossiers (agency, clock_stopped, due, code) WHERE open = 1;

CREATE TABLE counters (
    agency              TEXT    NOT NULL,
    procedure           TEXT    NOT NULL,
    sector              TEXT    NOT NULL,   -- '' when migrated from a store that kept none
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

CREATE TABLE sequences (
    agency TEXT    NOT NULL,
    day    INTEGER NOT NULL,   -- local days since 1970-01-01
    last   INTEGER NOT NULL,
    PRIMARY KEY (agency, day)
) WITHOUT ROWID;
