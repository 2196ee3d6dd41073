//! The calendar's one error type.

use std::path::PathBuf;

use chrono::NaiveDate;

/// Everything that can go wrong in `motcua-calendar`. Each variant names the input that was wrong
/// and what was wrong with it; none of them is a bug in the library.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// A date or instant lies outside the years a table was built for.
    #[error("{what} is outside the supported range {first_year}..={last_year}")]
    OutOfRange {
        /// The date or instant, as text.
        what: String,
        /// First supported year.
        first_year: i32,
        /// Last supported year.
        last_year: i32,
    },
    /// A requested year range is empty or outside what the rules support.
    #[error("year range {first}..={last} is invalid: {reason}")]
    InvalidYearRange {
        /// First year requested.
        first: i32,
        /// Last year requested.
        last: i32,
        /// Why it is invalid.
        reason: String,
    },
    /// A lunar date that does not exist.
    #[error("lunar date {year}-{month:02}{leap}-{day:02} does not exist: {reason}", leap = if *.leap { "L" } else { "" })]
    InvalidLunarDate {
        /// Lunar year.
        year: i32,
        /// Lunar month, 1 ..= 12.
        month: u8,
        /// Day of the lunar month.
        day: u8,
        /// Whether a leap month was asked for.
        leap: bool,
        /// Why it does not exist.
        reason: String,
    },
    /// Text that should be an instant is not one.
    #[error("invalid time {input:?}: {reason}")]
    ParseTimestamp {
        /// The text given.
        input: String,
        /// What was wrong.
        reason: String,
    },
    /// Text that should be a time limit is not one.
    #[error("invalid time limit {input:?}: {reason}")]
    ParseLimit {
        /// The text given.
        input: String,
        /// What was wrong.
        reason: String,
    },
    /// A data file (notice, office hours) is malformed.
    #[error("{}:{line}: {}", crate::terminal_safe(&file.display().to_string()), crate::terminal_safe(message))]
    File {
        /// The file (or a label such as `<built-in>/2024.toml`).
        file: PathBuf,
        /// 1-based line of the offending item (1 when unknown).
        line: usize,
        /// What was wrong, naming the field.
        message: String,
    },
    /// A data file could not be read.
    #[error("cannot read {}: {message}", crate::terminal_safe(&file.display().to_string()))]
    Io {
        /// The file or folder.
        file: PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// A bounded search for a working day found none.
    #[error("no working day within {searched_days} days after {after}")]
    NoWorkingDay {
        /// Where the search started.
        after: NaiveDate,
        /// How far it looked.
        searched_days: u32,
    },
}

impl CalendarError {
    /// True for [`CalendarError::OutOfRange`]: the input was fine but the table was built for
    /// other years.
    pub fn is_range(&self) -> bool {
        matches!(self, CalendarError::OutOfRange { .. } | CalendarError::InvalidYearRange { .. })
    }
}

/// The 1-based line of byte offset `offset` in `text` (for errors that point at a line of a
/// data file).
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}
