//! Digitisation rule files: what the one-stop counter digitises at receipt, as data, read into
//! [`DigitisationRules`] with every problem at its line.
//!
//! ```toml
//! digitisation = "Thông tư 01/2023/TT-VPCP"   # the source; this key marks the file's kind
//! effective_from = "2023-05-20"
//! channels = ["direct", "postal"]
//! strict = false
//!
//! [[exempt]]
//! ground = "mau-vat"
//! name = "Mẫu vật, hiện vật không số hóa được"
//! ```

use std::path::Path;

use motcua_core::{Channel, DigitisationRules, ExemptGround};
use serde::Deserialize;

use crate::error::{toml_problem, CatalogError, Sink};

type Sp<T> = toml::Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    digitisation: String,
    effective_from: Option<Sp<String>>,
    effective_to: Option<Sp<String>>,
    channels: Vec<Sp<String>>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    exempt: Vec<Sp<RawGround>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGround {
    ground: String,
    name: String,
}

fn date(sink: &mut Sink<'_>, field: &str, v: &Option<Sp<String>>) -> Option<chrono::NaiveDate> {
    let v = v.as_ref()?;
    match v.get_ref().parse() {
        Ok(d) => Some(d),
        Err(e) => {
            sink.at(v.span().start, format!("{field}: {:?}: {e} (YYYY-MM-DD)", v.get_ref()));
            None
        }
    }
}

/// Parses a digitisation rule file's text; `file` names it in problems.
pub fn parse_digitisation(text: &str, file: &Path) -> Result<DigitisationRules, CatalogError> {
    let raw: RawRules =
        toml::from_str(text).map_err(|e| CatalogError { problems: vec![toml_problem(text, file, &e)] })?;
    let mut sink = Sink::new(text, file);
    let effective_from = date(&mut sink, "effective_from", &raw.effective_from);
    let effective_to = date(&mut sink, "effective_to", &raw.effective_to);
    if let (Some(f), Some(t), Some(at)) = (effective_from, effective_to, raw.effective_to.as_ref()) {
        if t < f {
            sink.at(at.span().start, format!("effective_to: {t} is before effective_from {f}"));
        }
    }
    let mut channels = Vec::new();
    for c in &raw.channels {
        match c.get_ref().as_str() {
            "direct" => channels.push(Channel::Direct),
            "online" => channels.push(Channel::Online),
            "postal" => channels.push(Channel::Postal),
            other => sink.at(c.span().start, format!("channels: unknown {other:?}; expected direct, online or postal")),
        }
    }
    let mut exempt: Vec<ExemptGround> = Vec::new();
    for g in raw.exempt {
        let at = g.span().start;
        let g = g.into_inner();
        if g.ground.trim().is_empty() {
            sink.at(at, "exempt.ground: must not be empty");
        } else if exempt.iter().any(|e| e.ground == g.ground) {
            sink.at(at, format!("exempt.ground: {:?} listed twice", g.ground));
        } else {
            exempt.push(ExemptGround { ground: g.ground, name: g.name });
        }
    }
    if !sink.problems.is_empty() {
        return Err(CatalogError { problems: sink.problems });
    }
    Ok(DigitisationRules {
        source: raw.digitisation,
        effective_from,
        effective_to,
        channels,
        exempt,
        strict: raw.strict,
    })
}

/// Reads a digitisation rule file.
pub fn load_digitisation(path: &Path) -> Result<DigitisationRules, CatalogError> {
    let text =
        motcua_calendar::read_input(path).map_err(|e| CatalogError::one(path, 1, format!("cannot read: {e}")))?;
    parse_digitisation(&text, path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn problems_point_at_their_lines() {
        let text = "digitisation = \"TT\"\neffective_from = \"2023-02-30\"\nchannels = [\"direct\", \"fax\"]\n[[exempt]]\nground = \"a\"\nname = \"A\"\n[[exempt]]\nground = \"a\"\nname = \"B\"\n";
        let e = parse_digitisation(text, Path::new("d.toml")).unwrap_err();
        let p: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
        assert!(p.iter().any(|x| x.starts_with("d.toml:2: effective_from")), "{p:?}");
        assert!(p.iter().any(|x| x.starts_with("d.toml:3: channels: unknown \"fax\"")), "{p:?}");
        assert!(p.iter().any(|x| x.starts_with("d.toml:7: exempt.ground: \"a\" listed twice")), "{p:?}");
        let ok = text
            .replace("2023-02-30", "2023-05-20")
            .replace(", \"fax\"", "")
            .replace("ground = \"a\"\nname = \"B\"", "ground = \"b\"\nname = \"B\"");
        let rules = parse_digitisation(&ok, Path::new("d.toml")).unwrap();
        assert_eq!((rules.channels.len(), rules.exempt.len(), rules.strict), (1, 2, false));
    }
}
