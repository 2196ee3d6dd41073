//! Concrete handling units: step roles resolve through the register of units to the agency
//! that serves the dossier's administrative unit, and officers act only as that agency (or its
//! successor after a merger).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::NaiveDate;
use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{AdminUnit, AgencyUnit, Channel, Command, DossierCode, Event, Procedure, Register, Step, UnitLevel};
use motcua_engine::{Actor, ActorRole, Engine, EngineError, MemoryStore, Request, Store};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn unit(code: &str, level: UnitLevel, parent: Option<&str>, to: Option<&str>, successor: Option<&str>) -> AdminUnit {
    AdminUnit {
        code: code.into(),
        name: code.into(),
        level,
        parent: parent.map(Into::into),
        valid_from: None,
        valid_to: to.map(d),
        successor: successor.map(Into::into),
    }
}

fn agency(code: &str, roles: &[&str], jurisdiction: &str, to: Option<&str>, successor: Option<&str>) -> AgencyUnit {
    AgencyUnit {
        code: code.into(),
        name: code.into(),
        kind: "test".into(),
        roles: roles.iter().map(|&r| r.into()).collect(),
        jurisdiction: vec![jurisdiction.into()],
        valid_from: None,
        valid_to: to.map(d),
        successor: successor.map(Into::into),
    }
}

/// Province P with communes A and B, merged into AB on 1/7/2025; each commune has its people's
/// committee (`ubnd-xa`) and its police (`cong-an-xa`); a provincial centre receives for all.
fn register() -> Arc<Register> {
    let end = Some("2025-06-30");
    let units = vec![
        unit("P", UnitLevel::Province, None, None, None),
        unit("A", UnitLevel::Commune, Some("P"), end, Some("AB")),
        unit("B", UnitLevel::Commune, Some("P"), end, Some("AB")),
        unit("AB", UnitLevel::Commune, Some("P"), None, None),
    ];
    let agencies = vec![
        agency("H42.12", &["ubnd-xa"], "A", end, Some("H42.30")),
        agency("H42.13", &["ubnd-xa"], "B", end, Some("H42.30")),
        agency("H42.30", &["ubnd-xa"], "AB", None, None),
        agency("CA.A", &["cong-an-xa"], "A", end, Some("CA.AB")),
        agency("CA.B", &["cong-an-xa"], "B", end, Some("CA.AB")),
        agency("CA.AB", &["cong-an-xa"], "AB", None, None),
        agency("H42.TT", &[], "P", None, None),
    ];
    Arc::new(Register::new(units, agencies).unwrap())
}

/// Received by the commune, then checked by the commune police.
fn procedure() -> Procedure {
    let mut p = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    p.steps = vec![
        Step::new("tiep-nhan", "ubnd-xa", Limit::WorkingDays { quarters: 2 }, &[]),
        Step::new("xac-minh", "cong-an-xa", Limit::working_days(2), &["tiep-nhan"]),
    ];
    p
}

fn engine() -> Engine<MemoryStore> {
    let calendar = WorkCalendar::builder().years(2025, 2026).build().unwrap();
    Engine::new(MemoryStore::new(), [procedure()], calendar).with_units(register())
}

fn officer(id: &str, agency: &str) -> Actor {
    Actor::officer(id, ActorRole::Specialist, agency)
}

fn clerk(agency: &str) -> Actor {
    Actor::officer("clerk", ActorRole::Clerk, agency)
}

fn run(
    e: &mut Engine<MemoryStore>,
    code: &DossierCode,
    command: Command,
    actor: Actor,
    at: &str,
) -> Result<Vec<Event>, EngineError> {
    let now: Timestamp = at.parse().unwrap();
    e.handle(&Request::new(code.clone(), command, actor, now)).map(|o| o.events)
}

fn receive(jurisdiction: Option<&str>) -> Command {
    Command::Receive {
        case: None,
        procedure: "1.004194".parse().unwrap(),
        channel: Channel::Direct,
        jurisdiction: jurisdiction.map(Into::into),
        applicant: None,
        documents: Vec::new(),
    }
}

fn started_at(events: &[Event]) -> &str {
    match events.first() {
        Some(Event::StepStarted { agency, .. }) => agency,
        other => panic!("not a step start: {other:?}"),
    }
}

#[test]
fn a_step_role_is_no_pass_to_every_communes_dossiers() {
    let mut e = engine();
    let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
    run(&mut e, &code, receive(None), clerk("H42.12"), "2025-03-03T08:00").unwrap();
    let s = run(&mut e, &code, Command::StartStep { step: "tiep-nhan".into() }, clerk("H42.12"), "2025-03-03T08:05")
        .unwrap();
    assert_eq!(started_at(&s), "H42.12");
    run(&mut e, &code, Command::CompleteStep { step: "tiep-nhan".into() }, clerk("H42.12"), "2025-03-03T09:00")
        .unwrap();
    let transfer = || Command::Transfer { step: "xac-minh".into() };
    // The label itself, and another commune's police: refused.
    for stranger in [officer("x", "cong-an-xa"), officer("y", "CA.B")] {
        let err = run(&mut e, &code, transfer(), stranger.clone(), "2025-03-03T09:10").unwrap_err();
        assert!(matches!(err, EngineError::Unauthorized(_)), "{stranger:?}: {err}");
    }
    // Commune A's police: its step, recorded by its code.
    let s = run(&mut e, &code, transfer(), officer("z", "CA.A"), "2025-03-03T09:10").unwrap();
    assert_eq!(started_at(&s), "CA.A");
    // Only that step: the police may not finish the dossier.
    let finish = Command::Finish { decision: motcua_core::Decision::Approved, reason: None, result: None };
    let err = run(&mut e, &code, finish, Actor::officer("l", ActorRole::Leader, "CA.A"), "2025-03-03T10:00");
    assert!(matches!(err, Err(EngineError::Unauthorized(_))), "{err:?}");
}

#[test]
fn a_dossier_received_at_the_province_centre_is_handled_by_its_communes_units() {
    let mut e = engine();
    let code: DossierCode = "H42.TT-250303-0001".parse().unwrap();
    run(&mut e, &code, receive(Some("B")), clerk("H42.TT"), "2025-03-03T08:00").unwrap();
    // Commune A's committee is not commune B's.
    let start = || Command::StartStep { step: "tiep-nhan".into() };
    let err = run(&mut e, &code, start(), officer("a", "H42.12"), "2025-03-03T08:05").unwrap_err();
    assert!(matches!(err, EngineError::Unauthorized(_)), "{err}");
    let s = run(&mut e, &code, start(), officer("b", "H42.13"), "2025-03-03T08:05").unwrap();
    assert_eq!(started_at(&s), "H42.13");
    // The projection names both: the receiving centre in the code, the handling unit per step.
    let summary = e.store().summary(&code).unwrap().unwrap();
    assert_eq!(&*summary.steps.unwrap()[0].agency, "H42.13");
    // A unit the register does not know is refused at receipt.
    let other: DossierCode = "H42.TT-250303-0002".parse().unwrap();
    let err = run(&mut e, &other, receive(Some("NOWHERE")), clerk("H42.TT"), "2025-03-03T08:00").unwrap_err();
    assert!(err.to_string().contains("unknown administrative unit \"NOWHERE\""), "{err}");
}

#[test]
fn after_a_merger_the_successor_inherits_the_open_dossiers() {
    let mut e = engine();
    let code: DossierCode = "H42.12-250620-0001".parse().unwrap();
    run(&mut e, &code, receive(None), clerk("H42.12"), "2025-06-20T08:00").unwrap();
    run(&mut e, &code, Command::StartStep { step: "tiep-nhan".into() }, clerk("H42.12"), "2025-06-27T08:00").unwrap();
    // 2/7/2025: commune A's committee is gone; the merged commune's completes its step.
    let complete = || Command::CompleteStep { step: "tiep-nhan".into() };
    let err = run(&mut e, &code, complete(), officer("old", "H42.12"), "2025-07-02T08:00").unwrap_err();
    assert!(matches!(err, EngineError::Unauthorized(_)), "{err}");
    run(&mut e, &code, complete(), officer("new", "H42.30"), "2025-07-02T08:00").unwrap();
    // The next step resolves for unit A as it is now: the merged commune's police.
    let s =
        run(&mut e, &code, Command::Transfer { step: "xac-minh".into() }, officer("p", "CA.AB"), "2025-07-02T09:00")
            .unwrap();
    assert_eq!(started_at(&s), "CA.AB");
    assert!(e.store().load(&code).unwrap().is_some());
}

/// Decree 309/2026/NĐ-CP through the engine: commune AB's desk receives, on 5/8/2026, a listed
/// procedure of commune C; nothing is handled before C's committee receives the transfer, which
/// only C's officers may do, and the clock (and the due time the lists see) starts then.
#[test]
fn a_dossier_received_outside_its_area_waits_for_its_competent_agency() {
    let units = vec![
        unit("P", UnitLevel::Province, None, None, None),
        unit("AB", UnitLevel::Commune, Some("P"), None, None),
        unit("C", UnitLevel::Commune, Some("P"), None, None),
    ];
    let agencies = vec![
        agency("H42.30", &["ubnd-xa"], "AB", None, None),
        agency("H42.31", &["ubnd-xa"], "C", None, None),
        agency("CA.AB", &["cong-an-xa"], "AB", None, None),
        agency("CA.C", &["cong-an-xa"], "C", None, None),
    ];
    let register = Arc::new(Register::new(units, agencies).unwrap());
    let mut p = procedure();
    p.outside_area = Some((motcua_core::BoundaryScope::Province, "a province's list".into()));
    let calendar = WorkCalendar::builder().years(2026, 2026).build().unwrap();
    let mut e = Engine::new(MemoryStore::new(), [p], calendar).with_units(register);
    let code: DossierCode = "H42.30-260805-0001".parse().unwrap();
    let events = run(&mut e, &code, receive(Some("C")), clerk("H42.30"), "2026-08-05T09:00").unwrap();
    let [Event::Received { due: None, .. }, Event::TransferPending { due, .. }] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(*due, "2026-08-05T17:00".parse().unwrap());
    let start = || Command::StartStep { step: "tiep-nhan".into() };
    let err = run(&mut e, &code, start(), clerk("H42.31"), "2026-08-05T10:00").unwrap_err();
    assert_eq!(err.code(), "awaiting_transfer", "{err}");
    // The desk cannot receive its own transfer; the competent committee does.
    let err = run(&mut e, &code, Command::ReceiveTransfer, clerk("H42.30"), "2026-08-06T08:00").unwrap_err();
    assert!(matches!(err, EngineError::Unauthorized(_)), "{err}");
    let events = run(&mut e, &code, Command::ReceiveTransfer, clerk("H42.31"), "2026-08-06T08:00").unwrap();
    let Some(Event::TransferReceived { clock_start, due, .. }) = events.first() else { panic!("{events:?}") };
    assert_eq!(*clock_start, "2026-08-06T08:00".parse().unwrap());
    assert_eq!(*due, Some("2026-08-11T08:00".parse().unwrap()));
    let summary = e.store().summaries().unwrap().into_iter().find(|s| s.dossier == code).unwrap();
    assert_eq!(summary.due, *due);
    let s = run(&mut e, &code, start(), clerk("H42.31"), "2026-08-06T08:05").unwrap();
    assert_eq!(started_at(&s), "H42.31");
    // Reports count the dossier to the competent committee, not to the desk.
    let counters = e.store().counters().unwrap();
    let received = |agency: &str| counters.total(|k| &*k.agency.to_string() == agency).received;
    assert_eq!((received("H42.30"), received("H42.31")), (0, 1));
    assert!(motcua_engine::verify(e.store()).is_ok());
}
