-- Schema 3: the services the dossiers are handled under, as the engine publishes them, for reports.
CREATE TABLE motcua_services (
    province integer NOT NULL,
    code     text    NOT NULL,       -- procedure code
    row      bytea   NOT NULL,       -- MessagePack ServiceRow
    PRIMARY KEY (province, code)
) PARTITION BY LIST (province);

-- And the warehouse of results issued, written with the event that issued them.
CREATE TABLE motcua_results (
    province integer NOT NULL,
    number   text    NOT NULL,
    row      bytea   NOT NULL,       -- MessagePack KnownResult
    PRIMARY KEY (province, number)
) PARTITION BY LIST (province);
