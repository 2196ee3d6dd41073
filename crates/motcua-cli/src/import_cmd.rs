//! `motcua catalog import INPUT --out DIR`: national procedure records into a catalog folder.

use anyhow::Result;
use motcua_calendar::terminal_safe;
use motcua_catalog::national::{import_into, read_records, Action, DateSource, Verdict};

use crate::args::ImportCmd;
use crate::{exit, outln};

pub fn run(cmd: ImportCmd) -> Result<u8> {
    let today = match &cmd.today {
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: --today {:?}: {e} (expected YYYY-MM-DD)", terminal_safe(d));
                return Ok(exit::INVALID_INPUT);
            }
        },
        None => (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive(),
    };
    let records = match read_records(&cmd.input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::INVALID_INPUT);
        }
    };
    let outcomes = match import_into(records, &cmd.out, today) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::INVALID_INPUT);
        }
    };
    let count = |v: Verdict| outcomes.iter().filter(|o| o.imported.verdict() == v).count();
    let acted = |f: fn(&Action) -> bool| outcomes.iter().filter(|o| f(&o.action)).count();
    let free = outcomes
        .iter()
        .filter(|o| o.imported.parsed_free_text && o.imported.verdict() != Verdict::NotImportable)
        .count();
    let totals = (
        count(Verdict::AsIs),
        count(Verdict::WithAssumptions),
        count(Verdict::NotImportable),
        acted(|a| matches!(a, Action::Created(_))),
        acted(|a| matches!(a, Action::Unchanged(_))),
        acted(|a| matches!(a, Action::NewVersion(..))),
    );
    if cmd.json {
        let rows: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| {
                let (action, file, from) = match &o.action {
                    Action::Created(p) => ("created", Some(p.display().to_string()), None),
                    Action::Unchanged(p) => ("unchanged", Some(p.display().to_string()), None),
                    Action::NewVersion(p, d, _) => ("new-version", Some(p.display().to_string()), Some(d.to_string())),
                    Action::Skipped => ("skipped", None, None),
                };
                serde_json::json!({
                    "code": o.imported.code,
                    "origin": format!("{}:{}", o.origin.0.display(), o.origin.1),
                    "verdict": o.imported.verdict().as_str(),
                    "action": action,
                    "file": file,
                    "effective_from": from,
                    "notes": o.imported.notes.iter().map(|n| serde_json::json!({
                        "field": n.field, "reason": n.reason, "blocking": n.blocking,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let out = serde_json::json!({
            "records": outcomes.len(),
            "as_is": totals.0, "with_assumptions": totals.1, "not_importable": totals.2,
            "other_limits_read": free,
            "created": totals.3, "unchanged": totals.4, "new_versions": totals.5,
            "imports": rows,
        });
        outln!("{out}");
        return Ok(exit::OK);
    }
    for o in &outcomes {
        let what = match &o.action {
            Action::Created(p) => format!("created {}", p.display()),
            Action::Unchanged(p) => format!("unchanged {}", p.display()),
            Action::NewVersion(p, d, DateSource::Record) => {
                format!("new version from {d} (the record's update day) in {}", p.display())
            }
            Action::NewVersion(p, d, DateSource::ImportDay) => {
                format!(
                    "new version from {d} (the import day: the record's is not after the last version's) in {}",
                    p.display()
                )
            }
            Action::Skipped => "not written".into(),
        };
        outln!("{} {}: {}", terminal_safe(&o.imported.code), o.imported.verdict().as_str(), terminal_safe(&what));
        for n in &o.imported.notes {
            outln!("  {}: {}", terminal_safe(&n.field), terminal_safe(&n.reason));
        }
    }
    outln!(
        "{} records: {} as is, {} with assumptions, {} not importable ({} OTHER limits read from their text); files: {} created, {} unchanged, {} new versions",
        outcomes.len(),
        totals.0,
        totals.1,
        totals.2,
        free,
        totals.3,
        totals.4,
        totals.5
    );
    Ok(exit::OK)
}
