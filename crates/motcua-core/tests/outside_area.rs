//! The law of receipt outside the competent unit's area (docs/rules.md §13; Decree
//! 118/2025/NĐ-CP Art. 14, 17–18 as amended by Decree 309/2026/NĐ-CP, in force 5/8/2026): before
//! 5/8/2026 any procedure, its clock at the desk; from that day only a listed procedure, with a
//! transfer due within the working day (after 15:00 or on a day off, at the next working day's
//! opening) and its clock from the competent agency's receipt, §4 applied to that instant.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;
use proptest::prelude::*;

fn cal() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::builder().years(2026, 2027).build().unwrap())
}

fn register() -> &'static Register {
    static REG: OnceLock<Register> = OnceLock::new();
    REG.get_or_init(|| {
        let unit = |code: &str, level, parent: Option<&str>| AdminUnit {
            code: code.into(),
            name: code.into(),
            level,
            parent: parent.map(Into::into),
            valid_from: None,
            valid_to: None,
            successor: None,
        };
        let agency = |code: &str, roles: &[&str], jurisdiction: &[&str]| AgencyUnit {
            code: code.into(),
            name: code.into(),
            kind: "x".into(),
            roles: roles.iter().map(|&r| r.into()).collect(),
            jurisdiction: jurisdiction.iter().map(|&j| j.into()).collect(),
            valid_from: None,
            valid_to: None,
            successor: None,
        };
        Register::new(
            vec![
                unit("P", UnitLevel::Province, None),
                unit("P.A", UnitLevel::Commune, Some("P")),
                unit("P.B", UnitLevel::Commune, Some("P")),
                unit("Q", UnitLevel::Province, None),
                unit("Q.C", UnitLevel::Commune, Some("Q")),
            ],
            vec![
                agency("A", &["ubnd-xa"], &["P.A"]),
                agency("B", &["ubnd-xa"], &["P.B"]),
                agency("C", &["ubnd-xa"], &["Q.C"]),
                agency("CENTRE", &[], &["P"]),
            ],
        )
        .unwrap()
    })
}

fn procedure(list: Option<BoundaryScope>) -> Procedure {
    let mut p = Procedure::simple("1.000001".parse().unwrap(), "p", Limit::working_days(3));
    p.steps = vec![Step::new("tham-dinh", "ubnd-xa", Limit::working_days(2), &[])];
    p.outside_area = list.map(|s| (s, "list".to_string()));
    p
}

fn receive(p: &Procedure, receiving: &str, unit: &str, at: Timestamp) -> Result<Vec<Event>, DomainError> {
    let mut ctx = Context::new(p, cal());
    ctx.units = Some(register());
    ctx.receiving = Some(receiving);
    let command = Command::Receive {
        procedure: p.code.clone(),
        channel: Channel::Direct,
        jurisdiction: Some(Arc::from(unit)),
        applicant: None,
        documents: Vec::new(),
        case: None,
    };
    decide(&Dossier::default(), &command, at, &ctx)
}

fn transfer_due(events: &[Event]) -> Option<Timestamp> {
    events.iter().find_map(|e| match e {
        Event::TransferPending { due, .. } => Some(*due),
        _ => None,
    })
}

/// Any instant of 2026 from 1/7 to 31/12, every minute.
fn instant() -> impl Strategy<Value = Timestamp> {
    (0u32..184 * 24 * 60).prop_map(|m| {
        let base: Timestamp = "2026-07-01T00:00".parse().unwrap();
        base.plus_minutes(i64::from(m))
    })
}

#[test]
fn inside_the_area_or_at_the_provinces_centre_nothing_changes() {
    let p = procedure(None);
    let at: Timestamp = "2026-08-05T09:00".parse().unwrap();
    for (receiving, unit) in [("A", "P.A"), ("CENTRE", "P.B")] {
        let events = receive(&p, receiving, unit, at).unwrap();
        assert_eq!(transfer_due(&events), None, "{receiving} for {unit}");
    }
}

#[test]
fn the_scope_of_the_list_decides_across_provinces() {
    let at: Timestamp = "2026-08-05T09:00".parse().unwrap();
    let province = procedure(Some(BoundaryScope::Province));
    assert!(receive(&province, "A", "P.B", at).is_ok());
    assert_eq!(
        receive(&province, "C", "P.B", at).unwrap_err().code(),
        "not_listed_outside_area",
        "a province's list does not reach another province's desk"
    );
    assert!(receive(&procedure(Some(BoundaryScope::Nation)), "C", "P.B", at).is_ok());
}

proptest! {
    #[test]
    fn outside_the_area_the_rule_in_force_on_the_receipt_day_applies(at in instant(), listed in any::<bool>()) {
        let p = procedure(listed.then_some(BoundaryScope::Province));
        let got = receive(&p, "A", "P.B", at);
        let new_rule = at.local_date() >= NaiveDate::from_ymd_opt(2026, 8, 5).unwrap();
        let normal = cal().appointment_with_cutoff(at, p.limit, cal().office_hours().cutoff).unwrap();
        match (new_rule, listed) {
            (false, _) => {
                // Before Decree 309/2026: received as inside, clock at the desk.
                let events = got.unwrap();
                prop_assert_eq!(transfer_due(&events), None);
                let Event::Received { clock_start, due, .. } = &events[0] else { unreachable!() };
                prop_assert_eq!((*clock_start, *due), (normal.clock_start, normal.due));
            }
            (true, false) => prop_assert_eq!(got.unwrap_err().code(), "not_listed_outside_area"),
            (true, true) => {
                let events = got.unwrap();
                let due = transfer_due(&events).unwrap();
                let Event::Received { due: clock_due, .. } = &events[0] else { unreachable!() };
                prop_assert_eq!(*clock_due, None, "no due time before the competent agency receives it");
                prop_assert!(due >= at);
                // Within the working day when received by 15:00 on a working day, else at the
                // next working day's opening (the same-day appointment's clock start).
                let same_day = cal().appointment_with_cutoff(at, Limit::SameDay, Some(15 * 60)).unwrap();
                if same_day.clock_start.local_date() == at.local_date() {
                    prop_assert_eq!(Some(due), same_day.due);
                } else {
                    prop_assert_eq!(due, same_day.clock_start);
                }
                // The competent agency's receipt starts the clock by §4 at its own instant.
                let mut state = Dossier::default();
                for e in &events {
                    apply(&mut state, e);
                }
                let later = due.plus_minutes(30);
                let mut ctx = Context::new(&p, cal());
                ctx.units = Some(register());
                ctx.receiving = Some("A");
                let moved = decide(&state, &Command::ReceiveTransfer, later, &ctx).unwrap();
                let expect = cal().appointment_with_cutoff(later, p.limit, cal().office_hours().cutoff).unwrap();
                let Event::TransferReceived { clock_start, due, .. } = &moved[0] else { unreachable!() };
                prop_assert_eq!((*clock_start, *due), (expect.clock_start, expect.due));
            }
        }
    }
}
