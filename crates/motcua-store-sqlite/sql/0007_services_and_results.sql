-- Schema 7: the services the dossiers are handled under (name, sector, online level, integration
-- with the national portal), as the engine publishes them, for reports.
CREATE TABLE services (
    code TEXT PRIMARY KEY,              -- procedure code
    row  BLOB NOT NULL                  -- MessagePack ServiceRow
) WITHOUT ROWID;

-- And the warehouse of results issued (number, holder's key, kind, validity, revoked), written
-- with the event that issued them: a later dossier may reuse one (checked at receipt).
CREATE TABLE results (
    number TEXT PRIMARY KEY,            -- the result's number
    row    BLOB NOT NULL                -- MessagePack KnownResult
) WITHOUT ROWID;
