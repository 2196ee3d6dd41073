//! Official per-year notices: days off and make-up working days that rules cannot know
//! (docs/rules.md §2, docs/sources.md §5.2).
//!
//! Each year is one TOML file (`seeds/calendar/YYYY.toml`). The files of 2020–2026 are built
//! into the library; a user adds or corrects a year without recompiling by loading a folder of
//! such files ([`Notices::load_dir`]); a later file replaces an earlier notice of the same year.
//! A year with a notice is **official**; a year without one is **projected** from the rules.
//!
//! ```toml
//! year = 2024
//! summary = "Nghỉ lễ 30/4–1/5/2024: hoán đổi thứ Hai 29/4 với thứ Bảy 4/5."
//!
//! [[reference]]
//! id = "CV 2450/VPCP-KGVX"
//! title = "Công văn của Văn phòng Chính phủ về hoán đổi ngày làm việc dịp 30/4–1/5/2024"
//! source = "docs/sources.md §5.2 (S14l)"
//!
//! [[day_off]]
//! date = "2024-04-29"
//! name = "Nghỉ hoán đổi (làm bù thứ Bảy 4/5/2024)"
//! reference = "CV 2450/VPCP-KGVX"
//!
//! [[working_day]]
//! date = "2024-05-04"
//! name = "Làm bù cho thứ Hai 29/4/2024"
//! reference = "CV 2450/VPCP-KGVX"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{line_of, CalendarError};
use crate::hours::{builtin_path, toml_error};

/// The legal document a notice follows.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// Its number, e.g. `TB 9441/TB-BNV`.
    pub id: String,
    /// What it is.
    pub title: String,
    /// Where we read it.
    pub source: String,
}

/// What a notice entry does to its date.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// The date becomes a day off (e.g. a swapped weekday).
    DayOff,
    /// The date becomes a working day (a make-up Saturday, "làm bù").
    WorkingDay,
}

/// One dated entry of a notice.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct NoticeEntry {
    /// The date.
    pub date: NaiveDate,
    /// Day off or working day.
    pub kind: EntryKind,
    /// Why, as the notice says it.
    pub name: String,
    /// The [`Reference::id`] it comes from.
    pub reference: String,
    /// Where it was read: file and 1-based line.
    pub file: PathBuf,
    /// 1-based line in `file`.
    pub line: usize,
}

/// One year's official notice.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Notice {
    /// The year it governs.
    pub year: i32,
    /// A one-line summary.
    pub summary: String,
    /// The documents it follows.
    pub references: Vec<Reference>,
    /// Its dated entries, in date order.
    pub entries: Vec<NoticeEntry>,
    /// The file it was read from.
    pub file: PathBuf,
}

/// Notices by year.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Notices {
    by_year: BTreeMap<i32, Notice>,
}

const BUILTIN: [(&str, &str); 7] = [
    ("2020.toml", include_str!("../../../seeds/calendar/2020.toml")),
    ("2021.toml", include_str!("../../../seeds/calendar/2021.toml")),
    ("2022.toml", include_str!("../../../seeds/calendar/2022.toml")),
    ("2023.toml", include_str!("../../../seeds/calendar/2023.toml")),
    ("2024.toml", include_str!("../../../seeds/calendar/2024.toml")),
    ("2025.toml", include_str!("../../../seeds/calendar/2025.toml")),
    ("2026.toml", include_str!("../../../seeds/calendar/2026.toml")),
];

impl Notices {
    /// No notices: every year is projected.
    pub fn empty() -> Notices {
        Notices::default()
    }

    /// The notices of 2020–2026 shipped in `seeds/calendar/` (docs/sources.md §5.2).
    pub fn builtin() -> Notices {
        let mut notices = Notices::empty();
        for (name, text) in BUILTIN {
            // The built-in files are checked by this crate's tests; a broken one is a bug.
            if let Ok(n) = Notice::parse(text, &builtin_path(name)) {
                notices.insert(n);
            }
        }
        notices
    }

    /// Adds `notice`, replacing any earlier notice of the same year.
    pub fn insert(&mut self, notice: Notice) {
        self.by_year.insert(notice.year, notice);
    }

    /// Loads every `*.toml` file of `dir` (in name order) on top of these notices.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), CalendarError> {
        let io = |e: std::io::Error| CalendarError::Io { file: dir.to_path_buf(), message: e.to_string() };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let text = crate::read_input(&file)
                .map_err(|e| CalendarError::Io { file: file.clone(), message: e.to_string() })?;
            self.insert(Notice::parse(&text, &file)?);
        }
        Ok(())
    }

    /// The notice of `year`, if any.
    pub fn get(&self, year: i32) -> Option<&Notice> {
        self.by_year.get(&year)
    }

    /// All notices in year order.
    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.by_year.values()
    }
}

type Spanned = toml::Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    year: toml::Spanned<i64>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    reference: Vec<RawReference>,
    #[serde(default)]
    day_off: Vec<RawEntry>,
    #[serde(default)]
    working_day: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReference {
    id: String,
    title: String,
    #[serde(default)]
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    date: Spanned,
    name: String,
    reference: Spanned,
}

impl Notice {
    /// Checks the notice against its year's calendar, as every command that loads it does: the
    /// built-in notices with this one in place of its year's, on the national office hours and
    /// holiday rules. A day off that is already one (a weekend, a holiday) or a make-up day that
    /// is not a day off is an error at the entry's line: `motcua check` and `motcua calendar
    /// --notices` refuse the same files with the same message.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let mut notices = Notices::builtin();
        notices.insert(self.clone());
        let year = self.year.clamp(crate::holidays::FIRST_HOLIDAY_YEAR, crate::holidays::LAST_HOLIDAY_YEAR);
        crate::WorkCalendar::builder().years(year, year).notices(notices).build().map(|_| ())
    }

    /// Parses one notice file; `file` names it in errors, which carry the line of the offending
    /// field.
    pub fn parse(text: &str, file: &Path) -> Result<Notice, CalendarError> {
        let raw: RawNotice = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
        let at = |offset: usize, message: String| CalendarError::File {
            file: file.to_path_buf(),
            line: line_of(text, offset),
            message,
        };
        let year = i32::try_from(*raw.year.get_ref())
            .ok()
            .filter(|y| (crate::holidays::FIRST_HOLIDAY_YEAR..=crate::holidays::LAST_HOLIDAY_YEAR).contains(y))
            .ok_or_else(|| {
                at(
                    raw.year.span().start,
                    format!(
                        "year: {} is outside {}..={}",
                        raw.year.get_ref(),
                        crate::holidays::FIRST_HOLIDAY_YEAR,
                        crate::holidays::LAST_HOLIDAY_YEAR
                    ),
                )
            })?;
        if raw.reference.is_empty() {
            return Err(at(0, "reference: a notice needs at least one [[reference]]".into()));
        }
        let mut entries = Vec::new();
        for (kind, field, list) in
            [(EntryKind::DayOff, "day_off", raw.day_off), (EntryKind::WorkingDay, "working_day", raw.working_day)]
        {
            for e in list {
                let line_offset = e.date.span().start;
                let date = NaiveDate::parse_from_str(e.date.get_ref().trim(), "%Y-%m-%d").map_err(|_| {
                    at(line_offset, format!("{field}.date: {:?} is not a date like \"2024-04-29\"", e.date.get_ref()))
                })?;
                if date.year() != year {
                    return Err(at(line_offset, format!("{field}.date: {date} is not in the notice's year {year}")));
                }
                if !raw.reference.iter().any(|r| &r.id == e.reference.get_ref()) {
                    return Err(at(
                        e.reference.span().start,
                        format!(
                            "{field}.reference: {:?} is not one of this file's [[reference]] ids",
                            e.reference.get_ref()
                        ),
                    ));
                }
                if let Some(dup) = entries.iter().find(|x: &&NoticeEntry| x.date == date) {
                    return Err(at(line_offset, format!("{field}.date: {date} already appears on line {}", dup.line)));
                }
                entries.push(NoticeEntry {
                    date,
                    kind,
                    name: e.name,
                    reference: e.reference.into_inner(),
                    file: file.to_path_buf(),
                    line: line_of(text, line_offset),
                });
            }
        }
        entries.sort_by_key(|e| e.date);
        let references =
            raw.reference.into_iter().map(|r| Reference { id: r.id, title: r.title, source: r.source }).collect();
        Ok(Notice { year, summary: raw.summary, references, entries, file: file.to_path_buf() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_files_parse() {
        for (name, text) in BUILTIN {
            Notice::parse(text, &builtin_path(name)).unwrap();
        }
        let n = Notices::builtin();
        assert_eq!(n.iter().map(|n| n.year).collect::<Vec<_>>(), (2020..=2026).collect::<Vec<_>>());
    }

    fn parse(text: &str) -> Result<Notice, CalendarError> {
        Notice::parse(text, Path::new("n.toml"))
    }

    const REF: &str = "[[reference]]\nid = \"A\"\ntitle = \"t\"\n";

    #[test]
    fn broken_files_name_the_line() {
        let e =
            parse(&format!("year = 2024\n{REF}[[day_off]]\ndate = \"2024-02-30\"\nname = \"x\"\nreference = \"A\"\n"))
                .unwrap_err();
        assert_eq!(e.to_string(), "n.toml:6: day_off.date: \"2024-02-30\" is not a date like \"2024-04-29\"");
        let e =
            parse(&format!("year = 2024\n{REF}[[day_off]]\ndate = \"2025-01-02\"\nname = \"x\"\nreference = \"A\"\n"))
                .unwrap_err();
        assert!(e.to_string().starts_with("n.toml:6: day_off.date: 2025-01-02 is not in"), "{e}");
        let e = parse(&format!(
            "year = 2024\n{REF}[[working_day]]\ndate = \"2024-05-04\"\nname = \"x\"\nreference = \"B\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().starts_with("n.toml:8: working_day.reference"), "{e}");
        let e = parse(&format!("year = 1999\n{REF}")).unwrap_err();
        assert!(e.to_string().starts_with("n.toml:1: year"), "{e}");
        let e = parse(&format!("year = 2024\n{REF}colour = 1\n")).unwrap_err();
        assert!(e.to_string().starts_with("n.toml:5"), "{e}");
        let e = parse("year = 2024\n").unwrap_err();
        assert!(e.to_string().contains("reference"), "{e}");
        let e = parse("year = \n").unwrap_err();
        assert!(e.to_string().starts_with("n.toml:1"), "{e}");
    }
}
