//! Calibration profiles (`seeds/profiles/*.toml`): the yearly totals a simulated province must
//! reproduce, the service counts and online shares the indicators report, and the behaviour
//! assumptions the simulator draws from. Every count and share is checked against the others,
//! with errors naming the field and its line.

use std::path::Path;
use std::sync::Arc;

use motcua_catalog::{Catalog, CatalogError, Problem};
use motcua_core::ProcedureCode;
use serde::Deserialize;

type Sp<T> = toml::Spanned<T>;

/// The most any count of a profile (dossiers, services, procedures) or a scaled profile's
/// dossiers may be: two national years (about 50 million dossiers a year; docs/sources.md §7).
/// A larger number is refused before anything is allocated for it.
pub const MAX_COUNT: u64 = 100_000_000;

/// The most services or procedures a profile may name (the national database lists a few
/// thousand procedures; each simulated one is a value in memory).
pub const MAX_SERVICES: u64 = 100_000;

/// Yearly dossier totals.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Totals {
    /// Dossiers received (accepted) in the year.
    pub received: u64,
    /// … of which online.
    pub online: u64,
    /// Dossiers resolved in the year.
    pub resolved: u64,
    /// … of which early or on time.
    pub early_or_on_time: u64,
}

impl Totals {
    /// Early-or-on-time share of resolved dossiers, in percent, rounded to two decimals as the
    /// 766 conventions round (docs/indicators.md §2).
    pub fn early_or_on_time_pct(&self) -> f64 {
        if self.resolved == 0 {
            return 0.0;
        }
        (self.early_or_on_time as f64 * 10_000.0 / self.resolved as f64).round() / 100.0
    }
}

/// Online services of the province.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Services {
    /// Online public services offered.
    pub online: u64,
    /// … integrated with the national portal.
    pub integrated: u64,
    /// Share of online services that received at least one dossier, percent.
    pub with_dossiers_pct: f64,
}

/// A procedure of the catalog and its share of the year's dossiers.
#[derive(Clone, PartialEq, Debug)]
pub struct ProcedureShare {
    /// The procedure.
    pub code: ProcedureCode,
    /// Percent of all dossiers.
    pub share_pct: f64,
    /// Line of its `code` in the profile.
    pub line: usize,
}

/// Behaviour assumptions (percent of dossiers), stated as such.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Behaviour {
    /// Dossiers asked for a supplement.
    pub supplement_pct: f64,
    /// Of those, the ones asked a second time (Decision 766 counts them late whatever their
    /// times); 0 unless the profile says.
    pub repeat_supplement_pct: f64,
    /// Dossiers rescheduled with an apology.
    pub extension_pct: f64,
    /// Dossiers withdrawn.
    pub withdrawal_pct: f64,
    /// Synthetic procedures beyond the catalog (the long tail).
    pub long_tail_procedures: u64,
}

/// A calibration profile.
#[derive(Clone, PartialEq, Debug)]
pub struct Profile {
    /// Name.
    pub name: String,
    /// Year simulated.
    pub year: i32,
    /// The synthetic receiving-agency code prefix of the simulated province.
    pub agency: String,
    /// Population.
    pub population: u64,
    /// Where the figures come from.
    pub source: String,
    /// Yearly totals to reproduce exactly.
    pub dossiers: Totals,
    /// Online services.
    pub services: Services,
    /// First-half online shares: all dossiers and the land sector, percent.
    pub first_half_online_pct: f64,
    /// First-half online share in the land sector, percent.
    pub first_half_land_online_pct: f64,
    /// Behaviour assumptions.
    pub behaviour: Behaviour,
    /// Catalog procedures and their shares.
    pub procedures: Vec<ProcedureShare>,
    /// The province's register of units (`units = "../units/…toml"`, relative to the profile):
    /// with it, dossiers of commune procedures are received at the communes' committees and
    /// every command is issued by an officer of the agency that acts.
    pub units: Option<std::path::PathBuf>,
    /// The digitisation rules counter receipts follow (`digitisation = "../digitisation/…toml"`,
    /// relative to the profile): the components left on paper are recorded.
    pub digitisation: Option<std::path::PathBuf>,
    /// The profile file, and the lines of its `units` and `digitisation` (0: not given): a
    /// problem in a referred file is reported at both places ([`Profile::references`]).
    pub file: std::path::PathBuf,
    /// Line of `units`.
    pub units_line: usize,
    /// Line of `digitisation`.
    pub digitisation_line: usize,
    /// Line of `agency`.
    pub agency_line: usize,
    /// Line of `dossiers.online`, `dossiers.early_or_on_time` and `services.with_dossiers_pct`:
    /// where a year the figures cannot make together is reported ([`Profile::check_plan`]).
    pub calibration_lines: CalibrationLines,
}

/// Lines of the figures a year's planning can find impossible together (0: unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CalibrationLines {
    /// `dossiers.online`.
    pub online: usize,
    /// `dossiers.early_or_on_time`.
    pub early_or_on_time: usize,
    /// `services.with_dossiers_pct`.
    pub with_dossiers_pct: usize,
}

/// The most dossiers `motcua check` plans a profile's year for ([`Profile::check_plan`]): a
/// province's year plans in a fraction of a second; a national one takes seconds and
/// gigabytes, and is planned by `simulate` before it opens a store.
pub const PLANNED_BY_CHECK: u64 = 5_000_000;

/// The files a profile refers to, opened and validated.
#[derive(Debug, Default)]
pub struct ProfileReferences {
    /// Its register of units.
    pub units: Option<motcua_core::Register>,
    /// Its digitisation rules.
    pub digitisation: Option<motcua_core::DigitisationRules>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    year: Sp<i64>,
    agency: Sp<String>,
    population: Sp<i64>,
    #[serde(default)]
    source: String,
    dossiers: RawTotals,
    services: RawServices,
    first_half: RawFirstHalf,
    behaviour: RawBehaviour,
    #[serde(default)]
    procedure: Vec<RawShare>,
    units: Option<Sp<String>>,
    digitisation: Option<Sp<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTotals {
    received: Sp<i64>,
    online: Sp<i64>,
    resolved: Sp<i64>,
    early_or_on_time: Sp<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServices {
    online: Sp<i64>,
    integrated: Sp<i64>,
    with_dossiers_pct: Sp<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFirstHalf {
    online_pct: Sp<f64>,
    land_online_pct: Sp<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBehaviour {
    supplement_pct: Sp<f64>,
    repeat_supplement_pct: Option<Sp<f64>>,
    extension_pct: Sp<f64>,
    withdrawal_pct: Sp<f64>,
    long_tail_procedures: Sp<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShare {
    code: Sp<String>,
    share_pct: Sp<f64>,
}

struct Check<'a> {
    text: &'a str,
    file: &'a Path,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn at<T>(&mut self, v: &Sp<T>, message: String) {
        let line = motcua_calendar::line_of(self.text, v.span().start);
        self.problems.push(Problem { file: self.file.to_path_buf(), line, message });
    }

    fn count(&mut self, field: &str, v: &Sp<i64>) -> u64 {
        self.bounded(field, v, MAX_COUNT)
    }

    /// A count of services or procedures (each simulated procedure is a value in memory).
    fn services(&mut self, field: &str, v: &Sp<i64>) -> u64 {
        self.bounded(field, v, MAX_SERVICES)
    }

    fn bounded(&mut self, field: &str, v: &Sp<i64>, max: u64) -> u64 {
        match u64::try_from(*v.get_ref()) {
            Ok(n) if n > max => {
                self.at(v, format!("{field}: {n} is more than the {max} a profile may ask for"));
                0
            }
            Ok(n) => n,
            Err(_) => {
                self.at(v, format!("{field}: must not be negative ({})", v.get_ref()));
                0
            }
        }
    }

    fn pct(&mut self, field: &str, v: &Sp<f64>) -> f64 {
        let x = *v.get_ref();
        if !(0.0..=100.0).contains(&x) {
            self.at(v, format!("{field}: {x} is not a share between 0 and 100"));
        }
        x
    }

    fn not_above(&mut self, field: &str, v: &Sp<i64>, value: u64, other: &str, limit: u64) {
        if value > limit {
            self.at(v, format!("{field}: {value} is more than {other} ({limit})"));
        }
    }
}

impl Profile {
    /// Parses a profile; `catalog` (if given) must hold every procedure it names.
    pub fn parse(text: &str, file: &Path, catalog: Option<&Catalog>) -> Result<Profile, CatalogError> {
        let raw: RawProfile = toml::from_str(text)
            .map_err(|e| CatalogError { problems: vec![motcua_catalog::toml_problem(text, file, &e)] })?;
        let mut c = Check { text, file, problems: Vec::new() };
        let year = i32::try_from(*raw.year.get_ref()).unwrap_or(0);
        // The simulated year and the next (dossiers received in December finish in January):
        // both within the calendar's supported years.
        let (first, last) =
            (motcua_calendar::holidays::FIRST_HOLIDAY_YEAR, motcua_calendar::holidays::LAST_HOLIDAY_YEAR - 1);
        if !(first..=last).contains(&year) {
            c.at(
                &raw.year,
                format!(
                    "year: {} is outside {first}..={last} (a year's dossiers finish in the next, and the calendar ends in {})",
                    raw.year.get_ref(),
                    motcua_calendar::holidays::LAST_HOLIDAY_YEAR
                ),
            );
        }
        if raw.agency.get_ref().parse::<motcua_core::AgencyCode>().is_err() {
            c.at(
                &raw.agency,
                format!("agency: {:?} is not an agency code (dot-separated A-Z0-9 groups)", raw.agency.get_ref()),
            );
        }
        // A population sizes nothing: only not negative (Vietnam had about 101 million in 2025).
        let population = match u64::try_from(*raw.population.get_ref()) {
            Ok(n) => n,
            Err(_) => {
                c.at(&raw.population, format!("population: must not be negative ({})", raw.population.get_ref()));
                0
            }
        };
        let d = &raw.dossiers;
        let totals = Totals {
            received: c.count("dossiers.received", &d.received),
            online: c.count("dossiers.online", &d.online),
            resolved: c.count("dossiers.resolved", &d.resolved),
            early_or_on_time: c.count("dossiers.early_or_on_time", &d.early_or_on_time),
        };
        if totals.received == 0 && *d.received.get_ref() == 0 {
            c.at(&d.received, "dossiers.received: 0: nothing to simulate".to_string());
        }
        c.not_above("dossiers.online", &d.online, totals.online, "dossiers.received", totals.received);
        c.not_above("dossiers.resolved", &d.resolved, totals.resolved, "dossiers.received", totals.received);
        c.not_above(
            "dossiers.early_or_on_time",
            &d.early_or_on_time,
            totals.early_or_on_time,
            "dossiers.resolved",
            totals.resolved,
        );
        let s = &raw.services;
        let services = Services {
            online: c.services("services.online", &s.online),
            integrated: c.services("services.integrated", &s.integrated),
            with_dossiers_pct: c.pct("services.with_dossiers_pct", &s.with_dossiers_pct),
        };
        c.not_above("services.integrated", &s.integrated, services.integrated, "services.online", services.online);
        let first_half_online_pct = c.pct("first_half.online_pct", &raw.first_half.online_pct);
        let first_half_land_online_pct = c.pct("first_half.land_online_pct", &raw.first_half.land_online_pct);
        let b = &raw.behaviour;
        let behaviour = Behaviour {
            supplement_pct: c.pct("behaviour.supplement_pct", &b.supplement_pct),
            repeat_supplement_pct: b
                .repeat_supplement_pct
                .as_ref()
                .map_or(0.0, |v| c.pct("behaviour.repeat_supplement_pct", v)),
            extension_pct: c.pct("behaviour.extension_pct", &b.extension_pct),
            withdrawal_pct: c.pct("behaviour.withdrawal_pct", &b.withdrawal_pct),
            long_tail_procedures: c.services("behaviour.long_tail_procedures", &b.long_tail_procedures),
        };
        let mut procedures = Vec::new();
        let mut seen: std::collections::HashMap<ProcedureCode, usize> = std::collections::HashMap::new();
        let mut total_share = 0.0;
        for (i, p) in raw.procedure.iter().enumerate() {
            let share = c.pct(&format!("procedure[{i}].share_pct"), &p.share_pct);
            total_share += share;
            match p.code.get_ref().parse::<ProcedureCode>() {
                Ok(code) => {
                    if catalog.is_some_and(|cat| cat.get(&code).is_none()) {
                        c.at(&p.code, format!("procedure[{i}].code: {code} is not in the catalog"));
                    } else if let Some(cat) = catalog {
                        // Its dossiers are received all year: a version must be in force on the
                        // year's first and last day (the catalog's own check finds gaps between).
                        let days = [(1, 1), (12, 31)].map(|(m, d)| chrono::NaiveDate::from_ymd_opt(year, m, d));
                        if let Some(day) = days.into_iter().flatten().find(|d| cat.get_on(&code, *d).is_none()) {
                            c.at(&p.code, format!("procedure[{i}].code: {code} has no version in force on {day}"));
                        }
                    }
                    // A procedure named twice would be simulated as two services of one code:
                    // its dossiers counted twice and the services calibration off.
                    if let Some(first) = seen.insert(code.clone(), i) {
                        c.at(&p.code, format!("procedure[{i}].code: {code} is already procedure[{first}]"));
                    }
                    procedures.push(ProcedureShare {
                        code,
                        share_pct: share,
                        line: motcua_calendar::line_of(text, p.code.span().start),
                    });
                }
                Err(e) => c.at(&p.code, format!("procedure[{i}].code: {e}")),
            }
        }
        if raw.procedure.is_empty() && behaviour.long_tail_procedures == 0 {
            c.at(
                &b.long_tail_procedures,
                "behaviour.long_tail_procedures: 0 and no [[procedure]]: nothing to simulate".to_string(),
            );
        }
        // The calibrated long tail: exactly this many simulated services get an online dossier.
        if services.online > 0 && c.problems.is_empty() {
            let target = services_with_dossiers(services.online, services.with_dossiers_pct);
            let simulated = procedures.len() as u64 + behaviour.long_tail_procedures;
            if target < procedures.len() as u64 || target > simulated {
                c.at(
                    &s.with_dossiers_pct,
                    format!(
                        "services.with_dossiers_pct: {}% of {} services is {target} services with online dossiers, \
                         but the profile simulates {} catalog procedures (each gets dossiers) and {} synthetic ones \
                         (behaviour.long_tail_procedures): between {} and {simulated} can have them",
                        services.with_dossiers_pct,
                        services.online,
                        procedures.len(),
                        behaviour.long_tail_procedures,
                        procedures.len()
                    ),
                );
            }
        }
        if total_share > 100.0 + 1e-9 {
            if let Some(last) = raw.procedure.last() {
                c.at(&last.share_pct, format!("procedure: the shares add up to {total_share}%, more than 100%"));
            }
        }
        if !c.problems.is_empty() {
            return Err(CatalogError { problems: c.problems });
        }
        Ok(Profile {
            name: raw.name,
            year,
            agency_line: motcua_calendar::line_of(text, raw.agency.span().start),
            agency: raw.agency.into_inner(),
            population,
            source: raw.source,
            dossiers: totals,
            services,
            first_half_online_pct,
            first_half_land_online_pct,
            behaviour,
            procedures,
            units: raw.units.as_ref().map(|u| file.parent().unwrap_or(Path::new("")).join(u.get_ref())),
            digitisation: raw.digitisation.as_ref().map(|d| file.parent().unwrap_or(Path::new("")).join(d.get_ref())),
            file: file.to_path_buf(),
            units_line: raw.units.as_ref().map_or(0, |u| motcua_calendar::line_of(text, u.span().start)),
            digitisation_line: raw.digitisation.as_ref().map_or(0, |d| motcua_calendar::line_of(text, d.span().start)),
            calibration_lines: CalibrationLines {
                online: motcua_calendar::line_of(text, raw.dossiers.online.span().start),
                early_or_on_time: motcua_calendar::line_of(text, raw.dossiers.early_or_on_time.span().start),
                with_dossiers_pct: motcua_calendar::line_of(text, raw.services.with_dossiers_pct.span().start),
            },
        })
    }

    /// Opens and validates the files the profile refers to (its register, its digitisation
    /// rules), as `motcua check` and `motcua simulate` both do before anything runs, and checks
    /// that its receiving agency is in the register and in force in its year. A problem in a
    /// referred file is reported where the profile names it and where the file says it:
    /// `PROFILE:LINE: units = "PATH": REGISTER:LINE: what`.
    pub fn references(&self, catalog: Option<&Catalog>) -> Result<ProfileReferences, CatalogError> {
        let mut out = ProfileReferences::default();
        if let Some(path) = &self.units {
            let register = motcua_catalog::load_register(path)
                .map_err(|e| e.referred(&self.file, self.units_line, "units", path))?;
            // The receiving agency: in the register, and in force for the whole year.
            let problem = match register.agency(&self.agency) {
                None => Some(format!("agency: {:?} is not an agency of the register {}", self.agency, path.display())),
                Some(a) => {
                    let first = chrono::NaiveDate::from_ymd_opt(self.year, 1, 1);
                    let last = chrono::NaiveDate::from_ymd_opt(self.year, 12, 31);
                    let ended = a.valid_to.zip(last).is_some_and(|(to, last)| to < last);
                    let begun = a.valid_from.zip(first).is_none_or(|(from, first)| from <= first);
                    (ended || !begun).then(|| {
                        let span = match (a.valid_from, a.valid_to) {
                            (Some(f), Some(t)) => format!("from {f} to {t}"),
                            (Some(f), None) => format!("from {f}"),
                            (None, Some(t)) => format!("until {t}"),
                            (None, None) => "always".to_string(),
                        };
                        format!(
                            "agency: {} is in force {span} in the register {}, not the whole of {}",
                            self.agency,
                            path.display(),
                            self.year
                        )
                    })
                }
            };
            if let Some(message) = problem {
                return Err(CatalogError {
                    problems: vec![Problem { file: self.file.clone(), line: self.agency_line, message }],
                });
            }
            // Every step of every simulated procedure resolves to an agency of the register for
            // every unit a dossier of it can belong to, on every day of the year (with a
            // register, steps go to the agency playing the role; the engine refuses a step
            // whose role resolves to none).
            let mut problems = Vec::new();
            let reach = Reach::of(&register, &self.agency, self.year);
            let (first, last) =
                (chrono::NaiveDate::from_ymd_opt(self.year, 1, 1), chrono::NaiveDate::from_ymd_opt(self.year, 12, 31));
            for (i, share) in self.procedures.iter().enumerate() {
                let Some(catalog) = catalog else { continue };
                // Every version in force some day of the year.
                let versions: Vec<&motcua_core::Procedure> = catalog
                    .versions(&share.code)
                    .filter(|p| {
                        p.effective_from.is_none_or(|f| last.is_none_or(|l| f <= l))
                            && p.effective_to.is_none_or(|t| first.is_none_or(|d| t >= d))
                    })
                    .collect();
                let Some(procedure) = versions.last() else { continue };
                // Each role once per procedure, naming the steps it does.
                let mut roles: Vec<(&str, Vec<&str>)> = Vec::new();
                for step in versions.iter().flat_map(|p| &p.steps) {
                    match roles.iter_mut().find(|(r, _)| *r == &*step.agency) {
                        Some((_, steps)) => steps.push(&*step.id.0),
                        None => roles.push((&step.agency, vec![&*step.id.0])),
                    }
                }
                for (role, steps) in roles {
                    let played =
                        register.agencies().iter().any(|a| &*a.code == role || a.roles.iter().any(|r| &**r == role));
                    let at = |what: String| Problem {
                        file: self.file.clone(),
                        line: share.line,
                        message: format!(
                            "procedure[{i}].code: {}'s step{} {} {} done by {role:?}, which {what}",
                            share.code,
                            if steps.len() == 1 { "" } else { "s" },
                            steps.join(", "),
                            if steps.len() == 1 { "is" } else { "are" },
                        ),
                    };
                    if !played {
                        problems.push(at(format!("no agency of the register {} plays", path.display())));
                    } else if let Some((unit, day)) = reach.unresolved(&register, role, procedure.level) {
                        problems.push(at(format!(
                            "no agency of the register {} plays for unit {unit} on {day} (a dossier received there \
                             that day would stop there)",
                            path.display()
                        )));
                    }
                }
            }
            if !problems.is_empty() {
                return Err(CatalogError { problems });
            }
            out.units = Some(register);
        }
        if let Some(path) = &self.digitisation {
            let rules = motcua_catalog::load_digitisation(path)
                .map_err(|e| e.referred(&self.file, self.digitisation_line, "digitisation", path))?;
            out.digitisation = Some(rules);
        }
        Ok(out)
    }

    /// Plans the profile's year as `simulate` does with its default seed (1), against
    /// `catalog`, and reports figures the year cannot meet together at the profile's line of
    /// the figure (`PROFILE:LINE: dossiers.online: half 1 needs …`). `Ok(false)`: not planned, the
    /// profile asks for more than [`PLANNED_BY_CHECK`] dossiers (`simulate` plans it before
    /// it opens a store, and refuses with the same message).
    pub fn check_plan(&self, catalog: &Catalog) -> Result<bool, CatalogError> {
        if self.dossiers.received > PLANNED_BY_CHECK {
            return Ok(false);
        }
        let procs = crate::procedures(self, catalog);
        let calendar = motcua_calendar::WorkCalendar::builder()
            .years(self.year, self.year + 1)
            .build()
            .map_err(|e| CatalogError { problems: vec![Problem::from_calendar(&self.file, e)] })?;
        crate::plan_year(self, &procs, &calendar, 1).map(|_| true).map_err(|e| self.calibration_problem(&e))
    }

    /// A planning error as a problem of the profile, at the line of the figure it names.
    pub fn calibration_problem(&self, e: &crate::SimError) -> CatalogError {
        let message = match e {
            crate::SimError::Invalid(m) => m.clone(),
            other => other.to_string(),
        };
        let l = self.calibration_lines;
        let line = if message.starts_with("dossiers.online") {
            l.online
        } else if message.starts_with("services.with_dossiers_pct") {
            l.with_dossiers_pct
        } else if message.starts_with("dossiers.early_or_on_time") {
            l.early_or_on_time
        } else {
            1
        };
        CatalogError { problems: vec![Problem { file: self.file.clone(), line: line.max(1), message }] }
    }

    /// Reads and parses a profile file.
    pub fn load(path: &Path, catalog: Option<&Catalog>) -> Result<Profile, CatalogError> {
        let text = motcua_calendar::read_input(path).map_err(|e| CatalogError {
            problems: vec![Problem { file: path.to_path_buf(), line: 1, message: format!("cannot read: {e}") }],
        })?;
        Profile::parse(&text, path, catalog)
    }

    /// How many online services the simulation gives online dossiers: the profile's share of
    /// its online services, rounded (`None` when the profile offers no online services).
    pub fn services_with_online_dossiers(&self) -> Option<u64> {
        (self.services.online > 0)
            .then(|| services_with_dossiers(self.services.online, self.services.with_dossiers_pct))
    }

    /// The same province `k` times larger: dossier counts multiplied, shares kept, and the
    /// services offered kept (more dossiers do not mean more procedures). An error for `k = 0`
    /// or more than [`MAX_COUNT`] dossiers.
    pub fn scaled(&self, k: u64) -> Result<Profile, String> {
        let mut p = self.clone();
        if k == 0 {
            return Err("scale 0: the scale multiplies the profile's counts, at least 1".into());
        }
        match self.dossiers.received.checked_mul(k) {
            Some(n) if n <= MAX_COUNT => {}
            _ => {
                return Err(format!(
                    "scale {k}: {} × {k} dossiers is more than the {MAX_COUNT} a simulation may ask for",
                    self.dossiers.received
                ))
            }
        }
        p.name = format!("{} ×{k}", self.name);
        p.population = self.population.saturating_mul(k);
        p.dossiers = Totals {
            received: self.dossiers.received.saturating_mul(k),
            online: self.dossiers.online.saturating_mul(k),
            resolved: self.dossiers.resolved.saturating_mul(k),
            early_or_on_time: self.dossiers.early_or_on_time.saturating_mul(k),
        };
        Ok(p)
    }
}

fn services_with_dossiers(online: u64, pct: f64) -> u64 {
    (online as f64 * pct / 100.0).round() as u64
}

/// The units and days a simulated year's dossiers can reach, with a register: the receiving
/// agency's home unit (every procedure) and, for commune procedures, the home units of the
/// communes' committees existing on its first day (where the simulator receives them); the
/// days are the year's first and every day within it on which an agency or a unit of the
/// register begins or ends (role resolution changes on no other day).
struct Reach {
    home: Option<Arc<str>>,
    communes: Vec<Arc<str>>,
    days: Vec<chrono::NaiveDate>,
}

impl Reach {
    fn of(register: &motcua_core::Register, agency: &str, year: i32) -> Reach {
        let (Some(first), Some(last)) =
            (chrono::NaiveDate::from_ymd_opt(year, 1, 1), chrono::NaiveDate::from_ymd_opt(year, 12, 31))
        else {
            return Reach { home: None, communes: Vec::new(), days: Vec::new() };
        };
        let communes = register
            .agencies()
            .iter()
            .filter(|a| a.valid_from.is_none_or(|d| d <= first) && a.valid_to.is_none_or(|d| d >= first))
            .filter(|a| a.roles.iter().any(|r| &**r == crate::routing::COMMUNE_COMMITTEE_ROLE))
            .filter_map(|a| a.jurisdiction.first().cloned())
            .collect();
        let bounds = register
            .agencies()
            .iter()
            .flat_map(|a| [a.valid_from, a.valid_to.and_then(|d| d.succ_opt())])
            .chain(register.units().iter().flat_map(|u| [u.valid_from, u.valid_to.and_then(|d| d.succ_opt())]));
        let mut days: Vec<chrono::NaiveDate> =
            std::iter::once(first).chain(bounds.flatten().filter(|d| (first..=last).contains(d))).collect();
        days.sort_unstable();
        days.dedup();
        Reach { home: register.home_unit(agency).cloned(), communes, days }
    }

    /// The first unit and day on which `role` resolves to no agency, if any.
    fn unresolved(
        &self,
        register: &motcua_core::Register,
        role: &str,
        level: motcua_core::Level,
    ) -> Option<(Arc<str>, chrono::NaiveDate)> {
        let communes: &[Arc<str>] =
            if level == motcua_core::Level::Commune && !self.communes.is_empty() { &self.communes } else { &[] };
        let units = self.home.iter().filter(|_| communes.is_empty()).chain(communes);
        for unit in units {
            for &day in &self.days {
                if register.resolve(role, unit, day).is_none() {
                    return Some((Arc::clone(unit), day));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use motcua_core::{AdminUnit, AgencyUnit, Level, Register, UnitLevel};

    fn agency(code: &str, roles: &[&str], to: Option<&str>) -> AgencyUnit {
        AgencyUnit {
            code: code.into(),
            name: code.into(),
            kind: "x".into(),
            roles: roles.iter().map(|&r| r.into()).collect(),
            jurisdiction: vec!["X".into()],
            valid_from: None,
            valid_to: to.map(|d| d.parse().unwrap()),
            successor: None,
        }
    }

    /// A role played for a unit until mid-year by an agency with no successor resolves to
    /// nobody from the day after: found on that day, not only on the year's first. (A register
    /// refuses such a handover while the unit goes on; here the unit ends the same day with no
    /// successor recorded, which the register does not check yet, and its dossiers' steps would
    /// go to nobody.)
    #[test]
    fn a_role_that_ends_mid_year_is_found_on_its_first_day_unplayed() {
        let unit = AdminUnit {
            code: "X".into(),
            name: "X".into(),
            level: UnitLevel::Commune,
            parent: None,
            valid_from: None,
            valid_to: Some("2023-06-30".parse().unwrap()),
            successor: None,
        };
        let register = Register::new(
            vec![unit],
            vec![
                agency("C", &["ubnd-xa"], None),
                agency("CA", &["cong-an-xa"], Some("2023-06-30")),
                agency("P", &[], None),
            ],
        )
        .unwrap();
        let reach = Reach::of(&register, "P", 2023);
        assert_eq!(reach.unresolved(&register, "ubnd-xa", Level::Commune), None);
        let (unit, day) = reach.unresolved(&register, "cong-an-xa", Level::Commune).unwrap();
        assert_eq!((&*unit, day.to_string().as_str()), ("X", "2023-07-01"));
        // A year after the agency ended: from its first day.
        let reach = Reach::of(&register, "P", 2024);
        assert_eq!(reach.unresolved(&register, "cong-an-xa", Level::Commune).unwrap().1.to_string(), "2024-01-01");
    }
}
