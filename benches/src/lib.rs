//! Workloads shared by the benchmarks: deterministic, realistic mixes of receipt times and
//! limits.

use chrono::NaiveDate;
use motcua_calendar::{Limit, Timestamp};

/// The simulator's deterministic generator (SplitMix64), so every run measures the same inputs.
pub use motcua_sim::Rng as SplitMix64;

/// The limits portals see most, weighted roughly by how often procedures use them
/// (same-day civil status, a few working days for most, calendar days for land and construction).
pub const LIMIT_MIX: [(Limit, u32); 12] = [
    (Limit::SameDay, 15),
    (Limit::WorkingDays { quarters: 2 }, 5),
    (Limit::WorkingDays { quarters: 4 }, 10),
    (Limit::WorkingDays { quarters: 8 }, 10),
    (Limit::WorkingDays { quarters: 12 }, 20),
    (Limit::WorkingDays { quarters: 20 }, 12),
    (Limit::WorkingDays { quarters: 40 }, 8),
    (Limit::WorkingDays { quarters: 60 }, 6),
    (Limit::WorkingDays { quarters: 120 }, 3),
    (Limit::WorkingMinutes(8 * 60), 4),
    (Limit::CalendarDays(15), 3),
    (Limit::CalendarDays(30), 4),
];

/// Long limits only, as land, construction and investment procedures carry them.
pub const LONG_LIMIT_MIX: [(Limit, u32); 6] = [
    (Limit::WorkingDays { quarters: 40 }, 20),
    (Limit::WorkingDays { quarters: 60 }, 25),
    (Limit::WorkingDays { quarters: 80 }, 20),
    (Limit::WorkingDays { quarters: 120 }, 15),
    (Limit::CalendarDays(30), 10),
    (Limit::CalendarDays(45), 10),
];

/// `n` (receipt, limit) pairs over 2020-01-01 ..= 2030-06-30 with [`LIMIT_MIX`]: 80 % in office
/// hours on any day (so weekends and holidays appear as online submissions do), 20 % at any
/// minute.
pub fn mix(n: usize, seed: u64) -> Vec<(Timestamp, Limit)> {
    mix_of(n, seed, &LIMIT_MIX)
}

/// Like [`mix`], with the limits drawn from `limits` (weights beside them).
pub fn mix_of(n: usize, seed: u64, limits: &[(Limit, u32)]) -> Vec<(Timestamp, Limit)> {
    let mut rng = SplitMix64::new(seed);
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).map(motcua_calendar::day_number).unwrap_or(18262);
    let days = 3833; // 2020-01-01 .. 2030-06-30
    let total: u32 = limits.iter().map(|&(_, w)| w).sum();
    (0..n)
        .map(|_| {
            let day = first + rng.below(days) as i64;
            let minute = if rng.below(10) < 8 { 7 * 60 + rng.below(10 * 60) } else { rng.below(1440) } as u16;
            let date = motcua_calendar::date_from_day_number(day);
            let mut pick = rng.below(u64::from(total)) as u32;
            let mut limit = Limit::SameDay;
            for &(l, w) in limits {
                if pick < w {
                    limit = l;
                    break;
                }
                pick -= w;
            }
            (Timestamp::from_local(date, minute), limit)
        })
        .collect()
}

/// The engine benchmark's round: 1,000 dossiers of one two-step procedure, seven commands each
/// (seven events), interleaved in time order as a day's work is. Shared by the criterion bench
/// and the `engine-round` driver (for instruction counts under `valgrind --tool=callgrind`).
pub mod engine_round {
    use motcua_calendar::{Limit, Timestamp};
    use motcua_core::{AgencyCode, Channel, Command, Decision, DossierCode, Procedure, ProcedureCode, Step};
    use motcua_engine::{Actor, ActorRole, Request};

    /// Dossiers per round.
    pub const DOSSIERS: u64 = 1_000;
    /// Events (= commands) per dossier.
    pub const EVENTS_PER_DOSSIER: u64 = 7;

    /// The procedure: reception at the one-stop desk, then appraisal at a specialist office.
    pub fn procedure() -> Procedure {
        let step = |id: &str, agency: &str, q: u32, after: &[&str]| {
            Step::new(id, agency, Limit::WorkingDays { quarters: q }, after)
        };
        let code: ProcedureCode = "1.001612".parse().unwrap_or_else(|_| unreachable!("a valid literal"));
        let mut p = Procedure::simple(code, "Đăng ký hộ kinh doanh", Limit::working_days(3));
        p.steps = vec![step("tiep-nhan", "H42.12", 1, &[]), step("tham-dinh", "phong-kt", 8, &["tiep-nhan"])];
        p
    }

    /// The requests of round `round`, in time order: all dossiers interleaved.
    pub fn requests(round: u64) -> Vec<Request> {
        let system = Actor::system("bench");
        let leader = Actor::officer("leader", ActorRole::Leader, "H42.12");
        let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap_or_default();
        let agency: AgencyCode = "H42.12".parse().unwrap_or_else(|_| unreachable!("a valid literal"));
        let code: ProcedureCode = "1.001612".parse().unwrap_or_else(|_| unreachable!("a valid literal"));
        let receipts = super::mix(DOSSIERS as usize, round);
        let mut out = Vec::with_capacity((DOSSIERS * EVENTS_PER_DOSSIER) as usize);
        let script: [(i64, Command); 7] = [
            (
                0,
                Command::Receive {
                    case: None,
                    procedure: code.clone(),
                    channel: Channel::Online,
                    jurisdiction: None,
                    applicant: None,
                    documents: Vec::new(),
                },
            ),
            (5, Command::StartStep { step: "tiep-nhan".into() }),
            (30, Command::CompleteStep { step: "tiep-nhan".into() }),
            (35, Command::Transfer { step: "tham-dinh".into() }),
            (1500, Command::CompleteStep { step: "tham-dinh".into() }),
            (1510, Command::Finish { decision: Decision::Approved, reason: None, result: None }),
            (1600, Command::ReturnResult { delivery: None }),
        ];
        for (k, (dt, command)) in script.iter().enumerate() {
            for (i, (received, _)) in receipts.iter().enumerate() {
                let start: Timestamp =
                    Timestamp::from_local(date, 7 * 60).max(*received).min(Timestamp::from_local(date, 8 * 60));
                out.push(Request {
                    dossier: DossierCode::new(agency.clone(), date, round * 1_000_000 + i as u64 + 1),
                    command: command.clone(),
                    actor: if k == 5 { leader.clone() } else { system.clone() },
                    idempotency_key: None,
                    now: start.plus_minutes(*dt),
                    on_behalf_of: None,
                    intent: Default::default(),
                });
            }
        }
        out
    }
}
