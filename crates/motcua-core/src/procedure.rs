//! Procedures (thủ tục hành chính): what a dossier of a given kind must go through, in how much
//! time, under which policy. Pure data plus structural validation; `motcua-catalog` reads it from
//! files and maps validation errors to file and line.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::NaiveDate;
use motcua_calendar::{Limit, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::command::Command;
use crate::dossier::Dossier;
use crate::ids::{ProcedureCode, Vnd};
use crate::status::Channel;

/// Most steps a procedure may have.
pub const MAX_STEPS: usize = 64;

/// The government level that decides the procedure.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A ministry or central agency.
    Ministry,
    /// Province level (cấp tỉnh).
    Province,
    /// Commune level (cấp xã).
    Commune,
}

/// How far the procedure can be done online (NĐ 42/2022/NĐ-CP Art. 11).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    /// Dịch vụ công trực tuyến toàn trình: end to end online.
    Full,
    /// Dịch vụ công trực tuyến một phần: partly online.
    Partial,
    /// No online service.
    None,
}

/// Who performs a step.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An officer of the one-stop shop (Bộ phận Một cửa).
    Clerk,
    /// A specialist who appraises the dossier.
    Specialist,
    /// A leader who signs the decision.
    Leader,
}

/// What happens to the clock when a complete supplement arrives (docs/rules.md §7).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplementPolicy {
    /// The full limit restarts from the supplement's receipt (NĐ 61/2018 Art. 19(4):
    /// "thời hạn giải quyết được tính lại từ đầu"). The legal default.
    Restart,
    /// The working time between request and supplement is added to the due time (the
    /// Decision 766 metric).
    Pause,
}

/// The receipt cut-off a procedure uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cutoff {
    /// The calendar's (province's) cut-off.
    Calendar,
    /// A cut-off at this minute of the day.
    At(u16),
    /// No cut-off.
    Disabled,
}

/// Rules a procedure follows where the law leaves a choice (docs/rules.md §4–§7).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Policy {
    /// Receipt cut-off.
    pub cutoff: Cutoff,
    /// Restart or pause on supplement.
    pub supplement: SupplementPolicy,
    /// How long after receipt a supplement may be requested (NĐ 61/2018 Art. 19(4): 3 working
    /// days); `None` = no window.
    pub supplement_window: Option<Limit>,
    /// How long the applicant has to supplement before the dossier may be closed (NĐ 297/2025:
    /// 15 working days); `None` = no deadline.
    pub supplement_deadline: Option<Limit>,
    /// Whether a financial obligation (status 6) pauses the clock.
    pub pause_on_financial_obligation: bool,
    /// Whether a suspension pauses the clock.
    pub pause_on_suspension: bool,
    /// Whether a declared outage of the systems pauses the clock (Decree 301/2026/NĐ-CP for the
    /// electronic inter-agency groups; off by default: no general text says so).
    #[serde(default)]
    pub pause_on_outage: bool,
}

impl Default for Policy {
    /// The national default: calendar cut-off, restart on supplement within 3 working days of
    /// receipt, 15 working days to supplement, financial obligations and suspensions pause.
    fn default() -> Self {
        Policy {
            cutoff: Cutoff::Calendar,
            supplement: SupplementPolicy::Restart,
            supplement_window: Some(Limit::working_days(3)),
            supplement_deadline: Some(Limit::working_days(15)),
            pause_on_financial_obligation: true,
            pause_on_suspension: true,
            pause_on_outage: false,
        }
    }
}

/// A step's identifier, unique within its procedure. Shared text: events and states clone it
/// for a reference-count increment, not an allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StepId(pub Arc<str>);

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for StepId {
    fn from(s: &str) -> Self {
        StepId(Arc::from(s))
    }
}

/// One step of the internal or inter-agency process (quy trình nội bộ / liên thông).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Step {
    /// Identifier, unique in the procedure.
    pub id: StepId,
    /// What happens.
    pub name: String,
    /// The agency that performs it (a label such as `commune-people-committee`, or a code).
    pub agency: Arc<str>,
    /// Who performs it.
    pub role: Role,
    /// Its share of the limit, in working time (docs/rules.md §8).
    pub allotment: Limit,
    /// Steps that must be complete before this one starts (none: it may start at receipt).
    pub after: Vec<StepId>,
}

impl Step {
    /// A step performed by a specialist of `agency`, named after its id; `after` lists its
    /// predecessors.
    ///
    /// ```
    /// use motcua_calendar::Limit;
    /// use motcua_core::{Role, Step};
    /// let s = Step::new("tham-dinh", "ubnd-xa", Limit::WorkingDays { quarters: 2 }, &["tiep-nhan"]).with_role(Role::Leader);
    /// assert_eq!(&*s.after[0].0, "tiep-nhan");
    /// ```
    pub fn new(id: &str, agency: &str, allotment: Limit, after: &[&str]) -> Step {
        Step {
            id: id.into(),
            name: id.to_string(),
            agency: Arc::from(agency),
            role: Role::Specialist,
            allotment,
            after: after.iter().map(|&a| a.into()).collect(),
        }
    }

    /// The same step performed by `role`.
    pub fn with_role(mut self, role: Role) -> Step {
        self.role = role;
        self
    }
}

/// In what form a component is asked for (the national portal's `LoaiBan`: 0 original, 1 copy,
/// 2 electronic).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyKind {
    /// The original (bản chính).
    Original,
    /// A certified copy, or a copy shown with its original (bản sao).
    CertifiedCopy,
    /// An electronic document (bản điện tử).
    Electronic,
}

/// A document the applicant submits (a component of the dossier, thành phần hồ sơ).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Document {
    /// Its name.
    pub name: String,
    /// Whether it is required (otherwise conditional: asked for only in the cases its name says).
    pub required: bool,
    /// In what form it is asked for, when the procedure says.
    #[serde(default)]
    pub copy: Option<CopyKind>,
    /// The kind of result (another procedure's result document) that satisfies it when the
    /// applicant already holds one in force: reused from the warehouse instead of paper.
    #[serde(default)]
    pub accepts: Option<String>,
    /// The ground (of the digitisation rules in force) on which it is not digitised at the
    /// counter, e.g. a physical sample (`mau-vat`).
    #[serde(default)]
    pub digitisation_exempt: Option<String>,
    /// Its code in the national procedure database (`000.00.00.G01-KQ003641`), when imported
    /// from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// When a fee is assessed (the national portal's fee collection time: 1 at receipt, 2 at a
/// supplement, 4 at the result).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeStage {
    /// At receipt (the default).
    #[default]
    Intake,
    /// When a supplement is received.
    Supplement,
    /// When the result is issued.
    Result,
}

/// A reduced amount on a ground.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FeeReduction {
    /// The ground, by name.
    pub ground: String,
    /// The amount on that ground.
    pub amount: Vnd,
}

/// A per-unit amount from a given unit on (e.g. from the third page of a certified copy).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct FeeTier {
    /// The first unit (1-based) this amount applies to.
    pub from: u32,
    /// The amount per unit from there.
    pub amount: Vnd,
}

/// A fee or charge (lệ phí, phí) of a procedure, as its fee schedule fixes it (the Law on Fees
/// and Charges 2015 and the Ministry of Finance's circulars or the provincial council's
/// resolutions it names: fixed, per unit, reduced for online submission, with exemptions).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Fee {
    /// What it is for.
    pub name: String,
    /// Amount: for the whole case, or per unit when `per` is given.
    pub amount: Vnd,
    /// The unit it is charged per (page, copy, person), none: a fixed amount per case.
    #[serde(default)]
    pub per: Option<String>,
    /// A lower per-unit amount from a given unit on (Circular 226/2016/TT-BTC: certified
    /// copies 2,000 đồng a page, 1,000 from the third).
    #[serde(default)]
    pub then: Option<FeeTier>,
    /// The most it comes to in one assessment (certified copies: 200,000 đồng a copy).
    #[serde(default)]
    pub max: Option<Vnd>,
    /// The amount (per case or per unit, like `amount`) when the dossier was submitted online,
    /// where the schedule reduces it (e.g. Circular 75/2022/TT-BTC: residence registration).
    #[serde(default)]
    pub online: Option<Vnd>,
    /// Grounds on which an applicant is exempt, by name (e.g. `nguoi-co-cong`, `ho-ngheo`).
    #[serde(default)]
    pub exempt: Vec<String>,
    /// Grounds on which an applicant pays a reduced amount (per case or per unit, like
    /// `amount`), e.g. students for a criminal record certificate (Circular 244/2016/TT-BTC).
    #[serde(default)]
    pub reduced: Vec<FeeReduction>,
    /// When it is assessed.
    #[serde(default)]
    pub stage: FeeStage,
    /// Where the schedule comes from (circular, resolution, article).
    #[serde(default)]
    pub source: String,
    /// The amount is the provincial council's (Law on Fees and Charges 2015, Art. 21) and no
    /// province file in force gives it: the fee is listed but never assessed, and an assessment
    /// of its stage is refused naming it ([`crate::DomainError::UnpricedFee`]). Costs no stored
    /// byte: a procedure version is data, not an event.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unpriced: bool,
}

impl Fee {
    /// Whether `ground` is one of its grounds of exemption or reduction.
    pub fn knows_ground(&self, ground: &str) -> bool {
        self.exempt.iter().any(|e| e == ground) || self.reduced.iter().any(|r| r.ground == ground)
    }

    /// A fixed fee of `amount` per case, assessed at receipt.
    pub fn fixed(name: &str, amount: Vnd) -> Fee {
        Fee {
            name: name.to_string(),
            amount,
            per: None,
            then: None,
            max: None,
            online: None,
            exempt: Vec::new(),
            reduced: Vec::new(),
            stage: FeeStage::Intake,
            source: String::new(),
            unpriced: false,
        }
    }

    /// What it comes to for `units` units (1 for a fixed fee), the dossier submitted online or
    /// not, on the applicant's `ground` if any: zero when `ground` is one of its exemptions;
    /// else the lowest of its amount, its online amount (for an online dossier) and its reduced
    /// amount on `ground`, per unit with its tier, capped. `None` on overflow.
    ///
    /// ```
    /// use motcua_core::{Fee, FeeTier, Vnd};
    /// // A certified copy: 2,000 đồng a page, 1,000 from the third, at most 200,000.
    /// let fee = Fee {
    ///     per: Some("trang".into()),
    ///     then: Some(FeeTier { from: 3, amount: Vnd::from_dong(1000) }),
    ///     max: Some(Vnd::from_dong(200_000)),
    ///     ..Fee::fixed("Phí chứng thực bản sao", Vnd::from_dong(2000))
    /// };
    /// assert_eq!(fee.assess(5, false, None), Some(Vnd::from_dong(7000)));
    /// assert_eq!(fee.assess(500, false, None), Some(Vnd::from_dong(200_000)));
    /// ```
    pub fn assess(&self, units: u32, online: bool, ground: Option<&str>) -> Option<Vnd> {
        if ground.is_some_and(|g| self.exempt.iter().any(|e| e == g)) {
            return Some(Vnd::ZERO);
        }
        let mut rate = match (online, self.online) {
            (true, Some(reduced)) => reduced.min(self.amount),
            _ => self.amount,
        };
        if let Some(r) = ground.and_then(|g| self.reduced.iter().find(|r| r.ground == g)) {
            rate = rate.min(r.amount);
        }
        let total = if self.per.is_none() {
            rate.amount()
        } else {
            let units = units.max(1);
            let (full, rest) = match self.then {
                Some(t) if t.from >= 1 && units >= t.from => (t.from - 1, Some((units - t.from + 1, t.amount))),
                _ => (units, None),
            };
            let mut total = rate.amount().checked_mul(full.into())?;
            if let Some((n, amount)) = rest {
                total = total.checked_add(amount.amount().checked_mul(n.into())?)?;
            }
            total
        };
        let total = Vnd::new(total)?;
        Some(self.max.map_or(total, |m| total.min(m)))
    }
}

/// A document the procedure issues.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ResultDocument {
    /// Its name.
    pub name: String,
    /// How long it stays valid, in calendar days (`None`: indefinitely), so a later dossier can
    /// reuse it.
    pub valid_days: Option<u32>,
}

/// An administrative procedure.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Procedure {
    /// National or localised code.
    pub code: ProcedureCode,
    /// Official name.
    pub name: String,
    /// Sector (lĩnh vực), e.g. "Hộ tịch".
    pub sector: String,
    /// Deciding level.
    pub level: Level,
    /// Online level.
    pub online: OnlineLevel,
    /// Whether its online service is integrated with the national portal (published and
    /// synchronised there; the seed province reports 812 of its 829 online services so).
    /// Catalogs default it to "has an online service".
    #[serde(default)]
    pub integrated: bool,
    /// Whether its fees can be paid online (Decision 766, 3.5).
    #[serde(default)]
    pub online_payment: bool,
    /// Statutory time limit.
    pub limit: Limit,
    /// Where the limit comes from (law, article).
    pub limit_source: String,
    /// Steps, in the order written (the order of `after` decides what runs when).
    pub steps: Vec<Step>,
    /// Documents to submit.
    pub documents: Vec<Document>,
    /// Fees and charges.
    pub fees: Vec<Fee>,
    /// Documents issued.
    pub results: Vec<ResultDocument>,
    /// Policy.
    pub policy: Policy,
    /// The first day this version is in force (none: since always). A catalog may hold several
    /// versions of one code, each from its own day; a dossier follows the version in force on
    /// the day it was received, to the end ([`version_for`]), so an edit never changes the
    /// rules of a dossier already open.
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// The last day it is in force (none: until the next version starts).
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// Limits that differ by how the dossier was submitted (the national procedure database
    /// keeps one per submission method: a procedure may be 3 working days at the counter and
    /// 2 online); a channel not listed here takes [`Procedure::limit`]. Each channel at most once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_limits: Vec<(Channel, Limit)>,
    /// Cases with limits of their own (the national procedure database lists, for one
    /// submission method, a limit per case: "1 working day; a complex case 2"). A receipt names
    /// its case; one that names none takes [`Procedure::limit`], unless
    /// [`Procedure::case_required`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<ProcedureCase>,
    /// Whether a receipt must name one of [`Procedure::cases`] (the procedure has no limit of
    /// its own that a dossier outside its cases could take).
    #[serde(default)]
    pub case_required: bool,
    /// The published list that lets this version be received outside its competent unit's
    /// area, and how far (from 5/8/2026 only listed procedures may be: Decree 309/2026/NĐ-CP),
    /// with the list's source; none: not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_area: Option<(crate::BoundaryScope, String)>,
}

/// A case of a procedure with a limit of its own.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ProcedureCase {
    /// Short id a receipt names (`phuc-tap`).
    pub id: String,
    /// What the case is, as the procedure says it.
    pub name: String,
    /// Its limit (at the counter, and for any channel without its own).
    pub limit: Limit,
    /// Its limits that differ by channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_limits: Vec<(Channel, Limit)>,
}

impl ProcedureCase {
    /// The case's limit for a dossier submitted through `channel`.
    pub fn limit_for(&self, channel: Channel) -> Limit {
        channel_limit(self.limit, &self.channel_limits, channel)
    }
}

/// `channel`'s own limit among `own`, else `base`.
fn channel_limit(base: Limit, own: &[(Channel, Limit)], channel: Channel) -> Limit {
    own.iter().find(|(c, _)| *c == channel).map_or(base, |(_, l)| *l)
}

impl Procedure {
    /// Whether this version is in force on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.effective_from.is_none_or(|f| f <= day) && self.effective_to.is_none_or(|t| day <= t)
    }

    /// The limit of a dossier submitted through `channel`: its own if the procedure sets one,
    /// otherwise [`Procedure::limit`].
    ///
    /// ```
    /// # use motcua_core::{Channel, Procedure};
    /// # use motcua_calendar::Limit;
    /// # fn show(mut p: Procedure) {
    /// p.limit = Limit::WorkingDays { quarters: 12 };
    /// p.channel_limits = vec![(Channel::Online, Limit::WorkingDays { quarters: 8 })];
    /// assert_eq!(p.limit_for(Channel::Online), Limit::WorkingDays { quarters: 8 });
    /// assert_eq!(p.limit_for(Channel::Postal), Limit::WorkingDays { quarters: 12 });
    /// # }
    /// ```
    pub fn limit_for(&self, channel: Channel) -> Limit {
        channel_limit(self.limit, &self.channel_limits, channel)
    }

    /// Every limit the procedure sets: its default, each channel's own, then its cases'.
    pub fn limits(&self) -> impl Iterator<Item = Limit> + '_ {
        std::iter::once(self.limit).chain(self.channel_limits.iter().map(|(_, l)| *l)).chain(
            self.cases.iter().flat_map(|c| std::iter::once(c.limit).chain(c.channel_limits.iter().map(|(_, l)| *l))),
        )
    }

    /// The limit of a dossier submitted through `channel` under `case` (none: the procedure's
    /// own). `Err` names what is wrong: a case the procedure does not have, or none named where
    /// the procedure requires one.
    pub fn limit_of(&self, case: Option<&str>, channel: Channel) -> Result<Limit, crate::DomainError> {
        match case {
            Some(id) => self
                .cases
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.limit_for(channel))
                .ok_or_else(|| crate::DomainError::UnknownCase { case: id.to_string(), cases: self.case_ids() }),
            None if self.case_required => Err(crate::DomainError::CaseRequired { cases: self.case_ids() }),
            None => Ok(self.limit_for(channel)),
        }
    }

    fn case_ids(&self) -> String {
        self.cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// The version of `versions` (one code's, in order of `effective_from`, an undated version
/// first) in force on `day`: the latest that has started and not ended.
pub fn version_in_force(versions: &[Procedure], day: NaiveDate) -> Option<&Procedure> {
    versions.iter().rev().find(|p| p.in_force(day))
}

/// The version that rules `command` on a dossier in `state` at `now`: for a new dossier (a
/// submission, or the receipt of one) the version in force that day; for a dossier already
/// received, the version its receipt pinned ([`Dossier::procedure_version`]: that version's
/// `effective_from`, or the undated version). `None` when that version is no longer among
/// `versions`: a dossier never goes on silently under rules it was not received under.
pub fn version_for<'a>(
    versions: &'a [Procedure],
    state: &Dossier,
    command: &Command,
    now: Timestamp,
) -> Option<&'a Procedure> {
    let creates = matches!(command, Command::Submit { .. } | Command::Receive { .. });
    if creates {
        return version_in_force(versions, now.local_date());
    }
    versions.iter().find(|p| p.effective_from == state.procedure_version)
}

/// What is structurally wrong with a procedure. `field` is a path such as `steps[2].after`.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProcedureError {
    /// Field path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn perr(field: impl Into<String>, message: impl Into<String>) -> ProcedureError {
    ProcedureError { field: field.into(), message: message.into() }
}

/// Working minutes a limit stands for, at 8 hours a day, for comparing allotments with limits.
pub fn nominal_minutes(limit: Limit) -> Option<u64> {
    match limit {
        Limit::WorkingMinutes(m) => Some(u64::from(m)),
        Limit::WorkingDays { quarters } => Some(u64::from(quarters) * 120),
        Limit::SameDay => Some(480),
        Limit::CalendarDays(d) => Some(u64::from(d) * 480),
        Limit::NoDueTime => None,
    }
}

impl Procedure {
    /// Index of step `id`.
    pub fn step_index(&self, id: &StepId) -> Option<usize> {
        self.steps.iter().position(|s| &s.id == id)
    }

    /// Checks the structure: unique step ids, known predecessors, no cycles, working-time
    /// allotments, and no chain of steps whose allotments exceed the limit. Returns every
    /// problem found.
    pub fn validate(&self) -> Result<(), Vec<ProcedureError>> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(perr("name", "must not be empty"));
        }
        if self.steps.len() > MAX_STEPS {
            errors.push(perr("steps", format!("at most {MAX_STEPS} steps")));
        }
        // What a receipt names must fit what a receipt may carry (the same bounds `decide`
        // checks), so a procedure that `check` accepts never refuses its own components.
        for (i, d) in self.documents.iter().enumerate() {
            if d.name.chars().count() > crate::MAX_NAME_CHARS {
                errors.push(perr(
                    format!("documents[{i}].name"),
                    format!("at most {} characters (a receipt names it)", crate::MAX_NAME_CHARS),
                ));
            }
        }
        if self.documents.len() > crate::MAX_DOCUMENTS {
            errors.push(perr("documents", format!("at most {} components", crate::MAX_DOCUMENTS)));
        }
        let mut seen = HashSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            if !seen.insert(&s.id) {
                errors.push(perr(format!("steps[{i}].id"), format!("duplicate step id {:?}", s.id.0)));
            }
            if matches!(s.allotment, Limit::CalendarDays(_) | Limit::NoDueTime) {
                errors.push(perr(
                    format!("steps[{i}].allotment"),
                    format!("a step's allotment must be working time, not {}", s.allotment),
                ));
            }
            for a in &s.after {
                if self.step_index(a).is_none() {
                    errors.push(perr(format!("steps[{i}].after"), format!("unknown step {:?}", a.0)));
                }
                if a == &s.id {
                    errors.push(perr(format!("steps[{i}].after"), "a step cannot follow itself"));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // Longest chain (in nominal minutes) ending at each step; detects cycles.
        let order = match self.topological_order() {
            Ok(o) => o,
            Err(cycle) => return Err(vec![cycle]),
        };
        let mut longest: HashMap<usize, u64> = HashMap::new();
        for &i in &order {
            let s = &self.steps[i];
            let before = s.after.iter().filter_map(|a| self.step_index(a)).map(|j| longest[&j]).max().unwrap_or(0);
            longest.insert(i, before + nominal_minutes(s.allotment).unwrap_or(0));
        }
        let longest = longest.iter().max_by_key(|(_, &v)| v);
        let shortest = self.limits().filter_map(|l| Some((l, nominal_minutes(l)?))).min_by_key(|&(_, m)| m);
        if let (Some((limit, minutes)), Some((&i, &total))) = (shortest, longest) {
            if total > minutes {
                errors.push(perr(
                    "steps",
                    format!(
                        "the chain ending at step {:?} takes {} working hours, more than the limit {} ({} h)",
                        self.steps[i].id.0,
                        total as f64 / 60.0,
                        limit,
                        minutes as f64 / 60.0
                    ),
                ));
            }
        }
        for (k, case) in self.cases.iter().enumerate() {
            if case.id.trim().is_empty() || self.cases[..k].iter().any(|c| c.id == case.id) {
                errors.push(perr(format!("cases[{k}].id"), format!("{:?}: empty or used twice", case.id)));
            }
        }
        if self.case_required && self.cases.is_empty() {
            errors.push(perr("case_required", "no cases to choose from"));
        }
        for (k, (channel, _)) in self.channel_limits.iter().enumerate() {
            if self.channel_limits[..k].iter().any(|(c, _)| c == channel) {
                errors.push(perr(format!("channel_limits[{k}]"), format!("a second limit for channel {channel:?}")));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Step indices in an order where every step comes after its predecessors, or the error
    /// naming a step on a cycle.
    pub fn topological_order(&self) -> Result<Vec<usize>, ProcedureError> {
        let n = self.steps.len();
        let mut indegree = vec![0usize; n];
        for (i, s) in self.steps.iter().enumerate() {
            indegree[i] = s.after.iter().filter(|a| self.step_index(a).is_some()).count();
        }
        let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop() {
            order.push(i);
            for (j, s) in self.steps.iter().enumerate() {
                if s.after.contains(&self.steps[i].id) {
                    indegree[j] -= 1;
                    if indegree[j] == 0 {
                        ready.push(j);
                    }
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            let stuck = (0..n).find(|i| !order.contains(i)).unwrap_or(0);
            Err(perr(format!("steps[{stuck}].after"), format!("step {:?} is on a cycle", self.steps[stuck].id.0)))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn step(id: &str, agency: &str, days_quarters: u32, after: &[&str]) -> Step {
        Step::new(id, agency, Limit::WorkingDays { quarters: days_quarters }, after)
    }

    pub(crate) fn procedure(limit: Limit, steps: Vec<Step>) -> Procedure {
        Procedure {
            code: "1.000001".parse().unwrap(),
            name: "Thử nghiệm".into(),
            sector: "Thử".into(),
            level: Level::Commune,
            online: OnlineLevel::Partial,
            integrated: true,
            online_payment: false,
            limit,
            limit_source: "test".into(),
            steps,
            documents: vec![],
            fees: vec![],
            results: vec![],
            policy: Policy::default(),
            effective_from: None,
            effective_to: None,
            channel_limits: Vec::new(),
            cases: Vec::new(),
            case_required: false,
            outside_area: None,
        }
    }

    proptest::proptest! {
        /// A fee assessed per unit never falls when the units grow, never passes its cap, is
        /// nothing on a listed ground of exemption, and no more online than at the counter when
        /// the online rate is lower.
        #[test]
        fn fee_assessment_laws(
            amount in 0u64..1_000_000,
            reduced in 0u64..1_000_000,
            second in proptest::option::of((2u32..10, 0u64..1_000_000)),
            cap in proptest::option::of(0u64..10_000_000),
            units in 0u32..10_000,
            more in 0u32..10_000,
        ) {
            let fee = Fee {
                per: Some("trang".into()),
                then: second.map(|(from, a)| FeeTier { from, amount: Vnd::from_dong(a) }),
                max: cap.map(Vnd::from_dong),
                online: Some(Vnd::from_dong(reduced.min(amount))),
                exempt: vec!["ho-ngheo".into()],
                reduced: vec![FeeReduction { ground: "sinh-vien".into(), amount: Vnd::from_dong(reduced) }],
                ..Fee::fixed("Phí", Vnd::from_dong(amount))
            };
            let a = fee.assess(units, false, None).unwrap();
            let b = fee.assess(units.saturating_add(more), false, None).unwrap();
            proptest::prop_assert!(a <= b);
            if let Some(c) = cap {
                proptest::prop_assert!(b <= Vnd::from_dong(c));
            }
            proptest::prop_assert_eq!(fee.assess(units, true, Some("ho-ngheo")), Some(Vnd::ZERO));
            proptest::prop_assert!(fee.assess(units, true, None).unwrap() <= a);
            proptest::prop_assert!(fee.assess(units, false, Some("sinh-vien")).unwrap() <= a);
        }
    }

    #[test]
    fn valid_chain() {
        let p = procedure(
            Limit::working_days(3),
            vec![step("a", "x", 1, &[]), step("b", "y", 8, &["a"]), step("c", "x", 3, &["b"])],
        );
        p.validate().unwrap();
    }

    #[test]
    fn allotments_exceeding_the_limit() {
        let p = procedure(Limit::working_days(2), vec![step("a", "x", 4, &[]), step("b", "y", 8, &["a"])]);
        let e = p.validate().unwrap_err();
        assert!(e[0].message.contains("more than the limit"), "{e:?}");
        // Parallel steps do not add up.
        let p = procedure(Limit::working_days(2), vec![step("a", "x", 8, &[]), step("b", "y", 8, &[])]);
        p.validate().unwrap();
    }

    #[test]
    fn cycles_unknown_and_duplicate_steps() {
        let p = procedure(Limit::working_days(9), vec![step("a", "x", 1, &["b"]), step("b", "y", 1, &["a"])]);
        assert!(p.validate().unwrap_err()[0].message.contains("cycle"));
        let p = procedure(Limit::working_days(9), vec![step("a", "x", 1, &["zz"])]);
        assert_eq!(p.validate().unwrap_err()[0].field, "steps[0].after");
        let p = procedure(Limit::working_days(9), vec![step("a", "x", 1, &[]), step("a", "y", 1, &[])]);
        assert_eq!(p.validate().unwrap_err()[0].field, "steps[1].id");
    }
}
