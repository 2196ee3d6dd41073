//! # motcua: one-stop-shop dossiers, embedded
//!
//! The crate a provincial portal adds: the working-day calendar, the rules (`decide`/`apply`),
//! procedure catalogs and their rule tests, the engine with its stores, reports, and — behind
//! features — PostgreSQL, the HTTP API and the simulator. Each type has one path: the
//! [`prelude`] for what a portal uses every day, the modules below for the rest.
//!
//! | feature | brings |
//! |---|---|
//! | `sqlite` (default) | [`sqlite::SqliteStore`], one file in WAL mode |
//! | `postgres` | `postgres::PostgresStore`, a province per tenant key |
//! | `http` | `http`: the JSON API and reference pages as an axum `Router` |
//! | `sim` | `sim`: the calibrated simulator of a province's year |
//!
//! ## The whole embedding
//!
//! Load the catalog, open SQLite (the engine checked at start), receive dossiers at the counter (one with a citizen's CCCD,
//! kept only as a keyed hash), move one through its steps, restart, ask which are overdue and
//! print the report of a month:
//!
//! ```
//! use motcua::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds");
//! let catalog = Catalog::load(&seeds.join("procedures"))?;
//! let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("portal.sqlite");
//! // Checked at start: a valid catalog, a calendar reaching every version; services published.
//! let mut engine = Engine::builder(SqliteStore::open(&path)?)
//!     .procedures(catalog.iter().cloned())
//!     .calendar(calendar.clone())
//!     .build()?;
//!
//! // A clerk of the commune receives three residence registrations (3 working days).
//! let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
//! let key = IdentityKey::new(b"the province's secret of at least thirty-two bytes")?;
//! let applicant = Applicant::new(ApplicantKind::Citizen, &"058203004567".parse()?, &key, false);
//! let residence: ProcedureCode = "1.004194".parse()?;
//! let mut codes = Vec::new();
//! for minute in [0, 20, 40] {
//!     let now = "2025-03-03T09:00".parse::<Timestamp>()?.plus_minutes(minute);
//!     let code = engine.issue_code(&"H42.12".parse()?, now)?;
//!     let receive = Command::receive(residence.clone(), Channel::Direct).with_applicant(applicant.clone());
//!     engine.handle(&Request::new(code.clone(), receive, clerk.clone(), now))?;
//!     codes.push(code);
//! }
//!
//! // The first goes through its steps and is approved on time.
//! let steps: Vec<StepId> = catalog.get(&residence).map(|p| p.steps.iter().map(|s| s.id.clone()).collect()).unwrap_or_default();
//! let mut now: Timestamp = "2025-03-04T08:00".parse()?;
//! for step in steps {
//!     for command in [Command::StartStep { step: step.clone() }, Command::CompleteStep { step }] {
//!         engine.handle(&Request::new(codes[0].clone(), command, clerk.clone(), now))?;
//!         now = now.plus_minutes(30);
//!     }
//! }
//! let leader = Actor::officer("leader-1", ActorRole::Leader, "H42.12");
//! let finish = Command::Finish { decision: Decision::Approved, reason: None, result: None };
//! engine.handle(&Request::new(codes[0].clone(), finish, leader, now))?;
//!
//! // A restart: the file holds everything; the other two are overdue a week later.
//! drop(engine);
//! let engine = Engine::builder(SqliteStore::open(&path)?).procedures(catalog.iter().cloned()).calendar(calendar).build()?;
//! let as_of: Timestamp = "2025-03-10T09:00".parse()?;
//! let overdue = engine.deadlines(&DeadlineQuery::overdue(as_of))?;
//! assert_eq!(overdue.rows.len(), 2);
//!
//! // March's report, as `motcua report --from 2025-03-01 --to 2025-03-31` prints it.
//! let march = ReportOptions {
//!     from: "2025-03-01".parse().ok(),
//!     to: "2025-03-31".parse().ok(),
//!     as_of: Some(as_of),
//!     ..ReportOptions::default()
//! };
//! let report = report_of_store(engine.store(), catalog.iter(), march)?;
//! assert_eq!((report.totals.received, report.totals.resolved, report.totals.open_overdue), (3, 1, 2));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

/// Working days, office hours, holidays and due times ([`motcua_calendar`]).
pub mod calendar {
    pub use motcua_calendar::*;
}

/// The rules: commands, events, `decide`/`apply`, procedures, identifiers ([`motcua_core`]).
pub mod core {
    pub use motcua_core::*;
}

/// Procedure catalogs, registers of units, scenarios and their runner ([`motcua_catalog`]).
pub mod catalog {
    pub use motcua_catalog::*;
}

/// The engine, the store contract and the memory store ([`motcua_engine`]).
pub mod engine {
    pub use motcua_engine::*;
}

/// Reports and the Decision 766 scorecard ([`motcua_report`]).
pub mod report {
    pub use motcua_report::*;
}

/// The embedded SQLite store ([`motcua_store_sqlite`]).
#[cfg(feature = "sqlite")]
pub mod sqlite {
    pub use motcua_store_sqlite::*;
}

/// The PostgreSQL store ([`motcua_store_postgres`]).
#[cfg(feature = "postgres")]
pub mod postgres {
    pub use motcua_store_postgres::*;
}

/// The HTTP API and reference pages ([`motcua_http`]).
#[cfg(feature = "http")]
pub mod http {
    pub use motcua_http::*;
}

/// The calibrated simulator ([`motcua_sim`]).
#[cfg(feature = "sim")]
pub mod sim {
    pub use motcua_sim::*;
}

/// What a portal uses every day, one path each: `use motcua::prelude::*;`.
pub mod prelude {
    pub use motcua_calendar::{Limit, Timestamp, WorkCalendar};
    pub use motcua_catalog::{load_register, Catalog};
    pub use motcua_core::{
        Actor, ActorRole, AgencyCode, Applicant, ApplicantKind, Channel, Command, Decision, DossierCode, IdentityKey,
        Procedure, ProcedureCode, Status, StepId,
    };
    pub use motcua_engine::{DeadlineQuery, Engine, EngineError, MemoryStore, Request, Store};
    pub use motcua_report::{report_of_store, ReportOptions};

    #[cfg(feature = "sqlite")]
    pub use motcua_store_sqlite::SqliteStore;

    #[cfg(feature = "postgres")]
    pub use motcua_store_postgres::PostgresStore;
}
