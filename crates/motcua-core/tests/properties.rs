//! Laws of the state machine over arbitrary command sequences: `decide` never panics, events it
//! produces always apply, replay rebuilds the live state, the status mapping is total, and
//! times never go back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;
use proptest::prelude::*;

fn cal() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::builder().years(2024, 2027).build().unwrap())
}

fn procedures() -> &'static [Procedure] {
    static P: OnceLock<Vec<Procedure>> = OnceLock::new();
    P.get_or_init(|| {
        let step = |id: &str, agency: &str, q: u32, after: &[&str]| {
            Step::new(id, agency, Limit::WorkingDays { quarters: q }, after)
        };
        let mut chain = Procedure::simple("1.000001".parse().unwrap(), "chain", Limit::working_days(5));
        chain.steps = vec![
            step("a", "x", 2, &[]),
            step("b", "y", 4, &["a"]),
            step("c", "z", 4, &["a"]),
            step("d", "x", 2, &["b", "c"]),
        ];
        let mut pause = chain.clone();
        pause.policy.supplement = SupplementPolicy::Pause;
        pause.policy.pause_on_suspension = false;
        pause.policy.cutoff = Cutoff::Disabled;
        let mut none = Procedure::simple("1.000001".parse().unwrap(), "no limit", Limit::NoDueTime);
        none.policy.supplement_window = None;
        vec![chain, pause, none, Procedure::simple("1.000001".parse().unwrap(), "same day", Limit::SameDay)]
    })
}

fn step_id() -> impl Strategy<Value = StepId> {
    prop_oneof![Just("a".into()), Just("b".into()), Just("c".into()), Just("d".into()), Just("zz".into())]
}

fn command() -> impl Strategy<Value = Command> {
    let code: ProcedureCode = "1.000001".parse().unwrap();
    let other: ProcedureCode = "1.000002".parse().unwrap();
    let channel = prop_oneof![Just(Channel::Direct), Just(Channel::Online), Just(Channel::Postal)];
    prop_oneof![
        (channel.clone(), any::<bool>()).prop_map(move |(channel, ok)| Command::Submit {
            procedure: if ok { code.clone() } else { other.clone() },
            channel,
            jurisdiction: None,
            applicant: None,
        }),
        channel.prop_map(|channel| Command::Receive {
            case: None,
            procedure: "1.000001".parse().unwrap(),
            channel,
            jurisdiction: None,
            applicant: None,
            documents: Vec::new(),
        }),
        Just(Command::RefuseAtIntake { reason: "r".into() }),
        step_id().prop_map(|step| Command::StartStep { step }),
        step_id().prop_map(|step| Command::Transfer { step }),
        step_id().prop_map(|step| Command::CompleteStep { step }),
        Just(Command::RequestSupplement { reason: "r".into() }),
        Just(Command::ReceiveSupplement),
        (0u64..10_000_000).prop_map(|a| Command::RequestFinancialObligation { amount: Vnd::from_dong(a) }),
        Just(Command::ConfirmFinancialObligation),
        Just(Command::Suspend { reason: "r".into() }),
        Just(Command::Resume),
        (0i64..40_000).prop_map(|m| Command::Extend {
            new_due: Timestamp::from_local(chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), 0).plus_minutes(m),
            reason: "r".into()
        }),
        prop_oneof![Just(Decision::Approved), Just(Decision::Denied)].prop_map(|decision| Command::Finish {
            decision,
            reason: Some("lý do".into()),
            result: None
        }),
        Just(Command::ReturnResult { delivery: None }),
        Just(Command::Withdraw),
        Just(Command::Stop { reason: "r".into() }),
        (0u16..3, any::<bool>()).prop_map(|(n, c)| Command::FileFeedback {
            subject: "s".into(),
            topic: c.then_some(FeedbackTopic::Procedure),
            follows: (n > 0).then_some(n),
        }),
        (1u16..4, any::<bool>()).prop_map(|(feedback, answered)| Command::AnswerFeedback {
            feedback,
            end: if answered { FeedbackEnd::Answered } else { FeedbackEnd::Rejected },
            text: "t".into(),
            topic: None,
        }),
        (1u16..4).prop_map(|feedback| Command::PublishFeedback { feedback }),
        (1u16..4, any::<bool>()).prop_map(|(feedback, satisfied)| Command::RateFeedback { feedback, satisfied }),
    ]
}

/// Whether a command is about a feedback record (taken whatever the dossier's status).
fn about_feedback(c: &Command) -> bool {
    matches!(
        c,
        Command::FileFeedback { .. }
            | Command::AnswerFeedback { .. }
            | Command::PublishFeedback { .. }
            | Command::RateFeedback { .. }
    )
}

/// Commands with time steps (mostly forward, sometimes backward, sometimes far).
fn script() -> impl Strategy<Value = (usize, Vec<(i64, Command)>)> {
    (
        0usize..4,
        prop::collection::vec((prop_oneof![8 => 0i64..3000, 1 => -500i64..0, 1 => 0i64..200_000], command()), 0..40),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn decide_never_panics_and_replay_equals_live((p, steps) in script()) {
        let procedure = &procedures()[p];
        let ctx = Context::new(procedure, cal());
        let mut now = Timestamp::from_local(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(), 8 * 60);
        let mut dossier = Dossier::new();
        let mut log: Vec<Event> = Vec::new();
        for (dt, command) in steps {
            now = now.plus_minutes(dt);
            match decide(&dossier, &command, now, &ctx) {
                Ok(events) => {
                    prop_assert!(events.len() <= MAX_EVENTS_PER_COMMAND);
                    prop_assert!(!events.is_empty());
                    for e in &events {
                        prop_assert!(e.at() >= dossier.last_at.unwrap_or(e.at()), "time went back");
                        let before = dossier.version;
                        apply(&mut dossier, e);
                        prop_assert_eq!(dossier.version, before + 1);
                        log.push(e.clone());
                    }
                }
                Err(e) => {
                    // A rejection says which rule; it never leaves a half-written state.
                    prop_assert!(!e.code().is_empty());
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            if let Some(s) = dossier.status {
                let n = s.national().code();
                prop_assert!((1..=10).contains(&n));
            }
            // Events round-trip through their stored (JSON) form.
            prop_assert_eq!(Dossier::replay(&log), dossier.clone());
            let _ = dossier.judgement(now);
            let _ = dossier.late_steps(now);
        }
        // A feedback's deadlines follow its receipt in order, and its closing is judged
        // against the deadline of its kind (Decision 766, 5.2, as its formula description sets them).
        for f in &dossier.feedback {
            prop_assert!(f.filed_at <= f.reject_by && f.reject_by <= f.due, "{:?}", f);
            match f.end {
                Some((FeedbackEnd::Answered, t)) => {
                    prop_assert_eq!(f.outcome, Some(Outcome::judge(t, f.due)));
                    prop_assert!(f.publish_by.is_some_and(|p| p >= t));
                }
                Some((FeedbackEnd::Rejected, t)) => prop_assert_eq!(f.outcome, Some(Outcome::judge(t, f.reject_by))),
                None => prop_assert!(f.outcome.is_none() && f.publish_by.is_none()),
            }
            // Later is never more in time.
            prop_assert!(f.on_time(now.plus_minutes(100_000)) <= f.on_time(now));
        }
        let json = serde_json::to_string(&log).unwrap();
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(Dossier::replay(&back), dossier);
    }

    #[test]
    fn terminal_dossiers_accept_nothing((p, steps) in script(), extra in command()) {
        let procedure = &procedures()[p];
        let ctx = Context::new(procedure, cal());
        let mut now = Timestamp::from_local(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(), 8 * 60);
        let mut dossier = Dossier::new();
        for (dt, command) in steps {
            now = now.plus_minutes(dt.max(0));
            if let Ok(events) = decide(&dossier, &command, now, &ctx) {
                for e in &events {
                    apply(&mut dossier, e);
                }
            }
        }
        if dossier.status.is_some_and(|s| s.is_terminal()) {
            match (dossier.status, &extra, decide(&dossier, &extra, now, &ctx)) {
                // The one thing a withdrawn dossier still takes: the stop notice answering the
                // request, which changes neither its end nor its outcome.
                (Some(Status::Withdrawn), Command::Stop { .. }, Ok(events)) => {
                    let mut after = dossier.clone();
                    for e in &events {
                        apply(&mut after, e);
                    }
                    prop_assert_eq!(after.status, Some(Status::Stopped));
                    prop_assert_eq!((after.finished_at, after.outcome), (dossier.finished_at, dossier.outcome));
                }
                // Feedback is taken after the end too, and changes neither status, end nor outcome.
                (_, extra, Ok(events)) if about_feedback(extra) => {
                    let mut after = dossier.clone();
                    for e in &events {
                        apply(&mut after, e);
                    }
                    prop_assert_eq!(
                        (after.status, after.finished_at, after.outcome),
                        (dossier.status, dossier.finished_at, dossier.outcome)
                    );
                }
                (_, _, result) => prop_assert!(result.is_err(), "{:?} accepted {:?}", dossier.status, extra),
            }
        }
    }
}

#[test]
fn status_mapping_is_total_and_covers_all_ten_codes() {
    let all = Status::ALL;
    let mut codes: Vec<u8> = all.iter().map(|s| s.national().code()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes, (1..=10).collect::<Vec<u8>>());
    for n in NationalStatus::ALL {
        assert!(!n.name().is_empty());
    }
}
