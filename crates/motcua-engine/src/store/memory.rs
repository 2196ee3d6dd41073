//! The in-memory store.

use std::sync::Mutex;

use chrono::NaiveDate;
use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, DossierCode};
use rustc_hash::FxHashMap;

use super::*;
use crate::memlog::{Chain, Log};
use crate::projection::{Counters, Deadlines};
use crate::seg::Segmented;
use motcua_core::Parties;

/// One dossier in the memory store: where its chain ends in the log, its parties and summary.
struct Entry {
    chain: Chain,
    parties: Parties,
    summary: Held,
}

/// A dossier's summary as the memory store holds it: an open dossier's as the struct the
/// writer refills (boxed: 8 bytes in the entry), a closed one's in lean bytes over the log's
/// dictionary (about 90 bytes instead of 256 and its step list's allocation — most of a year's
/// dossiers are closed; about 75 MB less on the seed year).
enum Held {
    /// No events yet.
    None,
    /// An open dossier's summary.
    Live(Box<DossierSummary>),
    /// A closed dossier's summary in lean bytes, and its code.
    Packed { dossier: DossierCode, bytes: Box<[u8]> },
}

impl Held {
    fn dossier(&self) -> Option<&DossierCode> {
        match self {
            Held::None => None,
            Held::Live(s) => Some(&s.dossier),
            Held::Packed { dossier, .. } => Some(dossier),
        }
    }

    /// The due time the deadline index holds it under (a packed summary is closed: none).
    fn indexed_due(&self) -> Option<Timestamp> {
        match self {
            Held::Live(s) => indexed_due(s),
            _ => None,
        }
    }

    /// The summary, unpacked if need be.
    fn get(&self, lexicon: &Lexicon) -> Result<Option<DossierSummary>, StoreError> {
        match self {
            Held::None => Ok(None),
            Held::Live(s) => Ok(Some((**s).clone())),
            Held::Packed { dossier, bytes } => {
                let code = dossier.to_string();
                let mut tree = Vec::with_capacity(bytes.len() * 2);
                lean::expand(bytes, lexicon, &code, &mut tree)
                    .map_err(|e| StoreError::Backend(format!("summary of {code}: {e}")))?;
                rmp_serde::from_slice(&tree)
                    .map(Some)
                    .map_err(|e| StoreError::Backend(format!("summary of {code}: {e}")))
            }
        }
    }
}

/// Buffers packing reuses from one summary to the next (one allocation a packed summary: its
/// bytes).
#[derive(Default)]
struct PackScratch {
    tree: Vec<u8>,
    lean: Vec<u8>,
    canon: Vec<u8>,
    code: String,
}

/// A closed dossier's summary in lean bytes over `lexicon` (none if it cannot be encoded: it
/// is then kept as it is).
fn pack(s: &DossierSummary, lexicon: &Lexicon, scratch: &mut PackScratch) -> Option<Box<[u8]>> {
    use std::fmt::Write;
    let PackScratch { tree, lean: out, canon, code } = scratch;
    tree.clear();
    out.clear();
    canon.clear();
    code.clear();
    rmp_serde::encode::write(tree, s).ok()?;
    write!(code, "{}", s.dossier).ok()?;
    lean::compact(tree, &mut |t| lexicon.id(t), code, out, canon).ok()?;
    Some(Box::from(&out[..]))
}

#[derive(Default)]
struct Inner {
    /// Dossier code → position in `entries`.
    index: CodeIndex,
    entries: Segmented<Entry>,
    log: Log,
    idempotency: FxHashMap<String, IdempotencyRecord>,
    outbox: MemoryOutbox,
    counters: CompactCounters,
    /// Open dossiers by due time (clock stopped or not: queries filter by the row).
    deadlines: Deadlines,
    sequences: FxHashMap<(AgencyCode, NaiveDate), u64>,
    services: Vec<ServiceRow>,
    results: FxHashMap<Box<str>, StoredResult>,
    /// The kinds of result the warehouse holds, each text once.
    kinds: rustc_hash::FxHashSet<std::sync::Arc<str>>,
    /// The holders and issuing dossiers of the (rare) warehouse rows whose row cannot keep
    /// them: a holder key that is not 16 bytes of hex, an issuing dossier the store lacks.
    odd_holders: FxHashMap<Box<str>, motcua_core::ApplicantKey>,
    odd_issuers: FxHashMap<Box<str>, DossierCode>,
    /// The next dictionary id to hand out.
    next_id: u32,
    pack: PackScratch,
}

/// A warehouse row as the memory store keeps it: its number once (the map's key), its holder
/// as the key's 16 bytes, its kind's text shared by the rows of that kind, the dossier that
/// issued it by its slot (48 bytes and the number's text, where the row as a value is 290).
struct StoredResult {
    kind: std::sync::Arc<str>,
    /// The holder key's 16 bytes; none when it has no holder, or when its holder is in
    /// `odd_holders`.
    holder: Option<[u8; 16]>,
    /// The issuing dossier's slot; [`NO_ISSUER`] when none (or in `odd_issuers`).
    issuer: u32,
    valid_until: Option<NaiveDate>,
    revoked: bool,
    expired: bool,
}

/// "No issuing dossier" in [`StoredResult::issuer`].
const NO_ISSUER: u32 = u32::MAX;

impl Inner {
    /// Warehouse row `number` as a value.
    fn known(&self, number: &str, r: &StoredResult) -> motcua_core::KnownResult {
        let holder = match r.holder {
            Some(bytes) => Some(motcua_core::ApplicantKey::from_bytes(bytes)),
            None => self.odd_holders.get(number).cloned(),
        };
        let issued_by = match r.issuer {
            NO_ISSUER => self.odd_issuers.get(number).cloned(),
            slot => self.entries.get(slot as usize).and_then(|e| e.summary.dossier()).cloned(),
        };
        motcua_core::KnownResult {
            number: number.to_string(),
            holder,
            kind: r.kind.to_string(),
            valid_until: r.valid_until,
            revoked: r.revoked,
            issued_by,
            expired: r.expired,
        }
    }
}

/// Dossier code → slot, keeping only the slot and 32 bits of the code's hash (8 bytes a dossier
/// in the table instead of 40: the code itself is the entry's, compared on lookup).
#[derive(Default)]
struct CodeIndex {
    table: hashbrown::HashTable<(u32, u32)>,
}

impl CodeIndex {
    /// 32 bits of the code's hash, and the table's 64-bit hash spread from them (the table
    /// hashes again from the 32 bits alone when it grows).
    fn hash(code: &DossierCode) -> (u32, u64) {
        use std::hash::BuildHasher;
        let h32 = rustc_hash::FxBuildHasher.hash_one(code) as u32;
        (h32, Self::spread(h32))
    }

    fn spread(h32: u32) -> u64 {
        u64::from(h32).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn get(&self, code: &DossierCode, entries: &Segmented<Entry>) -> Option<u32> {
        let (h32, hash) = Self::hash(code);
        let code_of = |slot: u32| entries.get(slot as usize).and_then(|e| e.summary.dossier());
        self.table.find(hash, |&(slot, h)| h == h32 && code_of(slot) == Some(code)).map(|&(slot, _)| slot)
    }

    /// Adds `code` at `slot` (absent before: the caller looked it up).
    fn insert(&mut self, code: &DossierCode, slot: u32) {
        let (h32, hash) = Self::hash(code);
        self.table.insert_unique(hash, (slot, h32), |&(_, h)| Self::spread(h));
    }
}

/// The indicator counters as the memory store keeps them: each (agency, procedure, sector) once,
/// a row per (that group, channel, local day) with 32-bit tallies — about 40 bytes a row
/// instead of 120 (the seed year keeps about 300,000 rows: 63 MB before, about 22 MB). A tally
/// is at most 2^32 - 1 per agency, procedure, channel and day (a nation's year is 50 million
/// dossiers); it saturates there rather than wrap.
#[derive(Default)]
struct CompactCounters {
    groups: FxHashMap<(AgencyCode, motcua_core::ProcedureCode, std::sync::Arc<str>), u32>,
    keys: Vec<(AgencyCode, motcua_core::ProcedureCode, std::sync::Arc<str>)>,
    rows: FxHashMap<(u32, u8, i32), [u32; 7]>,
}

impl CompactCounters {
    fn absorb(&mut self, batch: &mut Counters) {
        for (k, t) in batch.drain() {
            let group = (k.agency, k.procedure, k.sector);
            let id = match self.groups.get(&group) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
                    self.keys.push(group.clone());
                    self.groups.insert(group, id);
                    id
                }
            };
            let day = i32::try_from(k.day).unwrap_or(if k.day < 0 { i32::MIN } else { i32::MAX });
            let row = self.rows.entry((id, k.channel, day)).or_default();
            let add = [t.received, t.refused, t.resolved, t.early, t.on_time, t.late, t.supplement_requests];
            for (r, a) in row.iter_mut().zip(add) {
                *r = r.saturating_add(u32::try_from(a).unwrap_or(u32::MAX));
            }
        }
    }

    fn tally(row: &[u32; 7]) -> crate::projection::Tally {
        let [received, refused, resolved, early, on_time, late, supplement_requests] = row.map(u64::from);
        crate::projection::Tally { received, refused, resolved, early, on_time, late, supplement_requests }
    }

    fn to_counters(&self) -> Counters {
        let mut out = Counters::default();
        for (&(id, channel, day), row) in &self.rows {
            let Some((agency, procedure, sector)) = self.keys.get(id as usize) else { continue };
            let key = crate::projection::CounterKey {
                agency: agency.clone(),
                procedure: procedure.clone(),
                sector: sector.clone(),
                channel,
                day: i64::from(day),
            };
            out.add(key, &Self::tally(row));
        }
        out
    }

    fn total(&self) -> crate::projection::Tally {
        let mut sum = crate::projection::Tally::default();
        for row in self.rows.values() {
            sum.add(&Self::tally(row));
        }
        sum
    }
}

/// The due time a row is indexed under: its due time while open.
fn indexed_due(s: &DossierSummary) -> Option<Timestamp> {
    if s.is_open() {
        s.due
    } else {
        None
    }
}

/// The memory store's outbox: messages in the order written (`None` once delivered), stored
/// in chunks, the delivered ones at the front dropped as they accumulate, so a store whose
/// portal keeps up holds only the pending tail.
#[derive(Default)]
struct MemoryOutbox {
    slots: Segmented<Option<Pending>>,
    /// Message (dossier's slot, seq) → absolute position, for the messages written before
    /// `indexed`: the delivery side indexes what it needs when it reports, so appends stay a
    /// push.
    index: FxHashMap<(u32, u32), usize>,
    indexed: usize,
    pending: usize,
    /// The delivery ledger: what the portal acknowledged, by dossier, in order.
    ledger: FxHashMap<DossierCode, Vec<DeliveryRecord>>,
    delivered: u64,
}

/// A message waiting in the memory outbox: which event's, and when to try it. The message
/// itself is rendered from the dossier's events when it is due ([`render_messages`]): a
/// simulated year holds a million of these when no portal drains it: 16 bytes each (and 16 in
/// its `Option`: an event's number is never 0), the dossier by its slot in the store, the next
/// attempt in minutes since 1970 (Timestamps are whole minutes; `u32` reaches past 10000).
struct Pending {
    slot: u32,
    seq: std::num::NonZeroU32,
    attempts: u32,
    next_attempt: u32,
}

impl Pending {
    fn next_attempt(&self) -> Timestamp {
        Timestamp::from_utc_minutes(i64::from(self.next_attempt))
    }
}

/// `t` in whole minutes since 1970 as an outbox row keeps it.
fn minutes(t: Timestamp) -> u32 {
    u32::try_from(t.utc_minutes().max(0)).unwrap_or(u32::MAX)
}

impl MemoryOutbox {
    /// A message of event `seq` of the dossier in `slot`, first due at `at`.
    fn push(&mut self, slot: u32, seq: u64, at: Timestamp) {
        let seq = u32::try_from(seq).ok().and_then(std::num::NonZeroU32::new).unwrap_or(std::num::NonZeroU32::MAX);
        self.slots.push(Some(Pending { slot, seq, attempts: 0, next_attempt: minutes(at) }));
        self.pending += 1;
    }

    fn due(&self, now: Timestamp, limit: usize) -> Vec<&Pending> {
        let now = minutes(now);
        self.slots.iter().flatten().filter(|p| p.next_attempt <= now).take(limit).collect()
    }

    /// Applies `updates`, finding a message's dossier by its code with `slot_of` (code → slot).
    fn update(&mut self, updates: &[OutboxUpdate], slot_of: impl Fn(&DossierCode) -> Option<u32>) {
        let end = self.slots.end();
        for pos in self.indexed.max(self.slots.start())..end {
            if let Some(Some(p)) = self.slots.get(pos) {
                self.index.insert((p.slot, p.seq.get()), pos);
            }
        }
        self.indexed = end;
        for u in updates {
            let id = match u {
                OutboxUpdate::Delivered { id, .. } | OutboxUpdate::Retry { id, .. } => id,
            };
            // Ids this store did not issue match no message.
            let Some((code, seq)) = parse_message_id(id) else { continue };
            let (Some(dossier), Ok(seq)) = (slot_of(&code), u32::try_from(seq)) else { continue };
            let key = (dossier, seq);
            let Some(&pos) = self.index.get(&key) else { continue };
            let Some(slot) = self.slots.get_mut(pos) else { continue };
            match u {
                OutboxUpdate::Delivered { at, .. } => {
                    if let Some(p) = slot.take() {
                        self.pending -= 1;
                        self.ledger
                            .entry(code)
                            .or_default()
                            .push(DeliveryRecord { seq: u64::from(p.seq.get()), delivered_at: *at });
                        self.delivered += 1;
                    }
                    self.index.remove(&key);
                }
                OutboxUpdate::Retry { attempts, next_attempt, .. } => {
                    if let Some(p) = slot {
                        p.attempts = *attempts;
                        p.next_attempt = minutes(*next_attempt);
                    }
                }
            }
        }
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
        }
    }
}

/// An in-memory store: for tests, benchmarks and embedding without persistence.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Backend("a writer panicked while holding the store".into()))
    }

    /// Test hook: edits a stored event (to prove `verify` finds tampering). The edited event
    /// is written again with its stored hash; `seq`, `prev` and `dossier` follow from its place
    /// in the chain, so edits to them are not kept.
    pub fn tamper(&self, dossier: &DossierCode, seq: u64, edit: impl FnOnce(&mut StoredEvent)) {
        let Ok(mut inner) = self.lock() else { return };
        let inner = &mut *inner;
        let Some(i) = inner.index.get(dossier, &inner.entries) else { return };
        let Some(entry) = inner.entries.get_mut(i as usize) else { return };
        let Ok(mut events) = inner.log.read(dossier, &entry.chain) else { return };
        if let Some(e) = seq.checked_sub(1).and_then(|k| events.get_mut(k as usize)) {
            edit(e);
        }
        // The whole chain again, from a fresh start; the old records stay unreferenced.
        let mut chain = Chain::default();
        inner.log.begin();
        if let Ok(encoded) = inner.log.encode(&chain, &events, &[]) {
            inner.log.commit(&mut chain, encoded);
            entry.chain = chain;
        }
    }
}

impl Store for MemoryStore {
    fn load(&self, dossier: &DossierCode) -> Result<Option<Stream>, StoreError> {
        let inner = self.lock()?;
        let Some(entry) = inner.index.get(dossier, &inner.entries).and_then(|i| inner.entries.get(i as usize)) else {
            return Ok(None);
        };
        Ok(Some(Stream {
            events: inner.log.read(dossier, &entry.chain)?,
            parties: entry.parties.clone(),
            summary: entry.summary.get(&inner.log.lexicon)?,
        }))
    }

    fn append(&self, batch: &mut AppendBatch) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let inner = &mut *inner;
        // Check and encode everything before writing anything: the batch is atomic.
        inner.log.begin();
        for s in &batch.streams {
            // The writer's hint when it names this dossier's entry, else the index.
            let hinted = s.hint.and_then(|h| u32::try_from(h).ok()).filter(|&h| {
                inner.entries.get(h as usize).and_then(|e| e.summary.dossier()).is_some_and(|d| *d == s.dossier)
            });
            let slot = hinted.or_else(|| inner.index.get(&s.dossier, &inner.entries));
            let chain = slot.and_then(|i| inner.entries.get(i as usize)).map_or_else(Chain::default, |e| e.chain);
            if chain.len != s.expected_version {
                return Err(StoreError::VersionConflict {
                    dossier: s.dossier.clone(),
                    expected: s.expected_version,
                    actual: chain.len,
                });
            }
            let prepared = inner.log.encode(&chain, &s.events, &s.canonical)?;
            inner.log.streams.push((slot, prepared));
        }
        let new = inner.log.streams.iter().filter(|(slot, _)| slot.is_none()).count();
        if inner.entries.len() + new > u32::MAX as usize {
            return Err(StoreError::Backend("the memory store is full (2^32 dossiers)".into()));
        }
        for (k, s) in batch.streams.iter_mut().enumerate() {
            let Some(&(slot, prepared)) = inner.log.streams.get(k) else { continue };
            let i = match slot {
                Some(i) => i as usize,
                None => {
                    let i = inner.entries.len();
                    // Checked above: every new dossier gets a slot below 2^32.
                    inner.index.insert(&s.dossier, i as u32);
                    inner.entries.push(Entry {
                        chain: Chain::default(),
                        parties: Parties::default(),
                        summary: Held::None,
                    });
                    i
                }
            };
            let Some(entry) = inner.entries.get_mut(i) else { continue };
            s.hint = Some(i as u64);
            inner.log.commit(&mut entry.chain, prepared);
            if let Some(p) = s.parties.take() {
                entry.parties = p;
            }
            // The new summary in, the previous one (and its step list) back to the writer,
            // which refills it for a later append. The deadline index only when the due time
            // it is indexed under moved (most commands move none).
            let before = entry.summary.indexed_due();
            let after = indexed_due(&s.summary);
            if before != after {
                inner.deadlines.set(&s.dossier, after);
            }
            // A closed dossier's summary is packed (the live one's allocation back to the
            // writer); an open one's is kept live.
            let packed = if s.summary.is_open() { None } else { pack(&s.summary, &inner.log.lexicon, &mut inner.pack) };
            match (packed, &mut entry.summary) {
                (Some(bytes), held) => {
                    let was = std::mem::replace(held, Held::Packed { dossier: s.dossier.clone(), bytes });
                    if let Held::Live(old) = was {
                        s.summary = *old;
                    }
                }
                (None, Held::Live(old)) => std::mem::swap(&mut **old, &mut s.summary),
                (None, held) => {
                    *held = Held::Live(Box::new(std::mem::replace(&mut s.summary, DossierSummary::empty(&s.dossier))))
                }
            }
        }
        for r in batch.idempotency.drain(..) {
            inner.idempotency.insert(r.key.clone(), r);
        }
        for m in batch.outbox.drain(..) {
            // Every message is of a dossier of this batch, whose slot is known by now.
            if let Some(slot) = inner.index.get(&m.dossier, &inner.entries) {
                inner.outbox.push(slot, m.seq, m.at);
            }
        }
        for r in batch.results.drain(..) {
            let kind = match inner.kinds.get(r.kind.as_str()) {
                Some(k) => k.clone(),
                None => {
                    let k: std::sync::Arc<str> = std::sync::Arc::from(r.kind.as_str());
                    inner.kinds.insert(k.clone());
                    k
                }
            };
            let number = r.number.into_boxed_str();
            let holder = match r.holder.as_ref().map(|key| (key.to_bytes(), key)) {
                Some((None, key)) => {
                    inner.odd_holders.insert(number.clone(), key.clone());
                    None
                }
                other => {
                    inner.odd_holders.remove(&number);
                    other.and_then(|(bytes, _)| bytes)
                }
            };
            let issuer = match &r.issued_by {
                Some(code) => match inner.index.get(code, &inner.entries) {
                    Some(slot) if slot != NO_ISSUER => {
                        inner.odd_issuers.remove(&number);
                        slot
                    }
                    _ => {
                        inner.odd_issuers.insert(number.clone(), code.clone());
                        NO_ISSUER
                    }
                },
                None => {
                    inner.odd_issuers.remove(&number);
                    NO_ISSUER
                }
            };
            let stored = StoredResult {
                kind,
                holder,
                issuer,
                valid_until: r.valid_until,
                revoked: r.revoked,
                expired: r.expired,
            };
            inner.results.insert(number, stored);
        }
        for (id, text) in batch.dictionary.drain(..) {
            if inner.log.lexicon.text(id).is_none() {
                inner.log.lexicon.insert(id, text);
            }
        }
        inner.counters.absorb(&mut batch.counters);
        Ok(())
    }

    fn dictionary(&self, from: u32) -> Result<Vec<(u32, std::sync::Arc<str>)>, StoreError> {
        let inner = self.lock()?;
        let lex = &inner.log.lexicon;
        Ok((from..lex.end()).filter_map(|id| lex.text(id).map(|t| (id, std::sync::Arc::clone(t)))).collect())
    }

    fn reserve_dictionary(&self, n: u32) -> Result<Option<u32>, StoreError> {
        let mut inner = self.lock()?;
        let first = inner.next_id;
        inner.next_id =
            first.checked_add(n).ok_or_else(|| StoreError::Backend("the dictionary is full (2^32 entries)".into()))?;
        Ok(Some(first))
    }

    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.lock()?.idempotency.get(key).cloned())
    }

    fn for_each_sealed_stream(&self, f: &mut SealedVisitor<'_>) -> Result<(), StoreError> {
        let mut sealed = Vec::new();
        for code in self.dossiers()? {
            sealed.clear();
            let stream = {
                let inner = self.lock()?;
                let Some(entry) = inner.index.get(&code, &inner.entries).and_then(|i| inner.entries.get(i as usize))
                else {
                    continue;
                };
                Stream {
                    events: inner.log.read_sealed(&code, &entry.chain, Some(&mut sealed))?,
                    parties: entry.parties.clone(),
                    summary: entry.summary.get(&inner.log.lexicon)?,
                }
            };
            if f(code, stream, &sealed).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        let mut all: Vec<DossierCode> =
            self.lock()?.entries.iter().filter_map(|e| e.summary.dossier().cloned()).collect();
        all.sort_unstable();
        Ok(all)
    }

    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        let inner = self.lock()?;
        let mut all = Vec::with_capacity(inner.entries.len());
        for e in inner.entries.iter() {
            all.extend(e.summary.get(&inner.log.lexicon)?);
        }
        all.sort_unstable_by(|a, b| a.dossier.cmp(&b.dossier));
        Ok(all)
    }

    fn summary(&self, dossier: &DossierCode) -> Result<Option<DossierSummary>, StoreError> {
        let inner = self.lock()?;
        match inner.index.get(dossier, &inner.entries).and_then(|i| inner.entries.get(i as usize)) {
            Some(e) => e.summary.get(&inner.log.lexicon),
            None => Ok(None),
        }
    }

    fn deadlines(&self, query: &DeadlineQuery) -> Result<Page, StoreError> {
        let inner = self.lock()?;
        let codes = match query.view {
            DeadlineView::Overdue => inner.deadlines.overdue(query.as_of),
            DeadlineView::DueBefore { until } => inner.deadlines.due_between(query.as_of, until),
        };
        let mut rows = Vec::with_capacity(codes.len());
        for e in codes
            .into_iter()
            .filter_map(|c| inner.index.get(c, &inner.entries).and_then(|i| inner.entries.get(i as usize)))
        {
            rows.extend(e.summary.get(&inner.log.lexicon)?);
        }
        Ok(query.scan(rows))
    }

    fn counters(&self) -> Result<Counters, StoreError> {
        Ok(self.lock()?.counters.to_counters())
    }

    fn counter_total(&self) -> Result<crate::projection::Tally, StoreError> {
        Ok(self.lock()?.counters.total())
    }

    fn next_sequence(&self, agency: &AgencyCode, date: NaiveDate) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let n = inner.sequences.entry((agency.clone(), date)).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let inner = self.lock()?;
        let due = inner.outbox.due(now, limit);
        // Each dossier's messages rendered from its events, in one read per dossier.
        let mut wanted: FxHashMap<u32, Vec<u64>> = FxHashMap::default();
        for p in &due {
            wanted.entry(p.slot).or_default().push(u64::from(p.seq.get()));
        }
        let mut rendered: FxHashMap<(u32, u64), SyncMessage> = FxHashMap::default();
        for (slot, mut seqs) in wanted {
            let Some(entry) = inner.entries.get(slot as usize) else { continue };
            let Some(code) = entry.summary.dossier() else { continue };
            seqs.sort_unstable();
            let events = inner.log.read(code, &entry.chain)?;
            for m in render_messages(code, &events, &seqs) {
                rendered.insert((slot, m.seq), m);
            }
        }
        Ok(due
            .iter()
            .filter_map(|p| {
                Some(OutboxEntry {
                    message: rendered.remove(&(p.slot, u64::from(p.seq.get())))?,
                    attempts: p.attempts,
                    next_attempt: p.next_attempt(),
                })
            })
            .collect())
    }

    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let Inner { outbox, index, entries, .. } = &mut *inner;
        outbox.update(updates, |code| index.get(code, entries));
        Ok(())
    }

    fn outbox_pending(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.outbox.pending)
    }

    fn deliveries(&self, dossier: &DossierCode) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut records = self.lock()?.outbox.ledger.get(dossier).cloned().unwrap_or_default();
        records.sort_by_key(|r| r.seq);
        Ok(records)
    }

    fn put_services(&self, services: &[ServiceRow]) -> Result<(), StoreError> {
        let mut rows = services.to_vec();
        rows.sort_by(|a, b| a.procedure.cmp(&b.procedure));
        rows.dedup_by(|a, b| a.procedure == b.procedure);
        self.lock()?.services = rows;
        Ok(())
    }

    fn services(&self) -> Result<Vec<ServiceRow>, StoreError> {
        Ok(self.lock()?.services.clone())
    }

    fn result(&self, number: &str) -> Result<Option<motcua_core::KnownResult>, StoreError> {
        let inner = self.lock()?;
        Ok(inner.results.get(number).map(|r| inner.known(number, r)))
    }

    fn for_each_result(&self, f: &mut dyn FnMut(motcua_core::KnownResult)) -> Result<(), StoreError> {
        let rows: Vec<motcua_core::KnownResult> = {
            let inner = self.lock()?;
            inner.results.iter().map(|(number, r)| inner.known(number, r)).collect()
        };
        rows.into_iter().for_each(f);
        Ok(())
    }

    fn sync_tally(&self) -> Result<SyncTally, StoreError> {
        let inner = self.lock()?;
        Ok(SyncTally { dossiers_synced: inner.outbox.ledger.len() as u64, messages_delivered: inner.outbox.delivered })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::message;

    #[test]
    fn a_warehouse_row_reads_back_whoever_issued_it() {
        let key = motcua_core::IdentityKey::new(&[7u8; 32]).unwrap();
        let row = |number: &str, issued_by: Option<&str>| motcua_core::KnownResult {
            number: number.into(),
            holder: Some(key.applicant_key(&"058203004567".parse().unwrap())),
            kind: "Giấy xác nhận".into(),
            valid_until: NaiveDate::from_ymd_opt(2026, 1, 31),
            revoked: false,
            issued_by: issued_by.map(|c| c.parse().unwrap()),
            expired: false,
        };
        let store = MemoryStore::new();
        // An issuing dossier the store does not hold, and none.
        let rows = vec![row("KQ-1", Some("H42.12-250303-0009")), row("KQ-2", None)];
        store.append(&mut AppendBatch { results: rows.clone(), ..AppendBatch::default() }).unwrap();
        for r in &rows {
            assert_eq!(store.result(&r.number).unwrap().as_ref(), Some(r));
        }
        // Written again without its issuer: the old one is forgotten.
        let again = row("KQ-1", None);
        store.append(&mut AppendBatch { results: vec![again.clone()], ..AppendBatch::default() }).unwrap();
        assert_eq!(store.result("KQ-1").unwrap(), Some(again));
    }

    #[test]
    fn compact_counters_read_back_as_the_counters_added() {
        use crate::projection::{CounterKey, Tally};
        let key = |day: i64, channel: u8| CounterKey {
            agency: "H42.12".parse().unwrap(),
            procedure: "1.000894".parse().unwrap(),
            sector: std::sync::Arc::from("Hộ tịch"),
            channel,
            day,
        };
        let tally =
            Tally { received: 3, refused: 1, resolved: 2, early: 1, on_time: 1, late: 0, supplement_requests: 4 };
        let mut batch = Counters::default();
        batch.add(key(20000, 1), &tally);
        batch.add(key(20001, 2), &tally);
        let mut expected = batch.clone();
        let mut compact = CompactCounters::default();
        compact.absorb(&mut batch.clone());
        compact.absorb(&mut batch);
        expected.absorb(&mut expected.clone());
        assert_eq!(compact.to_counters(), expected);
        assert_eq!(compact.total(), expected.total(|_| true));
        assert_eq!(compact.keys.len(), 1, "one group for one agency, procedure and sector");
    }

    #[test]
    fn an_undelivered_message_is_16_bytes() {
        assert_eq!(std::mem::size_of::<Option<Pending>>(), 16);
    }

    #[test]
    fn delivered_messages_leave_the_memory_outbox() {
        let mut outbox = MemoryOutbox::default();
        let code = message(1).dossier;
        let dossiers: FxHashMap<DossierCode, u32> = [(code, 0)].into_iter().collect();
        for n in 1..=3 {
            let m = message(n);
            outbox.push(0, m.seq, m.at);
        }
        let id = |n: i64| message(n).id();
        let late = Timestamp::from_utc_minutes(29_000_000);
        // The middle one goes first: the front still waits, so nothing is dropped yet.
        outbox.update(&[OutboxUpdate::Delivered { id: id(2), at: late }], |c| dossiers.get(c).copied());
        assert_eq!((outbox.pending, outbox.slots.len()), (2, 3));
        let retry_at = late.plus_minutes(5);
        outbox.update(&[OutboxUpdate::Retry { id: id(1), attempts: 1, next_attempt: retry_at }], |c| {
            dossiers.get(c).copied()
        });
        assert_eq!(outbox.due(late, 10).iter().map(|p| p.seq.get()).collect::<Vec<_>>(), vec![3]);
        // Once the front is delivered the delivered prefix is dropped; a repeat is ignored.
        outbox.update(
            &[OutboxUpdate::Delivered { id: id(1), at: late }, OutboxUpdate::Delivered { id: id(2), at: late }],
            |c| dossiers.get(c).copied(),
        );
        assert_eq!((outbox.pending, outbox.slots.len(), outbox.slots.start()), (1, 1, 2));
        outbox.push(0, 4, message(4).at);
        outbox.update(
            &[OutboxUpdate::Delivered { id: id(3), at: late }, OutboxUpdate::Delivered { id: id(4), at: late }],
            |c| dossiers.get(c).copied(),
        );
        assert_eq!((outbox.pending, outbox.slots.len(), outbox.index.len()), (0, 0, 0));
        // The ledger kept each delivery once.
        assert_eq!((outbox.delivered, outbox.ledger.values().map(Vec::len).sum::<usize>()), (4, 4));
    }
}
