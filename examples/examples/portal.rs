//! A portal's own axum application with motcua's API nested in it, next to its own routes.
//! It starts on a free loopback port, calls both as a client would, and stops.
//!
//! `cargo run -p motcua-examples --example portal`

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::Procedure;
use motcua_engine::{Actor, ActorRole, MemoryStore};
use motcua_http::{issue_token, router, Api};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The engine behind the API: a store (SQLite or PostgreSQL in production), the procedures,
    // the calendar, the token secret, and the clock that stamps commands.
    let procedure = Procedure::simple("1.004194".parse()?, "Đăng ký tạm trú", Limit::working_days(3));
    let calendar = WorkCalendar::builder().years(2025, 2026).build()?;
    let clock: Arc<dyn Fn() -> Timestamp + Send + Sync> =
        Arc::new(|| "2025-03-03T09:00".parse().unwrap_or(Timestamp::from_utc_minutes(0)));
    let secret = b"the portal's secret, from its vault";
    let api = Api::start(Arc::new(MemoryStore::new()), vec![procedure], calendar, secret, clock);

    // The portal's own routes, and motcua's under /motcua.
    let app = Router::new().route("/", get(|| async { "Cổng dịch vụ công của tỉnh" })).nest("/motcua", router(api));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let token = issue_token(secret, &Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"), now, 3600)
        .map_err(|e| format!("{e:?}"))?;
    let base2 = base.clone();
    let (home, created) = tokio::task::spawn_blocking(move || -> Result<(String, String), ureq::Error> {
        let home = ureq::get(&format!("{base2}/")).call()?.body_mut().read_to_string()?;
        let created = ureq::post(&format!("{base2}/motcua/api/v1/dossiers"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(r#"{"procedure": "1.004194", "channel": "direct"}"#)?
            .body_mut()
            .read_to_string()?;
        Ok((home, created))
    })
    .await??;
    println!("GET {base}/ → {home}");
    println!("POST {base}/motcua/api/v1/dossiers → {created}");
    server.abort();
    Ok(())
}
