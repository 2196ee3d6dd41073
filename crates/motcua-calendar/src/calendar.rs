//! [`WorkCalendar`]: which days are working days, and working-time arithmetic over them.
//!
//! Built once for a range of years from the holiday rules, the official notices and the office
//! hours; every query afterwards is O(1) or O(log n) on precomputed tables:
//! - `cum[i]`: working minutes from the start of the range to the start of day `i`;
//! - `pattern[i]`: the office sessions of day `i` (none on a day off);
//! - `next_working[i]`, `prev_working[i]`: the nearest working day at or after / before `i`.
//!
//! The working time before an instant `t` on day `i` is `cum[i]` plus the minutes of `i`'s
//! sessions before `t`; adding working time is a search for the day whose `cum` passes the
//! target. `reference::ReferenceCalendar` does the same by walking day by day, and the tests
//! prove the two agree.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::CalendarError;
use crate::holidays::{self, Holiday, HolidayRules, FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR};
use crate::hours::{OfficeHours, Session, MAX_SESSIONS_PER_DAY};
use crate::limit::Limit;
use crate::lunar::{self, LunarDate};
use crate::notice::{EntryKind, NoticeEntry, Notices, Reference};
use crate::time::{date_from_day_number, day_number, Timestamp};

/// Why a day is, or is not, a working day.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "holiday", rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day (Monday–Friday).
    Working,
    /// A day declared a working day by a notice ("làm bù", usually a Saturday).
    MakeUp,
    /// Saturday or Sunday.
    Weekend,
    /// A statutory holiday (even when it falls on a weekend).
    Holiday(Holiday),
    /// A compensatory day off ("nghỉ bù") for a holiday that fell on a weekend.
    Compensatory(Holiday),
    /// A day off granted by a notice (e.g. a swapped weekday).
    Notice,
}

impl DayKind {
    /// The short code used in CSV output: `working`, `make_up`, `weekend`, `holiday`,
    /// `compensatory` or `notice`.
    pub fn code(self) -> &'static str {
        match self {
            DayKind::Working => "working",
            DayKind::MakeUp => "make_up",
            DayKind::Weekend => "weekend",
            DayKind::Holiday(_) => "holiday",
            DayKind::Compensatory(_) => "compensatory",
            DayKind::Notice => "notice",
        }
    }

    /// Whether offices open on such a day.
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::MakeUp)
    }
}

/// Whether a year's days off come from an official notice or from the rules alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YearStatus {
    /// A notice for the year was loaded.
    Official,
    /// Computed by the rules; the government has not (yet) published the year.
    Projected,
}

/// Everything known about one date.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Day {
    /// The date.
    pub date: NaiveDate,
    /// Why it is (not) a working day.
    pub kind: DayKind,
    /// Whether offices open.
    pub working: bool,
    /// The holiday's or notice's name ("" for ordinary days).
    pub name: String,
    /// The notice reference, for days set by a notice.
    pub reference: Option<String>,
    /// Official or projected.
    pub status: YearStatus,
    /// The lunar date.
    pub lunar: LunarDate,
    /// Office sessions (empty on a day off).
    pub sessions: Vec<Session>,
}

/// When a dossier's clock starts and when it is due.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Appointment {
    /// The receipt instant as given (minute resolution).
    pub received: Timestamp,
    /// When the clock starts (docs/rules.md §4).
    pub clock_start: Timestamp,
    /// The due time (docs/rules.md §5); `None` for a procedure without a limit.
    pub due: Option<Timestamp>,
}

/// The sessions of a day, in a fixed-size form for the hot path.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Pattern {
    spans: [(u16, u16); MAX_SESSIONS_PER_DAY],
    len: u8,
    total: u16,
}

impl Pattern {
    fn new(sessions: &[Session]) -> Pattern {
        let mut p = Pattern::default();
        for (i, s) in sessions.iter().take(MAX_SESSIONS_PER_DAY).enumerate() {
            p.spans[i] = (s.start, s.end);
            p.len += 1;
            p.total += s.minutes();
        }
        p
    }

    #[inline]
    fn spans(&self) -> &[(u16, u16)] {
        &self.spans[..self.len as usize]
    }

    /// Working minutes of this day before minute `m`.
    #[inline]
    fn worked_before(&self, m: u16) -> u32 {
        let mut w = 0u32;
        for &(s, e) in self.spans() {
            if m <= s {
                break;
            }
            w += u32::from(m.min(e) - s);
        }
        w
    }

    /// The minute of day at which `r` (1 ..= total) working minutes of this day have passed;
    /// a sum that ends exactly at a session's close gives that close.
    #[inline]
    fn minute_after(&self, mut r: u32) -> u16 {
        for &(s, e) in self.spans() {
            let len = u32::from(e - s);
            if r <= len {
                return s + r as u16;
            }
            r -= len;
        }
        self.spans().last().map_or(0, |&(_, e)| e)
    }

    #[inline]
    fn open(&self) -> u16 {
        self.spans().first().map_or(0, |&(s, _)| s)
    }

    #[inline]
    fn close(&self) -> u16 {
        self.spans().last().map_or(0, |&(_, e)| e)
    }
}

/// Builds a [`WorkCalendar`].
///
/// ```
/// use motcua_calendar::{Limit, WorkCalendar};
/// let cal = WorkCalendar::builder().years(2024, 2026).build()?;
/// // Received Friday 24/1/2025 at 16:40, after the 15:00 cut-off and before the Tết break.
/// let a = cal.appointment("2025-01-24T16:40".parse()?, Limit::working_days(3))?;
/// assert_eq!(a.clock_start.to_string(), "2025-02-03T07:00+07:00");
/// assert_eq!(a.due.unwrap().to_string(), "2025-02-05T17:00+07:00");
/// # Ok::<(), motcua_calendar::CalendarError>(())
/// ```
#[derive(Clone, Debug)]
pub struct WorkCalendarBuilder {
    first_year: i32,
    last_year: i32,
    rules: HolidayRules,
    notices: Notices,
    hours: OfficeHours,
}

impl Default for WorkCalendarBuilder {
    fn default() -> Self {
        WorkCalendarBuilder {
            first_year: 2020,
            last_year: 2030,
            rules: HolidayRules::default(),
            notices: Notices::builtin(),
            hours: OfficeHours::national_default(),
        }
    }
}

impl WorkCalendarBuilder {
    /// The years to build, inclusive (default 2020..=2030).
    pub fn years(mut self, first: i32, last: i32) -> Self {
        self.first_year = first;
        self.last_year = last;
        self
    }

    /// Holiday rule switches (default: 24/11 on from 2026).
    pub fn rules(mut self, rules: HolidayRules) -> Self {
        self.rules = rules;
        self
    }

    /// Official notices (default: the built-in 2020–2026 notices).
    pub fn notices(mut self, notices: Notices) -> Self {
        self.notices = notices;
        self
    }

    /// Office hours and cut-off (default: the national default).
    pub fn office_hours(mut self, hours: OfficeHours) -> Self {
        self.hours = hours;
        self
    }

    /// Builds the tables. Fails on a year range outside 2014..=2199 and on notice entries that
    /// contradict the rules (a day off on a day already off, a working day on a working day).
    pub fn build(self) -> Result<WorkCalendar, CalendarError> {
        WorkCalendar::build(self)
    }
}

/// Most years one calendar may span (the whole supported range).
pub const MAX_YEARS: i32 = LAST_HOLIDAY_YEAR - FIRST_HOLIDAY_YEAR + 1;

/// The working calendar of Vietnam's state agencies for a range of years.
#[derive(Clone, Debug)]
pub struct WorkCalendar {
    first_year: i32,
    last_year: i32,
    /// Local day number of 1 January of `first_year`.
    base_day: i64,
    kinds: Vec<DayKind>,
    pattern_of_day: Vec<u8>,
    season_of_day: Vec<u8>,
    patterns: Vec<Pattern>,
    /// `cum[i]` = working minutes before day `i`; `cum.len() == days + 1`.
    cum: Vec<u32>,
    /// First working day at or after `i`, or `days` if none; `len == days + 1`.
    next_working: Vec<u32>,
    /// One plus the last working day at or before `i`, or 0 if none.
    prev_working: Vec<u32>,
    notice_entries: HashMap<i64, NoticeEntry>,
    notices: Notices,
    rules: HolidayRules,
    hours: OfficeHours,
}

impl WorkCalendar {
    /// A builder with the defaults: 2020..=2030, built-in notices, national office hours.
    pub fn builder() -> WorkCalendarBuilder {
        WorkCalendarBuilder::default()
    }

    fn build(b: WorkCalendarBuilder) -> Result<WorkCalendar, CalendarError> {
        let WorkCalendarBuilder { first_year, last_year, rules, notices, hours } = b;
        if first_year > last_year || first_year < FIRST_HOLIDAY_YEAR || last_year > LAST_HOLIDAY_YEAR {
            return Err(CalendarError::InvalidYearRange {
                first: first_year,
                last: last_year,
                reason: format!("must satisfy {FIRST_HOLIDAY_YEAR} <= first <= last <= {LAST_HOLIDAY_YEAR}"),
            });
        }
        let start = NaiveDate::from_ymd_opt(first_year, 1, 1).ok_or_else(|| bad_range(first_year, last_year))?;
        let end = NaiveDate::from_ymd_opt(last_year + 1, 1, 1).ok_or_else(|| bad_range(first_year, last_year))?;
        let base_day = day_number(start);
        let n = (day_number(end) - base_day) as usize;
        let idx = |d: NaiveDate| -> Option<usize> {
            let i = day_number(d) - base_day;
            (0..n as i64).contains(&i).then_some(i as usize)
        };

        // 1. Weekends.
        let mut kinds: Vec<DayKind> = (0..n)
            .map(|i| {
                if holidays::is_weekend(date_from_day_number(base_day + i as i64)) {
                    DayKind::Weekend
                } else {
                    DayKind::Working
                }
            })
            .collect();
        // 2. Statutory holidays; a second holiday on the same date is compensated like a weekend one.
        let mut to_compensate: Vec<(NaiveDate, Holiday)> = Vec::new();
        for year in first_year..=last_year {
            for (date, h) in holidays::statutory_holidays(year, rules)? {
                let Some(i) = idx(date) else { continue };
                match kinds[i] {
                    DayKind::Holiday(_) => to_compensate.push((date, h)),
                    DayKind::Weekend => {
                        kinds[i] = DayKind::Holiday(h);
                        to_compensate.push((date, h));
                    }
                    _ => kinds[i] = DayKind::Holiday(h),
                }
            }
        }
        // 3. Notice days off.
        let mut notice_entries = HashMap::new();
        for notice in notices.iter().filter(|n| (first_year..=last_year).contains(&n.year)) {
            for e in notice.entries.iter().filter(|e| e.kind == EntryKind::DayOff) {
                let Some(i) = idx(e.date) else { continue };
                if !kinds[i].is_working() {
                    return Err(entry_error(
                        e,
                        &format!("day_off: {} is already a day off ({})", e.date, describe(kinds[i])),
                    ));
                }
                kinds[i] = DayKind::Notice;
                notice_entries.insert(day_number(e.date), e.clone());
            }
        }
        // 4. Compensation (Labour Code 2019 Art. 111(3)): holiday by holiday in date order, the
        //    next weekday that is not already a day off.
        to_compensate.sort_by_key(|&(d, _)| d);
        for (date, h) in to_compensate {
            if !h.compensated() {
                continue;
            }
            let Some(mut i) = idx(date) else { continue };
            loop {
                i += 1;
                if i >= n {
                    break;
                }
                if kinds[i] == DayKind::Working {
                    kinds[i] = DayKind::Compensatory(h);
                    break;
                }
            }
        }
        // 5. Notice working days (make-up days).
        for notice in notices.iter().filter(|n| (first_year..=last_year).contains(&n.year)) {
            for e in notice.entries.iter().filter(|e| e.kind == EntryKind::WorkingDay) {
                let Some(i) = idx(e.date) else { continue };
                if kinds[i].is_working() || kinds[i] == DayKind::Notice {
                    return Err(entry_error(
                        e,
                        &format!("working_day: {} is not a day off ({})", e.date, describe(kinds[i])),
                    ));
                }
                kinds[i] = DayKind::MakeUp;
                notice_entries.insert(day_number(e.date), e.clone());
            }
        }

        // Tables.
        let mut patterns: Vec<Pattern> = vec![Pattern::default()];
        let mut pattern_of_day = Vec::with_capacity(n);
        let mut season_of_day = Vec::with_capacity(n);
        let mut cum = Vec::with_capacity(n + 1);
        let mut total: u32 = 0;
        for (i, kind) in kinds.iter().enumerate() {
            let date = date_from_day_number(base_day + i as i64);
            season_of_day.push(hours.season_index(date) as u8);
            cum.push(total);
            let p = if kind.is_working() { Pattern::new(hours.sessions_on(date)) } else { Pattern::default() };
            let pi = match patterns.iter().position(|q| *q == p) {
                Some(pi) => pi,
                None => {
                    patterns.push(p);
                    patterns.len() - 1
                }
            };
            pattern_of_day.push(pi as u8);
            total += u32::from(p.total);
        }
        cum.push(total);
        let mut next_working = vec![n as u32; n + 1];
        for i in (0..n).rev() {
            next_working[i] = if patterns[pattern_of_day[i] as usize].len > 0 { i as u32 } else { next_working[i + 1] };
        }
        let mut prev_working = vec![0u32; n + 1];
        for i in 0..n {
            let before = if i == 0 { 0 } else { prev_working[i - 1] };
            prev_working[i] = if patterns[pattern_of_day[i] as usize].len > 0 { i as u32 + 1 } else { before };
        }
        prev_working[n] = if n == 0 { 0 } else { prev_working[n - 1] };

        Ok(WorkCalendar {
            first_year,
            last_year,
            base_day,
            kinds,
            pattern_of_day,
            season_of_day,
            patterns,
            cum,
            next_working,
            prev_working,
            notice_entries,
            notices,
            rules,
            hours,
        })
    }

    /// First year of the table.
    pub fn first_year(&self) -> i32 {
        self.first_year
    }

    /// Last year of the table.
    pub fn last_year(&self) -> i32 {
        self.last_year
    }

    /// The office hours (and cut-off) the calendar was built with.
    pub fn office_hours(&self) -> &OfficeHours {
        &self.hours
    }

    /// The holiday rule switches the calendar was built with.
    pub fn rules(&self) -> HolidayRules {
        self.rules
    }

    fn days(&self) -> usize {
        self.kinds.len()
    }

    fn out_of_range(&self, what: String) -> CalendarError {
        CalendarError::OutOfRange { what, first_year: self.first_year, last_year: self.last_year }
    }

    #[inline]
    fn date_index(&self, date: NaiveDate) -> Result<usize, CalendarError> {
        let i = day_number(date) - self.base_day;
        if (0..self.days() as i64).contains(&i) {
            Ok(i as usize)
        } else {
            Err(self.out_of_range(format!("date {date}")))
        }
    }

    #[inline]
    fn pattern(&self, i: usize) -> &Pattern {
        &self.patterns[self.pattern_of_day[i] as usize]
    }

    #[inline]
    fn at(&self, i: usize, minute: u16) -> Timestamp {
        Timestamp::from_local_day(self.base_day + i as i64, minute)
    }

    /// Whether offices open on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        Ok(self.pattern(self.date_index(date)?).len > 0)
    }

    /// The office sessions of `date` (empty on a day off).
    pub fn sessions(&self, date: NaiveDate) -> Result<Vec<Session>, CalendarError> {
        let p = self.pattern(self.date_index(date)?);
        Ok(p.spans().iter().map(|&(start, end)| Session { start, end }).collect())
    }

    /// The standard working-day length (minutes) in force on `date` (docs/rules.md §3).
    pub fn day_length(&self, date: NaiveDate) -> Result<u16, CalendarError> {
        let i = self.date_index(date)?;
        Ok(self.hours.seasons[self.season_of_day[i] as usize].day_length)
    }

    /// Whether `year` follows an official notice or is projected from the rules.
    pub fn year_status(&self, year: i32) -> YearStatus {
        if self.notices.get(year).is_some() {
            YearStatus::Official
        } else {
            YearStatus::Projected
        }
    }

    /// The references of `year`'s notice (empty when projected).
    pub fn year_references(&self, year: i32) -> &[Reference] {
        self.notices.get(year).map_or(&[], |n| n.references.as_slice())
    }

    /// Everything about one date.
    pub fn day(&self, date: NaiveDate) -> Result<Day, CalendarError> {
        let i = self.date_index(date)?;
        let kind = self.kinds[i];
        let entry = self.notice_entries.get(&day_number(date));
        let name = match (kind, entry) {
            (_, Some(e)) => e.name.clone(),
            (DayKind::Holiday(h), None) => h.name().to_string(),
            (DayKind::Compensatory(h), None) => format!("Nghỉ bù {}", h.name()),
            _ => String::new(),
        };
        Ok(Day {
            date,
            kind,
            working: kind.is_working(),
            name,
            reference: entry.map(|e| e.reference.clone()),
            status: self.year_status(date.year()),
            lunar: lunar::from_solar(date)?,
            sessions: self.sessions(date)?,
        })
    }

    /// Every day of `year`.
    pub fn year_days(&self, year: i32) -> Result<Vec<Day>, CalendarError> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| self.out_of_range(format!("year {year}")))?;
        self.date_index(first)?;
        first.iter_days().take_while(|d| d.year() == year).map(|d| self.day(d)).collect()
    }

    /// Where `t` falls: (day index, minute of day), with one division.
    #[inline]
    fn locate(&self, t: Timestamp) -> Result<Pos, CalendarError> {
        let local = t.utc_minutes().saturating_add(crate::time::VN_OFFSET_MINUTES);
        let day = local.div_euclid(crate::time::MINUTES_PER_DAY);
        let i = day - self.base_day;
        if (0..self.days() as i64).contains(&i) {
            Ok(Pos { day: i as usize, minute: (local - day * crate::time::MINUTES_PER_DAY) as u16 })
        } else {
            Err(self.out_of_range(format!("instant {t}")))
        }
    }

    #[inline]
    fn timestamp(&self, p: Pos) -> Timestamp {
        self.at(p.day, p.minute)
    }

    /// Working minutes from the start of the table to `p`.
    #[inline]
    fn worked_until(&self, p: Pos) -> u32 {
        self.cum[p.day] + self.pattern(p.day).worked_before(p.minute)
    }

    /// The earliest position by which `target` (> 0) working minutes from the start of the
    /// table have passed, searching from day `from` (whose start is before `target`).
    #[inline]
    fn position_at(&self, target: u32, from: usize) -> Result<Pos, CalendarError> {
        let n = self.days();
        if target > self.cum[n] {
            return Err(self.out_of_range("due time".to_string()));
        }
        // Gallop from `from + 1` to bracket the first j with cum[j] >= target, then bisect.
        let mut lo = from + 1;
        let mut step = 1;
        let mut hi = lo;
        while hi < n && self.cum[hi] < target {
            lo = hi + 1;
            hi = (hi + step).min(n);
            step *= 2;
        }
        let j = lo + self.cum[lo..=hi].partition_point(|&c| c < target);
        let day = j - 1;
        let r = target - self.cum[day];
        Ok(Pos { day, minute: self.pattern(day).minute_after(r) })
    }

    #[inline]
    fn add_pos(&self, p: Pos, minutes: u32) -> Result<Pos, CalendarError> {
        if minutes == 0 {
            return Ok(p);
        }
        let target =
            self.worked_until(p).checked_add(minutes).ok_or_else(|| self.out_of_range("due time".to_string()))?;
        self.position_at(target, p.day)
    }

    /// `t` plus `minutes` working minutes. When the sum ends exactly at a session's close, the
    /// result is that close (docs/rules.md §5). Adding zero returns `t`.
    ///
    /// ```
    /// use motcua_calendar::WorkCalendar;
    /// let cal = WorkCalendar::builder().years(2025, 2025).build()?;
    /// let t = "2025-04-07T16:00".parse()?; // Monday 7/4/2025 is Giỗ Tổ: a day off
    /// assert_eq!(cal.add_working_minutes(t, 60)?.to_string(), "2025-04-08T08:00+07:00");
    /// # Ok::<(), motcua_calendar::CalendarError>(())
    /// ```
    #[inline]
    pub fn add_working_minutes(&self, t: Timestamp, minutes: u32) -> Result<Timestamp, CalendarError> {
        let p = self.locate(t)?;
        if minutes == 0 {
            return Ok(t);
        }
        self.add_pos(p, minutes).map(|q| self.timestamp(q))
    }

    /// Working minutes between `a` and `b` (negative when `b` is before `a`).
    ///
    /// For every `a` and `d`: `working_minutes_between(a, add_working_minutes(a, d)) == d`.
    #[inline]
    pub fn working_minutes_between(&self, a: Timestamp, b: Timestamp) -> Result<i64, CalendarError> {
        let wa = self.worked_until(self.locate(a)?);
        let wb = self.worked_until(self.locate(b)?);
        Ok(i64::from(wb) - i64::from(wa))
    }

    /// The latest instant `p >= t` with no working time between `t` and `p`: `t` itself inside
    /// a session, otherwise the opening of the next session.
    pub fn next_working_instant(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        let Pos { day: i, minute: m } = self.locate(t)?;
        for &(s, e) in self.pattern(i).spans() {
            if m < s {
                return Ok(self.at(i, s));
            }
            if m < e {
                return Ok(t);
            }
        }
        self.first_open_after(i).map(|p| self.timestamp(p))
    }

    /// The earliest instant `p <= t` with no working time between `p` and `t`: `t` itself when
    /// an office has been open in the minute before `t`, otherwise the close of the last session
    /// before `t`. The mirror of [`WorkCalendar::next_working_instant`].
    pub fn previous_working_instant(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        let Pos { day: i, minute: m } = self.locate(t)?;
        for &(s, e) in self.pattern(i).spans().iter().rev() {
            if m > s {
                return Ok(if m > e { self.at(i, e) } else { t });
            }
        }
        let before = if i == 0 { 0 } else { self.prev_working[i - 1] as usize };
        if before == 0 {
            return Err(self.out_of_range(format!("working instant before {t}")));
        }
        let d = before - 1;
        Ok(self.at(d, self.pattern(d).close()))
    }

    /// The opening of the first working day after day `i`.
    #[inline]
    fn first_open_after(&self, i: usize) -> Result<Pos, CalendarError> {
        let d = self.next_working[i + 1] as usize;
        if d >= self.days() {
            return Err(
                self.out_of_range(format!("next working day after {}", date_from_day_number(self.base_day + i as i64)))
            );
        }
        Ok(Pos { day: d, minute: self.pattern(d).open() })
    }

    /// When the clock starts for a dossier received at `received`, with the calendar's own
    /// cut-off (docs/rules.md §4).
    pub fn clock_start(&self, received: Timestamp) -> Result<Timestamp, CalendarError> {
        self.clock_start_with_cutoff(received, self.hours.cutoff)
    }

    /// When the clock starts, with an explicit cut-off (minutes since midnight; `None` disables
    /// it). docs/rules.md §4, NĐ 61/2018 Art. 18, NĐ 63/2024:
    /// on a working day at or before the cut-off, inside a session → `received`; before the
    /// first session or in a break → the next session's opening that day; otherwise the opening
    /// of the next working day.
    #[inline]
    pub fn clock_start_with_cutoff(
        &self,
        received: Timestamp,
        cutoff: Option<u16>,
    ) -> Result<Timestamp, CalendarError> {
        let p = self.clock_start_pos(self.locate(received)?, cutoff)?;
        Ok(self.timestamp(p))
    }

    #[inline]
    fn clock_start_pos(&self, p: Pos, cutoff: Option<u16>) -> Result<Pos, CalendarError> {
        let Pos { day: i, minute: m } = p;
        let pattern = self.pattern(i);
        if pattern.len > 0 && cutoff.is_none_or(|c| m <= c) {
            for &(s, e) in pattern.spans() {
                if m < s {
                    return Ok(Pos { day: i, minute: s });
                }
                if m < e {
                    return Ok(p);
                }
            }
        }
        self.first_open_after(i)
    }

    /// The due time for a clock that started at `start` (docs/rules.md §5). `None` for
    /// [`Limit::NoDueTime`].
    #[inline]
    pub fn due_from(&self, start: Timestamp, limit: Limit) -> Result<Option<Timestamp>, CalendarError> {
        Ok(self.due_pos(self.locate(start)?, limit)?.map(|p| self.timestamp(p)))
    }

    #[inline]
    fn due_pos(&self, p: Pos, limit: Limit) -> Result<Option<Pos>, CalendarError> {
        let i = p.day;
        match limit {
            Limit::WorkingMinutes(m) => self.add_pos(p, m).map(Some),
            Limit::WorkingDays { quarters } => {
                let day = u64::from(self.hours.seasons[self.season_of_day[i] as usize].day_length);
                // Quarter days of a day length that is not a multiple of 4 round down to the minute.
                let minutes = u32::try_from(u64::from(quarters) * day / 4)
                    .map_err(|_| self.out_of_range("due time".to_string()))?;
                self.add_pos(p, minutes).map(Some)
            }
            Limit::CalendarDays(n) => {
                // Civil Code 2015 Art. 148(5): a deadline on a day off moves to the next working day.
                let k = i.saturating_add(n as usize);
                let d = if k < self.days() { self.next_working[k] as usize } else { self.days() };
                self.close_of(d).map(Some)
            }
            Limit::SameDay => self.close_of(self.next_working[i] as usize).map(Some),
            Limit::NoDueTime => Ok(None),
        }
    }

    /// The close of office hours of day `d`, which must be a working day inside the table.
    #[inline]
    fn close_of(&self, d: usize) -> Result<Pos, CalendarError> {
        if d >= self.days() {
            return Err(self.out_of_range("due time".to_string()));
        }
        Ok(Pos { day: d, minute: self.pattern(d).close() })
    }

    /// Clock start and due time of a dossier received at `received` (calendar's cut-off).
    #[inline]
    pub fn appointment(&self, received: Timestamp, limit: Limit) -> Result<Appointment, CalendarError> {
        self.appointment_with_cutoff(received, limit, self.hours.cutoff)
    }

    /// Clock start and due time with an explicit cut-off.
    #[inline]
    pub fn appointment_with_cutoff(
        &self,
        received: Timestamp,
        limit: Limit,
        cutoff: Option<u16>,
    ) -> Result<Appointment, CalendarError> {
        let start = self.clock_start_pos(self.locate(received)?, cutoff)?;
        let due = self.due_pos(start, limit)?;
        Ok(Appointment { received, clock_start: self.timestamp(start), due: due.map(|p| self.timestamp(p)) })
    }
}

/// A position in the table: day index and minute of that (local) day.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Pos {
    day: usize,
    minute: u16,
}

fn bad_range(first: i32, last: i32) -> CalendarError {
    CalendarError::InvalidYearRange { first, last, reason: "not a valid year".into() }
}

fn entry_error(e: &NoticeEntry, message: &str) -> CalendarError {
    CalendarError::File { file: e.file.clone(), line: e.line, message: message.to_string() }
}

fn describe(kind: DayKind) -> String {
    match kind {
        DayKind::Holiday(h) => h.name().to_string(),
        DayKind::Compensatory(h) => format!("nghỉ bù {}", h.name()),
        DayKind::Weekend => "weekend".into(),
        DayKind::Notice => "notice day off".into(),
        DayKind::Working => "working day".into(),
        DayKind::MakeUp => "make-up working day".into(),
    }
}

/// The English three-letter weekday (`Mon` … `Sun`).
pub fn weekday_code(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}
