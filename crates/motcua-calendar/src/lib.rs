//! # motcua-calendar: civil time in Vietnam
//!
//! ## What is a working day in Vietnam?
//!
//! For state agencies (docs/rules.md §2), a date is a working day unless it is a Saturday or
//! Sunday (but a Saturday that an official notice declares a make-up day, "làm bù", *is* a
//! working day), a statutory holiday (Labour Code 2019 Art. 112: 1/1, five days of Tết, Giỗ Tổ
//! Hùng Vương on lunar 10/3, 30/4, 1/5, 2/9 and one adjacent day), a compensatory day for a
//! holiday that fell on a weekend (Art. 111(3)), or a day off granted by a notice.
//!
//! Tết moves with the moon, so the crate carries a Vietnamese lunar calendar ([`lunar`]),
//! computed astronomically at UTC+7 for 1900–2199 and checked against a published table.
//!
//! ```
//! use chrono::NaiveDate;
//! use motcua_calendar::{DayKind, WorkCalendar, YearStatus};
//! let cal = WorkCalendar::builder().years(2024, 2027).build()?;
//! let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
//! // Tết Giáp Thìn: Thursday 8/2/2024 is a day off…
//! assert!(!cal.is_working_day(d(2024, 2, 8))?);
//! // …and Saturday 4/5/2024 is a make-up working day (CV 2450/VPCP-KGVX).
//! assert_eq!(cal.day(d(2024, 5, 4))?.kind, DayKind::MakeUp);
//! // 2027 has no notice yet: its days off are projected from the rules.
//! assert_eq!(cal.year_status(2027), YearStatus::Projected);
//! # Ok::<(), motcua_calendar::CalendarError>(())
//! ```
//!
//! ## Working time
//!
//! [`WorkCalendar`] answers "when does the clock start", "when is it due" and "how much working
//! time lies between two instants" to the minute, from tables built once for a range of years.
//! [`Timestamp`] is a minute-resolution instant; civil reasoning is at +07:00.
//!
//! ## Why …?
//! - *Why are Tết days rules and not data?* Two rules (docs/rules.md §2) reproduce every official
//!   break of 2020–2026, so any year can be computed; notices add only swapped days.
//! - *Why is a year "projected"?* Until the government publishes a year's notice, its swapped
//!   days cannot be known; the calendar says so rather than guessing silently.
//! - *Why does 3 working days from 07:00 end at 17:00 and not 07:00 the next day?*
//!   `docs/rules.md` §5: a sum that ends exactly at a session's close is due at that close.
//! - *Why does a dossier received at 16:40 start the next working day?* The 15:00 cut-off of
//!   NĐ 61/2018 Art. 18 and NĐ 63/2024; it is policy ([`OfficeHours::cutoff`]).

#![warn(missing_docs)]

pub mod astro;
mod calendar;
mod error;
pub mod holidays;
mod hours;
mod input;
mod limit;
pub mod lunar;
mod notice;
pub mod reference;
mod time;

pub use calendar::{weekday_code, Appointment, Day, DayKind, WorkCalendar, WorkCalendarBuilder, YearStatus, MAX_YEARS};
pub use error::{line_of, CalendarError};
pub use holidays::{Holiday, HolidayRules, LabourCode};
pub use hours::{OfficeHours, Season, Session, DEFAULT_CUTOFF, MAX_SESSIONS_PER_DAY};
pub use input::{read_bounded, read_input, terminal_safe, MAX_INPUT_BYTES};
pub use limit::{Limit, MAX_LIMIT_DAYS};
pub use lunar::LunarDate;
pub use notice::{EntryKind, Notice, NoticeEntry, Notices, Reference};
pub use time::{
    date_from_day_number, day_number, format_minute_of_day, parse_minute_of_day, vn_offset, Timestamp, MINUTES_PER_DAY,
    VN_OFFSET_MINUTES,
};
