//! Due-time computation and working-time-between, table-driven vs. the day-walking reference,
//! on the same realistic mix of receipts and limits over 2020–2030.
//!
//! Run: `cargo bench -p motcua-benches --bench calendar`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use motcua_benches::{mix, mix_of, LONG_LIMIT_MIX};
use motcua_calendar::reference::ReferenceCalendar;
use motcua_calendar::WorkCalendar;

const N: usize = 10_000;

fn due(c: &mut Criterion) {
    due_group(c, "due", &mix(N, 2025));
    due_group(c, "due_long_limits", &mix_of(N, 2025, &LONG_LIMIT_MIX));
}

fn due_group(c: &mut Criterion, name: &str, inputs: &[(motcua_calendar::Timestamp, motcua_calendar::Limit)]) {
    let cal = WorkCalendar::builder().years(2020, 2031).build().unwrap();
    let reference = ReferenceCalendar::new(&cal);
    let cutoff = cal.office_hours().cutoff;
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(N as u64));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("table", |b| {
        b.iter(|| {
            for &(t, l) in inputs {
                black_box(cal.appointment(black_box(t), l).unwrap());
            }
        })
    });
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| {
            for &(t, l) in inputs {
                black_box(reference.appointment(black_box(t), l, cutoff).unwrap());
            }
        })
    });
    g.finish();
}

fn between(c: &mut Criterion) {
    let cal = WorkCalendar::builder().years(2020, 2031).build().unwrap();
    let reference = ReferenceCalendar::new(&cal);
    let inputs = mix(N, 766);
    // Pairs (receipt, receipt + 0..60 days): how long a dossier has been open.
    let pairs: Vec<_> =
        inputs.iter().enumerate().map(|(i, &(t, _))| (t, t.plus_minutes(((i * 7919) % (60 * 1440)) as i64))).collect();
    let mut g = c.benchmark_group("between");
    g.throughput(Throughput::Elements(N as u64));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("table", |b| {
        b.iter(|| {
            for &(a, z) in &pairs {
                black_box(cal.working_minutes_between(black_box(a), z).unwrap());
            }
        })
    });
    g.sample_size(10);
    g.bench_function("reference", |b| {
        b.iter(|| {
            for &(a, z) in &pairs {
                black_box(reference.working_minutes_between(black_box(a), z).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, due, between);
criterion_main!(benches);
