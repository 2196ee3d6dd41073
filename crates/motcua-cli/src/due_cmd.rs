//! `motcua due`: one dossier from flags, or a CSV batch.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Datelike;
use motcua_calendar::holidays::{FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR};
use motcua_calendar::{weekday_code, Appointment, Limit, Timestamp, WorkCalendar};
use serde::Serialize;

use crate::args::{parse_cutoff, DueCmd, Format};
use crate::exit;

/// Bad rows reported individually before the rest are only counted.
const MAX_REPORTED_ERRORS: usize = 20;

pub fn run(cmd: DueCmd) -> Result<u8> {
    match &cmd.batch {
        Some(path) => batch(&cmd, path),
        None => single(&cmd),
    }
}

/// The calendar's years for receipts in these (year, limit) pairs: from the first receipt year
/// to the furthest any limit can reach, within the supported range.
fn year_range(rows: impl Iterator<Item = (i32, Limit)>) -> Option<(i32, i32)> {
    let (mut lo, mut hi) = (i32::MAX, i32::MIN);
    for (y, limit) in rows {
        lo = lo.min(y);
        hi = hi.max(y.saturating_add(limit.years_ahead()));
    }
    (lo <= hi)
        .then(|| (lo.clamp(FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR), hi.clamp(FIRST_HOLIDAY_YEAR, LAST_HOLIDAY_YEAR)))
}

fn cutoff(cmd: &DueCmd, cal: &WorkCalendar) -> Result<Option<u16>> {
    match &cmd.cutoff {
        Some(s) => parse_cutoff(s),
        None => Ok(cal.office_hours().cutoff),
    }
}

#[derive(Serialize)]
struct JsonAppointment {
    received: Timestamp,
    limit: Limit,
    clock_start: Timestamp,
    due: Option<Timestamp>,
}

fn single(cmd: &DueCmd) -> Result<u8> {
    let (Some(received), Some(limit)) = (&cmd.received, &cmd.limit) else {
        bail!("--received and --limit are required without --batch");
    };
    let received: Timestamp = received.parse().context("--received")?;
    let limit: Limit = limit.parse().context("--limit")?;
    let year = received.local_date().year();
    let (first, last) = year_range(std::iter::once((year, limit))).unwrap_or((year, year));
    if !(FIRST_HOLIDAY_YEAR..=LAST_HOLIDAY_YEAR).contains(&year) {
        bail!("--received {received}: year {year} is outside the supported {FIRST_HOLIDAY_YEAR}..={LAST_HOLIDAY_YEAR}");
    }
    let cal = cmd.calendar.resolve(first, last)?;
    let a = cal.appointment_with_cutoff(received, limit, cutoff(cmd, &cal)?)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cmd.format {
        Format::Json => {
            let doc = JsonAppointment { received: a.received, limit, clock_start: a.clock_start, due: a.due };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Csv => {
            writeln!(out, "received,limit,clock_start,due")?;
            writeln!(out, "{}", csv_row(&a, limit).join(","))?;
        }
        Format::Text => {
            let show = |t: Timestamp| format!("{t} ({})", weekday_code(t.local_date().weekday()));
            writeln!(out, "received     {}", show(a.received))?;
            writeln!(out, "limit        {limit}")?;
            writeln!(out, "clock start  {}", show(a.clock_start))?;
            writeln!(out, "due          {}", a.due.map(show).unwrap_or_else(|| "none (no statutory limit)".into()))?;
        }
    }
    Ok(exit::OK)
}

fn csv_row(a: &Appointment, limit: Limit) -> [String; 4] {
    [
        a.received.local_string(),
        limit.to_string(),
        a.clock_start.local_string(),
        a.due.map(|d| d.local_string()).unwrap_or_default(),
    ]
}

fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        motcua_calendar::read_bounded(std::io::stdin().lock()).context("reading standard input")
    } else {
        motcua_calendar::read_input(path).with_context(|| format!("reading {}", path.display()))
    }
}

fn batch(cmd: &DueCmd, path: &Path) -> Result<u8> {
    let text = read_input(path)?;
    let name = if path == Path::new("-") { "<stdin>".to_string() } else { path.display().to_string() };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers = reader.headers().with_context(|| format!("{name}:1: cannot read the header"))?.clone();
    if headers.len() != 2 || &headers[0] != "received" || &headers[1] != "limit" {
        bail!(
            "{name}:1: the header must be exactly `received,limit`, found `{}`",
            headers.iter().collect::<Vec<_>>().join(",")
        );
    }
    let mut errors: Vec<String> = Vec::new();
    let mut rows: Vec<(u64, Timestamp, Limit)> = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("{name}:{line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let received = record.get(0).unwrap_or_default().parse::<Timestamp>();
        let limit = record.get(1).unwrap_or_default().parse::<Limit>();
        match (received, limit) {
            (Ok(t), Ok(l)) => rows.push((line, t, l)),
            (Err(e), _) | (_, Err(e)) => errors.push(format!("{name}:{line}: {e}")),
        }
    }
    let mut results: Vec<Appointment> = Vec::with_capacity(rows.len());
    let mut stats = None;
    if let Some((first, last)) = year_range(rows.iter().map(|r| (r.1.local_date().year(), r.2))) {
        let build_started = Instant::now();
        let cal = cmd.calendar.resolve(first, last)?;
        let build = build_started.elapsed();
        let cutoff = cutoff(cmd, &cal)?;
        let started = Instant::now();
        for &(line, t, l) in &rows {
            match cal.appointment_with_cutoff(t, l, cutoff) {
                Ok(a) => results.push(a),
                Err(e) => errors.push(format!("{name}:{line}: {e}")),
            }
        }
        stats = Some((first, last, build, started.elapsed()));
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.split(':').nth(1).and_then(|l| l.parse::<u64>().ok()).unwrap_or(0));
        for e in errors.iter().take(MAX_REPORTED_ERRORS) {
            eprintln!("{e}");
        }
        if errors.len() > MAX_REPORTED_ERRORS {
            eprintln!("… and {} more bad rows", errors.len() - MAX_REPORTED_ERRORS);
        }
        eprintln!("motcua: {} bad row(s) in {name}; no output written", errors.len());
        return Ok(exit::INVALID_INPUT);
    }
    let stdout = std::io::stdout();
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(stdout.lock()));
    w.write_record(["received", "limit", "clock_start", "due"])?;
    for (a, (_, _, l)) in results.iter().zip(&rows) {
        w.write_record(csv_row(a, *l))?;
    }
    w.flush()?;
    if let Some((first, last, build, compute)) = stats {
        let secs = compute.as_secs_f64().max(1e-9);
        eprintln!(
            "motcua: calendar {first}..={last} built in {:.1} ms; {} due times in {:.3} ms ({:.2} million per second)",
            build.as_secs_f64() * 1e3,
            results.len(),
            secs * 1e3,
            results.len() as f64 / secs / 1e6
        );
    }
    Ok(exit::OK)
}
