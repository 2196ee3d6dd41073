//! Statutory holidays and the rules that place them (docs/rules.md §2).
//!
//! Legal sources: Labour Code 2019 (Bộ luật Lao động 45/2019/QH14) Art. 112 (holidays, from
//! 2021) and Art. 111(3) (a holiday on a weekly rest day is compensated on the next working day);
//! Labour Code 2012 (10/2012/QH13) Art. 115 before 2021; QĐ 188/1999/QĐ-TTg (Saturday and Sunday
//! are the civil service's weekly rest days). The Prime Minister fixes the Tết days and the extra
//! National Day each year; the two rules below reproduce every official break of 2020–2026
//! (docs/sources.md §5.2) and are used for any year, official notices adding what rules cannot know.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::CalendarError;
use crate::lunar;

/// First year whose holidays the rules model: the Labour Code 2012 (in force 1/5/2013) governs
/// the whole of 2014; before that Tết was four days (Labour Code 1994 as amended in 2007).
pub const FIRST_HOLIDAY_YEAR: i32 = 2014;
/// Last year whose holidays the rules model (the lunar table ends in 2199).
pub const LAST_HOLIDAY_YEAR: i32 = 2199;

/// The version of the Labour Code that fixes a year's statutory holidays.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum LabourCode {
    /// Bộ luật Lao động 2012, Art. 115: National Day is one day (2/9).
    Code2012,
    /// Bộ luật Lao động 2019, Art. 112 (from 1/1/2021): National Day is 2/9 plus one adjacent day.
    Code2019,
}

impl LabourCode {
    /// The code in force for `year`.
    pub fn for_year(year: i32) -> LabourCode {
        if year >= 2021 {
            LabourCode::Code2019
        } else {
            LabourCode::Code2012
        }
    }

    /// The article that lists the holidays.
    pub fn article(self) -> &'static str {
        match self {
            LabourCode::Code2012 => "Bộ luật Lao động 2012, Điều 115",
            LabourCode::Code2019 => "Bộ luật Lao động 2019, Điều 112",
        }
    }
}

/// A statutory holiday.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holiday {
    /// Tết Dương lịch, 1/1.
    NewYear,
    /// Tết Nguyên Đán: five weekdays, see [`tet_days`].
    LunarNewYear,
    /// Giỗ Tổ Hùng Vương, 10/3 lunar.
    HungKings,
    /// Ngày Chiến thắng, 30/4.
    VictoryDay,
    /// Ngày Quốc tế lao động, 1/5.
    LabourDay,
    /// Quốc khánh, 2/9.
    NationalDay,
    /// The day adjacent to 2/9 (from 2021), see [`national_day_extra`].
    NationalDayExtra,
    /// Ngày Văn hóa Việt Nam, 24/11 (from 2026, behind a policy switch).
    CultureDay,
}

impl Holiday {
    /// The holiday's Vietnamese name.
    pub fn name(self) -> &'static str {
        match self {
            Holiday::NewYear => "Tết Dương lịch",
            Holiday::LunarNewYear => "Tết Nguyên Đán",
            Holiday::HungKings => "Giỗ Tổ Hùng Vương",
            Holiday::VictoryDay => "Ngày Chiến thắng",
            Holiday::LabourDay => "Ngày Quốc tế lao động",
            Holiday::NationalDay => "Quốc khánh",
            Holiday::NationalDayExtra => "Quốc khánh (ngày liền kề)",
            Holiday::CultureDay => "Ngày Văn hóa Việt Nam",
        }
    }

    /// Whether a weekend occurrence is compensated by a later weekday. Tết days and the extra
    /// National Day are chosen among weekdays, so they never fall on a weekend.
    pub fn compensated(self) -> bool {
        !matches!(self, Holiday::LunarNewYear | Holiday::NationalDayExtra)
    }
}

/// The holiday rule switches a province or a caller may change.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct HolidayRules {
    /// Ngày Văn hóa Việt Nam (24/11) as a paid day off from 2026 (Politburo Resolution
    /// 80-NQ/TW, January 2026; the Labour Code amendment was still pending in our latest source,
    /// so this is a policy switch). Default: on.
    pub culture_day: bool,
}

impl Default for HolidayRules {
    fn default() -> Self {
        HolidayRules { culture_day: true }
    }
}

/// First year of Ngày Văn hóa Việt Nam as a day off.
pub const CULTURE_DAY_FIRST_YEAR: i32 = 2026;

fn date(year: i32, month: u32, day: u32) -> Result<NaiveDate, CalendarError> {
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| CalendarError::OutOfRange {
        what: format!("{year}-{month:02}-{day:02}"),
        first_year: FIRST_HOLIDAY_YEAR,
        last_year: LAST_HOLIDAY_YEAR,
    })
}

/// Whether `d` is a Saturday or Sunday.
pub fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The five Tết days off of lunar year `year`: the five weekdays counted from the first weekday
/// on or after (mùng 1 − 2 days). docs/rules.md §2; reproduces 2020–2026.
///
/// ```
/// use chrono::NaiveDate;
/// let days = motcua_calendar::holidays::tet_days(2025)?;
/// assert_eq!(days[0], NaiveDate::from_ymd_opt(2025, 1, 27).unwrap());
/// assert_eq!(days[4], NaiveDate::from_ymd_opt(2025, 1, 31).unwrap());
/// # Ok::<(), motcua_calendar::CalendarError>(())
/// ```
pub fn tet_days(year: i32) -> Result<[NaiveDate; 5], CalendarError> {
    let mut d = lunar::tet(year)? - Duration::days(2);
    let mut days = [d; 5];
    let mut n = 0;
    while n < 5 {
        if !is_weekend(d) {
            days[n] = d;
            n += 1;
        }
        d += Duration::days(1);
    }
    Ok(days)
}

/// The extra National Day (from 2021): 3/9 when 2/9 falls on a Monday, Thursday or Sunday,
/// otherwise 1/9. docs/rules.md §2; reproduces 2021–2026.
pub fn national_day_extra(year: i32) -> Result<NaiveDate, CalendarError> {
    let national = date(year, 9, 2)?;
    match national.weekday() {
        Weekday::Mon | Weekday::Thu | Weekday::Sun => date(year, 9, 3),
        _ => date(year, 9, 1),
    }
}

/// Every statutory holiday date of `year`, in date order (before compensation).
pub fn statutory_holidays(year: i32, rules: HolidayRules) -> Result<Vec<(NaiveDate, Holiday)>, CalendarError> {
    if !(FIRST_HOLIDAY_YEAR..=LAST_HOLIDAY_YEAR).contains(&year) {
        return Err(CalendarError::OutOfRange {
            what: format!("holidays of {year}"),
            first_year: FIRST_HOLIDAY_YEAR,
            last_year: LAST_HOLIDAY_YEAR,
        });
    }
    let mut out = vec![(date(year, 1, 1)?, Holiday::NewYear)];
    out.extend(tet_days(year)?.into_iter().map(|d| (d, Holiday::LunarNewYear)));
    out.push((lunar::hung_kings(year)?, Holiday::HungKings));
    out.push((date(year, 4, 30)?, Holiday::VictoryDay));
    out.push((date(year, 5, 1)?, Holiday::LabourDay));
    out.push((date(year, 9, 2)?, Holiday::NationalDay));
    if LabourCode::for_year(year) == LabourCode::Code2019 {
        out.push((national_day_extra(year)?, Holiday::NationalDayExtra));
    }
    if rules.culture_day && year >= CULTURE_DAY_FIRST_YEAR {
        out.push((date(year, 11, 24)?, Holiday::CultureDay));
    }
    out.sort_by_key(|&(d, _)| d);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn tet_breaks_2020_to_2026() {
        // docs/sources.md §5.2, official weekdays of each break.
        let first = [
            (2020, d(2020, 1, 23)),
            (2021, d(2021, 2, 10)),
            (2022, d(2022, 1, 31)),
            (2023, d(2023, 1, 20)),
            (2024, d(2024, 2, 8)),
            (2025, d(2025, 1, 27)),
            (2026, d(2026, 2, 16)),
        ];
        for (year, start) in first {
            assert_eq!(tet_days(year).unwrap()[0], start, "{year}");
        }
    }

    #[test]
    fn national_day_extra_2021_to_2026() {
        assert_eq!(national_day_extra(2021).unwrap(), d(2021, 9, 3));
        assert_eq!(national_day_extra(2022).unwrap(), d(2022, 9, 1));
        assert_eq!(national_day_extra(2023).unwrap(), d(2023, 9, 1));
        assert_eq!(national_day_extra(2024).unwrap(), d(2024, 9, 3));
        assert_eq!(national_day_extra(2025).unwrap(), d(2025, 9, 1));
        assert_eq!(national_day_extra(2026).unwrap(), d(2026, 9, 1));
    }

    #[test]
    fn labour_code_2012_has_one_national_day() {
        let h = statutory_holidays(2020, HolidayRules::default()).unwrap();
        assert!(!h.iter().any(|&(_, h)| h == Holiday::NationalDayExtra));
        let h = statutory_holidays(2021, HolidayRules::default()).unwrap();
        assert!(h.iter().any(|&(_, h)| h == Holiday::NationalDayExtra));
    }

    #[test]
    fn culture_day_switch() {
        let on = statutory_holidays(2026, HolidayRules { culture_day: true }).unwrap();
        assert!(on.contains(&(d(2026, 11, 24), Holiday::CultureDay)));
        let off = statutory_holidays(2026, HolidayRules { culture_day: false }).unwrap();
        assert!(!off.iter().any(|&(_, h)| h == Holiday::CultureDay));
        let before = statutory_holidays(2025, HolidayRules { culture_day: true }).unwrap();
        assert!(!before.iter().any(|&(_, h)| h == Holiday::CultureDay));
    }

    #[test]
    fn out_of_range_years_are_errors() {
        assert!(statutory_holidays(2013, HolidayRules::default()).is_err());
        assert!(statutory_holidays(2200, HolidayRules::default()).is_err());
    }
}
