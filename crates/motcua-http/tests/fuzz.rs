//! The API under mutated request bodies, headers and paths: every answer is a 2xx or a 4xx
//! problem, never a 5xx, and the server keeps serving. A longer run: `PROPTEST_CASES=5000
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
            prop_assert!(ctype == "application/problem+json" || status == 413, "{status} {ctype}");
        }
        let (status, _, _, _) = call("GET", &format!("{base}/healthz"), None, &[], None);
        prop_assert_eq!(status, 200);
    }
}
