//! The `motcua` binary as a user runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn motcua(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua")).args(args).output().unwrap()
}

fn motcua_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A fresh folder for one test, removed when it drops (reads as a `Path`).
struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl AsRef<std::path::Path> for Scratch {
    fn as_ref(&self) -> &std::path::Path {
        self.0.path()
    }
}

fn temp_dir(name: &str) -> Scratch {
    Scratch(tempfile::Builder::new().prefix(&format!("motcua-cli-{name}-")).tempdir().unwrap())
}

#[test]
fn due_single_text() {
    let o = motcua(&["due", "--received", "2025-01-24T16:40", "--limit", "3 working days"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("clock start  2025-02-03T07:00+07:00 (Mon)"), "{out}");
    assert!(out.contains("due          2025-02-05T17:00+07:00 (Wed)"), "{out}");
}

#[test]
fn due_single_json_and_rfc3339_input() {
    let o = motcua(&["due", "--received", "2024-05-03T09:00:00Z", "--limit", "1 working day", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // 09:00Z is 16:00 local: after the cut-off, so the make-up Saturday 4/5/2024.
    assert_eq!(v["clock_start"], "2024-05-04T07:00+07:00");
    assert_eq!(v["due"], "2024-05-04T17:00+07:00");
    assert_eq!(v["limit"], "1 working day");
}

#[test]
fn due_bad_input_names_the_input() {
    let o = motcua(&["due", "--received", "2025-02-30T10:00", "--limit", "3 working days"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--received") && stderr(&o).contains("2025-02-30T10:00"), "{}", stderr(&o));
    let o = motcua(&["due", "--received", "2025-01-24T10:00", "--limit", "3 fortnights"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown unit \"fortnights\""), "{}", stderr(&o));
    let o = motcua(&["due", "--received", "2025-01-24T10:00", "--limit", "0.3 working days"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("multiple of 0.25"), "{}", stderr(&o));
    let o = motcua(&["due", "--received", "1999-01-04T10:00", "--limit", "1 working day"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("outside"), "{}", stderr(&o));
    let o = motcua(&["due", "--limit", "1 working day"]);
    assert_eq!(o.status.code(), Some(2));
}

const BATCH: &str = "received,limit
2025-01-24T16:40,3 working days
2024-04-26T14:00,2 working days
2024-05-03T16:00,1 working day
2025-03-29T10:00,30 days
2025-03-04T09:00,same day
2025-03-04T09:00,no due time
";

const BATCH_OUT: &str = "received,limit,clock_start,due
2025-01-24T16:40,3 working days,2025-02-03T07:00,2025-02-05T17:00
2024-04-26T14:00,2 working days,2024-04-26T14:00,2024-05-03T14:00
2024-05-03T16:00,1 working day,2024-05-04T07:00,2024-05-04T17:00
2025-03-29T10:00,30 days,2025-03-31T07:00,2025-05-05T17:00
2025-03-04T09:00,same day,2025-03-04T09:00,2025-03-04T17:00
2025-03-04T09:00,no due time,2025-03-04T09:00,
";

#[test]
fn due_batch_from_file_and_stdin() {
    let dir = temp_dir("batch");
    let file = dir.join("in.csv");
    std::fs::write(&file, BATCH).unwrap();
    let o = motcua(&["due", "--batch", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), BATCH_OUT);
    let o = motcua_stdin(&["due", "--batch", "-"], BATCH);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), BATCH_OUT);
}

#[test]
fn due_batch_bad_rows_are_reported_with_lines_and_nothing_is_printed() {
    let input = "received,limit
2025-01-24T16:40,3 working days
2025-13-01T10:00,3 working days
2025-01-24T16:40,3 weeks
2025-01-24T16:40,-1 working days
2025-01-24T16:40,1 working day
";
    let o = motcua_stdin(&["due", "--batch", "-"], input);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "", "no partial output");
    let err = stderr(&o);
    assert!(err.contains("<stdin>:3: invalid time \"2025-13-01T10:00\""), "{err}");
    assert!(err.contains("<stdin>:4: invalid time limit \"3 weeks\""), "{err}");
    assert!(err.contains("<stdin>:5: invalid time limit \"-1 working days\""), "{err}");
    assert!(err.contains("3 bad row(s)"), "{err}");
    let o = motcua_stdin(&["due", "--batch", "-"], "when,limit\n2025-01-24T16:40,1 day\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("header must be exactly `received,limit`"), "{}", stderr(&o));
    let o = motcua_stdin(&["due", "--batch", "-"], "received,limit\n2025-01-24T16:40\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("<stdin>:2"), "{}", stderr(&o));
}

#[test]
fn calendar_csv() {
    let o = motcua(&["calendar", "--year", "2024", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "date,weekday,working,kind,name,lunar");
    assert_eq!(lines.len(), 1 + 366);
    assert!(lines.contains(&"2024-05-04,Sat,true,make_up,Làm bù cho thứ Hai 29/4/2024,2024-03-26"));
    assert!(lines.contains(&"2024-04-29,Mon,false,notice,Nghỉ hoán đổi (làm bù thứ Bảy 4/5/2024),2024-03-21"));
    assert!(lines.contains(&"2024-02-10,Sat,false,weekend,,2024-01-01"));
    let o = motcua(&["calendar", "--year", "2025", "--format", "csv"]);
    let out = stdout(&o);
    // 2025 has a leap sixth month.
    assert!(out.contains("2025-07-25,Fri,true,working,,2025-06L-01"), "{out}");
}

#[test]
fn calendar_json_and_text() {
    let o = motcua(&["calendar", "--year", "2026", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["status"], "official");
    assert_eq!(v["days"].as_array().unwrap().len(), 365);
    let nov24 = v["days"].as_array().unwrap().iter().find(|d| d["date"] == "2026-11-24").unwrap();
    assert_eq!(nov24["kind"], "holiday");
    assert_eq!(nov24["name"], "Ngày Văn hóa Việt Nam");
    let o = motcua(&["calendar", "--year", "2026", "--format", "json", "--no-culture-day"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let nov24 = v["days"].as_array().unwrap().iter().find(|d| d["date"] == "2026-11-24").unwrap();
    assert_eq!(nov24["working"], true);
    let o = motcua(&["calendar", "--year", "2028"]);
    assert!(stdout(&o).starts_with("2028: projected"), "{}", stdout(&o));
}

#[test]
fn user_notices_extend_without_recompiling() {
    let dir = temp_dir("notices");
    std::fs::write(
        dir.join("2027.toml"),
        r#"year = 2027
summary = "test"
[[reference]]
id = "TB test"
title = "a test notice"
[[day_off]]
date = "2027-04-30"
name = "x"
reference = "TB test"
"#,
    )
    .unwrap();
    // 30/4/2027 is already a holiday: the notice is rejected with its file and line.
    let o = motcua(&["calendar", "--year", "2027", "--notices", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("2027.toml:7: day_off: 2027-04-30 is already a day off"), "{}", stderr(&o));
    std::fs::write(
        dir.join("2027.toml"),
        r#"year = 2027
[[reference]]
id = "TB test"
title = "a test notice"
[[day_off]]
date = "2027-05-03"
name = "Nghỉ hoán đổi"
reference = "TB test"
[[working_day]]
date = "2027-05-08"
name = "Làm bù"
reference = "TB test"
"#,
    )
    .unwrap();
    let o = motcua(&["calendar", "--year", "2027", "--format", "csv", "--notices", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2027-05-03,Mon,false,notice,Nghỉ hoán đổi,"));
    assert!(stdout(&o).contains("2027-05-08,Sat,true,make_up,Làm bù,"));
    let o = motcua(&["calendar", "--year", "2027", "--notices", "/nonexistent/dir"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn province_hours_file() {
    let dir = temp_dir("hours");
    let file = dir.join("hours.toml");
    std::fs::write(&file, "name = \"Test\"\ncutoff = \"none\"\nsessions = [\"07:30-11:30\", \"13:00-17:00\"]\n")
        .unwrap();
    let o = motcua(&[
        "due",
        "--received",
        "2025-03-04T16:30",
        "--limit",
        "1 working hour",
        "--hours",
        file.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "received,limit,clock_start,due\n2025-03-04T16:30,1 working hour,2025-03-04T16:30,2025-03-05T08:00\n"
    );
    std::fs::write(&file, "name = \"Test\"\nsessions = [\"07:30-11:30\", \"11:00-17:00\"]\n").unwrap();
    let o = motcua(&[
        "due",
        "--received",
        "2025-03-04T16:30",
        "--limit",
        "1 working hour",
        "--hours",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("hours.toml:2: sessions"), "{}", stderr(&o));
}

#[test]
fn help_and_unknown_commands() {
    let o = motcua(&["--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("calendar"));
    let o = motcua(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../seeds")
}

#[test]
fn test_and_check_the_seeds() {
    let o = motcua(&["test", seeds().join("scenarios").to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let last = stdout(&o).lines().last().unwrap().to_string();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let o = motcua(&["check", seeds().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn failing_and_broken_scenarios_exit_1_and_2() {
    let dir = temp_dir("scenarios");
    let catalog = seeds().join("procedures");
    let scenario = |expect: &str| {
        format!(
            "name = \"t\"\nprocedure = \"1.000894\"\ncatalog = \"{}\"\n[[step]]\nat = \"2025-03-04T15:00\"\ndo = \"receive\"\nexpect = {{ due = \"{expect}\" }}\n",
            catalog.display()
        )
    };
    std::fs::write(dir.join("ok.toml"), scenario("2025-03-04T17:00")).unwrap();
    std::fs::write(dir.join("wrong.toml"), scenario("2025-03-05T17:00")).unwrap();
    let o = motcua(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("wrong.toml:4: due: expected 2025-03-05T17:00, got 2025-03-04T17:00"), "{out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
    std::fs::write(
        dir.join("broken.toml"),
        "name = \"t\"\nprocedure = \"1.000894\"\n[[step]]\nat = \"x\"\ndo = \"receive\"\n",
    )
    .unwrap();
    let o = motcua(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.toml:4: at: invalid time"), "{}", stderr(&o));
    let o = motcua(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    // Files that are not scenarios at all are named too, never skipped: one not TOML, one whose
    // procedure code is an unquoted number.
    std::fs::remove_file(dir.join("broken.toml")).unwrap();
    std::fs::remove_file(dir.join("wrong.toml")).unwrap();
    std::fs::write(dir.join("not-toml.toml"), "name = \"x\nprocedure = \"1.000894\"\n").unwrap();
    std::fs::write(
        dir.join("unquoted.toml"),
        "name = \"u\"\nprocedure = 1.000894\n[[step]]\nat = \"2025-03-04T09:00\"\ndo = \"receive\"\n",
    )
    .unwrap();
    let o = motcua(&["test", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("not-toml.toml:1") && err.contains("unquoted.toml:"), "{err}");
    assert!(err.contains("2 broken file(s)"), "{err}");
    assert!(stdout(&o).ends_with("1 passed, 0 failed\n"), "{}", stdout(&o));
}

fn write_store(path: &std::path::Path) {
    use motcua_calendar::{Limit, WorkCalendar};
    use motcua_core::{Channel, Command, DossierCode, Procedure};
    use motcua_engine::{Actor, ActorRole, Engine, Request};
    let calendar = WorkCalendar::builder().years(2025, 2025).build().unwrap();
    let procedure = Procedure::simple("1.004194".parse().unwrap(), "Đăng ký tạm trú", Limit::working_days(3));
    let mut e = Engine::new(motcua_store_sqlite::SqliteStore::open(path).unwrap(), [procedure], calendar);
    let date = chrono::NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    for n in 1..=3 {
        let r = Request {
            dossier: DossierCode::new("H42.12".parse().unwrap(), date, n),
            command: Command::Receive {
                case: None,
                procedure: "1.004194".parse().unwrap(),
                channel: Channel::Online,
                jurisdiction: None,
                applicant: None,
                documents: Vec::new(),
            },
            actor: Actor::officer("clerk", ActorRole::Clerk, "H42.12"),
            idempotency_key: None,
            now: "2025-03-03T09:00".parse().unwrap(),
            on_behalf_of: None,
            intent: Default::default(),
        };
        e.handle(&r).unwrap();
    }
}

#[test]
fn verify_and_dossier_on_a_sqlite_store() {
    let dir = temp_dir("store");
    let path = dir.join("s.sqlite");
    write_store(&path);
    let spec = format!("sqlite:{}", path.display());
    let o = motcua(&["verify", "--store", &spec]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: 3 dossiers, 3 events"), "{}", stdout(&o));
    let o = motcua(&["dossier", "--store", &spec, "H42.12-250303-0002"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("due        2025-03-06T09:00+07:00"), "{}", stdout(&o));
    // Who did it, from inside the hash.
    assert!(stdout(&o).contains("received                         clerk (clerk, H42.12)"), "{}", stdout(&o));
    let o = motcua(&["dossier", "--store", &spec, "H42.12-250303-0002", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["events"][0]["event"]["event"], "received");
    assert_eq!(v["events"][0]["actor"]["id"], "clerk");
    let o = motcua(&["dossier", "--store", &spec, "H42.12-250303-0009"]);
    assert_eq!(o.status.code(), Some(2));
    // Edit one byte of the stored events (the procedure code, wherever the file holds it):
    // verify fails and names the dossier and event.
    let mut bytes = std::fs::read(&path).unwrap();
    let hits: Vec<usize> = bytes.windows(8).enumerate().filter(|(_, w)| w == b"1.004194").map(|(i, _)| i).collect();
    assert!(!hits.is_empty());
    for at in hits {
        bytes[at + 7] = b'5';
    }
    std::fs::write(&path, &bytes).unwrap();
    let o = motcua(&["verify", "--store", &spec]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("FAULT: H42.12-250303-000"), "{}", stdout(&o));
    let o = motcua(&["verify", "--store", "postgres://x"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Ninh Thuận's profile with counts divided by 100, written beside a copy of nothing else: the
/// catalog is passed with --catalog.
fn small_profile(dir: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string(seeds().join("profiles/ninh-thuan-2023.toml")).unwrap();
    let text = text
        .replace("received = 328508", "received = 3285")
        .replace("online = 273500", "online = 2735")
        .replace("resolved = 324770", "resolved = 3247")
        .replace("early_or_on_time = 322647", "early_or_on_time = 3226")
        .replace("\"../units/", &format!("\"{}/", seeds().join("units").display()))
        .replace("\"../digitisation/", &format!("\"{}/", seeds().join("digitisation").display()));
    let path = dir.join("small.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn simulate_reports_the_profile_totals_as_json() {
    let dir = temp_dir("simulate");
    let profile = small_profile(&dir);
    let catalog = seeds().join("procedures");
    let cat = catalog.to_str().unwrap();
    let args = [
        "simulate",
        "--profile",
        profile.to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
        "--json",
        "--seed",
        "3",
    ];
    let o = motcua(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["dossiers"]["received"], 3285);
    assert_eq!(v["dossiers"]["online"], 2735);
    assert_eq!(v["dossiers"]["resolved"], 3247);
    assert_eq!(v["dossiers"]["early_or_on_time"], 3226);
    assert_eq!(v["rates"]["early_or_on_time_pct"], 99.35);
    assert!(v["throughput"]["events"].as_u64().unwrap() > 0);
    assert!(v["throughput"]["events_per_second"].is_number());
    assert!(v["throughput"]["seconds"].is_number());
    // Same seed, same output apart from the throughput fields.
    let again: serde_json::Value = serde_json::from_str(&stdout(&motcua(&args))).unwrap();
    assert_eq!(again["dossiers"], v["dossiers"]);
    assert_eq!(again["throughput"]["events"], v["throughput"]["events"]);
    // On SQLite, then verified.
    let db = dir.join("year.sqlite");
    let spec = format!("sqlite:{}", db.display());
    let mut sqlite_args = args.to_vec();
    sqlite_args.extend(["--store", &spec]);
    let o = motcua(&sqlite_args);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = motcua(&sqlite_args);
    assert_eq!(o.status.code(), Some(2), "refuses to overwrite without --overwrite");
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    let o = motcua(&["verify", "--store", &spec]);
    assert!(o.status.success(), "{}", stdout(&o));
    // The expiry sweep a year on records the certificates of marital status (six months) as
    // expired, events that verify; a second run records none.
    let sweep = ["expire", "--store", &spec, "--at", "2024-12-31T12:00", "--catalog", cat];
    let o = motcua(&sweep);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.lines().any(|l| l.starts_with("expired KQ-")), "{out}");
    assert!(!out.trim_end().ends_with(" 0 result(s) recorded as expired at 2024-12-31T12:00+07:00"), "{out}");
    let o = motcua(&sweep);
    assert!(stdout(&o).starts_with("0 result(s) recorded as expired"), "{}", stdout(&o));
    let o = motcua(&["verify", "--store", &spec]);
    assert!(o.status.success(), "{}", stdout(&o));
    // The merger of 1/7/2025: the open dossiers of legacy ward 58.582.22765 handed over to the
    // new ward Phan Rang, each with an event that verifies; a second run moves none; a unit the
    // register lacks is refused with exit 2.
    let units = seeds().join("units/ninh-thuan.toml");
    let units = units.to_str().unwrap();
    let handover = |from: &str| {
        motcua(&[
            "handover",
            "--store",
            &spec,
            "--from",
            from,
            "--to",
            "56.22759",
            "--as-of",
            "2025-07-01T07:30",
            "--units",
            units,
            "--catalog",
            cat,
        ])
    };
    let o = handover("58.582.22765");
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.starts_with("moved ")).count(), 2, "{out}");
    assert!(
        out.trim_end().ends_with(
            "2 open dossier(s) of 58.582.22765 handed over to 56.22759 at 2025-07-01T07:30+07:00; 0 refused"
        ),
        "{out}"
    );
    assert!(stdout(&handover("58.582.22765")).starts_with("0 open dossier(s)"));
    assert_eq!(handover("NOPE").status.code(), Some(2));
    let o = motcua(&["verify", "--store", &spec]);
    assert!(o.status.success(), "{}", stdout(&o));
    // The report recomputes the figures from the stored projections alone.
    let o = motcua(&["report", "--store", &spec, "--format", "json", "--catalog", catalog.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["totals"]["received"], 3285);
    assert_eq!(r["totals"]["online"], 2735);
    assert_eq!(r["totals"]["resolved"], 3247);
    assert_eq!(r["totals"]["early"].as_u64().unwrap() + r["totals"]["on_time"].as_u64().unwrap(), 3226);
    assert_eq!(r["totals"]["early_or_on_time_pct"], 99.35);
    // The whole 766 set is listed, five groups of 100 points; dossiers measure 2.1, 3.3, 5.4,
    // their feedback records 5.1-5.3, and the services the simulator published 3.2 (and 3.1,
    // whose points are not verified).
    let groups = r["scorecard"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 5);
    assert_eq!(groups.iter().map(|g| g["max_points"].as_f64().unwrap()).sum::<f64>(), 100.0);
    assert_eq!(r["scorecard"]["measured"], 7);
    let feedback = &r["feedback"];
    assert!(feedback["received"].as_u64().unwrap() > 0, "{feedback}");
    assert!(feedback["on_time"].as_u64().unwrap() <= feedback["received"].as_u64().unwrap());
    assert_eq!(groups[4]["indicators"][1]["id"], "5.2");
    assert!(groups[4]["indicators"][1]["value_pct"].as_f64().is_some());
    assert_eq!(r["services"]["online"], 829);
    assert_eq!(r["services"]["integrated"], 812);
    assert_eq!(groups[1]["indicators"][0]["id"], "2.1");
    assert_eq!(groups[0]["indicators"][0]["value_pct"], serde_json::Value::Null);
    // A hundredth of the year draws a handful of feedback records, so its group 5 moves the
    // scaled score around the 90 edge: the band follows the score.
    let scaled = r["scorecard"]["scaled_score"].as_f64().unwrap();
    assert!(scaled > 85.0, "{scaled}");
    assert_eq!(r["scorecard"]["rating"], if scaled >= 90.0 { "excellent" } else { "good" });
    assert!(r["totals"]["score_766"].as_f64().unwrap() > 90.0);
    // Lateness by step and agency: every started step is counted once per agency.
    let step_agencies = r["by_step_agency"].as_array().unwrap();
    assert!(!step_agencies.is_empty());
    let started =
        |rows: &serde_json::Value| rows.as_array().unwrap().iter().map(|a| a["started"].as_u64().unwrap()).sum::<u64>();
    assert_eq!(started(&r["by_step"]), started(&r["by_step_agency"]));
    // With the services offered, indicator 3.2: 276 of 829 online services had online dossiers.
    let o = motcua(&[
        "report",
        "--store",
        &spec,
        "--format",
        "json",
        "--catalog",
        catalog.to_str().unwrap(),
        "--services",
        "829",
    ]);
    let r32: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let measured: Vec<&serde_json::Value> = r32["scorecard"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["indicators"].as_array().unwrap())
        .filter(|i| !i["points"].is_null())
        .collect();
    let ids: Vec<&str> = measured.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["2.1", "3.2", "3.3", "5.1", "5.2", "5.3", "5.4"]);
    assert_eq!(measured[1]["value_pct"], 33.29);
    assert_eq!(measured[1]["points"], 1.33);
    // By receiving agency (the simulator receives everything at the province's prefix).
    let agencies = r["by_agency"].as_array().unwrap();
    assert!(agencies.iter().any(|a| a["key"] == "NINHTHUAN"));
    let per_agency: u64 = agencies.iter().map(|a| a["received"].as_u64().unwrap()).sum();
    assert_eq!(per_agency, 3285);
    // The deadline queries read the projection: overdue at the report's instant is the
    // report's count, in every format; a window lists what falls due within it.
    let as_of = "2023-12-31T23:59";
    for at in [as_of, "2023-12-20T10:00"] {
        let o = motcua(&["report", "--store", &spec, "--format", "json", "--as-of", at, "--catalog", cat]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let want = r["totals"]["open_overdue"].as_u64().unwrap();
        let o = motcua(&["deadlines", "--store", &spec, "--as-of", at, "--overdue", "--format", "csv"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.starts_with("code,procedure,agency,status,national,step,step_agency,due,received_at\n"), "{text}");
        assert_eq!(text.lines().count() as u64 - 1, want, "{text}");
        assert!(text.lines().skip(1).all(|l| l.contains("+07:00")), "{text}");
        let o = motcua(&["deadlines", "--store", &spec, "--as-of", at, "--overdue", "--format", "json"]);
        let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(rows.as_array().unwrap().len() as u64, want);
        let o = motcua(&["deadlines", "--store", &spec, "--as-of", at, "--overdue"]);
        assert!(stdout(&o).ends_with(&format!("{want} open dossiers overdue at {}+07:00\n", &at)), "{}", stdout(&o));
    }
    let o = motcua(&["deadlines", "--store", &spec, "--as-of", "2023-12-29T08:00", "--due-within", "2 working days"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("open dossiers due from 2023-12-29T08:00+07:00 to 2024-01-03T08:00+07:00"),
        "{}",
        stdout(&o)
    );
    let o = motcua(&[
        "deadlines",
        "--store",
        &spec,
        "--as-of",
        "2023-12-29T08:00",
        "--agency",
        "NINHTHUAN",
        "--overdue",
        "--due-within",
        "1 day",
    ]);
    assert_eq!(o.status.code(), Some(2), "one view at a time");
    let o = motcua(&["deadlines", "--store", &spec, "--as-of", "yesterday", "--overdue"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--as-of \"yesterday\""), "{}", stderr(&o));
    let o = motcua(&["report", "--store", &spec, "--format", "csv", "--catalog", catalog.to_str().unwrap()]);
    let csv = stdout(&o);
    assert!(csv.starts_with("dimension,key,name,received,online,resolved,early,on_time,late,open,open_overdue,early_or_on_time_pct,early_or_on_time_766_pct,avg_resolution_working_days,score_766\ntotal,all,,3285,2735,3247,"), "{csv}");
    // 2.1 both ways, and by month of completion with the dossiers carried over.
    assert!(csv.contains("\nperiod,2023-12,"), "{csv}");
    // A catalog that does not load is an error, not a report without names.
    let o = motcua(&["report", "--store", &spec, "--catalog", "/nonexistent-motcua-catalog"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("catalog"), "{}", stderr(&o));
    // The province's calendar and quarters.
    let hours = seeds().join("hours/nghe-an.toml");
    let o = motcua(&[
        "report",
        "--store",
        &spec,
        "--catalog",
        cat,
        "--hours",
        hours.to_str().unwrap(),
        "--period",
        "quarter",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("2.1 by quarter of completion") && stdout(&o).contains("2023-Q4"), "{}", stdout(&o));
    assert!(csv.contains("\nmonth,2023-01,"), "{csv}");
    assert!(csv.contains("\nagency,NINHTHUAN,"), "{csv}");
    // Steps resolve through the register to the communes' committees.
    assert!(csv.contains("\nstep_agency,NINHTHUAN.22"), "{csv}");
    // One self-contained page: four inline charts, nothing fetched from anywhere.
    let page = dir.join("report.html");
    let o =
        motcua(&["report", "--store", &spec, "--format", "html", "--out", page.to_str().unwrap(), "--catalog", cat]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"), "self-contained");
    assert!(html.contains("3285"));
    // `simulate --html` writes the same page straight away (here from the memory store).
    let sim_page = dir.join("sim.html");
    let mut html_args = args.to_vec();
    html_args.extend(["--html", sim_page.to_str().unwrap()]);
    let o = motcua(&html_args);
    assert!(o.status.success(), "{}", stderr(&o));
    let sim_html = std::fs::read_to_string(&sim_page).unwrap();
    assert_eq!(sim_html.matches("<svg").count(), 4);
    assert!(sim_html.contains("3285"));
    // The services calibration is in the JSON.
    assert_eq!(v["services"]["online"], 829);
    assert_eq!(v["services"]["with_online_dossiers"], 276);
}

#[test]
fn simulate_rejects_a_bad_profile_naming_the_field() {
    let dir = temp_dir("badprofile");
    let profile = small_profile(&dir);
    let text = std::fs::read_to_string(&profile).unwrap().replace("early_or_on_time = 3226", "early_or_on_time = 3300");
    std::fs::write(&profile, text).unwrap();
    let catalog = seeds().join("procedures");
    let o = motcua(&["simulate", "--profile", profile.to_str().unwrap(), "--catalog", catalog.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("dossiers.early_or_on_time: 3300 is more than dossiers.resolved (3247)"),
        "{}",
        stderr(&o)
    );
}

/// Runs `motcua args` from the repository root with its standard output closed at once.
fn with_stdout_closed(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR").to_owned() + "/../..")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

/// A reader that goes away (`motcua … | head -1`) ends the command quietly: no panic, exit 0.
#[test]
fn a_closed_stdout_is_not_a_crash() {
    let dir = temp_dir("pipe");
    let csv = dir.join("many.csv");
    let mut rows = String::from("received,limit\n");
    for _ in 0..20_000 {
        rows.push_str("2025-03-03T09:00,3 working days\n");
    }
    std::fs::write(&csv, rows).unwrap();
    let out = with_stdout_closed(&["check", "seeds"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = with_stdout_closed(&["due", "--batch", csv.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn reading_commands_never_create_migrate_or_write_a_store() {
    let dir = temp_dir("read-only");
    // An empty file, a foreign SQLite file and a missing path are errors that say so; none of
    // them is changed or created.
    let empty = dir.join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    let foreign = dir.join("foreign.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let missing = dir.join("missing.sqlite");
    for cmd in [
        vec!["verify"],
        vec!["report"],
        vec!["dossier", "H42.12-250303-0001"],
        vec!["deadlines", "--as-of", "2025-03-03T09:00", "--overdue"],
    ] {
        for (path, says) in
            [(&empty, "not a motcua store"), (&foreign, "not a motcua store"), (&missing, "no such file")]
        {
            let spec = format!("sqlite:{}", path.display());
            let mut args = cmd.clone();
            args.extend(["--store", &spec]);
            let o = motcua(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
        }
        let mut args = cmd.clone();
        args.extend(["--store", "sqlite:"]);
        let o = motcua(&args);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("needs a file path"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "the empty file stays empty");
    assert_eq!(std::fs::read(&foreign).unwrap(), before, "the foreign file is untouched");
    assert!(!missing.exists(), "nothing created");
    let o = motcua(&["simulate", "--profile", "x.toml", "--store", "sqlite:"]);
    assert_eq!(o.status.code(), Some(2));
    // A real store reads as before, and its main file is not written by reading it.
    let path = dir.join("s.sqlite");
    write_store(&path);
    let spec = format!("sqlite:{}", path.display());
    let checkpointed = rusqlite::Connection::open(&path).unwrap();
    checkpointed.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    drop(checkpointed);
    let before = std::fs::read(&path).unwrap();
    assert!(motcua(&["verify", "--store", &spec]).status.success());
    assert!(motcua(&["deadlines", "--store", &spec, "--as-of", "2025-03-10T09:00", "--overdue"]).status.success());
    assert_eq!(std::fs::read(&path).unwrap(), before, "reading wrote nothing");
}

/// `motcua serve` on `spec`, listening on a free loopback port: the child and its base URL.
fn serve(spec: &str, secret: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["serve", "--store", spec, "--listen", "127.0.0.1:0", "--secret-file"])
        .arg(secret)
        .arg("--catalog")
        .arg(seeds().join("procedures"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_string();
    (child, url)
}

#[test]
fn serve_and_token_a_clerk_receives_over_http_and_the_dossier_survives_a_restart() {
    let dir = temp_dir("serve");
    let secret = dir.join("secret");
    std::fs::write(&secret, "a server secret of more than sixteen bytes\n").unwrap();
    let o = motcua(&[
        "token",
        "--secret-file",
        secret.to_str().unwrap(),
        "--role",
        "clerk",
        "--agency",
        "H42.12",
        "--actor",
        "clerk-1",
        "--ttl",
        "1h",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bearer = format!("Bearer {}", stdout(&o).trim());
    let short = dir.join("short");
    std::fs::write(&short, "tiny").unwrap();
    assert_eq!(
        motcua(&[
            "token",
            "--secret-file",
            short.to_str().unwrap(),
            "--role",
            "clerk",
            "--agency",
            "H42.12",
            "--actor",
            "x"
        ])
        .status
        .code(),
        Some(2)
    );
    let spec = format!("sqlite:{}", dir.join("portal.sqlite").display());
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let receive = |base: &str| -> serde_json::Value {
        let mut r = agent
            .post(format!("{base}/api/v1/dossiers"))
            .header("Authorization", &bearer)
            .header("Content-Type", "application/json")
            .send(r#"{"procedure": "1.004194", "channel": "direct"}"#)
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    let (mut server, base) = serve(&spec, &secret);
    let first = receive(&base);
    // The due time is `motcua due`'s for the same receipt instant and the procedure's limit.
    let received = first["received_at"].as_str().unwrap();
    let o = motcua(&["due", "--received", received, "--limit", "3 working days", "--format", "json"]);
    let due: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(first["due"], due["due"], "{first} vs {due}");
    // Without a token: 401, as problem+json.
    let r = agent.get(format!("{base}/api/v1/dossiers/{}", first["code"].as_str().unwrap())).call().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let _ = Command::new("kill").args(["-INT", &server.id().to_string()]).status();
    assert!(server.wait().unwrap().success(), "a graceful stop");
    // Restarted: the dossier is there, and the next code is new.
    let (mut server, base) = serve(&spec, &secret);
    let code = first["code"].as_str().unwrap();
    let mut r = agent.get(format!("{base}/api/v1/dossiers/{code}")).header("Authorization", &bearer).call().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let again: serde_json::Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(again["due"], first["due"]);
    let second = receive(&base);
    assert_ne!(second["code"], first["code"]);
    let _ = Command::new("kill").args(["-INT", &server.id().to_string()]).status();
    let _ = server.wait();
    // The stored year verifies.
    assert!(motcua(&["verify", "--store", &spec]).status.success());
}

#[test]
fn hostile_input_ends_in_a_clean_error_naming_it() {
    let dir = temp_dir("hostile");
    // A FIFO named like a scenario: refused by name, not read forever.
    let fifo = dir.join("x.toml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    if made {
        for cmd in ["check", "test"] {
            let o = motcua(&[cmd, dir.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(2), "{cmd}");
            assert!(stderr(&o).contains("x.toml:1: cannot read: not a regular file"), "{cmd}: {}", stderr(&o));
        }
    }
    // A device as office hours.
    if std::path::Path::new("/dev/zero").exists() {
        let o = motcua(&["due", "--received", "2025-03-07T09:00", "--limit", "3 working days", "--hours", "/dev/zero"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("/dev/zero"), "{}", stderr(&o));
    }
    // Scales out of bounds, before anything is allocated.
    let profile = seeds().join("profiles/ninh-thuan-2023.toml");
    for scale in ["0", "18446744073709551615"] {
        let o = motcua(&["simulate", "--profile", profile.to_str().unwrap(), "--scale", scale]);
        assert_eq!(o.status.code(), Some(2), "{scale}");
        assert!(stderr(&o).contains(&format!("--scale {scale}")), "{}", stderr(&o));
    }
    // A profile asking for more dossiers than any simulation may: check and simulate agree.
    let big = dir.join("big-profile");
    std::fs::create_dir_all(&big).unwrap();
    let text = std::fs::read_to_string(&profile).unwrap().replace("received = 328508", "received = 2147483648");
    assert!(text.contains("2147483648"), "the seed profile's received count moved");
    std::fs::write(big.join("p.toml"), text).unwrap();
    let o = motcua(&["check", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("dossiers.received: 2147483648 is more than the 100000000"), "{}", stderr(&o));
    let catalog = seeds().join("procedures");
    let o = motcua(&[
        "simulate",
        "--profile",
        big.join("p.toml").to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("2147483648 is more than the 100000000"), "{}", stderr(&o));
    // Long limits find their due time (the calendar's window follows the limit).
    let o = motcua(&["due", "--received", "2025-03-07T09:00", "--limit", "3650 days", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(",2035-03-05T17:00"), "{}", stdout(&o));
    let o = motcua(&["due", "--received", "2025-03-07T09:00", "--limit", "1000 working days", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// No CCCD or tax code of a simulated year appears in the store file, the simulator's output or
/// any report format: applicants are kept as keyed hashes only.
#[test]
fn no_identifier_of_a_simulated_year_is_stored_or_reported() {
    let dir = temp_dir("identifiers");
    let profile = small_profile(&dir);
    let catalog = seeds().join("procedures");
    let cat = catalog.to_str().unwrap();
    let db = dir.join("year.sqlite");
    let spec = format!("sqlite:{}", db.display());
    let o = motcua(&[
        "simulate",
        "--profile",
        profile.to_str().unwrap(),
        "--catalog",
        cat,
        "--seed",
        "5",
        "--store",
        &spec,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut outputs = vec![stdout(&o), stderr(&o)];
    for format in ["text", "json", "csv", "html"] {
        let o = motcua(&["report", "--store", &spec, "--catalog", cat, "--format", format]);
        assert!(o.status.success(), "{}", stderr(&o));
        outputs.push(stdout(&o));
    }
    // Every identifier the year's dossiers could have presented (both kinds for each).
    let mut ids = std::collections::HashSet::new();
    for n in 0..3285 {
        for business in [false, true] {
            if let Some(id) = motcua_sim::synthetic_identifier(5, n, business) {
                ids.insert(match id {
                    motcua_core::Identifier::Cccd(c) => c.expose().to_string(),
                    motcua_core::Identifier::Tax(t) => t.to_string(),
                });
            }
        }
    }
    assert!(ids.len() > 6000);
    // Every run of digits in the file and the outputs, checked against them.
    let mut bytes = std::fs::read(&db).unwrap();
    for o in &outputs {
        bytes.extend_from_slice(o.as_bytes());
    }
    let scan = |bytes: &[u8]| {
        let mut found = Vec::new();
        let mut run = Vec::new();
        for &b in bytes.iter().chain(std::iter::once(&b' ')) {
            if b.is_ascii_digit() {
                run.push(b);
                continue;
            }
            for len in [10, 12] {
                for w in run.windows(len) {
                    let s = std::str::from_utf8(w).unwrap();
                    if ids.contains(s) {
                        found.push(s.to_string());
                    }
                }
            }
            run.clear();
        }
        found
    };
    // The search finds one planted among other bytes (so an empty result means something).
    let planted = ids.iter().next().unwrap().clone();
    assert_eq!(scan(format!("x{planted}y").as_bytes()), [planted]);
    let found = scan(&bytes);
    assert!(found.is_empty(), "identifiers found: {:?}", &found[..found.len().min(5)]);
    // The applicants are there, as keys.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
    assert!(n > 3285);
    let code: String = conn.query_row("SELECT code FROM dossiers LIMIT 1", [], |r| r.get(0)).unwrap();
    let o = motcua(&["dossier", "--store", &spec, "--format", "json", &code]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"key\": \"k1"), "{}", stdout(&o));
}

/// A store the previous release wrote (`tests/data/previous-release.sqlite`: 110 dossiers of the
/// seed profile's shares with every kind of content, written by commit b028881's `motcua
/// simulate`, schema 8, envelope schema 3) is refused by reading commands until `motcua
/// migrate` brings it to this schema; then it verifies and its report is byte for byte the one
/// that release printed (`previous-release-report.csv`).
#[test]
fn a_store_of_the_previous_release_migrates_verifies_and_reports_the_same() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let dir = temp_dir("previous");
    let path = dir.join("previous.sqlite");
    std::fs::copy(data.join("previous-release.sqlite"), &path).unwrap();
    let store = format!("sqlite:{}", path.display());
    let refused = motcua(&["verify", "--store", &store]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("schema 8"), "{refused:?}");
    let migrated = motcua(&["migrate", "--store", &store]);
    assert_eq!(migrated.status.code(), Some(0), "{migrated:?}");
    let verified = motcua(&["verify", "--store", &store]);
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
    assert!(String::from_utf8_lossy(&verified.stdout).contains("110 dossiers, 656 events"), "{verified:?}");
    let catalog = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds/procedures");
    let report = motcua(&[
        "report",
        "--store",
        &store,
        "--format",
        "csv",
        "--as-of",
        "2023-12-31T23:59",
        "--catalog",
        catalog.to_str().unwrap(),
    ]);
    assert_eq!(report.status.code(), Some(0), "{report:?}");
    let expected = std::fs::read(data.join("previous-release-report.csv")).unwrap();
    assert!(report.stdout == expected, "the report differs from the previous release's");
    // And it goes on: a migrate again is a no-op.
    assert_eq!(motcua(&["migrate", "--store", &store]).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `check` refuses what the other commands would (issue #31): a notice's day off that is
/// already a weekend, a scenario's register that does not open or does not hold its receiving
/// agency, a profile naming a procedure twice or a year whose next the calendar lacks — each
/// at the line that said it, a referred file's problem at both places.
#[test]
fn check_refuses_what_the_commands_would() {
    let dir = temp_dir("check-agrees");
    // A notice: 3/5/2025 is a Saturday.
    let notice = std::fs::read_to_string(seeds().join("calendar/2025.toml"))
        .unwrap()
        .replace("date = \"2025-05-02\"", "date = \"2025-05-03\"");
    std::fs::write(dir.join("2025.toml"), &notice).unwrap();
    let o = motcua(&["check", dir.join("2025.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("2025.toml:15: day_off: 2025-05-03 is already a day off (weekend)"), "{}", stderr(&o));
    std::fs::remove_file(dir.join("2025.toml")).unwrap();

    // A scenario whose register is missing, then one whose receiving agency it lacks.
    let units = seeds().join("units/vi-du-hai-xa.toml");
    let scenario = |units: &str, receiving: &str| {
        format!(
            "name = \"t\"\nprocedure = \"2.000986\"\ncatalog = \"{}\"\nunits = \"{units}\"\nreceiving = \"{receiving}\"\n\
             [[step]]\nat = \"2025-03-04T08:00\"\ndo = \"receive\"\n",
            seeds().join("procedures").display()
        )
    };
    std::fs::write(dir.join("s.toml"), scenario(&dir.join("none.toml").display().to_string(), "H99.01")).unwrap();
    for command in ["check", "test"] {
        let o = motcua(&[command, dir.join("s.toml").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{command}");
        let err = stderr(&o);
        assert!(err.contains("s.toml:4: units = \""), "{command}: {err}");
        assert!(err.contains("none.toml"), "{command}: {err}");
    }
    std::fs::write(dir.join("s.toml"), scenario(&units.display().to_string(), "H99.77")).unwrap();
    for command in ["check", "test"] {
        let o = motcua(&[command, dir.join("s.toml").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{command}");
        assert!(
            stderr(&o).contains("s.toml:5: receiving: \"H99.77\" is not an agency of the register"),
            "{command}: {}",
            stderr(&o)
        );
    }
    std::fs::write(dir.join("s.toml"), scenario(&units.display().to_string(), "H99.01")).unwrap();
    let o = motcua(&["check", dir.join("s.toml").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(dir.join("s.toml")).unwrap();

    // A profile naming a procedure twice, and one at the calendar's last year.
    let profile = std::fs::read_to_string(seeds().join("profiles/ninh-thuan-2023.toml"))
        .unwrap()
        .replace("\"../units/", &format!("\"{}/units/", seeds().display()))
        .replace("\"../digitisation/", &format!("\"{}/digitisation/", seeds().display()));
    let twice = profile.replacen("code = \"1.001193\"", "code = \"2.000815\"", 1);
    let profiles = dir.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("p.toml"), &twice).unwrap();
    let o = motcua(&["check", profiles.join("p.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("code: 2.000815 is already procedure[0]"), "{}", stderr(&o));
    let late = profile.replacen("year = 2023", "year = 2199", 1);
    std::fs::write(profiles.join("p.toml"), &late).unwrap();
    let catalog = seeds().join("procedures");
    let path = profiles.join("p.toml");
    let (catalog, path) = (catalog.to_str().unwrap(), path.to_str().unwrap());
    for args in [vec!["check", path], vec!["simulate", "--catalog", catalog, "--profile", path]] {
        let o = motcua(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains("year: 2199 is outside 2014..=2198"), "{args:?}: {}", stderr(&o));
    }
    // A profile whose register is missing, then one whose agency the register lacks: refused
    // by both, where the profile says it (and, for the register, where the file does).
    let missing = profile.replace("/units/ninh-thuan.toml", "/units/none.toml");
    let stranger = profile.replacen("agency = \"NINHTHUAN\"", "agency = \"QUANGTRI\"", 1);
    let merged = profile.replacen("year = 2023", "year = 2025", 1);
    // The catalog beside the profiles, as in seeds/ (check finds it there).
    std::os::unix::fs::symlink(seeds().join("procedures"), dir.join("procedures")).unwrap();
    // A register in which no agency plays the communes' committees' role.
    let register = std::fs::read_to_string(seeds().join("units/ninh-thuan.toml"))
        .unwrap()
        .replace("roles = [\"ubnd-xa\"]", "roles = [\"ubnd-phuong\"]");
    std::fs::write(dir.join("register.toml"), register).unwrap();
    let roleless = profile.replace(
        &seeds().join("units/ninh-thuan.toml").display().to_string(),
        &dir.join("register.toml").display().to_string(),
    );
    // One in which one commune's police plays no role: its dossiers' police steps resolve to
    // no agency, found for that unit and day before anything runs.
    let gap = std::fs::read_to_string(seeds().join("units/ninh-thuan.toml")).unwrap().replacen(
        "roles = [\"cong-an-xa\"]",
        "roles = []",
        1,
    );
    std::fs::write(dir.join("gap.toml"), gap).unwrap();
    let gapped = profile.replace(
        &seeds().join("units/ninh-thuan.toml").display().to_string(),
        &dir.join("gap.toml").display().to_string(),
    );
    let zero = profile
        .replacen("received = 328508", "received = 0", 1)
        .replacen("online = 273500", "online = 0", 1)
        .replacen("resolved = 324770", "resolved = 0", 1);
    let zero = zero.replacen("early_or_on_time = 322647", "early_or_on_time = 0", 1);
    let gapped2 = gapped.clone();
    // Figures the year cannot meet together: found by planning the year, before a store opens.
    let all_online = profile.replacen("online = 273500", "online = 328508", 1);
    for (text, want) in [
        (zero, "dossiers.received: 0: nothing to simulate"),
        (roleless, "is done by \"ubnd-xa\", which no agency of the register"),
        (gapped, "is done by \"cong-an-xa\", which no agency of the register"),
        (gapped2, "plays for unit 58."),
        (all_online.clone(), "p.toml:16: dossiers.online: half 2 needs 190930 online dossiers beyond land"),
        (missing, "p.toml:11: units = \""),
        (stranger, "p.toml:6: agency: \"QUANGTRI\" is not an agency of the register"),
        (merged, "p.toml:6: agency: NINHTHUAN is in force until 2025-06-30 in the register"),
    ] {
        std::fs::write(path, &text).unwrap();
        for args in [vec!["check", path], vec!["simulate", "--catalog", catalog, "--profile", path]] {
            let o = motcua(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        }
    }
    // Refused before the store is touched: an existing file is not replaced.
    std::fs::write(path, &all_online).unwrap();
    let kept = dir.join("kept.sqlite");
    std::fs::write(&kept, "mine").unwrap();
    let store = format!("sqlite:{}", kept.display());
    let o = motcua(&["simulate", "--catalog", catalog, "--profile", path, "--store", &store, "--overwrite"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "mine");
}

/// Paths and values in errors are printed terminal-safe: a file name holding an escape
/// sequence or a bidirectional override is shown escaped, never interpreted (issue #31).
#[test]
fn errors_escape_control_and_bidi_characters() {
    let dir = temp_dir("terminal-safe");
    let file = dir.join("x\u{1b}[2J\u{202e}lmot.toml");
    std::fs::write(
        &file,
        "name = \"t\"\nprocedure = \"nope\"\n[[step]]\nat = \"2025-03-04T08:00\"\ndo = \"receive\"\n",
    )
    .unwrap();
    let o = motcua(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("x\\u{1b}[2J\\u{202e}lmot.toml:2: procedure:"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{202e}'), "{err:?}");
}

/// Whether `motcua serve` starts with `extra` (its catalog, register, digitisation rules,
/// notices or office hours): it either listens (then is stopped) or exits with its refusal.
fn serve_starts(dir: &std::path::Path, extra: &[&std::ffi::OsStr]) -> Result<(), String> {
    use std::io::{BufRead, Read};
    let secret = dir.join("secret");
    std::fs::write(&secret, "a server secret of more than sixteen bytes\n").unwrap();
    let store = dir.join("serve.sqlite");
    let _ = std::fs::remove_file(&store);
    let mut child = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["serve", "--listen", "127.0.0.1:0", "--store"])
        .arg(format!("sqlite:{}", store.display()))
        .arg("--secret-file")
        .arg(&secret)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    // A closed stdout (an exit) reads as an empty line.
    let _ = std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    if line.starts_with("listening on ") {
        let _ = child.kill();
        let _ = child.wait();
        return Ok(());
    }
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let _ = child.wait();
    Err(err)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// "Check agrees" with `serve`'s start-up (issue #31): whatever mutated catalog file,
    /// register, digitisation rules, notice or office hours `serve` refuses to start with,
    /// `check` refuses too.
    #[test]
    fn check_refuses_every_file_serve_would_not_start_with(
        kind in 0usize..5,
        pick in proptest::prelude::any::<usize>(),
        edits in motcua_tests::mutation::edits(),
    ) {
        let dir = temp_dir(&format!("serve-agrees-{kind}"));
        let (folder, flag) = [
            ("procedures", "--catalog"),
            ("units", "--units"),
            ("digitisation", "--digitisation"),
            ("calendar", "--notices"),
            ("hours", "--hours"),
        ][kind];
        let mut files: Vec<PathBuf> = std::fs::read_dir(seeds().join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let source = &files[pick % files.len()];
        let mutated = motcua_tests::mutation::mutate(&std::fs::read_to_string(source).unwrap(), &edits);
        // Folders (catalog, notices): the seed folder with one file mutated; files: the file.
        let (target, checked) = if matches!(kind, 0 | 3) {
            let copy = dir.join(folder);
            std::fs::create_dir_all(&copy).unwrap();
            for f in &files {
                std::fs::copy(f, copy.join(f.file_name().unwrap())).unwrap();
            }
            std::fs::write(copy.join(source.file_name().unwrap()), &mutated).unwrap();
            (copy.clone(), copy)
        } else {
            let file = dir.join(source.file_name().unwrap());
            std::fs::write(&file, &mutated).unwrap();
            (file.clone(), file)
        };
        let mut extra: Vec<&std::ffi::OsStr> = vec![flag.as_ref(), target.as_os_str()];
        let catalog = seeds().join("procedures");
        if kind != 0 {
            extra.extend([std::ffi::OsStr::new("--catalog"), catalog.as_os_str()]);
        }
        let started = serve_starts(&dir, &extra);
        let check = motcua(&["check", checked.to_str().unwrap()]);
        proptest::prop_assert!(
            started.is_ok() || !check.status.success(),
            "serve refused, check passed:\n{}",
            started.err().unwrap_or_default()
        );
    }
}

#[test]
fn catalog_import_writes_files_check_accepts_and_reports_each_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("catalog");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/national");
    let o = motcua(&["catalog", "import", fixtures, "--out", out.to_str().unwrap(), "--today", "2026-12-07"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("1.013216 with-assumptions: created"), "{stdout}");
    assert!(stdout.contains("1.115651 not-importable: not written"), "{stdout}");
    assert!(stdout.contains("10 records: 0 as is, 8 with assumptions, 2 not importable"), "{stdout}");
    let o = motcua(&["check", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    // Again: every file unchanged.
    let o = motcua(&["catalog", "import", fixtures, "--out", out.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["unchanged"], 8);
    assert_eq!(v["created"], 0);
    // Broken input: exit 2, the file and line named.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"code\": \"1.000001\"}\nnot json\n").unwrap();
    let o = motcua(&["catalog", "import", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.jsonl:2:"), "{}", String::from_utf8_lossy(&o.stderr));
}
