//! `decide` + `apply` over a typical lifecycle, and replay (`apply` alone) beside it.
//!
//! Run: `cargo bench -p motcua-benches --bench core`
//!
//! The lifecycle (9 events): receive; three steps started and completed (one a transfer to
//! another agency); finish; return the result. Receipt times come from the realistic mix of
//! `benches/src/lib.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use motcua_benches::mix;
use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;

const DOSSIERS: usize = 2_000;
const EVENTS_PER_DOSSIER: u64 = 9;

fn procedure() -> Procedure {
    let step = |id: &str, agency: &str, q: u32, after: &[&str]| {
        Step::new(id, agency, Limit::WorkingDays { quarters: q }, after)
    };
    let mut p = Procedure::simple("1.001612".parse().unwrap(), "Đăng ký hộ kinh doanh", Limit::working_days(3));
    p.steps = vec![
        step("tiep-nhan", "ubnd-xa", 1, &[]),
        step("tham-dinh", "phong-kt", 8, &["tiep-nhan"]),
        step("ky", "ubnd-xa", 2, &["tham-dinh"]),
    ];
    p
}

fn script(received: Timestamp) -> Vec<(Timestamp, Command)> {
    let code: ProcedureCode = "1.001612".parse().unwrap();
    let at = |m: i64| received.plus_minutes(m);
    vec![
        (
            at(0),
            Command::Receive {
                case: None,
                procedure: code,
                channel: Channel::Online,
                jurisdiction: None,
                applicant: None,
                documents: Vec::new(),
            },
        ),
        (at(5), Command::StartStep { step: "tiep-nhan".into() }),
        (at(30), Command::CompleteStep { step: "tiep-nhan".into() }),
        (at(35), Command::Transfer { step: "tham-dinh".into() }),
        (at(1500), Command::CompleteStep { step: "tham-dinh".into() }),
        (at(1505), Command::Transfer { step: "ky".into() }),
        (at(1800), Command::CompleteStep { step: "ky".into() }),
        (at(1810), Command::Finish { decision: Decision::Approved, reason: None, result: None }),
        (at(1900), Command::ReturnResult { delivery: None }),
    ]
}

fn lifecycle(c: &mut Criterion) {
    let cal = WorkCalendar::builder().years(2020, 2031).build().unwrap();
    let procedure = procedure();
    let ctx = Context::new(&procedure, &cal);
    let scripts: Vec<_> = mix(DOSSIERS, 61).into_iter().map(|(t, _)| script(t)).collect();
    let logs: Vec<Vec<Event>> = scripts
        .iter()
        .map(|s| {
            let mut d = Dossier::new();
            let mut log = Vec::new();
            for (t, cmd) in s {
                for e in decide(&d, cmd, *t, &ctx).unwrap() {
                    apply(&mut d, &e);
                    log.push(e);
                }
            }
            assert_eq!(log.len() as u64, EVENTS_PER_DOSSIER);
            log
        })
        .collect();

    let mut g = c.benchmark_group("core");
    g.throughput(Throughput::Elements(DOSSIERS as u64 * EVENTS_PER_DOSSIER));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("decide_apply", |b| {
        b.iter(|| {
            for s in &scripts {
                let mut d = Dossier::new();
                for (t, cmd) in s {
                    for e in decide(&d, cmd, *t, &ctx).unwrap() {
                        apply(&mut d, &e);
                    }
                }
                black_box(&d);
            }
        })
    });
    g.bench_function("replay_apply_only", |b| {
        b.iter(|| {
            for log in &logs {
                black_box(Dossier::replay(log));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, lifecycle);
criterion_main!(benches);
