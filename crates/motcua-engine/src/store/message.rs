//! Outbox wire types: national-portal status messages and their delivery records.

use std::sync::Arc;

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, Dossier, DossierCode, Event, ProcedureCode, StepId};
use serde::{Deserialize, Serialize};

/// What a message reports: every change the national portal tracks (docs/sources.md §3.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The national status changed (a new dossier is its first status; the result is 9 and
    /// 10).
    #[default]
    Status,
    /// A step started or completed at its handling unit (the portal's progress update).
    Progress,
    /// A new appointment after an apology letter (the portal's `NgayHenTra`, moved).
    Appointment,
}

/// A step's progress, as a progress message carries it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StepProgress {
    /// The procedure's step.
    pub step: StepId,
    /// The concrete unit handling it.
    pub agency: Arc<str>,
    /// When it started.
    pub started_at: Option<Timestamp>,
    /// Its own due time.
    pub due: Option<Timestamp>,
    /// When it completed, once it did.
    pub completed_at: Option<Timestamp>,
}

/// A change for the national portal: a status, a step's progress, or a new appointment. Its id
/// is `<dossier code>#<seq>` ([`SyncMessage::id`]), one message per event: the portal
/// deduplicates by it. The id is not a field, so a message allocates nothing of its own; its
/// serialized form still carries it first (the form stored rows and portals read).
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(from = "WireMessage")]
pub struct SyncMessage {
    /// Dossier code.
    pub dossier: DossierCode,
    /// The event (its number in the dossier's stream) that changed the national status.
    pub seq: u64,
    /// Procedure code.
    pub procedure: Option<ProcedureCode>,
    /// National status code (1–10).
    pub national_status: u8,
    /// Receipt time.
    pub received_at: Option<Timestamp>,
    /// Due time.
    pub due: Option<Timestamp>,
    /// Channel code.
    pub channel: Option<u8>,
    /// Receiving agency code.
    pub agency: AgencyCode,
    /// When the status changed.
    pub at: Timestamp,
    /// What it reports (older rows read as [`MessageKind::Status`]).
    pub kind: MessageKind,
    /// For [`MessageKind::Progress`]: the step.
    pub progress: Option<StepProgress>,
    /// For [`MessageKind::Appointment`]: the new appointment (the original due time stays in
    /// `due`, as the outcome is judged against it).
    pub appointment: Option<Timestamp>,
}

/// The national portal's time format in sync payloads, `yyyyMMddHHmmss` in local time
/// [assumption: the format vendors' integrations show; docs/sources.md §3.3].
fn portal_time(t: Option<Timestamp>) -> serde_json::Value {
    match t {
        Some(t) => {
            let local = t.local_string();
            // `YYYY-MM-DDTHH:MM+07:00` → `YYYYMMDDHHMM00`.
            let digits: String = local.chars().take(16).filter(char::is_ascii_digit).collect();
            serde_json::Value::String(format!("{digits}00"))
        }
        None => serde_json::Value::Null,
    }
}

impl SyncMessage {
    /// The payload in the national portal's terms (docs/sources.md §3.3): `MaHoSo`, `MaTTHC`,
    /// `NgayTiepNhan`, `NgayHenTra`, `TrangThaiHoSo`, `HinhThuc` (channel), `DonViXuLy`
    /// (receiving unit), and for progress `PhongBanXuLy` (the step's unit), `NoiDungXuLy` (the
    /// step), `ThoiDiemXuLy`, `NgayBatDau`, `NgayKetThucTheoQuyDinh`; `NgayHenTraMoi` for a new
    /// appointment and `MaThongDiep` (the message id) are our names \[assumption\], as is the
    /// time format.
    pub fn portal_payload(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("MaThongDiep".into(), self.id().into());
        m.insert("MaHoSo".into(), self.dossier.to_string().into());
        m.insert("MaTTHC".into(), self.procedure.as_ref().map(|p| p.to_string()).into());
        m.insert("NgayTiepNhan".into(), portal_time(self.received_at));
        m.insert("NgayHenTra".into(), portal_time(self.due));
        m.insert("TrangThaiHoSo".into(), self.national_status.into());
        m.insert("HinhThuc".into(), self.channel.into());
        m.insert("DonViXuLy".into(), self.agency.to_string().into());
        m.insert("ThoiDiemXuLy".into(), portal_time(Some(self.at)));
        if let Some(p) = &self.progress {
            m.insert("PhongBanXuLy".into(), p.agency.to_string().into());
            m.insert("NoiDungXuLy".into(), p.step.to_string().into());
            m.insert("NgayBatDau".into(), portal_time(p.started_at));
            m.insert("NgayKetThucTheoQuyDinh".into(), portal_time(p.due));
            m.insert("NgayKetThuc".into(), portal_time(p.completed_at));
        }
        if let Some(a) = self.appointment {
            m.insert("NgayHenTraMoi".into(), portal_time(Some(a)));
        }
        serde_json::Value::Object(m)
    }

    /// The message's id, `<dossier code>#<seq>`: unique per status change, and what the
    /// portal deduplicates by.
    pub fn id(&self) -> String {
        MessageId(&self.dossier, self.seq).to_string()
    }
}

/// Splits a message id `<dossier code>#<seq>` ([`SyncMessage::id`]) into the code's text and
/// the sequence number; `None` for text that is not one. Stores find a message by these.
pub fn split_message_id(id: &str) -> Option<(&str, u64)> {
    let (code, seq) = id.rsplit_once('#')?;
    Some((code, seq.parse().ok()?))
}

/// [`split_message_id`], the code parsed.
pub(crate) fn parse_message_id(id: &str) -> Option<(DossierCode, u64)> {
    let (code, seq) = split_message_id(id)?;
    Some((code.parse().ok()?, seq))
}

/// `<dossier code>#<seq>`, written without building the text first.
pub(crate) struct MessageId<'a>(&'a DossierCode, u64);

impl std::fmt::Display for MessageId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.0, self.1)
    }
}

impl Serialize for MessageId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Field by field the form messages were always written in, the id first.
impl Serialize for SyncMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("SyncMessage", 13)?;
        m.serialize_field("id", &MessageId(&self.dossier, self.seq))?;
        m.serialize_field("dossier", &self.dossier)?;
        m.serialize_field("seq", &self.seq)?;
        m.serialize_field("procedure", &self.procedure)?;
        m.serialize_field("national_status", &self.national_status)?;
        m.serialize_field("received_at", &self.received_at)?;
        m.serialize_field("due", &self.due)?;
        m.serialize_field("channel", &self.channel)?;
        m.serialize_field("agency", &self.agency)?;
        m.serialize_field("at", &self.at)?;
        m.serialize_field("kind", &self.kind)?;
        m.serialize_field("progress", &self.progress)?;
        m.serialize_field("appointment", &self.appointment)?;
        m.end()
    }
}

/// A message as written: the id it carries follows from the dossier and `seq`, so reading
/// drops it. (Rows written before messages kept `seq` read it as 0; the SQLite store sets it
/// from its own column.)
#[derive(Deserialize)]
#[serde(rename = "SyncMessage")]
struct WireMessage {
    #[allow(dead_code)]
    id: serde::de::IgnoredAny,
    dossier: DossierCode,
    #[serde(default)]
    seq: u64,
    procedure: Option<ProcedureCode>,
    national_status: u8,
    received_at: Option<Timestamp>,
    due: Option<Timestamp>,
    channel: Option<u8>,
    agency: AgencyCode,
    at: Timestamp,
    #[serde(default)]
    kind: MessageKind,
    #[serde(default)]
    progress: Option<StepProgress>,
    #[serde(default)]
    appointment: Option<Timestamp>,
}

impl From<WireMessage> for SyncMessage {
    fn from(w: WireMessage) -> SyncMessage {
        SyncMessage {
            dossier: w.dossier,
            seq: w.seq,
            procedure: w.procedure,
            national_status: w.national_status,
            received_at: w.received_at,
            due: w.due,
            channel: w.channel,
            agency: w.agency,
            at: w.at,
            kind: w.kind,
            progress: w.progress,
            appointment: w.appointment,
        }
    }
}

/// A message waiting in the outbox. A message the portal acknowledged leaves the outbox for the
/// delivery ledger ([`DeliveryRecord`]): the outbox holds only what is still to send, the
/// ledger what reached the portal and when.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message.
    pub message: SyncMessage,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before this instant.
    pub next_attempt: Timestamp,
}

/// What happened to an outbox message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum OutboxUpdate {
    /// Acknowledged.
    Delivered {
        /// Message id.
        id: String,
        /// When the portal acknowledged it (kept in the delivery ledger).
        at: Timestamp,
    },
    /// Failed; try again later.
    Retry {
        /// Message id.
        id: String,
        /// Attempts so far.
        attempts: u32,
        /// Next attempt.
        next_attempt: Timestamp,
    },
}

/// One message the portal acknowledged, as the delivery ledger keeps it after it left the
/// outbox: the evidence of when a dossier reached the national portal (Decision 766, 1.4).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// The event (its number in the dossier's stream) whose message it was.
    pub seq: u64,
    /// When the portal acknowledged it.
    pub delivered_at: Timestamp,
}

/// What the delivery ledger holds, in all.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct SyncTally {
    /// Dossiers with at least one message acknowledged by the portal.
    pub dossiers_synced: u64,
    /// Messages acknowledged.
    pub messages_delivered: u64,
}

/// The sync message for event `seq` (`event`, which left the dossier as `after`), if the
/// portal tracks it: a step's progress, a new appointment, or a change of national status
/// (docs/sources.md §3.3). Every message carries the status after the event.
pub fn sync_message(
    dossier: &DossierCode,
    seq: u64,
    after: &Dossier,
    event: &Event,
    status_changed: bool,
) -> Option<SyncMessage> {
    let (kind, progress, appointment) = match event {
        Event::StepStarted { step, .. } | Event::StepCompleted { step, .. } => {
            let s = after.steps.iter().find(|s| &s.id == step)?;
            let progress = StepProgress {
                step: s.id.clone(),
                agency: s.agency.clone(),
                started_at: s.started_at,
                due: s.due,
                completed_at: s.completed_at,
            };
            (MessageKind::Progress, Some(progress), None)
        }
        Event::Extended { new_due, .. } => (MessageKind::Appointment, None, Some(*new_due)),
        _ if status_changed => (MessageKind::Status, None, None),
        _ => return None,
    };
    let national = after.status?.national();
    Some(SyncMessage {
        dossier: dossier.clone(),
        seq,
        procedure: after.procedure.clone(),
        national_status: national.code(),
        received_at: after.received_at,
        due: after.due,
        channel: after.channel.map(|c| c.code()),
        agency: dossier.agency().clone(),
        at: event.at(),
        kind,
        progress,
        appointment,
    })
}

/// The messages of events `seqs` (ascending) of a dossier whose stream is `events`, rendered
/// from the events as the engine rendered them when they were written ([`sync_message`] on the
/// state after each): the message an outbox row stands for, byte for byte, so a store keeps
/// only the row. An event the engine would send no message for today (a row an older release
/// wrote) renders as its status.
pub fn render_messages(dossier: &DossierCode, events: &[super::StoredEvent], seqs: &[u64]) -> Vec<SyncMessage> {
    let mut out = Vec::with_capacity(seqs.len());
    let mut wanted = seqs.iter().copied().peekable();
    let mut state = motcua_core::Dossier::new();
    for e in events {
        let Some(&next) = wanted.peek() else { break };
        let before = state.status.map(|s| s.national());
        motcua_core::apply(&mut state, &e.event);
        if e.seq == next {
            wanted.next();
            let changed = state.status.map(|s| s.national()) != before;
            let message = sync_message(dossier, e.seq, &state, &e.event, changed)
                .or_else(|| sync_message(dossier, e.seq, &state, &e.event, true));
            out.extend(message);
        }
    }
    out
}

/// The outbox entries of `rows` (a dossier code's text, the event's number, attempts so far,
/// the next attempt in UTC minutes; in the order to offer them), each message rendered from
/// its dossier's events ([`render_messages`]), every dossier loaded once with `load`. A row
/// whose dossier or event is gone is left out.
pub fn render_due(
    rows: Vec<(String, u64, u32, i64)>,
    mut load: impl FnMut(&DossierCode) -> Result<Option<super::Stream>, super::StoreError>,
) -> Result<Vec<OutboxEntry>, super::StoreError> {
    let mut wanted: std::collections::HashMap<&str, Vec<u64>> = std::collections::HashMap::new();
    for (code, seq, _, _) in &rows {
        wanted.entry(code.as_str()).or_default().push(*seq);
    }
    let mut rendered: std::collections::HashMap<(String, u64), SyncMessage> = std::collections::HashMap::new();
    for (text, mut seqs) in wanted {
        let code: DossierCode =
            text.parse().map_err(|e| super::StoreError::Backend(format!("corrupt dossier code {text:?}: {e}")))?;
        seqs.sort_unstable();
        let Some(stream) = load(&code)? else { continue };
        for m in render_messages(&code, &stream.events, &seqs) {
            rendered.insert((text.to_string(), m.seq), m);
        }
    }
    Ok(rows
        .into_iter()
        .filter_map(|(code, seq, attempts, next)| {
            Some(OutboxEntry {
                message: rendered.remove(&(code, seq))?,
                attempts,
                next_attempt: Timestamp::from_utc_minutes(next),
            })
        })
        .collect())
}
