//! The portal's questions over the projection rows: which open dossiers are overdue or due soon,
//! and how large the backlog is per agency, step agency or procedure. Stores answer them from
//! indexed columns; [`DeadlineQuery::matches`] and [`BacklogBy::key`] say what every store's
//! answer must be (the conformance suite compares each store with a scan).

use std::collections::BTreeMap;

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, ProcedureCode};
use serde::Serialize;

use super::DossierSummary;

/// Which open dossiers a [`DeadlineQuery`] asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeadlineView {
    /// Overdue at the query's instant ([`DossierSummary::is_overdue`]).
    Overdue,
    /// Due at or after the query's instant and before `until`, clock running
    /// ([`DeadlineQuery::due_within`] builds the window of a time limit, its end included).
    DueBefore {
        /// The end of the window (exclusive).
        until: Timestamp,
    },
}

/// Where a page of a deadline query ends: the next page starts after this due time and code.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Cursor {
    /// The last row's due time.
    pub due: Timestamp,
    /// The last row's code, as text (rows with one due time are in code text order).
    pub code: String,
}

/// A deadline query: open dossiers with a running clock, by due time then code, filtered and
/// paginated.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeadlineQuery {
    /// The instant the question is asked at.
    pub as_of: Timestamp,
    /// Overdue, or due within a window.
    pub view: DeadlineView,
    /// Only dossiers received by this agency.
    pub agency: Option<AgencyCode>,
    /// Only dossiers whose current step is handled by this agency.
    pub step_agency: Option<String>,
    /// Only dossiers of this procedure.
    pub procedure: Option<ProcedureCode>,
    /// Start after this row (the previous page's [`Page::next`]).
    pub after: Option<Cursor>,
    /// At most this many rows (clamped to [`DeadlineQuery::MAX_LIMIT`]).
    pub limit: usize,
}

impl DeadlineQuery {
    /// The largest page a store returns.
    pub const MAX_LIMIT: usize = 10_000;

    /// Overdue dossiers at `as_of`, unfiltered, first page of [`DeadlineQuery::MAX_LIMIT`].
    pub fn overdue(as_of: Timestamp) -> DeadlineQuery {
        DeadlineQuery {
            as_of,
            view: DeadlineView::Overdue,
            agency: None,
            step_agency: None,
            procedure: None,
            after: None,
            limit: Self::MAX_LIMIT,
        }
    }

    /// Dossiers due in `[as_of, until)` with a running clock, unfiltered, first page.
    pub fn due_before(as_of: Timestamp, until: Timestamp) -> DeadlineQuery {
        DeadlineQuery { view: DeadlineView::DueBefore { until }, ..DeadlineQuery::overdue(as_of) }
    }

    /// Dossiers due within `limit` of `as_of` on `calendar`, clock running, unfiltered, first
    /// page: due at or after `as_of` and **at or before** the instant `limit` ends (both bounds
    /// inclusive: a dossier due exactly at the end of "2 working days" is within them).
    /// `None` for a limit that has no end (`no due time`).
    ///
    /// ```
    /// use motcua_calendar::{Limit, WorkCalendar};
    /// use motcua_engine::{DeadlineQuery, DeadlineView};
    /// let cal = WorkCalendar::builder().years(2025, 2025).build().unwrap();
    /// let as_of = "2025-03-03T09:00".parse().unwrap();
    /// let q = DeadlineQuery::due_within(&cal, as_of, Limit::working_days(2)).unwrap().unwrap();
    /// // Two working days from Monday 09:00 end on Wednesday 09:00, which is included.
    /// assert_eq!(q.view, DeadlineView::DueBefore { until: "2025-03-05T09:01".parse().unwrap() });
    /// ```
    pub fn due_within(
        calendar: &motcua_calendar::WorkCalendar,
        as_of: Timestamp,
        limit: motcua_calendar::Limit,
    ) -> Result<Option<DeadlineQuery>, motcua_calendar::CalendarError> {
        Ok(calendar.due_from(as_of, limit)?.map(|end| DeadlineQuery::due_before(as_of, end.plus_minutes(1))))
    }

    /// The page size in force.
    pub fn page_size(&self) -> usize {
        self.limit.clamp(1, Self::MAX_LIMIT)
    }

    /// Whether `row` answers the query, pagination aside.
    pub fn matches(&self, row: &DossierSummary) -> bool {
        let timely = match self.view {
            DeadlineView::Overdue => row.is_overdue(self.as_of),
            DeadlineView::DueBefore { until } => {
                row.is_open() && !row.clock_stopped && row.due.is_some_and(|d| self.as_of <= d && d < until)
            }
        };
        timely
            && self.agency.as_ref().is_none_or(|a| row.dossier.agency() == a)
            && self.procedure.as_ref().is_none_or(|p| row.procedure.as_ref() == Some(p))
            && self.step_agency.as_deref().is_none_or(|a| row.current_step().is_some_and(|s| &*s.agency == a))
    }

    /// Whether a row with this due time and code text comes after the cursor.
    pub fn after_cursor(&self, due: Timestamp, code: &str) -> bool {
        self.after.as_ref().is_none_or(|c| (due, code) > (c.due, c.code.as_str()))
    }

    /// The answer from every row (a scan): the reference each store's indexed answer equals,
    /// and the default for stores without indexes.
    pub fn scan(&self, rows: impl IntoIterator<Item = DossierSummary>) -> Page {
        let mut hits: Vec<(Timestamp, String, DossierSummary)> = rows
            .into_iter()
            .filter(|r| self.matches(r))
            .filter_map(|r| {
                let due = r.due?;
                let code = r.dossier.to_string();
                self.after_cursor(due, &code).then_some((due, code, r))
            })
            .collect();
        hits.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Page::of(hits.into_iter().map(|(_, _, r)| r).collect(), self.page_size())
    }
}

/// One page of a deadline query.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Page {
    /// The rows, by due time then code text.
    pub rows: Vec<DossierSummary>,
    /// Where the next page starts (`None` on the last page).
    pub next: Option<Cursor>,
}

impl Page {
    /// The page of the first `size` of `rows` (already ordered, fetched with one extra row to
    /// tell whether more follow).
    pub fn of(mut rows: Vec<DossierSummary>, size: usize) -> Page {
        let more = rows.len() > size;
        rows.truncate(size);
        let next = if more {
            rows.last().and_then(|r| Some(Cursor { due: r.due?, code: r.dossier.to_string() }))
        } else {
            None
        };
        Page { rows, next }
    }
}

/// What a backlog is grouped by.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BacklogBy {
    /// The receiving agency.
    Agency,
    /// The agency handling the current step (`-` when no step is running).
    StepAgency,
    /// The procedure.
    Procedure,
}

impl BacklogBy {
    /// The group `row` falls in.
    pub fn key(self, row: &DossierSummary) -> String {
        match self {
            BacklogBy::Agency => row.dossier.agency().to_string(),
            BacklogBy::StepAgency => row.current_step().map_or_else(|| "-".to_string(), |s| s.agency.to_string()),
            BacklogBy::Procedure => row.procedure.as_ref().map_or_else(|| "-".to_string(), |p| p.to_string()),
        }
    }
}

/// The open dossiers of one group.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
pub struct BacklogRow {
    /// The group (agency code, step agency or procedure code).
    pub key: String,
    /// Open dossiers.
    pub open: u64,
    /// … of which overdue at the query's instant.
    pub overdue: u64,
    /// … of which with the clock stopped.
    pub clock_stopped: u64,
}

/// The backlog from every row (a scan): the reference stores' answers equal, by key.
pub fn scan_backlog(
    rows: impl IntoIterator<Item = DossierSummary>,
    by: BacklogBy,
    as_of: Timestamp,
) -> Vec<BacklogRow> {
    let mut groups: BTreeMap<String, BacklogRow> = BTreeMap::new();
    for r in rows.into_iter().filter(DossierSummary::is_open) {
        let key = by.key(&r);
        let g = groups.entry(key.clone()).or_insert_with(|| BacklogRow { key, ..BacklogRow::default() });
        g.open += 1;
        g.overdue += u64::from(r.is_overdue(as_of));
        g.clock_stopped += u64::from(r.clock_stopped);
    }
    groups.into_values().collect()
}
