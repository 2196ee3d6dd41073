//! `motcua calendar --year Y`.

use std::io::Write;

use anyhow::Result;
use chrono::Datelike;
use motcua_calendar::{format_minute_of_day, weekday_code, Day, YearStatus};
use serde::Serialize;

use crate::args::{CalendarCmd, Format};
use crate::exit;

#[derive(Serialize)]
struct JsonDay<'a> {
    date: String,
    weekday: &'static str,
    working: bool,
    kind: &'static str,
    name: &'a str,
    lunar: String,
    reference: Option<&'a str>,
    sessions: Vec<String>,
}

#[derive(Serialize)]
struct JsonYear<'a> {
    year: i32,
    status: YearStatus,
    references: Vec<String>,
    working_days: usize,
    days_off: usize,
    days: Vec<JsonDay<'a>>,
}

pub fn run(cmd: CalendarCmd) -> Result<u8> {
    let cal = cmd.calendar.resolve(cmd.year, cmd.year)?;
    let days = cal.year_days(cmd.year)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match cmd.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(["date", "weekday", "working", "kind", "name", "lunar"])?;
            for d in &days {
                w.write_record([
                    d.date.format("%Y-%m-%d").to_string().as_str(),
                    weekday_code(d.date.weekday()),
                    if d.working { "true" } else { "false" },
                    d.kind.code(),
                    d.name.as_str(),
                    d.lunar.to_string().as_str(),
                ])?;
            }
            w.flush()?;
        }
        Format::Json => {
            let doc = JsonYear {
                year: cmd.year,
                status: cal.year_status(cmd.year),
                references: cal.year_references(cmd.year).iter().map(|r| r.id.clone()).collect(),
                working_days: days.iter().filter(|d| d.working).count(),
                days_off: days.iter().filter(|d| !d.working).count(),
                days: days.iter().map(json_day).collect(),
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Text => {
            let status = match cal.year_status(cmd.year) {
                YearStatus::Official => {
                    let refs: Vec<String> = cal.year_references(cmd.year).iter().map(|r| r.id.clone()).collect();
                    format!("official ({})", refs.join("; "))
                }
                YearStatus::Projected => "projected from the rules (no official notice loaded)".to_string(),
            };
            writeln!(out, "{}: {status}", cmd.year)?;
            writeln!(
                out,
                "{} working days, {} days off\n",
                days.iter().filter(|d| d.working).count(),
                days.iter().filter(|d| !d.working).count()
            )?;
            writeln!(out, "{:<10}  {:<3}  {:<7}  {:<12}  {:<11}  name", "date", "day", "working", "kind", "lunar")?;
            for d in &days {
                writeln!(
                    out,
                    "{:<10}  {:<3}  {:<7}  {:<12}  {:<11}  {}",
                    d.date.format("%Y-%m-%d"),
                    weekday_code(d.date.weekday()),
                    if d.working { "yes" } else { "no" },
                    d.kind.code(),
                    d.lunar.to_string(),
                    d.name
                )?;
            }
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

fn json_day(d: &Day) -> JsonDay<'_> {
    JsonDay {
        date: d.date.format("%Y-%m-%d").to_string(),
        weekday: weekday_code(d.date.weekday()),
        working: d.working,
        kind: d.kind.code(),
        name: &d.name,
        lunar: d.lunar.to_string(),
        reference: d.reference.as_deref(),
        sessions: d
            .sessions
            .iter()
            .map(|s| format!("{}-{}", format_minute_of_day(s.start), format_minute_of_day(s.end)))
            .collect(),
    }
}
