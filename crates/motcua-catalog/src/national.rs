//! Import from the national procedure database (*Cơ sở dữ liệu quốc gia về thủ tục hành chính*):
//! the records the national portal serves for each procedure, turned into motcua's catalog files.
//!
//! A record carries, per submission method (`DIRECT`, `ONLINE`, `POSTAL`), a processing time
//! with its unit (`WORKING_DAY`, `DAY`, `HOUR`, `MONTH`, or `OTHER` with free text) and its fees
//! by type (`FEE` *lệ phí*, `SERVICE_FEE` *phí*, `PRICE_LEVEL` *giá*); execution cases with their
//! components (official codes, originals and copies); levels (`isWard`, `isProvince`,
//! `isMinistry`); whether it is received regardless of boundary (`isNonTerritorial`) and fully
//! online (`isFullProcess`); results and legal bases.
//!
//! [`import_record`] makes one catalog file of one record and says how: **as is**, **with stated
//! assumptions** (each named with its field), or **not importable** (the field and the reason).
//! A limit is never guessed: a free-text limit is read only where the Vietnamese says it plainly
//! ([`parse_free_limit`]), otherwise the record is not importable. [`import_into`] writes the
//! files of many records into a catalog folder: re-importing an unchanged record leaves its file
//! alone; a changed one becomes a new version of the procedure, dated by the record.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use motcua_calendar::Limit;
use motcua_core::{Channel, ProcedureCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Largest input read (a JSON record, a JSON-lines file): 64 MiB.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// Most records read from one input.
pub const MAX_RECORDS: usize = 100_000;

/// A record of the national procedure database, as the national portal serves it (the fields
/// motcua reads; the rest are ignored). Absent fields take their empty value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NationalRecord {
    /// The procedure's code (`1.002755`).
    pub code: String,
    /// Its official name.
    pub name: String,
    /// Performed at commune level.
    pub is_ward: bool,
    /// Performed at province level.
    pub is_province: bool,
    /// Performed by a ministry.
    pub is_ministry: bool,
    /// Fully online (*toàn trình*).
    pub is_full_process: bool,
    /// Not offered online.
    pub is_offline_only: bool,
    /// Received regardless of administrative boundary.
    pub is_non_territorial: bool,
    /// Its sector.
    pub category: Option<Named>,
    /// Per submission method: limit and fees.
    pub execution_methods: Vec<Method>,
    /// Component lists, one per case.
    pub execution_cases: Vec<ExecutionCase>,
    /// What it results in.
    pub results_details: Vec<Named>,
    /// The legal texts it rests on.
    pub legal_basises_details: Vec<Named>,
    /// Executing agencies, as text.
    pub executing_agencies: String,
    /// Sub-procedures with codes of their own (`1.000080.01`).
    pub cases: Vec<SubCase>,
    /// Last update, milliseconds since 1970 (UTC).
    pub updated_at: Option<i64>,
}

/// Something with a name and a code.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Named {
    /// Name.
    pub name: String,
    /// Code.
    pub code: Option<String>,
}

/// One submission method.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Method {
    /// `DIRECT`, `ONLINE` or `POSTAL`.
    pub submission_method: String,
    /// A number, or free text when the unit is `OTHER`.
    pub processing_time: serde_json::Value,
    /// `WORKING_DAY`, `DAY`, `HOUR`, `MONTH` or `OTHER`.
    pub processing_time_unit: String,
    /// Free text about the method (often where an `OTHER` limit is spelt out).
    pub description: String,
    /// Its fees.
    pub fees: Vec<FeeRecord>,
}

/// A fee of a method.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FeeRecord {
    /// `FEE`, `SERVICE_FEE` or `PRICE_LEVEL`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Amount in đồng, when one is given.
    pub value: Option<serde_json::Number>,
    /// What it is for, as text.
    pub description: String,
}

/// One execution case: a list of components.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecutionCase {
    /// Its name.
    pub name: String,
    /// Its components.
    pub profile_components: Vec<Component>,
}

/// A component (*thành phần hồ sơ*).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Component {
    /// Its name.
    pub name: String,
    /// Its official code.
    pub code: String,
    /// Originals asked for.
    pub original_qty: u32,
    /// Copies asked for.
    pub copy_qty: u32,
    /// Whether it is required.
    pub required: bool,
}

/// A sub-procedure with a code of its own.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SubCase {
    /// Its code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// How a record was imported.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Verdict {
    /// Everything motcua reads was taken as the record says.
    AsIs,
    /// Imported, with assumptions stated in the notes.
    WithAssumptions,
    /// Not imported: a note says which field and why.
    NotImportable,
}

impl Verdict {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::AsIs => "as-is",
            Verdict::WithAssumptions => "with-assumptions",
            Verdict::NotImportable => "not-importable",
        }
    }
}

/// A note on one field of a record.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Note {
    /// The record's field (`executionMethods[ONLINE].processingTime`).
    pub field: String,
    /// What was assumed, or why it could not be imported.
    pub reason: String,
    /// Whether it stops the import.
    pub blocking: bool,
}

/// One record imported: the catalog file's text (absent when not importable) and the notes.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The record's code as given.
    pub code: String,
    /// The catalog text of this version (one `[[procedure]]`), when importable.
    pub toml: Option<String>,
    /// What was assumed or refused.
    pub notes: Vec<Note>,
    /// Whether an `OTHER` limit was read from its text.
    pub parsed_free_text: bool,
    /// The day the record was last updated (Vietnam time), when it says.
    pub updated: Option<NaiveDate>,
}

impl Imported {
    /// How it was imported.
    pub fn verdict(&self) -> Verdict {
        if self.toml.is_none() || self.notes.iter().any(|n| n.blocking) {
            Verdict::NotImportable
        } else if self.notes.is_empty() {
            Verdict::AsIs
        } else {
            Verdict::WithAssumptions
        }
    }
}

/// Why records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file or folder could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A record is not JSON of the expected shape.
    #[error("{path}:{line}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// The line (1 for a whole-file record).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> ImportError {
    ImportError::Io { path: path.to_path_buf(), message: motcua_calendar::terminal_safe(&e.to_string()).into_owned() }
}

/// A limit read from free text, and what else the text says.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FreeLimit {
    /// The limit of the ordinary case.
    pub limit: Limit,
    /// A different limit the text gives for a named case (`trường hợp phải xác minh`), kept as
    /// a note: motcua has no per-case limits yet.
    pub other_case: Option<(String, Limit)>,
}

/// Reads a limit from Vietnamese free text where it says it plainly: "07 ngày làm việc kể từ
/// ngày nhận đủ hồ sơ hợp lệ", "không quá 05 ngày làm việc", "trong ngày", "ngay sau khi nhận
/// đủ hồ sơ", "12,5 ngày làm việc", "03 ngày làm việc; trường hợp phải xác minh thì không quá 05
/// ngày làm việc" (the ordinary case, and the other case noted), "không quá 15 ngày làm việc.
/// Trong đó: …" (the total; what follows breaks it down). `None` for anything else: a text
/// with several limits and no such structure, a number in words, months, or no limit at all.
///
/// ```
/// use motcua_catalog::national::parse_free_limit;
/// use motcua_calendar::Limit;
/// let l = parse_free_limit("Không quá 05 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ").unwrap();
/// assert_eq!(l.limit, Limit::WorkingDays { quarters: 20 });
/// assert_eq!(parse_free_limit("Trong ngày").unwrap().limit, Limit::SameDay);
/// assert!(parse_free_limit("Theo mô tả").is_none());
/// ```
pub fn parse_free_limit(text: &str) -> Option<FreeLimit> {
    let lower = text.to_lowercase();
    let t: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let amounts = amount_pattern();
    let found: Vec<_> = amounts.captures_iter(&t).collect();
    if found.is_empty() {
        let same_day =
            ["trong ngày", "ngay sau khi nhận đủ hồ sơ", "ngay sau khi nhận hồ sơ", "ngay khi nhận đủ hồ sơ"];
        if same_day.iter().any(|p| t.contains(p)) && !t.contains("tháng") {
            return Some(FreeLimit { limit: Limit::SameDay, other_case: None });
        }
        return None;
    }
    let limit_of = |c: &regex::Captures<'_>| -> Option<Limit> {
        let number = c.get(1)?.as_str().replace(',', ".");
        let unit = c.get(2)?.as_str();
        let unit = match unit {
            "ngày làm việc" => "working days",
            "giờ làm việc" => "working hours",
            "ngày" => "days",
            _ => return None,
        };
        format!("{number} {unit}").parse().ok()
    };
    let first = limit_of(&found[0])?;
    if found.len() == 1 {
        return Some(FreeLimit { limit: first, other_case: None });
    }
    let after_first = &t[found[0].get(0)?.end()..];
    // "…. Trong đó: …": the total, then how it is split.
    if after_first.trim_start_matches(['.', ' ', ',', ';']).starts_with("trong đó") {
        return Some(FreeLimit { limit: first, other_case: None });
    }
    // "N …; trường hợp X thì (không quá) M …": the ordinary case and one other.
    if found.len() == 2 {
        let between = &t[found[0].get(0)?.end()..found[1].get(0)?.start()];
        if let Some(at) = between.find("trường hợp") {
            let case = between[at..].trim_end_matches([' ']).trim_end_matches("không quá").trim();
            let case = case.trim_end_matches(" thì").trim_end_matches(',').trim();
            return Some(FreeLimit { limit: first, other_case: Some((case.to_string(), limit_of(&found[1])?)) });
        }
    }
    None
}

fn amount_pattern() -> &'static regex::Regex {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| {
        // A number (decimal comma or point) then a unit; "tháng" (months) is not a unit motcua has.
        regex::Regex::new(r"(\d+(?:[.,]\d+)?)\s*(ngày làm việc|giờ làm việc|ngày|tháng|giờ)")
            .unwrap_or_else(|_| unreachable!("a constant pattern"))
    })
}

/// Vietnam's offset: records' times are UTC milliseconds.
fn vietnam_date(ms: i64) -> Option<NaiveDate> {
    chrono::DateTime::from_timestamp_millis(ms.checked_add(7 * 3_600_000)?).map(|d| d.date_naive())
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A single-line comment of free text (bounded, control characters dropped).
fn comment(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat: String = flat.chars().filter(|c| !c.is_control()).take(300).collect();
    flat
}

/// The limit of one method, or why there is none.
fn method_limit(m: &Method, field: &str, notes: &mut Vec<Note>, free: &mut bool) -> Option<Limit> {
    let number = match &m.processing_time {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().replace(',', ".").parse::<f64>().ok(),
        _ => None,
    };
    let refuse = |notes: &mut Vec<Note>, reason: String| {
        notes.push(Note { field: field.to_string(), reason, blocking: true });
        None
    };
    let unit = match m.processing_time_unit.as_str() {
        "WORKING_DAY" => "working days",
        "DAY" => "days",
        "HOUR" => "working hours",
        "MONTH" => return refuse(notes, "a limit in months: motcua counts working days, hours or days".into()),
        "OTHER" => {
            let text = match &m.processing_time {
                serde_json::Value::String(s) => s.as_str(),
                _ => "",
            };
            for candidate in [text, m.description.as_str()] {
                if let Some(f) = parse_free_limit(candidate) {
                    *free = true;
                    notes.push(Note {
                        field: field.to_string(),
                        reason: format!("unit OTHER: read {} from the text {:?}", f.limit, comment(candidate)),
                        blocking: false,
                    });
                    if let Some((case, l)) = f.other_case {
                        notes.push(Note {
                            field: field.to_string(),
                            reason: format!(
                                "the text gives another case, {case:?}: {l} (not imported: no per-case limits)"
                            ),
                            blocking: false,
                        });
                    }
                    return Some(f.limit);
                }
            }
            return refuse(
                notes,
                format!(
                    "unit OTHER and no limit said plainly in {:?} or the method's description",
                    comment(&m.processing_time.to_string())
                ),
            );
        }
        other => return refuse(notes, format!("unknown unit {other:?}")),
    };
    let Some(number) = number else {
        return refuse(notes, format!("processing time {} is not a number", m.processing_time));
    };
    if number <= 0.0 {
        return refuse(notes, format!("processing time {number} {unit}: no limit given"));
    }
    match format!("{number} {unit}").parse::<Limit>() {
        Ok(l) => {
            if unit == "working hours" {
                notes.push(Note {
                    field: field.to_string(),
                    reason: "unit HOUR read as working hours".into(),
                    blocking: false,
                });
            }
            Some(l)
        }
        Err(e) => refuse(notes, e.to_string()),
    }
}

fn channel_of(method: &str) -> Option<Channel> {
    match method {
        "DIRECT" => Some(Channel::Direct),
        "ONLINE" => Some(Channel::Online),
        "POSTAL" => Some(Channel::Postal),
        _ => None,
    }
}

/// A method's entries: its channel, its name in the record, and each entry's limit.
type MethodEntries<'a> = (Channel, &'a str, Vec<(Limit, &'a Method)>);

/// A case read from a method listed once per case: its name, limit and channels' limits.
type ImportedCase = (String, Limit, Vec<(Channel, Limit)>);

/// Makes the catalog text of one record (one `[[procedure]]`, no effective dates: the caller
/// dates versions), with notes on what was assumed or refused.
pub fn import_record(record: &NationalRecord) -> Imported {
    let mut notes = Vec::new();
    let mut free = false;
    let updated = record.updated_at.and_then(vietnam_date);
    let mut out =
        Imported { code: record.code.clone(), toml: None, notes: Vec::new(), parsed_free_text: false, updated };
    let block = |notes: &mut Vec<Note>, field: &str, reason: String| {
        notes.push(Note { field: field.into(), reason, blocking: true });
    };
    if let Err(e) = record.code.parse::<ProcedureCode>() {
        block(&mut notes, "code", e.to_string());
    }
    if record.name.trim().is_empty() {
        block(&mut notes, "name", "empty".into());
    }
    // Level: the lowest level that performs it.
    let level = match (record.is_ward, record.is_province, record.is_ministry) {
        (true, also, _) => {
            if also {
                notes.push(Note {
                    field: "isProvince".into(),
                    reason: "performed at commune and province level: imported as commune".into(),
                    blocking: false,
                });
            }
            "commune"
        }
        (false, true, _) => "province",
        (false, false, true) => "ministry",
        (false, false, false) => {
            notes.push(Note {
                field: "isWard/isProvince/isMinistry".into(),
                reason: "no level given: imported as province".into(),
                blocking: false,
            });
            "province"
        }
    };
    let has_online = record.execution_methods.iter().any(|m| m.submission_method == "ONLINE");
    let online = if record.is_offline_only || !has_online {
        "none"
    } else if record.is_full_process {
        "full"
    } else {
        "partial"
    };
    // Limits by method.
    let mut limits: Vec<(Channel, Limit)> = Vec::new();
    if record.execution_methods.is_empty() {
        block(&mut notes, "executionMethods", "no submission method, so no limit".into());
    }
    // A method may be listed several times (one entry per case): entries that agree give the
    // method's limit; entries that differ are cases motcua has no per-case limits for yet.
    let mut per_method: Vec<MethodEntries<'_>> = Vec::new();
    for (i, m) in record.execution_methods.iter().enumerate() {
        let field = format!("executionMethods[{i}:{}].processingTime", m.submission_method);
        let Some(channel) = channel_of(&m.submission_method) else {
            block(&mut notes, &field, format!("unknown submission method {:?}", m.submission_method));
            continue;
        };
        if let Some(l) = method_limit(m, &field, &mut notes, &mut free) {
            match per_method.iter_mut().find(|(c, _, _)| *c == channel) {
                Some((_, _, all)) => all.push((l, m)),
                None => per_method.push((channel, m.submission_method.as_str(), vec![(l, m)])),
            }
        }
    }
    let uniform = per_method.iter().all(|(_, _, all)| all.iter().all(|(l, _)| *l == all[0].0));
    let mut cases: Vec<ImportedCase> = Vec::new();
    if uniform {
        limits.extend(per_method.iter().map(|(c, _, all)| (*c, all[0].0)));
    } else {
        // A method listed once per case, with the case's limit: the k-th entry of every method
        // is the k-th case (the portal lists them in one order), when every method lists as many.
        let n = per_method.first().map_or(0, |(_, _, all)| all.len());
        if per_method.iter().any(|(_, _, all)| all.len() != n) {
            let counts: Vec<String> = per_method.iter().map(|(_, name, all)| format!("{name} {}", all.len())).collect();
            block(
                &mut notes,
                "executionMethods",
                format!(
                    "one method listed per case, but the methods list different numbers of cases ({})",
                    counts.join(", ")
                ),
            );
        } else {
            let base = per_method
                .iter()
                .position(|(c, _, _)| *c == Channel::Direct)
                .or_else(|| per_method.iter().position(|(c, _, _)| *c == Channel::Postal))
                .unwrap_or(0);
            for k in 0..n {
                let (limit, method) = per_method[base].2[k];
                let mut name = comment(&method.description).chars().take(200).collect::<String>();
                if name.is_empty() {
                    name = format!("Trường hợp {}", k + 1);
                }
                let own: Vec<(Channel, Limit)> = per_method
                    .iter()
                    .filter(|(c, _, all)| all[k].0 != limit && matches!(c, Channel::Online | Channel::Postal))
                    .map(|(c, _, all)| (*c, all[k].0))
                    .collect();
                cases.push((name, limit, own));
            }
            notes.push(Note {
                field: "executionMethods".into(),
                reason: format!(
                    "each method listed once per case: {n} cases, matched across methods in the order listed; a receipt names its case"
                ),
                blocking: false,
            });
            if let Some((_, l, _)) = cases.first() {
                limits.push((per_method[base].0, *l));
            }
        }
    }
    let counter = limits
        .iter()
        .find(|(c, _)| *c == Channel::Direct)
        .or_else(|| limits.iter().find(|(c, _)| *c == Channel::Postal))
        .or_else(|| limits.first())
        .map(|(_, l)| *l);
    out.parsed_free_text = free;
    if notes.iter().any(|n| n.blocking) {
        out.notes = notes;
        return out;
    }
    let Some(limit) = counter else {
        out.notes = notes;
        return out;
    };
    let mut t = String::new();
    let _ = writeln!(t, "[[procedure]]");
    let _ = writeln!(t, "code = {}", quote(&record.code));
    let _ = writeln!(t, "name = {}", quote(record.name.trim()));
    if let Some(sector) = record.category.as_ref().filter(|c| !c.name.trim().is_empty()) {
        let _ = writeln!(t, "sector = {}", quote(sector.name.trim()));
    }
    let _ = writeln!(t, "level = {}", quote(level));
    let _ = writeln!(t, "online = {}", quote(online));
    let _ = writeln!(t, "limit = {}", quote(&limit.to_string()));
    for (channel, field) in [(Channel::Online, "limit_online"), (Channel::Postal, "limit_postal")] {
        if let Some((_, l)) = limits.iter().find(|(c, l)| *c == channel && *l != limit) {
            let _ = writeln!(t, "{field} = {}", quote(&l.to_string()));
        }
    }
    let bases: Vec<String> = record
        .legal_basises_details
        .iter()
        .filter_map(|b| b.code.as_deref().map(|c| c.trim().trim_end_matches('.').trim().to_string()))
        .filter(|c| !c.is_empty())
        .collect();
    let mut source = format!("CSDL quốc gia về TTHC, thủ tục {}", record.code);
    if !bases.is_empty() {
        let _ = write!(source, "; căn cứ: {}", bases.join(", "));
    }
    let _ = writeln!(t, "limit_source = {}", quote(&source));
    if record.is_non_territorial {
        // Received regardless of administrative boundary: on the national list that lets it be
        // received outside its competent unit's area (Decree 309/2026/NĐ-CP).
        let _ = writeln!(t, "outside_area = \"nation\"");
        let _ = writeln!(
            t,
            "outside_area_source = {}",
            quote(&format!("CSDL quốc gia về TTHC, thủ tục {} (isNonTerritorial)", record.code))
        );
    }
    if !cases.is_empty() {
        let _ = writeln!(t, "case_required = true");
    }
    for (k, (name, limit, own)) in cases.iter().enumerate() {
        let _ = writeln!(t, "\n[[procedure.case]]\nid = \"truong-hop-{}\"", k + 1);
        let _ = writeln!(t, "name = {}", quote(name));
        let _ = writeln!(t, "limit = {}", quote(&limit.to_string()));
        for (channel, l) in own {
            let field = if *channel == Channel::Online { "limit_online" } else { "limit_postal" };
            let _ = writeln!(t, "{field} = {}", quote(&l.to_string()));
        }
    }
    if !record.executing_agencies.trim().is_empty() {
        let _ = writeln!(t, "# Executing agencies: {}", comment(&record.executing_agencies));
    }
    if !record.cases.is_empty() {
        let codes: Vec<&str> = record.cases.iter().map(|c| c.code.as_str()).collect();
        notes.push(Note {
            field: "cases".into(),
            reason: format!(
                "{} sub-procedures with codes of their own ({}) not imported",
                codes.len(),
                codes.join(", ")
            ),
            blocking: false,
        });
    }
    // Components: one case's as the record says; several cases' listed together, none
    // required (motcua has no per-case lists yet).
    let several = record.execution_cases.iter().filter(|c| !c.profile_components.is_empty()).count() > 1;
    if several {
        notes.push(Note {
            field: "executionCases".into(),
            reason: format!(
                "{} execution cases: their components listed together, none required",
                record.execution_cases.len()
            ),
            blocking: false,
        });
    }
    let mut seen = std::collections::HashSet::new();
    let mut shortened = 0;
    for case in &record.execution_cases {
        for c in &case.profile_components {
            let mut name = comment(&c.name);
            if name.is_empty() || !seen.insert((c.code.clone(), name.clone())) {
                continue;
            }
            // A receipt names its components within the engine's bound: a longer text is cut
            // (its official code, kept beside it, says which component it is).
            if name.chars().count() > motcua_core::MAX_NAME_CHARS {
                name = name.chars().take(motcua_core::MAX_NAME_CHARS - 1).collect::<String>() + "…";
                shortened += 1;
            }
            let _ = writeln!(t, "\n[[procedure.document]]");
            let _ = writeln!(t, "name = {}", quote(&name));
            let _ = writeln!(t, "required = {}", c.required && !several);
            if c.original_qty > 0 {
                let _ = writeln!(t, "copy = \"original\"");
            }
            if !c.code.trim().is_empty() {
                let _ = writeln!(t, "code = {}", quote(c.code.trim()));
            }
        }
    }
    if shortened > 0 {
        notes.push(Note {
            field: "executionCases[].profileComponents[].name".into(),
            reason: format!(
                "{shortened} component name(s) longer than {} characters cut to that length (the official code kept)",
                motcua_core::MAX_NAME_CHARS
            ),
            blocking: false,
        });
    }
    write_fees(record, &mut t, &mut notes);
    for r in &record.results_details {
        let name = comment(&r.name);
        if !name.is_empty() {
            let _ = writeln!(t, "\n[[procedure.result]]\nname = {}", quote(&name));
        }
    }
    out.toml = Some(t);
    out.notes = notes;
    out
}

fn fee_kind_name(kind: &str) -> &'static str {
    match kind {
        "FEE" => "Lệ phí",
        "SERVICE_FEE" => "Phí",
        "PRICE_LEVEL" => "Giá dịch vụ",
        _ => "Khoản thu",
    }
}

/// Fees: the counter's (else the first method's) amounts, with the online amount beside when
/// the online method lists as many fees of the type (paired in order, said so). A fee without
/// an amount that says the provincial council sets it is written `amount = "council"` (noted); one
/// without an amount and without such words is free.
fn write_fees(record: &NationalRecord, t: &mut String, notes: &mut Vec<Note>) {
    // A method listed several times: its fees are those of all its entries.
    let fees_of = |name: &str| -> Vec<&FeeRecord> {
        record.execution_methods.iter().filter(|m| m.submission_method == name).flat_map(|m| &m.fees).collect()
    };
    let base_name = if record.execution_methods.iter().any(|m| m.submission_method == "DIRECT") {
        "DIRECT"
    } else {
        match record.execution_methods.first() {
            Some(m) => m.submission_method.as_str(),
            None => return,
        }
    };
    let base = fees_of(base_name);
    let online = if base_name == "ONLINE" { Vec::new() } else { fees_of("ONLINE") };
    let amount = |f: &FeeRecord| f.value.as_ref().and_then(serde_json::Number::as_u64).unwrap_or(0);
    let mut kinds: BTreeMap<&str, Vec<&FeeRecord>> = BTreeMap::new();
    for f in &base {
        kinds.entry(f.kind.as_str()).or_default().push(f);
    }
    let source = quote(&format!("CSDL quốc gia về TTHC, thủ tục {}", record.code));
    for (kind, fees) in kinds {
        // Entries without an amount: set by the provincial council when the text says so, an
        // exemption or nothing otherwise.
        let council =
            fees.iter().find(|f| amount(f) == 0 && f.description.to_lowercase().contains("hội đồng nhân dân"));
        if let Some(f) = council.filter(|_| fees.iter().all(|f| amount(f) == 0)) {
            notes.push(Note {
                field: format!("executionMethods[{base_name}].fees[{kind}]"),
                reason:
                    "set by the provincial council: imported as `amount = \"council\"`, for a province file to price"
                        .into(),
                blocking: false,
            });
            write_fee(t, f, kind, crate::procedures::COUNCIL, None, &source);
        } else if council.is_some() {
            notes.push(Note {
                field: format!("executionMethods[{base_name}].fees[{kind}]"),
                reason: "set by the provincial council besides the amounts listed: the council's part left out".into(),
                blocking: false,
            });
        }
        let charged: Vec<&FeeRecord> = fees.iter().copied().filter(|f| amount(f) > 0).collect();
        let online_charged: Vec<u64> =
            online.iter().filter(|f| f.kind == kind).map(|f| amount(f)).filter(|&v| v > 0).collect();
        match charged.as_slice() {
            [] => {}
            [f] if online_charged.len() <= 1 => {
                let online = online_charged.first().copied().filter(|&v| v != amount(f));
                write_fee(t, f, kind, &amount(f).to_string(), online, &source);
            }
            several => {
                // Several rates (per person on a list, per household…): which online amount goes
                // with which is not said in a form that can be read (their texts and amounts
                // disagree in some records), so none is imported.
                let counter: Vec<String> = several.iter().map(|f| amount(f).to_string()).collect();
                let online: Vec<String> = online_charged.iter().map(u64::to_string).collect();
                notes.push(Note {
                    field: format!("executionMethods[{base_name}].fees[{kind}]"),
                    reason: format!(
                        "several rates ({} at the counter, {} online): not imported, which goes with which is not said in a form that can be read",
                        counter.join(", "),
                        if online.is_empty() { "none".to_string() } else { online.join(", ") }
                    ),
                    blocking: false,
                });
            }
        }
    }
}

/// One `[[procedure.fee]]` of `kind`: the record's text as a comment, its amount (a number or
/// `council`), its online amount when it differs, and its source.
fn write_fee(t: &mut String, f: &FeeRecord, kind: &str, amount: &str, online: Option<u64>, source: &str) {
    let text = comment(&f.description);
    let _ = writeln!(t);
    if !text.is_empty() {
        let _ = writeln!(t, "# {text}");
    }
    let _ = writeln!(t, "[[procedure.fee]]");
    let _ = writeln!(t, "name = {}", quote(fee_kind_name(kind)));
    let _ = writeln!(t, "amount = \"{amount}\"");
    if let Some(v) = online {
        let _ = writeln!(t, "online = \"{v}\"");
    }
    let _ = writeln!(t, "source = {source}");
}

/// Reads records from `path`: one JSON record (bare, or in the portal's `{"data": …}` envelope),
/// a folder of them (`*.json`, sorted), or a JSON-lines file (`*.jsonl`, one record a line).
/// Bounded: [`MAX_INPUT_BYTES`] a file, [`MAX_RECORDS`] in all.
pub fn read_records(path: &Path) -> Result<Vec<(PathBuf, usize, NationalRecord)>, ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| io_error(path, e))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "json" || x == "jsonl") {
                files.push(p);
            }
            if files.len() > MAX_RECORDS {
                return Err(io_error(path, format!("more than {MAX_RECORDS} files")));
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut out = Vec::new();
    for file in files {
        let size = std::fs::metadata(&file).map_err(|e| io_error(&file, e))?.len();
        if size > MAX_INPUT_BYTES {
            return Err(io_error(&file, format!("larger than {MAX_INPUT_BYTES} bytes")));
        }
        let text = std::fs::read_to_string(&file).map_err(|e| io_error(&file, e))?;
        if file.extension().is_some_and(|x| x == "jsonl") {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                out.push((file.clone(), i + 1, parse_record(line, &file, i + 1)?));
                if out.len() > MAX_RECORDS {
                    return Err(io_error(&file, format!("more than {MAX_RECORDS} records")));
                }
            }
        } else {
            out.push((file.clone(), 1, parse_record(&text, &file, 1)?));
        }
    }
    Ok(out)
}

fn parse_record(text: &str, file: &Path, line: usize) -> Result<NationalRecord, ImportError> {
    let bad = |e: serde_json::Error| ImportError::Record {
        path: file.to_path_buf(),
        line: line + e.line().saturating_sub(1),
        message: motcua_calendar::terminal_safe(&e.to_string()).into_owned(),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(bad)?;
    let record = match value.get("data") {
        Some(data) if data.is_object() => data.clone(),
        _ => value,
    };
    serde_json::from_value(record).map_err(bad)
}

/// What [`import_into`] did with one record.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Where the record came from (file and line).
    pub origin: (PathBuf, usize),
    /// The import.
    pub imported: Imported,
    /// What happened to the catalog file.
    pub action: Action,
}

/// What happened to a record's catalog file.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Action {
    /// Written for the first time.
    Created(PathBuf),
    /// The record was imported before and has not changed: the file is left alone.
    Unchanged(PathBuf),
    /// The record changed: a new version was added from this day (the record's update day, or
    /// the import day when the record's is not after the last version's).
    NewVersion(PathBuf, NaiveDate, DateSource),
    /// Not imported.
    Skipped,
}

/// Where a new version's date came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DateSource {
    /// The record's `updatedAt`.
    Record,
    /// The day of the import (the record's date was missing or not after the last version's).
    ImportDay,
}

const FINGERPRINT: &str = "# national record fingerprint: ";

fn fingerprint(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Imports records into the catalog folder `out` (created if missing), one file a code
/// (`<code>.toml`); `today` dates a new version when the record's own date cannot.
pub fn import_into(
    records: Vec<(PathBuf, usize, NationalRecord)>,
    out: &Path,
    today: NaiveDate,
) -> Result<Vec<Outcome>, ImportError> {
    std::fs::create_dir_all(out).map_err(|e| io_error(out, e))?;
    let mut outcomes = Vec::new();
    for (file, line, record) in records {
        let imported = import_record(&record);
        let action = match (&imported.toml, imported.verdict()) {
            (Some(body), v) if v != Verdict::NotImportable => {
                let path = out.join(format!("{}.toml", record.code));
                write_version(&path, body, imported.updated, today)?
            }
            _ => Action::Skipped,
        };
        outcomes.push(Outcome { origin: (file, line), imported, action });
    }
    Ok(outcomes)
}

fn write_version(path: &Path, body: &str, updated: Option<NaiveDate>, today: NaiveDate) -> Result<Action, ImportError> {
    let print = fingerprint(body);
    let header = "# Imported from the national procedure database (motcua catalog import).\n";
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = format!("{header}\n{FINGERPRINT}{print}\n{body}");
            std::fs::write(path, text).map_err(|e| io_error(path, e))?;
            return Ok(Action::Created(path.to_path_buf()));
        }
        Err(e) => return Err(io_error(path, e)),
    };
    let last_print = existing.lines().rev().find_map(|l| l.strip_prefix(FINGERPRINT)).map(str::trim);
    if last_print == Some(print.as_str()) {
        return Ok(Action::Unchanged(path.to_path_buf()));
    }
    let Some(last_at) = existing.rfind("\n[[procedure]]\n") else {
        return Err(io_error(path, "not a file this import wrote (no [[procedure]] table)"));
    };
    // The last version's first day, if dated.
    let last_from = existing[last_at..]
        .lines()
        .find_map(|l| l.strip_prefix("effective_from = \""))
        .and_then(|d| NaiveDate::parse_from_str(d.trim_end_matches('"'), "%Y-%m-%d").ok());
    let after_last = |d: NaiveDate| last_from.is_none_or(|f| d > f);
    let (from, source) = match updated.filter(|d| after_last(*d)) {
        Some(d) => (d, DateSource::Record),
        None if after_last(today) => (today, DateSource::ImportDay),
        None => return Err(io_error(path, format!("a new version cannot start on {today}: the last starts later"))),
    };
    let Some(to) = from.pred_opt() else { return Err(io_error(path, "no day before the new version")) };
    let mut text = existing.clone();
    text.insert_str(last_at + "\n[[procedure]]\n".len(), &format!("effective_to = \"{to}\"\n"));
    let body = body.replacen("[[procedure]]\n", &format!("[[procedure]]\neffective_from = \"{from}\"\n"), 1);
    let _ = write!(text, "\n{FINGERPRINT}{print}\n{body}");
    std::fs::write(path, text).map_err(|e| io_error(path, e))?;
    Ok(Action::NewVersion(path.to_path_buf(), from, source))
}
