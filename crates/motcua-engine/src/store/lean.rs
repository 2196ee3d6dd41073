//! Lean event bytes: envelope schema 4.
//!
//! An event's meaning is its MessagePack form `[actor, event]` (what schema 3 stored); schema 4
//! stores the same tree in fewer bytes and seals the meaning, not the bytes:
//!
//! - **Strings** short enough to repeat (codes, agencies, officers, steps, variant and enum
//!   names, component names, fee names; at most [`MAX_INTERNED`] bytes) are written as an id into
//!   an append-only **dictionary** of the store ([`Lexicon`]); the 64 first-seen ones (variant
//!   names, roles, the busiest agencies) take one byte. Keys (`k1`/`a1` and 32 hex digits) and
//!   SHA-256 digests (64 hex digits) are written as their 16 or 32 bytes. Longer free text is
//!   inline. An array of four or more integers under 256 (a hash serialized as numbers) is
//!   written as its bytes.
//! - A string holding the event's own **dossier code** (a receipt's or a result's number,
//!   `KQ-<code>`) as the text around it.
//! - **Integers** as variable-length integers; one close to the previous large integer of the
//!   record (a due time after its receipt instant) as the difference; integers up to 159 and
//!   arrays up to 15 long in one byte.
//!
//! [`compact`] turns MessagePack into lean tokens, [`expand`] turns them back into MessagePack
//! in one canonical form (minimal encodings), and both produce the same canonical bytes for the
//! same tree, with every dictionary id replaced by its text. Those canonical bytes are what the
//! event's hash seals: an edit of the stored bytes, of the actor inside them, or of a
//! dictionary entry they refer to changes the canonical bytes, and `verify` reports the
//! dossier. Decoding is bounded: depth, lengths and counts are checked against the input.

use std::sync::Arc;

use rustc_hash::FxHashMap;

mod ser;

/// The envelope schema of lean events.
pub const LEAN_SCHEMA: u16 = 4;

/// Strings longer than this (bytes) are written inline, never interned.
pub const MAX_INTERNED: usize = 64;

/// Deepest nesting decoded.
const MAX_DEPTH: usize = 32;

/// A large integer: the next one close to it is written as the difference.
const BIG: u64 = 1 << 20;

// Token bytes.
const NIL: u8 = 0x00;
const FALSE: u8 = 0x01;
const TRUE: u8 = 0x02;
const ARRAY: u8 = 0x03;
const MAP: u8 = 0x04;
const UINT: u8 = 0x05;
const NEGINT: u8 = 0x06;
const REF: u8 = 0x07;
const STR: u8 = 0x08;
const KEY34: u8 = 0x09;
const HEX64: u8 = 0x0A;
const BIN: u8 = 0x0B;
const F32: u8 = 0x0C;
const F64: u8 = 0x0D;
const EXT: u8 = 0x0E;
const DELTA: u8 = 0x0F;
const SMALL_ARRAY: u8 = 0x10; // ..=0x1F: arrays of 0..=15
const SMALL_REF: u8 = 0x20; // ..=0x5E: ids 0..=62
const BYTES: u8 = 0x5F; // an array of 4 or more integers under 256 (a hash kept as numbers)
const SMALL_UINT: u8 = 0x60; // ..=0xFE: 0..=158
const SELF: u8 = 0xFF; // a string holding the record's own dossier code: prefix, code, suffix

/// Why lean or MessagePack bytes could not be read.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum LeanError {
    /// The bytes end inside a value, hold a byte that starts none, nest too deep, or leave
    /// bytes after the value.
    #[error("malformed {0} bytes")]
    Malformed(&'static str),
    /// A dictionary id the dictionary does not hold.
    #[error("dictionary id {0} unknown")]
    UnknownId(u32),
}

/// The dictionary of a store: ids to texts and back. Ids are dense from 0, handed out by the
/// store in blocks ([`crate::Store::reserve_dictionary`]), so writers never give one id two
/// texts; two writers may give one text two ids, which costs an entry, never a meaning.
#[derive(Clone, Debug, Default)]
pub struct Lexicon {
    texts: Vec<Option<Arc<str>>>,
    ids: FxHashMap<Arc<str>, u32>,
}

impl Lexicon {
    /// Records entry `id` (from storage, or a batch being written).
    pub fn insert(&mut self, id: u32, text: Arc<str>) {
        let at = id as usize;
        if self.texts.len() <= at {
            self.texts.resize(at + 1, None);
        }
        self.ids.entry(Arc::clone(&text)).or_insert(id);
        self.texts[at] = Some(text);
    }

    /// The text of `id`.
    pub fn text(&self, id: u32) -> Option<&Arc<str>> {
        self.texts.get(id as usize).and_then(Option::as_ref)
    }

    /// The id of `text`, if it has one.
    pub fn id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// One past the highest id held (where a refresh from storage starts).
    pub fn end(&self) -> u32 {
        self.texts.len() as u32
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A store handle's copy of its dictionary, shared by its readers and its writer: entries
/// read from storage as events refer to them, or joined from a batch being written.
#[derive(Debug, Default)]
pub struct SharedLexicon(std::sync::RwLock<Lexicon>);

fn poisoned() -> super::StoreError {
    super::StoreError::Backend("a thread panicked while holding the dictionary".into())
}

impl SharedLexicon {
    /// The dictionary as this handle holds it (do not ask for it again while holding it).
    pub fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Lexicon>, super::StoreError> {
        self.0.read().map_err(|_| poisoned())
    }

    /// Joins `entries` (a batch's, or read from storage); an id already held stays as it is.
    pub fn absorb(&self, entries: &[(u32, Arc<str>)]) -> Result<(), super::StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut lexicon = self.0.write().map_err(|_| poisoned())?;
        for (id, text) in entries {
            if lexicon.text(*id).is_none() {
                lexicon.insert(*id, Arc::clone(text));
            }
        }
        Ok(())
    }

    /// Reads the entries it does not hold yet with `fetch` (given the first id to read).
    pub fn refresh(
        &self,
        fetch: impl FnOnce(u32) -> Result<Vec<(u32, Arc<str>)>, super::StoreError>,
    ) -> Result<(), super::StoreError> {
        let from = self.read()?.end();
        self.absorb(&fetch(from)?)
    }
}

/// Runs `attempt`; when it fails on a dictionary id the handle does not hold yet (another
/// writer added it), runs `refresh` and `attempt` once more.
pub fn retrying_unknown_ids<T>(
    mut attempt: impl FnMut() -> Result<T, super::StoreError>,
    refresh: impl FnOnce() -> Result<(), super::StoreError>,
) -> Result<T, super::StoreError> {
    match attempt() {
        Err(e) if super::is_unknown_id(&e) => {
            refresh()?;
            attempt()
        }
        other => other,
    }
}

/// Whether `s` is a pseudonymous key: two ASCII letters or digits then 32 lowercase hex digits
/// (`k1…` applicant keys, `a1…` account ids).
fn is_key34(s: &[u8]) -> bool {
    s.len() == 34 && s[..2].iter().all(u8::is_ascii_alphanumeric) && is_hex(&s[2..])
}

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

fn unhex(s: &[u8], out: &mut Vec<u8>) {
    let v = |b: u8| if b.is_ascii_digit() { b - b'0' } else { b - b'a' + 10 };
    for pair in s.chunks_exact(2) {
        out.push(v(pair[0]) << 4 | v(pair[1]));
    }
}

fn push_hex(bytes: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize]);
        out.push(DIGITS[(b & 15) as usize]);
    }
}

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(d: i64) -> u64 {
    ((d << 1) ^ (d >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    (z >> 1) as i64 ^ -((z & 1) as i64)
}

/// Canonical MessagePack writers (minimal encodings, as `rmp` writes them).
mod canon {
    pub fn uint(v: u64, out: &mut Vec<u8>) {
        match v {
            0..=0x7f => out.push(v as u8),
            0x80..=0xff => out.extend_from_slice(&[0xcc, v as u8]),
            0x100..=0xffff => {
                out.push(0xcd);
                out.extend_from_slice(&(v as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xce);
                out.extend_from_slice(&(v as u32).to_be_bytes());
            }
            _ => {
                out.push(0xcf);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }

    /// A negative integer.
    pub fn negint(v: i64, out: &mut Vec<u8>) {
        match v {
            -32..=-1 => out.push(v as i8 as u8),
            -128..=-33 => out.extend_from_slice(&[0xd0, v as i8 as u8]),
            -32768..=-129 => {
                out.push(0xd1);
                out.extend_from_slice(&(v as i16).to_be_bytes());
            }
            -2_147_483_648..=-32769 => {
                out.push(0xd2);
                out.extend_from_slice(&(v as i32).to_be_bytes());
            }
            _ => {
                out.push(0xd3);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }

    fn len(n: usize, fix: u8, fix_max: usize, m8: Option<u8>, m16: u8, m32: u8, out: &mut Vec<u8>) {
        if n <= fix_max {
            out.push(fix | n as u8);
        } else if let (Some(m8), true) = (m8, n <= 0xff) {
            out.extend_from_slice(&[m8, n as u8]);
        } else if n <= 0xffff {
            out.push(m16);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            out.push(m32);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }

    pub fn array(n: usize, out: &mut Vec<u8>) {
        len(n, 0x90, 15, None, 0xdc, 0xdd, out);
    }

    pub fn map(n: usize, out: &mut Vec<u8>) {
        len(n, 0x80, 15, None, 0xde, 0xdf, out);
    }

    pub fn str_header(n: usize, out: &mut Vec<u8>) {
        len(n, 0xa0, 31, Some(0xd9), 0xda, 0xdb, out);
    }

    pub fn bin_header(n: usize, out: &mut Vec<u8>) {
        if n <= 0xff {
            out.extend_from_slice(&[0xc4, n as u8]);
        } else if n <= 0xffff {
            out.push(0xc5);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            out.push(0xc6);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }

    pub fn ext_header(n: usize, kind: i8, out: &mut Vec<u8>) {
        match n {
            1 => out.push(0xd4),
            2 => out.push(0xd5),
            4 => out.push(0xd6),
            8 => out.push(0xd7),
            16 => out.push(0xd8),
            0..=0xff => out.extend_from_slice(&[0xc7, n as u8]),
            0x100..=0xffff => {
                out.push(0xc8);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            _ => {
                out.push(0xc9);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
        }
        out.push(kind as u8);
    }
}

/// A cursor over input bytes.
struct Input<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Input<'a> {
    fn bad(&self) -> LeanError {
        LeanError::Malformed(self.what)
    }

    fn byte(&mut self) -> Result<u8, LeanError> {
        let b = *self.bytes.get(self.at).ok_or(LeanError::Malformed(self.what))?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], LeanError> {
        let end = self.at.checked_add(n).ok_or(LeanError::Malformed(self.what))?;
        let s = self.bytes.get(self.at..end).ok_or(LeanError::Malformed(self.what))?;
        self.at = end;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, LeanError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    }

    fn varint(&mut self) -> Result<u64, LeanError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.bad())
    }

    /// A count of items, each at least one byte: never more than the bytes left.
    fn count(&self, n: u64) -> Result<usize, LeanError> {
        if n > (self.bytes.len() - self.at) as u64 {
            return Err(self.bad());
        }
        Ok(n as usize)
    }

    fn rest(&self) -> usize {
        self.bytes.len() - self.at
    }
}

/// What [`compact`] writes a string as: asked of the dictionary for each string short enough
/// ([`MAX_INTERNED`] bytes) that is neither a key nor a digest; `None` writes it inline.
pub type Intern<'a> = dyn FnMut(&str) -> Option<u32> + 'a;

/// Turns one MessagePack value (`msgpack`, nothing after it) into lean tokens (appended to
/// `lean`) and its canonical MessagePack (appended to `canon`). `code` is the record's dossier
/// code (strings holding it are written around it).
pub fn compact(
    msgpack: &[u8],
    intern: &mut Intern<'_>,
    code: &str,
    lean: &mut Vec<u8>,
    canon: &mut Vec<u8>,
) -> Result<(), LeanError> {
    let mut input = Input { bytes: msgpack, at: 0, what: "MessagePack" };
    let mut big = None;
    let mut ctx = Ctx { intern, code: code.as_bytes(), big: &mut big };
    compact_value(&mut input, &mut ctx, lean, canon, 0)?;
    if input.rest() != 0 {
        return Err(input.bad());
    }
    Ok(())
}

/// [`compact`] of `value`'s MessagePack (as `rmp_serde` writes it by default), written straight
/// from the value: the same lean and canonical bytes and the same dictionary questions, in
/// one pass. `None` (both outputs as they were) when the value holds what only the
/// MessagePack path writes (a sequence of unknown length, an extension, deep nesting).
pub fn compact_from<T: serde::Serialize + ?Sized>(
    value: &T,
    intern: &mut Intern<'_>,
    code: &str,
    lean: &mut Vec<u8>,
    canon: &mut Vec<u8>,
) -> Option<()> {
    let (lean_at, canon_at) = (lean.len(), canon.len());
    let mut big = None;
    let mut ctx = Ctx { intern, code: code.as_bytes(), big: &mut big };
    let mut w = ser::LeanSerializer { ctx: &mut ctx, lean, canon, depth: 0, small_at: usize::MAX };
    if value.serialize(&mut w).is_err() {
        lean.truncate(lean_at);
        canon.truncate(canon_at);
        return None;
    }
    Some(())
}

/// Whether the next `n` MessagePack values of `input` are all integers under 256 (an array
/// of small numbers, kept as bytes); `input` is left where it was either way, and nothing is
/// allocated (this runs for every array of four or more values).
fn small_uints(input: &mut Input<'_>, n: u64) -> bool {
    let start = input.at;
    let all = (|| {
        let n = input.count(n).ok()?;
        for _ in 0..n {
            match input.byte().ok()? {
                0x00..=0x7f => {}
                0xcc => {
                    input.byte().ok()?;
                }
                _ => return None,
            }
        }
        Some(())
    })()
    .is_some();
    input.at = start;
    all
}

/// What compacting one record carries along.
struct Ctx<'a, 'b> {
    intern: &'a mut Intern<'b>,
    code: &'a [u8],
    big: &'a mut Option<u64>,
}

fn compact_uint(v: u64, lean: &mut Vec<u8>, canon: &mut Vec<u8>, big: &mut Option<u64>) {
    canon::uint(v, canon);
    if v < 159 {
        lean.push(SMALL_UINT + v as u8);
        return;
    }
    if v >= BIG {
        if let Some(b) = *big {
            let z = zigzag((v as i64).wrapping_sub(b as i64));
            if z < 1 << 21 && v <= i64::MAX as u64 && b <= i64::MAX as u64 {
                lean.push(DELTA);
                put_varint(z, lean);
                *big = Some(v);
                return;
            }
        }
        *big = Some(v);
    }
    lean.push(UINT);
    put_varint(v, lean);
}

/// The first place `code` (not empty) occurs in `s`: the candidates are the places its first
/// byte occurs (a vectorised scan that needs no set-up, where building a substring searcher
/// cost more than the searches of most records), each compared whole.
fn find_code(s: &[u8], code: &[u8]) -> Option<usize> {
    let (&first, _) = code.split_first()?;
    let last = s.len().checked_sub(code.len())?;
    memchr::memchr_iter(first, &s[..=last]).find(|&i| s.get(i..i + code.len()) == Some(code))
}

fn compact_str(s: &[u8], ctx: &mut Ctx<'_, '_>, lean: &mut Vec<u8>, canon: &mut Vec<u8>) -> Result<(), LeanError> {
    canon::str_header(s.len(), canon);
    canon.extend_from_slice(s);
    if !ctx.code.is_empty() {
        let found = find_code(s, ctx.code);
        if let Some(at) = found {
            let (prefix, suffix) = (&s[..at], &s[at + ctx.code.len()..]);
            lean.push(SELF);
            put_varint(prefix.len() as u64, lean);
            lean.extend_from_slice(prefix);
            put_varint(suffix.len() as u64, lean);
            lean.extend_from_slice(suffix);
            return Ok(());
        }
    }
    let intern = &mut *ctx.intern;
    if is_key34(s) {
        lean.push(KEY34);
        lean.extend_from_slice(&s[..2]);
        unhex(&s[2..], lean);
        return Ok(());
    }
    if s.len() == 64 && is_hex(s) {
        lean.push(HEX64);
        unhex(s, lean);
        return Ok(());
    }
    let text = std::str::from_utf8(s).map_err(|_| LeanError::Malformed("MessagePack string"))?;
    match (s.len() <= MAX_INTERNED).then(|| intern(text)).flatten() {
        Some(id) if id < 63 => lean.push(SMALL_REF + id as u8),
        Some(id) => {
            lean.push(REF);
            put_varint(u64::from(id), lean);
        }
        None => {
            lean.push(STR);
            put_varint(s.len() as u64, lean);
            lean.extend_from_slice(s);
        }
    }
    Ok(())
}

fn compact_value(
    input: &mut Input<'_>,
    ctx: &mut Ctx<'_, '_>,
    lean: &mut Vec<u8>,
    canon: &mut Vec<u8>,
    depth: usize,
) -> Result<(), LeanError> {
    if depth > MAX_DEPTH {
        return Err(input.bad());
    }
    let m = input.byte()?;
    let items = |input: &mut Input<'_>, n: u64, lean: &mut Vec<u8>, canon: &mut Vec<u8>, ctx: &mut Ctx<'_, '_>| {
        let n = input.count(n)?;
        for _ in 0..n {
            compact_value(input, ctx, lean, canon, depth + 1)?;
        }
        Ok::<(), LeanError>(())
    };
    let big = &mut *ctx.big;
    match m {
        0x00..=0x7f => compact_uint(u64::from(m), lean, canon, big),
        0xcc => compact_uint(input.be(1)?, lean, canon, big),
        0xcd => compact_uint(input.be(2)?, lean, canon, big),
        0xce => compact_uint(input.be(4)?, lean, canon, big),
        0xcf => compact_uint(input.be(8)?, lean, canon, big),
        0xe0..=0xff | 0xd0..=0xd3 => {
            let v = match m {
                0xd0 => input.be(1)? as u8 as i8 as i64,
                0xd1 => input.be(2)? as u16 as i16 as i64,
                0xd2 => input.be(4)? as u32 as i32 as i64,
                0xd3 => input.be(8)? as i64,
                _ => m as i8 as i64,
            };
            if v >= 0 {
                compact_uint(v as u64, lean, canon, big);
            } else {
                canon::negint(v, canon);
                lean.push(NEGINT);
                put_varint((-1 - v) as u64, lean);
            }
        }
        0xc0 => {
            canon.push(0xc0);
            lean.push(NIL);
        }
        0xc2 | 0xc3 => {
            canon.push(m);
            lean.push(if m == 0xc3 { TRUE } else { FALSE });
        }
        0x90..=0x9f | 0xdc | 0xdd => {
            let n = match m {
                0xdc => input.be(2)?,
                0xdd => input.be(4)?,
                _ => u64::from(m & 0x0f),
            };
            canon::array(n as usize, canon);
            if n >= 4 && small_uints(input, n) {
                lean.push(BYTES);
                put_varint(n, lean);
                for _ in 0..n {
                    let b = match input.byte()? {
                        0xcc => input.byte()?,
                        b => b,
                    };
                    canon::uint(u64::from(b), canon);
                    lean.push(b);
                }
                return Ok(());
            }
            if n < 16 {
                lean.push(SMALL_ARRAY + n as u8);
            } else {
                lean.push(ARRAY);
                put_varint(n, lean);
            }
            items(input, n, lean, canon, ctx)?;
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let n = match m {
                0xde => input.be(2)?,
                0xdf => input.be(4)?,
                _ => u64::from(m & 0x0f),
            };
            canon::map(n as usize, canon);
            lean.push(MAP);
            put_varint(n, lean);
            items(input, n.saturating_mul(2), lean, canon, ctx)?;
        }
        0xa0..=0xbf | 0xd9..=0xdb => {
            let n = match m {
                0xd9 => input.be(1)?,
                0xda => input.be(2)?,
                0xdb => input.be(4)?,
                _ => u64::from(m & 0x1f),
            };
            let s = input.take(n as usize)?;
            compact_str(s, ctx, lean, canon)?;
        }
        0xc4..=0xc6 => {
            let n = input.be(1 << (m - 0xc4))? as usize;
            let b = input.take(n)?;
            canon::bin_header(n, canon);
            canon.extend_from_slice(b);
            lean.push(BIN);
            put_varint(n as u64, lean);
            lean.extend_from_slice(b);
        }
        0xca => {
            let b = input.take(4)?;
            canon.push(0xca);
            canon.extend_from_slice(b);
            lean.push(F32);
            lean.extend_from_slice(b);
        }
        0xcb => {
            let b = input.take(8)?;
            canon.push(0xcb);
            canon.extend_from_slice(b);
            lean.push(F64);
            lean.extend_from_slice(b);
        }
        0xc7..=0xc9 | 0xd4..=0xd8 => {
            let n = match m {
                0xc7 => input.be(1)? as usize,
                0xc8 => input.be(2)? as usize,
                0xc9 => input.be(4)? as usize,
                _ => 1 << (m - 0xd4),
            };
            let kind = input.byte()? as i8;
            let b = input.take(n)?;
            canon::ext_header(n, kind, canon);
            canon.extend_from_slice(b);
            lean.push(EXT);
            lean.push(kind as u8);
            put_varint(n as u64, lean);
            lean.extend_from_slice(b);
        }
        _ => return Err(input.bad()),
    }
    Ok(())
}

/// Turns lean tokens (one value, nothing after it) back into canonical MessagePack, appended
/// to `canon`; ids are looked up in `lexicon`, `code` is the record's dossier code.
pub fn expand(lean: &[u8], lexicon: &Lexicon, code: &str, canon: &mut Vec<u8>) -> Result<(), LeanError> {
    let mut input = Input { bytes: lean, at: 0, what: "lean event" };
    let mut big = None;
    expand_value(&mut input, (lexicon, code.as_bytes()), canon, &mut big, 0)?;
    if input.rest() != 0 {
        return Err(input.bad());
    }
    Ok(())
}

fn expand_value(
    input: &mut Input<'_>,
    (lexicon, code): (&Lexicon, &[u8]),
    canon: &mut Vec<u8>,
    big: &mut Option<u64>,
    depth: usize,
) -> Result<(), LeanError> {
    if depth > MAX_DEPTH {
        return Err(input.bad());
    }
    let uint = |v: u64, canon: &mut Vec<u8>, big: &mut Option<u64>| {
        if v >= BIG {
            *big = Some(v);
        }
        canon::uint(v, canon);
    };
    let text = |id: u64, canon: &mut Vec<u8>| {
        let id = u32::try_from(id).map_err(|_| LeanError::UnknownId(u32::MAX))?;
        let t = lexicon.text(id).ok_or(LeanError::UnknownId(id))?;
        canon::str_header(t.len(), canon);
        canon.extend_from_slice(t.as_bytes());
        Ok::<(), LeanError>(())
    };
    let t = input.byte()?;
    match t {
        NIL => canon.push(0xc0),
        FALSE => canon.push(0xc2),
        TRUE => canon.push(0xc3),
        SMALL_UINT..=0xfe => uint(u64::from(t - SMALL_UINT), canon, big),
        SELF => {
            let n = input.varint()?;
            let prefix = input.take(input.count(n)?)?;
            let n = input.varint()?;
            let suffix = input.take(input.count(n)?)?;
            canon::str_header(prefix.len() + code.len() + suffix.len(), canon);
            canon.extend_from_slice(prefix);
            canon.extend_from_slice(code);
            canon.extend_from_slice(suffix);
        }
        UINT => {
            let v = input.varint()?;
            uint(v, canon, big);
        }
        DELTA => {
            let b = big.ok_or(input.bad())?;
            let v = (b as i64).wrapping_add(unzigzag(input.varint()?));
            if v < 0 {
                return Err(input.bad());
            }
            uint(v as u64, canon, big);
        }
        NEGINT => {
            let x = input.varint()?;
            if x > i64::MAX as u64 {
                return Err(input.bad());
            }
            canon::negint(-1 - x as i64, canon);
        }
        SMALL_REF..=0x5e => text(u64::from(t - SMALL_REF), canon)?,
        BYTES => {
            let n = input.varint()?;
            let n = input.count(n)?;
            canon::array(n, canon);
            for &b in input.take(n)? {
                canon::uint(u64::from(b), canon);
            }
        }
        REF => {
            let id = input.varint()?;
            text(id, canon)?;
        }
        STR => {
            let n = input.varint()?;
            let n = input.count(n)?;
            let s = input.take(n)?;
            canon::str_header(n, canon);
            canon.extend_from_slice(s);
        }
        KEY34 => {
            let s = input.take(18)?;
            canon::str_header(34, canon);
            canon.extend_from_slice(&s[..2]);
            push_hex(&s[2..], canon);
        }
        HEX64 => {
            let s = input.take(32)?;
            canon::str_header(64, canon);
            push_hex(s, canon);
        }
        SMALL_ARRAY..=0x1f | ARRAY => {
            let n = if t == ARRAY { input.varint()? } else { u64::from(t - SMALL_ARRAY) };
            let n = input.count(n)?;
            canon::array(n, canon);
            for _ in 0..n {
                expand_value(input, (lexicon, code), canon, big, depth + 1)?;
            }
        }
        MAP => {
            let n = input.varint()?;
            let n = input.count(n.saturating_mul(2))? / 2;
            canon::map(n, canon);
            for _ in 0..2 * n {
                expand_value(input, (lexicon, code), canon, big, depth + 1)?;
            }
        }
        BIN => {
            let n = input.varint()?;
            let n = input.count(n)?;
            canon::bin_header(n, canon);
            canon.extend_from_slice(input.take(n)?);
        }
        F32 => {
            canon.push(0xca);
            canon.extend_from_slice(input.take(4)?);
        }
        F64 => {
            canon.push(0xcb);
            canon.extend_from_slice(input.take(8)?);
        }
        EXT => {
            let kind = input.byte()? as i8;
            let n = input.varint()?;
            let n = input.count(n)?;
            canon::ext_header(n, kind, canon);
            canon.extend_from_slice(input.take(n)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    /// A dictionary that interns everything offered, in order.
    fn interner(lex: &mut Lexicon) -> impl FnMut(&str) -> Option<u32> + '_ {
        move |s| {
            if let Some(id) = lex.id(s) {
                return Some(id);
            }
            let id = lex.end();
            lex.insert(id, Arc::from(s));
            Some(id)
        }
    }

    proptest! {
        /// The code's first occurrence, as a substring searcher finds it.
        #[test]
        fn find_code_is_the_first_occurrence(
            s in proptest::collection::vec(prop_oneof![Just(b'H'), Just(b'4'), Just(b'-'), any::<u8>()], 0..80),
            code in proptest::collection::vec(prop_oneof![Just(b'H'), Just(b'4'), Just(b'-')], 1..6),
        ) {
            prop_assert_eq!(find_code(&s, &code), memchr::memmem::find(&s, &code));
        }
    }

    fn round_trip(msgpack: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut lex = Lexicon::default();
        let (mut lean, mut canon) = (Vec::new(), Vec::new());
        compact(msgpack, &mut interner(&mut lex), "H42.12-250303-0001", &mut lean, &mut canon).unwrap();
        let mut again = Vec::new();
        expand(&lean, &lex, "H42.12-250303-0001", &mut again).unwrap();
        assert_eq!(again, canon, "expand gives the canonical bytes compact gave");
        (lean, canon)
    }

    type Decoded =
        ((String, String, String), (String, u64, String, String, u64, Option<u64>, (String, String), i64, Vec<bool>));

    #[test]
    fn events_shrink_and_read_back_as_they_were() {
        let value = (
            ("clerk-1", "clerk", "H42.12"),
            (
                "received",
                29_000_000u64,
                "1.004194",
                "direct",
                29_000_060u64,
                Some(29_010_000u64),
                ("k1".to_string() + &"ab".repeat(16), "0123456789abcdef".repeat(4)),
                -5i64,
                vec![true, false],
            ),
        );
        let msgpack = rmp_serde::to_vec(&value).unwrap();
        let (lean, canon) = round_trip(&msgpack);
        assert_eq!(canon, msgpack, "rmp-serde's encoding is already canonical");
        assert!(lean.len() * 2 < msgpack.len(), "{} lean bytes for {} MessagePack", lean.len(), msgpack.len());
        let back: Decoded = rmp_serde::from_slice(&canon).unwrap();
        assert_eq!(back.1 .4, 29_000_060);
    }

    #[test]
    fn a_changed_dictionary_entry_changes_the_canonical_bytes() {
        let msgpack = rmp_serde::to_vec(&("H42.12", 7u8)).unwrap();
        let mut lex = Lexicon::default();
        let (mut lean, mut canon) = (Vec::new(), Vec::new());
        compact(&msgpack, &mut interner(&mut lex), "", &mut lean, &mut canon).unwrap();
        let mut edited = Lexicon::default();
        edited.insert(0, Arc::from("H42.99"));
        let mut other = Vec::new();
        expand(&lean, &edited, "", &mut other).unwrap();
        assert_ne!(other, canon);
        assert_eq!(expand(&lean, &Lexicon::default(), "", &mut Vec::new()), Err(LeanError::UnknownId(0)));
    }

    #[test]
    fn hostile_bytes_are_refused_not_followed() {
        let lex = Lexicon::default();
        for bad in [&[ARRAY, 0xff, 0xff, 0xff, 0xff, 0x0f][..], &[STR, 0x80], &[DELTA, 1], &[0x04], &[0xff, 0x00], &[]]
        {
            assert!(expand(bad, &lex, "x", &mut Vec::new()).is_err(), "{bad:?}");
        }
        let deep = vec![SMALL_ARRAY + 1; 100];
        assert!(expand(&deep, &lex, "x", &mut Vec::new()).is_err());
        assert!(compact(&[0xdd, 0xff, 0xff, 0xff, 0xff], &mut |_| None, "", &mut Vec::new(), &mut Vec::new()).is_err());
        assert!(compact(&[0xc1], &mut |_| None, "", &mut Vec::new(), &mut Vec::new()).is_err());
    }

    fn msgpack_value() -> impl Strategy<Value = rmpv_like::Value> {
        rmpv_like::strategy()
    }

    /// A small MessagePack value model for the property below.
    mod rmpv_like {
        use proptest::prelude::*;
        use serde::Serialize;

        #[derive(Clone, Debug, Serialize)]
        #[serde(untagged)]
        pub enum Value {
            Nil(Option<u8>),
            Bool(bool),
            Int(i64),
            UInt(u64),
            Str(String),
            Bytes(#[serde(with = "serde_bytes_like")] Vec<u8>),
            F(f64),
            Arr(Vec<Value>),
            Shaped(Box<Shape>),
            Map(std::collections::BTreeMap<String, Value>),
        }

        /// Enum and struct shapes (externally tagged variants, structs as arrays).
        #[derive(Clone, Debug, Serialize)]
        pub enum Shape {
            Unit,
            New(Value),
            Tuple(Value, u8, u16, i8),
            Record {
                a: Value,
                b: Vec<u8>,
                c: Option<u32>,
            },
            Empty {},
            Flat {
                x: u8,
                #[serde(flatten)]
                inner: Tagged,
            },
            Unsized(Uncounted),
        }

        /// Internally tagged (as events are), flattened into its holder (as a document's form).
        #[derive(Clone, Debug, Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Tagged {
            Paper { copies: u8 },
            Digital { sha256: String, size: u64 },
        }

        /// A sequence whose length the serializer is not told.
        #[derive(Clone, Debug)]
        pub struct Uncounted(pub Vec<Value>);

        impl Serialize for Uncounted {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().filter(|_| true))
            }
        }

        mod serde_bytes_like {
            pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
        }

        pub fn strategy() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Nil(None)),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::Int),
                any::<u64>().prop_map(Value::UInt),
                (0u64..40_000_000).prop_map(Value::UInt),
                "[a-z0-9.\\-]{0,12}".prop_map(Value::Str),
                "[0-9a-f]{64}".prop_map(Value::Str),
                "k1[0-9a-f]{32}".prop_map(Value::Str),
                ".{0,80}".prop_map(Value::Str),
                "[A-Z]{0,3}-?H42.12-250303-0001[-a-z0-9]{0,5}".prop_map(Value::Str),
                proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
                any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::F),
            ];
            let bytes = proptest::collection::vec(any::<u8>(), 0..40)
                .prop_map(|b| Value::Arr(b.into_iter().map(|x| Value::UInt(u64::from(x))).collect()));
            leaf.prop_recursive(4, 64, 20, move |inner| {
                let shape = prop_oneof![
                    Just(Shape::Unit),
                    Just(Shape::Empty {}),
                    inner.clone().prop_map(Shape::New),
                    (inner.clone(), any::<u8>(), any::<u16>(), any::<i8>())
                        .prop_map(|(v, a, b, c)| Shape::Tuple(v, a, b, c)),
                    (inner.clone(), proptest::collection::vec(any::<u8>(), 0..8), any::<Option<u32>>())
                        .prop_map(|(a, b, c)| Shape::Record { a, b, c }),
                    (any::<u8>(), any::<u8>())
                        .prop_map(|(x, copies)| Shape::Flat { x, inner: Tagged::Paper { copies } }),
                    (any::<u8>(), "[0-9a-f]{64}", any::<u64>())
                        .prop_map(|(x, sha256, size)| Shape::Flat { x, inner: Tagged::Digital { sha256, size } }),
                    proptest::collection::vec(inner.clone(), 0..20).prop_map(|v| Shape::Unsized(Uncounted(v))),
                ];
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..20).prop_map(Value::Arr),
                    bytes.clone(),
                    shape.prop_map(|s| Value::Shaped(Box::new(s))),
                    proptest::collection::btree_map("[a-z]{0,6}", inner, 0..5).prop_map(Value::Map),
                ]
            })
        }
    }

    proptest! {
        #[test]
        fn any_value_reads_back_through_the_dictionary(v in msgpack_value()) {
            let msgpack = rmp_serde::to_vec(&v).unwrap();
            let (_, canon) = round_trip(&msgpack);
            prop_assert_eq!(canon, msgpack);
        }

        #[test]
        fn writing_from_the_value_is_writing_from_its_msgpack(v in msgpack_value()) {
            let msgpack = rmp_serde::to_vec(&v).unwrap();
            let (mut lex_a, mut lex_b) = (Lexicon::default(), Lexicon::default());
            let (mut lean_a, mut canon_a, mut lean_b, mut canon_b) = (vec![7], vec![7], vec![7], vec![7]);
            let code = "H42.12-250303-0001";
            compact(&msgpack, &mut interner(&mut lex_a), code, &mut lean_a, &mut canon_a).unwrap();
            let direct = compact_from(&v, &mut interner(&mut lex_b), code, &mut lean_b, &mut canon_b);
            prop_assert!(direct.is_some());
            prop_assert_eq!(&lean_b, &lean_a);
            prop_assert_eq!(&canon_b, &canon_a);
            prop_assert_eq!(&canon_a[1..], &msgpack[..]);
            prop_assert_eq!(lex_a.end(), lex_b.end());
        }

        #[test]
        fn any_bytes_expand_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut lex = Lexicon::default();
            lex.insert(0, Arc::from("x"));
            let _ = expand(&bytes, &lex, "H42", &mut Vec::new());
            let _ = compact(&bytes, &mut |_| Some(0), "H42", &mut Vec::new(), &mut Vec::new());
        }
    }
}
