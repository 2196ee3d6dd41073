//! The SQLite store under the engine: durability, concurrency, tamper evidence, crashes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::sync::Arc;

use motcua_calendar::{Limit, Timestamp, WorkCalendar};
use motcua_core::*;
use motcua_engine::store::{AppendBatch, StreamAppend};
use motcua_engine::*;
use motcua_store_sqlite::{SqliteStore, SCHEMA_VERSION};

/// A fresh folder (removed when the guard drops) and a store path in it.
fn temp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix(&format!("motcua-sqlite-{name}-")).tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    (dir, path)
}

fn calendar() -> WorkCalendar {
    WorkCalendar::builder().years(2025, 2026).build().unwrap()
}

fn procedure() -> Procedure {
    Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3))
}

fn code(n: u64) -> DossierCode {
    DossierCode::new("H42.12".parse().unwrap(), chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap(), n)
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn clerk() -> Actor {
    Actor::officer("clerk-1", ActorRole::Clerk, "H42.12")
}

fn req(n: u64, command: Command, at: &str) -> Request {
    Request::new(code(n), command, clerk(), t(at))
}

fn receive() -> Command {
    Command::Receive {
        case: None,
        procedure: "1.004194".parse().unwrap(),
        channel: Channel::Direct,
        jurisdiction: None,
        applicant: None,
        documents: Vec::new(),
    }
}

/// An engine over the file at `path`, with dossiers 1..=`n` received at 09:00.
fn with_received(path: &std::path::Path, n: u64) -> Engine<SqliteStore> {
    let mut e = Engine::new(SqliteStore::open(path).unwrap(), [procedure()], calendar());
    for k in 1..=n {
        e.handle(&req(k, receive(), "2025-03-03T09:00")).unwrap();
    }
    e
}

#[test]
fn events_survive_reopening_and_verify_passes() {
    let (_dir, path) = temp("reopen");
    {
        let mut e = Engine::new(SqliteStore::open(&path).unwrap(), [procedure()], calendar());
        e.handle(&req(1, receive(), "2025-03-03T09:00")).unwrap();
        e.handle(&req(1, Command::RequestSupplement { reason: "Thiếu giấy tờ".into() }, "2025-03-03T10:00")).unwrap();
        let mut r = req(2, receive(), "2025-03-03T09:30");
        r.idempotency_key = Some("portal-42".into());
        e.handle(&r).unwrap();
        assert_eq!(e.store().outbox_pending().unwrap(), 3);
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(verify(&store).unwrap(), VerifyReport { dossiers: 2, events: 3 });
    let mut e = Engine::new(store, [procedure()], calendar());
    let d = e.dossier(&code(1)).unwrap().unwrap();
    assert_eq!(d.status, Some(Status::SupplementRequested));
    assert_eq!(d.due.unwrap().local_string(), "2025-03-06T09:00");
    // The idempotency key survived too.
    let mut r = req(2, receive(), "2025-03-03T09:30");
    r.idempotency_key = Some("portal-42".into());
    assert!(e.handle(&r).unwrap().replayed);
    // Outbox delivery through the fake portal marks messages delivered in the file.
    let mut portal = FakePortal::default();
    let report = deliver(e.store(), &mut portal, t("2025-03-03T11:00"), 100).unwrap();
    assert_eq!(report.delivered, 3);
    assert_eq!(e.store().outbox_pending().unwrap(), 0);
}

#[test]
fn the_file_outbox_survives_a_portal_outage_in_the_order_written() {
    let (_dir, path) = temp("outage");
    let mut e = Engine::new(SqliteStore::open(&path).unwrap(), [procedure()], calendar());
    // Group commits: several dossiers and several events of one dossier per transaction.
    let mut reqs: Vec<Request> = (1..=12).map(|n| req(n, receive(), "2025-03-03T09:00")).collect();
    reqs.extend((1..=12).map(|n| req(n, Command::RequestSupplement { reason: "x".into() }, "2025-03-03T09:05")));
    for r in e.handle_batch(&reqs) {
        r.unwrap();
    }
    let store = e.into_store();
    assert_eq!(store.outbox_pending().unwrap(), 24);
    let first = store.outbox_due(t("2025-03-03T09:10"), 3).unwrap();
    let order: Vec<String> = first.iter().map(|m| m.message.id()).collect();
    assert_eq!(order, ["H42.12-250303-0001#1", "H42.12-250303-0001#2", "H42.12-250303-0002#1"]);
    let mut portal =
        FakePortal { down_until: Some(t("2025-03-03T12:00")), lose_ack_every: Some(4), ..FakePortal::default() };
    let mut now = t("2025-03-03T09:06");
    let mut rounds = 0;
    while store.outbox_pending().unwrap() > 0 {
        let report = deliver(&store, &mut portal, now, 5).unwrap();
        if now < t("2025-03-03T12:00") {
            assert_eq!(report.delivered, 0);
        }
        now = now.plus_minutes(11);
        rounds += 1;
        assert!(rounds < 500, "delivery must finish");
    }
    assert_eq!(portal.received.len(), 24, "every message, once in the portal's view");
    assert!(portal.deliveries > 24, "lost acknowledgements caused duplicates");
    verify(&store).unwrap();
}

#[test]
fn two_connections_race_on_one_file() {
    let (_dir, path) = temp("race");
    let mut a = Engine::new(SqliteStore::open(&path).unwrap(), [procedure()], calendar());
    let mut b = Engine::new(SqliteStore::open(&path).unwrap(), [procedure()], calendar());
    a.handle(&req(1, receive(), "2025-03-03T09:00")).unwrap();
    b.dossier_ref(&code(1)).unwrap();
    let won = a.handle(&req(1, Command::RequestSupplement { reason: "x".into() }, "2025-03-03T09:10")).unwrap();
    assert_eq!(won.retries, 0);
    // B's cache is stale: it loses the race, reloads, and the command is decided again.
    let lost = b.handle(&req(1, Command::ReceiveSupplement, "2025-03-03T09:20")).unwrap();
    assert_eq!((lost.version, lost.retries), (3, 1));
    verify(a.store()).unwrap();
}

#[test]
fn schema_is_versioned() {
    let (_dir, path) = temp("schema");
    drop(SqliteStore::open(&path).unwrap());
    drop(SqliteStore::open(&path).unwrap());
    let conn = user_version_from_header(&path);
    assert_eq!(conn, SCHEMA_VERSION);
}

/// A file written by schema version 1 (three received dossiers, their events sealed over JSON,
/// three undelivered outbox messages; `tests/data/schema-v1.sqlite`, made by the version-1
/// `motcua-sqlite-writer PATH 3`) opens migrated, verifies, and takes new commands.
#[test]
fn a_version_1_file_is_migrated_on_open() {
    let (_dir, path) = temp("v1");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/schema-v1.sqlite"), &path).unwrap();
    assert_eq!(user_version_from_header(&path), 1);
    let store = SqliteStore::open(&path).unwrap();
    let report = verify(&store).unwrap();
    assert_eq!((report.dossiers, report.events), (3, 3));
    assert_eq!(store.load(&code(2)).unwrap().unwrap().events[0].schema, 1);
    assert_eq!(store.outbox_pending().unwrap(), 3);
    let due = store.outbox_due(t("2025-03-04T00:00"), 10).unwrap();
    assert_eq!(due.len(), 3);
    assert_eq!((due[0].message.seq, due[0].message.id().as_str()), (1, "H42.12-250303-0001#1"));
    store.outbox_update(&[OutboxUpdate::Delivered { id: due[0].message.id(), at: t("2025-03-04T00:00") }]).unwrap();
    assert_eq!(store.outbox_pending().unwrap(), 2);
    assert_eq!(store.sync_tally().unwrap().messages_delivered, 1, "the migrated file keeps a delivery ledger");
    // New events (schema 2) continue the old chains.
    let mut e = Engine::new(store, [procedure()], calendar());
    let out =
        e.handle(&req(2, Command::RequestSupplement { reason: "thiếu giấy tờ".into() }, "2025-03-03T10:00")).unwrap();
    assert_eq!(out.version, 2);
    let store = e.into_store();
    let report = verify(&store).unwrap();
    assert_eq!((report.dossiers, report.events), (3, 4));
    drop(store);
    assert_eq!(user_version_from_header(&path), SCHEMA_VERSION);
}

/// Reads the schema version from the file header (no SQL outside the store crate's `sql/`).
fn user_version_from_header(path: &std::path::Path) -> i64 {
    // The header's user_version is the big-endian i32 at byte offset 60 of the database file.
    let bytes = std::fs::read(path).unwrap();
    i64::from(i32::from_be_bytes([bytes[60], bytes[61], bytes[62], bytes[63]]))
}

#[test]
fn a_byte_edited_in_the_file_is_detected() {
    let (_dir, path) = temp("tamper");
    {
        let mut e = with_received(&path, 5);
        e.handle(&req(3, Command::RequestSupplement { reason: "MARKER-ABC".into() }, "2025-03-03T10:00")).unwrap();
        e.store().checkpoint().unwrap();
    }
    assert!(verify(&SqliteStore::open(&path).unwrap()).is_ok());
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(10).position(|w| w == b"MARKER-ABC").expect("payload stored as text");
    bytes[at + 9] = b'D'; // "MARKER-ABD": still valid JSON, different content
    std::fs::write(&path, &bytes).unwrap();
    let err = verify(&SqliteStore::open(&path).unwrap()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("event 2: content does not match its hash"), "{msg}");
    assert!(msg.contains("-0003"), "names the dossier: {msg}");
}

#[test]
fn streaming_the_log_reads_what_loading_each_dossier_reads() {
    let (_dir, path) = temp("stream");
    let mut e = with_received(&path, 4);
    e.handle(&req(2, Command::RequestSupplement { reason: "Thiếu giấy tờ".into() }, "2025-03-03T10:00")).unwrap();
    let store = e.into_store();
    let mut streamed = Vec::new();
    store
        .for_each_stream(&mut |code, stream| {
            streamed.push((code, stream.events, stream.summary));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    streamed.sort_by(|a, b| a.0.cmp(&b.0));
    let loaded: Vec<_> = store
        .dossiers()
        .unwrap()
        .into_iter()
        .map(|c| {
            let s = store.load(&c).unwrap().unwrap();
            (c, s.events, s.summary)
        })
        .collect();
    assert_eq!(streamed, loaded);
    assert_eq!(streamed[1].1.len(), 2);
    // Breaking stops the walk.
    let mut seen = 0;
    store
        .for_each_stream(&mut |_, _| {
            seen += 1;
            std::ops::ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn a_dossier_whose_events_were_deleted_fails_verify() {
    let (_dir, path) = temp("deleted");
    drop(with_received(&path, 3));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("DELETE FROM events WHERE dossier = (SELECT id FROM dossiers WHERE code LIKE '%-0002')", []).unwrap();
    drop(conn);
    let err = verify(&SqliteStore::open(&path).unwrap()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("table dossiers, row H42.12-250303-0002: version 1, but its last event is 0"), "{msg}");
}

#[test]
fn a_rolled_back_batch_leaves_no_row_id_behind() {
    let (_dir, path) = temp("hints");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let bare = |n: u64, expected: u64, version: u64| {
        let mut s = StreamAppend::new(&code(n), expected);
        s.summary.version = version;
        s
    };
    // A creates dossier 5 in a batch that then loses on dossier 9: nothing is written.
    let mut lost = AppendBatch { streams: vec![bare(5, 0, 1), bare(9, 5, 6)], ..AppendBatch::default() };
    assert!(a.append(&mut lost).unwrap_err().is_conflict());
    // B creates dossier 7, which takes the row id dossier 5 had for a moment.
    b.append(&mut AppendBatch { streams: vec![bare(7, 0, 1)], ..AppendBatch::default() }).unwrap();
    // A now advances dossier 5 as if it existed at version 1, like dossier 7: refused, and
    // dossier 7's row is untouched.
    let mut stale = AppendBatch { streams: vec![bare(5, 1, 2)], ..AppendBatch::default() };
    match a.append(&mut stale).unwrap_err() {
        StoreError::VersionConflict { actual, .. } => assert_eq!(actual, 0),
        other => panic!("{other}"),
    }
    let seven = a.load(&code(7)).unwrap().unwrap().summary.unwrap();
    assert_eq!((seven.dossier, seven.version), (code(7), 1));
    assert!(a.load(&code(5)).unwrap().is_none());
}

#[test]
fn kill_dash_9_mid_load_loses_no_acknowledged_event() {
    let (_dir, path) = temp("kill");
    let mut child = Process::new(env!("CARGO_BIN_EXE_motcua-sqlite-writer"))
        .args([path.to_str().unwrap(), "1000000", "7"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acked: Vec<String> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("ack ") {
            acked.push(rest.split(' ').next().unwrap().to_string());
        }
        if acked.len() >= 2000 {
            break;
        }
    }
    // SIGKILL: no destructor, no flush, no checkpoint.
    let pid = child.id().to_string();
    let status = Process::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(status.success());
    let _ = child.wait();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let report = verify(&*store).unwrap();
    assert!(report.dossiers as usize >= acked.len(), "{} stored, {} acknowledged", report.dossiers, acked.len());
    for c in &acked {
        let code: DossierCode = c.parse().unwrap();
        let stream = store.load(&code).unwrap().unwrap_or_else(|| panic!("acknowledged {c} lost"));
        assert_eq!(stream.events.len(), 1);
    }
}

/// Event 1 of dossier `n`'s payload as stored.
fn payload(path: &std::path::Path, n: u64) -> Vec<u8> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT e.payload FROM events e JOIN dossiers d ON d.id = e.dossier WHERE d.code = ?1 AND e.seq = 1",
        [code(n).to_string()],
        |r| r.get(0),
    )
    .unwrap()
}

fn set_payload(path: &std::path::Path, n: u64, bytes: &[u8]) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let changed = conn
        .execute(
            "UPDATE events SET payload = ?2 WHERE seq = 1 AND dossier = (SELECT id FROM dossiers WHERE code = ?1)",
            rusqlite::params![code(n).to_string(), bytes],
        )
        .unwrap();
    assert_eq!(changed, 1);
}

#[test]
fn every_event_names_its_actor_and_an_edited_actor_fails_verify() {
    use motcua_engine::store::{canonical_bytes, decode_sealed, EVENT_SCHEMA};
    let (_dir, path) = temp("actor");
    drop(with_received(&path, 2));
    let store = SqliteStore::open(&path).unwrap();
    let stream = store.load(&code(2)).unwrap().unwrap();
    assert_eq!(stream.events[0].actor, Some(clerk()));
    drop(store);
    // Someone rewrites who received dossier 2: a valid event, another actor.
    let lexicon = lexicon(&path);
    let (_, event) = decode_sealed(&payload(&path, 2), EVENT_SCHEMA, &lexicon, &code(2).to_string()).unwrap();
    let mut forged = Vec::new();
    let other = Actor::officer("clerk-9", ActorRole::Clerk, "H42.12");
    canonical_bytes(Some(&other), &event, EVENT_SCHEMA, &mut forged).unwrap();
    set_payload(&path, 2, &forged);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load(&code(2)).unwrap().unwrap().events[0].actor, Some(other));
    let msg = verify(&store).unwrap_err().to_string();
    assert!(msg.contains("-0002 event 1: content does not match its hash"), "{msg}");
}

/// The store's dictionary, as `verify` reads it.
fn lexicon(path: &std::path::Path) -> motcua_engine::store::Lexicon {
    let store = SqliteStore::open(path).unwrap();
    let mut lexicon = motcua_engine::store::Lexicon::default();
    for (id, text) in store.dictionary(0).unwrap() {
        lexicon.insert(id, text);
    }
    lexicon
}

/// Lean events seal their meaning: the same tree stored another way (every string inline
/// instead of a dictionary id) verifies, a stored byte that changes the meaning does not, and
/// neither does an edited dictionary entry, in every event that refers to it.
#[test]
fn verify_seals_what_an_event_means_and_the_dictionary_entries_it_refers_to() {
    use motcua_engine::store::{canonical_bytes, decode_sealed, EVENT_SCHEMA};
    let (_dir, path) = temp("bytes");
    // A text enters the dictionary the second time it is written: dossier 1's receipt has its
    // strings inline, dossiers 2 and 3 refer to the dictionary.
    drop(with_received(&path, 3));
    let stored = payload(&path, 3);
    let lexicon = lexicon(&path);
    let decoded = decode_sealed(&stored, EVENT_SCHEMA, &lexicon, &code(3).to_string()).unwrap();
    let mut inline = Vec::new();
    canonical_bytes(decoded.0.as_ref(), &decoded.1, EVENT_SCHEMA, &mut inline).unwrap();
    assert!(inline.len() > stored.len(), "the dictionary saves bytes");
    set_payload(&path, 3, &inline);
    verify(&SqliteStore::open(&path).unwrap()).unwrap();
    // A stored byte flipped: another meaning (or none), named.
    let mut flipped = stored.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    set_payload(&path, 3, &flipped);
    let msg = verify(&SqliteStore::open(&path).unwrap()).unwrap_err().to_string();
    assert!(msg.contains("-0003 event 1:"), "{msg}");
    set_payload(&path, 3, &stored);
    verify(&SqliteStore::open(&path).unwrap()).unwrap();
    // A dictionary entry edited (the receiving officer's agency, say): the first dossier that
    // refers to it is named.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let changed = conn.execute("UPDATE dictionary SET text = 'H42.99' WHERE text = 'H42.12'", []).unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let msg = verify(&SqliteStore::open(&path).unwrap()).unwrap_err().to_string();
    assert!(msg.contains("-0002 event 1: content does not match its hash"), "{msg}");
}

#[test]
fn verify_reports_a_changed_row_version_a_garbage_outbox_row_and_a_dropped_table_by_name() {
    let cases: [(&str, &str, &str); 4] = [
        (
            "version",
            "UPDATE dossiers SET version = 7 WHERE code LIKE '%-0002'",
            "table dossiers, row H42.12-250303-0002: version 7",
        ),
        (
            "outbox",
            "UPDATE outbox SET id = 99999 WHERE id = (SELECT min(id) FROM outbox)",
            "table outbox, row 99999: keyed by no event",
        ),
        ("dropped", "DROP TABLE outbox", "table outbox: missing"),
        ("idempotency", "DROP TABLE idempotency", "table idempotency: missing"),
    ];
    for (name, sql, want) in cases {
        let (_dir, path) = temp(&format!("integrity-{name}"));
        drop(with_received(&path, 2));
        assert!(verify(&SqliteStore::open(&path).unwrap()).is_ok(), "{name}: sound before");
        rusqlite::Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let err = verify(&SqliteStore::open_read_only(&path).unwrap()).unwrap_err();
        assert!(matches!(err, VerifyError::Integrity(_)), "{name}: {err:?}");
        assert!(err.to_string().contains(want), "{name}: {err}");
    }
}
