//! Rule-test scenarios: a procedure, then timed commands with expected results. See
//! `seeds/scenarios/README.md` for the format.
//!
//! ```toml
//! name = "Birth registration received after 15:00 on a Friday"
//! procedure = "1.001193"
//! catalog = "../procedures"        # relative to this file (this is the default)
//! province = "../provinces/ha-noi.toml"  # optional: a province's fees and limits over it
//!
//! [[step]]
//! at = "2025-03-07T15:30"
//! do = "receive"
//! expect = { status = "received", due = "2025-03-10T17:00" }
//!
//! [[step]]
//! at = "2025-03-10T09:00"
//! do = "finish"
//! decision = "approved"
//! expect = { outcome = "early", national = 9 }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::Datelike;
use motcua_calendar::holidays::{FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR};
use motcua_calendar::{HolidayRules, Notices, OfficeHours, Timestamp, WorkCalendar};
use motcua_core::{
    apply, decide, permits, Actor, ActorId, ActorRole, Applicant, ApplicantKind, Channel, Command, Context, Decision,
    Delivery, DigitisationRules, DocumentForm, DomainError, Dossier, Event, FeeStage, FeedbackEnd, FeedbackTopic,
    Identifier, IdentityKey, Judgement, KnownResult, Outcome, Parties, PaymentChannel, Procedure, ProcedureCode,
    Register, ResultIssue, StepId, SubmittedDocument, Vnd,
};
use serde::Deserialize;

use crate::error::{line_of, toml_problem, CatalogError, Problem, Sink};
use crate::procedures::Catalog;

type Sp<T> = toml::Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Sp<String>,
    procedure: Sp<String>,
    catalog: Option<Sp<String>>,
    province: Option<Sp<String>>,
    hours: Option<Sp<String>>,
    culture_day: Option<bool>,
    units: Option<Sp<String>>,
    receiving: Option<Sp<String>>,
    digitisation: Option<Sp<String>>,
    /// Results the warehouse already holds before the first step.
    #[serde(default)]
    warehouse: Vec<Sp<RawHeld>>,
    #[serde(default)]
    step: Vec<Sp<RawStep>>,
}

/// A result the warehouse holds: `[[warehouse]]` with number, holder (their CCCD or tax code,
/// keyed as the runtime keys it), kind, valid_until, revoked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeld {
    number: String,
    holder: Sp<String>,
    kind: String,
    valid_until: Option<Sp<String>>,
    #[serde(default)]
    revoked: bool,
}

/// An applicant as a step gives it: `applicant = { kind = "citizen", id = "…", vneid = true }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplicant {
    #[serde(default)]
    kind: Option<Sp<String>>,
    id: Sp<String>,
    #[serde(default)]
    vneid: bool,
}

/// A document received: `{ component = "…", form = "paper" | "digitised" | "reused", … }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocumentIn {
    component: String,
    form: Sp<String>,
    sha256: Option<String>,
    size: Option<u64>,
    result: Option<String>,
}

/// The result a finish issues: `result = { number = "…", electronic = true }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIssue {
    number: String,
    #[serde(default)]
    electronic: bool,
}

/// The identity key scenarios key applicants under: test data only (a province keeps its own
/// secret).
pub const SCENARIO_IDENTITY_KEY: &[u8; 32] = b"motcua-scenario-identity-key-v1!";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: Sp<String>,
    #[serde(rename = "do")]
    action: Sp<String>,
    channel: Option<Sp<String>>,
    /// The procedure's case a receipt names.
    case: Option<String>,
    step: Option<Sp<String>>,
    reason: Option<String>,
    /// declare_outage: who declared the outage.
    source: Option<String>,
    amount: Option<Sp<String>>,
    new_due: Option<Sp<String>>,
    decision: Option<Sp<String>>,
    jurisdiction: Option<String>,
    delivery: Option<Sp<String>>,
    applicant: Option<Sp<RawApplicant>>,
    #[serde(default)]
    documents: Vec<Sp<RawDocumentIn>>,
    result: Option<RawIssue>,
    via: Option<Sp<String>>,
    receipt: Option<String>,
    by: Option<Sp<RawActor>>,
    feedback: Option<u16>,
    topic: Option<Sp<String>>,
    follows: Option<u16>,
    stage: Option<Sp<String>>,
    units: Option<u32>,
    exemption: Option<String>,
    expect: Option<Sp<RawExpect>>,
}

/// What a step expects of one feedback record: `expect.feedback = { number = 1, due = "…" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeedbackExpect {
    number: u16,
    due: Option<Sp<String>>,
    reject_by: Option<Sp<String>>,
    publish_by: Option<Sp<String>>,
    outcome: Option<Sp<String>>,
    on_time: Option<bool>,
    dissatisfied: Option<bool>,
    topic: Option<Sp<String>>,
}

/// Who issues a step's command: `by = { role = "specialist", agency = "H99.01.CA" }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    role: Sp<String>,
    agency: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    error: Option<String>,
    status: Option<String>,
    national: Option<u8>,
    clock_start: Option<Sp<String>>,
    due: Option<Sp<String>>,
    rescheduled_due: Option<Sp<String>>,
    transfer_due: Option<Sp<String>>,
    outcome: Option<Sp<String>>,
    judgement: Option<Sp<String>>,
    late_steps: Option<Vec<String>>,
    step_due: Option<BTreeMap<String, Sp<String>>>,
    supplement_requests: Option<u32>,
    late_apology: Option<bool>,
    kept_new_promise: Option<bool>,
    jurisdiction: Option<String>,
    step_agency: Option<BTreeMap<String, String>>,
    result_valid_until: Option<Sp<String>>,
    feedback: Option<RawFeedbackExpect>,
    assessed: Option<Sp<String>>,
    undigitised: Option<Vec<String>>,
}

/// What a step expects of one feedback record; `None` fields are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedbackExpect {
    /// Its number.
    pub number: u16,
    /// The last instant an answer is on time.
    pub due: Option<Timestamp>,
    /// The last instant a rejection is on time.
    pub reject_by: Option<Timestamp>,
    /// The last instant its answer's publication is on time.
    pub publish_by: Option<Timestamp>,
    /// Its closing against its deadline (`Some(None)`: still open).
    pub outcome: Option<Option<Outcome>>,
    /// Handled in time at the step's time (Decision 766, 5.2).
    pub on_time: Option<bool>,
    /// Counts against satisfaction at the step's time (Decision 766, 5.3).
    pub dissatisfied: Option<bool>,
    /// Its class.
    pub topic: Option<FeedbackTopic>,
}

/// What a step expects; `None` fields are not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// The rejection code expected instead of events.
    pub error: Option<String>,
    /// Status code (`received`, `in_progress`, `finished_approved`, …).
    pub status: Option<String>,
    /// National portal code.
    pub national: Option<u8>,
    /// Clock start.
    pub clock_start: Option<Timestamp>,
    /// Due time (`Some(None)`: no due time).
    pub due: Option<Option<Timestamp>>,
    /// Rescheduled due time.
    pub rescheduled_due: Option<Timestamp>,
    /// By when a desk outside the competent unit's area transfers the dossier.
    pub transfer_due: Option<Timestamp>,
    /// Outcome (`Some(None)`: none yet).
    pub outcome: Option<Option<Outcome>>,
    /// Judgement at the step's time: `in_time`, `overdue`, `no_due_time`, `early`, `on_time`, `late`.
    pub judgement: Option<Judgement>,
    /// Late steps at the step's time.
    pub late_steps: Option<Vec<String>>,
    /// Due times of steps.
    pub step_due: Vec<(String, Timestamp)>,
    /// Supplement requests so far.
    pub supplement_requests: Option<u32>,
    /// Late apology flag.
    pub late_apology: Option<bool>,
    /// Whether the rescheduled promise was kept.
    pub kept_new_promise: Option<bool>,
    /// The dossier's administrative unit.
    pub jurisdiction: Option<String>,
    /// The last valid day of the result its approval issued.
    pub result_valid_until: Option<chrono::NaiveDate>,
    /// The concrete agency of started steps (resolved through the register).
    pub step_agency: Vec<(String, String)>,
    /// One feedback record.
    pub feedback: Option<FeedbackExpect>,
    /// Fees assessed so far, in all.
    pub assessed: Option<Vnd>,
    /// The components received on paper that the digitisation rules required digitised.
    pub undigitised: Option<Vec<String>>,
}

/// One timed command of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioStep {
    /// 1-based line of the step.
    pub line: usize,
    /// When.
    pub at: Timestamp,
    /// What.
    pub command: Command,
    /// Who issues it; `None`: not checked (anyone may).
    pub by: Option<Actor>,
    /// What should follow.
    pub expect: Expect,
}

/// A parsed scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// The procedure it exercises.
    pub procedure: ProcedureCode,
    /// Line of `procedure`.
    pub procedure_line: usize,
    /// The catalog to find the procedure in.
    pub catalog: PathBuf,
    /// A province's file applied over the catalog (its council's fees, its shorter limits).
    pub province: Option<PathBuf>,
    /// Office hours, if not the national default.
    pub hours: Option<PathBuf>,
    /// Whether 24/11 is a day off from 2026.
    pub culture_day: bool,
    /// The register of units step roles resolve through, if any.
    pub units: Option<PathBuf>,
    /// The receiving agency (whose home unit a dossier belongs to by default).
    pub receiving: Option<String>,
    /// Results the warehouse holds before the first step.
    pub warehouse: Vec<KnownResult>,
    /// The digitisation rules receipts are checked against, if any.
    pub digitisation: Option<PathBuf>,
    /// The steps.
    pub steps: Vec<ScenarioStep>,
    /// Where the scenario names the files it refers to and its receiving agency: a problem in
    /// a referred file is reported at both places.
    pub references: References,
}

/// The lines of a scenario's references (0: not given; the file's first line is 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct References {
    /// `catalog = "…"`.
    pub catalog: usize,
    /// `province = "…"`.
    pub province: usize,
    /// `hours = "…"`.
    pub hours: usize,
    /// `units = "…"`.
    pub units: usize,
    /// `digitisation = "…"`.
    pub digitisation: usize,
    /// `receiving = "…"`.
    pub receiving: usize,
}

fn parse_time(sink: &mut Sink<'_>, field: &str, v: &Sp<String>) -> Option<Timestamp> {
    match v.get_ref().parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(e) => {
            sink.at(v.span().start, format!("{field}: {e}"));
            None
        }
    }
}

fn need<'a, T>(sink: &mut Sink<'_>, at: usize, action: &str, field: &str, v: &'a Option<T>) -> Option<&'a T> {
    if v.is_none() {
        sink.at(at, format!("do = {action:?} needs `{field}`"));
    }
    v.as_ref()
}

const ACTIONS: &str = "submit, request_completion, resubmit, receive, refuse_at_intake, start_step, transfer, complete_step, request_supplement, \
receive_supplement, request_financial_obligation, confirm_financial_obligation, suspend, resume, extend, finish, \
notify_result_ready, return_result, assess_fees, pay, refund, rate, revoke_result, expire_result, file_feedback, answer_feedback, reject_feedback, \
publish_feedback, rate_feedback, withdraw, stop, receive_transfer, hand_over, declare_outage";

fn topic(sink: &mut Sink<'_>, field: &str, raw: Option<&Sp<String>>) -> Option<Option<FeedbackTopic>> {
    match raw.map(|t| (t, t.get_ref().as_str())) {
        None => Some(None),
        Some((_, "regulation")) => Some(Some(FeedbackTopic::Regulation)),
        Some((_, "procedure")) => Some(Some(FeedbackTopic::Procedure)),
        Some((_, "conduct")) => Some(Some(FeedbackTopic::Conduct)),
        Some((t, other)) => {
            sink.at(t.span().start, format!("{field}: unknown {other:?}; expected regulation, procedure or conduct"));
            None
        }
    }
}

fn satisfied(sink: &mut Sink<'_>, at: usize, action: &str, raw: &Option<Sp<String>>) -> Option<bool> {
    let v = need(sink, at, action, "decision", raw)?;
    match v.get_ref().as_str() {
        "satisfied" => Some(true),
        "not_satisfied" => Some(false),
        other => {
            sink.at(v.span().start, format!("decision: unknown {other:?}; expected satisfied or not_satisfied"));
            None
        }
    }
}

/// The actor a step names: an officer (clerk, specialist, leader) of an agency, a citizen, or
/// a system; its id defaults to the role's name.
fn actor(sink: &mut Sink<'_>, by: Sp<RawActor>) -> Option<Actor> {
    let at = by.span().start;
    let by = by.into_inner();
    let role = match by.role.get_ref().as_str() {
        "citizen" => ActorRole::Citizen,
        "clerk" => ActorRole::Clerk,
        "specialist" => ActorRole::Specialist,
        "leader" => ActorRole::Leader,
        "system" => ActorRole::System,
        other => {
            sink.at(
                by.role.span().start,
                format!("by.role: unknown {other:?}; expected citizen, clerk, specialist, leader or system"),
            );
            return None;
        }
    };
    let officer = matches!(role, ActorRole::Clerk | ActorRole::Specialist | ActorRole::Leader);
    if officer && by.agency.is_none() {
        sink.at(at, format!("by: an officer ({}) needs an agency", by.role.get_ref()));
        return None;
    }
    let id = by.id.unwrap_or_else(|| by.role.get_ref().clone());
    Some(Actor { id: ActorId(id.into()), role, agency: by.agency.map(Into::into) })
}

/// The scenarios' identity key.
fn scenario_key() -> Option<IdentityKey> {
    IdentityKey::new(SCENARIO_IDENTITY_KEY).ok()
}

/// A step's applicant, keyed (`Some(None)` without one; `None` after reporting a problem).
fn applicant(sink: &mut Sink<'_>, raw: Option<&Sp<RawApplicant>>) -> Option<Option<Applicant>> {
    let Some(raw) = raw else { return Some(None) };
    let a = raw.get_ref();
    let id: Identifier = match a.id.get_ref().parse() {
        Ok(id) => id,
        Err(e) => {
            sink.at(a.id.span().start, format!("applicant.id: {e}"));
            return None;
        }
    };
    let kind = match a.kind.as_ref().map(|k| (k, k.get_ref().as_str())) {
        None | Some((_, "citizen")) => ApplicantKind::Citizen,
        Some((_, "organisation")) => ApplicantKind::Organisation,
        Some((_, "household_business")) => ApplicantKind::HouseholdBusiness,
        Some((k, other)) => {
            sink.at(
                k.span().start,
                format!("applicant.kind: unknown {other:?}; expected citizen, organisation or household_business"),
            );
            return None;
        }
    };
    let key = scenario_key()?;
    Some(Some(Applicant::new(kind, &id, &key, a.vneid)))
}

/// A step's documents.
fn documents(sink: &mut Sink<'_>, raw: &[Sp<RawDocumentIn>]) -> Option<Vec<SubmittedDocument>> {
    let mut out = Vec::new();
    for d in raw {
        let at = d.span().start;
        let d = d.get_ref();
        let form = match d.form.get_ref().as_str() {
            "paper" => DocumentForm::Paper,
            "digitised" => match (&d.sha256, d.size) {
                (Some(sha256), Some(size)) => DocumentForm::Digitised { sha256: sha256.clone(), size },
                _ => {
                    sink.at(at, "documents: a digitised document needs sha256 and size".to_string());
                    return None;
                }
            },
            "reused" => match &d.result {
                Some(result) => DocumentForm::Reused { result: result.clone() },
                None => {
                    sink.at(at, "documents: a reused document needs result (its number)".to_string());
                    return None;
                }
            },
            other => {
                sink.at(
                    d.form.span().start,
                    format!("documents.form: unknown {other:?}; expected paper, digitised or reused"),
                );
                return None;
            }
        };
        out.push(SubmittedDocument { component: d.component.clone(), form });
    }
    Some(out)
}

/// The warehouse a scenario starts with.
fn warehouse(sink: &mut Sink<'_>, raw: &[Sp<RawHeld>]) -> Vec<KnownResult> {
    let Some(key) = scenario_key() else { return Vec::new() };
    let mut out = Vec::new();
    for h in raw {
        let h = h.get_ref();
        let holder = match h.holder.get_ref().parse::<Identifier>() {
            Ok(id) => key.applicant_key(&id),
            Err(e) => {
                sink.at(h.holder.span().start, format!("warehouse.holder: {e}"));
                continue;
            }
        };
        let valid_until = match &h.valid_until {
            None => None,
            Some(v) => match v.get_ref().parse::<chrono::NaiveDate>() {
                Ok(d) => Some(d),
                Err(e) => {
                    sink.at(v.span().start, format!("warehouse.valid_until: {e} (YYYY-MM-DD)"));
                    continue;
                }
            },
        };
        out.push(KnownResult {
            number: h.number.clone(),
            holder: Some(holder),
            kind: h.kind.clone(),
            valid_until,
            revoked: h.revoked,
            issued_by: None,
            expired: false,
        });
    }
    out
}

fn command(sink: &mut Sink<'_>, s: &RawStep, procedure: &ProcedureCode) -> Option<Command> {
    let at = s.action.span().start;
    let action = s.action.get_ref().as_str();
    let reason = s.reason.clone().unwrap_or_default();
    let channel = |sink: &mut Sink<'_>| -> Option<Channel> {
        match &s.channel {
            None => Some(Channel::Direct),
            Some(c) => match c.get_ref().as_str() {
                "direct" => Some(Channel::Direct),
                "online" => Some(Channel::Online),
                "postal" => Some(Channel::Postal),
                other => {
                    sink.at(c.span().start, format!("channel: unknown {other:?}; expected direct, online or postal"));
                    None
                }
            },
        }
    };
    let step =
        |sink: &mut Sink<'_>| need(sink, at, action, "step", &s.step).map(|x| StepId(x.get_ref().as_str().into()));
    Some(match action {
        "submit" => Command::Submit {
            procedure: procedure.clone(),
            channel: channel(sink)?,
            jurisdiction: s.jurisdiction.as_deref().map(Into::into),
            applicant: applicant(sink, s.applicant.as_ref())?,
        },
        "receive" => Command::Receive {
            case: s.case.as_deref().map(Into::into),
            procedure: procedure.clone(),
            channel: channel(sink)?,
            jurisdiction: s.jurisdiction.as_deref().map(Into::into),
            applicant: applicant(sink, s.applicant.as_ref())?,
            documents: documents(sink, &s.documents)?,
        },
        "request_completion" => Command::RequestCompletion { missing: reason },
        "resubmit" => Command::Resubmit,
        "refuse_at_intake" => Command::RefuseAtIntake { reason },
        "start_step" => Command::StartStep { step: step(sink)? },
        "transfer" => Command::Transfer { step: step(sink)? },
        "complete_step" => Command::CompleteStep { step: step(sink)? },
        "request_supplement" => Command::RequestSupplement { reason },
        "receive_supplement" => Command::ReceiveSupplement,
        "request_financial_obligation" => {
            let a = need(sink, at, action, "amount", &s.amount)?;
            match a.get_ref().parse::<Vnd>() {
                Ok(amount) => Command::RequestFinancialObligation { amount },
                Err(e) => {
                    sink.at(a.span().start, format!("amount: {e}"));
                    return None;
                }
            }
        }
        "confirm_financial_obligation" => Command::ConfirmFinancialObligation,
        "revoke_result" => Command::RevokeResult { reason },
        "expire_result" => Command::ExpireResult,
        "rate" => Command::Rate { satisfied: satisfied(sink, at, action, &s.decision)? },
        "file_feedback" => Command::FileFeedback {
            subject: reason,
            topic: topic(sink, "topic", s.topic.as_ref())?,
            follows: s.follows,
        },
        "answer_feedback" | "reject_feedback" => Command::AnswerFeedback {
            feedback: *need(sink, at, action, "feedback", &s.feedback)?,
            end: if action == "answer_feedback" { FeedbackEnd::Answered } else { FeedbackEnd::Rejected },
            text: reason,
            topic: topic(sink, "topic", s.topic.as_ref())?,
        },
        "assess_fees" => {
            let stage = match s.stage.as_ref().map(|st| (st, st.get_ref().as_str())) {
                None | Some((_, "intake")) => FeeStage::Intake,
                Some((_, "supplement")) => FeeStage::Supplement,
                Some((_, "result")) => FeeStage::Result,
                Some((st, other)) => {
                    sink.at(
                        st.span().start,
                        format!("stage: unknown {other:?}; expected intake, supplement or result"),
                    );
                    return None;
                }
            };
            Command::AssessFees { stage, units: s.units, exemption: s.exemption.clone() }
        }
        "publish_feedback" => Command::PublishFeedback { feedback: *need(sink, at, action, "feedback", &s.feedback)? },
        "rate_feedback" => Command::RateFeedback {
            feedback: *need(sink, at, action, "feedback", &s.feedback)?,
            satisfied: satisfied(sink, at, action, &s.decision)?,
        },
        "pay" | "refund" => {
            let a = need(sink, at, action, "amount", &s.amount)?;
            let amount = match a.get_ref().parse::<Vnd>() {
                Ok(v) => v,
                Err(e) => {
                    sink.at(a.span().start, format!("amount: {e}"));
                    return None;
                }
            };
            if action == "refund" {
                return Some(Command::Refund { amount, reason });
            }
            let via = need(sink, at, action, "via", &s.via)?;
            let channel = match via.get_ref().as_str() {
                "national_platform" => PaymentChannel::NationalPlatform,
                "provincial_gateway" => PaymentChannel::ProvincialGateway,
                "counter" => PaymentChannel::Counter,
                other => {
                    sink.at(
                        via.span().start,
                        format!("via: unknown {other:?}; expected national_platform, provincial_gateway or counter"),
                    );
                    return None;
                }
            };
            Command::Pay { amount, channel, receipt: s.receipt.clone().unwrap_or_default() }
        }
        "notify_result_ready" => Command::NotifyResultReady,
        "suspend" => Command::Suspend { reason },
        "resume" => Command::Resume,
        "extend" => {
            let d = need(sink, at, action, "new_due", &s.new_due)?;
            Command::Extend { new_due: parse_time(sink, "new_due", d)?, reason }
        }
        "finish" => {
            let d = need(sink, at, action, "decision", &s.decision)?;
            let decision = match d.get_ref().as_str() {
                "approved" => Decision::Approved,
                "denied" => Decision::Denied,
                other => {
                    sink.at(d.span().start, format!("decision: unknown {other:?}; expected approved or denied"));
                    return None;
                }
            };
            Command::Finish {
                decision,
                reason: s.reason.clone().filter(|r| !r.trim().is_empty()),
                result: s.result.as_ref().map(|r| ResultIssue { number: r.number.clone(), electronic: r.electronic }),
            }
        }
        "return_result" => {
            let delivery = match s.delivery.as_ref().map(|d| (d, d.get_ref().as_str())) {
                None => None,
                Some((_, "counter")) => Some(Delivery::Counter),
                Some((_, "postal")) => Some(Delivery::Postal),
                Some((_, "online")) => Some(Delivery::Online),
                Some((d, other)) => {
                    sink.at(d.span().start, format!("delivery: unknown {other:?}; expected counter, postal or online"));
                    return None;
                }
            };
            Command::ReturnResult { delivery }
        }
        "withdraw" => Command::Withdraw,
        "stop" => Command::Stop { reason },
        "receive_transfer" => Command::ReceiveTransfer,
        "declare_outage" => Command::DeclareOutage { reason, source: s.source.clone().unwrap_or_default() },
        "hand_over" => match s.jurisdiction.as_deref() {
            Some(u) => Command::HandOver { to: u.into() },
            None => {
                sink.at(at, "hand_over: name the unit it moves to with `jurisdiction`");
                return None;
            }
        },
        other => {
            sink.at(at, format!("do: unknown command {other:?}; expected one of {ACTIONS}"));
            return None;
        }
    })
}

fn outcome(sink: &mut Sink<'_>, field: &str, o: &Sp<String>) -> Option<Option<Outcome>> {
    match o.get_ref().as_str() {
        "early" => Some(Some(Outcome::Early)),
        "on_time" => Some(Some(Outcome::OnTime)),
        "late" => Some(Some(Outcome::Late)),
        "none" => Some(None),
        other => {
            sink.at(o.span().start, format!("{field}: unknown {other:?}; expected early, on_time, late or none"));
            None
        }
    }
}

fn expect(sink: &mut Sink<'_>, raw: RawExpect) -> Expect {
    let mut e = Expect {
        error: raw.error,
        status: raw.status,
        national: raw.national,
        late_steps: raw.late_steps,
        supplement_requests: raw.supplement_requests,
        late_apology: raw.late_apology,
        kept_new_promise: raw.kept_new_promise,
        jurisdiction: raw.jurisdiction,
        step_agency: raw.step_agency.unwrap_or_default().into_iter().collect(),
        undigitised: raw.undigitised,
        ..Expect::default()
    };
    e.clock_start = raw.clock_start.as_ref().and_then(|v| parse_time(sink, "expect.clock_start", v));
    if let Some(v) = &raw.result_valid_until {
        match v.get_ref().parse::<chrono::NaiveDate>() {
            Ok(d) => e.result_valid_until = Some(d),
            Err(err) => sink.at(v.span().start, format!("expect.result_valid_until: {err} (YYYY-MM-DD)")),
        }
    }
    e.due = raw.due.as_ref().and_then(|v| {
        if v.get_ref() == "none" {
            Some(None)
        } else {
            parse_time(sink, "expect.due", v).map(Some)
        }
    });
    e.rescheduled_due = raw.rescheduled_due.as_ref().and_then(|v| parse_time(sink, "expect.rescheduled_due", v));
    e.transfer_due = raw.transfer_due.as_ref().and_then(|v| parse_time(sink, "expect.transfer_due", v));
    e.outcome = raw.outcome.as_ref().and_then(|o| outcome(sink, "expect.outcome", o));
    if let Some(a) = &raw.assessed {
        match a.get_ref().parse::<Vnd>() {
            Ok(v) => e.assessed = Some(v),
            Err(err) => sink.at(a.span().start, format!("expect.assessed: {err}")),
        }
    }
    if let Some(f) = raw.feedback {
        e.feedback = Some(FeedbackExpect {
            number: f.number,
            due: f.due.as_ref().and_then(|v| parse_time(sink, "expect.feedback.due", v)),
            reject_by: f.reject_by.as_ref().and_then(|v| parse_time(sink, "expect.feedback.reject_by", v)),
            publish_by: f.publish_by.as_ref().and_then(|v| parse_time(sink, "expect.feedback.publish_by", v)),
            outcome: f.outcome.as_ref().and_then(|o| outcome(sink, "expect.feedback.outcome", o)),
            on_time: f.on_time,
            dissatisfied: f.dissatisfied,
            topic: topic(sink, "expect.feedback.topic", f.topic.as_ref()).flatten(),
        });
    }
    if let Some(j) = &raw.judgement {
        e.judgement = match j.get_ref().as_str() {
            "in_time" => Some(Judgement::InTime),
            "clock_stopped" => Some(Judgement::ClockStopped),
            "overdue" => Some(Judgement::Overdue),
            "no_due_time" => Some(Judgement::NoDueTime),
            "early" => Some(Judgement::Finished(Outcome::Early)),
            "on_time" => Some(Judgement::Finished(Outcome::OnTime)),
            "late" => Some(Judgement::Finished(Outcome::Late)),
            other => {
                sink.at(
                    j.span().start,
                    format!("expect.judgement: unknown {other:?}; expected in_time, overdue, clock_stopped, no_due_time, early, on_time or late"),
                );
                None
            }
        };
    }
    for (step, v) in raw.step_due.unwrap_or_default() {
        if let Some(t) = parse_time(sink, &format!("expect.step_due.{step}"), &v) {
            e.step_due.push((step, t));
        }
    }
    e
}

/// Parses a scenario file's text; `file` names it in problems and anchors relative paths.
pub fn parse_scenario(text: &str, file: &Path) -> Result<Scenario, CatalogError> {
    let raw: RawScenario =
        toml::from_str(text).map_err(|e| CatalogError { problems: vec![toml_problem(text, file, &e)] })?;
    let mut sink = Sink::new(text, file);
    let procedure = match raw.procedure.get_ref().parse::<ProcedureCode>() {
        Ok(p) => Some(p),
        Err(e) => {
            sink.at(raw.procedure.span().start, format!("procedure: {e}"));
            None
        }
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    let catalog = dir.join(raw.catalog.as_ref().map_or("../procedures", |c| c.get_ref().as_str()));
    let province = raw.province.as_ref().map(|p| dir.join(p.get_ref()));
    let hours = raw.hours.as_ref().map(|h| dir.join(h.get_ref()));
    let units = raw.units.as_ref().map(|u| dir.join(u.get_ref()));
    let digitisation = raw.digitisation.as_ref().map(|d| dir.join(d.get_ref()));
    let receiving = raw.receiving.as_ref().map(|r| r.get_ref().clone());
    let line = |v: &Option<Sp<String>>| v.as_ref().map_or(0, |v| line_of(text, v.span().start));
    let references = References {
        catalog: line(&raw.catalog),
        province: line(&raw.province),
        hours: line(&raw.hours),
        units: line(&raw.units),
        digitisation: line(&raw.digitisation),
        receiving: line(&raw.receiving),
    };
    if receiving.as_deref().is_some_and(|r| r.trim().is_empty()) {
        sink.at(
            raw.receiving.as_ref().map_or(0, |r| r.span().start),
            "receiving: empty; name an agency of the register",
        );
    }
    if raw.step.is_empty() {
        sink.at(raw.name.span().start, "step: a scenario needs at least one [[step]]");
    }
    let warehouse = warehouse(&mut sink, &raw.warehouse);
    let mut steps = Vec::new();
    let mut last: Option<Timestamp> = None;
    // Said once, at the first officer's step.
    let mut officer_without_receiving = false;
    for s in raw.step {
        let line = line_of(text, s.span().start);
        let s = s.into_inner();
        let at = parse_time(&mut sink, "at", &s.at);
        let command = procedure.as_ref().and_then(|p| command(&mut sink, &s, p));
        let by_at = s.by.as_ref().map_or(0, |b| b.span().start);
        let by = s.by.and_then(|b| actor(&mut sink, b));
        let expect = s.expect.map(|e| expect(&mut sink, e.into_inner())).unwrap_or_default();
        // Time only goes forward, except in a step that tests exactly that rejection.
        if let (Some(a), Some(l)) = (at, last) {
            if a < l && expect.error.as_deref() != Some("time_went_back") {
                sink.at(s.at.span().start, format!("at: {a} is before the previous step ({l})"));
            }
        }
        if expect.error.is_none() {
            last = at.or(last);
        }
        // An officer acts on the dossiers of their agency: with no receiving agency, every
        // officer is refused, which only a step expecting that refusal may show.
        if let Some(officer) = by.as_ref().filter(|b| b.agency.is_some()) {
            if receiving.is_none() && expect.error.as_deref() != Some("unauthorized") && !officer_without_receiving {
                officer_without_receiving = true;
                sink.at(
                    by_at,
                    format!(
                        "by: an officer of {} acts, but the scenario names no receiving agency, so every officer \
                         is refused (\"the dossier belongs to another agency\"): add receiving = \"…\" (the agency \
                         the dossier is received at)",
                        officer.agency.as_deref().unwrap_or_default()
                    ),
                );
            }
        }
        if let (Some(at), Some(command)) = (at, command) {
            steps.push(ScenarioStep { line, at, command, by, expect });
        }
    }
    match (sink.problems.is_empty(), procedure) {
        (true, Some(procedure)) => Ok(Scenario {
            name: raw.name.into_inner(),
            file: file.to_path_buf(),
            procedure,
            procedure_line: line_of(text, raw.procedure.span().start),
            catalog,
            province,
            hours,
            culture_day: raw.culture_day.unwrap_or(true),
            units,
            receiving,
            warehouse,
            digitisation,
            references,
            steps,
        }),
        _ => Err(CatalogError { problems: sink.problems }),
    }
}

/// The result of running one scenario.
#[derive(Clone, Debug)]
pub struct Report {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub file: PathBuf,
    /// Every mismatch, at the line of its step.
    pub failures: Vec<Problem>,
}

impl Report {
    /// No failures.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// The results of running many scenarios.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// One report per scenario that could run.
    pub reports: Vec<Report>,
    /// Problems with files that could not run (broken scenarios or catalogs).
    pub broken: Vec<Problem>,
}

impl Summary {
    /// Scenarios that passed.
    pub fn passed(&self) -> usize {
        self.reports.iter().filter(|r| r.passed()).count()
    }

    /// Scenarios that failed.
    pub fn failed(&self) -> usize {
        self.reports.len() - self.passed()
    }
}

/// Runs scenarios, caching catalogs and calendars between them.
#[derive(Default)]
pub struct Runner {
    catalogs: HashMap<(PathBuf, Option<PathBuf>), Catalog>,
    registers: HashMap<PathBuf, Register>,
    digitisation: HashMap<PathBuf, DigitisationRules>,
    calendars: HashMap<(i32, i32, Option<PathBuf>, bool), WorkCalendar>,
}

impl Runner {
    /// A runner with empty caches.
    pub fn new() -> Runner {
        Runner::default()
    }

    /// The catalog at `path`, with a province's file applied over it if the scenario names one.
    fn catalog(&mut self, s: &Scenario) -> Result<&Catalog, CatalogError> {
        let key = (s.catalog.clone(), s.province.clone());
        if !self.catalogs.contains_key(&key) {
            let catalog_line = if s.references.catalog > 0 { s.references.catalog } else { s.procedure_line };
            let mut c =
                Catalog::load(&s.catalog).map_err(|e| e.referred(&s.file, catalog_line, "catalog", &s.catalog))?;
            if let Some(province) = &s.province {
                c.extend_with_province(province)
                    .map_err(|e| e.referred(&s.file, s.references.province, "province", province))?;
            }
            self.catalogs.insert(key.clone(), c);
        }
        self.catalogs.get(&key).ok_or_else(|| CatalogError::one(&s.catalog, 1, "catalog vanished"))
    }

    /// Everything [`Runner::run`] would refuse before its first step, refused here first (what
    /// `motcua check` runs): the procedure and the steps it names, and every file the scenario
    /// refers to — catalog, register, office hours, digitisation rules — opened and validated
    /// (a problem there reported where the scenario names the file and where the file says
    /// it), the receiving agency in the register, the calendar its dates need.
    pub fn check(&mut self, s: &Scenario) -> Result<Procedure, CatalogError> {
        let procedure = self.check_procedure(s)?;
        if let Some(path) = &s.units {
            if !self.registers.contains_key(path) {
                let register =
                    crate::load_register(path).map_err(|e| e.referred(&s.file, s.references.units, "units", path))?;
                self.registers.insert(path.clone(), register);
            }
            if let (Some(register), Some(receiving)) = (self.registers.get(path), &s.receiving) {
                if register.agency(receiving).is_none() {
                    return Err(CatalogError::one(
                        &s.file,
                        s.references.receiving.max(1),
                        format!("receiving: {receiving:?} is not an agency of the register {}", path.display()),
                    ));
                }
            }
        }
        if let Some(path) = &s.digitisation {
            if !self.digitisation.contains_key(path) {
                let rules = crate::load_digitisation(path)
                    .map_err(|e| e.referred(&s.file, s.references.digitisation, "digitisation", path))?;
                self.digitisation.insert(path.clone(), rules);
            }
        }
        self.calendar(s, &procedure)?;
        Ok(procedure)
    }

    /// Looks the scenario's procedure up, and checks that the steps it names exist.
    fn check_procedure(&mut self, s: &Scenario) -> Result<Procedure, CatalogError> {
        let catalog = self.catalog(s)?;
        if catalog.get(&s.procedure).is_none() {
            return Err(CatalogError::one(
                &s.file,
                s.procedure_line,
                format!("procedure: {} is not in the catalog {}", s.procedure, s.catalog.display()),
            ));
        }
        // The version in force on the day of receipt (or submission), which the dossier then
        // follows to the end, as the engine pins it.
        let day = s
            .steps
            .iter()
            .find(|st| matches!(st.command, Command::Submit { .. } | Command::Receive { .. }))
            .or(s.steps.first())
            .map(|st| st.at.local_date());
        let Some(p) = day.and_then(|d| catalog.get_on(&s.procedure, d)) else {
            return Err(CatalogError::one(
                &s.file,
                s.procedure_line,
                format!(
                    "procedure: no version of {} is in force on {}",
                    s.procedure,
                    day.map_or("the scenario's first day".to_string(), |d| d.to_string())
                ),
            ));
        };
        let mut problems = Vec::new();
        for st in &s.steps {
            if let Command::StartStep { step } | Command::Transfer { step } | Command::CompleteStep { step } =
                &st.command
            {
                // A scenario may name an unknown step on purpose to expect `unknown_step`.
                if p.step_index(step).is_none() && st.expect.error.as_deref() != Some("unknown_step") {
                    problems.push(Problem {
                        file: s.file.clone(),
                        line: st.line,
                        message: format!("step: procedure {} has no step {:?}", p.code, step.0),
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(p.clone())
        } else {
            Err(CatalogError { problems })
        }
    }

    /// The calendar a scenario runs on: the years its steps span and as far as the longest of
    /// its procedure's limit and allotments reaches ([`motcua_calendar::Limit::years_ahead`]),
    /// its hours and culture day.
    fn calendar_key(s: &Scenario, procedure: &Procedure) -> (i32, i32, Option<PathBuf>, bool) {
        let years = s.steps.iter().map(|st| st.at.local_date().year());
        let ahead = procedure
            .steps
            .iter()
            .map(|st| st.allotment.years_ahead())
            .chain(procedure.limits().map(|l| l.years_ahead()))
            .fold(0, i32::max);
        let first = years.clone().min().unwrap_or(2025).clamp(FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR);
        let last = (years.max().unwrap_or(2025).saturating_add(ahead)).clamp(FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR);
        (first, last, s.hours.clone(), s.culture_day)
    }

    fn calendar(&mut self, s: &Scenario, procedure: &Procedure) -> Result<&WorkCalendar, CatalogError> {
        let key = Self::calendar_key(s, procedure);
        let (first, last) = (key.0, key.1);
        if !self.calendars.contains_key(&key) {
            let hours = match &s.hours {
                Some(h) => OfficeHours::load(h).map_err(|e| {
                    CatalogError { problems: vec![Problem::from_calendar(h, e)] }.referred(
                        &s.file,
                        s.references.hours,
                        "hours",
                        h,
                    )
                })?,
                None => OfficeHours::national_default(),
            };
            let cal = WorkCalendar::builder()
                .years(first, last)
                .notices(Notices::builtin())
                .office_hours(hours)
                .rules(HolidayRules { culture_day: s.culture_day })
                .build()
                .map_err(|e| CatalogError::one(&s.file, 1, e.to_string()))?;
            self.calendars.insert(key.clone(), cal);
        }
        self.calendars.get(&key).ok_or_else(|| CatalogError::one(&s.file, 1, "calendar vanished"))
    }

    /// Runs one parsed scenario.
    pub fn run(&mut self, s: &Scenario) -> Result<Report, CatalogError> {
        let procedure = self.check(s)?;
        if let Some(path) = &s.units {
            if !self.registers.contains_key(path) {
                let register = crate::load_register(path)?;
                self.registers.insert(path.clone(), register);
            }
        }
        self.calendar(s, &procedure)?;
        let calendar = self
            .calendars
            .get(&Self::calendar_key(s, &procedure))
            .ok_or_else(|| CatalogError::one(&s.file, 1, "calendar vanished"))?;
        if let Some(path) = &s.digitisation {
            if !self.digitisation.contains_key(path) {
                let rules = crate::load_digitisation(path)?;
                self.digitisation.insert(path.clone(), rules);
            }
        }
        let units = s.units.as_ref().and_then(|p| self.registers.get(p));
        let ctx = Context {
            procedure: &procedure,
            calendar,
            units,
            receiving: s.receiving.as_deref(),
            results: &s.warehouse,
            digitisation: s.digitisation.as_ref().and_then(|p| self.digitisation.get(p)),
        };
        let mut dossier = Dossier::new();
        let mut parties = Parties::default();
        let mut failures = Vec::new();
        for st in &s.steps {
            let fail = |message: String| Problem { file: s.file.clone(), line: st.line, message };
            match (attempt(&dossier, &parties, st, &ctx), &st.expect.error) {
                (Ok(events), None) => {
                    if let (Some(by), Command::Submit { .. }) = (&st.by, &st.command) {
                        if by.role == ActorRole::Citizen {
                            parties.applicant = Some(by.id.clone());
                        }
                    }
                    for e in &events {
                        apply(&mut dossier, e);
                    }
                }
                (Ok(events), Some(code)) => {
                    let names: Vec<&str> = events.iter().map(|e| e.name()).collect();
                    failures.push(fail(format!(
                        "expected error {code}, but {} produced {}",
                        st.command.kind(),
                        names.join(", ")
                    )));
                    break;
                }
                // The expected refusal: the dossier is unchanged; the step's other
                // expectations are still checked below.
                (Err((got, _)), Some(code)) if got == code => {}
                (Err((got, e)), Some(code)) => {
                    failures.push(fail(format!("expected error {code}, got {got} ({e})")));
                    continue;
                }
                (Err((got, e)), None) => {
                    failures.push(fail(format!("{} was rejected: {got} ({e})", st.command.kind())));
                    break;
                }
            }
            failures.extend(compare(&dossier, st).into_iter().map(fail));
        }
        Ok(Report { name: s.name.clone(), file: s.file.clone(), failures })
    }

    /// Parses and runs one file.
    pub fn run_file(&mut self, file: &Path) -> Result<Report, CatalogError> {
        let text =
            motcua_calendar::read_input(file).map_err(|e| CatalogError::one(file, 1, format!("cannot read: {e}")))?;
        let s = parse_scenario(&text, file)?;
        self.run(&s)
    }

    /// Runs every scenario file at `path` (a file, or `*.toml` below a folder).
    pub fn run_path(&mut self, path: &Path) -> Summary {
        let mut summary = Summary::default();
        match crate::toml_files(path) {
            Ok(files) => {
                for f in files {
                    let text = match motcua_calendar::read_input(&f) {
                        Ok(t) => t,
                        Err(e) => {
                            summary.broken.push(Problem {
                                file: f.clone(),
                                line: 1,
                                message: format!("cannot read: {e}"),
                            });
                            continue;
                        }
                    };
                    // Catalogs (procedures made for the scenarios), notices and office hours may
                    // sit beside scenarios: they are checked, not run. A file that is not valid
                    // TOML, or whose keys fit no kind (an unquoted `procedure = 1.000894` makes a
                    // number, so the file reads as a catalog and fails as one), is broken: a rule
                    // test never passes by skipping a file in silence.
                    let problems = match crate::file_kind(&text) {
                        crate::FileKind::Scenario => match parse_scenario(&text, &f).and_then(|s| self.run(&s)) {
                            Ok(r) => {
                                summary.reports.push(r);
                                continue;
                            }
                            Err(e) => e.problems,
                        },
                        crate::FileKind::Procedures => {
                            crate::parse_procedures(&text, &f).err().map(|e| e.problems).unwrap_or_default()
                        }
                        crate::FileKind::Notice => motcua_calendar::Notice::parse(&text, &f)
                            .err()
                            .map(|e| vec![Problem::from_calendar(&f, e)])
                            .unwrap_or_default(),
                        crate::FileKind::OfficeHours => OfficeHours::parse(&text, &f)
                            .err()
                            .map(|e| vec![Problem::from_calendar(&f, e)])
                            .unwrap_or_default(),
                        // A calibration profile: `motcua check` validates it (with the simulator).
                        crate::FileKind::Profile => Vec::new(),
                        crate::FileKind::Digitisation => {
                            crate::parse_digitisation(&text, &f).err().map(|e| e.problems).unwrap_or_default()
                        }
                        crate::FileKind::Units => {
                            crate::parse_register(&text, &f).err().map(|e| e.problems).unwrap_or_default()
                        }
                        crate::FileKind::Province => {
                            crate::parse_province(&text, &f).err().map(|e| e.problems).unwrap_or_default()
                        }
                    };
                    summary.broken.extend(problems);
                }
            }
            Err(p) => summary.broken.push(p),
        }
        summary
    }
}

fn show(t: Option<Timestamp>) -> String {
    t.map_or("none".to_string(), |t| t.local_string())
}

fn compare(d: &Dossier, st: &ScenarioStep) -> Vec<String> {
    let x = &st.expect;
    let mut out = Vec::new();
    if let Some(want) = &x.status {
        let got = d.status.map_or("none", |s| s.code());
        if got != want {
            out.push(format!("status: expected {want}, got {got}"));
        }
    }
    if let Some(want) = x.national {
        let got = d.status.map(|s| s.national().code());
        if got != Some(want) {
            out.push(format!("national: expected {want}, got {}", got.map_or("none".into(), |g| g.to_string())));
        }
    }
    if let Some(want) = x.clock_start {
        if d.clock_start != Some(want) {
            out.push(format!("clock_start: expected {}, got {}", want.local_string(), show(d.clock_start)));
        }
    }
    if let Some(want) = x.due {
        if d.due != want {
            out.push(format!("due: expected {}, got {}", show(want), show(d.due)));
        }
    }
    if let Some(want) = x.transfer_due {
        if d.transfer_due != Some(want) {
            out.push(format!("transfer_due: expected {}, got {}", want.local_string(), show(d.transfer_due)));
        }
    }
    if let Some(want) = x.rescheduled_due {
        if d.rescheduled_due != Some(want) {
            out.push(format!("rescheduled_due: expected {}, got {}", want.local_string(), show(d.rescheduled_due)));
        }
    }
    if let Some(want) = x.outcome {
        if d.outcome != want {
            out.push(format!("outcome: expected {want:?}, got {:?}", d.outcome));
        }
    }
    if let Some(want) = x.judgement {
        let got = d.judgement(st.at);
        if got != want {
            out.push(format!("judgement: expected {want:?}, got {got:?}"));
        }
    }
    if let Some(want) = &x.late_steps {
        let got: Vec<String> = d.late_steps(st.at).iter().map(|s| s.id.0.to_string()).collect();
        if &got != want {
            out.push(format!("late_steps: expected {want:?}, got {got:?}"));
        }
    }
    for (step, want) in &x.step_due {
        let got = d.steps.iter().find(|s| *s.id.0 == **step).and_then(|s| s.due);
        if got != Some(*want) {
            out.push(format!("step_due.{step}: expected {}, got {}", want.local_string(), show(got)));
        }
    }
    if let Some(want) = x.supplement_requests {
        if d.supplement_requests != want {
            out.push(format!("supplement_requests: expected {want}, got {}", d.supplement_requests));
        }
    }
    if let Some(want) = x.late_apology {
        if d.late_apology != want {
            out.push(format!("late_apology: expected {want}, got {}", d.late_apology));
        }
    }
    if let Some(want) = &x.jurisdiction {
        if d.jurisdiction.as_deref() != Some(want.as_str()) {
            out.push(format!("jurisdiction: expected {want}, got {}", d.jurisdiction.as_deref().unwrap_or("none")));
        }
    }
    for (step, want) in &x.step_agency {
        let got = d.steps.iter().find(|s| *s.id.0 == **step).map(|s| &*s.agency);
        if got != Some(want.as_str()) {
            out.push(format!("step_agency.{step}: expected {want}, got {}", got.unwrap_or("none")));
        }
    }
    if let Some(want) = x.kept_new_promise {
        if d.kept_new_promise() != Some(want) {
            out.push(format!("kept_new_promise: expected {want}, got {:?}", d.kept_new_promise()));
        }
    }
    if let Some(want) = x.result_valid_until {
        let got = d.result.as_ref().and_then(|r| r.valid_until);
        if got != Some(want) {
            out.push(format!("result_valid_until: expected {want}, got {got:?}"));
        }
    }
    if let Some(want) = &x.feedback {
        compare_feedback(d, st.at, want, &mut out);
    }
    if let Some(want) = x.undigitised.as_ref().filter(|w| **w != d.undigitised) {
        out.push(format!("undigitised: expected {want:?}, got {:?}", d.undigitised));
    }
    if let Some(want) = x.assessed.filter(|w| *w != d.assessed) {
        out.push(format!("assessed: expected {want} đồng, got {}", d.assessed));
    }
    out
}

fn compare_feedback(d: &Dossier, at: Timestamp, want: &FeedbackExpect, out: &mut Vec<String>) {
    let n = want.number;
    let Some(f) = d.feedback.iter().find(|f| f.number == n) else {
        out.push(format!("feedback {n}: the dossier has no such feedback"));
        return;
    };
    let times = [("due", want.due, Some(f.due)), ("reject_by", want.reject_by, Some(f.reject_by))];
    for (name, want, got) in times.into_iter().chain([("publish_by", want.publish_by, f.publish_by)]) {
        if let Some(w) = want.filter(|w| Some(*w) != got) {
            out.push(format!("feedback {n} {name}: expected {}, got {}", w.local_string(), show(got)));
        }
    }
    if let Some(w) = want.outcome.filter(|w| *w != f.outcome) {
        out.push(format!("feedback {n} outcome: expected {w:?}, got {:?}", f.outcome));
    }
    if let Some(w) = want.on_time.filter(|w| *w != f.on_time(at)) {
        out.push(format!("feedback {n} on_time: expected {w}, got {}", !w));
    }
    if let Some(w) = want.dissatisfied.filter(|w| *w != f.dissatisfied(at)) {
        out.push(format!("feedback {n} dissatisfied: expected {w}, got {}", !w));
    }
    if let Some(w) = want.topic.filter(|w| Some(*w) != f.topic) {
        out.push(format!("feedback {n} topic: expected {w:?}, got {:?}", f.topic));
    }
}

/// Runs every scenario at `path` and panics with every failure if any fails or is broken —
/// for a procedure author's own `cargo test`.
///
/// ```no_run
/// #[test]
/// fn our_procedures_keep_their_promises() {
///     motcua_catalog::assert_scenarios_pass("scenarios");
/// }
/// ```
pub fn assert_scenarios_pass(path: impl AsRef<Path>) {
    let summary = Runner::new().run_path(path.as_ref());
    let mut lines: Vec<String> = summary.broken.iter().map(|p| p.to_string()).collect();
    for r in &summary.reports {
        lines.extend(r.failures.iter().map(|p| format!("{p} [{}]", r.name)));
    }
    if !lines.is_empty() || summary.reports.is_empty() {
        panic!(
            "{}\n{} passed, {} failed, {} broken",
            lines.join("\n"),
            summary.passed(),
            summary.failed(),
            summary.broken.len()
        );
    }
}
/// One step: authorized when it names its actor (the engine's rule, [`motcua_core::permits`],
/// against the agencies acting for the dossier that day), then decided. A refusal is its code
/// (`unauthorized` or the domain error's) and its message.
fn attempt(
    dossier: &Dossier,
    parties: &Parties,
    st: &ScenarioStep,
    ctx: &Context<'_>,
) -> Result<Vec<Event>, (&'static str, String)> {
    let refused = |e: DomainError| (e.code(), e.to_string());
    if let Some(by) = &st.by {
        let (receiving, step) = ctx.acting(dossier, &st.command, st.at).map_err(refused)?;
        permits(by, parties, st.command.kind(), receiving, step.as_deref()).map_err(|why| {
            ("unauthorized", format!("{} ({:?}) may not {}: {why}", by.id, by.role, st.command.kind()))
        })?;
    }
    decide(dossier, &st.command, st.at, ctx).map_err(refused)
}
