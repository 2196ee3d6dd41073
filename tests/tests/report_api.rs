//! The report of a store for a period, in one library call (what `motcua report --from --to`
//! prints): the halves of a slice of the seed year add up to the year, and the delivery ledger
//! (1.4) is the whole store's only.

#![allow(clippy::unwrap_used)]

mod common;

use motcua_catalog::Catalog;
use motcua_engine::MemoryStore;
use motcua_report::{report_of_store, ReportOptions};
use motcua_sim::{simulate, SimOptions};

#[test]
fn the_halves_of_a_year_add_up_to_the_year() {
    let catalog = Catalog::load(&common::seeds().join("procedures")).unwrap();
    let (mut engine, profile, procs) = common::seed_engine(MemoryStore::new(), &catalog, 200);
    let sim = simulate(&mut engine, &profile, &procs, &SimOptions { seed: 1, batch: 1000, sync: false }).unwrap();
    let store = engine.store();
    let day = |s: &str| Some(s.parse::<chrono::NaiveDate>().unwrap());
    let year = report_of_store(store, catalog.iter(), ReportOptions::default()).unwrap();
    let first = ReportOptions { from: day("2023-01-01"), to: day("2023-06-30"), ..ReportOptions::default() };
    let second = ReportOptions { from: day("2023-07-01"), to: day("2023-12-31"), ..ReportOptions::default() };
    let (first, second) = (
        report_of_store(store, catalog.iter(), first).unwrap(),
        report_of_store(store, catalog.iter(), second).unwrap(),
    );
    assert_eq!(year.totals.received, sim.received);
    assert_eq!(first.totals.received + second.totals.received, year.totals.received);
    assert_eq!(first.totals.resolved + second.totals.resolved, year.totals.resolved);
    assert!(first.totals.received > 0 && second.totals.received > 0);
}
