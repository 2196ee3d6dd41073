//! A server on loopback and a small HTTP client, shared by the API and page tests.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::sync::Arc;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::Procedure;
use motcua_engine::{Actor, MemoryStore};
use motcua_http::{issue_token, router, Api, Options};

pub const SECRET: &[u8] = b"test secret, not for production";

/// A server on 127.0.0.1 (a port of its own), its clock fixed at `now`. Its base URL.
pub fn serve(now: &str) -> String {
    let procedure = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    serve_with(now, vec![procedure], Options::default())
}

/// [`serve`] with these serving limits.
pub fn serve_limited(now: &str, limits: motcua_http::Limits) -> String {
    let procedure = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    serve_full(now, vec![procedure], Options::default(), limits)
}

/// [`serve`] for these procedures, with these options.
pub fn serve_with(now: &str, procedures: Vec<Procedure>, options: Options) -> String {
    serve_full(now, procedures, options, motcua_http::Limits::default())
}

fn serve_full(now: &str, procedures: Vec<Procedure>, options: Options, limits: motcua_http::Limits) -> String {
    serve_router(now, procedures, options, limits, router::<MemoryStore>)
}

/// A server of the routes `make` builds (the API alone, the pages alone, or both).
pub fn serve_router(
    now: &str,
    procedures: Vec<Procedure>,
    options: Options,
    limits: motcua_http::Limits,
    make: fn(Api<MemoryStore>) -> axum::Router,
) -> String {
    let now: Timestamp = now.parse().unwrap();
    let calendar = WorkCalendar::builder().years(2025, 2026).build().unwrap();
    let api =
        Api::start_with(Arc::new(MemoryStore::new()), procedures, calendar, SECRET, Arc::new(move || now), options);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            motcua_http::serve(listener, make(api), limits, std::future::pending()).await.unwrap();
        });
    });
    format!("http://{addr}")
}

pub fn token(actor: &Actor) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    format!("Bearer {}", issue_token(SECRET, actor, now, 3600).unwrap())
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// (status, content type, body, ETag) of a request.
pub fn call(
    method: &str,
    url: &str,
    auth: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String, String) {
    let a = agent();
    let mut resp = match (method, body) {
        ("GET", _) => {
            let mut r = a.get(url);
            if let Some(t) = auth {
                r = r.header("Authorization", t);
            }
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call().unwrap()
        }
        (_, b) => {
            let mut r = a.post(url).header("Content-Type", "application/json");
            if let Some(t) = auth {
                r = r.header("Authorization", t);
            }
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(b.unwrap_or("")).unwrap()
        }
    };
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (ctype, etag) = (header("content-type"), header("etag"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, ctype, text, etag)
}

/// The login form's pairing for a browser: its cookie (`motcua_login=…`) and the form's
/// nonce, from `GET /login`.
pub fn login_nonce(base: &str) -> (String, String) {
    let mut resp = agent().get(&format!("{base}/login")).call().unwrap();
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let body = resp.body_mut().read_to_string().unwrap();
    let nonce = body.split(r#"name="nonce" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    (cookie, nonce)
}
