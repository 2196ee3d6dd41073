//! A dossier's projection row: its current state as stores keep it and queries read it.

use std::borrow::Cow;

use motcua_calendar::Timestamp;
use motcua_core::{Dossier, DossierCode, Outcome, ProcedureCode, StepId};
use serde::{Deserialize, Serialize};

use super::{Hash, GENESIS};

/// The current state of one dossier as a row: the projection `verify` checks and reports read.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DossierSummary {
    /// The dossier.
    pub dossier: DossierCode,
    /// Its procedure.
    pub procedure: Option<ProcedureCode>,
    /// Internal status code ([`motcua_core::Status::code`]). Compact encodings (MessagePack,
    /// lean rows) keep it as a one-byte tag (`status_tag`; 1 byte instead of up to 30, about
    /// 23 bytes a dossier-year on the seed year); JSON as its text. Both read.
    #[serde(with = "status_text_or_tag")]
    pub status: Option<Cow<'static, str>>,
    /// National status code.
    pub national: Option<u8>,
    /// Channel code (1 direct, 2 online, 3 postal).
    pub channel: Option<u8>,
    /// Acceptance time.
    pub received_at: Option<Timestamp>,
    /// Due time.
    pub due: Option<Timestamp>,
    /// First terminal instant.
    pub finished_at: Option<Timestamp>,
    /// Outcome.
    pub outcome: Option<Outcome>,
    /// Events so far.
    pub version: u64,
    /// Hash of the last event.
    pub last_hash: Hash,
    /// The steps that started, in procedure order: who held the dossier, until when, and
    /// whether they finished their part in time (lateness by step and agency reads these).
    /// `None` in rows written before summaries kept steps (the field is last, so those rows
    /// read as such); `verify` accepts them as they are.
    #[serde(default)]
    pub steps: Option<Vec<StepSummary>>,
    /// Whether the processing clock is stopped (a supplement requested, or a financial
    /// obligation or suspension that the procedure's policy says stops it): such a dossier is
    /// never overdue (see [`DossierSummary::is_overdue`]). Rows written before it was kept
    /// read `false`.
    #[serde(default)]
    pub clock_stopped: bool,
    /// The administrative unit whose procedure it is (a register's unit code), when known:
    /// reports group and roll up by it. Rows written before it was kept read `None`.
    #[serde(default)]
    pub jurisdiction: Option<std::sync::Arc<str>>,
    /// Supplement requests so far: Decision 766 counts a dossier with more than one as late
    /// (indicator 2.1, docs/indicators.md §2). Rows written before it was kept read `None`,
    /// which `verify` accepts (see [`DossierSummary::matches`]).
    #[serde(default)]
    pub supplement_requests: Option<u32>,
    /// What the dossier holds, as Decision 766's group 4 counts it. Rows written before it was
    /// kept read `None`, which `verify` accepts.
    #[serde(default)]
    pub holds: Option<Holds>,
    /// Its feedback records (phản ánh, kiến nghị) with their deadlines and outcomes: Decision
    /// 766's indicators 5.1-5.4 read them. Rows written before they were kept read `None`,
    /// which `verify` accepts.
    #[serde(default)]
    pub feedback: Option<Vec<motcua_core::Feedback>>,
}

/// What a dossier holds, counted (docs/indicators.md §2, indicators 4.1-4.5).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Holds {
    /// Whose it is is known (an applicant was recorded).
    pub applicant: bool,
    /// The applicant signed in through VNeID.
    pub vneid: bool,
    /// Documents received.
    pub documents: u16,
    /// … digitised.
    pub digitised: u16,
    /// … satisfied by a result from the warehouse.
    pub reused: u16,
    /// The result an approval issued: electronic (`Some(true)`) or paper; none issued.
    pub result_electronic: Option<bool>,
    /// Fees were paid (net of refunds or not).
    #[serde(default)]
    pub paid: bool,
    /// … online.
    #[serde(default)]
    pub paid_online: bool,
    /// The applicant's rating: satisfied or not; none given.
    #[serde(default)]
    pub rating: Option<bool>,
    /// Components received on paper that the digitisation rules in force required digitised.
    #[serde(default)]
    pub undigitised: u16,
}

impl Holds {
    /// The counts of `state`.
    pub fn of(state: &Dossier) -> Holds {
        use motcua_core::DocumentForm;
        let count = |f: fn(&DocumentForm) -> bool| {
            u16::try_from(state.documents.iter().filter(|d| f(&d.form)).count()).unwrap_or(u16::MAX)
        };
        Holds {
            applicant: state.applicant.is_some(),
            vneid: state.applicant.as_ref().is_some_and(|a| a.vneid),
            documents: u16::try_from(state.documents.len()).unwrap_or(u16::MAX),
            digitised: count(|f| matches!(f, DocumentForm::Digitised { .. })),
            reused: count(|f| matches!(f, DocumentForm::Reused { .. })),
            result_electronic: state.result.as_ref().map(|r| r.electronic),
            paid: state.paid > motcua_core::Vnd::ZERO,
            paid_online: state.paid_online,
            rating: state.rating,
            undigitised: u16::try_from(state.undigitised.len()).unwrap_or(u16::MAX),
        }
    }
}

/// One started step of a dossier, as its summary keeps it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct StepSummary {
    /// The procedure's step.
    pub step: StepId,
    /// The agency that handles it.
    pub agency: std::sync::Arc<str>,
    /// Its own due time, from when the step received the dossier (NĐ 61/2018 Art. 18; inter-agency steps each judged against their share).
    pub due: Option<Timestamp>,
    /// When it completed.
    pub completed_at: Option<Timestamp>,
    /// Against its own due time, once completed.
    pub outcome: Option<Outcome>,
}

impl DossierSummary {
    /// Whether `self`, read from the store, is the projection `expected` (a replay's): equal,
    /// or written before summaries kept steps and equal but for them.
    pub fn matches(&self, expected: &DossierSummary) -> bool {
        let old = |s: &DossierSummary| {
            (s.supplement_requests.is_none() || s.holds.is_none() || s.feedback.is_none())
                && *s
                    == DossierSummary {
                        supplement_requests: s.supplement_requests.and(expected.supplement_requests),
                        holds: s.holds.and(expected.holds),
                        feedback: s.feedback.as_ref().and(expected.feedback.clone()),
                        ..expected.clone()
                    }
        };
        self == expected
            || old(self)
            || (self.steps.is_none()
                && *self
                    == DossierSummary {
                        steps: None,
                        clock_stopped: self.clock_stopped,
                        supplement_requests: self.supplement_requests,
                        holds: self.holds,
                        feedback: self.feedback.clone(),
                        ..expected.clone()
                    })
    }

    /// Whether the dossier is open: accepted or submitted, with no terminal status and not
    /// finished yet. Open dossiers are the backlog; only open ones can be overdue.
    pub fn is_open(&self) -> bool {
        self.finished_at.is_none() && self.status.as_deref().is_some_and(|s| !is_terminal_code(s))
    }

    /// Whether the dossier is overdue at `at`: open, its clock running, and its due time before
    /// `at`. The one definition of overdue: deadline queries, the engine and reports use it.
    /// A dossier whose clock is stopped (supplement requested, financial obligation or
    /// suspension that stops it) is never overdue (NĐ 61/2018 Art. 19(4): the time to supplement
    /// is not counted in the time limit; Decision 766/QĐ-TTg, indicator 2.1).
    pub fn is_overdue(&self, at: Timestamp) -> bool {
        self.is_open() && !self.clock_stopped && self.due.is_some_and(|d| d < at)
    }

    /// The step the dossier is at: the first started step not completed yet, in procedure
    /// order (`None` before any step starts or once all started steps completed).
    pub fn current_step(&self) -> Option<&StepSummary> {
        self.steps.iter().flatten().find(|s| s.completed_at.is_none())
    }

    /// The summary of a dossier with no events.
    pub fn empty(dossier: &DossierCode) -> DossierSummary {
        DossierSummary {
            dossier: dossier.clone(),
            procedure: None,
            status: None,
            national: None,
            channel: None,
            received_at: None,
            due: None,
            finished_at: None,
            outcome: None,
            version: 0,
            last_hash: GENESIS,
            steps: Some(Vec::new()),
            clock_stopped: false,
            jurisdiction: None,
            supplement_requests: Some(0),
            holds: Some(Holds::default()),
            feedback: Some(Vec::new()),
        }
    }

    /// The summary of `state` after the event sealed by `last_hash`.
    pub fn of(dossier: &DossierCode, state: &Dossier, last_hash: Hash) -> DossierSummary {
        let mut summary = DossierSummary::empty(dossier);
        summary.refill(dossier, state, last_hash);
        summary
    }

    /// Makes `self` the summary of `state` ([`DossierSummary::of`]), keeping the step list's
    /// allocation: the engine refills the summaries of reused appends.
    pub fn refill(&mut self, dossier: &DossierCode, state: &Dossier, last_hash: Hash) {
        if self.dossier != *dossier {
            self.dossier = dossier.clone();
        }
        if self.procedure != state.procedure {
            self.procedure = state.procedure.clone();
        }
        self.status = state.status.map(|s| Cow::Borrowed(s.code()));
        self.national = state.status.map(|s| s.national().code());
        self.channel = state.channel.map(|c| c.code());
        self.received_at = state.received_at;
        self.due = state.due;
        self.finished_at = state.finished_at;
        self.outcome = state.outcome;
        self.version = state.version;
        self.last_hash = last_hash;
        self.clock_stopped = state.pause.is_some_and(|p| p.stops_clock);
        self.supplement_requests = Some(state.supplement_requests);
        self.holds = Some(Holds::of(state));
        if self.feedback.as_deref() != Some(&state.feedback[..]) {
            self.feedback = Some(state.feedback.clone());
        }
        if self.jurisdiction != state.jurisdiction {
            self.jurisdiction = state.jurisdiction.clone();
        }
        // Step by step over what the list held: a step it already names keeps its shared
        // texts (no reference counting), times and outcome are written again.
        let steps = self.steps.get_or_insert_with(Vec::new);
        let mut kept = 0;
        for s in state.steps.iter().filter(|s| s.started_at.is_some()) {
            let fresh = || StepSummary {
                step: s.id.clone(),
                agency: s.agency.clone(),
                due: s.due,
                completed_at: s.completed_at,
                outcome: s.outcome,
            };
            match steps.get_mut(kept) {
                Some(old) if old.step == s.id && old.agency == s.agency => {
                    old.due = s.due;
                    old.completed_at = s.completed_at;
                    old.outcome = s.outcome;
                }
                Some(old) => *old = fresh(),
                None => steps.push(fresh()),
            }
            kept += 1;
        }
        steps.truncate(kept);
    }
}

/// The status codes by tag: a tag is a status code's position here, fixed forever (a new
/// status is added at the end; a test checks every [`motcua_core::Status`] has one).
const STATUS_TAGS: [&str; 14] = [
    "submitted",
    "completion_requested",
    "received",
    "refused_at_intake",
    "in_progress",
    "supplement_requested",
    "awaiting_financial_obligation",
    "suspended",
    "withdrawn",
    "stopped",
    "finished_approved",
    "finished_denied",
    "result_returned_approved",
    "result_returned_denied",
];

/// The one-byte tag compact rows keep for status code `code` (none for a code it does not know,
/// which is kept as text).
pub fn status_tag(code: &str) -> Option<u8> {
    STATUS_TAGS.iter().position(|c| *c == code).and_then(|i| u8::try_from(i).ok())
}

/// A summary's status: text in human-readable formats, a [`status_tag`] in compact ones; either
/// reads (rows written before tags keep the text).
mod status_text_or_tag {
    use std::borrow::Cow;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    use super::{status_tag, STATUS_TAGS};

    pub fn serialize<S: Serializer>(v: &Option<Cow<'static, str>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_none(),
            Some(code) => match status_tag(code) {
                Some(tag) if !s.is_human_readable() => s.serialize_some(&tag),
                _ => s.serialize_some(&**code),
            },
        }
    }

    struct Code;

    impl<'de> Visitor<'de> for Code {
        type Value = Option<Cow<'static, str>>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a status code or its tag")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Code)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            let code = usize::try_from(v).ok().and_then(|i| STATUS_TAGS.get(i));
            code.map(|c| Some(Cow::Borrowed(*c)))
                .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &"a status tag"))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            let v = u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &"a status tag"))?;
            self.visit_u64(v)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            // Known codes borrow their static text (no allocation per row read).
            Ok(Some(match STATUS_TAGS.iter().find(|c| **c == v) {
                Some(c) => Cow::Borrowed(*c),
                None => Cow::Owned(v.to_string()),
            }))
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            match STATUS_TAGS.iter().find(|c| **c == v) {
                Some(c) => Ok(Some(Cow::Borrowed(*c))),
                None => Ok(Some(Cow::Owned(v))),
            }
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'static, str>>, D::Error> {
        d.deserialize_option(Code)
    }
}

/// Whether a status code ([`motcua_core::Status::code`]) is terminal
/// ([`motcua_core::Status::is_terminal`]; a test checks they agree), without parsing it.
pub(crate) fn is_terminal_code(code: &str) -> bool {
    matches!(
        code,
        "refused_at_intake" | "withdrawn" | "stopped" | "result_returned_approved" | "result_returned_denied"
    )
}

#[cfg(test)]
mod tests {
    use motcua_core::Status;

    #[test]
    fn terminal_codes_are_the_terminal_statuses() {
        for s in Status::ALL {
            assert_eq!(super::is_terminal_code(s.code()), s.is_terminal(), "{s:?}");
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn every_status_has_a_tag_and_compact_rows_keep_it() {
        for s in Status::ALL {
            assert!(super::status_tag(s.code()).is_some(), "{s:?} has no tag");
        }
        let code: motcua_core::DossierCode = "H42.12-250303-0001".parse().unwrap();
        let mut summary = super::DossierSummary::empty(&code);
        summary.status = Some(std::borrow::Cow::Borrowed("result_returned_approved"));
        let bin = rmp_serde::to_vec(&summary).unwrap();
        assert!(!bin.windows(8).any(|w| w == b"result_r"), "the compact form keeps the tag");
        let back: super::DossierSummary = rmp_serde::from_slice(&bin).unwrap();
        assert_eq!(back, summary);
        let json = serde_json::to_string(&summary).unwrap();
        assert!(json.contains("\"status\":\"result_returned_approved\""), "{json}");
        assert_eq!(serde_json::from_str::<super::DossierSummary>(&json).unwrap(), summary);
    }
}
