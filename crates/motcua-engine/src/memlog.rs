//! The memory store's event log: one append-only byte log for every dossier, in segments.
//!
//! A record is an event's canonical bytes ([`canonical_bytes`], the bytes its hash seals) behind
//! a header of varints: the link to the same dossier's previous record (its distance back when
//! in the same segment, else its offset), the envelope schema, the payload length; then the
//! stored hash (8 of its 32 bytes for a lean event: the rest follows from the chain when read) —
//! about 13 bytes before a lean event's payload instead of 22. A dossier is then just the offset of its last record and
//! its length; reading it walks the back links. `seq` is the position in the chain and `prev`
//! the previous record's hash (GENESIS first), so neither is stored. Compared with keeping each
//! event as a value (≈ 184 bytes plus a vector per dossier), a record is ≈ 90 bytes and a
//! dossier allocates nothing of its own.

use motcua_core::DossierCode;

use crate::store::{canonical_bytes, canonical_parts, open_sealed, Hash, StoreError, StoredEvent, GENESIS};

/// Bytes per segment: segments are never reallocated, so appends never move old records.
const SEGMENT: usize = 8 << 20;
/// The most a header takes: the back link (a varint of up to 10 bytes), the schema (up to 3)
/// and the payload length (up to 5), then the hash (32; 8 for a lean event).
const MAX_HEADER: usize = 10 + 3 + 5 + 32;

/// Bytes of a lean event's hash a record keeps (the rest follows from the chain when read).
const SHORT_HASH: usize = 8;

/// Bytes of its hash a record of `schema` keeps.
fn kept_hash(schema: u16) -> usize {
    if schema >= crate::store::lean::LEAN_SCHEMA {
        SHORT_HASH
    } else {
        32
    }
}

/// Appends `v` as a LEB128 varint.
fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*at`, moving past it.
fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// A record's back link as its header keeps it: the distance back to the previous record when
/// both are in one segment (`distance << 1`, 3 to 4 bytes for most), else the previous
/// record's offset plus one, 0 for none (`… << 1 | 1`).
fn back_link(back: u64, here: u64) -> u64 {
    if back != NONE && back >> 32 == here >> 32 && back < here {
        (here - back) << 1
    } else {
        (back.wrapping_add(1)) << 1 | 1
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
    /// A record's header as it is written (reused).
    head: Vec<u8>,
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
        let head = &mut self.head;
        for i in prepared.from..prepared.to {
            let Some(&Encoded { schema, hash, start, len }) = self.pending.get(i) else { return };
            let need = MAX_HEADER + len;
            let fits = self.segments.last().is_some_and(|s| s.capacity() - s.len() >= need);
            if !fits {
                let size = if self.segment_bytes == 0 { SEGMENT } else { self.segment_bytes };
                self.segments.push(Vec::with_capacity(size.max(need)));
            }
            let seg_index = self.segments.len() - 1;
            let Some(seg) = self.segments.last_mut() else { return };
            let offset = (seg_index as u64) << 32 | seg.len() as u64;
            head.clear();
            put_varint(back_link(chain.last, offset), head);
            put_varint(u64::from(schema), head);
            put_varint(len as u64, head);
            head.extend_from_slice(&hash[..kept_hash(schema)]);
            seg.extend_from_slice(head);
            seg.extend_from_slice(&self.scratch[start..start + len]);
            chain.last = offset;
            chain.len += 1;
        }
    }

    /// The record at `offset`: (back link, schema, the hash bytes it keeps, payload).
    fn record(&self, offset: u64) -> Option<(u64, u16, &[u8], &[u8])> {
        let seg = self.segments.get((offset >> 32) as usize)?;
        let mut at = (offset & 0xFFFF_FFFF) as usize;
        let link = get_varint(seg, &mut at)?;
        let back = if link & 1 == 0 { offset.checked_sub(link >> 1)? } else { (link >> 1).wrapping_sub(1) };
        let schema = u16::try_from(get_varint(seg, &mut at)?).ok()?;
        let len = usize::try_from(get_varint(seg, &mut at)?).ok()?;
        let hash = seg.get(at..at + kept_hash(schema))?;
        at += kept_hash(schema);
        Some((back, schema, hash, seg.get(at..at + len)?))
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
