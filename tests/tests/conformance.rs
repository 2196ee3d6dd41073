//! One conformance suite for every store: the same tests run against the memory store, SQLite
//! and PostgreSQL. PostgreSQL's run needs a server: `MOTCUA_TEST_POSTGRES` holds its URL
//! (`scripts/pg-cluster start DIR` starts a throwaway one and prints it). Without it the
//! PostgreSQL tests say so and pass, except under CI (`CI` set), where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{Channel, Command, DossierCode, Procedure, ProcedureCode, Step};
use motcua_engine::store::{scan_backlog, AppendBatch, Sealer, StreamAppend, GENESIS};
use motcua_engine::{
    rebuild_projections, verify, Actor, ActorRole, BacklogBy, DeadlineQuery, Engine, MemoryStore, OutboxUpdate,
    Request, Store, VerifyError,
};

/// A store under test: the store, a second handle over the same storage (a restarted process),
/// and a way to edit an event's stored hash behind the store's back.
struct Subject {
    store: Arc<dyn Store>,
    reopen: Box<dyn Fn() -> Arc<dyn Store>>,
    tamper: Box<dyn Fn(&DossierCode)>,
    /// The store's folder, removed after the store closes (none for memory and PostgreSQL).
    _dir: Option<tempfile::TempDir>,
}

fn memory() -> Option<Subject> {
    let store = Arc::new(MemoryStore::new());
    let (again, edit) = (store.clone(), store.clone());
    Some(Subject {
        store,
        reopen: Box::new(move || again.clone()),
        tamper: Box::new(move |code| edit.tamper(code, 1, |e| e.hash = [7; 32])),
        _dir: None,
    })
}

static FRESH: AtomicU64 = AtomicU64::new(0);

fn sqlite() -> Option<Subject> {
    let n = FRESH.fetch_add(1, Ordering::SeqCst);
    let dir = tempfile::Builder::new().prefix(&format!("motcua-conformance-{n}-")).tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let store = Arc::new(motcua_store_sqlite::SqliteStore::open(&path).unwrap());
    let (again, edit) = (path.clone(), path);
    Some(Subject {
        store,
        reopen: Box::new(move || Arc::new(motcua_store_sqlite::SqliteStore::open(&again).unwrap())),
        tamper: Box::new(move |code| {
            let c = rusqlite::Connection::open(&edit).unwrap();
            c.execute(
                "UPDATE events SET hash = zeroblob(32) WHERE seq = 1 AND dossier = (SELECT id FROM dossiers WHERE code = ?1)",
                [code.to_string()],
            )
            .unwrap();
        }),
        _dir: Some(dir),
    })
}

fn postgres() -> Option<Subject> {
    let Ok(url) = std::env::var("MOTCUA_TEST_POSTGRES") else {
        assert!(std::env::var_os("CI").is_none(), "MOTCUA_TEST_POSTGRES is not set: .ci/run starts a cluster for it");
        eprintln!("MOTCUA_TEST_POSTGRES not set: PostgreSQL conformance skipped (see the README)");
        return None;
    };
    // A province of its own per test: the tenant key isolates the tests' rows.
    let n = FRESH.fetch_add(1, Ordering::SeqCst);
    let province = format!("t{}_{n}", std::process::id());
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}province={province}");
    let store = Arc::new(motcua_store_postgres::PostgresStore::open(&url).unwrap());
    store.truncate().unwrap();
    let edit = store.clone();
    Some(Subject {
        store,
        reopen: Box::new(move || Arc::new(motcua_store_postgres::PostgresStore::open(&url).unwrap())),
        tamper: Box::new(move |code| {
            edit.execute_raw(&format!(
                "UPDATE \"motcua_events_{province}\" SET hash = '\\x{}' WHERE seq = 1 AND dossier = \
                 (SELECT id FROM \"motcua_dossiers_{province}\" WHERE code = '{code}')",
                "00".repeat(32)
            ))
            .unwrap();
        }),
        _dir: None,
    })
}

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

fn engine(store: Arc<dyn Store>) -> Engine<Arc<dyn Store>> {
    Engine::new(store, [procedure()], calendar())
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn code(n: u64) -> DossierCode {
    DossierCode::new("H42.12".parse().unwrap(), chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), n)
}

fn clerk() -> Actor {
    Actor::officer("clerk-1", ActorRole::Clerk, "H42.12")
}

fn req(n: u64, command: Command, at: &str) -> Request {
    let actor = if matches!(command, Command::Finish { .. }) {
        Actor::officer("leader-1", ActorRole::Leader, "H42.12")
    } else if matches!(command, Command::Transfer { .. } | Command::CompleteStep { .. } | Command::Withdraw) {
        Actor::system("sync")
    } else {
        clerk()
    };
    Request::new(code(n), command, actor, t(at))
}

fn receive(n: u64, at: &str) -> Request {
    req(
        n,
        Command::Receive {
            case: None,
            procedure: "1.001612".parse().unwrap(),
            channel: Channel::Direct,
            jurisdiction: None,
            applicant: None,
            documents: Vec::new(),
        },
        at,
    )
}

fn start(n: u64, step: &str, at: &str) -> Request {
    req(n, Command::StartStep { step: step.into() }, at)
}

/// Ten dossiers in every state the queries tell apart: due at several times, one with its
/// clock stopped, one withdrawn, one at the second step (another agency), one with no step.
fn populate(e: &mut Engine<Arc<dyn Store>>) {
    for n in 1..=10 {
        let at = format!("2025-03-03T{:02}:00", 7 + n);
        e.handle(&receive(n, &at)).unwrap();
    }
    for n in [2, 3, 4, 5, 6] {
        e.handle(&start(n, "tiep-nhan", "2025-03-03T17:00")).unwrap();
    }
    e.handle(&req(3, Command::RequestSupplement { reason: "thiếu giấy tờ".into() }, "2025-03-04T08:00")).unwrap();
    e.handle(&req(4, Command::CompleteStep { step: "tiep-nhan".into() }, "2025-03-04T09:00")).unwrap();
    e.handle(&req(4, Command::Transfer { step: "tham-dinh".into() }, "2025-03-04T09:05")).unwrap();
    e.handle(&req(5, Command::Withdraw, "2025-03-04T10:00")).unwrap();
}

macro_rules! conformance {
    ($($store:ident),*) => {$(
        mod $store {
            #[test]
            fn append_load_and_version_conflicts() {
                if let Some(s) = super::$store() { super::append_load_and_version_conflicts(s) }
            }
            #[test]
            fn idempotency_survives_a_restart() {
                if let Some(s) = super::$store() { super::idempotency_survives_a_restart(s) }
            }
            #[test]
            fn outbox_in_order_with_retries() {
                if let Some(s) = super::$store() { super::outbox_in_order_with_retries(s) }
            }
            #[test]
            fn projections_and_queries() {
                if let Some(s) = super::$store() { super::projections_and_queries(s) }
            }
            #[test]
            fn sequences_never_repeat() {
                if let Some(s) = super::$store() { super::sequences_never_repeat(s) }
            }
            #[test]
            fn results_reused_from_the_warehouse() {
                if let Some(s) = super::$store() { super::results_reused_from_the_warehouse(s) }
            }
            #[test]
            fn verify_and_tamper_detection() {
                if let Some(s) = super::$store() { super::verify_and_tamper_detection(s) }
            }
            #[test]
            fn a_transferred_receipt_round_trips() {
                if let Some(s) = super::$store() { super::a_transferred_receipt_round_trips(s) }
            }
            #[test]
            fn a_dossier_of_the_previous_release_goes_on_in_lean_events() {
                if let Some(s) = super::$store() { super::a_dossier_of_the_previous_release_goes_on_in_lean_events(s) }
            }
        }
    )*};
}

conformance!(memory, sqlite, postgres);

fn append_load_and_version_conflicts(s: Subject) {
    let mut a = engine(s.store.clone());
    a.handle(&receive(1, "2025-03-03T09:00")).unwrap();
    a.handle(&receive(2, "2025-03-03T09:00")).unwrap();
    // A second writer (another process) caches version 1, the first moves on.
    let mut b = engine((s.reopen)());
    b.dossier_ref(&code(1)).unwrap();
    a.handle(&start(1, "tiep-nhan", "2025-03-03T09:05")).unwrap();
    let retried = b.handle(&req(1, Command::RequestSupplement { reason: "x".into() }, "2025-03-03T09:10")).unwrap();
    assert_eq!((retried.version, retried.retries), (3, 1));
    let stream = s.store.load(&code(1)).unwrap().unwrap();
    assert_eq!(stream.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(stream.events[0].prev, GENESIS);
    assert_eq!(stream.events[1].prev, stream.events[0].hash);
    assert_eq!(stream.summary.as_ref().map(|x| x.version), Some(3));
    assert!(s.store.load(&code(99)).unwrap().is_none());
    // A raw batch whose second stream is stale writes nothing at all.
    let mut sealer = Sealer::default();
    let event = receive(3, "2025-03-03T09:00");
    let Command::Receive { procedure, channel, .. } = event.command else { unreachable!() };
    let received = motcua_core::Event::Received {
        case: None,
        at: event.now,
        procedure,
        channel,
        clock_start: event.now,
        due: Some(event.now.plus_minutes(1440)),
        jurisdiction: None,
        procedure_version: None,
        applicant: None,
        documents: Vec::new(),
        undigitised: Vec::new(),
    };
    let mut fresh = |c: &DossierCode, version: u64, prev| {
        let mut s = StreamAppend::new(c, version);
        s.events.push(sealer.seal_into(
            c,
            &c.to_string(),
            version + 1,
            None,
            received.clone(),
            prev,
            &mut s.canonical,
            &mut |_| None,
        ));
        s
    };
    let new_one = fresh(&code(3), 0, GENESIS);
    let stale = fresh(&code(2), 0, GENESIS);
    let mut batch = AppendBatch { streams: vec![new_one, stale], ..AppendBatch::default() };
    let err = s.store.append(&mut batch).unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(s.store.load(&code(3)).unwrap().is_none(), "nothing of the failed batch was written");
    assert_eq!(s.store.dossiers().unwrap(), [code(1), code(2)]);
    verify(&*s.store).unwrap();
}

fn idempotency_survives_a_restart(s: Subject) {
    let mut e = engine(s.store.clone());
    let mut r = receive(1, "2025-03-03T09:00");
    r.idempotency_key = Some("portal-msg-17".into());
    assert!(!e.handle(&r).unwrap().replayed);
    assert!(e.handle(&r).unwrap().replayed);
    let mut restarted = engine((s.reopen)());
    let again = restarted.handle(&r).unwrap();
    assert!(again.replayed);
    assert_eq!(again.events.len(), 1);
    let mut other = start(1, "tiep-nhan", "2025-03-03T09:05");
    other.idempotency_key = Some("portal-msg-17".into());
    assert_eq!(restarted.handle(&other).unwrap_err().code(), "idempotency_conflict");
    assert_eq!(s.store.load(&code(1)).unwrap().unwrap().events.len(), 1, "nothing written twice");
    // Stored under the key scoped to its caller: another caller's same key is another record.
    let scoped = motcua_engine::scoped_idempotency_key(&r.actor, "portal-msg-17");
    assert!(s.store.idempotency("portal-msg-17").unwrap().is_none());
    let rec = s.store.idempotency(&scoped).unwrap().unwrap();
    assert_eq!((rec.dossier, rec.first_seq, rec.last_seq), (code(1), 1, 1));
    assert!(s.store.idempotency("unknown").unwrap().is_none());
}

fn outbox_in_order_with_retries(s: Subject) {
    let mut e = engine(s.store.clone());
    for n in 1..=3 {
        e.handle(&receive(n, "2025-03-03T09:00")).unwrap();
    }
    e.handle(&start(2, "tiep-nhan", "2025-03-03T09:30")).unwrap();
    let now = t("2025-03-03T10:00");
    let due = s.store.outbox_due(now, 10).unwrap();
    let ids: Vec<String> = due.iter().map(|m| m.message.id()).collect();
    let c = |n: u64, seq: u64| format!("{}#{seq}", code(n));
    assert_eq!(ids, [c(1, 1), c(2, 1), c(3, 1), c(2, 2)], "in the order written");
    assert_eq!(s.store.outbox_pending().unwrap(), 4);
    assert_eq!(s.store.outbox_due(now, 2).unwrap().len(), 2);
    let later = now.plus_minutes(5);
    s.store
        .outbox_update(&[
            OutboxUpdate::Delivered { id: c(1, 1), at: now },
            OutboxUpdate::Retry { id: c(2, 1), attempts: 1, next_attempt: later },
            OutboxUpdate::Delivered { id: "H99-250303-0001#1".into(), at: now },
            OutboxUpdate::Delivered { id: "not an id".into(), at: now },
        ])
        .unwrap();
    assert_eq!(s.store.outbox_pending().unwrap(), 3);
    let ids: Vec<String> = s.store.outbox_due(now, 10).unwrap().iter().map(|m| m.message.id()).collect();
    assert_eq!(ids, [c(3, 1), c(2, 2)], "the retried message waits for its backoff");
    let waiting = s.store.outbox_due(later, 10).unwrap();
    assert_eq!(waiting[0].message.id(), c(2, 1));
    assert_eq!(waiting[0].attempts, 1);
    assert_eq!(waiting[0].message.national_status, 2);
    // A step's start is a progress message naming its unit (and carrying the new status).
    let progress = waiting.iter().find(|m| m.message.id() == c(2, 2)).unwrap();
    assert_eq!(progress.message.kind, motcua_engine::MessageKind::Progress);
    assert_eq!(progress.message.national_status, 4);
    assert_eq!(progress.message.progress.as_ref().unwrap().step.to_string(), "tiep-nhan");
    // The delivered message left the outbox for the ledger: when it reached the portal.
    let ledger = s.store.deliveries(&code(1)).unwrap();
    assert_eq!(ledger, [motcua_engine::DeliveryRecord { seq: 1, delivered_at: now }]);
    assert!(s.store.deliveries(&code(2)).unwrap().is_empty());
    assert_eq!(s.store.sync_tally().unwrap(), motcua_engine::SyncTally { dossiers_synced: 1, messages_delivered: 1 });
    // A restarted process sees the same outbox and ledger.
    let reopened = (s.reopen)();
    assert_eq!(reopened.outbox_pending().unwrap(), 3);
    assert_eq!(reopened.deliveries(&code(1)).unwrap().len(), 1);
}

fn projections_and_queries(s: Subject) {
    let mut e = engine(s.store.clone());
    populate(&mut e);
    // A restarted engine reads every projection as stored: no replay.
    let store = (s.reopen)();
    let restarted = engine(store.clone());
    let sectors: HashMap<ProcedureCode, String> =
        [(procedure().code.clone(), procedure().sector.clone())].into_iter().collect();
    let (counters, _) = rebuild_projections(&*store, &sectors).unwrap();
    assert_eq!(restarted.counters().unwrap(), counters);
    assert_eq!(counters.total(|_| true).received, 10);
    assert_eq!(counters.total(|_| true).resolved, 1);
    assert_eq!(counters.total(|_| true).supplement_requests, 1);
    let rows = store.summaries().unwrap();
    assert_eq!(rows.len(), 10);
    for r in &rows {
        assert_eq!(store.summary(&r.dossier).unwrap().as_ref(), Some(r));
    }
    assert!(rows.iter().find(|r| r.dossier == code(3)).unwrap().clock_stopped);
    // Every query, filtered and paged, answers as a scan of the rows does.
    let probes = ["2025-03-05T10:00", "2025-03-06T12:30", "2025-03-10T08:00", "2025-03-20T08:00"];
    let mut overdue_seen = 0;
    for at in probes.map(t) {
        let mut queries = vec![DeadlineQuery::overdue(at), DeadlineQuery::due_before(at, at.plus_minutes(2 * 1440))];
        for q in queries.clone() {
            queries.push(DeadlineQuery { agency: Some("H42.12".parse().unwrap()), ..q.clone() });
            queries.push(DeadlineQuery { agency: Some("H99".parse().unwrap()), ..q.clone() });
            queries.push(DeadlineQuery { step_agency: Some("phong-kt".into()), ..q.clone() });
            queries.push(DeadlineQuery { step_agency: Some("H42.12".into()), ..q.clone() });
            queries.push(DeadlineQuery { procedure: Some("1.001612".parse().unwrap()), ..q.clone() });
        }
        for q in queries {
            let want = q.scan(rows.clone());
            assert_eq!(restarted.deadlines(&q).unwrap(), want, "{q:?}");
            // Page by page, two rows at a time: the same rows in the same order.
            let mut paged = Vec::new();
            let mut page_q = DeadlineQuery { limit: 2, ..q.clone() };
            loop {
                let page = store.deadlines(&page_q).unwrap();
                assert!(page.rows.len() <= 2);
                paged.extend(page.rows);
                match page.next {
                    Some(next) => page_q.after = Some(next),
                    None => break,
                }
            }
            assert_eq!(paged, want.rows, "{q:?} by pages of 2");
            if q.agency.is_none() && q.step_agency.is_none() && q.procedure.is_none() {
                if let motcua_engine::DeadlineView::Overdue = q.view {
                    overdue_seen += want.rows.len();
                    // Never a stopped clock, never a finished dossier.
                    assert!(want.rows.iter().all(|r| r.dossier != code(3) && r.dossier != code(5)));
                }
            }
        }
        for by in [BacklogBy::Agency, BacklogBy::StepAgency, BacklogBy::Procedure] {
            assert_eq!(store.backlog(by, at).unwrap(), scan_backlog(rows.clone(), by, at), "{by:?}");
        }
    }
    assert!(overdue_seen > 0, "the probes see overdue dossiers");
    let backlog = store.backlog(BacklogBy::StepAgency, t("2025-03-20T08:00")).unwrap();
    let keys: BTreeSet<&str> = backlog.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, BTreeSet::from(["-", "H42.12", "phong-kt"]));
    assert_eq!(backlog.iter().map(|r| r.open).sum::<u64>(), 9);
    assert_eq!(backlog.iter().map(|r| r.clock_stopped).sum::<u64>(), 1);
}

fn sequences_never_repeat(s: Subject) {
    let agency = "H42.12".parse().unwrap();
    let other = "H42.13".parse().unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    let next = day.succ_opt().unwrap();
    assert_eq!(s.store.next_sequence(&agency, day).unwrap(), 1);
    assert_eq!(s.store.next_sequence(&agency, day).unwrap(), 2);
    assert_eq!(s.store.next_sequence(&other, day).unwrap(), 1);
    assert_eq!(s.store.next_sequence(&agency, next).unwrap(), 1);
    // After a restart, and from several writers at once, no number twice.
    let reopened = (s.reopen)();
    assert_eq!(reopened.next_sequence(&agency, day).unwrap(), 3);
    let handles: Vec<Arc<dyn Store>> = vec![s.store.clone(), reopened, (s.reopen)()];
    let issued: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = handles
            .iter()
            .map(|h| {
                let agency = &agency;
                scope.spawn(move || (0..40).map(|_| h.next_sequence(agency, day).unwrap()).collect::<Vec<u64>>())
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let unique: BTreeSet<u64> = issued.iter().copied().collect();
    assert_eq!(unique.len(), 120);
    assert_eq!(unique.iter().next_back(), Some(&123));
    // The engine issues codes from the sequence.
    let e = engine(s.store.clone());
    let at = t("2025-03-03T15:00");
    assert_eq!(e.issue_code(&agency, at).unwrap().to_string(), "H42.12-250303-0124");
    assert_eq!(e.issue_code(&other, at).unwrap().to_string(), "H42.13-250303-0002");
}

fn verify_and_tamper_detection(s: Subject) {
    let mut e = engine(s.store.clone());
    populate(&mut e);
    let report = verify(&*s.store).unwrap();
    assert_eq!(report.dossiers, 10);
    (s.tamper)(&code(4));
    match verify(&*s.store) {
        Err(VerifyError::Fault(f)) => {
            assert_eq!((f.dossier, f.seq), (code(4), 1));
            assert!(f.fault.contains("hash"), "{}", f.fault);
        }
        other => panic!("tampering went unseen: {other:?}"),
    }
}

/// A finish that issues a result puts it in the store's warehouse under the applicant's key; a
/// later dossier of the same applicant reuses it at receipt, another applicant's is refused,
/// and a restarted process sees the same warehouse.
fn results_reused_from_the_warehouse(s: Subject) {
    use motcua_core::{
        Applicant, ApplicantKind, DocumentForm, Identifier, IdentityKey, ResultIssue, SubmittedDocument,
    };
    let mut certificate =
        Procedure::simple("1.004873".parse().unwrap(), "Xác nhận tình trạng hôn nhân", Limit::working_days(3));
    certificate.results =
        vec![motcua_core::ResultDocument { name: "Giấy xác nhận".into(), valid_days: Some(180) }];
    let mut marriage = Procedure::simple("1.000894".parse().unwrap(), "Đăng ký kết hôn", Limit::working_days(1));
    marriage.documents = vec![motcua_core::Document {
        name: "Giấy xác nhận".into(),
        required: false,
        copy: None,
        accepts: Some("Giấy xác nhận".into()),
        digitisation_exempt: None,
        code: None,
    }];
    let mut e = Engine::new(s.store.clone(), [certificate, marriage], calendar());
    let key = IdentityKey::new(&[3u8; 32]).unwrap();
    let who = |id: &str| Applicant::new(ApplicantKind::Citizen, &id.parse::<Identifier>().unwrap(), &key, false);
    let leader = Actor::officer("leader-1", ActorRole::Leader, "H42.12");
    // Codes dated the day of their receipt.
    let code = |n: u64| {
        let day = [3, 3, 5, 5, 6, 3][n as usize % 6];
        DossierCode::new("H42.12".parse().unwrap(), chrono::NaiveDate::from_ymd_opt(2025, 3, day).unwrap(), n)
    };
    let run = |e: &mut Engine<Arc<dyn Store>>, n: u64, command: Command, at: &str, actor: &Actor| {
        e.handle(&Request::new(code(n), command, actor.clone(), t(at)))
    };
    let receive = |procedure: &str, applicant: Applicant, documents: Vec<SubmittedDocument>| Command::Receive {
        case: None,
        procedure: procedure.parse().unwrap(),
        channel: motcua_core::Channel::Direct,
        jurisdiction: None,
        applicant: Some(applicant),
        documents,
    };
    run(&mut e, 1, receive("1.004873", who("058203004567"), Vec::new()), "2025-03-03T09:00", &clerk()).unwrap();
    let finish = Command::Finish {
        decision: motcua_core::Decision::Approved,
        reason: None,
        result: Some(ResultIssue { number: "XN-1".into(), electronic: true }),
    };
    run(&mut e, 1, finish, "2025-03-04T09:00", &leader).unwrap();
    let held = s.store.result("XN-1").unwrap().unwrap();
    assert_eq!(held.holder, Some(who("058203004567").key));
    assert_eq!(held.valid_until, chrono::NaiveDate::from_ymd_opt(2025, 8, 31));
    let reuse = || {
        vec![SubmittedDocument {
            component: "Giấy xác nhận".into(),
            form: DocumentForm::Reused { result: "XN-1".into() },
        }]
    };
    // Another applicant: refused with a typed error naming why, nothing written.
    let err =
        run(&mut e, 2, receive("1.000894", who("058198001111"), reuse()), "2025-03-05T09:00", &clerk()).unwrap_err();
    assert_eq!(err.code(), "result_of_another_applicant");
    assert!(err.to_string().contains("another applicant"), "{err}");
    assert!(s.store.load(&code(2)).unwrap().is_none());
    // Its holder: received, the reuse recorded in the event.
    run(&mut e, 3, receive("1.000894", who("058203004567"), reuse()), "2025-03-05T09:10", &clerk()).unwrap();
    let stream = s.store.load(&code(3)).unwrap().unwrap();
    assert!(matches!(&stream.events[0].event, motcua_core::Event::Received { documents, .. } if documents.len() == 1));
    assert!((s.reopen)().result("XN-1").unwrap().is_some(), "the warehouse survives a restart");
    // Revoked by the issuing dossier: the warehouse says so, and a new reuse is refused.
    run(&mut e, 1, Command::RevokeResult { reason: "Cấp sai đối tượng".into() }, "2025-03-06T09:00", &leader).unwrap();
    assert!(s.store.result("XN-1").unwrap().unwrap().revoked);
    let err =
        run(&mut e, 4, receive("1.000894", who("058203004567"), reuse()), "2025-03-06T10:00", &clerk()).unwrap_err();
    assert_eq!(err.code(), "result_revoked");
    // A second result, valid until 31 August: the daily sweep records nothing that day, then its
    // expiry the day after as an event on the dossier that issued it (a revoked one is left
    // alone), once however often it runs; the warehouse row says so.
    run(&mut e, 5, receive("1.004873", who("058203004567"), Vec::new()), "2025-03-03T09:30", &clerk()).unwrap();
    let finish = Command::Finish {
        decision: motcua_core::Decision::Approved,
        reason: None,
        result: Some(ResultIssue { number: "XN-5".into(), electronic: false }),
    };
    run(&mut e, 5, finish, "2025-03-04T10:00", &leader).unwrap();
    // The holder's warehouse: XN-1 revoked, XN-5 in force until 31 August; another person's empty.
    let mine = |day: &str| -> Vec<String> {
        let day = day.parse().unwrap();
        s.store.results_of(&who("058203004567").key, day).unwrap().into_iter().map(|r| r.number).collect()
    };
    assert_eq!(mine("2025-08-31"), ["XN-5"]);
    assert!(mine("2025-09-01").is_empty());
    assert!(s.store.results_of(&who("058198001111").key, "2025-04-01".parse().unwrap()).unwrap().is_empty());
    let sweeper = Actor::system("expiry-sweep");
    assert!(e.expire_results(t("2025-08-31T23:00"), &sweeper).unwrap().is_empty());
    // A sweep dated before the dossier's last event (a rating) skips it, for the next sweep.
    run(&mut e, 5, Command::Rate { satisfied: true }, "2025-09-01T00:10", &clerk()).unwrap();
    assert!(e.expire_results(t("2025-09-01T00:05"), &sweeper).unwrap().is_empty());
    assert_eq!(e.expire_results(t("2025-09-01T00:30"), &sweeper).unwrap(), ["XN-5"]);
    assert!(e.expire_results(t("2025-09-02T00:30"), &sweeper).unwrap().is_empty());
    let row = (s.reopen)().result("XN-5").unwrap().unwrap();
    assert!(row.expired && !row.revoked && row.issued_by == Some(code(5)));
    let stream = s.store.load(&code(5)).unwrap().unwrap();
    assert!(
        matches!(&stream.events.last().unwrap().event, motcua_core::Event::ResultExpired { number, .. } if number == "XN-5")
    );
    // An officer may not record an expiry; only the sweep (a system) does.
    let err = run(&mut e, 5, Command::ExpireResult, "2025-09-03T09:00", &leader).unwrap_err();
    assert_eq!(err.code(), "unauthorized");
}

/// A dossier whose first event the previous release wrote (envelope schema 3: the MessagePack
/// of actor and event, sealed as stored) loads, takes lean events after it (schema 4, with the
/// dictionary) and verifies as one chain; the store answers the same totals.
fn a_dossier_of_the_previous_release_goes_on_in_lean_events(s: Subject) {
    use motcua_engine::store::{canonical_bytes, chain_hash, push_part, StoredEvent};
    let c = code(1);
    let r = receive(1, "2025-03-03T09:00");
    let Command::Receive { procedure, channel, .. } = r.command.clone() else { unreachable!() };
    let event = motcua_core::Event::Received {
        case: None,
        at: r.now,
        procedure,
        channel,
        clock_start: r.now,
        due: Some(r.now.plus_minutes(1440)),
        jurisdiction: None,
        procedure_version: None,
        applicant: None,
        documents: Vec::new(),
        undigitised: Vec::new(),
    };
    let mut old = Vec::new();
    canonical_bytes(Some(&r.actor), &event, 3, &mut old).unwrap();
    let hash = chain_hash(&GENESIS, &c.to_string(), 1, 3, &old);
    let mut append = StreamAppend::new(&c, 0);
    append.events.push(StoredEvent {
        dossier: c.clone(),
        seq: 1,
        schema: 3,
        actor: Some(r.actor.clone()),
        event: event.clone(),
        prev: GENESIS,
        hash,
    });
    push_part(&mut append.canonical, &old);
    let mut state = motcua_core::Dossier::new();
    motcua_core::apply(&mut state, &event);
    append.summary = motcua_engine::store::DossierSummary::of(&c, &state, hash);
    append.parties = Some(motcua_core::Parties::default());
    let mut counters = motcua_engine::Counters::default();
    counters.record(&c, &Arc::from(""), &event, &state);
    s.store.append(&mut AppendBatch { streams: vec![append], counters, ..AppendBatch::default() }).unwrap();
    verify(&*s.store).unwrap();
    // This release goes on with it: lean events after the old one, one chain.
    let mut e = engine(s.store.clone());
    e.handle(&start(1, "tiep-nhan", "2025-03-03T10:00")).unwrap();
    e.handle(&req(1, Command::CompleteStep { step: "tiep-nhan".into() }, "2025-03-03T11:00")).unwrap();
    let events = s.store.load(&c).unwrap().unwrap().events;
    assert_eq!(events.iter().map(|e| e.schema).collect::<Vec<_>>(), [3, 4, 4]);
    assert_eq!(events[1].prev, hash);
    let report = verify(&*s.store).unwrap();
    assert_eq!((report.dossiers, report.events), (1, 3));
    let restarted = (s.reopen)();
    assert_eq!(restarted.load(&c).unwrap().unwrap().events, events);
    verify(&*restarted).unwrap();
}

/// A receipt outside the competent unit's area (Decree 309/2026/NĐ-CP): its receipt, its
/// pending transfer and the competent agency's receipt are stored and read back as written,
/// hash chain included; the summary's due time is the competent agency's.
fn a_transferred_receipt_round_trips(s: Subject) {
    let c = code(7);
    let at = t("2026-08-05T09:00");
    let events = vec![
        motcua_core::Event::Received {
            case: None,
            at,
            procedure: "1.001612".parse().unwrap(),
            channel: Channel::Direct,
            clock_start: at,
            due: None,
            jurisdiction: Some("P.B".into()),
            procedure_version: None,
            applicant: None,
            documents: Vec::new(),
            undigitised: Vec::new(),
        },
        motcua_core::Event::TransferPending { at, due: t("2026-08-05T17:00"), to: Some("H42.13".parse().unwrap()) },
        motcua_core::Event::TransferReceived {
            at: t("2026-08-06T08:00"),
            clock_start: t("2026-08-06T08:00"),
            due: Some(t("2026-08-11T08:00")),
        },
    ];
    let mut sealer = Sealer::default();
    let mut stream = StreamAppend::new(&c, 0);
    let mut prev = GENESIS;
    let mut state = motcua_core::Dossier::default();
    for (i, e) in events.iter().enumerate() {
        motcua_core::apply(&mut state, e);
        let sealed = sealer.seal_into(
            &c,
            &c.to_string(),
            i as u64 + 1,
            None,
            e.clone(),
            prev,
            &mut stream.canonical,
            &mut |_| None,
        );
        prev = sealed.hash;
        stream.events.push(sealed);
    }
    stream.summary = motcua_engine::store::DossierSummary::of(&c, &state, prev);
    let mut batch = AppendBatch { streams: vec![stream], ..AppendBatch::default() };
    s.store.append(&mut batch).unwrap();
    let loaded = (s.reopen)().load(&c).unwrap().unwrap();
    let back: Vec<_> = loaded.events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(back, events);
    assert_eq!(loaded.summary.as_ref().and_then(|x| x.due), Some(t("2026-08-11T08:00")));
    // The hash chain reads back as sealed (verify's counters are the engine's to write; this
    // append is raw).
    assert_eq!(loaded.events.last().map(|e| e.hash), Some(prev));
    assert_eq!(loaded.events[1].prev, loaded.events[0].hash);
}
