//! Early / on time / late (docs/rules.md §6; TT 01/2018/TT-VPCP Art. 13 indicator 1).

use motcua_calendar::Timestamp;
use serde::{Deserialize, Serialize};

/// How a finished dossier (or step) did against its due time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Trước hạn: finished on an earlier date than the due date.
    Early,
    /// Đúng hạn: finished on the due date, not after the due time.
    OnTime,
    /// Quá hạn: finished after the due time.
    Late,
}

impl Outcome {
    /// Judges `finished` against `due`: late iff `finished > due`; early iff the local date of
    /// `finished` is before that of `due`; on time otherwise.
    ///
    /// ```
    /// use motcua_core::Outcome;
    /// let due = "2025-02-05T17:00".parse()?;
    /// assert_eq!(Outcome::judge("2025-02-04T16:00".parse()?, due), Outcome::Early);
    /// assert_eq!(Outcome::judge("2025-02-05T08:00".parse()?, due), Outcome::OnTime);
    /// assert_eq!(Outcome::judge("2025-02-05T17:01".parse()?, due), Outcome::Late);
    /// # Ok::<(), motcua_calendar::CalendarError>(())
    /// ```
    pub fn judge(finished: Timestamp, due: Timestamp) -> Outcome {
        if finished > due {
            Outcome::Late
        } else if finished.local_day() < due.local_day() {
            Outcome::Early
        } else {
            Outcome::OnTime
        }
    }

    /// Early or on time.
    pub fn is_early_or_on_time(self) -> bool {
        !matches!(self, Outcome::Late)
    }
}

/// Where a dossier stands at some instant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Finished with this outcome.
    Finished(Outcome),
    /// Open and not past its due time.
    InTime,
    /// Open with its clock stopped (supplement requested, or a financial obligation or
    /// suspension that stops it): never overdue, whatever its due time (NĐ 61/2018 Art. 19(4);
    /// the same rule deadline queries and reports apply).
    ClockStopped,
    /// Open and past its due time.
    Overdue,
    /// No due time (procedure without a limit, or not received).
    NoDueTime,
}
