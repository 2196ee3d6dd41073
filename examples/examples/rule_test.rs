//! A procedure author's rule test in Rust: a province's own procedure and a scenario that
//! pins its deadlines, as files, run by the same runner as `motcua test` (so the test can live
//! in the author's `cargo test`). A failing expectation is reported with its file and line.
//!
//! `cargo run -p motcua-examples --example rule_test`

use motcua_catalog::Runner;

/// A provincial procedure: 5 working days, in two steps (a made-up code, 9.9xxxxx).
const PROCEDURE: &str = r#"
[[procedure]]
code = "9.990001"
name = "Cấp giấy phép tổ chức lễ hội (thí điểm)"
sector = "Văn hóa"
level = "province"
online = "full"
limit = "5 working days"
limit_source = "the province's decision (example)"

[[procedure.step]]
id = "tham-dinh"
name = "Thẩm định"
agency = "so-van-hoa"
role = "specialist"
allotment = "4 working days"

[[procedure.step]]
id = "ky"
name = "Ký giấy phép"
agency = "so-van-hoa"
role = "leader"
allotment = "1 working day"
after = ["tham-dinh"]
"#;

/// Received on Friday 31/1/2025 after 15:00: the clock starts when the office opens on Monday
/// 3/2 (the cut-off, Decree 61/2018/NĐ-CP Art. 18), and five working days end at the close of
/// Friday 7/2. Change an expectation and the runner names the file, the line and what it got.
const SCENARIO: &str = r#"
name = "Lễ hội: nhận sau 15:00 thứ Sáu, hạn tính từ sáng thứ Hai"
procedure = "9.990001"

[[step]]
at = "2025-01-31T15:30"
do = "receive"
expect = { clock_start = "2025-02-03T07:00", due = "2025-02-07T17:00" }

[[step]]
at = "2025-02-03T08:00"
do = "start_step"
step = "tham-dinh"

[[step]]
at = "2025-02-06T16:00"
do = "complete_step"
step = "tham-dinh"
expect = { status = "in_progress" }

[[step]]
at = "2025-02-07T10:00"
do = "start_step"
step = "ky"

[[step]]
at = "2025-02-07T11:00"
do = "complete_step"
step = "ky"

[[step]]
at = "2025-02-07T11:30"
do = "finish"
decision = "approved"
expect = { outcome = "on_time" }
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The author's folder: procedures beside scenarios, as in seeds/.
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("procedures"))?;
    std::fs::create_dir_all(dir.path().join("scenarios"))?;
    std::fs::write(dir.path().join("procedures/le-hoi.toml"), PROCEDURE)?;
    std::fs::write(dir.path().join("scenarios/le-hoi-sau-15h.toml"), SCENARIO)?;
    let summary = Runner::new().run_path(&dir.path().join("scenarios"));
    for problem in &summary.broken {
        println!("broken: {problem}");
    }
    for report in &summary.reports {
        for failure in &report.failures {
            println!("failed: {failure}");
        }
    }
    println!("{} passed, {} failed", summary.passed(), summary.failed());
    if summary.failed() > 0 || !summary.broken.is_empty() {
        return Err("the procedure's rule test failed".into());
    }
    Ok(())
}
