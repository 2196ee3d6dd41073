//! The stored event envelope: sealing, canonical bytes and the hash chain.

use motcua_core::{DossierCode, Event};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::lean::Lexicon;
use super::StoreError;
use crate::Actor;

/// Version of the stored event envelope. A change of meaning is a new event variant or a new
/// schema number, never an edited one. Schema 1 sealed an event's JSON; schema 2 its canonical
/// binary form; schema 3 the actor who caused it (pseudonymous id, role, unit) together with
/// the event; schema 4 (written today) stores schema 3's tree in lean bytes (dictionary ids
/// for repeated strings, see [`super::lean`]) and seals its canonical MessagePack, every id
/// replaced by its text. All four verify.
pub const EVENT_SCHEMA: u16 = super::lean::LEAN_SCHEMA;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The hash before a dossier's first event.
pub const GENESIS: Hash = [0; 32];

/// Lower-case hex of a hash (or of any bytes).
pub fn hex(h: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(2 * h.len());
    for b in h {
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One event as stored: its place in the dossier's chain and the hash that seals it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The dossier.
    pub dossier: DossierCode,
    /// 1-based position in the dossier's stream (= the dossier's version after it).
    pub seq: u64,
    /// Envelope schema.
    pub schema: u16,
    /// Who caused it (sealed with it from schema 3; `None` in older events).
    pub actor: Option<Actor>,
    /// The event.
    pub event: Event,
    /// Hash of the previous event ([`GENESIS`] for the first).
    pub prev: Hash,
    /// SHA-256 over `prev`, the dossier code, `seq`, `schema` and the canonical bytes of the
    /// actor and the event.
    pub hash: Hash,
}

/// The event as JSON, the readable form (for people and tools; envelope schema 1 sealed these
/// bytes, schema 2 seals [`canonical_bytes`]).
pub fn encode_event(event: &Event) -> String {
    // Serializing our own enum to JSON cannot fail (string keys, no non-finite floats).
    serde_json::to_string(event).unwrap_or_default()
}

/// Appends the bytes that envelope `schema` seals for `event` (caused by `actor`) to `out`:
/// schema 1 the event's JSON, schema 2 its compact MessagePack (fields in declaration order
/// without names, the variant name first, instants as UTC minutes), schema 3 the MessagePack
/// pair `[actor, event]` — the bytes stores keep. Schemas 1 and 2 had no actor (one given is
/// not written). `None` for an unknown schema.
///
/// Schema 4's bytes written here intern nothing (every string inline): valid lean bytes that
/// seal what the engine's, with their dictionary ids, seal; the engine writes the dictionary's
/// ([`Sealer::seal_into`]).
pub fn canonical_bytes(actor: Option<&Actor>, event: &Event, schema: u16, out: &mut Vec<u8>) -> Option<()> {
    match schema {
        1 => serde_json::to_writer(&mut *out, event).ok(),
        2 => rmp_serde::encode::write(out, event).ok(),
        3 => rmp_serde::encode::write(out, &(actor, event)).ok(),
        4 => {
            let tree = rmp_serde::to_vec(&(actor, event)).ok()?;
            super::lean::compact(&tree, &mut |_| None, "", out, &mut Vec::new()).ok()
        }
        _ => None,
    }
}

/// The bytes an event's hash seals, from the bytes stored under `schema`: the stored bytes
/// themselves up to schema 3; schema 4's canonical MessagePack, its dictionary ids replaced by
/// their texts in `lexicon` (written into `buf`).
pub fn sealed_meaning<'a>(
    stored: &'a [u8],
    schema: u16,
    lexicon: &Lexicon,
    code: &str,
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], StoreError> {
    if schema != super::lean::LEAN_SCHEMA {
        return Ok(stored);
    }
    buf.clear();
    super::lean::expand(stored, lexicon, code, buf).map_err(|e| StoreError::Backend(format!("corrupt event: {e}")))?;
    Ok(buf)
}

/// Reads the actor and the event back from the bytes [`canonical_bytes`] wrote under
/// `schema` (no actor before schema 3). Decoding is for replay; `verify` hashes the bytes as
/// stored, so an edit that decodes to the same values still shows.
/// Schema 4's dictionary ids are looked up in `lexicon`; an id it does not hold is
/// [`super::lean::LeanError::UnknownId`] in the error's text (a store refreshes its dictionary
/// and tries again, [`is_unknown_id`]).
pub fn decode_sealed(
    bytes: &[u8],
    schema: u16,
    lexicon: &Lexicon,
    code: &str,
) -> Result<(Option<Actor>, Event), StoreError> {
    open_sealed(bytes, schema, lexicon, code, &mut Vec::new()).map(|(actor, event, _)| (actor, event))
}

/// [`decode_sealed`], also giving the bytes the event's hash seals ([`sealed_meaning`]): schema
/// 4's lean bytes are expanded once, into `buf`, for both.
pub fn open_sealed<'a>(
    bytes: &'a [u8],
    schema: u16,
    lexicon: &Lexicon,
    code: &str,
    buf: &'a mut Vec<u8>,
) -> Result<(Option<Actor>, Event, &'a [u8]), StoreError> {
    let bad = |e: &dyn std::fmt::Display| StoreError::Backend(format!("corrupt event (schema {schema}): {e}"));
    let (actor, event) = match schema {
        1 => serde_json::from_slice(bytes).map(|e| (None, e)).map_err(|e| bad(&e))?,
        2 => rmp_serde::from_slice(bytes).map(|e| (None, e)).map_err(|e| bad(&e))?,
        3 => rmp_serde::from_slice(bytes).map_err(|e| bad(&e))?,
        4 => {
            buf.clear();
            super::lean::expand(bytes, lexicon, code, buf).map_err(|e| bad(&e))?;
            let (actor, event) = rmp_serde::from_slice(buf).map_err(|e| bad(&e))?;
            return Ok((actor, event, buf));
        }
        _ => return Err(bad(&"unknown envelope schema")),
    };
    Ok((actor, event, bytes))
}

/// Whether a decoding error is a dictionary id the reader's dictionary does not hold yet
/// (another writer added it): refresh the dictionary and decode again.
pub fn is_unknown_id(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend(text) if text.contains("dictionary id"))
}

/// The hash sealing an event: SHA-256 over `prev`, the dossier code's text, a
/// zero byte, `seq` and `schema` big-endian, and the event's canonical bytes.
pub fn chain_hash(prev: &Hash, dossier: &str, seq: u64, schema: u16, payload: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(dossier.as_bytes());
    h.update([0u8]);
    h.update(seq.to_be_bytes());
    h.update(schema.to_be_bytes());
    h.update(payload);
    h.finalize().into()
}

/// Seals events with reused encoding buffers (the engine keeps one).
#[derive(Default, Debug)]
pub struct Sealer {
    scratch: Vec<u8>,
    tree: Vec<u8>,
    canon: Vec<u8>,
}

impl Sealer {
    /// Seals `event`, caused by `actor`, as number `seq` of `dossier` (whose text is `text`)
    /// after `prev`, under the current [`EVENT_SCHEMA`].
    pub fn seal(
        &mut self,
        dossier: &DossierCode,
        text: &str,
        seq: u64,
        actor: Option<&Actor>,
        event: Event,
        prev: Hash,
    ) -> StoredEvent {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let sealed = self.seal_into(dossier, text, seq, actor, event, prev, &mut scratch, &mut |_| None);
        self.scratch = scratch;
        sealed
    }

    /// [`Sealer::seal`], also appending the stored bytes to `out` behind their length (`u32`
    /// little-endian): the layout of [`super::StreamAppend::canonical`]. Strings go through
    /// `intern` (the writer's dictionary; `None` writes one inline).
    #[allow(clippy::too_many_arguments)]
    pub fn seal_into(
        &mut self,
        dossier: &DossierCode,
        text: &str,
        seq: u64,
        actor: Option<&Actor>,
        event: Event,
        prev: Hash,
        out: &mut Vec<u8>,
        intern: &mut super::lean::Intern<'_>,
    ) -> StoredEvent {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        // Written straight from the event; through MessagePack if the event holds what only
        // that path writes. Encoding our own types into a Vec cannot fail, nor compacting what
        // rmp wrote; an empty payload would still seal (and `verify` would then report the
        // mismatch), never panic.
        self.canon.clear();
        if super::lean::compact_from(&(actor, &event), intern, text, out, &mut self.canon).is_none() {
            self.tree.clear();
            let _ = rmp_serde::encode::write(&mut self.tree, &(actor, &event));
            if super::lean::compact(&self.tree, intern, text, out, &mut self.canon).is_err() {
                out.truncate(at + 4);
            }
        }
        let len = out.len() - at - 4;
        out[at..at + 4].copy_from_slice(&(len as u32).to_le_bytes());
        let hash = chain_hash(&prev, text, seq, EVENT_SCHEMA, &self.canon);
        StoredEvent { dossier: dossier.clone(), seq, schema: EVENT_SCHEMA, actor: actor.cloned(), event, prev, hash }
    }

    /// The canonical bytes of a decoded event, encoded again (`None` for an unknown schema):
    /// for stores that keep decoded events only. Stores that keep the sealed bytes hand those
    /// to `verify` instead ([`super::Store::for_each_sealed_stream`]).
    pub fn reencode(&mut self, e: &StoredEvent) -> Option<Vec<u8>> {
        self.scratch.clear();
        canonical_bytes(e.actor.as_ref(), &e.event, e.schema, &mut self.scratch)?;
        Some(self.scratch.clone())
    }
}

impl StoredEvent {
    /// Seals `event`, caused by `actor`, as number `seq` after `prev`.
    pub fn seal(dossier: &DossierCode, seq: u64, actor: Option<&Actor>, event: Event, prev: Hash) -> StoredEvent {
        Sealer::default().seal(dossier, &dossier.to_string(), seq, actor, event, prev)
    }
}
