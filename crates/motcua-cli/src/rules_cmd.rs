//! `motcua check PATH...` and `motcua test PATH...`: procedure catalogs and rule-test scenarios.

use crate::outln;
use std::path::PathBuf;

use anyhow::Result;
use motcua_calendar::{Notice, OfficeHours};
use motcua_catalog::{file_kind, parse_procedures, parse_scenario, toml_files, FileKind, Problem, Runner};

use crate::exit;

/// Validates every catalog and scenario file under `paths` without running scenarios.
pub fn check(paths: &[PathBuf]) -> Result<u8> {
    let mut problems: Vec<Problem> = Vec::new();
    let (mut procedures, mut scenarios, mut others) = (0usize, 0usize, 0usize);
    let mut runner = Runner::new();
    let mut catalogs: std::collections::BTreeMap<PathBuf, motcua_catalog::Catalog> = Default::default();
    let mut unplanned: Vec<(PathBuf, u64)> = Vec::new();
    let mut priced: Vec<(PathBuf, motcua_catalog::Catalog)> = Vec::new();
    for path in paths {
        let files = match toml_files(path) {
            Ok(f) => f,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        for file in files {
            let text = match motcua_calendar::read_input(&file) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem { file: file.clone(), line: 1, message: format!("cannot read: {e}") });
                    continue;
                }
            };
            match file_kind(&text) {
                FileKind::Procedures => match parse_procedures(&text, &file) {
                    Ok(list) => {
                        procedures += list.len();
                        // A folder is one catalog: versions of a code must follow one another
                        // across its files.
                        let folder = file.parent().map(PathBuf::from).unwrap_or_default();
                        let catalog = catalogs.entry(folder).or_default();
                        for (p, source) in list {
                            if let Err(problem) = catalog.add(p, source) {
                                problems.push(problem);
                            }
                        }
                    }
                    Err(e) => problems.extend(e.problems),
                },
                FileKind::Scenario => match parse_scenario(&text, &file).and_then(|s| runner.check(&s).map(|_| ())) {
                    Ok(()) => scenarios += 1,
                    Err(e) => problems.extend(e.problems),
                },
                FileKind::Notice => match Notice::parse(&text, &file).and_then(|n| n.validate()) {
                    Ok(_) => others += 1,
                    Err(e) => problems.push(Problem::from_calendar(&file, e)),
                },
                FileKind::Profile => {
                    // Procedure codes are checked against ../procedures beside the profile, if any.
                    let catalog_dir = file.parent().map(|d| d.join("../procedures"));
                    let catalog =
                        catalog_dir.filter(|d| d.is_dir()).and_then(|d| motcua_catalog::Catalog::load(&d).ok());
                    // Then its year is planned as `simulate` plans it (figures that cannot hold
                    // together), up to a province's size.
                    let checked = motcua_sim::Profile::parse(&text, &file, catalog.as_ref()).and_then(|p| {
                        p.references(catalog.as_ref())?;
                        match &catalog {
                            Some(c) => p.check_plan(c).map(|planned| planned.then_some(()).ok_or(p.dossiers.received)),
                            None => Ok(Ok(())),
                        }
                    });
                    match checked {
                        Ok(Ok(())) => others += 1,
                        Ok(Err(received)) => {
                            others += 1;
                            unplanned.push((file.clone(), received));
                        }
                        Err(e) => problems.extend(e.problems),
                    }
                }
                FileKind::Units => match motcua_catalog::parse_register(&text, &file) {
                    Ok(_) => others += 1,
                    Err(e) => problems.extend(e.problems),
                },
                FileKind::Digitisation => match motcua_catalog::parse_digitisation(&text, &file) {
                    Ok(_) => others += 1,
                    Err(e) => problems.extend(e.problems),
                },
                FileKind::OfficeHours => match OfficeHours::parse(&text, &file) {
                    Ok(_) => others += 1,
                    Err(e) => problems.push(Problem::from_calendar(&file, e)),
                },
                // A province's file is applied over ../procedures beside it, as a portal would.
                FileKind::Province => match motcua_catalog::parse_province(&text, &file) {
                    Ok(province) => {
                        others += 1;
                        let dir = file.parent().map(|d| d.join("../procedures")).filter(|d| d.is_dir());
                        match dir.map(|d| motcua_catalog::Catalog::load(&d)) {
                            Some(Ok(mut catalog)) => {
                                problems.extend(catalog.apply_province(&province));
                                priced.push((file.clone(), catalog));
                            }
                            Some(Err(e)) => problems.extend(e.problems),
                            // A fixture beside scenarios is applied by the scenarios naming it.
                            None => {}
                        }
                    }
                    Err(e) => problems.extend(e.problems),
                },
            }
        }
    }
    for catalog in catalogs.values() {
        problems.extend(catalog.version_problems());
    }
    for p in &problems {
        eprintln!("{p}");
    }
    if problems.is_empty() {
        outln!("ok: {procedures} procedure(s), {scenarios} scenario(s), {others} notice/office-hours/profile/register/digitisation/province file(s)");
        for (file, received) in &unplanned {
            outln!(
                "note: {}: {received} dossiers, more than check plans ({}); simulate plans the year before it opens a store",
                motcua_calendar::terminal_safe(&file.display().to_string()),
                motcua_sim::PLANNED_BY_CHECK
            );
        }
        // Fees the provincial council sets that no province file prices: listed, never assessed.
        for (folder, catalog) in &catalogs {
            let by = priced.iter().filter(|(f, _)| f.parent().and_then(|d| d.parent()) == folder.parent());
            for p in catalog.iter() {
                for f in p.fees.iter().filter(|f| f.unpriced) {
                    let version = p.effective_from.map_or(String::new(), |d| format!(" (from {d})"));
                    let provinces: Vec<String> = by
                        .clone()
                        .filter(|(_, c)| {
                            c.versions(&p.code).any(|v| v.fees.iter().any(|x| x.name == f.name && !x.unpriced))
                        })
                        .map(|(file, _)| motcua_calendar::terminal_safe(&file.display().to_string()).into_owned())
                        .collect();
                    let priced_by = if provinces.is_empty() {
                        "no province file prices it".to_string()
                    } else {
                        format!("priced by {}", provinces.join(", "))
                    };
                    outln!(
                        "note: {}{version}: {:?} is set by the provincial council: {priced_by}; not assessed where unpriced",
                        p.code,
                        motcua_calendar::terminal_safe(&f.name)
                    );
                }
            }
        }
        Ok(exit::OK)
    } else {
        eprintln!("{} problem(s)", problems.len());
        Ok(exit::INVALID_INPUT)
    }
}

/// Runs every scenario under `paths`; prints each failure with file and line, then
/// `N passed, M failed`. Exit 0 when all pass, 1 on failures, 2 on broken files.
pub fn test(paths: &[PathBuf]) -> Result<u8> {
    let mut runner = Runner::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut broken: Vec<Problem> = Vec::new();
    for path in paths {
        let summary = runner.run_path(path);
        for r in &summary.reports {
            for f in &r.failures {
                outln!("{f}  [{}]", r.name);
            }
        }
        passed += summary.passed();
        failed += summary.failed();
        broken.extend(summary.broken);
    }
    for p in &broken {
        eprintln!("{p}");
    }
    if !broken.is_empty() {
        eprintln!("{} broken file(s) could not run", broken.len());
    }
    outln!("{passed} passed, {failed} failed");
    Ok(if !broken.is_empty() {
        exit::INVALID_INPUT
    } else if failed > 0 {
        exit::FAILURES
    } else {
        exit::OK
    })
}
