//! Dossier lifecycles through `decide`/`apply`, one rule at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;

fn cal() -> &'static WorkCalendar {
    static CAL: OnceLock<WorkCalendar> = OnceLock::new();
    CAL.get_or_init(|| WorkCalendar::builder().years(2024, 2027).build().unwrap())
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn chain() -> Procedure {
    let step = |id: &str, agency: &str, q: u32, after: &[&str]| {
        Step::new(id, agency, Limit::WorkingDays { quarters: q }, after)
    };
    let mut p = Procedure::simple("1.000001".parse().unwrap(), "Liên thông thử", Limit::working_days(3));
    p.steps = vec![
        step("tiep-nhan", "ubnd-xa", 1, &[]),
        step("cu-tru", "cong-an-xa", 4, &["tiep-nhan"]),
        step("bhyt", "bhxh", 2, &["cu-tru"]),
    ];
    p
}

struct Run {
    procedure: Procedure,
    dossier: Dossier,
    events: Vec<Event>,
}

impl Run {
    fn new(procedure: Procedure) -> Run {
        Run { procedure, dossier: Dossier::new(), events: Vec::new() }
    }

    fn try_do(&mut self, at: &str, c: Command) -> Result<Vec<Event>, DomainError> {
        let ctx = Context::new(&self.procedure, cal());
        let events = decide(&self.dossier, &c, t(at), &ctx)?;
        for e in &events {
            apply(&mut self.dossier, e);
        }
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    fn run(&mut self, at: &str, c: Command) -> &Dossier {
        self.try_do(at, c).unwrap();
        assert_eq!(Dossier::replay(&self.events), self.dossier, "replay equals live state");
        &self.dossier
    }

    fn receive(&mut self, at: &str) -> &Dossier {
        let code = self.procedure.code.clone();
        self.run(
            at,
            Command::Receive {
                case: None,
                procedure: code,
                channel: Channel::Direct,
                jurisdiction: None,
                applicant: None,
                documents: Vec::new(),
            },
        )
    }
}

fn due(d: &Dossier) -> String {
    d.due.unwrap().local_string()
}

#[test]
fn same_day_procedure() {
    let mut r = Run::new(Procedure::simple("1.001193".parse().unwrap(), "Khai sinh", Limit::SameDay));
    assert_eq!(due(r.receive("2025-03-04T09:00")), "2025-03-04T17:00");
    let d = r.run("2025-03-04T10:30", Command::Finish { decision: Decision::Approved, reason: None, result: None });
    assert_eq!(d.outcome, Some(Outcome::OnTime));
    assert_eq!(d.status.unwrap().national().code(), 9);
    let d = r.run("2025-03-04T10:40", Command::ReturnResult { delivery: None });
    assert_eq!(d.status, Some(Status::ResultReturned(Decision::Approved)));
    assert_eq!(d.status.unwrap().national().code(), 10);
}

#[test]
fn early_on_time_late() {
    for (finish, expected) in [
        ("2025-03-06T16:00", Outcome::Early),
        ("2025-03-07T09:00", Outcome::OnTime),
        ("2025-03-07T09:01", Outcome::Late),
    ] {
        let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
        assert_eq!(due(r.receive("2025-03-04T09:00")), "2025-03-07T09:00");
        assert_eq!(
            r.run(finish, Command::Finish { decision: Decision::Approved, reason: None, result: None }).outcome,
            Some(expected),
            "{finish}"
        );
    }
}

#[test]
fn inter_agency_chain_with_a_late_middle_step() {
    let mut r = Run::new(chain());
    r.receive("2025-03-03T08:00");
    r.run("2025-03-03T08:05", Command::StartStep { step: "tiep-nhan".into() });
    let d = r.run("2025-03-03T09:00", Command::CompleteStep { step: "tiep-nhan".into() });
    assert_eq!(d.steps[0].outcome, Some(Outcome::OnTime));
    // Starting the last step before the middle one is refused.
    let e = r.try_do("2025-03-03T09:01", Command::StartStep { step: "bhyt".into() }).unwrap_err();
    assert_eq!(e.code(), "step_waiting");
    // The same agency cannot "transfer" to itself; the next agency can.
    let d = r.run("2025-03-03T09:10", Command::Transfer { step: "cu-tru".into() });
    assert_eq!(d.steps[1].due.unwrap().local_string(), "2025-03-04T09:10");
    let d = r.run("2025-03-05T10:00", Command::CompleteStep { step: "cu-tru".into() });
    assert_eq!(d.steps[1].outcome, Some(Outcome::Late));
    r.run("2025-03-05T10:05", Command::Transfer { step: "bhyt".into() });
    r.run("2025-03-05T14:00", Command::CompleteStep { step: "bhyt".into() });
    let d = r.run("2025-03-05T15:00", Command::Finish { decision: Decision::Approved, reason: None, result: None });
    assert_eq!(d.outcome, Some(Outcome::Early), "the dossier is early although a step was late");
    let late: Vec<(&str, &str)> = d.late_steps(t("2025-03-06T00:00")).iter().map(|s| (&*s.id.0, &*s.agency)).collect();
    assert_eq!(late, [("cu-tru", "cong-an-xa")]);
}

#[test]
fn transfer_within_one_agency_is_refused() {
    let mut p = chain();
    p.steps[1].agency = "ubnd-xa".into();
    let mut r = Run::new(p);
    r.receive("2025-03-03T08:00");
    r.run("2025-03-03T08:05", Command::StartStep { step: "tiep-nhan".into() });
    r.run("2025-03-03T09:00", Command::CompleteStep { step: "tiep-nhan".into() });
    let e = r.try_do("2025-03-03T09:10", Command::Transfer { step: "cu-tru".into() }).unwrap_err();
    assert_eq!(e.code(), "not_a_transfer");
}

#[test]
fn supplement_restarts_the_limit() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
    r.receive("2025-03-03T09:00"); // Mon; due Thu 6/3 09:00
    let d = r.run("2025-03-04T10:00", Command::RequestSupplement { reason: "thiếu giấy".into() });
    assert_eq!(d.status.unwrap().national().code(), 5);
    assert_eq!(d.judgement(t("2025-03-20T10:00")), Judgement::ClockStopped, "a stopped clock is never late");
    let d = r.run("2025-03-07T14:00", Command::ReceiveSupplement);
    assert_eq!(d.clock_start.unwrap().local_string(), "2025-03-07T14:00");
    assert_eq!(due(d), "2025-03-12T14:00");
    assert_eq!(d.status, Some(Status::Received));
    assert_eq!(d.supplement_requests, 1);
}

#[test]
fn supplement_pauses_the_clock_under_the_766_policy() {
    let mut p = Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3));
    p.policy.supplement = SupplementPolicy::Pause;
    let mut r = Run::new(p);
    r.receive("2025-03-03T09:00"); // due Thu 6/3 09:00
    r.run("2025-03-04T10:00", Command::RequestSupplement { reason: "thiếu giấy".into() });
    // Paused Tue 10:00 → Fri 14:00: 5 + 8 + 8 + 5 = 26 working hours, added to Thu 09:00:
    // Thu 6 h, Fri 8 h, Mon 8 h, Tue 4 h → Tue 11/3 11:00.
    let d = r.run("2025-03-07T14:00", Command::ReceiveSupplement);
    assert_eq!(d.clock_start.unwrap().local_string(), "2025-03-03T09:00");
    assert_eq!(due(d), "2025-03-11T11:00");
}

#[test]
fn supplement_window_is_three_working_days() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(10)));
    r.receive("2025-03-03T09:00");
    let e = r.try_do("2025-03-06T09:01", Command::RequestSupplement { reason: "x".into() }).unwrap_err();
    assert_eq!(e, DomainError::SupplementWindowClosed { deadline: t("2025-03-06T09:00") });
    r.run("2025-03-06T09:00", Command::RequestSupplement { reason: "x".into() });
}

#[test]
fn financial_obligation_and_suspension_pause() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
    r.receive("2025-03-03T09:00"); // due Thu 06/3 09:00
    let d = r.run("2025-03-03T10:00", Command::RequestFinancialObligation { amount: Vnd::from_dong(50_000) });
    assert_eq!(d.status.unwrap().national().code(), 6);
    let d = r.run("2025-03-04T10:00", Command::ConfirmFinancialObligation); // paused 8 h
    assert_eq!(due(d), "2025-03-07T09:00");
    let d = r.run("2025-03-04T11:00", Command::Suspend { reason: "chờ xác minh".into() });
    assert_eq!(d.status.unwrap().national().code(), 4, "a suspension can resume: not the terminal 8");
    let d = r.run("2025-03-04T14:30", Command::Resume); // paused 30 + 60 min
    assert_eq!(due(d), "2025-03-07T10:30");
    assert_eq!(d.status, Some(Status::Received));
}

#[test]
fn extension_once_with_apology() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
    r.receive("2025-03-03T09:00"); // due Thu 6/3 09:00
    let d = r.run("2025-03-04T16:00", Command::Extend { new_due: t("2025-03-10T17:00"), reason: "xác minh".into() });
    assert!(!d.late_apology);
    let e = r.try_do("2025-03-04T16:30", Command::Extend { new_due: t("2025-03-11T17:00"), reason: "again".into() });
    assert_eq!(e.unwrap_err(), DomainError::AlreadyExtended);
    let d = r.run("2025-03-10T16:00", Command::Finish { decision: Decision::Approved, reason: None, result: None });
    assert_eq!(d.outcome, Some(Outcome::Late), "judged against the original due time");
    assert_eq!(d.kept_new_promise(), Some(true));
}

#[test]
fn late_apology_is_recorded() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
    r.receive("2025-03-03T09:00"); // due Thu 6/3 09:00
    let d = r.run("2025-03-05T10:00", Command::Extend { new_due: t("2025-03-10T17:00"), reason: "x".into() });
    assert!(d.late_apology, "less than one working day before the due time");
    let e = r.try_do("2025-03-05T10:00", Command::Extend { new_due: t("2025-03-06T09:00"), reason: "x".into() });
    assert_eq!(e.unwrap_err().code(), "already_extended");
}

#[test]
fn withdrawal_during_a_supplement_is_judged_at_the_request() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(1)));
    r.receive("2025-03-03T09:00"); // due Tue 09:00
    r.run("2025-03-03T10:00", Command::RequestSupplement { reason: "x".into() });
    let d = r.run("2025-03-20T10:00", Command::Withdraw);
    assert_eq!(d.status, Some(Status::Withdrawn));
    assert_eq!(d.status.unwrap().national().code(), 7);
    assert_eq!(d.outcome, Some(Outcome::Early));
    assert!(d.pause.is_none());
}

#[test]
fn illegal_transitions_are_typed() {
    let mut r = Run::new(chain());
    let e = r
        .try_do("2025-03-03T08:00", Command::Finish { decision: Decision::Approved, reason: None, result: None })
        .unwrap_err();
    assert_eq!(e, DomainError::NotAllowed { command: CommandKind::Finish, status: None });
    assert_eq!(e.to_string(), "finish is not allowed before the dossier exists");
    r.receive("2025-03-03T08:00");
    let e = r.try_do("2025-03-03T08:01", Command::ReturnResult { delivery: None }).unwrap_err();
    assert_eq!(e.to_string(), "return_result is not allowed while the dossier is received");
    // A command confused with its twin names the one allowed: the completion before acceptance
    // against the supplement after it.
    let e = r.try_do("2025-03-03T08:01", Command::RequestCompletion { missing: "x".into() }).unwrap_err();
    assert_eq!(
        e.to_string(),
        "request_completion is not allowed while the dossier is received (request_supplement is)"
    );
    assert_eq!(
        allowed_instead(CommandKind::Resubmit, Some(Status::SupplementRequested)),
        Some(CommandKind::ReceiveSupplement)
    );
    assert_eq!(
        allowed_instead(CommandKind::ReceiveSupplement, Some(Status::CompletionRequested)),
        Some(CommandKind::Resubmit)
    );
    let e = r
        .try_do("2025-03-03T08:01", Command::Finish { decision: Decision::Approved, reason: None, result: None })
        .unwrap_err();
    assert_eq!(e.code(), "steps_pending");
    let e = r.try_do("2025-03-03T08:01", Command::StartStep { step: "nope".into() }).unwrap_err();
    assert_eq!(e.code(), "unknown_step");
    let e = r.try_do("2025-03-03T07:00", Command::StartStep { step: "tiep-nhan".into() }).unwrap_err();
    assert_eq!(e.code(), "time_went_back");
    let code = r.procedure.code.clone();
    let e = r
        .try_do(
            "2025-03-03T08:02",
            Command::Receive {
                case: None,
                procedure: code,
                channel: Channel::Online,
                jurisdiction: None,
                applicant: None,
                documents: Vec::new(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "not_allowed");
    // A denial may come before the steps are done.
    let d = r.run(
        "2025-03-03T09:00",
        Command::Finish {
            decision: Decision::Denied, reason: Some("không đủ điều kiện".into()), result: None
        },
    );
    assert_eq!(d.status, Some(Status::Finished(Decision::Denied)));
    let e = r.try_do("2025-03-03T09:00", Command::Withdraw).unwrap_err();
    assert_eq!(e.code(), "not_allowed");
}

#[test]
fn online_submission_then_refusal() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
    let code = r.procedure.code.clone();
    let d = r.run(
        "2025-03-08T22:00",
        Command::Submit { procedure: code.clone(), channel: Channel::Online, jurisdiction: None, applicant: None },
    );
    assert_eq!(d.status.unwrap().national().code(), 1);
    let d = r.run("2025-03-10T08:00", Command::RefuseAtIntake { reason: "sai thẩm quyền".into() });
    assert_eq!(d.status.unwrap().national().code(), 3);
    assert_eq!(d.judgement(t("2025-03-20T08:00")), Judgement::NoDueTime);
    let wrong: ProcedureCode = "1.999999".parse().unwrap();
    let mut r = Run::new(Procedure::simple(code, "x", Limit::working_days(3)));
    let e = r
        .try_do(
            "2025-03-08T22:00",
            Command::Submit { procedure: wrong, channel: Channel::Online, jurisdiction: None, applicant: None },
        )
        .unwrap_err();
    assert_eq!(e.code(), "wrong_procedure");
}

#[test]
fn open_dossiers_are_in_time_or_overdue() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(1)));
    r.receive("2025-03-03T09:00"); // due Tue 09:00
    assert_eq!(r.dossier.judgement(t("2025-03-04T09:00")), Judgement::InTime);
    assert_eq!(r.dossier.judgement(t("2025-03-04T09:01")), Judgement::Overdue);
}

#[test]
fn supplement_deadline_tells_when_the_dossier_may_be_closed() {
    let mut r = Run::new(Procedure::simple("1.000002".parse().unwrap(), "x", Limit::working_days(3)));
    r.receive("2025-03-03T09:00");
    r.run("2025-03-03T14:00", Command::RequestSupplement { reason: "x".into() });
    let ctx = Context::new(&r.procedure, cal());
    // 15 working days from Mon 3/3 14:00 → Mon 24/3 14:00.
    assert!(!r.dossier.supplement_expired(t("2025-03-24T14:00"), &ctx).unwrap());
    assert!(r.dossier.supplement_expired(t("2025-03-24T14:01"), &ctx).unwrap());
    let mut p = r.procedure.clone();
    p.policy.supplement_deadline = None;
    let ctx = Context::new(&p, cal());
    assert!(!r.dossier.supplement_expired(t("2026-01-01T00:00"), &ctx).unwrap());
}
