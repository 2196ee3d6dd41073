//! Results and the citizen data warehouse: what finishing a dossier issues, what a new dossier
//! may reuse instead of paper, and the checks at receipt.
//!
//! A result still in force is kept for its holder (Decree 45/2020/NĐ-CP Art. 11 and 12: results
//! in electronic form are stored in the applicant's data warehouse and reused; Decree
//! 107/2021/NĐ-CP amending Decree 61/2018 Art. 15: the agency does not ask again for what it
//! or the national databases already hold). A new dossier may satisfy a document by naming
//! such a result; it is checked at receipt: it exists, belongs to the applicant, is still valid
//! that day, is not revoked, and is of the kind the document accepts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::applicant::ApplicantKey;

/// What a dossier's finish issues, as its event records it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct IssuedResult {
    /// Its number (unique in the province).
    pub number: String,
    /// Its kind: the procedure's result document (e.g. "Giấy xác nhận tình trạng hôn nhân").
    pub kind: String,
    /// The day it was issued.
    pub issued_on: NaiveDate,
    /// Issued in electronic form (Decree 45/2020/NĐ-CP; Decision 766, 4.1).
    pub electronic: bool,
    /// The last day it is valid (the procedure's `valid_days` after issue); none: indefinitely.
    pub valid_until: Option<NaiveDate>,
}

/// A result as the warehouse holds it, for the checks at receipt.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct KnownResult {
    /// Its number.
    pub number: String,
    /// Whose it is (none: issued before applicants were recorded; never reusable).
    pub holder: Option<ApplicantKey>,
    /// Its kind.
    pub kind: String,
    /// The last day it is valid.
    pub valid_until: Option<NaiveDate>,
    /// Revoked (no longer in force whatever its date).
    pub revoked: bool,
    /// The dossier that issued it (its stream records its revocation and expiry). Rows written
    /// before it was kept read none.
    #[serde(default)]
    pub issued_by: Option<crate::ids::DossierCode>,
    /// Its expiry was recorded (an event on the issuing dossier, once its last valid day passed).
    #[serde(default)]
    pub expired: bool,
}

impl KnownResult {
    /// Whether it is in force on `day`: not revoked, its expiry not recorded, valid through
    /// `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        !self.revoked && !self.expired && self.valid_until.is_none_or(|v| day <= v)
    }
}

/// How a document of a dossier was submitted (Circular 01/2023/TT-VPCP: what the counter
/// digitises).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum DocumentForm {
    /// On paper, not digitised.
    Paper,
    /// Digitised: the file's SHA-256 (hex) and size, never the file.
    Digitised {
        /// SHA-256 of the file, 64 hex digits.
        sha256: String,
        /// Bytes.
        size: u64,
    },
    /// Satisfied by a result the warehouse holds for the applicant.
    Reused {
        /// The result's number.
        result: String,
    },
}

/// One document of a dossier: the procedure's component it answers and its form.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SubmittedDocument {
    /// The procedure's document (component) name.
    pub component: String,
    /// How it was submitted.
    #[serde(flatten)]
    pub form: DocumentForm,
}

/// A ground on which a document is not digitised at the counter.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ExemptGround {
    /// Its short name, as procedures' documents name it (e.g. `mau-vat`).
    pub ground: String,
    /// What it covers.
    pub name: String,
}

/// The digitisation rules in force, as data (Circular 01/2023/TT-VPCP on digitising dossiers
/// and results at the one-stop shop, under Decree 45/2020/NĐ-CP and Decree 107/2021/NĐ-CP):
/// the components of a dossier received through the listed channels are digitised at receipt,
/// unless the procedure marks a component exempt on one of the listed grounds.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DigitisationRules {
    /// Where they come from.
    pub source: String,
    /// The first day they are in force.
    pub effective_from: Option<NaiveDate>,
    /// The last day they are in force (a successor starts the next day).
    pub effective_to: Option<NaiveDate>,
    /// The channels whose dossiers the counter digitises (paper comes in at the counter or by
    /// post; an online dossier is electronic already).
    pub channels: Vec<crate::status::Channel>,
    /// The grounds of exemption.
    pub exempt: Vec<ExemptGround>,
    /// Whether a receipt with a component that should have been digitised is refused
    /// (`not_digitised`); otherwise it is received and the component recorded as undigitised.
    pub strict: bool,
}

impl DigitisationRules {
    /// Whether they are in force on `day`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.effective_from.is_none_or(|f| f <= day) && self.effective_to.is_none_or(|t| day <= t)
    }

    /// The components of `documents` received on paper that these rules, in force on `day`,
    /// required digitised for a dossier of `channel` under `procedure`: not exempt on one of
    /// the rules' grounds.
    pub fn undigitised(
        &self,
        procedure: &crate::procedure::Procedure,
        channel: crate::status::Channel,
        documents: &[SubmittedDocument],
        day: NaiveDate,
    ) -> Vec<String> {
        if !self.in_force(day) || !self.channels.contains(&channel) {
            return Vec::new();
        }
        let exempt = |component: &str| {
            procedure
                .documents
                .iter()
                .find(|c| c.name == component)
                .and_then(|c| c.digitisation_exempt.as_deref())
                .is_some_and(|g| self.exempt.iter().any(|e| e.ground == g))
        };
        documents
            .iter()
            .filter(|d| d.form == DocumentForm::Paper && !exempt(&d.component))
            .map(|d| d.component.clone())
            .collect()
    }
}

/// The result numbers a set of documents reuses (what the runtime looks up before deciding).
pub fn reused_results(documents: &[SubmittedDocument]) -> impl Iterator<Item = &str> {
    documents.iter().filter_map(|d| match &d.form {
        DocumentForm::Reused { result } => Some(result.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Channel;

    #[test]
    fn what_the_counter_had_to_digitise() {
        let rules = DigitisationRules {
            source: "TT 01/2023/TT-VPCP".into(),
            effective_from: NaiveDate::from_ymd_opt(2023, 5, 20),
            effective_to: None,
            channels: vec![Channel::Direct, Channel::Postal],
            exempt: vec![ExemptGround { ground: "mau-vat".into(), name: "Mẫu vật".into() }],
            strict: false,
        };
        let mut p = crate::procedure::Procedure::simple(
            "2.000815".parse().unwrap(),
            "Chứng thực",
            motcua_calendar::Limit::SameDay,
        );
        let doc = |name: &str, exempt: Option<&str>| crate::procedure::Document {
            name: name.into(),
            required: true,
            copy: None,
            accepts: None,
            digitisation_exempt: exempt.map(Into::into),
            code: None,
        };
        p.documents = vec![doc("A", None), doc("B", Some("mau-vat")), doc("C", Some("khac"))];
        let paper = |c: &str| SubmittedDocument { component: c.into(), form: DocumentForm::Paper };
        let docs = [paper("A"), paper("B"), paper("C")];
        let day = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
        // B is exempt on a ground the rules list; C names a ground they do not.
        assert_eq!(rules.undigitised(&p, Channel::Direct, &docs, day), ["A", "C"]);
        assert!(rules.undigitised(&p, Channel::Online, &docs, day).is_empty());
        let before = NaiveDate::from_ymd_opt(2023, 5, 19).unwrap();
        assert!(rules.undigitised(&p, Channel::Postal, &docs, before).is_empty());
    }
}
