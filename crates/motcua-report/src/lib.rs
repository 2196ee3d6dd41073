//! # motcua-report: indicators of a stored year
//!
//! [`Report::build`] reads every dossier's projection row ([`DossierSummary`]) and computes the
//! seed figures (received, online, resolved, early or on time), breakdowns by month of receipt,
//! receiving agency, sector and procedure (with the average resolution time in working days), and the Decision
//! 766/QĐ-TTg [`Scorecard`] (docs/indicators.md): its five groups and every indicator, measured where
//! dossier data supports it — 2.1 on-time rate, 3.3 online dossier rate, 5.4 satisfaction
//! without complaints, and 3.2 when the number of online services offered is given — and listed
//! as not measured (with what it needs) otherwise. Points follow the threshold scaling of
//! `docs/indicators.md` §2; where a maximum is not verified, the report says so. Every row (month, agency,
//! sector, procedure) carries the scaled score of its own measured indicators.
//! [`Report::to_csv`] writes one table, [`Report::to_html`] one self-contained page with inline
//! SVG charts; the struct serializes to JSON.

#![warn(missing_docs)]

mod html;

pub use html::escape_html;
mod of_store;
pub use of_store::{report_of_store, ReportOptions};
mod scorecard;

pub use scorecard::{
    Group, Indicator, Measures, Rating, Scorecard, FORMULA_SOURCE, PROVINCE_CONVENTION, RATING_NOTE,
    WITHOUT_SYNC_FACTOR,
};

use std::collections::{BTreeMap, HashMap};

use chrono::Datelike;
use motcua_calendar::holidays::{FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR};
use motcua_calendar::{Timestamp, WorkCalendar};
use motcua_core::{Outcome, ProcedureCode, Register};
use motcua_engine::DossierSummary;
use serde::Serialize;

/// Counts for one group of dossiers.
#[derive(Clone, PartialEq, Debug, Default, Serialize)]
pub struct Row {
    /// The group (a month `YYYY-MM`, a sector, a procedure code, or `all`).
    pub key: String,
    /// A readable name (procedure name), when there is one.
    pub name: String,
    /// Dossiers received.
    pub received: u64,
    /// … online.
    pub online: u64,
    /// Dossiers resolved (first terminal status with an outcome).
    pub resolved: u64,
    /// … early.
    pub early: u64,
    /// … on time.
    pub on_time: u64,
    /// … late.
    pub late: u64,
    /// Still open at the report's instant.
    pub open: u64,
    /// … of which past their due time.
    pub open_overdue: u64,
    /// Early-or-on-time share of resolved, percent (two decimals): the **province
    /// convention** (resolved dossiers only; docs/indicators.md §2, 2.1).
    pub early_or_on_time_pct: f64,
    /// Decision 766's 2.1 counts: on time = resolved early or on time + open and in time at
    /// the end; late = resolved late + open and overdue + any with more than one supplement
    /// request (docs/indicators.md §2).
    pub on_time_766: u64,
    /// … late by the same formula.
    pub late_766: u64,
    /// … of which late only for having more than one supplement request.
    pub multi_supplement: u64,
    /// Decision 766's 2.1, percent: `on_time_766 / (on_time_766 + late_766)`.
    pub early_or_on_time_766_pct: f64,
    /// Mean working days from receipt to the first terminal status, for resolved dossiers.
    pub avg_resolution_working_days: Option<f64>,
    /// What the row's dossiers hold (Decision 766 group 4; zero for rows written before
    /// summaries kept it).
    pub holds: HoldsTally,
    /// The Decision 766 score of this row's own measured indicators (2.1, 3.3, 5.4) on the
    /// 100-point scale ([`Scorecard::scaled_score`]); `None` without received dossiers.
    pub score_766: Option<f64>,
    #[serde(skip)]
    resolution_days: f64,
    #[serde(skip)]
    resolution_count: u64,
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 * 10_000.0 / whole as f64).round() / 100.0
    }
}

impl Row {
    fn new(key: &str, name: &str) -> Row {
        Row { key: key.to_string(), name: name.to_string(), ..Row::default() }
    }

    fn add(&mut self, s: &DossierSummary, resolution_days: Option<f64>) {
        if s.received_at.is_none() {
            return;
        }
        self.received += 1;
        if s.channel == Some(2) {
            self.online += 1;
        }
        if let Some(h) = &s.holds {
            let resolved = s.finished_at.is_some() && s.outcome.is_some();
            self.holds.add(h, s.feedback.as_ref().map_or(0, Vec::len), resolved);
        }
        match s.outcome {
            Some(o) if s.finished_at.is_some() => self.resolve(o, multi_supplement(s), resolution_days),
            _ if s.finished_at.is_none() => self.open += 1,
            _ => {}
        }
    }

    /// One dossier resolved with `outcome` (by Decision 766, late anyway with more than one
    /// supplement request).
    fn resolve(&mut self, outcome: Outcome, multi: bool, resolution_days: Option<f64>) {
        self.resolved += 1;
        match outcome {
            Outcome::Early => self.early += 1,
            Outcome::OnTime => self.on_time += 1,
            Outcome::Late => self.late += 1,
        }
        self.judge_766(outcome != Outcome::Late, multi);
        if let Some(d) = resolution_days {
            self.resolution_days += d;
            self.resolution_count += 1;
        }
    }

    /// Counts one dossier by Decision 766's formula: in time (resolved early or on time, or
    /// open and not overdue) unless it had more than one supplement request.
    fn judge_766(&mut self, in_time: bool, multi: bool) {
        if multi {
            self.late_766 += 1;
            if in_time {
                self.multi_supplement += 1;
            }
        } else if in_time {
            self.on_time_766 += 1;
        } else {
            self.late_766 += 1;
        }
    }

    /// An open dossier judged at the report's instant (`open` was counted by `add`).
    fn judge_open(&mut self, overdue: bool, multi: bool) {
        if overdue {
            self.open_overdue += 1;
        }
        self.judge_766(!overdue, multi);
    }

    fn finish(mut self) -> Row {
        self.early_or_on_time_pct = pct(self.early + self.on_time, self.resolved);
        self.early_or_on_time_766_pct = pct(self.on_time_766, self.on_time_766 + self.late_766);
        self.score_766 = Scorecard::of(&self.measures()).scaled_score;
        self.avg_resolution_working_days = (self.resolution_count > 0)
            .then(|| ((self.resolution_days / self.resolution_count as f64) * 100.0).round() / 100.0);
        self
    }
}

/// Whether Decision 766 counts the dossier late for its supplements: more than one request.
fn multi_supplement(s: &DossierSummary) -> bool {
    s.supplement_requests.is_some_and(|n| n > 1)
}

impl Row {
    /// What this row's dossiers measure of the Decision 766 set: 2.1 by the decision's formula
    /// (resolved and open dossiers) with the province convention beside it, 5.4 resolved
    /// dossiers, 3.3 received ones.
    pub fn measures(&self) -> Measures {
        let resolved = self.resolved > 0;
        let h = &self.holds;
        let judged = self.on_time_766 + self.late_766;
        Measures {
            early_or_on_time_pct: (judged > 0).then(|| pct(self.on_time_766, judged)),
            early_or_on_time_province_pct: resolved.then(|| pct(self.early + self.on_time, self.resolved)),
            services_with_online_dossiers_pct: None,
            online_pct: (self.received > 0).then(|| pct(self.online, self.received)),
            // 5.4: 100 % less the late share and the share of dossiers with a feedback record
            // or disliked by the applicant, of resolved dossiers (docs/indicators.md §2).
            satisfaction_pct: resolved.then(|| {
                (100.0 - pct(self.late, self.resolved) - pct(h.resolved_feedback_or_disliked, self.resolved)).max(0.0)
            }),
            feedback_classified_pct: None,
            feedback_on_time_pct: None,
            feedback_satisfaction_pct: None,
            synced_pct: None,
            procedures_online_pct: None,
            payment_integrated_pct: None,
            paid_online_pct: None,
            e_result_pct: (h.with_result > 0).then(|| pct(h.e_result, h.with_result)),
            digitised_pct: (h.with_documents > 0).then(|| pct(h.digitised_e_result, h.known)),
            reused_pct: (h.with_documents > 0).then(|| pct(h.reused, h.known)),
            digitised_reused_pct: (h.digitised > 0).then(|| pct(h.digitised_reused, h.digitised)),
            vneid_pct: (h.with_applicant > 0).then(|| pct(h.vneid, h.with_applicant)),
        }
    }
}

/// Lateness of one step at one agency (or of all steps at an agency, `step` = `*`): who
/// finished their part of the chain in time (docs/rules.md §8: each step is judged against its
/// own due time).
#[derive(Clone, PartialEq, Debug, Default, Serialize)]
pub struct StepRow {
    /// The agency handling the step.
    pub agency: String,
    /// The step id, or `*` for all the agency's steps.
    pub step: String,
    /// Steps started.
    pub started: u64,
    /// … completed early.
    pub early: u64,
    /// … completed on time.
    pub on_time: u64,
    /// … completed late.
    pub late: u64,
    /// Started, not completed.
    pub open: u64,
    /// … of which past the step's due time at the report's instant.
    pub open_overdue: u64,
    /// Late share of completed steps, percent (two decimals).
    pub late_pct: f64,
}

impl StepRow {
    fn add(&mut self, s: &motcua_engine::StepSummary) {
        self.started += 1;
        match (s.completed_at, s.outcome) {
            (Some(_), Some(Outcome::Early)) => self.early += 1,
            (Some(_), Some(Outcome::OnTime)) => self.on_time += 1,
            (Some(_), Some(Outcome::Late)) => self.late += 1,
            (Some(_), None) => {}
            (None, _) => self.open += 1,
        }
    }

    fn finish(mut self) -> StepRow {
        self.late_pct = pct(self.late, self.early + self.on_time + self.late);
        self
    }
}

/// The length of the periods [`Report::by_period`] groups by.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Calendar months, `YYYY-MM`.
    #[default]
    Month,
    /// Quarters, `YYYY-Qn`.
    Quarter,
    /// Half-years, `YYYY-H1` and `YYYY-H2` (provinces report the first half).
    Half,
    /// Years, `YYYY`.
    Year,
}

impl Period {
    /// The first day of the period holding `date`.
    pub fn start(self, date: chrono::NaiveDate) -> chrono::NaiveDate {
        let month = match self {
            Period::Month => date.month(),
            Period::Quarter => (date.month() - 1) / 3 * 3 + 1,
            Period::Half => (date.month() - 1) / 6 * 6 + 1,
            Period::Year => 1,
        };
        chrono::NaiveDate::from_ymd_opt(date.year(), month, 1).unwrap_or(date)
    }

    /// The first day of the period after the one starting on `start`.
    pub fn next(self, start: chrono::NaiveDate) -> chrono::NaiveDate {
        let months = match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::Half => 6,
            Period::Year => 12,
        };
        start.checked_add_months(chrono::Months::new(months)).unwrap_or(chrono::NaiveDate::MAX)
    }

    /// The period's label: `2023-01`, `2023-Q1` or `2023`.
    pub fn label(self, start: chrono::NaiveDate) -> String {
        match self {
            Period::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Period::Quarter => format!("{:04}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
            Period::Half => format!("{:04}-H{}", start.year(), (start.month() - 1) / 6 + 1),
            Period::Year => format!("{:04}", start.year()),
        }
    }

    /// The last minute of the period starting on `start` (23:59 of its last day).
    fn end(self, start: chrono::NaiveDate) -> Timestamp {
        let last = self.next(start).pred_opt().unwrap_or(start);
        Timestamp::from_local(last, 23 * 60 + 59)
    }
}

/// The indicators of a stored year.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Report {
    /// The instant open dossiers are judged at.
    pub as_of: Timestamp,
    /// All dossiers.
    pub totals: Row,
    /// By month of receipt.
    pub by_month: Vec<Row>,
    /// By receiving agency (the agency code in the dossier code).
    pub by_agency: Vec<Row>,
    /// By sector.
    pub by_sector: Vec<Row>,
    /// By procedure.
    pub by_procedure: Vec<Row>,
    /// Lateness by step and agency, by agency then step.
    pub by_step: Vec<StepRow>,
    /// Lateness by agency over all its steps (`step` = `*`), most late steps first.
    pub by_step_agency: Vec<StepRow>,
    /// With a register of units ([`ReportBuilder::with_units`]): by the administrative unit the
    /// dossier belongs to, each dossier counted in its unit and rolled up into every unit above
    /// it (commune, district, province), in code order; key `(không rõ)` for dossiers of no
    /// known unit. Empty without a register.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_unit: Vec<Row>,
    /// The periods' length in [`Report::by_period`].
    pub period: Period,
    /// By period of completion, as Decision 766 reports 2.1 (docs/indicators.md §2): in each
    /// period, `received` counts its receipts; `resolved`, `early`, `on_time`, `late` the
    /// dossiers that reached their end in it; `open` and `open_overdue` the dossiers open at
    /// its end (carried over into the next) and, of them, past their due time then; the 766
    /// counts add both. An earlier period's open dossiers are judged by their final due time
    /// and supplement count (the projection keeps no history; a replay would), the last
    /// period's exactly.
    pub by_period: Vec<Row>,
    /// The Decision 766 scorecard of all dossiers.
    pub scorecard: Scorecard,
    /// Feedback records judged at the report's instant (5.1-5.3).
    pub feedback: FeedbackTally,
    /// The services the dossiers were handled under, when the store lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<ServiceTally>,
    /// What the scorecard measures beyond the rows: online services offered (3.2) and the
    /// delivery ledger (1.4, 3.3's factor).
    #[serde(skip)]
    outside: Measures,
    /// Open dossiers at the end of each day (`YYYY-MM-DD`) from the first receipt to `as_of`.
    pub backlog: Vec<(String, u64)>,
}

/// The services a store's dossiers were handled under, counted (docs/indicators.md §2: 3.1,
/// 3.2, and integration with the national portal).
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize)]
pub struct ServiceTally {
    /// Procedures listed.
    pub procedures: u64,
    /// … offered as an online service (partial or end to end).
    pub online: u64,
    /// … whose online service is integrated with the national portal.
    pub integrated: u64,
    /// `integrated / online`, percent.
    pub integrated_pct: f64,
    /// Online services that had at least one online dossier.
    pub with_online_dossiers: u64,
}

/// What a group of dossiers holds, counted for Decision 766's group 4 (docs/indicators.md §2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct HoldsTally {
    /// Dossiers whose summary says what they hold.
    pub known: u64,
    /// … with an applicant recorded.
    pub with_applicant: u64,
    /// … whose applicant signed in through VNeID.
    pub vneid: u64,
    /// … with documents recorded.
    pub with_documents: u64,
    /// … with a digitised document.
    pub digitised: u64,
    /// … with a digitised document and an electronic result (4.2's digitised dossier).
    pub digitised_e_result: u64,
    /// … with a document reused from the warehouse.
    pub reused: u64,
    /// … digitised and with a reused document.
    pub digitised_reused: u64,
    /// … that issued a result.
    pub with_result: u64,
    /// … electronically.
    pub e_result: u64,
    /// … with fees paid.
    pub paid: u64,
    /// … paid online.
    pub paid_online: u64,
    /// … rated by the applicant.
    pub rated: u64,
    /// … of which not satisfied.
    pub disliked: u64,
    /// … with a component the digitisation rules required digitised that came on paper.
    pub undigitised: u64,
    /// … with a feedback record (phản ánh, kiến nghị).
    pub with_feedback: u64,
    /// Resolved dossiers with a feedback record or disliked by the applicant (5.4).
    pub resolved_feedback_or_disliked: u64,
}

impl HoldsTally {
    fn add(&mut self, h: &motcua_engine::Holds, feedback: usize, resolved: bool) {
        let n = u64::from;
        self.known += 1;
        self.with_applicant += n(h.applicant);
        self.vneid += n(h.vneid);
        self.with_documents += n(h.documents > 0);
        let digitised = h.digitised > 0;
        let e_result = h.result_electronic == Some(true);
        self.digitised += n(digitised);
        self.digitised_e_result += n(digitised && e_result);
        self.reused += n(h.reused > 0);
        self.digitised_reused += n(digitised && h.reused > 0);
        self.with_result += n(h.result_electronic.is_some());
        self.e_result += n(e_result);
        self.paid += n(h.paid);
        self.paid_online += n(h.paid_online);
        self.rated += n(h.rating.is_some());
        self.disliked += n(h.rating == Some(false));
        self.undigitised += n(h.undigitised > 0);
        self.with_feedback += n(feedback > 0);
        self.resolved_feedback_or_disliked += n(resolved && (feedback > 0 || h.rating == Some(false)));
    }
}

/// Feedback records (phản ánh, kiến nghị) judged at the report's instant, for Decision 766's
/// indicators 5.1-5.3 as the Government Office's formula description defines them
/// (docs/indicators.md §2).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize)]
pub struct FeedbackTally {
    /// Feedback received up to the report's instant.
    pub received: u64,
    /// … classified (regulation or policy, procedure, officer's conduct): 5.1's numerator.
    pub classified: u64,
    /// … answered.
    pub answered: u64,
    /// … rejected.
    pub rejected: u64,
    /// … still open.
    pub open: u64,
    /// … handled in time (closed by its deadline and published in time, or open and not past
    /// its due time): 5.2's numerator.
    pub on_time: u64,
    /// … rated unsatisfied by the applicant.
    pub unsatisfied: u64,
    /// … followed up by another feedback about its answer.
    pub followed_up: u64,
    /// … counting against satisfaction (unsatisfied, followed up or late): 5.3 subtracts them.
    pub dissatisfied: u64,
}

impl FeedbackTally {
    fn add(&mut self, f: &motcua_core::Feedback, at: Timestamp) {
        let n = u64::from;
        self.received += 1;
        self.classified += n(f.topic.is_some());
        self.answered += n(matches!(f.end, Some((motcua_core::FeedbackEnd::Answered, _))));
        self.rejected += n(matches!(f.end, Some((motcua_core::FeedbackEnd::Rejected, _))));
        self.open += n(f.end.is_none());
        self.on_time += n(f.on_time(at));
        self.unsatisfied += n(f.satisfied == Some(false));
        self.followed_up += n(f.followed_up);
        self.dissatisfied += n(f.dissatisfied(at));
    }

    /// 5.1, 5.2 and 5.3, percent; none without feedback.
    fn measures(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        let r = self.received;
        let of = |part| (r > 0).then(|| pct(part, r));
        (of(self.classified), of(self.on_time), of(r - self.dissatisfied.min(r)))
    }
}

/// Makes a working-time calendar for a range of years (inclusive), or `None` when it cannot.
pub type CalendarSource<'a> = Box<dyn Fn(i32, i32) -> Option<WorkCalendar> + 'a>;

/// Unit given to dossiers of no known administrative unit (with a register).
pub const UNKNOWN_UNIT: &str = "(không rõ)";

/// Sector given to procedures the report does not know.
pub const UNKNOWN_SECTOR: &str = "(ngoài danh mục)";

/// An open dossier, kept until the report's instant is known (is it overdue then?).
struct Open {
    /// The due time it is overdue after: `None` when it can never be (no due time, a stopped
    /// clock, or not open by [`DossierSummary::is_open`]), so that overdue here is exactly
    /// [`DossierSummary::is_overdue`], the definition deadline queries use.
    due: Option<Timestamp>,
    /// When it was received (its first period).
    received: Timestamp,
    /// More than one supplement request (late by Decision 766 whatever its times).
    multi: bool,
    month: String,
    agency: String,
    sector: String,
    procedure: String,
    /// The unit and every unit above it (with a register).
    units: Vec<String>,
}

/// Builds a [`Report`] from projection rows read one at a time: memory follows the number of
/// groups and of open dossiers, not of rows. Open dossiers (and open steps) are judged overdue
/// or not at [`ReportBuilder::finish`], at the instant given there or, by default, the end of
/// the last year with a receipt.
pub struct ReportBuilder<'a> {
    procedures: &'a HashMap<ProcedureCode, (String, String)>,
    fixed: Option<&'a WorkCalendar>,
    /// A calendar built as receipts need it (years covered, inclusive).
    auto: Option<(WorkCalendar, i32, i32)>,
    /// How `auto` is built for a range of years (the national calendar by default; the CLI
    /// passes the province's notices and office hours).
    make: CalendarSource<'a>,
    period: Period,
    periods: BTreeMap<chrono::NaiveDate, Row>,
    totals: Row,
    months: BTreeMap<String, Row>,
    agencies: BTreeMap<String, Row>,
    sectors: BTreeMap<String, Row>,
    procs: BTreeMap<String, Row>,
    steps: BTreeMap<(String, String), StepRow>,
    step_agencies: BTreeMap<String, StepRow>,
    units: BTreeMap<String, Row>,
    register: Option<&'a Register>,
    open: Vec<Open>,
    open_steps: Vec<(String, String, Option<Timestamp>)>,
    delta: BTreeMap<i64, i64>,
    last_receipt: Option<Timestamp>,
    feedback: Vec<motcua_core::Feedback>,
}

impl<'a> ReportBuilder<'a> {
    /// A builder that measures resolution time with a calendar of its own, built for the
    /// years the receipts fall in (within the calendar's supported years).
    pub fn new(procedures: &'a HashMap<ProcedureCode, (String, String)>) -> ReportBuilder<'a> {
        ReportBuilder {
            procedures,
            fixed: None,
            auto: None,
            make: Box::new(|first, last| WorkCalendar::builder().years(first, last).build().ok()),
            period: Period::Month,
            periods: BTreeMap::new(),
            totals: Row::new("all", ""),
            months: BTreeMap::new(),
            agencies: BTreeMap::new(),
            sectors: BTreeMap::new(),
            procs: BTreeMap::new(),
            steps: BTreeMap::new(),
            step_agencies: BTreeMap::new(),
            units: BTreeMap::new(),
            register: None,
            open: Vec::new(),
            open_steps: Vec::new(),
            delta: BTreeMap::new(),
            last_receipt: None,
            feedback: Vec::new(),
        }
    }

    /// A builder that measures resolution time with `calendar`.
    pub fn with_calendar(
        procedures: &'a HashMap<ProcedureCode, (String, String)>,
        calendar: &'a WorkCalendar,
    ) -> ReportBuilder<'a> {
        ReportBuilder { fixed: Some(calendar), ..ReportBuilder::new(procedures) }
    }

    /// A builder that measures resolution time with calendars made by `make` for a range of
    /// years (inclusive) as receipts need them: the province's notices and office hours, so
    /// working days follow its calendar and its day length.
    pub fn with_calendar_source(
        procedures: &'a HashMap<ProcedureCode, (String, String)>,
        make: CalendarSource<'a>,
    ) -> ReportBuilder<'a> {
        ReportBuilder { make, ..ReportBuilder::new(procedures) }
    }

    /// The builder grouping [`Report::by_period`] by `period` (months by default).
    pub fn with_period(mut self, period: Period) -> ReportBuilder<'a> {
        self.period = period;
        self
    }

    /// The builder grouping dossiers by administrative unit too, rolled up through `register`
    /// ([`Report::by_unit`]).
    pub fn with_units(mut self, register: &'a Register) -> ReportBuilder<'a> {
        self.register = Some(register);
        self
    }

    /// The unit a dossier belongs to and every unit above it, as the register has them.
    fn unit_chain(&self, s: &DossierSummary) -> Vec<String> {
        let Some(register) = self.register else { return Vec::new() };
        let Some(first) = s.jurisdiction.as_deref() else { return vec![UNKNOWN_UNIT.to_string()] };
        let mut chain = vec![first.to_string()];
        let mut at = register.unit(first).and_then(|u| u.parent.as_deref());
        // Parents are checked acyclic when the register is built; the bound is belt and braces.
        while let Some(code) = at.filter(|_| chain.len() < 16) {
            chain.push(code.to_string());
            at = register.unit(code).and_then(|u| u.parent.as_deref());
        }
        chain
    }

    /// Working days from receipt to finish, when a calendar covers them: working minutes over
    /// the standard day length of the office hours in force at receipt (docs/rules.md §3), so a
    /// province's own hours give its own days.
    fn resolution(&mut self, received: Timestamp, finished: Timestamp) -> Option<f64> {
        let calendar = match self.fixed {
            Some(c) => c,
            None => {
                let (from, to) = (received.local_date().year(), finished.local_date().year());
                let covered = self.auto.as_ref().is_some_and(|(_, a, b)| *a <= from && to <= *b);
                if !covered {
                    let (a, b) =
                        self.auto.as_ref().map_or((from, to + 1), |(_, a, b)| ((*a).min(from), (*b).max(to + 1)));
                    let (a, b) = (
                        a.clamp(FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR),
                        b.clamp(FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR),
                    );
                    let calendar = (self.make)(a, b)?;
                    self.auto = Some((calendar, a, b));
                }
                &self.auto.as_ref()?.0
            }
        };
        let minutes = calendar.working_minutes_between(received, finished).ok()?;
        let hours = calendar.office_hours();
        let day = hours.seasons.get(hours.season_index(received.local_date())).map_or(480, |s| s.day_length);
        Some(minutes as f64 / f64::from(day.max(1)))
    }

    /// Counts one projection row.
    pub fn add(&mut self, s: &DossierSummary) {
        let Some(received) = s.received_at else { return };
        let resolution = match (s.outcome, s.finished_at) {
            (Some(_), Some(f)) => self.resolution(received, f),
            _ => None,
        };
        let (name, sector) = s
            .procedure
            .as_ref()
            .and_then(|p| self.procedures.get(p))
            .map_or(("", UNKNOWN_SECTOR), |(n, sec)| (n.as_str(), sec.as_str()));
        let month = received.local_string()[..7].to_string();
        self.totals.add(s, resolution);
        self.months.entry(month.clone()).or_insert_with(|| Row::new(&month, "")).add(s, resolution);
        let agency = s.dossier.agency().to_string();
        self.agencies.entry(agency.clone()).or_insert_with(|| Row::new(&agency, "")).add(s, resolution);
        self.sectors.entry(sector.to_string()).or_insert_with(|| Row::new(sector, "")).add(s, resolution);
        let code = s.procedure.as_ref().map_or_else(String::new, |p| p.to_string());
        self.procs.entry(code.clone()).or_insert_with(|| Row::new(&code, name)).add(s, resolution);
        let units = self.unit_chain(s);
        for unit in &units {
            let name = self.register.and_then(|r| r.unit(unit)).map_or("", |u| u.name.as_str());
            self.units.entry(unit.clone()).or_insert_with(|| Row::new(unit, name)).add(s, resolution);
        }
        if s.finished_at.is_none() {
            let due = s.due.filter(|_| s.is_open() && !s.clock_stopped);
            self.open.push(Open {
                due,
                received,
                multi: multi_supplement(s),
                month,
                agency,
                sector: sector.to_string(),
                procedure: code,
                units,
            });
        }
        // Steps: who held the dossier and whether they finished their part in time.
        for st in s.steps.iter().flatten() {
            let (agency, step) = (st.agency.to_string(), st.step.to_string());
            self.steps
                .entry((agency.clone(), step.clone()))
                .or_insert_with(|| StepRow { agency: agency.clone(), step: step.clone(), ..StepRow::default() })
                .add(st);
            self.step_agencies
                .entry(agency.clone())
                .or_insert_with(|| StepRow { agency: agency.clone(), step: "*".into(), ..StepRow::default() })
                .add(st);
            if st.completed_at.is_none() {
                self.open_steps.push((agency, step, st.due));
            }
        }
        // Backlog: +1 on the day of receipt, −1 on the day of the first terminal status.
        *self.delta.entry(received.local_day()).or_default() += 1;
        if let Some(f) = s.finished_at {
            *self.delta.entry(f.local_day()).or_default() -= 1;
        }
        self.count_periods(s, received, resolution);
        self.last_receipt = self.last_receipt.max(Some(received));
        self.feedback.extend(s.feedback.iter().flatten().cloned());
    }

    /// The period rows of one dossier: its receipt, its end, and every period whose end it
    /// was open at, before its own end (a dossier never finished is counted at
    /// [`ReportBuilder::finish`], when the report's instant is known).
    fn count_periods(&mut self, s: &DossierSummary, received: Timestamp, resolution: Option<f64>) {
        let period = self.period;
        let first = period.start(received.local_date());
        let r = self.periods.entry(first).or_insert_with(|| Row::new(&period.label(first), ""));
        r.received += 1;
        if s.channel == Some(2) {
            r.online += 1;
        }
        let Some(finished) = s.finished_at else { return };
        let multi = multi_supplement(s);
        let last = period.start(finished.local_date());
        let mut at = first;
        while at < last {
            let end = period.end(at);
            let overdue = s.due.is_some_and(|d| d < end);
            let r = self.periods.entry(at).or_insert_with(|| Row::new(&period.label(at), ""));
            r.open += 1;
            if overdue {
                r.open_overdue += 1;
            }
            r.judge_766(!overdue, multi);
            at = period.next(at);
        }
        if let Some(o) = s.outcome {
            self.periods.entry(last).or_insert_with(|| Row::new(&period.label(last), "")).resolve(o, multi, resolution);
        }
    }

    /// The report, open dossiers judged at `as_of` (default: 23:59 on 31 December of the last
    /// year with a receipt).
    pub fn finish(mut self, as_of: Option<Timestamp>) -> Report {
        let as_of = as_of.unwrap_or_else(|| {
            let year = self.last_receipt.map_or(2025, |t| t.local_date().year());
            Timestamp::from_local(
                chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(chrono::NaiveDate::MAX),
                23 * 60 + 59,
            )
        });
        for o in &self.open {
            let overdue = o.due.is_some_and(|d| d < as_of);
            self.totals.judge_open(overdue, o.multi);
            for (map, key) in [
                (&mut self.months, &o.month),
                (&mut self.agencies, &o.agency),
                (&mut self.sectors, &o.sector),
                (&mut self.procs, &o.procedure),
            ] {
                if let Some(r) = map.get_mut(key) {
                    r.judge_open(overdue, o.multi);
                }
            }
            for unit in &o.units {
                if let Some(r) = self.units.get_mut(unit) {
                    r.judge_open(overdue, o.multi);
                }
            }
            // Carried over: open at the end of every period from its receipt's to the report's
            // instant (the last one ends there).
            let period = self.period;
            let mut at = period.start(o.received.local_date());
            while at <= as_of.local_date() {
                let end = period.end(at).min(as_of);
                let overdue = o.due.is_some_and(|d| d < end);
                let r = self.periods.entry(at).or_insert_with(|| Row::new(&period.label(at), ""));
                r.open += 1;
                if overdue {
                    r.open_overdue += 1;
                }
                r.judge_766(!overdue, o.multi);
                at = period.next(at);
            }
        }
        for (agency, step, due) in &self.open_steps {
            if due.is_some_and(|d| d < as_of) {
                if let Some(r) = self.steps.get_mut(&(agency.clone(), step.clone())) {
                    r.open_overdue += 1;
                }
                if let Some(r) = self.step_agencies.get_mut(agency) {
                    r.open_overdue += 1;
                }
            }
        }
        let mut by_step_agency: Vec<StepRow> = self.step_agencies.into_values().map(StepRow::finish).collect();
        by_step_agency
            .sort_by(|a, b| b.late.cmp(&a.late).then(b.started.cmp(&a.started)).then(a.agency.cmp(&b.agency)));
        let by_step: Vec<StepRow> = self.steps.into_values().map(StepRow::finish).collect();
        let mut backlog = Vec::new();
        if let Some(&first) = self.delta.keys().next() {
            let mut open = 0i64;
            for day in first..=as_of.local_day() {
                open += self.delta.get(&day).copied().unwrap_or(0);
                backlog.push((motcua_calendar::date_from_day_number(day).to_string(), open.max(0) as u64));
            }
        }
        let totals = self.totals.finish();
        let scorecard = Scorecard::of(&totals.measures());
        let mut feedback = FeedbackTally::default();
        for f in self.feedback.iter().filter(|f| f.filed_at <= as_of) {
            feedback.add(&f.as_of(as_of), as_of);
        }
        let mut outside = Measures::default();
        (outside.feedback_classified_pct, outside.feedback_on_time_pct, outside.feedback_satisfaction_pct) =
            feedback.measures();
        Report {
            feedback,
            as_of,
            totals,
            by_month: self.months.into_values().map(Row::finish).collect(),
            by_agency: self.agencies.into_values().map(Row::finish).collect(),
            by_sector: self.sectors.into_values().map(Row::finish).collect(),
            by_procedure: self.procs.into_values().map(Row::finish).collect(),
            by_step,
            by_step_agency,
            by_unit: self.units.into_values().map(Row::finish).collect(),
            period: self.period,
            // Periods after the report's instant are not reported (a dossier that ended later
            // was counted open at the instant's period end).
            by_period: self
                .periods
                .into_iter()
                .filter(|(start, _)| *start <= as_of.local_date())
                .map(|(_, r)| r.finish())
                .collect(),
            scorecard,
            backlog,
            services: None,
            outside,
        }
        .rescore()
    }
}

impl Report {
    /// Builds the report from projection rows. `procedures` maps codes to (name, sector);
    /// `calendar` measures resolution time in working days (dossiers outside its years are left
    /// out of that average). For rows read one at a time (a national year does not fit in
    /// memory as a list), use [`ReportBuilder`].
    pub fn build(
        summaries: &[DossierSummary],
        procedures: &HashMap<ProcedureCode, (String, String)>,
        calendar: &WorkCalendar,
        as_of: Timestamp,
    ) -> Report {
        let mut builder = ReportBuilder::with_calendar(procedures, calendar);
        for s in summaries {
            builder.add(s);
        }
        builder.finish(Some(as_of))
    }

    /// Adds indicator 3.2 (share of online services with at least one online dossier): the
    /// dossiers show which procedures had online dossiers, the number of services offered comes
    /// from outside (a profile, a portal's service list). docs/indicators.md §2 gives no threshold or
    /// points for it: linear to 100 % and 4 points are assumptions (like 3.3's).
    pub fn with_online_services(mut self, offered: u64) -> Report {
        let used = self.by_procedure.iter().filter(|r| r.online > 0).count() as u64;
        self.outside.services_with_online_dossiers_pct = (offered > 0).then(|| pct(used.min(offered), offered));
        self.rescore()
    }

    /// Adds what the store's list of services measures: 3.1 (procedures offered online ÷
    /// procedures), 3.2 (online services with an online dossier ÷ online services) and the
    /// services integrated with the national portal. Nothing for an empty list.
    pub fn with_services(mut self, rows: &[motcua_engine::ServiceRow]) -> Report {
        if rows.is_empty() {
            return self;
        }
        let used: std::collections::HashSet<&str> =
            self.by_procedure.iter().filter(|r| r.online > 0).map(|r| r.key.as_str()).collect();
        let online: Vec<&motcua_engine::ServiceRow> = rows.iter().filter(|r| r.is_online()).collect();
        let tally = ServiceTally {
            procedures: rows.len() as u64,
            online: online.len() as u64,
            integrated: online.iter().filter(|r| r.integrated).count() as u64,
            integrated_pct: 0.0,
            with_online_dossiers: online.iter().filter(|r| used.contains(r.procedure.to_string().as_str())).count()
                as u64,
        };
        let tally = ServiceTally { integrated_pct: pct(tally.integrated, tally.online), ..tally };
        self.outside.procedures_online_pct = Some(pct(tally.online, tally.procedures));
        // 3.5 and 3.6 over the fee-bearing services and their dossiers.
        let fee_bearing: std::collections::HashSet<String> =
            rows.iter().filter(|r| r.fee_bearing).map(|r| r.procedure.to_string()).collect();
        let fee_online: Vec<&&motcua_engine::ServiceRow> = online.iter().filter(|r| r.fee_bearing).collect();
        self.outside.payment_integrated_pct = (!fee_online.is_empty())
            .then(|| pct(fee_online.iter().filter(|r| r.online_payment).count() as u64, fee_online.len() as u64));
        let (dossiers, paid_online) = self
            .by_procedure
            .iter()
            .filter(|r| fee_bearing.contains(&r.key))
            .fold((0, 0), |(d, p), r| (d + r.received, p + r.holds.paid_online));
        self.outside.paid_online_pct =
            (dossiers > 0 && self.totals.holds.known > 0).then(|| pct(paid_online, dossiers));
        self.outside.services_with_online_dossiers_pct =
            (tally.online > 0).then(|| pct(tally.with_online_dossiers, tally.online));
        self.services = Some(tally);
        self.rescore()
    }

    /// Adds indicator 1.4 and 3.3's synchronisation factor from the store's delivery ledger:
    /// dossiers with at least one message the national portal acknowledged ÷ dossiers received
    /// (docs/indicators.md §2). With nothing delivered yet, 1.4 stays not measured and 3.3
    /// without its factor.
    pub fn with_sync(mut self, ledger: motcua_engine::SyncTally) -> Report {
        let received = self.totals.received;
        self.outside.synced_pct = (ledger.messages_delivered > 0 && received > 0)
            .then(|| pct(ledger.dossiers_synced.min(received), received));
        self.rescore()
    }

    fn rescore(mut self) -> Report {
        let mut measures = self.totals.measures();
        measures.services_with_online_dossiers_pct = self.outside.services_with_online_dossiers_pct;
        measures.synced_pct = self.outside.synced_pct;
        measures.procedures_online_pct = self.outside.procedures_online_pct;
        measures.payment_integrated_pct = self.outside.payment_integrated_pct;
        measures.paid_online_pct = self.outside.paid_online_pct;
        measures.feedback_classified_pct = self.outside.feedback_classified_pct;
        measures.feedback_on_time_pct = self.outside.feedback_on_time_pct;
        measures.feedback_satisfaction_pct = self.outside.feedback_satisfaction_pct;
        self.scorecard = Scorecard::of(&measures);
        self
    }

    /// One CSV table: `dimension,key,name,received,online,resolved,early,on_time,late,open,
    /// open_overdue,early_or_on_time_pct,early_or_on_time_766_pct,avg_resolution_working_days,
    /// score_766`: 2.1 by the province convention (resolved only) and by Decision 766's formula
    /// side by side. Dimensions: `total`, `month` (of receipt), `agency`, `sector`,
    /// `procedure`, `unit`, `period` (of completion, with dossiers open at its end). Steps follow as
    /// dimensions `step` (key `agency/step`) and `step_agency` (key the agency): `received` is
    /// the steps started, `resolved` those completed, `online`, the average and the score empty.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "dimension,key,name,received,online,resolved,early,on_time,late,open,open_overdue,early_or_on_time_pct,early_or_on_time_766_pct,avg_resolution_working_days,score_766\n",
        );
        let quote = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut line = |dimension: &str, r: &Row| {
            out.push_str(&format!(
                "{dimension},{},{},{},{},{},{},{},{},{},{},{:.2},{:.2},{},{}\n",
                quote(&r.key),
                quote(&r.name),
                r.received,
                r.online,
                r.resolved,
                r.early,
                r.on_time,
                r.late,
                r.open,
                r.open_overdue,
                r.early_or_on_time_pct,
                r.early_or_on_time_766_pct,
                r.avg_resolution_working_days.map_or(String::new(), |d| format!("{d:.2}")),
                r.score_766.map_or(String::new(), |d| format!("{d:.2}"))
            ));
        };
        line("total", &self.totals);
        for r in &self.by_month {
            line("month", r);
        }
        for r in &self.by_agency {
            line("agency", r);
        }
        for r in &self.by_sector {
            line("sector", r);
        }
        for r in &self.by_procedure {
            line("procedure", r);
        }
        for r in &self.by_unit {
            line("unit", r);
        }
        for r in &self.by_period {
            line("period", r);
        }
        let mut step_line = |dimension: &str, key: &str, r: &StepRow| {
            let completed = r.early + r.on_time + r.late;
            out.push_str(&format!(
                "{dimension},{},,{},,{},{},{},{},{},{},{:.2},,,\n",
                quote(key),
                r.started,
                completed,
                r.early,
                r.on_time,
                r.late,
                r.open,
                r.open_overdue,
                if completed > 0 { 100.0 - r.late_pct } else { 0.0 }
            ));
        };
        for r in &self.by_step {
            step_line("step", &format!("{}/{}", r.agency, r.step), r);
        }
        for r in &self.by_step_agency {
            step_line("step_agency", &r.agency, r);
        }
        out
    }
}
