-- Schema version 1 of the motcua PostgreSQL store.
--
-- Every table carries the province (the tenant key) first: in its primary key, in every index,
-- and as the partition key. Tables are partitioned by LIST (province); the store creates its
-- province's partitions when it opens. A national deployment shards by this key: one database
-- per province, or one database with a partition per province, or a distributed PostgreSQL
-- (Citus) with `province` as the distribution column (every primary key and every join
-- includes it, so each statement routes to one shard).
--
-- Events are the source of truth; `dossiers` holds each dossier's projection row (its exact
-- summary, as MessagePack bytes, and the columns the portal's questions filter and order by).
-- Times are minutes since 1970-01-01T00:00Z. Codes compare by bytes (COLLATE "C"), as every
-- store orders them.

CREATE TABLE motcua_dossiers (
    province      text     NOT NULL,
    code          text     COLLATE "C" NOT NULL,   -- byte order: pages follow it
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

-- Open rows only (the backlog, not the history), in (due, code) order per question.
CREATE INDEX motcua_dossiers_open_due ON motcua_dossiers (province, clock_stopped, due, code) WHERE open;
CREATE INDEX motcua_dossiers_open_agency ON motcua_dossiers (province, agency, clock_stopped, due, code) WHERE open;
CREATE INDEX motcua_dossiers_open_step_agency
    ON motcua_dossiers (province, step_agency, clock_stopped, due, code) WHERE open;
CREATE INDEX motcua_dossiers_open_procedure
    ON motcua_dossiers (province, procedure, clock_stopped, due, code) WHERE open;

CREATE TABLE motcua_events (
    province text     NOT NULL,
    dossier  text     COLLATE "C" NOT NULL,
    seq      bigint   NOT NULL,
    schema   smallint NOT NULL,
    payload  bytea    NOT NULL,   -- the sealed canonical bytes
    hash     bytea    NOT NULL,   -- SHA-256 over prev, dossier code, seq, schema, payload
    PRIMARY KEY (province, dossier, seq)
) PARTITION BY LIST (province);

CREATE TABLE motcua_idempotency (
    province text NOT NULL,
    key      text NOT NULL,
    record   text NOT NULL,      -- JSON
    PRIMARY KEY (province, key)
) PARTITION BY LIST (province);

CREATE SEQUENCE motcua_outbox_position;

-- Messages still to send; a delivered one is deleted (the event log keeps the history).
CREATE TABLE motcua_outbox (
    province     text    NOT NULL,
    dossier      text    NOT NULL,
    seq          bigint  NOT NULL,
    position     bigint  NOT NULL DEFAULT nextval('motcua_outbox_position'),
    at           bigint  NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt bigint  NOT NULL,
    message      bytea   NOT NULL,   -- MessagePack
    PRIMARY KEY (province, dossier, seq)
) PARTITION BY LIST (province);
CREATE INDEX motcua_outbox_order ON motcua_outbox (province, position);

CREATE TABLE motcua_counters (
    province            text     NOT NULL,
    agency              text     NOT NULL,
    procedure           text     NOT NULL,
    sector              text     NOT NULL,
    channel             smallint NOT NULL,
    day                 integer  NOT NULL,   -- local days since 1970-01-01
    received            bigint   NOT NULL,
    refused             bigint   NOT NULL,
    resolved            bigint   NOT NULL,
    early               bigint   NOT NULL,
    on_time             bigint   NOT NULL,
    late                bigint   NOT NULL,
    supplement_requests bigint   NOT NULL,
    PRIMARY KEY (province, agency, procedure, sector, channel, day)
) PARTITION BY LIST (province);

CREATE TABLE motcua_sequences (
    province text    NOT NULL,
    agency   text    NOT NULL,
    day      integer NOT NULL,   -- local days since 1970-01-01
    last     bigint  NOT NULL,
    PRIMARY KEY (province, agency, day)
) PARTITION BY LIST (province);
