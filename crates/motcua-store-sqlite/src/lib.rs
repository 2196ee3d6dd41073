//! # motcua-store-sqlite: the embedded default store
//!
//! One SQLite file in WAL mode with `synchronous = FULL`: a transaction that returned is on
//! disk. Every [`Store::append`] is one transaction (`BEGIN IMMEDIATE … COMMIT`), so the engine's
//! `handle_batch` is a group commit. The schema is versioned (`PRAGMA user_version`) and
//! migrated on open; the SQL lives in `sql/*.sql`. Only this crate contains SQL.
//!
//! ```
//! use motcua_engine::Store;
//! let dir = std::env::temp_dir().join(format!("motcua-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = motcua_store_sqlite::SqliteStore::open(&dir.join("year.sqlite"))?;
//! assert!(store.dossiers()?.is_empty());
//! # Ok::<(), motcua_engine::StoreError>(())
//! ```

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use motcua_calendar::Timestamp;
use motcua_core::{DossierCode, Event};
use motcua_engine::store::{
    canonical_bytes, canonical_parts, decode_event, split_message_id, AppendBatch, DossierSummary, Hash,
    IdempotencyRecord, OutboxEntry, OutboxUpdate, Store, StoreError, StoredEvent, Stream, SyncMessage, GENESIS,
};
use motcua_engine::Parties;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use rustc_hash::FxHashMap;

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = 4;

/// Migrations, in order; migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 4] = [
    include_str!("../sql/0001_init.sql"),
    include_str!("../sql/0002_lean.sql"),
    include_str!("../sql/0003_outbox_delete_delivered.sql"),
    include_str!("../sql/0004_outbox_by_event.sql"),
];
const PRAGMAS: &str = include_str!("../sql/pragmas.sql");

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Row ids of dossiers this handle wrote lately (a hint: the write still checks the
    /// version, so another connection's writes cannot make it wrong). Locked after `conn`.
    rowids: Mutex<FxHashMap<DossierCode, i64>>,
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
            tx.execute_batch(sql).map_err(|e| backend(format!("{}: migration {}: {e}", path.display(), i + 1)))?;
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        // Room for every multi-row insert shape (`ROWS_PER_INSERT` sizes of two tables) and the
        // other statements.
        conn.set_prepared_statement_cache_capacity(2 * ROWS_PER_INSERT + 32);
        Ok(SqliteStore { conn: Mutex::new(conn), path: path.to_path_buf(), rowids: Mutex::default() })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| backend("a writer panicked while holding the connection"))
    }

    /// Moves the WAL into the main file (e.g. before copying the file).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn()?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(backend)
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

/// Reads a summary or message column: MessagePack when a BLOB, JSON when TEXT (rows migrated
/// from schema version 1).
fn decode<T: serde::de::DeserializeOwned>(what: &str, v: ValueRef<'_>) -> Result<T, StoreError> {
    match v {
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
fn event_at(
    dossier: &DossierCode,
    r: &rusqlite::Row<'_>,
    at: usize,
    before: Option<&StoredEvent>,
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
    let event: Event = decode_event(payload, schema)?;
    // The link is the previous row's hash (each hash covers its link, so an edit of either
    // shows in verify).
    let prev = before.map_or(GENESIS, |e| e.hash);
    Ok(StoredEvent { dossier: dossier.clone(), seq: seq as u64, schema, event, prev, hash: to_hash(hash)? })
}

impl Store for SqliteStore {
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        let conn = self.conn()?;
        let code = dossier.to_string();
        let mut head =
            conn.prepare_cached("SELECT id, parties, summary FROM dossiers WHERE code = ?1").map_err(backend)?;
        let row: Option<(i64, String, Value)> =
            head.query_row([&code], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional().map_err(backend)?;
        let row = match row {
            Some((id, parties, summary)) => Some((
                id,
                parse::<Parties>("parties", &parties)?,
                decode::<DossierSummary>("summary", ValueRef::from(&summary))?,
            )),
            None => None,
        };
        let Some((id, parties, summary)) = row else { return Ok(None) };
        let mut stmt = conn
            .prepare_cached("SELECT seq, schema, payload, hash FROM events WHERE dossier = ?1 ORDER BY seq")
            .map_err(backend)?;
        let mut rows = stmt.query([id]).map_err(backend)?;
        let mut events: Vec<StoredEvent> = Vec::new();
        while let Some(r) = rows.next().map_err(backend)? {
            let event = event_at(dossier, r, 0, events.last())?;
            events.push(event);
        }
        Ok(Some(Stream { events, parties, summary: Some(summary) }))
    }

    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
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
                    "INSERT OR FAIL INTO dossiers (code, version, parties, summary) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(code) DO NOTHING",
                )
                .map_err(backend)?;
            let mut advance = tx
                .prepare_cached("UPDATE OR FAIL dossiers SET version = ?2, summary = ?3 WHERE id = ?1 AND version = ?4")
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
                let summary = bin_into(&s.summary, &mut row)?;
                let version = s.summary.version as i64;
                let expected = s.expected_version as i64;
                let written = if s.expected_version == 0 {
                    let parties = json(&s.parties.clone().unwrap_or_default())?;
                    let created = create.execute(params![code, version, parties, summary]).map_err(backend)?;
                    (created == 1).then(|| tx.last_insert_rowid())
                } else {
                    // By the hinted row id when there is one, else looked up by code; either
                    // way only at the expected version.
                    let mut advanced = |id: i64| {
                        advance.execute(params![id, version, summary, expected]).map(|n| n == 1).map_err(backend)
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
                            canonical_bytes(&e.event, e.schema, &mut bytes).ok_or_else(|| {
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
                        hash: &e.hash[..],
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
            let mut idem =
                tx.prepare_cached("INSERT INTO idempotency (key, record) VALUES (?1, ?2)").map_err(backend)?;
            for r in &batch.idempotency {
                idem.execute(params![r.key, json(r)?]).map_err(backend)?;
            }
            // Messages: encoded one after another into one buffer, then inserted in groups.
            let mut messages: Vec<(i64, i64, i64, i64, std::ops::Range<usize>)> =
                Vec::with_capacity(batch.outbox.len());
            row.clear();
            for m in &batch.outbox {
                let event = ids.get(&m.dossier).and_then(|&(id, first, before, count)| {
                    let k = m.seq.checked_sub(before + 1)?;
                    ((k as usize) < count).then_some((id, first + k as i64))
                });
                let Some((dossier, event)) = event else {
                    return Err(backend(format!("outbox message {} is for no event of the batch", m.id())));
                };
                let start = row.len();
                rmp_serde::encode::write(&mut row, m).map_err(backend)?;
                messages.push((event, dossier, m.seq as i64, m.at.utc_minutes(), start..row.len()));
            }
            insert_rows(
                &tx,
                "INSERT OR FAIL INTO outbox (id, dossier, seq, at, next_attempt, message) VALUES ",
                6,
                &messages,
                |stmt, at, (event, dossier, seq, minutes, bytes)| {
                    stmt.raw_bind_parameter(at, event)?;
                    stmt.raw_bind_parameter(at + 1, dossier)?;
                    stmt.raw_bind_parameter(at + 2, seq)?;
                    stmt.raw_bind_parameter(at + 3, minutes)?;
                    stmt.raw_bind_parameter(at + 4, minutes)?;
                    stmt.raw_bind_parameter(at + 5, row.get(bytes.clone()).unwrap_or_default())
                },
            )?;
        }
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
        let conn = self.conn()?;
        let s: Option<String> = conn
            .query_row("SELECT record FROM idempotency WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        s.map(|s| parse("idempotency record", &s)).transpose()
    }

    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT code FROM dossiers").map_err(backend)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            let s = r.map_err(backend)?;
            out.push(s.parse().map_err(|e| backend(format!("corrupt dossier code: {e}")))?);
        }
        out.sort_unstable();
        Ok(out)
    }

    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT summary FROM dossiers").map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        let mut out: Vec<DossierSummary> = Vec::new();
        while let Some(r) = rows.next().map_err(backend)? {
            out.push(decode("summary", r.get_ref(0).map_err(backend)?)?);
        }
        out.sort_unstable_by(|a, b| a.dossier.cmp(&b.dossier));
        Ok(out)
    }

    fn for_each_summary(&self, f: &mut dyn FnMut(DossierSummary)) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT summary FROM dossiers").map_err(backend)?;
        let mut rows = stmt.query([]).map_err(backend)?;
        while let Some(r) = rows.next().map_err(backend)? {
            f(decode("summary", r.get_ref(0).map_err(backend)?)?);
        }
        Ok(())
    }

    fn for_each_stream(
        &self,
        f: &mut dyn FnMut(DossierCode, Stream) -> std::ops::ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let conn = self.conn()?;
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
        while let Some(r) = rows.next().map_err(backend)? {
            let id: i64 = r.get(0).map_err(backend)?;
            if current.as_ref().is_none_or(|(cur, _, _)| *cur != id) {
                if let Some((_, code, stream)) = current.take() {
                    if f(code, stream).is_break() {
                        return Ok(());
                    }
                }
                let text: String = r.get(1).map_err(backend)?;
                let code: DossierCode =
                    text.parse().map_err(|e| backend(format!("corrupt dossier code {text:?}: {e}")))?;
                let parties: String = r.get(2).map_err(backend)?;
                let stream = Stream {
                    events: Vec::new(),
                    parties: parse("parties", &parties)?,
                    summary: Some(decode("summary", r.get_ref(3).map_err(backend)?)?),
                };
                current = Some((id, code, stream));
            }
            let Some((_, code, stream)) = current.as_mut() else { continue };
            if r.get_ref(4).map_err(backend)? != ValueRef::Null {
                let event = event_at(code, r, 4, stream.events.last())?;
                stream.events.push(event);
            }
        }
        if let Some((_, code, stream)) = current {
            let _ = f(code, stream);
        }
        Ok(())
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                // In the order written (rowids follow the events); no index: the table holds
                // only what is still to send.
                "SELECT message, attempts, next_attempt, seq FROM outbox WHERE next_attempt <= ?1 \
                 ORDER BY id LIMIT ?2",
            )
            .map_err(backend)?;
        let mut rows = stmt.query(params![now.utc_minutes(), limit as i64]).map_err(backend)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(backend)? {
            let mut message: SyncMessage = decode("outbox message", r.get_ref(0).map_err(backend)?)?;
            message.seq = r.get::<_, i64>(3).map_err(backend)? as u64;
            out.push(OutboxEntry {
                message,
                attempts: r.get::<_, i64>(1).map_err(backend)? as u32,
                next_attempt: Timestamp::from_utc_minutes(r.get(2).map_err(backend)?),
            });
        }
        Ok(out)
    }

    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(backend)?;
        {
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
                    OutboxUpdate::Delivered { id } | OutboxUpdate::Retry { id, .. } => id,
                };
                // Ids this store did not issue match no message (as before: nothing to update).
                let Some((code, seq)) = split_message_id(id).and_then(|(c, n)| Some((c, i64::try_from(n).ok()?)))
                else {
                    continue;
                };
                match u {
                    OutboxUpdate::Delivered { .. } => delivered.execute(params![code, seq]),
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
        let conn = self.conn()?;
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0)).map_err(backend)?;
        Ok(n as usize)
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
