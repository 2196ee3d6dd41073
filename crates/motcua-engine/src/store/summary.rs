//! A dossier's projection row: its current state as stores keep it and queries read it.

use std::borrow::Cow;

use motcua_calendar::Timestamp;
use motcua_core::{Dossier, DossierCode, Outcome, ProcedureCode, StepId};
use serde::{Deserialize, Serialize};

use super::{Hash, GENESIS};

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
