//! Driving the engine from Rust: load a catalog, open SQLite, receive dossiers, move them
//! through their steps, ask which are overdue, and render the report; then an inter-agency
//! procedure whose steps go to the agencies a register of units names, where each agency acts
//! on its own step only and an officer of another is refused.
//!
//! `cargo run -p motcua-examples --example engine`

use std::sync::Arc;

use motcua_calendar::WorkCalendar;
use motcua_catalog::Catalog;
use motcua_core::{Channel, Command, Decision};
use motcua_engine::{Actor, ActorRole, DeadlineQuery, Engine, Request};
use motcua_store_sqlite::SqliteStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/procedures");
    let catalog = Catalog::load(&seeds)?;
    let dir = std::env::temp_dir().join(format!("motcua-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(&dir.join("portal.sqlite"))?;
    let calendar = WorkCalendar::builder().years(2025, 2027).build()?;
    // Checked at start (a valid catalog, a calendar reaching every version), services published.
    let mut engine = Engine::builder(store).procedures(catalog.iter().cloned()).calendar(calendar).build()?;

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
    let options = motcua_report::ReportOptions { as_of: Some("2025-03-10T09:00".parse()?), ..Default::default() };
    let report = motcua_report::report_of_store(engine.store(), catalog.iter(), options)?;
    println!(
        "report: {} received, {} resolved, {} open of which {} overdue",
        report.totals.received, report.totals.resolved, report.totals.open, report.totals.open_overdue
    );
    assert_eq!(report.totals.open_overdue as usize, page.rows.len());

    // The birth registration group (birth + permanent residence + health insurance card for a
    // child, Decree 63/2024/NĐ-CP): received by commune A's committee, its steps go to the
    // agencies of the register that play their roles for the commune.
    let units = motcua_catalog::load_register(&seeds.join("../units/vi-du-hai-xa.toml"))?;
    let store = SqliteStore::open(&dir.join("chain.sqlite"))?;
    let calendar = WorkCalendar::builder().years(2025, 2027).build()?;
    let mut chain =
        Engine::builder(store).procedures(catalog.iter().cloned()).calendar(calendar).units(Arc::new(units)).build()?;
    let officer = |id: &str, role, agency: &str| Actor::officer(id, role, agency);
    let clerk = officer("mc-xa-a", ActorRole::Clerk, "H99.01");
    let commune = officer("tp-xa-a", ActorRole::Specialist, "H99.01");
    let police = officer("ca-xa-a", ActorRole::Specialist, "H99.01.CA");
    let insurance = officer("bhxh-1", ActorRole::Specialist, "H99.BHXH");
    let mut now: motcua_calendar::Timestamp = "2025-03-04T08:00".parse()?;
    let code = chain.issue_code(&"H99.01".parse()?, now)?;
    let receive = Command::receive("2.000986".parse()?, Channel::Direct);
    chain.handle(&Request::new(code.clone(), receive, clerk.clone(), now))?;
    let mut act = |command: Command, by: &Actor| {
        now = now.plus_minutes(30);
        chain.handle(&Request::new(code.clone(), command, by.clone(), now))
    };
    // The insurance office may not start the commune's step.
    match act(Command::StartStep { step: "khai-sinh".into() }, &insurance) {
        Err(refused) => println!("{code}: {refused}"),
        Ok(_) => return Err("the insurance office started the commune's step".into()),
    }
    act(Command::StartStep { step: "khai-sinh".into() }, &commune)?;
    act(Command::CompleteStep { step: "khai-sinh".into() }, &commune)?;
    for (step, by) in [("thuong-tru", &police), ("bhyt", &insurance)] {
        act(Command::Transfer { step: step.into() }, &clerk)?;
        act(Command::CompleteStep { step: step.into() }, by)?;
        println!("{code}: {step} done by {}", by.agency.as_deref().unwrap_or_default());
    }
    let finish = Command::Finish { decision: Decision::Approved, reason: None, result: None };
    act(finish, &officer("ct-xa-a", ActorRole::Leader, "H99.01"))?;
    println!("{code}: {:?}", chain.dossier(&code)?.and_then(|d| d.outcome));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
