//! Where simulated dossiers are received and who acts on them.
//!
//! Without a register of units every dossier is received at the profile's agency and every
//! command is issued by the system actor `motcua-sim`. With one (the engine's, from the
//! profile's `units` file), a dossier of a commune-level procedure is received at the people's
//! committee of one of the province's communes existing on the first day of the year (chosen
//! uniformly: the seed data give no per-commune counts, an assumption), other dossiers at the
//! profile's agency; and each command is issued by an officer of the agency that acts: the
//! receiving agency's clerk (receipt, supplements, return, withdrawal on the applicant's
//! behalf), its leader (finish, apology letter), and the specialist of the concrete agency the
//! step's role resolves to (Decree 61/2018/NĐ-CP Art. 19(6)-(7)).

use std::collections::HashMap;
use std::sync::Arc;

use motcua_core::{Actor, ActorRole, AgencyCode, Command, Level, Procedure, Register, StepId};

use crate::sim::{Rng, SimError};

/// The officers of one agency, with pseudonymous ids (`<agency>/mc`, `/cv`, `/ld`).
#[derive(Clone, Debug)]
pub(crate) struct Officers {
    clerk: Actor,
    specialist: Actor,
    leader: Actor,
}

impl Officers {
    fn of(agency: &str) -> Officers {
        let officer = |suffix: &str, role| Actor::officer(&format!("{agency}/{suffix}"), role, agency);
        Officers {
            clerk: officer("mc", ActorRole::Clerk),
            specialist: officer("cv", ActorRole::Specialist),
            leader: officer("ld", ActorRole::Leader),
        }
    }
}

/// One receiving agency: its code and home administrative unit.
#[derive(Clone, Debug)]
struct Receiver {
    code: AgencyCode,
    home: Option<Arc<str>>,
    officers: Officers,
}

/// The routing of a simulated year.
pub(crate) struct Routing {
    register: Option<Arc<Register>>,
    system: Actor,
    /// 0: the profile's agency; then the communes' committees.
    receivers: Vec<Receiver>,
    /// Officers of step agencies, by (role, unit, day).
    steps: HashMap<(Arc<str>, Arc<str>, chrono::NaiveDate), Option<Officers>>,
}

/// The role that receives commune dossiers in a register.
pub(crate) const COMMUNE_COMMITTEE_ROLE: &str = "ubnd-xa";

impl Routing {
    /// The routing for `year` at `agency`, through `register` if any.
    pub(crate) fn new(agency: AgencyCode, register: Option<Arc<Register>>, year: i32) -> Result<Routing, SimError> {
        let home = register.as_ref().and_then(|r| r.home_unit(agency.as_str()).cloned());
        let mut receivers = vec![Receiver { officers: Officers::of(agency.as_str()), code: agency, home }];
        if let Some(r) = &register {
            let first = chrono::NaiveDate::from_ymd_opt(year, 1, 1)
                .ok_or_else(|| SimError::Invalid(format!("year {year} has no first day")))?;
            for a in r.agencies() {
                let exists = a.valid_from.is_none_or(|d| d <= first) && a.valid_to.is_none_or(|d| d >= first);
                if exists && a.roles.iter().any(|role| &**role == COMMUNE_COMMITTEE_ROLE) {
                    let code: AgencyCode =
                        a.code.parse().map_err(|e| SimError::Invalid(format!("register agency {}: {e}", a.code)))?;
                    receivers.push(Receiver {
                        officers: Officers::of(&a.code),
                        code,
                        home: a.jurisdiction.first().cloned(),
                    });
                }
            }
        }
        Ok(Routing { register, system: Actor::system("motcua-sim"), receivers, steps: HashMap::new() })
    }

    /// The receiver of a dossier of `procedure`: a commune's committee for a commune procedure
    /// when the register has communes, else the profile's agency.
    pub(crate) fn pick(&self, procedure: &Procedure, rng: &mut Rng) -> u32 {
        let communes = self.receivers.len() as u64 - 1;
        if procedure.level == Level::Commune && communes > 0 {
            1 + rng.below(communes) as u32
        } else {
            0
        }
    }

    /// The receiving agencies' codes, by receiver.
    pub(crate) fn agencies(&self) -> Vec<AgencyCode> {
        self.receivers.iter().map(|r| r.code.clone()).collect()
    }

    fn receiver(&self, receiver: u32) -> &Receiver {
        self.receivers.get(receiver as usize).unwrap_or(&self.receivers[0])
    }

    /// Who issues `command` on a dossier received by `receiver` at `now`.
    pub(crate) fn actor(
        &mut self,
        receiver: u32,
        procedure: &Procedure,
        command: &Command,
        now: motcua_calendar::Timestamp,
    ) -> Actor {
        if self.register.is_none() {
            return self.system.clone();
        }
        let r = self.receiver(receiver);
        match command {
            Command::StartStep { step } | Command::Transfer { step } | Command::CompleteStep { step } => {
                let home = r.home.clone();
                let fallback = r.officers.specialist.clone();
                self.step_officers(procedure, step, home, now.local_date()).map_or(fallback, |o| o.specialist.clone())
            }
            Command::Finish { .. } | Command::Extend { .. } | Command::Stop { .. } => r.officers.leader.clone(),
            _ => r.officers.clerk.clone(),
        }
    }

    fn step_officers(
        &mut self,
        procedure: &Procedure,
        step: &StepId,
        home: Option<Arc<str>>,
        day: chrono::NaiveDate,
    ) -> Option<&Officers> {
        let register = self.register.as_ref()?;
        let role = procedure.steps.iter().find(|s| &s.id == step).map(|s| Arc::clone(&s.agency))?;
        let home = home?;
        // A cache of the days being simulated, not a record of the year: bounded (a day's
        // entries are asked again only while its dossiers are in hand).
        if self.steps.len() >= STEP_OFFICERS_CACHED && !self.steps.contains_key(&(role.clone(), home.clone(), day)) {
            self.steps.clear();
        }
        self.steps
            .entry((role, home, day))
            .or_insert_with_key(|(role, home, day)| register.resolve(role, home, *day).map(|a| Officers::of(&a.code)))
            .as_ref()
    }
}

/// Entries of the step officers' cache kept before it starts over.
const STEP_OFFICERS_CACHED: usize = 4096;
