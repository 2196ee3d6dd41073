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
use motcua_engine::{
    AppendBatch, DossierSummary, Hash, IdempotencyRecord, OutboxEntry, OutboxUpdate, Parties, Store, StoreError,
    StoredEvent, Stream, SyncMessage,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Migrations, in order; migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 1] = [include_str!("../sql/0001_init.sql")];
const PRAGMAS: &str = include_str!("../sql/pragmas.sql");

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

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
            tx.execute_batch(sql).map_err(backend)?;
            tx.pragma_update(None, "user_version", i as i64 + 1).map_err(backend)?;
            tx.commit().map_err(backend)?;
        }
        Ok(SqliteStore { conn: Mutex::new(conn), path: path.to_path_buf() })
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

impl Store for SqliteStore {
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        let conn = self.conn()?;
        let code = dossier.to_string();
        let row: Option<(String, String)> = conn
            .query_row("SELECT parties, summary FROM dossiers WHERE dossier = ?1", [&code], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(backend)?;
        let mut stmt = conn
            .prepare_cached("SELECT seq, schema, payload, prev, hash FROM events WHERE dossier = ?1 ORDER BY seq")
            .map_err(backend)?;
        let rows = stmt
            .query_map([&code], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })
            .map_err(backend)?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, schema, payload, prev, hash) = row.map_err(backend)?;
            let event: Event = parse("event", &payload)?;
            events.push(StoredEvent {
                dossier: dossier.clone(),
                seq: seq as u64,
                schema: schema as u16,
                event,
                prev: to_hash(prev)?,
                hash: to_hash(hash)?,
            });
        }
        if events.is_empty() && row.is_none() {
            return Ok(None);
        }
        let (parties, summary) = match row {
            Some((p, s)) => (parse::<Parties>("parties", &p)?, Some(parse::<DossierSummary>("summary", &s)?)),
            None => (Parties::default(), None),
        };
        Ok(Some(Stream { events, parties, summary }))
    }

    fn append(&self, batch: AppendBatch) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
        {
            let mut version_of =
                tx.prepare_cached("SELECT version FROM dossiers WHERE dossier = ?1").map_err(backend)?;
            let mut insert_event = tx
                .prepare_cached(
                    "INSERT INTO events (dossier, seq, schema, payload, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(backend)?;
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO dossiers (dossier, version, parties, summary) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(dossier) DO UPDATE SET version = excluded.version, summary = excluded.summary",
                )
                .map_err(backend)?;
            for s in &batch.streams {
                let code = s.dossier.to_string();
                let actual: i64 = version_of.query_row([&code], |r| r.get(0)).optional().map_err(backend)?.unwrap_or(0);
                if actual as u64 != s.expected_version {
                    return Err(StoreError::VersionConflict {
                        dossier: s.dossier.clone(),
                        expected: s.expected_version,
                        actual: actual as u64,
                    });
                }
                for e in &s.events {
                    let payload = motcua_engine::encode_event(&e.event);
                    insert_event
                        .execute(params![code, e.seq as i64, i64::from(e.schema), payload, &e.prev[..], &e.hash[..]])
                        .map_err(backend)?;
                }
                let parties = json(&s.parties.clone().unwrap_or_default())?;
                upsert.execute(params![code, s.summary.version as i64, parties, json(&s.summary)?]).map_err(backend)?;
            }
            let mut idem =
                tx.prepare_cached("INSERT INTO idempotency (key, record) VALUES (?1, ?2)").map_err(backend)?;
            for r in &batch.idempotency {
                idem.execute(params![r.key, json(r)?]).map_err(backend)?;
            }
            let mut outbox = tx
                .prepare_cached("INSERT INTO outbox (id, at, message, next_attempt) VALUES (?1, ?2, ?3, ?2)")
                .map_err(backend)?;
            for m in &batch.outbox {
                outbox.execute(params![m.id, m.at.utc_minutes(), json(m)?]).map_err(backend)?;
            }
        }
        // Dropping `tx` without commit rolls back: nothing of a failed batch is written.
        tx.commit().map_err(backend)
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
        let mut stmt = conn
            .prepare("SELECT dossier FROM dossiers UNION SELECT DISTINCT dossier FROM events ORDER BY 1")
            .map_err(backend)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            let s = r.map_err(backend)?;
            out.push(s.parse().map_err(|e| backend(format!("corrupt dossier code: {e}")))?);
        }
        out.sort();
        Ok(out)
    }

    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT summary FROM dossiers ORDER BY dossier").map_err(backend)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(parse::<DossierSummary>("summary", &r.map_err(backend)?)?);
        }
        Ok(out)
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT message, attempts, next_attempt FROM outbox WHERE delivered = 0 AND next_attempt <= ?1 \
                 ORDER BY at, id LIMIT ?2",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![now.utc_minutes(), limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for r in rows {
            let (m, attempts, next) = r.map_err(backend)?;
            let message: SyncMessage = parse("outbox message", &m)?;
            out.push(OutboxEntry {
                message,
                attempts: attempts as u32,
                next_attempt: Timestamp::from_utc_minutes(next),
                delivered: false,
            });
        }
        Ok(out)
    }

    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(backend)?;
        for u in updates {
            match u {
                OutboxUpdate::Delivered { id } => {
                    tx.execute("UPDATE outbox SET delivered = 1 WHERE id = ?1", [id]).map_err(backend)?;
                }
                OutboxUpdate::Retry { id, attempts, next_attempt } => {
                    tx.execute(
                        "UPDATE outbox SET attempts = ?2, next_attempt = ?3 WHERE id = ?1",
                        params![id, i64::from(*attempts), next_attempt.utc_minutes()],
                    )
                    .map_err(backend)?;
                }
            }
        }
        tx.commit().map_err(backend)
    }

    fn outbox_pending(&self) -> Result<usize, StoreError> {
        let conn = self.conn()?;
        let n: i64 =
            conn.query_row("SELECT COUNT(*) FROM outbox WHERE delivered = 0", [], |r| r.get(0)).map_err(backend)?;
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
