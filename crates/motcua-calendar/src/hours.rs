//! Office hours (giờ làm việc hành chính) and the receipt cut-off (docs/rules.md §3–§4).
//!
//! National default: Monday–Friday 07:00–11:30 and 13:30–17:00, 8 working hours a day
//! (QĐ 188/1999/QĐ-TTg Art. 1 fixes 40 hours over five days; daily hours are set by each
//! province, docs/sources.md §5.4). Cut-off 15:00 (NĐ 61/2018 Art. 18; NĐ 63/2024).
//!
//! A province overrides them with a TOML file:
//!
//! ```toml
//! name = "Nghệ An"
//! reference = "UBND tỉnh Nghệ An, giờ làm việc mùa hè / mùa đông"
//! cutoff = "15:00"            # or "none"
//!
//! [[season]]
//! name = "Mùa hè"
//! from = "04-16"              # MM-DD; a season runs until the next season's start
//! sessions = ["07:00-11:30", "13:30-17:00"]
//!
//! [[season]]
//! name = "Mùa đông"
//! from = "10-16"
//! sessions = ["07:30-12:00", "13:30-17:00"]
//! fri = ["07:30-12:00"]       # optional per-weekday sessions (mon..fri)
//! day_length = "08:00"        # optional; default: Monday's total
//! ```
//!
//! Without `[[season]]`, the top level takes `sessions`, `mon`..`fri` and `day_length` for a
//! schedule that holds all year.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{line_of, CalendarError};
use crate::time::{format_minute_of_day, parse_minute_of_day};

/// Most office sessions in one day.
pub const MAX_SESSIONS_PER_DAY: usize = 4;

/// The legal default cut-off: 15:00 (NĐ 61/2018 Art. 18; NĐ 63/2024).
pub const DEFAULT_CUTOFF: u16 = 15 * 60;

/// An office session, `[start, end)` in minutes since local midnight.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Session {
    /// Opening, minutes since midnight.
    pub start: u16,
    /// Closing, minutes since midnight (after `start`).
    pub end: u16,
}

impl Session {
    /// Length in minutes.
    pub const fn minutes(self) -> u16 {
        self.end - self.start
    }
}

impl std::fmt::Display for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", format_minute_of_day(self.start), format_minute_of_day(self.end))
    }
}

/// A season of office hours: from its start (month, day) until the next season's start.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Season {
    /// Name, e.g. "Mùa hè".
    pub name: String,
    /// First (month, day) of the season.
    pub from: (u32, u32),
    /// Sessions for Monday..=Friday (index 0 = Monday).
    pub weekdays: [Vec<Session>; 5],
    /// The standard working day of this season, in minutes (docs/rules.md §3: one working day =
    /// the standard day length of the schedule in force).
    pub day_length: u16,
}

/// Office hours of a province (or the national default) plus its receipt cut-off.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OfficeHours {
    /// Name of the schedule.
    pub name: String,
    /// The decision or notice it follows.
    pub reference: String,
    /// Receipt cut-off in minutes since midnight; `None` disables it (docs/rules.md §4).
    pub cutoff: Option<u16>,
    /// Seasons ordered by start; at least one.
    pub seasons: Vec<Season>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours::national_default()
    }
}

impl OfficeHours {
    /// The national default: Monday–Friday 07:00–11:30 and 13:30–17:00, cut-off 15:00.
    pub fn national_default() -> OfficeHours {
        let day = vec![Session { start: 7 * 60, end: 11 * 60 + 30 }, Session { start: 13 * 60 + 30, end: 17 * 60 }];
        OfficeHours {
            name: "Mặc định toàn quốc".into(),
            reference: "QĐ 188/1999/QĐ-TTg Điều 1 (40 giờ/5 ngày); giờ 07:00–11:30, 13:30–17:00 (docs/rules.md §3); \
                        cut-off 15:00 (NĐ 61/2018 Điều 18, NĐ 63/2024)"
                .into(),
            cutoff: Some(DEFAULT_CUTOFF),
            seasons: vec![Season {
                name: "Cả năm".into(),
                from: (1, 1),
                weekdays: [day.clone(), day.clone(), day.clone(), day.clone(), day],
                day_length: 480,
            }],
        }
    }

    /// The season in force on `date`.
    pub fn season_index(&self, date: NaiveDate) -> usize {
        let md = (date.month(), date.day());
        // The last season whose start is on or before `md`; before the first start, the last
        // season of the year (it wraps around New Year).
        match self.seasons.iter().rposition(|s| s.from <= md) {
            Some(i) => i,
            None => self.seasons.len().saturating_sub(1),
        }
    }

    /// Sessions of a working `date`: its weekday's sessions, and Monday's for a make-up
    /// Saturday or Sunday (docs/rules.md §3: a make-up day keeps an ordinary weekday's sessions).
    pub fn sessions_on(&self, date: NaiveDate) -> &[Session] {
        let season = &self.seasons[self.season_index(date)];
        let i = match date.weekday() {
            Weekday::Sat | Weekday::Sun => 0,
            w => w.num_days_from_monday() as usize,
        };
        &season.weekdays[i]
    }

    /// Reads a province override file.
    pub fn load(path: &Path) -> Result<OfficeHours, CalendarError> {
        let text = crate::read_input(path)
            .map_err(|e| CalendarError::Io { file: path.to_path_buf(), message: e.to_string() })?;
        OfficeHours::parse(&text, path)
    }

    /// Parses a province override file; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<OfficeHours, CalendarError> {
        let raw: RawHours = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
        raw.validate(text, file)
    }
}

pub(crate) fn toml_error(text: &str, file: &Path, e: &toml::de::Error) -> CalendarError {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
    CalendarError::File { file: file.to_path_buf(), line, message: e.message().to_string() }
}

type Spanned = toml::Spanned<String>;

// The weekly fields repeat in `RawSeason` and `RawHours` because serde's `flatten` works with
// neither `deny_unknown_fields` nor `Spanned`, and both matter more here (typos are errors;
// errors carry lines).
struct RawWeek {
    sessions: Option<Vec<Spanned>>,
    mon: Option<Vec<Spanned>>,
    tue: Option<Vec<Spanned>>,
    wed: Option<Vec<Spanned>>,
    thu: Option<Vec<Spanned>>,
    fri: Option<Vec<Spanned>>,
    day_length: Option<Spanned>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeason {
    name: String,
    from: Spanned,
    sessions: Option<Vec<Spanned>>,
    mon: Option<Vec<Spanned>>,
    tue: Option<Vec<Spanned>>,
    wed: Option<Vec<Spanned>>,
    thu: Option<Vec<Spanned>>,
    fri: Option<Vec<Spanned>>,
    day_length: Option<Spanned>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    name: String,
    #[serde(default)]
    reference: String,
    cutoff: Option<Spanned>,
    #[serde(default)]
    season: Vec<RawSeason>,
    sessions: Option<Vec<Spanned>>,
    mon: Option<Vec<Spanned>>,
    tue: Option<Vec<Spanned>>,
    wed: Option<Vec<Spanned>>,
    thu: Option<Vec<Spanned>>,
    fri: Option<Vec<Spanned>>,
    day_length: Option<Spanned>,
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, at: &Spanned, message: String) -> CalendarError {
        CalendarError::File { file: self.file.to_path_buf(), line: line_of(self.text, at.span().start), message }
    }

    fn whole(&self, message: String) -> CalendarError {
        CalendarError::File { file: self.file.to_path_buf(), line: 1, message }
    }

    fn sessions(&self, field: &str, raw: &[Spanned]) -> Result<Vec<Session>, CalendarError> {
        let mut out: Vec<Session> = Vec::with_capacity(raw.len());
        if raw.len() > MAX_SESSIONS_PER_DAY {
            if let Some(s) = raw.get(MAX_SESSIONS_PER_DAY) {
                return Err(self.err(s, format!("{field}: at most {MAX_SESSIONS_PER_DAY} sessions a day")));
            }
        }
        for s in raw {
            let parsed =
                s.get_ref().split_once('-').and_then(|(a, b)| Some((parse_minute_of_day(a)?, parse_minute_of_day(b)?)));
            let Some((start, end)) = parsed else {
                return Err(self.err(s, format!("{field}: {:?} is not a session like \"07:00-11:30\"", s.get_ref())));
            };
            if start >= end {
                return Err(self.err(s, format!("{field}: session {:?} ends before it starts", s.get_ref())));
            }
            if let Some(prev) = out.last() {
                if start < prev.end {
                    return Err(self
                        .err(s, format!("{field}: session {:?} overlaps or precedes the one before it", s.get_ref())));
                }
            }
            out.push(Session { start, end });
        }
        Ok(out)
    }

    fn week(&self, label: &str, w: &RawWeek) -> Result<([Vec<Session>; 5], u16), CalendarError> {
        let default = match &w.sessions {
            Some(s) => self.sessions(&format!("{label}sessions"), s)?,
            None => Vec::new(),
        };
        let mut days: [Vec<Session>; 5] = Default::default();
        let per_day = [("mon", &w.mon), ("tue", &w.tue), ("wed", &w.wed), ("thu", &w.thu), ("fri", &w.fri)];
        for (i, (name, raw)) in per_day.iter().enumerate() {
            days[i] = match raw {
                Some(s) => self.sessions(&format!("{label}{name}"), s)?,
                None => default.clone(),
            };
        }
        if days.iter().all(Vec::is_empty) {
            return Err(self.whole(format!("{label}sessions: no office session on any weekday")));
        }
        let day_length = match &w.day_length {
            Some(s) => match parse_minute_of_day(s.get_ref()) {
                Some(m) if m > 0 => m,
                _ => {
                    return Err(
                        self.err(s, format!("{label}day_length: {:?} is not a duration like \"08:00\"", s.get_ref()))
                    )
                }
            },
            None => {
                let monday: u16 = days[0].iter().map(|s| s.minutes()).sum();
                if monday == 0 {
                    return Err(self.whole(format!("{label}day_length: Monday has no session; set day_length")));
                }
                monday
            }
        };
        Ok((days, day_length))
    }
}

fn parse_month_day(s: &str) -> Option<(u32, u32)> {
    let (m, d) = s.trim().split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    // 2024 is a leap year, so 02-29 is accepted.
    NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d))
}

impl RawHours {
    fn validate(self, text: &str, file: &Path) -> Result<OfficeHours, CalendarError> {
        let ctx = Ctx { text, file };
        let cutoff = match &self.cutoff {
            None => Some(DEFAULT_CUTOFF),
            Some(s) if s.get_ref().trim().eq_ignore_ascii_case("none") => None,
            Some(s) => match parse_minute_of_day(s.get_ref()) {
                Some(m) => Some(m),
                None => {
                    return Err(
                        ctx.err(s, format!("cutoff: {:?} is not a time like \"15:00\" or \"none\"", s.get_ref()))
                    )
                }
            },
        };
        let top = RawWeek {
            sessions: self.sessions,
            mon: self.mon,
            tue: self.tue,
            wed: self.wed,
            thu: self.thu,
            fri: self.fri,
            day_length: self.day_length,
        };
        let has_top = top.sessions.is_some()
            || top.mon.is_some()
            || top.tue.is_some()
            || top.wed.is_some()
            || top.thu.is_some()
            || top.fri.is_some();
        let mut seasons = Vec::new();
        if self.season.is_empty() {
            let (weekdays, day_length) = ctx.week("", &top)?;
            seasons.push(Season { name: "Cả năm".into(), from: (1, 1), weekdays, day_length });
        } else {
            if has_top {
                return Err(
                    ctx.whole("sessions: give them either at the top level or in [[season]] tables, not both".into())
                );
            }
            for (i, s) in self.season.into_iter().enumerate() {
                let Some(from) = parse_month_day(s.from.get_ref()) else {
                    return Err(ctx.err(
                        &s.from,
                        format!("season[{i}].from: {:?} is not a day like \"04-16\"", s.from.get_ref()),
                    ));
                };
                let week = RawWeek {
                    sessions: s.sessions,
                    mon: s.mon,
                    tue: s.tue,
                    wed: s.wed,
                    thu: s.thu,
                    fri: s.fri,
                    day_length: s.day_length,
                };
                let (weekdays, day_length) = ctx.week(&format!("season[{i}]."), &week)?;
                seasons.push(Season { name: s.name, from, weekdays, day_length });
            }
            seasons.sort_by_key(|s| s.from);
            if let Some(w) = seasons.windows(2).find(|w| w[0].from == w[1].from) {
                return Err(ctx.whole(format!("season: two seasons start on {:02}-{:02}", w[0].from.0, w[0].from.1)));
            }
        }
        Ok(OfficeHours { name: self.name, reference: self.reference, cutoff, seasons })
    }
}

/// A label for errors in built-in data.
pub(crate) fn builtin_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<built-in>/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OfficeHours, CalendarError> {
        OfficeHours::parse(text, Path::new("hours.toml"))
    }

    #[test]
    fn seasonal_file() {
        let h = parse(
            r#"
name = "Nghệ An"
cutoff = "15:00"
[[season]]
name = "Mùa hè"
from = "04-16"
sessions = ["07:00-11:30", "13:30-17:00"]
[[season]]
name = "Mùa đông"
from = "10-16"
sessions = ["07:30-12:00", "13:30-17:00"]
"#,
        )
        .unwrap();
        assert_eq!(h.seasons.len(), 2);
        let jan = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap();
        let jul = NaiveDate::from_ymd_opt(2025, 7, 7).unwrap();
        assert_eq!(h.sessions_on(jan)[0].start, 7 * 60 + 30);
        assert_eq!(h.sessions_on(jul)[0].start, 7 * 60);
        assert_eq!(h.seasons[0].day_length, 480);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = parse("name = \"x\"\nsessions = [\"07:00-11:30\", \"11:00-17:00\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("hours.toml:2: sessions:"), "{e}");
        let e = parse("name = \"x\"\nsessions = [\"7h-11h\"]\n").unwrap_err();
        assert!(e.to_string().contains("hours.toml:2"), "{e}");
        let e = parse("name = \"x\"\ncutoff = \"25:00\"\nsessions = [\"07:00-11:30\"]\n").unwrap_err();
        assert!(e.to_string().starts_with("hours.toml:2: cutoff"), "{e}");
        let e = parse("name = \"x\"\nsessions = [\"07:00-11:30\"]\nsat = [\"07:00-11:00\"]\n").unwrap_err();
        assert!(e.to_string().contains("hours.toml:3"), "{e}");
        assert!(parse("name = \"x\"\n").is_err());
    }

    #[test]
    fn cutoff_none() {
        let h = parse("name = \"x\"\ncutoff = \"none\"\nsessions = [\"07:00-11:30\"]\n").unwrap();
        assert_eq!(h.cutoff, None);
    }
}
