//! The register of units: the administrative units dossiers belong to (province, district —
//! historical since 1/7/2025 — and commune) and the agencies that serve them, each agency with
//! the step roles it plays and the units in its jurisdiction.
//!
//! A procedure's step names a role (`cong-an-xa`, `ubnd-xa`) or a concrete agency code. For a
//! dossier, the role resolves through the register to the one agency that plays it for the
//! dossier's administrative unit (its *jurisdiction*, set at receipt): the agency whose
//! jurisdiction holds that unit or its nearest ancestor. Receiving regardless of administrative
//! boundary (Decree 118/2025/NĐ-CP; docs/sources.md §6) is a dossier received by one agency
//! whose jurisdiction is another unit's. Units and agencies have validity dates and a successor
//! after a merger; a dissolved unit's duties pass to its successor from the day after it ends
//! ([`Register::holder_on`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// An administrative unit's level.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// A province or centrally-run city.
    Province,
    /// A district (ended on 30/6/2025 with the two-level local government).
    District,
    /// A commune, ward or special zone.
    Commune,
}

/// An administrative unit.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct AdminUnit {
    /// Its code.
    pub code: Arc<str>,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: UnitLevel,
    /// The unit it belongs to (none for a province).
    pub parent: Option<Arc<str>>,
    /// First day it exists (none: always).
    pub valid_from: Option<NaiveDate>,
    /// Last day it exists (none: still).
    pub valid_to: Option<NaiveDate>,
    /// The unit that takes over after `valid_to` (a merger).
    pub successor: Option<Arc<str>>,
}

/// An agency: a body that receives dossiers or performs steps.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct AgencyUnit {
    /// Its code (the one officers' tokens and dossier codes carry).
    pub code: Arc<str>,
    /// Its name.
    pub name: String,
    /// What kind of body it is (`commune_people_committee`, `police`, `land_registry_branch`,
    /// `public_service_centre`, …).
    pub kind: String,
    /// The step roles it plays (the labels procedures name).
    pub roles: Vec<Arc<str>>,
    /// The administrative units it serves; the first is the home of dossiers it receives.
    pub jurisdiction: Vec<Arc<str>>,
    /// First day it exists.
    pub valid_from: Option<NaiveDate>,
    /// Last day it exists.
    pub valid_to: Option<NaiveDate>,
    /// The agency that takes over its open dossiers after `valid_to`.
    pub successor: Option<Arc<str>>,
}

/// What is wrong with a register. `field` names the entry, e.g. `agency[3].jurisdiction`.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RegisterError {
    /// Which entry and field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn rerr(field: String, message: impl Into<String>) -> RegisterError {
    RegisterError { field, message: message.into() }
}

fn active(from: Option<NaiveDate>, to: Option<NaiveDate>, on: NaiveDate) -> bool {
    from.is_none_or(|f| f <= on) && to.is_none_or(|t| on <= t)
}

/// Successor chains longer than this are refused (a register is a few hundred units deep at
/// most; this also bounds every walk).
const MAX_CHAIN: usize = 64;

/// From `code`, the successor in charge on `on`: while the entry `lookup` finds (its last day,
/// its successor) ended before `on` and names a successor, move on to it (at most
/// [`MAX_CHAIN`] steps: chains are checked acyclic when a register is built).
fn follow_successors<'a>(
    code: &'a str,
    on: NaiveDate,
    lookup: impl Fn(&str) -> Option<(Option<NaiveDate>, Option<&'a str>)>,
) -> &'a str {
    let mut at = code;
    for _ in 0..MAX_CHAIN {
        match lookup(at) {
            Some((Some(last), Some(next))) if last < on => at = next,
            _ => return at,
        }
    }
    at
}

/// The register: units and agencies, checked ([`Register::new`]).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Register {
    units: Vec<AdminUnit>,
    agencies: Vec<AgencyUnit>,
    unit_at: HashMap<Arc<str>, usize>,
    agency_at: HashMap<Arc<str>, usize>,
}

impl Register {
    /// A register of `units` and `agencies`, checked: codes unique (units and agencies apart),
    /// parents, successors and jurisdictions known, dates in order, no cycle of parents or
    /// successors. Every problem is reported.
    pub fn new(units: Vec<AdminUnit>, agencies: Vec<AgencyUnit>) -> Result<Register, Vec<RegisterError>> {
        let mut problems = Vec::new();
        let mut unit_at = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            if unit_at.insert(Arc::clone(&u.code), i).is_some() {
                problems.push(rerr(format!("unit[{i}].code"), format!("{:?} appears twice", u.code)));
            }
        }
        let mut agency_at = HashMap::new();
        for (i, a) in agencies.iter().enumerate() {
            if agency_at.insert(Arc::clone(&a.code), i).is_some() {
                problems.push(rerr(format!("agency[{i}].code"), format!("{:?} appears twice", a.code)));
            }
        }
        let dates = |field: String, from: Option<NaiveDate>, to: Option<NaiveDate>, out: &mut Vec<RegisterError>| {
            if let (Some(f), Some(t)) = (from, to) {
                if t < f {
                    out.push(rerr(field, format!("valid_to {t} is before valid_from {f}")));
                }
            }
        };
        for (i, u) in units.iter().enumerate() {
            if let Some(p) = &u.parent {
                if !unit_at.contains_key(p) {
                    problems.push(rerr(format!("unit[{i}].parent"), format!("unknown unit {p:?}")));
                }
            }
            if let Some(s) = &u.successor {
                if !unit_at.contains_key(s) {
                    problems.push(rerr(format!("unit[{i}].successor"), format!("unknown unit {s:?}")));
                } else if u.valid_to.is_none() {
                    problems.push(rerr(format!("unit[{i}].successor"), "a successor needs valid_to (the last day)"));
                }
            }
            dates(format!("unit[{i}].valid_to"), u.valid_from, u.valid_to, &mut problems);
        }
        for (i, a) in agencies.iter().enumerate() {
            if a.jurisdiction.is_empty() {
                problems.push(rerr(format!("agency[{i}].jurisdiction"), "names no unit"));
            }
            for j in &a.jurisdiction {
                if !unit_at.contains_key(j) {
                    problems.push(rerr(format!("agency[{i}].jurisdiction"), format!("unknown unit {j:?}")));
                }
            }
            if let Some(s) = &a.successor {
                if !agency_at.contains_key(s) {
                    problems.push(rerr(format!("agency[{i}].successor"), format!("unknown agency {s:?}")));
                } else if a.valid_to.is_none() {
                    problems.push(rerr(format!("agency[{i}].successor"), "a successor needs valid_to (the last day)"));
                }
            }
            dates(format!("agency[{i}].valid_to"), a.valid_from, a.valid_to, &mut problems);
        }
        let register = Register { units, agencies, unit_at, agency_at };
        if problems.is_empty() {
            // Cycles: every chain of parents and successors must end within MAX_CHAIN steps.
            for (i, u) in register.units.iter().enumerate() {
                let walk = |next: &dyn Fn(&AdminUnit) -> Option<Arc<str>>| {
                    let mut at = u;
                    for _ in 0..MAX_CHAIN {
                        match next(at).and_then(|c| register.unit(&c)) {
                            Some(n) => at = n,
                            None => return true,
                        }
                    }
                    false
                };
                if !walk(&|x| x.parent.clone()) {
                    problems.push(rerr(format!("unit[{i}].parent"), "the parents form a cycle"));
                }
                if !walk(&|x| x.successor.clone()) {
                    problems.push(rerr(format!("unit[{i}].successor"), "the successors form a cycle"));
                }
            }
            for (i, a) in register.agencies.iter().enumerate() {
                let mut at = a;
                let mut ended = false;
                for _ in 0..MAX_CHAIN {
                    match at.successor.as_deref().and_then(|c| register.agency(c)) {
                        Some(n) => at = n,
                        None => {
                            ended = true;
                            break;
                        }
                    }
                }
                if !ended {
                    problems.push(rerr(format!("agency[{i}].successor"), "the successors form a cycle"));
                }
            }
        }
        if problems.is_empty() {
            // A handover leaves no role to nobody: an agency that ends while a unit of its
            // jurisdiction goes on (itself, or through its successor) hands each of its roles for
            // that unit to an agency in force the next day (docs/rules.md §8).
            for (i, a) in register.agencies.iter().enumerate() {
                let Some(next) = a.valid_to.and_then(|t| t.succ_opt()) else { continue };
                for unit in &a.jurisdiction {
                    let continues = register
                        .unit(unit)
                        .is_some_and(|u| u.valid_to.is_none_or(|t| t >= next) || u.successor.is_some());
                    if !continues {
                        continue;
                    }
                    for role in &a.roles {
                        if register.resolve(role, unit, next).is_none() {
                            problems.push(rerr(
                                format!("agency[{i}].valid_to"),
                                format!(
                                    "{} ends on {}, and from {next} no agency plays {role:?} for unit {unit:?} (name an agency that takes the role over)",
                                    a.code,
                                    next.pred_opt().unwrap_or(next)
                                ),
                            ));
                        }
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(register)
        } else {
            Err(problems)
        }
    }

    /// The administrative unit `code`.
    pub fn unit(&self, code: &str) -> Option<&AdminUnit> {
        self.unit_at.get(code).and_then(|&i| self.units.get(i))
    }

    /// The agency `code`.
    pub fn agency(&self, code: &str) -> Option<&AgencyUnit> {
        self.agency_at.get(code).and_then(|&i| self.agencies.get(i))
    }

    /// Every unit, in file order.
    pub fn units(&self) -> &[AdminUnit] {
        &self.units
    }

    /// Every agency, in file order.
    pub fn agencies(&self) -> &[AgencyUnit] {
        &self.agencies
    }

    /// The unit whose duties unit `code` has on `on`: itself while it exists, else (after its
    /// last day) its successor's, and so on.
    fn unit_on<'a>(&'a self, code: &'a str, on: NaiveDate) -> &'a str {
        follow_successors(code, on, |c| self.unit(c).map(|u| (u.valid_to, u.successor.as_deref())))
    }

    /// Who holds agency `code`'s dossiers on `on`: itself while it exists, else (from the day
    /// after its last) its successor, and so on (a code the register does not know holds its
    /// own).
    pub fn holder_on<'a>(&'a self, code: &'a str, on: NaiveDate) -> &'a str {
        follow_successors(code, on, |c| self.agency(c).map(|a| (a.valid_to, a.successor.as_deref())))
    }

    /// The administrative unit a dossier received by agency `code` belongs to by default: the
    /// first unit of its jurisdiction.
    pub fn home_unit(&self, code: &str) -> Option<&Arc<str>> {
        self.agency(code).and_then(|a| a.jurisdiction.first())
    }

    /// The unit `unit` as it is on `on` (after mergers) and its ancestors, each as it is that
    /// day, nearest first: the last is its province. Empty for a unit the register does not know.
    pub fn ancestry<'a>(&'a self, unit: &'a str, on: NaiveDate) -> Vec<&'a str> {
        let mut out = Vec::new();
        self.ancestry_any(unit, on, |u| {
            out.push(u);
            false
        });
        out
    }

    /// Whether `found` holds for the unit (as it is on `on`) or one of its ancestors, nearest
    /// first, without allocating.
    pub(crate) fn ancestry_any<'a>(
        &'a self,
        unit: &'a str,
        on: NaiveDate,
        mut found: impl FnMut(&'a str) -> bool,
    ) -> bool {
        let mut at = Some(self.unit_on(unit, on));
        for _ in 0..MAX_CHAIN {
            let Some(u) = at.filter(|u| self.unit(u).is_some()) else { break };
            if found(u) {
                return true;
            }
            at = self.unit(u).and_then(|x| x.parent.as_deref()).map(|p| self.unit_on(p, on));
        }
        false
    }

    /// The unit as it is on `on` (itself while in force, else its successor), if the register
    /// knows it.
    pub fn ancestry_first<'a>(&'a self, unit: &'a str, on: NaiveDate) -> Option<&'a str> {
        let mut first = None;
        self.ancestry_any(unit, on, |u| {
            first = Some(u);
            true
        });
        first
    }

    /// The unit's farthest known ancestor on `on` (its province), if the register knows it.
    pub(crate) fn ancestry_last<'a>(&'a self, unit: &'a str, on: NaiveDate) -> Option<&'a str> {
        let mut last = None;
        self.ancestry_any(unit, on, |u| {
            last = Some(u);
            false
        });
        last
    }

    /// The agency that plays `role` on `on` for a dossier of administrative unit `unit`: among
    /// the agencies existing that day that play the role, the one whose jurisdiction holds the
    /// unit (as it is that day, after mergers) or, failing that, its nearest ancestor (each as
    /// it is that day: a district that ended without a successor hands over to its province's
    /// successor). A role
    /// that is itself an agency's code resolves to that agency's holder.
    pub fn resolve(&self, role: &str, unit: &str, on: NaiveDate) -> Option<&AgencyUnit> {
        if self.agency(role).is_some() {
            return self.agency(self.holder_on(role, on));
        }
        let mut at = Some(self.unit_on(unit, on));
        for _ in 0..MAX_CHAIN {
            let u = at?;
            let found = self.agencies.iter().find(|a| {
                active(a.valid_from, a.valid_to, on)
                    && a.roles.iter().any(|r| &**r == role)
                    && a.jurisdiction.iter().any(|j| &**j == u)
            });
            if found.is_some() {
                return found;
            }
            // The parent as it is that day (a merged province's successor).
            at = self.unit(u).and_then(|x| x.parent.as_deref()).map(|p| self.unit_on(p, on));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn unit(code: &str, level: UnitLevel, parent: Option<&str>) -> AdminUnit {
        AdminUnit {
            code: code.into(),
            name: code.into(),
            level,
            parent: parent.map(Into::into),
            valid_from: None,
            valid_to: None,
            successor: None,
        }
    }

    fn agency(code: &str, roles: &[&str], jurisdiction: &[&str]) -> AgencyUnit {
        AgencyUnit {
            code: code.into(),
            name: code.into(),
            kind: "x".into(),
            roles: roles.iter().map(|&r| r.into()).collect(),
            jurisdiction: jurisdiction.iter().map(|&j| j.into()).collect(),
            valid_from: None,
            valid_to: None,
            successor: None,
        }
    }

    fn register() -> Register {
        let mut a = unit("A", UnitLevel::Commune, Some("P"));
        a.valid_to = Some(d("2025-06-30"));
        a.successor = Some("AB".into());
        let mut b = unit("B", UnitLevel::Commune, Some("P"));
        b.valid_to = Some(d("2025-06-30"));
        b.successor = Some("AB".into());
        let mut ab = unit("AB", UnitLevel::Commune, Some("P"));
        ab.valid_from = Some(d("2025-07-01"));
        let mut ca_a = agency("CA-A", &["cong-an-xa"], &["A"]);
        ca_a.valid_to = Some(d("2025-06-30"));
        ca_a.successor = Some("CA-AB".into());
        let mut ca_b = agency("CA-B", &["cong-an-xa"], &["B"]);
        ca_b.valid_to = Some(d("2025-06-30"));
        ca_b.successor = Some("CA-AB".into());
        let mut ca_ab = agency("CA-AB", &["cong-an-xa"], &["AB"]);
        ca_ab.valid_from = Some(d("2025-07-01"));
        Register::new(
            vec![unit("P", UnitLevel::Province, None), a, b, ab],
            vec![ca_a, ca_b, ca_ab, agency("STNMT", &["so-tnmt"], &["P"])],
        )
        .unwrap()
    }

    #[test]
    fn a_handover_that_leaves_a_role_to_nobody_is_refused() {
        // The commune goes on, its police post ends on 30/6/2025 and no one takes the role over.
        let mut ca = agency("CA-X", &["cong-an-xa"], &["X"]);
        ca.valid_to = Some(d("2025-06-30"));
        let units = vec![unit("P", UnitLevel::Province, None), unit("X", UnitLevel::Commune, Some("P"))];
        let problems = Register::new(units.clone(), vec![ca.clone()]).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "agency[0].valid_to");
        assert!(
            problems[0].message.contains("from 2025-07-01 no agency plays \"cong-an-xa\" for unit \"X\""),
            "{problems:?}"
        );
        // A successor post from the next day takes it over.
        let mut next = agency("CA-X2", &["cong-an-xa"], &["X"]);
        next.valid_from = Some(d("2025-07-01"));
        ca.successor = Some("CA-X2".into());
        assert!(Register::new(units, vec![ca, next]).is_ok());
        // The seed-like merger above hands every role over.
        let _ = register();
    }

    #[test]
    fn roles_resolve_by_jurisdiction_ancestors_and_mergers() {
        let r = register();
        let on = d("2025-03-04");
        assert_eq!(&*r.resolve("cong-an-xa", "A", on).unwrap().code, "CA-A");
        assert_eq!(&*r.resolve("cong-an-xa", "B", on).unwrap().code, "CA-B");
        // A provincial role for a commune's dossier: the nearest ancestor's agency.
        assert_eq!(&*r.resolve("so-tnmt", "A", on).unwrap().code, "STNMT");
        assert!(r.resolve("thue", "A", on).is_none());
        // After the merger, commune A's dossiers go to the merged commune's police.
        let after = d("2025-07-01");
        assert_eq!(&*r.resolve("cong-an-xa", "A", after).unwrap().code, "CA-AB");
        assert_eq!(r.holder_on("CA-A", d("2025-06-30")), "CA-A");
        assert_eq!(r.holder_on("CA-A", after), "CA-AB");
        assert_eq!(r.holder_on("UNKNOWN", after), "UNKNOWN");
        // A concrete code resolves to itself (or its holder).
        assert_eq!(&*r.resolve("CA-A", "B", after).unwrap().code, "CA-AB");
    }

    #[test]
    fn a_broken_register_names_every_problem() {
        let mut a = agency("X", &[], &["NOWHERE"]);
        a.successor = Some("Y".into());
        let mut u = unit("U", UnitLevel::Commune, Some("MISSING"));
        u.valid_from = Some(d("2025-07-01"));
        u.valid_to = Some(d("2025-01-01"));
        let problems = Register::new(vec![u.clone(), u], vec![a]).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        for want in [
            "unit[1].code: \"U\" appears twice",
            "unit[0].parent: unknown unit \"MISSING\"",
            "unit[0].valid_to: valid_to 2025-01-01 is before valid_from 2025-07-01",
            "agency[0].jurisdiction: unknown unit \"NOWHERE\"",
            "agency[0].successor: unknown agency \"Y\"",
        ] {
            assert!(text.iter().any(|t| t == want), "{want} not in {text:?}");
        }
        let mut p = unit("P", UnitLevel::Province, Some("Q"));
        let q = unit("Q", UnitLevel::Province, Some("P"));
        p.name = "p".into();
        let problems = Register::new(vec![p, q], vec![]).unwrap_err();
        assert!(problems.iter().any(|e| e.message.contains("cycle")), "{problems:?}");
    }
}
