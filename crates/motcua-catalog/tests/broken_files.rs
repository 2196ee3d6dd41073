//! Broken procedure and scenario files yield problems with file, line and field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use motcua_catalog::{parse_procedures, parse_scenario, Problem};
use proptest::prelude::*;

fn procedure_problems(text: &str) -> Vec<String> {
    parse_procedures(text, Path::new("p.toml")).unwrap_err().problems.iter().map(Problem::to_string).collect()
}

fn scenario_problems(text: &str) -> Vec<String> {
    parse_scenario(text, Path::new("s.toml")).unwrap_err().problems.iter().map(Problem::to_string).collect()
}

const HEAD: &str = "code = \"1.000001\"\nname = \"x\"\nlevel = \"commune\"\nonline = \"full\"\n";

#[test]
fn missing_field() {
    let p = procedure_problems(&format!("{HEAD}limit_source = \"s\"\n"));
    assert_eq!(p, ["p.toml:1: missing field `limit`"]);
    let p = procedure_problems("[[procedure]]\ncode = \"1.000001\"\nname = \"x\"\n");
    assert!(p[0].starts_with("p.toml:1: missing field `level`"), "{p:?}");
}

#[test]
fn unknown_unit_bad_code_and_bad_enum() {
    let p = procedure_problems(&format!("{HEAD}limit = \"3 fortnights\"\nlimit_source = \"s\"\n"));
    assert!(p[0].starts_with("p.toml:5: limit: invalid time limit \"3 fortnights\""), "{p:?}");
    let p = procedure_problems("code = \"1.0001\"\nname = \"x\"\nlevel = \"county\"\nonline = \"full\"\nlimit = \"1 day\"\nlimit_source = \"s\"\n");
    assert!(p[0].starts_with("p.toml:1: code: invalid procedure code"), "{p:?}");
    assert!(p[1].starts_with("p.toml:3: level: unknown value \"county\""), "{p:?}");
    let p = procedure_problems(&format!(
        "{HEAD}limit = \"1 day\"\nlimit_source = \"s\"\n[[fee]]\nname = \"f\"\namount = \"-5\"\n"
    ));
    assert!(p[0].starts_with("p.toml:9: fee.amount"), "{p:?}");
    let p = procedure_problems(&format!("{HEAD}limit = \"1 day\"\nlimit_source = \"s\"\ncolour = \"red\"\n"));
    assert!(p[0].starts_with("p.toml:7: unknown field `colour`"), "{p:?}");
}

fn step(id: &str, allotment: &str, after: &str) -> String {
    format!("\n[[step]]\nid = \"{id}\"\nname = \"{id}\"\nagency = \"a-{id}\"\nrole = \"specialist\"\nallotment = \"{allotment}\"\nafter = [{after}]\n")
}

#[test]
fn allotments_over_the_limit_cycles_and_unknown_steps() {
    let base = format!("{HEAD}limit = \"1 working day\"\nlimit_source = \"s\"\n");
    let p = procedure_problems(&format!(
        "{base}{}{}",
        step("a", "0.5 working days", ""),
        step("b", "1 working day", "\"a\"")
    ));
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("p.toml:5: step: the chain ending at step \"b\" takes 12 working hours"), "{p:?}");
    let base = format!("{HEAD}limit = \"9 working days\"\nlimit_source = \"s\"\n");
    let p = procedure_problems(&format!(
        "{base}{}{}",
        step("a", "1 working day", "\"b\""),
        step("b", "1 working day", "\"a\"")
    ));
    assert!(p[0].contains("is on a cycle"), "{p:?}");
    assert!(p[0].starts_with("p.toml:14: step[0].after"), "{p:?}");
    let p = procedure_problems(&format!("{base}{}", step("a", "1 working day", "\"zz\"")));
    assert_eq!(p, ["p.toml:14: step[0].after: unknown step \"zz\""]);
    let p = procedure_problems(&format!("{base}{}", step("a", "3 days", "")));
    assert!(p[0].contains("must be working time"), "{p:?}");
}

#[test]
fn broken_scenarios() {
    let head = "name = \"s\"\nprocedure = \"1.001193\"\n";
    let p = scenario_problems(&format!("{head}[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"dance\"\n"));
    assert!(p[0].starts_with("s.toml:5: do: unknown command \"dance\""), "{p:?}");
    let p = scenario_problems(&format!("{head}[[step]]\nat = \"2025-02-30T09:00\"\ndo = \"receive\"\n"));
    assert!(p[0].starts_with("s.toml:4: at: invalid time"), "{p:?}");
    let p = scenario_problems(&format!("{head}[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"start_step\"\n"));
    assert_eq!(p, ["s.toml:5: do = \"start_step\" needs `step`"]);
    let p = scenario_problems(&format!(
        "{head}[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\nexpect = {{ outcome = \"soon\" }}\n"
    ));
    assert!(p[0].starts_with("s.toml:6: expect.outcome: unknown \"soon\""), "{p:?}");
    let p = scenario_problems(&format!("{head}[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\n[[step]]\nat = \"2025-03-04T08:00\"\ndo = \"withdraw\"\n"));
    assert!(p[0].starts_with("s.toml:7: at:"), "{p:?}");
    let p = scenario_problems(
        "name = \"s\"\nprocedure = \"1.00\"\n[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\n",
    );
    assert!(p[0].starts_with("s.toml:2: procedure:"), "{p:?}");
    // An officer acting with no receiving agency named: said once, at the first such step
    // (a step expecting the refusal is the one that may).
    let by = "by = { role = \"clerk\", agency = \"H99.01\", id = \"mc\" }";
    let p = scenario_problems(&format!(
        "{head}[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\n{by}\nexpect = {{ error = \"unauthorized\" }}\n\
         [[step]]\nat = \"2025-03-04T09:05\"\ndo = \"receive\"\n{by}\n[[step]]\nat = \"2025-03-04T09:10\"\ndo = \"receive\"\n{by}\n"
    ));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("s.toml:11: by: an officer of H99.01 acts, but the scenario names no receiving agency"),
        "{p:?}"
    );
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse_procedures(&s, Path::new("x.toml"));
        let _ = parse_scenario(&s, Path::new("x.toml"));
        let _ = motcua_catalog::file_kind(&s);
    }
}

/// A folder holding one good scenario, one file that is not TOML and one whose procedure code
/// is an unquoted number: two broken files, each named, nothing skipped in silence.
fn folder_with_broken_files(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("motcua-broken-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/procedures");
    let good = format!(
        "name = \"ok\"\nprocedure = \"1.001193\"\ncatalog = \"{}\"\n[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\nexpect = {{ status = \"received\" }}\n",
        seeds.display()
    );
    std::fs::write(dir.join("good.toml"), good).unwrap();
    std::fs::write(dir.join("not-toml.toml"), "name = \"x\nprocedure = \"1.001193\"\n").unwrap();
    std::fs::write(
        dir.join("unquoted.toml"),
        "name = \"u\"\nprocedure = 1.000894\n[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn run_path_reports_every_file_that_is_not_a_valid_scenario_or_catalog() {
    let dir = folder_with_broken_files("run");
    let summary = motcua_catalog::Runner::new().run_path(&dir);
    assert_eq!((summary.passed(), summary.failed()), (1, 0));
    let broken: Vec<String> = summary.broken.iter().map(Problem::to_string).collect();
    assert!(broken.iter().any(|p| p.contains("not-toml.toml:1")), "{broken:?}");
    assert!(broken.iter().any(|p| p.contains("unquoted.toml:")), "{broken:?}");
    let panic = std::panic::catch_unwind(|| motcua_catalog::assert_scenarios_pass(&dir)).unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("not-toml.toml") && message.contains("unquoted.toml"), "{message}");
    assert!(message.ends_with("1 passed, 0 failed, 2 broken"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_step_whose_expected_error_matched_still_checks_its_other_expectations() {
    let dir = std::env::temp_dir().join(format!("motcua-expected-error-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/procedures");
    // Returning a result before anything is finished is refused (as expected), and the
    // dossier is still `received`, not `in_progress` as this step wrongly expects.
    let text = format!(
        "name = \"e\"\nprocedure = \"1.001193\"\ncatalog = \"{}\"\n[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\n[[step]]\nat = \"2025-03-04T09:10\"\ndo = \"return_result\"\nexpect = {{ error = \"not_allowed\", status = \"in_progress\" }}\n",
        seeds.display()
    );
    std::fs::write(dir.join("e.toml"), text).unwrap();
    let summary = motcua_catalog::Runner::new().run_path(&dir);
    assert!(summary.broken.is_empty(), "{:?}", summary.broken);
    let failures: Vec<String> = summary.reports[0].failures.iter().map(Problem::to_string).collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("e.toml:7: status: expected in_progress, got received"), "{failures:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn versions_of_a_procedure_must_follow_one_another() {
    let dir = std::env::temp_dir().join(format!("motcua-versions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let version = |from: &str, to: &str| {
        let mut v = format!("[[procedure]]\n{HEAD}limit = \"1 day\"\nlimit_source = \"s\"\n");
        if !from.is_empty() {
            v.push_str(&format!("effective_from = \"{from}\"\n"));
        }
        if !to.is_empty() {
            v.push_str(&format!("effective_to = \"{to}\"\n"));
        }
        v
    };
    let load = |text: String| {
        std::fs::write(dir.join("p.toml"), text).unwrap();
        motcua_catalog::Catalog::load(&dir)
    };
    // Consecutive versions load; the right one is in force each day.
    let c = load(version("", "2025-06-30") + &version("2025-07-01", "")).unwrap();
    let code = "1.000001".parse().unwrap();
    let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
    assert_eq!(c.get_on(&code, day("2025-06-30")).unwrap().effective_to, Some(day("2025-06-30")));
    assert_eq!(c.get_on(&code, day("2025-07-01")).unwrap().effective_from, Some(day("2025-07-01")));
    let problems = |r: Result<motcua_catalog::Catalog, motcua_catalog::CatalogError>| -> Vec<String> {
        r.unwrap_err().problems.iter().map(Problem::to_string).collect()
    };
    let p = problems(load(version("", "2025-07-01") + &version("2025-07-01", "")));
    assert!(p[0].contains("p.toml:10: effective_from: the version from 2025-07-01 overlaps"), "{p:?}");
    let p = problems(load(version("", "2025-06-20") + &version("2025-07-01", "")));
    assert!(p[0].contains("a gap: the version before it ends on 2025-06-20"), "{p:?}");
    let p = problems(load(version("2025-07-01", "") + &version("2025-07-01", "")));
    assert!(p[0].contains("in force from 2025-07-01 is already defined at"), "{p:?}");
    let p = problems(load(version("2025-07-01", "2025-06-01")));
    assert!(p[0].contains("effective_to: 2025-06-01 is before effective_from 2025-07-01"), "{p:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn channel_limits_are_checked_at_their_line() {
    let p = procedure_problems(&format!(
        "{HEAD}limit = \"3 working days\"\nlimit_online = \"2 fortnights\"\nlimit_source = \"s\"\n"
    ));
    assert!(p[0].starts_with("p.toml:6: limit_online: invalid time limit \"2 fortnights\""), "{p:?}");
    // Steps must fit the shortest of the limits, the online one here.
    let p = procedure_problems(&format!(
        "{HEAD}limit = \"3 working days\"\nlimit_online = \"1 working day\"\nlimit_source = \"s\"\n\
         [[step]]\nid = \"a\"\nname = \"a\"\nagency = \"ubnd-xa\"\nrole = \"clerk\"\nallotment = \"2 working days\"\n"
    ));
    assert!(
        p[0].contains("the chain ending at step \"a\" takes 16 working hours, more than the limit 1 working day"),
        "{p:?}"
    );
    let ok = parse_procedures(
        &format!(
            "{HEAD}limit = \"35 days\"\nlimit_online = \"25 days\"\nlimit_postal = \"35 days\"\nlimit_source = \"s\"\n"
        ),
        Path::new("p.toml"),
    )
    .unwrap();
    assert_eq!(ok[0].0.channel_limits.len(), 2);
}

#[test]
fn cases_are_checked_at_their_line() {
    let base = format!("{HEAD}limit = \"1 working day\"\nlimit_source = \"s\"\n");
    let p = procedure_problems(&format!("{base}[[case]]\nid = \"a\"\nname = \"A\"\nlimit = \"2 fortnights\"\n"));
    assert!(p[0].starts_with("p.toml:10: case.limit: invalid time limit \"2 fortnights\""), "{p:?}");
    let p = procedure_problems(&format!(
        "{base}[[case]]\nid = \"a\"\nname = \"A\"\nlimit = \"2 working days\"\n[[case]]\nid = \"a\"\nname = \"B\"\nlimit = \"1 day\"\n"
    ));
    assert!(p[0].contains("cases[1].id: \"a\": empty or used twice"), "{p:?}");
    let p =
        procedure_problems(&format!("{HEAD}limit = \"1 working day\"\nlimit_source = \"s\"\ncase_required = true\n"));
    assert!(p[0].contains("case_required: no cases to choose from"), "{p:?}");
}
