//! Crash-test helper: writes dossiers to a SQLite store through the engine and prints one
//! `ack <dossier> <version>` line after each acknowledged command (or batch). The kill -9 test
//! kills it mid-load and checks that every acknowledged event survived.
//!
//! Usage: `motcua-sqlite-writer PATH COUNT [BATCH]`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{Channel, Command, DossierCode, Procedure};
use motcua_engine::{Actor, ActorRole, Engine, Request};
use motcua_store_sqlite::SqliteStore;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(count)) = (args.get(1), args.get(2).and_then(|c| c.parse::<u64>().ok())) else {
        eprintln!("usage: motcua-sqlite-writer PATH COUNT [BATCH]");
        return ExitCode::from(2);
    };
    let batch = args.get(3).and_then(|b| b.parse::<usize>().ok()).unwrap_or(1).max(1);
    match run(PathBuf::from(path), count, batch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motcua-sqlite-writer: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(path: PathBuf, count: u64, batch: usize) -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStore::open(&path)?;
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let procedure = Procedure::simple("1.004194".parse()?, "Đăng ký tạm trú", Limit::working_days(3));
    let mut engine = Engine::new(store, [procedure], calendar);
    let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
    let date = "2025-03-03T00:00".parse::<Timestamp>()?.local_date();
    let start: Timestamp = "2025-03-03T08:00".parse()?;
    let agency: motcua_core::AgencyCode = "H42.12".parse()?;
    let code: motcua_core::ProcedureCode = "1.004194".parse()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut n = 0u64;
    while n < count {
        let reqs: Vec<Request> = (0..batch as u64)
            .take_while(|i| n + i < count)
            .map(|i| Request {
                dossier: DossierCode::new(agency.clone(), date, n + i + 1),
                command: Command::Receive {
                    case: None,
                    procedure: code.clone(),
                    channel: Channel::Direct,
                    jurisdiction: None,
                    applicant: None,
                    documents: Vec::new(),
                },
                actor: clerk.clone(),
                idempotency_key: None,
                now: start.plus_minutes(((n + i) % 480) as i64),
                on_behalf_of: None,
                intent: Default::default(),
            })
            .collect();
        for result in engine.handle_batch(&reqs) {
            let o = result?;
            writeln!(out, "ack {} {}", o.dossier, o.version)?;
        }
        out.flush()?;
        n += reqs.len() as u64;
    }
    Ok(())
}
