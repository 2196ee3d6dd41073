//! The simulated year reproduces the profile's totals exactly, the engine judges every outcome,
//! and a seed gives the same year.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use motcua_calendar::WorkCalendar;
use motcua_catalog::Catalog;
use motcua_engine::{verify, Engine, MemoryStore, Store};
use motcua_sim::{procedures, simulate, Profile, SimOptions, SimReport};

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../seeds")
}

/// Ninh Thuận's profile with its counts divided by 100 (same shares), for a fast test.
fn small_profile(catalog: &Catalog) -> Profile {
    let text = std::fs::read_to_string(seeds().join("profiles/ninh-thuan-2023.toml")).unwrap();
    let text = text
        .replace("received = 328508", "received = 3285")
        .replace("online = 273500", "online = 2735")
        .replace("resolved = 324770", "resolved = 3247")
        .replace("early_or_on_time = 322647", "early_or_on_time = 3226");
    Profile::parse(&text, Path::new("small.toml"), Some(catalog)).unwrap()
}

fn run(profile: &Profile, catalog: &Catalog, seed: u64) -> (SimReport, MemoryStore) {
    run_with(profile, catalog, &SimOptions { seed, batch: 1000, sync: false })
}

fn run_with(profile: &Profile, catalog: &Catalog, options: &SimOptions) -> (SimReport, MemoryStore) {
    let procs = procedures(profile, catalog);
    let calendar = WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
    let mut engine = Engine::new(MemoryStore::new(), procs.clone(), calendar);
    let report = simulate(&mut engine, profile, &procs, options).unwrap();
    (report, engine.into_store())
}

#[test]
fn totals_come_out_exactly_and_the_log_verifies() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let (report, store) = run(&profile, &catalog, 7);
    assert_eq!(report.received, 3285);
    assert_eq!(report.online, 2735);
    assert_eq!(report.resolved, 3247);
    assert_eq!(report.early_or_on_time, 3226);
    assert_eq!(report.early_or_on_time_pct(), 99.35);
    assert!(report.events > 3285 * 3);
    // 33.25 % of 829 online services = 276 with online dossiers (33.29 % after rounding), and
    // the stored log agrees.
    assert_eq!((report.services_offered, report.services_with_online_dossiers), (829, 276));
    assert_eq!(report.services_with_online_dossiers_pct(), 33.29);
    let used: std::collections::HashSet<_> = store
        .summaries()
        .unwrap()
        .into_iter()
        .filter(|s| s.channel == Some(motcua_core::Channel::Online.code()))
        .filter_map(|s| s.procedure)
        .collect();
    assert_eq!(used.len(), 276);
    let v = verify(&store).unwrap();
    assert_eq!(v.dossiers, 3285);
    assert_eq!(v.events, report.events);
    // Apologies: about extension_pct (0.5 %) of all dossiers, all among the 21 late ones.
    let extended = store
        .dossiers()
        .unwrap()
        .iter()
        .filter(|c| {
            let stream = store.load(c).unwrap().unwrap();
            stream.events.iter().any(|e| matches!(e.event, motcua_core::Event::Extended { .. }))
        })
        .count();
    assert!((5..=21).contains(&extended), "{extended} extensions");
}

#[test]
fn the_same_seed_gives_the_same_year() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let (a, _) = run(&profile, &catalog, 42);
    let (b, _) = run(&profile, &catalog, 42);
    assert_eq!(
        (a.received, a.online, a.resolved, a.early_or_on_time, a.events),
        (b.received, b.online, b.resolved, b.early_or_on_time, b.events)
    );
}

#[test]
fn the_stored_log_alone_gives_the_same_indicators() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let procs = procedures(&profile, &catalog);
    let (report, store) = run(&profile, &catalog, 11);
    let sectors = procs.iter().map(|p| (p.code.clone(), p.sector.clone())).collect();
    let (counters, _) = motcua_engine::rebuild_projections(&store, &sectors).unwrap();
    let t = counters.total(|_| true);
    assert_eq!(
        (t.received, t.resolved, t.early + t.on_time),
        (report.received, report.resolved, report.early_or_on_time)
    );
    // Online dossiers, from the stored projections alone.
    let online = store
        .dossiers()
        .unwrap()
        .iter()
        .filter(|c| store.load(c).unwrap().unwrap().summary.unwrap().channel == Some(2))
        .count() as u64;
    assert_eq!(online, report.online);
}

#[test]
fn the_sync_worker_delivers_every_status_message_and_changes_nothing_else() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let (quiet, quiet_store) = run_with(&profile, &catalog, &SimOptions { seed: 5, batch: 1000, sync: false });
    let (synced, store) = run_with(&profile, &catalog, &SimOptions { seed: 5, batch: 1000, sync: true });
    // Without the worker every message waits; with it none does, and each went out once.
    assert_eq!(quiet.synced, 0);
    assert!(quiet.outbox_pending > 3285, "{} messages", quiet.outbox_pending);
    assert_eq!((synced.synced, synced.outbox_pending), (quiet.outbox_pending, 0));
    assert_eq!(store.outbox_pending().unwrap(), 0);
    // The year itself is the same.
    assert_eq!(
        (synced.received, synced.online, synced.resolved, synced.early_or_on_time, synced.events),
        (quiet.received, quiet.online, quiet.resolved, quiet.early_or_on_time, quiet.events)
    );
    assert_eq!(store.summaries().unwrap(), quiet_store.summaries().unwrap());
    assert_eq!(verify(&store).unwrap().events, synced.events);
}

#[test]
fn agencies_finish_their_steps_in_time_unless_the_dossier_is_late() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let (_, store) = run(&profile, &catalog, 3);
    let summaries = store.summaries().unwrap();
    let steps: usize = summaries.iter().map(|s| s.steps.as_ref().map_or(0, Vec::len)).sum();
    assert!(steps > 1000, "{steps} steps started");
    for s in &summaries {
        if s.outcome != Some(motcua_core::Outcome::Late) {
            let late: Vec<_> = s
                .steps
                .iter()
                .flatten()
                .filter(|st| st.outcome == Some(motcua_core::Outcome::Late))
                .map(|st| &st.step)
                .collect();
            assert!(late.is_empty(), "{}: late steps {late:?} in a dossier finished in time", s.dossier);
        }
    }
    // The report's step table adds up to the summaries' steps.
    let calendar = WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
    let as_of = motcua_calendar::Timestamp::from_local(chrono::NaiveDate::from_ymd_opt(2023, 12, 31).unwrap(), 1439);
    let report = motcua_report::Report::build(&summaries, &std::collections::HashMap::new(), &calendar, as_of);
    // Row by row, with a calendar of its own, the builder gives the same report.
    let procedures = std::collections::HashMap::new();
    let mut builder = motcua_report::ReportBuilder::new(&procedures);
    for s in &summaries {
        builder.add(s);
    }
    assert_eq!(builder.finish(None), report);
    let started: u64 = report.by_step.iter().map(|r| r.started).sum();
    let by_agency: u64 = report.by_step_agency.iter().map(|r| r.started).sum();
    assert_eq!((started, by_agency), (steps as u64, steps as u64));
}

#[test]
fn counters_open_on_working_days_while_online_dossiers_also_come_at_weekends() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let (_, store) = run(&profile, &catalog, 9);
    let calendar = WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
    let (mut direct_off, mut online_off, mut online_evening) = (0, 0, 0);
    for s in store.summaries().unwrap() {
        let received = s.received_at.unwrap();
        let working = calendar.day(received.local_date()).unwrap().working;
        let local = received.to_local_naive();
        let minute = chrono::Timelike::hour(&local) * 60 + chrono::Timelike::minute(&local);
        match s.channel {
            Some(1) => {
                assert!(working, "{}: counter dossier on a day off", s.dossier);
                assert!((420..1020).contains(&minute), "{}: counter dossier at minute {minute}", s.dossier);
                direct_off += usize::from(!working);
            }
            _ => {
                online_off += usize::from(!working);
                online_evening += usize::from(minute >= 1020);
            }
        }
    }
    assert_eq!(direct_off, 0);
    assert!(online_off > 50, "{online_off} online dossiers on days off");
    assert!(online_evening > 100, "{online_evening} online dossiers after 17:00");
}

/// With the province's register, commune procedures are received at the communes' committees
/// and every command is issued by an officer of the agency that acts (the engine authorizes each
/// one against the register, so a wrong actor would fail the run).
#[test]
fn a_register_routes_dossiers_to_communes_and_officers_act() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let register = motcua_catalog::load_register(&seeds().join("units/ninh-thuan.toml")).unwrap();
    let procs = procedures(&profile, &catalog);
    let calendar = WorkCalendar::builder().years(profile.year, profile.year + 1).build().unwrap();
    let mut engine = Engine::new(MemoryStore::new(), procs.clone(), calendar).with_units(std::sync::Arc::new(register));
    let options = SimOptions { seed: 7, batch: 1000, sync: false };
    let report = simulate(&mut engine, &profile, &procs, &options).unwrap();
    assert_eq!((report.received, report.resolved, report.early_or_on_time), (3285, 3247, 3226));
    let store = engine.into_store();
    let summaries = store.summaries().unwrap();
    let agencies: std::collections::HashSet<_> = summaries.iter().map(|s| s.dossier.agency().as_str()).collect();
    assert!(agencies.len() > 50, "{} receiving agencies", agencies.len());
    assert!(agencies.contains("NINHTHUAN"));
    // A commune's dossier belongs to that commune (province.district.commune).
    for s in summaries.iter().filter(|s| s.dossier.agency().as_str() != "NINHTHUAN") {
        let unit = s.jurisdiction.as_deref().unwrap();
        assert_eq!(unit.split('.').count(), 3, "{unit}");
        assert!(unit.ends_with(s.dossier.agency().as_str().trim_start_matches("NINHTHUAN.")), "{unit}");
    }
    for code in store.dossiers().unwrap().iter().take(500) {
        for e in store.load(code).unwrap().unwrap().events {
            let actor = e.actor.expect("schema 3 seals the actor");
            assert_ne!(actor.role, motcua_engine::ActorRole::System, "{code}: {:?}", e.event);
            assert!(actor.agency.is_some_and(|a| a.starts_with("NINHTHUAN")), "{code}");
        }
    }
    assert_eq!(verify(&store).unwrap().dossiers, 3285);
}

/// Beyond the totals: the first half's online share and the land sector's, exactly as a report
/// prints them; no online dossier on a procedure without an online service; the services
/// published with 812 of 829 online ones integrated with the national portal.
#[test]
fn calibration_beyond_the_totals() {
    let catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let profile = small_profile(&catalog);
    let (_, store) = run(&profile, &catalog, 7);
    let sector: std::collections::HashMap<_, _> = catalog.iter().map(|p| (p.code.clone(), p.sector.clone())).collect();
    let offline: Vec<_> =
        catalog.iter().filter(|p| p.online == motcua_core::OnlineLevel::None).map(|p| p.code.clone()).collect();
    let pct = |part: usize, whole: usize| (part as f64 * 10_000.0 / whole as f64).round() / 100.0;
    let (mut h1, mut h1_online, mut land, mut land_online) = (0, 0, 0, 0);
    for s in store.summaries().unwrap() {
        let online = s.channel == Some(motcua_core::Channel::Online.code());
        let procedure = s.procedure.clone().unwrap();
        assert!(!(online && offline.contains(&procedure)), "{}: online on {procedure}", s.dossier);
        if s.received_at.unwrap().local_date() <= chrono::NaiveDate::from_ymd_opt(2023, 6, 30).unwrap() {
            h1 += 1;
            h1_online += usize::from(online);
            if sector.get(&procedure).map(String::as_str) == Some(motcua_sim::LAND_SECTOR) {
                land += 1;
                land_online += usize::from(online);
            }
        }
    }
    assert_eq!(pct(h1_online, h1), 81.17, "{h1_online} of {h1}");
    assert_eq!(pct(land_online, land), 2.06, "{land_online} of {land}");
    let services = store.services().unwrap();
    let online: Vec<_> = services.iter().filter(|s| s.is_online()).collect();
    assert_eq!((online.len(), online.iter().filter(|s| s.integrated).count()), (829, 812));
}

/// A province's real catalogue has procedures whose limit depends on the case and fees its
/// council prices: the year names a case for the first (the cases in turn) and assesses nothing
/// of a stage the province has not priced, with the totals still exact.
#[test]
fn procedures_with_cases_and_unpriced_fees_simulate() {
    let mut catalog = Catalog::load(&seeds().join("procedures")).unwrap();
    let extra = r#"
[[procedure]]
code = "1.000001"
name = "Thủ tục có trường hợp"
sector = "Thử"
level = "commune"
online = "full"
limit = "5 working days"
limit_source = "test"
case_required = true

[[procedure.case]]
id = "don-gian"
name = "Đơn giản"
limit = "2 working days"

[[procedure.case]]
id = "phuc-tap"
name = "Phức tạp"
limit = "5 working days"

[[procedure.fee]]
name = "Lệ phí"
amount = "council"
"#;
    for (p, s) in motcua_catalog::parse_procedures(extra, Path::new("extra.toml")).unwrap() {
        catalog.add(p, s).unwrap();
    }
    let text = std::fs::read_to_string(seeds().join("profiles/ninh-thuan-2023.toml")).unwrap();
    let text = text
        .replace("received = 328508", "received = 3285")
        .replace("online = 273500", "online = 2735")
        .replace("resolved = 324770", "resolved = 3247")
        .replace("early_or_on_time = 322647", "early_or_on_time = 3226")
        .replace("code = \"2.000815\"\nshare_pct = 30.0", "code = \"2.000815\"\nshare_pct = 25.0")
        + "[[procedure]]\ncode = \"1.000001\"\nshare_pct = 5.0\n";
    let profile = Profile::parse(&text, Path::new("cases.toml"), Some(&catalog)).unwrap();
    let (report, store) = run(&profile, &catalog, 11);
    assert_eq!((report.received, report.online, report.resolved, report.early_or_on_time), (3285, 2735, 3247, 3226));
    let code: motcua_core::ProcedureCode = "1.000001".parse().unwrap();
    let mut cases = std::collections::BTreeSet::new();
    for c in store.dossiers().unwrap() {
        let stream = store.load(&c).unwrap().unwrap();
        for e in &stream.events {
            match &e.event {
                motcua_core::Event::Received { procedure, case, .. } if *procedure == code => {
                    cases.insert(case.as_deref().map(str::to_string));
                }
                motcua_core::Event::FeesAssessed { .. } => {
                    let received = stream.events.iter().find_map(|e| match &e.event {
                        motcua_core::Event::Received { procedure, .. } => Some(procedure.clone()),
                        _ => None,
                    });
                    assert_ne!(received, Some(code.clone()), "an unpriced fee was assessed");
                }
                _ => {}
            }
        }
    }
    assert_eq!(cases, [Some("don-gian".to_string()), Some("phuc-tap".to_string())].into_iter().collect());
}
