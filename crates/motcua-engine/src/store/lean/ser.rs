//! Lean tokens and canonical MessagePack straight from a value: one pass over the value instead
//! of encoding it to MessagePack ([`rmp_serde`]) and walking those bytes ([`super::compact`]).
//!
//! The value is seen as `rmp_serde`'s default configuration writes it (structs as arrays, enums
//! as a one-entry map from the variant's name, unit variants as their name, `None` and `()` as
//! nil, not human-readable), and every token is the one [`super::compact`] writes for that
//! MessagePack: the same lean bytes, the same canonical bytes, the same dictionary questions in
//! the same order (a test compares both paths on every event of a simulated year). What this
//! serializer does not write the way `rmp_serde` would (a sequence or map of unknown length, a
//! MessagePack extension, nesting deeper than [`super::MAX_DEPTH`]) is an error, and the caller
//! takes the other path.

use serde::ser::{self, Serialize};

use super::{canon, compact_str, compact_uint, put_varint, Ctx, ARRAY, BYTES, F32, F64, MAP, NEGINT, NIL};
use super::{BIN, FALSE, MAX_DEPTH, SMALL_ARRAY, SMALL_UINT, TRUE, UINT};

/// Why a value was not written (the caller encodes it through MessagePack instead).
#[derive(Debug)]
pub struct Unwritten;

impl std::fmt::Display for Unwritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("value not written in lean tokens directly")
    }
}

impl std::error::Error for Unwritten {}

impl ser::Error for Unwritten {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Unwritten
    }
}

/// The writer: the record's context, both outputs, the depth, and where the last integer under
/// 256 began in `lean` (an array whose items all are such integers is written as bytes).
pub(super) struct LeanSerializer<'s, 'a, 'b> {
    pub ctx: &'s mut Ctx<'a, 'b>,
    pub lean: &'s mut Vec<u8>,
    pub canon: &'s mut Vec<u8>,
    pub depth: usize,
    pub small_at: usize,
}

type Result<T> = std::result::Result<T, Unwritten>;

impl LeanSerializer<'_, '_, '_> {
    fn uint(&mut self, v: u64) {
        if v < 256 {
            self.small_at = self.lean.len();
        }
        compact_uint(v, self.lean, self.canon, self.ctx.big);
    }

    fn str(&mut self, s: &str) -> Result<()> {
        compact_str(s.as_bytes(), self.ctx, self.lean, self.canon).map_err(|_| Unwritten)
    }

    /// Opens an array of `n` items (MessagePack's array header, lean's short or long one), or
    /// of items yet to be counted (the headers are put in front of them at the end).
    fn array(&mut self, n: Option<usize>) -> Result<Array> {
        let (start, canon_start) = (self.lean.len(), self.canon.len());
        if let Some(n) = n {
            canon::array(n, self.canon);
            if n < 16 {
                self.lean.push(SMALL_ARRAY + n as u8);
            } else {
                self.lean.push(ARRAY);
                put_varint(n as u64, self.lean);
            }
        }
        self.enter()?;
        Ok(Array { start, canon_start, n, count: 0, small: true })
    }

    fn map_header(&mut self, n: usize) {
        canon::map(n, self.canon);
        self.lean.push(MAP);
        put_varint(n as u64, self.lean);
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unwritten);
        }
        Ok(())
    }

    /// A one-entry map from the variant's name (how `rmp_serde` writes a variant with data).
    fn variant(&mut self, variant: &str) -> Result<()> {
        self.map_header(1);
        self.enter()?;
        self.str(variant)
    }
}

/// An array or map being written: where its tokens began in both outputs, its length if it
/// was given, how many items were written, and whether every item so far was an integer under
/// 256 (an array of four or more of those is written as bytes).
pub(super) struct Array {
    start: usize,
    canon_start: usize,
    n: Option<usize>,
    count: usize,
    small: bool,
}

/// What a compound is: an array, or a map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Array,
    Map,
}

/// The items of an array or map, and (for a variant) the map around it to close.
pub(super) struct Compound<'w, 's, 'a, 'b> {
    w: &'w mut LeanSerializer<'s, 'a, 'b>,
    array: Array,
    kind: Kind,
    /// Depth levels to leave at the end (the array or map, and a variant's map).
    levels: usize,
}

impl Compound<'_, '_, '_, '_> {
    fn item<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let at = self.w.lean.len();
        self.w.small_at = usize::MAX;
        value.serialize(&mut *self.w)?;
        let a = &mut self.array;
        a.small &= self.w.small_at == at && self.w.lean.len() > at;
        a.count += 1;
        Ok(())
    }

    fn finish(self) -> Result<()> {
        let Compound { w, array: a, kind, levels } = self;
        w.depth -= levels;
        let n = match kind {
            Kind::Array => a.count,
            Kind::Map => a.count / 2,
        };
        if a.n.is_some_and(|given| given != n) {
            // rmp_serde writes the length given, whatever was written.
            return Err(Unwritten);
        }
        let header = a.start..a.start;
        if a.n.is_none() {
            // Counted now (`rmp_serde` buffers such a compound and writes its length first).
            let (mut lean, mut canon) = (Vec::with_capacity(6), Vec::with_capacity(5));
            match kind {
                Kind::Array => {
                    canon::array(n, &mut canon);
                    if n < 16 {
                        lean.push(SMALL_ARRAY + n as u8);
                    } else {
                        lean.push(ARRAY);
                        put_varint(n as u64, &mut lean);
                    }
                }
                Kind::Map => {
                    canon::map(n, &mut canon);
                    lean.push(MAP);
                    put_varint(n as u64, &mut lean);
                }
            }
            w.lean.splice(header, lean);
            w.canon.splice(a.canon_start..a.canon_start, canon);
        }
        if kind == Kind::Array && a.small && n >= 4 {
            // As `compact` writes an array of four or more integers under 256: its bytes.
            let mut values = Vec::with_capacity(n);
            let tokens = &w.lean[a.start..];
            let mut at = if n < 16 { 1 } else { 1 + varint_len(n as u64) };
            while at < tokens.len() {
                match tokens[at] {
                    t @ SMALL_UINT..=0xfe => {
                        values.push(t - SMALL_UINT);
                        at += 1;
                    }
                    UINT if at + 2 < tokens.len() => {
                        // 159..=255: a two-byte varint.
                        let v = u16::from(tokens[at + 1] & 0x7f) | u16::from(tokens[at + 2]) << 7;
                        values.push(v as u8);
                        at += 3;
                    }
                    _ => return Err(Unwritten),
                }
            }
            if values.len() != n {
                return Err(Unwritten);
            }
            w.lean.truncate(a.start);
            w.lean.push(BYTES);
            put_varint(n as u64, w.lean);
            w.lean.extend_from_slice(&values);
        }
        Ok(())
    }
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

impl<'w, 's, 'a, 'b> ser::Serializer for &'w mut LeanSerializer<'s, 'a, 'b> {
    type Ok = ();
    type Error = Unwritten;
    type SerializeSeq = Compound<'w, 's, 'a, 'b>;
    type SerializeTuple = Compound<'w, 's, 'a, 'b>;
    type SerializeTupleStruct = Compound<'w, 's, 'a, 'b>;
    type SerializeTupleVariant = Compound<'w, 's, 'a, 'b>;
    type SerializeMap = Compound<'w, 's, 'a, 'b>;
    type SerializeStruct = Compound<'w, 's, 'a, 'b>;
    type SerializeStructVariant = Compound<'w, 's, 'a, 'b>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.canon.push(if v { 0xc3 } else { 0xc2 });
        self.lean.push(if v { TRUE } else { FALSE });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<()> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        if v >= 0 {
            self.uint(v as u64);
        } else {
            canon::negint(v, self.canon);
            self.lean.push(NEGINT);
            put_varint((-1 - v) as u64, self.lean);
        }
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<()> {
        self.serialize_bytes(&v.to_be_bytes())
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<()> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        self.uint(v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<()> {
        self.serialize_bytes(&v.to_be_bytes())
    }

    fn serialize_f32(self, v: f32) -> Result<()> {
        let b = v.to_be_bytes();
        self.canon.push(0xca);
        self.canon.extend_from_slice(&b);
        self.lean.push(F32);
        self.lean.extend_from_slice(&b);
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        let b = v.to_be_bytes();
        self.canon.push(0xcb);
        self.canon.extend_from_slice(&b);
        self.lean.push(F64);
        self.lean.extend_from_slice(&b);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.str(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        canon::bin_header(v.len(), self.canon);
        self.canon.extend_from_slice(v);
        self.lean.push(BIN);
        put_varint(v.len() as u64, self.lean);
        self.lean.extend_from_slice(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<()> {
        self.serialize_unit()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        self.canon.push(0xc0);
        self.lean.push(NIL);
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        let a = self.array(Some(0))?;
        Compound { w: self, array: a, kind: Kind::Array, levels: 1 }.finish()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, name: &'static str, value: &T) -> Result<()> {
        if name == "_ExtStruct" {
            return Err(Unwritten);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.variant(variant)?;
        value.serialize(&mut *self)?;
        self.depth -= 1;
        Ok(())
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq> {
        let a = self.array(len)?;
        Ok(Compound { w: self, array: a, kind: Kind::Array, levels: 1 })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Self::SerializeTupleStruct> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.variant(variant)?;
        let a = self.array(Some(len))?;
        Ok(Compound { w: self, array: a, kind: Kind::Array, levels: 2 })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap> {
        let (start, canon_start) = (self.lean.len(), self.canon.len());
        if let Some(n) = len {
            self.map_header(n);
        }
        self.enter()?;
        let a = Array { start, canon_start, n: len, count: 0, small: false };
        Ok(Compound { w: self, array: a, kind: Kind::Map, levels: 1 })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        self.serialize_seq(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.serialize_tuple_variant("", 0, variant, len)
    }
}

/// Every compound serde hands out is written the same way: each item through
/// [`Compound::item`], the end through [`Compound::finish`].
macro_rules! items {
    ($($trait:ident :: $method:ident ($($name:ident: $ty:ty,)?)),* $(,)?) => {$(
        impl ser::$trait for Compound<'_, '_, '_, '_> {
            type Ok = ();
            type Error = Unwritten;
            fn $method<T: ?Sized + Serialize>(&mut self, $($name: $ty,)? value: &T) -> Result<()> {
                $(let _ = $name;)?
                self.item(value)
            }
            fn end(self) -> Result<()> {
                self.finish()
            }
        }
    )*};
}

items! {
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(key: &'static str,),
    SerializeStructVariant::serialize_field(key: &'static str,),
}

impl ser::SerializeMap for Compound<'_, '_, '_, '_> {
    type Ok = ();
    type Error = Unwritten;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.item(key)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.item(value)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}
