//! Problems in catalog and scenario files, each with its file and line.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// What is wrong, starting with the field.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths and quoted values may hold anything a file name or a file can: escaped for a
        // terminal (control and bidirectional formatting characters).
        let file = self.file.display().to_string();
        let safe = motcua_calendar::terminal_safe;
        write!(f, "{}:{}: {}", safe(&file), self.line, safe(&self.message))
    }
}

/// Everything wrong with a set of files (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    /// The problems, in file and line order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl CatalogError {
    pub(crate) fn one(file: &Path, line: usize, message: impl Into<String>) -> CatalogError {
        CatalogError { problems: vec![Problem { file: file.to_path_buf(), line, message: message.into() }] }
    }
}

impl CatalogError {
    /// The problems of a file another refers to, each reported where the referring `file`
    /// names it, at `line` (`key = "PATH"`): `FILE:LINE: KEY = "PATH": REFERRED:LINE: what`.
    pub fn referred(self, file: &Path, line: usize, key: &str, path: &Path) -> CatalogError {
        let problems = self
            .problems
            .into_iter()
            .map(|p| Problem {
                file: file.to_path_buf(),
                line: line.max(1),
                message: format!("{key} = {:?}: {p}", path.display().to_string()),
            })
            .collect();
        CatalogError { problems }
    }
}

pub(crate) use motcua_calendar::line_of;

/// A TOML syntax or shape error as a problem at its line.
pub fn toml_problem(text: &str, file: &Path, e: &toml::de::Error) -> Problem {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
    Problem { file: file.to_path_buf(), line, message: e.message().trim().to_string() }
}

/// Collects problems while reading one file.
pub(crate) struct Sink<'a> {
    pub text: &'a str,
    pub file: &'a Path,
    pub problems: Vec<Problem>,
}

impl<'a> Sink<'a> {
    pub fn new(text: &'a str, file: &'a Path) -> Self {
        Sink { text, file, problems: Vec::new() }
    }

    pub fn at(&mut self, offset: usize, message: impl Into<String>) {
        let line = line_of(self.text, offset);
        self.problems.push(Problem { file: self.file.to_path_buf(), line, message: message.into() });
    }
}

impl Problem {
    /// A calendar data file's error (a notice, office hours) as a problem: those errors already
    /// carry file and line; others are placed on line 1 of `file`.
    pub fn from_calendar(file: &std::path::Path, e: motcua_calendar::CalendarError) -> Problem {
        match e {
            motcua_calendar::CalendarError::File { file, line, message } => Problem { file, line, message },
            other => Problem { file: file.to_path_buf(), line: 1, message: other.to_string() },
        }
    }
}
