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
//! Load the catalog, open SQLite (the engine checked at start), receive dossiers at the counter
//! and online (with a citizen's CCCD, kept only as a keyed hash), move one through its steps to
//! its result, ask another for a supplement, restart, ask which are overdue and which are due
//! within two working days, run an inter-agency group, print the report of a month, and run a
//! province's own procedure's rule test:
//!
//! ```
//! use motcua::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds");
//! let catalog = Catalog::load(&seeds.join("procedures"))?;
//! let calendar = WorkCalendar::builder().years(2025, 2027).build()?;
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("portal.sqlite");
//! // Checked at start: a valid catalog, a calendar reaching every version; services published.
//! let mut engine = Engine::builder(SqliteStore::open(&path)?)
//!     .procedures(catalog.iter().cloned())
//!     .calendar(calendar.clone())
//!     .build()?;
//!
//! // A clerk of the commune receives three residence registrations (3 working days): two at
//! // the counter, one submitted online.
//! let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
//! let key = IdentityKey::new(b"the province's secret of at least thirty-two bytes")?;
//! let applicant = Applicant::new(ApplicantKind::Citizen, &"058203004567".parse()?, &key, false);
//! let residence: ProcedureCode = "1.004194".parse()?;
//! let mut codes = Vec::new();
//! for (minute, channel) in [(0, Channel::Direct), (20, Channel::Direct), (40, Channel::Online)] {
//!     let now = "2025-03-03T09:00".parse::<Timestamp>()?.plus_minutes(minute);
//!     let code = engine.issue_code(&"H42.12".parse()?, now)?;
//!     let receive = Command::receive(residence.clone(), channel).with_applicant(applicant.clone());
//!     engine.handle(&Request::new(code.clone(), receive, clerk.clone(), now))?;
//!     codes.push(code);
//! }
//!
//! // The first goes through its steps, is approved with its result, and is returned.
//! let steps: Vec<StepId> = catalog.get(&residence).map(|p| p.steps.iter().map(|s| s.id.clone()).collect()).unwrap_or_default();
//! let mut now: Timestamp = "2025-03-04T08:00".parse()?;
//! for step in steps {
//!     for command in [Command::start_step(step.clone()), Command::complete_step(step)] {
//!         engine.handle(&Request::new(codes[0].clone(), command, clerk.clone(), now))?;
//!         now = now.plus_minutes(30);
//!     }
//! }
//! let leader = Actor::officer("leader-1", ActorRole::Leader, "H42.12");
//! let approve = Command::approve(Some(ResultIssue::electronic("XN-2025-0001")));
//! engine.handle(&Request::new(codes[0].clone(), approve, leader, now))?;
//! engine.handle(&Request::new(codes[0].clone(), Command::ReturnResult { delivery: None }, clerk.clone(), now.plus_minutes(5)))?;
//!
//! // The second lacks a paper: a supplement is asked for, and its arrival on Friday restarts
//! // the clock (Decree 61/2018/NĐ-CP Art. 19(4)): due again three working days later.
//! let ask = Command::RequestSupplement { reason: "Thiếu giấy tờ chứng minh chỗ ở hợp pháp".into() };
//! engine.handle(&Request::new(codes[1].clone(), ask, clerk.clone(), "2025-03-04T10:00".parse()?))?;
//! engine.handle(&Request::new(codes[1].clone(), Command::ReceiveSupplement, clerk.clone(), "2025-03-07T09:00".parse()?))?;
//!
//! // A restart: the file holds everything. On Monday 10/3 the online one is overdue and the
//! // supplemented one due within two working days (bounds inclusive).
//! drop(engine);
//! let engine = Engine::builder(SqliteStore::open(&path)?).procedures(catalog.iter().cloned()).calendar(calendar.clone()).build()?;
//! let as_of: Timestamp = "2025-03-10T09:00".parse()?;
//! let overdue = engine.deadlines(&DeadlineQuery::overdue(as_of))?;
//! assert_eq!(overdue.rows.iter().map(|r| &r.dossier).collect::<Vec<_>>(), [&codes[2]]);
//! let soon = DeadlineQuery::due_within(&calendar, as_of, Limit::working_days(2))?.ok_or("a limit")?;
//! assert_eq!(engine.deadlines(&soon)?.rows.iter().map(|r| &r.dossier).collect::<Vec<_>>(), [&codes[1]]);
//!
//! // March's report, as `motcua report --from 2025-03-01 --to 2025-03-31` prints it.
//! let march = ReportOptions {
//!     from: "2025-03-01".parse().ok(),
//!     to: "2025-03-31".parse().ok(),
//!     as_of: Some(as_of),
//!     ..ReportOptions::default()
//! };
//! let report = report_of_store(engine.store(), catalog.iter(), march)?;
//! assert_eq!((report.totals.received, report.totals.resolved, report.totals.open_overdue), (3, 1, 1));
//!
//! // An inter-agency group (birth, permanent residence and a child's health insurance card,
//! // Decree 63/2024/NĐ-CP): the register of units sends each step to the agency playing its
//! // role for the commune; an agency acts on its own step only.
//! let units = load_register(&seeds.join("units/vi-du-hai-xa.toml"))?;
//! let mut chain = Engine::builder(MemoryStore::new())
//!     .procedures(catalog.iter().cloned())
//!     .calendar(calendar)
//!     .units(std::sync::Arc::new(units))
//!     .build()?;
//! let officer = |id: &str, role, agency: &str| Actor::officer(id, role, agency);
//! let (desk, police) = (officer("mc-xa-a", ActorRole::Clerk, "H99.01"), officer("ca-xa-a", ActorRole::Specialist, "H99.01.CA"));
//! let now: Timestamp = "2025-03-04T08:00".parse()?;
//! let group = chain.issue_code(&"H99.01".parse()?, now)?;
//! chain.handle(&Request::new(group.clone(), Command::receive("2.000986".parse()?, Channel::Direct), desk, now))?;
//! let early = chain.handle(&Request::new(group, Command::start_step("khai-sinh"), police, now.plus_minutes(5)));
//! assert!(matches!(early, Err(EngineError::Unauthorized(_))), "the police may not take the commune's step");
//!
//! // The province's own procedure and its rule test, as files beside each other.
//! # let rules = dir.path().join("rules");
//! std::fs::create_dir_all(&rules)?;
//! std::fs::write(rules.join("le-hoi.toml"), r#"
//!     code = "9.990001"
//!     name = "Cấp giấy phép tổ chức lễ hội (thí điểm)"
//!     level = "province"
//!     online = "full"
//!     limit = "5 working days"
//!     limit_source = "the province's decision (example)"
//! "#)?;
//! std::fs::write(rules.join("le-hoi-sau-15h.toml"), r#"
//!     name = "Received after 15:00 on a Friday: five working days from Monday's opening"
//!     procedure = "9.990001"
//!     catalog = "le-hoi.toml"
//!     [[step]]
//!     at = "2025-01-31T15:30"
//!     do = "receive"
//!     expect = { clock_start = "2025-02-03T07:00", due = "2025-02-07T17:00" }
//! "#)?;
//! motcua::catalog::assert_scenarios_pass(&rules);
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

/// The engine, the store contract and the memory store ([`motcua_engine`]); actors and
/// authorization are the rules' ([`core`]), one path each.
pub mod engine {
    pub use motcua_engine::{
        backoff_minutes, deliver, hex, read_dossier, rebuild_projections, scoped_idempotency_key, store, verify,
        verify_with_progress, BacklogBy, BacklogRow, BuildError, CounterKey, Counters, Cursor, DeadlineQuery,
        DeadlineView, Deadlines, DeliveryRecord, DeliveryReport, DossierSummary, Engine, EngineBuilder, EngineError,
        FakePortal, Fault, Handover, Hash, Holds, Intent, MemoryStore, MessageKind, OutboxEntry, OutboxUpdate, Outcome,
        Page, PortalClient, PortalError, Request, ServiceRow, StepProgress, StepSummary, Store, StoreError,
        StoredEvent, SyncMessage, SyncTally, Tally, VerifyError, VerifyReport, MAX_RETRIES,
    };
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
        Procedure, ProcedureCode, ResultIssue, Status, StepId,
    };
    pub use motcua_engine::{DeadlineQuery, Engine, EngineError, MemoryStore, Request, Store};
    pub use motcua_report::{report_of_store, ReportOptions};

    #[cfg(feature = "sqlite")]
    pub use motcua_store_sqlite::SqliteStore;

    #[cfg(feature = "postgres")]
    pub use motcua_store_postgres::PostgresStore;
}
