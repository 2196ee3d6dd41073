//! A PostgreSQL server that goes away: the store's every wait ends within its bounds in a typed
//! error naming the server, the HTTP server answers 503 meanwhile, and both recover by
//! themselves when the server answers again; nothing acknowledged is lost and `verify` passes.
//!
//! The silence is made on loopback by a proxy between the store and the server: forwarding, or
//! swallowing every byte both ways and answering nothing (as a hung server does, or a network
//! that drops every packet, seen from the client). The first test needs no server at all; the
//! others need `MOTCUA_TEST_POSTGRES` (skipped without it, except under CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use motcua_core::{Channel, Command, DossierCode, Procedure};
use motcua_engine::{verify, Actor, ActorRole, Engine, EngineError, Request, Store, StoreError};
use motcua_store_postgres::PostgresStore;

/// A loopback proxy to `upstream` (none: nothing behind it) that forwards while `silent` is
/// false and otherwise reads and drops everything, both ways, answering nothing. Its threads
/// end when it is dropped.
struct Proxy {
    port: u16,
    silent: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: Option<String>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let silent = Arc::new(AtomicBool::new(upstream.is_none()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (Arc::clone(&silent), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let server = upstream.as_deref().and_then(|u| TcpStream::connect(u).ok());
                        Proxy::pump(client, server, Arc::clone(&s), Arc::clone(&st));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Proxy { port, silent, stop }
    }

    /// Two threads per connection, one per direction.
    fn pump(client: TcpStream, server: Option<TcpStream>, silent: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
        let pairs = match &server {
            Some(server) => vec![
                (client.try_clone().unwrap(), Some(server.try_clone().unwrap())),
                (server.try_clone().unwrap(), Some(client.try_clone().unwrap())),
            ],
            None => vec![(client.try_clone().unwrap(), None)],
        };
        for (mut from, mut to) in pairs {
            let (silent, stop) = (Arc::clone(&silent), Arc::clone(&stop));
            from.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                while !stop.load(Ordering::Relaxed) {
                    match from.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            // Silent: the bytes go nowhere, and nothing comes back.
                            if !silent.load(Ordering::Relaxed) {
                                if let Some(to) = to.as_mut() {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                        }
                        Err(_) => break,
                    }
                }
                let _ = from.shutdown(Shutdown::Both);
                if let Some(to) = to {
                    let _ = to.shutdown(Shutdown::Both);
                }
            });
        }
    }

    fn silence(&self, on: bool) {
        self.silent.store(on, Ordering::Relaxed);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The test server's URL, or `None` (skipped) when there is none outside CI.
fn server() -> Option<String> {
    match std::env::var("MOTCUA_TEST_POSTGRES") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(std::env::var_os("CI").is_none(), "MOTCUA_TEST_POSTGRES is not set: .ci/run starts a cluster");
            eprintln!("MOTCUA_TEST_POSTGRES not set: PostgreSQL silence tests skipped");
            None
        }
    }
}

/// `host:port` and the rest of a `postgres://user@host:port/db` URL.
fn split(url: &str) -> (String, String, String) {
    let rest = url.trim_start_matches("postgres://");
    let (user, rest) = rest.split_once('@').unwrap();
    let (hostport, db) = rest.split_once('/').unwrap();
    (user.to_string(), hostport.to_string(), db.split('?').next().unwrap().to_string())
}

/// A URL to the proxy on `port`, with bounds of a second.
fn through(port: u16, user: &str, db: &str, province: &str) -> String {
    format!("postgres://{user}@127.0.0.1:{port}/{db}?province={province}&connect_timeout=1&io_timeout=1&reconnects=1")
}

/// The bound the tests check waits against: about three times what the bounds of [`through`]
/// allow the longest of them (opening: 2 × (1 s + 1 s) + 0.1 s). It checks that a wait ends,
/// not how fast anything runs: before the bounds, these waits never ended.
const ENDS_WITHIN: Duration = Duration::from_secs(15);

fn code(n: u64) -> DossierCode {
    DossierCode::new("H42.12".parse().unwrap(), chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), n)
}

fn receive(n: u64) -> Request {
    let command = Command::Receive {
        case: None,
        procedure: "1.004194".parse().unwrap(),
        channel: Channel::Direct,
        jurisdiction: None,
        applicant: None,
        documents: Vec::new(),
    };
    Request::new(
        code(n),
        command,
        Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"),
        "2025-03-03T09:00".parse().unwrap(),
    )
}

fn engine<S: Store>(store: S) -> Engine<S> {
    let procedure =
        Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", motcua_calendar::Limit::working_days(3));
    let calendar = motcua_calendar::WorkCalendar::builder().years(2025, 2026).build().unwrap();
    Engine::new(store, vec![procedure], calendar)
}

fn unavailable(e: &StoreError, port: u16) {
    match e {
        StoreError::Unavailable { server, .. } => assert_eq!(server, &format!("127.0.0.1:{port}"), "{e}"),
        other => panic!("expected unavailable, got {other}"),
    }
}

/// A listener that accepts and says nothing: opening the store ends in the typed error within
/// its bound — (reconnects + 1) × (connect + io timeout) and the waits between, 4.1 s here —
/// where it used to wait for ever.
#[test]
fn opening_on_a_silent_server_ends_within_its_bound() {
    let silent = Proxy::start(None);
    let url = through(silent.port, "postgres", "postgres", "silent");
    let started = Instant::now();
    let e = PostgresStore::open(&url).err().expect("no store on a silent server");
    let took = started.elapsed();
    unavailable(&e, silent.port);
    assert!(took < ENDS_WITHIN, "took {took:?}");
    let e = PostgresStore::open_existing(&url).err().expect("no store on a silent server");
    unavailable(&e, silent.port);
}

/// The server goes silent under an open store: an append and a read each end within their
/// bound; when it answers again, the same store appends and reads, and verifies.
#[test]
fn append_and_read_end_within_their_bound_and_recover() {
    let Some(url) = server() else { return };
    let (user, hostport, db) = split(&url);
    let proxy = Proxy::start(Some(hostport));
    let store =
        Arc::new(PostgresStore::open(&through(proxy.port, &user, &db, &format!("s{}", std::process::id()))).unwrap());
    store.truncate().unwrap();
    let mut e = engine(Arc::clone(&store));
    e.handle(&receive(1)).unwrap();

    proxy.silence(true);
    let started = Instant::now();
    match e.handle(&receive(2)) {
        Err(EngineError::Store(s)) => unavailable(&s, proxy.port),
        other => panic!("expected the store unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < ENDS_WITHIN, "append took {:?}", started.elapsed());
    let started = Instant::now();
    unavailable(&store.load(&code(1)).unwrap_err(), proxy.port);
    assert!(started.elapsed() < ENDS_WITHIN, "read took {:?}", started.elapsed());
    // A group commit fails as a whole at once, not request by request.
    let started = Instant::now();
    let results = e.handle_batch(&[receive(3), receive(4), receive(5)]);
    assert!(
        results.iter().all(|r| matches!(r, Err(EngineError::Store(StoreError::Unavailable { .. })))),
        "{results:?}"
    );
    assert!(started.elapsed() < ENDS_WITHIN, "batch took {:?}", started.elapsed());

    proxy.silence(false);
    e.handle(&receive(2)).unwrap();
    assert_eq!(store.load(&code(1)).unwrap().unwrap().events.len(), 1, "the acknowledged event is there");
    assert!(store.load(&code(3)).unwrap().is_none(), "nothing unacknowledged was half-written");
    verify(&*store).unwrap();
}

/// `motcua serve` on PostgreSQL: 503 with `Retry-After` while the server is silent, and by
/// itself again once it answers.
#[test]
fn the_http_server_answers_503_while_the_store_is_silent_and_recovers() {
    let Some(url) = server() else { return };
    let (user, hostport, db) = split(&url);
    let proxy = Proxy::start(Some(hostport));
    let store = PostgresStore::open(&through(proxy.port, &user, &db, &format!("h{}", std::process::id()))).unwrap();
    store.truncate().unwrap();
    let procedure =
        Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", motcua_calendar::Limit::working_days(3));
    let calendar = motcua_calendar::WorkCalendar::builder().years(2025, 2026).build().unwrap();
    let now: motcua_calendar::Timestamp = "2025-03-03T09:00".parse().unwrap();
    let secret = b"a secret for the silence test";
    let api = motcua_http::Api::start(Arc::new(store), vec![procedure], calendar, secret, Arc::new(move || now));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = motcua_http::router(api);
            motcua_http::serve(listener, app, motcua_http::Limits::default(), std::future::pending()).await.unwrap();
        });
    });
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let token =
        motcua_http::issue_token(secret, &Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"), unix, 600).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let post = || {
        let mut r = agent
            .post(&format!("http://{addr}/api/v1/dossiers"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(r#"{"procedure": "1.004194", "channel": "direct"}"#)
            .unwrap();
        let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), retry, r.body_mut().read_to_string().unwrap_or_default())
    };
    assert_eq!(post().0, 201);
    proxy.silence(true);
    let (status, retry, body) = post();
    assert_eq!((status, retry.as_deref()), (503, Some("5")), "{body}");
    assert!(body.contains("store_unavailable"), "{body}");
    proxy.silence(false);
    let (status, _, body) = post();
    assert_eq!(status, 201, "{body}");
}
