//! Fault-test helper: writes to a PostgreSQL store through the engine and prints one line per
//! acknowledged command, flushed at once, so a test that kills it (or the server) mid-load
//! knows what was acknowledged.
//!
//! Usage:
//! - `motcua-postgres-writer URL receive COUNT [BATCH]`: receives dossiers 1..=COUNT
//!   (`ack <dossier> <version>` after each);
//! - `motcua-postgres-writer URL race COUNT [BATCH]`: starts the first step of dossiers
//!   1..=COUNT (already received); two of these racing each print `ack` for the dossiers they
//!   won and `lost` for the ones the other writer took first.

use std::io::Write;
use std::process::ExitCode;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{Channel, Command, DossierCode, Procedure, Step};
use motcua_engine::{Actor, ActorRole, Engine, EngineError, Request};
use motcua_store_postgres::PostgresStore;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(mode), Some(count)) =
        (args.get(1), args.get(2), args.get(3).and_then(|c| c.parse::<u64>().ok()))
    else {
        eprintln!("usage: motcua-postgres-writer URL receive|race COUNT [BATCH]");
        return ExitCode::from(2);
    };
    let batch = args.get(4).and_then(|b| b.parse::<usize>().ok()).unwrap_or(1).max(1);
    match run(url, mode, count, batch) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motcua-postgres-writer: {e}");
            ExitCode::from(1)
        }
    }
}

/// Dossier `n` of the load.
pub fn code(n: u64) -> DossierCode {
    let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or_default();
    DossierCode::new("H42.12".parse().unwrap_or_else(|_| unreachable!()), date, n)
}

fn run(url: &str, mode: &str, count: u64, batch: usize) -> Result<(), Box<dyn std::error::Error>> {
    let store = PostgresStore::open(url)?;
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let mut procedure = Procedure::simple("1.004194".parse()?, "Đăng ký tạm trú", Limit::working_days(3));
    procedure.steps = vec![Step::new("tiep-nhan", "H42.12", Limit::working_days(1), &[])];
    let step = procedure.steps[0].id.clone();
    let mut engine = Engine::new(store, [procedure], calendar);
    let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
    let start: Timestamp = "2025-03-03T08:00".parse()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut n = 0u64;
    while n < count {
        let reqs: Vec<Request> = (0..batch as u64)
            .take_while(|i| n + i < count)
            .map(|i| {
                let command = match mode {
                    "race" => Command::StartStep { step: step.clone() },
                    _ => Command::Receive {
                        case: None,
                        procedure: "1.004194".parse().unwrap_or_else(|_| unreachable!()),
                        channel: Channel::Direct,
                        jurisdiction: None,
                        applicant: None,
                        documents: Vec::new(),
                    },
                };
                let at =
                    if mode == "race" { start.plus_minutes(600) } else { start.plus_minutes(((n + i) % 480) as i64) };
                Request::new(code(n + i + 1), command, clerk.clone(), at)
            })
            .collect();
        for result in engine.handle_batch(&reqs) {
            match result {
                Ok(o) => writeln!(out, "ack {} {}", o.dossier, o.version)?,
                Err(EngineError::Rejected(_)) if mode == "race" => writeln!(out, "lost")?,
                Err(e) => return Err(e.into()),
            }
        }
        out.flush()?;
        n += reqs.len() as u64;
    }
    Ok(())
}
