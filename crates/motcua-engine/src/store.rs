//! The event log and its storage boundary: hash-chained stored events, the `Store` trait, and
//! an in-memory store for tests and benchmarks.

use std::borrow::Cow;
use std::sync::Mutex;

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, Dossier, DossierCode, Event, Outcome, ProcedureCode, StepId};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::Parties;
use crate::memlog::{Chain, Log};
use crate::seg::Segmented;

/// Version of the stored event envelope. A change of meaning is a new event variant or a new
/// schema number, never an edited one. Schema 1 sealed an event's JSON; schema 2 (written
/// today) seals its canonical binary form ([`canonical_bytes`]). Both verify.
pub const EVENT_SCHEMA: u16 = 2;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash before a dossier's first event.
pub const GENESIS: Hash = [0; 32];

/// Lower-case hex of a hash.
pub fn hex(h: &Hash) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(64);
    for b in h {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One event as stored: its place in the dossier's chain and the hash that seals it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The dossier.
    pub dossier: DossierCode,
    /// 1-based position in the dossier's stream (= the dossier's version after it).
    pub seq: u64,
    /// Envelope schema.
    pub schema: u16,
    /// The event.
    pub event: Event,
    /// Hash of the previous event ([`GENESIS`] for the first).
    pub prev: Hash,
    /// SHA-256 over `prev`, the dossier code, `seq`, `schema` and the event's canonical bytes.
    pub hash: Hash,
}

/// The event as JSON, the readable form (for people and tools; envelope schema 1 sealed these
/// bytes, schema 2 seals [`canonical_bytes`]).
pub fn encode_event(event: &Event) -> String {
    // Serializing our own enum to JSON cannot fail (string keys, no non-finite floats).
    serde_json::to_string(event).unwrap_or_default()
}

/// Appends the bytes that envelope `schema` seals for `event` to `out`: schema 1 its JSON,
/// schema 2 its compact MessagePack (fields in declaration order without names, the variant
/// name first, instants as UTC minutes) — the bytes stores keep. `None` for an unknown schema.
pub fn canonical_bytes(event: &Event, schema: u16, out: &mut Vec<u8>) -> Option<()> {
    match schema {
        1 => serde_json::to_writer(&mut *out, event).ok(),
        2 => rmp_serde::encode::write(out, event).ok(),
        _ => None,
    }
}

/// Reads an event back from the bytes [`canonical_bytes`] wrote under `schema`.
pub fn decode_event(bytes: &[u8], schema: u16) -> Result<Event, StoreError> {
    let bad = |e: &dyn std::fmt::Display| StoreError::Backend(format!("corrupt event (schema {schema}): {e}"));
    match schema {
        1 => serde_json::from_slice(bytes).map_err(|e| bad(&e)),
        2 => rmp_serde::from_slice(bytes).map_err(|e| bad(&e)),
        _ => Err(bad(&"unknown envelope schema")),
    }
}

/// The hash sealing an event (issue #4 §3): SHA-256 over `prev`, the dossier code's text, a
/// zero byte, `seq` and `schema` big-endian, and the event's canonical bytes.
pub fn chain_hash(prev: &Hash, dossier: &str, seq: u64, schema: u16, payload: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(dossier.as_bytes());
    h.update([0u8]);
    h.update(seq.to_be_bytes());
    h.update(schema.to_be_bytes());
    h.update(payload);
    h.finalize().into()
}

/// Seals events with a reused encoding buffer (the engine keeps one).
#[derive(Default, Debug)]
pub struct Sealer {
    scratch: Vec<u8>,
}

impl Sealer {
    /// Seals `event` as number `seq` of `dossier` (whose text is `text`) after `prev`, under
    /// the current [`EVENT_SCHEMA`].
    pub fn seal(&mut self, dossier: &DossierCode, text: &str, seq: u64, event: Event, prev: Hash) -> StoredEvent {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let sealed = self.seal_into(dossier, text, seq, event, prev, &mut scratch);
        self.scratch = scratch;
        sealed
    }

    /// [`Sealer::seal`], also appending the sealed bytes to `out` behind their length (`u32`
    /// little-endian): the layout of [`StreamAppend::canonical`].
    pub fn seal_into(
        &mut self,
        dossier: &DossierCode,
        text: &str,
        seq: u64,
        event: Event,
        prev: Hash,
        out: &mut Vec<u8>,
    ) -> StoredEvent {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        // Encoding our own types into a Vec cannot fail; an empty payload would still seal
        // (and `verify` would then report the mismatch), never panic.
        let _ = canonical_bytes(&event, EVENT_SCHEMA, out);
        let len = out.len() - at - 4;
        out[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
        let hash = chain_hash(&prev, text, seq, EVENT_SCHEMA, &out[at + 4..]);
        StoredEvent { dossier: dossier.clone(), seq, schema: EVENT_SCHEMA, event, prev, hash }
    }

    /// Recomputes the hash of a stored event (`None` for an unknown schema).
    pub fn rehash(&mut self, e: &StoredEvent, text: &str) -> Option<Hash> {
        self.scratch.clear();
        canonical_bytes(&e.event, e.schema, &mut self.scratch)?;
        Some(chain_hash(&e.prev, text, e.seq, e.schema, &self.scratch))
    }
}

impl StoredEvent {
    /// Seals `event` as number `seq` after `prev`.
    pub fn seal(dossier: &DossierCode, seq: u64, event: Event, prev: Hash) -> StoredEvent {
        Sealer::default().seal(dossier, &dossier.to_string(), seq, event, prev)
    }
}

/// The current state of one dossier as a row: the projection `verify` checks and reports read.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DossierSummary {
    /// The dossier.
    pub dossier: DossierCode,
    /// Its procedure.
    pub procedure: Option<ProcedureCode>,
    /// Internal status code.
    pub status: Option<Cow<'static, str>>,
    /// National status code.
    pub national: Option<u8>,
    /// Channel code (1 direct, 2 online, 3 postal).
    pub channel: Option<u8>,
    /// Acceptance time.
    pub received_at: Option<Timestamp>,
    /// Due time.
    pub due: Option<Timestamp>,
    /// First terminal instant.
    pub finished_at: Option<Timestamp>,
    /// Outcome.
    pub outcome: Option<Outcome>,
    /// Events so far.
    pub version: u64,
    /// Hash of the last event.
    pub last_hash: Hash,
    /// The steps that started, in procedure order: who held the dossier, until when, and
    /// whether they finished their part in time (lateness by step and agency reads these).
    /// `None` in rows written before summaries kept steps (the field is last, so those rows
    /// read as such); `verify` accepts them as they are.
    #[serde(default)]
    pub steps: Option<Vec<StepSummary>>,
}

/// One started step of a dossier, as its summary keeps it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StepSummary {
    /// The procedure's step.
    pub step: StepId,
    /// The agency that handles it.
    pub agency: std::sync::Arc<str>,
    /// Its due time (DOMAIN-RULES §8).
    pub due: Option<Timestamp>,
    /// When it completed.
    pub completed_at: Option<Timestamp>,
    /// Against its own due time, once completed.
    pub outcome: Option<Outcome>,
}

impl DossierSummary {
    /// Whether `self`, read from the store, is the projection `expected` (a replay's): equal,
    /// or written before summaries kept steps and equal but for them.
    pub fn matches(&self, expected: &DossierSummary) -> bool {
        self == expected || (self.steps.is_none() && *self == DossierSummary { steps: None, ..expected.clone() })
    }

    /// The summary of a dossier with no events.
    pub fn empty(dossier: &DossierCode) -> DossierSummary {
        DossierSummary {
            dossier: dossier.clone(),
            procedure: None,
            status: None,
            national: None,
            channel: None,
            received_at: None,
            due: None,
            finished_at: None,
            outcome: None,
            version: 0,
            last_hash: GENESIS,
            steps: Some(Vec::new()),
        }
    }

    /// The summary of `state` after the event sealed by `last_hash`.
    pub fn of(dossier: &DossierCode, state: &Dossier, last_hash: Hash) -> DossierSummary {
        let mut summary = DossierSummary::empty(dossier);
        summary.refill(dossier, state, last_hash);
        summary
    }

    /// Makes `self` the summary of `state` ([`DossierSummary::of`]), keeping the step list's
    /// allocation: the engine refills the summaries of reused appends.
    pub fn refill(&mut self, dossier: &DossierCode, state: &Dossier, last_hash: Hash) {
        if self.dossier != *dossier {
            self.dossier = dossier.clone();
        }
        if self.procedure != state.procedure {
            self.procedure = state.procedure.clone();
        }
        self.status = state.status.map(|s| Cow::Borrowed(s.code()));
        self.national = state.status.map(|s| s.national().code());
        self.channel = state.channel.map(|c| c.code());
        self.received_at = state.received_at;
        self.due = state.due;
        self.finished_at = state.finished_at;
        self.outcome = state.outcome;
        self.version = state.version;
        self.last_hash = last_hash;
        // Step by step over what the list held: a step it already names keeps its shared
        // texts (no reference counting), times and outcome are written again.
        let steps = self.steps.get_or_insert_with(Vec::new);
        let mut kept = 0;
        for s in state.steps.iter().filter(|s| s.started_at.is_some()) {
            let fresh = || StepSummary {
                step: s.id.clone(),
                agency: s.agency.clone(),
                due: s.due,
                completed_at: s.completed_at,
                outcome: s.outcome,
            };
            match steps.get_mut(kept) {
                Some(old) if old.step == s.id && old.agency == s.agency => {
                    old.due = s.due;
                    old.completed_at = s.completed_at;
                    old.outcome = s.outcome;
                }
                Some(old) => *old = fresh(),
                None => steps.push(fresh()),
            }
            kept += 1;
        }
        steps.truncate(kept);
    }
}

/// A status change for the national portal (issue #4 §6). Its id is `<dossier code>#<seq>`
/// ([`SyncMessage::id`]): the portal deduplicates by it. The id is not a field, so a message
/// allocates nothing of its own; its serialized form still carries it first (the form stored
/// rows and portals read).
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(from = "WireMessage")]
pub struct SyncMessage {
    /// Dossier code.
    pub dossier: DossierCode,
    /// The event (its number in the dossier's stream) that changed the national status.
    pub seq: u64,
    /// Procedure code.
    pub procedure: Option<ProcedureCode>,
    /// National status code (1–10).
    pub national_status: u8,
    /// Receipt time.
    pub received_at: Option<Timestamp>,
    /// Due time.
    pub due: Option<Timestamp>,
    /// Channel code.
    pub channel: Option<u8>,
    /// Receiving agency code.
    pub agency: AgencyCode,
    /// When the status changed.
    pub at: Timestamp,
}

impl SyncMessage {
    /// The message's id, `<dossier code>#<seq>`: unique per status change, and what the
    /// portal deduplicates by.
    pub fn id(&self) -> String {
        MessageId(&self.dossier, self.seq).to_string()
    }
}

/// Splits a message id `<dossier code>#<seq>` ([`SyncMessage::id`]) into the code's text and
/// the sequence number; `None` for text that is not one. Stores find a message by these.
pub fn split_message_id(id: &str) -> Option<(&str, u64)> {
    let (code, seq) = id.rsplit_once('#')?;
    Some((code, seq.parse().ok()?))
}

/// [`split_message_id`], the code parsed.
fn parse_message_id(id: &str) -> Option<(DossierCode, u64)> {
    let (code, seq) = split_message_id(id)?;
    Some((code.parse().ok()?, seq))
}

/// `<dossier code>#<seq>`, written without building the text first.
struct MessageId<'a>(&'a DossierCode, u64);

impl std::fmt::Display for MessageId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.0, self.1)
    }
}

impl Serialize for MessageId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Field by field the form messages were always written in, the id first.
impl Serialize for SyncMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("SyncMessage", 10)?;
        m.serialize_field("id", &MessageId(&self.dossier, self.seq))?;
        m.serialize_field("dossier", &self.dossier)?;
        m.serialize_field("seq", &self.seq)?;
        m.serialize_field("procedure", &self.procedure)?;
        m.serialize_field("national_status", &self.national_status)?;
        m.serialize_field("received_at", &self.received_at)?;
        m.serialize_field("due", &self.due)?;
        m.serialize_field("channel", &self.channel)?;
        m.serialize_field("agency", &self.agency)?;
        m.serialize_field("at", &self.at)?;
        m.end()
    }
}

/// A message as written: the id it carries follows from the dossier and `seq`, so reading
/// drops it. (Rows written before messages kept `seq` read it as 0; the SQLite store sets it
/// from its own column.)
#[derive(Deserialize)]
#[serde(rename = "SyncMessage")]
struct WireMessage {
    #[allow(dead_code)]
    id: serde::de::IgnoredAny,
    dossier: DossierCode,
    #[serde(default)]
    seq: u64,
    procedure: Option<ProcedureCode>,
    national_status: u8,
    received_at: Option<Timestamp>,
    due: Option<Timestamp>,
    channel: Option<u8>,
    agency: AgencyCode,
    at: Timestamp,
}

impl From<WireMessage> for SyncMessage {
    fn from(w: WireMessage) -> SyncMessage {
        SyncMessage {
            dossier: w.dossier,
            seq: w.seq,
            procedure: w.procedure,
            national_status: w.national_status,
            received_at: w.received_at,
            due: w.due,
            channel: w.channel,
            agency: w.agency,
            at: w.at,
        }
    }
}

/// A message waiting in the outbox. A message the portal acknowledged leaves the outbox (the
/// event log keeps the history; the outbox holds only what is still to send).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message.
    pub message: SyncMessage,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before this instant.
    pub next_attempt: Timestamp,
}

/// What happened to an outbox message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OutboxUpdate {
    /// Acknowledged.
    Delivered {
        /// Message id.
        id: String,
    },
    /// Failed; try again later.
    Retry {
        /// Message id.
        id: String,
        /// Attempts so far.
        attempts: u32,
        /// Next attempt.
        next_attempt: Timestamp,
    },
}

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
    /// The backend failed (I/O, corruption, …).
    #[error("store: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether the write lost an optimistic-concurrency race (retry after reloading).
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::VersionConflict { .. })
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
    /// Calls `f` with every dossier's projection row, in no particular order, without holding
    /// them all (a report over a national year). The default goes through [`Store::summaries`].
    fn for_each_summary(&self, f: &mut dyn FnMut(DossierSummary)) -> Result<(), StoreError> {
        for s in self.summaries()? {
            f(s);
        }
        Ok(())
    }
    /// Outbox messages not delivered whose next attempt is due at `now` (oldest first).
    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// Records delivery outcomes: a delivered message leaves the outbox, a failed one waits
    /// for its next attempt. Ids the store does not hold are ignored.
    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError>;
    /// Messages not yet delivered.
    fn outbox_pending(&self) -> Result<usize, StoreError>;
}

/// One dossier in the memory store: where its chain ends in the log, its parties and summary.
struct Entry {
    chain: Chain,
    parties: Parties,
    summary: Option<DossierSummary>,
}

#[derive(Default)]
struct Inner {
    /// Dossier code → position in `entries`.
    index: FxHashMap<DossierCode, u32>,
    entries: Segmented<Entry>,
    log: Log,
    idempotency: FxHashMap<String, IdempotencyRecord>,
    outbox: MemoryOutbox,
}

/// The memory store's outbox: messages in the order written (`None` once delivered), stored
/// in chunks, the delivered ones at the front dropped as they accumulate, so a store whose
/// portal keeps up holds only the pending tail.
#[derive(Default)]
struct MemoryOutbox {
    slots: Segmented<Option<Pending>>,
    /// Message (dossier, seq) → absolute position, for the messages written before `indexed`:
    /// the delivery side indexes what it needs when it reports, so appends stay a push.
    index: FxHashMap<(DossierCode, u64), usize>,
    indexed: usize,
    pending: usize,
}

/// A message waiting in the memory outbox, packed: the optional fields behind flags instead
/// of `Option`s (112 bytes, where an [`OutboxEntry`] is 160). A simulated year holds a
/// million of them when no portal drains it.
struct Pending {
    dossier: DossierCode,
    procedure: Option<ProcedureCode>,
    agency: AgencyCode,
    seq: u64,
    received_at: Timestamp,
    due: Timestamp,
    at: Timestamp,
    next_attempt: Timestamp,
    attempts: u32,
    national_status: u8,
    channel: u8,
    /// Which of `received_at`, `due` and `channel` are set ([`Pending::RECEIVED`], …).
    set: u8,
}

impl Pending {
    const RECEIVED: u8 = 1;
    const DUE: u8 = 2;
    const CHANNEL: u8 = 4;

    fn new(m: SyncMessage) -> Pending {
        let flag = |present: bool, bit: u8| if present { bit } else { 0 };
        Pending {
            set: flag(m.received_at.is_some(), Self::RECEIVED)
                | flag(m.due.is_some(), Self::DUE)
                | flag(m.channel.is_some(), Self::CHANNEL),
            received_at: m.received_at.unwrap_or(m.at),
            due: m.due.unwrap_or(m.at),
            channel: m.channel.unwrap_or(0),
            next_attempt: m.at,
            attempts: 0,
            dossier: m.dossier,
            procedure: m.procedure,
            agency: m.agency,
            seq: m.seq,
            at: m.at,
            national_status: m.national_status,
        }
    }

    fn entry(&self) -> OutboxEntry {
        let has = |bit: u8| self.set & bit != 0;
        OutboxEntry {
            message: SyncMessage {
                dossier: self.dossier.clone(),
                seq: self.seq,
                procedure: self.procedure.clone(),
                national_status: self.national_status,
                received_at: has(Self::RECEIVED).then_some(self.received_at),
                due: has(Self::DUE).then_some(self.due),
                channel: has(Self::CHANNEL).then_some(self.channel),
                agency: self.agency.clone(),
                at: self.at,
            },
            attempts: self.attempts,
            next_attempt: self.next_attempt,
        }
    }
}

impl MemoryOutbox {
    fn push(&mut self, message: SyncMessage) {
        self.slots.push(Some(Pending::new(message)));
        self.pending += 1;
    }

    fn due(&self, now: Timestamp, limit: usize) -> Vec<OutboxEntry> {
        self.slots.iter().flatten().filter(|p| p.next_attempt <= now).take(limit).map(Pending::entry).collect()
    }

    fn update(&mut self, updates: &[OutboxUpdate]) {
        let end = self.slots.end();
        for pos in self.indexed.max(self.slots.start())..end {
            if let Some(Some(p)) = self.slots.get(pos) {
                self.index.insert((p.dossier.clone(), p.seq), pos);
            }
        }
        self.indexed = end;
        for u in updates {
            let id = match u {
                OutboxUpdate::Delivered { id } | OutboxUpdate::Retry { id, .. } => id,
            };
            // Ids this store did not issue match no message.
            let Some(key) = parse_message_id(id) else { continue };
            let Some(&pos) = self.index.get(&key) else { continue };
            let Some(slot) = self.slots.get_mut(pos) else { continue };
            match u {
                OutboxUpdate::Delivered { .. } => {
                    if slot.take().is_some() {
                        self.pending -= 1;
                    }
                    self.index.remove(&key);
                }
                OutboxUpdate::Retry { attempts, next_attempt, .. } => {
                    if let Some(p) = slot {
                        p.attempts = *attempts;
                        p.next_attempt = *next_attempt;
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
        let Some(&i) = inner.index.get(dossier) else { return };
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
        let Some(entry) = inner.index.get(dossier).and_then(|&i| inner.entries.get(i as usize)) else {
            return Ok(None);
        };
        Ok(Some(Stream {
            events: inner.log.read(dossier, &entry.chain)?,
            parties: entry.parties.clone(),
            summary: entry.summary.clone(),
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
                inner.entries.get(h as usize).and_then(|e| e.summary.as_ref()).is_some_and(|e| e.dossier == s.dossier)
            });
            let slot = hinted.or_else(|| inner.index.get(&s.dossier).copied());
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
                    inner.index.insert(s.dossier.clone(), i as u32);
                    inner.entries.push(Entry { chain: Chain::default(), parties: Parties::default(), summary: None });
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
            // which refills it for a later append.
            match &mut entry.summary {
                Some(old) => std::mem::swap(old, &mut s.summary),
                None => entry.summary = Some(std::mem::replace(&mut s.summary, DossierSummary::empty(&s.dossier))),
            }
        }
        for r in batch.idempotency.drain(..) {
            inner.idempotency.insert(r.key.clone(), r);
        }
        for m in batch.outbox.drain(..) {
            inner.outbox.push(m);
        }
        Ok(())
    }

    fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self.lock()?.idempotency.get(key).cloned())
    }

    fn dossiers(&self) -> Result<Vec<DossierCode>, StoreError> {
        let mut all: Vec<DossierCode> = self.lock()?.index.keys().cloned().collect();
        all.sort_unstable();
        Ok(all)
    }

    fn summaries(&self) -> Result<Vec<DossierSummary>, StoreError> {
        let mut all: Vec<DossierSummary> = self.lock()?.entries.iter().filter_map(|e| e.summary.clone()).collect();
        all.sort_unstable_by(|a, b| a.dossier.cmp(&b.dossier));
        Ok(all)
    }

    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self.lock()?.outbox.due(now, limit))
    }

    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        self.lock()?.outbox.update(updates);
        Ok(())
    }

    fn outbox_pending(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.outbox.pending)
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
    fn outbox_due(&self, now: Timestamp, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        (**self).outbox_due(now, limit)
    }
    fn outbox_update(&self, updates: &[OutboxUpdate]) -> Result<(), StoreError> {
        (**self).outbox_update(updates)
    }
    fn outbox_pending(&self) -> Result<usize, StoreError> {
        (**self).outbox_pending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let at: Timestamp = "2025-03-03T08:06+07:00".parse().unwrap();
        Event::Received {
            at,
            procedure: "1.004194".parse().unwrap(),
            channel: motcua_core::Channel::Online,
            clock_start: at,
            due: Some(at.plus_minutes(3 * 480)),
        }
    }

    fn message(n: i64) -> SyncMessage {
        SyncMessage {
            seq: n as u64,
            dossier: "H42.12-250303-0001".parse().unwrap(),
            procedure: None,
            national_status: 1,
            received_at: None,
            due: None,
            channel: None,
            agency: "H42.12".parse().unwrap(),
            at: Timestamp::from_utc_minutes(28_000_000 + n),
        }
    }

    #[test]
    fn a_packed_message_gives_back_the_message_it_packed() {
        let at = Timestamp::from_utc_minutes(28_000_000);
        for set in 0..8u8 {
            let m = SyncMessage {
                procedure: (set & 1 != 0).then(|| "1.004194".parse().unwrap()),
                received_at: (set & 1 != 0).then_some(at.plus_minutes(-60)),
                due: (set & 2 != 0).then_some(at.plus_minutes(960)),
                channel: (set & 4 != 0).then_some(2),
                ..message(7)
            };
            let entry = Pending::new(m.clone()).entry();
            assert_eq!((entry.message, entry.attempts, entry.next_attempt), (m, 0, at.plus_minutes(7)));
        }
    }

    #[test]
    fn a_message_is_written_as_before_its_id_stopped_being_a_field() {
        /// The derived form messages had while the id was a field.
        #[derive(Serialize)]
        struct Before {
            id: String,
            dossier: DossierCode,
            seq: u64,
            procedure: Option<ProcedureCode>,
            national_status: u8,
            received_at: Option<Timestamp>,
            due: Option<Timestamp>,
            channel: Option<u8>,
            agency: AgencyCode,
            at: Timestamp,
        }
        let m = SyncMessage { procedure: Some("1.004194".parse().unwrap()), channel: Some(1), ..message(3) };
        let before = Before {
            id: "H42.12-250303-0001#3".into(),
            dossier: m.dossier.clone(),
            seq: 3,
            procedure: m.procedure.clone(),
            national_status: 1,
            received_at: None,
            due: None,
            channel: Some(1),
            agency: m.agency.clone(),
            at: m.at,
        };
        assert_eq!(m.id(), "H42.12-250303-0001#3");
        assert_eq!(parse_message_id(&m.id()), Some((m.dossier.clone(), 3)));
        assert_eq!(rmp_serde::to_vec(&m).unwrap(), rmp_serde::to_vec(&before).unwrap());
        assert_eq!(serde_json::to_string(&m).unwrap(), serde_json::to_string(&before).unwrap());
        let bytes = rmp_serde::to_vec(&before).unwrap();
        assert_eq!(rmp_serde::from_slice::<SyncMessage>(&bytes).unwrap(), m);
        let json = serde_json::to_string(&before).unwrap();
        assert_eq!(serde_json::from_str::<SyncMessage>(&json).unwrap(), m);
    }

    #[test]
    fn delivered_messages_leave_the_memory_outbox() {
        let mut outbox = MemoryOutbox::default();
        for n in 1..=3 {
            outbox.push(message(n));
        }
        let id = |n: i64| message(n).id();
        let late = Timestamp::from_utc_minutes(29_000_000);
        // The middle one goes first: the front still waits, so nothing is dropped yet.
        outbox.update(&[OutboxUpdate::Delivered { id: id(2) }]);
        assert_eq!((outbox.pending, outbox.slots.len()), (2, 3));
        let retry_at = late.plus_minutes(5);
        outbox.update(&[OutboxUpdate::Retry { id: id(1), attempts: 1, next_attempt: retry_at }]);
        assert_eq!(outbox.due(late, 10).iter().map(|e| e.message.seq).collect::<Vec<_>>(), vec![3]);
        // Once the front is delivered the delivered prefix is dropped; a repeat is ignored.
        outbox.update(&[OutboxUpdate::Delivered { id: id(1) }, OutboxUpdate::Delivered { id: id(2) }]);
        assert_eq!((outbox.pending, outbox.slots.len(), outbox.slots.start()), (1, 1, 2));
        outbox.push(message(4));
        outbox.update(&[OutboxUpdate::Delivered { id: id(3) }, OutboxUpdate::Delivered { id: id(4) }]);
        assert_eq!((outbox.pending, outbox.slots.len(), outbox.index.len()), (0, 0, 0));
    }

    #[test]
    fn summaries_from_before_steps_were_kept_still_match() {
        let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
        let mut state = Dossier::new();
        motcua_core::apply(&mut state, &event());
        let mut expected = DossierSummary::of(&code, &state, GENESIS);
        expected.steps = Some(vec![StepSummary {
            step: "tiep-nhan".into(),
            agency: "H42.12".into(),
            due: None,
            completed_at: None,
            outcome: None,
        }]);
        let old = DossierSummary { steps: None, ..expected.clone() };
        assert!(old.matches(&expected) && expected.matches(&expected));
        // Any other difference still shows, with or without steps.
        assert!(!DossierSummary { version: 9, ..old.clone() }.matches(&expected));
        assert!(!DossierSummary { steps: Some(Vec::new()), ..expected.clone() }.matches(&expected));
        // A row written without the field (an array one element shorter) reads as `None`.
        let mut bytes = rmp_serde::to_vec(&old).unwrap();
        assert_eq!((bytes[0], bytes.last()), (0x9c, Some(&0xc0)), "fixarray of 12, steps nil last");
        bytes[0] = 0x9b;
        bytes.pop();
        assert_eq!(rmp_serde::from_slice::<DossierSummary>(&bytes).unwrap(), old);
        let json = serde_json::to_value(&old).unwrap();
        let mut map = json.as_object().unwrap().clone();
        map.remove("steps");
        let read: DossierSummary = serde_json::from_value(serde_json::Value::Object(map)).unwrap();
        assert_eq!(read, old);
    }

    #[test]
    fn a_refilled_summary_and_a_reset_append_keep_nothing_of_before() {
        let a: DossierCode = "H42.12-250303-0001".parse().unwrap();
        let b: DossierCode = "H42.13-250304-0002".parse().unwrap();
        let mut state = Dossier::new();
        motcua_core::apply(&mut state, &event());
        // A summary of another dossier, with a step and another version, refilled.
        let mut reused = DossierSummary::of(&a, &state, [7; 32]);
        reused.steps = Some(vec![StepSummary {
            step: "tiep-nhan".into(),
            agency: "H42.12".into(),
            due: None,
            completed_at: None,
            outcome: None,
        }]);
        reused.version = 9;
        reused.refill(&b, &state, GENESIS);
        assert_eq!(reused, DossierSummary::of(&b, &state, GENESIS));
        // An append emptied for another dossier: only its summary stays, for the writer to refill.
        let mut append = StreamAppend::new(&a, 0);
        append.parties = Some(Parties::default());
        let mut sealer = Sealer::default();
        append.events.push(sealer.seal_into(&a, &a.to_string(), 1, event(), GENESIS, &mut append.canonical));
        append.reset(&b, 4);
        assert_eq!((append.dossier, append.expected_version), (b, 4));
        assert!(append.events.is_empty() && append.canonical.is_empty() && append.parties.is_none());
    }

    #[test]
    fn a_store_hint_is_checked_before_it_is_used() {
        let a: DossierCode = "H42.12-250303-0001".parse().unwrap();
        let b: DossierCode = "H42.13-250304-0002".parse().unwrap();
        let store = MemoryStore::new();
        let mut sealer = Sealer::default();
        let mut append = |code: &DossierCode, version: u64, hint: Option<u64>| {
            let mut s = StreamAppend::new(code, version);
            let prev = store.load(code).unwrap().map_or(GENESIS, |l| l.events.last().unwrap().hash);
            s.events.push(sealer.seal_into(code, &code.to_string(), version + 1, event(), prev, &mut s.canonical));
            s.hint = hint;
            let mut batch = AppendBatch { streams: vec![s], ..AppendBatch::default() };
            store.append(&mut batch).map(|()| batch.streams[0].hint)
        };
        let hint_a = append(&a, 0, None).unwrap();
        let hint_b = append(&b, 0, Some(99)).unwrap();
        assert_ne!(hint_a, hint_b);
        // A's hint handed with B's append (and a hint past the end) still writes B.
        assert_eq!(append(&b, 1, hint_a).unwrap(), hint_b);
        assert_eq!(append(&b, 2, Some(u64::MAX)).unwrap(), hint_b);
        assert!(append(&a, 0, hint_a).unwrap_err().is_conflict());
        assert_eq!(append(&a, 1, hint_a).unwrap(), hint_a);
        let versions = |c: &DossierCode| store.load(c).unwrap().unwrap().events.len();
        assert_eq!((versions(&a), versions(&b)), (2, 3));
    }

    #[test]
    fn sealed_bytes_travel_with_the_append() {
        let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
        let text = code.to_string();
        let mut sealer = Sealer::default();
        let mut canonical = Vec::new();
        let a = sealer.seal_into(&code, &text, 1, event(), GENESIS, &mut canonical);
        let b = sealer.seal_into(&code, &text, 2, event(), a.hash, &mut canonical);
        // The same hashes as sealing without keeping the bytes.
        assert_eq!(a, sealer.seal(&code, &text, 1, event(), GENESIS));
        assert_eq!(b.hash, sealer.seal(&code, &text, 2, event(), a.hash).hash);
        let parts: Vec<&[u8]> = canonical_parts(&canonical, 2).unwrap().collect();
        let mut expected = Vec::new();
        canonical_bytes(&event(), EVENT_SCHEMA, &mut expected).unwrap();
        assert_eq!(parts, [&expected[..], &expected[..]]);
        // Empty, the wrong count, or a truncated buffer: the store encodes itself.
        assert!(canonical_parts(&[], 0).is_none());
        assert!(canonical_parts(&canonical, 3).is_none());
        assert!(canonical_parts(&canonical[..canonical.len() - 1], 2).is_none());
    }

    #[test]
    fn both_envelope_schemas_verify() {
        let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
        let mut sealer = Sealer::default();
        let current = sealer.seal(&code, &code.to_string(), 1, event(), GENESIS);
        assert_eq!(current.schema, EVENT_SCHEMA);
        assert_eq!(sealer.rehash(&current, &code.to_string()), Some(current.hash));
        // A schema-1 event sealed its JSON; it still verifies.
        let json = encode_event(&event());
        let old = StoredEvent {
            schema: 1,
            hash: chain_hash(&GENESIS, &code.to_string(), 1, 1, json.as_bytes()),
            ..current.clone()
        };
        assert_eq!(sealer.rehash(&old, &code.to_string()), Some(old.hash));
        assert_ne!(old.hash, current.hash);
        let unknown = StoredEvent { schema: 99, ..current };
        assert_eq!(sealer.rehash(&unknown, &code.to_string()), None);
    }

    #[test]
    fn canonical_bytes_read_back_under_both_schemas() {
        let at: Timestamp = "2025-03-03T08:06+07:00".parse().unwrap();
        let events = [
            event(),
            Event::StepStarted {
                at,
                step: "tham-dinh".into(),
                agency: "phong-kt".into(),
                from_agency: Some("H42.12".into()),
                due: at.plus_minutes(960),
            },
            Event::SupplementReceived {
                at,
                clock_start: at,
                due: None,
                step_dues: vec![motcua_core::StepDue { step: "a".into(), due: at }],
            },
            Event::Finished { at, decision: motcua_core::Decision::Approved, outcome: Some(Outcome::Early) },
            Event::Stopped { at, reason: "trùng hồ sơ".into(), outcome: None },
        ];
        for schema in [1, EVENT_SCHEMA] {
            for e in &events {
                let mut bytes = Vec::new();
                canonical_bytes(e, schema, &mut bytes).unwrap();
                assert_eq!(&decode_event(&bytes, schema).unwrap(), e, "schema {schema}");
            }
        }
        assert!(decode_event(b"\xc1", EVENT_SCHEMA).is_err());
        assert!(decode_event(b"{}", 7).is_err());
    }

    #[test]
    fn the_canonical_form_is_compact_and_changes_with_any_field() {
        let mut a = Vec::new();
        canonical_bytes(&event(), EVENT_SCHEMA, &mut a).unwrap();
        assert!(a.len() < encode_event(&event()).len() / 3, "{} bytes", a.len());
        let Event::Received { at, procedure, channel, clock_start, due } = event() else { unreachable!() };
        let later = Event::Received { at, procedure, channel, clock_start, due: due.map(|d| d.plus_minutes(1)) };
        let mut b = Vec::new();
        canonical_bytes(&later, EVENT_SCHEMA, &mut b).unwrap();
        assert_ne!(a, b);
    }
}
