//! The Decision 766/QĐ-TTg scorecard (docs/indicators.md): five groups, 100 points, every indicator
//! of the set listed — measured when the dossiers (or a figure given from outside) support it,
//! marked "not measured" otherwise, never guessed.
//!
//! Points of a measured indicator: `min(1, value / threshold) × maximum` (docs/indicators.md §2, §8).
//! Every maximum, threshold and rating band says where it comes from: `[V]` verified, `[P]`
//! probable (a vendor's formula description), or an assumption.

use serde::Serialize;

/// One indicator of the set.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Indicator {
    /// Its number in the indicator set, e.g. `2.1`.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// The measured rate, percent; `None` when the data does not support it.
    pub value_pct: Option<f64>,
    /// At or above this rate the indicator earns its full points.
    pub threshold_pct: f64,
    /// Its maximum points, when known (or assumed, as `points_source` says).
    pub max_points: Option<f64>,
    /// Points earned; `None` when not measured or when the maximum is unknown.
    pub points: Option<f64>,
    /// Where the maximum and threshold come from, or that they are assumptions.
    pub points_source: &'static str,
    /// What it measures: its formula, as the Government Office's description of Decision 766's
    /// formulas gives it ([`FORMULA_SOURCE`]; docs/indicators.md §2).
    pub formula: &'static str,
    /// For an indicator not measured: why (what data it needs).
    pub needs: Option<&'static str>,
    /// Another convention's value, shown beside the scored one (2.1: the province convention,
    /// resolved dossiers only), with its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beside: Option<(&'static str, f64)>,
}

impl Indicator {
    fn measured(&self) -> bool {
        self.points.is_some()
    }
}

/// One group of the scorecard.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Group {
    /// 1 to 5.
    pub id: u8,
    /// Its name.
    pub name: &'static str,
    /// Its maximum points (QĐ 766: 18, 20, 22, 22, 18 = 100, verified: docs/indicators.md §1).
    pub max_points: f64,
    /// Its indicators, in order.
    pub indicators: Vec<Indicator>,
    /// Points earned by its measured indicators.
    pub points: f64,
    /// The maximum points of its measured indicators.
    pub measured_max: f64,
}

/// A rating band of the total score.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// 90–100: xuất sắc (verified).
    Excellent,
    /// 80 – < 90: tốt (band edges not verified).
    Good,
    /// 70 – < 80: khá (not verified).
    Fair,
    /// 50 – < 70: trung bình (not verified).
    Average,
    /// < 50: yếu (verified).
    Weak,
}

impl Rating {
    /// The band a score out of 100 falls in: 90–100 xuất sắc and < 50 yếu are verified; the
    /// edges of tốt (80), khá (70) and trung bình (50) only agree with published results
    /// (docs/indicators.md §1).
    pub fn of(score: f64) -> Rating {
        match score {
            s if s >= 90.0 => Rating::Excellent,
            s if s >= 80.0 => Rating::Good,
            s if s >= 70.0 => Rating::Fair,
            s if s >= 50.0 => Rating::Average,
            _ => Rating::Weak,
        }
    }

    /// The Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Rating::Excellent => "xuất sắc",
            Rating::Good => "tốt",
            Rating::Fair => "khá",
            Rating::Average => "trung bình",
            Rating::Weak => "yếu",
        }
    }
}

/// The whole scorecard.
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct Scorecard {
    /// The five groups.
    pub groups: Vec<Group>,
    /// Points earned by the measured indicators (out of `measured_max`).
    pub points: f64,
    /// The maximum points of the measured indicators.
    pub measured_max: f64,
    /// Measured indicators / all indicators of the set.
    pub measured: usize,
    /// Indicators in the set.
    pub indicators: usize,
    /// `points / measured_max × 100`: the measured part's score on the 100-point scale.
    /// **Not** the official total, which needs every indicator; `None` when nothing is measured.
    pub scaled_score: Option<f64>,
    /// The rating band of `scaled_score`.
    pub rating: Option<Rating>,
    /// How to read `scaled_score` and `rating`.
    pub rating_note: &'static str,
}

/// What the dossiers of a period (or one slice of them) measure.
#[derive(Clone, Copy, PartialEq, Debug, Default)]
pub struct Measures {
    /// 2.1 by Decision 766's formula: resolved early or on time plus open in time, over
    /// resolved plus open, a dossier with more than one supplement request late; percent.
    pub early_or_on_time_pct: Option<f64>,
    /// 2.1 by the province convention: early or on time over resolved only; percent. Shown
    /// beside the decision's, not scored.
    pub early_or_on_time_province_pct: Option<f64>,
    /// 3.2: online services with at least one online dossier / online services offered.
    pub services_with_online_dossiers_pct: Option<f64>,
    /// 3.3: online dossiers / all dossiers, percent.
    pub online_pct: Option<f64>,
    /// 5.4: 100 % − late share of resolved − share of resolved with feedback or disliked.
    pub satisfaction_pct: Option<f64>,
    /// 1.4: dossiers with a message the national portal acknowledged (the delivery ledger) /
    /// dossiers received, percent; also 3.3's synchronisation factor.
    pub synced_pct: Option<f64>,
    /// 3.1: procedures offered as an online service / procedures, from the store's services.
    pub procedures_online_pct: Option<f64>,
    /// 3.5: fee-bearing online services whose fees can be paid online / fee-bearing online
    /// services (from the store's services).
    pub payment_integrated_pct: Option<f64>,
    /// 3.6: dossiers of fee-bearing procedures paid online / dossiers of fee-bearing procedures.
    pub paid_online_pct: Option<f64>,
    /// 4.1: dossiers whose result was issued electronically / dossiers that issued a result.
    pub e_result_pct: Option<f64>,
    /// 4.2: dossiers digitised (a document digitised and an electronic result) / dossiers.
    pub digitised_pct: Option<f64>,
    /// 4.3: dossiers reusing data (a document satisfied from the warehouse) / dossiers.
    pub reused_pct: Option<f64>,
    /// 4.4: digitised dossiers with a document from the warehouse / digitised dossiers.
    pub digitised_reused_pct: Option<f64>,
    /// 4.5: dossiers whose applicant signed in through VNeID / dossiers with an applicant.
    pub vneid_pct: Option<f64>,
    /// 5.1: feedback classified (regulation or policy, procedure, officer's conduct) / feedback
    /// received.
    pub feedback_classified_pct: Option<f64>,
    /// 5.2: feedback handled in time / feedback received (open ones judged at the instant).
    pub feedback_on_time_pct: Option<f64>,
    /// 5.3: (feedback − unsatisfied, followed up or late) / feedback.
    pub feedback_satisfaction_pct: Option<f64>,
}

/// The label of 3.3's value before its synchronisation factor.
pub const WITHOUT_SYNC_FACTOR: &str = "online share before the synchronisation factor";

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The label of 2.1's province convention (resolved dossiers only), shown beside the
/// decision's formula.
pub const PROVINCE_CONVENTION: &str = "province convention: early or on time ÷ resolved";

/// One row of the indicator table: id, name, threshold, maximum, source, needs.
struct Spec {
    id: &'static str,
    name: &'static str,
    threshold: f64,
    max: Option<f64>,
    source: &'static str,
    needs: &'static str,
}

const fn spec(
    id: &'static str,
    name: &'static str,
    threshold: f64,
    max: Option<f64>,
    source: &'static str,
    needs: &'static str,
) -> Spec {
    Spec { id, name, threshold, max, source, needs }
}

const NOT_IN_DOSSIERS: &str = "needs data outside the dossiers";

/// Where every indicator's formula comes from.
pub const FORMULA_SOURCE: &str =
    "Decision 766/QĐ-TTg; formulas as the Government Office's description of them gives them [P] (docs/indicators.md §2)";

/// Each indicator's formula ([`Indicator::formula`]).
fn formula(id: &str) -> &'static str {
    match id {
        "1.1" => "procedures published on time ÷ procedures published",
        "1.2" => "procedures updated and published on the portal on time ÷ procedures",
        "1.3" => "procedures published with all their components ÷ procedures published",
        "1.4" => "dossiers synchronised to the national portal ÷ dossiers received",
        "2.1" => "(resolved early or on time + open in time) ÷ (resolved + open); more than one supplement request counts late",
        "2.2" => "mean working days from receipt to result (informational)",
        "3.1" => "procedures offered as online services ÷ procedures",
        "3.2" => "online services with at least one online dossier ÷ online services",
        "3.3" => "online dossiers ÷ dossiers, times the synchronisation rate",
        "3.5" => "fee-bearing online services payable online ÷ fee-bearing online services",
        "3.6" => "dossiers paid online (national platform or a provincial gateway) ÷ dossiers of fee-bearing procedures",
        "4.1" => "dossiers with an electronic result ÷ dossiers that issued a result",
        "4.2" => "dossiers with a digitised component and an electronic result ÷ dossiers",
        "4.3" => "dossiers reusing digitised data (a component from the warehouse) ÷ dossiers",
        "4.4" => "digitised dossiers with a component from the citizen's warehouse ÷ digitised dossiers",
        "4.5" => "dossiers whose applicant signed in with VNeID (or whose data came from the population database) ÷ dossiers",
        "5.1" => "feedback classified (regulation or policy, procedure, officer's conduct) ÷ feedback received",
        "5.2" => "feedback handled in time (rejected ≤ 2, answered ≤ 15, published ≤ 2 working days; open: within 15) ÷ feedback",
        "5.3" => "(feedback − rated unsatisfied, followed up or late) ÷ feedback",
        "5.4" => "100 % − (late share + share with feedback or disliked), of resolved dossiers",
        _ => "",
    }
}

/// The groups of QĐ 766 (docs/indicators.md §1 [V]) with their indicators (§4.2). The numbering of
/// indicators follows the formula description (S11): 3.x online services, 4.x digitisation;
/// §4.1 lists digitisation as group 3 and online services as group 4 — both have 22 points,
/// so the totals do not depend on it.
const GROUPS: [(u8, &str, f64, &[Spec]); 5] = [
    (
        1,
        "Công khai, minh bạch",
        18.0,
        &[
            spec(
                "1.1",
                "Tỷ lệ TTHC công bố đúng hạn",
                100.0,
                None,
                "points not verified",
                "needs publication dates of procedure decisions",
            ),
            spec(
                "1.2",
                "Tỷ lệ TTHC được cập nhật, công khai đúng hạn",
                100.0,
                Some(4.0),
                "4 points [P] (docs/indicators.md §2)",
                "needs publication dates on the portal",
            ),
            spec(
                "1.3",
                "Tỷ lệ TTHC công khai đầy đủ bộ phận tạo thành",
                100.0,
                None,
                "points not verified",
                "needs the published components of each procedure",
            ),
            spec(
                "1.4",
                "Tỷ lệ hồ sơ đồng bộ lên Cổng DVC quốc gia",
                100.0,
                None,
                "points not verified (6 often quoted); dossiers with an acknowledged message ÷ dossiers received",
                "needs the delivery ledger: nothing was delivered to the national portal yet (run the sync worker)",
            ),
        ],
    ),
    (
        2,
        "Tiến độ, kết quả giải quyết",
        20.0,
        &[
            spec(
                "2.1",
                "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
                100.0,
                Some(20.0),
                "Decision 766's formula: resolved and open dossiers, more than one supplement late (docs/indicators.md §2); max 20 points [P]; linear up to 100 % (assumption)",
                "",
            ),
            spec(
                "2.2",
                "Thời gian giải quyết TTHC trung bình",
                100.0,
                Some(0.0),
                "informational, no points (docs/indicators.md §2); see avg_resolution_working_days per procedure",
                "informational, not scored: the average per procedure is in the by-procedure rows",
            ),
        ],
    ),
    (
        3,
        "Cung cấp dịch vụ trực tuyến",
        22.0,
        &[
            spec(
                "3.1",
                "Tỷ lệ TTHC cung cấp DVCTT",
                80.0,
                None,
                "threshold 80 % [P]; points not verified",
                "needs the service level of every procedure (the store's published services)",
            ),
            spec(
                "3.2",
                "Tỷ lệ DVCTT có phát sinh hồ sơ",
                100.0,
                Some(4.0),
                "services with ≥ 1 online dossier / services offered (docs/indicators.md §2); threshold and 4 points assumed",
                "needs the number of online services offered (--services N)",
            ),
            spec(
                "3.3",
                "Tỷ lệ hồ sơ trực tuyến",
                50.0,
                Some(4.0),
                "threshold 50 % [P]; max points assumed 4 (not verified)",
                "",
            ),
            spec(
                "3.5",
                "Tỷ lệ TTHC có nghĩa vụ tài chính tích hợp thanh toán trực tuyến",
                80.0,
                None,
                "threshold 80 % [P]; points not verified",
                "needs payment integration of fee-bearing procedures",
            ),
            spec(
                "3.6",
                "Tỷ lệ hồ sơ thanh toán trực tuyến",
                100.0,
                None,
                "points not verified",
                "needs online payments of fee-bearing dossiers",
            ),
        ],
    ),
    (
        4,
        "Số hóa hồ sơ",
        22.0,
        &[
            spec(
                "4.1",
                "Tỷ lệ hồ sơ có cấp kết quả điện tử",
                100.0,
                None,
                "points not verified",
                "needs the results dossiers issued (electronic or paper)",
            ),
            spec(
                "4.2",
                "Tỷ lệ hồ sơ thực hiện số hóa",
                80.0,
                None,
                "threshold 80 % [P]; points not verified",
                "needs the documents received with each dossier",
            ),
            spec(
                "4.3",
                "Tỷ lệ khai thác, sử dụng lại dữ liệu số hóa",
                80.0,
                None,
                "threshold 80 % [P]; points not verified",
                "needs the documents received with each dossier",
            ),
            spec(
                "4.4",
                "Tỷ lệ hồ sơ số hóa có kết nối, chia sẻ",
                100.0,
                None,
                "points not verified",
                "needs digitised dossiers and their reused documents",
            ),
            spec(
                "4.5",
                "Ứng dụng dữ liệu dân cư",
                100.0,
                None,
                "points not verified",
                "needs the applicants of the dossiers (VNeID sign-in)",
            ),
        ],
    ),
    (
        5,
        "Mức độ hài lòng",
        18.0,
        &[
            spec(
                "5.1",
                "Tỷ lệ phản ánh, kiến nghị theo phân loại",
                100.0,
                Some(5.0),
                "5 points [P, unofficial tool], linear to 100 % (assumed); feedback classified ÷ feedback received [P, Government Office formula description]",
                "needs feedback (PAKN) records",
            ),
            spec(
                "5.2",
                "Tiến độ xử lý phản ánh, kiến nghị (xử lý đúng hạn)",
                100.0,
                Some(5.0),
                "5 points [P, unofficial tool], linear to 100 % (assumed); rejected ≤ 2, answered ≤ 15, published ≤ 2 working days [P, Government Office formula description]",
                "needs feedback (PAKN) records",
            ),
            spec(
                "5.3",
                "Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị",
                100.0,
                Some(2.0),
                "2 points [P, unofficial tool], linear to 100 % (assumed); (feedback − unsatisfied, followed up or late) ÷ feedback [P, Government Office formula description]",
                "needs feedback (PAKN) records",
            ),
            spec(
                "5.4",
                "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC",
                90.0,
                Some(6.0),
                "max 6 points, threshold 90 % [P]; 100 % less the late share and the share with a feedback record or disliked, of resolved dossiers",
                "",
            ),
        ],
    ),
];

/// How to read the scaled score.
pub const RATING_NOTE: &str = "scaled_score = points of the measured indicators / their maximum × 100, \
rated with the QĐ 766 bands (≥ 90 xuất sắc and < 50 yếu [V]; 80/70/50 edges not verified). It is not \
the official total, which needs every indicator.";

impl Scorecard {
    /// The scorecard of what `m` measures; everything else is listed as not measured.
    pub fn of(m: &Measures) -> Scorecard {
        let value = |id: &str| match id {
            "2.1" => m.early_or_on_time_pct,
            "3.2" => m.services_with_online_dossiers_pct,
            // 3.3 is the online share times the synchronisation rate (docs/indicators.md §2).
            "3.3" => m.online_pct.map(|o| m.synced_pct.map_or(o, |sync| round2(o * sync / 100.0))),
            "1.4" => m.synced_pct,
            "3.1" => m.procedures_online_pct,
            "3.5" => m.payment_integrated_pct,
            "3.6" => m.paid_online_pct,
            "4.1" => m.e_result_pct,
            "4.2" => m.digitised_pct,
            "4.3" => m.reused_pct,
            "4.4" => m.digitised_reused_pct,
            "4.5" => m.vneid_pct,
            "5.1" => m.feedback_classified_pct,
            "5.2" => m.feedback_on_time_pct,
            "5.3" => m.feedback_satisfaction_pct,
            "5.4" => m.satisfaction_pct,
            _ => None,
        };
        let groups: Vec<Group> = GROUPS
            .iter()
            .map(|&(id, name, max_points, specs)| {
                let indicators: Vec<Indicator> = specs
                    .iter()
                    .map(|s| {
                        let v = value(s.id);
                        let points = match (v, s.max) {
                            (Some(v), Some(max)) if max > 0.0 => Some(round2((v / s.threshold).min(1.0) * max)),
                            _ => None,
                        };
                        Indicator {
                            id: s.id,
                            name: s.name,
                            value_pct: v,
                            threshold_pct: s.threshold,
                            max_points: s.max,
                            points,
                            points_source: s.source,
                            formula: formula(s.id),
                            needs: v.is_none().then_some(if s.needs.is_empty() { NOT_IN_DOSSIERS } else { s.needs }),
                            beside: match s.id {
                                "2.1" => m.early_or_on_time_province_pct.map(|p| (PROVINCE_CONVENTION, p)),
                                "3.3" => m.synced_pct.and(m.online_pct).map(|o| (WITHOUT_SYNC_FACTOR, o)),
                                _ => None,
                            },
                        }
                    })
                    .collect();
                let measured = indicators.iter().filter(|i| i.measured());
                let points = round2(measured.clone().filter_map(|i| i.points).fold(0.0, |a, b| a + b));
                let measured_max = measured.filter_map(|i| i.max_points).fold(0.0, |a, b| a + b);
                Group { id, name, max_points, indicators, points, measured_max }
            })
            .collect();
        let points = round2(groups.iter().map(|g| g.points).fold(0.0, |a, b| a + b));
        let measured_max = groups.iter().map(|g| g.measured_max).fold(0.0, |a, b| a + b);
        let all = groups.iter().flat_map(|g| &g.indicators);
        let measured = all.clone().filter(|i| i.measured()).count();
        let indicators = all.count();
        let scaled_score = (measured_max > 0.0).then(|| round2(points / measured_max * 100.0));
        Scorecard {
            groups,
            points,
            measured_max,
            measured,
            indicators,
            scaled_score,
            rating: scaled_score.map(Rating::of),
            rating_note: RATING_NOTE,
        }
    }

    /// The measured indicators, in order.
    pub fn measured_indicators(&self) -> impl Iterator<Item = &Indicator> {
        self.groups.iter().flat_map(|g| &g.indicators).filter(|i| i.measured())
    }

    /// An indicator by id.
    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.groups.iter().flat_map(|g| &g.indicators).find(|i| i.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ninh_thuan() -> Measures {
        Measures {
            early_or_on_time_pct: Some(99.35),
            early_or_on_time_province_pct: Some(99.35),
            synced_pct: None,
            procedures_online_pct: None,
            payment_integrated_pct: None,
            paid_online_pct: None,
            e_result_pct: None,
            digitised_pct: None,
            reused_pct: None,
            digitised_reused_pct: None,
            vneid_pct: None,
            services_with_online_dossiers_pct: Some(33.29),
            online_pct: Some(83.26),
            satisfaction_pct: Some(99.35),
            ..Measures::default()
        }
    }

    #[test]
    fn groups_add_up_to_one_hundred_points() {
        let s = Scorecard::of(&Measures::default());
        let total: f64 = s.groups.iter().map(|g| g.max_points).sum();
        assert_eq!(total, 100.0);
        assert_eq!(s.groups.iter().map(|g| g.max_points).collect::<Vec<_>>(), [18.0, 20.0, 22.0, 22.0, 18.0]);
        // Nothing measured: no score, no rating, every indicator says what it needs.
        assert_eq!((s.measured, s.scaled_score, s.rating), (0, None, None));
        assert!(s.groups.iter().flat_map(|g| &g.indicators).all(|i| i.needs.is_some()));
        // Every indicator says what it measures.
        assert!(s.groups.iter().flat_map(|g| &g.indicators).all(|i| !i.formula.is_empty()));
        // Group 5's known maxima add up to its 18 points.
        let g5: f64 = s.groups[4].indicators.iter().filter_map(|i| i.max_points).sum();
        assert_eq!(g5, 18.0);
    }

    #[test]
    fn measured_indicators_score_by_threshold() {
        let s = Scorecard::of(&ninh_thuan());
        let ids: Vec<&str> = s.measured_indicators().map(|i| i.id).collect();
        assert_eq!(ids, ["2.1", "3.2", "3.3", "5.4"]);
        assert_eq!(s.indicator("2.1").unwrap().points, Some(19.87));
        assert_eq!(s.indicator("3.2").unwrap().points, Some(1.33));
        // Above the threshold: full points.
        assert_eq!(s.indicator("3.3").unwrap().points, Some(4.0));
        assert_eq!(s.indicator("5.4").unwrap().points, Some(6.0));
        assert_eq!((s.points, s.measured_max), (31.2, 34.0));
        assert_eq!(s.scaled_score, Some(91.76));
        assert_eq!(s.rating, Some(Rating::Excellent));
        // 2.2 is informational: listed, never scored.
        assert_eq!(s.indicator("2.2").unwrap().points, None);
    }

    #[test]
    fn rating_bands() {
        let bands: Vec<&str> = [100.0, 90.0, 89.99, 80.0, 79.0, 70.0, 69.0, 50.0, 49.99, 0.0]
            .into_iter()
            .map(|s| Rating::of(s).label())
            .collect();
        assert_eq!(
            bands,
            ["xuất sắc", "xuất sắc", "tốt", "tốt", "khá", "khá", "trung bình", "trung bình", "yếu", "yếu"]
        );
    }
}
