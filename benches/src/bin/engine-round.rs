//! Runs the engine benchmark's rounds in memory, for counting instructions:
//! `valgrind --tool=callgrind target/release/engine-round 3` (the count is deterministic where
//! wall-clock time on a shared 2-core machine is not). Prints events handled.

use motcua_benches::engine_round::{procedure, requests};
use motcua_calendar::WorkCalendar;
use motcua_engine::{Engine, MemoryStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1);
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let mut events = 0usize;
    for round in 0..rounds {
        let reqs = requests(round);
        let mut engine = Engine::new(MemoryStore::new(), [procedure()], calendar.clone());
        for r in &reqs {
            events += engine.handle(r)?.events.len();
        }
    }
    println!("{events} events");
    Ok(())
}

/// The allocator the `motcua` binary and the engine bench use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
