//! A slow, obviously correct reference implementation of the working-time rules.
//!
//! It asks a [`WorkCalendar`] only which dates are working days, their sessions and the day
//! length, and does all arithmetic by walking day by day and session by session — the way a
//! portal would hand-code it. Tests prove [`WorkCalendar`]'s table-driven answers equal these;
//! benchmarks use it as the naive baseline. Not for production use.

use chrono::{Duration, NaiveDate};

use crate::calendar::{Appointment, WorkCalendar};
use crate::error::CalendarError;
use crate::limit::{Limit, MAX_LIMIT_DAYS};
use crate::time::Timestamp;

/// Day-walking twin of a [`WorkCalendar`].
#[derive(Clone, Copy, Debug)]
pub struct ReferenceCalendar<'a> {
    cal: &'a WorkCalendar,
}

/// Longest walk, in days, before giving up (a limit plus generous slack for days off).
const MAX_WALK_DAYS: i64 = MAX_LIMIT_DAYS as i64 * 3 + 60;

impl<'a> ReferenceCalendar<'a> {
    /// Wraps `cal`.
    pub fn new(cal: &'a WorkCalendar) -> Self {
        ReferenceCalendar { cal }
    }

    fn sessions(&self, date: NaiveDate) -> Result<Vec<(u16, u16)>, CalendarError> {
        Ok(self.cal.sessions(date)?.into_iter().map(|s| (s.start, s.end)).collect())
    }

    fn next_working_day(&self, mut date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        for _ in 0..MAX_WALK_DAYS {
            date += Duration::days(1);
            if self.cal.is_working_day(date)? {
                return Ok(date);
            }
        }
        Err(CalendarError::NoWorkingDay { after: date, searched_days: MAX_WALK_DAYS as u32 })
    }

    fn opening(&self, date: NaiveDate) -> Result<Timestamp, CalendarError> {
        let first = self.sessions(date)?.first().map_or(0, |s| s.0);
        Ok(Timestamp::from_local(date, first))
    }

    fn closing(&self, date: NaiveDate) -> Result<Timestamp, CalendarError> {
        let last = self.sessions(date)?.last().map_or(0, |s| s.1);
        Ok(Timestamp::from_local(date, last))
    }

    /// docs/rules.md §4, spelled out.
    pub fn clock_start(&self, received: Timestamp, cutoff: Option<u16>) -> Result<Timestamp, CalendarError> {
        let date = received.local_date();
        let m = received.local_minute_of_day();
        let before_cutoff = match cutoff {
            Some(c) => m <= c,
            None => true,
        };
        if self.cal.is_working_day(date)? && before_cutoff {
            for (s, e) in self.sessions(date)? {
                if m < s {
                    return Ok(Timestamp::from_local(date, s));
                }
                if m < e {
                    return Ok(received);
                }
            }
        }
        self.opening(self.next_working_day(date)?)
    }

    /// Walks sessions forward until `minutes` working minutes have passed.
    pub fn add_working_minutes(&self, t: Timestamp, minutes: u32) -> Result<Timestamp, CalendarError> {
        if minutes == 0 {
            return Ok(t);
        }
        let mut remaining = minutes;
        let mut date = t.local_date();
        let mut from = t.local_minute_of_day();
        for _ in 0..MAX_WALK_DAYS {
            for (s, e) in self.sessions(date)? {
                if e <= from {
                    continue;
                }
                let begin = s.max(from);
                let available = u32::from(e - begin);
                if remaining <= available {
                    return Ok(Timestamp::from_local(date, begin + remaining as u16));
                }
                remaining -= available;
            }
            date += Duration::days(1);
            from = 0;
        }
        Err(CalendarError::NoWorkingDay { after: date, searched_days: MAX_WALK_DAYS as u32 })
    }

    /// Sums session overlaps day by day.
    pub fn working_minutes_between(&self, a: Timestamp, b: Timestamp) -> Result<i64, CalendarError> {
        if b < a {
            return self.working_minutes_between(b, a).map(|m| -m);
        }
        let mut total = 0i64;
        let mut date = a.local_date();
        let last = b.local_date();
        while date <= last {
            for (s, e) in self.sessions(date)? {
                let lo = if date == a.local_date() { s.max(a.local_minute_of_day()) } else { s };
                let hi = if date == last { e.min(b.local_minute_of_day()) } else { e };
                if hi > lo {
                    total += i64::from(hi - lo);
                }
            }
            date += Duration::days(1);
        }
        Ok(total)
    }

    /// docs/rules.md §5, spelled out.
    pub fn due_from(&self, start: Timestamp, limit: Limit) -> Result<Option<Timestamp>, CalendarError> {
        let date = start.local_date();
        Ok(Some(match limit {
            Limit::WorkingMinutes(m) => self.add_working_minutes(start, m)?,
            Limit::WorkingDays { quarters } => {
                let day = u64::from(self.cal.day_length(date)?);
                let minutes = u32::try_from(u64::from(quarters) * day / 4).map_err(|_| CalendarError::OutOfRange {
                    what: "due time".into(),
                    first_year: self.cal.first_year(),
                    last_year: self.cal.last_year(),
                })?;
                self.add_working_minutes(start, minutes)?
            }
            Limit::CalendarDays(n) => {
                let mut d = date + Duration::days(i64::from(n));
                if !self.cal.is_working_day(d)? {
                    d = self.next_working_day(d)?;
                }
                self.closing(d)?
            }
            Limit::SameDay => {
                let d = if self.cal.is_working_day(date)? { date } else { self.next_working_day(date)? };
                self.closing(d)?
            }
            Limit::NoDueTime => return Ok(None),
        }))
    }

    /// Clock start and due time.
    pub fn appointment(
        &self,
        received: Timestamp,
        limit: Limit,
        cutoff: Option<u16>,
    ) -> Result<Appointment, CalendarError> {
        let clock_start = self.clock_start(received, cutoff)?;
        let due = self.due_from(clock_start, limit)?;
        Ok(Appointment { received, clock_start, due })
    }
}
