//! Who may do what to which dossier. Each command states the roles it needs and
//! the agency relation: officers act on dossiers of their own agency (the receiving agency in
//! the dossier code) or on the step their agency performs in an inter-agency chain; citizens act
//! only on their own dossiers; systems (the national portal, sync workers) act on any.

use std::fmt;
use std::sync::Arc;

use crate::command::{Command, CommandKind};
use crate::ids::DossierCode;
use serde::{Deserialize, Serialize};

/// A pseudonymous actor id (an account id, never a CCCD), safe to log. Shared text: every
/// request an actor issues carries it, and a clone allocates nothing.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActorId(pub Arc<str>);

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An actor's role.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorRole {
    /// An applicant.
    Citizen,
    /// A one-stop-shop officer.
    Clerk,
    /// A specialist who appraises dossiers.
    Specialist,
    /// A leader who signs decisions.
    Leader,
    /// A system: the national portal, a sync worker.
    System,
}

/// Someone (or something) issuing a command.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Actor {
    /// Pseudonymous id.
    pub id: ActorId,
    /// ActorRole.
    pub role: ActorRole,
    /// The agency an officer belongs to (an agency code such as `H42.12`, or a step's agency
    /// label such as `cong-an-xa`); `None` for citizens and systems. Shared text, as the id.
    pub agency: Option<Arc<str>>,
}

impl Actor {
    /// An officer of `agency`.
    pub fn officer(id: &str, role: ActorRole, agency: &str) -> Actor {
        Actor { id: ActorId(Arc::from(id)), role, agency: Some(Arc::from(agency)) }
    }

    /// A citizen.
    pub fn citizen(id: &str) -> Actor {
        Actor { id: ActorId(Arc::from(id)), role: ActorRole::Citizen, agency: None }
    }

    /// A system.
    pub fn system(id: &str) -> Actor {
        Actor { id: ActorId(Arc::from(id)), role: ActorRole::System, agency: None }
    }
}

/// Why an actor may not run a command. Carries no personal data.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{actor} ({role:?}) may not {command} on {dossier}: {reason}")]
pub struct Denied {
    /// Who.
    pub actor: ActorId,
    /// With which role.
    pub role: ActorRole,
    /// What.
    pub command: CommandKind,
    /// On which dossier.
    pub dossier: DossierCode,
    /// Why.
    pub reason: String,
}

/// The roles that may issue a command kind (systems may issue any).
pub fn roles_for(kind: CommandKind) -> &'static [ActorRole] {
    use ActorRole::*;
    use CommandKind as K;
    match kind {
        K::Submit | K::Resubmit => &[Citizen],
        K::RequestCompletion => &[Clerk],
        K::Receive
        | K::RefuseAtIntake
        | K::ReceiveSupplement
        | K::ConfirmFinancialObligation
        | K::ReturnResult
        | K::NotifyResultReady => &[Clerk],
        K::StartStep | K::Transfer | K::CompleteStep => &[Clerk, Specialist, Leader],
        K::RequestSupplement | K::RequestFinancialObligation | K::AssessFees => &[Clerk, Specialist],
        K::Suspend | K::Resume | K::Finish => &[Specialist, Leader],
        K::Extend | K::Stop => &[Leader],
        K::Withdraw | K::Pay | K::Rate | K::FileFeedback | K::RateFeedback => &[Citizen, Clerk],
        K::AnswerFeedback => &[Clerk, Specialist, Leader],
        K::PublishFeedback => &[Clerk, Leader],
        K::Refund => &[Clerk, Leader],
        K::RevokeResult => &[Leader],
        // Only a system records an expiry (permits lets systems issue any command).
        K::ExpireResult => &[],
    }
}

/// What the engine knows about a dossier's parties.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Parties {
    /// The citizen who submitted it, if submitted online by a citizen.
    pub applicant: Option<ActorId>,
}

/// Decides whether `actor` may run `command` on `dossier`. `receiving` is the agency that
/// holds the dossier's receiving agency's duties today (itself, or its successor after a
/// merger); `step_agency` the concrete agency (or its holder) of the step the command names, if
/// any ([`crate::Context::acting`] finds both). An officer acts on any command of a dossier
/// their agency receives (or holds), and on the step their agency performs, only that step.
pub fn authorize(
    actor: &Actor,
    dossier: &DossierCode,
    parties: &Parties,
    command: &Command,
    receiving: Option<&str>,
    step_agency: Option<&str>,
) -> Result<(), Denied> {
    permits(actor, parties, command.kind(), receiving, step_agency).map_err(|reason| Denied {
        actor: actor.id.clone(),
        role: actor.role,
        command: command.kind(),
        dossier: dossier.clone(),
        reason: reason.to_string(),
    })
}

/// The rule behind [`authorize`], without a dossier code: `Err` says why not.
pub fn permits(
    actor: &Actor,
    parties: &Parties,
    kind: CommandKind,
    receiving: Option<&str>,
    step_agency: Option<&str>,
) -> Result<(), &'static str> {
    if actor.role == ActorRole::System {
        return Ok(());
    }
    if !roles_for(kind).contains(&actor.role) {
        return Err("the role may not issue this command");
    }
    match actor.role {
        ActorRole::Citizen => match kind {
            CommandKind::Submit => Ok(()),
            _ if parties.applicant.as_ref() == Some(&actor.id) => Ok(()),
            _ => Err("a citizen may act only on their own dossier"),
        },
        _ => {
            let Some(agency) = actor.agency.as_deref() else {
                return Err("an officer must belong to an agency");
            };
            if Some(agency) == receiving || step_agency == Some(agency) {
                Ok(())
            } else {
                Err("the dossier belongs to another agency")
            }
        }
    }
}
