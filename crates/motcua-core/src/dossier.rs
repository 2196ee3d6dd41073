//! The dossier and its pure state machine: `decide(&state, &command, now, &context)` returns
//! events or a rejection; `apply(&mut state, &event)` folds an event in. No I/O, no clock, no
//! randomness: time comes in as `now`, working time from the [`Context`]'s calendar.

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::command::{Command, CommandKind, Delivery};
use crate::error::DomainError;
use crate::event::{Event, StepDue};
use crate::ids::{ProcedureCode, Vnd};
use crate::outcome::{Judgement, Outcome};
use crate::procedure::{Cutoff, Procedure, StepId, SupplementPolicy};
use crate::results::IssuedResult;
use crate::status::{Channel, Decision, Status};
use crate::units::Register;

/// The furthest a new appointment may be after the due time it replaces, in days.
pub const MAX_EXTENSION_DAYS: i64 = 366;

/// Most events one command may produce.
pub const MAX_EVENTS_PER_COMMAND: usize = 4;

/// What `decide` needs besides the state: the dossier's procedure and the working calendar,
/// and, to resolve step roles to concrete agencies, the register of units and the receiving
/// agency.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The procedure the dossier follows.
    pub procedure: &'a Procedure,
    /// Working days and office hours.
    pub calendar: &'a WorkCalendar,
    /// The register of units (without one, a step's agency is its label as written).
    pub units: Option<&'a Register>,
    /// The receiving agency's code (a dossier's home unit defaults to its jurisdiction's
    /// first unit).
    pub receiving: Option<&'a str>,
    /// The warehouse's results the command reuses (looked up by the runtime before deciding;
    /// a reused result missing here is refused as not found).
    pub results: &'a [crate::results::KnownResult],
    /// The digitisation rules (what the counter digitises at receipt), if the province gives
    /// them.
    pub digitisation: Option<&'a crate::results::DigitisationRules>,
}

impl<'a> Context<'a> {
    /// A context without a register: steps keep their agency labels.
    pub fn new(procedure: &'a Procedure, calendar: &'a WorkCalendar) -> Context<'a> {
        Context { procedure, calendar, units: None, receiving: None, results: &[], digitisation: None }
    }

    /// Who acts, on `now`, for the dossier's receiving agency and for the step `command` names
    /// (if any): with a register, the agency holding that duty today (itself, or its successor
    /// after a merger); without one, the codes and labels as written. These are what
    /// [`crate::authorize`] compares an officer's agency with.
    pub fn acting(
        &self,
        state: &Dossier,
        command: &Command,
        now: Timestamp,
    ) -> Result<(Option<&'a str>, Option<Arc<str>>), DomainError> {
        let step = match command {
            Command::StartStep { step } | Command::Transfer { step } | Command::CompleteStep { step } => {
                Some(step_agency(self, state, step, now)?)
            }
            // The competent agency: the one that performs the procedure's first step.
            Command::ReceiveTransfer => match self.procedure.steps.first() {
                Some(first) => Some(step_agency(self, state, &first.id, now)?),
                None => None,
            },
            _ => None,
        };
        let Some(register) = self.units else { return Ok((self.receiving, step)) };
        let today = now.local_date();
        let receiving = self.receiving.map(|r| register.holder_on(r, today));
        let step = step.map(|a| match register.holder_on(&a, today) {
            holder if holder == &*a => a,
            holder => Arc::from(holder),
        });
        Ok((receiving, step))
    }
}

/// The administrative unit a new dossier belongs to: the one the command names, else the one
/// it had (a submission being received), else the receiving agency's home unit. Checked
/// against the register when there is one.
fn jurisdiction(
    ctx: &Context<'_>,
    given: Option<&Arc<str>>,
    earlier: Option<&Arc<str>>,
) -> Result<Option<Arc<str>>, DomainError> {
    let named = given.or(earlier);
    let Some(register) = ctx.units else { return Ok(named.cloned()) };
    match named {
        Some(u) if register.unit(u).is_none() => Err(DomainError::UnknownUnit { unit: u.to_string() }),
        Some(u) => Ok(Some(Arc::clone(u))),
        None => Ok(ctx.receiving.and_then(|r| register.home_unit(r)).cloned()),
    }
}

/// The concrete agency that performs `step` of the dossier on the date of `on`: with a
/// register and a dossier unit, the agency that plays the step's role for that unit
/// ([`Register::resolve`]: jurisdiction, ancestors, mergers); else the step's agency as
/// written. A step already started keeps the agency it started at.
pub fn step_agency(ctx: &Context<'_>, state: &Dossier, step: &StepId, on: Timestamp) -> Result<Arc<str>, DomainError> {
    if let Some(s) = state.step_index(step).map(|i| &state.steps[i]).filter(|s| s.started_at.is_some()) {
        return Ok(Arc::clone(&s.agency));
    }
    let i = ctx.procedure.step_index(step).ok_or_else(|| DomainError::UnknownStep { step: step.clone() })?;
    let role = &ctx.procedure.steps[i].agency;
    match (ctx.units, state.jurisdiction.as_deref()) {
        (Some(register), Some(unit)) => {
            register.resolve(role, unit, on.local_date()).map(|a| Arc::clone(&a.code)).ok_or_else(|| {
                DomainError::NoUnitForStep { step: step.clone(), role: role.to_string(), unit: unit.to_string() }
            })
        }
        _ => Ok(Arc::clone(role)),
    }
}

/// Why the clock is stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseKind {
    /// Waiting for a supplement.
    Supplement,
    /// Waiting for fees or taxes.
    FinancialObligation,
    /// Suspended.
    Suspension,
    /// A declared outage of the systems.
    Outage,
}

/// Where the clock stopped and why.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Pause {
    /// When it stopped.
    pub since: Timestamp,
    /// Why.
    pub kind: PauseKind,
    /// Whether the clock really stops (policy), or the dossier only waits.
    pub stops_clock: bool,
    /// The status to return to.
    pub resume_to: Status,
}

/// A step of a dossier.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StepState {
    /// The procedure's step.
    pub id: StepId,
    /// Its agency.
    pub agency: Arc<str>,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// Its due time.
    pub due: Option<Timestamp>,
    /// When it completed.
    pub completed_at: Option<Timestamp>,
    /// Against its due time.
    pub outcome: Option<Outcome>,
}

impl StepState {
    /// Started and not completed.
    pub fn is_active(&self) -> bool {
        self.started_at.is_some() && self.completed_at.is_none()
    }
}

/// The state of one dossier, rebuilt from its events by [`apply`].
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Dossier {
    /// `None` until the first event.
    pub status: Option<Status>,
    /// Number of events applied.
    pub version: u64,
    /// Time of the last event.
    pub last_at: Option<Timestamp>,
    /// Procedure.
    pub procedure: Option<ProcedureCode>,
    /// Channel.
    pub channel: Option<Channel>,
    /// Online submission time.
    pub submitted_at: Option<Timestamp>,
    /// Acceptance time.
    pub received_at: Option<Timestamp>,
    /// Clock start (moves on a supplement restart).
    pub clock_start: Option<Timestamp>,
    /// The due time the dossier is judged against (moved only by supplements and pauses).
    pub due: Option<Timestamp>,
    /// The time promised in an apology letter.
    pub rescheduled_due: Option<Timestamp>,
    /// Whether the apology came less than a working day before the due time.
    pub late_apology: bool,
    /// Supplement requests so far (the 766 metric counts more than one as late).
    pub supplement_requests: u32,
    /// The current pause, if any.
    pub pause: Option<Pause>,
    /// Fees or taxes requested.
    pub financial_obligation: Option<Vnd>,
    /// Steps that have started, in the order they started.
    pub steps: Vec<StepState>,
    /// First terminal instant (finish, withdrawal, stop).
    pub finished_at: Option<Timestamp>,
    /// The decision.
    pub decision: Option<Decision>,
    /// Outcome against `due`.
    pub outcome: Option<Outcome>,
    /// When the applicant was told the result is ready.
    pub result_notified_at: Option<Timestamp>,
    /// When the result was returned.
    pub returned_at: Option<Timestamp>,
    /// The administrative unit whose procedure it is (set at submission or receipt when known).
    pub jurisdiction: Option<Arc<str>>,
    /// Whether the applicant was already asked, before acceptance, to complete it.
    pub completion_requested: bool,
    /// The version of its procedure pinned at receipt (that version's `effective_from`; none
    /// for an undated procedure).
    pub procedure_version: Option<chrono::NaiveDate>,
    /// The procedure's case it falls under, when the receipt named one.
    pub case: Option<Arc<str>>,
    /// Received outside the competent unit's area under Decree 309/2026/NĐ-CP: by when the
    /// desk had to transfer it (none for any other receipt).
    pub transfer_due: Option<Timestamp>,
    /// When the competent agency received it, once it did (its clock starts then).
    pub transferred_at: Option<Timestamp>,
    /// The competent agency a desk outside the area transfers it to: reports count the dossier
    /// to it rather than to the desk.
    pub competent: Option<crate::AgencyCode>,
    /// Who applies, when known (a pseudonymous key).
    pub applicant: Option<crate::applicant::Applicant>,
    /// The documents received with it.
    pub documents: Vec<crate::results::SubmittedDocument>,
    /// Components received on paper that the digitisation rules required digitised.
    pub undigitised: Vec<String>,
    /// The result its approval issued.
    pub result: Option<crate::results::IssuedResult>,
    /// Fees assessed, in all.
    pub assessed: Vnd,
    /// Fees paid, in all.
    pub paid: Vnd,
    /// … of which refunded.
    pub refunded: Vnd,
    /// Whether any payment was online.
    pub paid_online: bool,
    /// The applicant's rating: satisfied or not.
    pub rating: Option<bool>,
    /// Its result was revoked.
    pub result_revoked: bool,
    /// Its result's expiry was recorded.
    pub result_expired: bool,
    /// Feedback and complaints about it, in the order received.
    pub feedback: Vec<crate::feedback::Feedback>,
}

impl Dossier {
    /// A dossier that does not exist yet.
    pub fn new() -> Dossier {
        Dossier::default()
    }

    /// Rebuilds a dossier from its events.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Dossier {
        let mut d = Dossier::new();
        for e in events {
            apply(&mut d, e);
        }
        d
    }

    /// Where the dossier stands at `now`: its outcome when finished; otherwise in time, overdue,
    /// or with its clock stopped — a stopped clock is never overdue (the one definition of
    /// overdue, shared with the store's deadline queries and the report).
    pub fn judgement(&self, now: Timestamp) -> Judgement {
        if let Some(o) = self.outcome {
            return Judgement::Finished(o);
        }
        let Some(due) = self.due else { return Judgement::NoDueTime };
        if self.finished_at.is_some() {
            return Judgement::NoDueTime;
        }
        if self.pause.is_some_and(|p| p.stops_clock) {
            return Judgement::ClockStopped;
        }
        if now > due {
            Judgement::Overdue
        } else {
            Judgement::InTime
        }
    }

    /// Steps that finished late, or are still running past their due time at `now`: the steps
    /// and agencies that overran (docs/rules.md §8).
    pub fn late_steps(&self, now: Timestamp) -> Vec<&StepState> {
        self.steps
            .iter()
            .filter(|s| match (s.outcome, s.due) {
                (Some(o), _) => o == Outcome::Late,
                (None, Some(due)) => s.is_active() && now > due,
                _ => false,
            })
            .collect()
    }

    /// Whether the rescheduled promise was kept (`None` without a rescheduling or before the
    /// end).
    pub fn kept_new_promise(&self) -> Option<bool> {
        Some(self.finished_at? <= self.rescheduled_due?)
    }

    /// Whether the applicant's time to supplement has run out at `now`, so the agency may stop
    /// the dossier (NĐ 297/2025: 15 working days from the request; the procedure's
    /// `policy.supplement_deadline`). `decide` does not stop it by itself: the law says the
    /// dossier *may* be closed.
    pub fn supplement_expired(&self, now: Timestamp, ctx: &Context<'_>) -> Result<bool, DomainError> {
        let (Some(pause), Some(limit)) = (self.pause, ctx.procedure.policy.supplement_deadline) else {
            return Ok(false);
        };
        if pause.kind != PauseKind::Supplement {
            return Ok(false);
        }
        Ok(ctx.calendar.due_from(pause.since, limit)?.is_some_and(|deadline| now > deadline))
    }

    fn step_index(&self, id: &StepId) -> Option<usize> {
        self.steps.iter().position(|s| &s.id == id)
    }
}

/// The documents received with a dossier: each names a component of the procedure; a
/// digitised one carries a SHA-256; a reused result must be in the warehouse, the applicant's,
/// not revoked, in force on the day of receipt, and of the kind the component accepts
/// (Decree 45/2020/NĐ-CP Art. 11-12; Decree 107/2021/NĐ-CP, Decree 61/2018 Art. 15 as amended:
/// what the agencies already hold is not asked for again).
fn check_documents(
    ctx: &Context<'_>,
    documents: &[crate::results::SubmittedDocument],
    applicant: Option<&crate::applicant::Applicant>,
    now: Timestamp,
) -> Result<(), DomainError> {
    use crate::results::DocumentForm;
    for d in documents {
        let component = ctx
            .procedure
            .documents
            .iter()
            .find(|c| c.name == d.component)
            .ok_or_else(|| DomainError::UnknownComponent { component: d.component.clone() })?;
        match &d.form {
            DocumentForm::Paper => {}
            DocumentForm::Digitised { sha256, .. } => {
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(DomainError::BadDigest { component: d.component.clone() });
                }
            }
            DocumentForm::Reused { result: number } => {
                let Some(who) = applicant else {
                    return Err(DomainError::ApplicantRequired {
                        component: d.component.clone(),
                        number: number.clone(),
                    });
                };
                let found = ctx
                    .results
                    .iter()
                    .find(|r| &r.number == number)
                    .ok_or_else(|| DomainError::ResultNotFound { number: number.clone() })?;
                if found.holder.as_ref() != Some(&who.key) {
                    return Err(DomainError::ResultOfAnotherApplicant { number: number.clone() });
                }
                if found.revoked {
                    return Err(DomainError::ResultRevoked { number: number.clone() });
                }
                if let Some(valid_until) = found.valid_until.filter(|&v| v < now.local_date()) {
                    return Err(DomainError::ResultExpired { number: number.clone(), valid_until });
                }
                if component.accepts.as_deref() != Some(found.kind.as_str()) {
                    return Err(DomainError::ResultWrongKind {
                        number: number.clone(),
                        kind: found.kind.clone(),
                        component: d.component.clone(),
                        accepts: component.accepts.clone().unwrap_or_else(|| "no result".into()),
                    });
                }
            }
        }
    }
    Ok(())
}

fn not_allowed(command: CommandKind, status: Option<Status>) -> DomainError {
    DomainError::NotAllowed { command, status }
}

/// The command meant, when `command` is refused in `status` and a similar one is allowed there:
/// the completion before acceptance (`request_completion`, then the applicant's `resubmit`) and
/// the supplement after it (`request_supplement`, then `receive_supplement`) are told apart,
/// and a dossier already received or submitted is not created again. Named in the
/// `not_allowed` error's text.
pub fn allowed_instead(command: CommandKind, status: Option<Status>) -> Option<CommandKind> {
    use CommandKind as K;
    use Status as S;
    match (command, status?) {
        (K::Resubmit, S::SupplementRequested) => Some(K::ReceiveSupplement),
        (K::ReceiveSupplement, S::CompletionRequested) => Some(K::Resubmit),
        (K::RequestCompletion, S::Received | S::InProgress) => Some(K::RequestSupplement),
        (K::RequestSupplement, S::Submitted | S::CompletionRequested) => Some(K::RequestCompletion),
        (K::Submit, S::Submitted | S::CompletionRequested) => Some(K::Receive),
        (K::Receive, S::SupplementRequested) => Some(K::ReceiveSupplement),
        _ => None,
    }
}

/// The cut-off a procedure's policy gives on a calendar.
/// The transfer due time of a receipt at a desk outside the competent unit's area, under the
/// one-stop rules in force on the day the dossier was first received (an online submission's
/// day, else this receipt's): none inside the area, online, without a register, or under the
/// rules before Decree 309/2026/NĐ-CP; refused for a procedure no published list covers. With
/// the due time, the competent agency (the first step's for the unit, that day).
fn outside_area_transfer(
    ctx: &Context<'_>,
    state: &Dossier,
    code: &ProcedureCode,
    channel: Channel,
    unit: Option<&str>,
    now: Timestamp,
) -> Result<Option<(Timestamp, Option<crate::AgencyCode>)>, DomainError> {
    let (Some(register), Some(unit), Some(receiving)) = (ctx.units, unit, ctx.receiving) else { return Ok(None) };
    if channel == Channel::Online {
        return Ok(None);
    }
    let Some(same_province) = crate::outside_area(register, receiving, unit, now.local_date()) else {
        return Ok(None);
    };
    let first = state.submitted_at.unwrap_or(now).local_date();
    let crate::OutsideArea::TransferToCompetent { cutoff_minute } = crate::one_stop_rules_on(first).outside_area else {
        return Ok(None);
    };
    let listed = match &ctx.procedure.outside_area {
        Some((crate::BoundaryScope::Nation, _)) => true,
        Some((crate::BoundaryScope::Province, _)) => same_province,
        None => false,
    };
    if !listed {
        return Err(DomainError::NotListedOutsideArea { procedure: code.to_string(), unit: unit.to_string() });
    }
    // Within the working day, or at the next working day's opening when received after the
    // cut-off (or on a day off): the same-day appointment says which.
    let a = ctx.calendar.appointment_with_cutoff(now, Limit::SameDay, Some(cutoff_minute))?;
    let in_time = a.clock_start.local_date() == now.local_date();
    let due = if in_time { a.due.unwrap_or(a.clock_start) } else { a.clock_start };
    let to = ctx
        .procedure
        .steps
        .first()
        .and_then(|s| register.resolve(&s.agency, unit, now.local_date()))
        .and_then(|a| a.code.parse().ok());
    Ok(Some((due, to)))
}

fn cutoff(ctx: &Context<'_>) -> Option<u16> {
    match ctx.procedure.policy.cutoff {
        Cutoff::Calendar => ctx.calendar.office_hours().cutoff,
        Cutoff::At(m) => Some(m),
        Cutoff::Disabled => None,
    }
}

/// Decides what a command does to a dossier at `now`. Pure and total: events, or the first
/// rejection in [`DomainError`]'s precedence order.
///
/// ```
/// use motcua_calendar::{Limit, WorkCalendar};
/// use motcua_core::*;
/// let cal = WorkCalendar::builder().years(2025, 2025).build().unwrap();
/// let procedure = Procedure::simple("1.001193".parse().unwrap(), "Đăng ký khai sinh", Limit::SameDay);
/// let ctx = Context::new(&procedure, &cal);
/// let mut dossier = Dossier::new();
/// let receive = Command::receive(procedure.code.clone(), Channel::Direct);
/// for e in decide(&dossier, &receive, "2025-03-07T15:30".parse()?, &ctx).unwrap() {
///     apply(&mut dossier, &e);
/// }
/// // Received after 15:00 on a Friday: due at the end of Monday.
/// assert_eq!(dossier.due.unwrap().to_string(), "2025-03-10T17:00+07:00");
/// assert_eq!(dossier.status.unwrap().national().code(), 2);
/// # Ok::<(), motcua_calendar::CalendarError>(())
/// ```
pub fn decide(
    state: &Dossier,
    command: &Command,
    now: Timestamp,
    ctx: &Context<'_>,
) -> Result<Vec<Event>, DomainError> {
    if let Some(last) = state.last_at {
        if now < last {
            return Err(DomainError::TimeWentBack { now, last });
        }
    }
    command.check_sizes()?;
    let kind = command.kind();
    let status = state.status;
    let cal = ctx.calendar;
    let procedure = ctx.procedure;
    use Status as S;
    let open = matches!(status, Some(S::Received | S::InProgress));
    // A dossier waiting to be transferred to its competent agency is not handled before it is.
    if state.transfer_due.is_some() && state.transferred_at.is_none() {
        use CommandKind as K;
        if matches!(
            kind,
            K::StartStep
                | K::Transfer
                | K::CompleteStep
                | K::RequestSupplement
                | K::RequestFinancialObligation
                | K::Suspend
                | K::Extend
                | K::Finish
                | K::NotifyResultReady
                | K::ReturnResult
        ) {
            return Err(DomainError::AwaitingTransfer);
        }
    }
    match command {
        Command::Submit { procedure: code, channel, jurisdiction: unit, applicant } => {
            if status.is_some() {
                return Err(not_allowed(kind, status));
            }
            check_procedure(ctx, code)?;
            check_receiving(ctx, now)?;
            let jurisdiction = jurisdiction(ctx, unit.as_ref(), None)?;
            Ok(vec![Event::Submitted {
                at: now,
                procedure: code.clone(),
                channel: *channel,
                jurisdiction,
                applicant: applicant.clone(),
            }])
        }
        Command::Receive { procedure: code, channel, jurisdiction: unit, applicant, documents, case } => {
            if !matches!(status, None | Some(S::Submitted)) {
                return Err(not_allowed(kind, status));
            }
            // The limit of the dossier's case and channel (a case the procedure lacks, or none
            // where it requires one, is refused before anything is opened).
            let limit = procedure.limit_of(case.as_deref(), *channel)?;
            check_procedure(ctx, code)?;
            if status.is_none() {
                check_receiving(ctx, now)?;
            }
            check_documents(ctx, documents, applicant.as_ref().or(state.applicant.as_ref()), now)?;
            // What the counter had to digitise and did not (Circular 01/2023/TT-VPCP, as data).
            let mut undigitised = Vec::new();
            if let Some(rules) = ctx.digitisation {
                undigitised = rules.undigitised(procedure, *channel, documents, now.local_date());
                if let Some(c) = undigitised.first().filter(|_| rules.strict) {
                    return Err(DomainError::NotDigitised { component: c.clone(), source_text: rules.source.clone() });
                }
            }
            let jurisdiction = jurisdiction(ctx, unit.as_ref(), state.jurisdiction.as_ref())?;
            // No dossier is opened that no one could act on: every step's role resolves to an
            // agency of the register for the dossier's unit on the day of receipt (a register
            // whose handover left a role to nobody is refused here, naming the role and unit).
            if let (Some(register), Some(unit)) = (ctx.units, jurisdiction.as_deref()) {
                let day = now.local_date();
                if let Some(step) = procedure.steps.iter().find(|s| register.resolve(&s.agency, unit, day).is_none()) {
                    return Err(DomainError::NoUnitForStep {
                        step: step.id.clone(),
                        role: step.agency.to_string(),
                        unit: unit.to_string(),
                    });
                }
            }
            let a = cal.appointment_with_cutoff(now, limit, cutoff(ctx))?;
            // Received at a desk outside the competent unit's area: under the rules in force on
            // the day the dossier was first received, either as any receipt, or (Decree
            // 309/2026/NĐ-CP) only for a listed procedure, transferred by a due time, its clock
            // waiting for the competent agency's receipt.
            let transfer_due = outside_area_transfer(ctx, state, code, *channel, jurisdiction.as_deref(), now)?;
            let mut events = Vec::with_capacity(1 + usize::from(transfer_due.is_some()));
            events.push(Event::Received {
                at: now,
                procedure: code.clone(),
                channel: *channel,
                clock_start: a.clock_start,
                due: if transfer_due.is_some() { None } else { a.due },
                jurisdiction,
                procedure_version: procedure.effective_from,
                applicant: applicant.clone(),
                documents: documents.clone(),
                undigitised,
                case: case.clone(),
            });
            if let Some((due, to)) = transfer_due {
                events.push(Event::TransferPending { at: now, due, to });
            }
            Ok(events)
        }
        // An open dossier moves to another unit (its own ended at a merger): the unit must be in
        // force today (not itself ended) and serve every step's role; nothing else changes.
        Command::HandOver { to } => {
            if status.is_none_or(|s| s.is_terminal()) {
                return Err(not_allowed(kind, status));
            }
            let unknown = || DomainError::UnknownUnit { unit: to.to_string() };
            let register = ctx.units.ok_or_else(unknown)?;
            let day = now.local_date();
            let in_force = register.unit(to).is_some_and(|u| u.valid_from.is_none_or(|f| f <= day));
            if !in_force || register.ancestry_first(to, day) != Some(&**to) {
                return Err(unknown());
            }
            if state.jurisdiction.as_deref() == Some(&**to) {
                return Err(not_allowed(kind, status));
            }
            if let Some(step) = procedure.steps.iter().find(|s| register.resolve(&s.agency, to, day).is_none()) {
                return Err(DomainError::NoUnitForStep {
                    step: step.id.clone(),
                    role: step.agency.to_string(),
                    unit: to.to_string(),
                });
            }
            Ok(vec![Event::HandedOver { at: now, from: state.jurisdiction.clone(), to: Arc::clone(to) }])
        }
        // The competent agency receives a dossier a desk outside its area transferred: the
        // clock starts now, by §4, on the limit of the dossier's case and channel.
        Command::ReceiveTransfer => {
            if status != Some(S::Received) || state.transfer_due.is_none() || state.transferred_at.is_some() {
                return Err(not_allowed(kind, status));
            }
            let limit = procedure.limit_of(state.case.as_deref(), state.channel.unwrap_or(Channel::Direct))?;
            let a = cal.appointment_with_cutoff(now, limit, cutoff(ctx))?;
            Ok(vec![Event::TransferReceived { at: now, clock_start: a.clock_start, due: a.due }])
        }
        Command::RequestCompletion { missing } => {
            if status != Some(S::Submitted) {
                return Err(not_allowed(kind, status));
            }
            // One notice with everything missing, once (Decree 61/2018/NĐ-CP Art. 17(2)).
            if state.completion_requested {
                return Err(DomainError::CompletionAlreadyRequested);
            }
            if missing.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            Ok(vec![Event::CompletionRequested { at: now, missing: missing.clone() }])
        }
        Command::Resubmit => {
            if status != Some(S::CompletionRequested) {
                return Err(not_allowed(kind, status));
            }
            Ok(vec![Event::Resubmitted { at: now }])
        }
        Command::RefuseAtIntake { reason } => {
            if !matches!(status, None | Some(S::Submitted | S::CompletionRequested)) {
                return Err(not_allowed(kind, status));
            }
            // The refusal slip states its reasons (Decree 61/2018/NĐ-CP Art. 17(1)(b)).
            if reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            Ok(vec![Event::RefusedAtIntake { at: now, reason: reason.clone() }])
        }
        Command::StartStep { step } | Command::Transfer { step } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            let pi = procedure.step_index(step).ok_or_else(|| DomainError::UnknownStep { step: step.clone() })?;
            if state.step_index(step).is_some_and(|si| state.steps[si].started_at.is_some()) {
                return Err(DomainError::StepAlreadyStarted { step: step.clone() });
            }
            let spec = &procedure.steps[pi];
            let waiting_for: Vec<StepId> = spec
                .after
                .iter()
                .filter(|a| state.step_index(a).is_none_or(|i| state.steps[i].completed_at.is_none()))
                .cloned()
                .collect();
            if !waiting_for.is_empty() {
                return Err(DomainError::StepWaiting { step: step.clone(), waiting_for });
            }
            // The concrete agency (through the register, when there is one).
            let agency = step_agency(ctx, state, step, now)?;
            let from_agency = if kind == CommandKind::Transfer {
                let from = spec
                    .after
                    .iter()
                    .filter_map(|a| state.step_index(a))
                    .map(|i| &state.steps[i].agency)
                    .find(|a| **a != agency)
                    .cloned();
                if from.is_none() {
                    return Err(DomainError::NotATransfer { step: step.clone() });
                }
                from
            } else {
                None
            };
            // A step's clock starts like a dossier's, without a cut-off (the dossier is already
            // inside the agency): at `now` if offices are open, else at the next opening.
            let start = cal.next_working_instant(now)?;
            let due = cal.due_from(start, spec.allotment)?.unwrap_or(start);
            Ok(vec![Event::StepStarted { at: now, step: step.clone(), agency, from_agency, due }])
        }
        Command::CompleteStep { step } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            if procedure.step_index(step).is_none() {
                return Err(DomainError::UnknownStep { step: step.clone() });
            }
            let Some(s) = state.step_index(step).map(|si| &state.steps[si]).filter(|s| s.is_active()) else {
                return Err(DomainError::StepNotActive { step: step.clone() });
            };
            let outcome = s.due.map_or(Outcome::OnTime, |due| Outcome::judge(now, due));
            Ok(vec![Event::StepCompleted { at: now, step: step.clone(), outcome }])
        }
        Command::RequestSupplement { reason } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            // The window runs from the receipt's clock start (Decree 61/2018/NĐ-CP Art. 19: within
            // 3 working days of receiving the dossier), not from a restart's: a complete
            // supplement does not reopen it.
            let received = match state.received_at {
                Some(at) => Some(cal.clock_start_with_cutoff(at, cutoff(ctx))?),
                None => state.clock_start,
            };
            if let (Some(window), Some(start)) = (procedure.policy.supplement_window, received) {
                if let Some(deadline) = cal.due_from(start, window)? {
                    if now > deadline {
                        return Err(DomainError::SupplementWindowClosed { deadline });
                    }
                }
            }
            Ok(vec![Event::SupplementRequested { at: now, reason: reason.clone() }])
        }
        Command::ReceiveSupplement => {
            let Some(pause) = state.pause.filter(|_| status == Some(S::SupplementRequested)) else {
                return Err(not_allowed(kind, status));
            };
            match procedure.policy.supplement {
                SupplementPolicy::Restart => {
                    // NĐ 61/2018 Art. 19(4): the limit restarts from the complete supplement.
                    let channel = state.channel.unwrap_or(Channel::Direct);
                    let limit = procedure.limit_of(state.case.as_deref(), channel)?;
                    let a = cal.appointment_with_cutoff(now, limit, cutoff(ctx))?;
                    let mut step_dues = Vec::new();
                    for s in state.steps.iter().filter(|s| s.is_active()) {
                        if let Some(pi) = procedure.step_index(&s.id) {
                            if let Some(due) = cal.due_from(a.clock_start, procedure.steps[pi].allotment)? {
                                step_dues.push(StepDue { step: s.id.clone(), due });
                            }
                        }
                    }
                    Ok(vec![Event::SupplementReceived { at: now, clock_start: a.clock_start, due: a.due, step_dues }])
                }
                SupplementPolicy::Pause => {
                    let (due, step_dues) = shifted(state, cal, pause, now)?;
                    let clock_start = state.clock_start.unwrap_or(now);
                    Ok(vec![Event::SupplementReceived { at: now, clock_start, due, step_dues }])
                }
            }
        }
        Command::RequestFinancialObligation { amount } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            let pauses = procedure.policy.pause_on_financial_obligation;
            Ok(vec![Event::FinancialObligationRequested { at: now, amount: *amount, pauses }])
        }
        Command::ConfirmFinancialObligation => {
            let Some(pause) = state.pause.filter(|_| status == Some(S::AwaitingFinancialObligation)) else {
                return Err(not_allowed(kind, status));
            };
            let (due, step_dues) = shifted(state, cal, pause, now)?;
            Ok(vec![Event::FinancialObligationConfirmed { at: now, due, step_dues }])
        }
        Command::Suspend { reason } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            let pauses = procedure.policy.pause_on_suspension;
            Ok(vec![Event::Suspended { at: now, reason: reason.clone(), pauses }])
        }
        Command::DeclareOutage { reason, source } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            if reason.trim().is_empty() || source.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            let pauses = procedure.policy.pause_on_outage;
            Ok(vec![Event::OutageDeclared { at: now, reason: reason.clone(), source: source.clone(), pauses }])
        }
        Command::Resume => {
            let Some(pause) = state.pause.filter(|_| status == Some(S::Suspended)) else {
                return Err(not_allowed(kind, status));
            };
            let (due, step_dues) = shifted(state, cal, pause, now)?;
            Ok(vec![Event::Resumed { at: now, due, step_dues }])
        }
        Command::Extend { new_due, reason } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            if state.rescheduled_due.is_some() {
                return Err(DomainError::AlreadyExtended);
            }
            let due = state.due.ok_or(DomainError::NoDueTime)?;
            if *new_due <= due {
                return Err(DomainError::ExtensionNotLater { new_due: *new_due, due });
            }
            // The law sets no longest extension (Decree 61/2018/NĐ-CP Art. 19(9) asks for the
            // letter and a new appointment); motcua refuses one further than a year, which is
            // no appointment (and a due time of 9999 would poison every report).
            if *new_due > due.plus_minutes(MAX_EXTENSION_DAYS * 24 * 60) {
                return Err(DomainError::ExtensionTooLong { new_due: *new_due, due, max_days: MAX_EXTENSION_DAYS });
            }
            // NĐ 61/2018 Art. 19(9): the letter is due at least one working day before the due time.
            let day = i64::from(cal.day_length(due.local_date())?);
            let late_apology = cal.working_minutes_between(now, due)? < day;
            Ok(vec![Event::Extended { at: now, new_due: *new_due, late_apology, reason: reason.clone() }])
        }
        Command::Finish { decision, reason, result } => {
            if !open {
                return Err(not_allowed(kind, status));
            }
            let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
            if *decision == Decision::Denied && reason.is_none() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            if *decision == Decision::Approved {
                let pending: Vec<StepId> = procedure
                    .steps
                    .iter()
                    .filter(|p| state.step_index(&p.id).is_none_or(|i| state.steps[i].completed_at.is_none()))
                    .map(|p| p.id.clone())
                    .collect();
                if !pending.is_empty() {
                    return Err(DomainError::StepsPending { steps: pending });
                }
            }
            let outcome = state.due.map(|due| Outcome::judge(now, due));
            // An approval issues the procedure's result document, valid for its `valid_days`.
            let result = match (decision, result) {
                (Decision::Approved, Some(issue)) => {
                    let document = procedure.results.first();
                    let issued_on = now.local_date();
                    Some(IssuedResult {
                        number: issue.number.clone(),
                        kind: document.map_or_else(|| procedure.name.clone(), |d| d.name.clone()),
                        issued_on,
                        electronic: issue.electronic,
                        valid_until: document
                            .and_then(|d| d.valid_days)
                            .and_then(|days| issued_on.checked_add_days(chrono::Days::new(u64::from(days)))),
                    })
                }
                _ => None,
            };
            Ok(vec![Event::Finished {
                at: now,
                decision: *decision,
                outcome,
                reason: reason.map(str::to_string),
                result,
            }])
        }
        // An early result is returned at once, the applicant told so they can come (Decree
        // 61/2018/NĐ-CP Art. 20).
        Command::NotifyResultReady => match status {
            Some(S::Finished(_)) if state.result_notified_at.is_some() => Err(DomainError::AlreadyNotified),
            Some(S::Finished(_)) => {
                let early = state.due.is_some_and(|due| Outcome::judge(now, due) == Outcome::Early);
                Ok(vec![Event::ResultReadyNotified { at: now, early }])
            }
            _ => Err(not_allowed(kind, status)),
        },
        Command::ReturnResult { delivery } => match status {
            Some(S::Finished(_)) => {
                if let (Some(Delivery::Counter), Some(due), None) = (delivery, state.due, state.result_notified_at) {
                    if Outcome::judge(now, due) == Outcome::Early {
                        return Err(DomainError::EarlyReturnNotNotified { due });
                    }
                }
                Ok(vec![Event::ResultReturned { at: now, delivery: *delivery }])
            }
            _ => Err(not_allowed(kind, status)),
        },
        // A withdrawal request answered by the notice that processing stops (Decree
        // 118/2025/NĐ-CP Art. 21(1); the portal shows 7, then 8). The dossier ended at the
        // request: its end and outcome stay those of the withdrawal.
        Command::Stop { reason } if status == Some(S::Withdrawn) => {
            if reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            Ok(vec![Event::StopNoticeIssued { at: now, reason: reason.clone() }])
        }
        // Fees: paid while the dossier is in the system (at intake, a supplement or the result),
        // refunded when not owed (docs/rules.md §11).
        Command::Pay { amount, channel, receipt } => {
            let allowed = matches!(
                status,
                Some(
                    S::Submitted
                        | S::Received
                        | S::InProgress
                        | S::SupplementRequested
                        | S::AwaitingFinancialObligation
                        | S::Suspended
                        | S::Finished(_)
                )
            );
            if !allowed {
                return Err(not_allowed(kind, status));
            }
            if *amount == Vnd::ZERO {
                return Err(DomainError::AmountNotPositive { command: kind });
            }
            Ok(vec![Event::Paid { at: now, amount: *amount, channel: *channel, receipt: receipt.clone() }])
        }
        // Fees of a stage, by the procedure's schedule: at receipt while the dossier is being
        // handled, at a supplement once one was asked for, at the result once it is ready (the
        // national portal's fee collection times 1, 2 and 4).
        Command::AssessFees { stage, units, exemption } => {
            use crate::procedure::FeeStage;
            let allowed = match stage {
                FeeStage::Intake => matches!(status, Some(S::Submitted | S::Received | S::InProgress)),
                FeeStage::Supplement => {
                    state.supplement_requests > 0
                        && matches!(status, Some(S::SupplementRequested | S::InProgress | S::Received))
                }
                FeeStage::Result => matches!(status, Some(S::Finished(_))),
            };
            if !allowed {
                return Err(not_allowed(kind, status));
            }
            let fees: Vec<&crate::procedure::Fee> = procedure.fees.iter().filter(|f| f.stage == *stage).collect();
            if fees.is_empty() {
                return Err(DomainError::NoFeeAtStage { stage: *stage });
            }
            if let Some(f) = fees.iter().find(|f| f.unpriced) {
                return Err(DomainError::UnpricedFee { name: f.name.clone() });
            }
            let ground = exemption.as_deref().map(str::trim).filter(|g| !g.is_empty());
            if let Some(g) = ground.filter(|g| !fees.iter().any(|f| f.knows_ground(g))) {
                return Err(DomainError::UnknownExemption { ground: g.to_string() });
            }
            let online = state.channel == Some(Channel::Online);
            let overflow = || DomainError::AmountTooLarge { command: kind };
            let mut lines = Vec::with_capacity(fees.len());
            let mut total = Vnd::ZERO;
            for f in fees {
                let amount = f.assess(units.unwrap_or(1), online, ground).ok_or_else(overflow)?;
                total = total.checked_add(amount).ok_or_else(overflow)?;
                let exempt = ground.is_some_and(|g| f.exempt.iter().any(|e| e == g));
                lines.push(crate::event::AssessedFee { name: f.name.clone(), amount, exempt });
            }
            Ok(vec![Event::FeesAssessed { at: now, stage: *stage, lines, total }])
        }
        // A result in force may be revoked (by the agency that issued it), once.
        Command::RevokeResult { reason } => {
            let Some(result) = state.result.as_ref().filter(|_| !state.result_revoked) else {
                return Err(DomainError::NoResultToRevoke);
            };
            if reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            Ok(vec![Event::ResultRevoked { at: now, number: result.number.clone(), reason: reason.clone() }])
        }
        // Expiry is recorded once the result's last valid day has passed (Decree 45/2020/NĐ-CP
        // Art. 11: the warehouse keeps results in force; one out of force is not reused).
        Command::ExpireResult => {
            let valid_until = state
                .result
                .as_ref()
                .filter(|_| !state.result_revoked && !state.result_expired)
                .and_then(|r| r.valid_until)
                .filter(|v| *v < now.local_date())
                .ok_or(DomainError::NoResultToExpire)?;
            let number = state.result.as_ref().map(|r| r.number.clone()).unwrap_or_default();
            Ok(vec![Event::ResultExpired { at: now, number, valid_until }])
        }
        // Rated once, once processing finished (the result ready or returned).
        Command::Rate { satisfied } => match status {
            Some(S::Finished(_) | S::ResultReturned(_)) if state.rating.is_some() => Err(DomainError::AlreadyRated),
            Some(S::Finished(_) | S::ResultReturned(_)) => Ok(vec![Event::Rated { at: now, satisfied: *satisfied }]),
            _ => Err(not_allowed(kind, status)),
        },
        Command::Refund { amount, reason } => {
            if status.is_none() {
                return Err(not_allowed(kind, status));
            }
            if reason.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            if *amount == Vnd::ZERO {
                return Err(DomainError::AmountNotPositive { command: kind });
            }
            let refundable = Vnd::new(state.paid.amount() - state.refunded.amount()).unwrap_or(Vnd::ZERO);
            if *amount > refundable {
                return Err(DomainError::RefundExceedsPaid { amount: *amount, refundable });
            }
            Ok(vec![Event::Refunded { at: now, amount: *amount, reason: reason.clone() }])
        }
        Command::FileFeedback { subject, topic, follows } => {
            if status.is_none() {
                return Err(not_allowed(kind, status));
            }
            if subject.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            if state.feedback.len() >= crate::feedback::MAX_FEEDBACK {
                return Err(DomainError::TooMuchFeedback { max: crate::feedback::MAX_FEEDBACK });
            }
            if let Some(n) = follows {
                let earlier = feedback_of(state, *n)?;
                if earlier.end.is_none() {
                    return Err(DomainError::FeedbackNotAnswered { feedback: *n });
                }
            }
            // The deadlines as Decision 766's indicator 5.2 judges them (the Government Office's
            // formula description, not Decree 20/2008/NĐ-CP): from the next working instant.
            let start = cal.next_working_instant(now)?;
            let by = |days| cal.due_from(start, crate::feedback::limit(days)).map(|d| d.unwrap_or(start));
            Ok(vec![Event::FeedbackFiled {
                at: now,
                feedback: u16::try_from(state.feedback.len() + 1).unwrap_or(u16::MAX),
                subject: subject.clone(),
                topic: *topic,
                follows: *follows,
                reject_by: by(crate::feedback::FEEDBACK_REJECT_DAYS)?,
                due: by(crate::feedback::FEEDBACK_ANSWER_DAYS)?,
            }])
        }
        Command::AnswerFeedback { feedback, end, text, topic } => {
            let f = feedback_of(state, *feedback)?;
            if f.end.is_some() {
                return Err(DomainError::FeedbackClosed { feedback: *feedback });
            }
            if text.trim().is_empty() {
                return Err(DomainError::ReasonRequired { command: kind });
            }
            use crate::feedback::FeedbackEnd;
            let (deadline, publish_by) = match end {
                FeedbackEnd::Rejected => (f.reject_by, None),
                FeedbackEnd::Answered => {
                    let start = cal.next_working_instant(now)?;
                    let limit = crate::feedback::limit(crate::feedback::FEEDBACK_PUBLISH_DAYS);
                    (f.due, Some(cal.due_from(start, limit)?.unwrap_or(start)))
                }
            };
            Ok(vec![Event::FeedbackAnswered {
                at: now,
                feedback: *feedback,
                end: *end,
                text: text.clone(),
                topic: *topic,
                outcome: Outcome::judge(now, deadline),
                publish_by,
            }])
        }
        Command::PublishFeedback { feedback } => {
            let f = feedback_of(state, *feedback)?;
            if f.publish_by.is_none() {
                return Err(DomainError::FeedbackNotAnswered { feedback: *feedback });
            }
            if f.published_at.is_some() {
                return Err(DomainError::FeedbackAlreadyDone { feedback: *feedback });
            }
            Ok(vec![Event::FeedbackPublished { at: now, feedback: *feedback }])
        }
        Command::RateFeedback { feedback, satisfied } => {
            let f = feedback_of(state, *feedback)?;
            if f.publish_by.is_none() {
                return Err(DomainError::FeedbackNotAnswered { feedback: *feedback });
            }
            if f.satisfied.is_some() {
                return Err(DomainError::FeedbackAlreadyDone { feedback: *feedback });
            }
            Ok(vec![Event::FeedbackRated { at: now, feedback: *feedback, satisfied: *satisfied }])
        }
        Command::Withdraw | Command::Stop { .. } => {
            let allowed = matches!(
                status,
                Some(
                    S::Submitted
                        | S::CompletionRequested
                        | S::Received
                        | S::InProgress
                        | S::SupplementRequested
                        | S::AwaitingFinancialObligation
                        | S::Suspended
                )
            );
            if !allowed {
                return Err(not_allowed(kind, status));
            }
            // While the clock is stopped, the end is judged at the pause's start (766 rule).
            let end = match state.pause {
                Some(p) if p.stops_clock => p.since,
                _ => now,
            };
            let outcome = state.due.map(|due| Outcome::judge(end, due));
            Ok(vec![match command {
                Command::Stop { reason } => Event::Stopped { at: now, reason: reason.clone(), outcome },
                _ => Event::Withdrawn { at: now, outcome },
            }])
        }
    }
}

fn feedback_of(state: &Dossier, number: u16) -> Result<&crate::feedback::Feedback, DomainError> {
    state.feedback.iter().find(|f| f.number == number).ok_or(DomainError::UnknownFeedback { feedback: number })
}

fn check_procedure(ctx: &Context<'_>, code: &ProcedureCode) -> Result<(), DomainError> {
    if code != &ctx.procedure.code {
        return Err(DomainError::WrongProcedure { expected: ctx.procedure.code.clone(), got: code.clone() });
    }
    Ok(())
}

/// With a register, the receiving agency must be in it and in force on the day of `now`: an
/// agency that ended (its successor receives now) or that the register does not know receives
/// nothing.
fn check_receiving(ctx: &Context<'_>, now: Timestamp) -> Result<(), DomainError> {
    let (Some(register), Some(code)) = (ctx.units, ctx.receiving) else { return Ok(()) };
    let day = now.local_date();
    let refuse = |why| DomainError::NotReceiving { agency: code.to_string(), day: day.to_string(), why };
    let agency = register.agency(code).ok_or_else(|| refuse("not in the register"))?;
    if agency.valid_from.is_some_and(|f| day < f) || agency.valid_to.is_some_and(|t| t < day) {
        return Err(refuse("not in force that day"));
    }
    Ok(())
}

/// Due times after a pause from `pause.since` to `now`: moved by the working time in between
/// when the pause stops the clock, unchanged otherwise.
fn shifted(
    state: &Dossier,
    cal: &WorkCalendar,
    pause: Pause,
    now: Timestamp,
) -> Result<(Option<Timestamp>, Vec<StepDue>), DomainError> {
    if !pause.stops_clock {
        return Ok((state.due, Vec::new()));
    }
    let paused = u32::try_from(cal.working_minutes_between(pause.since, now)?.max(0)).unwrap_or(u32::MAX);
    let due = match state.due {
        Some(d) => Some(cal.add_working_minutes(d, paused)?),
        None => None,
    };
    let mut step_dues = Vec::new();
    for s in state.steps.iter().filter(|s| s.is_active()) {
        if let Some(d) = s.due {
            step_dues.push(StepDue { step: s.id.clone(), due: cal.add_working_minutes(d, paused)? });
        }
    }
    Ok((due, step_dues))
}

/// Folds one event into the state. Holds no rules: every time was computed by `decide`.
/// Never fails; debug builds assert that versions and times never go back.
pub fn apply(state: &mut Dossier, event: &Event) {
    let at = event.at();
    debug_assert!(state.last_at.is_none_or(|last| at >= last), "event at {at} before {:?}", state.last_at);
    state.version += 1;
    state.last_at = Some(at);
    match event {
        Event::Submitted { procedure, channel, jurisdiction, applicant, .. } => {
            state.jurisdiction = jurisdiction.clone();
            state.applicant.clone_from(applicant);
            state.status = Some(Status::Submitted);
            state.procedure = Some(procedure.clone());
            state.channel = Some(*channel);
            state.submitted_at = Some(at);
        }
        Event::Received {
            procedure,
            channel,
            clock_start,
            due,
            jurisdiction,
            procedure_version,
            applicant,
            documents,
            undigitised,
            case,
            ..
        } => {
            state.case.clone_from(case);
            state.undigitised.clone_from(undigitised);
            if jurisdiction.is_some() {
                state.jurisdiction = jurisdiction.clone();
            }
            if applicant.is_some() {
                state.applicant.clone_from(applicant);
            }
            state.documents.clone_from(documents);
            state.procedure_version = *procedure_version;
            state.status = Some(Status::Received);
            state.procedure = Some(procedure.clone());
            state.channel = Some(*channel);
            state.received_at = Some(at);
            state.clock_start = Some(*clock_start);
            state.due = *due;
        }
        Event::HandedOver { to, .. } => {
            state.jurisdiction = Some(Arc::clone(to));
        }
        Event::TransferPending { due, to, .. } => {
            state.transfer_due = Some(*due);
            state.competent.clone_from(to);
        }
        Event::TransferReceived { clock_start, due, .. } => {
            state.transferred_at = Some(at);
            state.clock_start = Some(*clock_start);
            state.due = *due;
        }
        Event::CompletionRequested { .. } => {
            state.status = Some(Status::CompletionRequested);
            state.completion_requested = true;
        }
        Event::Resubmitted { .. } => {
            state.status = Some(Status::Submitted);
        }
        Event::RefusedAtIntake { .. } => {
            state.status = Some(Status::RefusedAtIntake);
        }
        Event::StepStarted { step, agency, due, .. } => {
            state.status = Some(Status::InProgress);
            let s = match state.step_index(step) {
                Some(i) => &mut state.steps[i],
                None => {
                    state.steps.push(StepState {
                        id: step.clone(),
                        agency: agency.clone(),
                        started_at: None,
                        due: None,
                        completed_at: None,
                        outcome: None,
                    });
                    let last = state.steps.len() - 1;
                    &mut state.steps[last]
                }
            };
            s.agency.clone_from(agency);
            s.started_at = Some(at);
            s.due = Some(*due);
        }
        Event::StepCompleted { step, outcome, .. } => {
            if let Some(i) = state.step_index(step) {
                state.steps[i].completed_at = Some(at);
                state.steps[i].outcome = Some(*outcome);
            }
        }
        Event::SupplementRequested { .. } => {
            state.supplement_requests += 1;
            pause(state, at, PauseKind::Supplement, true, Status::SupplementRequested);
        }
        Event::SupplementReceived { clock_start, due, step_dues, .. } => {
            state.clock_start = Some(*clock_start);
            state.due = *due;
            resume(state, step_dues);
        }
        Event::FinancialObligationRequested { amount, pauses, .. } => {
            state.financial_obligation = Some(*amount);
            pause(state, at, PauseKind::FinancialObligation, *pauses, Status::AwaitingFinancialObligation);
        }
        Event::FinancialObligationConfirmed { due, step_dues, .. } | Event::Resumed { due, step_dues, .. } => {
            state.due = *due;
            resume(state, step_dues);
        }
        Event::Suspended { pauses, .. } => {
            pause(state, at, PauseKind::Suspension, *pauses, Status::Suspended);
        }
        Event::OutageDeclared { pauses, .. } => {
            pause(state, at, PauseKind::Outage, *pauses, Status::Suspended);
        }
        Event::Extended { new_due, late_apology, .. } => {
            state.rescheduled_due = Some(*new_due);
            state.late_apology = *late_apology;
        }
        Event::Finished { decision, outcome, result, .. } => {
            state.result.clone_from(result);
            state.status = Some(Status::Finished(*decision));
            state.decision = Some(*decision);
            state.finished_at = Some(at);
            state.outcome = *outcome;
        }
        Event::ResultReadyNotified { .. } => {
            state.result_notified_at = Some(at);
        }
        Event::ResultReturned { .. } => {
            if let Some(d) = state.decision {
                state.status = Some(Status::ResultReturned(d));
            }
            state.returned_at = Some(at);
        }
        Event::Withdrawn { outcome, .. } => {
            state.status = Some(Status::Withdrawn);
            state.finished_at = Some(at);
            state.outcome = *outcome;
            state.pause = None;
        }
        Event::ResultRevoked { .. } => {
            state.result_revoked = true;
        }
        Event::ResultExpired { .. } => {
            state.result_expired = true;
        }
        Event::Rated { satisfied, .. } => {
            state.rating = Some(*satisfied);
        }
        Event::Paid { amount, channel, .. } => {
            state.paid = state.paid.checked_add(*amount).unwrap_or(state.paid);
            state.paid_online |= channel.is_online();
        }
        Event::FeesAssessed { total, .. } => {
            state.assessed = state.assessed.checked_add(*total).unwrap_or(state.assessed);
        }
        Event::Refunded { amount, .. } => {
            state.refunded = state.refunded.checked_add(*amount).unwrap_or(state.refunded);
        }
        Event::StopNoticeIssued { .. } => {
            state.status = Some(Status::Stopped);
        }
        Event::FeedbackFiled { feedback, topic, follows, reject_by, due, .. } => {
            if let Some(earlier) = follows.and_then(|n| feedback_mut(state, n)) {
                earlier.followed_up = true;
                earlier.followed_up_at.get_or_insert(at);
            }
            let mut f = crate::feedback::Feedback::filed(*feedback, at, *reject_by, *due);
            (f.topic, f.follows) = (*topic, *follows);
            state.feedback.push(f);
        }
        Event::FeedbackAnswered { feedback, end, topic, outcome, publish_by, .. } => {
            if let Some(f) = feedback_mut(state, *feedback) {
                f.end = Some((*end, at));
                f.outcome = Some(*outcome);
                f.publish_by = *publish_by;
                if topic.is_some() {
                    f.topic = *topic;
                }
            }
        }
        Event::FeedbackPublished { feedback, .. } => {
            if let Some(f) = feedback_mut(state, *feedback) {
                f.published_at = Some(at);
            }
        }
        Event::FeedbackRated { feedback, satisfied, .. } => {
            if let Some(f) = feedback_mut(state, *feedback) {
                f.satisfied = Some(*satisfied);
                f.rated_at = Some(at);
            }
        }
        Event::Stopped { outcome, .. } => {
            state.status = Some(Status::Stopped);
            state.finished_at = Some(at);
            state.outcome = *outcome;
            state.pause = None;
        }
    }
}

fn feedback_mut(state: &mut Dossier, number: u16) -> Option<&mut crate::feedback::Feedback> {
    state.feedback.iter_mut().find(|f| f.number == number)
}

fn pause(state: &mut Dossier, at: Timestamp, kind: PauseKind, stops_clock: bool, status: Status) {
    let resume_to = match state.status {
        Some(s @ (Status::Received | Status::InProgress)) => s,
        _ => Status::InProgress,
    };
    state.pause = Some(Pause { since: at, kind, stops_clock, resume_to });
    state.status = Some(status);
}

fn resume(state: &mut Dossier, step_dues: &[StepDue]) {
    for sd in step_dues {
        if let Some(i) = state.step_index(&sd.step) {
            state.steps[i].due = Some(sd.due);
        }
    }
    state.status = Some(state.pause.map_or(Status::InProgress, |p| p.resume_to));
    state.pause = None;
}

impl Procedure {
    /// A procedure with no steps and the default policy (for examples and tests).
    pub fn simple(code: ProcedureCode, name: &str, limit: Limit) -> Procedure {
        Procedure {
            code,
            name: name.to_string(),
            sector: String::new(),
            level: crate::procedure::Level::Commune,
            online: crate::procedure::OnlineLevel::Partial,
            integrated: true,
            online_payment: false,
            limit,
            limit_source: String::new(),
            steps: Vec::new(),
            documents: Vec::new(),
            fees: Vec::new(),
            results: Vec::new(),
            policy: crate::procedure::Policy::default(),
            effective_from: None,
            effective_to: None,
            channel_limits: Vec::new(),
            cases: Vec::new(),
            case_required: false,
            outside_area: None,
        }
    }
}
