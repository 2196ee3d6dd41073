//! The data the project ships in `seeds/` loads from disk exactly as the built-in copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_calendar::{Notices, WorkCalendar, YearStatus};
use motcua_tests::seeds_dir;

#[test]
fn seed_notices_on_disk_equal_the_built_in_ones() {
    let mut from_disk = Notices::empty();
    from_disk.load_dir(&seeds_dir().join("calendar")).unwrap();
    let builtin = Notices::builtin();
    let years = |n: &Notices| n.iter().map(|x| x.year).collect::<Vec<_>>();
    assert_eq!(years(&from_disk), years(&builtin));
    for (a, b) in from_disk.iter().zip(builtin.iter()) {
        assert_eq!(a.entries.len(), b.entries.len(), "{}", a.year);
        assert_eq!(a.references, b.references, "{}", a.year);
        for (x, y) in a.entries.iter().zip(&b.entries) {
            assert_eq!(
                (x.date, x.kind, &x.name, &x.reference, x.line),
                (y.date, y.kind, &y.name, &y.reference, y.line)
            );
        }
    }
    let cal = WorkCalendar::builder().years(2020, 2027).notices(from_disk).build().unwrap();
    assert_eq!(cal.year_status(2026), YearStatus::Official);
    assert_eq!(cal.year_status(2027), YearStatus::Projected);
}

#[test]
fn seed_office_hours_files_parse() {
    for entry in std::fs::read_dir(seeds_dir().join("hours")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let hours = motcua_calendar::OfficeHours::load(&path).unwrap();
            WorkCalendar::builder().years(2024, 2026).office_hours(hours).build().unwrap();
        }
    }
}

#[test]
fn the_seed_province_register_resolves_provincial_roles_before_and_after_the_merger() {
    let register = motcua_catalog::load_register(&seeds_dir().join("units/ninh-thuan.toml")).unwrap();
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    // A 2023 dossier of Bác Ái district: the provincial police (the district's ancestor's).
    let police = register.resolve("cong-an-tinh", "58.584", d("2023-05-02")).unwrap();
    assert_eq!(&*police.code, "NINHTHUAN.CA");
    // After 1/7/2025 the district and the province are gone: Khánh Hòa's police.
    let police = register.resolve("cong-an-tinh", "58.584", d("2025-07-01")).unwrap();
    assert_eq!(&*police.code, "KHANHHOA.CA");
    assert_eq!(register.holder_on("NINHTHUAN", d("2025-07-01")), "KHANHHOA");
    assert_eq!(register.units().iter().filter(|u| u.level == motcua_core::UnitLevel::District).count(), 7);
}

/// The seed procedures that have a national record among the fixtures (records of the national
/// procedure database, crawled 18/7/2026) keep that record's limit for every channel, and its fee
/// where the record gives one rate.
#[test]
fn seed_procedures_agree_with_their_national_records() {
    use motcua_catalog::national::{import_record, read_records};
    use motcua_core::Channel;
    let catalog = motcua_catalog::Catalog::load(&seeds_dir().join("procedures")).unwrap();
    let records = read_records(&seeds_dir().join("../tests/fixtures/national")).unwrap();
    let mut compared = 0;
    for (_, _, record) in records {
        let Some(seed) = catalog.get(&record.code.parse().unwrap()) else { continue };
        let imported = import_record(&record);
        let text = imported.toml.unwrap_or_else(|| panic!("{}: {:?}", record.code, imported.notes));
        let national = motcua_catalog::parse_procedures(&text, std::path::Path::new("n.toml")).unwrap().remove(0).0;
        for channel in [Channel::Direct, Channel::Online, Channel::Postal] {
            assert_eq!(seed.limit_for(channel), national.limit_for(channel), "{} {channel:?}", record.code);
        }
        for fee in &national.fees {
            let same = seed.fees.iter().any(|f| f.amount == fee.amount && f.online == fee.online);
            assert!(same, "{}: the record's fee {:?}/{:?} is not the seed's", record.code, fee.amount, fee.online);
        }
        compared += 1;
    }
    assert_eq!(compared, 3, "1.002755, 1.004194, 1.004222");
}
