//! The law of a dossier's limit (docs/rules.md §5): a receipt is due by the limit of its case
//! and channel — the case's own for its channel, else the case's; no case, the procedure's for
//! its channel, else the procedure's — and a supplement's restart keeps that limit. A case the
//! procedure lacks, or none where one is required, is refused and opens nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;
use proptest::prelude::*;

fn cal() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::builder().years(2025, 2027).build().unwrap())
}

fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        (1u32..=40).prop_map(|q| Limit::WorkingDays { quarters: q }),
        (1u32..=30).prop_map(Limit::CalendarDays),
        (1u32..=16).prop_map(|h| Limit::WorkingMinutes(h * 60)),
        Just(Limit::SameDay),
    ]
}

fn channel() -> impl Strategy<Value = Channel> {
    prop_oneof![Just(Channel::Direct), Just(Channel::Online), Just(Channel::Postal)]
}

fn channel_limits() -> impl Strategy<Value = Vec<(Channel, Limit)>> {
    (proptest::option::of(limit()), proptest::option::of(limit())).prop_map(|(online, postal)| {
        let mut v = Vec::new();
        if let Some(l) = online {
            v.push((Channel::Online, l));
        }
        if let Some(l) = postal {
            v.push((Channel::Postal, l));
        }
        v
    })
}

fn procedure() -> impl Strategy<Value = Procedure> {
    (limit(), channel_limits(), proptest::collection::vec((limit(), channel_limits()), 0..3), any::<bool>()).prop_map(
        |(base, own, cases, required)| {
            let mut p = Procedure::simple("1.000001".parse().unwrap(), "p", base);
            p.channel_limits = own;
            p.cases = cases
                .into_iter()
                .enumerate()
                .map(|(i, (limit, channel_limits))| ProcedureCase {
                    id: format!("truong-hop-{}", i + 1),
                    name: format!("Trường hợp {}", i + 1),
                    limit,
                    channel_limits,
                })
                .collect();
            p.case_required = required && !p.cases.is_empty();
            p
        },
    )
}

fn instant() -> impl Strategy<Value = Timestamp> {
    // Minutes of 2025-2026, any time of day.
    let start: Timestamp = "2025-01-02T00:00".parse().unwrap();
    (0i64..(700 * 1440)).prop_map(move |m| start.plus_minutes(m))
}

proptest! {
    #[test]
    fn a_receipt_is_due_by_its_case_and_channel(
        p in procedure(),
        channel in channel(),
        pick in 0usize..4,
        now in instant(),
    ) {
        prop_assume!(p.validate().is_ok());
        let case: Option<String> = match pick {
            0 => None,
            3 => Some("truong-hop-9".into()),
            k => p.cases.get(k - 1).map(|c| c.id.clone()),
        };
        let ctx = Context::new(&p, cal());
        let mut receive = Command::receive(p.code.clone(), channel);
        if let Some(c) = &case {
            receive = receive.with_case(c.as_str());
        }
        let expected = match case.as_deref() {
            Some(id) => p.cases.iter().find(|c| c.id == id).map(|c| {
                c.channel_limits.iter().find(|(ch, _)| *ch == channel).map_or(c.limit, |(_, l)| *l)
            }),
            None if p.case_required => None,
            None => Some(p.channel_limits.iter().find(|(ch, _)| *ch == channel).map_or(p.limit, |(_, l)| *l)),
        };
        let decided = decide(&Dossier::new(), &receive, now, &ctx);
        match expected {
            None => {
                let e = decided.unwrap_err();
                prop_assert!(matches!(e, DomainError::UnknownCase { .. } | DomainError::CaseRequired { .. }), "{e:?}");
            }
            Some(limit) => {
                let events = decided.unwrap();
                let a = cal().appointment(now, limit).unwrap();
                let mut d = Dossier::new();
                for e in &events {
                    apply(&mut d, e);
                }
                prop_assert_eq!(d.due, a.due);
                prop_assert_eq!(d.case.as_deref(), case.as_deref());
            }
        }
    }
}
