//! Feedback and complaints about a dossier (phản ánh, kiến nghị, PAKN): each its own record,
//! numbered within the dossier, with its own deadlines on the working-time calendar and its own
//! outcome.
//!
//! The deadlines are those Decision 766/QĐ-TTg's indicators 5.2 and 5.3 judge a feedback by, as
//! the Government Office's description of the indicator formulas states them: a rejection within
//! 2 working days of receipt, an answer within 15 working days of receipt, and the answer made
//! public within 2 working days of the answer. Decree 20/2008/NĐ-CP (as amended by Decree
//! 92/2017/NĐ-CP) and Circular 02/2017/TT-VPCP govern receiving and handling feedback but do not
//! set these three figures: their source is the formula description alone (docs/rules.md §12). A feedback is classified (indicator 5.1) as about a regulation or policy, a
//! procedure, or an officer's conduct.

use motcua_calendar::{Limit, Timestamp};
use serde::{Deserialize, Serialize};

use crate::outcome::Outcome;

/// Working days to reject a feedback that is not accepted.
pub const FEEDBACK_REJECT_DAYS: u32 = 2;
/// Working days to answer a feedback.
pub const FEEDBACK_ANSWER_DAYS: u32 = 15;
/// Working days to make an answer public.
pub const FEEDBACK_PUBLISH_DAYS: u32 = 2;
/// Most feedback records one dossier may hold.
pub const MAX_FEEDBACK: usize = 255;

/// The working-time limits of a feedback.
pub fn limit(days: u32) -> Limit {
    Limit::working_days(days)
}

/// What a feedback is about (Decision 766, indicator 5.1's classes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackTopic {
    /// A regulation or policy (quy định, chính sách).
    Regulation,
    /// The administrative procedure (thủ tục hành chính).
    Procedure,
    /// An officer's conduct (hành vi của cán bộ, công chức).
    Conduct,
}

/// How a feedback was closed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackEnd {
    /// Answered (handled).
    Answered,
    /// Not accepted (từ chối tiếp nhận), with the reason.
    Rejected,
}

/// One feedback record of a dossier, as its events build it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Feedback {
    /// Its number within the dossier, from 1.
    pub number: u16,
    /// What it is about, once classified.
    pub topic: Option<FeedbackTopic>,
    /// When it was received.
    pub filed_at: Timestamp,
    /// The last instant a rejection is on time.
    pub reject_by: Timestamp,
    /// The last instant an answer is on time.
    pub due: Timestamp,
    /// The earlier feedback it follows up (a complaint about that one's answer).
    pub follows: Option<u16>,
    /// How it was closed, and when.
    pub end: Option<(FeedbackEnd, Timestamp)>,
    /// The closing against its deadline.
    pub outcome: Option<Outcome>,
    /// The last instant the answer's publication is on time.
    pub publish_by: Option<Timestamp>,
    /// When the answer was made public.
    pub published_at: Option<Timestamp>,
    /// The applicant's rating of the answer.
    pub satisfied: Option<bool>,
    /// A later feedback follows it up.
    pub followed_up: bool,
    /// When the rating was given.
    #[serde(default)]
    pub rated_at: Option<Timestamp>,
    /// When the first later feedback followed it up.
    #[serde(default)]
    pub followed_up_at: Option<Timestamp>,
}

impl Feedback {
    /// A feedback just received: number `number`, at `filed_at`, with its deadlines; nothing
    /// else known yet.
    pub fn filed(number: u16, filed_at: Timestamp, reject_by: Timestamp, due: Timestamp) -> Feedback {
        Feedback {
            number,
            topic: None,
            filed_at,
            reject_by,
            due,
            follows: None,
            end: None,
            outcome: None,
            publish_by: None,
            published_at: None,
            satisfied: None,
            followed_up: false,
            rated_at: None,
            followed_up_at: None,
        }
    }

    /// Whether it was handled in time as indicator 5.2 judges it at `at`: closed by its
    /// deadline (a rejection by `reject_by`, an answer by `due`) and its answer published by
    /// `publish_by` (or not yet due to be); still open and `at` not past `due`.
    pub fn on_time(&self, at: Timestamp) -> bool {
        let closed_in_time = match (self.end, self.outcome) {
            (Some(_), Some(o)) => o != Outcome::Late,
            (Some(_), None) => true,
            (None, _) => return at <= self.due,
        };
        let published_in_time = match (self.publish_by, self.published_at) {
            (Some(by), Some(p)) => p <= by,
            (Some(by), None) => at <= by,
            (None, _) => true,
        };
        closed_in_time && published_in_time
    }

    /// The record as it stood at `at`: a closing, publication, rating or follow-up after `at`
    /// not yet happened (a report judged at an earlier instant than the store's last event).
    pub fn as_of(&self, at: Timestamp) -> Feedback {
        let mut f = self.clone();
        if f.end.is_some_and(|(_, t)| t > at) {
            (f.end, f.outcome, f.publish_by, f.published_at) = (None, None, None, None);
        }
        if f.published_at.is_some_and(|t| t > at) {
            f.published_at = None;
        }
        if f.rated_at.is_some_and(|t| t > at) || f.end.is_none() {
            (f.satisfied, f.rated_at) = (None, None);
        }
        if f.followed_up_at.is_some_and(|t| t > at) {
            (f.followed_up, f.followed_up_at) = (false, None);
        }
        f
    }

    /// Whether it counts against satisfaction in handling feedback (indicator 5.3): rated
    /// unsatisfied, followed up by another feedback about its answer, or late at `at`.
    pub fn dissatisfied(&self, at: Timestamp) -> bool {
        self.satisfied == Some(false) || self.followed_up || !self.on_time(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn feedback() -> Feedback {
        Feedback::filed(1, t("2025-03-03T09:00"), t("2025-03-05T09:00"), t("2025-03-24T09:00"))
    }

    #[test]
    fn open_feedback_is_on_time_until_its_due_time() {
        let f = feedback();
        assert!(f.on_time(t("2025-03-24T09:00")));
        assert!(!f.on_time(t("2025-03-24T09:01")));
        assert!(f.dissatisfied(t("2025-03-25T09:00")));
    }

    #[test]
    fn an_answer_published_late_is_late() {
        let mut f = feedback();
        f.end = Some((FeedbackEnd::Answered, t("2025-03-10T09:00")));
        f.outcome = Some(Outcome::Early);
        f.publish_by = Some(t("2025-03-12T09:00"));
        assert!(f.on_time(t("2025-03-12T09:00")));
        assert!(!f.on_time(t("2025-03-13T09:00")));
        f.published_at = Some(t("2025-03-11T09:00"));
        assert!(f.on_time(t("2025-12-31T09:00")));
        f.followed_up = true;
        f.followed_up_at = Some(t("2025-04-01T09:00"));
        assert!(f.dissatisfied(t("2025-12-31T09:00")));
        // Judged before the follow-up, it was not yet followed up.
        assert!(!f.as_of(t("2025-03-31T09:00")).dissatisfied(t("2025-03-31T09:00")));
    }
}
