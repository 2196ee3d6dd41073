use super::memory::*;
use super::*;
use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, Dossier, DossierCode, Event, Outcome, ProcedureCode};
use serde::Serialize;

fn event() -> Event {
    let at: Timestamp = "2025-03-03T08:06+07:00".parse().unwrap();
    Event::Received {
        case: None,
        at,
        procedure: "1.004194".parse().unwrap(),
        channel: motcua_core::Channel::Online,
        clock_start: at,
        due: Some(at.plus_minutes(3 * 480)),
        jurisdiction: None,
        procedure_version: None,
        applicant: None,
        documents: Vec::new(),
        undigitised: Vec::new(),
    }
}

pub(super) fn message(n: i64) -> SyncMessage {
    SyncMessage {
        seq: n as u64,
        dossier: "H42.12-250303-0001".parse().unwrap(),
        procedure: None,
        national_status: 1,
        received_at: None,
        due: None,
        channel: None,
        agency: "H42.12".parse().unwrap(),
        at: Timestamp::from_utc_minutes(28_000_000 + n),
        kind: MessageKind::Status,
        progress: None,
        appointment: None,
    }
}

#[test]
fn messages_written_before_kinds_read_as_status_changes() {
    /// The derived form messages had while the id was a field.
    #[derive(Serialize)]
    struct Before {
        id: String,
        dossier: DossierCode,
        seq: u64,
        procedure: Option<ProcedureCode>,
        national_status: u8,
        received_at: Option<Timestamp>,
        due: Option<Timestamp>,
        channel: Option<u8>,
        agency: AgencyCode,
        at: Timestamp,
    }
    let m = SyncMessage { procedure: Some("1.004194".parse().unwrap()), channel: Some(1), ..message(3) };
    let before = Before {
        id: "H42.12-250303-0001#3".into(),
        dossier: m.dossier.clone(),
        seq: 3,
        procedure: m.procedure.clone(),
        national_status: 1,
        received_at: None,
        due: None,
        channel: Some(1),
        agency: m.agency.clone(),
        at: m.at,
    };
    assert_eq!(m.id(), "H42.12-250303-0001#3");
    assert_eq!(parse_message_id(&m.id()), Some((m.dossier.clone(), 3)));
    // The new form adds its fields after the old ones.
    let old_json = serde_json::to_string(&before).unwrap();
    let new_json = serde_json::to_string(&m).unwrap();
    assert!(new_json.starts_with(&old_json[..old_json.len() - 1]), "{new_json}");
    let bytes = rmp_serde::to_vec(&before).unwrap();
    assert_eq!(rmp_serde::from_slice::<SyncMessage>(&bytes).unwrap(), m);
    let json = serde_json::to_string(&before).unwrap();
    assert_eq!(serde_json::from_str::<SyncMessage>(&json).unwrap(), m);
    // A progress message round-trips, and speaks the portal's terms.
    let p = SyncMessage {
        kind: MessageKind::Progress,
        progress: Some(StepProgress {
            step: "tham-dinh".into(),
            agency: "H42.12.CA".into(),
            started_at: Some(m.at),
            due: Some(m.at.plus_minutes(480)),
            completed_at: None,
        }),
        ..m.clone()
    };
    assert_eq!(rmp_serde::from_slice::<SyncMessage>(&rmp_serde::to_vec(&p).unwrap()).unwrap(), p);
    let payload = p.portal_payload();
    assert_eq!(payload["MaHoSo"], "H42.12-250303-0001");
    assert_eq!(payload["PhongBanXuLy"], "H42.12.CA");
    assert_eq!(payload["NoiDungXuLy"], "tham-dinh");
    assert_eq!(payload["MaThongDiep"], "H42.12-250303-0001#3");
}

#[test]
fn summaries_from_before_steps_were_kept_still_match() {
    let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
    let mut state = Dossier::new();
    motcua_core::apply(&mut state, &event());
    let mut expected = DossierSummary::of(&code, &state, GENESIS);
    expected.steps = Some(vec![StepSummary {
        step: "tiep-nhan".into(),
        agency: "H42.12".into(),
        due: None,
        completed_at: None,
        outcome: None,
    }]);
    let old = DossierSummary { steps: None, ..expected.clone() };
    assert!(old.matches(&expected) && expected.matches(&expected));
    // Any other difference still shows, with or without steps.
    assert!(!DossierSummary { version: 9, ..old.clone() }.matches(&expected));
    assert!(!DossierSummary { steps: Some(Vec::new()), ..expected.clone() }.matches(&expected));
    // A row written without `feedback` (an array one shorter) reads it as `None` and still
    // matches; without `holds` too; without `supplement_requests` too, as `None`; without
    // `jurisdiction` too, as `None`; without `clock_stopped` too, as false; without `steps`
    // too, as `None`.
    let older = DossierSummary { supplement_requests: None, holds: None, feedback: None, ..old.clone() };
    assert!(older.matches(&expected), "rows from before these fields were kept verify");
    let mut bytes = rmp_serde::to_vec(&older).unwrap();
    assert_eq!(&bytes[..3], &[0xdc, 0x00, 0x11], "array of 17");
    assert_eq!(
        &bytes[bytes.len() - 6..],
        &[0xc0, 0xc2, 0xc0, 0xc0, 0xc0, 0xc0],
        "steps nil, clock_stopped false, jurisdiction nil, supplement_requests nil, holds nil, feedback nil"
    );
    // A summary with its feedback differs from one without.
    assert!(!DossierSummary { feedback: Some(Vec::new()), ..expected.clone() }.matches(&DossierSummary {
        feedback: Some(vec![motcua_core::Feedback::filed(
            1,
            "2025-03-03T09:00".parse().unwrap(),
            "2025-03-05T09:00".parse().unwrap(),
            "2025-03-24T09:00".parse().unwrap(),
        )]),
        ..expected.clone()
    }));
    // The same fields as a fixarray (one byte of header), then shorter and shorter.
    let mut body = bytes.split_off(3);
    for len in [17u8, 16, 15, 14, 13, 12] {
        let mut row = if len < 16 { vec![0x90 | len] } else { vec![0xdc, 0x00, len] };
        row.extend_from_slice(&body);
        assert_eq!(rmp_serde::from_slice::<DossierSummary>(&row).unwrap(), older, "{len} fields");
        body.pop();
    }
    // A row from before steps matches a replay whose clock is stopped (it could not say).
    assert!(old.matches(&DossierSummary { clock_stopped: true, ..expected.clone() }));
    assert!(!expected.matches(&DossierSummary { clock_stopped: true, ..expected.clone() }));
    let json = serde_json::to_value(&old).unwrap();
    let mut map = json.as_object().unwrap().clone();
    map.remove("steps");
    map.remove("clock_stopped");
    let read: DossierSummary = serde_json::from_value(serde_json::Value::Object(map)).unwrap();
    assert_eq!(read, old);
}

#[test]
fn a_refilled_summary_and_a_reset_append_keep_nothing_of_before() {
    let a: DossierCode = "H42.12-250303-0001".parse().unwrap();
    let b: DossierCode = "H42.13-250304-0002".parse().unwrap();
    let mut state = Dossier::new();
    motcua_core::apply(&mut state, &event());
    // A summary of another dossier, with a step and another version, refilled.
    let mut reused = DossierSummary::of(&a, &state, [7; 32]);
    reused.steps = Some(vec![StepSummary {
        step: "tiep-nhan".into(),
        agency: "H42.12".into(),
        due: None,
        completed_at: None,
        outcome: None,
    }]);
    reused.version = 9;
    reused.refill(&b, &state, GENESIS);
    assert_eq!(reused, DossierSummary::of(&b, &state, GENESIS));
    // An append emptied for another dossier: only its summary stays, for the writer to refill.
    let mut append = StreamAppend::new(&a, 0);
    append.parties = Some(Parties::default());
    let mut sealer = Sealer::default();
    append.events.push(sealer.seal_into(
        &a,
        &a.to_string(),
        1,
        None,
        event(),
        GENESIS,
        &mut append.canonical,
        &mut |_| None,
    ));
    append.reset(&b, 4);
    assert_eq!((append.dossier, append.expected_version), (b, 4));
    assert!(append.events.is_empty() && append.canonical.is_empty() && append.parties.is_none());
}

#[test]
fn a_store_hint_is_checked_before_it_is_used() {
    let a: DossierCode = "H42.12-250303-0001".parse().unwrap();
    let b: DossierCode = "H42.13-250304-0002".parse().unwrap();
    let store = MemoryStore::new();
    let mut sealer = Sealer::default();
    let mut append = |code: &DossierCode, version: u64, hint: Option<u64>| {
        let mut s = StreamAppend::new(code, version);
        let prev = store.load(code).unwrap().map_or(GENESIS, |l| l.events.last().unwrap().hash);
        s.events.push(sealer.seal_into(
            code,
            &code.to_string(),
            version + 1,
            None,
            event(),
            prev,
            &mut s.canonical,
            &mut |_| None,
        ));
        s.hint = hint;
        let mut batch = AppendBatch { streams: vec![s], ..AppendBatch::default() };
        store.append(&mut batch).map(|()| batch.streams[0].hint)
    };
    let hint_a = append(&a, 0, None).unwrap();
    let hint_b = append(&b, 0, Some(99)).unwrap();
    assert_ne!(hint_a, hint_b);
    // A's hint handed with B's append (and a hint past the end) still writes B.
    assert_eq!(append(&b, 1, hint_a).unwrap(), hint_b);
    assert_eq!(append(&b, 2, Some(u64::MAX)).unwrap(), hint_b);
    assert!(append(&a, 0, hint_a).unwrap_err().is_conflict());
    assert_eq!(append(&a, 1, hint_a).unwrap(), hint_a);
    let versions = |c: &DossierCode| store.load(c).unwrap().unwrap().events.len();
    assert_eq!((versions(&a), versions(&b)), (2, 3));
}

#[test]
fn sealed_bytes_travel_with_the_append() {
    let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
    let text = code.to_string();
    let mut sealer = Sealer::default();
    let mut canonical = Vec::new();
    let clerk = crate::Actor::officer("clerk-1", crate::ActorRole::Clerk, "H42.12");
    let a = sealer.seal_into(&code, &text, 1, Some(&clerk), event(), GENESIS, &mut canonical, &mut |_| None);
    let b = sealer.seal_into(&code, &text, 2, Some(&clerk), event(), a.hash, &mut canonical, &mut |_| None);
    // The same hashes as sealing without keeping the bytes.
    assert_eq!(a, sealer.seal(&code, &text, 1, Some(&clerk), event(), GENESIS));
    assert_eq!(b.hash, sealer.seal(&code, &text, 2, Some(&clerk), event(), a.hash).hash);
    assert_eq!(a.actor.as_ref(), Some(&clerk));
    let parts: Vec<&[u8]> = canonical_parts(&canonical, 2).unwrap().collect();
    let mut expected = Vec::new();
    canonical_bytes(Some(&clerk), &event(), EVENT_SCHEMA, &mut expected).unwrap();
    assert_eq!(parts, [&expected[..], &expected[..]]);
    // Empty, the wrong count, or a truncated buffer: the store encodes itself.
    assert!(canonical_parts(&[], 0).is_none());
    assert!(canonical_parts(&canonical, 3).is_none());
    assert!(canonical_parts(&canonical[..canonical.len() - 1], 2).is_none());
}

#[test]
fn every_envelope_schema_reencodes_to_the_bytes_it_sealed() {
    let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
    let text = code.to_string();
    let clerk = crate::Actor::officer("clerk-1", crate::ActorRole::Clerk, "H42.12");
    let mut sealer = Sealer::default();
    let current = sealer.seal(&code, &text, 1, Some(&clerk), event(), GENESIS);
    assert_eq!(current.schema, EVENT_SCHEMA);
    let bytes = sealer.reencode(&current).unwrap();
    // Schema 4 seals the meaning: the stored lean bytes expanded (here without a dictionary:
    // every string inline).
    let mut buf = Vec::new();
    let meaning = crate::store::sealed_meaning(&bytes, EVENT_SCHEMA, &Default::default(), &text, &mut buf).unwrap();
    assert_eq!(chain_hash(&GENESIS, &text, 1, EVENT_SCHEMA, meaning), current.hash);
    // Schema 1 sealed the event's JSON, schema 2 its MessagePack, neither an actor.
    let json = encode_event(&event());
    let old = StoredEvent {
        schema: 1,
        actor: None,
        hash: chain_hash(&GENESIS, &text, 1, 1, json.as_bytes()),
        ..current.clone()
    };
    assert_eq!(sealer.reencode(&old).unwrap(), json.as_bytes());
    let mut two = Vec::new();
    canonical_bytes(None, &event(), 2, &mut two).unwrap();
    assert_eq!(decode_sealed(&two, 2, &Default::default(), "").unwrap(), (None, event()));
    // The actor is sealed: another actor, another hash.
    let other = crate::Actor::officer("clerk-2", crate::ActorRole::Clerk, "H42.12");
    assert_ne!(sealer.seal(&code, &text, 1, Some(&other), event(), GENESIS).hash, current.hash);
    let unknown = StoredEvent { schema: 99, ..current };
    assert_eq!(sealer.reencode(&unknown), None);
}

#[test]
fn canonical_bytes_read_back_under_every_schema() {
    let at: Timestamp = "2025-03-03T08:06+07:00".parse().unwrap();
    let events = [
        event(),
        Event::StepStarted {
            at,
            step: "tham-dinh".into(),
            agency: "phong-kt".into(),
            from_agency: Some("H42.12".into()),
            due: at.plus_minutes(960),
        },
        Event::SupplementReceived {
            at,
            clock_start: at,
            due: None,
            step_dues: vec![motcua_core::StepDue { step: "a".into(), due: at }],
        },
        Event::Finished {
            at,
            decision: motcua_core::Decision::Approved,
            outcome: Some(Outcome::Early),
            reason: None,
            result: None,
        },
        Event::Stopped { at, reason: "trùng hồ sơ".into(), outcome: None },
    ];
    let leader = crate::Actor::officer("leader-1", crate::ActorRole::Leader, "H42.12");
    for schema in [1, 2, EVENT_SCHEMA] {
        let actor = (schema >= 3).then_some(&leader);
        for e in &events {
            let mut bytes = Vec::new();
            canonical_bytes(actor, e, schema, &mut bytes).unwrap();
            assert_eq!(
                decode_sealed(&bytes, schema, &Default::default(), "").unwrap(),
                (actor.cloned(), e.clone()),
                "schema {schema}"
            );
        }
    }
    assert!(decode_sealed(b"\xc1", EVENT_SCHEMA, &Default::default(), "").is_err());
    assert!(decode_sealed(b"{}", 7, &Default::default(), "").is_err());
}

#[test]
fn the_canonical_form_is_compact_and_changes_with_any_field() {
    let mut a = Vec::new();
    canonical_bytes(None, &event(), EVENT_SCHEMA, &mut a).unwrap();
    assert!(a.len() < encode_event(&event()).len() / 3, "{} bytes", a.len());
    let Event::Received { at, procedure, channel, clock_start, due, .. } = event() else { unreachable!() };
    let later = Event::Received {
        case: None,
        at,
        procedure,
        channel,
        clock_start,
        due: due.map(|d| d.plus_minutes(1)),
        jurisdiction: None,
        procedure_version: None,
        applicant: None,
        documents: Vec::new(),
        undigitised: Vec::new(),
    };
    let mut b = Vec::new();
    canonical_bytes(None, &later, EVENT_SCHEMA, &mut b).unwrap();
    assert_ne!(a, b);
}

/// `Received` and `Submitted` as written before they carried a jurisdiction.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Legacy {
    Received {
        at: Timestamp,
        procedure: ProcedureCode,
        channel: motcua_core::Channel,
        clock_start: Timestamp,
        due: Option<Timestamp>,
    },
}

#[test]
fn events_written_before_jurisdictions_read_back_with_none() {
    let at: Timestamp = "2025-03-03T08:06+07:00".parse().unwrap();
    let legacy = Legacy::Received {
        at,
        procedure: "1.004194".parse().unwrap(),
        channel: motcua_core::Channel::Online,
        clock_start: at,
        due: Some(at.plus_minutes(3 * 480)),
    };
    // Schema 2's MessagePack (a shorter array) and schema 1's JSON (no key).
    let packed = rmp_serde::to_vec(&legacy).unwrap();
    assert_eq!(decode_sealed(&packed, 2, &Default::default(), "").unwrap(), (None, event()));
    let json = serde_json::to_vec(&legacy).unwrap();
    assert_eq!(decode_sealed(&json, 1, &Default::default(), "").unwrap(), (None, event()));
}

/// A store shared through an `Arc` is the store itself: its forwarding impl names every method
/// of the contract, so none falls back to a default that skips what the store does (a default
/// `for_each_sealed_stream` would hash re-encoded bytes, a default `check_integrity` would skip
/// the store's own checks). Read from the source, so a method added to the trait and not
/// forwarded fails here.
#[test]
fn the_arc_impl_forwards_every_method_of_the_contract() {
    let source = include_str!("mod.rs");
    let methods = |block: &str| -> std::collections::BTreeSet<String> {
        block
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("fn "))
            .filter_map(|rest| rest.split(['(', '<']).next())
            .map(str::to_string)
            .collect()
    };
    let block_after = |start: &str| -> &str {
        let at = source.find(start).unwrap_or_else(|| panic!("{start} not found"));
        let body = &source[at..];
        // The block ends at the first line that is exactly "}".
        let end = body.find("\n}\n").unwrap_or(body.len());
        &body[..end]
    };
    let contract = methods(block_after("pub trait Store: Send + Sync {"));
    let forwarded = methods(block_after("impl<S: Store + ?Sized> Store for std::sync::Arc<S> {"));
    assert!(contract.len() > 20, "{contract:?}");
    let missing: Vec<_> = contract.difference(&forwarded).collect();
    assert!(missing.is_empty(), "not forwarded through Arc: {missing:?}");
}
