//! Latency of the portal's deadline questions on a stored year, read from the store's indexed
//! projection rows:
//!
//! `deadline-latency STORE [QUERIES]` (STORE: `sqlite:PATH` or a PostgreSQL URL)
//!
//! Asks `QUERIES` times each (default 200) for the first page (100 rows) of dossiers overdue at,
//! and due within two days of, an instant drawn from 20 December 2023 to 20 January 2024 (the
//! store holds the end of the seed year: its open dossiers fall due then; seeded, the same
//! instants every run), for the whole province and for one receiving agency, and
//! prints p50 and p99 per question. Read-only.

use std::time::Instant;

use motcua_calendar::Timestamp;
use motcua_engine::{DeadlineQuery, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(spec) = args.get(1) else {
        eprintln!("usage: deadline-latency STORE [QUERIES]");
        std::process::exit(2);
    };
    let n: usize = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(200);
    let store: Box<dyn Store> = match spec.strip_prefix("sqlite:") {
        Some(path) => Box::new(motcua_store_sqlite::SqliteStore::open(std::path::Path::new(path))?),
        None => Box::new(motcua_store_postgres::PostgresStore::open(spec)?),
    };
    // Instants around the end of the seed year, 08:00–17:00.
    let mut rng = motcua_benches::SplitMix64::new(7);
    let start: Timestamp = "2023-12-20T08:00".parse()?;
    let instants: Vec<Timestamp> =
        (0..n).map(|_| start.plus_minutes((rng.below(31) * 1440 + rng.below(9 * 60)) as i64)).collect();
    let agency = "NINHTHUAN".parse()?;
    type Make = fn(Timestamp, &motcua_core::AgencyCode) -> DeadlineQuery;
    let questions: [(&str, Make); 4] = [
        ("overdue", |at, _| DeadlineQuery { limit: 100, ..DeadlineQuery::overdue(at) }),
        ("due within 2 days", |at, _| DeadlineQuery {
            limit: 100,
            ..DeadlineQuery::due_before(at, at.plus_minutes(2 * 1440))
        }),
        ("overdue, one agency", |at, a| DeadlineQuery {
            limit: 100,
            agency: Some(a.clone()),
            ..DeadlineQuery::overdue(at)
        }),
        ("due within 2 days, one agency", |at, a| DeadlineQuery {
            limit: 100,
            agency: Some(a.clone()),
            ..DeadlineQuery::due_before(at, at.plus_minutes(2 * 1440))
        }),
    ];
    println!("{} dossiers in the store", store.dossiers()?.len());
    for (name, make) in questions {
        let mut times = Vec::with_capacity(n);
        let mut rows = 0usize;
        for at in &instants {
            let q = make(*at, &agency);
            let t = Instant::now();
            rows += store.deadlines(&q)?.rows.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
        println!(
            "{name:<32} p50 {:>7.3} ms  p99 {:>7.3} ms  ({} queries, {:.0} rows a page on average)",
            pct(0.5),
            pct(0.99),
            n,
            rows as f64 / n as f64
        );
    }
    Ok(())
}

/// The allocator the `motcua` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
