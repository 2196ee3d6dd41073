//! `motcua deadlines --store URL --as-of INSTANT (--overdue | --due-within LIMIT)`: open
//! dossiers overdue or due soon, read page by page from the store's indexed projection rows.

use std::io::Write;

use anyhow::{anyhow, Context, Result};
use chrono::Datelike;
use motcua_calendar::{Limit, Timestamp};
use motcua_engine::{DeadlineQuery, DeadlineView, DossierSummary};
use serde::Serialize;

use crate::args::{DeadlinesCmd, Format};
use crate::exit;

/// Parses an instant given on the command line.
pub fn parse_instant(s: &str) -> Result<Timestamp> {
    s.parse().with_context(|| format!("--as-of {s:?}: expected YYYY-MM-DDTHH:MM or RFC 3339 with an offset"))
}

/// The CSV header (the fields of [`Row`], in order).
const CSV_HEADER: [&str; 9] =
    ["code", "procedure", "agency", "status", "national", "step", "step_agency", "due", "received_at"];

/// One output row.
#[derive(Serialize)]
struct Row<'a> {
    code: String,
    procedure: String,
    agency: String,
    status: &'a str,
    national: Option<u8>,
    step: String,
    step_agency: String,
    due: String,
    received_at: String,
}

impl<'a> Row<'a> {
    fn of(s: &'a DossierSummary) -> Row<'a> {
        let step = s.current_step();
        let time = |t: Option<Timestamp>| t.map_or_else(String::new, |t| t.to_string());
        Row {
            code: s.dossier.to_string(),
            procedure: s.procedure.as_ref().map_or_else(String::new, |p| p.to_string()),
            agency: s.dossier.agency().to_string(),
            status: s.status.as_deref().unwrap_or(""),
            national: s.national,
            step: step.map_or_else(String::new, |st| st.step.to_string()),
            step_agency: step.map_or_else(String::new, |st| st.agency.to_string()),
            due: time(s.due),
            received_at: time(s.received_at),
        }
    }
}

pub fn run(cmd: DeadlinesCmd) -> Result<u8> {
    let as_of = parse_instant(&cmd.as_of)?;
    let view = match &cmd.due_within {
        None => DeadlineView::Overdue,
        Some(text) => {
            let limit: Limit = text.parse().with_context(|| format!("--due-within {text:?}"))?;
            let year = as_of.local_date().year();
            let calendar = cmd.calendar.resolve(year, year + 3)?;
            // Due within the limit: up to and including its end.
            DeadlineQuery::due_within(&calendar, as_of, limit)
                .with_context(|| format!("--due-within {text:?}"))?
                .ok_or_else(|| anyhow!("--due-within {text:?}: a window needs a time limit"))?
                .view
        }
    };
    let mut query = DeadlineQuery { view, ..DeadlineQuery::overdue(as_of) };
    if let Some(a) = &cmd.agency {
        query.agency = Some(a.parse().with_context(|| format!("--agency {a:?}"))?);
    }
    if let Some(p) = &cmd.procedure {
        query.procedure = Some(p.parse().with_context(|| format!("--procedure {p:?}"))?);
    }
    query.step_agency = cmd.step_agency.clone();
    let store = crate::store_cmd::open_existing(&cmd.store)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut csv = (cmd.format == Format::Csv).then(|| csv::Writer::from_writer(std::io::stdout()));
    let mut count = 0u64;
    if cmd.format == Format::Json {
        write!(out, "[")?;
    }
    loop {
        let page = store.deadlines(&query)?;
        for s in &page.rows {
            let row = Row::of(s);
            match cmd.format {
                Format::Json => {
                    if count > 0 {
                        write!(out, ",")?;
                    }
                    write!(out, "\n  {}", serde_json::to_string(&row)?)?;
                }
                Format::Csv => {
                    if let Some(w) = csv.as_mut() {
                        w.serialize(&row)?;
                    }
                }
                Format::Text => writeln!(
                    out,
                    "{:<28} {:<10} {:<24} {:<22} {}",
                    row.code,
                    row.procedure,
                    row.status,
                    row.due,
                    if row.step_agency.is_empty() { "-" } else { &row.step_agency }
                )?,
            }
            count += 1;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    match cmd.format {
        Format::Json => writeln!(out, "{}]", if count > 0 { "\n" } else { "" })?,
        Format::Csv => {
            if let Some(mut w) = csv {
                if count == 0 {
                    w.write_record(CSV_HEADER)?;
                }
                w.flush()?;
            }
        }
        Format::Text => {
            let what = match view {
                DeadlineView::Overdue => format!("overdue at {as_of}"),
                DeadlineView::DueBefore { until } => format!("due from {as_of} to {}", until.plus_minutes(-1)),
            };
            writeln!(out, "{count} open dossiers {what}")?;
        }
    }
    Ok(exit::OK)
}
