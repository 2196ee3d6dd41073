-- Schema version 1 of the motcua PostgreSQL store.
--
-- Every row carries its province (the tenant key, a small integer from `motcua_provinces`):
-- every table is partitioned by it (`PARTITION BY LIST (province)`; the store creates its
-- province's partitions when it opens) and every primary key starts with it. A national
-- deployment shards by this key: one database per province, or one database with a partition
-- per province, or a distributed PostgreSQL (Citus) with `province` as the distribution column
-- (every primary key includes it and every statement names one province, so each routes to one
-- shard). Secondary indexes live on a province's partition and so leave the key out.
--
-- Events are the source of truth; `motcua_dossiers` holds each dossier's projection row (its
-- exact summary, as MessagePack bytes, and the columns the portal's questions filter and order
-- by). Times are minutes since 1970-01-01T00:00Z; days are local days since 1970-01-01. Codes
-- compare by bytes (COLLATE "C"), as every store orders them.

CREATE TABLE motcua_provinces (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text    NOT NULL UNIQUE
);

CREATE SEQUENCE motcua_dossier_ids;

CREATE TABLE motcua_dossiers (
    province      integer  NOT NULL,
    code          text     COLLATE "C" NOT NULL,
    id            bigint   NOT NULL DEFAULT nextval('motcua_dossier_ids'),   -- events refer to it
    version       bigint   NOT NULL,
    parties       text     NOT NULL,   -- JSON
    summary       bytea    NOT NULL,   -- MessagePack: the projection verify compares
    agency        text     COLLATE "C" NOT NULL,   -- receiving agency
    procedure     text     COLLATE "C",
    status        text,
    national      smallint,
    channel       smallint,
    step          text,                -- the current step and its agency
    step_agency   text     COLLATE "C",
    due           bigint,
    clock_stopped boolean  NOT NULL,
    received_at   bigint,
    finished_at   bigint,
    open          boolean  NOT NULL,
    PRIMARY KEY (province, code)
) PARTITION BY LIST (province);

-- Open rows only (the backlog, not the history), in (due, code) order: overdue now and due
-- within a window, for the province or one receiving agency. A filter by step agency or
-- procedure reads the first index and filters its rows (open rows are few); two more indexes
-- cost every write more than they would save those reads.
CREATE INDEX motcua_dossiers_open_due ON motcua_dossiers (clock_stopped, due, code) WHERE open;
CREATE INDEX motcua_dossiers_open_agency ON motcua_dossiers (agency, clock_stopped, due, code) WHERE open;

CREATE TABLE motcua_events (
    province integer  NOT NULL,
    dossier  bigint   NOT NULL,   -- motcua_dossiers.id
    seq      integer  NOT NULL,
    schema   smallint NOT NULL,
    payload  bytea    NOT NULL,   -- the sealed canonical bytes
    hash     bytea    NOT NULL,   -- SHA-256 over prev, dossier code, seq, schema, payload
    PRIMARY KEY (province, dossier, seq)
) PARTITION BY LIST (province);

CREATE TABLE motcua_idempotency (
    province integer NOT NULL,
    key      text    NOT NULL,
    record   text    NOT NULL,    -- JSON
    PRIMARY KEY (province, key)
) PARTITION BY LIST (province);

CREATE SEQUENCE motcua_outbox_position;

-- Messages still to send, offered in the order written; a delivered one is deleted (the event
-- log keeps the history).
CREATE TABLE motcua_outbox (
    province     integer NOT NULL,
    dossier      bigint  NOT NULL,   -- motcua_dossiers.id
    seq          integer NOT NULL,
    position     bigint  NOT NULL DEFAULT nextval('motcua_outbox_position'),
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt bigint  NOT NULL,
    message      bytea   NOT NULL,   -- MessagePack
    PRIMARY KEY (province, dossier, seq)
) PARTITION BY LIST (province);
CREATE INDEX motcua_outbox_order ON motcua_outbox (position);

-- A writer adds to the rows of its own slot (a store handle draws one at open), so concurrent
-- writers never wait on each other's counter rows; readers add the slots up.
CREATE TABLE motcua_counters (
    province            integer  NOT NULL,
    slot                smallint NOT NULL,
    agency              text     NOT NULL,
    procedure           text     NOT NULL,
    sector              text     NOT NULL,
    channel             smallint NOT NULL,
    day                 integer  NOT NULL,
    received            bigint   NOT NULL,
    refused             bigint   NOT NULL,
    resolved            bigint   NOT NULL,
    early               bigint   NOT NULL,
    on_time             bigint   NOT NULL,
    late                bigint   NOT NULL,
    supplement_requests bigint   NOT NULL,
    PRIMARY KEY (province, agency, procedure, sector, channel, day, slot)
) PARTITION BY LIST (province);

CREATE TABLE motcua_sequences (
    province integer NOT NULL,
    agency   text    NOT NULL,
    day      integer NOT NULL,
    last     bigint  NOT NULL,
    PRIMARY KEY (province, agency, day)
) PARTITION BY LIST (province);
