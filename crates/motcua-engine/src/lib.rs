//! # motcua-engine: the runtime around the pure core
//!
//! [`Engine::handle`] loads a dossier's hot state (cache, else [`Store`]), [`authorize`]s the
//! actor, calls `motcua_core::decide`, appends the events atomically with optimistic
//! concurrency (retrying after a lost race), applies them, updates projections, and writes
//! national-portal outbox rows in the same transaction. An idempotency key returns the first
//! outcome on a repeat, and is an error with a different command. Every stored event carries
//! the SHA-256 of its predecessor; [`verify`] walks every chain and projection.
//! [`Engine::handle_batch`] group-commits many commands in one transaction.
//!
//! Stores implement [`Store`]; [`MemoryStore`] is here, SQLite in `motcua-store-sqlite`. What a
//! store implementor needs beyond that (the append batch, sealed bytes, the envelope and its
//! hash chain) is in [`store`].
//! Outbox delivery ([`deliver`]) goes through a [`PortalClient`]; [`FakePortal`] fails, delays
//! and duplicates on demand.

//!
//! ## In a server
//!
//! The engine decides and writes with `&mut self`: one writer thread owns it. Requests reach
//! it through a channel; the writer takes everything that queued while its last commit ran and
//! hands it to [`Engine::handle_batch`] — one transaction, one fsync for all of them — then
//! answers each caller. Reads never go through the writer: request handlers share the store
//! (an `Arc`) and call [`read_dossier`], [`Store::deadlines`], [`Store::backlog`],
//! [`Store::summary`] or `load` on it, so they are served while a write commits (the SQLite
//! store reads on connections of its own; PostgreSQL from its pool) and always see the last
//! committed state, whichever writer or process wrote it. An async server calls both sides from
//! blocking-friendly tasks (e.g. tokio's `spawn_blocking`, or a `tokio::sync::oneshot` for the
//! answer); the shape is the same:
//!
//! ```
//! use std::sync::{mpsc, Arc};
//! use motcua_calendar::{Limit, WorkCalendar};
//! use motcua_core::{Channel, Command, DossierCode, Procedure};
//! use motcua_engine::{read_dossier, Actor, ActorRole, Engine, EngineError, MemoryStore, Outcome, Request};
//!
//! type Job = (Request, mpsc::Sender<Result<Outcome, EngineError>>);
//! let store = Arc::new(MemoryStore::new());
//! let procedure = Procedure::simple("1.004194".parse()?, "Đăng ký tạm trú", Limit::working_days(3));
//! let mut engine = Engine::new(Arc::clone(&store), [procedure], WorkCalendar::builder().years(2025, 2026).build()?);
//! let (submit, jobs) = mpsc::channel::<Job>();
//! let writer = std::thread::spawn(move || {
//!     // Block for one job, then take whatever else queued meanwhile: one group commit.
//!     while let Ok(first) = jobs.recv() {
//!         let mut batch = vec![first];
//!         batch.extend(jobs.try_iter().take(999));
//!         let (requests, answers): (Vec<Request>, Vec<_>) = batch.into_iter().unzip();
//!         for (result, answer) in engine.handle_batch(&requests).into_iter().zip(answers) {
//!             let _ = answer.send(result);
//!         }
//!     }
//! });
//! // A request handler: a write goes to the writer, a read goes straight to the store.
//! let code: DossierCode = "H42.12-250303-0001".parse()?;
//! let (answer, outcome) = mpsc::channel();
//! let receive = Command::receive("1.004194".parse()?, Channel::Direct);
//! let actor = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
//! let now = "2025-03-03T09:00".parse()?;
//! let req = Request::new(code.clone(), receive, actor, now);
//! submit.send((req, answer))?;
//! assert_eq!(outcome.recv()??.version, 1);
//! let state = read_dossier(&*store, &code)?.expect("received");
//! assert_eq!(state.due.map(|d| d.to_string()).as_deref(), Some("2025-03-06T09:00+07:00"));
//! drop(submit);
//! writer.join().expect("the writer thread");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod engine;
mod hot;
mod memlog;
mod outbox;
mod projection;
mod seg;
pub mod store;
mod verify;

pub use engine::{
    scoped_idempotency_key, BuildError, Engine, EngineBuilder, EngineError, Handover, Intent, Outcome, Request,
    MAX_RETRIES,
};
pub use motcua_core::{authorize, permits, roles_for, Actor, ActorId, ActorRole, Denied, Parties};
pub use outbox::{backoff_minutes, deliver, DeliveryReport, FakePortal, PortalClient, PortalError};
pub use projection::{CounterKey, Counters, Deadlines, Tally};
pub use store::{
    hex, BacklogBy, BacklogRow, Cursor, DeadlineQuery, DeadlineView, DossierSummary, Hash, MemoryStore, OutboxEntry,
    OutboxUpdate, Page, StepSummary, Store, StoreError, StoredEvent, SyncMessage,
};
pub use store::{DeliveryRecord, Holds, MessageKind, ServiceRow, StepProgress, SyncTally};
pub use verify::{verify, verify_with_progress, Fault, VerifyError, VerifyReport};

use std::collections::HashMap;

use motcua_core::{apply, Dossier, DossierCode, ProcedureCode};

/// A dossier's current state, replayed from the store's stream (`None` if it has no events).
/// Reads need no engine: a server's request handlers call this (and the store's own queries)
/// on a shared store while one writer thread owns the [`Engine`] and its group commits.
pub fn read_dossier<S: Store + ?Sized>(store: &S, code: &DossierCode) -> Result<Option<Dossier>, StoreError> {
    Ok(store.load(code)?.map(|stream| {
        let mut state = Dossier::new();
        for e in &stream.events {
            apply(&mut state, &e.event);
        }
        state
    }))
}

/// Rebuilds the indicator counters and deadline index from the whole log (replay).
/// `sectors` gives each procedure's sector.
pub fn rebuild_projections<S: Store + ?Sized>(
    store: &S,
    sectors: &HashMap<ProcedureCode, String>,
) -> Result<(Counters, Deadlines), StoreError> {
    let mut counters = Counters::default();
    let mut deadlines = Deadlines::default();
    let shared: HashMap<&ProcedureCode, std::sync::Arc<str>> =
        sectors.iter().map(|(p, s)| (p, std::sync::Arc::from(s.as_str()))).collect();
    let none: std::sync::Arc<str> = std::sync::Arc::from("");
    store.for_each_stream(&mut |code, stream| {
        let mut state = Dossier::new();
        for e in &stream.events {
            apply(&mut state, &e.event);
            let sector = state.procedure.as_ref().and_then(|p| shared.get(p)).unwrap_or(&none);
            counters.record(&code, sector, &e.event, &state);
        }
        deadlines.track(&code, &state);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok((counters, deadlines))
}
