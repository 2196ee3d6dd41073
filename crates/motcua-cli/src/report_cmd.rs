//! `motcua report --store sqlite:PATH`: the indicators of a stored year.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use motcua_catalog::Catalog;
use motcua_engine::Store;
use motcua_report::{Period, Report};

use crate::args::{ReportCmd, ReportFormat, ReportPeriod};
use crate::exit;

pub fn run(cmd: ReportCmd) -> Result<u8> {
    let store = crate::store_cmd::open_existing(&cmd.store)?;
    let catalog_dir = cmd.catalog.clone().unwrap_or_else(|| PathBuf::from("seeds/procedures"));
    let as_of = cmd.as_of.as_deref().map(crate::deadlines_cmd::parse_instant).transpose()?;
    let units = match &cmd.units {
        Some(path) => Some(motcua_catalog::load_register(path).map_err(|e| anyhow!("--units: {e}"))?),
        None => None,
    };
    let period = match cmd.period {
        ReportPeriod::Month => Period::Month,
        ReportPeriod::Quarter => Period::Quarter,
        ReportPeriod::Half => Period::Half,
        ReportPeriod::Year => Period::Year,
    };
    let day = |flag: &str, v: &Option<String>| -> Result<Option<chrono::NaiveDate>> {
        v.as_deref().map(|d| d.parse().map_err(|e| anyhow!("--{flag} {d:?}: expected YYYY-MM-DD ({e})"))).transpose()
    };
    let (from, to) = (day("from", &cmd.from)?, day("to", &cmd.to)?);
    let calendar = cmd.calendar.source()?;
    let options = Options {
        services: cmd.services,
        from,
        to,
        as_of,
        units: units.as_ref(),
        period,
        calendar: Some(Box::new(move |a, b| calendar(a, b).ok())),
    };
    let report = build(&*store, &catalog_dir, options)?;
    let text = match cmd.format {
        ReportFormat::Json => serde_json::to_string_pretty(&report)? + "\n",
        ReportFormat::Csv => report.to_csv(),
        ReportFormat::Text => text(&report),
        ReportFormat::Html => report.to_html(HTML_TITLE),
    };
    match &cmd.out {
        Some(path) => std::fs::write(path, text).map_err(|e| anyhow!("--out {}: {e}", path.display()))?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(exit::OK)
}

/// The HTML page's title.
pub const HTML_TITLE: &str = "motcua — báo cáo chỉ số giải quyết TTHC";

/// What a report is built with, besides the store and the catalog.
pub type Options<'a> = motcua_report::ReportOptions<'a>;

/// The report of everything in `store`: names and sectors from the catalog in `catalog_dir`
/// (which must load: a report without names and sectors is not silently produced), built by
/// [`motcua_report::report_of_store`].
pub fn build<S: Store + ?Sized>(store: &S, catalog_dir: &Path, options: Options<'_>) -> Result<Report> {
    let catalog = Catalog::load(catalog_dir).map_err(|e| {
        anyhow!(
            "the procedure catalog (names and sectors) did not load from {}: {e}; pass --catalog DIR",
            catalog_dir.display()
        )
    })?;
    Ok(motcua_report::report_of_store(store, catalog.iter(), options)?)
}

fn text(r: &Report) -> String {
    let t = &r.totals;
    let mut s = format!(
        "received {}  online {} ({:.2} %)  resolved {}  early or on time {} ({:.2} % of resolved, province convention)  late {}  open {} ({} overdue at {})\n\
         2.1 by Decision 766's formula: {:.2} % ({} in time, {} late: resolved late, open overdue, or more than one supplement request, {} of them for that alone)\n\n",
        t.received,
        t.online,
        if t.received > 0 { t.online as f64 * 100.0 / t.received as f64 } else { 0.0 },
        t.resolved,
        t.early + t.on_time,
        t.early_or_on_time_pct,
        t.late,
        t.open,
        t.open_overdue,
        r.as_of,
        t.early_or_on_time_766_pct,
        t.on_time_766,
        t.late_766,
        t.multi_supplement
    );
    if let Some(v) = &r.services {
        s.push_str(&format!(
            "services: {} procedures, {} offered online, {} of them integrated with the national portal ({:.2} %), {} with online dossiers\n\n",
            v.procedures, v.online, v.integrated, v.integrated_pct, v.with_online_dossiers
        ));
    }
    let h = &r.totals.holds;
    if h.with_documents > 0 {
        s.push_str(&format!(
            "documents: {} dossiers with documents, {} with a digitised one, {} reusing a result, {} with a component the digitisation rules required digitised left on paper\n",
            h.with_documents, h.digitised, h.reused, h.undigitised
        ));
    }
    let f = &r.feedback;
    s.push_str(&format!(
        "feedback (phản ánh, kiến nghị): {} received, {} classified, {} handled in time, {} answered, {} rejected, {} open; {} unsatisfied, {} followed up, {} against satisfaction\n\n",
        f.received, f.classified, f.on_time, f.answered, f.rejected, f.open, f.unsatisfied, f.followed_up, f.dissatisfied
    ));
    let sc = &r.scorecard;
    s.push_str(&format!(
        "Decision 766 scorecard: {} of {} indicators measured, {:.2} of {:.0} points",
        sc.measured, sc.indicators, sc.points, sc.measured_max
    ));
    if let (Some(score), Some(rating)) = (sc.scaled_score, sc.rating) {
        s.push_str(&format!(" = {score:.2} / 100 scaled ({})", rating.label()));
    }
    s.push_str("\n  (the scaled score is not the official total; sources of points in --format json;\n");
    s.push_str("   3.2 needs --services N, the online services offered)\n");
    for g in &sc.groups {
        s.push_str(&format!(
            "  {}. {:<66} {:>5.2} of {:>2.0} measured / {:.0}\n",
            g.id, g.name, g.points, g.measured_max, g.max_points
        ));
        for i in &g.indicators {
            match (i.value_pct, i.points) {
                (Some(v), Some(p)) => {
                    s.push_str(&format!(
                        "     {:<5} {:<62} {:>7.2} %  {:>5.2} / {:.0} points\n",
                        i.id,
                        i.name,
                        v,
                        p,
                        i.max_points.unwrap_or(0.0)
                    ));
                    if let Some((label, v)) = i.beside {
                        s.push_str(&format!("           ({label}: {v:.2} %)\n"));
                    }
                }
                (Some(v), None) => s.push_str(&format!(
                    "     {:<5} {:<62} {:>7.2} %  (points not verified: {})\n",
                    i.id, i.name, v, i.points_source
                )),
                _ => s.push_str(&format!(
                    "     {:<5} {:<62} not measured: {}\n",
                    i.id,
                    i.name,
                    i.needs.unwrap_or("needs data outside the dossiers")
                )),
            }
        }
    }
    s.push_str("\nBy sector:\n");
    for row in &r.by_sector {
        s.push_str(&format!(
            "  {:<44} received {:>7}  online {:>6.2} %  resolved {:>7}  on time {:>6.2} %  avg {:>5} working days\n",
            row.key,
            row.received,
            if row.received > 0 { row.online as f64 * 100.0 / row.received as f64 } else { 0.0 },
            row.resolved,
            row.early_or_on_time_pct,
            row.avg_resolution_working_days.map_or("-".into(), |d| format!("{d:.2}"))
        ));
    }
    let mut agencies: Vec<_> = r.by_agency.iter().collect();
    agencies.sort_by(|a, b| b.received.cmp(&a.received).then(a.key.cmp(&b.key)));
    s.push_str(&format!("\nBy receiving agency ({} agencies; the ten busiest):\n", agencies.len()));
    for row in agencies.iter().take(10) {
        s.push_str(&format!(
            "  {:<24} received {:>7}  resolved {:>7}  on time {:>6.2} %  open {:>5} ({} overdue)\n",
            row.key, row.received, row.resolved, row.early_or_on_time_pct, row.open, row.open_overdue
        ));
    }
    if !r.by_step_agency.is_empty() {
        s.push_str(&format!(
            "\nLateness by step agency ({} agencies; most late steps first, each step against its own due time):\n",
            r.by_step_agency.len()
        ));
        for row in r.by_step_agency.iter().take(10) {
            s.push_str(&format!(
                "  {:<24} steps {:>7}  late {:>6} ({:>5.2} %)  open {:>5} ({} overdue)\n",
                row.agency, row.started, row.late, row.late_pct, row.open, row.open_overdue
            ));
        }
    }
    s.push_str(&format!(
        "\n2.1 by {} of completion (open: at the period's end, carried over; province convention / Decision 766):\n",
        match r.period {
            motcua_report::Period::Month => "month",
            motcua_report::Period::Quarter => "quarter",
            motcua_report::Period::Half => "half-year",
            motcua_report::Period::Year => "year",
        }
    ));
    for row in &r.by_period {
        s.push_str(&format!(
            "  {:<8} received {:>7}  resolved {:>7}  open {:>6} ({:>5} overdue)  {:>6.2} % / {:>6.2} %\n",
            row.key,
            row.received,
            row.resolved,
            row.open,
            row.open_overdue,
            row.early_or_on_time_pct,
            row.early_or_on_time_766_pct
        ));
    }
    s.push_str("\nBy month of receipt:\n");
    for row in &r.by_month {
        s.push_str(&format!(
            "  {}  received {:>7}  resolved {:>7}  on time {:>6.2} %\n",
            row.key, row.received, row.resolved, row.early_or_on_time_pct
        ));
    }
    s
}
