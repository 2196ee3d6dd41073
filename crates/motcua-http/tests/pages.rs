//! The reference portal's pages: over plain HTTP, then in a real headless Chromium (from the
//! distribution's packages, driven through its ChromeDriver) as a clerk and a citizen use them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{login_nonce, serve, SECRET};
use motcua_calendar::{Limit, WorkCalendar};
use motcua_engine::{Actor, ActorRole};
use motcua_http::issue_token;

fn raw_token(actor: &Actor) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    issue_token(SECRET, actor, now, 3600).unwrap()
}

/// (status, `Location`, `Set-Cookie`, body) of a request that does not follow redirects.
fn fetch(method: &str, url: &str, cookie: Option<&str>, form: Option<&str>) -> (u16, String, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let mut resp = if method == "GET" {
        let mut r = agent.get(url);
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.call().unwrap()
    } else {
        let mut r = agent.post(url).header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            r = r.header("Cookie", c);
        }
        r.send(form.unwrap_or("")).unwrap()
    };
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (location, set_cookie) = (header("location"), header("set-cookie"));
    let status = resp.status().as_u16();
    (status, location, set_cookie, resp.body_mut().read_to_string().unwrap_or_default())
}

/// Signs `actor` in at `/login`: the session cookie (`motcua_session=…`) and the CSRF token
/// the pages' forms carry (read from the sign-out form of a page).
fn sign_in(base: &str, actor: &Actor) -> (String, String) {
    let token = raw_token(actor);
    let (pair, nonce) = login_nonce(base);
    let form = format!("token={token}&next=/&nonce={nonce}");
    let (status, _, cookie, _) = fetch("POST", &format!("{base}/login"), Some(&pair), Some(&form));
    assert_eq!(status, 303, "{cookie}");
    let cookie = cookie.split(';').next().unwrap().to_string();
    let (_, _, _, body) = fetch("GET", &format!("{base}/track"), Some(&cookie), None);
    let csrf = body.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    (cookie, csrf.to_string())
}

/// The due time `motcua due` gives for a receipt at `received` under the test server's
/// procedure (3 working days) and calendar: computed here from the calendar alone.
fn expected_due(received: &str) -> String {
    let calendar = WorkCalendar::builder().years(2025, 2026).build().unwrap();
    let start = calendar.clock_start(received.parse().unwrap()).unwrap();
    calendar.due_from(start, Limit::working_days(3)).unwrap().unwrap().to_string()
}

#[test]
fn the_counter_over_http_signs_in_receives_and_prints_the_slip() {
    let base = serve("2025-03-07T15:30");
    // Not signed in: the counter sends the clerk to the login page, which comes back to it.
    let (status, location, _, _) = fetch("GET", &format!("{base}/counter"), None, None);
    assert_eq!((status, location.as_str()), (303, "/login?next=/counter"));
    let (status, _, _, body) = fetch("GET", &format!("{base}/login?next=/counter"), None, None);
    assert_eq!(status, 200);
    assert!(body.contains(r#"name="next" value="/counter""#), "{body}");
    // A forged token is refused; a real one sets an HttpOnly, SameSite=Strict cookie.
    let (pair, nonce) = login_nonce(&base);
    let (status, _, cookie, _) = fetch(
        "POST",
        &format!("{base}/login"),
        Some(&pair),
        Some(&format!("token=abc.def.ghi&next=/counter&nonce={nonce}")),
    );
    assert_eq!(status, 401);
    assert!(!cookie.contains("motcua_session"), "{cookie}");
    let token = raw_token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    // Without the login page's pairing (another site's form), no session.
    let (status, _, cookie, _) =
        fetch("POST", &format!("{base}/login"), None, Some(&format!("token={token}&next=/counter&nonce={nonce}")));
    assert_eq!(status, 401);
    assert!(!cookie.contains("motcua_session"), "{cookie}");
    let (status, location, cookie, _) = fetch(
        "POST",
        &format!("{base}/login"),
        Some(&pair),
        Some(&format!("token={token}&next=/counter&nonce={nonce}")),
    );
    assert_eq!((status, location.as_str()), (303, "/counter"));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        cookie.starts_with("motcua_session=") && !cookie.contains(&token),
        "the cookie holds a session id: {cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    // An outside address after login is not followed.
    let (_, location, _, _) = fetch(
        "POST",
        &format!("{base}/login"),
        Some(&pair),
        Some(&format!("token={token}&next=//evil.example&nonce={nonce}")),
    );
    assert_eq!(location, "/");

    let (status, _, _, body) = fetch("GET", &format!("{base}/counter"), Some(&cookie), None);
    assert_eq!(status, 200);
    assert!(body.contains("1.004194 — Đăng ký tạm trú"), "{body}");
    let csrf = body.split(r#"name="csrf" value=""#).nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();
    // Without the form's CSRF token (another site's form), nothing is received.
    let (status, _, _, _) =
        fetch("POST", &format!("{base}/counter"), Some(&cookie), Some("procedure=1.004194&channel=direct"));
    assert_eq!(status, 403);
    let (status, _, _, body) = fetch(
        "POST",
        &format!("{base}/counter"),
        Some(&cookie),
        Some(&format!("procedure=1.004194&channel=direct&csrf={csrf}")),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"));
    assert!(body.contains(r#"<b id="code">H42.12-250307-0001</b>"#), "{body}");
    let due = expected_due("2025-03-07T15:30");
    assert!(body.contains(&format!(r#"<time datetime="{due}">17:00 ngày 12/03/2025</time>"#)), "{due}: {body}");
    // Bad form input is shown on the form again, never a 5xx.
    for form in ["procedure=9.999999&channel=direct", "procedure=1.004194&channel=online", "procedure=%3Cx%3E", ""] {
        let form = format!("{form}&csrf={csrf}");
        let (status, _, _, body) = fetch("POST", &format!("{base}/counter"), Some(&cookie), Some(&form));
        assert!((400..500).contains(&status), "{form}: {status}");
        assert!(body.contains(r#"id="error""#) && !body.contains("<x>"), "{form}: {body}");
    }
    // The engine's refusal is told in Vietnamese on the page (the JSON API keeps English).
    let form = format!("procedure=9.999999&channel=direct&csrf={csrf}");
    let (_, _, _, body) = fetch("POST", &format!("{base}/counter"), Some(&cookie), Some(&form));
    assert!(body.contains("Thủ tục không có trong danh mục của hệ thống."), "{body}");
    assert!(!body.contains("unknown procedure"), "{body}");
    // A citizen is not a counter clerk; a token is not a cookie.
    let (citizen, _) = sign_in(&base, &Actor::citizen("cd-77"));
    assert_eq!(fetch("GET", &format!("{base}/counter"), Some(&citizen), None).0, 403);
    let raw = format!("motcua_session={token}");
    assert_eq!(fetch("GET", &format!("{base}/counter"), Some(&raw), None).0, 303);
    // Logging out ends the session on the server: the old cookie no longer signs in.
    let (status, _, cleared, _) =
        fetch("POST", &format!("{base}/logout"), Some(&cookie), Some(&format!("csrf={csrf}")));
    assert_eq!(status, 303);
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(fetch("GET", &format!("{base}/counter"), Some(&cookie), None).0, 303);
}

#[test]
fn the_dashboard_and_tracking_pages_are_public_and_escape_what_they_echo() {
    let base = serve("2025-03-07T15:30");
    let (cookie, csrf) = sign_in(&base, &Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let form = format!("procedure=1.004194&channel=direct&csrf={csrf}");
    assert_eq!(fetch("POST", &format!("{base}/counter"), Some(&cookie), Some(&form)).0, 200);
    let (status, _, _, body) = fetch("GET", &format!("{base}/"), None, None);
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="vi">"#) && body.contains("Bảng điều khiển"));
    assert!(body.contains("<svg") && body.contains("<rect"), "charts drawn");
    // The public sees the figures, not the lists of dossiers; the agency's officer does.
    assert!(!body.contains("H42.12-250307-0001") && !body.contains("<tr><td>H42.12</td>"), "{body}");
    let (_, _, _, body) = fetch("GET", &format!("{base}/"), Some(&cookie), None);
    assert!(body.contains("<tr><td>H42.12</td><td>1</td><td>0</td><td>0</td></tr>"), "one open at H42.12: {body}");
    let (other, _) = sign_in(&base, &Actor::officer("clerk-9", ActorRole::Clerk, "H42.99"));
    let (_, _, _, body) = fetch("GET", &format!("{base}/"), Some(&other), None);
    assert!(!body.contains("<tr><td>H42.12</td>"), "another agency's officer: {body}");
    let (status, _, _, body) = fetch("GET", &format!("{base}/track?code=H42.12-250307-0001"), None, None);
    assert_eq!(status, 200);
    assert!(body.contains(r#"<td id="status">Được tiếp nhận</td>"#), "{body}");
    assert!(!body.contains("clerk-1"), "no officer on the public page");
    let (status, _, _, body) =
        fetch("GET", &format!("{base}/track?code=%3Cscript%3Ealert(1)%3C/script%3E"), None, None);
    assert_eq!(status, 400);
    assert!(!body.contains("<script>") && body.contains("&lt;script&gt;"), "{body}");
    assert_eq!(fetch("GET", &format!("{base}/track?code=H42.12-250307-0042"), None, None).0, 404);
}

/// Chromium and its driver: from the distribution's packages (`.ci/run` installs them).
fn chromedriver() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("MOTCUA_CHROMEDRIVER").map_or_else(|| "/usr/bin/chromedriver".into(), Into::into);
    let found = std::path::Path::new(&path).exists() && std::path::Path::new("/usr/bin/chromium").exists();
    match (found, std::env::var_os("CI").is_some()) {
        (true, _) => Some(path),
        (false, true) => panic!("CI needs chromium and chromium-driver (.ci/run installs them)"),
        (false, false) => {
            eprintln!("skipped: no {} or /usr/bin/chromium (apt-get install chromium chromium-driver)", path.display());
            None
        }
    }
}

/// A ChromeDriver on a free loopback port, stopped when dropped.
struct Driver(std::process::Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver(path: &std::path::Path) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver(child, port);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return driver;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("chromedriver did not listen on {port}");
}

#[test]
fn in_chromium_a_clerk_receives_at_the_counter_and_the_dashboard_draws_its_charts() {
    let Some(path) = chromedriver() else { return };
    let base = serve("2025-03-07T15:30");
    let token = raw_token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let driver = start_driver(&path);
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use fantoccini::{ClientBuilder, Locator};
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1000,1400"]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.1))
            .await
            .expect("a Chromium session");

        // The counter sends an anonymous visitor to sign in; the token comes back to it.
        c.goto(&format!("{base}/counter")).await.unwrap();
        assert!(c.current_url().await.unwrap().as_str().contains("/login"));
        c.find(Locator::Id("token")).await.unwrap().send_keys(&token).await.unwrap();
        c.find(Locator::Id("signin")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("receive")).await.unwrap();
        // Fill and submit the form: by post this time.
        c.find(Locator::Css("input[name=channel][value=postal]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
        let due = c.wait().for_element(Locator::Css("#due time")).await.unwrap();
        assert_eq!(due.attr("datetime").await.unwrap().as_deref(), Some(expected_due("2025-03-07T15:30").as_str()));
        assert_eq!(due.text().await.unwrap(), "17:00 ngày 12/03/2025");
        let code = c.find(Locator::Id("code")).await.unwrap().text().await.unwrap();
        assert_eq!(code, "H42.12-250307-0001");
        std::fs::write(shots.join("counter-slip.png"), c.screenshot().await.unwrap()).unwrap();

        // The dashboard draws its charts: SVG with bars of some size on screen.
        c.goto(&format!("{base}/")).await.unwrap();
        let charts = c.find_all(Locator::Css("svg")).await.unwrap();
        assert!(charts.len() >= 3, "{} charts", charts.len());
        let (_, _, width, height) = charts[0].rectangle().await.unwrap();
        assert!(width > 100.0 && height > 20.0, "{width}×{height}");
        let bars = c.find_all(Locator::Css("svg rect")).await.unwrap();
        assert!(!bars.is_empty());
        let backlog = c.find(Locator::Id("backlog")).await.unwrap().text().await.unwrap();
        assert!(backlog.contains("H42.12 1 0 0"), "{backlog}");
        std::fs::write(shots.join("dashboard.png"), c.screenshot().await.unwrap()).unwrap();

        // The clerk's queue, from the menu: the dossier just received, with its hours left.
        c.find(Locator::LinkText("Việc của tôi")).await.unwrap().click().await.unwrap();
        let received = c.wait().for_element(Locator::Id("received-here")).await.unwrap().text().await.unwrap();
        assert!(received.contains("H42.12-250307-0001"), "{received}");
        std::fs::write(shots.join("queue.png"), c.screenshot().await.unwrap()).unwrap();

        // A citizen's lookup by code.
        c.goto(&format!("{base}/track")).await.unwrap();
        c.find(Locator::Id("code")).await.unwrap().send_keys(&code).await.unwrap();
        c.find(Locator::Id("lookup")).await.unwrap().click().await.unwrap();
        let status = c.wait().for_element(Locator::Id("status")).await.unwrap();
        assert_eq!(status.text().await.unwrap(), "Được tiếp nhận");
        std::fs::write(shots.join("track.png"), c.screenshot().await.unwrap()).unwrap();
        c.close().await.unwrap();
    });
}

/// A procedure whose limit depends on the case: the counter offers its cases, refuses in
/// Vietnamese a receipt that names none, and prints the case's appointment.
#[test]
fn the_counter_offers_a_procedures_cases() {
    use motcua_core::{Procedure, ProcedureCase};
    let mut p = Procedure::simple("1.003677".parse().unwrap(), "Khai báo tạm vắng", Limit::working_days(1));
    let case = |id: &str, name: &str, days| ProcedureCase {
        id: id.into(),
        name: name.into(),
        limit: Limit::working_days(days),
        channel_limits: vec![],
    };
    p.cases = vec![case("truong-hop-1", "Thông thường", 1), case("truong-hop-2", "Trường hợp phức tạp", 2)];
    p.case_required = true;
    let base = common::serve_with("2025-03-04T09:00", vec![p], motcua_http::Options::default());
    let (cookie, csrf) = sign_in(&base, &Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let (_, _, _, body) = fetch("GET", &format!("{base}/counter"), Some(&cookie), None);
    assert!(body.contains(r#"<option value="truong-hop-2">1.003677 — Trường hợp phức tạp</option>"#), "{body}");
    let form = format!("procedure=1.003677&channel=direct&csrf={csrf}");
    let (status, _, _, body) = fetch("POST", &format!("{base}/counter"), Some(&cookie), Some(&form));
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("cần chọn trường hợp của hồ sơ"), "{body}");
    let form = format!("procedure=1.003677&channel=direct&case=truong-hop-2&csrf={csrf}");
    let (status, _, _, body) = fetch("POST", &format!("{base}/counter"), Some(&cookie), Some(&form));
    assert_eq!(status, 200, "{body}");
    // Tue 4/3 09:00 + 2 working days: Thu 6/3 09:00.
    assert!(body.contains(r#"<time datetime="2025-03-06T09:00+07:00">09:00 ngày 06/03/2025</time>"#), "{body}");
}

/// The counter's case choice as a clerk sees it (a screenshot in the target's tmp folder).
#[test]
fn in_chromium_the_counter_offers_a_procedures_cases() {
    let Some(path) = chromedriver() else { return };
    use motcua_core::{Procedure, ProcedureCase};
    let mut p = Procedure::simple("1.003677".parse().unwrap(), "Khai báo tạm vắng", Limit::working_days(1));
    let case = |id: &str, name: &str, days| ProcedureCase {
        id: id.into(),
        name: name.into(),
        limit: Limit::working_days(days),
        channel_limits: vec![],
    };
    p.cases = vec![case("truong-hop-1", "Thông thường", 1), case("truong-hop-2", "Trường hợp phức tạp", 2)];
    p.case_required = true;
    let base = common::serve_with("2025-03-04T09:00", vec![p], motcua_http::Options::default());
    let token = raw_token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let driver = start_driver(&path);
    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use fantoccini::{ClientBuilder, Locator};
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--window-size=1000,900"]
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let c = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.1))
            .await
            .expect("a Chromium session");
        c.goto(&format!("{base}/counter")).await.unwrap();
        c.find(Locator::Id("token")).await.unwrap().send_keys(&token).await.unwrap();
        c.find(Locator::Id("signin")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("receive")).await.unwrap();
        let select = c.find(Locator::Id("case")).await.unwrap();
        assert!(select.is_displayed().await.unwrap());
        std::fs::write(shots.join("counter-cases.png"), c.screenshot().await.unwrap()).unwrap();
        // No case chosen: told in Vietnamese on the form.
        c.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
        let error = c.wait().for_element(Locator::Id("error")).await.unwrap();
        assert!(error.text().await.unwrap().contains("cần chọn trường hợp"));
        c.find(Locator::Css("#case option[value=truong-hop-2]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
        let due = c.wait().for_element(Locator::Css("#due time")).await.unwrap();
        assert_eq!(due.attr("datetime").await.unwrap().as_deref(), Some("2025-03-06T09:00+07:00"));
        let case = c.find(Locator::Id("case")).await.unwrap().text().await.unwrap();
        assert_eq!(case, "Trường hợp phức tạp");
        std::fs::write(shots.join("counter-cases-slip.png"), c.screenshot().await.unwrap()).unwrap();
        c.close().await.unwrap();
    });
}

/// The officer's queue: what a clerk received is in their agency's queue with its working hours
/// left; an officer of another agency sees none of it; the public is sent to sign in.
#[test]
fn the_queue_lists_the_agencys_open_dossiers_and_nobody_elses() {
    use motcua_core::{Procedure, Step};
    let mut p = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    p.steps = vec![Step::new("tham-dinh", "H42.12", Limit::working_days(2), &[])];
    let base = common::serve_with("2025-03-04T09:00", vec![p], motcua_http::Options::default());
    let (status, location, _, _) = fetch("GET", &format!("{base}/queue"), None, None);
    assert_eq!((status, location.as_str()), (303, "/login?next=/queue"));
    let (cookie, csrf) = sign_in(&base, &Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let form = format!("procedure=1.004194&channel=direct&csrf={csrf}");
    let (status, _, _, body) = fetch("POST", &format!("{base}/counter"), Some(&cookie), Some(&form));
    assert_eq!(status, 200, "{body}");
    let (status, _, _, body) = fetch("GET", &format!("{base}/queue"), Some(&cookie), None);
    assert_eq!(status, 200, "{body}");
    let received = body.split(r#"<table id="received-here">"#).nth(1).unwrap_or_default();
    assert!(received.contains("H42.12-250304-0001"), "{body}");
    // Tue 4/3 09:00 + 3 working days, asked at 09:00: 24 working hours left.
    assert!(received.contains("<td>24</td>"), "{body}");
    let (other, _) = sign_in(&base, &Actor::officer("clerk-2", ActorRole::Clerk, "H42.13"));
    let (status, _, _, body) = fetch("GET", &format!("{base}/queue"), Some(&other), None);
    assert_eq!(status, 200);
    assert!(!body.contains("H42.12-250304-0001"), "{body}");
    assert_eq!(body.matches("Không có hồ sơ.").count(), 2, "{body}");
}
