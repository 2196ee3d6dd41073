//! The shipped catalog and scenarios, through the same Rust API a procedure author uses in
//! their own `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_catalog::{assert_scenarios_pass, Catalog, Runner};
use motcua_tests::seeds_dir;

#[test]
fn seed_scenarios_pass() {
    assert_scenarios_pass(seeds_dir().join("scenarios"));
}

#[test]
fn seed_catalog_has_the_required_procedures() {
    let catalog = Catalog::load(&seeds_dir().join("procedures")).unwrap();
    assert!(catalog.len() >= 15, "{} procedures", catalog.len());
    for code in ["1.001193", "1.000894", "2.000815", "1.001612", "1.013225", "1.013978", "3.000333", "2.000986"] {
        let p = catalog.get(&code.parse().unwrap()).unwrap_or_else(|| panic!("{code} missing"));
        assert!(!p.limit_source.is_empty(), "{code} must say where its limit comes from");
    }
    // At least one inter-agency chain: steps at more than one agency.
    let chains = catalog
        .iter()
        .filter(|p| p.steps.iter().map(|s| &s.agency).collect::<std::collections::HashSet<_>>().len() > 1)
        .count();
    assert!(chains >= 2);
}

#[test]
fn there_are_at_least_30_scenarios_and_all_run() {
    let summary = Runner::new().run_path(&seeds_dir().join("scenarios"));
    assert!(summary.broken.is_empty(), "{:?}", summary.broken);
    assert!(summary.reports.len() >= 30, "{} scenarios", summary.reports.len());
    assert_eq!(summary.failed(), 0);
}
