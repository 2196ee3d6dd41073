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
        K::ReceiveTransfer => &[Clerk, Specialist],
        K::HandOver | K::DeclareOutage => &[Leader],
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
            // A transferred dossier is received by its competent agency, never by the desk
            // that transfers it (Decree 309/2026/NĐ-CP).
            if kind == CommandKind::ReceiveTransfer {
                return if step_agency == Some(agency) {
                    Ok(())
                } else {
                    Err("only the competent agency receives a transferred dossier")
                };
            }
            if Some(agency) == receiving || step_agency == Some(agency) {
                Ok(())
            } else {
                Err("the dossier belongs to another agency")
            }
        }
    }
}

/// How far an actor sees when reading: decided once per request ([`sight`]), then asked of
/// each dossier ([`Sight::sees`]) or summary. The same agency relation as [`permits`]: an
/// agency sees what it holds today (the receiving agency's duties, or a step's) and what it
/// handled; and an agency sees every dossier of the administrative units strictly below its
/// jurisdiction in the register (a district's agencies see its communes', a province's
/// departments and centre the whole province's). Citizens see their own dossiers; a system
/// account (the national portal's connector) sees the online ones, which the portal's
/// contract is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sight {
    /// A citizen: the dossiers they are the applicant of.
    Own(ActorId),
    /// A system account: the dossiers received online.
    Portal,
    /// An officer of `agency`: what it holds or handled, and the dossiers of the units in
    /// `below` (those strictly below its jurisdiction, from the register).
    Agency {
        /// The officer's agency.
        agency: Arc<str>,
        /// The administrative units strictly below the agency's jurisdiction.
        below: std::collections::HashSet<Arc<str>>,
        /// Whether `below` is the whole province (the agency's jurisdiction is a province).
        province: bool,
    },
    /// Nothing: an officer without an agency, of an agency the register does not know, or of
    /// one that has ended (its successor holds its dossiers). The reason.
    Nothing(&'static str),
}

/// What [`Sight::sees`] needs to know of a dossier: its receiving agency, its administrative
/// unit, the agencies of its steps, its channel and applicant.
#[derive(Clone, Copy, Debug)]
pub struct Visible<'a> {
    /// The receiving agency (the dossier code's).
    pub receiving: &'a str,
    /// The administrative unit the dossier belongs to, if known.
    pub jurisdiction: Option<&'a str>,
    /// Whether it was received online.
    pub online: bool,
    /// Its parties (the applicant).
    pub parties: &'a Parties,
}

/// The sight of `actor` on `today`, through `register` when there is one.
pub fn sight(actor: &Actor, register: Option<&crate::Register>, today: chrono::NaiveDate) -> Sight {
    match actor.role {
        ActorRole::Citizen => return Sight::Own(actor.id.clone()),
        ActorRole::System => return Sight::Portal,
        _ => {}
    }
    let Some(agency) = actor.agency.as_ref().filter(|a| !a.trim().is_empty()) else {
        return Sight::Nothing("an officer must belong to an agency");
    };
    let Some(register) = register else {
        return Sight::Agency { agency: Arc::clone(agency), below: Default::default(), province: false };
    };
    let Some(known) = register.agency(agency) else {
        return Sight::Nothing("the agency is not in the register");
    };
    if known.valid_from.is_some_and(|f| today < f) || known.valid_to.is_some_and(|t| t < today) {
        return Sight::Nothing("the agency is not in force today (its successor holds its dossiers)");
    }
    let mut below = std::collections::HashSet::new();
    let mut province = false;
    for u in register.units() {
        // Walk up from u's parent: u is below the agency if an ancestor is in its jurisdiction.
        let mut at = u.parent.as_deref();
        for _ in 0..64 {
            let Some(p) = at else { break };
            if known.jurisdiction.iter().any(|j| &**j == p) {
                below.insert(Arc::clone(&u.code));
                break;
            }
            at = register.unit(p).and_then(|x| x.parent.as_deref());
        }
    }
    for j in &known.jurisdiction {
        if register.unit(j).is_some_and(|u| u.level == crate::UnitLevel::Province) {
            province = true;
        }
    }
    Sight::Agency { agency: Arc::clone(&known.code), below, province }
}

impl Sight {
    /// Whether this sight sees a dossier whose step agencies are `steps`, judged on `today`
    /// (who holds an agency's duties follows mergers in `register`).
    pub fn sees<'a>(
        &self,
        d: Visible<'_>,
        steps: impl IntoIterator<Item = &'a str>,
        register: Option<&crate::Register>,
        today: chrono::NaiveDate,
    ) -> bool {
        match self {
            Sight::Own(id) => d.parties.applicant.as_ref() == Some(id),
            Sight::Portal => d.online,
            Sight::Nothing(_) => false,
            Sight::Agency { agency, below, province } => {
                let holds = |a: &str| match register {
                    Some(r) => r.holder_on(a, today) == &**agency,
                    None => a == &**agency,
                };
                *province
                    || holds(d.receiving)
                    || d.jurisdiction.is_some_and(|j| below.contains(j))
                    || steps.into_iter().any(holds)
            }
        }
    }

    /// Whether it sees every dossier of the province (a province-level agency's officers).
    pub fn is_province_wide(&self) -> bool {
        matches!(self, Sight::Agency { province: true, .. })
    }

    /// Why it sees nothing, if so.
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            Sight::Nothing(why) => Some(why),
            _ => None,
        }
    }
}
