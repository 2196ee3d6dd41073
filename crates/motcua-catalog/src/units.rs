//! Register files: a province's administrative units and agencies (`[[unit]]`, `[[agency]]`),
//! read into a [`Register`] with every problem at its line.
//!
//! ```toml
//! name = "Ninh Thuận"
//! source = "where the list comes from"
//!
//! [[unit]]
//! code = "58.588"
//! name = "Huyện Thuận Bắc"
//! level = "district"
//! parent = "58"
//! valid_to = "2025-06-30"
//!
//! [[agency]]
//! code = "H42.12"
//! name = "UBND xã Lợi Hải"
//! kind = "commune_people_committee"
//! roles = ["ubnd-xa"]
//! jurisdiction = ["58.588.22945"]
//! ```

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use motcua_core::{AdminUnit, AgencyCode, AgencyUnit, Register, UnitLevel};
use serde::Deserialize;

use crate::error::{line_of, toml_problem, CatalogError, Sink};

type Sp<T> = toml::Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    #[allow(dead_code)]
    name: String,
    #[allow(dead_code)]
    source: String,
    #[serde(default)]
    unit: Vec<Sp<RawUnit>>,
    #[serde(default)]
    agency: Vec<Sp<RawAgency>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnit {
    code: Sp<String>,
    name: String,
    level: UnitLevel,
    parent: Option<Sp<String>>,
    valid_from: Option<Sp<String>>,
    valid_to: Option<Sp<String>>,
    successor: Option<Sp<String>>,
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgency {
    code: Sp<String>,
    name: String,
    kind: String,
    #[serde(default)]
    roles: Vec<String>,
    jurisdiction: Vec<Sp<String>>,
    valid_from: Option<Sp<String>>,
    valid_to: Option<Sp<String>>,
    successor: Option<Sp<String>>,
    #[allow(dead_code)]
    source: Option<String>,
}

/// A code in the e-identifier alphabet (Decision 20/2020/QĐ-TTg Art. 4).
fn code(sink: &mut Sink<'_>, field: &str, v: &Sp<String>) -> Option<Arc<str>> {
    match v.get_ref().parse::<AgencyCode>() {
        Ok(_) => Some(Arc::from(v.get_ref().as_str())),
        Err(e) => {
            sink.at(v.span().start, format!("{field}: {e}"));
            None
        }
    }
}

fn date(sink: &mut Sink<'_>, field: &str, v: &Option<Sp<String>>) -> Option<NaiveDate> {
    let v = v.as_ref()?;
    match NaiveDate::parse_from_str(v.get_ref(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(e) => {
            sink.at(v.span().start, format!("{field}: {:?}: {e} (expected YYYY-MM-DD)", v.get_ref()));
            None
        }
    }
}

/// Parses a register file's text; `file` names it in problems.
pub fn parse_register(text: &str, file: &Path) -> Result<Register, CatalogError> {
    let raw: RawRegister =
        toml::from_str(text).map_err(|e| CatalogError { problems: vec![toml_problem(text, file, &e)] })?;
    let mut sink = Sink::new(text, file);
    let unit_lines: Vec<usize> = raw.unit.iter().map(|u| u.span().start).collect();
    let agency_lines: Vec<usize> = raw.agency.iter().map(|a| a.span().start).collect();
    let mut units = Vec::new();
    for u in raw.unit {
        let u = u.into_inner();
        let parsed = (
            code(&mut sink, "unit.code", &u.code),
            u.parent.as_ref().map(|p| code(&mut sink, "unit.parent", p)),
            u.successor.as_ref().map(|s| code(&mut sink, "unit.successor", s)),
            date(&mut sink, "unit.valid_from", &u.valid_from),
            date(&mut sink, "unit.valid_to", &u.valid_to),
        );
        if let (Some(c), parent, successor, valid_from, valid_to) = parsed {
            units.push(AdminUnit {
                code: c,
                name: u.name,
                level: u.level,
                parent: parent.flatten(),
                valid_from,
                valid_to,
                successor: successor.flatten(),
            });
        }
    }
    let mut agencies = Vec::new();
    for a in raw.agency {
        let a = a.into_inner();
        let c = code(&mut sink, "agency.code", &a.code);
        let jurisdiction: Vec<Arc<str>> =
            a.jurisdiction.iter().filter_map(|j| code(&mut sink, "agency.jurisdiction", j)).collect();
        let successor = a.successor.as_ref().map(|s| code(&mut sink, "agency.successor", s));
        let (valid_from, valid_to) =
            (date(&mut sink, "agency.valid_from", &a.valid_from), date(&mut sink, "agency.valid_to", &a.valid_to));
        if let Some(c) = c {
            agencies.push(AgencyUnit {
                code: c,
                name: a.name,
                kind: a.kind,
                roles: a.roles.iter().map(|r| Arc::from(r.as_str())).collect(),
                jurisdiction,
                valid_from,
                valid_to,
                successor: successor.flatten(),
            });
        }
    }
    if !sink.problems.is_empty() {
        return Err(CatalogError { problems: sink.problems });
    }
    Register::new(units, agencies).map_err(|errors| {
        // `unit[3].parent` → the line of the fourth [[unit]].
        for e in errors {
            let (kind, rest) = e.field.split_once('[').unwrap_or(("", ""));
            let index: Option<usize> = rest.split(']').next().and_then(|n| n.parse().ok());
            let offset = match kind {
                "unit" => index.and_then(|i| unit_lines.get(i)),
                "agency" => index.and_then(|i| agency_lines.get(i)),
                _ => None,
            };
            sink.at(offset.copied().unwrap_or(0), e.to_string());
        }
        let _ = line_of;
        CatalogError { problems: sink.problems }
    })
}

/// Reads a register file.
pub fn load_register(path: &Path) -> Result<Register, CatalogError> {
    let text =
        motcua_calendar::read_input(path).map_err(|e| CatalogError::one(path, 1, format!("cannot read: {e}")))?;
    parse_register(&text, path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn problems_point_at_their_lines() {
        let text = "name = \"t\"\nsource = \"s\"\n[[unit]]\ncode = \"P\"\nname = \"p\"\nlevel = \"province\"\n[[unit]]\ncode = \"A\"\nname = \"a\"\nlevel = \"commune\"\nparent = \"Q\"\nvalid_to = \"2025-13-01\"\n[[agency]]\ncode = \"x y\"\nname = \"n\"\nkind = \"k\"\njurisdiction = [\"A\"]\n";
        let e = parse_register(text, Path::new("u.toml")).unwrap_err();
        let p: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
        assert!(p.iter().any(|x| x.starts_with("u.toml:12: unit.valid_to: \"2025-13-01\"")), "{p:?}");
        assert!(p.iter().any(|x| x.starts_with("u.toml:14: agency.code:")), "{p:?}");
        let text = text.replace("valid_to = \"2025-13-01\"\n", "").replace("\"x y\"", "\"X\"");
        let e = parse_register(&text, Path::new("u.toml")).unwrap_err();
        let p: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
        assert_eq!(p, ["u.toml:7: unit[1].parent: unknown unit \"Q\""]);
        let text = text.replace("parent = \"Q\"", "parent = \"P\"");
        let r = parse_register(&text, Path::new("u.toml")).unwrap();
        assert_eq!(r.units().len(), 2);
        let e = parse_register("name = \"t\"\nsource = \"s\"\ncolour = 1\n", Path::new("u.toml")).unwrap_err();
        assert!(e.problems[0].message.contains("unknown field `colour`"), "{e}");
    }
}
