//! Audit: walk every dossier's chain and check every projection against a replay of the log.

use motcua_core::{apply, Dossier, DossierCode};

use crate::store::{hex, DossierSummary, Sealer, Store, StoreError, GENESIS};

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
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Walks every chain (contiguous numbering, each event's `prev` is its predecessor's hash, each
/// hash recomputes) and every dossier projection (equal to the replayed state), and reports the
/// first broken link.
pub fn verify<S: Store + ?Sized>(store: &S) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport::default();
    let mut sealer = Sealer::default();
    for code in store.dossiers()? {
        let text = code.to_string();
        let Some(stream) = store.load(&code)? else { continue };
        let fault = |seq: u64, fault: String| VerifyError::Fault(Fault { dossier: code.clone(), seq, fault });
        let mut prev = GENESIS;
        let mut state = Dossier::new();
        for (i, e) in stream.events.iter().enumerate() {
            let seq = i as u64 + 1;
            if e.seq != seq {
                return Err(fault(seq, format!("numbered {}, expected {seq}", e.seq)));
            }
            if e.dossier != code {
                return Err(fault(seq, format!("belongs to {}", e.dossier)));
            }
            if e.prev != prev {
                return Err(fault(
                    seq,
                    format!("links to {}, but the previous event's hash is {}", hex(&e.prev), hex(&prev)),
                ));
            }
            let Some(h) = sealer.rehash(e, &text) else {
                return Err(fault(seq, format!("unknown envelope schema {}", e.schema)));
            };
            if h != e.hash {
                return Err(fault(
                    seq,
                    format!("content does not match its hash {} (recomputed {})", hex(&e.hash), hex(&h)),
                ));
            }
            if state.last_at.is_some_and(|last| e.event.at() < last) {
                return Err(fault(seq, "time goes back".into()));
            }
            apply(&mut state, &e.event);
            prev = e.hash;
            report.events += 1;
        }
        let expected = DossierSummary::of(&code, &state, prev);
        match &stream.summary {
            Some(s) if s.matches(&expected) => {}
            Some(s) => {
                return Err(fault(
                    0,
                    format!("projection differs from the replayed log: stored {s:?}, replayed {expected:?}"),
                ))
            }
            None => return Err(fault(0, "projection missing".into())),
        }
        report.dossiers += 1;
    }
    Ok(report)
}
