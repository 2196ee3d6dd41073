//! Procedure catalogs as TOML: one procedure per file (top-level keys) or many
//! (`[[procedure]]` tables). See `seeds/procedures/README.md` for the format.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use motcua_calendar::{parse_minute_of_day, Limit};
use motcua_core::{
    Channel, CopyKind, Cutoff, Document, Fee, FeeReduction, FeeStage, FeeTier, Level, OnlineLevel, Policy, Procedure,
    ProcedureCase, ProcedureCode, ResultDocument, Role, Step, SupplementPolicy, Vnd,
};
use serde::Deserialize;

use crate::error::{toml_problem, CatalogError, Problem, Sink};

type Sp<T> = toml::Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProcedure {
    code: Sp<String>,
    name: Sp<String>,
    #[serde(default)]
    sector: String,
    level: Sp<String>,
    online: Sp<String>,
    /// Whether the online service is integrated with the national portal (default: it has one).
    integrated: Option<bool>,
    /// Whether fees can be paid online.
    #[serde(default)]
    online_payment: bool,
    limit: Sp<String>,
    /// The limit of a dossier submitted online, when it differs from `limit`.
    limit_online: Option<Sp<String>>,
    /// The limit of a dossier sent by post, when it differs from `limit`.
    limit_postal: Option<Sp<String>>,
    limit_source: Sp<String>,
    cutoff: Option<Sp<String>>,
    supplement: Option<Sp<String>>,
    supplement_window: Option<Sp<String>>,
    supplement_deadline: Option<Sp<String>>,
    pause_on_financial_obligation: Option<bool>,
    pause_on_suspension: Option<bool>,
    pause_on_outage: Option<bool>,
    effective_from: Option<Sp<String>>,
    effective_to: Option<Sp<String>>,
    #[serde(default)]
    step: Vec<Sp<RawStep>>,
    #[serde(default)]
    document: Vec<RawDocument>,
    #[serde(default)]
    fee: Vec<RawFee>,
    #[serde(default)]
    result: Vec<RawResult>,
    /// Cases with limits of their own.
    #[serde(default)]
    case: Vec<RawCase>,
    /// Whether a receipt must name a case.
    #[serde(default)]
    case_required: bool,
    /// province | nation: on a published list of procedures received outside the competent
    /// unit's area (Decree 309/2026/NĐ-CP).
    outside_area: Option<Sp<String>>,
    /// The list's source.
    outside_area_source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: Sp<String>,
    name: String,
    limit: Sp<String>,
    limit_online: Option<Sp<String>>,
    limit_postal: Option<Sp<String>>,
}

/// Parses a limit and the channels' own; `None` when any is wrong (said in `sink`).
fn parse_limits(
    sink: &mut Sink<'_>,
    prefix: &str,
    limit: &Sp<String>,
    online: &Option<Sp<String>>,
    postal: &Option<Sp<String>>,
) -> Option<(Limit, Vec<(Channel, Limit)>)> {
    let base = parse_limit(sink, &format!("{prefix}limit"), limit);
    let mut channel_limits = Some(Vec::new());
    for (field, channel, v) in [("limit_online", Channel::Online, online), ("limit_postal", Channel::Postal, postal)] {
        let Some(v) = v else { continue };
        match (parse_limit(sink, &format!("{prefix}{field}"), v), channel_limits.as_mut()) {
            (Some(l), Some(all)) => all.push((channel, l)),
            _ => channel_limits = None,
        }
    }
    Some((base?, channel_limits?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Sp<String>,
    name: String,
    agency: Sp<String>,
    role: Sp<String>,
    allotment: Sp<String>,
    after: Option<Sp<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    name: String,
    #[serde(default = "yes")]
    required: bool,
    /// A result kind that satisfies it, reused from the warehouse.
    accepts: Option<String>,
    /// The ground of the digitisation rules on which it is not digitised at the counter.
    digitisation_exempt: Option<String>,
    /// Its code in the national procedure database.
    code: Option<String>,
    /// original | certified_copy | electronic.
    copy: Option<Sp<String>>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFee {
    name: String,
    amount: Sp<String>,
    per: Option<String>,
    then: Option<RawTier>,
    max: Option<Sp<String>>,
    online: Option<Sp<String>>,
    #[serde(default)]
    exempt: Vec<String>,
    #[serde(default)]
    reduced: Vec<RawReduction>,
    stage: Option<Sp<String>>,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReduction {
    ground: String,
    amount: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    from: u32,
    amount: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResult {
    name: String,
    valid_days: Option<u32>,
}

pub(crate) fn vnd(sink: &mut Sink<'_>, field: &str, v: &Sp<String>) -> Option<Vnd> {
    match v.get_ref().parse::<Vnd>() {
        Ok(a) => Some(a),
        Err(e) => {
            sink.at(v.span().start, format!("{field}: {e}"));
            None
        }
    }
}

/// A fee amount the provincial council sets (Law on Fees and Charges 2015, Art. 21).
pub const COUNCIL: &str = "council";

/// One fee of a procedure's schedule; every problem reported at its line.
fn fee(sink: &mut Sink<'_>, f: RawFee) -> Option<Fee> {
    // `amount = "council"`: the provincial council sets it; a province file gives the amount.
    let unpriced = f.amount.get_ref().trim() == COUNCIL;
    let amount = if unpriced { Some(Vnd::ZERO) } else { vnd(sink, "fee.amount", &f.amount) };
    let max = f.max.as_ref().map(|m| vnd(sink, "fee.max", m));
    let online = f.online.as_ref().map(|o| vnd(sink, "fee.online", o));
    let then = f.then.as_ref().map(|t| {
        if t.from < 2 {
            sink.at(t.amount.span().start, "fee.then.from: the unit the second rate starts at, 2 or more");
        }
        vnd(sink, "fee.then.amount", &t.amount).map(|amount| FeeTier { from: t.from, amount })
    });
    if then.is_some() && f.per.is_none() {
        sink.at(f.amount.span().start, "fee.then: only a fee charged `per` unit has a second rate");
        return None;
    }
    let reduced: Vec<Option<FeeReduction>> = f
        .reduced
        .iter()
        .map(|r| {
            vnd(sink, "fee.reduced.amount", &r.amount).map(|amount| FeeReduction { ground: r.ground.clone(), amount })
        })
        .collect();
    let stage = match f.stage.as_ref() {
        None => Some(FeeStage::Intake),
        Some(s) => parse_enum(
            sink,
            "fee.stage",
            s,
            &[("intake", FeeStage::Intake), ("supplement", FeeStage::Supplement), ("result", FeeStage::Result)],
        ),
    };
    Some(Fee {
        name: f.name,
        amount: amount?,
        per: f.per,
        then: then.map(|t| t.ok_or(())).transpose().ok()?,
        max: max.map(|m| m.ok_or(())).transpose().ok()?,
        online: online.map(|o| o.ok_or(())).transpose().ok()?,
        exempt: f.exempt,
        reduced: reduced.into_iter().collect::<Option<Vec<_>>>()?,
        stage: stage?,
        source: f.source,
        unpriced,
    })
}

/// A file of `[[procedure]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMany {
    procedure: Vec<RawProcedure>,
}

/// Where a procedure was defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The file.
    pub file: PathBuf,
    /// Line of its `code`.
    pub line: usize,
}

fn parse_enum<T: Copy>(sink: &mut Sink<'_>, field: &str, v: &Sp<String>, options: &[(&str, T)]) -> Option<T> {
    let s = v.get_ref().trim();
    match options.iter().find(|(name, _)| *name == s) {
        Some(&(_, t)) => Some(t),
        None => {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            sink.at(v.span().start, format!("{field}: unknown value {s:?}; expected one of {}", names.join(", ")));
            None
        }
    }
}

pub(crate) fn parse_limit(sink: &mut Sink<'_>, field: &str, v: &Sp<String>) -> Option<Limit> {
    match v.get_ref().parse::<Limit>() {
        Ok(l) => Some(l),
        Err(e) => {
            sink.at(v.span().start, format!("{field}: {e}"));
            None
        }
    }
}

fn parse_optional_limit(
    sink: &mut Sink<'_>,
    field: &str,
    v: &Option<Sp<String>>,
    default: Option<Limit>,
) -> Option<Option<Limit>> {
    match v {
        None => Some(default),
        Some(s) if s.get_ref().trim() == "none" => Some(None),
        Some(s) => parse_limit(sink, field, s).map(Some),
    }
}

impl RawProcedure {
    /// Converts and validates; problems go to `sink`.
    fn build(self, sink: &mut Sink<'_>) -> Option<(Procedure, usize)> {
        let before = sink.problems.len();
        let code_line = crate::error::line_of(sink.text, self.code.span().start);
        let code = match self.code.get_ref().parse::<ProcedureCode>() {
            Ok(c) => Some(c),
            Err(e) => {
                sink.at(self.code.span().start, format!("code: {e}"));
                None
            }
        };
        let level = parse_enum(
            sink,
            "level",
            &self.level,
            &[("ministry", Level::Ministry), ("province", Level::Province), ("commune", Level::Commune)],
        );
        let online = parse_enum(
            sink,
            "online",
            &self.online,
            &[("full", OnlineLevel::Full), ("partial", OnlineLevel::Partial), ("none", OnlineLevel::None)],
        );
        let (limit, channel_limits) = match parse_limits(sink, "", &self.limit, &self.limit_online, &self.limit_postal)
        {
            Some((l, c)) => (Some(l), Some(c)),
            None => (None, None),
        };
        let mut cases = Some(Vec::new());
        for c in &self.case {
            match (parse_limits(sink, "case.", &c.limit, &c.limit_online, &c.limit_postal), cases.as_mut()) {
                (Some((limit, channel_limits)), Some(all)) => {
                    all.push(ProcedureCase { id: c.id.get_ref().clone(), name: c.name.clone(), limit, channel_limits })
                }
                _ => cases = None,
            }
        }
        let mut day = |field: &str, v: &Option<Sp<String>>| -> Option<Option<chrono::NaiveDate>> {
            let Some(v) = v else { return Some(None) };
            match chrono::NaiveDate::parse_from_str(v.get_ref(), "%Y-%m-%d") {
                Ok(d) => Some(Some(d)),
                Err(e) => {
                    sink.at(v.span().start, format!("{field}: {:?}: {e} (expected YYYY-MM-DD)", v.get_ref()));
                    None
                }
            }
        };
        let effective_from = day("effective_from", &self.effective_from);
        let effective_to = day("effective_to", &self.effective_to);
        if let (Some(Some(f)), Some(Some(t)), Some(v)) = (effective_from, effective_to, &self.effective_to) {
            if t < f {
                sink.at(v.span().start, format!("effective_to: {t} is before effective_from {f}"));
            }
        }
        if self.limit_source.get_ref().trim().is_empty() {
            sink.at(self.limit_source.span().start, "limit_source: say where the limit comes from (law, article)");
        }
        let defaults = Policy::default();
        let cutoff = match &self.cutoff {
            None => Some(Cutoff::Calendar),
            Some(s) => match s.get_ref().trim() {
                "calendar" => Some(Cutoff::Calendar),
                "none" => Some(Cutoff::Disabled),
                other => match parse_minute_of_day(other) {
                    Some(m) => Some(Cutoff::At(m)),
                    None => {
                        sink.at(
                            s.span().start,
                            format!("cutoff: {other:?} is not \"HH:MM\", \"calendar\" or \"none\""),
                        );
                        None
                    }
                },
            },
        };
        let supplement = match &self.supplement {
            None => Some(defaults.supplement),
            Some(s) => parse_enum(
                sink,
                "supplement",
                s,
                &[("restart", SupplementPolicy::Restart), ("pause", SupplementPolicy::Pause)],
            ),
        };
        let window =
            parse_optional_limit(sink, "supplement_window", &self.supplement_window, defaults.supplement_window);
        let deadline =
            parse_optional_limit(sink, "supplement_deadline", &self.supplement_deadline, defaults.supplement_deadline);

        let mut steps = Vec::new();
        let mut step_spans: Vec<(Range<usize>, Range<usize>)> = Vec::new();
        for s in self.step {
            let span = s.span();
            let s = s.into_inner();
            let role = parse_enum(
                sink,
                "step.role",
                &s.role,
                &[("clerk", Role::Clerk), ("specialist", Role::Specialist), ("leader", Role::Leader)],
            );
            let allotment = parse_limit(sink, "step.allotment", &s.allotment);
            if s.id.get_ref().trim().is_empty() {
                sink.at(s.id.span().start, "step.id: must not be empty");
            }
            if s.agency.get_ref().trim().is_empty() {
                sink.at(s.agency.span().start, "step.agency: must not be empty");
            }
            let after_span = s.after.as_ref().map_or(span.clone(), |a| a.span());
            step_spans.push((span, after_span));
            if let (Some(role), Some(allotment)) = (role, allotment) {
                steps.push(Step {
                    id: s.id.get_ref().as_str().into(),
                    name: s.name,
                    agency: s.agency.into_inner().into(),
                    role,
                    allotment,
                    after: s.after.map(Sp::into_inner).unwrap_or_default().iter().map(|a| a.as_str().into()).collect(),
                });
            }
        }
        let mut documents = Vec::new();
        for d in self.document {
            let copy = match &d.copy {
                None => Some(None),
                Some(c) => parse_enum(
                    sink,
                    "document.copy",
                    c,
                    &[
                        ("original", CopyKind::Original),
                        ("certified_copy", CopyKind::CertifiedCopy),
                        ("electronic", CopyKind::Electronic),
                    ],
                )
                .map(Some),
            };
            if let Some(copy) = copy {
                documents.push(Document {
                    name: d.name,
                    required: d.required,
                    copy,
                    accepts: d.accepts,
                    digitisation_exempt: d.digitisation_exempt,
                    code: d.code,
                });
            }
        }
        let mut fees = Vec::new();
        for f in self.fee {
            if let Some(fee) = fee(sink, f) {
                fees.push(fee);
            }
        }
        let outside_area = match &self.outside_area {
            None => None,
            Some(v) => {
                let scope = parse_enum(
                    sink,
                    "outside_area",
                    v,
                    &[
                        ("province", motcua_core::BoundaryScope::Province),
                        ("nation", motcua_core::BoundaryScope::Nation),
                    ],
                );
                let source = self.outside_area_source.as_deref().map(str::trim).unwrap_or_default();
                if source.is_empty() {
                    sink.at(v.span().start, "outside_area_source: name the published list (decision, record) it is on");
                }
                scope.map(|s| (s, source.to_string()))
            }
        };
        if sink.problems.len() > before {
            return None;
        }
        let (
            Some(code),
            Some(level),
            Some(online),
            Some(limit),
            Some(cutoff),
            Some(supplement),
            Some(window),
            Some(deadline),
            Some(effective_from),
            Some(effective_to),
            Some(channel_limits),
            Some(cases),
        ) = (
            code,
            level,
            online,
            limit,
            cutoff,
            supplement,
            window,
            deadline,
            effective_from,
            effective_to,
            channel_limits,
            cases,
        )
        else {
            return None;
        };
        let procedure = Procedure {
            code,
            name: self.name.get_ref().clone(),
            sector: self.sector,
            level,
            online,
            integrated: self.integrated.unwrap_or(online != OnlineLevel::None),
            online_payment: self.online_payment,
            limit,
            limit_source: self.limit_source.into_inner(),
            steps,
            documents,
            fees,
            results: self
                .result
                .into_iter()
                .map(|r| ResultDocument { name: r.name, valid_days: r.valid_days })
                .collect(),
            policy: Policy {
                cutoff,
                supplement,
                supplement_window: window,
                supplement_deadline: deadline,
                pause_on_financial_obligation: self
                    .pause_on_financial_obligation
                    .unwrap_or(defaults.pause_on_financial_obligation),
                pause_on_suspension: self.pause_on_suspension.unwrap_or(defaults.pause_on_suspension),
                pause_on_outage: self.pause_on_outage.unwrap_or(defaults.pause_on_outage),
            },
            effective_from,
            effective_to,
            channel_limits,
            cases,
            case_required: self.case_required,
            outside_area,
        };
        if let Err(errors) = procedure.validate() {
            for e in errors {
                // Map the core's field path back to a place in the file.
                let offset = step_index(&e.field)
                    .and_then(|i| step_spans.get(i))
                    .map(|(table, after)| if e.field.ends_with(".after") { after.start } else { table.start })
                    .unwrap_or_else(
                        || if e.field == "name" { self.name.span().start } else { self.limit.span().start },
                    );
                sink.at(offset, format!("{}: {}", e.field.replacen("steps", "step", 1), e.message));
            }
            return None;
        }
        Some((procedure, code_line))
    }
}

fn step_index(field: &str) -> Option<usize> {
    let rest = field.strip_prefix("steps[")?;
    rest[..rest.find(']')?].parse().ok()
}

/// Parses the procedures of one file's text; `file` names it in problems.
pub fn parse_procedures(text: &str, file: &Path) -> Result<Vec<(Procedure, Source)>, CatalogError> {
    // One procedure per file (top-level keys) or many (`[[procedure]]`): look at the keys
    // first, then deserialize straight into the right shape so spans survive.
    let many = matches!(toml::from_str::<toml::Table>(text), Ok(t) if t.get("procedure").is_some_and(|p| p.is_array()));
    let parsed = if many {
        toml::from_str::<RawMany>(text).map(|m| m.procedure)
    } else {
        toml::from_str::<RawProcedure>(text).map(|p| vec![p])
    };
    let raws = parsed.map_err(|e| CatalogError { problems: vec![toml_problem(text, file, &e)] })?;
    let mut sink = Sink::new(text, file);
    let mut out = Vec::new();
    for r in raws {
        if let Some((p, line)) = r.build(&mut sink) {
            out.push((p, Source { file: file.to_path_buf(), line }));
        }
    }
    if sink.problems.is_empty() {
        Ok(out)
    } else {
        Err(CatalogError { problems: sink.problems })
    }
}

/// Procedures by code, with where each was defined: one or more versions per code, in order
/// of `effective_from` (an undated version first).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    procedures: BTreeMap<ProcedureCode, Vec<(Procedure, Source)>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// Loads a file or every `*.toml` below a folder, reporting every problem of every file.
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::new();
        catalog.extend_from(path)?;
        Ok(catalog)
    }

    /// Adds a file or folder of procedures. Versions of one code must follow one another: no
    /// two from the same day, no overlap, no gap (a version ending before the next starts).
    pub fn extend_from(&mut self, path: &Path) -> Result<(), CatalogError> {
        let mut problems = Vec::new();
        for file in crate::toml_files(path).map_err(|p| CatalogError { problems: vec![p] })? {
            let text = match motcua_calendar::read_input(&file) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem { file: file.clone(), line: 1, message: format!("cannot read: {e}") });
                    continue;
                }
            };
            match parse_procedures(&text, &file) {
                Ok(list) => {
                    for (p, source) in list {
                        if let Err(problem) = self.add(p, source) {
                            problems.push(problem);
                        }
                    }
                }
                Err(e) => problems.extend(e.problems),
            }
        }
        problems.extend(self.version_problems());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CatalogError { problems })
        }
    }

    /// Adds one parsed procedure; a second version of a code from the same day is refused,
    /// naming where the first is. Check [`Catalog::version_problems`] once all are in.
    pub fn add(&mut self, p: Procedure, source: Source) -> Result<(), Problem> {
        let versions = self.procedures.entry(p.code.clone()).or_default();
        if let Some((_, first)) = versions.iter().find(|(v, _)| v.effective_from == p.effective_from) {
            let from = p.effective_from.map_or("always".to_string(), |d| d.to_string());
            return Err(Problem {
                file: source.file.clone(),
                line: source.line,
                message: format!(
                    "code: procedure {} in force from {from} is already defined at {}:{}",
                    p.code,
                    first.file.display(),
                    first.line
                ),
            });
        }
        versions.push((p, source));
        versions.sort_by_key(|(v, _)| v.effective_from);
        Ok(())
    }

    /// Overlapping or gapped versions, at the later version's line. A version without
    /// `effective_to` runs until the next one starts.
    pub fn version_problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for versions in self.procedures.values() {
            for pair in versions.windows(2) {
                let ((a, _), (b, source)) = (&pair[0], &pair[1]);
                let (Some(start), Some(end)) = (b.effective_from, a.effective_to) else { continue };
                let at = |message: String| Problem { file: source.file.clone(), line: source.line, message };
                if end >= start {
                    out.push(at(format!(
                        "effective_from: the version from {start} overlaps the one before it (in force to {end})"
                    )));
                } else if end.succ_opt() != Some(start) {
                    out.push(at(format!(
                        "effective_from: a gap: the version before it ends on {end}, this one starts on {start}"
                    )));
                }
            }
        }
        out
    }

    /// Splits the version of `code` in force on `day` in two, the second from `day` (nothing
    /// when none is in force then, or one starts that day).
    pub(crate) fn split_at(&mut self, code: &ProcedureCode, day: chrono::NaiveDate) {
        let Some(versions) = self.procedures.get_mut(code) else { return };
        let spans = spans_of(versions);
        let Some(i) = spans.iter().position(|(s, e)| s.is_none_or(|s| s <= day) && e.is_none_or(|e| day <= e)) else {
            return;
        };
        if spans[i].0 == Some(day) {
            return;
        }
        let (mut second, source) = versions[i].clone();
        second.effective_from = Some(day);
        second.effective_to = spans[i].1.filter(|_| versions[i].0.effective_to.is_some());
        versions[i].0.effective_to = day.pred_opt();
        versions.insert(i + 1, (second, source));
    }

    /// Each version's first and last day (`None`: open), the last day of an undated end being
    /// the day before the next version starts.
    pub(crate) fn spans(&self, code: &ProcedureCode) -> Vec<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)> {
        self.procedures.get(code).map(|v| spans_of(v)).unwrap_or_default()
    }

    /// The `i`-th version of `code`, to change.
    pub(crate) fn version_mut(&mut self, code: &ProcedureCode, i: usize) -> Option<&mut Procedure> {
        self.procedures.get_mut(code)?.get_mut(i).map(|(p, _)| p)
    }

    /// Adds one procedure (from code rather than a file), replacing a version from the same day.
    pub fn insert(&mut self, procedure: Procedure, source: Source) {
        let versions = self.procedures.entry(procedure.code.clone()).or_default();
        versions.retain(|(v, _)| v.effective_from != procedure.effective_from);
        versions.push((procedure, source));
        versions.sort_by_key(|(v, _)| v.effective_from);
    }

    /// The procedure with `code` (its latest version).
    pub fn get(&self, code: &ProcedureCode) -> Option<&Procedure> {
        self.procedures.get(code).and_then(|v| v.last()).map(|(p, _)| p)
    }

    /// The version of `code` in force on `day`.
    pub fn get_on(&self, code: &ProcedureCode, day: chrono::NaiveDate) -> Option<&Procedure> {
        self.procedures.get(code)?.iter().rev().map(|(p, _)| p).find(|p| p.in_force(day))
    }

    /// Every version of `code`, in `effective_from` order (an undated one first).
    pub fn versions<'a>(&'a self, code: &ProcedureCode) -> impl Iterator<Item = &'a Procedure> + 'a {
        self.procedures.get(code).into_iter().flatten().map(|(p, _)| p)
    }

    /// Where `code` (its latest version) was defined.
    pub fn source(&self, code: &ProcedureCode) -> Option<&Source> {
        self.procedures.get(code).and_then(|v| v.last()).map(|(_, s)| s)
    }

    /// Every version of every procedure, in code order then `effective_from` order.
    pub fn iter(&self) -> impl Iterator<Item = &Procedure> {
        self.procedures.values().flatten().map(|(p, _)| p)
    }

    /// How many procedures.
    pub fn len(&self) -> usize {
        self.procedures.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.procedures.is_empty()
    }
}

fn spans_of(versions: &[(Procedure, Source)]) -> Vec<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)> {
    versions
        .iter()
        .enumerate()
        .map(|(i, (p, _))| {
            let next = versions.get(i + 1).and_then(|(n, _)| n.effective_from).and_then(|d| d.pred_opt());
            (p.effective_from, p.effective_to.or(next))
        })
        .collect()
}
