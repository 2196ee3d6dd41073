//! Audit: walk every dossier's chain and check every projection against a replay of the log.

use std::ops::ControlFlow;
use std::sync::Arc;

use motcua_core::{apply, Dossier, DossierCode};

use crate::projection::{CounterKey, Counters};
use crate::store::{canonical_parts, chain_hash, hex, DossierSummary, Store, StoreError, Stream, GENESIS};

/// The first fault found.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{dossier} event {seq}: {fault}")]
pub struct Fault {
    /// The dossier.
    pub dossier: DossierCode,
    /// The event (0: the dossier's projection).
    pub seq: u64,
    /// What is wrong.
    pub fault: String,
}

/// What a clean verification covered.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct VerifyReport {
    /// Dossiers checked.
    pub dossiers: u64,
    /// Events checked.
    pub events: u64,
}

/// Why verification did not pass.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum VerifyError {
    /// The history or a projection is broken.
    #[error("{0}")]
    Fault(Fault),
    /// The stored indicator counters differ from the replayed log's.
    #[error("counters differ from the replayed log: {0}")]
    Counters(String),
    /// The store's own integrity: a table, a row or the database itself.
    #[error("{0}")]
    Integrity(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Walks every chain (contiguous numbering, each event's `prev` is its predecessor's hash, each
/// hash recomputes over the bytes as stored) and every dossier projection (equal to the
/// replayed state), and reports the first broken link, in the order the store reads its
/// dossiers ([`Store::for_each_sealed_stream`]: one dossier in memory at a time). Events are
/// decoded only to replay them: the hash covers the stored bytes, so an edit that decodes to
/// the same values fails too.
pub fn verify<S: Store + ?Sized>(store: &S) -> Result<VerifyReport, VerifyError> {
    verify_with_progress(store, &mut |_| {})
}

/// [`verify`], calling `progress` with the running totals after every dossier checked (a
/// national file takes minutes).
pub fn verify_with_progress<S: Store + ?Sized>(
    store: &S,
    progress: &mut dyn FnMut(&VerifyReport),
) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport::default();
    if let Some(fault) = store.check_integrity()? {
        return Err(VerifyError::Integrity(fault));
    }
    let mut found: Option<Fault> = None;
    // Counters are compared without sectors: those come from the catalog, not the log.
    let no_sector: Arc<str> = Arc::from("");
    let mut replayed = Counters::default();
    // The dictionary as stored: lean events seal their texts, so an edited entry shows in
    // every event that refers to it.
    let mut lexicon = crate::store::Lexicon::default();
    for (id, text) in store.dictionary(0)? {
        lexicon.insert(id, text);
    }
    let mut buf = Vec::new();
    store.for_each_sealed_stream(&mut |code, stream, sealed| match check(
        &code,
        &stream,
        sealed,
        (&lexicon, &mut buf),
        &mut replayed,
        &no_sector,
    ) {
        Ok(events) => {
            report.dossiers += 1;
            report.events += events;
            progress(&report);
            ControlFlow::Continue(())
        }
        Err((seq, fault)) => {
            found = Some(Fault { dossier: code, seq, fault });
            ControlFlow::Break(())
        }
    })?;
    if let Some(fault) = found {
        return Err(VerifyError::Fault(fault));
    }
    let stored = store.counters()?.with_sectors(|_| Some(Arc::clone(&no_sector)));
    if stored != replayed {
        return Err(VerifyError::Counters(first_difference(&stored, &replayed)));
    }
    Ok(report)
}

/// The first key whose tallies differ, said for people.
fn first_difference(stored: &Counters, replayed: &Counters) -> String {
    let keys: std::collections::BTreeSet<&CounterKey> = stored.iter().chain(replayed.iter()).map(|(k, _)| k).collect();
    for k in keys {
        let of = |c: &Counters| c.total(|x| x == k);
        let (a, b) = (of(stored), of(replayed));
        if a != b {
            return format!(
                "agency {} procedure {} channel {} day {}: stored {a:?}, replayed {b:?}",
                k.agency,
                k.procedure,
                k.channel,
                motcua_calendar::date_from_day_number(k.day)
            );
        }
    }
    "the key sets differ".into()
}

/// Checks one dossier's chain and projection: the number of events, or the first fault (its
/// event number, 0 for the projection, and what is wrong).
fn check(
    code: &DossierCode,
    stream: &Stream,
    sealed: &[u8],
    (lexicon, buf): (&crate::store::Lexicon, &mut Vec<u8>),
    counters: &mut Counters,
    sector: &Arc<str>,
) -> Result<u64, (u64, String)> {
    let text = code.to_string();
    let mut prev = GENESIS;
    let mut state = Dossier::new();
    let parts: Vec<&[u8]> = match canonical_parts(sealed, stream.events.len()) {
        Some(parts) => parts.collect(),
        None if stream.events.is_empty() => Vec::new(),
        None => return Err((1, "the store's sealed bytes do not match its events".into())),
    };
    for (i, (e, bytes)) in stream.events.iter().zip(parts).enumerate() {
        let seq = i as u64 + 1;
        if e.seq != seq {
            return Err((seq, format!("numbered {}, expected {seq}", e.seq)));
        }
        if e.dossier != *code {
            return Err((seq, format!("belongs to {}", e.dossier)));
        }
        if e.prev != prev {
            return Err((seq, format!("links to {}, but the previous event's hash is {}", hex(&e.prev), hex(&prev))));
        }
        if !(1..=crate::store::EVENT_SCHEMA).contains(&e.schema) {
            return Err((seq, format!("unknown envelope schema {}", e.schema)));
        }
        let meaning =
            crate::store::sealed_meaning(bytes, e.schema, lexicon, &text, buf).map_err(|f| (seq, f.to_string()))?;
        let h = chain_hash(&e.prev, &text, e.seq, e.schema, meaning);
        if h != e.hash {
            return Err((seq, format!("content does not match its hash {} (recomputed {})", hex(&e.hash), hex(&h))));
        }
        if state.last_at.is_some_and(|last| e.event.at() < last) {
            return Err((seq, "time goes back".into()));
        }
        apply(&mut state, &e.event);
        counters.record(code, sector, &e.event, &state);
        prev = e.hash;
    }
    let expected = DossierSummary::of(code, &state, prev);
    match &stream.summary {
        Some(s) if s.matches(&expected) => Ok(stream.events.len() as u64),
        Some(s) => Err((0, format!("projection differs from the replayed log: stored {s:?}, replayed {expected:?}"))),
        None => Err((0, "projection missing".into())),
    }
}
