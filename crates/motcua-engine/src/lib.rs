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

#![warn(missing_docs)]

mod auth;
mod engine;
mod hot;
mod memlog;
mod outbox;
mod projection;
mod seg;
pub mod store;
mod verify;

pub use auth::{authorize, roles_for, Actor, ActorId, ActorRole, Denied, Parties};
pub use engine::{Engine, EngineError, Outcome, Request, MAX_RETRIES};
pub use outbox::{backoff_minutes, deliver, DeliveryReport, FakePortal, PortalClient, PortalError};
pub use projection::{CounterKey, Counters, Deadlines, Tally};
pub use store::{
    hex, BacklogBy, BacklogRow, Cursor, DeadlineQuery, DeadlineView, DossierSummary, Hash, MemoryStore, OutboxEntry,
    OutboxUpdate, Page, StepSummary, Store, StoreError, StoredEvent, SyncMessage,
};
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
