//! The memory store's event log: one append-only byte log for every dossier, in segments.
//!
//! A record is an event's canonical bytes ([`canonical_bytes`], the bytes its hash seals) behind
//! a fixed header: the offset of the same dossier's previous record, the envelope schema, the
//! payload length and the stored hash (8 of its 32 bytes for a lean event: the rest follows from
//! the chain when read). A dossier is then just the offset of its last record and
//! its length; reading it walks the back links. `seq` is the position in the chain and `prev`
//! the previous record's hash (GENESIS first), so neither is stored. Compared with keeping each
//! event as a value (≈ 184 bytes plus a vector per dossier), a record is ≈ 90 bytes and a
//! dossier allocates nothing of its own.

use motcua_core::DossierCode;

use crate::store::{canonical_bytes, canonical_parts, open_sealed, Hash, StoreError, StoredEvent, GENESIS};

/// Bytes per segment: segments are never reallocated, so appends never move old records.
const SEGMENT: usize = 8 << 20;
/// `back` (8) + schema (2) + payload length (4) + hash (32; 8 for a lean event).
const HEADER: usize = 46;

/// Bytes of a lean event's hash a record keeps (the rest follows from the chain when read).
const SHORT_HASH: usize = 8;

/// The header's size for a record of `schema`.
fn header(schema: u16) -> usize {
    if schema >= crate::store::lean::LEAN_SCHEMA {
        HEADER - 32 + SHORT_HASH
    } else {
        HEADER
    }
}
/// "No previous record".
pub(crate) const NONE: u64 = u64::MAX;

/// Where one dossier's chain ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chain {
    /// Offset of the last record, or [`NONE`].
    pub last: u64,
    /// Records in the chain (= the dossier's version).
    pub len: u64,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain { last: NONE, len: 0 }
    }
}

/// One event encoded by [`Log::encode`], waiting for [`Log::commit`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Encoded {
    schema: u16,
    hash: Hash,
    start: usize,
    len: usize,
}

/// The log. Offsets are `segment << 32 | position`.
#[derive(Default)]
pub(crate) struct Log {
    segments: Vec<Vec<u8>>,
    /// Bytes per new segment (0: [`SEGMENT`]).
    segment_bytes: usize,
    /// The batch being encoded: payload bytes and one entry per event (reused across batches).
    scratch: Vec<u8>,
    pending: Vec<Encoded>,
    /// Per stream of the batch: its slot in the store (if it exists) and its prepared events.
    pub streams: Vec<(Option<u32>, Prepared)>,
    /// The dictionary lean records refer to.
    pub lexicon: crate::store::Lexicon,
}

/// The events [`Log::encode`] prepared for one chain: a range of the batch's pending entries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared {
    from: usize,
    to: usize,
}

impl Log {
    /// Starts a batch: forgets what earlier batches encoded.
    pub fn begin(&mut self) {
        self.scratch.clear();
        self.pending.clear();
        self.streams.clear();
    }

    /// Encodes `events` (the next ones of `chain`, in order) without writing anything: an
    /// unknown schema or a gap in the sequence is an error and leaves the log as it was. The
    /// bytes the writer sealed (`canonical`, see `StreamAppend::canonical`) are taken as they
    /// are when given.
    pub fn encode(&mut self, chain: &Chain, events: &[StoredEvent], canonical: &[u8]) -> Result<Prepared, StoreError> {
        let from = self.pending.len();
        let mut sealed = canonical_parts(canonical, events.len());
        for (i, e) in events.iter().enumerate() {
            if e.seq != chain.len + 1 + i as u64 {
                return Err(StoreError::Backend(format!(
                    "{}: event {} appended at position {}",
                    e.dossier,
                    e.seq,
                    chain.len + 1 + i as u64
                )));
            }
            let start = self.scratch.len();
            match sealed.as_mut().and_then(Iterator::next) {
                Some(bytes) => self.scratch.extend_from_slice(bytes),
                None => canonical_bytes(e.actor.as_ref(), &e.event, e.schema, &mut self.scratch).ok_or_else(|| {
                    StoreError::Backend(format!("{}: event {}: unknown envelope schema {}", e.dossier, e.seq, e.schema))
                })?,
            }
            self.pending.push(Encoded { schema: e.schema, hash: e.hash, start, len: self.scratch.len() - start });
        }
        Ok(Prepared { from, to: self.pending.len() })
    }

    /// Writes what [`Log::encode`] prepared (its scratch, its list) at the end of `chain`.
    pub fn commit(&mut self, chain: &mut Chain, prepared: Prepared) {
        for i in prepared.from..prepared.to {
            let Some(&Encoded { schema, hash, start, len }) = self.pending.get(i) else { return };
            let need = header(schema) + len;
            let fits = self.segments.last().is_some_and(|s| s.capacity() - s.len() >= need);
            if !fits {
                let size = if self.segment_bytes == 0 { SEGMENT } else { self.segment_bytes };
                self.segments.push(Vec::with_capacity(size.max(need)));
            }
            let seg_index = self.segments.len() - 1;
            let Some(seg) = self.segments.last_mut() else { return };
            let offset = (seg_index as u64) << 32 | seg.len() as u64;
            seg.extend_from_slice(&chain.last.to_le_bytes());
            seg.extend_from_slice(&schema.to_le_bytes());
            seg.extend_from_slice(&(len as u32).to_le_bytes());
            seg.extend_from_slice(&hash[..header(schema) - 14]);
            seg.extend_from_slice(&self.scratch[start..start + len]);
            chain.last = offset;
            chain.len += 1;
        }
    }

    /// The record at `offset`: (back link, schema, the hash bytes it keeps, payload).
    fn record(&self, offset: u64) -> Option<(u64, u16, &[u8], &[u8])> {
        let seg = self.segments.get((offset >> 32) as usize)?;
        let at = (offset & 0xFFFF_FFFF) as usize;
        let h = seg.get(at..at + 14)?;
        let back = u64::from_le_bytes(h[0..8].try_into().ok()?);
        let schema = u16::from_le_bytes(h[8..10].try_into().ok()?);
        let len = u32::from_le_bytes(h[10..14].try_into().ok()?) as usize;
        let size = header(schema);
        let hash = seg.get(at + 14..at + size)?;
        Some((back, schema, hash, seg.get(at + size..at + size + len)?))
    }

    /// The chain's events, first to last.
    pub fn read(&self, dossier: &DossierCode, chain: &Chain) -> Result<Vec<StoredEvent>, StoreError> {
        self.read_sealed(dossier, chain, None)
    }

    /// [`MemLog::read`], also appending each event's sealed bytes as stored to `sealed` (the
    /// layout of `StreamAppend::canonical`), when given.
    pub fn read_sealed(
        &self,
        dossier: &DossierCode,
        chain: &Chain,
        mut sealed: Option<&mut Vec<u8>>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut records = Vec::with_capacity(chain.len as usize);
        let mut at = chain.last;
        while at != NONE {
            let r = self
                .record(at)
                .ok_or_else(|| StoreError::Backend(format!("{dossier}: the memory log has no record at {at:#x}")))?;
            at = r.0;
            records.push(r);
        }
        let mut prev = GENESIS;
        let text = dossier.to_string();
        let mut out = Vec::with_capacity(records.len());
        let mut buf = Vec::new();
        for (i, (_, schema, kept, payload)) in records.into_iter().rev().enumerate() {
            let seq = i as u64 + 1;
            if let Some(out) = sealed.as_deref_mut() {
                crate::store::push_part(out, payload);
            }
            let (actor, event, meaning) = open_sealed(payload, schema, &self.lexicon, &text, &mut buf)?;
            // A lean record keeps 8 bytes of its hash: the full one follows from the chain, and
            // bytes that no longer match those 8 come back as kept (zeros after), for `verify`.
            let hash: Hash = match <[u8; 32]>::try_from(kept) {
                Ok(full) => full,
                Err(_) => {
                    let full = crate::store::chain_hash(&prev, &text, seq, schema, meaning);
                    if full[..kept.len()] == *kept {
                        full
                    } else {
                        let mut partial = [0u8; 32];
                        partial[..kept.len()].copy_from_slice(kept);
                        partial
                    }
                }
            };
            out.push(StoredEvent { dossier: dossier.clone(), seq, schema, actor, event, prev, hash });
            prev = hash;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Sealer;
    use motcua_calendar::Timestamp;
    use motcua_core::Event;

    fn event(n: u64) -> Event {
        let at = Timestamp::from_utc_minutes(28_000_000 + n as i64);
        Event::SupplementRequested { at, reason: "x".repeat((n % 50) as usize) }
    }

    #[test]
    fn interleaved_chains_read_back_across_segments() {
        // Tiny segments: most records start a new one, some records exceed a segment.
        let mut log = Log { segment_bytes: 100, ..Log::default() };
        let codes: Vec<DossierCode> =
            ["H42.12-250303-0001", "H42.12-250303-0002", "X-250303-0003"].iter().map(|c| c.parse().unwrap()).collect();
        let mut chains = vec![Chain::default(); codes.len()];
        let mut written: Vec<Vec<StoredEvent>> = vec![Vec::new(); codes.len()];
        let mut sealer = Sealer::default();
        for n in 0..60u64 {
            let k = (n * 7 % 3) as usize;
            let prev = written[k].last().map_or(GENESIS, |e| e.hash);
            let e = sealer.seal(&codes[k], &codes[k].to_string(), chains[k].len + 1, None, event(n), prev);
            log.begin();
            let prepared = log.encode(&chains[k], std::slice::from_ref(&e), &[]).unwrap();
            log.commit(&mut chains[k], prepared);
            written[k].push(e);
        }
        assert!(log.segments.len() > 10);
        for k in 0..codes.len() {
            assert_eq!(log.read(&codes[k], &chains[k]).unwrap(), written[k]);
        }
    }

    #[test]
    fn a_gap_in_the_sequence_is_refused_before_writing() {
        let mut log = Log::default();
        let code: DossierCode = "H42.12-250303-0001".parse().unwrap();
        let e = StoredEvent::seal(&code, 2, None, event(1), GENESIS);
        log.begin();
        let err = log.encode(&Chain::default(), &[e], &[]).unwrap_err();
        assert!(err.to_string().contains("event 2 appended at position 1"), "{err}");
        assert!(log.segments.is_empty());
    }
}
