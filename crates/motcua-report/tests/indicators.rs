//! Indicator 2.1 by Decision 766's formula beside the province convention, the periods of
//! completion with dossiers carried over, and working days on the province's own hours.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use motcua_calendar::{OfficeHours, Timestamp, WorkCalendar};
use motcua_core::{DossierCode, Outcome};
use motcua_engine::DossierSummary;
use motcua_report::{Period, ReportBuilder};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A dossier received at `received`, due at `due`, finished at `finished` with `outcome`.
fn dossier(n: u64, received: &str, due: &str, end: Option<(&str, Outcome)>, supplements: u32) -> DossierSummary {
    let code: DossierCode = format!("H42.12-230101-{n:04}").parse().unwrap();
    let mut s = DossierSummary::empty(&code);
    s.status = Some(if end.is_some() { "finished_approved" } else { "in_progress" }.into());
    s.received_at = Some(t(received));
    s.due = Some(t(due));
    s.finished_at = end.map(|(f, _)| t(f));
    s.outcome = end.map(|(_, o)| o);
    s.supplement_requests = Some(supplements);
    s.channel = Some(1);
    s
}

#[test]
fn decision_766_counts_open_dossiers_and_repeated_supplements_beside_the_province_convention() {
    let names = HashMap::new();
    let mut b = ReportBuilder::new(&names);
    // Resolved on time after one supplement; resolved early after two (late by 766);
    // resolved late; open and overdue; open in time; open past due but its clock stopped.
    b.add(&dossier(1, "2023-03-01T08:00", "2023-03-06T08:00", Some(("2023-03-06T08:00", Outcome::OnTime)), 1));
    b.add(&dossier(2, "2023-03-01T08:00", "2023-03-06T08:00", Some(("2023-03-02T08:00", Outcome::Early)), 2));
    b.add(&dossier(3, "2023-03-01T08:00", "2023-03-06T08:00", Some(("2023-03-07T08:00", Outcome::Late)), 0));
    b.add(&dossier(4, "2023-12-01T08:00", "2023-12-20T08:00", None, 0));
    b.add(&dossier(5, "2023-12-20T08:00", "2024-01-10T08:00", None, 0));
    let mut stopped = dossier(6, "2023-12-01T08:00", "2023-12-10T08:00", None, 1);
    stopped.clock_stopped = true;
    b.add(&stopped);
    let r = b.finish(Some(t("2023-12-31T23:59")));
    let all = &r.totals;
    // Province convention: 2 of 3 resolved early or on time.
    assert_eq!(all.early_or_on_time_pct, 66.67);
    // Decision 766: in time 1 (resolved) + 2 (open in time, clock stopped); late 1 (two
    // supplements) + 1 (late) + 1 (open overdue).
    assert_eq!((all.on_time_766, all.late_766, all.multi_supplement), (3, 3, 1));
    assert_eq!(all.early_or_on_time_766_pct, 50.0);
    assert_eq!(all.open_overdue, 1, "a stopped clock is never overdue");
    let i21 = r.scorecard.groups.iter().flat_map(|g| &g.indicators).find(|i| i.id == "2.1").unwrap();
    assert_eq!(i21.value_pct, Some(50.0), "the scorecard scores the decision's formula");
    assert_eq!(i21.beside.map(|(_, v)| v), Some(66.67), "with the province convention beside it");
    let csv = r.to_csv();
    assert!(csv.contains("early_or_on_time_pct,early_or_on_time_766_pct"), "{csv}");
    assert!(csv.contains("\ntotal,all,,6,0,3,1,1,1,3,1,66.67,50.00,"), "{csv}");
    let html = r.to_html("t");
    assert!(html.contains("province convention") && html.contains("50.00 %"), "both in the page");
}

#[test]
fn periods_of_completion_carry_open_dossiers_over() {
    let names = HashMap::new();
    let mut b = ReportBuilder::new(&names).with_period(Period::Month);
    // Received 10/1, due 20/2, finished 5/3: open at the end of January (in time) and of
    // February (overdue), resolved late in March.
    b.add(&dossier(1, "2023-01-10T08:00", "2023-02-20T08:00", Some(("2023-03-05T08:00", Outcome::Late)), 0));
    // Received and resolved in January.
    b.add(&dossier(2, "2023-01-11T08:00", "2023-01-16T08:00", Some(("2023-01-12T08:00", Outcome::Early)), 0));
    let r = b.finish(Some(t("2023-03-31T23:59")));
    let rows: Vec<(&str, u64, u64, u64, u64, f64)> = r
        .by_period
        .iter()
        .map(|p| (p.key.as_str(), p.received, p.resolved, p.open, p.open_overdue, p.early_or_on_time_766_pct))
        .collect();
    assert_eq!(rows, [("2023-01", 2, 1, 1, 0, 100.0), ("2023-02", 0, 0, 1, 1, 0.0), ("2023-03", 0, 1, 0, 0, 0.0)]);
    let r = {
        let mut b = ReportBuilder::new(&names).with_period(Period::Quarter);
        b.add(&dossier(1, "2023-01-10T08:00", "2023-02-20T08:00", Some(("2023-04-05T08:00", Outcome::Late)), 0));
        b.finish(Some(t("2023-06-30T23:59")))
    };
    let keys: Vec<(&str, u64, u64)> = r.by_period.iter().map(|p| (p.key.as_str(), p.open, p.resolved)).collect();
    assert_eq!(keys, [("2023-Q1", 1, 0), ("2023-Q2", 0, 1)]);
    // Nothing after the report's instant: a dossier ending later is open at its last period's end.
    let mut b = ReportBuilder::new(&names).with_period(Period::Month);
    b.add(&dossier(1, "2023-12-20T08:00", "2023-12-28T08:00", Some(("2024-01-03T08:00", Outcome::Late)), 0));
    let r = b.finish(Some(t("2023-12-31T23:59")));
    let keys: Vec<(&str, u64, u64, u64)> =
        r.by_period.iter().map(|p| (p.key.as_str(), p.open, p.open_overdue, p.resolved)).collect();
    assert_eq!(keys, [("2023-12", 1, 1, 0)]);
}

#[test]
fn working_days_follow_the_provinces_office_hours() {
    let names = HashMap::new();
    // A province working six hours a day: two full working days are two days, not 1.5.
    let hours = OfficeHours::parse(
        "name = \"six hours\"\nreference = \"test\"\ncutoff = \"15:00\"\nsessions = [\"07:00-11:00\", \"13:00-15:00\"]\n",
        Path::new("six.toml"),
    )
    .unwrap();
    let make = move |a: i32, b: i32| WorkCalendar::builder().years(a, b).office_hours(hours.clone()).build().ok();
    let mut b = ReportBuilder::with_calendar_source(&names, Box::new(make));
    // Monday 6/3/2023 07:00 to Wednesday 8/3 07:00.
    b.add(&dossier(1, "2023-03-06T07:00", "2023-03-09T07:00", Some(("2023-03-08T07:00", Outcome::Early)), 0));
    let r = b.finish(None);
    assert_eq!(r.totals.avg_resolution_working_days, Some(2.0));
    let mut b = ReportBuilder::new(&names);
    b.add(&dossier(1, "2023-03-06T07:00", "2023-03-09T07:00", Some(("2023-03-08T07:00", Outcome::Early)), 0));
    assert_eq!(b.finish(None).totals.avg_resolution_working_days, Some(2.0), "national hours: 8 a day");
}
