//! PostgreSQL durable write throughput with concurrent writers, against the naive loop on the
//! same server, in one run:
//!
//! `pg-writers URL [ROUNDS] [BATCH]`
//!
//! For 1, 2, 4 and 8 writers (threads, each an engine over its own connection, on distinct
//! dossiers of one province), the same `ROUNDS` rounds of the engine benchmark (1,000 dossiers
//! × 7 commands each) shared out between the writers, in group commits of `BATCH` commands; then a one-row-per-
//! transaction insert loop runs on the same server. Prints events/s per writer count, the loop's
//! rows/s, and the ratios. The store's province is emptied first (`?province=` in the URL;
//! default `bench`). Loopback servers only: this is a bounded load (fixed counts).

use std::time::Instant;

use motcua_benches::engine_round::{procedure, requests};
use motcua_calendar::WorkCalendar;
use motcua_engine::Engine;
use motcua_store_postgres::PostgresStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(url) = args.get(1) else {
        eprintln!("usage: pg-writers URL [ROUNDS] [BATCH]");
        std::process::exit(2);
    };
    let url = if url.contains("province=") {
        url.clone()
    } else {
        format!("{url}{}province=bench", if url.contains('?') { '&' } else { '?' })
    };
    let rounds: u64 = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(16);
    let batch: usize = args.get(3).map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let calendar = WorkCalendar::builder().years(2019, 2031).build()?;
    let mut results = Vec::new();
    for writers in [1u64, 2, 4, 8] {
        PostgresStore::open(&url)?.truncate()?;
        let started = Instant::now();
        let events: u64 = std::thread::scope(|scope| -> Result<u64, String> {
            let handles: Vec<_> = (0..writers)
                .map(|w| {
                    let (url, calendar) = (&url, calendar.clone());
                    scope.spawn(move || -> Result<u64, String> {
                        let store = PostgresStore::open(url).map_err(|e| e.to_string())?;
                        let mut engine = Engine::new(store, [procedure()], calendar);
                        let mut events = 0u64;
                        for round in (w..rounds).step_by(writers as usize) {
                            let reqs = requests(round);
                            for part in reqs.chunks(batch) {
                                for r in engine.handle_batch(part) {
                                    events += r.map_err(|e| e.to_string())?.events.len() as u64;
                                }
                            }
                        }
                        Ok(events)
                    })
                })
                .collect();
            let mut total = 0;
            for h in handles {
                total += h.join().map_err(|_| "a writer panicked".to_string())??;
            }
            Ok(total)
        })?;
        let seconds = started.elapsed().as_secs_f64();
        let rate = events as f64 / seconds;
        println!("writers {writers}: {events} events in {seconds:.2} s = {rate:.0} events/s");
        results.push((writers, rate));
    }
    let rows = 2_000;
    let started = Instant::now();
    motcua_store_postgres::baseline::one_row_per_transaction(&url, rows, "{\"event\":\"received\"}")?;
    let loop_rate = rows as f64 / started.elapsed().as_secs_f64();
    println!("one row per transaction: {rows} rows = {loop_rate:.0} rows/s");
    for (writers, rate) in results {
        println!("writers {writers}: {:.0}x the loop", rate / loop_rate);
    }
    PostgresStore::open(&url)?.truncate()?;
    Ok(())
}

/// The allocator the `motcua` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
