//! The engine as a portal embeds it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;
use motcua_engine::store::{canonical_bytes, decode_sealed};
use motcua_engine::*;
use proptest::prelude::*;

fn calendar() -> WorkCalendar {
    WorkCalendar::builder().years(2025, 2026).build().unwrap()
}

fn procedure() -> Procedure {
    let step = |id: &str, agency: &str, q: u32, after: &[&str]| {
        Step::new(id, agency, Limit::WorkingDays { quarters: q }, after)
    };
    let mut p = Procedure::simple("1.001612".parse().unwrap(), "Đăng ký hộ kinh doanh", Limit::working_days(3));
    p.sector = "Hộ kinh doanh".into();
    p.steps = vec![step("tiep-nhan", "H42.12", 1, &[]), step("tham-dinh", "phong-kt", 8, &["tiep-nhan"])];
    p
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn code(n: u64) -> DossierCode {
    DossierCode::new("H42.12".parse().unwrap(), chrono_date(), n)
}

fn chrono_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()
}

fn clerk() -> Actor {
    Actor::officer("clerk-1", ActorRole::Clerk, "H42.12")
}

fn leader() -> Actor {
    Actor::officer("leader-1", ActorRole::Leader, "H42.12")
}

fn receive(n: u64, at: &str) -> Request {
    Request {
        dossier: code(n),
        command: Command::Receive {
            case: None,
            procedure: "1.001612".parse().unwrap(),
            channel: Channel::Direct,
            jurisdiction: None,
            applicant: None,
            documents: Vec::new(),
        },
        actor: clerk(),
        idempotency_key: None,
        now: t(at),
        on_behalf_of: None,
        intent: Default::default(),
    }
}

fn req(n: u64, command: Command, actor: Actor, at: &str) -> Request {
    Request::new(code(n), command, actor, t(at))
}

#[test]
fn idempotency_returns_the_first_outcome_without_writing_again() {
    let store = Arc::new(MemoryStore::new());
    let mut e = Engine::new(store.clone(), [procedure()], calendar());
    let mut r = receive(1, "2025-03-03T09:00");
    r.idempotency_key = Some("k-1".into());
    let first = e.handle(&r).unwrap();
    assert!(!first.replayed);
    let again = e.handle(&r).unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    assert_eq!(store.load(&code(1)).unwrap().unwrap().events.len(), 1, "nothing written twice");
    // The same key with another command is an error.
    let mut other = req(1, Command::RequestSupplement { reason: "x".into() }, clerk(), "2025-03-03T10:00");
    other.idempotency_key = Some("k-1".into());
    assert_eq!(e.handle(&other).unwrap_err().code(), "idempotency_conflict");
    // A restarted engine over the same store still honours the key.
    let mut restarted = Engine::new(store.clone(), [procedure()], calendar());
    assert!(restarted.handle(&r).unwrap().replayed);
    assert_eq!(store.load(&code(1)).unwrap().unwrap().events.len(), 1);
}

#[test]
fn two_writers_race_one_wins_the_other_retries() {
    let store = Arc::new(MemoryStore::new());
    let mut a = Engine::new(store.clone(), [procedure()], calendar());
    let mut b = Engine::new(store.clone(), [procedure()], calendar());
    a.handle(&receive(1, "2025-03-03T09:00")).unwrap();
    // Both writers now hold version 1 in their caches.
    b.dossier_ref(&code(1)).unwrap();
    let won = a.handle(&req(1, Command::StartStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:05")).unwrap();
    assert_eq!((won.version, won.retries), (2, 0));
    // B's cached version 1 loses the race, reloads, and decides again on version 2.
    let retried =
        b.handle(&req(1, Command::RequestSupplement { reason: "x".into() }, clerk(), "2025-03-03T09:10")).unwrap();
    assert_eq!((retried.version, retried.retries), (3, 1));
    // Deciding again can also reject: the step is already started for everyone.
    let e = b.handle(&req(1, Command::StartStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:11"));
    assert_eq!(e.unwrap_err().code(), "not_allowed");
    verify(&*store).unwrap();
}

#[test]
fn unauthorized_actors_are_refused_and_nothing_is_written() {
    let mut e = Engine::new(MemoryStore::new(), [procedure()], calendar());
    let mut r = receive(1, "2025-03-03T09:00");
    r.actor = Actor::officer("clerk-9", ActorRole::Clerk, "H42.99");
    let err = e.handle(&r).unwrap_err();
    assert_eq!(err.code(), "unauthorized");
    assert!(err.to_string().contains("another agency"), "{err}");
    assert!(e.store().load(&code(1)).unwrap().is_none());
    r.actor = Actor::officer("spec-1", ActorRole::Specialist, "H42.12");
    assert_eq!(e.handle(&r).unwrap_err().code(), "unauthorized");
    // A citizen submits online and may withdraw their own dossier, not someone else's.
    let submit = Command::Submit {
        procedure: "1.001612".parse().unwrap(),
        channel: Channel::Online,
        jurisdiction: None,
        applicant: None,
    };
    e.handle(&req(2, submit, Actor::citizen("citizen-a"), "2025-03-03T09:00")).unwrap();
    let err = e.handle(&req(2, Command::Withdraw, Actor::citizen("citizen-b"), "2025-03-03T09:30")).unwrap_err();
    assert_eq!(err.code(), "unauthorized");
    assert!(!err.to_string().contains("0012"), "no personal data in the message");
    e.handle(&req(2, Command::Withdraw, Actor::citizen("citizen-a"), "2025-03-03T09:31")).unwrap();
    // An officer of the next agency in the chain may act on the step it performs.
    e.handle(&receive(3, "2025-03-03T09:00")).unwrap();
    e.handle(&req(3, Command::StartStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:05")).unwrap();
    e.handle(&req(3, Command::CompleteStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:10")).unwrap();
    let other = Actor::officer("kt-1", ActorRole::Specialist, "phong-kt");
    e.handle(&req(3, Command::Transfer { step: "tham-dinh".into() }, other.clone(), "2025-03-03T09:20")).unwrap();
    let err = e
        .handle(&req(
            3,
            Command::Finish { decision: Decision::Approved, reason: None, result: None },
            other,
            "2025-03-03T10:00",
        ))
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized");
}

#[test]
fn tampering_is_detected_by_verify() {
    let store = Arc::new(MemoryStore::new());
    let mut e = Engine::new(store.clone(), [procedure()], calendar());
    e.handle(&receive(1, "2025-03-03T09:00")).unwrap();
    e.handle(&req(1, Command::StartStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:05")).unwrap();
    e.handle(&req(1, Command::CompleteStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:10")).unwrap();
    assert_eq!(verify(&*store).unwrap().events, 3);
    store.tamper(&code(1), 2, |ev| {
        if let Event::StepStarted { due, .. } = &mut ev.event {
            *due = due.plus_minutes(600);
        }
    });
    let err = verify(&*store).unwrap_err();
    assert!(err.to_string().contains("event 2: content does not match its hash"), "{err}");
}

#[test]
fn portal_down_then_back_every_message_once_in_the_dedup_view() {
    let store = Arc::new(MemoryStore::new());
    let mut e = Engine::new(store.clone(), [procedure()], calendar());
    let mut ids = BTreeSet::new();
    for n in 1..=20 {
        let out = e.handle(&receive(n, "2025-03-03T09:00")).unwrap();
        ids.insert(format!("{}#{}", out.dossier, out.version));
        let out =
            e.handle(&req(n, Command::StartStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:05")).unwrap();
        ids.insert(format!("{}#{}", out.dossier, out.version));
    }
    assert_eq!(store.outbox_pending().unwrap(), 40);
    let mut portal =
        FakePortal { down_until: Some(t("2025-03-03T12:00")), lose_ack_every: Some(3), ..FakePortal::default() };
    let mut now = t("2025-03-03T09:06");
    let mut rounds = 0;
    while store.outbox_pending().unwrap() > 0 {
        let report = deliver(&*store, &mut portal, now, 16).unwrap();
        if now < t("2025-03-03T12:00") {
            assert_eq!(report.delivered, 0, "nothing gets through while the portal is down");
        }
        now = now.plus_minutes(7);
        rounds += 1;
        assert!(rounds < 500, "delivery must finish");
    }
    let got: BTreeSet<String> = portal.received.keys().cloned().collect();
    assert_eq!(got, ids, "every message delivered, each once in the portal's view");
    assert!(portal.deliveries > ids.len() as u64, "lost acknowledgements caused duplicates");
}

#[test]
fn group_commit_writes_a_batch_in_one_transaction() {
    let store = Arc::new(MemoryStore::new());
    let mut e = Engine::new(store.clone(), [procedure()], calendar());
    let mut reqs: Vec<Request> = (1..=50).map(|n| receive(n, "2025-03-03T09:00")).collect();
    reqs.push(req(1, Command::StartStep { step: "tiep-nhan".into() }, clerk(), "2025-03-03T09:05"));
    reqs.push(req(1, Command::ReturnResult { delivery: None }, clerk(), "2025-03-03T09:06"));
    let results = e.handle_batch(&reqs);
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 51);
    assert_eq!(results[51].as_ref().unwrap_err().code(), "not_allowed");
    assert_eq!(verify(&*store).unwrap(), VerifyReport { dossiers: 50, events: 51 });
    assert_eq!(e.counters().unwrap().total(|_| true).received, 50);
}

fn sectors() -> HashMap<ProcedureCode, String> {
    [(procedure().code.clone(), procedure().sector.clone())].into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Replaying the log rebuilds the same projections as live processing.
    #[test]
    fn replay_rebuilds_live_projections(script in prop::collection::vec((1u64..6, 0u8..9, 0i64..600), 1..80)) {
        let store = Arc::new(MemoryStore::new());
        let mut e = Engine::new(store.clone(), [procedure()], calendar());
        let mut now = t("2025-03-03T08:00");
        for (n, which, dt) in script {
            now = now.plus_minutes(dt);
            let command = match which {
                0 => Command::Receive { case: None, procedure: "1.001612".parse().unwrap(), channel: Channel::Online, jurisdiction: None, applicant: None, documents: Vec::new() },
                1 => Command::StartStep { step: "tiep-nhan".into() },
                2 => Command::CompleteStep { step: "tiep-nhan".into() },
                3 => Command::Transfer { step: "tham-dinh".into() },
                4 => Command::CompleteStep { step: "tham-dinh".into() },
                5 => Command::RequestSupplement { reason: "x".into() },
                6 => Command::ReceiveSupplement,
                7 => Command::Finish { decision: Decision::Approved, reason: None, result: None },
                _ => Command::Withdraw,
            };
            let actor = if which == 7 { leader() } else { Actor::system("sync") };
            let _ = e.handle(&Request::new(code(n), command, actor, now));
        }
        let (counters, deadlines) = rebuild_projections(&*store, &sectors()).unwrap();
        // The store's live counters are the replay's.
        prop_assert_eq!(&counters, &e.counters().unwrap());
        // The deadline index answers as a scan of the states would.
        let open: Vec<(DossierCode, Timestamp)> = store
            .dossiers()
            .unwrap()
            .into_iter()
            .filter_map(|c| {
                let s = e.dossier(&c).unwrap()?;
                let open = s.finished_at.is_none() && s.status.is_some_and(|st| !st.is_terminal());
                Some((c, s.due.filter(|_| open)?))
            })
            .collect();
        for probe in [t("2025-03-03T12:00"), t("2025-03-05T17:00"), t("2025-03-12T08:00"), t("2025-04-30T17:00")] {
            let mut got: Vec<DossierCode> = deadlines.overdue(probe).into_iter().cloned().collect();
            let mut want: Vec<DossierCode> = open.iter().filter(|(_, d)| *d < probe).map(|(c, _)| c.clone()).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
            let from = probe.plus_minutes(-2880);
            let mut got: Vec<DossierCode> = deadlines.due_between(from, probe).into_iter().cloned().collect();
            let mut want: Vec<DossierCode> =
                open.iter().filter(|(_, d)| from <= *d && *d < probe).map(|(c, _)| c.clone()).collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want);
            // The store's deadline queries answer as a scan of its rows, and as the replayed
            // index with stopped clocks left out.
            let rows = store.summaries().unwrap();
            for q in [DeadlineQuery::overdue(probe), DeadlineQuery::due_before(from, probe)] {
                let page = store.deadlines(&q).unwrap();
                prop_assert_eq!(&page, &q.scan(rows.clone()));
                let replayed: Vec<&DossierCode> = match q.view {
                    DeadlineView::Overdue => deadlines.overdue(probe),
                    DeadlineView::DueBefore { until } => deadlines.due_between(from, until),
                };
                for r in &page.rows {
                    prop_assert!(replayed.contains(&&r.dossier) && !r.clock_stopped);
                }
            }
            for by in [BacklogBy::Agency, BacklogBy::StepAgency, BacklogBy::Procedure] {
                prop_assert_eq!(store.backlog(by, probe).unwrap(), motcua_engine::store::scan_backlog(rows.clone(), by, probe));
            }
        }
        prop_assert_eq!(deadlines.len(), open.len());
        prop_assert!(verify(&*store).is_ok());
        // Every stored event names its actor, reads back from its sealed bytes, and re-encodes
        // to the same bytes.
        for code in store.dossiers().unwrap() {
            for ev in store.load(&code).unwrap().unwrap().events {
                prop_assert!(ev.actor.is_some());
                let mut bytes = Vec::new();
                canonical_bytes(ev.actor.as_ref(), &ev.event, ev.schema, &mut bytes).unwrap();
                let (actor, back) = decode_sealed(&bytes, ev.schema, &Default::default(), "").unwrap();
                let mut again = Vec::new();
                canonical_bytes(actor.as_ref(), &back, ev.schema, &mut again).unwrap();
                prop_assert_eq!(&back, &ev.event);
                prop_assert_eq!(&actor, &ev.actor);
                prop_assert_eq!(again, bytes);
            }
        }
    }
}

#[test]
fn creating_an_existing_dossier_from_a_cold_cache_retries_on_the_stored_state() {
    let store = Arc::new(MemoryStore::new());
    let mut a = Engine::new(store.clone(), [procedure()], calendar());
    let mut b = Engine::new(store.clone(), [procedure()], calendar());
    let submit = Command::Submit {
        procedure: "1.001612".parse().unwrap(),
        channel: Channel::Online,
        jurisdiction: None,
        applicant: None,
    };
    a.handle(&req(7, submit, Actor::citizen("citizen-a"), "2025-03-03T08:00")).unwrap();
    // B has never seen dossier 7: its receive first assumes a new dossier, loses on the version
    // check, reloads, and accepts the submitted dossier.
    let out = b.handle(&receive(7, "2025-03-03T09:00")).unwrap();
    assert_eq!((out.version, out.retries), (2, 1));
    assert_eq!(b.dossier(&code(7)).unwrap().unwrap().status, Some(Status::Received));
    // The applicant recorded at submission survived: the citizen may still withdraw.
    b.handle(&req(7, Command::Withdraw, Actor::citizen("citizen-a"), "2025-03-03T10:00")).unwrap();
    verify(&*store).unwrap();
}

/// A script of commands, some with idempotency keys from a small set (so keys repeat, with the
/// same command or another).
fn keyed_script() -> impl Strategy<Value = Vec<Request>> {
    prop::collection::vec((1u64..5, 0u8..7, 0i64..120, prop::option::of(0u8..6)), 1..60).prop_map(|steps| {
        let mut now = t("2025-03-03T08:00");
        steps
            .into_iter()
            .map(|(n, which, dt, key)| {
                now = now.plus_minutes(dt);
                let command = match which {
                    0 | 1 => Command::Receive {
                        case: None,
                        procedure: "1.001612".parse().unwrap(),
                        channel: Channel::Online,
                        jurisdiction: None,
                        applicant: None,
                        documents: Vec::new(),
                    },
                    2 => Command::StartStep { step: "tiep-nhan".into() },
                    3 => Command::CompleteStep { step: "tiep-nhan".into() },
                    4 => Command::RequestSupplement { reason: "x".into() },
                    5 => Command::ReceiveSupplement,
                    _ => Command::Withdraw,
                };
                // A repeated key usually comes with the same dossier and command (a retry).
                let key = key.map(|k| format!("portal-{k}"));
                let n = key.as_ref().map_or(n, |_| 1 + u64::from(which % 2));
                Request {
                    dossier: code(n),
                    command,
                    actor: Actor::system("sync"),
                    idempotency_key: key,
                    now,
                    on_behalf_of: None,
                    intent: Default::default(),
                }
            })
            .collect()
    })
}

fn summary(r: &Result<motcua_engine::Outcome, EngineError>) -> Result<(u64, Vec<Event>, bool), &'static str> {
    r.as_ref().map(|o| (o.version, o.events.clone(), o.replayed)).map_err(EngineError::code)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A group commit decides and writes exactly what the same commands handled one by one
    /// would: the same outcomes (replays and idempotency conflicts included), the same log and
    /// the same projections.
    #[test]
    fn a_batch_is_its_commands_one_by_one(script in keyed_script(), cut in 0usize..60) {
        let single = Arc::new(MemoryStore::new());
        let mut one = Engine::new(single.clone(), [procedure()], calendar());
        let expected: Vec<_> = script.iter().map(|r| one.handle(r)).collect();
        let grouped = Arc::new(MemoryStore::new());
        let mut many = Engine::new(grouped.clone(), [procedure()], calendar());
        // Two batches: keys of the first are in the store when the second comes.
        let cut = cut.min(script.len());
        let mut got = many.handle_batch(&script[..cut]);
        got.extend(many.handle_batch(&script[cut..]));
        for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
            prop_assert_eq!(summary(a), summary(b), "request {}", i);
        }
        let log = |s: &MemoryStore| -> Vec<Vec<Event>> {
            s.dossiers().unwrap().iter().map(|c| s.load(c).unwrap().unwrap().events.into_iter().map(|e| e.event).collect()).collect()
        };
        prop_assert_eq!(log(&single), log(&grouped));
        prop_assert!(verify(&*grouped).is_ok());
        // And the same live projections (a batch folds its commits, and drops its terminal
        // dossiers from the cache, as it goes).
        prop_assert_eq!(one.counters().unwrap(), many.counters().unwrap());
        let probe = t("2025-03-20T08:00");
        prop_assert_eq!(one.deadlines(&DeadlineQuery::overdue(probe)).unwrap(), many.deadlines(&DeadlineQuery::overdue(probe)).unwrap());
    }
}

/// A dossier's code carries the day it was created (TT 01/2018/TT-VPCP Art. 19): one dated
/// 3/3/2025 is not created by a receipt of 5/3/2025, and nothing is written; a submission of 3/3
/// is received days later under its code.
#[test]
fn a_dossier_is_created_only_under_a_code_of_its_day() {
    let store = Arc::new(MemoryStore::new());
    let mut engine = Engine::new(store.clone(), [procedure()], calendar());
    let err = engine.handle(&receive(1, "2025-03-05T09:00")).unwrap_err();
    assert_eq!(err.code(), "code_date");
    assert_eq!(
        err.to_string(),
        "dossier code H42.12-250303-0001 is dated 2025-03-03, but the dossier is created on 2025-03-05"
    );
    assert!(store.load(&code(1)).unwrap().is_none());
    let submit = Command::Submit {
        procedure: "1.001612".parse().unwrap(),
        channel: Channel::Online,
        jurisdiction: None,
        applicant: None,
    };
    engine.handle(&req(2, submit, Actor::citizen("c-1"), "2025-03-03T21:00")).unwrap();
    let mut later = receive(2, "2025-03-05T09:00");
    later.actor = clerk();
    engine.handle(&later).unwrap();
}

#[test]
fn the_builder_refuses_what_would_fail_later() {
    use motcua_engine::BuildError;
    let mut later = procedure();
    later.effective_from = chrono::NaiveDate::from_ymd_opt(2027, 7, 1);
    let calendar = || WorkCalendar::builder().years(2025, 2026).build().unwrap();
    let e = Engine::builder(MemoryStore::new()).procedures([procedure(), later.clone()]).calendar(calendar()).build();
    assert!(matches!(e, Err(BuildError::CalendarTooShort { last_year: 2026, .. })));
    let e = Engine::builder(MemoryStore::new()).procedures([procedure(), procedure()]).calendar(calendar()).build();
    assert!(matches!(e, Err(BuildError::DuplicateVersion { .. })));
    let e = Engine::builder(MemoryStore::new()).calendar(calendar()).build();
    assert!(matches!(e, Err(BuildError::NoProcedures)));
    // Built: the services table is published for reports.
    let engine = Engine::builder(MemoryStore::new()).procedures([procedure()]).calendar(calendar()).build().unwrap();
    assert_eq!(engine.store().services().unwrap().len(), 1);
}
