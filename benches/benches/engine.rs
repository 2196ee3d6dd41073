//! The engine's hot path: in memory (one command per append, and group commit), and on SQLite
//! durable (group commit) beside a plain one-row-per-transaction insert loop.
//!
//! Run: `cargo bench -p motcua-benches --bench engine`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use motcua_benches::engine_round::{procedure, requests, DOSSIERS, EVENTS_PER_DOSSIER};
use motcua_calendar::WorkCalendar;
use motcua_engine::{Engine, MemoryStore, Store};
use motcua_store_sqlite::{baseline, SqliteStore};

/// The allocator the `motcua` binary ships with (a portal embedding the library picks its own;
/// BENCHMARKS.md gives the system allocator's figure beside this one).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn calendar() -> WorkCalendar {
    WorkCalendar::builder().years(2025, 2026).build().unwrap()
}

fn memory(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_memory");
    g.throughput(Throughput::Elements(DOSSIERS * EVENTS_PER_DOSSIER));
    g.measurement_time(Duration::from_secs(8));
    g.sample_size(20);
    g.bench_function("handle", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for round in 0..iters {
                let reqs = requests(round);
                let mut e = Engine::new(MemoryStore::new(), [procedure()], calendar());
                let t0 = Instant::now();
                for r in &reqs {
                    e.handle(r).unwrap();
                }
                total += t0.elapsed();
            }
            total
        })
    });
    g.bench_function("handle_batch_1000", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for round in 0..iters {
                let reqs = requests(round);
                let mut e = Engine::new(MemoryStore::new(), [procedure()], calendar());
                let t0 = Instant::now();
                for chunk in reqs.chunks(1000) {
                    for r in e.handle_batch(chunk) {
                        r.unwrap();
                    }
                }
                total += t0.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn temp_file(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("motcua-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
    }
    p
}

fn sqlite(c: &mut Criterion) {
    let mut g = c.benchmark_group("sqlite_durable");
    g.measurement_time(Duration::from_secs(10));
    g.sample_size(10);
    g.throughput(Throughput::Elements(DOSSIERS * EVENTS_PER_DOSSIER));
    for batch in [1_000usize, 7_000] {
        g.bench_function(format!("engine_group_commit_{batch}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for round in 0..iters {
                    let reqs = requests(round);
                    let path = temp_file("engine.sqlite");
                    let mut e = Engine::new(SqliteStore::open(&path).unwrap(), [procedure()], calendar());
                    let t0 = Instant::now();
                    for chunk in reqs.chunks(batch) {
                        for r in e.handle_batch(chunk) {
                            r.unwrap();
                        }
                    }
                    total += t0.elapsed();
                    assert_eq!(e.store().dossiers().unwrap().len() as u64, DOSSIERS);
                }
                total
            })
        });
    }
    // The baseline: the same number of rows is far too slow one per transaction, so it writes
    // 200 rows per round and reports per-row throughput.
    const BASELINE_ROWS: u64 = 200;
    let payload = r#"{"event":"received","at":"2025-03-03T08:06+07:00","procedure":"1.004194","channel":"direct","clock_start":"2025-03-03T08:06+07:00","due":"2025-03-06T08:06+07:00"}"#;
    g.throughput(Throughput::Elements(BASELINE_ROWS));
    g.bench_function("plain_insert_one_row_per_transaction", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = temp_file("baseline.sqlite");
                let t0 = Instant::now();
                baseline::one_row_per_transaction(&path, BASELINE_ROWS, payload).unwrap();
                total += t0.elapsed();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, memory, sqlite);
criterion_main!(benches);
