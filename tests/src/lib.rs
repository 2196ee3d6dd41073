//! Shared helpers for the integration tests in `tests/tests/`.

use std::path::PathBuf;

/// The repository's `seeds/` folder.
pub fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("seeds")
}

/// Mutations of seed files for the fuzz targets and the "check agrees" properties (issue #31).
pub mod mutation {
    use proptest::prelude::*;

    /// One edit of a file's bytes.
    #[derive(Clone, Debug)]
    pub enum Edit {
        #[allow(missing_docs)]
        Flip(usize, u8),
        #[allow(missing_docs)]
        Insert(usize, u8),
        #[allow(missing_docs)]
        Delete(usize, usize),
        #[allow(missing_docs)]
        RepeatLine(usize),
        #[allow(missing_docs)]
        Truncate(usize),
    }

    /// A few edits: flipped, inserted (often TOML's own punctuation), deleted bytes, a repeated
    /// line, a truncation.
    pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
        let edit = prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
            (any::<usize>(), prop_oneof![Just(b'"'), Just(b'['), Just(b'='), Just(b'\n'), Just(b'9'), any::<u8>()])
                .prop_map(|(i, b)| Edit::Insert(i, b)),
            (any::<usize>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
            any::<usize>().prop_map(Edit::RepeatLine),
            any::<usize>().prop_map(Edit::Truncate),
        ];
        proptest::collection::vec(edit, 1..6)
    }

    /// `text` with `edits` applied (positions taken modulo the length; never panics).
    pub fn mutate(text: &str, edits: &[Edit]) -> String {
        let mut b = text.as_bytes().to_vec();
        for e in edits {
            let n = b.len().max(1);
            match *e {
                Edit::Flip(i, x) => {
                    if !b.is_empty() {
                        b[i % n] = x;
                    }
                }
                Edit::Insert(i, x) => b.insert(i % (b.len() + 1), x),
                Edit::Delete(i, k) => {
                    let at = i % n;
                    let end = (at + k).min(b.len());
                    b.drain(at.min(b.len())..end);
                }
                Edit::RepeatLine(i) => {
                    let lines: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
                    let pick = lines[i % lines.len()].to_vec();
                    b.extend_from_slice(b"\n");
                    b.extend_from_slice(&pick);
                }
                Edit::Truncate(i) => b.truncate(i % n),
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    }
}
