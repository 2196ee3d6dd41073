//! `motcua simulate`: replay a province's year through the engine and print the indicators and
//! the throughput.

use crate::outln;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use motcua_calendar::WorkCalendar;
use motcua_catalog::Catalog;
use motcua_engine::{Engine, MemoryStore, Store};
use motcua_sim::{plan_year, procedures, simulate_planned, Profile, SimOptions, SimReport};
use motcua_store_postgres::PostgresStore;
use motcua_store_sqlite::SqliteStore;
use serde_json::json;

use crate::args::SimulateCmd;
use crate::exit;

pub fn run(cmd: SimulateCmd) -> Result<u8> {
    let catalog_dir = match &cmd.catalog {
        Some(c) => c.clone(),
        None => {
            cmd.profile.parent().map(|d| d.join("../procedures")).unwrap_or_else(|| PathBuf::from("seeds/procedures"))
        }
    };
    let catalog = Catalog::load(&catalog_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let profile = Profile::load(&cmd.profile, Some(&catalog)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let profile =
        if cmd.scale == 1 { profile } else { profile.scaled(cmd.scale).map_err(|e| anyhow::anyhow!("--{e}"))? };
    let procs = procedures(&profile, &catalog);
    // The engine knows every version of them: a dossier follows the one in force on its day.
    let all_versions = motcua_sim::every_version(&procs, &catalog);
    let calendar = WorkCalendar::builder().years(profile.year, profile.year + 1).build()?;
    let options = SimOptions { seed: cmd.seed, batch: cmd.batch.max(1), sync: cmd.sync };
    // The files the profile refers to, opened and validated as `motcua check` does: its
    // register (dossiers go to the communes' committees, officers act) and its digitisation
    // rules (counter receipts record what was left on paper).
    let references = profile.references(Some(&catalog)).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The year planned before any store is opened (or an existing one replaced): figures the
    // year cannot meet together are refused where the profile says them, as `check` does.
    let plan = plan_year(&profile, &procs, &calendar, cmd.seed).map_err(|e| {
        let e = profile.calibration_problem(&e);
        anyhow::anyhow!("{e}")
    })?;
    let units = references.units.map(std::sync::Arc::new);
    let digitisation = references.digitisation.map(std::sync::Arc::new);
    fn engine<S: Store>(
        store: S,
        procs: &[motcua_core::Procedure],
        calendar: &WorkCalendar,
        units: Option<&std::sync::Arc<motcua_core::Register>>,
        digitisation: Option<&std::sync::Arc<motcua_core::DigitisationRules>>,
    ) -> Engine<S> {
        let mut engine = Engine::new(store, procs.to_vec(), calendar.clone());
        if let Some(u) = units {
            engine = engine.with_units(u.clone());
        }
        if let Some(d) = digitisation {
            engine = engine.with_digitisation(d.clone());
        }
        engine
    }
    // A progress bar on a terminal only; nothing when stderr is a pipe or a file.
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new(profile.dossiers.received);
        let style =
            indicatif::ProgressStyle::with_template("{spinner} {wide_bar} {pos}/{len} dossiers ({per_sec}, {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    let mut progress = |done: u64, _total: u64| {
        if let Some(b) = &bar {
            b.set_position(done);
        }
    };
    let report = match cmd.store.as_str() {
        "memory" => {
            let mut engine =
                engine(MemoryStore::new(), &all_versions, &calendar, units.as_ref(), digitisation.as_ref());
            let r = simulate_planned(&mut engine, &profile, &procs, plan, &options, &mut progress)
                .map_err(|e| in_profile(&cmd.profile, e))?;
            write_html(cmd.html.as_deref(), engine.store(), &catalog_dir, profile.services.online)?;
            r
        }
        spec if crate::store_cmd::is_postgres(spec) => {
            let shown = crate::store_cmd::redact(spec);
            let store = PostgresStore::open(spec).with_context(|| format!("--store {shown}"))?;
            if !store.dossiers()?.is_empty() {
                if !cmd.overwrite {
                    bail!("--store {shown}: the province holds dossiers; pass --overwrite to replace them");
                }
                store.truncate()?;
            }
            let mut engine = engine(store, &all_versions, &calendar, units.as_ref(), digitisation.as_ref());
            let r = simulate_planned(&mut engine, &profile, &procs, plan, &options, &mut progress)
                .map_err(|e| in_profile(&cmd.profile, e))?;
            write_html(cmd.html.as_deref(), engine.store(), &catalog_dir, profile.services.online)?;
            r
        }
        spec => {
            if !spec.starts_with("sqlite:") {
                bail!("--store {spec:?}: expected memory, sqlite:PATH or postgres://…");
            }
            let path = crate::store_cmd::sqlite_path(spec)?;
            if path.exists() {
                if !cmd.overwrite {
                    bail!("--store {spec:?}: the file exists; pass --overwrite to replace it");
                }
                for suffix in ["", "-wal", "-shm"] {
                    let f = PathBuf::from(format!("{}{suffix}", path.display()));
                    if f.exists() {
                        std::fs::remove_file(&f).with_context(|| format!("removing {}", f.display()))?;
                    }
                }
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let store = SqliteStore::open(&path)?;
            let mut engine = engine(store, &all_versions, &calendar, units.as_ref(), digitisation.as_ref());
            let r = simulate_planned(&mut engine, &profile, &procs, plan, &options, &mut progress)
                .map_err(|e| in_profile(&cmd.profile, e))?;
            engine.store().checkpoint()?;
            write_html(cmd.html.as_deref(), engine.store(), &catalog_dir, profile.services.online)?;
            r
        }
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if cmd.json {
        outln!("{}", serde_json::to_string_pretty(&as_json(&profile, &report, cmd.seed, &cmd.store, cmd.sync))?);
    } else {
        print_table(&profile, &report, &cmd.store)?;
    }
    Ok(exit::OK)
}

/// `--html PATH`: the stored year's report page, built from the store as `motcua report` does.
fn write_html<S: Store>(path: Option<&Path>, store: &S, catalog_dir: &Path, services: u64) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let options = crate::report_cmd::Options { services: Some(services), ..Default::default() };
    let report = crate::report_cmd::build(store, catalog_dir, options)?;
    std::fs::write(path, report.to_html(crate::report_cmd::HTML_TITLE))
        .with_context(|| format!("--html {}", path.display()))
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
}

fn as_json(profile: &Profile, r: &SimReport, seed: u64, store: &str, sync: bool) -> serde_json::Value {
    json!({
        "profile": profile.name,
        "year": profile.year,
        "seed": seed,
        "store": store,
        "dossiers": {
            "received": r.received,
            "online": r.online,
            "resolved": r.resolved,
            "early_or_on_time": r.early_or_on_time,
            "late": r.resolved - r.early_or_on_time,
        },
        "rates": {
            "early_or_on_time_pct": r.early_or_on_time_pct(),
            "online_pct": pct(r.online, r.received),
            "resolved_pct": pct(r.resolved, r.received),
            "services_with_online_dossiers_pct": r.services_with_online_dossiers_pct(),
        },
        "services": {
            "online": r.services_offered,
            "with_online_dossiers": r.services_with_online_dossiers,
        },
        "sync": {
            "enabled": sync,
            "delivered": r.synced,
            "outbox_pending": r.outbox_pending,
        },
        "throughput": {
            "events": r.events,
            "events_per_second": r.events_per_second().round(),
            "dossiers_per_second": if r.seconds > 0.0 { (r.received as f64 / r.seconds).round() } else { 0.0 },
            "seconds": (r.seconds * 1000.0).round() / 1000.0,
        },
    })
}

fn print_table(profile: &Profile, r: &SimReport, store: &str) -> Result<()> {
    outln!("{} — simulated year on {store}", profile.name);
    outln!();
    outln!("  {:<38} {:>12}", "dossiers received", r.received);
    outln!("  {:<38} {:>12}   {:>6.2} %", "… online", r.online, pct(r.online, r.received));
    outln!("  {:<38} {:>12}   {:>6.2} %", "dossiers resolved", r.resolved, pct(r.resolved, r.received));
    outln!("  {:<38} {:>12}   {:>6.2} %", "… early or on time", r.early_or_on_time, r.early_or_on_time_pct());
    outln!("  {:<38} {:>12}", "… late", r.resolved - r.early_or_on_time);
    if r.services_offered > 0 {
        outln!(
            "  {:<38} {:>12}   {:>6.2} %",
            format!("online services with dossiers (of {})", r.services_offered),
            r.services_with_online_dossiers,
            r.services_with_online_dossiers_pct()
        );
    }
    outln!(
        "  {:<38} {:>12}   ({} still in the outbox)",
        "status messages synced to the portal",
        r.synced,
        r.outbox_pending
    );
    outln!();
    outln!(
        "  throughput: {} events in {:.2} s = {:.0} events/s ({:.0} dossiers/s)",
        r.events,
        r.seconds,
        r.events_per_second(),
        if r.seconds > 0.0 { r.received as f64 / r.seconds } else { 0.0 }
    );
    Ok(())
}

/// A simulation error as the user reads it: a calibration the profile cannot meet names the
/// profile file (its fields are the profile's), terminal-safe.
fn in_profile(profile: &std::path::Path, e: motcua_sim::SimError) -> anyhow::Error {
    match e {
        motcua_sim::SimError::Invalid(message) => anyhow::anyhow!(
            "{}: {}",
            motcua_calendar::terminal_safe(&profile.display().to_string()),
            motcua_calendar::terminal_safe(&message)
        ),
        other => other.into(),
    }
}
