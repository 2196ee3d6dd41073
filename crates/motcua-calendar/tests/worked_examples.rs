//! The worked examples of docs/rules.md §4–§5, and more like them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_calendar::{Limit, OfficeHours, Timestamp, WorkCalendar};

fn cal() -> WorkCalendar {
    WorkCalendar::builder().years(2020, 2030).build().unwrap()
}

/// (received, limit, expected clock start, expected due)
fn check(received: &str, limit: &str, clock_start: &str, due: &str) {
    let cal = cal();
    let received: Timestamp = received.parse().unwrap();
    let limit: Limit = limit.parse().unwrap();
    let a = cal.appointment(received, limit).unwrap();
    assert_eq!(a.clock_start.local_string(), clock_start, "clock start of {received} + {limit}");
    assert_eq!(a.due.map(|d| d.local_string()).unwrap_or_default(), due, "due of {received} + {limit}");
}

#[test]
fn friday_before_tet_after_cutoff() {
    // Fri 24/1/2025 16:40, after 15:00; 25/1–2/2 is the Tết break.
    check("2025-01-24T16:40", "3 working days", "2025-02-03T07:00", "2025-02-05T17:00");
}

#[test]
fn across_the_2024_swap() {
    // Fri 26/4/2024 14:00; 27/4–1/5 off (29/4 swapped); 2/5 and 3/5 working.
    check("2024-04-26T14:00", "2 working days", "2024-04-26T14:00", "2024-05-03T14:00");
}

#[test]
fn make_up_saturday_is_a_working_day() {
    // Fri 3/5/2024 16:00, after the cut-off: the next working day is the make-up Saturday 4/5.
    check("2024-05-03T16:00", "1 working day", "2024-05-04T07:00", "2024-05-04T17:00");
}

#[test]
fn calendar_days_end_on_a_working_day() {
    // Sat 29/3/2025 10:00: clock starts Mon 31/3; +30 days = Wed 30/4 (holiday), 1/5 holiday,
    // 2/5 swapped, 3–4/5 weekend → Mon 5/5 17:00.
    check("2025-03-29T10:00", "30 days", "2025-03-31T07:00", "2025-05-05T17:00");
}

#[test]
fn cutoff_boundaries() {
    // At 15:00 exactly the dossier still starts that day; at 15:01 it starts the next day.
    check("2025-03-04T15:00", "1 working day", "2025-03-04T15:00", "2025-03-05T15:00");
    check("2025-03-04T15:01", "1 working day", "2025-03-05T07:00", "2025-03-05T17:00");
}

#[test]
fn before_opening_and_lunch() {
    // Half a day is 240 minutes; the morning session holds 270.
    check("2025-03-04T06:10", "0.5 working days", "2025-03-04T07:00", "2025-03-04T11:00");
    check("2025-03-04T06:10", "4.5 working hours", "2025-03-04T07:00", "2025-03-04T11:30");
    check("2025-03-04T12:00", "0.25 working days", "2025-03-04T13:30", "2025-03-04T15:30");
    // 11:30 is the close of the morning session: the clock starts after lunch.
    check("2025-03-04T11:30", "2 working hours", "2025-03-04T13:30", "2025-03-04T15:30");
}

#[test]
fn half_day_crosses_lunch() {
    // 10:00–11:30 is 90 minutes; the other 150 run from 13:30.
    check("2025-03-04T10:00", "0.5 working days", "2025-03-04T10:00", "2025-03-04T16:00");
}

#[test]
fn same_day_and_the_15h_rule() {
    // Civil-status practice: same-day result; after 15:00 due at the end of the next working day.
    check("2025-03-04T09:00", "same day", "2025-03-04T09:00", "2025-03-04T17:00");
    check("2025-03-07T15:30", "same day", "2025-03-10T07:00", "2025-03-10T17:00");
}

#[test]
fn no_due_time() {
    check("2025-03-04T09:00", "no due time", "2025-03-04T09:00", "");
}

#[test]
fn giỗ_tổ_2026_compensated_on_monday() {
    // Giỗ Tổ 26/4/2026 is a Sunday → Monday 27/4 off; 30/4 and 1/5 off.
    // Fri 24/4 gives 300 minutes, Tue 28/4 and Wed 29/4 960, Mon 4/5 the last 180.
    check("2026-04-24T10:00", "3 working days", "2026-04-24T10:00", "2026-05-04T10:00");
}

#[test]
fn national_day_2026_swap() {
    // 22/8/2026 is a make-up Saturday; 29/8–2/9 off.
    check("2026-08-21T16:00", "1 working day", "2026-08-22T07:00", "2026-08-22T17:00");
    check("2026-08-28T09:00", "1 working day", "2026-08-28T09:00", "2026-09-03T09:00");
}

#[test]
fn culture_day_switch() {
    // 24/11/2026 (Tuesday) is a day off by default, and a working day with the switch off.
    check("2026-11-23T09:00", "1 working day", "2026-11-23T09:00", "2026-11-25T09:00");
    let cal = WorkCalendar::builder()
        .years(2026, 2026)
        .rules(motcua_calendar::HolidayRules { culture_day: false })
        .build()
        .unwrap();
    let a = cal.appointment("2026-11-23T09:00".parse().unwrap(), Limit::working_days(1)).unwrap();
    assert_eq!(a.due.unwrap().local_string(), "2026-11-24T09:00");
}

#[test]
fn no_cutoff_policy() {
    let mut hours = OfficeHours::national_default();
    hours.cutoff = None;
    let cal = WorkCalendar::builder().years(2025, 2025).office_hours(hours).build().unwrap();
    let a = cal.appointment("2025-03-04T16:40".parse().unwrap(), Limit::working_hours(1)).unwrap();
    assert_eq!(a.clock_start.local_string(), "2025-03-04T16:40");
    assert_eq!(a.due.unwrap().local_string(), "2025-03-05T07:40");
    // After the last session closes the clock starts the next working day.
    let a = cal.appointment("2025-03-04T17:00".parse().unwrap(), Limit::working_hours(1)).unwrap();
    assert_eq!(a.clock_start.local_string(), "2025-03-05T07:00");
}

#[test]
fn seasonal_hours() {
    let hours = OfficeHours::parse(
        r#"
name = "Vĩnh Phúc"
[[season]]
name = "Mùa hè"
from = "04-16"
sessions = ["07:00-11:30", "13:30-17:00"]
[[season]]
name = "Mùa đông"
from = "10-16"
sessions = ["07:30-12:00", "13:00-16:30"]
"#,
        std::path::Path::new("vinh-phuc.toml"),
    )
    .unwrap();
    let cal = WorkCalendar::builder().years(2025, 2025).office_hours(hours).build().unwrap();
    let winter = cal.appointment("2025-12-02T06:00".parse().unwrap(), Limit::working_days(1)).unwrap();
    assert_eq!(winter.clock_start.local_string(), "2025-12-02T07:30");
    assert_eq!(winter.due.unwrap().local_string(), "2025-12-02T16:30");
    let summer = cal.appointment("2025-07-01T06:00".parse().unwrap(), Limit::working_days(1)).unwrap();
    assert_eq!(summer.due.unwrap().local_string(), "2025-07-01T17:00");
}

#[test]
fn out_of_range_is_an_error() {
    let cal = WorkCalendar::builder().years(2024, 2025).build().unwrap();
    let e = cal.appointment("2023-12-29T09:00".parse().unwrap(), Limit::working_days(1)).unwrap_err();
    assert!(e.is_range(), "{e}");
    // A due time past the end of the table is an error, not a guess.
    let e = cal.appointment("2025-12-30T09:00".parse().unwrap(), Limit::working_days(5)).unwrap_err();
    assert!(e.is_range(), "{e}");
    assert!(WorkCalendar::builder().years(2013, 2020).build().is_err());
    assert!(WorkCalendar::builder().years(2030, 2020).build().is_err());
    assert!(WorkCalendar::builder().years(2190, 2200).build().is_err());
}
