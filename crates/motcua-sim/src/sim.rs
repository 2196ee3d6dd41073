//! The deterministic province-year simulator.
//!
//! For a seed it plans a year of dossiers over the catalog's procedures (by the profile's
//! shares) and a synthetic long tail, then drives every dossier through the **engine's public
//! API** with the calendar's real due times. The simulator never writes an outcome: it reads
//! the due time the engine computed and plans the finishing instant before it (early or on
//! time) or after it (late); the engine judges. The profile's totals come out exactly:
//! - `received`: every planned dossier is received;
//! - `online`: exactly that many, chosen by a seeded shuffle;
//! - `resolved`: the dossiers received last in the year stay open at year end;
//! - `early_or_on_time`: exactly `resolved − early_or_on_time` dossiers finish late.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_catalog::Catalog;
use motcua_core::{
    AgencyCode, Applicant, ApplicantKind, Channel, Command, Decision, DossierCode, Identifier, IdentityKey, Level,
    PaymentChannel, Procedure, ProcedureCode,
};
use motcua_engine::{deliver, Engine, EngineError, PortalClient, PortalError, Request, Store, SyncMessage};

use crate::profile::Profile;
use crate::routing::Routing;

/// A small deterministic generator (SplitMix64), so a seed gives the same year every time.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6D6F_7463_7561_2121)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The engine refused a planned command (a bug in the plan, reported with its dossier).
    #[error("dossier {dossier}: {source}")]
    Engine {
        /// The dossier.
        dossier: DossierCode,
        /// The engine's error.
        source: Box<EngineError>,
    },
    /// The calendar cannot cover the profile's year.
    #[error("calendar: {0}")]
    Calendar(#[from] motcua_calendar::CalendarError),
    /// Nothing to simulate with.
    #[error("{0}")]
    Invalid(String),
    /// The store failed outside a command (outbox delivery, counting).
    #[error("store: {0}")]
    Store(#[from] motcua_engine::StoreError),
}

/// What the simulated year produced, as the engine counted it.
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct SimReport {
    /// Dossiers received.
    pub received: u64,
    /// … online.
    pub online: u64,
    /// Dossiers resolved in the year.
    pub resolved: u64,
    /// … early or on time.
    pub early_or_on_time: u64,
    /// Online services offered (the profile's `services.online`).
    pub services_offered: u64,
    /// … of which received at least one online dossier in the simulated year.
    pub services_with_online_dossiers: u64,
    /// Events written.
    pub events: u64,
    /// Status messages the simulated sync worker delivered to the in-process portal (0 unless
    /// [`SimOptions::sync`]).
    pub synced: u64,
    /// Status messages still in the outbox at the end.
    pub outbox_pending: u64,
    /// Wall-clock seconds spent in the engine.
    pub seconds: f64,
}

impl SimReport {
    /// Events per second.
    pub fn events_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.events as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Early-or-on-time share of resolved, percent, two decimals.
    pub fn early_or_on_time_pct(&self) -> f64 {
        crate::Totals {
            received: self.received,
            online: self.online,
            resolved: self.resolved,
            early_or_on_time: self.early_or_on_time,
        }
        .early_or_on_time_pct()
    }

    /// Share of the online services offered that received an online dossier, percent, two
    /// decimals (0 when none are offered).
    pub fn services_with_online_dossiers_pct(&self) -> f64 {
        if self.services_offered == 0 {
            return 0.0;
        }
        (self.services_with_online_dossiers as f64 * 10_000.0 / self.services_offered as f64).round() / 100.0
    }
}

/// Dossiers planned and written per chunk (three group commits each).
pub const CHUNK: usize = 5_000;

/// How a simulation runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SimOptions {
    /// The seed: the same seed gives the same year.
    pub seed: u64,
    /// Commands per store transaction (group commit).
    pub batch: usize,
    /// Run the national-portal sync worker after every chunk: it delivers every status message
    /// written so far to an in-process portal that acknowledges all, so delivered messages
    /// leave the outbox (as in a portal whose sync keeps up). Off, the year's messages all
    /// stay pending.
    pub sync: bool,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions { seed: 1, batch: 10_000, sync: false }
    }
}

/// The simulated national portal: acknowledges every message and counts them (a real portal
/// deduplicates by id; this one never sees a message twice, as nothing fails).
#[derive(Default)]
struct CountingPortal {
    received: u64,
}

impl PortalClient for CountingPortal {
    fn send(&mut self, _message: &SyncMessage, _now: Timestamp) -> Result<(), PortalError> {
        self.received += 1;
        Ok(())
    }
}

/// What the engine is given for a simulation: the planned procedures ([`procedures`]) and
/// every other version of the catalog's among them.
pub fn every_version(procs: &[Procedure], catalog: &Catalog) -> Vec<Procedure> {
    let mut out = procs.to_vec();
    for p in procs {
        for v in catalog.versions(&p.code) {
            if !out.iter().any(|o| o.code == v.code && o.effective_from == v.effective_from) {
                out.push(v.clone());
            }
        }
    }
    out
}

/// Messages the sync worker takes per delivery round.
const SYNC_ROUND: usize = 20_000;

/// Limits of the synthetic long-tail procedures (working days), cycled.
const LONG_TAIL_LIMITS: [u32; 6] = [3, 5, 7, 10, 15, 20];

/// The procedures a simulation plans with: the profile's catalog procedures (each the version in
/// force on the year's first day, else its latest) and the long tail. The engine is given
/// [`every_version`] of them, so a dossier received after a new version starts follows it.
pub fn procedures(profile: &Profile, catalog: &Catalog) -> Vec<Procedure> {
    let first_day = chrono::NaiveDate::from_ymd_opt(profile.year, 1, 1);
    let mut out: Vec<Procedure> = profile
        .procedures
        .iter()
        .filter_map(|s| first_day.and_then(|d| catalog.get_on(&s.code, d)).or_else(|| catalog.get(&s.code)).cloned())
        .collect();
    // Integrated with the national portal: the catalog's own flags, then the long tail's first
    // ones up to the profile's count; the rest of the tail (its least used services) not
    // [assumption: the seed gives the count, not which services].
    let catalog_integrated = out.iter().filter(|p| p.integrated).count() as u64;
    let tail_integrated = profile.services.integrated.saturating_sub(catalog_integrated);
    for i in 0..profile.behaviour.long_tail_procedures.max(1) {
        let code: ProcedureCode = match format!("9.{:06}", 800_000 + i % 199_999).parse() {
            Ok(c) => c,
            Err(_) => continue,
        };
        let days = LONG_TAIL_LIMITS[(i % LONG_TAIL_LIMITS.len() as u64) as usize];
        let mut p = Procedure::simple(code, "Thủ tục tổng hợp (đuôi dài)", Limit::working_days(days));
        p.sector = "Khác".into();
        // Half the long tail provincial, half communal [assumption: the seed gives no split].
        if i % 2 == 0 {
            p.level = Level::Province;
        }
        p.integrated = i < tail_integrated;
        // A fee on one in three, payable online on one in six [assumption: the seed gives no
        // split].
        if i % 3 == 0 {
            p.fees = vec![motcua_core::Fee::fixed("Lệ phí", motcua_core::Vnd::from_dong(50_000))];
            p.online_payment = i % 6 == 0;
        }
        // One declaration form each [assumption: synthetic procedures list no documents].
        p.documents = vec![motcua_core::Document {
            name: "Tờ khai".into(),
            required: true,
            copy: Some(motcua_core::CopyKind::Original),
            accepts: None,
            digitisation_exempt: None,
            code: None,
        }];
        out.push(p);
    }
    out
}

/// A result the simulated year issued: whose, its number, when, until when.
struct Held {
    person: u64,
    number: String,
    finish: Timestamp,
    valid_until: Option<chrono::NaiveDate>,
}

/// A new dossier whose procedure accepts a result in place of a document reuses one, half the
/// time, when the warehouse holds one issued before its receipt and still in force that day:
/// the dossier's applicant is then that result's holder, and the document is `Reused`
/// [assumption: the seeds give no share; a certificate of marital status, say, is reused by
/// its holder's marriage registration]. Results out of force by then are dropped.
fn reuse(
    warehouse: &mut HashMap<String, VecDeque<Held>>,
    procedure: &Procedure,
    received: Timestamp,
    rng: &mut Rng,
    person: &mut u64,
    documents: &mut [motcua_core::SubmittedDocument],
) {
    for component in &procedure.documents {
        let Some(kind) = component.accepts.as_ref() else { continue };
        let Some(queue) = warehouse.get_mut(kind) else { continue };
        let day = received.local_date();
        while queue.front().is_some_and(|h| h.valid_until.is_some_and(|v| v < day)) {
            queue.pop_front();
        }
        if rng.below(2) != 0 || queue.front().is_none_or(|h| h.finish >= received) {
            continue;
        }
        let Some(held) = queue.pop_front() else { continue };
        *person = held.person;
        if let Some(d) = documents.iter_mut().find(|d| d.component == component.name) {
            d.form = motcua_core::DocumentForm::Reused { result: held.number };
        }
        return;
    }
}

/// The feedback (phản ánh, kiến nghị) one finished dossier may draw, pushed as commands after
/// `finish`: about one dossier in five finished late and one in a thousand of the others; one
/// in ten rejected the next day (not classified), else classified as filed, answered within
/// 1-14 calendar days (one in twenty after 30), published the next day and rated by one applicant in three, one in five of
/// them unsatisfied [assumption: the seeds give no figure for feedback].
fn feedback(rng: &mut Rng, late: bool, finish: Timestamp, push: &mut dyn FnMut(Command, Timestamp)) {
    use motcua_core::{FeedbackEnd, FeedbackTopic};
    if rng.below(if late { 5 } else { 1000 }) != 0 {
        return;
    }
    const DAY: i64 = 24 * 60;
    let filed = finish.plus_minutes(60);
    let subject = "Phản ánh về việc giải quyết hồ sơ".to_string();
    let topic = [FeedbackTopic::Regulation, FeedbackTopic::Procedure, FeedbackTopic::Conduct][rng.below(3) as usize];
    if rng.below(10) == 0 {
        push(Command::FileFeedback { subject, topic: None, follows: None }, filed);
        let text = "Không thuộc phạm vi phản ánh, kiến nghị".to_string();
        let answer = Command::AnswerFeedback { feedback: 1, end: FeedbackEnd::Rejected, text, topic: None };
        push(answer, filed.plus_minutes(DAY));
        return;
    }
    push(Command::FileFeedback { subject, topic: Some(topic), follows: None }, filed);
    let days = if rng.below(20) == 0 { 30 } else { 1 + rng.below(14) as i64 };
    let answered = filed.plus_minutes(days * DAY);
    let text = "Đã xem xét và trả lời".to_string();
    push(Command::AnswerFeedback { feedback: 1, end: FeedbackEnd::Answered, text, topic: None }, answered);
    push(Command::PublishFeedback { feedback: 1 }, answered.plus_minutes(DAY));
    if rng.below(3) == 0 {
        let satisfied = rng.below(5) != 0;
        push(Command::RateFeedback { feedback: 1, satisfied }, answered.plus_minutes(2 * DAY));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Open,
    OnTime,
    Late,
    Withdrawn,
}

struct Plan {
    received: Timestamp,
    procedure: usize,
    channel: Channel,
    fate: Fate,
    supplement: bool,
    /// Asked for a supplement a second time (with `supplement`).
    repeat_supplement: bool,
    /// Where it is received ([`Routing`]).
    receiver: u32,
}

/// Makes exactly [`Profile::services_with_online_dossiers`] services receive online dossiers
/// (the province report: "33.25 % of online services had any dossier"). The catalog's procedures that offer
/// an online service all do;
/// online dossiers that fell in the long tail go to its first `k` procedures, the earliest
/// `k` of them one each (so every such service has a dossier from January, and the share holds
/// for the first half as for the year), the rest skewed as before. Offline dossiers keep their
/// pick over the whole tail: a service may be offered online and used on paper.
fn calibrate_online_services(
    profile: &Profile,
    procs: usize,
    online: &[bool],
    chosen: &mut [usize],
    rng: &mut Rng,
) -> Result<(), SimError> {
    let Some(target) = profile.services_with_online_dossiers() else { return Ok(()) };
    let catalog = profile.procedures.len();
    // The catalog's procedures that have online dossiers (one offering no online service has
    // none).
    let mut catalog_used = vec![false; catalog];
    for (i, &c) in chosen.iter().enumerate() {
        if online[i] && c < catalog {
            catalog_used[c] = true;
        }
    }
    let catalog_online = catalog_used.iter().filter(|&&u| u).count();
    let k = (target as usize).saturating_sub(catalog_online).min(procs.saturating_sub(catalog));
    if k == 0 {
        return Ok(());
    }
    let mut next = 0;
    for (i, c) in chosen.iter_mut().enumerate() {
        if online[i] && *c >= catalog {
            *c = catalog
                + if next < k {
                    next += 1;
                    next - 1
                } else {
                    let u = rng.unit();
                    ((u * u) * k as f64) as usize % k
                };
        }
    }
    if next < k {
        return Err(SimError::Invalid(format!(
            "services.with_dossiers_pct: {k} long-tail services need an online dossier each, but only {next} \
             online dossiers fall in the long tail (raise dossiers.online or lower the catalog shares)"
        )));
    }
    Ok(())
}

/// 31 December of `year`, 23:00 local: the last instant the simulator schedules a finish at.
fn year_end_instant(year: i32) -> Timestamp {
    Timestamp::from_local(chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(chrono::NaiveDate::MAX), 23 * 60)
}

/// The sector whose online share the profile gives on its own (the seed: 2.06 % in the first
/// half of 2023, where most land procedures were done on paper).
pub const LAND_SECTOR: &str = "Đất đai";

/// The count `k` of `total` whose share, rounded to two decimals, is `pct` (the way reports
/// print it), the nearest to `pct`'s own count; `None` when no count of `total` prints so.
fn exact_count(pct: f64, total: u64) -> Option<u64> {
    let want = (pct * 100.0).round() as i64;
    let around = (pct / 100.0 * total as f64).round() as i64;
    [0, -1, 1, -2, 2].into_iter().map(|d| around + d).filter(|&k| k >= 0 && k as u64 <= total).find_map(|k| {
        let printed = if total == 0 { 0 } else { (k as f64 * 10_000.0 / total as f64).round() as i64 };
        (printed == want).then_some(k as u64)
    })
}

/// Each dossier's half-year (0 or 1), channel and procedure, before its arrival time: the year's
/// online count exactly, the first half's online share exactly (the profile's
/// `first_half.online_pct`), online dossiers only on procedures that offer an online service,
/// and the land sector's online share exactly (`first_half.land_online_pct`, assumed for the
/// second half too) — each "exactly" as a report prints it, to two decimals. The halves split
/// the dossiers by the calendar's arrival weights.
fn plan_channels(
    profile: &Profile,
    procs: &[Procedure],
    days: &ArrivalDays,
    n: u64,
    rng: &mut Rng,
    mut pick_procedure: impl FnMut(&mut Rng) -> usize,
) -> Result<Vec<(u8, bool, usize)>, SimError> {
    let online_total = profile.dossiers.online;
    let online_share = if n > 0 { online_total as f64 / n as f64 } else { 0.0 };
    let first_half_weight =
        online_share * days.first_half_share(true) + (1.0 - online_share) * days.first_half_share(false);
    // The first half's count: by the arrival weights, moved by the least that lets its online
    // share print exactly (a small year cannot hit every share otherwise).
    let weighted = ((n as f64 * first_half_weight).round() as u64).min(n);
    let n1 = (0..=200u64)
        .flat_map(|d| [weighted.saturating_add(d), weighted.saturating_sub(d)])
        .filter(|&m| m <= n)
        .find(|&m| exact_count(profile.first_half_online_pct, m).is_some_and(|k| k <= online_total))
        .unwrap_or(weighted);
    let mut plan: Vec<(u8, bool, usize)> = (0..n).map(|i| (u8::from(i >= n1), false, pick_procedure(rng))).collect();
    let land = |p: usize| procs.get(p).is_some_and(|x| x.sector == LAND_SECTOR);
    let offline_only = |p: usize| procs.get(p).is_some_and(|x| x.online == motcua_core::OnlineLevel::None);
    let land_pct = profile.first_half_land_online_pct;
    // The first half's land count must be one whose share can print as the profile's: move a
    // land dossier into the first half (a non-land one out) until it does.
    for _ in 0..100 {
        let l1 = plan.iter().filter(|d| d.0 == 0 && land(d.2)).count() as u64;
        if l1 == 0 || exact_count(land_pct, l1).is_some() {
            break;
        }
        let into = plan.iter().position(|d| d.0 == 1 && land(d.2));
        let out = plan.iter().position(|d| d.0 == 0 && !land(d.2) && !offline_only(d.2));
        match (into, out) {
            (Some(a), Some(b)) => {
                plan[a].0 = 0;
                plan[b].0 = 1;
            }
            _ => break,
        }
    }
    let o1 = exact_count(profile.first_half_online_pct, n1)
        .unwrap_or_else(|| (profile.first_half_online_pct / 100.0 * n1 as f64).round() as u64);
    let o1 = o1.min(online_total);
    for (half, quota) in [(0u8, o1), (1u8, online_total - o1)] {
        let mut land_idx = Vec::new();
        let mut other_idx = Vec::new();
        for (i, d) in plan.iter().enumerate().filter(|(_, d)| d.0 == half) {
            if land(d.2) {
                land_idx.push(i);
            } else if !offline_only(d.2) {
                other_idx.push(i);
            }
        }
        let l = land_idx.len() as u64;
        let land_online =
            exact_count(land_pct, l).unwrap_or_else(|| (land_pct / 100.0 * l as f64).round() as u64).min(quota);
        let rest = quota - land_online;
        if rest > other_idx.len() as u64 {
            return Err(SimError::Invalid(format!(
                "dossiers.online: half {} needs {rest} online dossiers beyond land, but only {} of its dossiers \
                 are of procedures offering an online service",
                half + 1,
                other_idx.len()
            )));
        }
        for (idx, k) in [(&mut land_idx, land_online), (&mut other_idx, rest)] {
            for i in 0..k as usize {
                let j = i + rng.below((idx.len() - i) as u64) as usize;
                idx.swap(i, j);
                plan[idx[i]].1 = true;
            }
        }
    }
    Ok(plan)
}

/// Working days of `year` in the calendar, weighted: the four weeks before Tết carry twice the
/// load (people settle paperwork before the holiday).
/// Arrival weights per day of `year`, for counter (direct) and online dossiers. Counters open
/// on working days only; online submissions also come on weekends and holidays (about a third
/// of a working day's). Mondays are busier and Fridays quieter; the four weeks before Tết
/// twice as busy (people settle papers before the holiday).
fn arrival_days(calendar: &WorkCalendar, year: i32) -> Result<ArrivalDays, SimError> {
    let tet = motcua_calendar::lunar::tet(year)?;
    let mut days = ArrivalDays {
        direct_hours: hours(&DIRECT_HOURS),
        online_hours: hours(&ONLINE_HOURS),
        ..ArrivalDays::default()
    };
    for day in calendar.year_days(year)? {
        let before_tet = (tet - day.date).num_days();
        let season = if (1..=28).contains(&before_tet) { 2 } else { 1 };
        let half = usize::from(chrono::Datelike::month(&day.date) > 6);
        if day.working {
            let weekday = match chrono::Datelike::weekday(&day.date) {
                chrono::Weekday::Mon => 12,
                chrono::Weekday::Fri => 9,
                _ => 10,
            };
            days.direct[half].push(day.date, weekday * season);
            days.online[half].push(day.date, weekday * season);
        } else {
            days.online[half].push(day.date, 3 * season);
        }
    }
    Ok(days)
}

/// Days with cumulative weights, for picking by weight with a binary search.
#[derive(Default)]
struct Weighted<T> {
    items: Vec<T>,
    cumulative: Vec<u64>,
}

impl<T: Copy> Weighted<T> {
    fn push(&mut self, item: T, weight: u32) {
        let total = self.cumulative.last().copied().unwrap_or(0) + u64::from(weight);
        self.items.push(item);
        self.cumulative.push(total);
    }

    fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    fn pick(&self, rng: &mut Rng) -> Option<T> {
        let total = *self.cumulative.last()?;
        let x = rng.below(total);
        let i = self.cumulative.partition_point(|&c| c <= x);
        self.items.get(i).copied()
    }
}

#[derive(Default)]
struct ArrivalDays {
    /// Counter days, by half-year (January–June, July–December).
    direct: [Weighted<chrono::NaiveDate>; 2],
    /// Online days, by half-year.
    online: [Weighted<chrono::NaiveDate>; 2],
    direct_hours: Weighted<(u16, u16)>,
    online_hours: Weighted<(u16, u16)>,
}

impl ArrivalDays {
    fn pool(&self, online: bool, half: u8) -> &Weighted<chrono::NaiveDate> {
        let pools = if online { &self.online } else { &self.direct };
        &pools[usize::from(half.min(1))]
    }

    /// The first half's share of a channel's arrival weight.
    fn first_half_share(&self, online: bool) -> f64 {
        let pools = if online { &self.online } else { &self.direct };
        let (a, b) = (pools[0].total(), pools[1].total());
        if a + b == 0 {
            0.5
        } else {
            a as f64 / (a + b) as f64
        }
    }
}

/// When in the day dossiers arrive (local minutes, from–to, weight). At the counter: office
/// sessions (07:00–11:30, 13:30–17:00, docs/rules.md §3) with a mid-morning peak and fewer after
/// the 15:00 cut-off. Online: any hour, mostly office hours, a good share in the evening.
const DIRECT_HOURS: [(u16, u16, u32); 5] = [(420, 480, 2), (480, 630, 6), (630, 690, 2), (810, 900, 4), (900, 1020, 2)];
const ONLINE_HOURS: [(u16, u16, u32); 6] =
    [(0, 360, 1), (360, 420, 1), (420, 690, 8), (690, 810, 3), (810, 1020, 7), (1020, 1440, 5)];

/// The shape as weighted (from, to) ranges of minutes.
fn hours(shape: &[(u16, u16, u32)]) -> Weighted<(u16, u16)> {
    let mut w = Weighted::default();
    for &(from, to, weight) in shape {
        w.push((from, to), weight);
    }
    w
}

/// A minute of the day: a range by weight, then a minute in it.
fn minute_of_day(rng: &mut Rng, hours: &Weighted<(u16, u16)>) -> u16 {
    match hours.pick(rng) {
        Some((from, to)) => from + rng.below(u64::from(to - from)) as u16,
        None => 480,
    }
}

/// Runs a year: plans it from `profile` with `seed` and drives it through `engine`, `batch`
/// commands per store transaction. The engine must know [`procedures`]`(profile, catalog)`.
pub fn simulate<S: Store>(
    engine: &mut Engine<S>,
    profile: &Profile,
    procs: &[Procedure],
    options: &SimOptions,
) -> Result<SimReport, SimError> {
    simulate_with_progress(engine, profile, procs, options, &mut |_, _| {})
}

/// [`simulate`], calling `progress(dossiers done, dossiers in all)` after each chunk (the CLI
/// draws a progress bar with it; the library prints nothing).
pub fn simulate_with_progress<S: Store>(
    engine: &mut Engine<S>,
    profile: &Profile,
    procs: &[Procedure],
    options: &SimOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimReport, SimError> {
    let plan = plan_year(profile, procs, engine.calendar(), options.seed)?;
    simulate_planned(engine, profile, procs, plan, options, progress)
}

/// A year calibrated to its profile, before anything is stored: each dossier's receipt
/// instant, channel, procedure and fate, hitting the profile's figures exactly. Planning is
/// where a profile's figures can turn out impossible together (more online dossiers than
/// procedures offering online services, more late dossiers than the year can hold…), so
/// `motcua check` plans a profile's year too, and `simulate` plans before it opens a store.
pub struct YearPlan {
    receipts: Vec<Timestamp>,
    online: Vec<bool>,
    chosen: Vec<usize>,
    fates: Vec<Fate>,
    services_with_online_dossiers: u64,
    rng: Rng,
}

impl std::fmt::Debug for YearPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YearPlan").field("dossiers", &self.receipts.len()).finish_non_exhaustive()
    }
}

/// Plans `profile`'s year over `procs` ([`procedures`]) on `calendar` with `seed` (the
/// simulation's seed: planning draws the first of its random numbers). Pure: no store.
pub fn plan_year(
    profile: &Profile,
    procs: &[Procedure],
    calendar: &WorkCalendar,
    seed: u64,
) -> Result<YearPlan, SimError> {
    let n = profile.dossiers.received;
    if n == 0 || procs.is_empty() {
        return Err(SimError::Invalid("nothing to simulate: no dossiers or no procedures".into()));
    }
    let year = profile.year;
    let mut rng = Rng::new(seed);

    // Procedures by share; what the catalog shares leave goes to the long tail.
    let tail = procs.len().saturating_sub(profile.procedures.len()).max(1);
    let pick_procedure = |rng: &mut Rng| -> usize {
        let x = rng.unit() * 100.0;
        let mut acc = 0.0;
        for (i, s) in profile.procedures.iter().enumerate() {
            acc += s.share_pct;
            if x < acc {
                return procs.iter().position(|p| p.code == s.code).unwrap_or(i);
            }
        }
        // Long tail: a skewed pick (squared uniform) so a few procedures get most dossiers.
        let u = rng.unit();
        profile.procedures.len() + ((u * u) * tail as f64) as usize % tail
    };
    let days = arrival_days(calendar, year)?;
    let plan = plan_channels(profile, procs, &days, n, &mut rng, pick_procedure)?;

    // Arrivals by channel and half: a day by weight within the half, a minute by the channel's
    // daily shape; then the year in receipt order.
    let mut arrivals: Vec<(Timestamp, bool, usize)> = plan
        .iter()
        .map(|&(half, is_online, procedure)| {
            let pool = days.pool(is_online, half);
            let hours = if is_online { &days.online_hours } else { &days.direct_hours };
            let date =
                pool.pick(&mut rng).unwrap_or_else(|| chrono::NaiveDate::from_yo_opt(year, 2).unwrap_or_default());
            (Timestamp::from_local(date, minute_of_day(&mut rng, hours)), is_online, procedure)
        })
        .collect();
    drop(plan);
    arrivals.sort_unstable();
    let receipts: Vec<Timestamp> = arrivals.iter().map(|a| a.0).collect();
    let online: Vec<bool> = arrivals.iter().map(|a| a.1).collect();
    let mut chosen: Vec<usize> = arrivals.iter().map(|a| a.2).collect();
    drop(arrivals);

    calibrate_online_services(profile, procs.len(), &online, &mut chosen, &mut rng)?;
    let services_with_online_dossiers = {
        let mut used = vec![false; procs.len()];
        for (i, &p) in chosen.iter().enumerate() {
            if online[i] {
                if let Some(u) = used.get_mut(p) {
                    *u = true;
                }
            }
        }
        used.iter().filter(|&&u| u).count() as u64
    };

    // Fates: the last received stay open; `late` among the rest, chosen at random among those
    // whose latest possible due time (after a supplement restart: the clock start may move past
    // a cut-off and a weekend, the supplement comes at most two days later — five days bound
    // it, per the real calendar) still leaves two days before the year ends.
    let resolved = profile.dossiers.resolved as usize;
    let late = (profile.dossiers.resolved - profile.dossiers.early_or_on_time) as usize;
    let mut fates = vec![Fate::OnTime; n as usize];
    for f in fates.iter_mut().skip(resolved) {
        *f = Fate::Open;
    }
    let latest_late_due = year_end_instant(year).plus_minutes(-2 * 1440);
    let mut late_left = late;
    let mut candidates: Vec<usize> = (0..resolved).collect();
    for i in (1..candidates.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        candidates.swap(i, j);
    }
    for &i in &candidates {
        if late_left == 0 {
            break;
        }
        let restart = receipts[i].plus_minutes(5 * 1440);
        // The longest of the procedure's limits (a channel may have its own).
        let worst_due = procs[chosen[i]]
            .limits()
            .map(|l| calendar.appointment(restart, l).ok().and_then(|a| a.due))
            .max()
            .flatten();
        if worst_due.is_some_and(|d| d <= latest_late_due) {
            fates[i] = Fate::Late;
            late_left -= 1;
        }
    }
    if late_left > 0 {
        return Err(SimError::Invalid(format!(
            "dossiers.early_or_on_time: {late} resolved dossiers late, but only {} of them can fall due early \
             enough to be late inside the year",
            late - late_left
        )));
    }
    for f in fates.iter_mut() {
        if *f == Fate::OnTime && rng.unit() * 100.0 < profile.behaviour.withdrawal_pct {
            *f = Fate::Withdrawn;
        }
    }

    drop(candidates);
    Ok(YearPlan { receipts, online, chosen, fates, services_with_online_dossiers, rng })
}

/// Drives a planned year ([`plan_year`]) through `engine`: [`simulate_with_progress`] after
/// its planning.
pub fn simulate_planned<S: Store>(
    engine: &mut Engine<S>,
    profile: &Profile,
    procs: &[Procedure],
    plan: YearPlan,
    options: &SimOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimReport, SimError> {
    let SimOptions { seed, batch, sync } = *options;
    let YearPlan { receipts, online, chosen, fates, services_with_online_dossiers, mut rng } = plan;
    let n = receipts.len() as u64;
    let late = (profile.dossiers.resolved - profile.dossiers.early_or_on_time) as usize;
    let calendar = engine.calendar().clone();
    let year = profile.year;
    // Feedback draws from its own stream, so the rest of the year is the same with or without it.
    let mut feedback_rng = Rng::new(seed ^ 0x5041_4B4E);
    // The services the year is handled under, for reports (3.1, 3.2, integration).
    engine.publish_services()?;
    let identity =
        IdentityKey::new(SIM_IDENTITY_KEY).map_err(|e| SimError::Invalid(format!("the simulator's key: {e}")))?;

    let agency: AgencyCode = profile.agency.parse().map_err(|e| SimError::Invalid(format!("agency: {e}")))?;
    let mut routing = Routing::new(agency, engine.units().cloned(), year)?;
    let plans: Vec<Plan> = (0..n as usize)
        .map(|i| Plan {
            received: receipts[i],
            procedure: chosen[i],
            channel: if online[i] { Channel::Online } else { Channel::Direct },
            fate: fates[i],
            supplement: rng.unit() * 100.0 < profile.behaviour.supplement_pct,
            repeat_supplement: rng.unit() * 100.0 < profile.behaviour.repeat_supplement_pct,
            receiver: routing.pick(&procs[chosen[i]], &mut rng),
        })
        .collect();
    // The plan is all the drive needs: free the planning arrays (≈ 1.3 GB for a national year).
    drop((receipts, online, chosen, fates));

    let year_end = year_end_instant(year);

    // Dossier codes: per agency per day, in receipt order (made chunk by chunk as the year is
    // driven: a national year's fifty million codes are never held at once).
    let agencies = routing.agencies();
    let mut sequence: std::collections::HashMap<(u32, chrono::NaiveDate), u64> = std::collections::HashMap::new();
    let mut code_of = |p: &Plan| {
        let date = p.received.local_date();
        let seq = sequence.entry((p.receiver, date)).or_insert(0);
        *seq += 1;
        DossierCode::new(agencies[p.receiver as usize].clone(), date, *seq)
    };

    let started = Instant::now();
    let mut events = 0u64;
    let mut portal = CountingPortal::default();
    // The latest instant written so far: the sync worker runs "then".
    let latest = std::cell::Cell::new(Timestamp::from_utc_minutes(i64::MIN / 2));
    let mut req = |code: &DossierCode, plan: &Plan, command: Command, now: Timestamp| {
        let actor = routing.actor(plan.receiver, &procs[plan.procedure], &command, now);
        Request::new(code.clone(), command, actor, now)
    };
    let mut flush = |engine: &mut Engine<S>, pending: &mut Vec<Request>| -> Result<(), SimError> {
        if let Some(t) = pending.iter().map(|r| r.now).max() {
            latest.set(latest.get().max(t));
        }
        for part in pending.chunks(batch.max(1)) {
            for (r, result) in part.iter().zip(engine.handle_batch(part)) {
                let out = result
                    .map_err(|source| SimError::Engine { dossier: r.dossier.clone(), source: Box::new(source) })?;
                events += out.events.len() as u64;
            }
        }
        pending.clear();
        Ok(())
    };
    // What the plan reads of a dossier the engine holds: its clock start and due time.
    let times_of =
        |engine: &mut Engine<S>, code: &DossierCode| -> Result<(Option<Timestamp>, Option<Timestamp>), SimError> {
            let state = engine
                .dossier_ref(code)
                .map_err(|source| SimError::Engine { dossier: code.clone(), source: Box::new(source) })?;
            Ok(state.map_or((None, None), |s| (s.clock_start, s.due)))
        };
    // Each procedure's steps in order, once.
    let orders: Vec<Vec<usize>> = procs.iter().map(|p| p.topological_order().unwrap_or_default()).collect();

    // Chunks of the year in receipt order, each written in three group commits: receipts;
    // supplements; steps and finishes. Between them the plan reads the due times the engine
    // computed.
    // Extensions: `extension_pct` of all dossiers, all among the late ones.
    let extension_share =
        if late > 0 { (profile.behaviour.extension_pct / 100.0 * n as f64 / late as f64).min(1.0) } else { 0.0 };
    let mut pending: Vec<Request> = Vec::new();
    // The results issued so far, by kind, for later dossiers of the same applicants to reuse.
    let mut warehouse: HashMap<String, VecDeque<Held>> = HashMap::new();
    let mut issued: Vec<(String, Held)> = Vec::new();
    let mut who: Vec<u64> = Vec::with_capacity(CHUNK);
    let mut reuse_rng = Rng::new(seed ^ 0x0052_4555_5345);
    let mut done = 0u64;
    let mut chunk_codes: Vec<DossierCode> = Vec::with_capacity(CHUNK.min(plans.len()));
    for chunk_plans in plans.chunks(CHUNK) {
        chunk_codes.clear();
        chunk_codes.extend(chunk_plans.iter().map(&mut code_of));
        let chunk_codes = &chunk_codes[..];
        who.clear();
        for (k, (plan, code)) in chunk_plans.iter().zip(chunk_codes).enumerate() {
            let procedure = &procs[plan.procedure];
            let mut person = done + k as u64;
            let mut docs = documents(procedure, plan.channel, &mut rng);
            reuse(&mut warehouse, procedure, plan.received, &mut reuse_rng, &mut person, &mut docs);
            who.push(person);
            pending.push(req(
                code,
                plan,
                Command::Receive {
                    // A procedure whose limit depends on the case: the cases in turn [assumption].
                    case: (procedure.case_required && !procedure.cases.is_empty())
                        .then(|| procedure.cases[(person % procedure.cases.len() as u64) as usize].id.as_str().into()),
                    procedure: procedure.code.clone(),
                    channel: plan.channel,
                    jurisdiction: None,
                    applicant: applicant(&identity, seed, person, procedure, plan.channel),
                    documents: docs,
                },
                plan.received,
            ));
        }
        flush(engine, &mut pending)?;
        let mut nows = Vec::with_capacity(chunk_plans.len());
        for (plan, code) in chunk_plans.iter().zip(chunk_codes) {
            let (clock_start, _) = times_of(engine, code)?;
            let mut now = plan.received.max(clock_start.unwrap_or(plan.received));
            // Fees at intake, as the schedule assesses them, paid online through the national
            // platform where the service takes online payment (seven in ten), at the counter
            // otherwise [assumption].
            let procedure = &procs[plan.procedure];
            // Assessed first by the schedule (one unit, the online amount for an online dossier).
            // A stage with a fee the province has not priced is not assessed at all.
            let intake = || procedure.fees.iter().filter(|f| f.stage == motcua_core::FeeStage::Intake);
            let due = if intake().any(|f| f.unpriced) {
                motcua_core::Vnd::ZERO
            } else {
                intake()
                    .filter_map(|f| f.assess(1, plan.channel == Channel::Online, None))
                    .try_fold(motcua_core::Vnd::ZERO, motcua_core::Vnd::checked_add)
                    .unwrap_or(motcua_core::Vnd::ZERO)
            };
            if due > motcua_core::Vnd::ZERO {
                let at = plan.received.max(now.plus_minutes(-1));
                let assess = Command::AssessFees { stage: motcua_core::FeeStage::Intake, units: None, exemption: None };
                pending.push(req(code, plan, assess, at));
                let online = plan.channel == Channel::Online && procedure.online_payment && rng.below(10) < 7;
                let channel = if online { PaymentChannel::NationalPlatform } else { PaymentChannel::Counter };
                let pay = Command::Pay { amount: due, channel, receipt: format!("BL-{code}") };
                pending.push(req(code, plan, pay, at));
            }
            if plan.supplement && plan.fate == Fate::Open {
                // Still waiting for the applicant at the year's end: its clock is stopped.
                let at = now.plus_minutes(30);
                if at < year_end {
                    pending.push(req(code, plan, Command::RequestSupplement { reason: "Thiếu giấy tờ".into() }, at));
                }
            } else if plan.supplement {
                now = now.plus_minutes(30);
                pending.push(req(code, plan, Command::RequestSupplement { reason: "Thiếu giấy tờ".into() }, now));
                now = now.plus_minutes(1440 + rng.below(1440) as i64);
                pending.push(req(code, plan, Command::ReceiveSupplement, now));
                if plan.repeat_supplement {
                    // Asked again right after (within the window, whatever the policy).
                    now = now.plus_minutes(10);
                    let reason = "Còn thiếu giấy tờ".into();
                    pending.push(req(code, plan, Command::RequestSupplement { reason }, now));
                    now = now.plus_minutes(1440 + rng.below(1440) as i64);
                    pending.push(req(code, plan, Command::ReceiveSupplement, now));
                }
            }
            nows.push(now);
        }
        flush(engine, &mut pending)?;
        for (((plan, code), now), &person) in chunk_plans.iter().zip(chunk_codes).zip(nows).zip(&who) {
            if plan.fate == Fate::Open {
                continue;
            }
            let procedure = &procs[plan.procedure];
            let (clock_start, due) = times_of(engine, code)?;
            let mut now = now.max(clock_start.unwrap_or(now));
            // The finishing instant, relative to the due time the engine computed.
            let due = due.unwrap_or(now.plus_minutes(480));
            let finish = match plan.fate {
                Fate::Late => due.plus_minutes(1 + rng.below(2 * 1440) as i64).min(year_end),
                _ => {
                    let end = due.min(year_end);
                    let span = (end.utc_minutes() - now.utc_minutes()).max(0);
                    now.plus_minutes(((span as f64) * (0.2 + 0.75 * rng.unit())) as i64)
                }
            };
            // An apology letter for some late dossiers, rescheduling past the planned finish
            // (the outcome is still judged against the original due time).
            if plan.fate == Fate::Late && rng.unit() < extension_share {
                let new_due = finish.plus_minutes(1440);
                pending.push(req(
                    code,
                    plan,
                    Command::Extend { new_due, reason: "Cần thêm thời gian xác minh".into() },
                    now,
                ));
            }
            // Steps in order, spread between now and the finish.
            let steps = orders.get(plan.procedure).map_or(&[][..], Vec::as_slice);
            let slots = (steps.len() as i64) * 2 + 1;
            let gap = ((finish.utc_minutes() - now.utc_minutes()) / slots).max(0);
            let mut prev_agency: Option<&str> = None;
            for &i in steps {
                let s = &procedure.steps[i];
                now = now.plus_minutes(gap).min(finish);
                let command = if prev_agency.is_some_and(|a| *a != *s.agency) {
                    Command::Transfer { step: s.id.clone() }
                } else {
                    Command::StartStep { step: s.id.clone() }
                };
                pending.push(req(code, plan, command, now));
                // A dossier finishing in time had every agency finish its part in time: the step
                // completes by its own due time (computed as the engine does, docs/rules.md §8).
                // In a late dossier the steps take their even share and may overrun.
                let mut done = now.plus_minutes(gap).min(finish);
                if plan.fate != Fate::Late {
                    let step_due = calendar
                        .next_working_instant(now)
                        .and_then(|start| calendar.due_from(start, s.allotment))
                        .ok()
                        .flatten();
                    if let Some(d) = step_due {
                        done = done.min(d).max(now);
                    }
                }
                now = done;
                pending.push(req(code, plan, Command::CompleteStep { step: s.id.clone() }, now));
                prev_agency = Some(&s.agency);
            }
            let finish = finish.max(now);
            if plan.fate == Fate::Withdrawn {
                pending.push(req(code, plan, Command::Withdraw, finish));
            } else {
                // The result, electronic for online dossiers and for half the counter ones
                // [assumption: the seed gives no share].
                let electronic = plan.channel == Channel::Online || rng.below(2) == 0;
                let number = format!("KQ-{code}");
                if let Some(document) = procedure.results.first() {
                    let day = finish.local_date();
                    let valid_until =
                        document.valid_days.and_then(|d| day.checked_add_days(chrono::Days::new(u64::from(d))));
                    issued.push((document.name.clone(), Held { person, number: number.clone(), finish, valid_until }));
                }
                let result = Some(motcua_core::ResultIssue { number, electronic });
                pending.push(req(
                    code,
                    plan,
                    Command::Finish { decision: Decision::Approved, reason: None, result },
                    finish,
                ));
                pending.push(req(code, plan, Command::ReturnResult { delivery: None }, finish.plus_minutes(30)));
                // One applicant in ten rates the handling, one in fifty of them not satisfied
                // [assumption: the seed gives no share].
                if rng.below(10) == 0 {
                    let satisfied = rng.below(50) != 0;
                    pending.push(req(code, plan, Command::Rate { satisfied }, finish.plus_minutes(40)));
                }
                feedback(&mut feedback_rng, plan.fate == Fate::Late, finish, &mut |c, at| {
                    pending.push(req(code, plan, c, at))
                });
            }
        }
        flush(engine, &mut pending)?;
        for (kind, held) in issued.drain(..) {
            warehouse.entry(kind).or_default().push_back(held);
        }
        if sync {
            sync_round(engine.store(), &mut portal, latest.get())?;
        }
        done += chunk_plans.len() as u64;
        progress(done, n);
    }
    let seconds = started.elapsed().as_secs_f64();
    let outbox_pending = engine.store().outbox_pending()? as u64;
    let t = engine.store().counter_total()?;
    let online_count = plans.iter().filter(|p| p.channel == Channel::Online).count() as u64;
    Ok(SimReport {
        received: t.received,
        online: online_count,
        resolved: t.resolved,
        early_or_on_time: t.early + t.on_time,
        services_offered: profile.services.online,
        services_with_online_dossiers,
        events,
        synced: portal.received,
        outbox_pending,
        seconds,
    })
}

/// The identity key of simulated applicants: synthetic data only (a province keeps its own
/// secret; see [`IdentityKey`]).
const SIM_IDENTITY_KEY: &[u8; 32] = b"motcua-simulator-synthetic-key-1";

/// The sectors whose applicants are businesses (a tax code), not citizens (a CCCD).
const BUSINESS_SECTORS: [&str; 2] = ["Thành lập và hoạt động của hộ kinh doanh", "Hoạt động xây dựng"];

/// The identifier the `n`-th dossier of a year simulated with `seed` presents: a synthetic
/// CCCD (province code 058, Ninh Thuận's, and nine more digits) or, for business sectors, a
/// synthetic 10-digit tax code with its check digit. Deterministic, so a test can list every
/// identifier of a simulated year and search the store and the reports for them.
pub fn synthetic_identifier(seed: u64, n: u64, business: bool) -> Option<Identifier> {
    let mut rng = Rng::new(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x1D);
    if !business {
        return format!("058{}{:08}", 1 + rng.below(3), rng.below(100_000_000)).parse().ok();
    }
    // 4xxxxxxxxx [assumption: a plausible block]; about one draw in eleven has no check digit.
    for _ in 0..64 {
        let mut digits = [4u8, 0, 0, 0, 0, 0, 0, 0, 0];
        for d in digits.iter_mut().skip(1) {
            *d = rng.below(10) as u8;
        }
        if let Some(check) = motcua_core::tax_check_digit(&digits) {
            let text: String = digits.iter().chain(std::iter::once(&check)).map(|d| char::from(b'0' + d)).collect();
            return text.parse().ok();
        }
    }
    None
}

/// The applicant of the `n`-th dossier: a citizen, or a household business in the business
/// sectors; online applicants signed in through VNeID two times in three [assumption: the seed
/// gives no share].
fn applicant(key: &IdentityKey, seed: u64, n: u64, procedure: &Procedure, channel: Channel) -> Option<Applicant> {
    let business = BUSINESS_SECTORS.contains(&procedure.sector.as_str());
    let id = synthetic_identifier(seed, n, business)?;
    let kind = if business { ApplicantKind::HouseholdBusiness } else { ApplicantKind::Citizen };
    Some(Applicant::new(kind, &id, key, channel == Channel::Online && n % 3 != 0))
}

/// The documents a dossier arrives with: each component of its procedure, uploaded (so
/// digitised) online; at the counter digitised three times in five, the rest on paper
/// [assumption: the seed gives no share; Circular 01/2023/TT-VPCP has counters digitise what they
/// receive]. Digests are synthetic.
fn documents(procedure: &Procedure, channel: Channel, rng: &mut Rng) -> Vec<motcua_core::SubmittedDocument> {
    procedure
        .documents
        .iter()
        .map(|d| {
            let form = if channel == Channel::Online || rng.below(5) < 3 {
                let sha256 = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
                motcua_core::DocumentForm::Digitised { sha256, size: 20_000 + rng.below(2_000_000) }
            } else {
                motcua_core::DocumentForm::Paper
            };
            motcua_core::SubmittedDocument { component: d.name.clone(), form }
        })
        .collect()
}

/// One run of the sync worker: delivers every message due at `now`, a round at a time.
fn sync_round<S: Store>(store: &S, portal: &mut CountingPortal, now: Timestamp) -> Result<(), SimError> {
    loop {
        let round = deliver(store, portal, now, SYNC_ROUND)?;
        if round.delivered + round.failed < SYNC_ROUND {
            return Ok(());
        }
    }
}
