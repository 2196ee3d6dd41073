//! # motcua-store-postgres: the server store
//!
//! The same [`Store`] contract as the embedded SQLite store — atomic append with expected
//! versions, the hash chain as sealed bytes, idempotency records, the transactional outbox, the
//! projection rows with their indexed columns, counters and code sequences — on PostgreSQL,
//! through the synchronous `postgres` client (rust-postgres).
//!
//! Every row carries the **province**, the tenant key: it leads every primary key and index and
//! partitions every table (`PARTITION BY LIST (province)`; the store creates its province's
//! partitions when it opens). One store value serves one province; many provinces share a
//! database, or each gets its own, or a distributed PostgreSQL (Citus) shards them with
//! `province` as the distribution column.
//!
//! An append is one transaction of a few statements whatever the batch's size: each table's
//! rows go in one statement over arrays (`INSERT … SELECT … FROM unnest($2, $3, …)`), so the
//! engine's group commit is one round trip per table and one `COMMIT` (one WAL flush).
//!
//! The store's address is a PostgreSQL URL with one parameter of motcua's own, the province:
//! `postgres://user@host:5432/db?province=ninhthuan` (letters, digits and `_`; default
//! `default`).
//!
//! ```no_run
//! use motcua_engine::Store;
//! let store = motcua_store_postgres::PostgresStore::open("postgres://postgres@127.0.0.1/postgres?province=ninhthuan")?;
//! println!("{} dossiers", store.dossiers()?.len());
//! # Ok::<(), motcua_engine::StoreError>(())
//! ```

#![warn(missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, DossierCode};
use motcua_engine::store::lean::{retrying_unknown_ids, SharedLexicon};
use motcua_engine::store::{
    canonical_bytes, canonical_parts, decode_sealed, push_part, split_message_id, AppendBatch, BacklogBy, BacklogRow,
    DeadlineQuery, DeadlineView, DossierSummary, Hash, IdempotencyRecord, Lexicon, OutboxEntry, OutboxUpdate, Page,
    Store, StoreError, StoredEvent, Stream, GENESIS,
};
use motcua_engine::{CounterKey, Counters, Parties, Tally};
use motcua_engine::{DeliveryRecord, ServiceRow, SyncTally};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Row};

mod guard;
use guard::{Guard, Watch};

/// The schema version this code writes.
pub const SCHEMA_VERSION: i32 = 6;

/// Migrations, in order; migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: [&str; 6] = [
    include_str!("../sql/0001_init.sql"),
    include_str!("../sql/0002_delivery_ledger.sql"),
    include_str!("../sql/0003_services_and_results.sql"),
    include_str!("../sql/0004_results_by_holder.sql"),
    include_str!("../sql/0005_dictionary.sql"),
    include_str!("../sql/0006_outbox_rows.sql"),
];

// One migration per schema version, checked when compiling.
const _: () = assert!(MIGRATIONS.len() as i32 == SCHEMA_VERSION);

/// The partitioned tables: each gets a partition per province.
const TABLES: [&str; 10] = [
    "motcua_dossiers",
    "motcua_events",
    "motcua_idempotency",
    "motcua_outbox",
    "motcua_counters",
    "motcua_sequences",
    "motcua_deliveries",
    "motcua_services",
    "motcua_results",
    "motcua_dictionary",
];

/// Counter slots: concurrent writers add to different rows.
const COUNTER_SLOTS: u32 = 16;

/// Idle connections kept.
const IDLE_CONNECTIONS: usize = 8;

/// How long the store waits for its server and how often it connects again, from the store
/// URL (defaults after the colons): `connect_timeout` (seconds, libpq's: the TCP handshake): 5;
/// `io_timeout` (seconds: the longest an operation waits with no byte moving to or from the
/// server, the bound that ends a silent server's wait): 75; `statement_timeout` (seconds, the
/// server's own, sent at connect): 60; `reconnects` (attempts after the first to open a
/// connection, waiting 0.1, 0.2, 0.4 … s between): 3. TCP keepalive after 30 s idle every 10 s,
/// 3 probes, and `tcp_user_timeout` 30 s, unless the URL says otherwise (libpq's
/// `keepalives_idle`, `keepalives_interval`, `keepalives_retries`, `tcp_user_timeout`). An
/// operation therefore ends within about `io_timeout` of the server's last byte, and opening a
/// connection within `(reconnects + 1) × (connect_timeout + io_timeout)` plus the waits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// The TCP handshake's limit.
    pub connect_timeout: Duration,
    /// The longest wait with no byte moving, while an operation runs.
    pub io_timeout: Duration,
    /// The server's statement timeout.
    pub statement_timeout: Duration,
    /// Attempts after the first to open a connection.
    pub reconnects: u32,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            connect_timeout: Duration::from_secs(5),
            io_timeout: Duration::from_secs(75),
            statement_timeout: Duration::from_secs(60),
            reconnects: 3,
        }
    }
}

/// A connection and its watch (see the `guard` module); dropping it is bounded too (the
/// driver says goodbye to the server and waits for it to hang up).
struct Conn {
    client: Client,
    watch: Arc<Watch>,
    /// When it was last used (an idle one is checked before use).
    used: Instant,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.watch.arm();
    }
}

/// How many times an operation that lost a deadlock is run again.
const TRANSIENT_RETRIES: u32 = 5;

/// How long a connection may idle before it is checked before use.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);

/// The PostgreSQL store of one province.
pub struct PostgresStore {
    config: postgres::Config,
    /// The server's `host:port`, for errors (never the user or password).
    server: String,
    /// Its bounds.
    bounds: Bounds,
    /// Whether connections go through the guarded stream (TCP hosts; a Unix socket's server is
    /// on this machine and is connected to plainly).
    guarded: bool,
    province: String,
    /// The province's key in every row (`motcua_provinces.id`).
    id: i32,
    /// This handle's counter slot (see `motcua_counters`).
    slot: i16,
    /// Opened by [`PostgresStore::open_existing`]: every write is refused.
    read_only: bool,
    idle: Mutex<Vec<Conn>>,
    /// The dictionary as this handle has read it (refreshed when an event refers to an id it
    /// does not hold yet).
    lexicon: SharedLexicon,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A driver error: transient ones (deadlock, serialization failure, a unique key another writer
/// took at the same moment) say so, so the engine reloads and decides again; one that is no
/// answer from the server (a closed connection, an I/O error, a timeout) is
/// [`StoreError::Unavailable`] (its server and time filled in by `with_client`).
fn pg(what: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |e| {
        use postgres::error::SqlState;
        let io = std::error::Error::source(&e).is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some());
        if e.as_db_error().is_none() && (e.is_closed() || io) {
            return StoreError::Unavailable { server: String::new(), what: format!("{what}: {e}"), after_ms: 0 };
        }
        let transient = e.code().is_some_and(|c| {
            *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::UNIQUE_VIOLATION
        });
        let text = match e.as_db_error() {
            Some(db) => format!("{what}: {} ({})", db.message(), db.code().code()),
            None => format!("{what}: {e}"),
        };
        if transient {
            StoreError::Transient(text)
        } else {
            StoreError::Backend(text)
        }
    }
}

/// Splits motcua's `province` parameter off a PostgreSQL URL: the URL for the driver and the
/// province.
pub fn split_url(url: &str) -> Result<(String, String), StoreError> {
    split_url_bounds(url).map(|(url, province, _)| (url, province))
}

/// [`split_url`], with motcua's own bounds taken off too (`io_timeout`, `statement_timeout`,
/// `reconnects`; see [`Bounds`]) and libpq's `connect_timeout` read.
pub fn split_url_bounds(url: &str) -> Result<(String, String, Bounds), StoreError> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut province = None;
    let mut rest = Vec::new();
    let mut bounds = Bounds::default();
    let seconds = |name: &str, v: &str| -> Result<Duration, StoreError> {
        match v.parse::<f64>() {
            Ok(x) if x > 0.0 && x <= 86_400.0 => Ok(Duration::from_secs_f64(x)),
            _ => Err(backend(format!("{name}: seconds, more than 0 and at most 86400"))),
        }
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("province", v)) => province = Some(v.to_string()),
            Some(("io_timeout", v)) => bounds.io_timeout = seconds("io_timeout", v)?,
            Some(("statement_timeout", v)) => bounds.statement_timeout = seconds("statement_timeout", v)?,
            Some(("reconnects", v)) => {
                bounds.reconnects = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 20)
                    .ok_or_else(|| backend("reconnects: a count from 0 to 20"))?;
            }
            Some(("connect_timeout", v)) => {
                bounds.connect_timeout = seconds("connect_timeout", v)?;
                rest.push(pair);
            }
            _ => rest.push(pair),
        }
    }
    let province = province.unwrap_or_else(|| "default".to_string());
    if province.is_empty() || province.len() > 40 || !province.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(backend(format!(
            "province {province:?}: expected 1 to 40 letters, digits or '_' (the tenant key)"
        )));
    }
    let url = if rest.is_empty() { base.to_string() } else { format!("{base}?{}", rest.join("&")) };
    Ok((url, province, bounds))
}

/// The driver's configuration for `driver_url` with `bounds` and the defaults of [`Bounds`]
/// applied where the URL is silent; whether it connects through the guarded stream; and the
/// server's `host:port` for errors.
fn configure(driver_url: &str, bounds: &Bounds) -> Result<(postgres::Config, bool, String), StoreError> {
    use postgres::config::{Host, SslMode, SslNegotiation};
    let mut config: postgres::Config = driver_url.parse().map_err(|e| backend(format!("postgres URL: {e}")))?;
    config.connect_timeout(bounds.connect_timeout);
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(30));
    }
    if config.get_keepalives_idle() == Duration::from_secs(2 * 3600) {
        config.keepalives_idle(Duration::from_secs(30));
    }
    if config.get_keepalives_interval().is_none() {
        config.keepalives_interval(Duration::from_secs(10));
    }
    if config.get_keepalives_retries().is_none() {
        config.keepalives_retries(3);
    }
    let statement = format!("-c statement_timeout={}", bounds.statement_timeout.as_millis());
    let options = match config.get_options() {
        Some(o) if !o.is_empty() => format!("{o} {statement}"),
        _ => statement,
    };
    config.options(&options);
    let tcp = !config.get_hosts().is_empty() && config.get_hosts().iter().all(|h| matches!(h, Host::Tcp(_)));
    if tcp {
        // The guarded stream rides the driver's TLS hook; the bytes stay the plain protocol's.
        config.ssl_mode(SslMode::Require);
        config.ssl_negotiation(SslNegotiation::Direct);
    }
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    Ok((config, tcp, format!("{host}:{port}")))
}

impl PostgresStore {
    /// Connects to `url` (a PostgreSQL URL, optionally with `province=NAME`), migrates the
    /// schema (serialized between processes by an advisory lock) and creates the province's
    /// partitions.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let (driver_url, province, bounds) = split_url_bounds(url)?;
        // Handles opened one after another, in one process or several, spread over the slots.
        static OPENED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_add(std::process::id());
        let mut store = PostgresStore::unopened(&driver_url, province, bounds, false)?;
        store.slot = (n % COUNTER_SLOTS) as i16;
        store.id = store.with_client(|c| store.migrate(c))?;
        Ok(store)
    }

    /// Opens an existing province's store only to read it: nothing is created, migrated or
    /// written. A database without motcua's tables, or without this province, is an error that
    /// says so; so is a schema of another version.
    pub fn open_existing(url: &str) -> Result<PostgresStore, StoreError> {
        let (driver_url, province, bounds) = split_url_bounds(url)?;
        let mut store = PostgresStore::unopened(&driver_url, province, bounds, true)?;
        store.id = store.with_client(|c| {
            let has = c.query_one("SELECT to_regclass('motcua_schema') IS NOT NULL", &[]).map_err(pg("schema"))?;
            if !get::<bool>(&has, 0, "schema")? {
                return Err(backend("not a motcua store (no motcua tables in this database)"));
            }
            let version: i32 = c
                .query_opt("SELECT version FROM motcua_schema", &[])
                .map_err(pg("schema version"))?
                .map_or(Ok(0), |r| r.try_get(0))
                .map_err(pg("schema version"))?;
            if version != SCHEMA_VERSION {
                return Err(backend(format!(
                    "a motcua store of schema {version}; this program reads schema {SCHEMA_VERSION}"
                )));
            }
            let row = c
                .query_opt("SELECT id FROM motcua_provinces WHERE name = $1", &[&store.province])
                .map_err(pg("province"))?;
            match row {
                Some(r) => get(&r, 0, "province id"),
                None => Err(backend(format!("no province {:?} in this store", store.province))),
            }
        })?;
        Ok(store)
    }

    /// A handle not yet connected (its province's key 0, counter slot 0).
    fn unopened(driver_url: &str, province: String, bounds: Bounds, read_only: bool) -> Result<Self, StoreError> {
        let (config, guarded, server) = configure(driver_url, &bounds)?;
        Ok(PostgresStore {
            config,
            server,
            bounds,
            guarded,
            province,
            id: 0,
            slot: 0,
            read_only,
            idle: Mutex::default(),
            lexicon: Default::default(),
        })
    }

    /// Refuses a write on a store opened to read.
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(backend(format!("province {}: opened read-only", self.province)));
        }
        Ok(())
    }

    /// The province (tenant key) this store reads and writes.
    pub fn province(&self) -> &str {
        &self.province
    }

    /// Migrates the schema and creates the province's partitions: the province's key.
    fn migrate(&self, c: &mut Client) -> Result<i32, StoreError> {
        let mut tx = c.transaction().map_err(pg("begin"))?;
        // One migrating process at a time (any number may open at once).
        tx.execute("SELECT pg_advisory_xact_lock(7406238431)", &[]).map_err(pg("advisory lock"))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS motcua_schema (version integer NOT NULL)")
            .map_err(pg("schema table"))?;
        let version: i32 = tx
            .query_opt("SELECT version FROM motcua_schema", &[])
            .map_err(pg("schema version"))?
            .map_or(Ok(0), |r| r.try_get(0))
            .map_err(pg("schema version"))?;
        if version > SCHEMA_VERSION {
            return Err(backend(format!("schema version {version} is newer than this program's {SCHEMA_VERSION}")));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.batch_execute(sql).map_err(pg(&format!("migration {}", i + 1)))?;
            if i + 1 == 4 {
                // The holder column of rows written before, from their MessagePack.
                let rows =
                    tx.query("SELECT province, number, row FROM motcua_results", &[]).map_err(pg("migration 4"))?;
                for r in rows {
                    let (province, number): (i32, String) = (get(&r, 0, "province")?, get(&r, 1, "number")?);
                    let known: motcua_core::KnownResult = unbin("result row", get(&r, 2, "row")?)?;
                    let holder = known.holder.as_ref().map(|h| h.as_str().to_string());
                    tx.execute(
                        "UPDATE motcua_results SET holder = $3 WHERE province = $1 AND number = $2",
                        &[&province, &number, &holder],
                    )
                    .map_err(pg("migration 4"))?;
                }
            }
        }
        if version < SCHEMA_VERSION {
            tx.execute("DELETE FROM motcua_schema", &[]).map_err(pg("schema version"))?;
            tx.execute("INSERT INTO motcua_schema (version) VALUES ($1)", &[&SCHEMA_VERSION])
                .map_err(pg("schema version"))?;
        }
        tx.execute("INSERT INTO motcua_provinces (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", &[&self.province])
            .map_err(pg("province"))?;
        let id: i32 = get(
            &tx.query_one("SELECT id FROM motcua_provinces WHERE name = $1", &[&self.province])
                .map_err(pg("province"))?,
            0,
            "province id",
        )?;
        // The province is checked to be letters, digits and '_': safe inside the quotes.
        for table in TABLES {
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS \"{table}_{p}\" PARTITION OF {table} FOR VALUES IN ({id})",
                p = self.province
            ))
            .map_err(pg("province partition"))?;
        }
        tx.commit().map_err(pg("commit"))?;
        Ok(id)
    }

    /// The store's bounds.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Runs `f` with an idle connection (a new one when none is idle), its watch armed so that
    /// no wait for the server outlasts the bounds, then keeps the connection for the next call
    /// unless it broke. A server that does not answer is [`StoreError::Unavailable`] naming it
    /// and how long it was waited for.
    ///
    /// A transient failure (a deadlock with another province's partitions being created, a
    /// serialization failure) is run again, up to [`TRANSIENT_RETRIES`] times: nothing was
    /// written by the failed attempt, and `f` runs whole each time. A write the engine
    /// should decide again (a version conflict) is not transient and is returned at once.
    fn with_client<T>(&self, mut f: impl FnMut(&mut Client) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let mut conn = self.checkout().map_err(|e| self.situate(e, started))?;
            let result = conn.watch.run(|| f(&mut conn.client)).map_err(|e| self.situate(e, started));
            if !conn.client.is_closed() {
                conn.used = Instant::now();
                let mut idle = self.lock()?;
                if idle.len() < IDLE_CONNECTIONS {
                    idle.push(conn);
                }
            }
            match result {
                Err(StoreError::Transient(text)) if attempt < TRANSIENT_RETRIES && text.contains("(40P01)") => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(10 << attempt));
                }
                other => return other,
            }
        }
    }

    /// An error with its server and the time waited, when it is the server's silence.
    fn situate(&self, e: StoreError, started: Instant) -> StoreError {
        match e {
            StoreError::Unavailable { what, .. } => StoreError::Unavailable {
                server: self.server.clone(),
                what,
                after_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            },
            other => other,
        }
    }

    /// An idle connection that still answers (one idle for a while is asked first), or a new
    /// one.
    fn checkout(&self) -> Result<Conn, StoreError> {
        loop {
            let Some(mut conn) = self.lock()?.pop() else { break };
            if conn.client.is_closed() {
                continue;
            }
            if conn.used.elapsed() < CHECK_AFTER_IDLE {
                return Ok(conn);
            }
            let io = self.bounds.io_timeout;
            let client = &mut conn.client;
            if conn.watch.run(|| client.is_valid(io)).is_ok() {
                return Ok(conn);
            }
        }
        self.connect()
    }

    /// A new connection, trying again `reconnects` times (waiting 0.1, 0.2, 0.4 … s, at most
    /// 2 s) while the server does not answer; a refusal by the server itself (a wrong password,
    /// no such database) is returned at once.
    fn connect(&self) -> Result<Conn, StoreError> {
        let mut wait = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let watch = Watch::new(self.bounds.io_timeout);
            let connected = watch.run(|| {
                if self.guarded {
                    self.config.connect(Guard(Arc::clone(&watch)))
                } else {
                    self.config.connect(NoTls)
                }
            });
            match connected.map_err(pg("connect")) {
                Ok(client) => return Ok(Conn { client, watch, used: Instant::now() }),
                Err(e) if e.is_unavailable() && attempt < self.bounds.reconnects => {
                    attempt += 1;
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Vec<Conn>>, StoreError> {
        self.idle.lock().map_err(|_| backend("a thread panicked while holding the connections"))
    }

    /// Drops every row of this province (its partitions stay). For tests and benchmarks.
    pub fn truncate(&self) -> Result<(), StoreError> {
        self.writable()?;
        self.with_client(|c| {
            for table in TABLES {
                c.batch_execute(&format!("TRUNCATE \"{table}_{}\"", self.province)).map_err(pg("truncate"))?;
            }
            Ok(())
        })
    }

    /// One attempt of [`Store::outbox_update`], in one transaction.
    fn outbox_update_once(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        self.with_client(|c| {
            let mut tx = c.transaction().map_err(pg("begin"))?;
            for u in updates {
                let id = match u {
                    OutboxUpdate::Delivered { id, .. } | OutboxUpdate::Retry { id, .. } => id,
                };
                // Ids this store did not issue match no message.
                let Some((code, seq)) = split_message_id(id).and_then(|(c, n)| Some((c, i32::try_from(n).ok()?)))
                else {
                    continue;
                };
                match u {
                    // Out of the outbox, into the ledger, in one statement.
                    OutboxUpdate::Delivered { at, .. } => tx.execute(
                        "WITH gone AS (DELETE FROM motcua_outbox o USING motcua_dossiers d WHERE o.province = $1 \
                         AND d.province = $1 AND d.code = $2 AND o.dossier = d.id AND o.seq = $3 \
                         RETURNING o.dossier, o.seq) \
                         INSERT INTO motcua_deliveries (province, dossier, seq, delivered_at) \
                         SELECT $1, dossier, seq, $4 FROM gone ON CONFLICT DO NOTHING",
                        &[&self.id, &code, &seq, &at.utc_minutes()],
                    ),
                    OutboxUpdate::Retry { attempts, next_attempt, .. } => tx.execute(
                        "UPDATE motcua_outbox o SET attempts = $4, next_attempt = $5 FROM motcua_dossiers d \
                         WHERE o.province = $1 AND d.province = $1 AND d.code = $2 AND o.dossier = d.id AND o.seq = $3",
                        &[&self.id, &code, &seq, &(*attempts as i32), &next_attempt.utc_minutes()],
                    ),
                }
                .map_err(pg("outbox update"))?;
            }
            tx.commit().map_err(pg("commit"))
        })
    }

    /// Test hook: runs SQL as given (to tamper with rows, drop a partition, …).
    #[doc(hidden)]
    pub fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.with_client(|c| c.batch_execute(sql).map_err(pg("raw")))
    }
}

fn bin<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec(v).map_err(backend)
}

fn unbin<T: serde::de::DeserializeOwned>(what: &str, b: &[u8]) -> Result<T, StoreError> {
    rmp_serde::from_slice(b).map_err(|e| backend(format!("corrupt {what}: {e}")))
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn unjson<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| backend(format!("corrupt {what}: {e}")))
}

fn get<'a, T: postgres::types::FromSql<'a>>(r: &'a Row, i: usize, what: &str) -> Result<T, StoreError> {
    r.try_get(i).map_err(|e| backend(format!("{what}: {e}")))
}

fn to_hash(bytes: &[u8]) -> Result<Hash, StoreError> {
    bytes.try_into().map_err(|_| backend("a stored hash is not 32 bytes"))
}

fn parse_code(text: &str) -> Result<DossierCode, StoreError> {
    text.parse().map_err(|e| backend(format!("corrupt dossier code {text:?}: {e}")))
}

/// A projection row's queryable columns, as arrays for one statement per batch.
#[derive(Default)]
struct Rows {
    code: Vec<String>,
    expected: Vec<i64>,
    version: Vec<i64>,
    parties: Vec<String>,
    summary: Vec<Vec<u8>>,
    agency: Vec<String>,
    procedure: Vec<Option<String>>,
    status: Vec<Option<String>>,
    national: Vec<Option<i16>>,
    channel: Vec<Option<i16>>,
    step: Vec<Option<String>>,
    step_agency: Vec<Option<String>>,
    due: Vec<Option<i64>>,
    clock_stopped: Vec<bool>,
    received_at: Vec<Option<i64>>,
    finished_at: Vec<Option<i64>>,
    open: Vec<bool>,
}

impl Rows {
    fn push(&mut self, s: &DossierSummary, expected: u64, parties: Option<&Parties>) -> Result<(), StoreError> {
        let step = s.current_step();
        self.code.push(s.dossier.to_string());
        self.expected.push(expected as i64);
        self.version.push(s.version as i64);
        self.parties.push(json(&parties.cloned().unwrap_or_default())?);
        self.summary.push(bin(s)?);
        self.agency.push(s.dossier.agency().to_string());
        self.procedure.push(s.procedure.as_ref().map(|p| p.to_string()));
        self.status.push(s.status.as_deref().map(str::to_string));
        self.national.push(s.national.map(i16::from));
        self.channel.push(s.channel.map(i16::from));
        self.step.push(step.map(|st| st.step.to_string()));
        self.step_agency.push(step.map(|st| st.agency.to_string()));
        self.due.push(s.due.map(Timestamp::utc_minutes));
        self.clock_stopped.push(s.clock_stopped);
        self.received_at.push(s.received_at.map(Timestamp::utc_minutes));
        self.finished_at.push(s.finished_at.map(Timestamp::utc_minutes));
        self.open.push(s.is_open());
        Ok(())
    }
}

impl PostgresStore {
    /// The dossier's version as stored (0 when absent), for a conflict's message.
    fn version_of(&self, tx: &mut postgres::Transaction<'_>, code: &str) -> Result<u64, StoreError> {
        let row = tx
            .query_opt("SELECT version FROM motcua_dossiers WHERE province = $1 AND code = $2", &[&self.id, &code])
            .map_err(pg("version"))?;
        Ok(row.map_or(Ok(0), |r| get::<i64>(&r, 0, "version"))? as u64)
    }

    fn write(&self, tx: &mut postgres::Transaction<'_>, batch: &AppendBatch) -> Result<(), StoreError> {
        let p = &self.id;
        // Dossier rows in code order, so concurrent writers lock rows in one order.
        let mut order: Vec<usize> = (0..batch.streams.len()).collect();
        let codes: Vec<String> = batch.streams.iter().map(|s| s.dossier.to_string()).collect();
        order.sort_unstable_by(|&a, &b| codes[a].cmp(&codes[b]));
        let (mut created, mut advanced) = (Rows::default(), Rows::default());
        for &i in &order {
            let s = &batch.streams[i];
            if s.expected_version == 0 {
                created.push(&s.summary, 0, s.parties.as_ref())?;
            } else {
                advanced.push(&s.summary, s.expected_version, None)?;
            }
        }
        // Each written dossier's row id (events and messages refer to it).
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(codes.len());
        if !created.code.is_empty() {
            let r = &created;
            let params: [&(dyn ToSql + Sync); 17] = [
                p,
                &r.code,
                &r.version,
                &r.parties,
                &r.summary,
                &r.agency,
                &r.procedure,
                &r.status,
                &r.national,
                &r.channel,
                &r.step,
                &r.step_agency,
                &r.due,
                &r.clock_stopped,
                &r.received_at,
                &r.finished_at,
                &r.open,
            ];
            let rows = tx
                .query(
                    "INSERT INTO motcua_dossiers (province, code, version, parties, summary, agency, procedure, status, \
                     national, channel, step, step_agency, due, clock_stopped, received_at, finished_at, open) \
                     SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::text[], $5::bytea[], $6::text[], \
                     $7::text[], $8::text[], $9::int2[], $10::int2[], $11::text[], $12::text[], $13::int8[], \
                     $14::bool[], $15::int8[], $16::int8[], $17::bool[]) \
                     RETURNING code, id",
                    &params,
                )
                // A code another writer created first breaks the primary key: a unique
                // violation, which `pg` reports as a transient conflict (the engine reloads the
                // dossier and decides again). No ON CONFLICT clause: speculative insertion
                // costs every row of every batch for the rare race.
                .map_err(pg("insert dossiers"))?;
            for row in &rows {
                ids.insert(get(row, 0, "code")?, get(row, 1, "id")?);
            }
        }
        if !advanced.code.is_empty() {
            let r = &advanced;
            // The rows are updated through the primary key in the arrays' order (codes sorted), so
            // concurrent writers lock shared rows in one order; a deadlock all the same is
            // detected by the server and comes back as a transient conflict (redone).
            let params: [&(dyn ToSql + Sync); 16] = [
                p,
                &r.code,
                &r.expected,
                &r.version,
                &r.summary,
                &r.procedure,
                &r.status,
                &r.national,
                &r.channel,
                &r.step,
                &r.step_agency,
                &r.due,
                &r.clock_stopped,
                &r.received_at,
                &r.finished_at,
                &r.open,
            ];
            let rows = tx
                .query(
                    "UPDATE motcua_dossiers d SET version = u.version, summary = u.summary, procedure = u.procedure, \
                     status = u.status, national = u.national, channel = u.channel, step = u.step, \
                     step_agency = u.step_agency, due = u.due, clock_stopped = u.clock_stopped, \
                     received_at = u.received_at, finished_at = u.finished_at, open = u.open \
                     FROM unnest($2::text[], $3::int8[], $4::int8[], $5::bytea[], $6::text[], $7::text[], \
                     $8::int2[], $9::int2[], $10::text[], $11::text[], $12::int8[], $13::bool[], $14::int8[], \
                     $15::int8[], $16::bool[]) AS u(code, expected, version, summary, procedure, status, national, \
                     channel, step, step_agency, due, clock_stopped, received_at, finished_at, open) \
                     WHERE d.province = $1 AND d.code = u.code AND d.version = u.expected RETURNING d.code, d.id",
                    &params,
                )
                .map_err(pg("update dossiers"))?;
            for row in &rows {
                ids.insert(get(row, 0, "code")?, get(row, 1, "id")?);
            }
            if let Some(k) = r.code.iter().position(|c| !ids.contains_key(c)) {
                let actual = self.version_of(tx, &r.code[k])?;
                return Err(StoreError::VersionConflict {
                    dossier: parse_code(&r.code[k])?,
                    expected: r.expected[k] as u64,
                    actual,
                });
            }
        }
        let id_of = |code: &str| ids.get(code).copied().ok_or_else(|| backend(format!("{code}: no row id")));
        // Events and messages by binary COPY (the bulk path), in the batch's order.
        {
            let sink = tx
                .copy_in("COPY motcua_events (province, dossier, seq, schema, payload, hash) FROM STDIN BINARY")
                .map_err(pg("copy events"))?;
            let mut w = BinaryCopyInWriter::new(
                sink,
                &[Type::INT4, Type::INT8, Type::INT4, Type::INT2, Type::BYTEA, Type::BYTEA],
            );
            let mut own = Vec::new();
            for (s, code) in batch.streams.iter().zip(&codes) {
                let id = id_of(code)?;
                let mut sealed = canonical_parts(&s.canonical, s.events.len());
                for e in &s.events {
                    // The bytes the engine sealed, or encoded here when it kept none.
                    let bytes: &[u8] = match sealed.as_mut().and_then(Iterator::next) {
                        Some(b) => b,
                        None => {
                            own.clear();
                            canonical_bytes(e.actor.as_ref(), &e.event, e.schema, &mut own).ok_or_else(|| {
                                backend(format!("{code} event {}: unknown schema {}", e.seq, e.schema))
                            })?;
                            &own
                        }
                    };
                    let seq = i32::try_from(e.seq).map_err(|_| backend(format!("{code}: event number too large")))?;
                    let schema = e.schema as i16;
                    let hash: &[u8] = &e.hash;
                    w.write(&[p, &id, &seq, &schema, &bytes, &hash]).map_err(pg("copy events"))?;
                }
            }
            w.finish().map_err(pg("copy events"))?;
        }
        if !batch.idempotency.is_empty() {
            let keys: Vec<&str> = batch.idempotency.iter().map(|r| r.key.as_str()).collect();
            let records = batch.idempotency.iter().map(json).collect::<Result<Vec<String>, _>>()?;
            tx.execute(
                "INSERT INTO motcua_idempotency (province, key, record) SELECT $1, * FROM unnest($2::text[], $3::text[])",
                &[p, &keys, &records],
            )
            .map_err(pg("insert idempotency records"))?;
        }
        for r in &batch.results {
            let row = rmp_serde::to_vec(r).map_err(backend)?;
            tx.execute(
                "INSERT INTO motcua_results (province, number, row, holder) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (province, number) DO UPDATE SET row = EXCLUDED.row, holder = EXCLUDED.holder",
                &[p, &r.number, &row, &r.holder.as_ref().map(|h| h.as_str())],
            )
            .map_err(pg("insert results"))?;
        }
        if !batch.outbox.is_empty() {
            // Positions are drawn row by row, so messages are offered in the order written.
            // A row per message (the event, when to try it): the message is rendered from its
            // event when it is due.
            let sink = tx
                .copy_in("COPY motcua_outbox (province, dossier, seq, next_attempt) FROM STDIN BINARY")
                .map_err(pg("copy outbox messages"))?;
            let mut w = BinaryCopyInWriter::new(sink, &[Type::INT4, Type::INT8, Type::INT4, Type::INT8]);
            for m in &batch.outbox {
                let id = id_of(&m.dossier.to_string())?;
                let seq = i32::try_from(m.seq).map_err(|_| backend("message number too large"))?;
                w.write(&[p, &id, &seq, &m.at.utc_minutes()]).map_err(pg("copy outbox messages"))?;
            }
            w.finish().map_err(pg("copy outbox messages"))?;
        }
        add_counters(tx, *p, self.slot, &batch.counters)
    }
}

/// Adds a batch's counter tallies to the stored rows, in one statement.
fn add_counters(
    tx: &mut postgres::Transaction<'_>,
    province: i32,
    slot: i16,
    counters: &Counters,
) -> Result<(), StoreError> {
    if counters.is_empty() {
        return Ok(());
    }
    let (mut agency, mut procedure, mut sector) = (Vec::new(), Vec::new(), Vec::new());
    let (mut channel, mut day): (Vec<i16>, Vec<i32>) = (Vec::new(), Vec::new());
    let mut tallies: [Vec<i64>; 7] = Default::default();
    for (k, t) in counters.iter() {
        agency.push(k.agency.to_string());
        procedure.push(k.procedure.to_string());
        sector.push(k.sector.to_string());
        channel.push(i16::from(k.channel));
        day.push(i32::try_from(k.day).map_err(|_| backend("counters: day out of range"))?);
        for (v, n) in tallies.iter_mut().zip([
            t.received,
            t.refused,
            t.resolved,
            t.early,
            t.on_time,
            t.late,
            t.supplement_requests,
        ]) {
            v.push(n as i64);
        }
    }
    let [a, b, c, d, e, f, g] = &tallies;
    tx.execute(
        "INSERT INTO motcua_counters (province, slot, agency, procedure, sector, channel, day, received, refused, \
         resolved, early, on_time, late, supplement_requests) \
         SELECT $1, $14, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int2[], $6::int4[], $7::int8[], \
         $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[]) \
         ON CONFLICT (province, agency, procedure, sector, channel, day, slot) DO UPDATE SET \
         received = motcua_counters.received + excluded.received, \
         refused = motcua_counters.refused + excluded.refused, \
         resolved = motcua_counters.resolved + excluded.resolved, \
         early = motcua_counters.early + excluded.early, \
         on_time = motcua_counters.on_time + excluded.on_time, \
         late = motcua_counters.late + excluded.late, \
         supplement_requests = motcua_counters.supplement_requests + excluded.supplement_requests",
        &[&province, &agency, &procedure, &sector, &channel, &day, a, b, c, d, e, f, g, &slot],
    )
    .map_err(pg("add counters"))?;
    Ok(())
}

/// The event of a row whose columns `at..at + 4` are seq, schema, payload, hash; with
/// `sealed`, the payload as stored is appended to it (the layout of `StreamAppend::canonical`).
fn event_at(
    code: &DossierCode,
    r: &Row,
    at: usize,
    before: Option<&StoredEvent>,
    sealed: Option<&mut Vec<u8>>,
    lexicon: &Lexicon,
) -> Result<StoredEvent, StoreError> {
    let seq: i32 = get(r, at, "event seq")?;
    let schema: i16 = get(r, at + 1, "event schema")?;
    let payload: &[u8] = get(r, at + 2, "event payload")?;
    let hash: &[u8] = get(r, at + 3, "event hash")?;
    let schema = u16::try_from(schema).map_err(|_| backend(format!("{code} event {seq}: bad schema")))?;
    if let Some(out) = sealed {
        push_part(out, payload);
    }
    let (actor, event) = decode_sealed(payload, schema, lexicon, &code.to_string()).map_err(|e| match e {
        StoreError::Backend(text) => StoreError::Backend(format!("{code} event {seq}: {text}")),
        other => other,
    })?;
    Ok(StoredEvent {
        dossier: code.clone(),
        seq: seq as u64,
        schema,
        actor,
        event,
        prev: before.map_or(GENESIS, |e| e.hash),
        hash: to_hash(hash)?,
    })
}

impl Store for PostgresStore {
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        // An event may refer to a dictionary entry another writer added: read the new entries
        // and decode again, once.
        retrying_unknown_ids(|| self.load_once(dossier), || self.refresh_lexicon())
    }

    fn dictionary(&self, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        self.with_client(|c| self.read_dictionary(c, from))
    }

    fn reserve_dictionary(&self, n: u32) -> Result<Option<u32>, StoreError> {
        self.writable()?;
        let first: i64 = self.with_client(|c| {
            let row = c
                .query_one(
                    "INSERT INTO motcua_dictionary_next (province, next) VALUES ($1, $2)                      ON CONFLICT (province) DO UPDATE SET next = motcua_dictionary_next.next + $2                      RETURNING next - $2",
                    &[&self.id, &i64::from(n)],
                )
                .map_err(pg("reserve dictionary ids"))?;
            get(&row, 0, "dictionary id")
        })?;
        u32::try_from(first).map(Some).map_err(|_| backend("the dictionary is full"))
    }

    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError> {
        self.writable()?;
        self.with_client(|c| {
            let mut tx = c.transaction().map_err(pg("begin"))?;
            // Dropping `tx` without commit rolls back: nothing of a failed batch is written.
            if !batch.dictionary.is_empty() {
                let (ids, texts): (Vec<i32>, Vec<&str>) =
                    batch.dictionary.iter().map(|(id, t)| (*id as i32, &**t)).unzip();
                tx.execute(
                    "INSERT INTO motcua_dictionary (province, id, text) SELECT $1, * FROM unnest($2::int[], $3::text[])                      ON CONFLICT DO NOTHING",
                    &[&self.id, &ids, &texts],
                )
                .map_err(pg("dictionary"))?;
            }
            self.write(&mut tx, batch)?;
            tx.commit().map_err(pg("commit"))
        })?;
        self.lexicon.absorb(&batch.dictionary)?;
        Ok(())
    }

    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_opt("SELECT record FROM motcua_idempotency WHERE province = $1 AND key = $2", &[&self.id, &key])
                .map_err(pg("idempotency"))?;
            row.map(|r| unjson("idempotency record", get(&r, 0, "idempotency record")?)).transpose()
        })
    }

    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        self.with_client(|c| {
            let rows =
                c.query("SELECT code FROM motcua_dossiers WHERE province = $1", &[&self.id]).map_err(pg("dossiers"))?;
            let mut out = rows.iter().map(|r| parse_code(get(r, 0, "code")?)).collect::<Result<Vec<_>, _>>()?;
            out.sort_unstable();
            Ok(out)
        })
    }

    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        let mut out = Vec::new();
        self.for_each_summary(&mut |s| out.push(s))?;
        out.sort_unstable_by(|a, b| a.dossier.cmp(&b.dossier));
        Ok(out)
    }

    fn for_each_summary(&self, f: &mut dyn FnMut(DossierSummary)) -> Result<(), StoreError> {
        self.with_client(|c| {
            let mut rows = c
                .query_raw("SELECT summary FROM motcua_dossiers WHERE province = $1", [&self.id])
                .map_err(pg("summaries"))?;
            while let Some(r) = rows.next().map_err(pg("summaries"))? {
                f(unbin("summary", get(&r, 0, "summary")?)?);
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

    fn for_each_sealed_stream(&self, f: &mut motcua_engine::store::SealedVisitor<'_>) -> Result<(), StoreError> {
        self.walk(true, f)
    }

    fn check_integrity(&self) -> Result<Option<String>, StoreError> {
        self.with_client(|c| integrity(c, self.id))
    }

    fn summary(&self, dossier: &DossierCode) -> Result<Option<DossierSummary>, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_opt(
                    "SELECT summary FROM motcua_dossiers WHERE province = $1 AND code = $2",
                    &[&self.id, &dossier.to_string()],
                )
                .map_err(pg("summary"))?;
            row.map(|r| unbin("summary", get(&r, 0, "summary")?)).transpose()
        })
    }

    fn deadlines(&self, query: &DeadlineQuery) -> Result<Page, StoreError> {
        // Open rows with a running clock, in (due, code) order through a partial index.
        let mut sql =
            String::from("SELECT summary FROM motcua_dossiers WHERE province = $1 AND open AND NOT clock_stopped");
        let mut args: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(self.id)];
        let mut arg = |sql: &mut String, clause: &str, v: Box<dyn ToSql + Sync>| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("${}", args.len())));
        };
        match query.view {
            DeadlineView::Overdue => arg(&mut sql, " AND due < ?", Box::new(query.as_of.utc_minutes())),
            DeadlineView::DueBefore { until } => {
                arg(&mut sql, " AND due >= ?", Box::new(query.as_of.utc_minutes()));
                arg(&mut sql, " AND due < ?", Box::new(until.utc_minutes()));
            }
        }
        if let Some(a) = &query.agency {
            arg(&mut sql, " AND agency = ?", Box::new(a.to_string()));
        }
        if let Some(a) = &query.step_agency {
            arg(&mut sql, " AND step_agency = ?", Box::new(a.clone()));
        }
        if let Some(p) = &query.procedure {
            arg(&mut sql, " AND procedure = ?", Box::new(p.to_string()));
        }
        if let Some(cur) = &query.after {
            arg(&mut sql, " AND (due, code) > (?", Box::new(cur.due.utc_minutes()));
            arg(&mut sql, ", ?)", Box::new(cur.code.clone()));
        }
        let size = query.page_size();
        arg(&mut sql, " ORDER BY due, code LIMIT ?", Box::new(size as i64 + 1));
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|b| &**b).collect();
        self.with_client(|c| {
            let rows = c.query(&sql, &params).map_err(pg("deadlines"))?;
            let out = rows.iter().map(|r| unbin("summary", get(r, 0, "summary")?)).collect::<Result<Vec<_>, _>>()?;
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
            "SELECT COALESCE({column}, '-') AS k, COUNT(*), \
             COUNT(*) FILTER (WHERE NOT clock_stopped AND due < $2), COUNT(*) FILTER (WHERE clock_stopped) \
             FROM motcua_dossiers WHERE province = $1 AND open GROUP BY 1 ORDER BY 1"
        );
        self.with_client(|c| {
            let rows = c.query(&sql, &[&self.id, &as_of.utc_minutes()]).map_err(pg("backlog"))?;
            rows.iter()
                .map(|r| {
                    let n = |i: usize| get::<i64>(r, i, "backlog count").map(|v| v as u64);
                    Ok(BacklogRow { key: get(r, 0, "backlog key")?, open: n(1)?, overdue: n(2)?, clock_stopped: n(3)? })
                })
                .collect()
        })
    }

    fn counters(&self) -> Result<Counters, StoreError> {
        self.with_client(|c| {
            let rows = c
                .query(
                    "SELECT agency, procedure, sector, channel, day, SUM(received)::int8, SUM(refused)::int8, \
                     SUM(resolved)::int8, SUM(early)::int8, SUM(on_time)::int8, SUM(late)::int8, \
                     SUM(supplement_requests)::int8 FROM motcua_counters WHERE province = $1 \
                     GROUP BY agency, procedure, sector, channel, day",
                    &[&self.id],
                )
                .map_err(pg("counters"))?;
            let mut out = Counters::default();
            for r in &rows {
                let n = |i: usize| get::<i64>(r, i, "counter").map(|v| v as u64);
                let agency: &str = get(r, 0, "counter agency")?;
                let procedure: &str = get(r, 1, "counter procedure")?;
                let key = CounterKey {
                    agency: agency.parse().map_err(|e| backend(format!("counters: agency {agency:?}: {e}")))?,
                    procedure: procedure
                        .parse()
                        .map_err(|e| backend(format!("counters: procedure {procedure:?}: {e}")))?,
                    sector: std::sync::Arc::from(get::<&str>(r, 2, "counter sector")?),
                    channel: u8::try_from(get::<i16>(r, 3, "counter channel")?)
                        .map_err(|_| backend("counters: channel out of range"))?,
                    day: i64::from(get::<i32>(r, 4, "counter day")?),
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

    fn next_sequence(&self, agency: &AgencyCode, date: NaiveDate) -> Result<u64, StoreError> {
        self.writable()?;
        let day = i32::try_from(motcua_calendar::day_number(date)).map_err(|_| backend("date out of range"))?;
        self.with_client(|c| {
            // One statement, committed on return: concurrent callers queue on the row, and a
            // number handed out is durable.
            let row = c
                .query_one(
                    "INSERT INTO motcua_sequences (province, agency, day, last) VALUES ($1, $2, $3, 1) \
                     ON CONFLICT (province, agency, day) DO UPDATE SET last = motcua_sequences.last + 1 \
                     RETURNING last",
                    &[&self.id, &agency.to_string(), &day],
                )
                .map_err(pg("next sequence"))?;
            Ok(get::<i64>(&row, 0, "sequence")? as u64)
        })
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        // The rows due in the order written, then each dossier's messages rendered from its
        // events, in one load per dossier.
        let rows: Vec<(String, u64, u32, i64)> = self.with_client(|c| {
            let rows = c
                .query(
                    "SELECT d.code, o.seq, o.attempts, o.next_attempt FROM motcua_outbox o \
                     JOIN motcua_dossiers d ON d.province = o.province AND d.id = o.dossier \
                     WHERE o.province = $1 AND o.next_attempt <= $2 ORDER BY o.position LIMIT $3",
                    &[&self.id, &now.utc_minutes(), &(limit.min(i64::MAX as usize) as i64)],
                )
                .map_err(pg("outbox"))?;
            rows.iter()
                .map(|r| {
                    Ok((
                        get::<String>(r, 0, "outbox dossier")?,
                        get::<i32>(r, 1, "outbox seq")? as u64,
                        get::<i32>(r, 2, "outbox attempts")? as u32,
                        get::<i64>(r, 3, "outbox next attempt")?,
                    ))
                })
                .collect()
        })?;
        motcua_engine::store::render_due(rows, |code| self.load(code))
    }

    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        self.writable()?;
        // The update is idempotent (a delivered row moves once; a retry sets values), so a
        // transaction the server aborted as a deadlock victim is simply run again.
        let mut attempt = 0;
        loop {
            match self.outbox_update_once(updates) {
                Err(StoreError::Transient(_)) if attempt < 5 => attempt += 1,
                other => return other,
            }
        }
    }

    fn outbox_pending(&self) -> Result<usize, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_one("SELECT COUNT(*) FROM motcua_outbox WHERE province = $1", &[&self.id])
                .map_err(pg("outbox"))?;
            Ok(get::<i64>(&row, 0, "outbox count")? as usize)
        })
    }

    fn deliveries(&self, dossier: &DossierCode) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.with_client(|c| {
            let rows = c
                .query(
                    "SELECT l.seq, l.delivered_at FROM motcua_deliveries l JOIN motcua_dossiers d \
                     ON d.province = l.province AND d.id = l.dossier WHERE l.province = $1 AND d.code = $2 \
                     ORDER BY l.seq",
                    &[&self.id, &dossier.to_string()],
                )
                .map_err(pg("deliveries"))?;
            rows.iter()
                .map(|r| {
                    Ok(DeliveryRecord {
                        seq: get::<i32>(r, 0, "delivery seq")? as u64,
                        delivered_at: Timestamp::from_utc_minutes(get(r, 1, "delivered at")?),
                    })
                })
                .collect()
        })
    }

    fn put_services(&self, services: &[ServiceRow]) -> Result<(), StoreError> {
        self.writable()?;
        self.with_client(|c| {
            let mut tx = c.transaction().map_err(pg("begin"))?;
            tx.execute("DELETE FROM motcua_services WHERE province = $1", &[&self.id]).map_err(pg("services"))?;
            for s in services {
                let row = rmp_serde::to_vec(s).map_err(backend)?;
                tx.execute(
                    "INSERT INTO motcua_services (province, code, row) VALUES ($1, $2, $3) \
                     ON CONFLICT (province, code) DO UPDATE SET row = EXCLUDED.row",
                    &[&self.id, &s.procedure.to_string(), &row],
                )
                .map_err(pg("services"))?;
            }
            tx.commit().map_err(pg("commit"))
        })
    }

    fn result(&self, number: &str) -> Result<Option<motcua_core::KnownResult>, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_opt("SELECT row FROM motcua_results WHERE province = $1 AND number = $2", &[&self.id, &number])
                .map_err(pg("results"))?;
            row.map(|r| unbin("result row", r.get(0))).transpose()
        })
    }

    fn results_of(
        &self,
        holder: &motcua_core::ApplicantKey,
        day: chrono::NaiveDate,
    ) -> Result<Vec<motcua_core::KnownResult>, StoreError> {
        self.with_client(|c| {
            let rows = c
                .query(
                    "SELECT row FROM motcua_results WHERE province = $1 AND holder = $2 ORDER BY number",
                    &[&self.id, &holder.as_str()],
                )
                .map_err(pg("results"))?;
            let mut out = Vec::new();
            for r in rows {
                let known: motcua_core::KnownResult = unbin("result row", get(&r, 0, "row")?)?;
                if known.in_force_on(day) {
                    out.push(known);
                }
            }
            Ok(out)
        })
    }

    fn for_each_result(&self, f: &mut dyn FnMut(motcua_core::KnownResult)) -> Result<(), StoreError> {
        self.with_client(|c| {
            let mut rows =
                c.query_raw("SELECT row FROM motcua_results WHERE province = $1", [&self.id]).map_err(pg("results"))?;
            while let Some(r) = rows.next().map_err(pg("results"))? {
                f(unbin("result row", get(&r, 0, "row")?)?);
            }
            Ok(())
        })
    }

    fn services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        self.with_client(|c| {
            let rows = c
                .query("SELECT row FROM motcua_services WHERE province = $1 ORDER BY code", &[&self.id])
                .map_err(pg("services"))?;
            rows.iter().map(|r| unbin("service row", r.get(0))).collect()
        })
    }

    fn sync_tally(&self) -> Result<SyncTally, StoreError> {
        self.with_client(|c| {
            let row = c
                .query_one(
                    "SELECT COUNT(DISTINCT dossier), COUNT(*) FROM motcua_deliveries WHERE province = $1",
                    &[&self.id],
                )
                .map_err(pg("deliveries"))?;
            Ok(SyncTally {
                dossiers_synced: get::<i64>(&row, 0, "synced dossiers")? as u64,
                messages_delivered: get::<i64>(&row, 1, "delivered messages")? as u64,
            })
        })
    }
}

/// The naive baseline benchmarks compare the store with: a plain insert loop, one row per
/// transaction (autocommit), on the same server.
pub mod baseline {
    use super::{pg, StoreError};

    /// Inserts `rows` rows of `payload` into a scratch table, each in its own committed
    /// transaction.
    pub fn one_row_per_transaction(url: &str, rows: u64, payload: &str) -> Result<(), StoreError> {
        let (url, _) = super::split_url(url)?;
        let mut c = postgres::Client::connect(&url, postgres::NoTls).map_err(pg("connect"))?;
        c.batch_execute("CREATE TABLE IF NOT EXISTS motcua_baseline (id bigserial PRIMARY KEY, payload text NOT NULL)")
            .map_err(pg("baseline table"))?;
        let stmt = c.prepare("INSERT INTO motcua_baseline (payload) VALUES ($1)").map_err(pg("prepare"))?;
        for _ in 0..rows {
            c.execute(&stmt, &[&payload]).map_err(pg("baseline insert"))?;
        }
        Ok(())
    }
}

impl PostgresStore {
    /// [`Store::load`] with the dictionary as this handle holds it.
    fn load_once(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        let code = dossier.to_string();

        self.with_client(|c| {
            let Some(head) = c
                .query_opt(
                    "SELECT id, parties, summary FROM motcua_dossiers WHERE province = $1 AND code = $2",
                    &[&self.id, &code],
                )
                .map_err(pg("load dossier"))?
            else {
                return Ok(None);
            };
            let id: i64 = get(&head, 0, "id")?;
            let parties: Parties = unjson("parties", get(&head, 1, "parties")?)?;
            let summary: DossierSummary = unbin("summary", get(&head, 2, "summary")?)?;
            let rows = c
                .query(
                    "SELECT seq, schema, payload, hash FROM motcua_events WHERE province = $1 AND dossier = $2 \
                     ORDER BY seq",
                    &[&self.id, &id],
                )
                .map_err(pg("load events"))?;
            let mut events: Vec<StoredEvent> = Vec::with_capacity(rows.len());
            let lexicon = self.lexicon.read()?;
            for r in &rows {
                let e = event_at(dossier, r, 0, events.last(), None, &lexicon)?;
                events.push(e);
            }
            Ok(Some(Stream { events, parties, summary: Some(summary) }))
        })
    }

    /// The dictionary's entries from id `from` on.
    fn read_dictionary(&self, c: &mut Client, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        let rows = c
            .query(
                "SELECT id, text FROM motcua_dictionary WHERE province = $1 AND id >= $2 ORDER BY id",
                &[&self.id, &i32::try_from(from).unwrap_or(i32::MAX)],
            )
            .map_err(pg("dictionary"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i32 = get(r, 0, "dictionary id")?;
            let text: &str = get(r, 1, "dictionary text")?;
            let id =
                u32::try_from(id).map_err(|_| backend(format!("table motcua_dictionary: id {id} out of range")))?;
            out.push((id, std::sync::Arc::from(text)));
        }
        Ok(out)
    }

    /// Reads the dictionary entries this handle does not hold yet.
    fn refresh_lexicon(&self) -> Result<(), StoreError> {
        self.lexicon.refresh(|from| self.with_client(|c| self.read_dictionary(c, from)))
    }
}

impl PostgresStore {
    /// Every dossier's stream in code order, with its events' sealed bytes as stored when
    /// `keep` (else an empty slice).
    fn walk(&self, keep: bool, f: &mut motcua_engine::store::SealedVisitor<'_>) -> Result<(), StoreError> {
        self.refresh_lexicon()?;
        let lexicon = self.lexicon.read()?;
        self.with_client(|c| {
            // One streamed pass: dossiers in code order, each with its events (a dossier without
            // events still comes, its projection checked against an empty history).
            let mut rows = c
                .query_raw(
                    "SELECT d.code, d.parties, d.summary, e.seq, e.schema, e.payload, e.hash \
                     FROM motcua_dossiers d LEFT JOIN motcua_events e \
                     ON e.province = d.province AND e.dossier = d.id \
                     WHERE d.province = $1 ORDER BY d.code, e.seq",
                    [&self.id],
                )
                .map_err(pg("streams"))?;
            let mut current: Option<(String, DossierCode, Stream)> = None;
            let mut sealed = Vec::new();
            while let Some(r) = rows.next().map_err(pg("streams"))? {
                let text: &str = get(&r, 0, "code")?;
                if current.as_ref().is_none_or(|(t, _, _)| t != text) {
                    if let Some((_, code, stream)) = current.take() {
                        if f(code, stream, &sealed).is_break() {
                            return Ok(());
                        }
                        sealed.clear();
                    }
                    let stream = Stream {
                        events: Vec::new(),
                        parties: unjson("parties", get(&r, 1, "parties")?)?,
                        summary: Some(unbin("summary", get(&r, 2, "summary")?)?),
                    };
                    current = Some((text.to_string(), parse_code(text)?, stream));
                }
                let Some((_, code, stream)) = current.as_mut() else { continue };
                if r.try_get::<_, Option<i32>>(3).map_err(backend)?.is_some() {
                    let e = event_at(code, &r, 3, stream.events.last(), keep.then_some(&mut sealed), &lexicon)?;
                    stream.events.push(e);
                }
            }
            if let Some((_, code, stream)) = current {
                let _ = f(code, stream, &sealed);
            }
            Ok(())
        })
    }
}

/// The province's tables and rows (the server keeps its own pages consistent): the first
/// fault, said for people.
fn integrity(c: &mut Client, province: i32) -> Result<Option<String>, StoreError> {
    for table in TABLES {
        let found: i64 =
            c.query_one("SELECT count(*) FROM pg_tables WHERE tablename = $1", &[&table]).map_err(pg("tables"))?.get(0);
        if found == 0 {
            return Ok(Some(format!("table {table}: missing")));
        }
    }
    // Each dossier row's version is the number of its last event.
    let row = c
        .query_opt(
            "SELECT d.code, d.version, coalesce(max(e.seq), 0)::bigint FROM motcua_dossiers d \
             LEFT JOIN motcua_events e ON e.province = d.province AND e.dossier = d.id \
             WHERE d.province = $1 GROUP BY d.code, d.version HAVING d.version <> coalesce(max(e.seq), 0) LIMIT 1",
            &[&province],
        )
        .map_err(pg("dossier versions"))?;
    if let Some(r) = row {
        let (code, version, last): (String, i64, i64) = (r.get(0), r.get(1), r.get(2));
        return Ok(Some(format!("table motcua_dossiers, row {code}: version {version}, but its last event is {last}")));
    }
    // Each outbox row is the message of an event it names.
    let rows = c
        .query(
            "SELECT o.position, d.code, o.seq, e.seq IS NOT NULL FROM motcua_outbox o \
             LEFT JOIN motcua_dossiers d ON d.province = o.province AND d.id = o.dossier \
             LEFT JOIN motcua_events e ON e.province = o.province AND e.dossier = o.dossier AND e.seq = o.seq \
             WHERE o.province = $1",
            &[&province],
        )
        .map_err(pg("outbox"))?;
    for r in rows {
        let (position, code, seq, has_event): (i64, Option<String>, i32, bool) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        if code.is_none() || !has_event {
            return Ok(Some(format!("table motcua_outbox, row {position}: no event {seq} of its dossier")));
        }
    }
    // Each idempotency record names events its dossier has.
    let rows = c
        .query("SELECT key, record FROM motcua_idempotency WHERE province = $1", &[&province])
        .map_err(pg("idempotency"))?;
    for r in rows {
        let (key, record): (String, String) = (r.get(0), r.get(1));
        let record: IdempotencyRecord = match unjson("idempotency record", &record) {
            Ok(x) => x,
            Err(e) => return Ok(Some(format!("table motcua_idempotency, key {key:?}: {e}"))),
        };
        let version: Option<i64> = c
            .query_opt(
                "SELECT version FROM motcua_dossiers WHERE province = $1 AND code = $2",
                &[&province, &record.dossier.to_string()],
            )
            .map_err(pg("idempotency"))?
            .map(|r| r.get(0));
        let sound = record.key == key
            && record.first_seq <= record.last_seq
            && version.is_some_and(|v| record.last_seq <= v as u64);
        if !sound {
            return Ok(Some(format!(
                "table motcua_idempotency, key {key:?}: claims {} events {}..={} it does not have",
                record.dossier, record.first_seq, record.last_seq
            )));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::split_url;

    #[test]
    fn bounds_are_taken_off_the_url_and_checked() {
        let (url, p, b) = super::split_url_bounds(
            "postgres://u@h:5/db?province=x&io_timeout=1.5&reconnects=0&statement_timeout=9&connect_timeout=2",
        )
        .unwrap();
        assert_eq!((url.as_str(), p.as_str()), ("postgres://u@h:5/db?connect_timeout=2", "x"));
        assert_eq!(b.io_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(b.statement_timeout, std::time::Duration::from_secs(9));
        assert_eq!((b.reconnects, b.connect_timeout), (0, std::time::Duration::from_secs(2)));
        for bad in ["io_timeout=0", "io_timeout=-1", "io_timeout=x", "reconnects=99", "statement_timeout=1e9"] {
            assert!(super::split_url_bounds(&format!("postgres://h/db?{bad}")).is_err(), "{bad}");
        }
        let (_, _, b) = super::split_url_bounds("postgres://h/db").unwrap();
        assert_eq!(b, super::Bounds::default());
    }

    #[test]
    fn the_province_is_taken_off_the_url() {
        let (url, p) = split_url("postgres://u@h:5/db?province=ninhthuan&connect_timeout=5").unwrap();
        assert_eq!((url.as_str(), p.as_str()), ("postgres://u@h:5/db?connect_timeout=5", "ninhthuan"));
        let (url, p) = split_url("postgres://u@h/db").unwrap();
        assert_eq!((url.as_str(), p.as_str()), ("postgres://u@h/db", "default"));
        for bad in ["x; DROP", "", "a'b", "é"] {
            assert!(split_url(&format!("postgres://h/db?province={bad}")).is_err(), "{bad}");
        }
    }
}
