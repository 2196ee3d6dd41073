//! The byte budget: every stored byte is paid 328,508 × ~6 times a year, so the bytes a seed
//! year costs are a contract, checked here on a fixed 1 % slice of it (3,285 dossiers, the seed
//! profile's shares, its register and digitisation rules) on SQLite. Bytes are deterministic
//! where time is not: this test fails when a change goes over budget, and prints the table by
//! table figures either way. A budget is raised only deliberately, in a commit of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use motcua_catalog::Catalog;
use motcua_engine::{verify, Store};
use motcua_sim::{simulate, SimOptions};
use motcua_store_sqlite::SqliteStore;

/// Sealed event bytes per event, on average (the lean form, envelope schema 4), the
/// dictionary's texts counted in (8 bytes of id and length each): moving bytes into the
/// dictionary buys nothing here.
const EVENT_BYTES: f64 = 48.0;

/// The whole file per dossier on the slice: the seed year's budget of 1.0 KB a dossier, as the
/// slice measures it. The slice carries the tables that do not grow with dossiers (services,
/// the counters' agency-procedure-day rows, one page per small table) over a hundredth of
/// them, 8.6 % more a dossier than the year: the seed year measured 985 B a dossier
/// (323.8 MB) when the slice measured 1,070; 1,085 here is 1,000 there.
const FILE_BYTES: f64 = 1085.0;

fn query(path: &Path, sql: &str) -> f64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, Option<f64>>(0)).unwrap().unwrap_or(0.0)
}

#[test]
fn a_slice_of_the_seed_year_stays_within_its_byte_budget() {
    let catalog = Catalog::load(&common::seeds().join("procedures")).unwrap();
    let dir = tempfile::Builder::new().prefix("motcua-budget-").tempdir().unwrap();
    let path = dir.path().join("slice.sqlite");
    {
        let (mut engine, profile, procs) = common::seed_engine(SqliteStore::open(&path).unwrap(), &catalog, 100);
        let report =
            simulate(&mut engine, &profile, &procs, &SimOptions { seed: 1, batch: 1000, sync: false }).unwrap();
        assert_eq!(report.received, 3285);
        let store = engine.into_store();
        verify(&store).unwrap();
        assert!(store.dictionary(0).unwrap().len() > 10, "the dictionary is used");
    }
    let events = query(&path, "SELECT count(*) FROM events");
    let dictionary = query(&path, "SELECT coalesce(sum(length(text)) + 8 * count(*), 0) FROM dictionary");
    let payload = (query(&path, "SELECT sum(length(payload)) FROM events") + dictionary) / events;
    let dossiers = query(&path, "SELECT count(*) FROM dossiers");
    // An undelivered outbox row keeps no message (rendered from its event when due): its
    // columns are the event's key and the delivery schedule, all integers.
    let blobs = query(&path, "SELECT count(*) FROM pragma_table_info('outbox') WHERE type NOT LIKE 'INTEGER'");
    let outbox_rows = query(&path, "SELECT count(*) FROM outbox");
    let summary = query(&path, "SELECT avg(length(summary)) FROM dossiers");
    let file = query(&path, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    eprintln!(
        "budget slice: {dossiers} dossiers, {events} events; sealed event bytes {payload:.1}/event with the dictionary's (budget {EVENT_BYTES}), \
         dictionary {dictionary:.0} B in all, {outbox_rows} outbox rows ({blobs} columns of payload), summary {summary:.1} B/row, \
         file {:.0} B/dossier",
        file / dossiers
    );
    // Table by table (SQLite's dbstat), largest first.
    if let Ok(conn) = rusqlite::Connection::open(&path) {
        let tables = conn.prepare("SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name ORDER BY 2 DESC");
        if let Ok(mut stmt) = tables {
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?, r.get::<_, f64>(2)?)));
            for (name, pages, payload) in rows.into_iter().flatten().flatten() {
                eprintln!(
                    "  {name:<28} {:>7.1} B/dossier in pages, {:>7.1} of payload",
                    pages / dossiers,
                    payload / dossiers
                );
            }
        }
    }
    if std::env::var_os("MOTCUA_BUDGET_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("kept {}", path.display());
    }
    assert_eq!(blobs, 0.0, "an outbox row keeps no message");
    assert!(outbox_rows > dossiers, "the outbox was not drained: {outbox_rows} rows");
    assert!(
        file / dossiers <= FILE_BYTES,
        "the file: {:.0} B/dossier over the budget of {FILE_BYTES}",
        file / dossiers
    );
    assert!(payload <= EVENT_BYTES, "sealed event bytes {payload:.1}/event over the budget of {EVENT_BYTES}");
}
