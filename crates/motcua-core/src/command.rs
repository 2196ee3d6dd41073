//! What officers, applicants and systems ask of a dossier.

use std::sync::Arc;

use motcua_calendar::Timestamp;
use serde::{Deserialize, Serialize};

use crate::applicant::Applicant;
use crate::feedback::{FeedbackEnd, FeedbackTopic};
use crate::ids::{ProcedureCode, Vnd};
use crate::procedure::{FeeStage, StepId};
use crate::results::SubmittedDocument;
use crate::status::{Channel, Decision};

/// A request to change a dossier. `decide` turns it into events or a [`crate::DomainError`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// An online submission, not yet accepted (status 1).
    Submit {
        /// Procedure.
        procedure: ProcedureCode,
        /// Channel.
        channel: Channel,
        /// The administrative unit whose procedure it is, when not the receiving agency's own
        /// (receiving regardless of administrative boundary; see [`crate::Register`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jurisdiction: Option<Arc<str>>,
        /// Who applies (a pseudonymous key, never the identifier).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        applicant: Option<Applicant>,
    },
    /// Accept the dossier (tiếp nhận): the clock starts and the due time is fixed.
    Receive {
        /// Procedure.
        procedure: ProcedureCode,
        /// Channel.
        channel: Channel,
        /// The administrative unit whose procedure it is, when not the receiving agency's own
        /// (a provincial centre receiving a commune's procedure; Decree 118/2025/NĐ-CP).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        jurisdiction: Option<Arc<str>>,
        /// Who applies (a pseudonymous key, never the identifier); an online submission's
        /// applicant stays when this is none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        applicant: Option<Applicant>,
        /// The documents received: on paper, digitised (their digest), or reused results.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<SubmittedDocument>,
        /// The procedure's case the dossier falls under (`id` of one of its
        /// [`crate::ProcedureCase`]s), when its limit depends on the case: none takes the
        /// procedure's own limit, unless the procedure requires a case.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case: Option<Arc<str>>,
    },
    /// Ask an online applicant, before acceptance, to complete the dossier: one notice saying
    /// everything missing, once (Decree 61/2018/NĐ-CP Art. 17(2)).
    RequestCompletion {
        /// Everything missing, in one notice.
        missing: String,
    },
    /// The applicant completed the dossier asked for; it waits for acceptance again.
    Resubmit,
    /// Refuse at intake (NĐ 61/2018 Art. 17(1b)).
    RefuseAtIntake {
        /// Why.
        reason: String,
    },
    /// Start a step (assign it) at its own agency.
    StartStep {
        /// The step.
        step: StepId,
    },
    /// Hand the dossier to the next agency of an inter-agency chain and start its step.
    Transfer {
        /// The step at the next agency.
        step: StepId,
    },
    /// Complete a step.
    CompleteStep {
        /// The step.
        step: StepId,
    },
    /// Ask the applicant for a supplement (Phiếu yêu cầu bổ sung); the clock stops.
    RequestSupplement {
        /// What is missing.
        reason: String,
    },
    /// The complete supplement arrived.
    ReceiveSupplement,
    /// Ask for fees or taxes (status 6).
    RequestFinancialObligation {
        /// Amount due.
        amount: Vnd,
    },
    /// Fees or taxes paid.
    ConfirmFinancialObligation,
    /// Suspend processing.
    Suspend {
        /// Why.
        reason: String,
    },
    /// Resume after a suspension.
    Resume,
    /// Reschedule once with an apology letter (Phiếu xin lỗi và hẹn lại ngày trả kết quả).
    Extend {
        /// The new promised time.
        new_due: Timestamp,
        /// Why.
        reason: String,
    },
    /// Processing finished.
    Finish {
        /// Approved or denied.
        decision: Decision,
        /// Why it was denied (required for a denial: Decree 61/2018/NĐ-CP Art. 19(8), a
        /// refusal after appraisal states its reasons in writing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The result an approval issues (its number; electronic or paper).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<ResultIssue>,
    },
    /// Tell the applicant the result is ready to collect (Decree 61/2018/NĐ-CP Art. 20: a
    /// result ready before the appointment is returned early, and the one-stop section contacts
    /// the applicant so they know and come). Once, after processing finished.
    NotifyResultReady,
    /// The result was handed over (Decree 61/2018/NĐ-CP Art. 20).
    ReturnResult {
        /// How: at the counter, by public postal service, or online (none: not said).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery: Option<Delivery>,
    },
    /// Assess the fees the procedure's schedule fixes for a stage (receipt, supplement, result):
    /// per unit where the schedule charges per unit, the online amount for an online dossier,
    /// nothing on a ground of exemption the fee lists.
    AssessFees {
        /// Which fees: those of this stage.
        #[serde(default)]
        stage: FeeStage,
        /// Units (pages, copies, persons) for fees charged per unit (none: 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        units: Option<u32>,
        /// The ground of exemption the applicant shows, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exemption: Option<String>,
    },
    /// A payment of the dossier's fees or charges, with its channel and receipt (Decision 766,
    /// 3.6: paid online through the national payment platform or a provincial gateway).
    Pay {
        /// Amount paid.
        amount: Vnd,
        /// How.
        channel: PaymentChannel,
        /// The receipt's number (biên lai).
        receipt: String,
    },
    /// Pay back what was paid and is not owed (a refusal, a denial, a withdrawal).
    Refund {
        /// Amount refunded.
        amount: Vnd,
        /// Why.
        reason: String,
    },
    /// Revoke the result this dossier issued (it is no longer in force: a later dossier cannot
    /// reuse it).
    RevokeResult {
        /// Why.
        reason: String,
    },
    /// Record that the result this dossier issued is past its last valid day (a system's daily
    /// sweep: expiry is an event, like revocation).
    ExpireResult,
    /// The applicant's rating of how the dossier was handled: satisfied or not (Decision 766,
    /// 5.4: the share of dossiers the applicant disliked counts against satisfaction). Once,
    /// after processing finished.
    Rate {
        /// Satisfied.
        satisfied: bool,
    },
    /// A feedback or complaint about the dossier (phản ánh, kiến nghị): a record of its own,
    /// numbered within the dossier, answered within 15 working days (see [`crate::Feedback`]).
    FileFeedback {
        /// What it says, in short (no personal data).
        subject: String,
        /// What it is about, if the applicant said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<FeedbackTopic>,
        /// The earlier feedback whose answer it complains about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        follows: Option<u16>,
    },
    /// Close a feedback: answer it, or reject it with the reason.
    AnswerFeedback {
        /// Its number.
        feedback: u16,
        /// Answered or rejected.
        end: FeedbackEnd,
        /// The answer, or why it is rejected.
        text: String,
        /// Its class, when the officer classifies it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<FeedbackTopic>,
    },
    /// Make a feedback's answer public (within 2 working days of the answer).
    PublishFeedback {
        /// Its number.
        feedback: u16,
    },
    /// The applicant's rating of a feedback's answer.
    RateFeedback {
        /// Its number.
        feedback: u16,
        /// Satisfied.
        satisfied: bool,
    },
    /// The applicant withdraws the dossier.
    Withdraw,
    /// The agency stops processing.
    Stop {
        /// Why.
        reason: String,
    },
    /// The competent agency receives a dossier a desk outside its area received and
    /// transferred (Decree 309/2026/NĐ-CP): its clock starts now.
    ReceiveTransfer,
    /// Hand an open dossier over to another administrative unit (a unit that ended at a
    /// merger, its dossiers moving to its successor): its steps resolve through the new unit.
    HandOver {
        /// The unit it moves to.
        to: Arc<str>,
    },
    /// A declared outage of the systems the dossier is handled on (Decree 301/2026/NĐ-CP for
    /// the electronic inter-agency groups: the time the systems are down is not counted): the
    /// clock stops where the procedure's policy says so, until [`Command::Resume`].
    DeclareOutage {
        /// What is down.
        reason: String,
        /// Who declared it, and where (the notice of the operator).
        source: String,
    },
}

/// The result a finish issues, as the officer gives it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ResultIssue {
    /// Its number.
    pub number: String,
    /// Issued in electronic form.
    #[serde(default)]
    pub electronic: bool,
}

impl ResultIssue {
    /// A result issued in electronic form (Decree 45/2020/NĐ-CP: the electronic result has the
    /// paper's legal value).
    pub fn electronic(number: impl Into<String>) -> ResultIssue {
        ResultIssue { number: number.into(), electronic: true }
    }

    /// A result issued on paper.
    pub fn paper(number: impl Into<String>) -> ResultIssue {
        ResultIssue { number: number.into(), electronic: false }
    }
}

/// The kind of a command, for messages and statistics.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    /// [`Command::RequestCompletion`].
    RequestCompletion,
    /// [`Command::Resubmit`].
    Resubmit,
    /// [`Command::Submit`].
    Submit,
    /// [`Command::Receive`].
    Receive,
    /// [`Command::RefuseAtIntake`].
    RefuseAtIntake,
    /// [`Command::StartStep`].
    StartStep,
    /// [`Command::Transfer`].
    Transfer,
    /// [`Command::CompleteStep`].
    CompleteStep,
    /// [`Command::RequestSupplement`].
    RequestSupplement,
    /// [`Command::ReceiveSupplement`].
    ReceiveSupplement,
    /// [`Command::RequestFinancialObligation`].
    RequestFinancialObligation,
    /// [`Command::ConfirmFinancialObligation`].
    ConfirmFinancialObligation,
    /// [`Command::Suspend`].
    Suspend,
    /// [`Command::Resume`].
    Resume,
    /// [`Command::Extend`].
    Extend,
    /// [`Command::Finish`].
    Finish,
    /// [`Command::NotifyResultReady`].
    NotifyResultReady,
    /// [`Command::ReturnResult { delivery: None }`].
    ReturnResult,
    /// [`Command::AssessFees`].
    AssessFees,
    /// [`Command::Pay`].
    Pay,
    /// [`Command::Refund`].
    Refund,
    /// [`Command::Rate`].
    Rate,
    /// [`Command::RevokeResult`].
    RevokeResult,
    /// [`Command::ExpireResult`].
    ExpireResult,
    /// [`Command::FileFeedback`].
    FileFeedback,
    /// [`Command::AnswerFeedback`].
    AnswerFeedback,
    /// [`Command::PublishFeedback`].
    PublishFeedback,
    /// [`Command::RateFeedback`].
    RateFeedback,
    /// [`Command::Withdraw`].
    Withdraw,
    /// [`Command::Stop`].
    Stop,
    /// [`Command::ReceiveTransfer`].
    ReceiveTransfer,
    /// [`Command::HandOver`].
    HandOver,
    /// [`Command::DeclareOutage`].
    DeclareOutage,
}

/// The longest free text a command may carry (a reason, what is missing, an answer), in
/// characters: every stored byte is paid for every dossier, and no notice needs more.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The longest name or number a command may carry (a receipt's or a result's number, a
/// component's name, an administrative unit's code, a ground of exemption), in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The most documents one receipt may list.
pub const MAX_DOCUMENTS: usize = 200;

impl Command {
    /// A receipt (tiếp nhận) of `procedure` by `channel`, with no applicant, unit or documents:
    /// add them with [`Command::with_applicant`], [`Command::with_jurisdiction`] and
    /// [`Command::with_documents`].
    ///
    /// ```
    /// use motcua_core::{Channel, Command};
    /// let receive = Command::receive("1.001612".parse().unwrap(), Channel::Direct).with_jurisdiction("58.582.22738");
    /// assert!(matches!(receive, Command::Receive { jurisdiction: Some(_), applicant: None, .. }));
    /// ```
    pub fn receive(procedure: ProcedureCode, channel: Channel) -> Command {
        Command::Receive { procedure, channel, jurisdiction: None, applicant: None, documents: Vec::new(), case: None }
    }

    /// An approval issuing `result` (none: a decision without a document).
    ///
    /// ```
    /// use motcua_core::{Command, Decision, ResultIssue};
    /// let approve = Command::approve(Some(ResultIssue::electronic("XN-2025-0001")));
    /// assert!(matches!(approve, Command::Finish { decision: Decision::Approved, reason: None, result: Some(_) }));
    /// let deny = Command::deny("Không đủ điều kiện theo Điều 20 Luật Cư trú");
    /// assert!(matches!(deny, Command::Finish { decision: Decision::Denied, reason: Some(_), result: None }));
    /// ```
    pub fn approve(result: Option<ResultIssue>) -> Command {
        Command::Finish { decision: Decision::Approved, reason: None, result }
    }

    /// A denial with its reasons (Decree 61/2018/NĐ-CP Art. 19(8): stated in writing).
    pub fn deny(reason: impl Into<String>) -> Command {
        Command::Finish { decision: Decision::Denied, reason: Some(reason.into()), result: None }
    }

    /// Start `step`.
    pub fn start_step(step: impl Into<StepId>) -> Command {
        Command::StartStep { step: step.into() }
    }

    /// Complete `step`.
    pub fn complete_step(step: impl Into<StepId>) -> Command {
        Command::CompleteStep { step: step.into() }
    }

    /// Send `step` to the agency that does it (inter-agency).
    pub fn transfer(step: impl Into<StepId>) -> Command {
        Command::Transfer { step: step.into() }
    }

    /// An online submission of `procedure` by `channel`, with no applicant or unit (add them
    /// with [`Command::with_applicant`] and [`Command::with_jurisdiction`]).
    pub fn submit(procedure: ProcedureCode, channel: Channel) -> Command {
        Command::Submit { procedure, channel, jurisdiction: None, applicant: None }
    }

    /// The command with its applicant set (a submission or a receipt; any other command is
    /// returned as it was).
    pub fn with_applicant(mut self, who: Applicant) -> Command {
        if let Command::Receive { applicant, .. } | Command::Submit { applicant, .. } = &mut self {
            *applicant = Some(who);
        }
        self
    }

    /// The command with the administrative unit whose procedure it is (a submission or a
    /// receipt; any other command is returned as it was).
    pub fn with_jurisdiction(mut self, unit: impl Into<Arc<str>>) -> Command {
        if let Command::Receive { jurisdiction, .. } | Command::Submit { jurisdiction, .. } = &mut self {
            *jurisdiction = Some(unit.into());
        }
        self
    }

    /// The receipt with the documents received (any other command is returned as it was).
    pub fn with_documents(mut self, received: Vec<SubmittedDocument>) -> Command {
        if let Command::Receive { documents, .. } = &mut self {
            *documents = received;
        }
        self
    }

    /// The receipt under one of the procedure's cases (any other command is returned as it was).
    pub fn with_case(mut self, id: impl Into<Arc<str>>) -> Command {
        if let Command::Receive { case, .. } = &mut self {
            *case = Some(id.into());
        }
        self
    }

    /// Checks the sizes of what the command carries ([`MAX_TEXT_CHARS`], [`MAX_NAME_CHARS`],
    /// [`MAX_DOCUMENTS`]): `Err` names the field and its limit. [`crate::decide`] refuses an
    /// oversized command before anything else.
    pub fn check_sizes(&self) -> Result<(), crate::DomainError> {
        let text = |field: &'static str, v: &str| {
            if v.chars().count() > MAX_TEXT_CHARS {
                Err(crate::DomainError::TooLong { field, max: MAX_TEXT_CHARS })
            } else {
                Ok(())
            }
        };
        let name = |field: &'static str, v: &str| {
            if v.chars().count() > MAX_NAME_CHARS {
                Err(crate::DomainError::TooLong { field, max: MAX_NAME_CHARS })
            } else {
                Ok(())
            }
        };
        match self {
            Command::Submit { jurisdiction, .. } => jurisdiction.as_deref().map_or(Ok(()), |j| name("jurisdiction", j)),
            Command::Receive { jurisdiction, documents, case, .. } => {
                case.as_deref().map_or(Ok(()), |c| name("case", c))?;
                if documents.len() > MAX_DOCUMENTS {
                    return Err(crate::DomainError::TooLong { field: "documents", max: MAX_DOCUMENTS });
                }
                for d in documents {
                    name("documents.component", &d.component)?;
                    match &d.form {
                        crate::DocumentForm::Reused { result } => name("documents.result", result)?,
                        crate::DocumentForm::Digitised { sha256, .. } => name("documents.sha256", sha256)?,
                        crate::DocumentForm::Paper => {}
                    }
                }
                jurisdiction.as_deref().map_or(Ok(()), |j| name("jurisdiction", j))
            }
            Command::RequestCompletion { missing } => text("missing", missing),
            Command::RefuseAtIntake { reason }
            | Command::RequestSupplement { reason, .. }
            | Command::Extend { reason, .. }
            | Command::Refund { reason, .. }
            | Command::RevokeResult { reason }
            | Command::Suspend { reason, .. }
            | Command::Stop { reason } => text("reason", reason),
            Command::Finish { reason, result, .. } => {
                reason.as_deref().map_or(Ok(()), |r| text("reason", r))?;
                result.as_ref().map_or(Ok(()), |r| name("result.number", &r.number))
            }
            Command::AssessFees { exemption, .. } => exemption.as_deref().map_or(Ok(()), |e| name("exemption", e)),
            Command::Pay { receipt, .. } => name("receipt", receipt),
            Command::FileFeedback { subject, .. } => text("subject", subject),
            Command::AnswerFeedback { text: t, .. } => text("text", t),
            Command::HandOver { to } => name("to", to),
            Command::DeclareOutage { reason, source } => {
                text("reason", reason)?;
                text("source", source)
            }
            _ => Ok(()),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Submit { .. } => CommandKind::Submit,
            Command::Receive { .. } => CommandKind::Receive,
            Command::RefuseAtIntake { .. } => CommandKind::RefuseAtIntake,
            Command::StartStep { .. } => CommandKind::StartStep,
            Command::Transfer { .. } => CommandKind::Transfer,
            Command::CompleteStep { .. } => CommandKind::CompleteStep,
            Command::RequestSupplement { .. } => CommandKind::RequestSupplement,
            Command::ReceiveSupplement => CommandKind::ReceiveSupplement,
            Command::RequestFinancialObligation { .. } => CommandKind::RequestFinancialObligation,
            Command::ConfirmFinancialObligation => CommandKind::ConfirmFinancialObligation,
            Command::Suspend { .. } => CommandKind::Suspend,
            Command::Resume => CommandKind::Resume,
            Command::Extend { .. } => CommandKind::Extend,
            Command::Finish { .. } => CommandKind::Finish,
            Command::NotifyResultReady => CommandKind::NotifyResultReady,
            Command::ReturnResult { .. } => CommandKind::ReturnResult,
            Command::Withdraw => CommandKind::Withdraw,
            Command::Rate { .. } => CommandKind::Rate,
            Command::RevokeResult { .. } => CommandKind::RevokeResult,
            Command::ExpireResult => CommandKind::ExpireResult,
            Command::Pay { .. } => CommandKind::Pay,
            Command::AssessFees { .. } => CommandKind::AssessFees,
            Command::Refund { .. } => CommandKind::Refund,
            Command::RequestCompletion { .. } => CommandKind::RequestCompletion,
            Command::Resubmit => CommandKind::Resubmit,
            Command::Stop { .. } => CommandKind::Stop,
            Command::FileFeedback { .. } => CommandKind::FileFeedback,
            Command::AnswerFeedback { .. } => CommandKind::AnswerFeedback,
            Command::PublishFeedback { .. } => CommandKind::PublishFeedback,
            Command::RateFeedback { .. } => CommandKind::RateFeedback,
            Command::ReceiveTransfer => CommandKind::ReceiveTransfer,
            Command::HandOver { .. } => CommandKind::HandOver,
            Command::DeclareOutage { .. } => CommandKind::DeclareOutage,
        }
    }
}

impl CommandKind {
    /// A stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::Submit => "submit",
            CommandKind::Receive => "receive",
            CommandKind::RefuseAtIntake => "refuse_at_intake",
            CommandKind::StartStep => "start_step",
            CommandKind::Transfer => "transfer",
            CommandKind::RequestCompletion => "request_completion",
            CommandKind::Resubmit => "resubmit",
            CommandKind::CompleteStep => "complete_step",
            CommandKind::RequestSupplement => "request_supplement",
            CommandKind::ReceiveSupplement => "receive_supplement",
            CommandKind::RequestFinancialObligation => "request_financial_obligation",
            CommandKind::ConfirmFinancialObligation => "confirm_financial_obligation",
            CommandKind::Suspend => "suspend",
            CommandKind::Resume => "resume",
            CommandKind::Extend => "extend",
            CommandKind::Finish => "finish",
            CommandKind::NotifyResultReady => "notify_result_ready",
            CommandKind::ReturnResult => "return_result",
            CommandKind::Withdraw => "withdraw",
            CommandKind::Rate => "rate",
            CommandKind::RevokeResult => "revoke_result",
            CommandKind::ExpireResult => "expire_result",
            CommandKind::Pay => "pay",
            CommandKind::AssessFees => "assess_fees",
            CommandKind::Refund => "refund",
            CommandKind::Stop => "stop",
            CommandKind::FileFeedback => "file_feedback",
            CommandKind::AnswerFeedback => "answer_feedback",
            CommandKind::PublishFeedback => "publish_feedback",
            CommandKind::RateFeedback => "rate_feedback",
            CommandKind::ReceiveTransfer => "receive_transfer",
            CommandKind::HandOver => "hand_over",
            CommandKind::DeclareOutage => "declare_outage",
        }
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a fee was paid (Decision 766, 3.5 and 3.6).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentChannel {
    /// The national portal's payment platform (online).
    NationalPlatform,
    /// A provincial payment gateway (online).
    ProvincialGateway,
    /// Cash or card at the counter.
    Counter,
}

impl PaymentChannel {
    /// Whether it is an online payment.
    pub fn is_online(self) -> bool {
        self != PaymentChannel::Counter
    }
}

/// How a result reaches the applicant (Decree 61/2018/NĐ-CP Art. 20; Decree 45/2020/NĐ-CP for
/// electronic results).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Handed over at the one-stop counter.
    Counter,
    /// Sent by public postal service.
    Postal,
    /// Returned online (an electronic result on the portal).
    Online,
}
