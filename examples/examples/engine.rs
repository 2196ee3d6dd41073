//! Driving the engine from Rust: load a catalog, open SQLite, receive dossiers, move them
//! through their steps, ask which are overdue, and render the report.
//!
//! `cargo run -p motcua-examples --example engine`

use std::collections::HashMap;

use motcua_calendar::WorkCalendar;
use motcua_catalog::Catalog;
use motcua_core::{Channel, Command, Decision};
use motcua_engine::{Actor, ActorRole, DeadlineQuery, Engine, Request, Store};
use motcua_store_sqlite::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/procedures");
    let catalog = Catalog::load(&seeds).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("motcua-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(&dir.join("portal.sqlite"))?;
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let mut engine = Engine::open(store, catalog.iter().cloned(), calendar);

    // A clerk of the commune receives three residence registrations (3 working days).
    let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
    let leader = Actor::officer("leader-1", ActorRole::Leader, "H42.12");
    let procedure: motcua_core::ProcedureCode = "1.004194".parse()?;
    let mut codes = Vec::new();
    for minute in [0, 20, 40] {
        let now = "2025-03-03T09:00".parse::<motcua_calendar::Timestamp>()?.plus_minutes(minute);
        let code = engine.issue_code(&"H42.12".parse()?, now)?;
        let receive = Command::receive(procedure.clone(), Channel::Direct);
        let out = engine.handle(&Request::new(code.clone(), receive, clerk.clone(), now))?;
        let due = engine.dossier(&code)?.and_then(|d| d.due).map(|d| d.to_string()).unwrap_or_default();
        println!("{code}: received (version {}), due {due}", out.version);
        codes.push(code);
    }
    // The first is decided in time; the others wait.
    let first = &codes[0];
    let steps: Vec<_> =
        engine.procedure(&procedure).map(|p| p.steps.iter().map(|s| s.id.clone()).collect()).unwrap_or_default();
    let mut now: motcua_calendar::Timestamp = "2025-03-04T08:00".parse()?;
    for step in steps {
        for command in [Command::StartStep { step: step.clone() }, Command::CompleteStep { step }] {
            engine.handle(&Request::new(first.clone(), command, clerk.clone(), now))?;
            now = now.plus_minutes(30);
        }
    }
    let finish = Command::Finish { decision: Decision::Approved, reason: None, result: None };
    engine.handle(&Request::new(first.clone(), finish, leader, now))?;
    println!("{first}: {:?}", engine.dossier(first)?.and_then(|d| d.outcome));

    // A week later: which are overdue? (From the store's indexed rows, no replay.)
    let page = engine.deadlines(&DeadlineQuery::overdue("2025-03-10T09:00".parse()?))?;
    for row in &page.rows {
        println!("overdue: {} (due {})", row.dossier, row.due.map(|d| d.to_string()).unwrap_or_default());
    }

    // The indicators, as `motcua report` renders them.
    let names: HashMap<_, _> = catalog.iter().map(|p| (p.code.clone(), (p.name.clone(), p.sector.clone()))).collect();
    let mut builder = motcua_report::ReportBuilder::new(&names);
    engine.store().for_each_summary(&mut |s| builder.add(&s))?;
    let report = builder.finish(Some("2025-03-10T09:00".parse()?));
    println!(
        "report: {} received, {} resolved, {} open of which {} overdue",
        report.totals.received, report.totals.resolved, report.totals.open, report.totals.open_overdue
    );
    assert_eq!(report.totals.open_overdue as usize, page.rows.len());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
