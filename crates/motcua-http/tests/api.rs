//! The API against a real server on loopback, as a portal calls it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_engine::{Actor, ActorRole};
use motcua_http::issue_token;

mod common;
use common::{call, serve, token};

#[test]
fn a_clerk_receives_and_moves_a_dossier_over_http() {
    let base = serve("2025-03-07T15:30");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let (status, _, text, _) = call("GET", &format!("{base}/healthz"), None, &[], None);
    assert_eq!((status, text.as_str()), (200, "ok"));
    // The OpenAPI document lists every route.
    let (status, _, text, _) = call("GET", &format!("{base}/api/v1/openapi.json"), None, &[], None);
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/dossiers",
        "/api/v1/dossiers/{code}",
        "/api/v1/dossiers/{code}/history",
        "/api/v1/dossiers/{code}/commands",
        "/api/v1/deadlines",
        "/api/v1/report",
        "/api/v1/track/{code}",
        "/api/v1/portal/submissions",
        "/api/v1/applicants/{key}/results",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from {text}");
    }
    // Received Friday 15:30, after the cut-off: the clock starts Monday, due Thursday.
    let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let (status, _, text, etag) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["code"], "H42.12-250307-0001");
    assert_eq!(d["status"], "received");
    assert_eq!(d["national_status"], 2);
    assert_eq!(d["clock_start"], "2025-03-10T07:00+07:00");
    assert_eq!(d["due"], "2025-03-12T17:00+07:00");
    assert_eq!(etag, "\"1\"");
    // The next one gets the next number of the day.
    let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"], "H42.12-250307-0002");
    let url = format!("{base}/api/v1/dossiers/H42.12-250307-0001");
    let (status, _, _, etag) = call("GET", &url, Some(&clerk), &[], None);
    assert_eq!((status, etag.as_str()), (200, "\"1\""));
    // A command with the right version, then one with a stale one.
    let cmd = r#"{"command": "request_supplement", "reason": "thiếu giấy tờ"}"#;
    let (status, _, text, etag) =
        call("POST", &format!("{url}/commands"), Some(&clerk), &[("If-Match", "\"1\"")], Some(cmd));
    assert_eq!((status, etag.as_str()), (200, "\"2\""), "{text}");
    let (status, ctype, text, _) =
        call("POST", &format!("{url}/commands"), Some(&clerk), &[("If-Match", "\"1\"")], Some(cmd));
    assert_eq!(status, 412, "{text}");
    assert_eq!(ctype, "application/problem+json");
    // An idempotency key makes a repeat harmless.
    let again = r#"{"command": "receive_supplement"}"#;
    for _ in 0..2 {
        let (status, _, text, etag) =
            call("POST", &format!("{url}/commands"), Some(&clerk), &[("Idempotency-Key", "k-1")], Some(again));
        assert_eq!((status, etag.as_str()), (200, "\"3\""), "{text}");
    }
    let (status, _, text, _) = call("GET", &format!("{url}/history"), Some(&clerk), &[], None);
    assert_eq!(status, 200);
    let h: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(h["events"].as_array().unwrap().len(), 3);
    assert_eq!(h["events"][1]["event"]["event"], "supplement_requested");
    // Both are overdue by 20 March (dossier 1's supplement came back within the same Friday
    // afternoon: its limit restarts from Monday, the same due time as dossier 2), by code.
    let (status, _, text, _) =
        call("GET", &format!("{base}/api/v1/deadlines?view=overdue&as_of=2025-03-20T08:00"), Some(&clerk), &[], None);
    assert_eq!(status, 200, "{text}");
    let rows: serde_json::Value = serde_json::from_str(&text).unwrap();
    let codes: Vec<&str> = rows["rows"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["H42.12-250307-0001", "H42.12-250307-0002"]);
    assert_eq!(rows["rows"][0]["due"], "2025-03-12T17:00+07:00");
    // Both fall due within 16 hours of 12 March 08:00; none within 8 hours of 12 March 09:01.
    let (_, _, text, _) = call(
        "GET",
        &format!("{base}/api/v1/deadlines?view=due_soon&as_of=2025-03-12T08:00&hours=16"),
        Some(&clerk),
        &[],
        None,
    );
    let soon: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(soon["rows"].as_array().unwrap().len(), 2, "{text}");
    let (_, _, text, _) = call(
        "GET",
        &format!("{base}/api/v1/deadlines?view=due_soon&as_of=2025-03-12T09:01&hours=7"),
        Some(&clerk),
        &[],
        None,
    );
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["rows"].as_array().unwrap().len(), 0);
    let (status, ctype, _, _) = call("GET", &format!("{base}/api/v1/deadlines?view=sideways"), Some(&clerk), &[], None);
    assert_eq!((status, ctype.as_str()), (400, "application/problem+json"));
}

#[test]
fn bad_requests_get_their_4xx_as_problem_json_and_the_server_keeps_serving() {
    let base = serve("2025-03-03T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let other = token(&Actor::officer("clerk-9", ActorRole::Clerk, "H42.99"));
    let url = format!("{base}/api/v1/dossiers");
    let ok = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let forged = {
        let fake = issue_token(b"another secret", &Actor::officer("x", ActorRole::Leader, "H42.12"), 2_000_000_000, 60);
        format!("Bearer {}", fake.unwrap())
    };
    // Just over the limit: the server answers 413 having read nearly all of it (a body far
    // larger can meet a closed connection before the client finishes writing it).
    let big =
        format!(r#"{{"procedure": "1.004194", "channel": "direct", "x": "{}"}}"#, "a".repeat(motcua_http::MAX_BODY));
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        ("malformed JSON", Some(&clerk), "{not json".into(), 400, "bad_json"),
        (
            "unknown procedure",
            Some(&clerk),
            r#"{"procedure": "9.999999", "channel": "direct"}"#.into(),
            422,
            "unknown_procedure",
        ),
        ("no token", None, ok.into(), 401, "unauthenticated"),
        ("forged token", Some(&forged), ok.into(), 401, "unauthenticated"),
        (
            "another agency's clerk",
            Some(&other),
            r#"{"procedure": "1.004194", "channel": "direct", "agency": "H42.12"}"#.into(),
            403,
            "unauthorized",
        ),
        ("body over 1 MiB", Some(&clerk), big, 413, ""),
    ];
    for (what, auth, body, want, kind) in cases {
        let (status, ctype, text, _) = call("POST", &url, auth, &[], Some(&body));
        assert_eq!(status, want, "{what}: {text}");
        if !kind.is_empty() {
            assert_eq!(ctype, "application/problem+json", "{what}");
            let p: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(p["type"], format!("/problems/{kind}"), "{what}: {text}");
            assert_eq!(p["status"], want);
        }
    }
    let (status, _, _, _) = call("GET", &format!("{url}/H42.12-250303-0042"), Some(&clerk), &[], None);
    assert_eq!(status, 404);
    let (status, _, _, _) = call("GET", &format!("{url}/not-a-code"), Some(&clerk), &[], None);
    assert_eq!(status, 400);
    // Still serving: the first dossier of the day is received.
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(ok));
    assert_eq!(status, 201, "{text}");
    // A citizen sees only their own dossiers.
    let citizen = token(&Actor::citizen("cd-77"));
    let mine = r#"{"procedure": "1.004194", "channel": "online", "agency": "H42.12"}"#;
    let (status, _, text, _) = call("POST", &url, Some(&citizen), &[], Some(mine));
    assert_eq!(status, 201, "{text}");
    let code = serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"].as_str().unwrap().to_string();
    assert_eq!(call("GET", &format!("{url}/{code}"), Some(&citizen), &[], None).0, 200);
    let stranger = token(&Actor::citizen("cd-88"));
    assert_eq!(call("GET", &format!("{url}/{code}"), Some(&stranger), &[], None).0, 404);
    assert_eq!(call("GET", &format!("{url}/H42.12-250303-0001"), Some(&citizen), &[], None).0, 404);
}

#[test]
fn two_clerks_racing_on_one_dossier_one_wins() {
    let base = serve("2025-03-03T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    let code = serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"].as_str().unwrap().to_string();
    let url = format!("{base}/api/v1/dossiers/{code}/commands");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let racers: Vec<_> = ["first", "second"]
            .iter()
            .map(|why| {
                let (url, clerk) = (&url, &clerk);
                s.spawn(move || {
                    let cmd = format!(r#"{{"command": "request_supplement", "reason": "{why}"}}"#);
                    call("POST", url, Some(clerk), &[("If-Match", "1")], Some(&cmd)).0
                })
            })
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert!(sorted == [200, 412] || sorted == [200, 409], "{statuses:?}");
    let (_, _, _, etag) = call("GET", &format!("{base}/api/v1/dossiers/{code}"), Some(&clerk), &[], None);
    assert_eq!(etag, "\"2\"", "one command written, nothing lost");
}

#[test]
fn reports_for_officers_and_public_tracking_without_personal_data() {
    let base = serve("2025-03-03T09:00");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    let code = serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"].as_str().unwrap().to_string();
    // A citizen submits online, so the dossier has an applicant to keep private.
    let citizen = token(&Actor::citizen("cd-77"));
    let online = r#"{"procedure": "1.004194", "channel": "online", "agency": "H42.12"}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&citizen), &[], Some(online));
    assert_eq!(status, 201, "{text}");
    let submitted = serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"].as_str().unwrap().to_string();

    let report = format!("{base}/api/v1/report");
    let (status, _, text, _) = call("GET", &report, Some(&clerk), &[], None);
    assert_eq!(status, 200, "{text}");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["totals"]["received"], 1, "received at the counter; the online one is only submitted");
    let (status, ctype, text, _) =
        call("GET", &format!("{report}?format=csv&from=2025-03-01"), Some(&clerk), &[], None);
    assert_eq!((status, ctype.as_str()), (200, "text/csv; charset=utf-8"));
    assert!(text.starts_with("dimension,key,name,received"), "{text}");
    let (status, ctype, text, _) = call("GET", &format!("{report}?format=html"), Some(&clerk), &[], None);
    assert_eq!((status, ctype.as_str()), (200, "text/html; charset=utf-8"));
    assert!(text.contains("<svg"), "charts drawn");
    // Nothing was received in February.
    let (_, _, text, _) = call("GET", &format!("{report}?from=2025-02-01&to=2025-02-28"), Some(&clerk), &[], None);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["totals"]["received"], 0);
    for (query, kind) in [
        ("?from=2025-13-01", "bad_date"),
        ("?from=2025-03-02&to=2025-03-01", "bad_date"),
        ("?format=pdf", "bad_format"),
        ("?as_of=yesterday", "bad_time"),
        ("?colour=red", "bad_query"),
    ] {
        let (status, ctype, text, _) = call("GET", &format!("{report}{query}"), Some(&clerk), &[], None);
        assert_eq!((status, ctype.as_str()), (400, "application/problem+json"), "{query}: {text}");
        assert!(text.contains(&format!("/problems/{kind}")), "{query}: {text}");
    }
    assert_eq!(call("GET", &report, Some(&citizen), &[], None).0, 403);
    assert_eq!(call("GET", &report, None, &[], None).0, 401);

    // Tracking needs no token and shows no applicant.
    for c in [&code, &submitted] {
        let (status, _, text, _) = call("GET", &format!("{base}/api/v1/track/{c}"), None, &[], None);
        assert_eq!(status, 200, "{text}");
        let t: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(t["procedure_name"], "Đăng ký tạm trú");
        assert!(!text.contains("cd-77") && !text.contains("clerk-1"), "no actor in {text}");
    }
    let (_, _, text, _) = call("GET", &format!("{base}/api/v1/track/{code}"), None, &[], None);
    let t: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (t["status_name"].as_str(), t["due"].as_str()),
        (Some("Được tiếp nhận"), Some("2025-03-06T09:00+07:00"))
    );
    assert_eq!(call("GET", &format!("{base}/api/v1/track/H42.12-250303-0099"), None, &[], None).0, 404);
    assert_eq!(call("GET", &format!("{base}/api/v1/track/nonsense"), None, &[], None).0, 400);
}

#[test]
fn with_a_register_a_centre_receives_for_a_commune_and_only_its_units_act() {
    use motcua_core::{Procedure, Step};
    let register = motcua_catalog::load_register(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/units/vi-du-hai-xa.toml"),
    )
    .unwrap();
    let mut procedure =
        Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", motcua_calendar::Limit::working_days(3));
    procedure.steps = vec![Step::new("xac-minh", "cong-an-xa", motcua_calendar::Limit::working_days(2), &[])];
    let options = motcua_http::Options { units: Some(std::sync::Arc::new(register)), ..Default::default() };
    let base = common::serve_with("2025-03-03T09:00", vec![procedure], options);
    let centre = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H99.TT"));
    let body = r#"{"procedure": "1.004194", "channel": "direct", "jurisdiction": "P.B"}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&centre), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let created = serde_json::from_str::<serde_json::Value>(&text).unwrap();
    assert_eq!(created["jurisdiction"], "P.B");
    let code = created["code"].as_str().unwrap().to_string();
    assert!(code.starts_with("H99.TT-250303-"), "{code}");
    let url = format!("{base}/api/v1/dossiers/{code}/commands");
    let start = r#"{"command": "start_step", "step": "xac-minh"}"#;
    // The label is no pass, nor is commune A's police; commune B's is.
    for (agency, want) in [("cong-an-xa", 403), ("H99.01.CA", 403), ("H99.02.CA", 200)] {
        let officer = token(&Actor::officer("ca-1", ActorRole::Specialist, agency));
        let (status, _, text, _) = call("POST", &url, Some(&officer), &[], Some(start));
        assert_eq!(status, want, "{agency}: {text}");
    }
    let (_, _, text, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}/history"), Some(&centre), &[], None);
    let h: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(h["events"][1]["event"]["agency"], "H99.02.CA");
    assert_eq!(h["events"][1]["actor"]["agency"], "H99.02.CA");
    // The report groups by administrative unit and rolls up: commune B, then the province;
    // the handling unit shows among the step agencies, the receiving centre among the agencies.
    let (_, _, text, _) = call("GET", &format!("{base}/api/v1/report"), Some(&centre), &[], None);
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let units: Vec<(&str, u64)> = r["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["key"].as_str().unwrap(), u["received"].as_u64().unwrap()))
        .collect();
    assert_eq!(units, [("P", 1), ("P.B", 1)], "{text}");
    assert_eq!(r["by_agency"][0]["key"], "H99.TT");
    assert_eq!(r["by_step_agency"][0]["agency"], "H99.02.CA");
    // An unknown unit is a 409 with its own problem type, nothing written.
    let bad = r#"{"procedure": "1.004194", "channel": "direct", "jurisdiction": "P.Z"}"#;
    let (status, ctype, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&centre), &[], Some(bad));
    assert_eq!((status, ctype.as_str()), (409, "application/problem+json"), "{text}");
}

/// An online submission forwarded by the national portal becomes a `submit` by the system on
/// the citizen's behalf, once per portal message; the citizen is its applicant.
#[test]
fn the_national_portal_forwards_an_online_submission_once() {
    let base = serve("2025-03-07T21:10");
    let portal = token(&Actor::system("dvcqg-connector"));
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let url = format!("{base}/api/v1/portal/submissions");
    let body = r#"{"MaThongDiep": "G22-000123", "MaTTHC": "1.004194", "MaDonVi": "H42.12", "ChuHoSo": "vneid-an"}"#;
    // Only a system account submits here.
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(body));
    assert_eq!(status, 403, "{text}");
    let (status, _, text, _) = call("POST", &url, Some(&portal), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    let code = d["code"].as_str().unwrap().to_string();
    assert_eq!((d["status"].as_str(), d["national_status"].as_u64()), (Some("submitted"), Some(1)));
    // Delivered again: the same dossier, nothing new.
    let (status, _, text, _) = call("POST", &url, Some(&portal), &[], Some(body));
    assert_eq!(status, 200, "{text}");
    let again: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again["code"], code.as_str());
    assert_eq!(again["version"], 1);
    // The citizen it was submitted for is its applicant: they may withdraw it, another may not.
    let cmd = format!("{base}/api/v1/dossiers/{code}/commands");
    let other = token(&Actor::citizen("vneid-binh"));
    let (status, _, text, _) = call("POST", &cmd, Some(&other), &[], Some(r#"{"command": "withdraw"}"#));
    assert_eq!(status, 403, "{text}");
    let an = token(&Actor::citizen("vneid-an"));
    let (status, _, text, _) = call("POST", &cmd, Some(&an), &[], Some(r#"{"command": "withdraw"}"#));
    assert_eq!(status, 200, "{text}");
    // An account id that is a CCCD (as a VNeID account's is) is keyed before it is kept: the
    // citizen signing in with it is the applicant, and the number is nowhere to be read.
    let cccd = r#"{"message_id": "m2", "procedure": "1.004194", "agency": "H42.12", "applicant": "001203004567"}"#;
    let (status, _, text, _) = call("POST", &url, Some(&portal), &[], Some(cccd));
    assert_eq!(status, 201, "{text}");
    let code = serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"].as_str().unwrap().to_string();
    let holder = token(&Actor::citizen("001203004567"));
    let (status, _, text, _) = call("GET", &format!("{base}/api/v1/dossiers/{code}/history"), Some(&holder), &[], None);
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains("001203004567") && !text.contains("203004567"), "{text}");
    // Unknown fields are refused.
    let extra = r#"{"message_id": "m3", "procedure": "1.004194", "agency": "H42.12", "applicant": "a", "x": 1}"#;
    let (status, _, text, _) = call("POST", &url, Some(&portal), &[], Some(extra));
    assert_eq!(status, 400, "{text}");
}

/// An applicant's CCCD given at the counter is keyed with the server's identity key at once:
/// the dossier shows the key, never the number; a server without a key refuses to take one.
#[test]
fn an_applicants_identifier_is_kept_only_as_a_key() {
    let base = serve_with_identity_key();
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let url = format!("{base}/api/v1/dossiers");
    let body = r#"{"procedure": "1.004194", "channel": "direct", "applicant": {"id": "058203004567", "vneid": true}}"#;
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    assert!(!text.contains("058203004567"), "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(d["applicant"]["key"].as_str().unwrap().starts_with("k1"), "{text}");
    assert_eq!(d["applicant"]["kind"], "citizen");
    // A malformed identifier is refused without echoing it.
    let bad = r#"{"procedure": "1.004194", "channel": "direct", "applicant": {"id": "05820300456X"}}"#;
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(bad));
    assert_eq!(status, 400, "{text}");
    assert!(!text.contains("05820300456X"), "{text}");
    // Without an identity key, no identifier is taken.
    let base = serve("2025-03-07T09:30");
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("identity_key_missing"), "{text}");
}

#[test]
fn a_feedback_is_filed_answered_and_shown_with_its_deadlines() {
    // The server's clock is fixed: every command happens at Friday 7 March 2025, 09:30.
    let base = serve("2025-03-07T09:30");
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let url = format!("{base}/api/v1/dossiers/H42.12-250307-0001/commands");
    let file = r#"{"command": "file_feedback", "subject": "Hẹn trả kết quả không rõ ràng", "topic": "conduct"}"#;
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(file));
    assert_eq!(status, 200, "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = &d["feedback"][0];
    assert_eq!(f["number"], 1);
    // Two working days to reject, fifteen to answer, from Friday 09:30 (Decision 766's formula description).
    assert_eq!(f["reject_by"], "2025-03-11T09:30+07:00");
    assert_eq!(f["due"], "2025-03-28T09:30+07:00");
    assert_eq!(f["topic"], "conduct");
    // Answering a feedback that does not exist is a 4xx naming the rule.
    let answer = r#"{"command": "answer_feedback", "feedback": 2, "end": "answered", "text": "Đã trả lời"}"#;
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(answer));
    assert!((400..500).contains(&status), "{status} {text}");
    assert!(text.contains("unknown_feedback"), "{text}");
    let answer = answer.replace("\"feedback\": 2", "\"feedback\": 1");
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(&answer));
    assert_eq!(status, 200, "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["feedback"][0]["outcome"], "early");
    assert_eq!(d["feedback"][0]["publish_by"], "2025-03-11T09:30+07:00");
}

#[test]
fn an_officer_sees_an_applicants_results_in_force() {
    let base = serve_with_identity_key();
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let leader = token(&Actor::officer("leader-1", ActorRole::Leader, "H42.12"));
    let body = r#"{"procedure": "1.004194", "channel": "direct", "applicant": {"id": "058203004567"}}"#;
    let (status, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    let key = d["applicant"]["key"].as_str().unwrap().to_string();
    let finish = r#"{"command": "finish", "decision": "approved", "result": {"number": "TT-1", "electronic": true}}"#;
    let url = format!("{base}/api/v1/dossiers/H42.12-250307-0001/commands");
    let (status, _, text, _) = call("POST", &url, Some(&leader), &[], Some(finish));
    assert_eq!(status, 200, "{text}");
    let (status, _, text, _) = call("GET", &format!("{base}/api/v1/applicants/{key}/results"), Some(&clerk), &[], None);
    assert_eq!(status, 200, "{text}");
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["results"][0]["number"], "TT-1");
    assert_eq!(r["results"][0]["issued_by"], "H42.12-250307-0001");
    // Not a key: refused without echoing it; a citizen may not look.
    let (status, _, text, _) =
        call("GET", &format!("{base}/api/v1/applicants/058203004567/results"), Some(&clerk), &[], None);
    assert_eq!(status, 400, "{text}");
    assert!(!text.contains("058203004567"), "{text}");
    let citizen = token(&Actor::citizen("cd-1"));
    let (status, _, _, _) = call("GET", &format!("{base}/api/v1/applicants/{key}/results"), Some(&citizen), &[], None);
    assert_eq!(status, 403);
    // Another agency's officer sees none of the results this agency's dossiers issued; the
    // portal's system account is refused.
    let stranger = token(&Actor::officer("clerk-9", ActorRole::Clerk, "H42.99"));
    let (status, _, text, _) =
        call("GET", &format!("{base}/api/v1/applicants/{key}/results"), Some(&stranger), &[], None);
    assert_eq!(status, 200, "{text}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["results"].as_array().unwrap().len(), 0);
    let system = token(&Actor::system("dvcqg-connector"));
    let (status, _, _, _) = call("GET", &format!("{base}/api/v1/applicants/{key}/results"), Some(&system), &[], None);
    assert_eq!(status, 403);
}

/// A server at Friday 7 March 2025, 09:30, with an identity key (applicants' identifiers taken).
fn serve_with_identity_key() -> String {
    let procedure = motcua_core::Procedure::simple(
        "1.004194".parse().unwrap(),
        "Đăng ký tạm trú",
        motcua_calendar::Limit::working_days(3),
    );
    let identity = motcua_core::IdentityKey::new(&[9u8; 32]).ok();
    let options = motcua_http::Options { identity, ..motcua_http::Options::default() };
    common::serve_with("2025-03-07T09:30", vec![procedure], options)
}

#[test]
fn the_api_and_the_pages_can_be_served_apart() {
    use common::serve_router;
    use motcua_calendar::Limit;
    use motcua_core::Procedure;
    use motcua_http::{api_router, pages_router, Limits, Options};
    let procedure = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    let api_only =
        serve_router("2025-03-04T09:00", vec![procedure.clone()], Options::default(), Limits::default(), api_router);
    assert_eq!(call("GET", &format!("{api_only}/healthz"), None, &[], None).0, 200);
    assert_eq!(call("GET", &format!("{api_only}/api/v1/openapi.json"), None, &[], None).0, 200);
    let (status, _, body, _) = call("GET", &format!("{api_only}/login"), None, &[], None);
    assert_eq!(status, 404, "no pages: {body}");
    let pages_only =
        serve_router("2025-03-04T09:00", vec![procedure], Options::default(), Limits::default(), pages_router);
    assert_eq!(call("GET", &format!("{pages_only}/login"), None, &[], None).0, 200);
    assert_eq!(call("GET", &format!("{pages_only}/api/v1/openapi.json"), None, &[], None).0, 404);
}

#[test]
fn a_receipt_names_its_case_when_the_limit_depends_on_it() {
    use common::serve_with;
    use motcua_calendar::Limit;
    use motcua_core::{Procedure, ProcedureCase};
    let mut p = Procedure::simple("1.003677".parse().unwrap(), "Khai báo tạm vắng", Limit::working_days(1));
    p.cases = vec![
        ProcedureCase {
            id: "truong-hop-1".into(),
            name: "Thông thường".into(),
            limit: Limit::working_days(1),
            channel_limits: vec![],
        },
        ProcedureCase {
            id: "truong-hop-2".into(),
            name: "Phức tạp".into(),
            limit: Limit::working_days(2),
            channel_limits: vec![],
        },
    ];
    p.case_required = true;
    let base = serve_with("2026-08-03T08:00", vec![p], motcua_http::Options::default());
    let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
    let url = format!("{base}/api/v1/dossiers");
    let (status, _, text, _) =
        call("POST", &url, Some(&clerk), &[], Some(r#"{"procedure": "1.003677", "channel": "direct"}"#));
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("case_required"), "{text}");
    let body = r#"{"procedure": "1.003677", "channel": "direct", "case": "truong-hop-2"}"#;
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(body));
    assert_eq!(status, 201, "{text}");
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(d["due"], "2026-08-05T08:00+07:00");
    let body = r#"{"procedure": "1.003677", "channel": "direct", "case": "truong-hop-9"}"#;
    let (status, _, text, _) = call("POST", &url, Some(&clerk), &[], Some(body));
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("unknown_case"), "{text}");
}
