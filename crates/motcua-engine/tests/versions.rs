//! Procedure versions: a dossier follows the version in force on the day it was received.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{Channel, Command, DossierCode, Event, Procedure, Step};
use motcua_engine::{Actor, ActorRole, Engine, EngineError, MemoryStore, Request};

/// 1.004873 with a 3-day appraisal until 30/6/2025, a 2-day one from 1/7/2025.
fn versions() -> Vec<Procedure> {
    let version = |days: u32, from: Option<&str>, to: Option<&str>| {
        let mut p =
            Procedure::simple("1.004873".parse().unwrap(), "Xác nhận tình trạng hôn nhân", Limit::working_days(5));
        p.steps = vec![Step::new("tham-dinh", "H42.12", Limit::working_days(days), &[])];
        p.effective_from = from.map(|d| d.parse().unwrap());
        p.effective_to = to.map(|d| d.parse().unwrap());
        p
    };
    vec![version(2, Some("2025-07-01"), None), version(3, None, Some("2025-06-30"))]
}

fn handle(
    e: &mut Engine<MemoryStore>,
    code: &DossierCode,
    command: Command,
    at: &str,
) -> Result<Vec<Event>, EngineError> {
    let now: Timestamp = at.parse().unwrap();
    let actor = Actor::officer("clerk", ActorRole::Clerk, "H42.12");
    e.handle(&Request::new(code.clone(), command, actor, now)).map(|o| o.events)
}

fn receive() -> Command {
    Command::Receive {
        case: None,
        procedure: "1.004873".parse().unwrap(),
        channel: Channel::Direct,
        jurisdiction: None,
        applicant: None,
        documents: Vec::new(),
    }
}

fn step_due(events: &[Event]) -> String {
    match events.first() {
        Some(Event::StepStarted { due, .. }) => due.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dossier_keeps_the_version_it_was_received_under() {
    let calendar = WorkCalendar::builder().years(2025, 2026).build().unwrap();
    let store = MemoryStore::new();
    let mut e = Engine::new(store, versions(), calendar.clone());
    let old: DossierCode = "H42.12-250630-0001".parse().unwrap();
    let new: DossierCode = "H42.12-250701-0001".parse().unwrap();
    let received = handle(&mut e, &old, receive(), "2025-06-30T09:00").unwrap();
    assert!(matches!(&received[0], Event::Received { procedure_version: None, .. }), "{received:?}");
    handle(&mut e, &new, receive(), "2025-07-01T09:00").unwrap();
    // Both appraisals start on 2/7/2025; each follows its own version.
    let start = || Command::StartStep { step: "tham-dinh".into() };
    assert_eq!(step_due(&handle(&mut e, &old, start(), "2025-07-02T08:00").unwrap()), "2025-07-07T08:00+07:00");
    assert_eq!(step_due(&handle(&mut e, &new, start(), "2025-07-02T08:00").unwrap()), "2025-07-04T08:00+07:00");
    // A catalog without the old version: its dossiers cannot go on silently under the new one.
    let store = e.into_store();
    let mut e = Engine::new(store, versions().into_iter().take(1), calendar);
    let complete = Command::CompleteStep { step: "tham-dinh".into() };
    let err = handle(&mut e, &old, complete.clone(), "2025-07-03T08:00").unwrap_err();
    assert!(matches!(err, EngineError::NotInForce { .. }), "{err}");
    handle(&mut e, &new, complete, "2025-07-03T08:00").unwrap();
    // Before the first version there is none in force.
    let early: DossierCode = "H42.12-250630-0002".parse().unwrap();
    let err = handle(&mut e, &early, receive(), "2025-06-30T09:00").unwrap_err();
    assert!(matches!(err, EngineError::NotInForce { .. }), "{err}");
}
