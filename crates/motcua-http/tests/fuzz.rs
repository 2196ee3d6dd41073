//! The API under mutated request bodies, headers and paths: every answer is a 2xx or a 4xx
//! problem, never a 5xx, and the server keeps serving. And several callers interleaving (two
//! citizens, two agencies' clerks, the portal): nobody ever reads or acts on a dossier that is
//! not theirs, and no dossier is created but through the server's routes. A longer run: `PROPTEST_CASES=5000
//! cargo test -p motcua-http --test fuzz --release` (FUZZING.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::OnceLock;

use common::{call, serve, token};
use motcua_engine::{Actor, ActorRole};
use proptest::prelude::*;

/// One server for all cases, with one received dossier to send commands to.
fn server() -> &'static (String, String, String) {
    static SERVER: OnceLock<(String, String, String)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let base = serve("2025-03-03T09:00");
        let clerk = token(&Actor::officer("clerk-1", ActorRole::Clerk, "H42.12"));
        let body = r#"{"procedure": "1.004194", "channel": "direct"}"#;
        let (_, _, text, _) = call("POST", &format!("{base}/api/v1/dossiers"), Some(&clerk), &[], Some(body));
        let code = serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"].as_str().unwrap().to_string();
        (base, clerk, code)
    })
}

fn mutate(text: &str, edits: &[(usize, u8, bool)]) -> String {
    let mut b = text.as_bytes().to_vec();
    for &(i, x, insert) in edits {
        if insert || b.is_empty() {
            b.insert(i % (b.len() + 1), x);
        } else {
            let n = b.len();
            b[i % n] = x;
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

const BODIES: [&str; 6] = [
    r#"{"procedure": "1.004194", "channel": "direct"}"#,
    r#"{"command": "start_step", "step": "tiep-nhan"}"#,
    r#"{"command": "request_supplement", "reason": "thiếu giấy tờ"}"#,
    r#"{"command": "request_financial_obligation", "amount": "50000"}"#,
    r#"{"command": "extend", "new_due": "2025-03-10T17:00", "reason": "x"}"#,
    r#"{"command": "finish", "decision": "denied", "reason": "x"}"#,
];

/// 128 cases by default (each is two HTTP requests); `PROPTEST_CASES` sets more.
fn config() -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(128)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_requests_get_a_2xx_or_a_4xx_never_a_5xx(
        pick in 0usize..BODIES.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<bool>()), 0..6),
        route in 0usize..4,
        if_match in proptest::option::of("[0-9a-z\"]{0,6}"),
        query in "[a-z_=&%0-9]{0,30}",
    ) {
        let (base, clerk, code) = server();
        let body = mutate(BODIES[pick], &edits);
        let headers: Vec<(&str, &str)> = if_match.as_deref().map(|v| vec![("If-Match", v)]).unwrap_or_default();
        let (method, url) = match route {
            0 => ("POST", format!("{base}/api/v1/dossiers")),
            1 => ("POST", format!("{base}/api/v1/dossiers/{code}/commands")),
            2 => ("GET", format!("{base}/api/v1/deadlines?{query}")),
            _ => ("GET", format!("{base}/api/v1/report?{query}")),
        };
        let (status, ctype, text, _) = call(method, &url, Some(clerk), &headers, Some(&body));
        prop_assert!(status < 500, "{method} {url} {body:?}: {status} {text}");
        if status >= 400 {
            prop_assert!(ctype == "application/problem+json", "{status} {ctype}");
        }
        let (status, _, _, _) = call("GET", &format!("{base}/healthz"), None, &[], None);
        prop_assert_eq!(status, 200);
    }
}

/// Who acts in the multi-actor sequences.
fn actors() -> [(Actor, &'static str); 5] {
    [
        (Actor::citizen("citizen-a"), "citizen-a"),
        (Actor::citizen("citizen-b"), "citizen-b"),
        (Actor::officer("clerk-12", ActorRole::Clerk, "H42.12"), "H42.12"),
        (Actor::officer("clerk-99", ActorRole::Clerk, "H42.99"), "H42.99"),
        (Actor::system("dvcqg-connector"), "portal"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Steps of (who, what, which code): creating online or at the counter, commands on codes
    /// created so far or guessed ahead, reads. Whoever created a dossier (a citizen online, an
    /// agency at its counter) is the only one besides the receiving agency that may read it.
    #[test]
    fn interleaved_callers_never_reach_each_others_dossiers(
        steps in proptest::collection::vec((0usize..5, 0usize..5, 0usize..8, any::<u8>()), 1..14),
    ) {
        let base = serve("2025-03-03T09:00");
        let actors = actors();
        let tokens: Vec<String> = actors.iter().map(|(a, _)| token(a)).collect();
        // Each code created, and who created it.
        let mut created: Vec<(String, &str)> = Vec::new();
        for (who, what, pick, byte) in steps {
            let (actor, owner) = &actors[who];
            let auth = Some(tokens[who].as_str());
            let code = created.get(pick).map(|c| c.0.clone()).unwrap_or_else(|| format!("H42.12-250303-{:04}", 1 + pick));
            let (status, _, text, _) = match what {
                0 | 1 => {
                    let channel = if what == 0 { "online" } else { "direct" };
                    let body = format!(r#"{{"procedure": "1.004194", "channel": "{channel}", "agency": "H42.12"}}"#);
                    let r = call("POST", &format!("{base}/api/v1/dossiers"), auth, &[], Some(&body));
                    if r.0 == 201 {
                        let c = serde_json::from_str::<serde_json::Value>(&r.2).unwrap()["code"].as_str().unwrap().to_string();
                        // A code is never handed out twice.
                        prop_assert!(created.iter().all(|(k, _)| k != &c), "{c} twice");
                        created.push((c, owner));
                    }
                    r
                }
                2 => {
                    let body = [
                        r#"{"command": "withdraw"}"#,
                        r#"{"command": "submit", "procedure": "1.004194", "channel": "online"}"#,
                        r#"{"command": "receive", "procedure": "1.004194", "channel": "online"}"#,
                        r#"{"command": "rate", "satisfied": false}"#,
                    ][usize::from(byte) % 4];
                    let key = format!("k{}", byte % 3);
                    call("POST", &format!("{base}/api/v1/dossiers/{code}/commands"), auth, &[("Idempotency-Key", &key)], Some(body))
                }
                _ => call("GET", &format!("{base}/api/v1/dossiers/{code}"), auth, &[], None),
            };
            prop_assert!(status < 500, "{actor:?} {what} {code}: {status} {text}");
            // A read or a command that succeeded on a dossier: the caller is its creator or the
            // receiving agency (H42.12); a citizen never succeeds on another's dossier.
            if what >= 2 && (200..300).contains(&status) {
                let creator = created.iter().find(|(k, _)| k == &code).map(|(_, o)| *o);
                prop_assert!(creator.is_some(), "{code} was never created by the server, yet {status}");
                if actor.role == ActorRole::Citizen {
                    prop_assert_eq!(creator, Some(*owner), "{:?} reached {}", actor, code);
                } else if actor.role != ActorRole::System {
                    prop_assert_eq!(*owner, "H42.12", "{:?} reached {}", actor, code);
                }
            }
        }
    }
}
