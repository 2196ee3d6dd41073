//! Shared helpers for the integration tests in `tests/tests/`.

use std::path::PathBuf;

/// The repository's `seeds/` folder.
pub fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("seeds")
}
