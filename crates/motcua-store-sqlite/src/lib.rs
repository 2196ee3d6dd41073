//! # motcua-store-sqlite: the embedded default store
//!
//! One SQLite file in WAL mode with `synchronous = FULL`: a transaction that returned is on
//! disk. Every [`Store::append`] is one transaction (`BEGIN IMMEDIATE … COMMIT`), so the engine's
//! `handle_batch` is a group commit. The schema is versioned (`PRAGMA user_version`) and
//! migrated on open; the SQL lives in `sql/*.sql`. Only this crate contains SQL.
//!
//! ```
//! use motcua_engine::Store;
//! # let dir = tempfile::tempdir().unwrap();
//! # let dir = dir.path();
//! let store = motcua_store_sqlite::SqliteStore::open(&dir.join("year.sqlite"))?;
//! assert!(store.dossiers()?.is_empty());
//! # Ok::<(), motcua_engine::StoreError>(())
//! ```

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, DossierCode};
use motcua_engine::store::lean::{retrying_unknown_ids, SharedLexicon};
use motcua_engine::store::{
    canonical_bytes, canonical_parts, chain_hash, open_sealed, push_part, split_message_id, AppendBatch,
    DeliveryRecord, DossierSummary, Hash, IdempotencyRecord, Lexicon, OutboxEntry, OutboxUpdate, ServiceRow, Store,
    StoreError, StoredEvent, Stream, SyncTally, GENESIS,
};
use motcua_engine::store::{BacklogBy, BacklogRow, DeadlineQuery, DeadlineView, Page};
use motcua_engine::Parties;
use motcua_engine::{CounterKey, Counters, Tally};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use rustc_hash::FxHashMap;

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = 11;

/// Migrations, in order; migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 11] = [
    include_str!("../sql/0001_init.sql"),
    include_str!("../sql/0002_lean.sql"),
    include_str!("../sql/0003_outbox_delete_delivered.sql"),
    include_str!("../sql/0004_outbox_by_event.sql"),
    include_str!("../sql/0005_projection_columns.sql"),
    include_str!("../sql/0006_delivery_ledger.sql"),
    include_str!("../sql/0007_services_and_results.sql"),
    include_str!("../sql/0008_results_by_holder.sql"),
    include_str!("../sql/0009_dictionary.sql"),
    include_str!("../sql/0010_outbox_rows.sql"),
    include_str!("../sql/0011_rows_without_repeats.sql"),
];
// One migration per schema version, checked when compiling.
const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

const PRAGMAS: &str = include_str!("../sql/pragmas.sql");
/// Read connections: they wait for a busy file, and never write.
const READER_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA query_only = ON; PRAGMA cache_size = -16384;";
/// Idle read connections kept.
const IDLE_READERS: usize = 8;

/// The SQLite store.
pub struct SqliteStore {
    /// Idle read connections (read-only): reads take one (opening another when none is idle),
    /// so they run beside a write that is committing (WAL: a reader sees the last committed
    /// state). Declared before the writer so they close first: the writer, closing last, moves
    /// the WAL into the file (a read-only connection cannot).
    readers: Mutex<Vec<Connection>>,
    /// The writer's connection (appends, outbox updates, sequences).
    conn: Mutex<Connection>,
    /// Opened by [`SqliteStore::open_read_only`]: every write is refused.
    read_only: bool,
    path: PathBuf,
    /// Row ids of dossiers this handle wrote lately (a hint: the write still checks the
    /// version, so another connection's writes cannot make it wrong). Locked after `conn`.
    rowids: Mutex<FxHashMap<DossierCode, i64>>,
    /// The dictionary as this handle has read it (refreshed when an event refers to an id it
    /// does not hold yet). Locked after `conn`.
    lexicon: SharedLexicon,
}

/// Most row-id hints kept; past it the hints start over (recent dossiers are the ones written
/// again soon).
const ROWID_HINTS: usize = 1 << 19;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn to_hash(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    bytes.try_into().map_err(|_| backend("a stored hash is not 32 bytes"))
}

/// The envelope schema from which events keep only [`SHORT_HASH`] bytes of their hash.
const LEAN_SCHEMA: u16 = motcua_engine::store::lean::LEAN_SCHEMA;

/// Bytes of a lean event's hash kept in its row (8 of 32: the rest follows from the chain).
const SHORT_HASH: usize = 8;

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and migrates its schema.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path).map_err(|e| backend(format!("{}: {e}", path.display())))?;
        conn.execute_batch(PRAGMAS).map_err(backend)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)?;
        if version > SCHEMA_VERSION {
            return Err(backend(format!(
                "{}: schema version {version} is newer than this program's {SCHEMA_VERSION}",
                path.display()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive).map_err(backend)?;
            // Migrations 10 and 11 drop columns; a file that has none to drop has nothing to do.
            let dropped = match i + 1 {
                10 => Some("SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'message'"),
                11 => Some("SELECT count(*) FROM pragma_table_info('dossiers') WHERE name = 'status'"),
                _ => None,
            };
            let done = match dropped {
                Some(sql) => tx.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(backend)? == 0,
                None => false,
            };
            if !done {
                tx.execute_batch(sql).map_err(|e| backend(format!("{}: migration {}: {e}", path.display(), i + 1)))?;
            }
            if i + 1 == 5 {
                backfill_projections(&tx).map_err(|e| backend(format!("{}: migration 5: {e}", path.display())))?;
            }
            if i + 1 == 8 {
                backfill_holders(&tx).map_err(|e| backend(format!("{}: migration 8: {e}", path.display())))?;
            }
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        // Room for every multi-row insert shape (`ROWS_PER_INSERT` sizes of two tables) and the
        // other statements.
        conn.set_prepared_statement_cache_capacity(2 * ROWS_PER_INSERT + 32);
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            read_only: false,
            readers: Mutex::default(),
            path: path.to_path_buf(),
            rowids: Mutex::default(),
            lexicon: Default::default(),
        })
    }

    /// Opens an existing store only to read it: nothing is created, migrated or written (the
    /// file is opened read-only). An empty or foreign file is "not a motcua store"; a store of
    /// another schema version says which version it holds and which this program reads.
    pub fn open_read_only(path: &Path) -> Result<SqliteStore, StoreError> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| backend(format!("{shown}: {e}")))?;
        if !meta.is_file() {
            return Err(backend(format!("{shown}: not a file")));
        }
        if meta.len() == 0 {
            return Err(backend(format!("{shown}: not a motcua store (an empty file)")));
        }
        let conn = Self::reader_at(path)?;
        let foreign = || backend(format!("{shown}: not a motcua store"));
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|_| foreign())?;
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('dossiers', 'events', 'outbox')",
                [],
                |r| r.get(0),
            )
            .map_err(|_| foreign())?;
        // A store with some of its tables gone still opens, so that `verify` names them.
        if version == 0 || tables == 0 {
            return Err(foreign());
        }
        if version != SCHEMA_VERSION {
            let how = if version > SCHEMA_VERSION {
                "a newer motcua wrote it"
            } else {
                "a command that writes (e.g. `motcua simulate`, or the engine) migrates it on open"
            };
            return Err(backend(format!(
                "{shown}: a motcua store of schema {version}; this program reads schema {SCHEMA_VERSION} ({how})"
            )));
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            read_only: true,
            readers: Mutex::default(),
            path: path.to_path_buf(),
            rowids: Mutex::default(),
            lexicon: Default::default(),
        })
    }

    /// The schema version of the store at `path`, read without opening it to write: 0 for a
    /// file motcua never wrote (an empty or foreign SQLite file).
    pub fn schema_of(path: &Path) -> Result<i64, StoreError> {
        let conn = Self::reader_at(path)?;
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| backend(format!("{}: not a motcua store ({e})", path.display())))
    }

    /// A read-only connection to `path` (never creates the file).
    fn reader_at(path: &Path) -> Result<Connection, StoreError> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let c = Connection::open_with_flags(path, flags).map_err(|e| backend(format!("{}: {e}", path.display())))?;
        c.execute_batch(READER_PRAGMAS).map_err(backend)?;
        Ok(c)
    }

    /// The writer's connection, unless the store was opened read-only.
    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        if self.read_only {
            return Err(backend(format!("{}: opened read-only", self.path.display())));
        }
        self.conn()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| backend("a writer panicked while holding the connection"))
    }

    /// Runs `f` on an idle read connection (a new one when none is idle), then keeps it for the
    /// next read (up to [`IDLE_READERS`]).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = self.readers.lock().map_err(|_| backend("a reader panicked"))?.pop();
        let conn = match idle {
            Some(c) => c,
            None => Self::reader_at(&self.path)?,
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.readers.lock() {
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }

    /// Moves the WAL into the main file (e.g. before copying the file).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.writer()?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(backend)
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| backend(format!("corrupt {what}: {e}")))
}

/// A compact value: MessagePack bytes (schema 2 writes these for summaries and outbox
/// messages, as the engine does for events), written into `buf` (cleared first) so a batch
/// encodes its rows into one reused buffer.
fn bin_into<'a, T: serde::Serialize>(v: &T, buf: &'a mut Vec<u8>) -> Result<&'a [u8], StoreError> {
    buf.clear();
    rmp_serde::encode::write(buf, v).map_err(backend)?;
    Ok(buf)
}

/// A row's lean bytes ([`motcua_engine::store::lean`], every string inline): the MessagePack
/// tree of `v` in fewer bytes (a summary's hash as its 32 bytes, times as differences), written
/// into `buf` (cleared first). Summaries and warehouse rows are kept so from schema 10.
fn lean_into<'a, T: serde::Serialize>(v: &T, buf: &'a mut Vec<u8>) -> Result<&'a [u8], StoreError> {
    buf.clear();
    let tree = rmp_serde::to_vec(v).map_err(backend)?;
    motcua_engine::store::lean::compact(&tree, &mut |_| None, "", buf, &mut Vec::new()).map_err(backend)?;
    Ok(buf)
}

/// A row's lean bytes: as [`lean_into`], the texts the dictionary holds as ids and a string
/// holding `key` (the row's own key: a summary's dossier code, a result's number) around it.
fn lean_row_into<'a, T: serde::Serialize>(
    v: &T,
    key: &str,
    lexicon: &Lexicon,
    buf: &'a mut Vec<u8>,
    scratch: &mut RowScratch,
) -> Result<&'a [u8], StoreError> {
    buf.clear();
    scratch.tree.clear();
    scratch.canon.clear();
    rmp_serde::encode::write(&mut scratch.tree, v).map_err(backend)?;
    motcua_engine::store::lean::compact(&scratch.tree, &mut |t| lexicon.id(t), key, buf, &mut scratch.canon)
        .map_err(backend)?;
    Ok(buf)
}

/// Buffers [`lean_row_into`] reuses across the rows of a batch.
#[derive(Default)]
struct RowScratch {
    tree: Vec<u8>,
    canon: Vec<u8>,
}

/// A warehouse row's holder as the index keeps it: the key's 16 bytes (rows written before
/// schema 10 keep its text, which reads still match).
fn holder_bytes(key: &motcua_core::ApplicantKey) -> Vec<u8> {
    key.to_bytes().map_or_else(Vec::new, Vec::from)
}

/// The applicant key whose [`holder_bytes`] are `b` (16 bytes), if any.
fn holder_from_bytes(b: &[u8]) -> Option<motcua_core::ApplicantKey> {
    <[u8; 16]>::try_from(b).ok().map(motcua_core::ApplicantKey::from_bytes)
}

/// Whether a BLOB holds lean bytes (a lean array begins 0x03 or 0x10..=0x1F; MessagePack's
/// arrays and maps begin 0x80 and up).
fn is_lean(b: &[u8]) -> bool {
    b.first().is_some_and(|&f| f == 0x03 || (0x10..=0x1f).contains(&f))
}

/// Reads a summary, warehouse row or message column: lean bytes or MessagePack when a BLOB,
/// JSON when TEXT (rows migrated from schema version 1).
fn decode<T: serde::de::DeserializeOwned>(what: &str, v: ValueRef<'_>) -> Result<T, StoreError> {
    match v {
        ValueRef::Blob(b) if is_lean(b) => {
            let mut tree = Vec::with_capacity(b.len() * 2);
            motcua_engine::store::lean::expand(b, &Lexicon::default(), "", &mut tree)
                .map_err(|e| backend(format!("corrupt {what}: {e}")))?;
            rmp_serde::from_slice(&tree).map_err(|e| backend(format!("corrupt {what}: {e}")))
        }
        ValueRef::Blob(b) => rmp_serde::from_slice(b).map_err(|e| backend(format!("corrupt {what}: {e}"))),
        ValueRef::Text(t) => parse(what, std::str::from_utf8(t).map_err(|e| backend(format!("corrupt {what}: {e}")))?),
        _ => Err(backend(format!("corrupt {what}: neither bytes nor text"))),
    }
}

/// Rows per multi-row `INSERT`: each statement stepped has a fixed cost (cursors opened and
/// closed, the program reset), so a batch's events and messages go in groups.
const ROWS_PER_INSERT: usize = 32;

/// Inserts `rows` with `head` (`INSERT … (columns) VALUES `) in statements of up to
/// [`ROWS_PER_INSERT`] rows of `width` parameters; `bind` binds one row from parameter `at`.
fn insert_rows<R>(
    tx: &rusqlite::Transaction<'_>,
    head: &str,
    width: usize,
    rows: &[R],
    bind: impl Fn(&mut rusqlite::Statement<'_>, usize, &R) -> rusqlite::Result<()>,
) -> Result<(), StoreError> {
    // `INSERT … VALUES (?,…),(?,…),…` for `n` rows; full groups share one text.
    let sql_for = |n: usize| {
        let one = format!("({})", vec!["?"; width].join(","));
        format!("{head}{}", vec![one; n].join(","))
    };
    let mut full: Option<String> = None;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let partial;
        let sql = if chunk.len() == ROWS_PER_INSERT {
            full.get_or_insert_with(|| sql_for(ROWS_PER_INSERT))
        } else {
            partial = sql_for(chunk.len());
            &partial
        };
        let mut stmt = tx.prepare_cached(sql).map_err(backend)?;
        for (k, r) in chunk.iter().enumerate() {
            bind(&mut stmt, k * width + 1, r).map_err(backend)?;
        }
        stmt.raw_execute().map_err(backend)?;
    }
    Ok(())
}

/// An event row waiting for [`insert_rows`]: its bytes as sealed (borrowed from the batch) or
/// encoded here.
struct EventRow<'a> {
    id: i64,
    dossier: i64,
    seq: i64,
    schema: u16,
    payload: std::borrow::Cow<'a, [u8]>,
    hash: &'a [u8],
}

/// The event in columns `at..at + 4` of `r` (seq, schema, payload, hash) of `dossier`, whose
/// previous event is `before`.
/// With `sealed`, the payload as stored is appended to it (the layout of
/// `StreamAppend::canonical`).
fn event_at(
    dossier: &DossierCode,
    r: &rusqlite::Row<'_>,
    at: usize,
    before: Option<&StoredEvent>,
    sealed: Option<&mut Vec<u8>>,
    lexicon: &Lexicon,
) -> Result<StoredEvent, StoreError> {
    let seq: i64 = r.get(at).map_err(backend)?;
    let schema: i64 = r.get(at + 1).map_err(backend)?;
    let hash: Vec<u8> = r.get(at + 3).map_err(backend)?;
    // Schema 1 kept JSON text, schema 2 the canonical bytes; either reads as bytes.
    let payload = match r.get_ref(at + 2).map_err(backend)? {
        ValueRef::Text(b) | ValueRef::Blob(b) => b,
        _ => return Err(backend(format!("{dossier} event {seq}: payload is neither bytes nor text"))),
    };
    let schema = u16::try_from(schema).map_err(|_| backend(format!("{dossier} event {seq}: bad schema")))?;
    if let Some(out) = sealed {
        push_part(out, payload);
    }
    let text = dossier.to_string();
    let mut buf = Vec::new();
    let (actor, event, meaning) = open_sealed(payload, schema, lexicon, &text, &mut buf)
        .map_err(|e| backend(format!("{dossier} event {seq}: {e}")))?;
    // The link is the previous event's hash (each hash covers its link, so an edit of either
    // shows in verify).
    let prev = before.map_or(GENESIS, |e| e.hash);
    let hash = if hash.len() == SHORT_HASH {
        // A lean event keeps 8 bytes of its hash: the full one is recomputed from the chain.
        // Bytes that no longer match those 8 are handed on as they are stored (zeros after
        // them), so `verify` names this event.
        let full = chain_hash(&prev, &text, seq as u64, schema, meaning);
        if full[..SHORT_HASH] == hash[..] {
            full
        } else {
            let mut kept = [0u8; 32];
            kept[..SHORT_HASH].copy_from_slice(&hash);
            kept
        }
    } else {
        to_hash(hash)?
    };
    Ok(StoredEvent { dossier: dossier.clone(), seq: seq as u64, schema, actor, event, prev, hash })
}

/// A projection row's queryable columns ([`DossierSummary`] is the row's exact projection;
/// these repeat what the portal's questions filter and order by).
struct Columns<'a> {
    agency: String,
    procedure: Option<String>,
    step_agency: Option<&'a str>,
    due: Option<i64>,
    clock_stopped: bool,
    open: bool,
}

impl<'a> Columns<'a> {
    /// `first` then the columns, in the statements' order (agency … open): one row's parameters.
    fn after<'b>(&'b self, first: &[&'b dyn rusqlite::ToSql]) -> Vec<&'b dyn rusqlite::ToSql> {
        let mut all = first.to_vec();
        all.extend_from_slice(&[
            &self.agency,
            &self.procedure,
            &self.step_agency,
            &self.due,
            &self.clock_stopped,
            &self.open,
        ]);
        all
    }

    fn of(s: &'a DossierSummary) -> Columns<'a> {
        let step = s.current_step();
        Columns {
            agency: s.dossier.agency().to_string(),
            procedure: s.procedure.as_ref().map(|p| p.to_string()),
            step_agency: step.map(|st| &*st.agency),
            due: s.due.map(Timestamp::utc_minutes),
            clock_stopped: s.clock_stopped,
            open: s.is_open(),
        }
    }
}

/// A counter key's text as its column keeps it: the dictionary's id when the text is there (an
/// integer of 1-3 bytes instead of 8-20 bytes of text, about 25 bytes a dossier-year on the
/// seed year), else the text. Rows of a key written before its text joined the dictionary stay
/// as they are; [`Store::counters`] adds the two up.
fn counter_key_value<'a>(text: &'a str, lexicon: &Lexicon) -> ToSqlOutput<'a> {
    match lexicon.id(text) {
        Some(id) => ToSqlOutput::Owned(Value::Integer(i64::from(id))),
        None => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
    }
}

/// Adds a batch's counter tallies to the stored rows.
fn add_counters(tx: &rusqlite::Transaction<'_>, counters: &Counters, lexicon: &Lexicon) -> Result<(), StoreError> {
    if counters.is_empty() {
        return Ok(());
    }
    let mut add = tx
        .prepare_cached(
            "INSERT INTO counters (agency, procedure, sector, channel, day, received, refused, resolved, early, \
             on_time, late, supplement_requests) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
             ON CONFLICT (agency, procedure, sector, channel, day) DO UPDATE SET \
             received = received + excluded.received, refused = refused + excluded.refused, \
             resolved = resolved + excluded.resolved, early = early + excluded.early, \
             on_time = on_time + excluded.on_time, late = late + excluded.late, \
             supplement_requests = supplement_requests + excluded.supplement_requests",
        )
        .map_err(backend)?;
    for (k, t) in counters.iter() {
        let (agency, procedure) = (k.agency.to_string(), k.procedure.to_string());
        add.execute(params![
            counter_key_value(&agency, lexicon),
            counter_key_value(&procedure, lexicon),
            counter_key_value(&k.sector, lexicon),
            i64::from(k.channel),
            k.day,
            t.received as i64,
            t.refused as i64,
            t.resolved as i64,
            t.early as i64,
            t.on_time as i64,
            t.late as i64,
            t.supplement_requests as i64
        ])
        .map_err(backend)?;
    }
    Ok(())
}

/// Migration 8: fills the warehouse's holder column from each row.
fn backfill_holders(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let mut rows: Vec<(String, Option<String>)> = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT number, row FROM results").map_err(backend)?;
        let mut q = stmt.query([]).map_err(backend)?;
        while let Some(r) = q.next().map_err(backend)? {
            let known: motcua_core::KnownResult = decode("result row", r.get_ref(1).map_err(backend)?)?;
            rows.push((r.get(0).map_err(backend)?, known.holder.map(|h| h.as_str().to_string())));
        }
    }
    let mut update = tx.prepare("UPDATE results SET holder = ?2 WHERE number = ?1").map_err(backend)?;
    for (number, holder) in rows {
        update.execute(params![number, holder]).map_err(backend)?;
    }
    Ok(())
}

/// Migration 5: fills the new columns of every dossier row, rewrites its summary (rows before
/// kept no `clock_stopped`) and the counters, by replaying each dossier's events.
fn backfill_projections(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let mut ids: Vec<(i64, String)> = Vec::new();
    {
        let mut stmt = tx.prepare("SELECT id, code FROM dossiers ORDER BY id").map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            ids.push((r.get(0).map_err(backend)?, r.get(1).map_err(backend)?));
        }
    }
    let no_sector: std::sync::Arc<str> = std::sync::Arc::from("");
    let mut counters = Counters::default();
    let mut events =
        tx.prepare("SELECT seq, schema, payload, hash FROM events WHERE dossier = ?1 ORDER BY seq").map_err(backend)?;
    let mut update = tx
        .prepare(
            "UPDATE dossiers SET summary = ?2, agency = ?3, procedure = ?4, status = ?5, national = ?6, \
             channel = ?7, step = ?8, step_agency = ?9, due = ?10, clock_stopped = ?11, received_at = ?12, \
             finished_at = ?13, open = ?14 WHERE id = ?1",
        )
        .map_err(backend)?;
    let mut buf = Vec::new();
    for (id, text) in ids {
        let code: DossierCode = text.parse().map_err(|e| backend(format!("corrupt dossier code {text:?}: {e}")))?;
        let mut state = motcua_core::Dossier::new();
        let mut stored: Vec<StoredEvent> = Vec::new();
        let mut rows = events.query([id]).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            let e = event_at(&code, r, 0, stored.last(), None, &Lexicon::default())?;
            motcua_core::apply(&mut state, &e.event);
            counters.record(&code, &no_sector, &e.event, &state);
            stored.push(e);
        }
        let summary = DossierSummary::of(&code, &state, stored.last().map_or(GENESIS, |e| e.hash));
        // Schema 5's columns (schema 11 drops those the summary holds).
        let step = summary.current_step();
        update
            .execute(params![
                id,
                lean_into(&summary, &mut buf)?,
                summary.dossier.agency().to_string(),
                summary.procedure.as_ref().map(|p| p.to_string()),
                summary.status.as_deref(),
                summary.national.map(i64::from),
                summary.channel.map(i64::from),
                step.map(|st| &*st.step.0),
                step.map(|st| &*st.agency),
                summary.due.map(Timestamp::utc_minutes),
                summary.clock_stopped,
                summary.received_at.map(Timestamp::utc_minutes),
                summary.finished_at.map(Timestamp::utc_minutes),
                summary.is_open(),
            ])
            .map_err(backend)?;
    }
    add_counters(tx, &counters, &Lexicon::default())
}

impl Store for SqliteStore {
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        // An event may refer to a dictionary entry another handle wrote: read the new entries
        // and decode again, once.
        retrying_unknown_ids(|| self.load_once(dossier), || self.refresh_lexicon())
    }

    fn dictionary(&self, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        self.read(|conn| read_dictionary(conn, from))
    }

    fn reserve_dictionary(&self, n: u32) -> Result<Option<u32>, StoreError> {
        if self.read_only {
            return Err(backend(format!("{}: opened read-only", self.path.display())));
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let first: i64 = tx.query_row("SELECT next FROM dictionary_next", [], |r| r.get(0)).map_err(backend)?;
        let first = u32::try_from(first).map_err(|_| backend("the dictionary is full"))?;
        let next = first.checked_add(n).ok_or_else(|| backend("the dictionary is full"))?;
        tx.execute("UPDATE dictionary_next SET next = ?1", [i64::from(next)]).map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(Some(first))
    }

    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        // The batch's new dictionary entries join this handle's dictionary first (their ids are
        // this writer's alone, and a failed batch is written again with them), so the
        // summaries can refer to them; they are written in the same transaction.
        self.lexicon.absorb(&batch.dictionary)?;
        let lexicon_now = self.lexicon.read()?;
        let mut scratch = RowScratch::default();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let mut hints = self.rowids.lock().map_err(|_| backend("a writer panicked while holding the row ids"))?;
        let mut learned: Vec<(DossierCode, i64)> = Vec::with_capacity(batch.streams.len());
        {
            // Statements say OR FAIL: a failing one leaves its partial change in place instead
            // of SQLite journaling every page it touches to undo just that statement — any
            // failure here rolls the whole transaction back anyway. None says RETURNING, which
            // SQLite buffers in a temporary table per execution.
            //
            // The version check: a new dossier inserts only if its code is absent, a known one
            // updates only at the expected version.
            let mut create = tx
                .prepare_cached(
                    "INSERT OR FAIL INTO dossiers (code, version, parties, summary, agency, procedure, \
                     step_agency, due, clock_stopped, open) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT(code) DO NOTHING",
                )
                .map_err(backend)?;
            let mut advance = tx
                .prepare_cached(
                    "UPDATE OR FAIL dossiers SET version = ?2, summary = ?3, procedure = ?6, step_agency = ?7, \
                     due = ?8, clock_stopped = ?9, open = ?10 WHERE id = ?1 AND version = ?4",
                )
                .map_err(backend)?;
            let mut version_of =
                tx.prepare_cached("SELECT id, version FROM dossiers WHERE code = ?1").map_err(backend)?;
            // Event rowids are given here, in order from the table's end, so an outbox row can
            // take its event's rowid without asking for it.
            let mut next_event: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM events")
                .map_err(backend)?
                .query_row([], |r| r.get(0))
                .map_err(backend)?;
            // Per dossier of the batch: its row id, the rowid its first new event took, its
            // version before the batch and its new events.
            let mut ids: FxHashMap<&DossierCode, (i64, i64, u64, usize)> =
                FxHashMap::with_capacity_and_hasher(batch.streams.len(), Default::default());
            let mut event_rows: Vec<EventRow<'_>> = Vec::with_capacity(batch.streams.len() * 2);
            let mut row = Vec::with_capacity(512);
            for s in &batch.streams {
                let code = s.dossier.to_string();
                let summary = lean_row_into(&s.summary, &code, &lexicon_now, &mut row, &mut scratch)?;
                let version = s.summary.version as i64;
                let expected = s.expected_version as i64;
                let c = Columns::of(&s.summary);
                let written = if s.expected_version == 0 {
                    // Lean bytes (an applicant's account id as its 16 bytes); JSON text before.
                    let mut bytes = Vec::new();
                    let parties = lean_into(&s.parties.clone().unwrap_or_default(), &mut bytes)?.to_vec();
                    let created = create.execute(&*c.after(&[&code, &version, &parties, &summary])).map_err(backend)?;
                    (created == 1).then(|| tx.last_insert_rowid())
                } else {
                    // By the hinted row id when there is one, else looked up by code; either
                    // way only at the expected version.
                    let mut advanced = |id: i64| {
                        advance
                            .execute(&*c.after(&[&id, &version, &summary, &expected]))
                            .map(|n| n == 1)
                            .map_err(backend)
                    };
                    match hints.get(&s.dossier) {
                        Some(&hinted) if advanced(hinted)? => Some(hinted),
                        _ => match version_of.query_row([&code], |r| r.get(0)).optional().map_err(backend)? {
                            Some(found) if advanced(found)? => Some(found),
                            _ => None,
                        },
                    }
                };
                let Some(id) = written else {
                    let actual: i64 =
                        version_of.query_row([&code], |r| r.get(1)).optional().map_err(backend)?.unwrap_or(0);
                    return Err(StoreError::VersionConflict {
                        dossier: s.dossier.clone(),
                        expected: s.expected_version,
                        actual: actual as u64,
                    });
                };
                learned.push((s.dossier.clone(), id));
                ids.insert(&s.dossier, (id, next_event, s.expected_version, s.events.len()));
                // The bytes the engine sealed, when it kept them; else encoded here.
                let mut sealed = canonical_parts(&s.canonical, s.events.len());
                for e in &s.events {
                    let payload = match sealed.as_mut().and_then(Iterator::next) {
                        Some(b) => std::borrow::Cow::Borrowed(b),
                        None => {
                            let mut bytes = Vec::new();
                            canonical_bytes(e.actor.as_ref(), &e.event, e.schema, &mut bytes).ok_or_else(|| {
                                backend(format!("{} event {}: unknown schema {}", s.dossier, e.seq, e.schema))
                            })?;
                            std::borrow::Cow::Owned(bytes)
                        }
                    };
                    event_rows.push(EventRow {
                        id: next_event,
                        dossier: id,
                        seq: e.seq as i64,
                        schema: e.schema,
                        payload,
                        // Lean events keep the first 8 bytes of their hash: the full hash
                        // follows from the chain when read, and these pin which event an
                        // edit touched (the last event's full hash is in its summary).
                        hash: if e.schema >= LEAN_SCHEMA { &e.hash[..SHORT_HASH] } else { &e.hash[..] },
                    });
                    next_event += 1;
                }
            }
            insert_rows(
                &tx,
                "INSERT OR FAIL INTO events (id, dossier, seq, schema, payload, hash) VALUES ",
                6,
                &event_rows,
                |stmt, at, r| {
                    stmt.raw_bind_parameter(at, r.id)?;
                    stmt.raw_bind_parameter(at + 1, r.dossier)?;
                    stmt.raw_bind_parameter(at + 2, r.seq)?;
                    stmt.raw_bind_parameter(at + 3, i64::from(r.schema))?;
                    // Schema 1 sealed JSON: keep it as text, as that schema stored it.
                    let bytes: &[u8] = &r.payload;
                    let value = ToSqlOutput::Borrowed(if r.schema == 1 {
                        ValueRef::Text(bytes)
                    } else {
                        ValueRef::Blob(bytes)
                    });
                    stmt.raw_bind_parameter(at + 4, value)?;
                    stmt.raw_bind_parameter(at + 5, r.hash)
                },
            )?;
            if !batch.dictionary.is_empty() {
                let mut put = tx
                    .prepare_cached("INSERT OR IGNORE INTO dictionary (id, text) VALUES (?1, ?2)")
                    .map_err(backend)?;
                for (id, text) in &batch.dictionary {
                    put.execute(params![i64::from(*id), &**text]).map_err(backend)?;
                }
            }
            let mut idem =
                tx.prepare_cached("INSERT INTO idempotency (key, record) VALUES (?1, ?2)").map_err(backend)?;
            for r in &batch.idempotency {
                idem.execute(params![r.key, json(r)?]).map_err(backend)?;
            }
            if !batch.results.is_empty() {
                let mut put = tx
                    .prepare_cached("INSERT OR REPLACE INTO results (number, row, holder) VALUES (?1, ?2, ?3)")
                    .map_err(backend)?;
                let mut buf = Vec::new();
                for r in &batch.results {
                    let holder = r.holder.as_ref().map(holder_bytes);
                    // The holder is the indexed column's (schema 11): the row leaves it out
                    // when those 16 bytes give it back (17 bytes a result less).
                    let indexed = r.holder.as_ref().and_then(motcua_core::ApplicantKey::to_bytes).is_some();
                    let row = if indexed {
                        let without = motcua_core::KnownResult { holder: None, ..r.clone() };
                        lean_row_into(&without, &r.number, &lexicon_now, &mut buf, &mut scratch)?
                    } else {
                        lean_row_into(r, &r.number, &lexicon_now, &mut buf, &mut scratch)?
                    };
                    put.execute(params![r.number, row, holder]).map_err(backend)?;
                }
            }
            // Messages: a row each (the event, when to try), inserted in groups; the message is
            // rendered from its event when it is sent.
            let mut messages: Vec<(i64, i64)> = Vec::with_capacity(batch.outbox.len());
            for m in &batch.outbox {
                let event = ids.get(&m.dossier).and_then(|&(id, first, before, count)| {
                    let k = m.seq.checked_sub(before + 1)?;
                    ((k as usize) < count).then_some((id, first + k as i64))
                });
                let Some((_, event)) = event else {
                    return Err(backend(format!("outbox message {} is for no event of the batch", m.id())));
                };
                messages.push((event, m.at.utc_minutes()));
            }
            insert_rows(
                &tx,
                "INSERT OR FAIL INTO outbox (id, next_attempt) VALUES ",
                2,
                &messages,
                |stmt, at, (event, minutes)| {
                    stmt.raw_bind_parameter(at, event)?;
                    stmt.raw_bind_parameter(at + 1, minutes)
                },
            )?;
        }
        add_counters(&tx, &batch.counters, &lexicon_now)?;
        // Dropping `tx` without commit rolls back: nothing of a failed batch is written (and
        // no row id it gave is kept as a hint).
        tx.commit().map_err(backend)?;
        if hints.len() + learned.len() > ROWID_HINTS {
            hints.clear();
        }
        hints.extend(learned);
        Ok(())
    }

    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.read(|conn| {
            let s: Option<String> = conn
                .query_row("SELECT record FROM idempotency WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            s.map(|s| parse("idempotency record", &s)).transpose()
        })
    }

    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT code FROM dossiers").map_err(backend)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
            let mut out = Vec::new();
            for r in rows {
                let s = r.map_err(backend)?;
                out.push(s.parse().map_err(|e| backend(format!("corrupt dossier code: {e}")))?);
            }
            out.sort_unstable();
            Ok(out)
        })
    }

    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT summary, code FROM dossiers").map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            let mut out: Vec<DossierSummary> = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let code = r.get_ref(1).map_err(backend)?.as_str().map_err(backend)?;
                out.push(self.summary_at(conn, code, r.get_ref(0).map_err(backend)?)?);
            }
            out.sort_unstable_by(|a, b| a.dossier.cmp(&b.dossier));
            Ok(out)
        })
    }

    fn for_each_summary(&self, f: &mut dyn FnMut(DossierSummary)) -> Result<(), StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT summary, code FROM dossiers").map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            while let Some(r) = rows.next().map_err(backend)? {
                let code = r.get_ref(1).map_err(backend)?.as_str().map_err(backend)?;
                f(self.summary_at(conn, code, r.get_ref(0).map_err(backend)?)?);
            }
            Ok(())
        })
    }

    fn for_each_stream(
        &self,
        f: &mut dyn FnMut(DossierCode, Stream) -> std::ops::ControlFlow<()>,
    ) -> Result<(), StoreError> {
        self.walk(false, &mut |code, stream, _| f(code, stream))
    }

    fn check_integrity(&self) -> Result<Option<String>, StoreError> {
        self.read(integrity)
    }

    fn for_each_sealed_stream(&self, f: &mut motcua_engine::store::SealedVisitor<'_>) -> Result<(), StoreError> {
        self.walk(true, f)
    }

    fn summary(&self, dossier: &DossierCode) -> Result<Option<DossierSummary>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT summary FROM dossiers WHERE code = ?1").map_err(backend)?;
            let mut rows = stmt.query([dossier.to_string()]).map_err(backend)?;
            match rows.next().map_err(backend)? {
                Some(r) => Ok(Some(self.summary_at(conn, &dossier.to_string(), r.get_ref(0).map_err(backend)?)?)),
                None => Ok(None),
            }
        })
    }

    fn deadlines(&self, query: &DeadlineQuery) -> Result<Page, StoreError> {
        // Open rows with a running clock, in (due, code) order through a partial index of open
        // rows: the filter's own index when there is one.
        let mut sql = String::from("SELECT summary, code FROM dossiers WHERE open = 1 AND clock_stopped = 0");
        let mut args: Vec<Value> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: Value| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        match query.view {
            DeadlineView::Overdue => arg(&mut sql, " AND due < ?", Value::Integer(query.as_of.utc_minutes())),
            DeadlineView::DueBefore { until } => {
                arg(&mut sql, " AND due >= ?", Value::Integer(query.as_of.utc_minutes()));
                arg(&mut sql, " AND due < ?", Value::Integer(until.utc_minutes()));
            }
        }
        if let Some(a) = &query.agency {
            arg(&mut sql, " AND agency = ?", Value::Text(a.to_string()));
        }
        if let Some(a) = &query.step_agency {
            arg(&mut sql, " AND step_agency = ?", Value::Text(a.clone()));
        }
        if let Some(p) = &query.procedure {
            arg(&mut sql, " AND procedure = ?", Value::Text(p.to_string()));
        }
        if let Some(c) = &query.after {
            arg(&mut sql, " AND (due, code) > (?", Value::Integer(c.due.utc_minutes()));
            arg(&mut sql, ", ?)", Value::Text(c.code.clone()));
        }
        let size = query.page_size();
        arg(&mut sql, " ORDER BY due, code LIMIT ?", Value::Integer(size as i64 + 1));
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(args.iter())).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let code = r.get_ref(1).map_err(backend)?.as_str().map_err(backend)?;
                out.push(self.summary_at(conn, code, r.get_ref(0).map_err(backend)?)?);
            }
            Ok(Page::of(out, size))
        })
    }

    fn backlog(&self, by: BacklogBy, as_of: Timestamp) -> Result<Vec<BacklogRow>, StoreError> {
        let column = match by {
            BacklogBy::Agency => "agency",
            BacklogBy::StepAgency => "step_agency",
            BacklogBy::Procedure => "procedure",
        };
        let sql = format!(
            "SELECT COALESCE({column}, '-'), COUNT(*), \
             COALESCE(SUM(clock_stopped = 0 AND due < ?1), 0), COALESCE(SUM(clock_stopped), 0) \
             FROM dossiers WHERE open = 1 GROUP BY 1 ORDER BY 1"
        );
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let mut rows = stmt.query([as_of.utc_minutes()]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let count = |i: usize| r.get::<_, i64>(i).map(|n| n as u64).map_err(backend);
                out.push(BacklogRow {
                    key: r.get(0).map_err(backend)?,
                    open: count(1)?,
                    overdue: count(2)?,
                    clock_stopped: count(3)?,
                });
            }
            Ok(out)
        })
    }

    fn counters(&self) -> Result<Counters, StoreError> {
        self.read(|conn| {
            // Key columns hold the dictionary's ids (or text): the entries this handle lacks first.
            self.lexicon.refresh(|from| read_dictionary(conn, from))?;
            let lexicon = self.lexicon.read()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT agency, procedure, sector, channel, day, received, refused, resolved, early, on_time, \
                     late, supplement_requests FROM counters",
                )
                .map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            let mut out = Counters::default();
            while let Some(r) = rows.next().map_err(backend)? {
                let text = |i: usize| -> Result<String, StoreError> {
                    match r.get_ref(i).map_err(backend)? {
                        ValueRef::Integer(id) => {
                            u32::try_from(id).ok().and_then(|id| lexicon.text(id)).map(|t| t.to_string()).ok_or_else(
                                || backend(format!("counters: dictionary id {id} is not in the dictionary")),
                            )
                        }
                        v => v.as_str().map(str::to_string).map_err(backend),
                    }
                };
                let n = |i: usize| r.get::<_, i64>(i).map(|v| v as u64).map_err(backend);
                let (agency, procedure) = (text(0)?, text(1)?);
                let key = CounterKey {
                    agency: agency.parse().map_err(|e| backend(format!("counters: agency {agency:?}: {e}")))?,
                    procedure: procedure
                        .parse()
                        .map_err(|e| backend(format!("counters: procedure {procedure:?}: {e}")))?,
                    sector: std::sync::Arc::from(text(2)?),
                    channel: u8::try_from(n(3)?).map_err(|_| backend("counters: channel out of range"))?,
                    day: r.get(4).map_err(backend)?,
                };
                let tally = Tally {
                    received: n(5)?,
                    refused: n(6)?,
                    resolved: n(7)?,
                    early: n(8)?,
                    on_time: n(9)?,
                    late: n(10)?,
                    supplement_requests: n(11)?,
                };
                out.add(key, &tally);
            }
            Ok(out)
        })
    }

    fn next_sequence(&self, agency: &AgencyCode, date: chrono::NaiveDate) -> Result<u64, StoreError> {
        let mut conn = self.writer()?;
        // The writer's connection, in its own durable transaction: a number handed out is on
        // disk, so a restart never hands it out again; BEGIN IMMEDIATE serializes processes.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        let n: i64 = tx
            .prepare_cached(
                "INSERT INTO sequences (agency, day, last) VALUES (?1, ?2, 1) \
                 ON CONFLICT (agency, day) DO UPDATE SET last = last + 1 RETURNING last",
            )
            .map_err(backend)?
            .query_row(params![agency.to_string(), motcua_calendar::day_number(date)], |r| r.get(0))
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(n as u64)
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        // The rows due, in the order written (rowids follow the events; no index: the table
        // holds only what is still to send), then each dossier's messages rendered from its
        // events, in one load per dossier.
        let rows: Vec<(String, u64, u32, i64)> = self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT d.code, e.seq, o.attempts, o.next_attempt FROM outbox o JOIN events e ON e.id = o.id \
                     JOIN dossiers d ON d.id = e.dossier WHERE o.next_attempt <= ?1 ORDER BY o.id LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![now.utc_minutes(), limit as i64], |r| {
                    Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u32, r.get(3)?))
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })?;
        motcua_engine::store::render_due(rows, |code| self.load(code))
    }

    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction().map_err(backend)?;
        {
            // Into the ledger, then out of the outbox.
            let mut ledger = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO deliveries (id, delivered_at) \
                     SELECT id, ?3 FROM outbox WHERE id = (SELECT e.id FROM events e \
                     WHERE e.dossier = (SELECT id FROM dossiers WHERE code = ?1) AND e.seq = ?2)",
                )
                .map_err(backend)?;
            let mut delivered = tx
                .prepare_cached(
                    "DELETE FROM outbox WHERE id = (SELECT e.id FROM events e \
                     WHERE e.dossier = (SELECT id FROM dossiers WHERE code = ?1) AND e.seq = ?2)",
                )
                .map_err(backend)?;
            let mut retry = tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = ?3, next_attempt = ?4 WHERE id = (SELECT e.id FROM events e \
                     WHERE e.dossier = (SELECT id FROM dossiers WHERE code = ?1) AND e.seq = ?2)",
                )
                .map_err(backend)?;
            for u in updates {
                let id = match u {
                    OutboxUpdate::Delivered { id, .. } | OutboxUpdate::Retry { id, .. } => id,
                };
                // Ids this store did not issue match no message (as before: nothing to update).
                let Some((code, seq)) = split_message_id(id).and_then(|(c, n)| Some((c, i64::try_from(n).ok()?)))
                else {
                    continue;
                };
                match u {
                    OutboxUpdate::Delivered { at, .. } => ledger
                        .execute(params![code, seq, at.utc_minutes()])
                        .and_then(|_| delivered.execute(params![code, seq])),
                    OutboxUpdate::Retry { attempts, next_attempt, .. } => {
                        retry.execute(params![code, seq, i64::from(*attempts), next_attempt.utc_minutes()])
                    }
                }
                .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }

    fn outbox_pending(&self) -> Result<usize, StoreError> {
        self.read(|conn| {
            let n: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0)).map_err(backend)?;
            Ok(n as usize)
        })
    }

    fn deliveries(&self, dossier: &DossierCode) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT e.seq, l.delivered_at FROM events e JOIN deliveries l ON l.id = e.id \
                     WHERE e.dossier = (SELECT id FROM dossiers WHERE code = ?1) ORDER BY e.seq",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![dossier.to_string()], |r| {
                    Ok(DeliveryRecord {
                        seq: r.get::<_, i64>(0)? as u64,
                        delivered_at: Timestamp::from_utc_minutes(r.get(1)?),
                    })
                })
                .map_err(backend)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(backend)
        })
    }

    fn put_services(&self, services: &[ServiceRow]) -> Result<(), StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction().map_err(backend)?;
        tx.execute("DELETE FROM services", []).map_err(backend)?;
        {
            let mut insert =
                tx.prepare_cached("INSERT OR REPLACE INTO services (code, row) VALUES (?1, ?2)").map_err(backend)?;
            let mut buf = Vec::new();
            for s in services {
                insert.execute(params![s.procedure.to_string(), bin_into(s, &mut buf)?]).map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }

    fn result(&self, number: &str) -> Result<Option<motcua_core::KnownResult>, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT row, number, holder FROM results WHERE number = ?1").map_err(backend)?;
            let mut rows = stmt.query(params![number]).map_err(backend)?;
            match rows.next().map_err(backend)? {
                Some(r) => Ok(Some(self.result_at(conn, r)?)),
                None => Ok(None),
            }
        })
    }

    fn results_of(
        &self,
        holder: &motcua_core::ApplicantKey,
        day: chrono::NaiveDate,
    ) -> Result<Vec<motcua_core::KnownResult>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT row, number, holder FROM results WHERE holder = ?1 OR holder = ?2 ORDER BY number",
                )
                .map_err(backend)?;
            let mut rows = stmt.query(params![holder_bytes(holder), holder.as_str()]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let known = self.result_at(conn, r)?;
                if known.in_force_on(day) {
                    out.push(known);
                }
            }
            Ok(out)
        })
    }

    fn for_each_result(&self, f: &mut dyn FnMut(motcua_core::KnownResult)) -> Result<(), StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare("SELECT row, number, holder FROM results").map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            while let Some(r) = rows.next().map_err(backend)? {
                f(self.result_at(conn, r)?);
            }
            Ok(())
        })
    }

    fn services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT row FROM services ORDER BY code").map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                out.push(decode("service row", r.get_ref(0).map_err(backend)?)?);
            }
            Ok(out)
        })
    }

    fn sync_tally(&self) -> Result<SyncTally, StoreError> {
        self.read(|conn| {
            let (dossiers, messages): (i64, i64) = conn
                .query_row(
                    "SELECT COUNT(DISTINCT e.dossier), COUNT(*) FROM deliveries l JOIN events e ON e.id = l.id",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(backend)?;
            Ok(SyncTally { dossiers_synced: dossiers as u64, messages_delivered: messages as u64 })
        })
    }
}

/// The naive baseline benchmarks compare the store with: a plain insert loop, one row per
/// transaction, in a file with the store's own pragmas (WAL, `synchronous = FULL`).
pub mod baseline {
    use std::path::Path;

    use rusqlite::{params, Connection};

    use super::{backend, PRAGMAS};
    use motcua_engine::StoreError;

    /// Inserts `rows` rows of `payload`, each in its own committed transaction.
    pub fn one_row_per_transaction(path: &Path, rows: u64, payload: &str) -> Result<(), StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.execute_batch(PRAGMAS).map_err(backend)?;
        conn.execute_batch(include_str!("../sql/baseline.sql")).map_err(backend)?;
        for _ in 0..rows {
            conn.execute("INSERT INTO baseline (payload) VALUES (?1)", params![payload]).map_err(backend)?;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// The summary of dossier `code` in column value `v` (lean, MessagePack or JSON); a
    /// dictionary id this handle does not hold yet is read from `conn` first.
    fn summary_at(&self, conn: &Connection, code: &str, v: ValueRef<'_>) -> Result<DossierSummary, StoreError> {
        self.row_at(conn, "summary", code, v)
    }

    /// The row keyed `key` in column value `v` (lean, MessagePack or JSON); a dictionary id
    /// this handle does not hold yet is read from `conn` first.
    fn row_at<T: serde::de::DeserializeOwned>(
        &self,
        conn: &Connection,
        what: &str,
        key: &str,
        v: ValueRef<'_>,
    ) -> Result<T, StoreError> {
        let code = key;
        let ValueRef::Blob(b) = v else { return decode(what, v) };
        if !is_lean(b) {
            return decode(what, v);
        }
        let expand = |lexicon: &Lexicon| {
            let mut tree = Vec::with_capacity(b.len() * 2);
            motcua_engine::store::lean::expand(b, lexicon, code, &mut tree).map(|()| tree)
        };
        let first = expand(&*self.lexicon.read()?);
        let tree = match first {
            Err(motcua_engine::store::lean::LeanError::UnknownId(_)) => {
                self.lexicon.refresh(|from| read_dictionary(conn, from))?;
                expand(&*self.lexicon.read()?)
            }
            other => other,
        };
        let tree = tree.map_err(|e| backend(format!("corrupt {what} of {code}: {e}")))?;
        rmp_serde::from_slice(&tree).map_err(|e| backend(format!("corrupt {what} of {code}: {e}")))
    }

    /// The warehouse row of a `SELECT row, number, holder` row: its holder from the indexed
    /// column when the row leaves it out (schema 11).
    fn result_at(&self, conn: &Connection, r: &rusqlite::Row<'_>) -> Result<motcua_core::KnownResult, StoreError> {
        let number = r.get_ref(1).map_err(backend)?.as_str().map_err(backend)?;
        let mut known: motcua_core::KnownResult =
            self.row_at(conn, "result row", number, r.get_ref(0).map_err(backend)?)?;
        if known.holder.is_none() {
            if let ValueRef::Blob(b) = r.get_ref(2).map_err(backend)? {
                known.holder = Some(
                    holder_from_bytes(b).ok_or_else(|| backend(format!("corrupt result row {number}: its holder")))?,
                );
            }
        }
        Ok(known)
    }

    /// [`Store::load`] with the dictionary as this handle holds it.
    fn load_once(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        self.read(|conn| {
            let code = dossier.to_string();
            let mut head =
                conn.prepare_cached("SELECT id, parties, summary FROM dossiers WHERE code = ?1").map_err(backend)?;
            let row: Option<(i64, Value, Value)> =
                head.query_row([&code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional().map_err(backend)?;
            let row = match row {
                Some((id, parties, summary)) => Some((
                    id,
                    decode::<Parties>("parties", ValueRef::from(&parties))?,
                    self.summary_at(conn, &code, ValueRef::from(&summary))?,
                )),
                None => None,
            };
            let Some((id, parties, summary)) = row else { return Ok(None) };
            let mut stmt = conn
                .prepare_cached("SELECT seq, schema, payload, hash FROM events WHERE dossier = ?1 ORDER BY seq")
                .map_err(backend)?;
            let mut rows = stmt.query([id]).map_err(backend)?;
            let mut events: Vec<StoredEvent> = Vec::new();
            let lexicon = self.lexicon.read()?;
            while let Some(r) = rows.next().map_err(backend)? {
                let event = event_at(dossier, r, 0, events.last(), None, &lexicon)?;
                events.push(event);
            }
            Ok(Some(Stream { events, parties, summary: Some(summary) }))
        })
    }

    /// Reads the dictionary entries this handle does not hold yet.
    fn refresh_lexicon(&self) -> Result<(), StoreError> {
        self.lexicon.refresh(|from| self.read(|conn| read_dictionary(conn, from)))
    }
}

/// The dictionary's entries from id `from` on.
fn read_dictionary(conn: &Connection, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, text FROM dictionary WHERE id >= ?1 ORDER BY id").map_err(backend)?;
    let rows =
        stmt.query_map([i64::from(from)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).map_err(backend)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, text) = row.map_err(backend)?;
        let id = u32::try_from(id).map_err(|_| backend(format!("table dictionary: id {id} out of range")))?;
        out.push((id, std::sync::Arc::from(text)));
    }
    Ok(out)
}

impl SqliteStore {
    /// Every dossier's stream in row order, with its events' sealed bytes as stored when
    /// `keep` (else an empty slice).
    fn walk(&self, keep: bool, f: &mut motcua_engine::store::SealedVisitor<'_>) -> Result<(), StoreError> {
        self.refresh_lexicon()?;
        // A copy for the walk: no lock held while it calls back (or decodes a summary).
        let lexicon = self.lexicon.read()?.clone();
        self.read(|conn| {
            // One pass: dossiers in row order, each joined with its events through the
            // (dossier, seq) index; a dossier without events still comes (its projection is
            // checked against an empty history).
            let mut stmt = conn
                .prepare(
                    "SELECT d.id, d.code, d.parties, d.summary, e.seq, e.schema, e.payload, e.hash \
                 FROM dossiers d LEFT JOIN events e ON e.dossier = d.id ORDER BY d.id, e.seq",
                )
                .map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            let mut current: Option<(i64, DossierCode, Stream)> = None;
            let mut sealed = Vec::new();
            while let Some(r) = rows.next().map_err(backend)? {
                let id: i64 = r.get(0).map_err(backend)?;
                if current.as_ref().is_none_or(|(cur, _, _)| *cur != id) {
                    if let Some((_, code, stream)) = current.take() {
                        if f(code, stream, &sealed).is_break() {
                            return Ok(());
                        }
                        sealed.clear();
                    }
                    let text: String = r.get(1).map_err(backend)?;
                    let code: DossierCode =
                        text.parse().map_err(|e| backend(format!("corrupt dossier code {text:?}: {e}")))?;
                    let parties: Parties = decode("parties", r.get_ref(2).map_err(backend)?)?;
                    let stream = Stream {
                        events: Vec::new(),
                        parties,
                        summary: Some(self.summary_at(conn, &text, r.get_ref(3).map_err(backend)?)?),
                    };
                    current = Some((id, code, stream));
                }
                let Some((_, code, stream)) = current.as_mut() else { continue };
                if r.get_ref(4).map_err(backend)? != ValueRef::Null {
                    let event = event_at(code, r, 4, stream.events.last(), keep.then_some(&mut sealed), &lexicon)?;
                    stream.events.push(event);
                }
            }
            if let Some((_, code, stream)) = current {
                let _ = f(code, stream, &sealed);
            }
            Ok(())
        })
    }
}

/// The tables a store of [`SCHEMA_VERSION`] holds.
const TABLES: [&str; 10] = [
    "dossiers",
    "events",
    "outbox",
    "idempotency",
    "counters",
    "sequences",
    "deliveries",
    "services",
    "results",
    "dictionary",
];

/// The file's own integrity, then its tables and rows: the first fault, said for people.
fn integrity(conn: &Connection) -> Result<Option<String>, StoreError> {
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(backend)?;
    if check != "ok" {
        return Ok(Some(format!("database: SQLite's integrity check says {check:?}")));
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)?;
    if version != SCHEMA_VERSION {
        return Ok(Some(format!("database: schema version {version}, expected {SCHEMA_VERSION}")));
    }
    for table in TABLES {
        let found: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))
            .map_err(backend)?;
        if found == 0 {
            return Ok(Some(format!("table {table}: missing")));
        }
    }
    // Each dossier row's version is the number of its last event.
    let row: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT d.code, d.version, coalesce(max(e.seq), 0) FROM dossiers d LEFT JOIN events e ON e.dossier = d.id \
             GROUP BY d.id HAVING d.version != coalesce(max(e.seq), 0) LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(backend)?;
    if let Some((code, version, last)) = row {
        return Ok(Some(format!("table dossiers, row {code}: version {version}, but its last event is {last}")));
    }
    // Each ledger row and each outbox row is keyed by an event (whose message was delivered,
    // or is still to send) of a dossier the store holds.
    for table in ["deliveries", "outbox"] {
        let row: Option<i64> = conn
            .query_row(
                &format!(
                    "SELECT t.id FROM {table} t LEFT JOIN events e ON e.id = t.id \
                     LEFT JOIN dossiers d ON d.id = e.dossier WHERE d.id IS NULL LIMIT 1"
                ),
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        if let Some(id) = row {
            return Ok(Some(format!("table {table}, row {id}: keyed by no event of a dossier the store holds")));
        }
    }
    // Each idempotency record names events its dossier has.
    let mut stmt = conn.prepare("SELECT key, record FROM idempotency").map_err(backend)?;
    let mut rows = stmt.query([]).map_err(backend)?;
    let mut version_of = conn.prepare("SELECT version FROM dossiers WHERE code = ?1").map_err(backend)?;
    while let Some(r) = rows.next().map_err(backend)? {
        let key: String = r.get(0).map_err(backend)?;
        let record: IdempotencyRecord = match decode("idempotency record", r.get_ref(1).map_err(backend)?) {
            Ok(x) => x,
            Err(e) => return Ok(Some(format!("table idempotency, key {key:?}: {e}"))),
        };
        let version: Option<i64> =
            version_of.query_row([record.dossier.to_string()], |r| r.get(0)).optional().map_err(backend)?;
        let sound = record.key == key
            && record.first_seq <= record.last_seq
            && version.is_some_and(|v| record.last_seq <= v as u64);
        if !sound {
            return Ok(Some(format!(
                "table idempotency, key {key:?}: claims {} events {}..={} it does not have",
                record.dossier, record.first_seq, record.last_seq
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A schema-7 file (the warehouse without its holder column) is migrated on open: the
    /// column is filled from each row, and an applicant's results are read by it.
    #[test]
    fn migration_8_fills_the_holder_of_rows_written_before() {
        let dir = tempfile::Builder::new().prefix("motcua-sqlite-unit-m8-").tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let key = motcua_core::IdentityKey::new(&[5u8; 32]).unwrap();
        let holder = key.applicant_key(&"058203004567".parse().unwrap());
        let row = motcua_core::KnownResult {
            number: "XN-1".into(),
            holder: Some(holder.clone()),
            kind: "Giấy xác nhận".into(),
            valid_until: chrono::NaiveDate::from_ymd_opt(2025, 8, 31),
            revoked: false,
            issued_by: None,
            expired: false,
        };
        {
            let store = SqliteStore::open(&path).unwrap();
            store.append(&mut AppendBatch { results: vec![row.clone()], ..AppendBatch::default() }).unwrap();
            let conn = store.conn.lock().unwrap();
            // As schema 7 wrote it: MessagePack, the holder in the row.
            let mut buf = Vec::new();
            conn.execute("UPDATE results SET row = ?1", [bin_into(&row, &mut buf).unwrap()]).unwrap();
            conn.execute_batch(
                "DROP INDEX results_by_holder; ALTER TABLE results DROP COLUMN holder; PRAGMA user_version = 7;",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2025, 4, 1).unwrap();
        assert_eq!(store.results_of(&holder, day).unwrap(), [row]);
        assert!(store.results_of(&holder, chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap()).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
