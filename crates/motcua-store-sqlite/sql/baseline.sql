-- The naive baseline for benchmarks: one plain row per transaction, same pragmas as the store.
CREATE TABLE IF NOT EXISTS baseline (id INTEGER PRIMARY KEY, payload TEXT NOT NULL);
