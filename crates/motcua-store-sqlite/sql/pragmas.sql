-- Applied on every open. WAL lets readers run beside the writer; synchronous = FULL makes a
-- committed transaction survive a crash of the process and of the machine.
PRAGMA page_size = 8192;   -- new files only; rows are a few hundred bytes
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
PRAGMA cache_size = -65536;  -- 64 MiB of page cache
PRAGMA temp_store = MEMORY;
