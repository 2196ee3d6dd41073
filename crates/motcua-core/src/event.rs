//! What happened to a dossier. Events carry every computed time, so `apply` needs no calendar
//! and replay reproduces the state exactly. The stored form is versioned by the engine; a change
//! of meaning is a new variant, never an edited one.

use std::sync::Arc;

use motcua_calendar::Timestamp;
use serde::{Deserialize, Serialize};

use crate::feedback::{FeedbackEnd, FeedbackTopic};
use crate::ids::{ProcedureCode, Vnd};
use crate::outcome::Outcome;
use crate::procedure::StepId;
use crate::status::{Channel, Decision};

/// A step's due time after the clock moved (restart or pause).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StepDue {
    /// The step.
    pub step: StepId,
    /// Its new due time.
    pub due: Timestamp,
}

/// One fee as assessed.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct AssessedFee {
    /// The fee's name in the schedule.
    pub name: String,
    /// What it came to.
    pub amount: Vnd,
    /// Exempt (the ground shown is one of the fee's exemptions).
    pub exempt: bool,
}

/// A fact about a dossier.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Submitted online.
    Submitted {
        /// When.
        at: Timestamp,
        /// Procedure.
        procedure: ProcedureCode,
        /// Channel.
        channel: Channel,
        /// The administrative unit whose procedure it is (last, so events written before it
        /// existed read back with none).
        #[serde(default)]
        jurisdiction: Option<Arc<str>>,
        /// Who applies (after the fields above: older events read back with none).
        #[serde(default)]
        applicant: Option<crate::applicant::Applicant>,
    },
    /// Accepted; the clock runs from `clock_start`.
    Received {
        /// When.
        at: Timestamp,
        /// Procedure.
        procedure: ProcedureCode,
        /// Channel.
        channel: Channel,
        /// Clock start (docs/rules.md §4).
        clock_start: Timestamp,
        /// Due time (docs/rules.md §5), `None` without a limit.
        due: Option<Timestamp>,
        /// The administrative unit whose procedure it is: step roles resolve to agencies
        /// through it (after the fields of the first schema, so events written before it
        /// existed read back with none).
        #[serde(default)]
        jurisdiction: Option<Arc<str>>,
        /// The version of the procedure this dossier follows to the end (its `effective_from`;
        /// none for an undated procedure or an event written before versions).
        #[serde(default)]
        procedure_version: Option<chrono::NaiveDate>,
        /// Who applies (after the fields above: older events read back with none).
        #[serde(default)]
        applicant: Option<crate::applicant::Applicant>,
        /// The documents received (older events: none recorded).
        #[serde(default)]
        documents: Vec<crate::results::SubmittedDocument>,
        /// The components received on paper that the digitisation rules in force required
        /// digitised (older events: none recorded).
        #[serde(default)]
        undigitised: Vec<String>,
        /// The procedure's case the dossier falls under, when named (last, and left out when
        /// none: events without one keep their bytes; 1-2 bytes a receipt that names one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case: Option<Arc<str>>,
    },
    /// Asked, before acceptance, to complete the dossier (national status 5).
    CompletionRequested {
        /// When.
        at: Timestamp,
        /// Everything missing.
        missing: String,
    },
    /// Completed by the applicant; waiting for acceptance again.
    Resubmitted {
        /// When.
        at: Timestamp,
    },
    /// Refused at intake.
    RefusedAtIntake {
        /// When.
        at: Timestamp,
        /// Why.
        reason: String,
    },
    /// A step started.
    StepStarted {
        /// When.
        at: Timestamp,
        /// Which.
        step: StepId,
        /// Its agency.
        agency: Arc<str>,
        /// The agency it came from, for an inter-agency transfer.
        from_agency: Option<Arc<str>>,
        /// The step's due time (docs/rules.md §8).
        due: Timestamp,
    },
    /// A step completed.
    StepCompleted {
        /// When.
        at: Timestamp,
        /// Which.
        step: StepId,
        /// Against its own due time.
        outcome: Outcome,
    },
    /// Supplement requested; the clock stops.
    SupplementRequested {
        /// When.
        at: Timestamp,
        /// What is missing.
        reason: String,
    },
    /// Supplement received; the clock runs again with these due times.
    SupplementReceived {
        /// When.
        at: Timestamp,
        /// New clock start (restart) or the old one (pause).
        clock_start: Timestamp,
        /// New due time.
        due: Option<Timestamp>,
        /// New due times of active steps.
        step_dues: Vec<StepDue>,
    },
    /// Fees or taxes requested.
    FinancialObligationRequested {
        /// When.
        at: Timestamp,
        /// Amount.
        amount: Vnd,
        /// Whether the clock stops meanwhile (policy).
        pauses: bool,
    },
    /// Fees or taxes paid.
    FinancialObligationConfirmed {
        /// When.
        at: Timestamp,
        /// Due time after the pause.
        due: Option<Timestamp>,
        /// New due times of active steps.
        step_dues: Vec<StepDue>,
    },
    /// Processing suspended.
    Suspended {
        /// When.
        at: Timestamp,
        /// Why.
        reason: String,
        /// Whether the clock stops meanwhile (policy).
        pauses: bool,
    },
    /// Processing resumed.
    Resumed {
        /// When.
        at: Timestamp,
        /// Due time after the pause.
        due: Option<Timestamp>,
        /// New due times of active steps.
        step_dues: Vec<StepDue>,
    },
    /// Rescheduled with an apology letter.
    Extended {
        /// When the letter was issued.
        at: Timestamp,
        /// The new promise.
        new_due: Timestamp,
        /// Issued less than one working day before the due time (docs/rules.md §7).
        late_apology: bool,
        /// Why.
        reason: String,
    },
    /// Processing finished.
    Finished {
        /// When.
        at: Timestamp,
        /// Approved or denied.
        decision: Decision,
        /// Against the due time; `None` without one.
        outcome: Option<Outcome>,
        /// Why it was denied (after the first schema's fields: older events read back with
        /// none).
        #[serde(default)]
        reason: Option<String>,
        /// The result issued, for an approval that issues one (older events: none).
        #[serde(default)]
        result: Option<crate::results::IssuedResult>,
    },
    /// The applicant was told the result is ready to collect (Decree 61/2018/NĐ-CP Art. 20).
    ResultReadyNotified {
        /// When.
        at: Timestamp,
        /// Before the appointment's day: an early return, which the applicant must learn of.
        early: bool,
    },
    /// Result returned.
    ResultReturned {
        /// When.
        at: Timestamp,
        /// How it was handed over (after the first schema's fields: older events read back
        /// with none).
        #[serde(default)]
        delivery: Option<crate::command::Delivery>,
    },
    /// The result this dossier issued was revoked.
    ResultRevoked {
        /// When.
        at: Timestamp,
        /// Its number.
        number: String,
        /// Why.
        reason: String,
    },
    /// The result this dossier issued passed its last valid day.
    ResultExpired {
        /// When it was recorded.
        at: Timestamp,
        /// Its number.
        number: String,
        /// Its last valid day.
        valid_until: chrono::NaiveDate,
    },
    /// The applicant rated the handling.
    Rated {
        /// When.
        at: Timestamp,
        /// Satisfied.
        satisfied: bool,
    },
    /// Fees assessed for a stage, line by line.
    FeesAssessed {
        /// When.
        at: Timestamp,
        /// The stage.
        stage: crate::procedure::FeeStage,
        /// Each fee and what it came to.
        lines: Vec<AssessedFee>,
        /// Their sum.
        total: Vnd,
    },
    /// Fees or charges paid.
    Paid {
        /// When.
        at: Timestamp,
        /// Amount.
        amount: Vnd,
        /// How.
        channel: crate::command::PaymentChannel,
        /// The receipt's number.
        receipt: String,
    },
    /// Paid back.
    Refunded {
        /// When.
        at: Timestamp,
        /// Amount.
        amount: Vnd,
        /// Why.
        reason: String,
    },
    /// A feedback was received, with its deadlines.
    FeedbackFiled {
        /// When.
        at: Timestamp,
        /// Its number within the dossier.
        feedback: u16,
        /// What it says, in short.
        subject: String,
        /// Its class, if given.
        topic: Option<FeedbackTopic>,
        /// The feedback it follows up.
        follows: Option<u16>,
        /// The last instant a rejection is on time.
        reject_by: Timestamp,
        /// The last instant an answer is on time.
        due: Timestamp,
    },
    /// A feedback was answered or rejected.
    FeedbackAnswered {
        /// When.
        at: Timestamp,
        /// Its number.
        feedback: u16,
        /// Answered or rejected.
        end: FeedbackEnd,
        /// The answer, or the reason.
        text: String,
        /// Its class, if the officer gave one.
        topic: Option<FeedbackTopic>,
        /// Against its deadline.
        outcome: Outcome,
        /// The last instant its publication is on time (answers only).
        publish_by: Option<Timestamp>,
    },
    /// A feedback's answer was made public.
    FeedbackPublished {
        /// When.
        at: Timestamp,
        /// Its number.
        feedback: u16,
    },
    /// The applicant rated a feedback's answer.
    FeedbackRated {
        /// When.
        at: Timestamp,
        /// Its number.
        feedback: u16,
        /// Satisfied.
        satisfied: bool,
    },
    /// Withdrawn by the applicant.
    Withdrawn {
        /// When.
        at: Timestamp,
        /// Against the due time, for an accepted dossier.
        outcome: Option<Outcome>,
    },
    /// Stopped by the agency.
    Stopped {
        /// When.
        at: Timestamp,
        /// Why.
        reason: String,
        /// Against the due time, for an accepted dossier.
        outcome: Option<Outcome>,
    },
    /// The notice that processing stops, answering a withdrawal request (national status 8);
    /// the dossier's end and outcome stay those of the withdrawal.
    StopNoticeIssued {
        /// When.
        at: Timestamp,
        /// The notice's text (why processing stops).
        reason: String,
    },
    /// Received at a desk outside the competent unit's area (Decree 309/2026/NĐ-CP), with its
    /// receipt: the desk transfers it by `due`; its clock has not started (the receipt's
    /// `clock_start` is the desk's, its `due` none) until [`Event::TransferReceived`]. An event
    /// of its own, so other receipts keep their bytes.
    TransferPending {
        /// When (the receipt's instant).
        at: Timestamp,
        /// By when the desk transfers it to the competent agency.
        due: Timestamp,
        /// The competent agency (the one that performs the procedure's first step for the
        /// dossier's unit, that day), to which reports count the dossier; none when the
        /// procedure names no step.
        to: Option<crate::AgencyCode>,
    },
    /// The competent agency received a dossier transferred from a desk outside its area
    /// (Decree 309/2026/NĐ-CP): the clock starts now, by docs/rules.md §4.
    TransferReceived {
        /// When the competent agency received it.
        at: Timestamp,
        /// The clock start.
        clock_start: Timestamp,
        /// The due time, `None` without a limit.
        due: Option<Timestamp>,
    },
    /// Handed over to another administrative unit (its own ended at a merger): its steps not
    /// yet started resolve through the new unit.
    HandedOver {
        /// When.
        at: Timestamp,
        /// The unit it belonged to.
        from: Option<Arc<str>>,
        /// The unit it belongs to now.
        to: Arc<str>,
    },
    /// A declared outage of the systems (status suspended until resumed).
    OutageDeclared {
        /// When.
        at: Timestamp,
        /// What is down.
        reason: String,
        /// Who declared it.
        source: String,
        /// Whether the clock stops meanwhile (the procedure's policy).
        pauses: bool,
    },
}

impl Event {
    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            Event::Submitted { at, .. }
            | Event::Received { at, .. }
            | Event::TransferReceived { at, .. }
            | Event::TransferPending { at, .. }
            | Event::HandedOver { at, .. }
            | Event::OutageDeclared { at, .. }
            | Event::RefusedAtIntake { at, .. }
            | Event::StepStarted { at, .. }
            | Event::StepCompleted { at, .. }
            | Event::SupplementRequested { at, .. }
            | Event::SupplementReceived { at, .. }
            | Event::FinancialObligationRequested { at, .. }
            | Event::FinancialObligationConfirmed { at, .. }
            | Event::Suspended { at, .. }
            | Event::Resumed { at, .. }
            | Event::Extended { at, .. }
            | Event::Finished { at, .. }
            | Event::ResultReturned { at, .. }
            | Event::ResultReadyNotified { at, .. }
            | Event::Withdrawn { at, .. }
            | Event::Paid { at, .. }
            | Event::FeesAssessed { at, .. }
            | Event::Rated { at, .. }
            | Event::ResultRevoked { at, .. }
            | Event::ResultExpired { at, .. }
            | Event::Refunded { at, .. }
            | Event::CompletionRequested { at, .. }
            | Event::Resubmitted { at }
            | Event::StopNoticeIssued { at, .. }
            | Event::FeedbackFiled { at, .. }
            | Event::FeedbackAnswered { at, .. }
            | Event::FeedbackPublished { at, .. }
            | Event::FeedbackRated { at, .. }
            | Event::Stopped { at, .. } => *at,
        }
    }

    /// A stable snake_case name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "submitted",
            Event::Received { .. } => "received",
            Event::RefusedAtIntake { .. } => "refused_at_intake",
            Event::StepStarted { .. } => "step_started",
            Event::StepCompleted { .. } => "step_completed",
            Event::SupplementRequested { .. } => "supplement_requested",
            Event::SupplementReceived { .. } => "supplement_received",
            Event::FinancialObligationRequested { .. } => "financial_obligation_requested",
            Event::FinancialObligationConfirmed { .. } => "financial_obligation_confirmed",
            Event::Suspended { .. } => "suspended",
            Event::Resumed { .. } => "resumed",
            Event::Extended { .. } => "extended",
            Event::Finished { .. } => "finished",
            Event::ResultReadyNotified { .. } => "result_ready_notified",
            Event::ResultReturned { .. } => "result_returned",
            Event::Withdrawn { .. } => "withdrawn",
            Event::Paid { .. } => "paid",
            Event::FeesAssessed { .. } => "fees_assessed",
            Event::Rated { .. } => "rated",
            Event::ResultRevoked { .. } => "result_revoked",
            Event::ResultExpired { .. } => "result_expired",
            Event::Refunded { .. } => "refunded",
            Event::CompletionRequested { .. } => "completion_requested",
            Event::Resubmitted { .. } => "resubmitted",
            Event::StopNoticeIssued { .. } => "stop_notice_issued",
            Event::Stopped { .. } => "stopped",
            Event::FeedbackFiled { .. } => "feedback_filed",
            Event::FeedbackAnswered { .. } => "feedback_answered",
            Event::FeedbackPublished { .. } => "feedback_published",
            Event::FeedbackRated { .. } => "feedback_rated",
            Event::TransferReceived { .. } => "transfer_received",
            Event::TransferPending { .. } => "transfer_pending",
            Event::HandedOver { .. } => "handed_over",
            Event::OutageDeclared { .. } => "outage_declared",
        }
    }
}
