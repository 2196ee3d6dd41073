//! Identifiers as validated types (docs/rules.md §10). Each parses with `FromStr`, prints with
//! `Display`, and (de)serializes as its text. Personal identifiers (CCCD, an individual's tax
//! code) are masked in `Debug`, so they never reach a log whole.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;

/// Why a text is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {input:?}: {reason}")]
pub struct IdError {
    /// Which identifier was expected.
    pub kind: &'static str,
    /// The text given (masked for personal identifiers).
    pub input: String,
    /// What was wrong.
    pub reason: String,
}

pub(crate) fn id_error(kind: &'static str, input: &str, reason: impl Into<String>) -> IdError {
    IdError { kind, input: input.to_string(), reason: reason.into() }
}

macro_rules! text_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        text_de!($t);
    };
}

/// Serialized as the text they hold (no formatting, no allocation: serde's `collect_str` builds
/// a `String` first).
macro_rules! shared_text_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
        text_de!($t);
    };
}

macro_rules! text_de {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Longest agency code (QĐ 20/2020/QĐ-TTg Art. 4).
pub const AGENCY_CODE_MAX_LEN: usize = 35;

/// An agency's electronic identifier: dot-separated groups of `[A-Z0-9]`, at most 35 characters
/// (QĐ 20/2020/QĐ-TTg Art. 4; the older right-to-left QCVN 102:2016 form `000.00.12.H42` is
/// accepted too).
///
/// ```
/// use motcua_core::AgencyCode;
/// let a: AgencyCode = "H42.12".parse()?;
/// assert_eq!(a.to_string(), "H42.12");
/// assert!("h42..12".parse::<AgencyCode>().is_err());
/// # Ok::<(), motcua_core::IdError>(())
/// ```
#[derive(Clone, Eq, PartialOrd, Ord, Debug)]
pub struct AgencyCode(Arc<str>);

/// Shared text compares by pointer first: codes cloned from one parse (the usual case on the
/// hot path) are equal without reading their bytes.
macro_rules! shared_text_eq {
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
            }
        }

        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state);
            }
        }
    };
}

shared_text_eq!(AgencyCode);

impl AgencyCode {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AgencyCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let e = |r: &str| id_error("agency code", s, r);
        if s.is_empty() {
            return Err(e("empty"));
        }
        if s.len() > AGENCY_CODE_MAX_LEN {
            return Err(e("longer than 35 characters"));
        }
        for group in s.split('.') {
            if group.is_empty() {
                return Err(e("empty group between dots"));
            }
            if !group.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                return Err(e("groups may hold only A-Z and 0-9"));
            }
        }
        Ok(AgencyCode(Arc::from(s)))
    }
}

impl fmt::Display for AgencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
shared_text_serde!(AgencyCode);

/// A procedure (TTHC) code: national `d.dddddd`, optionally localised
/// `d.dddddd.000.00.00.Hxx`, or an online-service code (either, plus `.NN`).
///
/// ```
/// use motcua_core::ProcedureCode;
/// let p: ProcedureCode = "2.000815.000.00.00.H55.02".parse()?;
/// assert_eq!(p.national(), "2.000815");
/// assert_eq!(p.service(), Some(2));
/// # Ok::<(), motcua_core::IdError>(())
/// ```
#[derive(Clone, Eq, PartialOrd, Ord, Debug)]
pub struct ProcedureCode(Arc<str>);

shared_text_eq!(ProcedureCode);

impl ProcedureCode {
    /// The national part, `d.dddddd`.
    pub fn national(&self) -> &str {
        &self.0[..8]
    }

    /// The online-service suffix `.NN`, if any.
    pub fn service(&self) -> Option<u8> {
        let groups: Vec<&str> = self.0.split('.').collect();
        match groups.len() {
            3 | 7 => groups.last().and_then(|g| g.parse().ok()),
            _ => None,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProcedureCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let e = |r: &str| id_error("procedure code", s, r);
        let g: Vec<&str> = s.split('.').collect();
        let digits = |x: &str, n: usize| x.len() == n && x.bytes().all(|b| b.is_ascii_digit());
        if g.len() < 2 || !digits(g[0], 1) || !digits(g[1], 6) {
            return Err(e("expected d.dddddd (e.g. 1.001193)"));
        }
        let ok = match g.len() {
            2 => true,
            3 => digits(g[2], 2),
            6 | 7 => {
                digits(g[2], 3)
                    && digits(g[3], 2)
                    && digits(g[4], 2)
                    && AgencyCode::from_str(g[5]).is_ok()
                    && (g.len() == 6 || digits(g[6], 2))
            }
            _ => false,
        };
        if !ok {
            return Err(e("expected d.dddddd, d.dddddd.NN or d.dddddd.000.00.00.Hxx[.NN]"));
        }
        Ok(ProcedureCode(Arc::from(s)))
    }
}

impl fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
shared_text_serde!(ProcedureCode);

/// A dossier code (mã số hồ sơ): `<agency code>-YYMMDD-NNNN` (TT 01/2018/TT-VPCP Art. 19;
/// sequence per agency per day, at least 4 digits). Parsing is lenient (docs/sources.md §2.1): the code
/// splits on its last two `-`; the date may have 6 or 8 digits; the sequence at least 4 digits
/// (covering TT 04/2025's `…-YYMMDD-AANNNN`). `Display` writes the code as it was read.
///
/// ```
/// use chrono::NaiveDate;
/// use motcua_core::{AgencyCode, DossierCode};
/// let c: DossierCode = "000.00.12.H29-190315-0001".parse()?;
/// assert_eq!(c.date(), NaiveDate::from_ymd_opt(2019, 3, 15).unwrap());
/// assert_eq!(c.sequence(), 1);
/// let g = DossierCode::new("H42.12".parse()?, NaiveDate::from_ymd_opt(2025, 1, 24).unwrap(), 37);
/// assert_eq!(g.to_string(), "H42.12-250124-0037");
/// # Ok::<(), motcua_core::IdError>(())
/// ```
#[derive(Clone, Eq, PartialOrd, Ord, Debug)]
pub struct DossierCode {
    agency: AgencyCode,
    date: NaiveDate,
    sequence: u64,
    date_digits: u8,
    sequence_digits: u8,
}

/// The same fields as the derived order, compared cheapest first (codes of one agency differ
/// mostly in their sequence).
impl PartialEq for DossierCode {
    fn eq(&self, other: &Self) -> bool {
        self.sequence == other.sequence
            && self.date == other.date
            && self.date_digits == other.date_digits
            && self.sequence_digits == other.sequence_digits
            && self.agency == other.agency
    }
}

impl std::hash::Hash for DossierCode {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.agency.hash(state);
        self.date.hash(state);
        self.sequence.hash(state);
        self.date_digits.hash(state);
        self.sequence_digits.hash(state);
    }
}

impl DossierCode {
    /// The code of the `sequence`-th dossier received by `agency` on `date` (4-digit minimum).
    pub fn new(agency: AgencyCode, date: NaiveDate, sequence: u64) -> DossierCode {
        let width = sequence.to_string().len().max(4) as u8;
        DossierCode { agency, date, sequence, date_digits: 6, sequence_digits: width }
    }

    /// The receiving agency.
    pub fn agency(&self) -> &AgencyCode {
        &self.agency
    }

    /// The receipt date written in the code.
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The daily sequence number.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }
}

impl FromStr for DossierCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let e = |r: &str| id_error("dossier code", s, r);
        let mut parts = s.rsplitn(3, '-');
        let (Some(seq), Some(date), Some(agency)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(e("expected <agency>-YYMMDD-NNNN"));
        };
        let agency: AgencyCode = agency.parse().map_err(|x: IdError| e(&x.reason))?;
        if !date.bytes().all(|b| b.is_ascii_digit()) || !(date.len() == 6 || date.len() == 8) {
            return Err(e("the date must be YYMMDD or YYYYMMDD"));
        }
        let full = if date.len() == 6 { format!("20{date}") } else { date.to_string() };
        let parsed = NaiveDate::parse_from_str(&full, "%Y%m%d").map_err(|_| e("the date does not exist"))?;
        if seq.len() < 4 || seq.len() > 12 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(e("the sequence must have 4 to 12 digits"));
        }
        let sequence = seq.parse().map_err(|_| e("the sequence is not a number"))?;
        Ok(DossierCode {
            agency,
            date: parsed,
            sequence,
            date_digits: date.len() as u8,
            sequence_digits: seq.len() as u8,
        })
    }
}

/// A dossier code's text, written on the stack: agency (at most [`AGENCY_CODE_MAX_LEN`]), two
/// dashes, date (at most 8 digits), sequence (at most 20 digits).
struct CodeText {
    buf: [u8; AGENCY_CODE_MAX_LEN + 30],
    len: usize,
}

impl CodeText {
    fn as_str(&self) -> &str {
        // Only ASCII is ever written (agency codes are `[A-Z0-9.]`).
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl DossierCode {
    /// The code's text, digit by digit: codes are formatted for every hash, stored row and
    /// outbox message.
    fn text(&self) -> CodeText {
        fn digits(buf: &mut [u8], mut v: u64) {
            for b in buf.iter_mut().rev() {
                *b = b'0' + (v % 10) as u8;
                v /= 10;
            }
        }
        let mut out = CodeText { buf: [0; AGENCY_CODE_MAX_LEN + 30], len: 0 };
        let put = |bytes: &[u8], out: &mut CodeText| {
            let end = (out.len + bytes.len()).min(out.buf.len());
            let n = end - out.len;
            out.buf[out.len..end].copy_from_slice(&bytes[..n]);
            out.len = end;
        };
        put(self.agency.as_str().as_bytes(), &mut out);
        let mut date = [0u8; 10];
        date[0] = b'-';
        let y = self.date.year().rem_euclid(10_000) as u64;
        let md = u64::from(self.date.month()) * 100 + u64::from(self.date.day());
        let len = if self.date_digits == 8 {
            digits(&mut date[1..5], y);
            digits(&mut date[5..9], md);
            9
        } else {
            digits(&mut date[1..3], y % 100);
            digits(&mut date[3..7], md);
            7
        };
        date[len] = b'-';
        put(&date[..=len], &mut out);
        // As many digits as the code was written with, or as the number needs.
        let needed = std::iter::successors(Some(self.sequence), |v| (*v >= 10).then_some(v / 10)).count();
        let width = usize::from(self.sequence_digits).max(needed).clamp(1, 20);
        let mut seq = [0u8; 20];
        digits(&mut seq[..width], self.sequence);
        put(&seq[..width], &mut out);
        out
    }
}

impl fmt::Display for DossierCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl Serialize for DossierCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text().as_str())
    }
}
text_de!(DossierCode);

/// Issues dossier codes: one sequence per agency per day (TT 01/2018/TT-VPCP Art. 19).
#[derive(Clone, Debug, Default)]
pub struct DossierCodeGenerator {
    last: std::collections::HashMap<(AgencyCode, NaiveDate), u64>,
}

impl DossierCodeGenerator {
    /// A generator that has issued nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next code of `agency` for `date`.
    pub fn next(&mut self, agency: &AgencyCode, date: NaiveDate) -> DossierCode {
        let n = self.last.entry((agency.clone(), date)).or_insert(0);
        *n += 1;
        DossierCode::new(agency.clone(), date, *n)
    }
}

fn mask(s: &str) -> String {
    let n = s.chars().count();
    s.chars().enumerate().map(|(i, c)| if i < 3 || i + 2 >= n { c } else { '*' }).collect()
}

/// A citizen identity card number (CCCD): 12 digits = 3-digit province of birth registration,
/// 1 digit for century and sex, 2 digits of the birth year, 6 digits (docs/rules.md §10; structure
/// only, not existence). Masked in `Debug`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cccd(String);

impl Cccd {
    /// The full number (handle with care: personal data).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The province code of birth registration (001 ..= 096).
    pub fn province(&self) -> u16 {
        self.0[..3].parse().unwrap_or(0)
    }
}

impl FromStr for Cccd {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let e = |r: &str| id_error("CCCD", &mask(s), r);
        if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(e("must be 12 digits"));
        }
        let province: u16 = s[..3].parse().map_err(|_| e("bad province code"))?;
        if !(1..=96).contains(&province) {
            return Err(e("the province code (first 3 digits) must be 001..=096"));
        }
        Ok(Cccd(s.to_string()))
    }
}

impl fmt::Display for Cccd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cccd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cccd({})", mask(&self.0))
    }
}
text_serde!(Cccd);

/// A tax code (mã số thuế): an enterprise's 10 digits with check digit, optionally `-` and a
/// 3-digit branch; or, since 2025, an individual's 12-digit CCCD (masked in `Debug`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum TaxCode {
    /// 10 digits (+ branch).
    Enterprise {
        /// The 10 digits.
        code: String,
        /// The branch suffix, 3 digits.
        branch: Option<String>,
    },
    /// An individual's CCCD used as tax code.
    Individual(Cccd),
}

/// Weights of the check digit (docs/rules.md §10).
const TAX_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// The check digit of a 10-digit tax code's first nine digits, if one exists
/// (`10 − (Σ wᵢ·dᵢ mod 11)`; a result of 10 is never valid).
pub fn tax_check_digit(first_nine: &[u8; 9]) -> Option<u8> {
    let sum: u32 = first_nine.iter().zip(TAX_WEIGHTS).map(|(&d, w)| u32::from(d) * w).sum();
    let c = 10 - (sum % 11);
    (c <= 9).then_some(c as u8)
}

impl FromStr for TaxCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 12 {
            return s.parse::<Cccd>().map(TaxCode::Individual).map_err(|e| IdError { kind: "tax code", ..e });
        }
        let e = |r: &str| id_error("tax code", s, r);
        let (code, branch) = match s.split_once('-') {
            Some((c, b)) => (c, Some(b)),
            None => (s, None),
        };
        if code.len() != 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(e("must be 10 digits (or a 12-digit CCCD)"));
        }
        if let Some(b) = branch {
            if b.len() != 3 || !b.bytes().all(|x| x.is_ascii_digit()) {
                return Err(e("the branch must be 3 digits"));
            }
        }
        let d: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
        let mut first = [0u8; 9];
        first.copy_from_slice(&d[..9]);
        match tax_check_digit(&first) {
            Some(c) if c == d[9] => {}
            Some(c) => return Err(e(&format!("check digit is {}, expected {c}", d[9]))),
            None => return Err(e("no valid check digit exists for these nine digits")),
        }
        Ok(TaxCode::Enterprise { code: code.to_string(), branch: branch.map(str::to_string) })
    }
}

impl fmt::Display for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxCode::Enterprise { code, branch: Some(b) } => write!(f, "{code}-{b}"),
            TaxCode::Enterprise { code, branch: None } => f.write_str(code),
            TaxCode::Individual(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Debug for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxCode::Individual(c) => write!(f, "TaxCode::Individual({c:?})"),
            other => write!(f, "TaxCode({other})"),
        }
    }
}
text_serde!(TaxCode);

/// An amount in Vietnamese đồng: a non-negative decimal, never a float.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Vnd(Decimal);

impl Vnd {
    /// Zero đồng.
    pub const ZERO: Vnd = Vnd(Decimal::ZERO);

    /// An amount; `None` when negative.
    pub fn new(amount: Decimal) -> Option<Vnd> {
        (amount >= Decimal::ZERO).then_some(Vnd(amount))
    }

    /// Whole đồng.
    pub fn from_dong(dong: u64) -> Vnd {
        Vnd(Decimal::from(dong))
    }

    /// The amount.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Sum, `None` on overflow.
    pub fn checked_add(self, other: Vnd) -> Option<Vnd> {
        self.0.checked_add(other.0).map(Vnd)
    }
}

impl FromStr for Vnd {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cleaned: String = s.trim().trim_end_matches("VND").trim_end_matches('đ').trim().replace(['_', ' '], "");
        let d = Decimal::from_str(&cleaned).map_err(|_| id_error("VND amount", s, "not a decimal number"))?;
        Vnd::new(d).ok_or_else(|| id_error("VND amount", s, "must not be negative"))
    }
}

impl fmt::Display for Vnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}
text_serde!(Vnd);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A dossier code's text reads back as the same code, is the text it was read from, and
        /// is what serde writes (as a plain string).
        #[test]
        fn dossier_code_text_round_trips(
            agency in "[A-Z][0-9]{2}(\\.[0-9A-Z]{1,3}){0,8}",
            year in 2000i32..2099,
            day in 0u32..365,
            long_date in any::<bool>(),
            sequence in 0u64..1_000_000_000_000,
            pad in 4usize..13,
        ) {
            let date = NaiveDate::from_yo_opt(year, day + 1).unwrap_or_default();
            let digits = if long_date { date.format("%Y%m%d") } else { date.format("%y%m%d") };
            let text = format!("{agency}-{digits}-{sequence:0pad$}");
            let code: DossierCode = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
            prop_assert_eq!(code.to_string(), text.clone());
            prop_assert_eq!(code.to_string().parse::<DossierCode>().ok(), Some(code.clone()));
            prop_assert_eq!(serde_json::to_string(&code).ok(), Some(format!("\"{text}\"")));
            let generated = DossierCode::new(code.agency().clone(), date, sequence);
            prop_assert_eq!(generated.to_string().parse::<DossierCode>().ok(), Some(generated));
        }
    }

    #[test]
    fn agency_codes() {
        for ok in ["H42.12", "000.00.12.H42", "G09.20", "H55.242", "H15.50.05.13"] {
            assert_eq!(ok.parse::<AgencyCode>().unwrap().to_string(), ok);
        }
        for bad in ["", "h42", "H42.", ".H42", "H42..1", "H-42", &"A".repeat(36)] {
            assert!(bad.parse::<AgencyCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn procedure_codes() {
        for ok in ["1.001193", "1.011442.000.00.00.H38", "2.000815.000.00.00.H55.02", "1.001193.02"] {
            assert_eq!(ok.parse::<ProcedureCode>().unwrap().to_string(), ok);
        }
        for bad in ["", "1.00119", "12.001193", "1.001193.000.00.00", "1.001193.1", "x.001193"] {
            assert!(bad.parse::<ProcedureCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn dossier_codes_in_all_three_formats() {
        let a: DossierCode = "000.00.12.H29-190315-0001".parse().unwrap();
        assert_eq!(a.agency().as_str(), "000.00.12.H29");
        assert_eq!(a.to_string(), "000.00.12.H29-190315-0001");
        let b: DossierCode = "H15.50.05.13-261008-0975".parse().unwrap();
        assert_eq!(b.date(), NaiveDate::from_ymd_opt(2026, 10, 8).unwrap());
        let c: DossierCode = "G09.20-20260609-0092637".parse().unwrap();
        assert_eq!(c.sequence(), 92637);
        assert_eq!(c.to_string(), "G09.20-20260609-0092637");
        let d: DossierCode = "H15.1-260125-090012".parse().unwrap();
        assert_eq!(d.to_string(), "H15.1-260125-090012");
        for bad in ["H42-250230-0001", "H42-2501-0001", "H42-250101-001", "250101-0001", "h42-250101-0001"] {
            assert!(bad.parse::<DossierCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn generator_counts_per_agency_per_day() {
        let mut g = DossierCodeGenerator::new();
        let a: AgencyCode = "H42.12".parse().unwrap();
        let b: AgencyCode = "H42.13".parse().unwrap();
        let d1 = NaiveDate::from_ymd_opt(2025, 1, 24).unwrap();
        let d2 = d1.succ_opt().unwrap();
        assert_eq!(g.next(&a, d1).to_string(), "H42.12-250124-0001");
        assert_eq!(g.next(&a, d1).to_string(), "H42.12-250124-0002");
        assert_eq!(g.next(&b, d1).to_string(), "H42.13-250124-0001");
        assert_eq!(g.next(&a, d2).to_string(), "H42.12-250125-0001");
    }

    #[test]
    fn cccd_is_masked() {
        let c: Cccd = "001203004567".parse().unwrap();
        assert_eq!(format!("{c:?}"), "Cccd(001*******67)");
        assert_eq!(c.province(), 1);
        let e = "999203004567".parse::<Cccd>().unwrap_err();
        assert!(!e.to_string().contains("999203004567"), "{e}");
        assert!("00120300456".parse::<Cccd>().is_err());
    }

    #[test]
    fn tax_codes() {
        // Build a valid code from its check digit.
        let first = [0, 1, 0, 0, 1, 0, 9, 2, 5];
        let c = tax_check_digit(&first).unwrap();
        let code = format!("010010925{c}");
        assert!(code.parse::<TaxCode>().is_ok(), "{code}");
        assert!(format!("{code}-001").parse::<TaxCode>().is_ok());
        let wrong = format!("010010925{}", (c + 1) % 10);
        assert!(wrong.parse::<TaxCode>().unwrap_err().reason.contains("check digit"));
        let individual: TaxCode = "001203004567".parse().unwrap();
        assert!(format!("{individual:?}").contains('*'));
        assert!("12345".parse::<TaxCode>().is_err());
    }

    #[test]
    fn vnd() {
        assert_eq!("50000".parse::<Vnd>().unwrap(), Vnd::from_dong(50_000));
        assert_eq!("1_500_000 VND".parse::<Vnd>().unwrap(), Vnd::from_dong(1_500_000));
        assert!("-1".parse::<Vnd>().is_err());
        assert!("abc".parse::<Vnd>().is_err());
        assert_eq!(Vnd::from_dong(100).to_string(), "100");
    }
}
