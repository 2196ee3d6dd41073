//! Property tests: the table-driven calendar equals the day-walking reference, the algebraic
//! laws of working time hold, and no input makes anything panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use chrono::{Duration, NaiveDate};
use motcua_calendar::reference::ReferenceCalendar;
use motcua_calendar::{Limit, Notice, OfficeHours, Timestamp, WorkCalendar};
use proptest::prelude::*;

fn cal() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::builder().years(2020, 2031).build().unwrap())
}

fn seasonal() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| {
        let hours = OfficeHours::parse(
            r#"
name = "Thử nghiệm"
cutoff = "16:00"
[[season]]
name = "Hè"
from = "04-16"
sessions = ["07:00-11:30", "13:30-17:00"]
fri = ["07:00-11:30"]
[[season]]
name = "Đông"
from = "10-16"
sessions = ["07:30-12:00", "13:00-16:30", "17:00-17:30"]
day_length = "07:30"
"#,
            std::path::Path::new("test.toml"),
        )
        .unwrap();
        WorkCalendar::builder().years(2020, 2031).office_hours(hours).build().unwrap()
    })
}

/// An instant in 2020-07-01 ..= 2030-12-31, any minute (the tables span 2020..=2031, so
/// offsets of a few months either way stay inside).
fn instant() -> impl Strategy<Value = Timestamp> {
    let first = Timestamp::from_local(NaiveDate::from_ymd_opt(2020, 7, 1).unwrap(), 0).utc_minutes();
    let last = Timestamp::from_local(NaiveDate::from_ymd_opt(2030, 12, 31).unwrap(), 1439).utc_minutes();
    (first..=last).prop_map(Timestamp::from_utc_minutes)
}

fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        (1u32..=240).prop_map(|q| Limit::WorkingDays { quarters: q }),
        (1u32..=80).prop_map(|h| Limit::WorkingMinutes(h * 15)),
        (1u32..=90).prop_map(Limit::CalendarDays),
        Just(Limit::SameDay),
        Just(Limit::NoDueTime),
    ]
}

fn cutoff() -> impl Strategy<Value = Option<u16>> {
    prop_oneof![Just(None), (0u16..1440).prop_map(Some)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn appointment_equals_reference(t in instant(), l in limit(), c in cutoff()) {
        for cal in [cal(), seasonal()] {
            let fast = cal.appointment_with_cutoff(t, l, c).unwrap();
            let slow = ReferenceCalendar::new(cal).appointment(t, l, c).unwrap();
            prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn between_equals_reference(a in instant(), offset in -200_000i64..200_000) {
        let b = a.plus_minutes(offset);
        for cal in [cal(), seasonal()] {
            let fast = cal.working_minutes_between(a, b).unwrap();
            let slow = ReferenceCalendar::new(cal).working_minutes_between(a, b).unwrap();
            prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn add_then_between_round_trips(a in instant(), d in 0u32..100_000) {
        for cal in [cal(), seasonal()] {
            let b = cal.add_working_minutes(a, d).unwrap();
            prop_assert!(b >= a);
            prop_assert_eq!(cal.working_minutes_between(a, b).unwrap(), i64::from(d));
            prop_assert_eq!(b, ReferenceCalendar::new(cal).add_working_minutes(a, d).unwrap());
        }
    }

    #[test]
    fn between_is_antisymmetric_and_additive(a in instant(), x in -50_000i64..50_000, y in -50_000i64..50_000) {
        let cal = cal();
        let (b, c) = (a.plus_minutes(x), a.plus_minutes(x + y));
        let ab = cal.working_minutes_between(a, b).unwrap();
        prop_assert_eq!(cal.working_minutes_between(b, a).unwrap(), -ab);
        let bc = cal.working_minutes_between(b, c).unwrap();
        prop_assert_eq!(cal.working_minutes_between(a, c).unwrap(), ab + bc);
    }

    #[test]
    fn due_is_monotonic_in_receipt_and_limit(a in instant(), gap in 0i64..20_000, q in 1u32..200, extra in 0u32..40) {
        let cal = cal();
        let b = a.plus_minutes(gap);
        let l = Limit::WorkingDays { quarters: q };
        let due_a = cal.appointment(a, l).unwrap().due.unwrap();
        let due_b = cal.appointment(b, l).unwrap().due.unwrap();
        prop_assert!(due_a <= due_b, "{} then {}", due_a, due_b);
        let longer = cal.appointment(a, Limit::WorkingDays { quarters: q + extra }).unwrap().due.unwrap();
        prop_assert!(due_a <= longer);
        let cs = cal.clock_start(a).unwrap();
        prop_assert!(cs >= a);
        prop_assert!(cal.is_working_day(cs.local_date()).unwrap());
        prop_assert!(due_a > cs);
    }

    #[test]
    fn next_and_previous_working_instants(t in instant()) {
        let cal = cal();
        let next = cal.next_working_instant(t).unwrap();
        prop_assert!(next >= t);
        // No working time lies between t and next, and next is open.
        prop_assert_eq!(cal.working_minutes_between(t, next).unwrap(), 0);
        prop_assert_eq!(cal.working_minutes_between(next, next.plus_minutes(1)).unwrap(), 1);
        let prev = cal.previous_working_instant(t).unwrap();
        prop_assert!(prev <= t);
        prop_assert_eq!(cal.working_minutes_between(prev, t).unwrap(), 0);
        prop_assert_eq!(cal.working_minutes_between(prev.plus_minutes(-1), prev).unwrap(), 1);
    }

    #[test]
    fn arbitrary_limits_never_panic(t in instant(), q in any::<u32>(), kind in 0u8..3, c in cutoff()) {
        let l = match kind {
            0 => Limit::WorkingDays { quarters: q },
            1 => Limit::WorkingMinutes(q),
            _ => Limit::CalendarDays(q),
        };
        for cal in [cal(), seasonal()] {
            let fast = cal.appointment_with_cutoff(t, l, c);
            if let Ok(a) = fast {
                prop_assert_eq!(a, ReferenceCalendar::new(cal).appointment(t, l, c).unwrap());
            }
        }
    }

    #[test]
    fn arbitrary_instants_never_panic(m in any::<i64>(), l in limit(), c in cutoff()) {
        let cal = cal();
        let t = Timestamp::from_utc_minutes(m / 2);
        let _ = cal.appointment_with_cutoff(t, l, c);
        let _ = cal.working_minutes_between(t, Timestamp::from_utc_minutes(m / 3));
        let _ = cal.next_working_instant(t);
        let _ = cal.previous_working_instant(t);
        let _ = cal.add_working_minutes(t, (m as u32) >> 4);
        let _ = cal.is_working_day(t.local_date());
    }

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = s.parse::<Timestamp>();
        let _ = s.parse::<Limit>();
        let _ = Notice::parse(&s, std::path::Path::new("x.toml"));
        let _ = OfficeHours::parse(&s, std::path::Path::new("x.toml"));
    }

    #[test]
    fn limit_like_text_never_panics(n in "-?[0-9]{0,12}([.,][0-9]{0,4})?", unit in "(working days?|working hours?|days?|ngày|giờ|weeks|)") {
        let s = format!("{n} {unit}");
        if let Ok(l) = s.parse::<Limit>() {
            prop_assert_eq!(l.to_string().parse::<Limit>().unwrap(), l);
        }
    }

    #[test]
    fn timestamp_display_round_trips(t in instant()) {
        prop_assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
        prop_assert_eq!(t.local_string().parse::<Timestamp>().unwrap(), t);
    }
}

#[test]
fn extreme_instants_are_errors_not_panics() {
    for m in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
        let t = Timestamp::from_utc_minutes(m);
        let _ = t.to_string();
        assert!(cal().appointment(t, Limit::working_days(3)).unwrap_err().is_range());
        assert!(cal().working_minutes_between(t, t.plus_minutes(i64::MAX)).is_err());
    }
}

#[test]
fn every_day_has_a_next_working_day() {
    let cal = cal();
    let mut day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let last = NaiveDate::from_ymd_opt(2031, 11, 30).unwrap();
    while day <= last {
        let t = Timestamp::from_local(day, 23 * 60);
        let next = cal.next_working_instant(t).unwrap();
        assert!(cal.is_working_day(next.local_date()).unwrap(), "{day}");
        // Never more than 12 days between working days (the longest Tết break is 9).
        assert!(next.local_date() - day <= Duration::days(12), "{day} → {next}");
        day = day.succ_opt().unwrap();
    }
}
