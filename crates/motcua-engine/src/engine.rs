//! The engine: `handle(request) -> Outcome` around the pure core (see ARCHITECTURE.md).

use std::sync::Arc;

use motcua_calendar::{Timestamp, WorkCalendar};
use motcua_core::{
    apply, decide, version_for, AgencyCode, Command, Context, DomainError, Dossier, DossierCode, Event, Procedure,
    ProcedureCode, Register,
};
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::hot::{Hot, HotCache, Slot};
use crate::projection::Counters;
use crate::store::{
    AppendBatch, BacklogBy, BacklogRow, DeadlineQuery, Hash, IdempotencyRecord, Page, Sealer, Store, StoreError,
    StreamAppend,
};
use motcua_core::{authorize, Actor, ActorId, ActorRole, Denied, Parties};

/// Most retries after losing an optimistic-concurrency race.
pub const MAX_RETRIES: u32 = 3;

/// One command as the engine receives it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Request {
    /// The dossier.
    pub dossier: DossierCode,
    /// The command.
    pub command: Command,
    /// Who issues it.
    pub actor: Actor,
    /// The same key with the same command returns the first outcome without writing again.
    pub idempotency_key: Option<String>,
    /// When (stamped by the caller; the engine reads no clock).
    pub now: Timestamp,
    /// For a system creating a dossier for someone (the national portal forwarding a citizen's
    /// online submission): the citizen, who becomes the dossier's applicant (and so may act on
    /// it, e.g. withdraw). Ignored otherwise.
    pub on_behalf_of: Option<ActorId>,
    /// Whether the dossier must be new, must exist, or either ([`Intent`]).
    pub intent: Intent,
}

/// What a request may do to its dossier's existence. A server that issues codes itself asks
/// for [`Intent::Create`] when it creates a dossier under a code it just issued, and for
/// [`Intent::Existing`] for every other command, so that no caller creates a dossier under a
/// code of their choosing and no receipt adopts a dossier somebody else created.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Intent {
    /// Whatever the command does: `submit` and `receive` create a dossier that does not exist
    /// (a simulator, a scenario, a batch import, whose codes are their own).
    #[default]
    Any,
    /// The dossier must not exist yet: a creating command that finds one under its code is
    /// refused ([`EngineError::CodeTaken`]), never applied to it.
    Create,
    /// The dossier must exist: a command on an unknown code is [`EngineError::NoSuchDossier`],
    /// whatever it is (a `receive` then only accepts an existing online submission).
    Existing,
}

impl Request {
    /// A request for `command` on `dossier` by `actor` at `now`, with no idempotency key, on
    /// nobody's behalf, of [`Intent::Any`].
    pub fn new(dossier: DossierCode, command: Command, actor: Actor, now: Timestamp) -> Request {
        Request { dossier, command, actor, idempotency_key: None, now, on_behalf_of: None, intent: Intent::Any }
    }

    /// The same request with an idempotency key (scoped to its actor: see [`Engine::handle`]).
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Request {
        self.idempotency_key = Some(key.into());
        self
    }

    /// The same request made by a system for `citizen`, who becomes the applicant of the
    /// dossier it creates.
    pub fn on_behalf_of(mut self, citizen: ActorId) -> Request {
        self.on_behalf_of = Some(citizen);
        self
    }

    /// The same request with `intent`.
    pub fn with_intent(mut self, intent: Intent) -> Request {
        self.intent = intent;
        self
    }
}

/// What a handled command did.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Outcome {
    /// The dossier.
    pub dossier: DossierCode,
    /// Its version after the command.
    pub version: u64,
    /// The events written (or, for a repeated idempotency key, those written the first time).
    pub events: Vec<Event>,
    /// True when this is the stored outcome of an earlier request with the same key.
    pub replayed: bool,
    /// How many times the command was redone after losing a race.
    pub retries: u32,
}

/// Why the engine refused or failed a command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The actor may not do this (logged without personal data).
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] Denied),
    /// The domain rules reject the command.
    #[error("rejected: {0}")]
    Rejected(#[from] DomainError),
    /// The idempotency key was used for another command.
    #[error("idempotency key {key:?} was already used for a different command on {dossier}")]
    IdempotencyConflict {
        /// The key.
        key: String,
        /// The dossier of its first use.
        dossier: DossierCode,
    },
    /// No dossier with this code, and the command does not create one.
    #[error("no dossier {0}; only submit or receive create one")]
    NoSuchDossier(DossierCode),
    /// A request to create a dossier ([`Intent::Create`]) under a code that is already taken.
    #[error("dossier code {0} is already taken")]
    CodeTaken(DossierCode),
    /// A dossier created under a code dated another day (TT 01/2018/TT-VPCP Art. 19: a
    /// dossier's code carries the day it was received or submitted).
    #[error("dossier code {code} is dated {dated}, but the dossier is created on {day}")]
    CodeDate {
        /// The code.
        code: DossierCode,
        /// The day its code says.
        dated: String,
        /// The day of the command creating it.
        day: String,
    },
    /// The engine does not know the procedure.
    #[error("unknown procedure {0}")]
    UnknownProcedure(ProcedureCode),
    /// No version of the procedure is in force that day (or the version a dossier was
    /// received under is no longer in the catalog).
    #[error("no version of procedure {procedure} in force on {day} (or the dossier's version is gone)")]
    NotInForce {
        /// The procedure.
        procedure: ProcedureCode,
        /// The day.
        day: String,
    },
    /// Still losing races after [`MAX_RETRIES`].
    #[error("gave up after {MAX_RETRIES} version conflicts on {0}")]
    Contention(DossierCode),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Unauthorized(_) => "unauthorized",
            EngineError::Rejected(e) => e.code(),
            EngineError::IdempotencyConflict { .. } => "idempotency_conflict",
            EngineError::NoSuchDossier(_) => "no_such_dossier",
            EngineError::CodeTaken(_) => "code_taken",
            EngineError::CodeDate { .. } => "code_date",
            EngineError::UnknownProcedure(_) => "unknown_procedure",
            EngineError::NotInForce { .. } => "not_in_force",
            EngineError::Contention(_) => "contention",
            EngineError::Store(_) => "store",
        }
    }
}

/// A known procedure's versions (in order of `effective_from`, an undated one first) and its
/// sector as shared text (counters key on it per event).
struct Known {
    versions: Vec<Procedure>,
    sector: Arc<str>,
}

/// Handles commands against a [`Store`].
pub struct Engine<S: Store> {
    store: S,
    procedures: FxHashMap<ProcedureCode, Known>,
    calendar: WorkCalendar,
    hot: HotCache,
    sealer: Sealer,
    /// The register of units step roles resolve through (none: steps keep their labels).
    units: Option<Arc<Register>>,
    /// The digitisation rules receipts are checked against, if any.
    digitisation: Option<Arc<motcua_core::DigitisationRules>>,
    /// The write being gathered (by `handle` and `handle_batch` alike).
    scratch: Scratch,
    /// The store's dictionary as this writer knows it, and the ids it may hand out.
    lexicon: Interner,
}

/// A writer's side of the store's dictionary ([`crate::store::lean`]): every text it knows with
/// its id, a block of ids reserved for it by the store, and the entries it handed out that no
/// committed write carried yet (they ride with every write until one commits).
#[derive(Default)]
struct Interner {
    known: crate::store::Lexicon,
    loaded: bool,
    next: u32,
    end: u32,
    pending: Vec<(u32, Arc<str>)>,
    /// Fingerprints of texts seen once and written inline, by slot: a text is interned the
    /// second time it is seen (a receipt's or a result's number, unique to its dossier, never
    /// enters the dictionary; an agency's code does at its second dossier). Bounded: texts
    /// seen once evict each other.
    seen: Vec<u64>,
    /// The store could not reserve ids: strings go inline until a write commits (a store
    /// whose server is down is not asked again for every string).
    blocked: bool,
    /// Ids of texts recently asked for, by the address of the text asked (most are the
    /// catalog's and the register's shared texts and the variants' static names, asked for
    /// at every event): a hit is checked against the entry's own text, so an address reused
    /// by another text only misses.
    recent: Vec<(usize, u32)>,
}

/// Slots of [`Interner::recent`] (64 KiB).
const RECENT_SLOTS: usize = 1 << 12;

/// Slots of [`Interner::seen`] (2 MiB).
const SEEN_SLOTS: usize = 1 << 18;

/// Dictionary ids reserved at a time.
const ID_BLOCK: u32 = 1024;

impl Interner {
    /// Reads the store's dictionary once.
    fn load<S: Store>(&mut self, store: &S) -> Result<(), StoreError> {
        if !self.loaded {
            for (id, text) in store.dictionary(0)? {
                self.known.insert(id, text);
            }
            self.loaded = true;
        }
        Ok(())
    }

    /// The id of `text`: known, or the next of the reserved block (a new block when it is
    /// used up); `None` (written inline) when the store keeps no dictionary or cannot reserve.
    fn intern<S: Store>(&mut self, text: &str, store: &S) -> Option<u32> {
        let address = text.as_ptr() as usize;
        let slot = (address.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) & (RECENT_SLOTS - 1);
        if let Some(&(at, id)) = self.recent.get(slot) {
            if at == address && self.known.text(id).is_some_and(|t| **t == *text) {
                return Some(id);
            }
        }
        if let Some(id) = self.known.id(text) {
            if self.recent.is_empty() {
                self.recent = vec![(0, 0); RECENT_SLOTS];
            }
            self.recent[slot] = (address, id);
            return Some(id);
        }
        let print = {
            use std::hash::{Hash as _, Hasher as _};
            let mut h = rustc_hash::FxHasher::default();
            text.hash(&mut h);
            h.finish() | 1
        };
        if self.seen.is_empty() {
            self.seen = vec![0; SEEN_SLOTS];
        }
        let slot = print as usize & (SEEN_SLOTS - 1);
        if self.seen[slot] != print {
            self.seen[slot] = print;
            return None;
        }
        if self.next == self.end {
            if self.blocked {
                return None;
            }
            let Ok(Some(first)) = store.reserve_dictionary(ID_BLOCK) else {
                self.blocked = true;
                return None;
            };
            self.next = first;
            self.end = first.checked_add(ID_BLOCK)?;
        }
        let id = self.next;
        self.next += 1;
        let text: Arc<str> = Arc::from(text);
        self.known.insert(id, Arc::clone(&text));
        self.pending.push((id, text));
        Some(id)
    }
}

/// Buffers a write fills and empties, kept between writes: allocating them per write made the
/// allocator hand fresh (zero-filled) pages to every write, and moving appends in and out of a
/// pool cost more than it saved. So appends stay where they are in `batch.streams` and are
/// emptied in place for the next write.
#[derive(Default)]
struct Scratch {
    batch: AppendBatch,
    /// How many of `batch.streams` this write uses; those past it are earlier writes' appends
    /// (buffers kept), cut from the batch by [`Scratch::ready`] before it is written.
    live: usize,
    plans: Vec<(usize, Planned)>,
    /// Requests repeating the idempotency key of an earlier request of the batch: (this, that).
    repeats: Vec<(usize, usize)>,
    /// Numbers the writes, so a cached dossier's mark of its append in this one
    /// ([`Hot::batch_stream`]) is told from a mark left by an earlier one.
    write: u64,
}

impl Scratch {
    /// Starts a write (the appends stay, to be emptied as they are used again).
    fn clear(&mut self) {
        self.live = 0;
        self.batch.idempotency.clear();
        self.batch.outbox.clear();
        self.batch.results.clear();
        self.batch.counters.clear();
        self.batch.dictionary.clear();
        self.plans.clear();
        self.repeats.clear();
        self.write += 1;
    }

    /// The batch's append for `dossier`: the one already gathered when `grouped` (marked in
    /// `mark`, the cached dossier's), else the next one (an earlier write's, emptied, when there
    /// is one) at `expected_version`. Its position in the batch.
    fn stream_for(
        &mut self,
        dossier: &DossierCode,
        expected_version: u64,
        grouped: bool,
        mark: &mut Option<(u64, usize)>,
    ) -> usize {
        if let (true, Some((write, slot))) = (grouped, *mark) {
            if write == self.write {
                return slot;
            }
        }
        let slot = self.live;
        match self.batch.streams.get_mut(slot) {
            Some(s) => s.reset(dossier, expected_version),
            None => self.batch.streams.push(StreamAppend::new(dossier, expected_version)),
        }
        self.live += 1;
        *mark = Some((self.write, slot));
        slot
    }

    /// The batch as this write gathered it (earlier writes' appends cut off).
    fn ready(&mut self) -> &mut AppendBatch {
        self.batch.streams.truncate(self.live);
        &mut self.batch
    }
}

#[derive(Serialize)]
struct Fingerprint<'a> {
    dossier: &'a DossierCode,
    command: &'a Command,
}

fn fingerprint(dossier: &DossierCode, command: &Command) -> Hash {
    let json = serde_json::to_string(&Fingerprint { dossier, command }).unwrap_or_default();
    Sha256::digest(json.as_bytes()).into()
}

/// The key an idempotency record is stored under: the caller's key scoped to the caller (role,
/// agency and id), so that a key one caller used is a fresh key for every other — a repeat by
/// someone else neither replays the first caller's outcome nor learns which dossier it was
/// on, and nobody can use up a key another caller (the national portal's connector) will use.
/// 32 hex digits of SHA-256 (128 bits).
pub fn scoped_idempotency_key(actor: &Actor, key: &str) -> String {
    let mut h = Sha256::new();
    let role = match actor.role {
        ActorRole::Citizen => "citizen",
        ActorRole::Clerk => "clerk",
        ActorRole::Specialist => "specialist",
        ActorRole::Leader => "leader",
        ActorRole::System => "system",
    };
    for part in [role, actor.agency.as_deref().unwrap_or(""), &actor.id.0, key] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest: [u8; 32] = h.finalize().into();
    crate::hex(&digest[..16])
}

/// A keyed request's stored key ([`scoped_idempotency_key`]) and fingerprint, computed once.
struct Keyed {
    scoped: String,
    print: Hash,
}

fn keyed(req: &Request) -> Option<Keyed> {
    let key = req.idempotency_key.as_deref()?;
    Some(Keyed { scoped: scoped_idempotency_key(&req.actor, key), print: fingerprint(&req.dossier, &req.command) })
}

impl<S: Store> Engine<S> {
    /// An engine over `store` for these procedures and this calendar, with every projection as
    /// the store holds it: the store keeps each dossier's row, the counters and the sequences,
    /// updated in the same transaction as the events, so nothing is replayed here (replaying is
    /// [`crate::rebuild_projections`]'s job, and [`crate::verify`] proves live equals replayed).
    pub fn new(store: S, procedures: impl IntoIterator<Item = Procedure>, calendar: WorkCalendar) -> Engine<S> {
        Engine {
            store,
            procedures: procedures.into_iter().fold(FxHashMap::<ProcedureCode, Known>::default(), |mut all, p| {
                let known = all
                    .entry(p.code.clone())
                    .or_insert_with(|| Known { versions: Vec::new(), sector: Arc::from(p.sector.as_str()) });
                known.versions.push(p);
                known.versions.sort_by_key(|v| v.effective_from);
                all
            }),
            calendar,
            hot: HotCache::default(),
            sealer: Sealer::default(),
            units: None,
            digitisation: None,
            scratch: Scratch::default(),
            lexicon: Interner::default(),
        }
    }

    /// An engine assembled and checked at start ([`EngineBuilder`]): its procedures, calendar,
    /// register and digitisation rules, with the services table published for reports.
    ///
    /// ```
    /// use motcua_calendar::{Limit, WorkCalendar};
    /// use motcua_core::Procedure;
    /// use motcua_engine::{BuildError, Engine, MemoryStore};
    /// let birth = Procedure::simple("1.001193".parse().unwrap(), "Đăng ký khai sinh", Limit::SameDay);
    /// let calendar = WorkCalendar::builder().years(2025, 2026).build().unwrap();
    /// let engine = Engine::builder(MemoryStore::new()).procedures([birth.clone()]).calendar(calendar).build().unwrap();
    /// assert!(engine.procedure(&birth.code).is_some());
    /// // No calendar: refused at start, not at the first receipt.
    /// let e = Engine::builder(MemoryStore::new()).procedures([birth]).build();
    /// assert!(matches!(e, Err(BuildError::NoCalendar)));
    /// ```
    pub fn builder(store: S) -> EngineBuilder<S> {
        EngineBuilder { store, procedures: Vec::new(), calendar: None, units: None, digitisation: None }
    }

    /// The engine resolving step roles through `units`: each step's agency is the concrete
    /// agency that plays its role for the dossier's administrative unit ([`Register::resolve`]),
    /// stored in the event, and an officer acts on a step only as (or as the successor after
    /// a merger of) that agency. Without a register a step's agency is its label as written,
    /// and an officer whose agency equals the label passes on that step of every dossier.
    pub fn with_units(mut self, units: Arc<Register>) -> Engine<S> {
        self.units = Some(units);
        self
    }

    /// The engine recording, at every receipt, the components the digitisation rules in force
    /// required digitised and that came on paper (refusing the receipt when the rules are
    /// strict): Circular 01/2023/TT-VPCP as data.
    pub fn with_digitisation(mut self, rules: Arc<motcua_core::DigitisationRules>) -> Engine<S> {
        self.digitisation = Some(rules);
        self
    }

    /// Writes the services it handles (each procedure's latest version: name, sector, online
    /// level, integration with the national portal) to the store, for reports
    /// ([`Store::services`]).
    pub fn publish_services(&self) -> Result<(), StoreError> {
        let rows: Vec<crate::store::ServiceRow> =
            self.procedures.values().filter_map(|k| k.versions.last()).map(crate::store::ServiceRow::of).collect();
        self.store.put_services(&rows)
    }

    /// Records the expiry of every result in the warehouse whose last valid day is before
    /// `now`'s day and whose expiry, revocation is not recorded yet: a `ResultExpired` event on
    /// the dossier that issued it, by `actor` (a system), with an idempotency key of the result's
    /// number so a sweep run twice writes once. Returns the numbers recorded, in order; a
    /// dossier that refuses is skipped (left for the next sweep). A province runs it daily
    /// (`motcua expire`).
    pub fn expire_results(&mut self, now: Timestamp, actor: &Actor) -> Result<Vec<String>, EngineError> {
        let today = now.local_date();
        let mut due = Vec::new();
        self.store.for_each_result(&mut |r| {
            if let (Some(dossier), Some(v)) = (r.issued_by, r.valid_until) {
                if v < today && !r.revoked && !r.expired {
                    due.push((dossier, r.number));
                }
            }
        })?;
        due.sort();
        let mut done = Vec::with_capacity(due.len());
        for (dossier, number) in due {
            let req = Request::new(dossier, Command::ExpireResult, actor.clone(), now)
                .with_idempotency_key(format!("expire:{number}"));
            // A dossier that refuses (a sweep dated before its last event, its procedure gone
            // from the catalog) is left for the next sweep; the store failing stops this one.
            match self.handle(&req) {
                Ok(_) => done.push(number),
                Err(e @ (EngineError::Store(_) | EngineError::Contention(_))) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(done)
    }

    /// Hands every open dossier of administrative unit `from` over to unit `to` at `now`, as
    /// `actor` (a merger: an ended unit's open dossiers go to its successor). Each is a
    /// [`Command::HandOver`] with its own idempotency key, so a repeated run moves nothing
    /// twice. Returns the dossiers moved and those refused with why (a step `to` does not
    /// serve, a dossier dated after `now`); the store failing stops the run.
    pub fn hand_over(&mut self, from: &str, to: &str, now: Timestamp, actor: &Actor) -> Result<Handover, EngineError> {
        let mut open: Vec<DossierCode> = self
            .store
            .summaries()?
            .into_iter()
            .filter(|s| s.is_open() && s.jurisdiction.as_deref() == Some(from))
            .map(|s| s.dossier)
            .collect();
        open.sort();
        let (mut moved, mut refused) = (Vec::new(), Vec::new());
        for dossier in open {
            let req = Request::new(dossier.clone(), Command::HandOver { to: Arc::from(to) }, actor.clone(), now)
                .with_idempotency_key(format!("handover:{from}:{to}:{dossier}"));
            match self.handle(&req) {
                Ok(_) => moved.push(dossier),
                Err(e @ (EngineError::Store(_) | EngineError::Contention(_))) => return Err(e),
                Err(e) => refused.push((dossier, e.to_string())),
            }
        }
        Ok(Handover { moved, refused })
    }

    /// The register of units it resolves step roles through, if any.
    pub fn units(&self) -> Option<&Arc<Register>> {
        self.units.as_ref()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Gives the store back (e.g. to verify it after a run).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The calendar.
    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }

    /// A known procedure (its latest version).
    pub fn procedure(&self, code: &ProcedureCode) -> Option<&Procedure> {
        self.procedures.get(code).and_then(|k| k.versions.last())
    }

    /// The indicator counters as the store holds them (every writer's commands), each key's
    /// sector that of its procedure in this engine's catalog.
    pub fn counters(&self) -> Result<Counters, EngineError> {
        let stored = self.store.counters()?;
        Ok(stored.with_sectors(|p| self.procedures.get(p).map(|k| Arc::clone(&k.sector))))
    }

    /// Open dossiers overdue or due soon, from the store's indexed rows ([`DeadlineQuery`]).
    pub fn deadlines(&self, query: &DeadlineQuery) -> Result<Page, EngineError> {
        Ok(self.store.deadlines(query)?)
    }

    /// Open dossiers per agency, step agency or procedure, with how many are overdue at `as_of`.
    pub fn backlog(&self, by: BacklogBy, as_of: Timestamp) -> Result<Vec<BacklogRow>, EngineError> {
        Ok(self.store.backlog(by, as_of)?)
    }

    /// A new dossier code for `agency`, numbered in its sequence for the local date of `at`
    /// (TT 01/2018/TT-VPCP Art. 19: `<agency>-YYMMDD-NNNN`, numbered per agency per day). The
    /// number comes from the store, so it never repeats, after a restart or beside other
    /// writers.
    pub fn issue_code(&self, agency: &AgencyCode, at: Timestamp) -> Result<DossierCode, EngineError> {
        let date = at.local_date();
        let n = self.store.next_sequence(agency, date)?;
        Ok(DossierCode::new(agency.clone(), date, n))
    }

    /// Whether `req`, a `submit` or `receive` creating a new dossier, would be accepted: the
    /// procedure known and in force, the actor allowed, the domain's checks passed — judged on
    /// a blank dossier, writing nothing. A server asks before it issues a code, so that a
    /// refused request uses none up ([`Engine::issue_code`]); `req.dossier` need only carry
    /// the receiving agency (its date and number are not looked at).
    pub fn admit(&self, req: &Request) -> Result<(), EngineError> {
        if !matches!(req.command, Command::Submit { .. } | Command::Receive { .. }) {
            return Err(EngineError::NoSuchDossier(req.dossier.clone()));
        }
        let judge = Judge {
            procedures: &self.procedures,
            calendar: &self.calendar,
            units: self.units.as_deref(),
            digitisation: self.digitisation.as_deref(),
            store: &self.store,
        };
        let mut parties = Parties::default();
        if req.actor.role == ActorRole::Citizen {
            parties.applicant = Some(req.actor.id.clone());
        }
        judge.judge(&Dossier::new(), &parties, req).map(|_| ())
    }

    /// A dossier's current state, read from the store (never from this engine's cache, so it
    /// is current whoever wrote last). Needs no exclusive access: see [`crate::read_dossier`].
    pub fn dossier(&self, code: &DossierCode) -> Result<Option<Dossier>, EngineError> {
        Ok(crate::read_dossier(&self.store, code)?)
    }

    /// The state this engine holds for a dossier: its cache (loaded from the store when not
    /// cached), borrowed until the engine is used again. Faster than [`Engine::dossier`], but
    /// current only while this engine is the dossier's only writer (a simulator reading back
    /// what it just wrote); a portal with several writers reads [`Engine::dossier`].
    pub fn dossier_ref(&mut self, code: &DossierCode) -> Result<Option<&Dossier>, EngineError> {
        Ok(self.hot(code)?.map(|h| &h.state))
    }

    /// Forgets cached states (they are reloaded from the store on next use).
    pub fn clear_cache(&mut self) {
        self.hot.clear();
    }

    fn hot(&mut self, code: &DossierCode) -> Result<Option<&Hot>, EngineError> {
        Ok(self.ensure_hot(code)?.and_then(|slot| self.hot.at(slot)))
    }

    /// Loads `code` into the hot cache unless it is there (one lookup when it is); its slot, or
    /// `None` when the store has no such dossier.
    fn ensure_hot(&mut self, code: &DossierCode) -> Result<Option<Slot>, EngineError> {
        if let Some(slot) = self.hot.slot(code) {
            return Ok(Some(slot));
        }
        let Some(stream) = self.store.load(code)? else { return Ok(None) };
        let mut hot = Hot::new(code, stream.parties);
        for (i, e) in stream.events.iter().enumerate() {
            // Pair of the store's own checks: contiguous sequence after load.
            if e.seq != i as u64 + 1 || e.prev != hot.last_hash {
                return Err(StoreError::Backend(format!("{code}: broken chain at event {}", i + 1)).into());
            }
            apply(&mut hot.state, &e.event);
            hot.last_hash = e.hash;
        }
        Ok(Some(self.hot.insert(code, hot)))
    }

    /// Handles one command: authorize, decide, append atomically (events, summary, outbox,
    /// idempotency record) with optimistic concurrency, then apply. Retries after a version
    /// conflict by reloading the dossier.
    pub fn handle(&mut self, req: &Request) -> Result<Outcome, EngineError> {
        // A keyed request's scoped key and fingerprint, once (a JSON encoding and two hashes).
        let keyed = keyed(req);
        if let (Some(key), Some(k)) = (&req.idempotency_key, &keyed) {
            if let Some(rec) = self.store.idempotency(&k.scoped)? {
                return self.replay_idempotent(key, rec, k.print);
            }
        }
        let mut retries = 0;
        loop {
            self.scratch.clear();
            let planned = match self.plan(req, retries == 0, false, keyed.as_ref()) {
                Ok(p) => p,
                // A rejection must not rest on a stale cache: if another writer moved the
                // dossier, decide again on the fresh state.
                Err(EngineError::Rejected(e)) if retries < MAX_RETRIES && self.cache_is_stale(&req.dossier)? => {
                    let _ = e;
                    retries += 1;
                    self.hot.remove(&req.dossier);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.write() {
                Ok(()) => return Ok(self.commit(req, planned, retries)),
                Err(e) if e.is_conflict() && retries < MAX_RETRIES => {
                    retries += 1;
                    self.hot.remove(&req.dossier);
                }
                Err(e) if e.is_conflict() => {
                    self.hot.remove(&req.dossier);
                    return Err(EngineError::Contention(req.dossier.clone()));
                }
                Err(e) => {
                    self.hot.remove(&req.dossier);
                    return Err(e.into());
                }
            }
        }
    }

    /// Handles many commands and writes them in **one** store transaction (group commit).
    /// Commands are decided in order against the evolving states; rejected ones are returned
    /// as errors and write nothing. Idempotency keys join the group: a key the store knows is
    /// replayed, a key repeated within the batch returns the first request's outcome (or a
    /// conflict, for another command). If the write fails (a lost race), every request is
    /// handled again one by one, in order, and the results are theirs.
    pub fn handle_batch(&mut self, reqs: &[Request]) -> Vec<Result<Outcome, EngineError>> {
        // Each request's result, in place: a placeholder until its commit (or a repeat's copy).
        let pending = || Err(EngineError::Store(StoreError::Backend(String::new())));
        let mut results: Vec<Result<Outcome, EngineError>> = Vec::with_capacity(reqs.len());
        self.scratch.clear();
        // Idempotency keys first used in this batch: key → (fingerprint, request).
        let keyed: Vec<Option<Keyed>> = reqs.iter().map(keyed).collect();
        let mut keys: FxHashMap<&str, (Hash, usize)> = FxHashMap::default();
        for (i, req) in reqs.iter().enumerate() {
            let k = keyed[i].as_ref();
            if let (Some(key), Some(Keyed { scoped, print })) = (req.idempotency_key.as_deref(), k) {
                let print = *print;
                // A key seen earlier in the batch is a repeat (or a misuse); one the store
                // knows is replayed; a new one joins the group with its record. Keys are
                // compared as scoped to their callers.
                if let Some(&(first, j)) = keys.get(scoped.as_str()) {
                    if first == print {
                        self.scratch.repeats.push((i, j));
                        results.push(pending());
                    } else {
                        let dossier = reqs[j].dossier.clone();
                        results.push(Err(EngineError::IdempotencyConflict { key: key.to_string(), dossier }));
                    }
                    continue;
                }
                match self.store.idempotency(scoped) {
                    Ok(Some(rec)) => {
                        results.push(self.replay_idempotent(key, rec, print));
                        continue;
                    }
                    Ok(None) => {
                        keys.insert(scoped.as_str(), (print, i));
                    }
                    Err(e) => {
                        results.push(Err(e.into()));
                        continue;
                    }
                }
            }
            // Into the group: one StreamAppend per dossier. `plan` advances the cached state,
            // so the next command of the batch sees it.
            match self.plan(req, true, true, k) {
                Ok(planned) => {
                    self.scratch.plans.push((i, planned));
                    results.push(pending());
                }
                Err(e) => {
                    if let Some(k) = k {
                        // Nothing was recorded: a later request may use the key afresh.
                        keys.remove(k.scoped.as_str());
                    }
                    results.push(Err(e));
                }
            }
        }
        match self.write() {
            Ok(()) => {
                // Commits drop terminal dossiers from the cache as they go (after a dossier's
                // last command of the batch).
                let mut plans = std::mem::take(&mut self.scratch.plans);
                for (i, planned) in plans.drain(..) {
                    let req = &reqs[i];
                    results[i] = Ok(self.commit(req, planned, 0));
                }
                self.scratch.plans = plans;
                for &(i, j) in &self.scratch.repeats {
                    results[i] = match &results[j] {
                        Ok(first) => Ok(Outcome { replayed: true, retries: 0, ..first.clone() }),
                        Err(_) => Err(StoreError::Backend("a repeated request lost its first outcome".into()).into()),
                    };
                }
            }
            Err(e) if e.is_unavailable() => {
                // The store's server is not answering: every request of the batch gets its error at
                // once (redoing a thousand requests one by one against a server that does not
                // answer would hold the writer for a thousand timeouts). Nothing acknowledged
                // is lost: the cached advances are forgotten and reload from the store.
                for s in &self.scratch.batch.streams {
                    self.hot.remove(&s.dossier);
                }
                for (i, _) in self.scratch.plans.drain(..) {
                    results[i] = Err(e.clone().into());
                }
                for &(i, _) in &self.scratch.repeats {
                    results[i] = Err(e.clone().into());
                }
            }
            Err(_) => {
                // Nothing was written (a lost race, or one request the backend refused). Forget
                // the cached advances (they reload from the store) and redo every request alone,
                // in order: a rejection or a key decided against the batch's unwritten state may
                // come out otherwise now, and a request the backend refuses fails alone.
                for s in &self.scratch.batch.streams {
                    self.hot.remove(&s.dossier);
                }
                for (i, req) in reqs.iter().enumerate() {
                    results[i] = self.handle(req);
                }
            }
        }
        self.scratch.clear();
        results
    }

    /// Appends the gathered write, with the dictionary entries no committed write carried yet.
    fn write(&mut self) -> Result<(), StoreError> {
        self.scratch.batch.dictionary.clear();
        self.scratch.batch.dictionary.extend(self.lexicon.pending.iter().cloned());
        self.store.append(self.scratch.ready())?;
        self.lexicon.pending.clear();
        self.lexicon.blocked = false;
        Ok(())
    }

    /// Whether the store holds a newer version of the dossier than the cache.
    fn cache_is_stale(&self, code: &DossierCode) -> Result<bool, EngineError> {
        let Some(cached) = self.hot.get(code) else { return Ok(false) };
        let stored = self.store.load(code)?.map_or(0, |s| s.events.len() as u64);
        Ok(stored != cached.state.version)
    }

    /// The stored outcome of `key`'s first use, if `print` (this request's fingerprint) is the
    /// first use's.
    fn replay_idempotent(&mut self, key: &str, rec: IdempotencyRecord, print: Hash) -> Result<Outcome, EngineError> {
        if rec.fingerprint != print {
            return Err(EngineError::IdempotencyConflict { key: key.to_string(), dossier: rec.dossier });
        }
        let stream = self.store.load(&rec.dossier)?.unwrap_or_default();
        let events = stream
            .events
            .iter()
            .filter(|e| (rec.first_seq..=rec.last_seq).contains(&e.seq))
            .map(|e| e.event.clone())
            .collect();
        Ok(Outcome { dossier: rec.dossier, version: rec.last_seq, events, replayed: true, retries: 0 })
    }

    /// Decides `req` and prepares its write. On success the cached state is already advanced
    /// (events applied in place, no copy); the caller must drop the cache entry if the write
    /// then fails.
    ///
    /// The write goes straight into the scratch batch: the dossier's stream (the one gathered
    /// already when `grouped`, else a new one), its outbox messages, its idempotency record, the
    /// stream's summary after it. Nothing is written unless the command is accepted. The
    /// events move into the stream; [`Engine::commit`] takes them back for the outcome.
    fn plan(
        &mut self,
        req: &Request,
        first_attempt: bool,
        grouped: bool,
        keyed: Option<&Keyed>,
    ) -> Result<Planned, EngineError> {
        // Creating commands on an uncached dossier assume it is new without asking the store:
        // if it exists after all, the append's version check fails and the retry (not a first
        // attempt) loads it. A request that needs the dossier to exist always asks.
        // A creating command dated another day than its code is no creation (`CodeDate`) unless
        // the dossier exists: ask the store first.
        let creates = matches!(req.command, Command::Submit { .. } | Command::Receive { .. })
            && req.dossier.date() == req.now.local_date();
        // One lookup for the cached state; its slot then serves until the commit.
        let slot = if first_attempt && creates && req.intent != Intent::Existing {
            self.hot.slot(&req.dossier)
        } else {
            self.ensure_hot(&req.dossier)?
        };
        match (req.intent, slot.is_some()) {
            (Intent::Create, true) => return Err(EngineError::CodeTaken(req.dossier.clone())),
            (Intent::Existing, false) => return Err(EngineError::NoSuchDossier(req.dossier.clone())),
            _ => {}
        }
        self.lexicon.load(&self.store)?;
        let Engine { hot: cache, procedures, calendar, sealer, scratch, units, store, digitisation, lexicon, .. } =
            self;
        let blank = Dossier::new();
        let no_parties = Parties::default();
        let cached = slot.and_then(|s| cache.at(s));
        let created = cached.is_none();
        let (state, parties) = match &cached {
            Some(h) => (&h.state, &h.parties),
            None => (&blank, &no_parties),
        };
        let judge =
            Judge { procedures, calendar, units: units.as_deref(), digitisation: digitisation.as_deref(), store };
        let (mut events, known) = judge.judge(state, parties, req)?;

        let slot = match slot {
            Some(s) => s,
            None => {
                let mut parties = Parties::default();
                if req.actor.role == ActorRole::Citizen {
                    parties.applicant = Some(req.actor.id.clone());
                } else if req.actor.role == ActorRole::System {
                    parties.applicant.clone_from(&req.on_behalf_of);
                }
                cache.insert(&req.dossier, Hot::new(&req.dossier, parties))
            }
        };
        let Some(hot) = cache.at_mut(slot) else {
            return Err(StoreError::Backend("cached dossier vanished".into()).into());
        };
        let expected_version = hot.state.version;
        let stream_slot = scratch.stream_for(&req.dossier, expected_version, grouped, &mut hot.batch_stream);
        let out = &mut scratch.batch;
        let Some(stream) = out.streams.get_mut(stream_slot) else {
            return Err(StoreError::Backend("batch stream vanished".into()).into());
        };
        if created {
            stream.parties = Some(hot.parties.clone());
        }
        stream.hint = stream.hint.or(hot.store_hint);
        let count = events.len();
        for e in events.drain(..) {
            let national_before = hot.state.status.map(|s| s.national());
            apply(&mut hot.state, &e);
            let sealed = sealer.seal_into(
                &req.dossier,
                &hot.text,
                hot.state.version,
                Some(&req.actor),
                e,
                hot.last_hash,
                &mut stream.canonical,
                &mut |text| lexicon.intern(text, &*store),
            );
            hot.last_hash = sealed.hash;
            let changed = hot.state.status.map(|s| s.national()) != national_before;
            out.outbox.extend(crate::store::sync_message(
                &req.dossier,
                hot.state.version,
                &hot.state,
                &sealed.event,
                changed,
            ));
            out.counters.record(&req.dossier, &known.sector, &sealed.event, &hot.state);
            // A result issued goes to the warehouse, under its holder's key; a revocation or
            // an expiry rewrites its row.
            let issued = match &sealed.event {
                Event::Finished { result: Some(_), .. } | Event::ResultRevoked { .. } | Event::ResultExpired { .. } => {
                    hot.state.result.as_ref()
                }
                _ => None,
            };
            if let Some(r) = issued {
                out.results.push(motcua_core::KnownResult {
                    number: r.number.clone(),
                    holder: hot.state.applicant.as_ref().map(|a| a.key.clone()),
                    kind: r.kind.clone(),
                    valid_until: r.valid_until,
                    revoked: hot.state.result_revoked,
                    issued_by: Some(req.dossier.clone()),
                    expired: hot.state.result_expired,
                });
            }
            stream.events.push(sealed);
        }
        stream.summary.refill(&req.dossier, &hot.state, hot.last_hash);
        if let Some(k) = keyed {
            out.idempotency.push(IdempotencyRecord {
                key: k.scoped.clone(),
                fingerprint: k.print,
                dossier: req.dossier.clone(),
                first_seq: expected_version + 1,
                last_seq: hot.state.version,
            });
        }
        let version = hot.state.version;
        Ok(Planned { events, hot: slot, stream: stream_slot, count, version })
    }

    /// Folds a written command into the projections and makes its outcome, taking its events
    /// back from the batch (the store leaves them there; a dossier's commands are committed
    /// in the order they were planned, so this command's events lead its stream).
    fn commit(&mut self, req: &Request, planned: Planned, retries: u32) -> Outcome {
        let Planned { mut events, hot, stream, count, version } = planned;
        let mut store_hint = None;
        if let Some(stream) = self.scratch.batch.streams.get_mut(stream) {
            let count = count.min(stream.events.len());
            events.extend(stream.events.drain(..count).map(|e| e.event));
            store_hint = stream.hint;
        }
        if let Some(hot) = self.hot.at_mut(hot) {
            hot.store_hint = store_hint;
            // A terminal dossier accepts no further command: memory stays with open ones (a
            // late command reloads it from the store). Only once no later command of the same
            // write advanced it, so that command's commit still finds it.
            if hot.state.version == version && hot.state.status.is_some_and(|s| s.is_terminal()) {
                self.hot.remove(&req.dossier);
            }
        }
        Outcome { dossier: req.dossier.clone(), version, events, replayed: false, retries }
    }
}

/// What judging a command needs of the engine (borrowed apart from its cache and buffers).
struct Judge<'a, S> {
    procedures: &'a FxHashMap<ProcedureCode, Known>,
    calendar: &'a WorkCalendar,
    units: Option<&'a Register>,
    digitisation: Option<&'a motcua_core::DigitisationRules>,
    store: &'a S,
}

impl<'a, S: Store> Judge<'a, S> {
    /// `req` judged against `state` (with `parties`): the procedure version it follows, who
    /// acts and whether they may, and the events it makes. Reads nothing but the warehouse
    /// rows a receipt's reused documents name.
    fn judge(&self, state: &Dossier, parties: &Parties, req: &Request) -> Result<(Vec<Event>, &'a Known), EngineError> {
        let code = match (&state.procedure, &req.command) {
            (Some(p), _) => p,
            (None, Command::Submit { procedure, .. } | Command::Receive { procedure, .. }) => {
                let (dated, day) = (req.dossier.date(), req.now.local_date());
                if dated != day {
                    return Err(EngineError::CodeDate {
                        code: req.dossier.clone(),
                        dated: dated.to_string(),
                        day: day.to_string(),
                    });
                }
                procedure
            }
            (None, _) => return Err(EngineError::NoSuchDossier(req.dossier.clone())),
        };
        let known = self.procedures.get(code).ok_or_else(|| EngineError::UnknownProcedure(code.clone()))?;
        // The version the dossier follows: in force at receipt, then pinned (an edit of the
        // catalog never changes the rules of an open dossier).
        let procedure = version_for(&known.versions, state, &req.command, req.now).ok_or_else(|| {
            EngineError::NotInForce { procedure: code.clone(), day: req.now.local_date().to_string() }
        })?;
        // The warehouse's results a receipt reuses, for the checks in `decide`.
        let reused: Vec<motcua_core::KnownResult> = match &req.command {
            Command::Receive { documents, .. } => motcua_core::reused_results(documents)
                .map(|number| self.store.result(number))
                .filter_map(Result::transpose)
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        let ctx = Context {
            procedure,
            calendar: self.calendar,
            units: self.units,
            receiving: Some(req.dossier.agency().as_str()),
            results: &reused,
            digitisation: self.digitisation,
        };
        // The concrete agency of the step the command names (resolved through the register,
        // or the one it started at), and who holds it and the receiving agency today.
        let (receiving, step_holder) = ctx.acting(state, &req.command, req.now)?;
        // Denials are typed and carry no personal data: pseudonymous actor id, role, command,
        // dossier code.
        authorize(&req.actor, &req.dossier, parties, &req.command, receiving, step_holder.as_deref())?;
        Ok((decide(state, &req.command, req.now, &ctx)?, known))
    }
}

struct Planned {
    /// Empty until [`Engine::commit`] takes the events back (the buffer `decide` returned).
    events: Vec<Event>,
    /// The dossier's slot in the cache.
    hot: Slot,
    /// The command's stream in the batch, and how many events it added there.
    stream: usize,
    count: usize,
    /// The dossier's version right after this command.
    version: u64,
}

/// Why [`EngineBuilder::build`] refused: a configuration the engine could not serve, said at
/// start rather than at the first dossier it would fail.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No calendar was given.
    #[error("no calendar: give one with .calendar(WorkCalendar::builder().years(first, last).build()?)")]
    NoCalendar,
    /// No procedure was given.
    #[error("no procedures: give the catalog's with .procedures(catalog.iter().cloned())")]
    NoProcedures,
    /// A procedure version starts after the calendar's last year: no dossier could follow it.
    #[error("procedure {procedure}'s version from {from} starts after the calendar's last year {last_year}: extend the calendar")]
    CalendarTooShort {
        /// The procedure.
        procedure: ProcedureCode,
        /// The version's first day.
        from: chrono::NaiveDate,
        /// The calendar's last year.
        last_year: i32,
    },
    /// Two versions of one procedure start on the same day.
    #[error("procedure {procedure} has two versions from {from:?}")]
    DuplicateVersion {
        /// The procedure.
        procedure: ProcedureCode,
        /// Their first day (`None`: undated).
        from: Option<chrono::NaiveDate>,
    },
    /// A procedure is not valid ([`Procedure::validate`]).
    #[error("procedure {procedure}: {problems}")]
    InvalidProcedure {
        /// The procedure.
        procedure: ProcedureCode,
        /// What is wrong, each problem separated by "; ".
        problems: String,
    },
    /// The services table could not be published.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Assembles an [`Engine`] ([`Engine::builder`]) and checks it at [`EngineBuilder::build`]:
/// a calendar and procedures are given, every procedure is valid, no two versions of one start
/// the same day, the calendar reaches every version's first day; then the services table is
/// published (reports list services from it).
pub struct EngineBuilder<S> {
    store: S,
    procedures: Vec<Procedure>,
    calendar: Option<WorkCalendar>,
    units: Option<Arc<Register>>,
    digitisation: Option<Arc<motcua_core::DigitisationRules>>,
}

impl<S: Store> EngineBuilder<S> {
    /// The procedures (every version of each; a catalog's `iter().cloned()`), added to those
    /// given before.
    pub fn procedures(mut self, procedures: impl IntoIterator<Item = Procedure>) -> Self {
        self.procedures.extend(procedures);
        self
    }

    /// The working-day calendar.
    pub fn calendar(mut self, calendar: WorkCalendar) -> Self {
        self.calendar = Some(calendar);
        self
    }

    /// The register of units step roles resolve through ([`Engine::with_units`]).
    pub fn units(mut self, units: Arc<Register>) -> Self {
        self.units = Some(units);
        self
    }

    /// The digitisation rules ([`Engine::with_digitisation`]).
    pub fn digitisation(mut self, rules: Arc<motcua_core::DigitisationRules>) -> Self {
        self.digitisation = Some(rules);
        self
    }

    /// Checks and builds; see [`EngineBuilder`].
    pub fn build(self) -> Result<Engine<S>, BuildError> {
        let calendar = self.calendar.ok_or(BuildError::NoCalendar)?;
        if self.procedures.is_empty() {
            return Err(BuildError::NoProcedures);
        }
        let mut seen: std::collections::HashSet<(&ProcedureCode, Option<chrono::NaiveDate>)> = Default::default();
        for p in &self.procedures {
            if let Err(problems) = p.validate() {
                let problems = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                return Err(BuildError::InvalidProcedure { procedure: p.code.clone(), problems });
            }
            if !seen.insert((&p.code, p.effective_from)) {
                return Err(BuildError::DuplicateVersion { procedure: p.code.clone(), from: p.effective_from });
            }
            if let Some(from) = p.effective_from.filter(|f| chrono::Datelike::year(f) > calendar.last_year()) {
                return Err(BuildError::CalendarTooShort {
                    procedure: p.code.clone(),
                    from,
                    last_year: calendar.last_year(),
                });
            }
        }
        let mut engine = Engine::new(self.store, self.procedures, calendar);
        if let Some(u) = self.units {
            engine = engine.with_units(u);
        }
        if let Some(d) = self.digitisation {
            engine = engine.with_digitisation(d);
        }
        engine.publish_services()?;
        Ok(engine)
    }
}

/// What [`Engine::hand_over`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handover {
    /// The dossiers handed over.
    pub moved: Vec<DossierCode>,
    /// The dossiers refused, each with why.
    pub refused: Vec<(DossierCode, String)>,
}
