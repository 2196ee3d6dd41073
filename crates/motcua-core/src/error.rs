//! Rejections: a closed enum with stable codes, listed in the order `decide` checks them.

use motcua_calendar::{CalendarError, Timestamp};

use crate::command::CommandKind;
use crate::ids::ProcedureCode;
use crate::procedure::StepId;
use crate::status::Status;

/// Why `decide` refused a command. Variants are in precedence order: when several apply, the
/// first listed is reported. Portals map [`DomainError::code`] to their own messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// A field of the command is longer than motcua keeps ([`crate::MAX_TEXT_CHARS`] for free
    /// text, [`crate::MAX_NAME_CHARS`] for names and numbers, [`crate::MAX_DOCUMENTS`]).
    #[error("{field}: at most {max} (characters, or documents)")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A new appointment later than motcua accepts ([`crate::MAX_EXTENSION_DAYS`] after the
    /// due time it replaces).
    #[error("the new appointment {new_due} is more than {max_days} days after the due time {due}")]
    ExtensionTooLong {
        /// The new appointment asked for.
        new_due: motcua_calendar::Timestamp,
        /// The due time it replaces.
        due: motcua_calendar::Timestamp,
        /// The limit, in days.
        max_days: i64,
    },
    /// The applicant was already asked to complete the dossier before acceptance: the notice
    /// says everything missing at once (Decree 61/2018/NĐ-CP Art. 17(2)).
    #[error("the applicant was already asked to complete the dossier: one notice, saying everything")]
    CompletionAlreadyRequested,
    /// The dossier issued no result in force to revoke.
    #[error("no result in force to revoke")]
    NoResultToRevoke,
    /// The digitisation rules in force (strict) require a component digitised at receipt.
    #[error("document {component:?} must be digitised at receipt ({source_text})")]
    NotDigitised {
        /// The component.
        component: String,
        /// The rules' source.
        source_text: String,
    },
    /// An amount too large to compute.
    #[error("{command}: the amount is too large")]
    AmountTooLarge {
        /// The command.
        command: CommandKind,
    },
    /// The procedure's schedule has no fee for the stage.
    #[error("the procedure's fee schedule has no fee assessed at {stage:?}")]
    NoFeeAtStage {
        /// The stage.
        stage: crate::procedure::FeeStage,
    },
    /// A fee of the stage is set by the provincial council and the province has not given its
    /// amount (a province file in force): nothing of the stage is assessed until it does.
    #[error("the fee {name:?} is set by the provincial council and has no amount in this province")]
    UnpricedFee {
        /// The fee's name.
        name: String,
    },
    /// Received at a desk outside the competent unit's area, but no published list in force
    /// lets the procedure be (Decree 309/2026/NĐ-CP, from 5/8/2026).
    #[error("procedure {procedure} is on no published list that lets it be received outside the area of unit {unit}")]
    NotListedOutsideArea {
        /// The procedure.
        procedure: String,
        /// The dossier's administrative unit.
        unit: String,
    },
    /// The dossier waits to be transferred to its competent agency (received outside its area):
    /// nothing is handled before the competent agency receives it.
    #[error("the dossier waits for its competent agency to receive the transfer")]
    AwaitingTransfer,
    /// The ground of exemption shown is not one any fee of the stage lists.
    #[error("no fee of the stage lists {ground:?} as a ground of exemption")]
    UnknownExemption {
        /// The ground shown.
        ground: String,
    },
    /// No feedback of that number.
    #[error("the dossier has no feedback number {feedback}")]
    UnknownFeedback {
        /// The number named.
        feedback: u16,
    },
    /// The feedback was already answered or rejected.
    #[error("feedback {feedback} is already closed")]
    FeedbackClosed {
        /// Its number.
        feedback: u16,
    },
    /// The feedback has no answer yet (to publish or rate), or was rejected.
    #[error("feedback {feedback} has no answer to publish or rate")]
    FeedbackNotAnswered {
        /// Its number.
        feedback: u16,
    },
    /// The feedback's answer is already public, or already rated.
    #[error("feedback {feedback}: already done once")]
    FeedbackAlreadyDone {
        /// Its number.
        feedback: u16,
    },
    /// The dossier holds as many feedback records as it may.
    #[error("a dossier holds at most {max} feedback records")]
    TooMuchFeedback {
        /// The most.
        max: usize,
    },
    /// The dossier's result is not past its last valid day (or has none, or was revoked, or its
    /// expiry is already recorded).
    #[error("no result past its validity to record as expired")]
    NoResultToExpire,
    /// The applicant already rated the dossier.
    #[error("the dossier was already rated")]
    AlreadyRated,
    /// A payment or refund of nothing.
    #[error("{command}: the amount must be more than 0 đồng")]
    AmountNotPositive {
        /// The command.
        command: CommandKind,
    },
    /// A refund of more than was paid and not yet refunded.
    #[error("refund of {amount} đồng: only {refundable} đồng paid and not refunded")]
    RefundExceedsPaid {
        /// Asked.
        amount: crate::ids::Vnd,
        /// Paid and not refunded.
        refundable: crate::ids::Vnd,
    },
    /// A document names a component the procedure does not list.
    #[error("document {component:?}: the procedure lists no such component")]
    UnknownComponent {
        /// The component named.
        component: String,
    },
    /// A digitised document's SHA-256 is not 64 hex digits.
    #[error("document {component:?}: sha256 must be 64 hex digits")]
    BadDigest {
        /// The component.
        component: String,
    },
    /// Reusing a result needs the dossier's applicant, to check it is theirs.
    #[error("document {component:?}: reusing result {number:?} needs the dossier's applicant")]
    ApplicantRequired {
        /// The component.
        component: String,
        /// The result.
        number: String,
    },
    /// The warehouse holds no result of that number.
    #[error("result {number:?}: the warehouse holds no such result")]
    ResultNotFound {
        /// The result.
        number: String,
    },
    /// The result belongs to someone else.
    #[error("result {number:?}: it belongs to another applicant")]
    ResultOfAnotherApplicant {
        /// The result.
        number: String,
    },
    /// The result was revoked.
    #[error("result {number:?}: it was revoked")]
    ResultRevoked {
        /// The result.
        number: String,
    },
    /// The result's validity ended before the day of receipt.
    #[error("result {number:?}: valid until {valid_until}, no longer in force")]
    ResultExpired {
        /// The result.
        number: String,
        /// Its last valid day.
        valid_until: chrono::NaiveDate,
    },
    /// The result is not of the kind the document accepts.
    #[error("result {number:?} is a {kind:?}; document {component:?} accepts {accepts}")]
    ResultWrongKind {
        /// The result.
        number: String,
        /// Its kind.
        kind: String,
        /// The component.
        component: String,
        /// What the component accepts (`no result` when it accepts none).
        accepts: String,
    },
    /// The applicant was already told the result is ready.
    #[error("the applicant was already told the result is ready")]
    AlreadyNotified,
    /// A result handed over at the counter before the appointment's day needs the applicant to
    /// have been told it is ready (Decree 61/2018/NĐ-CP Art. 20).
    #[error("the result is returned at the counter before the appointment ({due}): notify the applicant first (notify_result_ready)")]
    EarlyReturnNotNotified {
        /// The appointment.
        due: Timestamp,
    },
    /// A refusal or a denial must say why.
    #[error("{command} needs a reason (the applicant is told why)")]
    ReasonRequired {
        /// The command.
        command: CommandKind,
    },
    /// The receiving agency is not in the register, or not in force that day (it ended, or
    /// has not begun): it cannot receive.
    #[error("agency {agency} cannot receive on {day}: {why}")]
    NotReceiving {
        /// The agency.
        agency: String,
        /// The day.
        day: String,
        /// Not in the register, or not in force.
        why: &'static str,
    },
    /// The register does not know the administrative unit named.
    #[error("unknown administrative unit {unit:?}")]
    UnknownUnit {
        /// The unit.
        unit: String,
    },
    /// No agency of the register plays the step's role for the dossier's unit.
    #[error("no agency plays {role:?} for step {step} of a dossier of unit {unit:?}")]
    NoUnitForStep {
        /// The step.
        step: StepId,
        /// Its role.
        role: String,
        /// The dossier's administrative unit.
        unit: String,
    },
    /// A receipt names a case the procedure does not have.
    #[error("case {case:?} is not one of the procedure's cases ({cases})")]
    UnknownCase {
        /// The case named.
        case: String,
        /// The procedure's cases.
        cases: String,
    },
    /// The procedure's limit depends on the case, and the receipt names none.
    #[error("the procedure's limit depends on its case: name one of {cases}")]
    CaseRequired {
        /// The procedure's cases.
        cases: String,
    },
    /// `now` is before the dossier's last event.
    #[error("time went back: command at {now} after an event at {last}")]
    TimeWentBack {
        /// The command's time.
        now: Timestamp,
        /// The last event's time.
        last: Timestamp,
    },
    /// The status forbids the command.
    #[error(
        "{command} is not allowed {}{}",
        match .status { Some(s) => format!("while the dossier is {s}"), None => "before the dossier exists".to_string() },
        crate::dossier::allowed_instead(*.command, *.status).map(|c| format!(" ({c} is)")).unwrap_or_default()
    )]
    NotAllowed {
        /// The command.
        command: CommandKind,
        /// The status (`None`: no dossier yet).
        status: Option<Status>,
    },
    /// The command names another procedure than the dossier's.
    #[error("procedure {got} given, but the context procedure is {expected}")]
    WrongProcedure {
        /// The context's procedure.
        expected: ProcedureCode,
        /// The command's.
        got: ProcedureCode,
    },
    /// No such step in the procedure.
    #[error("the procedure has no step {step}")]
    UnknownStep {
        /// The step named.
        step: StepId,
    },
    /// The step has already started.
    #[error("step {step} has already started")]
    StepAlreadyStarted {
        /// The step.
        step: StepId,
    },
    /// Its predecessors are not all complete.
    #[error("step {step} waits for {}", .waiting_for.iter().map(|s| &*s.0).collect::<Vec<_>>().join(", "))]
    StepWaiting {
        /// The step.
        step: StepId,
        /// The incomplete predecessors.
        waiting_for: Vec<StepId>,
    },
    /// A transfer to a step of the same agency.
    #[error("step {step} is at the same agency as its predecessors: start it, do not transfer it")]
    NotATransfer {
        /// The step.
        step: StepId,
    },
    /// The step is not running.
    #[error("step {step} is not in progress")]
    StepNotActive {
        /// The step.
        step: StepId,
    },
    /// Approving while steps remain.
    #[error("steps still to complete: {}", .steps.iter().map(|s| &*s.0).collect::<Vec<_>>().join(", "))]
    StepsPending {
        /// The incomplete steps.
        steps: Vec<StepId>,
    },
    /// The supplement window has closed.
    #[error("a supplement can only be requested until {deadline} (NĐ 61/2018 Art. 19(4))")]
    SupplementWindowClosed {
        /// The last instant it could be.
        deadline: Timestamp,
    },
    /// Already rescheduled once.
    #[error("the due time can be rescheduled only once (NĐ 61/2018 Art. 19(9))")]
    AlreadyExtended,
    /// The procedure has no due time to reschedule.
    #[error("the dossier has no due time to reschedule")]
    NoDueTime,
    /// The new due time is not later.
    #[error("the new due time {new_due} is not after the current one {due}")]
    ExtensionNotLater {
        /// The proposed time.
        new_due: Timestamp,
        /// The current due time.
        due: Timestamp,
    },
    /// The calendar could not answer (out of its range).
    #[error("calendar: {0}")]
    Calendar(#[from] CalendarError),
}

impl DomainError {
    /// A stable code for the rejection.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::TooLong { .. } => "too_long",
            DomainError::ExtensionTooLong { .. } => "extension_too_long",
            DomainError::TimeWentBack { .. } => "time_went_back",
            DomainError::NotAllowed { .. } => "not_allowed",
            DomainError::WrongProcedure { .. } => "wrong_procedure",
            DomainError::UnknownStep { .. } => "unknown_step",
            DomainError::StepAlreadyStarted { .. } => "step_already_started",
            DomainError::StepWaiting { .. } => "step_waiting",
            DomainError::NotATransfer { .. } => "not_a_transfer",
            DomainError::StepNotActive { .. } => "step_not_active",
            DomainError::StepsPending { .. } => "steps_pending",
            DomainError::SupplementWindowClosed { .. } => "supplement_window_closed",
            DomainError::AlreadyExtended => "already_extended",
            DomainError::NoDueTime => "no_due_time",
            DomainError::ExtensionNotLater { .. } => "extension_not_later",
            DomainError::Calendar(_) => "calendar",
            DomainError::UnknownUnit { .. } => "unknown_unit",
            DomainError::NotReceiving { .. } => "not_receiving",
            DomainError::ReasonRequired { .. } => "reason_required",
            DomainError::CompletionAlreadyRequested => "completion_already_requested",
            DomainError::AlreadyNotified => "already_notified",
            DomainError::UnknownComponent { .. } => "unknown_component",
            DomainError::AmountNotPositive { .. } => "amount_not_positive",
            DomainError::AlreadyRated => "already_rated",
            DomainError::NoResultToRevoke => "no_result_to_revoke",
            DomainError::NoResultToExpire => "no_result_to_expire",
            DomainError::RefundExceedsPaid { .. } => "refund_exceeds_paid",
            DomainError::BadDigest { .. } => "bad_digest",
            DomainError::ApplicantRequired { .. } => "applicant_required",
            DomainError::ResultNotFound { .. } => "result_not_found",
            DomainError::ResultOfAnotherApplicant { .. } => "result_of_another_applicant",
            DomainError::ResultRevoked { .. } => "result_revoked",
            DomainError::ResultExpired { .. } => "result_expired",
            DomainError::ResultWrongKind { .. } => "result_wrong_kind",
            DomainError::EarlyReturnNotNotified { .. } => "early_return_not_notified",
            DomainError::NoUnitForStep { .. } => "no_unit_for_step",
            DomainError::UnknownCase { .. } => "unknown_case",
            DomainError::CaseRequired { .. } => "case_required",
            DomainError::UnknownFeedback { .. } => "unknown_feedback",
            DomainError::NoFeeAtStage { .. } => "no_fee_at_stage",
            DomainError::UnpricedFee { .. } => "unpriced_fee",
            DomainError::NotListedOutsideArea { .. } => "not_listed_outside_area",
            DomainError::AwaitingTransfer => "awaiting_transfer",
            DomainError::AmountTooLarge { .. } => "amount_too_large",
            DomainError::NotDigitised { .. } => "not_digitised",
            DomainError::UnknownExemption { .. } => "unknown_exemption",
            DomainError::FeedbackClosed { .. } => "feedback_closed",
            DomainError::FeedbackNotAnswered { .. } => "feedback_not_answered",
            DomainError::FeedbackAlreadyDone { .. } => "feedback_already_done",
            DomainError::TooMuchFeedback { .. } => "too_much_feedback",
        }
    }
}
