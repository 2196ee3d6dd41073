//! ARCHITECTURE.md says what is true: it names every crate of the workspace and every SQL file a
//! store applies, so a new crate or migration cannot land unexplained.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn names_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| keep(p))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn architecture_names_every_crate_and_every_sql_file() {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let crates = names_in(&root().join("crates"), |p| p.join("Cargo.toml").is_file());
    assert!(crates.len() >= 10, "{crates:?}");
    let missing: Vec<_> =
        crates.iter().filter(|c| !doc.contains(&format!("`crates/{c}`")) && !doc.contains(&format!("`{c}`"))).collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md does not name the crates {missing:?}");
    for store in ["motcua-store-sqlite", "motcua-store-postgres"] {
        let files =
            names_in(&root().join("crates").join(store).join("sql"), |p| p.extension().is_some_and(|x| x == "sql"));
        assert!(!files.is_empty(), "{store}");
        let missing: Vec<_> = files.iter().filter(|f| !doc.contains(&format!("`{f}`"))).collect();
        assert!(missing.is_empty(), "ARCHITECTURE.md does not name {store}'s {missing:?}");
    }
}
