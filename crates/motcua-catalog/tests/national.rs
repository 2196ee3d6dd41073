//! Importing the national procedure database's records (real records of a public crawl of
//! 18/7/2026, in `tests/fixtures/national`): limits per channel exactly as recorded, free text
//! read only where it is plain, nothing guessed, and catalog files `check` accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use motcua_calendar::Limit;
use motcua_catalog::national::{
    import_into, import_record, parse_free_limit, read_records, Action, DateSource, Verdict,
};
use motcua_catalog::{parse_procedures, Catalog};
use motcua_core::{Channel, Level, OnlineLevel};
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/national")
}

fn record(code: &str) -> motcua_catalog::national::NationalRecord {
    let (_, _, r) = read_records(&fixtures().join(format!("{code}.json"))).unwrap().remove(0);
    r
}

fn wd(days: u32) -> Limit {
    Limit::WorkingDays { quarters: days * 4 }
}

fn imported(code: &str) -> motcua_core::Procedure {
    let i = import_record(&record(code));
    let text = i.toml.unwrap_or_else(|| panic!("{code}: {:?}", i.notes));
    let mut ps = parse_procedures(&text, Path::new("imported.toml")).unwrap_or_else(|e| panic!("{code}: {e}\n{text}"));
    assert_eq!(ps.len(), 1);
    ps.remove(0).0
}

#[test]
fn structured_limits_are_taken_exactly_per_channel() {
    // Temporary-residence extension: 3 working days by every method.
    let p = imported("1.002755");
    assert_eq!(p.name, "Gia hạn tạm trú");
    assert_eq!(p.level, Level::Commune);
    assert_eq!(p.limit, wd(3));
    assert!(p.channel_limits.is_empty());
    // Two rates by method (a list's per person, an individual's), whose texts and amounts
    // disagree in the record: not imported, said with the amounts.
    assert!(p.fees.is_empty());
    let i = import_record(&record("1.002755"));
    assert!(
        i.notes.iter().any(|n| n.reason.contains("several rates (10000, 15000 at the counter, 5000, 7000 online)")),
        "{:?}",
        i.notes
    );
    // One rate: the counter's amount with the online one beside (temporary residence 1.004194
    // has two; the seed's permanent residence, 20,000 and 10,000).
    let vnd = motcua_core::Vnd::from_dong;
    let one = motcua_catalog::national::NationalRecord {
        code: "1.004222".into(),
        name: "Đăng ký thường trú".into(),
        is_ward: true,
        execution_methods: ["DIRECT", "ONLINE"]
            .iter()
            .zip([20_000, 10_000])
            .map(|(m, v)| motcua_catalog::national::Method {
                submission_method: (*m).into(),
                processing_time: serde_json::json!(7),
                processing_time_unit: "WORKING_DAY".into(),
                fees: vec![motcua_catalog::national::FeeRecord {
                    kind: "FEE".into(),
                    value: Some(v.into()),
                    description: String::new(),
                }],
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let text = import_record(&one).toml.unwrap();
    let q = parse_procedures(&text, Path::new("x.toml")).unwrap().remove(0).0;
    assert_eq!(q.fees.iter().map(|f| (f.amount, f.online)).collect::<Vec<_>>(), [(vnd(20_000), Some(vnd(10_000)))]);
    assert!(p.documents.iter().any(|d| d.code.as_deref() == Some("000.00.00.G01-KQ003641")));
    // A feasibility appraisal: 35 days at the counter and by post, 25 online.
    let p = imported("1.013216");
    assert_eq!(p.limit, Limit::CalendarDays(35));
    assert_eq!(p.channel_limits, [(Channel::Online, Limit::CalendarDays(25))]);
    assert_eq!(p.limit_for(Channel::Postal), Limit::CalendarDays(35));
    assert_eq!(p.online, OnlineLevel::Partial, "isFullProcess is false");
    // Hours, read as working hours and said so.
    let i = import_record(&record("1.115563"));
    assert_eq!(i.verdict(), Verdict::WithAssumptions);
    assert!(i.notes.iter().any(|n| n.reason == "unit HOUR read as working hours"));
    assert_eq!(imported("1.115563").limit, Limit::WorkingMinutes(15 * 60));
}

#[test]
fn free_text_is_read_only_where_it_is_plain() {
    let i = import_record(&record("1.115711"));
    assert!(i.parsed_free_text);
    assert_eq!(imported("1.115711").limit, wd(3));
    // "Theo mô tả" ("as described") gives no limit: not importable, the field named.
    let i = import_record(&record("1.115651"));
    assert_eq!(i.verdict(), Verdict::NotImportable);
    assert!(i.toml.is_none());
    assert!(i.notes.iter().any(|n| n.blocking && n.field.contains("processingTime")), "{:?}", i.notes);
    // Months: no such unit, not guessed.
    let i = import_record(&record("1.115403"));
    assert_eq!(i.verdict(), Verdict::NotImportable);
    assert!(i.notes.iter().any(|n| n.reason.contains("months")), "{:?}", i.notes);
    // One method listed twice with two limits (the ordinary and the complex case): two cases,
    // and a receipt must name one.
    let i = import_record(&record("1.003677"));
    assert_eq!(i.verdict(), Verdict::WithAssumptions);
    assert!(i.notes.iter().any(|n| n.reason.contains("2 cases")), "{:?}", i.notes);
    let p = imported("1.003677");
    assert!(p.case_required);
    let limits: Vec<_> = p.cases.iter().map(|c| (c.id.as_str(), c.limit)).collect();
    assert_eq!(limits, [("truong-hop-1", wd(1)), ("truong-hop-2", wd(2))]);
    assert!(p.limit_of(None, Channel::Online).is_err());
    assert_eq!(p.limit_of(Some("truong-hop-2"), Channel::Online).unwrap(), wd(2));
    // Fees the provincial council sets are written unpriced, for a province file, said so.
    let i = import_record(&record("1.001695"));
    assert!(i.notes.iter().any(|n| n.reason.contains("provincial council")), "{:?}", i.notes);
    let text = i.toml.as_deref().unwrap_or_default();
    assert!(text.contains("amount = \"council\""), "{text}");
    let (p, _) = parse_procedures(text, std::path::Path::new("1.001695.toml")).unwrap().remove(0);
    assert!(p.fees.iter().any(|f| f.unpriced), "{:?}", p.fees);
}

#[test]
fn the_plain_phrasings() {
    let l = |t: &str| parse_free_limit(t).map(|f| f.limit);
    assert_eq!(l("07 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ"), Some(wd(7)));
    assert_eq!(l("Trong ngày"), Some(Limit::SameDay));
    assert_eq!(l("Ngay sau khi nhận đủ hồ sơ"), Some(Limit::SameDay));
    assert_eq!(l("Không quá 05 ngày làm việc"), Some(wd(5)));
    assert_eq!(l("Không quá 12,5 ngày làm việc"), Some(Limit::WorkingDays { quarters: 50 }));
    assert_eq!(l("Không quá 15 ngày kể từ ngày nhận đủ hồ sơ hợp lệ."), Some(Limit::CalendarDays(15)));
    assert_eq!(
        l("Không quá 15 ngày làm việc. Trong đó: - Sở: 12 ngày làm việc; - UBND tỉnh: 03 ngày làm việc"),
        Some(wd(15))
    );
    let f = parse_free_limit("03 ngày làm việc; trường hợp phải xác minh thì không quá 05 ngày làm việc").unwrap();
    assert_eq!(f.limit, wd(3));
    assert_eq!(f.other_case, Some(("trường hợp phải xác minh".to_string(), wd(5))));
    // Not plain: several limits without structure, months, words, nothing.
    assert_eq!(l("a) Không quá 05 ngày làm việc đối với A; b) không quá 10 ngày làm việc đối với B"), None);
    assert_eq!(l("02 tháng"), None);
    assert_eq!(l("mười lăm ngày"), None);
    assert_eq!(l("Theo mô tả"), None);
}

#[test]
fn a_folder_imports_checks_and_reimports_as_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let out = import_into(read_records(&fixtures()).unwrap(), dir.path(), today).unwrap();
    assert_eq!(out.len(), 10);
    let created = out.iter().filter(|o| matches!(o.action, Action::Created(_))).count();
    assert_eq!(created, 8);
    let catalog = Catalog::load(dir.path()).unwrap();
    assert!(catalog.get(&"1.013216".parse().unwrap()).is_some());
    // The same records again: nothing changes.
    let again = import_into(read_records(&fixtures()).unwrap(), dir.path(), today).unwrap();
    assert!(again.iter().all(|o| matches!(o.action, Action::Unchanged(_) | Action::Skipped)));
    // A changed record: a new version from the record's update day, the old one closed the day
    // before; the folder still loads.
    let mut changed = record("1.013216");
    changed.execution_methods.iter_mut().for_each(|m| m.processing_time = serde_json::json!(20));
    let updated =
        changed.updated_at.map(|ms| chrono::DateTime::from_timestamp_millis(ms + 7 * 3_600_000).unwrap().date_naive());
    let later = changed.updated_at.map(|ms| ms + 40 * 86_400_000);
    changed.updated_at = later;
    let out = import_into(vec![(PathBuf::from("x.json"), 1, changed)], dir.path(), today).unwrap();
    let Action::NewVersion(_, from, DateSource::Record) = &out[0].action else { panic!("{:?}", out[0].action) };
    assert!(Some(*from) > updated);
    let catalog = Catalog::load(dir.path()).unwrap();
    let versions: Vec<_> = catalog.iter().filter(|p| p.code.to_string() == "1.013216").collect();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].limit, Limit::CalendarDays(20));
    assert_eq!(versions[1].effective_from, Some(*from));
    assert_eq!(versions[0].effective_to, from.pred_opt());
}

#[test]
fn json_lines_and_the_portal_envelope_and_broken_input() {
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read_to_string(fixtures().join("1.013216.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    let bare = serde_json::to_string(&v["data"]).unwrap();
    let lines = format!("{bare}\n\n{}\n", serde_json::to_string(&v).unwrap());
    let path = dir.path().join("records.jsonl");
    std::fs::write(&path, lines).unwrap();
    let records = read_records(&path).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].1, 3, "the line of the second record");
    assert!(records.iter().all(|(_, _, r)| r.code == "1.013216"));
    std::fs::write(&path, format!("{bare}\n{{\"code\": 5}}\n")).unwrap();
    let e = read_records(&path).unwrap_err().to_string();
    assert!(e.contains("records.jsonl:2:"), "{e}");
    let e = read_records(&dir.path().join("missing.json")).unwrap_err().to_string();
    assert!(e.contains("missing.json"), "{e}");
}

proptest! {
    /// Any text: no panic, and a limit read from it carries a number the text holds.
    #[test]
    fn free_text_never_panics_nor_invents(text in "\\PC{0,120}", n in 0u32..400) {
        let _ = parse_free_limit(&text);
        let with_number = format!("{text} không quá {n:02} ngày làm việc");
        if let Some(f) = parse_free_limit(&with_number) {
            let shown = f.limit.to_string();
            let number = shown.split(' ').next().unwrap_or("");
            prop_assert!(with_number.contains(number) || f.limit == Limit::SameDay, "{with_number:?} -> {shown}");
        }
    }
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,40}",
        "[\"'\\\\#\\[\\]\\n\\r\\t= ]{0,12}",
        Just("Không quá 05 ngày làm việc; trường hợp phải xác minh thì không quá 10 ngày làm việc".to_string()),
        Just("Theo mô tả".to_string()),
    ]
}

fn hostile_method() -> impl Strategy<Value = motcua_catalog::national::Method> {
    let time = prop_oneof![
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-10.0f64..100.0).prop_map(|f| serde_json::json!(f)),
        hostile_text().prop_map(serde_json::Value::String),
        Just(serde_json::Value::Null),
    ];
    let unit =
        prop_oneof![Just("WORKING_DAY"), Just("DAY"), Just("HOUR"), Just("MONTH"), Just("OTHER"), Just("FORTNIGHT")];
    let method = prop_oneof![Just("DIRECT"), Just("ONLINE"), Just("POSTAL"), Just("FAX")];
    let fee = (
        prop_oneof![Just("FEE"), Just("SERVICE_FEE"), Just("PRICE_LEVEL"), Just("?")],
        any::<Option<u64>>(),
        hostile_text(),
    )
        .prop_map(|(kind, value, description)| motcua_catalog::national::FeeRecord {
            kind: kind.into(),
            value: value.map(Into::into),
            description,
        });
    (method, time, unit, hostile_text(), proptest::collection::vec(fee, 0..4)).prop_map(|(m, t, u, d, fees)| {
        motcua_catalog::national::Method {
            submission_method: m.into(),
            processing_time: t,
            processing_time_unit: u.into(),
            description: d,
            fees,
        }
    })
}

proptest! {
    /// Hostile records: the import never panics, and whatever it writes, the catalog reads back
    /// as a valid procedure (names and texts quoted, comments one line).
    #[test]
    fn hostile_records_import_or_are_refused_never_half_written(
        code in prop_oneof![Just("1.000001".to_string()), "\\PC{0,12}"],
        name in hostile_text(),
        methods in proptest::collection::vec(hostile_method(), 0..5),
        component in hostile_text(),
        flags in any::<(bool, bool, bool, bool)>(),
    ) {
        let record = motcua_catalog::national::NationalRecord {
            code,
            name,
            is_ward: flags.0,
            is_province: flags.1,
            is_full_process: flags.2,
            is_non_territorial: flags.3,
            execution_methods: methods,
            execution_cases: vec![motcua_catalog::national::ExecutionCase {
                name: String::new(),
                profile_components: vec![motcua_catalog::national::Component {
                    name: component.clone(),
                    code: component,
                    original_qty: 1,
                    ..Default::default()
                }],
            }],
            executing_agencies: "x\ny".into(),
            ..Default::default()
        };
        let imported = import_record(&record);
        if let Some(text) = &imported.toml {
            prop_assert!(imported.verdict() != Verdict::NotImportable);
            let parsed = parse_procedures(text, Path::new("h.toml"));
            prop_assert!(parsed.is_ok(), "{text}\n{:?}", parsed.err().map(|e| e.to_string()));
        } else {
            prop_assert_eq!(imported.verdict(), Verdict::NotImportable);
            prop_assert!(imported.notes.iter().any(|n| n.blocking), "{:?}", imported.notes);
        }
    }
}

proptest! {
    /// Any bytes as a record file or a JSON-lines file: records or a typed error naming the
    /// file, never a panic.
    #[test]
    fn any_bytes_read_or_fail_naming_the_file(bytes in proptest::collection::vec(any::<u8>(), 0..300), lines in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(if lines { "r.jsonl" } else { "r.json" });
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = read_records(&path) {
            prop_assert!(e.to_string().contains(if lines { "r.jsonl" } else { "r.json" }), "{e}");
        }
    }
}
