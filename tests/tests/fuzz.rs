//! Fuzzing every input motcua reads, on the stable toolchain: proptest mutates the seed files
//! (bytes flipped, inserted, deleted, lines repeated or cut) and generates strings for every
//! parsed value, and each parser must answer with a value or a typed error — never a panic —
//! within bounds. CI runs the default number of cases; a longer run:
//! `PROPTEST_CASES=20000 cargo test -p motcua-tests --test fuzz --release` (FUZZING.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use motcua_calendar::{Limit, Notice, OfficeHours, Timestamp};
use motcua_core::{AgencyCode, Cccd, Command, DossierCode, ProcedureCode, TaxCode};
use motcua_tests::mutation::{edits, mutate, Edit};
use motcua_tests::seeds_dir;
use proptest::prelude::*;

/// Decides `command` on a dossier received at the counter under a procedure with a per-unit,
/// capped, reducible fee: must not panic.
fn decide_on_a_received_dossier(command: &Command) {
    use motcua_core::{apply, decide, Channel, Context, Dossier, Fee, FeeReduction, FeeTier, Procedure, Vnd};
    static CAL: std::sync::OnceLock<motcua_calendar::WorkCalendar> = std::sync::OnceLock::new();
    let cal = CAL.get_or_init(|| motcua_calendar::WorkCalendar::builder().years(2025, 2026).build().unwrap());
    let mut p = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    p.fees = vec![Fee {
        per: Some("trang".into()),
        then: Some(FeeTier { from: 3, amount: Vnd::from_dong(1000) }),
        max: Some(Vnd::from_dong(200_000)),
        online: Some(Vnd::from_dong(1)),
        reduced: vec![FeeReduction { ground: "sinh-vien".into(), amount: Vnd::from_dong(1500) }],
        ..Fee::fixed("Phí", Vnd::from_dong(2000))
    }];
    let ctx = Context::new(&p, cal);
    let now: Timestamp = "2025-03-03T09:00".parse().unwrap();
    let mut d = Dossier::new();
    let receive = Command::Receive {
        case: None,
        procedure: p.code.clone(),
        channel: Channel::Direct,
        jurisdiction: None,
        applicant: None,
        documents: Vec::new(),
    };
    for e in decide(&d, &receive, now, &ctx).unwrap() {
        apply(&mut d, &e);
    }
    if let Ok(events) = decide(&d, command, now.plus_minutes(5), &ctx) {
        for e in &events {
            apply(&mut d, e);
        }
    }
}

/// Every seed file of a kind: (path, text).
fn seeds(folder: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![seeds_dir().join(folder)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Runs `parse` on a mutated seed file of `folder`; it must not panic.
fn fuzz_folder(folder: &str, pick: usize, edits: &[Edit], parse: impl Fn(&str, &Path)) {
    let files = seeds(folder);
    let (path, text) = &files[pick % files.len()];
    parse(&mutate(text, edits), path);
}

proptest! {
    #[test]
    fn procedure_catalogs(pick in any::<usize>(), e in edits()) {
        fuzz_folder("procedures", pick, &e, |t, p| { let _ = motcua_catalog::parse_procedures(t, p); });
    }

    #[test]
    fn scenarios(pick in any::<usize>(), e in edits()) {
        fuzz_folder("scenarios", pick, &e, |t, p| {
            // Parsed and, when it parses, run: decide/apply on whatever the mutation made.
            if let Ok(s) = motcua_catalog::parse_scenario(t, p) {
                let _ = motcua_catalog::Runner::new().run(&s);
            }
        });
    }

    #[test]
    fn notices_hours_registers_and_profiles(pick in any::<usize>(), e in edits(), kind in 0usize..5) {
        match kind {
            0 => fuzz_folder("calendar", pick, &e, |t, p| { let _ = Notice::parse(t, p); }),
            1 => fuzz_folder("hours", pick, &e, |t, p| { let _ = OfficeHours::parse(t, p); }),
            2 => fuzz_folder("units", pick, &e, |t, p| { let _ = motcua_catalog::parse_register(t, p); }),
            3 => fuzz_folder("digitisation", pick, &e, |t, p| { let _ = motcua_catalog::parse_digitisation(t, p); }),
            _ => fuzz_folder("profiles", pick, &e, |t, p| { let _ = motcua_sim::Profile::parse(t, p, None); }),
        }
    }

    /// "Check agrees" (issue #31): whatever mutated scenario `motcua test` refuses as broken,
    /// `motcua check` refuses too (both are the runner: `check` is what `run` needs first).
    #[test]
    fn check_refuses_every_scenario_test_would(pick in any::<usize>(), e in edits()) {
        let files = seeds("scenarios");
        let (path, text) = &files[pick % files.len()];
        if let Ok(s) = motcua_catalog::parse_scenario(&mutate(text, &e), path) {
            let checked = motcua_catalog::Runner::new().check(&s);
            let ran = motcua_catalog::Runner::new().run(&s);
            prop_assert!(ran.is_ok() || checked.is_err(), "test refused, check passed: {:?}", ran.err());
        }
    }

    /// "Check agrees" for notices: a notice `check` passes builds a calendar of its year and
    /// the years around it, as `calendar --notices` would.
    #[test]
    fn check_refuses_every_notice_the_calendar_would(pick in any::<usize>(), e in edits()) {
        let files = seeds("calendar");
        let (path, text) = &files[pick % files.len()];
        if let Ok(n) = Notice::parse(&mutate(text, &e), path) {
            if n.validate().is_ok() {
                let year = n.year.clamp(2015, 2198);
                let mut notices = motcua_calendar::Notices::builtin();
                notices.insert(n);
                let built = motcua_calendar::WorkCalendar::builder().years(year - 1, year + 1).notices(notices).build();
                prop_assert!(built.is_ok(), "check passed, the calendar refused: {:?}", built.err());
            }
        }
    }

    /// "Check agrees" for profiles: a profile `check` passes (parsed against the catalog, its
    /// register and digitisation rules opened) has a calendar for its year and the next, as
    /// `simulate` builds it.
    #[test]
    fn check_refuses_every_profile_simulate_would(pick in any::<usize>(), e in edits()) {
        let catalog = motcua_catalog::Catalog::load(&seeds_dir().join("procedures")).unwrap();
        let files = seeds("profiles");
        let (path, text) = &files[pick % files.len()];
        let checked = motcua_sim::Profile::parse(&mutate(text, &e), path, Some(&catalog))
            .and_then(|p| p.references(Some(&catalog)).map(|_| p));
        if let Ok(profile) = checked {
            let built = motcua_calendar::WorkCalendar::builder().years(profile.year, profile.year + 1).build();
            prop_assert!(built.is_ok(), "check passed, simulate's calendar refused: {:?}", built.err());
        }
    }

    #[test]
    fn values_from_strings(s in "\\PC{0,40}", t in "[0-9T:+\\-. a-z]{0,30}") {
        let _ = s.parse::<Limit>();
        let _ = t.parse::<Limit>();
        let _ = s.parse::<Timestamp>();
        let _ = t.parse::<Timestamp>();
        let _ = s.parse::<DossierCode>();
        let _ = s.parse::<AgencyCode>();
        let _ = s.parse::<ProcedureCode>();
        let _ = s.parse::<Cccd>();
        let _ = s.parse::<TaxCode>();
        let _ = t.parse::<TaxCode>();
    }

    #[test]
    fn limits_and_times_that_parse_compute_or_fail_cleanly(days in 0u32..5000, unit in 0usize..4, at in 0i64..60_000_000) {
        // Every limit the parser accepts (up to its documented maximum, 3650 days) finds its
        // due time for a receipt in 2023-2042, on a calendar of the years the limit needs.
        let text = match unit {
            0 => format!("{days} days"),
            1 => format!("{days} working days"),
            2 => format!("{days} working hours"),
            _ => "same day".to_string(),
        };
        if let Ok(limit) = text.parse::<Limit>() {
            let received = Timestamp::from_utc_minutes(at % 10_000_000 + 28_000_000);
            let year = chrono::Datelike::year(&received.local_date());
            let cal = motcua_calendar::WorkCalendar::builder().years(year, year + limit.years_ahead()).build().unwrap();
            let due = cal.appointment_with_cutoff(received, limit, Some(900));
            prop_assert!(due.is_ok(), "{text} from {received}: {due:?}");
        }
    }

    #[test]
    fn command_bodies(body in "\\PC{0,80}", pick in 0usize..10, e in edits()) {
        // Request bodies as the API receives them: JSON from scratch, and mutated valid ones.
        let _ = serde_json::from_str::<Command>(&body);
        let valid = [
            r#"{"command": "start_step", "step": "tham-dinh"}"#,
            r#"{"command": "request_supplement", "reason": "thiếu"}"#,
            r#"{"command": "request_financial_obligation", "amount": "50000"}"#,
            r#"{"command": "extend", "new_due": "2025-03-10T17:00", "reason": "x"}"#,
            r#"{"command": "finish", "decision": "denied", "reason": "x"}"#,
            r#"{"command": "receive", "procedure": "1.004194", "channel": "direct", "jurisdiction": "P.A"}"#,
            r#"{"command": "assess_fees", "stage": "intake", "units": 4294967295, "exemption": "sinh-vien"}"#,
            r#"{"command": "file_feedback", "subject": "x", "topic": "conduct", "follows": 65535}"#,
            r#"{"command": "answer_feedback", "feedback": 1, "end": "rejected", "text": "x"}"#,
            r#"{"command": "rate_feedback", "feedback": 1, "satisfied": false}"#,
        ];
        // Parsed or refused; parsed, decided on a received dossier whose procedure charges per
        // unit with a cap: events or a typed rejection, never a panic.
        if let Ok(command) = serde_json::from_str::<Command>(&mutate(valid[pick], &e)) {
            decide_on_a_received_dossier(&command);
        }
    }
}

proptest! {
    // Each case simulates a small year (up to 2,000 dossiers): fewer cases than the parsers'.
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// "Check agrees" for a year's figures: a small year (the seed profile's shares, its own
    /// counts and percentages) that `check` passes — parsed, its references opened, its year
    /// planned — `simulate` runs on memory to the end; figures the year cannot meet together
    /// are refused by both, at the same file and line.
    #[test]
    fn check_refuses_every_small_year_simulate_would(
        received in 1u64..2000,
        online_pm in 0u64..=1000,
        resolved_pm in 950u64..=1000,
        late_pm in 0u64..=200,
        first_half_online in 0u32..=10_000,
        land_online in 0u32..=10_000,
        with_dossiers in 0u32..=4_000,
    ) {
        let path = seeds_dir().join("profiles/ninh-thuan-2023.toml");
        let online = received * online_pm / 1000;
        let resolved = received * resolved_pm / 1000;
        let on_time = resolved - resolved * late_pm / 1000;
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("received = 328508", &format!("received = {received}"))
            .replace("online = 273500", &format!("online = {online}"))
            .replace("resolved = 324770", &format!("resolved = {resolved}"))
            .replace("early_or_on_time = 322647", &format!("early_or_on_time = {on_time}"))
            .replace("with_dossiers_pct = 33.25", &format!("with_dossiers_pct = {}", f64::from(with_dossiers) / 100.0))
            .replace("online_pct = 81.17", &format!("online_pct = {}", f64::from(first_half_online) / 100.0))
            .replace("land_online_pct = 2.06", &format!("land_online_pct = {}", f64::from(land_online) / 100.0));
        let catalog = motcua_catalog::Catalog::load(&seeds_dir().join("procedures")).unwrap();
        let Ok(profile) = motcua_sim::Profile::parse(&text, &path, Some(&catalog)) else { return Ok(()) };
        let references = profile.references(Some(&catalog)).unwrap();
        let checked = profile.check_plan(&catalog);
        let procs = motcua_sim::procedures(&profile, &catalog);
        let calendar = motcua_calendar::WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
        let mut engine = motcua_engine::Engine::new(motcua_engine::MemoryStore::new(), procs.clone(), calendar)
            .with_units(std::sync::Arc::new(references.units.unwrap()))
            .with_digitisation(std::sync::Arc::new(references.digitisation.unwrap()));
        let options = motcua_sim::SimOptions { seed: 1, batch: 500, sync: false };
        let ran = motcua_sim::simulate(&mut engine, &profile, &procs, &options);
        match (&checked, &ran) {
            (Ok(true), Ok(_)) => {}
            (Err(c), Err(r)) => {
                // The same message, at the profile's line of the figure.
                let r = profile.calibration_problem(r);
                prop_assert_eq!(c.to_string(), r.to_string());
            }
            _ => prop_assert!(false, "check {:?}, simulate {:?}", checked, ran.map(|r| r.events)),
        }
    }
}
