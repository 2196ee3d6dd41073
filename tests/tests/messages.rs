//! An outbox row keeps no message: the store renders it from the dossier's events when it is
//! due. Here a slice of the seed year runs through a store that also keeps every message the
//! engine wrote; each message the store renders is byte for byte the one written (its stored
//! MessagePack form and the national portal's payload), on the memory store and on SQLite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Mutex;

use chrono::NaiveDate;
use motcua_calendar::{Timestamp, WorkCalendar};
use motcua_catalog::Catalog;
use motcua_core::{AgencyCode, DossierCode};
use motcua_engine::store::{
    AppendBatch, DeliveryRecord, DossierSummary, IdempotencyRecord, OutboxEntry, OutboxUpdate, ServiceRow, Stream,
    SyncMessage, SyncTally,
};
use motcua_engine::{Counters, Engine, MemoryStore, Store, StoreError};
use motcua_sim::{procedures, simulate, SimOptions};

/// A store that keeps, beside `inner`, every message the engine wrote.
struct Keeping<S> {
    inner: S,
    written: Mutex<Vec<SyncMessage>>,
}

impl<S: Store> Store for Keeping<S> {
    fn load(&self, d: &DossierCode) -> Result<Option<Stream>, StoreError> {
        self.inner.load(d)
    }
    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError> {
        let messages = batch.outbox.clone();
        self.inner.append(batch)?;
        self.written.lock().unwrap().extend(messages);
        Ok(())
    }
    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.idempotency(key)
    }
    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        self.inner.dossiers()
    }
    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        self.inner.summaries()
    }
    fn counters(&self) -> Result<Counters, StoreError> {
        self.inner.counters()
    }
    fn next_sequence(&self, agency: &AgencyCode, date: NaiveDate) -> Result<u64, StoreError> {
        self.inner.next_sequence(agency, date)
    }
    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.outbox_due(now, limit)
    }
    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        self.inner.outbox_update(updates)
    }
    fn outbox_pending(&self) -> Result<usize, StoreError> {
        self.inner.outbox_pending()
    }
    fn deliveries(&self, d: &DossierCode) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.inner.deliveries(d)
    }
    fn sync_tally(&self) -> Result<SyncTally, StoreError> {
        self.inner.sync_tally()
    }
    fn result(&self, number: &str) -> Result<Option<motcua_core::KnownResult>, StoreError> {
        self.inner.result(number)
    }
    fn for_each_result(&self, f: &mut dyn FnMut(motcua_core::KnownResult)) -> Result<(), StoreError> {
        self.inner.for_each_result(f)
    }
    fn put_services(&self, services: &[ServiceRow]) -> Result<(), StoreError> {
        self.inner.put_services(services)
    }
    fn services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        self.inner.services()
    }
    fn dictionary(&self, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        self.inner.dictionary(from)
    }
    fn reserve_dictionary(&self, n: u32) -> Result<Option<u32>, StoreError> {
        self.inner.reserve_dictionary(n)
    }
}

fn rendered_equal_written<S: Store>(store: S) {
    let catalog = Catalog::load(&common::seeds().join("procedures")).unwrap();
    let profile = common::seed_slice(&catalog, 300);
    let procs = procedures(&profile, &catalog);
    let calendar = WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
    let keeping = Keeping { inner: store, written: Mutex::new(Vec::new()) };
    let mut engine = Engine::new(keeping, procs.clone(), calendar);
    if let Some(units) = &profile.units {
        engine = engine.with_units(std::sync::Arc::new(motcua_catalog::load_register(units).unwrap()));
    }
    simulate(&mut engine, &profile, &procs, &SimOptions { seed: 3, batch: 500, sync: false }).unwrap();
    let store = engine.into_store();
    let written = store.written.into_inner().unwrap();
    let due = store.inner.outbox_due(Timestamp::from_utc_minutes(i64::MAX / 2), usize::MAX).unwrap();
    assert_eq!(due.len(), written.len(), "one row per message written");
    assert!(written.len() > 1095 * 2);
    let mut kinds = std::collections::HashSet::new();
    for (entry, m) in due.iter().zip(&written) {
        assert_eq!(&entry.message, m);
        assert_eq!(rmp_serde::to_vec(&entry.message).unwrap(), rmp_serde::to_vec(m).unwrap());
        assert_eq!(entry.message.portal_payload(), m.portal_payload());
        kinds.insert(m.kind);
    }
    assert!(kinds.len() >= 2, "status and progress messages both: {kinds:?}");
}

#[test]
fn messages_rendered_from_events_are_the_messages_written_on_the_memory_store() {
    rendered_equal_written(MemoryStore::new());
}

#[test]
fn messages_rendered_from_events_are_the_messages_written_on_sqlite() {
    let dir = tempfile::Builder::new().prefix("motcua-messages-").tempdir().unwrap();
    let path = dir.path().join("m.sqlite");
    rendered_equal_written(motcua_store_sqlite::SqliteStore::open(&path).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
