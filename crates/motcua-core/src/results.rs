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

/// The result numbers a set of documents reuses (what the runtime looks up before deciding).
pub fn reused_results(documents: &[SubmittedDocument]) -> impl Iterator<Item = &str> {
    documents.iter().filter_map(|d| match &d.form {
        DocumentForm::Reused { result } => Some(result.as_str()),
        _ => None,
    })
}
