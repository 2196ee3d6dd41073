-- Schema 5: the dictionary lean events (envelope schema 4) refer to, per province. An entry is
-- written once, with the first events that use it, and never changed: the events seal its text
-- (an edited entry fails `verify` for every event that refers to it). Ids are handed to writers
-- in blocks from `motcua_dictionary_next`, so two writers never give one id two texts.
CREATE TABLE IF NOT EXISTS motcua_dictionary (
    province integer NOT NULL,
    id       integer NOT NULL,
    text     text    NOT NULL,
    PRIMARY KEY (province, id)
) PARTITION BY LIST (province);

CREATE TABLE IF NOT EXISTS motcua_dictionary_next (
    province integer PRIMARY KEY,
    next     bigint  NOT NULL
);
