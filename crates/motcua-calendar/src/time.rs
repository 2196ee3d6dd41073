//! Instants at minute resolution, and Vietnam's civil time (UTC+07:00).
//!
//! docs/rules.md §1: all civil reasoning happens in Vietnam local time, which is UTC+07:00 all
//! year (no daylight saving time); instants are stored in UTC; the rules work at minute
//! resolution and truncate seconds toward the past.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::CalendarError;

/// Vietnam's offset from UTC in minutes: UTC+07:00 all year.
pub const VN_OFFSET_MINUTES: i64 = 7 * 60;

/// Minutes in a civil day.
pub const MINUTES_PER_DAY: i64 = 24 * 60;

/// The day number of 1970-01-01 in chrono's "days from the Common Era" count.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// An instant, at minute resolution, counted in minutes since 1970-01-01T00:00Z.
///
/// `Timestamp` is the only instant type the rules see: it is a plain integer so that working-time
/// arithmetic is integer arithmetic. Convert at the edges with [`Timestamp::from_datetime`],
/// [`Timestamp::from_local`] and [`Timestamp::to_local`].
///
/// ```
/// use motcua_calendar::Timestamp;
/// let t: Timestamp = "2025-01-24T16:40".parse()?;          // local time, +07:00
/// assert_eq!(t.to_string(), "2025-01-24T16:40+07:00");
/// let u: Timestamp = "2025-01-24T09:40:59Z".parse()?;      // RFC 3339; seconds are truncated
/// assert_eq!(t, u);
/// # Ok::<(), motcua_calendar::CalendarError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `minutes` minutes after 1970-01-01T00:00Z.
    pub const fn from_utc_minutes(minutes: i64) -> Self {
        Timestamp(minutes)
    }

    /// Minutes since 1970-01-01T00:00Z.
    pub const fn utc_minutes(self) -> i64 {
        self.0
    }

    /// The instant at local (+07:00) `date` and `minute_of_day` (0 ..= 1440; 1440 is the next
    /// midnight).
    pub fn from_local(date: NaiveDate, minute_of_day: u16) -> Self {
        Timestamp::from_local_day(day_number(date), minute_of_day)
    }

    /// The instant at local day number `day` (days since 1970-01-01) and `minute_of_day`.
    pub(crate) const fn from_local_day(day: i64, minute_of_day: u16) -> Self {
        Timestamp(day * MINUTES_PER_DAY + minute_of_day as i64 - VN_OFFSET_MINUTES)
    }

    /// A local (+07:00) civil date-time, seconds truncated.
    pub fn from_local_naive(dt: NaiveDateTime) -> Self {
        let minute = dt.time().hour() * 60 + dt.time().minute();
        Timestamp::from_local(dt.date(), minute as u16)
    }

    /// Any zoned date-time, seconds truncated toward the past.
    pub fn from_datetime<Tz: TimeZone>(dt: &DateTime<Tz>) -> Self {
        Timestamp(dt.timestamp().div_euclid(60))
    }

    /// Local days since 1970-01-01 (the date this instant falls on in Vietnam).
    pub const fn local_day(self) -> i64 {
        self.0.saturating_add(VN_OFFSET_MINUTES).div_euclid(MINUTES_PER_DAY)
    }

    /// Minutes since local midnight, 0 ..= 1439.
    pub const fn local_minute_of_day(self) -> u16 {
        self.0.saturating_add(VN_OFFSET_MINUTES).rem_euclid(MINUTES_PER_DAY) as u16
    }

    /// The local (+07:00) civil date.
    pub fn local_date(self) -> NaiveDate {
        date_from_day_number(self.local_day())
    }

    /// The local (+07:00) civil date-time.
    pub fn to_local_naive(self) -> NaiveDateTime {
        let m = u32::from(self.local_minute_of_day());
        let time = NaiveTime::from_hms_opt(m / 60, m % 60, 0).unwrap_or(NaiveTime::MIN);
        self.local_date().and_time(time)
    }

    /// This instant as a zoned date-time at +07:00.
    pub fn to_local(self) -> DateTime<FixedOffset> {
        let offset = vn_offset();
        // A NaiveDateTime at a fixed offset is never ambiguous.
        match offset.from_local_datetime(&self.to_local_naive()) {
            chrono::LocalResult::Single(dt) => dt,
            _ => DateTime::<FixedOffset>::from_naive_utc_and_offset(self.to_local_naive(), offset),
        }
    }

    /// Local time formatted `YYYY-MM-DDTHH:MM`, without offset (the CLI's CSV form).
    pub fn local_string(self) -> String {
        let mut s = String::with_capacity(16);
        // Writing to a String cannot fail.
        let _ = self.write_local(&mut s);
        s
    }

    /// Writes `YYYY-MM-DDTHH:MM` (local). This runs for every timestamp of every stored event,
    /// so years 0..=9999 are written digit by digit (civil-from-days arithmetic, no formatter).
    fn write_local(self, w: &mut impl fmt::Write) -> fmt::Result {
        let mut buf = [0u8; 16];
        match self.local_digits(&mut buf) {
            Some(s) => w.write_str(s),
            None => {
                let d = self.local_date();
                let m = self.local_minute_of_day();
                write!(w, "{:04}-{:02}-{:02}T{:02}:{:02}", d.year(), d.month(), d.day(), m / 60, m % 60)
            }
        }
    }

    /// `YYYY-MM-DDTHH:MM` into `buf`, or `None` outside years 0..=9999.
    fn local_digits(self, buf: &mut [u8; 16]) -> Option<&str> {
        let (y, mo, d) = civil_from_days(self.local_day());
        if !(0..=9999).contains(&y) {
            return None;
        }
        let m = self.local_minute_of_day();
        let put = |buf: &mut [u8; 16], at: usize, v: u32, width: usize| {
            let mut v = v;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(buf, 0, y as u32, 4);
        buf[4] = b'-';
        put(buf, 5, mo, 2);
        buf[7] = b'-';
        put(buf, 8, d, 2);
        buf[10] = b'T';
        put(buf, 11, u32::from(m / 60), 2);
        buf[13] = b':';
        put(buf, 14, u32::from(m % 60), 2);
        std::str::from_utf8(&buf[..]).ok()
    }

    /// Adds `minutes` wall-clock minutes (not working minutes), saturating at the ends of time.
    pub const fn plus_minutes(self, minutes: i64) -> Self {
        Timestamp(self.0.saturating_add(minutes))
    }
}

/// The fixed +07:00 offset (checked at compile time).
const VN_OFFSET: FixedOffset = match FixedOffset::east_opt(VN_OFFSET_MINUTES as i32 * 60) {
    Some(offset) => offset,
    None => panic!("+07:00 is a valid offset"),
};

/// The fixed +07:00 offset.
pub const fn vn_offset() -> FixedOffset {
    VN_OFFSET
}

/// (year, month, day) of a day number (days since 1970-01-01), proleptic Gregorian.
/// Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE
}

/// The civil date of a day number (days since 1970-01-01). Saturates at chrono's range.
pub fn date_from_day_number(day: i64) -> NaiveDate {
    let ce = (day + UNIX_EPOCH_DAYS_FROM_CE).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    NaiveDate::from_num_days_from_ce_opt(ce).unwrap_or(if day < 0 { NaiveDate::MIN } else { NaiveDate::MAX })
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_local(f)?;
        f.write_str("+07:00")
    }
}

impl FromStr for Timestamp {
    type Err = CalendarError;

    /// Accepts `YYYY-MM-DDTHH:MM` (local, +07:00), optionally with `:SS`, or RFC 3339 with an
    /// offset (`Z` or `±HH:MM`). A space may stand for the `T`.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let bad = |reason: &str| CalendarError::ParseTimestamp { input: input.to_string(), reason: reason.to_string() };
        if s.is_empty() {
            return Err(bad("empty; expected YYYY-MM-DDTHH:MM or RFC 3339"));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Ok(Timestamp::from_datetime(&dt));
        }
        let mut normalized = s.replacen(' ', "T", 1);
        if let Some(rest) = normalized.strip_suffix('Z').or_else(|| normalized.strip_suffix('z')) {
            normalized = format!("{rest}+00:00");
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(&normalized) {
            return Ok(Timestamp::from_datetime(&dt));
        }
        // RFC 3339 without seconds, as `Display` writes it: 2025-01-24T16:40+07:00.
        if let Ok(dt) = DateTime::parse_from_str(&normalized, "%Y-%m-%dT%H:%M%:z") {
            return Ok(Timestamp::from_datetime(&dt));
        }
        for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(&normalized, fmt) {
                if !(1..=9999).contains(&dt.year()) {
                    return Err(bad("year out of range"));
                }
                return Ok(Timestamp::from_local_naive(dt));
            }
        }
        Err(bad("expected YYYY-MM-DDTHH:MM (local +07:00) or RFC 3339 with an offset"))
    }
}

/// Human-readable formats (JSON, TOML) get the civil text `2025-03-03T08:06+07:00`; binary
/// formats (the engine's canonical hash encoding) get the UTC minutes as an integer.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_i64(self.utc_minutes())
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Accepts either form whatever the format claims: serde's buffering of internally tagged
    /// enums reports every format as human-readable, so the binary integer arrives there too.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl serde::de::Visitor<'_> for Either {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an instant: `YYYY-MM-DDTHH:MM[+07:00]` or UTC minutes since 1970")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, m: i64) -> Result<Timestamp, E> {
                Ok(Timestamp::from_utc_minutes(m))
            }
            fn visit_u64<E: serde::de::Error>(self, m: u64) -> Result<Timestamp, E> {
                i64::try_from(m).map(Timestamp::from_utc_minutes).map_err(|_| E::custom("instant out of range"))
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(Either)
        } else {
            deserializer.deserialize_i64(Either)
        }
    }
}

/// A time of day in minutes since midnight, parsed from `HH:MM` (00:00 ..= 24:00).
pub fn parse_minute_of_day(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Formats minutes since midnight as `HH:MM`.
pub fn format_minute_of_day(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_utc_agree() {
        let t: Timestamp = "2025-01-24T16:40".parse().unwrap();
        assert_eq!(t.local_minute_of_day(), 16 * 60 + 40);
        assert_eq!(t.local_date(), NaiveDate::from_ymd_opt(2025, 1, 24).unwrap());
        let u: Timestamp = "2025-01-24T09:40:59Z".parse().unwrap();
        assert_eq!(t, u);
        let v: Timestamp = "2025-01-24T16:40:00+07:00".parse().unwrap();
        assert_eq!(t, v);
        assert_eq!("2025-01-24T16:40+07:00".parse::<Timestamp>().unwrap(), t);
        assert_eq!("2025-01-24T09:40Z".parse::<Timestamp>().unwrap(), t);
        assert_eq!(t.to_local().to_rfc3339(), "2025-01-24T16:40:00+07:00");
    }

    #[test]
    fn midnight_boundaries() {
        let t: Timestamp = "2025-01-01T00:00".parse().unwrap();
        assert_eq!(t.local_minute_of_day(), 0);
        assert_eq!(t.local_date(), NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        let before = t.plus_minutes(-1);
        assert_eq!(before.local_minute_of_day(), 1439);
        assert_eq!(before.local_date(), NaiveDate::from_ymd_opt(2024, 12, 31).unwrap());
    }

    #[test]
    fn bad_input_is_an_error() {
        for s in ["", "2025-13-01T00:00", "2025-02-30T10:00", "tomorrow", "2025-01-01T25:00"] {
            assert!(s.parse::<Timestamp>().is_err(), "{s}");
        }
    }

    #[test]
    fn civil_from_days_agrees_with_chrono() {
        for day in (-800_000i64..3_000_000).step_by(997) {
            let d = date_from_day_number(day);
            assert_eq!(civil_from_days(day), (i64::from(d.year()), d.month(), d.day()), "{day}");
        }
    }

    #[test]
    fn minute_of_day() {
        assert_eq!(parse_minute_of_day("07:00"), Some(420));
        assert_eq!(parse_minute_of_day("24:00"), Some(1440));
        assert_eq!(parse_minute_of_day("24:01"), None);
        assert_eq!(parse_minute_of_day("7:60"), None);
        assert_eq!(format_minute_of_day(810), "13:30");
    }
}
