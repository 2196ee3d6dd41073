//! The storage boundary, for store implementors: the [`Store`] trait, what an append carries
//! ([`AppendBatch`], [`StreamAppend`] with its sealed bytes), the stored event envelope and its
//! hash chain ([`Sealer`], [`chain_hash`]), projection rows ([`DossierSummary`]), outbox wire
//! types ([`SyncMessage`]) and the in-memory store.

use chrono::NaiveDate;
use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, DossierCode};
use serde::{Deserialize, Serialize};

use crate::projection::Counters;
use motcua_core::Parties;

mod envelope;
pub mod lean;
mod memory;
mod message;
mod query;
mod services;
mod summary;
#[cfg(test)]
pub(crate) mod tests;

pub use envelope::{
    canonical_bytes, chain_hash, decode_sealed, encode_event, hex, is_unknown_id, open_sealed, sealed_meaning, Hash,
    Sealer, StoredEvent, EVENT_SCHEMA, GENESIS,
};
pub use lean::Lexicon;
pub use memory::MemoryStore;
pub(crate) use message::parse_message_id;
pub use message::{
    render_due, render_messages, split_message_id, sync_message, DeliveryRecord, MessageKind, OutboxEntry,
    OutboxUpdate, StepProgress, SyncMessage, SyncTally,
};
pub use query::{scan_backlog, BacklogBy, BacklogRow, Cursor, DeadlineQuery, DeadlineView, Page};
pub use services::ServiceRow;
pub use summary::{DossierSummary, Holds, StepSummary};

/// What an idempotency key recorded.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// The key.
    pub key: String,
    /// Hash of the request (dossier + command) that first used the key.
    pub fingerprint: Hash,
    /// The dossier.
    pub dossier: DossierCode,
    /// First event written.
    pub first_seq: u64,
    /// Last event written.
    pub last_seq: u64,
}

/// Events to append to one dossier.
#[derive(Clone, Debug)]
pub struct StreamAppend {
    /// The dossier.
    pub dossier: DossierCode,
    /// Its version before these events; the append fails if the store holds another.
    pub expected_version: u64,
    /// The events, sealed and numbered from `expected_version + 1`.
    pub events: Vec<StoredEvent>,
    /// Parties, recorded when the dossier is created.
    pub parties: Option<Parties>,
    /// The dossier's summary after the events.
    pub summary: DossierSummary,
    /// The events' canonical bytes exactly as they were sealed: for each event in order, its
    /// length (`u32`, little-endian) then the bytes ([`Sealer::seal_into`] writes this). Stores
    /// keep these bytes instead of encoding the events again; empty when the writer did not
    /// keep them, and then stores encode each event themselves ([`canonical_parts`]).
    pub canonical: Vec<u8>,
    /// Where the store keeps the dossier, as the store said on the dossier's last append (a
    /// store may set it when an append succeeds); a writer hands it back with the next append
    /// so the store can skip looking the dossier up. Stores check it: a wrong or stale hint
    /// costs a lookup, never a wrong write.
    pub hint: Option<u64>,
}

/// What [`Store::for_each_sealed_stream`] calls with each dossier: its code, its stream and its
/// events' sealed bytes as stored; it breaks to stop the walk.
pub type SealedVisitor<'a> = dyn FnMut(DossierCode, Stream, &[u8]) -> std::ops::ControlFlow<()> + 'a;

/// Appends `bytes` to `out` behind their length (`u32` little-endian): one part of the layout
/// of [`StreamAppend::canonical`].
pub fn push_part(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The events' canonical bytes of a [`StreamAppend`], one slice per event, when `canonical`
/// holds exactly `events` of them (`None` when it is empty or does not match). Checks the
/// layout without allocating; iterate the result for the slices.
pub fn canonical_parts(canonical: &[u8], events: usize) -> Option<CanonicalParts<'_>> {
    if canonical.is_empty() {
        return None;
    }
    let parts = CanonicalParts { rest: canonical, bad: false };
    let mut check = parts.clone();
    let count = check.by_ref().count();
    (count == events && !check.bad).then_some(parts)
}

/// Iterator over the slices of [`StreamAppend::canonical`].
#[derive(Clone, Debug)]
pub struct CanonicalParts<'a> {
    rest: &'a [u8],
    bad: bool,
}

impl<'a> Iterator for CanonicalParts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let part = self
            .rest
            .get(..4)
            .and_then(|l| l.try_into().ok())
            .map(|l: [u8; 4]| u32::from_le_bytes(l) as usize)
            .and_then(|len| self.rest.get(4..4 + len).map(|p| (p, 4 + len)));
        match part {
            Some((p, used)) => {
                self.rest = &self.rest[used..];
                Some(p)
            }
            None => {
                self.bad = true;
                self.rest = &[];
                None
            }
        }
    }
}

impl StreamAppend {
    /// An append to `dossier` at `expected_version` with no events yet (its summary that of
    /// an empty dossier until the writer fills it).
    pub fn new(dossier: &DossierCode, expected_version: u64) -> StreamAppend {
        StreamAppend {
            dossier: dossier.clone(),
            expected_version,
            events: Vec::with_capacity(1),
            parties: None,
            summary: DossierSummary::empty(dossier),
            // An event's bytes are about 40 to 90: room for a command's worth without regrowing.
            canonical: Vec::with_capacity(128),
            hint: None,
        }
    }

    /// Makes `self` an empty append to `dossier` at `expected_version`, keeping its buffers.
    /// The summary is left as it was: the writer refills it ([`DossierSummary::refill`]).
    pub fn reset(&mut self, dossier: &DossierCode, expected_version: u64) {
        if self.dossier != *dossier {
            self.dossier = dossier.clone();
        }
        self.expected_version = expected_version;
        self.events.clear();
        self.parties = None;
        self.canonical.clear();
        self.hint = None;
    }
}

/// One atomic write: events of one or more dossiers, idempotency records, outbox messages.
#[derive(Clone, Debug, Default)]
pub struct AppendBatch {
    /// Per-dossier appends (at most one per dossier).
    pub streams: Vec<StreamAppend>,
    /// Idempotency records.
    pub idempotency: Vec<IdempotencyRecord>,
    /// Messages for the national portal.
    pub outbox: Vec<SyncMessage>,
    /// Results the batch's finishes issued, for the warehouse (by number; a number written
    /// again replaces the row).
    pub results: Vec<motcua_core::KnownResult>,
    /// What the batch adds to the indicator counters (per key, the tallies of its events):
    /// stores add them to their counter rows in the same transaction. A store may drain it.
    pub counters: Counters,
    /// Dictionary entries the batch's events are the first to refer to (ids the store
    /// reserved for this writer, [`Store::reserve_dictionary`]): stored in the same
    /// transaction, an entry already stored left as it is.
    pub dictionary: Vec<(u32, std::sync::Arc<str>)>,
}

/// A dossier's stream as loaded.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Events in order.
    pub events: Vec<StoredEvent>,
    /// Parties.
    pub parties: Parties,
    /// The stored summary.
    pub summary: Option<DossierSummary>,
}

/// Storage errors: few and inspectable.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer appended first.
    #[error("version conflict on {dossier}: expected version {expected}, found {actual}")]
    VersionConflict {
        /// The dossier.
        dossier: DossierCode,
        /// What the writer expected.
        expected: u64,
        /// What the store holds.
        actual: u64,
    },
    /// The write did not happen for a passing reason (a deadlock or serialization failure
    /// between concurrent writers, a key another writer took at the same moment): reload and
    /// try again, as after a version conflict.
    #[error("store busy, nothing written: {0}")]
    Transient(String),
    /// The backend failed (I/O, corruption, …).
    #[error("store: {0}")]
    Backend(String),
    /// The store's server did not answer within its bounds (connect, read, reconnects): which
    /// server, what failed, and after how long. Nothing is acknowledged that was not written;
    /// a write whose commit went unanswered may or may not have happened (repeat it with its
    /// idempotency key). Try again later.
    #[error("store unavailable: {server}: {what} (after {after_ms} ms)")]
    Unavailable {
        /// The server (host and port, never credentials).
        server: String,
        /// What failed.
        what: String,
        /// How long it was waited for, in milliseconds.
        after_ms: u64,
    },
}

impl StoreError {
    /// Whether the write lost a race with another writer — a version conflict or a transient
    /// abort — so that nothing was written and the command may be decided again after
    /// reloading.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::VersionConflict { .. } | StoreError::Transient(_))
    }

    /// Whether the store's server could not be reached in time ([`StoreError::Unavailable`]):
    /// the caller answers "try again later" rather than "failed".
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// Where the event log, projections, idempotency records and outbox live. Implementations
/// make `append` atomic: all of a batch or none of it.
pub trait Store: Send + Sync {
    /// A dossier's stream (`None` if it has no events).
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError>;
    /// Appends atomically, checking each stream's expected version. On success the store may
    /// have taken the batch's summaries, parties, messages and idempotency records (the memory
    /// store keeps them without copying, and hands back a dossier's previous summary in its
    /// place), so the caller empties or refills those before writing again; its buffers are
    /// then reused rather than allocated (and faulted in) for every write. The events and
    /// their bytes are left as given (the engine returns them to its caller). On failure the
    /// batch is as it was given.
    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError>;
    /// The record of an idempotency key.
    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// Every dossier with events, in code order.
    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError>;
    /// Every dossier's projection row (the input of reports), in code order.
    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError>;
    /// Calls `f` with every dossier's stream, one at a time, until `f` breaks; a store reads
    /// them in its own order. `verify` walks the log this way, so a store can stream it without
    /// holding every dossier code (the default lists the codes, then loads each).
    fn for_each_stream(
        &self,
        f: &mut dyn FnMut(DossierCode, Stream) -> std::ops::ControlFlow<()>,
    ) -> Result<(), StoreError> {
        for code in self.dossiers()? {
            let Some(stream) = self.load(&code)? else { continue };
            if f(code, stream).is_break() {
                break;
            }
        }
        Ok(())
    }
    /// Calls `f` with every dossier's stream and its events' sealed bytes exactly as stored,
    /// in the layout of [`StreamAppend::canonical`] (one part per event, in order; read them
    /// with [`canonical_parts`]), until `f` breaks. `verify` hashes these bytes, so an edit
    /// that still decodes to the same values shows. The default encodes the decoded events
    /// again: right only for a store that keeps decoded events, not bytes.
    fn for_each_sealed_stream(&self, f: &mut SealedVisitor<'_>) -> Result<(), StoreError> {
        let mut sealer = Sealer::default();
        let mut sealed = Vec::new();
        self.for_each_stream(&mut |code, stream| {
            sealed.clear();
            for e in &stream.events {
                push_part(&mut sealed, &sealer.reencode(e).unwrap_or_default());
            }
            f(code, stream, &sealed)
        })
    }
    /// What `verify` checks beyond the event chains and projections, store by store: the
    /// database's own integrity, the tables and schema version it expects, each dossier row's
    /// version against its events, every outbox and idempotency row against the event and
    /// dossier it claims. The first fault, naming the table and row (`None`: all sound). The
    /// default checks nothing more.
    fn check_integrity(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    /// Calls `f` with every dossier's projection row, in no particular order, without holding
    /// them all (a report over a national year). The default goes through [`Store::summaries`].
    fn for_each_summary(&self, f: &mut dyn FnMut(DossierSummary)) -> Result<(), StoreError> {
        for s in self.summaries()? {
            f(s);
        }
        Ok(())
    }
    /// One dossier's projection row (`None` if it has no events). The default loads its stream.
    fn summary(&self, dossier: &DossierCode) -> Result<Option<DossierSummary>, StoreError> {
        Ok(self.load(dossier)?.and_then(|s| s.summary))
    }
    /// Open dossiers overdue or due soon, by due time then code text, one page
    /// ([`DeadlineQuery`]). The default scans every row ([`DeadlineQuery::scan`]); stores with
    /// indexed columns answer from their indexes, with the same rows.
    fn deadlines(&self, query: &DeadlineQuery) -> Result<Page, StoreError> {
        let mut rows = Vec::new();
        self.for_each_summary(&mut |s| {
            if query.matches(&s) {
                rows.push(s);
            }
        })?;
        Ok(query.scan(rows))
    }
    /// Open dossiers per group, with how many are overdue at `as_of` and how many have their
    /// clock stopped, in key order. The default scans every row ([`scan_backlog`]).
    fn backlog(&self, by: BacklogBy, as_of: Timestamp) -> Result<Vec<BacklogRow>, StoreError> {
        let mut rows = Vec::new();
        self.for_each_summary(&mut |s| {
            if s.is_open() {
                rows.push(s);
            }
        })?;
        Ok(scan_backlog(rows, by, as_of))
    }
    /// The indicator counters as the store holds them (every append's
    /// [`AppendBatch::counters`] added up).
    fn counters(&self) -> Result<Counters, StoreError>;
    /// The counters added up over every key (what a year's totals read): a store that holds
    /// them in memory sums them where they are instead of copying them first.
    fn counter_total(&self) -> Result<crate::projection::Tally, StoreError> {
        Ok(self.counters()?.total(|_| true))
    }
    /// The next number of `agency`'s dossier-code sequence for `date` (1 for the first): never
    /// the same twice for one agency and date, across restarts and concurrent writers
    /// (TT 01/2018/TT-VPCP Art. 19: codes numbered per agency per day).
    fn next_sequence(&self, agency: &AgencyCode, date: NaiveDate) -> Result<u64, StoreError>;
    /// Outbox messages not delivered whose next attempt is due at `now` (oldest first).
    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Records delivery outcomes: a delivered message leaves the outbox for the delivery
    /// ledger (with the instant of its acknowledgement), a failed one waits for its next
    /// attempt. Ids the store does not hold are ignored.
    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError>;
    /// Messages not yet delivered.
    fn outbox_pending(&self) -> Result<usize, StoreError>;
    /// The delivery ledger of one dossier: every message the portal acknowledged, in event
    /// order (what proves when the dossier reached the portal).
    fn deliveries(&self, dossier: &DossierCode) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// The delivery ledger in all: dossiers and messages the portal acknowledged.
    fn sync_tally(&self) -> Result<SyncTally, StoreError>;
    /// The warehouse's result of that number, if any (what a receipt reusing it checks).
    fn result(&self, number: &str) -> Result<Option<motcua_core::KnownResult>, StoreError>;
    /// Every result the warehouse holds, one at a time (the expiry sweep reads them).
    fn for_each_result(&self, f: &mut dyn FnMut(motcua_core::KnownResult)) -> Result<(), StoreError>;
    /// The applicant's warehouse on `day`: the results held for `holder` that are in force that
    /// day (not revoked, not recorded as expired, valid through `day`), by number — what a new
    /// dossier of theirs may reuse. The default scans the warehouse.
    fn results_of(
        &self,
        holder: &motcua_core::ApplicantKey,
        day: chrono::NaiveDate,
    ) -> Result<Vec<motcua_core::KnownResult>, StoreError> {
        let mut out = Vec::new();
        self.for_each_result(&mut |r| {
            if r.in_force_on(day) && r.holder.as_ref() == Some(holder) {
                out.push(r);
            }
        })?;
        out.sort_by(|a, b| a.number.cmp(&b.number));
        Ok(out)
    }
    /// Replaces the list of services the dossiers are handled under (by procedure code).
    fn put_services(&self, services: &[ServiceRow]) -> Result<(), StoreError>;
    /// The list of services, by procedure code (empty when none was published).
    fn services(&self) -> Result<Vec<ServiceRow>, StoreError>;
    /// The dictionary's entries with ids from `from` on, in id order: the texts lean event
    /// bytes refer to ([`lean`]). The default: none (a store that keeps no dictionary, whose
    /// writers write every string inline).
    fn dictionary(&self, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        let _ = from;
        Ok(Vec::new())
    }
    /// Reserves `n` fresh dictionary ids for one writer, in a write of its own that commits at
    /// once (so two writers never hand out one id): the first of them. `None`: the store keeps
    /// no dictionary (the default).
    fn reserve_dictionary(&self, n: u32) -> Result<Option<u32>, StoreError> {
        let _ = n;
        Ok(None)
    }
}

/// A shared store: several engines (writers) over one store.
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        (**self).load(dossier)
    }
    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError> {
        (**self).append(batch)
    }
    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        (**self).idempotency(key)
    }
    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        (**self).dossiers()
    }
    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        (**self).summaries()
    }
    fn for_each_summary(&self, f: &mut dyn FnMut(DossierSummary)) -> Result<(), StoreError> {
        (**self).for_each_summary(f)
    }
    fn for_each_stream(
        &self,
        f: &mut dyn FnMut(DossierCode, Stream) -> std::ops::ControlFlow<()>,
    ) -> Result<(), StoreError> {
        (**self).for_each_stream(f)
    }
    fn summary(&self, dossier: &DossierCode) -> Result<Option<DossierSummary>, StoreError> {
        (**self).summary(dossier)
    }
    fn deadlines(&self, query: &DeadlineQuery) -> Result<Page, StoreError> {
        (**self).deadlines(query)
    }
    fn backlog(&self, by: BacklogBy, as_of: Timestamp) -> Result<Vec<BacklogRow>, StoreError> {
        (**self).backlog(by, as_of)
    }
    fn counters(&self) -> Result<Counters, StoreError> {
        (**self).counters()
    }
    fn counter_total(&self) -> Result<crate::projection::Tally, StoreError> {
        (**self).counter_total()
    }
    fn next_sequence(&self, agency: &AgencyCode, date: NaiveDate) -> Result<u64, StoreError> {
        (**self).next_sequence(agency, date)
    }
    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        (**self).outbox_due(now, limit)
    }
    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        (**self).outbox_update(updates)
    }
    fn outbox_pending(&self) -> Result<usize, StoreError> {
        (**self).outbox_pending()
    }
    fn deliveries(&self, dossier: &DossierCode) -> Result<Vec<DeliveryRecord>, StoreError> {
        (**self).deliveries(dossier)
    }
    fn sync_tally(&self) -> Result<SyncTally, StoreError> {
        (**self).sync_tally()
    }
    fn put_services(&self, services: &[ServiceRow]) -> Result<(), StoreError> {
        (**self).put_services(services)
    }
    fn result(&self, number: &str) -> Result<Option<motcua_core::KnownResult>, StoreError> {
        (**self).result(number)
    }
    fn for_each_result(&self, f: &mut dyn FnMut(motcua_core::KnownResult)) -> Result<(), StoreError> {
        (**self).for_each_result(f)
    }
    fn results_of(
        &self,
        holder: &motcua_core::ApplicantKey,
        day: chrono::NaiveDate,
    ) -> Result<Vec<motcua_core::KnownResult>, StoreError> {
        (**self).results_of(holder, day)
    }
    fn services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        (**self).services()
    }
    fn for_each_sealed_stream(&self, f: &mut SealedVisitor<'_>) -> Result<(), StoreError> {
        (**self).for_each_sealed_stream(f)
    }
    fn check_integrity(&self) -> Result<Option<String>, StoreError> {
        (**self).check_integrity()
    }
    fn dictionary(&self, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        (**self).dictionary(from)
    }
    fn reserve_dictionary(&self, n: u32) -> Result<Option<u32>, StoreError> {
        (**self).reserve_dictionary(n)
    }
}
