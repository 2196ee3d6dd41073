-- Schema version 9: the dictionary lean events (envelope schema 4) refer to. An entry is
-- written once, in the transaction of the first events that use it, and never changed: the
-- events seal its text (an edited entry fails `verify` for every event that refers to it).
-- Ids are handed to writers in blocks from `dictionary_next`, so two writers never give one
-- id two texts.
CREATE TABLE IF NOT EXISTS dictionary (
    id   INTEGER PRIMARY KEY,
    text TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS dictionary_next (
    next INTEGER NOT NULL
);
INSERT INTO dictionary_next (next) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM dictionary_next);
