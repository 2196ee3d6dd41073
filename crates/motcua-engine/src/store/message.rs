//! Outbox wire types: national-portal status messages and their delivery records.

use motcua_calendar::Timestamp;
use motcua_core::{AgencyCode, DossierCode, ProcedureCode};
use serde::{Deserialize, Serialize};

/// A status change for the national portal. Its id is `<dossier code>#<seq>`
/// ([`SyncMessage::id`]): the portal deduplicates by it. The id is not a field, so a message
/// allocates nothing of its own; its serialized form still carries it first (the form stored
/// rows and portals read).
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
}

impl SyncMessage {
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
        let mut m = s.serialize_struct("SyncMessage", 10)?;
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
        }
    }
}

/// A message waiting in the outbox. A message the portal acknowledged leaves the outbox (the
/// event log keeps the history; the outbox holds only what is still to send).
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
