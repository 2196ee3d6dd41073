//! What several integration tests share: the seed profile sliced down.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;

use motcua_catalog::Catalog;
use motcua_sim::Profile;

/// The project's `seeds/` folder.
pub fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../seeds")
}

/// The seed profile (Ninh Thuận 2023) with its yearly counts divided by `k` (same shares, same
/// register and digitisation rules).
pub fn seed_slice(catalog: &Catalog, k: u64) -> Profile {
    let path = seeds().join("profiles/ninh-thuan-2023.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace("received = 328508", &format!("received = {}", 328_508 / k))
        .replace("online = 273500", &format!("online = {}", 273_500 / k))
        .replace("resolved = 324770", &format!("resolved = {}", 324_770 / k))
        .replace("early_or_on_time = 322647", &format!("early_or_on_time = {}", 322_647 / k));
    Profile::parse(&text, &path, Some(catalog)).unwrap()
}

/// An engine over `store` for the seed year sliced by `k`, set up as `motcua simulate` sets it
/// up: the profile's procedures, its year and the next in the calendar, its register of units
/// and digitisation rules.
pub fn seed_engine<S: motcua_engine::Store>(
    store: S,
    catalog: &Catalog,
    k: u64,
) -> (motcua_engine::Engine<S>, Profile, Vec<motcua_core::Procedure>) {
    let profile = seed_slice(catalog, k);
    let procs = motcua_sim::procedures(&profile, catalog);
    let calendar = motcua_calendar::WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
    let mut engine = motcua_engine::Engine::new(store, motcua_sim::every_version(&procs, catalog), calendar);
    if let Some(units) = &profile.units {
        engine = engine.with_units(std::sync::Arc::new(motcua_catalog::load_register(units).unwrap()));
    }
    if let Some(rules) = &profile.digitisation {
        engine = engine.with_digitisation(std::sync::Arc::new(motcua_catalog::load_digitisation(rules).unwrap()));
    }
    (engine, profile, procs)
}
