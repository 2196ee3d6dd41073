//! Dossier statuses and their national-portal codes (docs/rules.md §9, docs/sources.md §3.2).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The outcome of processing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The request was granted; a result is issued.
    Approved,
    /// The request was refused after appraisal (NĐ 61/2018 Art. 19(8)).
    Denied,
}

/// How a dossier reached the one-stop shop (docs/sources.md §1.1; DVCQG `KenhThucHien`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// In person at the counter (1).
    Direct,
    /// Online (2).
    Online,
    /// By public postal service (3).
    Postal,
}

impl Channel {
    /// The national portal's channel code.
    pub fn code(self) -> u8 {
        match self {
            Channel::Direct => 1,
            Channel::Online => 2,
            Channel::Postal => 3,
        }
    }
}

/// The internal status of a dossier.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "decision")]
pub enum Status {
    /// Submitted online, not yet accepted.
    Submitted,
    /// Submitted online and checked at intake: the applicant was asked, once, to complete it
    /// (Decree 61/2018/NĐ-CP Art. 17(2): one notice saying everything missing); not accepted,
    /// no clock yet.
    CompletionRequested,
    /// Accepted; the clock runs; no step started yet.
    Received,
    /// Refused at intake (Phiếu từ chối tiếp nhận).
    RefusedAtIntake,
    /// Being processed.
    InProgress,
    /// Waiting for the applicant's supplement; the clock is stopped.
    SupplementRequested,
    /// Waiting for fees or taxes to be paid.
    AwaitingFinancialObligation,
    /// Processing suspended.
    Suspended,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Processing stopped by the agency (e.g. not supplemented in time).
    Stopped,
    /// Processing finished; the result (or refusal) is ready.
    Finished(Decision),
    /// The result was returned to the applicant.
    ResultReturned(Decision),
}

/// One of the ten national portal status codes (docs/rules.md §9).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NationalStatus(u8);

impl NationalStatus {
    /// Every code, 1 ..= 10.
    pub const ALL: [NationalStatus; 10] = [
        NationalStatus(1),
        NationalStatus(2),
        NationalStatus(3),
        NationalStatus(4),
        NationalStatus(5),
        NationalStatus(6),
        NationalStatus(7),
        NationalStatus(8),
        NationalStatus(9),
        NationalStatus(10),
    ];

    /// The numeric code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The portal's Vietnamese name.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "Mới đăng ký",
            2 => "Được tiếp nhận",
            3 => "Không được tiếp nhận",
            4 => "Đang xử lý",
            5 => "Yêu cầu bổ sung giấy tờ",
            6 => "Yêu cầu thực hiện nghĩa vụ tài chính",
            7 => "Công dân yêu cầu rút hồ sơ",
            8 => "Dừng xử lý",
            9 => "Đã xử lý xong",
            _ => "Đã trả kết quả",
        }
    }
}

impl fmt::Display for NationalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0, self.name())
    }
}

impl Status {
    /// The national portal code this status is reported as (total: every status has one). The
    /// ten codes and their names are those of the portal's dossier-status list as vendors'
    /// integrations use them (docs/sources.md §3.2); each arm says which one and why.
    pub fn national(self) -> NationalStatus {
        NationalStatus(match self {
            // 1 Mới đăng ký: submitted online, not yet accepted.
            Status::Submitted => 1,
            // 5 Yêu cầu bổ sung giấy tờ: the only code for "documents asked for"; before
            // acceptance it is the completion notice of Decree 61/2018/NĐ-CP Art. 17(2).
            Status::CompletionRequested => 5,
            // 2 Được tiếp nhận: accepted (Art. 17(1)(c): the appointment slip is issued).
            Status::Received => 2,
            // 3 Không được tiếp nhận: refused at receipt (Art. 17(1)(b), the refusal slip).
            Status::RefusedAtIntake => 3,
            // 4 Đang xử lý: in process at one of its agencies.
            Status::InProgress => 4,
            // 5 Yêu cầu bổ sung giấy tờ: a supplement requested during processing (Art. 19(4)).
            Status::SupplementRequested => 5,
            // 6 Yêu cầu thực hiện nghĩa vụ tài chính: fees or taxes due.
            Status::AwaitingFinancialObligation => 6,
            // 7 Công dân yêu cầu rút hồ sơ: the applicant asked to stop (Decree 118/2025/NĐ-CP
            // Art. 21(1)).
            Status::Withdrawn => 7,
            // 4 Đang xử lý: a suspension can resume, and the list has no code for a pause that
            // is not the applicant's (5, 6); 8 Dừng xử lý is terminal for Decision 766
            // (docs/sources.md §3.2), so reporting a suspension as 8 would end the dossier on
            // the portal. The dossier stays "in process" there while its clock is stopped here.
            Status::Suspended => 4,
            // 8 Dừng xử lý: processing stopped for good (a stop, or the notice answering a
            // withdrawal: Circular 03/2025/TT-VPCP Art. 7).
            Status::Stopped => 8,
            // 9 Đã xử lý xong: the result (or a denial) is ready, not yet collected.
            Status::Finished(_) => 9,
            // 10 Đã trả kết quả: handed over (Decree 61/2018/NĐ-CP Art. 20).
            Status::ResultReturned(_) => 10,
        })
    }

    /// Whether processing has ended for good (a finished dossier can still have its result
    /// returned, so it is not terminal here; a withdrawn one can still get its stop notice,
    /// which changes nothing of its end or outcome).
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::RefusedAtIntake | Status::Withdrawn | Status::Stopped | Status::ResultReturned(_))
    }

    /// Whether the processing clock is stopped in this status (before policy: the dossier
    /// records whether a given pause actually stops it).
    pub fn is_waiting(self) -> bool {
        matches!(self, Status::SupplementRequested | Status::AwaitingFinancialObligation | Status::Suspended)
    }

    /// Every status (a `match` in this module's tests fails to compile when one is added and
    /// not listed here).
    pub const ALL: [Status; 14] = [
        Status::Submitted,
        Status::Received,
        Status::RefusedAtIntake,
        Status::InProgress,
        Status::SupplementRequested,
        Status::AwaitingFinancialObligation,
        Status::Suspended,
        Status::Withdrawn,
        Status::Stopped,
        Status::Finished(Decision::Approved),
        Status::Finished(Decision::Denied),
        Status::ResultReturned(Decision::Approved),
        Status::ResultReturned(Decision::Denied),
        Status::CompletionRequested,
    ];

    /// The status whose [`Status::code`] is `code`.
    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A stable snake_case name.
    pub fn code(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::CompletionRequested => "completion_requested",
            Status::Received => "received",
            Status::RefusedAtIntake => "refused_at_intake",
            Status::InProgress => "in_progress",
            Status::SupplementRequested => "supplement_requested",
            Status::AwaitingFinancialObligation => "awaiting_financial_obligation",
            Status::Suspended => "suspended",
            Status::Withdrawn => "withdrawn",
            Status::Stopped => "stopped",
            Status::Finished(Decision::Approved) => "finished_approved",
            Status::Finished(Decision::Denied) => "finished_denied",
            Status::ResultReturned(Decision::Approved) => "result_returned_approved",
            Status::ResultReturned(Decision::Denied) => "result_returned_denied",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::{Decision, Status};

    /// Its position in [`Status::ALL`]: exhaustive, so a new status must be placed there.
    fn position(s: Status) -> usize {
        match s {
            Status::Submitted => 0,
            Status::Received => 1,
            Status::RefusedAtIntake => 2,
            Status::InProgress => 3,
            Status::SupplementRequested => 4,
            Status::AwaitingFinancialObligation => 5,
            Status::Suspended => 6,
            Status::Withdrawn => 7,
            Status::Stopped => 8,
            Status::Finished(Decision::Approved) => 9,
            Status::Finished(Decision::Denied) => 10,
            Status::ResultReturned(Decision::Approved) => 11,
            Status::ResultReturned(Decision::Denied) => 12,
            Status::CompletionRequested => 13,
        }
    }

    #[test]
    fn all_lists_every_status_once() {
        for (i, s) in Status::ALL.into_iter().enumerate() {
            assert_eq!(position(s), i, "{s:?}");
        }
    }
}
