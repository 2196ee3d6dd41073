//! Projections: indicator counters and the open-dossier deadline index. Both are folds over
//! events, so they can always be rebuilt from the log (and `verify` does).

use std::collections::BTreeMap;
use std::sync::Arc;

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, Dossier, DossierCode, Event, Outcome, ProcedureCode};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// What the counters are grouped by: agency, procedure, sector, channel, day.
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

impl Tally {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Tally) {
        self.received += other.received;
        self.refused += other.refused;
        self.resolved += other.resolved;
        self.early += other.early;
        self.on_time += other.on_time;
        self.late += other.late;
        self.supplement_requests += other.supplement_requests;
    }
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
        // A dossier a desk outside the area received counts to its competent agency (Decree
        // 309/2026/NĐ-CP): its receipt moves there with the transfer due (both of one command).
        if let Event::TransferPending { to: Some(to), at, .. } = event {
            let Some(procedure) = after.procedure.clone() else { return };
            let mut key = CounterKey {
                agency: dossier.agency().clone(),
                procedure,
                sector: Arc::clone(sector),
                channel: after.channel.map_or(0, |c| c.code()),
                day: at.local_day(),
            };
            if let Some(t) = self.tallies.get_mut(&key) {
                t.received = t.received.saturating_sub(1);
                if *t == Tally::default() {
                    self.tallies.remove(&key);
                }
            }
            key.agency = to.clone();
            self.tallies.entry(key).or_default().received += 1;
            return;
        }
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
            agency: after.competent.clone().unwrap_or_else(|| dossier.agency().clone()),
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

    /// Adds `tally` to `key`'s.
    pub fn add(&mut self, key: CounterKey, tally: &Tally) {
        self.tallies.entry(key).or_default().add(tally);
    }

    /// Adds every tally of `other` and empties it (keeping its allocation).
    pub fn absorb(&mut self, other: &mut Counters) {
        for (k, t) in other.tallies.drain() {
            self.add(k, &t);
        }
    }

    /// Takes every key and tally out, leaving `self` empty.
    pub fn drain(&mut self) -> impl Iterator<Item = (CounterKey, Tally)> + '_ {
        self.tallies.drain()
    }

    /// Whether no key is counted.
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// Empties the counters.
    pub fn clear(&mut self) {
        self.tallies.clear();
    }

    /// The same counts with every key's sector given by `sector_of` (its procedure's sector in
    /// a catalog; stores keep what the writer gave, and a store migrated from before counters
    /// were stored knows none). Keys that then coincide are added up.
    pub fn with_sectors(&self, sector_of: impl Fn(&ProcedureCode) -> Option<Arc<str>>) -> Counters {
        let mut out = Counters::default();
        for (k, t) in &self.tallies {
            let sector = sector_of(&k.procedure).unwrap_or_else(|| Arc::clone(&k.sector));
            out.add(CounterKey { sector, ..k.clone() }, t);
        }
        out
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
                sum.add(t);
            }
        }
        sum
    }
}

/// Open dossiers by due time, for "due soon" and "overdue" queries. Many dossiers share a due
/// time (the end of an office day), so the ordered index is over due times, each holding the
/// dossiers indexed under it: finding a place compares instants, not codes.
///
/// A dossier's due time is the one `current` gives. Moving or closing a dossier updates
/// `current` only: its entry under the old due time goes stale, queries skip it, and stale
/// entries are swept once they outnumber live ones, so a command costs one map update and at
/// most one push, not a removal from a set.
#[derive(Clone, Debug, Default)]
pub struct Deadlines {
    by_due: BTreeMap<Timestamp, Vec<DossierCode>>,
    /// Each indexed dossier's due time (so its length is the number of open dossiers).
    current: FxHashMap<DossierCode, Timestamp>,
    /// Entries in `by_due`, live and stale.
    entries: usize,
}

/// Two indexes are equal when they index the same dossiers under the same due times, however
/// many stale entries each still holds.
impl PartialEq for Deadlines {
    fn eq(&self, other: &Deadlines) -> bool {
        self.current == other.current
    }
}

impl Eq for Deadlines {}

impl Deadlines {
    /// Stale entries tolerated beyond the live ones before a sweep.
    const SLACK: usize = 4096;

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
        let old = match (wanted, self.current.get_mut(dossier)) {
            (Some(due), Some(at)) => Some(std::mem::replace(at, due)),
            (Some(due), None) => {
                self.current.insert(dossier.clone(), due);
                None
            }
            (None, Some(_)) => self.current.remove(dossier),
            (None, None) => None,
        };
        if old == wanted {
            return;
        }
        if let Some(due) = wanted {
            self.by_due.entry(due).or_default().push(dossier.clone());
            self.entries += 1;
            if self.entries > 2 * self.current.len() + Self::SLACK {
                self.sweep();
            }
        }
    }

    /// Rebuilds `by_due` from `current`, dropping every stale entry.
    fn sweep(&mut self) {
        self.by_due.clear();
        for (code, due) in &self.current {
            self.by_due.entry(*due).or_default().push(code.clone());
        }
        self.entries = self.current.len();
    }

    /// Open dossiers whose due time is before `now`, by due time. This index knows due times
    /// only: a dossier whose clock is stopped is here too, and is not overdue
    /// ([`crate::DossierSummary::is_overdue`]; [`crate::DeadlineQuery`] leaves it out).
    pub fn overdue(&self, now: Timestamp) -> Vec<&DossierCode> {
        self.sorted(self.by_due.range(..now))
    }

    /// Open dossiers due in `[from, until)`, by due time.
    pub fn due_between(&self, from: Timestamp, until: Timestamp) -> Vec<&DossierCode> {
        if from >= until {
            return Vec::new();
        }
        self.sorted(self.by_due.range(from..until))
    }

    /// The dossiers of `groups` still indexed under the group's due time, by due time and
    /// then by code (an entry indexed twice under one due time, moved away and back, once).
    fn sorted<'a>(
        &'a self,
        groups: impl Iterator<Item = (&'a Timestamp, &'a Vec<DossierCode>)>,
    ) -> Vec<&'a DossierCode> {
        let mut out = Vec::new();
        for (due, codes) in groups {
            let start = out.len();
            out.extend(codes.iter().filter(|c| self.current.get(*c) == Some(due)));
            out[start..].sort_unstable();
        }
        // A dossier is live under one due time only, so equal codes are neighbours in a group.
        out.dedup();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: u64) -> DossierCode {
        format!("000.00.01.H01-250301-{n:04}").parse().unwrap()
    }

    fn t(minutes: i64) -> Timestamp {
        Timestamp::from_utc_minutes(28_000_000 + minutes)
    }

    #[test]
    fn a_moved_dossier_is_found_under_its_current_due_time_only() {
        let mut d = Deadlines::default();
        d.set(&code(1), Some(t(10)));
        d.set(&code(2), Some(t(10)));
        d.set(&code(1), Some(t(20)));
        d.set(&code(1), Some(t(10)));
        d.set(&code(2), Some(t(30)));
        d.set(&code(2), None);
        assert_eq!(d.overdue(t(11)), vec![&code(1)]);
        assert_eq!(d.due_between(t(11), t(40)), Vec::<&DossierCode>::new());
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn sweeping_keeps_the_live_entries_and_equality_ignores_stale_ones() {
        let mut live = Deadlines::default();
        let mut fresh = Deadlines::default();
        for round in 0..4 {
            for n in 0..3_000 {
                live.set(&code(n), Some(t(round * 100 + (n % 7) as i64)));
            }
        }
        for n in 0..3_000 {
            fresh.set(&code(n), Some(t(300 + (n % 7) as i64)));
        }
        assert!(live.entries < 4 * 3_000, "stale entries were swept");
        assert_eq!(live, fresh);
        assert_eq!(live.overdue(t(1_000)), fresh.overdue(t(1_000)));
        assert_eq!(live.overdue(t(1_000)).len(), 3_000);
    }
}
