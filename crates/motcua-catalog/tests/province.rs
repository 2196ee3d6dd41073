//! Province files over a catalog: dated fees and shorter limits, versions split at their days.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use chrono::NaiveDate;
use motcua_calendar::Limit;
use motcua_catalog::{parse_procedures, parse_province, Catalog};
use motcua_core::{Channel, ProcedureCode, Vnd};
use proptest::prelude::*;

const NATIONAL: &str = r#"
[[procedure]]
code = "1.001612"
name = "Đăng ký thành lập hộ kinh doanh"
sector = "Hộ kinh doanh"
level = "commune"
online = "full"
limit = "3 working days"
limit_source = "NĐ 168/2025/NĐ-CP"
effective_to = "2026-06-30"

[[procedure.step]]
id = "tham-dinh"
name = "Thẩm định"
agency = "ubnd-xa"
role = "specialist"
allotment = "2 working days"

[[procedure.fee]]
name = "Lệ phí đăng ký hộ kinh doanh"
amount = "council"
source = "TT 85/2019/TT-BTC"

[[procedure]]
code = "1.001612"
name = "Đăng ký thành lập hộ kinh doanh"
sector = "Hộ kinh doanh"
level = "commune"
online = "full"
limit = "3 working days"
limit_source = "NĐ 168/2025/NĐ-CP"
effective_from = "2026-07-01"

[[procedure.step]]
id = "tham-dinh"
name = "Thẩm định"
agency = "ubnd-xa"
role = "specialist"
allotment = "2 working days"

[[procedure.fee]]
name = "Lệ phí đăng ký hộ kinh doanh"
amount = "council"
source = "TT 85/2019/TT-BTC"
"#;

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    for (p, s) in parse_procedures(NATIONAL, Path::new("national.toml")).unwrap() {
        c.add(p, s).unwrap();
    }
    c
}

fn code() -> ProcedureCode {
    "1.001612".parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn fee_on(c: &Catalog, d: NaiveDate) -> (bool, Vnd, Option<Vnd>) {
    let p = c.get_on(&code(), d).unwrap();
    let f = &p.fees[0];
    (f.unpriced, f.amount, f.online)
}

#[test]
fn a_council_fee_is_unpriced_until_a_province_prices_it_from_its_day() {
    let mut c = catalog();
    assert!(fee_on(&c, day("2026-08-01")).0, "unpriced in the national catalog");
    let text = r#"
province = "01"
name = "Hà Nội"

[[fee]]
procedure = "1.001612"
fee = "Lệ phí đăng ký hộ kinh doanh"
amount = "100000"
online = "0"
effective_from = "2026-07-25"
source = "NQ 78/2026/NQ-HĐND"
"#;
    let province = parse_province(text, Path::new("ha-noi.toml")).unwrap();
    assert!(c.apply_province(&province).is_empty());
    // Split at 25/7: three versions, contiguous; before the day unpriced, from it priced.
    assert_eq!(c.versions(&code()).count(), 3);
    assert!(c.version_problems().is_empty());
    assert!(fee_on(&c, day("2026-06-30")).0);
    assert!(fee_on(&c, day("2026-07-24")).0);
    assert_eq!(fee_on(&c, day("2026-07-25")), (false, Vnd::from_dong(100_000), Some(Vnd::ZERO)));
    assert_eq!(fee_on(&c, day("2030-01-01")), (false, Vnd::from_dong(100_000), Some(Vnd::ZERO)));
    let p = c.get_on(&code(), day("2026-07-25")).unwrap();
    assert_eq!(p.fees[0].source, "NQ 78/2026/NQ-HĐND");
    assert_eq!(p.effective_from, Some(day("2026-07-25")));
}

#[test]
fn a_province_may_shorten_a_limit_never_lengthen_it() {
    let shorter = r#"
province = "01"
[[limit]]
procedure = "1.001612"
limit = "2 working days"
limit_online = "2 working days"
effective_from = "2026-01-01"
effective_to = "2026-12-31"
source = "QĐ 1/2026/QĐ-UBND"
"#;
    let mut c = catalog();
    let problems = c.apply_province(&parse_province(shorter, Path::new("p.toml")).unwrap());
    assert!(problems.is_empty(), "{problems:?}");
    let two = Limit::WorkingDays { quarters: 8 };
    let three = Limit::WorkingDays { quarters: 12 };
    assert_eq!(c.get_on(&code(), day("2025-12-31")).unwrap().limit, three);
    assert_eq!(c.get_on(&code(), day("2026-01-01")).unwrap().limit, two);
    assert_eq!(c.get_on(&code(), day("2026-07-01")).unwrap().limit_for(Channel::Online), two);
    assert_eq!(c.get_on(&code(), day("2027-01-01")).unwrap().limit, three);
    assert!(c.get_on(&code(), day("2026-03-01")).unwrap().limit_source.contains("QĐ 1/2026/QĐ-UBND"));
    assert_eq!(c.versions(&code()).count(), 4, "to 31/12/2025, to 30/6/2026 (national), to 31/12/2026, from 1/1/2027");

    let longer =
        shorter.replace("limit = \"2 working days\"\nlimit_online = \"2 working days\"", "limit = \"5 working days\"");
    let mut c = catalog();
    let before = c.clone();
    let problems = c.apply_province(&parse_province(&longer, Path::new("p.toml")).unwrap());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].to_string().contains("p.toml:4: limit: 5 working days is longer than the national limit"),
        "{}",
        problems[0]
    );
    assert_eq!(c.versions(&code()).count(), before.versions(&code()).count(), "nothing changed");

    // Shorter than the steps' allotments: the procedure is invalid, said at the entry.
    let too_short = shorter.replace("\"2 working days\"", "\"1 working day\"");
    let mut c = catalog();
    let problems = c.apply_province(&parse_province(&too_short, Path::new("p.toml")).unwrap());
    assert!(!problems.is_empty());
    assert!(problems.iter().all(|p| p.to_string().starts_with("p.toml:4: ")), "{problems:?}");
}

#[test]
fn entries_naming_what_is_not_there_are_refused_at_their_line() {
    let text = r#"
province = "01"

[[fee]]
procedure = "1.001612"
fee = "Lệ phí không có"
amount = "1000"
effective_from = "2026-01-01"
source = "NQ"

[[fee]]
procedure = "9.999999"
fee = "x"
amount = "1000"
effective_from = "2026-01-01"
source = "NQ"
"#;
    let mut c = catalog();
    let problems: Vec<String> =
        c.apply_province(&parse_province(text, Path::new("p.toml")).unwrap()).iter().map(|p| p.to_string()).collect();
    assert!(
        problems.iter().any(|p| p.starts_with("p.toml:5: fee: 1.001612 has no fee named \"Lệ phí không có\"")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("p.toml:12: procedure: 9.999999 is not in the catalog")),
        "{problems:?}"
    );
}

#[test]
fn hostile_province_files_are_refused_naming_the_field() {
    for (text, want) in [
        ("province = \"01\"\n[[fee]]\nprocedure = \"1.001612\"\nfee = \"x\"\namount = \"-5\"\neffective_from = \"2026-01-01\"\nsource = \"s\"\n", "fee.amount"),
        ("province = \"01\"\n[[fee]]\nprocedure = \"x\"\nfee = \"x\"\namount = \"5\"\neffective_from = \"2026-01-01\"\nsource = \"s\"\n", "procedure"),
        ("province = \"01\"\n[[fee]]\nprocedure = \"1.001612\"\nfee = \"x\"\namount = \"5\"\neffective_from = \"2026-13-01\"\nsource = \"s\"\n", "effective_from"),
        ("province = \"01\"\n[[fee]]\nprocedure = \"1.001612\"\nfee = \"x\"\namount = \"5\"\neffective_from = \"2026-01-01\"\nsource = \" \"\n", "source"),
        ("province = \"01\"\n[[limit]]\nprocedure = \"1.001612\"\neffective_from = \"2026-01-01\"\nsource = \"s\"\n", "limit"),
        ("province = \"01\"\n[[limit]]\nprocedure = \"1.001612\"\nlimit = \"3 fortnights\"\neffective_from = \"2026-01-01\"\nsource = \"s\"\n", "limit.limit"),
        ("province = \"01\"\n[[fee]]\nprocedure = \"1.001612\"\nfee = \"x\"\namount = \"5\"\neffective_from = \"2026-02-01\"\neffective_to = \"2026-01-01\"\nsource = \"s\"\n", "effective_to"),
        ("province = \"01\"\nsurprise = 1\n", "surprise"),
    ] {
        let e = parse_province(text, Path::new("p.toml")).expect_err(want);
        assert!(e.problems.iter().any(|p| p.to_string().contains(want)), "{want}: {e}");
    }
}

proptest! {
    /// Whatever days an entry covers, the versions stay contiguous, and on every day the fee is
    /// the province's amount exactly when the day is inside the entry's days.
    #[test]
    fn an_entry_covers_exactly_its_days(from in 0i64..2000, len in proptest::option::of(0i64..900), probe in 0i64..3000) {
        let base = day("2024-01-01");
        let from = base + chrono::Days::new(from as u64);
        let to = len.map(|l| from + chrono::Days::new(l as u64));
        let text = format!(
            "province = \"01\"\n[[fee]]\nprocedure = \"1.001612\"\nfee = \"Lệ phí đăng ký hộ kinh doanh\"\namount = \"7000\"\neffective_from = \"{from}\"\n{}source = \"s\"\n",
            to.map_or(String::new(), |t| format!("effective_to = \"{t}\"\n"))
        );
        let mut c = catalog();
        let problems = c.apply_province(&parse_province(&text, Path::new("p.toml")).unwrap());
        prop_assert!(problems.is_empty(), "{:?}", problems);
        prop_assert!(c.version_problems().is_empty());
        let d = base + chrono::Days::new(probe as u64);
        let inside = d >= from && to.is_none_or(|t| d <= t);
        let (unpriced, amount, _) = fee_on(&c, d);
        prop_assert_eq!(!unpriced, inside);
        if inside {
            prop_assert_eq!(amount, Vnd::from_dong(7000));
        }
    }
}

#[test]
fn a_provinces_list_lets_a_procedure_be_received_outside_its_area_from_its_day() {
    let text = r#"
province = "01"
[[outside_area]]
procedure = "1.001612"
effective_from = "2026-08-05"
source = "QĐ danh mục"
"#;
    let mut c = catalog();
    assert!(c.apply_province(&parse_province(text, Path::new("p.toml")).unwrap()).is_empty());
    assert_eq!(c.get_on(&code(), day("2026-08-04")).unwrap().outside_area, None);
    let listed = &c.get_on(&code(), day("2026-08-05")).unwrap().outside_area;
    assert_eq!(listed, &Some((motcua_core::BoundaryScope::Province, "QĐ danh mục".to_string())));
}
