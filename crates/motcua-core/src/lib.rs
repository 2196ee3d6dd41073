//! # motcua-core: the one-stop-shop domain
//!
//! Identifiers ([`DossierCode`], [`AgencyCode`], [`ProcedureCode`], [`Cccd`], [`TaxCode`],
//! [`Vnd`]), procedures ([`Procedure`]), and the dossier state machine: a pure
//! [`decide`] that turns a [`Command`] into [`Event`]s or a [`DomainError`], and [`apply`] that
//! folds events into a [`Dossier`]. No I/O, no clock, no randomness: `now` is a parameter and
//! working time comes from the calendar in the [`Context`].
//!
//! Every internal [`Status`] maps to one of the ten national portal codes
//! ([`Status::national`], docs/rules.md §9). Outcomes follow docs/rules.md §6 ([`Outcome`]).

#![warn(missing_docs)]

mod applicant;
mod auth;
mod command;
mod dossier;
mod error;
mod event;
mod feedback;
mod ids;
mod onestop;
mod outcome;
mod procedure;
mod results;
mod status;
mod units;

pub use applicant::{
    looks_like_identifier, Applicant, ApplicantKey, ApplicantKind, Identifier, IdentityKey, ShortIdentityKey,
    MIN_IDENTITY_KEY_BYTES,
};
pub use auth::{authorize, permits, roles_for, sight, Actor, ActorId, ActorRole, Denied, Parties, Sight, Visible};
pub use command::{
    Command, CommandKind, Delivery, PaymentChannel, ResultIssue, MAX_DOCUMENTS, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
pub use dossier::{
    allowed_instead, apply, decide, step_agency, Context, Dossier, Pause, PauseKind, StepState, MAX_EVENTS_PER_COMMAND,
    MAX_EXTENSION_DAYS,
};
pub use error::DomainError;
pub use event::{AssessedFee, Event, StepDue};
pub use feedback::{
    Feedback, FeedbackEnd, FeedbackTopic, FEEDBACK_ANSWER_DAYS, FEEDBACK_PUBLISH_DAYS, FEEDBACK_REJECT_DAYS,
    MAX_FEEDBACK,
};
pub use ids::{
    tax_check_digit, AgencyCode, Cccd, DossierCode, DossierCodeGenerator, IdError, ProcedureCode, TaxCode, Vnd,
    AGENCY_CODE_MAX_LEN,
};
pub use onestop::{one_stop_rules_on, outside_area, BoundaryScope, OneStopRules, OutsideArea, ONE_STOP_RULES};
pub use outcome::{Judgement, Outcome};
pub use procedure::{
    nominal_minutes, version_for, version_in_force, CopyKind, Cutoff, Document, Fee, FeeReduction, FeeStage, FeeTier,
    Level, OnlineLevel, Policy, Procedure, ProcedureCase, ProcedureError, ResultDocument, Role, Step, StepId,
    SupplementPolicy, MAX_STEPS,
};
pub use results::{
    reused_results, DigitisationRules, DocumentForm, ExemptGround, IssuedResult, KnownResult, SubmittedDocument,
};
pub use status::{Channel, Decision, NationalStatus, Status};
pub use units::{AdminUnit, AgencyUnit, Register, RegisterError, UnitLevel};
