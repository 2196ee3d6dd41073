//! The API attacked as a hostile citizen, a curious officer and a careless portal would: each
//! attack that once worked, kept as a regression test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{call, serve, serve_with, token};
use motcua_calendar::Limit;
use motcua_core::{Procedure, Step};
use motcua_engine::{Actor, ActorRole};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn register() -> motcua_core::Register {
    motcua_catalog::load_register(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/units/vi-du-hai-xa.toml"),
    )
    .unwrap()
}

/// A server with the example register (the province's centre H99.TT, communes A and B with
/// their committees and police until 30/6/2025), a procedure with a police step.
fn serve_register(now: &str) -> String {
    let mut procedure = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    procedure.steps = vec![Step::new("xac-minh", "cong-an-xa", Limit::working_days(2), &[])];
    let options = motcua_http::Options { units: Some(Arc::new(register())), ..Default::default() };
    serve_with(now, vec![procedure], options)
}

/// A citizen submitting on a code of their choosing (tomorrow's next one) used to be adopted by
/// the clerk's receipt that later reached that number: the attacker stayed a party. Now no
/// command creates a dossier; only the server's routes do, under codes they issue.
#[test]
fn a_citizen_cannot_squat_a_code_and_take_over_a_walk_in_dossier() {
    let base = serve("2025-03-07T09:00");
    let attacker = token(&Actor::citizen("attacker"));
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let submit = r#"{"command": "submit", "procedure": "1.004194", "channel": "online"}"#;
    for code in ["H42.12-250307-0001", "H42.12-250308-0001", "H42.12-991231-0001"] {
        let url = format!("{base}/api/v1/dossiers/{code}/commands");
        let (status, ctype, text, _) = call("POST", &url, Some(&attacker), &[], Some(submit));
        assert_eq!((status, ctype.as_str()), (409, "application/problem+json"), "{code}: {text}");
    }
    // A clerk cannot create one either, today's or a future day's, through a command.
    let receive = r#"{"command": "receive", "procedure": "1.004194", "channel": "direct"}"#;
    for code in ["H42.12-250307-0001", "H42.12-991231-0001"] {
        let url = format!("{base}/api/v1/dossiers/{code}/commands");
        let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(receive));
        assert_eq!(status, 404, "{code}: {text}");
    }
    // The walk-in's dossier gets the code, and the attacker neither sees nor acts on it.
    let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let code = json(&text)["code"].as_str().unwrap().to_string();
    assert_eq!(code, "H42.12-250307-0001");
    let (status, _, _, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}"), Some(&attacker), &[], None);
    assert_eq!(status, 404);
    let withdraw = r#"{"command": "withdraw"}"#;
    let url = format!("{base}/api/v1/dossiers/{code}/commands");
    let (status, _, text, _) = call("POST", &url, Some(&attacker), &[], Some(withdraw));
    assert_eq!(status, 403, "{text}");
    // The history holds the clerk's receipt only.
    let (_, _, text, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}/history"), Some(&clerk), &[], None);
    assert_eq!(json(&text)["events"].as_array().unwrap().len(), 1, "{text}");
}

/// A clerk opens a citizen's online submission and receives it: that is the one adoption the
/// lifecycle allows, through the command route on an existing dossier.
#[test]
fn a_clerk_receives_an_existing_online_submission() {
    let base = serve("2025-03-07T09:00");
    let citizen = token(&Actor::citizen("cd-1"));
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let body = r#"{"procedure": "1.004194", "channel": "online", "agency": "H42.12"}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&citizen), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let code = json(&text)["code"].as_str().unwrap().to_string();
    let receive = r#"{"command": "receive", "procedure": "1.004194", "channel": "online"}"#;
    let url = format!("{base}/api/v1/dossiers/{code}/commands");
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(receive));
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["status"], "received");
    let (status, _, _, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}"), Some(&citizen), &[], None);
    assert_eq!(status, 200);
}

/// Officers used to read any agency's dossiers, histories, applicants' results and the whole
/// province's report. Now each sees what their agency holds, handled or oversees.
#[test]
fn officers_read_only_what_their_agency_holds_handled_or_oversees() {
    let base = serve_register("2025-03-03T09:00");
    let centre = token(&Actor::officer("tt-1", ActorRole::Clerk, "H99.TT"));
    let body = r#"{"procedure": "1.004194", "channel": "direct", "jurisdiction": "P.B"}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&centre), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let code = json(&text)["code"].as_str().unwrap().to_string();
    let start = r#"{"command": "start_step", "step": "xac-minh"}"#;
    let police_b = token(&Actor::officer("ca-b", ActorRole::Specialist, "H99.02.CA"));
    let url = format!("{base}/api/v1/dossiers/{code}/commands");
    assert_eq!(call("POST", &url, Some(&police_b), &[], Some(start)).0, 200);

    let dossier = format!("{base}/api/v1/dossiers/{code}");
    let history = format!("{dossier}/history");
    // Who may read: the receiving centre, the police that handles the step.
    for (who, want) in [(&centre, 200), (&police_b, 200)] {
        assert_eq!(call("GET", &dossier, Some(who), &[], None).0, want);
        assert_eq!(call("GET", &history, Some(who), &[], None).0, want);
    }
    // Who may not: commune A's police and committee, commune B's committee (same commune,
    // not its dossier), an agency the register does not know, the system account (a dossier
    // at the counter is none of the portal's business).
    for actor in [
        Actor::officer("ca-a", ActorRole::Specialist, "H99.01.CA"),
        Actor::officer("ub-a", ActorRole::Leader, "H99.01"),
        Actor::officer("ub-b", ActorRole::Leader, "H99.02"),
        Actor::officer("x", ActorRole::Leader, "H00.00"),
        Actor::system("dvcqg-connector"),
    ] {
        let t = token(&actor);
        assert_eq!(call("GET", &dossier, Some(&t), &[], None).0, 404, "{actor:?}");
        assert_eq!(call("GET", &history, Some(&t), &[], None).0, 404, "{actor:?}");
    }
    // The report: the province's centre sees the province; commune A's committee sees none of
    // it, and an unknown agency is refused.
    let report = format!("{base}/api/v1/report");
    let (_, _, text, _) = call("GET", &report, Some(&centre), &[], None);
    assert_eq!(json(&text)["totals"]["received"], 1, "{text}");
    let ub_a = token(&Actor::officer("ub-a", ActorRole::Leader, "H99.01"));
    let (status, _, text, _) = call("GET", &report, Some(&ub_a), &[], None);
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["totals"]["received"], 0, "{text}");
    let unknown = token(&Actor::officer("x", ActorRole::Leader, "H00.00"));
    assert_eq!(call("GET", &report, Some(&unknown), &[], None).0, 403);
    assert_eq!(call("GET", &report, Some(&token(&Actor::system("s"))), &[], None).0, 403);
    // Deadlines: not for citizens; an officer sees their agency's only.
    let deadlines = format!("{base}/api/v1/deadlines?view=due_soon&hours=200");
    assert_eq!(call("GET", &deadlines, Some(&token(&Actor::citizen("c"))), &[], None).0, 403);
    let (_, _, text, _) = call("GET", &deadlines, Some(&centre), &[], None);
    assert_eq!(json(&text)["rows"].as_array().unwrap().len(), 1, "{text}");
    let (_, _, text, _) = call("GET", &deadlines, Some(&ub_a), &[], None);
    assert_eq!(json(&text)["rows"].as_array().unwrap().len(), 0, "{text}");
}

/// After 30/6/2025 commune A's agencies have ended: their officers read nothing (their
/// successor holds their dossiers), and an empty agency is no agency.
#[test]
fn officers_of_an_ended_agency_or_of_none_read_nothing() {
    let base = serve_register("2025-07-02T09:00");
    let ended = token(&Actor::officer("ub-a", ActorRole::Leader, "H99.01"));
    let (status, _, text, _) = call("GET", &format!("{base}/api/v1/report"), Some(&ended), &[], None);
    assert_eq!(status, 403, "{text}");
    let empty = token(&Actor::officer("x", ActorRole::Leader, " "));
    assert_eq!(call("GET", &format!("{base}/api/v1/report"), Some(&empty), &[], None).0, 401);
    // Nor may a citizen submit to an agency that ended, or one the register does not know;
    // its successor receives.
    let citizen = token(&Actor::citizen("cd-1"));
    for (agency, want) in [("H99.01", 409), ("H00.00", 409), ("H99.03", 201)] {
        let body = format!(r#"{{"procedure": "1.004194", "channel": "online", "agency": "{agency}"}}"#);
        let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&citizen), &[], Some(&body));
        assert_eq!(status, want, "{agency}: {text}");
    }
}

/// An idempotency key used to replay past authorization, to anyone, with the full dossier;
/// and a citizen could use up the key the national portal would use for its message.
#[test]
fn idempotency_keys_belong_to_their_caller() {
    let base = serve("2025-03-07T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    let code = json(&text)["code"].as_str().unwrap().to_string();
    let url = format!("{base}/api/v1/dossiers/{code}/commands");
    let withdraw = r#"{"command": "withdraw"}"#;
    let rate = r#"{"command": "rate", "satisfied": true}"#;
    let key = [("Idempotency-Key", "k-1")];
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &key, Some(withdraw));
    assert_eq!(status, 200, "{text}");
    // A citizen repeating the key gets no replay of the clerk's outcome and no dossier: their
    // request is their own, refused as it would be without a key.
    let stranger = token(&Actor::citizen("stranger"));
    let (status, _, text, _) = call("POST", &url, Some(&stranger), &key, Some(withdraw));
    assert_eq!(status, 403, "{text}");
    assert!(!text.contains("\"version\""), "{text}");
    // Another command under the same key by another caller is no conflict naming the dossier
    // the key was first used on: a fresh request, refused on its own merits.
    let other = token(&Actor::officer("clerk-2", ActorRole::Clerk, "H42.99"));
    let (status, _, text, _) = call("POST", &url, Some(&other), &key, Some(rate));
    assert_ne!(status, 409, "{text}");
    // The same caller repeating it gets the first outcome.
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &key, Some(withdraw));
    assert_eq!(status, 200, "{text}");

    // The portal's message key, used first by a citizen on their own dossier, still creates
    // the portal's dossier.
    let citizen = token(&Actor::citizen("vneid-an"));
    let online = r#"{"procedure": "1.004194", "channel": "online", "agency": "H42.12"}"#;
    let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&citizen), &[], Some(online));
    let mine = json(&text)["code"].as_str().unwrap().to_string();
    let preempt = [("Idempotency-Key", "dvcqg:G22-1")];
    let url = format!("{base}/api/v1/dossiers/{mine}/commands");
    call("POST", &url, Some(&citizen), &preempt, Some(r#"{"command": "withdraw"}"#));
    let portal = token(&Actor::system("dvcqg-connector"));
    let message = r#"{"MaThongDiep": "G22-1", "MaTTHC": "1.004194", "MaDonVi": "H42.12", "ChuHoSo": "vneid-binh"}"#;
    let (status, _, text, _) =
        call("POST", &format!("{base}/api/v1/portal/submissions"), Some(&portal), &[], Some(message));
    assert_eq!(status, 201, "{text}");
    assert_ne!(json(&text)["code"].as_str().unwrap(), mine);
}

/// A CCCD hidden in an account id (spaces, a prefix, a zero-width character) used to pass as
/// a pseudonym and be stored in plain text; so did a token's subject.
#[test]
fn identifiers_in_account_ids_and_token_subjects_are_never_kept_plain() {
    let base = serve("2025-03-07T09:00");
    let portal = token(&Actor::system("dvcqg-connector"));
    let officer = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    for (i, applicant) in
        [" 079203004567", "079 203 004 567", "cccd:079203004567", "0792030\u{200b}04567"].into_iter().enumerate()
    {
        let message = serde_json::json!({
            "message_id": format!("m-{i}"), "procedure": "1.004194", "agency": "H42.12", "applicant": applicant,
        })
        .to_string();
        let (status, _, text, _) =
            call("POST", &format!("{base}/api/v1/portal/submissions"), Some(&portal), &[], Some(&message));
        assert_eq!(status, 201, "{text}");
        let code = json(&text)["code"].as_str().unwrap().to_string();
        let (_, _, text, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}/history"), Some(&officer), &[], None);
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        assert!(!digits.contains("079203004567") && !text.contains("203 004"), "{applicant:?}: {text}");
        // The citizen holding that account reads their dossier.
        let holder = token(&Actor::citizen("079203004567"));
        assert_eq!(call("GET", &format!("{base}/api/v1/dossiers/{code}"), Some(&holder), &[], None).0, 200);
    }
    // A citizen whose token subject is their CCCD submits: the event's actor is a key.
    let citizen = token(&Actor::citizen("079203004567"));
    let online = r#"{"procedure": "1.004194", "channel": "online", "agency": "H42.12"}"#;
    let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&citizen), &[], Some(online));
    let code = json(&text)["code"].as_str().unwrap().to_string();
    let (_, _, text, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}/history"), Some(&citizen), &[], None);
    assert!(!text.contains("079203004567"), "{text}");
    assert!(json(&text)["events"][0]["actor"]["id"].as_str().unwrap().starts_with("a1"), "{text}");
}

/// A citizen may not claim another applicant's identifier for their submission.
#[test]
fn a_citizen_applies_only_under_their_own_identifier() {
    let key = motcua_core::IdentityKey::new(&[7u8; 32]).unwrap();
    let options = motcua_http::Options { identity: Some(key), ..Default::default() };
    let procedure = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    let base = serve_with("2025-03-07T09:00", vec![procedure], options);
    let url = format!("{base}/api/v1/dossiers");
    let claim =
        r#"{"procedure": "1.004194", "channel": "online", "agency": "H42.12", "applicant": {"id": "001203004567"}}"#;
    let (status, _, text, _) = call("POST", &url, Some(&token(&Actor::citizen("vneid-an"))), &[], Some(claim));
    assert_eq!(status, 403, "{text}");
    assert!(!text.contains("001203004567"), "{text}");
    let own = token(&Actor::citizen("001203004567"));
    let (status, _, text, _) = call("POST", &url, Some(&own), &[], Some(claim));
    assert_eq!(status, 201, "{text}");
}

/// The login page followed `next=/%09/evil.example` off-site (a browser drops the tab), and a
/// control character in `next` was a 500.
#[test]
fn login_goes_only_to_a_path_of_this_site() {
    let base = serve("2025-03-07T09:00");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let raw =
        motcua_http::issue_token(common::SECRET, &Actor::officer("c", ActorRole::Clerk, "H42.12"), now, 600).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let (pair, nonce) = common::login_nonce(&base);
    for next in ["/%09/evil.example", "/%0a/evil.example", "%2f%2fevil.example", "/%5cevil.example", "/%00", "/%7f"] {
        let resp = agent
            .post(&format!("{base}/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Cookie", &pair)
            .send(format!("token={raw}&next={next}&nonce={nonce}"))
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303, "{next}");
        assert_eq!(resp.headers().get("location").unwrap().to_str().unwrap(), "/", "{next}");
    }
    let resp = agent.get(&format!("{base}/login?next=/%01x")).call().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

/// A report as of the year 9999 used to keep a core busy for a minute after the client gave up.
#[test]
fn absurd_report_ranges_are_refused() {
    let base = serve("2025-03-07T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    for q in [
        "as_of=9999-12-31T23:59",
        "as_of=4000-01-01T00:00",
        "as_of=1900-01-01T00:00",
        "from=1900-01-01&to=2025-01-01",
        "from=2025-01-01&to=9999-01-01",
    ] {
        let (status, ctype, text, _) = call("GET", &format!("{base}/api/v1/report?{q}"), Some(&clerk), &[], None);
        assert_eq!((status, ctype.as_str()), (400, "application/problem+json"), "{q}: {text}");
        assert!(!text.contains("9999") && !text.contains("4000"), "no echo: {text}");
    }
    let (status, _, _, _) =
        call("GET", &format!("{base}/api/v1/deadlines?as_of=9999-12-31T23:59"), Some(&clerk), &[], None);
    assert_eq!(status, 400);
}

/// Every error the server sends is problem+json (the framework's 405, 413, a path that does
/// not decode included), with a short detail that echoes nothing; every response carries the
/// security headers.
#[test]
fn every_error_is_problem_json_and_every_response_has_the_security_headers() {
    let base = serve("2025-03-07T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let agent = common::agent();
    // One byte over the limit: the server reads all of it before it answers, so the client is
    // never cut off mid-send (a larger body races the answer and may end in a broken pipe).
    let head = r#"{"procedure": "1.004194", "channel": "direct", "jurisdiction": ""#;
    let big = format!("{head}{}\"}}", "x".repeat(motcua_http::MAX_BODY + 1 - head.len() - 2));
    assert_eq!(big.len(), motcua_http::MAX_BODY + 1);
    let huge_field = format!(r#"{{"command": "{}"}}"#, "y".repeat(100_000));
    let mut responses = [
        agent.get(&format!("{base}/api/v1/dossiers")).call().unwrap(), // 405
        agent.get(&format!("{base}/api/v1/dossiers/%ff")).header("Authorization", &clerk).call().unwrap(),
        agent.get(&format!("{base}/nowhere")).call().unwrap(),
        agent
            .post(&format!("{base}/api/v1/dossiers"))
            .header("Authorization", &clerk)
            .header("Content-Type", "application/json")
            .send(&big)
            .unwrap(),
        agent
            .post(&format!("{base}/api/v1/dossiers/H42.12-250307-0001/commands"))
            .header("Authorization", &clerk)
            .header("Content-Type", "application/json")
            .send(&huge_field)
            .unwrap(),
        agent.get(&format!("{base}/api/v1/report")).header("Authorization", "Bearer x.y.z").call().unwrap(),
        agent.get(&format!("{base}/healthz")).header("X-Big", &"a".repeat(20_000)).call().unwrap(),
    ];
    let expected = [405, 400, 404, 413, 400, 401, 431];
    for (resp, want) in responses.iter_mut().zip(expected) {
        let status = resp.status().as_u16();
        let ctype = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let headers = resp.headers().clone();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        assert_eq!((status, ctype.as_str()), (want, "application/problem+json"), "{body}");
        assert!(body.len() < 600, "a short detail: {} bytes", body.len());
        for h in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"] {
            assert!(headers.contains_key(h), "{h} on {want}");
        }
        assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    }
    // And on successes, pages included.
    for path in ["/", "/track", "/login", "/healthz"] {
        let resp = agent.get(&format!("{base}{path}")).call().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert!(resp
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
    }
}

/// `/api/v1/track` used to answer thousands of requests a second to anyone: now each client
/// address has a budget, and past it gets 429 problem+json with `Retry-After`.
#[test]
fn anonymous_lookups_are_rate_limited_per_client() {
    let base = serve("2025-03-07T09:00");
    let agent = common::agent();
    let mut limited = None;
    for i in 0..100 {
        let resp = agent.get(&format!("{base}/api/v1/track/H42.12-250307-0001")).call().unwrap();
        if resp.status().as_u16() == 429 {
            limited = Some((i, resp));
            break;
        }
    }
    let (i, resp) = limited.expect("limited within 100 requests");
    assert!(i >= 10, "a burst is allowed first ({i})");
    assert_eq!(resp.headers().get("content-type").unwrap(), "application/problem+json");
    assert!(resp.headers().contains_key("retry-after"));
}

/// A client that sends half a request and waits used to hold its connection for ever.
#[test]
fn a_slow_client_is_cut_off_by_the_header_read_timeout() {
    use std::io::{Read, Write};
    let limits =
        motcua_http::Limits { header_read_timeout: std::time::Duration::from_millis(300), ..Default::default() };
    let base = common::serve_limited("2025-03-07T09:00", limits);
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    // The server closes the connection (with or without a 408): the read ends, well before ours.
    let _ = s.read_to_end(&mut buf);
    assert!(started.elapsed() < std::time::Duration::from_secs(9), "the server closed it");
}

/// A refused create used to use up a number of the agency's sequence: now the engine admits
/// the request before the code is issued.
#[test]
fn a_refused_create_uses_no_code() {
    let base = serve("2025-03-07T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let citizen = token(&Actor::citizen("cd-1"));
    let url = format!("{base}/api/v1/dossiers");
    for (who, body) in [
        (&clerk, r#"{"procedure": "9.999999", "channel": "direct"}"#),
        (&clerk, r#"{"procedure": "1.004194", "channel": "direct", "agency": "H42.99"}"#),
        (&citizen, r#"{"procedure": "9.999999", "channel": "online", "agency": "H42.12"}"#),
    ] {
        let (status, _, text, _) = call("POST", &url, Some(who), &[], Some(body));
        assert!((400..500).contains(&status), "{body}: {status} {text}");
    }
    let (status, _, text, _) =
        call("POST", &url, Some(&clerk), &[], Some(r#"{"procedure": "1.004194", "channel": "direct"}"#));
    assert_eq!(status, 201, "{text}");
    assert_eq!(json(&text)["code"], "H42.12-250307-0001");
}
