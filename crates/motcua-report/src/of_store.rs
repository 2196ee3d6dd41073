//! The report of a store in one call: what `motcua report` prints, for an embedder.

use std::collections::HashMap;

use motcua_core::Procedure;
use motcua_engine::{DossierSummary, Store, StoreError};

use crate::{CalendarSource, Period, Report, ReportBuilder};

/// What a report of a store is built with, besides the store and the procedures
/// ([`report_of_store`]). `Default`: the whole store, months, the national calendar.
#[derive(Default)]
pub struct ReportOptions<'a> {
    /// Online services offered: adds indicator 3.2 (otherwise from the store's services).
    pub services: Option<u64>,
    /// Only dossiers received on or after this day (inclusive).
    pub from: Option<chrono::NaiveDate>,
    /// Only dossiers received on or before this day (inclusive).
    pub to: Option<chrono::NaiveDate>,
    /// The instant open dossiers are judged at (default: the end of the last year of receipts).
    pub as_of: Option<motcua_calendar::Timestamp>,
    /// A register of units: the breakdown by administrative unit.
    pub units: Option<&'a motcua_core::Register>,
    /// The periods of completion 2.1 is reported by.
    pub period: Period,
    /// The province's calendar (default: the national one).
    pub calendar: Option<CalendarSource<'a>>,
}

/// The report of the dossiers in `store` received in the options' period: names and sectors
/// from `procedures` (a catalog's), then from the store's published services for the rest (a
/// simulated year's synthetic procedures); the services table (3.1, 3.2, integration), and the
/// national portal's delivery ledger (1.4) when the period is the whole store. Rows are read
/// one at a time: a national year's summaries are never held as a list.
///
/// ```
/// use motcua_engine::MemoryStore;
/// use motcua_report::{report_of_store, ReportOptions};
/// let store = MemoryStore::new();
/// let report = report_of_store(&store, &[], ReportOptions::default()).unwrap();
/// assert_eq!(report.totals.received, 0);
/// ```
pub fn report_of_store<'p, S: Store + ?Sized>(
    store: &S,
    procedures: impl IntoIterator<Item = &'p Procedure>,
    options: ReportOptions<'_>,
) -> Result<Report, StoreError> {
    let listed = store.services()?;
    let mut names: HashMap<_, _> =
        listed.iter().map(|s| (s.procedure.clone(), (s.name.clone(), s.sector.clone()))).collect();
    names.extend(procedures.into_iter().map(|p| (p.code.clone(), (p.name.clone(), p.sector.clone()))));
    let ReportOptions { services, from, to, as_of, units, period, calendar } = options;
    let mut builder = match calendar {
        Some(source) => ReportBuilder::with_calendar_source(&names, source),
        None => ReportBuilder::new(&names),
    }
    .with_period(period);
    if let Some(register) = units {
        builder = builder.with_units(register);
    }
    let received_in = |s: &DossierSummary| {
        let day = s.received_at.map(motcua_calendar::Timestamp::local_date);
        day.is_some_and(|d| from.is_none_or(|f| f <= d) && to.is_none_or(|t| d <= t))
    };
    store.for_each_summary(&mut |s| {
        if received_in(&s) {
            builder.add(&s);
        }
    })?;
    let mut report = builder.finish(as_of).with_services(&listed);
    // The ledger counts every dossier: 1.4 for the whole store only.
    if from.is_none() && to.is_none() {
        report = report.with_sync(store.sync_tally()?);
    }
    Ok(match services.filter(|&n| n > 0) {
        Some(n) => report.with_online_services(n),
        None => report,
    })
}
