//! Projections: indicator counters and the open-dossier deadline index. Both are folds over
//! events, so they can always be rebuilt from the log (and `verify` does).

use std::collections::BTreeMap;
use std::sync::Arc;

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, Dossier, DossierCode, Event, Outcome, ProcedureCode};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

/// What the counters are grouped by (issue #4 §5): agency, procedure, sector, channel, day.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct CounterKey {
    /// Receiving agency code.
    pub agency: AgencyCode,
    /// Procedure.
    pub procedure: ProcedureCode,
    /// Sector of the procedure (shared text: one allocation per procedure, not per event).
    pub sector: Arc<str>,
    /// Channel code (1 direct, 2 online, 3 postal; 0 unknown).
    pub channel: u8,
    /// Local day (days since 1970-01-01) of the event counted.
    pub day: i64,
}

/// Counts for one key.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Tally {
    /// Dossiers accepted.
    pub received: u64,
    /// Dossiers refused at intake.
    pub refused: u64,
    /// Dossiers that reached a first terminal status with an outcome.
    pub resolved: u64,
    /// … of which early.
    pub early: u64,
    /// … of which on time.
    pub on_time: u64,
    /// … of which late.
    pub late: u64,
    /// Supplement requests.
    pub supplement_requests: u64,
}

/// Indicator counters, keyed by [`CounterKey`] (a hash map: every key is cheap to build, its
/// codes are shared text).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Counters {
    tallies: FxHashMap<CounterKey, Tally>,
}

impl Counters {
    /// Folds one event, given the dossier's state after it.
    pub fn record(&mut self, dossier: &DossierCode, sector: &Arc<str>, event: &Event, after: &Dossier) {
        let counted = matches!(
            event,
            Event::Received { .. }
                | Event::RefusedAtIntake { .. }
                | Event::SupplementRequested { .. }
                | Event::Finished { outcome: Some(_), .. }
                | Event::Withdrawn { outcome: Some(_), .. }
                | Event::Stopped { outcome: Some(_), .. }
        );
        if !counted {
            return;
        }
        let Some(procedure) = after.procedure.clone() else { return };
        let key = CounterKey {
            agency: dossier.agency().clone(),
            procedure,
            sector: Arc::clone(sector),
            channel: after.channel.map_or(0, |c| c.code()),
            day: event.at().local_day(),
        };
        let t = self.tallies.entry(key).or_default();
        match event {
            Event::Received { .. } => t.received += 1,
            Event::RefusedAtIntake { .. } => t.refused += 1,
            Event::SupplementRequested { .. } => t.supplement_requests += 1,
            Event::Finished { outcome: Some(o), .. }
            | Event::Withdrawn { outcome: Some(o), .. }
            | Event::Stopped { outcome: Some(o), .. } => {
                t.resolved += 1;
                match o {
                    Outcome::Early => t.early += 1,
                    Outcome::OnTime => t.on_time += 1,
                    Outcome::Late => t.late += 1,
                }
            }
            _ => {}
        }
    }

    /// Every key and its tally, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&CounterKey, &Tally)> {
        let mut all: Vec<_> = self.tallies.iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }

    /// The sum of every tally that `filter` accepts.
    pub fn total(&self, filter: impl Fn(&CounterKey) -> bool) -> Tally {
        let mut sum = Tally::default();
        for (k, t) in &self.tallies {
            if filter(k) {
                sum.received += t.received;
                sum.refused += t.refused;
                sum.resolved += t.resolved;
                sum.early += t.early;
                sum.on_time += t.on_time;
                sum.late += t.late;
                sum.supplement_requests += t.supplement_requests;
            }
        }
        sum
    }
}

/// Open dossiers by due time, for "due soon" and "overdue" queries. Many dossiers share a due
/// time (the end of an office day), so the ordered index is over due times, each holding its
/// dossiers as a set: finding a place compares instants, not codes.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Deadlines {
    by_due: BTreeMap<Timestamp, FxHashSet<DossierCode>>,
    /// Each indexed dossier's due time (so its length is the number of open dossiers).
    current: FxHashMap<DossierCode, Timestamp>,
}

impl Deadlines {
    /// Updates a dossier after an event: indexed by due time while open with a due time.
    pub fn track(&mut self, dossier: &DossierCode, after: &Dossier) {
        self.set(dossier, Deadlines::due_of(after));
    }

    /// The due time `state` is indexed under: its due time while open, else none.
    pub(crate) fn due_of(state: &Dossier) -> Option<Timestamp> {
        let open = state.finished_at.is_none() && state.status.is_some_and(|s| !s.is_terminal());
        if open {
            state.due
        } else {
            None
        }
    }

    /// Indexes `dossier` under `wanted` (or not at all).
    pub(crate) fn set(&mut self, dossier: &DossierCode, wanted: Option<Timestamp>) {
        if self.current.get(dossier).copied() == wanted {
            return;
        }
        if let Some(old) = self.current.remove(dossier) {
            if let Some(set) = self.by_due.get_mut(&old) {
                set.remove(dossier);
                if set.is_empty() {
                    self.by_due.remove(&old);
                }
            }
        }
        if let Some(due) = wanted {
            self.by_due.entry(due).or_default().insert(dossier.clone());
            self.current.insert(dossier.clone(), due);
        }
    }

    /// Open dossiers already past their due time at `now` (as far as the due time goes; a
    /// stopped clock is judged by `Dossier::judgement`), by due time.
    pub fn overdue(&self, now: Timestamp) -> Vec<&DossierCode> {
        Self::sorted(self.by_due.range(..now))
    }

    /// Open dossiers due in `[from, until)`, by due time.
    pub fn due_between(&self, from: Timestamp, until: Timestamp) -> Vec<&DossierCode> {
        if from >= until {
            return Vec::new();
        }
        Self::sorted(self.by_due.range(from..until))
    }

    /// The dossiers of `groups`, by due time and then by code.
    fn sorted<'a>(groups: impl Iterator<Item = (&'a Timestamp, &'a FxHashSet<DossierCode>)>) -> Vec<&'a DossierCode> {
        let mut out = Vec::new();
        for (_, set) in groups {
            let start = out.len();
            out.extend(set.iter());
            out[start..].sort_unstable();
        }
        out
    }

    /// How many open dossiers have a due time.
    pub fn len(&self) -> usize {
        self.current.len()
    }

    /// Whether none do.
    pub fn is_empty(&self) -> bool {
        self.current.is_empty()
    }
}
