-- Applied on every open. WAL lets readers run beside the writer; synchronous = FULL makes a
-- committed transaction survive a crash of the process and of the machine.
PRAGMA page_size = 8192;   -- new files only; rows are a few hundred bytes
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
PRAGMA cache_size = -65536;  -- 64 MiB of page cache
PRAGMA temp_store = MEMORY;
-- Checkpoint after 16,384 WAL pages (128 MiB) rather than SQLite's 1,000: a page rewritten by
-- many group commits (a recent dossier row, an index leaf) is copied into the file once per
-- checkpoint, not once per 8 MiB of log. The province year on this store: 19.5 s -> 14.2 s
-- median of three interleaved runs (BENCHMARKS.md).
PRAGMA wal_autocheckpoint = 16384;
