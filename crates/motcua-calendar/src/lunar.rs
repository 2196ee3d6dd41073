//! The Vietnamese lunar calendar (âm lịch), computed astronomically at UTC+07:00.
//!
//! Rules (the modern Chinese-style lunisolar rules, applied in Vietnam's time zone since 1968):
//! 1. a month begins on the local (+07:00) day that contains a new moon;
//! 2. month 11 is the month that contains the winter solstice (sun at 270°);
//! 3. when 13 months lie between two months 11, the first month after month 11 that contains no
//!    major solar term (the sun crossing a multiple of 30°) is the leap month and repeats the
//!    number of the month before it;
//! 4. the lunar year starts with month 1 (Tết Nguyên Đán is 1/1).
//!
//! Because the day boundary is taken at +07:00 and not +08:00, Vietnam's calendar differs from
//! China's in some years (Tết 1985, 2007 and 2030, among others).
//!
//! The months of [`FIRST_YEAR`]..=[`LAST_YEAR`] are computed once into a table; conversions
//! are then a binary search.
//!
//! ```
//! use chrono::NaiveDate;
//! use motcua_calendar::lunar::{self, LunarDate};
//! // Tết Ất Tỵ: 1/1 of lunar year 2025 fell on 29 January 2025.
//! let tet = lunar::to_solar(LunarDate::new(2025, 1, 1, false))?;
//! assert_eq!(tet, NaiveDate::from_ymd_opt(2025, 1, 29).unwrap());
//! // 2025 had a leap sixth month: 25 July 2025 was its first day.
//! let d = lunar::from_solar(NaiveDate::from_ymd_opt(2025, 7, 25).unwrap())?;
//! assert_eq!(d.to_string(), "2025-06L-01");
//! # Ok::<(), motcua_calendar::CalendarError>(())
//! ```

use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::astro::{new_moon_jd_ut, sun_longitude_deg, JD_UNIX_EPOCH};
use crate::error::CalendarError;
use crate::time::{date_from_day_number, day_number, VN_OFFSET_MINUTES};

/// First solar year the lunar table covers.
pub const FIRST_YEAR: i32 = 1900;
/// Last solar year the lunar table covers.
pub const LAST_YEAR: i32 = 2199;

/// A date of the Vietnamese lunar calendar.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct LunarDate {
    /// Lunar year (the solar year in which its month 1 begins).
    pub year: i32,
    /// Month number, 1 ..= 12.
    pub month: u8,
    /// Whether this is the leap (intercalary) month that repeats `month`.
    pub leap: bool,
    /// Day of the month, 1 ..= 30.
    pub day: u8,
}

impl LunarDate {
    /// A lunar date (not validated; [`to_solar`] validates).
    pub const fn new(year: i32, month: u8, day: u8, leap: bool) -> Self {
        LunarDate { year, month, leap, day }
    }
}

impl fmt::Display for LunarDate {
    /// `YYYY-MM-DD`, with `L` after the month for a leap month (`2025-06L-03`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leap = if self.leap { "L" } else { "" };
        write!(f, "{:04}-{:02}{}-{:02}", self.year, self.month, leap, self.day)
    }
}

/// One lunar month of the table.
#[derive(Clone, Copy, Debug)]
struct Month {
    /// Local day number (days since 1970-01-01) of day 1.
    start: i64,
    year: i32,
    number: u8,
    leap: bool,
}

struct Table {
    /// Every month from before 1900-01-01 to after 2199-12-31, in time order; the last entry
    /// only bounds the one before it.
    months: Vec<Month>,
}

/// Mean synodic month in days (Meeus).
const SYNODIC_MONTH: f64 = 29.530_588_861;
/// Julian day of new moon k = 0 (2000-01-06), mean.
const NEW_MOON_EPOCH_JD: f64 = 2_451_550.097_66;

/// Local (+07:00) day number of the day containing new moon `k`.
fn new_moon_day(k: i64) -> i64 {
    let jd_local = new_moon_jd_ut(k) + VN_OFFSET_MINUTES as f64 / 1440.0;
    (jd_local - JD_UNIX_EPOCH).floor() as i64
}

/// Which 30° sector the sun is in at local (+07:00) midnight starting `day`: 0 = [0°, 30°),
/// …, 9 = [270°, 300°) (after the winter solstice), 11 = [330°, 360°).
fn sun_sector_at_day_start(day: i64) -> i64 {
    let jd_ut = JD_UNIX_EPOCH + day as f64 - VN_OFFSET_MINUTES as f64 / 1440.0;
    (sun_longitude_deg(jd_ut) / 30.0).floor() as i64
}

/// The new-moon number that starts month 11 of solar year `year` (the month containing the
/// December solstice).
fn month_11_k(year: i32) -> i64 {
    let dec31 = day_number(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MIN));
    let jd = JD_UNIX_EPOCH + dec31 as f64;
    let mut k = ((jd - NEW_MOON_EPOCH_JD) / SYNODIC_MONTH).floor() as i64;
    // Step back while the month starts after the solstice (sun already at or past 270°, and
    // not yet past 0°: sectors 9..=11). Bounded: at most a couple of steps.
    for _ in 0..4 {
        if sun_sector_at_day_start(new_moon_day(k)) >= 9 {
            k -= 1;
        } else {
            break;
        }
    }
    k
}

fn build_table() -> Table {
    let mut months = Vec::with_capacity(((LAST_YEAR - FIRST_YEAR + 4) * 13) as usize);
    // Suis (solstice years) from month 11 of FIRST_YEAR - 2 to month 11 of LAST_YEAR + 1 cover
    // every solar date of FIRST_YEAR..=LAST_YEAR.
    let mut a = month_11_k(FIRST_YEAR - 2);
    for solar_year in (FIRST_YEAR - 1)..=(LAST_YEAR + 1) {
        let b = month_11_k(solar_year);
        let count = b - a;
        let leap_k = if count == 13 {
            ((a + 1)..b)
                .find(|&k| sun_sector_at_day_start(new_moon_day(k)) == sun_sector_at_day_start(new_moon_day(k + 1)))
        } else {
            None
        };
        let mut number: u8 = 11;
        let mut lunar_year = solar_year - 1;
        for k in a..b {
            let leap = Some(k) == leap_k;
            if k != a && !leap {
                number = if number == 12 { 1 } else { number + 1 };
                if number == 1 {
                    lunar_year = solar_year;
                }
            }
            months.push(Month { start: new_moon_day(k), year: lunar_year, number, leap });
        }
        a = b;
    }
    months.push(Month { start: new_moon_day(a), year: LAST_YEAR + 1, number: 11, leap: false });
    Table { months }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build_table)
}

fn check_solar(date: NaiveDate) -> Result<(), CalendarError> {
    use chrono::Datelike;
    if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        Ok(())
    } else {
        Err(CalendarError::OutOfRange { what: format!("date {date}"), first_year: FIRST_YEAR, last_year: LAST_YEAR })
    }
}

/// The lunar date of a solar date in 1900..=2199.
pub fn from_solar(date: NaiveDate) -> Result<LunarDate, CalendarError> {
    check_solar(date)?;
    let day = day_number(date);
    let months = &table().months;
    let i = months.partition_point(|m| m.start <= day);
    // check_solar guarantees 0 < i < months.len().
    let m = months.get(i.wrapping_sub(1)).ok_or_else(|| CalendarError::OutOfRange {
        what: format!("date {date}"),
        first_year: FIRST_YEAR,
        last_year: LAST_YEAR,
    })?;
    Ok(LunarDate { year: m.year, month: m.number, leap: m.leap, day: (day - m.start + 1) as u8 })
}

/// The solar date of a lunar date, if it exists and falls in 1900..=2199.
pub fn to_solar(date: LunarDate) -> Result<NaiveDate, CalendarError> {
    let invalid = |reason: &str| CalendarError::InvalidLunarDate {
        year: date.year,
        month: date.month,
        day: date.day,
        leap: date.leap,
        reason: reason.to_string(),
    };
    if !(1..=12).contains(&date.month) {
        return Err(invalid("month must be 1..=12"));
    }
    if !(1..=30).contains(&date.day) {
        return Err(invalid("day must be 1..=30"));
    }
    let months = &table().months;
    let key = (date.year, date.month, date.leap);
    let i = months.partition_point(|m| (m.year, m.number, m.leap) < key);
    let (Some(m), Some(next)) = (months.get(i), months.get(i + 1)) else {
        return Err(invalid("outside the supported years 1900..=2199"));
    };
    if (m.year, m.number, m.leap) != key {
        return Err(invalid(if date.leap {
            "that year has no such leap month"
        } else {
            "outside the supported years 1900..=2199"
        }));
    }
    let length = next.start - m.start;
    if i64::from(date.day) > length {
        return Err(invalid(&format!("that month has {length} days")));
    }
    let solar = date_from_day_number(m.start + i64::from(date.day) - 1);
    check_solar(solar).map_err(|_| invalid("outside the supported years 1900..=2199"))?;
    Ok(solar)
}

/// The solar date of Tết Nguyên Đán (lunar 1/1) of `year`.
pub fn tet(year: i32) -> Result<NaiveDate, CalendarError> {
    to_solar(LunarDate::new(year, 1, 1, false))
}

/// The solar date of Giỗ Tổ Hùng Vương (lunar 10/3, never the leap month) of `year`.
pub fn hung_kings(year: i32) -> Result<NaiveDate, CalendarError> {
    to_solar(LunarDate::new(year, 3, 10, false))
}

/// The leap month of lunar year `year`, if it has one.
pub fn leap_month(year: i32) -> Option<u8> {
    table().months.iter().find(|m| m.year == year && m.leap).map(|m| m.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn tet_2020_to_2027_as_in_domain_brief() {
        // docs/sources.md §5.1 (S22).
        let expected = [
            (2020, d(2020, 1, 25)),
            (2021, d(2021, 2, 12)),
            (2022, d(2022, 2, 1)),
            (2023, d(2023, 1, 22)),
            (2024, d(2024, 2, 10)),
            (2025, d(2025, 1, 29)),
            (2026, d(2026, 2, 17)),
            (2027, d(2027, 2, 6)),
        ];
        for (year, date) in expected {
            assert_eq!(tet(year).unwrap(), date, "Tết {year}");
        }
    }

    #[test]
    fn months_have_29_or_30_days_and_run_in_order() {
        let months = &table().months;
        for w in months.windows(2) {
            let len = w[1].start - w[0].start;
            assert!(len == 29 || len == 30, "{:?} has {len} days", w[0]);
        }
    }

    #[test]
    fn every_day_round_trips() {
        let mut day = d(FIRST_YEAR, 1, 1);
        let last = d(LAST_YEAR, 12, 31);
        let mut previous: Option<LunarDate> = None;
        while day <= last {
            let l = from_solar(day).unwrap();
            assert_eq!(to_solar(l).unwrap(), day, "{l}");
            if let Some(p) = previous {
                assert!(p < l, "lunar dates must increase: {p} then {l}");
            }
            previous = Some(l);
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn leap_years_have_one_leap_month() {
        assert_eq!(leap_month(2025), Some(6));
        assert_eq!(leap_month(2023), Some(2));
        assert_eq!(leap_month(2024), None);
    }

    #[test]
    fn invalid_dates_are_errors() {
        assert!(to_solar(LunarDate::new(2024, 13, 1, false)).is_err());
        assert!(to_solar(LunarDate::new(2024, 2, 1, true)).is_err());
        assert!(to_solar(LunarDate::new(1800, 1, 1, false)).is_err());
        assert!(from_solar(d(2200, 1, 1)).is_err());
        assert!(from_solar(d(1899, 12, 31)).is_err());
    }
}
