//! Reading the data files motcua takes (notices, office hours, catalogs, scenarios, registers,
//! profiles, CSV batches): only regular files, and at most [`MAX_INPUT_BYTES`] of them, so a
//! FIFO, a device such as `/dev/zero`, or a runaway file is refused by name instead of hanging
//! the command or filling memory.

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// The largest input file read (16 MiB: the largest seed file is under 100 KB; a province's
/// year of receipts as a CSV batch is about 10 MB).
pub const MAX_INPUT_BYTES: u64 = 16 << 20;

/// The text of the file at `path` (links followed): an error, saying why, when it is not a
/// regular file, holds more than [`MAX_INPUT_BYTES`], or is not UTF-8.
pub fn read_input(path: &Path) -> Result<String, Error> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a folder" } else { "not a regular file (a FIFO or a device?)" };
        return Err(Error::new(ErrorKind::InvalidInput, format!("{what}: only regular files are read")));
    }
    read_bounded(std::fs::File::open(path)?)
}

/// At most [`MAX_INPUT_BYTES`] of `source` as text (a file that grows while read, or standard
/// input, is cut off with an error, not read to the end).
pub fn read_bounded(source: impl Read) -> Result<String, Error> {
    let mut bytes = Vec::new();
    source.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("more than {} MiB: too large for an input file", MAX_INPUT_BYTES >> 20),
        ));
    }
    String::from_utf8(bytes).map_err(|e| Error::new(ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn devices_folders_and_oversized_input_are_refused() {
        if Path::new("/dev/zero").exists() {
            let e = read_input(Path::new("/dev/zero")).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        let e = read_input(Path::new(".")).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
        let e = read_bounded(std::io::repeat(b'a')).unwrap_err();
        assert!(e.to_string().contains("more than 16 MiB"), "{e}");
        let e = read_bounded(&[0xff, 0xfe][..]).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        assert_eq!(read_bounded(&b"ok"[..]).unwrap(), "ok");
    }
}

/// `text` made safe to print on a terminal: control characters (a newline, an escape that
/// would start a terminal sequence) and the invisible bidirectional formatting characters (which
/// reorder what follows them on screen) shown as `\u{…}` escapes; everything else, Vietnamese
/// letters included, as it is. Errors pass the paths and values they quote through it.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod terminal_tests {
    #[test]
    fn control_and_bidi_characters_are_escaped_and_vietnamese_is_kept() {
        assert_eq!(super::terminal_safe("Hộ tịch"), "Hộ tịch");
        assert_eq!(super::terminal_safe("a\u{1b}[2Jb\nc"), "a\\u{1b}[2Jb\\u{a}c");
        assert_eq!(super::terminal_safe("x\u{202e}cod.exe"), "x\\u{202e}cod.exe");
    }
}
