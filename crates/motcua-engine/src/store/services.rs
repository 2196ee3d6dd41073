//! The services (procedures) a store's dossiers are handled under, as the store keeps them.

use motcua_core::{OnlineLevel, Procedure, ProcedureCode};
use serde::{Deserialize, Serialize};

/// One service the province offers: what reports read for names and sectors, for the share of
/// procedures offered online (Decision 766, 3.1) and of online services with dossiers (3.2), and
/// for integration with the national portal. Written by [`crate::Engine::publish_services`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServiceRow {
    /// The procedure's code.
    pub procedure: ProcedureCode,
    /// Its name.
    pub name: String,
    /// Its sector.
    pub sector: String,
    /// How far it can be done online.
    pub online: OnlineLevel,
    /// Whether its online service is integrated with the national portal.
    pub integrated: bool,
    /// Whether it has fees or charges.
    #[serde(default)]
    pub fee_bearing: bool,
    /// Whether its fees can be paid online (through the national payment platform or a
    /// provincial gateway).
    #[serde(default)]
    pub online_payment: bool,
}

impl ServiceRow {
    /// The row of a procedure (of its version in force).
    pub fn of(p: &Procedure) -> ServiceRow {
        ServiceRow {
            procedure: p.code.clone(),
            name: p.name.clone(),
            sector: p.sector.clone(),
            online: p.online,
            integrated: p.integrated && p.online != OnlineLevel::None,
            fee_bearing: p.fees.iter().any(|f| f.amount > motcua_core::Vnd::ZERO),
            online_payment: p.online_payment,
        }
    }

    /// Whether it is offered as an online service (partial or end to end).
    pub fn is_online(&self) -> bool {
        self.online != OnlineLevel::None
    }
}
