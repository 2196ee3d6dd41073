//! A counter's day over HTTP, bounded and on loopback only:
//! `http-load [CLIENTS] [DOSSIERS] [--store postgres://…?province=NAME]`.
//!
//! Starts the API in-process over a fresh store (SQLite files by default, durable: WAL,
//! `synchronous = FULL`; or fresh provinces `NAME_grouped`, `NAME_single`, `NAME_direct` of a
//! PostgreSQL server) on 127.0.0.1, then `CLIENTS` threads (default 8) play `DOSSIERS` dossiers
//! in all (default 2,000): receive, start the step, complete it, finish (a leader), return the
//! result — five durable commands each. Three runs in one process: HTTP with the writer's
//! group commits, HTTP with one command per transaction, and the engine directly (one `handle`
//! each); requests/s and p50/p99 latency, and the ratios.

use std::sync::Arc;
use std::time::Instant;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{Channel, Command, Decision, DossierCode, Procedure, Step};
use motcua_engine::{Actor, ActorRole, Engine, Request, Store};
use motcua_http::{issue_token, router, Api, Options};
use motcua_store_postgres::PostgresStore;
use motcua_store_sqlite::SqliteStore;

fn procedure() -> Result<Procedure, Box<dyn std::error::Error>> {
    let mut p = Procedure::simple("1.004194".parse()?, "Đăng ký tạm trú", Limit::working_days(3));
    p.steps = vec![Step::new("tiep-nhan", "H42.12", Limit::working_days(1), &[])];
    Ok(p)
}

struct Run {
    commands: usize,
    seconds: f64,
    p50: f64,
    p99: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.commands as f64 / self.seconds
    }
}

/// A counter's day over HTTP against `store`: the API on 127.0.0.1 with at most `max_batch`
/// commands per commit, `clients` threads, `dossiers` dossiers of five commands each.
fn over_http<S: Store + 'static>(
    store: Arc<S>,
    max_batch: usize,
    clients: usize,
    dossiers: usize,
    now: Timestamp,
    calendar: &WorkCalendar,
) -> Result<Run, Box<dyn std::error::Error>> {
    let secret = b"load generator secret, loopback only";
    let api = Api::start_with(
        store,
        vec![procedure()?],
        calendar.clone(),
        secret,
        Arc::new(move || now),
        Options { max_batch, ..Options::default() },
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else { return };
        rt.block_on(async move {
            if let Ok(l) = tokio::net::TcpListener::from_std(listener) {
                let _ = axum::serve(l, router(api)).await;
            }
        });
    });
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let bearer = |actor: &Actor| -> Result<String, String> {
        Ok(format!("Bearer {}", issue_token(secret, actor, unix, 3600).map_err(|e| format!("{e:?}"))?))
    };
    let clerk = bearer(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"))?;
    let leader = bearer(&Actor::officer("leader-1", ActorRole::Leader, "H42.12"))?;
    let started = Instant::now();
    let latencies: Vec<f64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (base, clerk, leader) = (&base, &clerk, &leader);
                s.spawn(move || -> Result<Vec<f64>, String> {
                    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                    let mut times = Vec::new();
                    let mut timed = |url: String, auth: &str, body: &str| -> Result<String, String> {
                        let t = Instant::now();
                        let mut r = agent
                            .post(&url)
                            .header("Authorization", auth)
                            .header("Content-Type", "application/json")
                            .send(body)
                            .map_err(|e| e.to_string())?;
                        times.push(t.elapsed().as_secs_f64() * 1000.0);
                        let status = r.status().as_u16();
                        let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
                        if status >= 300 {
                            return Err(format!("{url}: {status} {text}"));
                        }
                        Ok(text)
                    };
                    for _ in (c..dossiers).step_by(clients) {
                        let created = timed(
                            format!("{base}/api/v1/dossiers"),
                            clerk,
                            r#"{"procedure": "1.004194", "channel": "direct"}"#,
                        )?;
                        let v: serde_json::Value = serde_json::from_str(&created).map_err(|e| e.to_string())?;
                        let code = v["code"].as_str().unwrap_or_default().to_string();
                        let url = format!("{base}/api/v1/dossiers/{code}/commands");
                        timed(url.clone(), clerk, r#"{"command": "start_step", "step": "tiep-nhan"}"#)?;
                        timed(url.clone(), clerk, r#"{"command": "complete_step", "step": "tiep-nhan"}"#)?;
                        timed(url.clone(), leader, r#"{"command": "finish", "decision": "approved"}"#)?;
                        timed(url, clerk, r#"{"command": "return_result"}"#)?;
                    }
                    Ok(times)
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect::<Result<Vec<_>, _>>().map(|v| v.concat())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| sorted.get(((sorted.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    Ok(Run { commands: sorted.len(), seconds, p50: pct(0.5), p99: pct(0.99) })
}

/// The same commands through the engine directly, one `handle` (one transaction) each.
fn direct<S: Store>(
    store: S,
    dossiers: usize,
    now: Timestamp,
    calendar: &WorkCalendar,
) -> Result<Run, Box<dyn std::error::Error>> {
    let mut engine = Engine::new(store, [procedure()?], calendar.clone());
    let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
    let leader = Actor::officer("leader-1", ActorRole::Leader, "H42.12");
    let date = now.local_date();
    let started = Instant::now();
    let mut commands = 0;
    for n in 1..=dossiers as u64 {
        let dossier = DossierCode::new("H42.12".parse()?, date, n);
        let script = [
            (
                Command::Receive {
                    case: None,
                    procedure: "1.004194".parse()?,
                    channel: Channel::Direct,
                    jurisdiction: None,
                    applicant: None,
                    documents: Vec::new(),
                },
                &clerk,
            ),
            (Command::StartStep { step: "tiep-nhan".into() }, &clerk),
            (Command::CompleteStep { step: "tiep-nhan".into() }, &clerk),
            (Command::Finish { decision: Decision::Approved, reason: None, result: None }, &leader),
            (Command::ReturnResult { delivery: None }, &clerk),
        ];
        for (command, actor) in script {
            engine.handle(&Request::new(dossier.clone(), command, actor.clone(), now))?;
            commands += 1;
        }
    }
    Ok(Run { commands, seconds: started.elapsed().as_secs_f64(), p50: 0.0, p99: 0.0 })
}

/// `url` with its `province` parameter suffixed by `suffix`: a fresh province per run.
fn province_url(url: &str, suffix: &str) -> Result<String, String> {
    let (head, province) =
        url.split_once("province=").ok_or_else(|| format!("{url}: name the province (?province=NAME)"))?;
    let name: String = province.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let rest = &province[name.len()..];
    Ok(format!("{head}province={name}_{suffix}{rest}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let postgres = match args.iter().position(|a| a == "--store") {
        Some(i) if i + 1 < args.len() => {
            let url = args.remove(i + 1);
            args.remove(i);
            Some(url)
        }
        Some(_) => return Err("--store needs a postgres://…?province=NAME URL".into()),
        None => None,
    };
    let clients: usize = args.first().map(|a| a.parse()).transpose()?.unwrap_or(8).clamp(1, 64);
    let dossiers: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(2_000).clamp(1, 100_000);
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let now: Timestamp = "2025-03-03T09:00".parse()?;
    let dir = std::env::temp_dir().join(format!("motcua-http-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (kind, grouped, single, one_by_one) = match &postgres {
        None => (
            "SQLite (WAL, synchronous = FULL)",
            over_http(
                Arc::new(SqliteStore::open(&dir.join("grouped.sqlite"))?),
                1000,
                clients,
                dossiers,
                now,
                &calendar,
            )?,
            over_http(Arc::new(SqliteStore::open(&dir.join("single.sqlite"))?), 1, clients, dossiers, now, &calendar)?,
            direct(SqliteStore::open(&dir.join("direct.sqlite"))?, dossiers, now, &calendar)?,
        ),
        Some(url) => {
            let fresh = |suffix: &str| -> Result<PostgresStore, Box<dyn std::error::Error>> {
                let store = PostgresStore::open(&province_url(url, suffix)?)?;
                store.truncate()?;
                Ok(store)
            };
            (
                "PostgreSQL (synchronous_commit = on)",
                over_http(Arc::new(fresh("grouped")?), 1000, clients, dossiers, now, &calendar)?,
                over_http(Arc::new(fresh("single")?), 1, clients, dossiers, now, &calendar)?,
                direct(fresh("direct")?, dossiers, now, &calendar)?,
            )
        }
    };
    println!("{kind}, {clients} clients, {dossiers} dossiers × 5 durable commands:");
    for (name, r) in [
        ("HTTP, shared group commits", &grouped),
        ("HTTP, one command per transaction", &single),
        ("engine directly, one per transaction", &one_by_one),
    ] {
        let latency = if r.p99 > 0.0 { format!(", p50 {:.2} ms, p99 {:.2} ms", r.p50, r.p99) } else { String::new() };
        println!("  {name:<38} {:>6} commands in {:>6.2} s = {:>6.0}/s{latency}", r.commands, r.seconds, r.rate());
    }
    println!(
        "  group commits / one per transaction over HTTP: {:.2}x; HTTP grouped / engine one by one: {:.2}x",
        grouped.rate() / single.rate(),
        grouped.rate() / one_by_one.rate()
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The allocator the `motcua` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
