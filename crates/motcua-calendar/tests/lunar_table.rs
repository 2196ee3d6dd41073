//! The lunar calendar against a published table of Tết and Giỗ Tổ dates, 1901–2100
//! (`tests/data/tet-1901-2100.csv`, source in its header), including every year where the
//! Vietnamese date differs from the Chinese one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use motcua_calendar::lunar;

struct Row {
    year: i32,
    tet_vn: NaiveDate,
    tet_cn: NaiveDate,
    hung_kings_vn: NaiveDate,
}

fn rows() -> Vec<Row> {
    let text = include_str!("data/tet-1901-2100.csv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("year"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
            Row { year: f[0].parse().unwrap(), tet_vn: date(f[1]), tet_cn: date(f[2]), hung_kings_vn: date(f[3]) }
        })
        .collect()
}

#[test]
fn tet_matches_the_published_table_1901_to_2100() {
    let rows = rows();
    assert_eq!(rows.len(), 200);
    let mismatches: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let got = lunar::tet(r.year).unwrap();
            (got != r.tet_vn).then(|| format!("{}: computed {got}, table {}", r.year, r.tet_vn))
        })
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn hung_kings_day_matches_the_published_table_1901_to_2100() {
    let mismatches: Vec<String> = rows()
        .iter()
        .filter_map(|r| {
            let got = lunar::hung_kings(r.year).unwrap();
            (got != r.hung_kings_vn).then(|| format!("{}: computed {got}, table {}", r.year, r.hung_kings_vn))
        })
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn years_where_vietnam_and_china_differ() {
    // docs/rules.md §2 names 1903, 1916, 1935, 1965, 1968, 1969, 1985, 2007, 2030, 2053.
    let differ: Vec<i32> = rows().iter().filter(|r| r.tet_vn != r.tet_cn).map(|r| r.year).collect();
    assert_eq!(differ, [1903, 1916, 1935, 1965, 1968, 1969, 1985, 2007, 2030, 2053]);
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(lunar::tet(1985).unwrap(), d(1985, 1, 21));
    assert_eq!(lunar::tet(2007).unwrap(), d(2007, 2, 17));
    assert_eq!(lunar::tet(2030).unwrap(), d(2030, 2, 2));
}
