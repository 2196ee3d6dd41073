//! Time limits (thời hạn giải quyết) in the four kinds docs/rules.md §5 defines.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::CalendarError;

/// Largest limit accepted, in days of any kind (ten years): no procedure comes near it, and the
/// bound keeps every search finite.
pub const MAX_LIMIT_DAYS: u32 = 3650;

/// A procedure's time limit.
///
/// Parsed from `N working days` (N in steps of 0.25), `N working hours` (steps of 0.25 h),
/// `N days` (calendar days), `same day`, or `no due time`; singular forms, a decimal comma and
/// the Vietnamese phrases (`N ngày làm việc`, `N giờ làm việc`, `N ngày`, `trong ngày`,
/// `không quy định`) are accepted too.
///
/// ```
/// use motcua_calendar::Limit;
/// assert_eq!("3 working days".parse::<Limit>()?, Limit::WorkingDays { quarters: 12 });
/// assert_eq!("0,5 ngày làm việc".parse::<Limit>()?, Limit::WorkingDays { quarters: 2 });
/// assert_eq!("30 days".parse::<Limit>()?, Limit::CalendarDays(30));
/// assert!("0.3 working days".parse::<Limit>().is_err());
/// # Ok::<(), motcua_calendar::CalendarError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Limit {
    /// N working hours, stored as working minutes (a multiple of 15).
    WorkingMinutes(u32),
    /// N working days, stored in quarter days (docs/sources.md §1.10: 0.25-day steps are common).
    WorkingDays {
        /// Number of quarter days.
        quarters: u32,
    },
    /// N calendar days (Civil Code 2015 Art. 148(5): a deadline on a day off moves to the next
    /// working day).
    CalendarDays(u32),
    /// Within the day of the clock start ("trong ngày").
    SameDay,
    /// No statutory limit: never late.
    NoDueTime,
}

impl Limit {
    /// How many years past the clock start's year a calendar must cover for this limit to find
    /// its due time: a year has at least 240 working days (weekends and the statutory holidays
    /// leave about 250), so N working days reach at most N / 240 years further, N calendar days
    /// N / 365; plus two, for a due time pushed past a year's last working day and a start late
    /// in its year. Callers building a calendar for receipts use it instead of a fixed window.
    ///
    /// ```
    /// use motcua_calendar::Limit;
    /// assert_eq!(Limit::working_days(3).years_ahead(), 2);
    /// assert_eq!("3650 days".parse::<Limit>().unwrap().years_ahead(), 12);
    /// ```
    pub fn years_ahead(self) -> i32 {
        let years = match self {
            Limit::WorkingMinutes(m) => u64::from(m) / (480 * 240),
            Limit::WorkingDays { quarters } => u64::from(quarters) / (4 * 240),
            Limit::CalendarDays(d) => u64::from(d) / 365,
            Limit::SameDay | Limit::NoDueTime => 0,
        };
        // Past the calendar's range anyway: the due computation then says so.
        i32::try_from(years.min(1_000)).unwrap_or(1_000) + 2
    }

    /// `n` working days (saturating; a limit too long for the calendar is an error there).
    pub const fn working_days(n: u32) -> Limit {
        Limit::WorkingDays { quarters: n.saturating_mul(4) }
    }

    /// `n` working hours (saturating).
    pub const fn working_hours(n: u32) -> Limit {
        Limit::WorkingMinutes(n.saturating_mul(60))
    }
}

/// Parses a non-negative decimal in steps of 0.25 into quarters.
fn parse_quarters(s: &str) -> Result<u32, String> {
    let s = s.replace(',', ".");
    if s.starts_with('-') {
        return Err("must not be negative".into());
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s.as_str(), ""),
    };
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!("{s:?} is not a number"));
    }
    let whole: u32 = if int.is_empty() { 0 } else { int.parse().map_err(|_| format!("{s:?} is too large"))? };
    let frac = frac.trim_end_matches('0');
    let q = match frac {
        "" => 0,
        "25" => 1,
        "5" => 2,
        "75" => 3,
        _ => return Err(format!("{s} is not a multiple of 0.25")),
    };
    whole.checked_mul(4).and_then(|w| w.checked_add(q)).ok_or_else(|| format!("{s:?} is too large"))
}

fn format_quarters(q: u32) -> String {
    match q % 4 {
        0 => format!("{}", q / 4),
        1 => format!("{}.25", q / 4),
        2 => format!("{}.5", q / 4),
        _ => format!("{}.75", q / 4),
    }
}

impl FromStr for Limit {
    type Err = CalendarError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| CalendarError::ParseLimit { input: input.to_string(), reason };
        let lower = input.trim().to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let phrase = words.join(" ");
        match phrase.as_str() {
            "same day" | "same-day" | "trong ngày" => return Ok(Limit::SameDay),
            "no due time" | "none" | "không quy định" | "no limit" => return Ok(Limit::NoDueTime),
            "" => return Err(err("empty; expected e.g. \"3 working days\"".into())),
            _ => {}
        }
        let (number, unit) = words.split_first().map(|(n, rest)| (*n, rest.join(" "))).unwrap_or_default();
        let quarters = parse_quarters(number).map_err(err)?;
        if quarters == 0 {
            return Err(err("must be greater than zero".into()));
        }
        let too_long = || err(format!("longer than the supported maximum of {MAX_LIMIT_DAYS} days"));
        let limit = match unit.as_str() {
            "working day" | "working days" | "ngày làm việc" => {
                if quarters > MAX_LIMIT_DAYS * 4 {
                    return Err(too_long());
                }
                Limit::WorkingDays { quarters }
            }
            "working hour" | "working hours" | "giờ làm việc" | "giờ" => {
                // Quarter hours; at most MAX_LIMIT_DAYS eight-hour days.
                if quarters > MAX_LIMIT_DAYS * 8 * 4 {
                    return Err(too_long());
                }
                Limit::WorkingMinutes(quarters * 15)
            }
            "day" | "days" | "ngày" | "calendar day" | "calendar days" => {
                if quarters % 4 != 0 {
                    return Err(err("calendar days must be a whole number".into()));
                }
                if quarters / 4 > MAX_LIMIT_DAYS {
                    return Err(too_long());
                }
                Limit::CalendarDays(quarters / 4)
            }
            "" => return Err(err("missing unit; expected working days, working hours or days".into())),
            other => {
                return Err(err(format!(
                    "unknown unit {other:?}; expected working days, working hours, days, same day or no due time"
                )))
            }
        };
        Ok(limit)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Limit::WorkingMinutes(m) => {
                let q = m / 15;
                let unit = if q == 4 { "working hour" } else { "working hours" };
                write!(f, "{} {unit}", format_quarters(q))
            }
            Limit::WorkingDays { quarters } => {
                let unit = if quarters == 4 { "working day" } else { "working days" };
                write!(f, "{} {unit}", format_quarters(quarters))
            }
            Limit::CalendarDays(d) => write!(f, "{d} {}", if d == 1 { "day" } else { "days" }),
            Limit::SameDay => f.write_str("same day"),
            Limit::NoDueTime => f.write_str("no due time"),
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let cases = [
            ("3 working days", Limit::WorkingDays { quarters: 12 }),
            ("1 working day", Limit::WorkingDays { quarters: 4 }),
            ("0.25 working days", Limit::WorkingDays { quarters: 1 }),
            ("2.5 Working Days", Limit::WorkingDays { quarters: 10 }),
            ("8 working hours", Limit::WorkingMinutes(480)),
            ("1 working hour", Limit::WorkingMinutes(60)),
            ("30 days", Limit::CalendarDays(30)),
            ("1 day", Limit::CalendarDays(1)),
            ("same day", Limit::SameDay),
            ("trong ngày", Limit::SameDay),
            ("no due time", Limit::NoDueTime),
            ("15 ngày làm việc", Limit::WorkingDays { quarters: 60 }),
        ];
        for (s, want) in cases {
            assert_eq!(s.parse::<Limit>().unwrap(), want, "{s}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "3 working days",
            "1 working day",
            "0.75 working days",
            "2 working hours",
            "30 days",
            "1 day",
            "same day",
            "no due time",
        ] {
            let l: Limit = s.parse().unwrap();
            assert_eq!(l.to_string(), s);
            assert_eq!(l.to_string().parse::<Limit>().unwrap(), l);
        }
    }

    #[test]
    fn rejects_bad_limits() {
        for s in [
            "",
            "3",
            "3 fortnights",
            "-1 working days",
            "0.3 working days",
            "0 working days",
            "1.5 days",
            "abc working days",
            "99999 days",
            "1e3 days",
        ] {
            let e = s.parse::<Limit>().unwrap_err();
            assert!(matches!(e, CalendarError::ParseLimit { .. }), "{s}: {e}");
        }
    }
}
