//! Profiles: the seeds load; bad profiles get errors naming the field and line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use motcua_catalog::Catalog;
use motcua_sim::Profile;

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../seeds")
}

#[test]
fn seed_profiles_load_against_the_catalog() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let p = Profile::load(&seeds().join("profiles/ninh-thuan-2023.toml"), Some(&catalog)).unwrap();
    assert_eq!(
        (p.dossiers.received, p.dossiers.online, p.dossiers.resolved, p.dossiers.early_or_on_time),
        (328_508, 273_500, 324_770, 322_647)
    );
    assert_eq!(p.dossiers.early_or_on_time_pct(), 99.35);
    assert_eq!(p.scaled(10).unwrap().dossiers.received, 3_285_080);
    assert_eq!(p.scaled(10).unwrap().dossiers.early_or_on_time_pct(), 99.35);
    let n = Profile::load(&seeds().join("profiles/national-2025.toml"), Some(&catalog)).unwrap();
    assert_eq!(n.dossiers.received, 50_000_000);
}

fn problems(text: &str) -> Vec<String> {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    Profile::parse(text, Path::new("p.toml"), Some(&catalog))
        .unwrap_err()
        .problems
        .iter()
        .map(|p| p.to_string())
        .collect()
}

fn profile(received: i64, online: i64, resolved: i64, on_time: i64, share: f64, code: &str) -> String {
    format!(
        "name = \"x\"\nyear = 2023\nagency = \"X\"\npopulation = 1\n[dossiers]\nreceived = {received}\nonline = {online}\nresolved = {resolved}\nearly_or_on_time = {on_time}\n\
         [services]\nonline = 10\nintegrated = 9\nwith_dossiers_pct = 30.0\n[first_half]\nonline_pct = 80.0\nland_online_pct = 2.0\n\
         [behaviour]\nsupplement_pct = 4.0\nextension_pct = 0.5\nwithdrawal_pct = 0.3\nlong_tail_procedures = 10\n\
         [[procedure]]\ncode = \"{code}\"\nshare_pct = {share}\n"
    )
}

#[test]
fn bad_profiles_name_the_field() {
    assert_eq!(
        problems(&profile(-5, 0, 0, 0, 1.0, "1.001193")),
        ["p.toml:6: dossiers.received: must not be negative (-5)"]
    );
    assert_eq!(
        problems(&profile(10, 11, 5, 5, 1.0, "1.001193")),
        ["p.toml:7: dossiers.online: 11 is more than dossiers.received (10)"]
    );
    assert_eq!(
        problems(&profile(10, 5, 5, 6, 1.0, "1.001193")),
        ["p.toml:9: dossiers.early_or_on_time: 6 is more than dossiers.resolved (5)"]
    );
    assert_eq!(
        problems(&profile(10, 5, 5, 5, 130.0, "1.001193"))[0],
        "p.toml:24: procedure[0].share_pct: 130 is not a share between 0 and 100"
    );
    assert_eq!(
        problems(&profile(10, 5, 5, 5, 1.0, "9.123456")),
        ["p.toml:23: procedure[0].code: 9.123456 is not in the catalog"]
    );
    let text = profile(10, 5, 5, 5, 1.0, "1.001193").replace("with_dossiers_pct = 30.0", "with_dossiers_pct = 130.0");
    assert_eq!(problems(&text), ["p.toml:13: services.with_dossiers_pct: 130 is not a share between 0 and 100"]);
    let text = profile(10, 5, 5, 5, 1.0, "1.001193").replace("integrated = 9", "integrated = 11");
    assert_eq!(problems(&text), ["p.toml:12: services.integrated: 11 is more than services.online (10)"]);
    let text =
        profile(100, 50, 90, 80, 10.0, "1.004194").replace("with_dossiers_pct = 30.0", "with_dossiers_pct = 0.0");
    assert_eq!(
        problems(&text),
        ["p.toml:13: services.with_dossiers_pct: 0% of 10 services is 0 services with online dossiers, but the \
          profile simulates 1 catalog procedures (each gets dossiers) and 10 synthetic ones \
          (behaviour.long_tail_procedures): between 1 and 11 can have them"]
    );
    let text = profile(10, 5, 5, 5, 1.0, "1.001193").replace("population = 1\n", "");
    assert!(problems(&text)[0].contains("missing field `population`"));
}

#[test]
fn scales_and_counts_are_bounded_before_anything_is_allocated() {
    let p = Profile::load(&seeds().join("profiles/ninh-thuan-2023.toml"), None).unwrap();
    assert!(p.scaled(0).unwrap_err().contains("scale 0"));
    let e = p.scaled(u64::MAX).unwrap_err();
    assert!(e.contains("more than the 100000000"), "{e}");
    assert!(p.scaled(304).is_ok() && p.scaled(305).is_err());
}

#[test]
fn a_huge_long_tail_is_refused_at_its_line() {
    let path = seeds().join("profiles/ninh-thuan-2023.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.starts_with("long_tail_procedures")).unwrap();
    let bad = text.replace(line, "long_tail_procedures = 9000000000");
    let e = Profile::parse(&bad, &path, None).unwrap_err();
    let p = e.problems[0].to_string();
    assert!(p.contains("behaviour.long_tail_procedures: 9000000000 is more than the 100000"), "{p}");
}

#[test]
fn a_procedure_without_a_version_for_the_whole_year_is_refused() {
    // Only the building permit's version from 1/7/2026: a 2026 year's dossiers of January
    // would have no rules to follow.
    let seeds = Catalog::load(&seeds().join("procedures")).unwrap();
    let code = "1.013225".parse().unwrap();
    let mut catalog = Catalog::default();
    let latest = seeds.get(&code).unwrap().clone();
    assert_eq!(latest.effective_from, chrono::NaiveDate::from_ymd_opt(2026, 7, 1));
    catalog.insert(latest, motcua_catalog::Source { file: "x.toml".into(), line: 1 });
    let text = profile(10, 5, 5, 5, 1.0, "1.013225").replace("year = 2023", "year = 2026");
    let problems: Vec<String> = Profile::parse(&text, Path::new("p.toml"), Some(&catalog))
        .unwrap_err()
        .problems
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(problems, ["p.toml:23: procedure[0].code: 1.013225 has no version in force on 2026-01-01"]);
    // With every version of the seed catalog, the same year is accepted.
    assert!(Profile::parse(&text, Path::new("p.toml"), Some(&seeds)).is_ok());
}
