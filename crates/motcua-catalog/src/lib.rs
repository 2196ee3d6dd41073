//! # motcua-catalog: procedures and scenarios as files
//!
//! [`Catalog`] loads procedures from TOML (one per file, or many as `[[procedure]]` tables);
//! every problem comes back as file:line: field: message. [`Runner`] runs rule-test
//! [`Scenario`]s — a procedure, then timed commands with expected statuses, due times,
//! outcomes and late steps — through `motcua-core`'s `decide`/`apply`, for `motcua test` and for
//! a procedure author's own `cargo test` ([`assert_scenarios_pass`]).

#![warn(missing_docs)]

mod digitisation;
mod error;
pub mod national;
mod procedures;
mod province;
mod scenario;
mod units;

use std::path::{Path, PathBuf};

pub use digitisation::{load_digitisation, parse_digitisation};
pub use error::{toml_problem, CatalogError, Problem};
pub use procedures::{parse_procedures, Catalog, Source, COUNCIL};
pub use province::{parse_province, Entry, ProvinceFile, Setting};
pub use scenario::{
    assert_scenarios_pass, parse_scenario, Expect, FeedbackExpect, Report, Runner, Scenario, ScenarioStep, Summary,
};
pub use units::{load_register, parse_register};

/// Most files read below one folder.
pub const MAX_FILES: usize = 10_000;

/// `path` itself if it is a file, else every `*.toml` below it (sorted, recursive, bounded).
pub fn toml_files(path: &Path) -> Result<Vec<PathBuf>, Problem> {
    let problem = |m: String| Problem { file: path.to_path_buf(), line: 1, message: m };
    let meta = std::fs::metadata(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| problem(format!("cannot read {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
                if out.len() > MAX_FILES {
                    return Err(problem(format!("more than {MAX_FILES} files")));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What a TOML file holds, judged from its keys.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    /// A procedure catalog.
    Procedures,
    /// A scenario.
    Scenario,
    /// An official holiday notice (`year = …`).
    Notice,
    /// A province's office hours (`sessions` or `[[season]]`, no `code`).
    OfficeHours,
    /// A calibration profile (a `[dossiers]` table), read by `motcua-sim`.
    Profile,
    /// A register of administrative units and agencies (`[[unit]]`, `[[agency]]`).
    Units,
    /// Digitisation rules (a `digitisation` source string).
    Digitisation,
    /// A province's fees and limits over the national catalog (a `province` code, no
    /// `[dossiers]`).
    Province,
}

/// Tells the project's TOML files apart: a scenario's `procedure` key is a code; a profile has
/// a `[dossiers]` table; a notice has a `year`; office hours have `sessions` or `[[season]]`;
/// a register has `[[unit]]` or `[[agency]]`; digitisation rules a `digitisation` source; a
/// province's file a `province` code;
/// anything else is a procedure catalog.
pub fn file_kind(text: &str) -> FileKind {
    let Ok(t) = toml::from_str::<toml::Table>(text) else { return FileKind::Procedures };
    if t.get("procedure").is_some_and(|p| p.is_str()) {
        FileKind::Scenario
    } else if t.get("dossiers").is_some_and(|d| d.is_table()) {
        FileKind::Profile
    } else if t.get("digitisation").is_some_and(|d| d.is_str()) {
        FileKind::Digitisation
    } else if ["unit", "agency"].iter().any(|k| t.get(*k).is_some_and(|v| v.is_array())) {
        FileKind::Units
    } else if t.get("province").is_some_and(|p| p.is_str()) {
        FileKind::Province
    } else if t.contains_key("year") && !t.contains_key("code") {
        FileKind::Notice
    } else if (t.contains_key("sessions") || t.contains_key("season")) && !t.contains_key("code") {
        FileKind::OfficeHours
    } else {
        FileKind::Procedures
    }
}
