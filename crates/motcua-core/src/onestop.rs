//! The one-stop rules that decrees change, as dated versions: a dossier follows the version in
//! force on the day the one-stop desk (or the online system) first received it, to its end
//! (docs/rules.md §13). Each version names its source and the day it takes effect; the engine
//! looks the version up from the receipt's own date, so no stored byte records it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Register;

/// How a dossier received outside its competent unit's area is handled.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsideArea {
    /// Any procedure, its clock started at the desk's receipt (Decree 118/2025/NĐ-CP as first
    /// issued: receipt regardless of administrative boundary within the province).
    ClockAtDesk,
    /// Only a procedure on a published list in force (provincial or national scope); the
    /// receiving unit transfers it within the working day, or at the opening of the next
    /// working day when received after `cutoff` (minutes after midnight); its clock starts at
    /// the competent agency's receipt of the transferred dossier.
    TransferToCompetent {
        /// The hour after which the transfer is due at the next working day's opening.
        cutoff_minute: u16,
    },
}

/// One version of the one-stop rules.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OneStopRules {
    /// Its first day (none: since always).
    pub effective_from: Option<NaiveDate>,
    /// Where it comes from (decree, articles).
    pub source: &'static str,
    /// Receipt outside the competent unit's area.
    pub outside_area: OutsideArea,
}

/// The versions, oldest first: a version runs until the next one starts.
pub const ONE_STOP_RULES: &[OneStopRules] = &[
    OneStopRules {
        effective_from: None,
        source: "Decree 61/2018/NĐ-CP Art. 18; Decree 118/2025/NĐ-CP Art. 14 (from 1/7/2025): \
                 receipt regardless of administrative boundary, the clock from the desk's receipt",
        outside_area: OutsideArea::ClockAtDesk,
    },
    OneStopRules {
        effective_from: NaiveDate::from_ymd_opt(2026, 8, 5),
        source: "Decree 118/2025/NĐ-CP Art. 14, 17-18 as amended by Decree 309/2026/NĐ-CP (in force \
                 5/8/2026): listed procedures only, transferred within the working day (after 15:00: \
                 at the next working day's opening), the clock from the competent agency's receipt",
        outside_area: OutsideArea::TransferToCompetent { cutoff_minute: 15 * 60 },
    },
];

/// The version in force on `day`.
///
/// ```
/// use motcua_core::{one_stop_rules_on, OutsideArea};
/// let day = |s: &str| s.parse().unwrap();
/// assert_eq!(one_stop_rules_on(day("2026-08-04")).outside_area, OutsideArea::ClockAtDesk);
/// assert!(matches!(one_stop_rules_on(day("2026-08-05")).outside_area, OutsideArea::TransferToCompetent { .. }));
/// ```
pub fn one_stop_rules_on(day: NaiveDate) -> &'static OneStopRules {
    ONE_STOP_RULES.iter().rev().find(|v| v.effective_from.is_none_or(|f| f <= day)).unwrap_or(&ONE_STOP_RULES[0])
}

/// How far a procedure may be received outside its competent unit's area, by a published list.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryScope {
    /// At any one-stop desk of the same province (a province's list).
    Province,
    /// At any one-stop desk in the country (a national list; the national procedure database's
    /// `isNonTerritorial`).
    Nation,
}

/// Whether the agency `receiving` is outside the area of the dossier's unit `unit` on `on`
/// (neither the unit nor any of its ancestors is in the agency's jurisdiction), and if so
/// whether the two are in the same province: `None` when inside (or either is unknown).
pub fn outside_area(register: &Register, receiving: &str, unit: &str, on: NaiveDate) -> Option<bool> {
    let agency = register.agency(register.holder_on(receiving, on))?;
    register.unit(register.ancestry_first(unit, on)?)?;
    let holds = |u: &str| agency.jurisdiction.iter().any(|j| &**j == u);
    if register.ancestry_any(unit, on, holds) {
        return None;
    }
    // Same province: the last ancestors agree (no allocation: this runs at every receipt).
    let province = register.ancestry_last(unit, on);
    let same = agency.jurisdiction.iter().any(|j| register.ancestry_last(j, on) == province);
    Some(same)
}
