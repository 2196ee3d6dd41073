//! Every official day off and make-up Saturday of 2020–2026 (docs/sources.md §5.2) is reproduced.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Datelike, NaiveDate, Weekday};
use motcua_calendar::{DayKind, WorkCalendar, YearStatus};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Weekdays off and make-up weekend days, per year, as docs/sources.md §5.2 lists them.
fn expected(year: i32) -> (Vec<NaiveDate>, Vec<NaiveDate>) {
    let y = year;
    match year {
        2020 => (
            vec![
                d(y, 1, 1),
                d(y, 1, 23),
                d(y, 1, 24),
                d(y, 1, 27),
                d(y, 1, 28),
                d(y, 1, 29),
                d(y, 4, 2),
                d(y, 4, 30),
                d(y, 5, 1),
                d(y, 9, 2),
            ],
            vec![],
        ),
        2021 => (
            vec![
                d(y, 1, 1),
                d(y, 2, 10),
                d(y, 2, 11),
                d(y, 2, 12),
                d(y, 2, 15),
                d(y, 2, 16),
                d(y, 4, 21),
                d(y, 4, 30),
                d(y, 5, 3),
                d(y, 9, 2),
                d(y, 9, 3),
            ],
            vec![],
        ),
        2022 => (
            vec![
                d(y, 1, 3),
                d(y, 1, 31),
                d(y, 2, 1),
                d(y, 2, 2),
                d(y, 2, 3),
                d(y, 2, 4),
                d(y, 4, 11),
                d(y, 5, 2),
                d(y, 5, 3),
                d(y, 9, 1),
                d(y, 9, 2),
            ],
            vec![],
        ),
        2023 => (
            vec![
                d(y, 1, 2),
                d(y, 1, 20),
                d(y, 1, 23),
                d(y, 1, 24),
                d(y, 1, 25),
                d(y, 1, 26),
                d(y, 5, 1),
                d(y, 5, 2),
                d(y, 5, 3),
                d(y, 9, 1),
                d(y, 9, 4),
            ],
            vec![],
        ),
        2024 => (
            vec![
                d(y, 1, 1),
                d(y, 2, 8),
                d(y, 2, 9),
                d(y, 2, 12),
                d(y, 2, 13),
                d(y, 2, 14),
                d(y, 4, 18),
                d(y, 4, 29),
                d(y, 4, 30),
                d(y, 5, 1),
                d(y, 9, 2),
                d(y, 9, 3),
            ],
            vec![d(y, 5, 4)],
        ),
        2025 => (
            vec![
                d(y, 1, 1),
                d(y, 1, 27),
                d(y, 1, 28),
                d(y, 1, 29),
                d(y, 1, 30),
                d(y, 1, 31),
                d(y, 4, 7),
                d(y, 4, 30),
                d(y, 5, 1),
                d(y, 5, 2),
                d(y, 9, 1),
                d(y, 9, 2),
            ],
            vec![d(y, 4, 26)],
        ),
        2026 => (
            vec![
                d(y, 1, 1),
                d(y, 1, 2),
                d(y, 2, 16),
                d(y, 2, 17),
                d(y, 2, 18),
                d(y, 2, 19),
                d(y, 2, 20),
                d(y, 4, 27),
                d(y, 4, 30),
                d(y, 5, 1),
                d(y, 8, 31),
                d(y, 9, 1),
                d(y, 9, 2),
                // Ngày Văn hóa Việt Nam, default policy (docs/rules.md §2).
                d(y, 11, 24),
            ],
            vec![d(y, 1, 10), d(y, 8, 22)],
        ),
        _ => unreachable!(),
    }
}

#[test]
fn weekdays_off_and_make_up_days_2020_to_2026() {
    let cal = WorkCalendar::builder().years(2020, 2026).build().unwrap();
    for year in 2020..=2026 {
        let (off, make_up) = expected(year);
        let days = cal.year_days(year).unwrap();
        let weekend = |d: &NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let got_off: Vec<NaiveDate> = days.iter().filter(|x| !weekend(&x.date) && !x.working).map(|x| x.date).collect();
        let got_make_up: Vec<NaiveDate> =
            days.iter().filter(|x| weekend(&x.date) && x.working).map(|x| x.date).collect();
        assert_eq!(got_off, off, "weekdays off in {year}");
        assert_eq!(got_make_up, make_up, "make-up days in {year}");
        assert_eq!(cal.year_status(year), YearStatus::Official);
        assert!(days.iter().all(|x| x.status == YearStatus::Official));
    }
}

#[test]
fn whole_breaks_including_weekends() {
    let cal = WorkCalendar::builder().years(2020, 2026).build().unwrap();
    let breaks = [
        (d(2020, 1, 23), d(2020, 1, 29)),
        (d(2021, 2, 10), d(2021, 2, 16)),
        (d(2021, 9, 2), d(2021, 9, 5)),
        (d(2022, 1, 29), d(2022, 2, 6)),
        (d(2022, 4, 30), d(2022, 5, 3)),
        (d(2022, 12, 31), d(2023, 1, 2)),
        (d(2023, 1, 20), d(2023, 1, 26)),
        (d(2023, 4, 29), d(2023, 5, 3)),
        (d(2023, 9, 1), d(2023, 9, 4)),
        (d(2024, 2, 8), d(2024, 2, 14)),
        (d(2024, 4, 27), d(2024, 5, 1)),
        (d(2024, 8, 31), d(2024, 9, 3)),
        (d(2025, 1, 25), d(2025, 2, 2)),
        (d(2025, 4, 30), d(2025, 5, 4)),
        (d(2025, 8, 30), d(2025, 9, 2)),
        (d(2026, 1, 1), d(2026, 1, 4)),
        (d(2026, 2, 14), d(2026, 2, 22)),
        (d(2026, 4, 25), d(2026, 4, 27)),
        (d(2026, 4, 30), d(2026, 5, 3)),
        (d(2026, 8, 29), d(2026, 9, 2)),
    ];
    for (first, last) in breaks {
        for day in first.iter_days().take_while(|x| *x <= last) {
            assert!(!cal.is_working_day(day).unwrap(), "{day} should be off ({first}..={last})");
        }
        // The days around a break are working days (or ordinary weekends).
        for edge in [first.pred_opt().unwrap(), last.succ_opt().unwrap()] {
            let k = cal.day(edge).unwrap().kind;
            assert!(matches!(k, DayKind::Working | DayKind::MakeUp | DayKind::Weekend), "{edge}: {k:?}");
        }
    }
}

#[test]
fn each_day_knows_why() {
    let cal = WorkCalendar::builder().years(2024, 2026).build().unwrap();
    let day = cal.day(d(2024, 4, 29)).unwrap();
    assert_eq!(day.kind, DayKind::Notice);
    assert_eq!(day.reference.as_deref(), Some("CV 2450/VPCP-KGVX"));
    let day = cal.day(d(2026, 4, 27)).unwrap();
    assert_eq!(day.kind, DayKind::Compensatory(motcua_calendar::Holiday::HungKings));
    assert_eq!(day.name, "Nghỉ bù Giỗ Tổ Hùng Vương");
    let day = cal.day(d(2026, 4, 26)).unwrap();
    assert_eq!(day.kind, DayKind::Holiday(motcua_calendar::Holiday::HungKings));
    assert_eq!(day.lunar.to_string(), "2026-03-10");
    let day = cal.day(d(2026, 1, 10)).unwrap();
    assert_eq!(day.kind, DayKind::MakeUp);
    assert!(day.working);
}

#[test]
fn projected_years_follow_the_rules() {
    let cal = WorkCalendar::builder().years(2027, 2027).build().unwrap();
    assert_eq!(cal.year_status(2027), YearStatus::Projected);
    // Tết Đinh Mùi: mùng 1 = Sat 6/2/2027 → Thu 4/2 … Wed 10/2.
    for day in [d(2027, 2, 4), d(2027, 2, 5), d(2027, 2, 8), d(2027, 2, 9), d(2027, 2, 10)] {
        assert_eq!(cal.day(day).unwrap().kind, DayKind::Holiday(motcua_calendar::Holiday::LunarNewYear), "{day}");
    }
    assert!(cal.is_working_day(d(2027, 2, 11)).unwrap());
}
