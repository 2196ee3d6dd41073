//! Allocations per event on the hot path, counted rather than timed: a slice of the seed year
//! (1 %, the seed profile's shares, register and digitisation rules) runs in memory under a
//! counting allocator, and the test fails when the engine, the memory store and the simulator
//! together allocate more than [`ALLOCATIONS_PER_EVENT`] times per event written. Heap
//! allocations are what the memory year's profile follows (page clearing, zeroing, memmove):
//! counting them guards the speed in CI without a clock. The budget is raised only
//! deliberately, in a commit of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::alloc::System;

use motcua_catalog::Catalog;
use motcua_engine::MemoryStore;
use motcua_sim::{simulate, SimOptions};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

/// Heap allocations (and reallocations) per event written, simulator included. Measured 13.46
/// on the slice when the test came (the count is the same run after run), 12.49 once the lean
/// encoder stopped allocating a vector per array of small numbers, 12.83 once the memory store
/// packed closed dossiers' summaries, 12.50 once a warehouse row's holder stopped being
/// rendered back to text to check it: the budget leaves room for a change in the slice's mix,
/// not for another allocation per event.
const ALLOCATIONS_PER_EVENT: f64 = 13.0;

/// The system allocator, counting (`stats_alloc`).
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn the_memory_year_allocates_within_its_budget_per_event() {
    let catalog = Catalog::load(&common::seeds().join("procedures")).unwrap();
    let (mut engine, profile, procs) = common::seed_engine(MemoryStore::new(), &catalog, 100);
    // This file holds one test: nothing else allocates while it counts (the harness's own
    // thread waits for it).
    let region = Region::new(ALLOCATOR);
    let report = simulate(&mut engine, &profile, &procs, &SimOptions { seed: 1, batch: 1000, sync: false });
    let stats = region.change();
    let report = report.unwrap();
    assert_eq!(report.received, 3285);
    let events = report.events as f64;
    let per_event = (stats.allocations + stats.reallocations) as f64 / events;
    eprintln!(
        "allocations: {per_event:.2} per event over {events} events of the slice (budget {ALLOCATIONS_PER_EVENT})"
    );
    assert!(
        per_event <= ALLOCATIONS_PER_EVENT,
        "{per_event:.2} allocations per event, over the budget of {ALLOCATIONS_PER_EVENT}"
    );
}
