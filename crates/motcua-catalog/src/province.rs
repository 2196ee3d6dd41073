//! What a province sets over the national catalog: the fees its council prices (Law on Fees and
//! Charges 2015, Art. 21: registration fees of households, building permits, land certificates…)
//! and the shorter limits it decides (a province may cut a procedure's time, never lengthen it:
//! Decree 118/2025/NĐ-CP Art. 4). One file a province, dated entries, each with its source:
//!
//! ```toml
//! province = "01"                       # the province's unit code in the register
//! name = "Thành phố Hà Nội"
//!
//! [[fee]]
//! procedure = "1.001612"                # the procedure's code
//! fee = "Lệ phí đăng ký hộ kinh doanh"  # the fee's name in the procedure (a `council` one, or any)
//! amount = "100000"
//! online = "0"                          # optional: the amount online
//! effective_from = "2026-07-25"
//! effective_to = "2027-12-31"           # optional
//! source = "Nghị quyết 78/2026/NQ-HĐND TP Hà Nội"
//!
//! [[limit]]
//! procedure = "1.004222"
//! limit = "5 working days"              # and/or limit_online, limit_postal
//! effective_from = "2026-01-01"
//! source = "Quyết định …/QĐ-UBND"
//!
//! [[outside_area]]                      # the province's list of procedures received
//! procedure = "1.004194"                # outside their competent unit's area (Decree
//! effective_from = "2026-08-05"         # 309/2026/NĐ-CP): receivable at any desk of the
//! source = "Quyết định …/QĐ-UBND"       # province
//! ```
//!
//! Applying a file splits the procedure's versions at each entry's dates (a dossier follows the
//! version in force on the day of its receipt, so a council's resolution from 25/7 makes a new
//! version from 25/7) and sets the amounts and limits of the versions the entry covers. The
//! result is checked like any procedure: a shorter limit that the steps' allotments exceed is an
//! error at the entry's line.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use motcua_calendar::Limit;
use motcua_core::{Channel, Procedure, ProcedureCode, Vnd};
use serde::Deserialize;

use crate::error::{toml_problem, CatalogError, Problem, Sink};
use crate::procedures::{parse_limit, vnd, Catalog};

type Sp<T> = toml::Spanned<T>;

/// Most entries in one province file.
pub const MAX_ENTRIES: usize = 20_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    province: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    fee: Vec<RawFee>,
    #[serde(default)]
    limit: Vec<RawLimit>,
    #[serde(default)]
    outside_area: Vec<RawOutsideArea>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutsideArea {
    procedure: Sp<String>,
    effective_from: Sp<String>,
    effective_to: Option<Sp<String>>,
    source: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFee {
    procedure: Sp<String>,
    fee: Sp<String>,
    amount: Sp<String>,
    online: Option<Sp<String>>,
    effective_from: Sp<String>,
    effective_to: Option<Sp<String>>,
    source: Sp<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    procedure: Sp<String>,
    limit: Option<Sp<String>>,
    limit_online: Option<Sp<String>>,
    limit_postal: Option<Sp<String>>,
    effective_from: Sp<String>,
    effective_to: Option<Sp<String>>,
    source: Sp<String>,
}

/// One province's file, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvinceFile {
    /// The province's unit code.
    pub province: String,
    /// Its name.
    pub name: String,
    /// Where it was read.
    pub file: PathBuf,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

/// One dated entry of a province file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The procedure it applies to.
    pub procedure: ProcedureCode,
    /// Its first day.
    pub from: NaiveDate,
    /// Its last day, if it has one.
    pub to: Option<NaiveDate>,
    /// What it sets.
    pub set: Setting,
    /// Its source (the council's resolution, the committee's decision).
    pub source: String,
    /// Its line in the file.
    pub line: usize,
}

/// What an entry sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// A fee's amount (and its online amount), by the fee's name.
    Fee {
        /// The fee's name in the procedure.
        name: String,
        /// Its amount.
        amount: Vnd,
        /// Its amount online, if different.
        online: Option<Vnd>,
    },
    /// On the province's list of procedures received outside their competent unit's area (at
    /// any desk of the province), unless a national list already reaches further.
    OutsideArea,
    /// Limits, each no longer than the national one.
    Limit {
        /// At the counter and any channel without its own.
        limit: Option<Limit>,
        /// Online and by post.
        channels: Vec<(Channel, Limit)>,
    },
}

/// Parses a province file's text; `file` names it in problems.
pub fn parse_province(text: &str, file: &Path) -> Result<ProvinceFile, CatalogError> {
    let raw: RawFile =
        toml::from_str(text).map_err(|e| CatalogError { problems: vec![toml_problem(text, file, &e)] })?;
    let mut sink = Sink::new(text, file);
    if raw.province.trim().is_empty() {
        sink.at(0, "province: the province's unit code must not be empty");
    }
    if raw.fee.len() + raw.limit.len() + raw.outside_area.len() > MAX_ENTRIES {
        sink.at(0, format!("at most {MAX_ENTRIES} entries in one file"));
        return Err(CatalogError { problems: sink.problems });
    }
    let mut entries = Vec::new();
    for f in &raw.fee {
        let head = dated(&mut sink, &f.procedure, &f.effective_from, &f.effective_to, &f.source);
        let amount = vnd(&mut sink, "fee.amount", &f.amount);
        let online = f.online.as_ref().map(|o| vnd(&mut sink, "fee.online", o));
        if f.fee.get_ref().trim().is_empty() {
            sink.at(f.fee.span().start, "fee.fee: the fee's name in the procedure must not be empty");
            continue;
        }
        let (Some((procedure, from, to, source, line)), Some(amount)) = (head, amount) else { continue };
        let Some(online) = online.map(|o| o.ok_or(())).transpose().ok() else { continue };
        let set = Setting::Fee { name: f.fee.get_ref().clone(), amount, online };
        entries.push(Entry { procedure, from, to, set, source, line });
    }
    for l in &raw.limit {
        let head = dated(&mut sink, &l.procedure, &l.effective_from, &l.effective_to, &l.source);
        let limit = l.limit.as_ref().map(|v| parse_limit(&mut sink, "limit.limit", v));
        let mut channels = Some(Vec::new());
        for (field, channel, v) in
            [("limit_online", Channel::Online, &l.limit_online), ("limit_postal", Channel::Postal, &l.limit_postal)]
        {
            let Some(v) = v else { continue };
            match (parse_limit(&mut sink, &format!("limit.{field}"), v), channels.as_mut()) {
                (Some(x), Some(all)) => all.push((channel, x)),
                _ => channels = None,
            }
        }
        if l.limit.is_none() && l.limit_online.is_none() && l.limit_postal.is_none() {
            sink.at(l.procedure.span().start, "limit: give limit, limit_online or limit_postal");
            continue;
        }
        let (Some((procedure, from, to, source, line)), Some(channels)) = (head, channels) else { continue };
        let Some(limit) = limit.map(|x| x.ok_or(())).transpose().ok() else { continue };
        entries.push(Entry { procedure, from, to, set: Setting::Limit { limit, channels }, source, line });
    }
    for o in &raw.outside_area {
        let Some((procedure, from, to, source, line)) =
            dated(&mut sink, &o.procedure, &o.effective_from, &o.effective_to, &o.source)
        else {
            continue;
        };
        entries.push(Entry { procedure, from, to, set: Setting::OutsideArea, source, line });
    }
    if !sink.problems.is_empty() {
        return Err(CatalogError { problems: sink.problems });
    }
    entries.sort_by_key(|e| e.line);
    Ok(ProvinceFile { province: raw.province, name: raw.name, file: file.to_path_buf(), entries })
}

/// An entry's procedure, dates, source and line; `None` when any is wrong (said in `sink`).
fn dated(
    sink: &mut Sink<'_>,
    procedure: &Sp<String>,
    from: &Sp<String>,
    to: &Option<Sp<String>>,
    source: &Sp<String>,
) -> Option<(ProcedureCode, NaiveDate, Option<NaiveDate>, String, usize)> {
    let line = crate::error::line_of(sink.text, procedure.span().start);
    let code = match procedure.get_ref().parse::<ProcedureCode>() {
        Ok(c) => Some(c),
        Err(e) => {
            sink.at(procedure.span().start, format!("procedure: {e}"));
            None
        }
    };
    let mut day = |field: &str, v: &Sp<String>| match NaiveDate::parse_from_str(v.get_ref(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            sink.at(v.span().start, format!("{field}: {:?} is not a date (YYYY-MM-DD)", v.get_ref()));
            None
        }
    };
    let start = day("effective_from", from);
    let end = to.as_ref().map(|t| day("effective_to", t));
    if source.get_ref().trim().is_empty() {
        sink.at(source.span().start, "source: say where the province set it (its resolution or decision)");
        return None;
    }
    let (code, start) = (code?, start?);
    let end = end.map(|e| e.ok_or(())).transpose().ok()?;
    if let (Some(e), Some(t)) = (end, to) {
        if e < start {
            sink.at(t.span().start, format!("effective_to: {e} is before effective_from {start}"));
            return None;
        }
    }
    Some((code, start, end, source.get_ref().trim().to_string(), line))
}

/// Whether a province's `limit` is no longer than the national `national` (`Err`: why not).
fn not_longer(limit: Limit, national: Limit) -> Result<(), String> {
    use Limit::*;
    let fits = match (limit, national) {
        (_, NoDueTime) => true,
        (NoDueTime, _) => false,
        (WorkingDays { quarters: a }, WorkingDays { quarters: b }) => a <= b,
        (WorkingMinutes(a), WorkingMinutes(b)) => a <= b,
        (WorkingMinutes(a), WorkingDays { quarters: b }) => u64::from(a) <= u64::from(b) * 120,
        (CalendarDays(a), CalendarDays(b)) => a <= b,
        (SameDay, SameDay | WorkingDays { .. } | CalendarDays(_)) => true,
        (WorkingMinutes(_), SameDay) => false,
        _ => {
            return Err(format!(
                "{limit} cannot be compared with the national limit {national}: give it in the same unit"
            ))
        }
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{limit} is longer than the national limit {national}: a province may only shorten it"))
    }
}

impl Catalog {
    /// Loads a province file and applies it (see [`Catalog::apply_province`]).
    pub fn extend_with_province(&mut self, path: &Path) -> Result<ProvinceFile, CatalogError> {
        let text = motcua_calendar::read_input(path).map_err(|e| CatalogError {
            problems: vec![Problem { file: path.to_path_buf(), line: 1, message: format!("cannot read: {e}") }],
        })?;
        let province = parse_province(&text, path)?;
        let problems = self.apply_province(&province);
        if problems.is_empty() {
            Ok(province)
        } else {
            Err(CatalogError { problems })
        }
    }

    /// Applies a province's entries, in file order: each splits the versions of its procedure
    /// at its first day (and the day after its last) and sets its fee or limits on the versions
    /// it covers. Problems name the entry's line: an unknown procedure or fee, a limit longer
    /// than the national one, a procedure the result makes invalid. Nothing is changed when
    /// there is a problem.
    pub fn apply_province(&mut self, province: &ProvinceFile) -> Vec<Problem> {
        let mut next = self.clone();
        let mut problems = Vec::new();
        for entry in &province.entries {
            let at = |message: String| Problem { file: province.file.clone(), line: entry.line, message };
            if next.versions(&entry.procedure).next().is_none() {
                problems.push(at(format!("procedure: {} is not in the catalog", entry.procedure)));
                continue;
            }
            next.split_at(&entry.procedure, entry.from);
            if let Some(after) = entry.to.and_then(|t| t.succ_opt()) {
                next.split_at(&entry.procedure, after);
            }
            let mut touched = 0;
            let spans = next.spans(&entry.procedure);
            for (i, (start, end)) in spans.into_iter().enumerate() {
                // After the splits a version lies wholly inside the entry's days or wholly out.
                let inside =
                    start.is_some_and(|s| s >= entry.from) && entry.to.is_none_or(|t| end.is_some_and(|e| e <= t));
                if !inside {
                    continue;
                }
                touched += 1;
                let Some(p) = next.version_mut(&entry.procedure, i) else { continue };
                if let Err(message) = set(p, entry) {
                    problems.push(at(message));
                    break;
                }
                if let Err(errors) = p.validate() {
                    for e in errors {
                        problems.push(at(format!("{}: after the province's entry, {}", e.field, e.message)));
                    }
                    break;
                }
            }
            if touched == 0 {
                problems.push(at(format!(
                    "effective_from: no version of {} is in force from {}",
                    entry.procedure, entry.from
                )));
            }
        }
        problems.extend(next.version_problems());
        if problems.is_empty() {
            *self = next;
        }
        problems
    }
}

/// Sets an entry on one version.
fn set(p: &mut Procedure, entry: &Entry) -> Result<(), String> {
    let cited = |p: &mut Procedure| {
        if !p.limit_source.contains(&entry.source) {
            p.limit_source = format!("{}; {}", p.limit_source, entry.source);
        }
    };
    match &entry.set {
        Setting::Fee { name, amount, online } => {
            let Some(f) = p.fees.iter_mut().find(|f| f.name == *name) else {
                let names: Vec<&str> = p.fees.iter().map(|f| f.name.as_str()).collect();
                return Err(format!("fee: {} has no fee named {name:?} (it has: {})", p.code, names.join(", ")));
            };
            f.amount = *amount;
            f.online = *online;
            f.unpriced = false;
            f.source = entry.source.clone();
        }
        Setting::OutsideArea => {
            // A national list reaches every desk already; a province's adds its own desks.
            if !matches!(p.outside_area, Some((motcua_core::BoundaryScope::Nation, _))) {
                p.outside_area = Some((motcua_core::BoundaryScope::Province, entry.source.clone()));
            }
        }
        Setting::Limit { limit, channels } => {
            if let Some(l) = limit {
                not_longer(*l, p.limit).map_err(|m| format!("limit: {m}"))?;
                p.limit = *l;
            }
            for (channel, l) in channels {
                not_longer(*l, p.limit_for(*channel)).map_err(|m| format!("limit_{}: {m}", channel_name(*channel)))?;
                p.channel_limits.retain(|(c, _)| c != channel);
                p.channel_limits.push((*channel, *l));
            }
            cited(p);
        }
    }
    Ok(())
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Online => "online",
        Channel::Postal => "postal",
        _ => "direct",
    }
}
