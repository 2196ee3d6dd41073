//! A counter's day over HTTP, bounded and on loopback only: `http-load [CLIENTS] [DOSSIERS]`.
//!
//! Starts the API in-process over a fresh SQLite file (durable: WAL, `synchronous = FULL`) on
//! 127.0.0.1, then `CLIENTS` threads (default 8) play `DOSSIERS` dossiers in all (default 2,000):
//! receive, start the step, complete it, finish (a leader), return the result — five durable
//! commands each. Prints requests/s and p50/p99 latency; then the same commands through the
//! engine directly (one `handle` each, same store kind) for the ratio that is the HTTP cost.

use std::sync::Arc;
use std::time::Instant;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::{Channel, Command, Decision, DossierCode, Procedure, Step};
use motcua_engine::{Actor, ActorRole, Engine, Request};
use motcua_http::{issue_token, router, Api};
use motcua_store_sqlite::SqliteStore;

fn procedure() -> Result<Procedure, Box<dyn std::error::Error>> {
    let mut p = Procedure::simple("1.004194".parse()?, "Đăng ký tạm trú", Limit::working_days(3));
    p.steps = vec![Step::new("tiep-nhan", "H42.12", Limit::working_days(1), &[])];
    Ok(p)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let clients: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(8).clamp(1, 64);
    let dossiers: usize = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(2_000).clamp(1, 100_000);
    let dir = std::env::temp_dir().join(format!("motcua-http-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let now: Timestamp = "2025-03-03T09:00".parse()?;
    let secret = b"load generator secret, loopback only";
    let store = Arc::new(SqliteStore::open(&dir.join("http.sqlite"))?);
    let api = Api::start(store, vec![procedure()?], calendar.clone(), secret, Arc::new(move || now));
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
    let clerk = format!(
        "Bearer {}",
        issue_token(secret, &Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"), unix, 3600)
            .map_err(|e| format!("{e:?}"))?
    );
    let leader = format!(
        "Bearer {}",
        issue_token(secret, &Actor::officer("leader-1", ActorRole::Leader, "H42.12"), unix, 3600)
            .map_err(|e| format!("{e:?}"))?
    );
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
    let mut sorted = latencies.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| sorted.get(((sorted.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    let http_rate = latencies.len() as f64 / seconds;
    println!(
        "HTTP, {clients} clients: {} durable commands in {seconds:.2} s = {http_rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        pct(0.5),
        pct(0.99)
    );
    // The same commands through the engine directly, one `handle` (one transaction) each.
    let mut engine = Engine::open(SqliteStore::open(&dir.join("direct.sqlite"))?, [procedure()?], calendar);
    let clerk = Actor::officer("clerk-1", ActorRole::Clerk, "H42.12");
    let leader = Actor::officer("leader-1", ActorRole::Leader, "H42.12");
    let date = now.local_date();
    let started = Instant::now();
    let mut commands = 0u64;
    for n in 1..=dossiers as u64 {
        let dossier = DossierCode::new("H42.12".parse()?, date, n);
        let script = [
            (Command::Receive { procedure: "1.004194".parse()?, channel: Channel::Direct }, &clerk),
            (Command::StartStep { step: "tiep-nhan".into() }, &clerk),
            (Command::CompleteStep { step: "tiep-nhan".into() }, &clerk),
            (Command::Finish { decision: Decision::Approved }, &leader),
            (Command::ReturnResult, &clerk),
        ];
        for (command, actor) in script {
            engine.handle(&Request {
                dossier: dossier.clone(),
                command,
                actor: actor.clone(),
                idempotency_key: None,
                now,
            })?;
            commands += 1;
        }
    }
    let direct = commands as f64 / started.elapsed().as_secs_f64();
    println!("engine directly, one transaction per command: {commands} commands = {direct:.0}/s");
    println!("HTTP with shared group commits / direct one-by-one: {:.2}x", http_rate / direct);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The allocator the `motcua` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
