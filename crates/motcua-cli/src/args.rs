//! Stage one: argv to plain values, no I/O. Stage two (`CalendarArgs::resolve`) reads files and
//! builds the calendar.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use motcua_calendar::{parse_minute_of_day, HolidayRules, Notices, OfficeHours, WorkCalendar};

/// motcua: Vietnamese one-stop-shop dossiers — working days and due times, rule tests,
/// simulated years, reports and deadlines over a store, and the reference portal.
#[derive(Parser, Debug)]
#[command(name = "motcua", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Every date of a year: working or not, why, and its lunar date.
    Calendar(CalendarCmd),
    /// Clock start and due time of a dossier (or a CSV batch of them).
    Due(DueCmd),
    /// Validate procedure catalogs and scenarios (files or folders) without running them.
    Check(PathsCmd),
    /// Run rule-test scenarios (files or folders); prints failures and `N passed, M failed`.
    Test(PathsCmd),
    /// Check every hash chain and projection of a store; exit 0 when intact, 1 with the first fault.
    Verify(StoreCmd),
    /// Bring a store written by an earlier release to this release's schema (the only reading
    /// command that writes: reading commands never migrate); prints the schema it is at.
    Migrate(StoreCmd),
    /// Show one dossier's history from a store.
    Dossier(DossierCmd),
    /// Replay a province's year (a calibration profile) through the engine; print the indicators.
    Simulate(SimulateCmd),
    /// The indicators of a stored year (text, json or csv).
    Report(ReportCmd),
    /// Open dossiers overdue or due soon, from a store's indexed projection (no replay).
    Deadlines(DeadlinesCmd),
    /// Record the expiry of every result past its last valid day (run daily): an event on the
    /// dossier that issued it; prints the numbers recorded.
    Expire(ExpireCmd),
    /// Hand the open dossiers of an administrative unit over to another (a merger: the ended
    /// unit's to its successor), each with an event; prints what moved and what was refused.
    Handover(HandoverCmd),
    /// Run the HTTP API over a store; prints `listening on http://ADDR` when ready.
    Serve(ServeCmd),
    /// Print a bearer token for the HTTP API, signed with the server's secret.
    Token(TokenCmd),
    /// Procedure catalogs: import the national procedure database's records.
    #[command(subcommand)]
    Catalog(CatalogCmd),
}

#[derive(Subcommand, Debug)]
pub enum CatalogCmd {
    /// Import national procedure records (a JSON record, a folder of them, or a JSON-lines
    /// file) into a catalog folder, one file a code; prints a line per record (as-is,
    /// with-assumptions, not-importable) with its notes, then the totals.
    Import(ImportCmd),
}

#[derive(Args, Debug)]
pub struct ImportCmd {
    /// The records: a .json file (bare or in the portal's {"data": …} envelope), a folder of
    /// them, or a .jsonl file.
    pub input: PathBuf,
    /// The catalog folder written (created if missing); an unchanged record leaves its file
    /// alone, a changed one adds a version.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The day of the import (YYYY-MM-DD; default: today in Vietnam): dates a new version when
    /// the record's own update day cannot.
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// Print one JSON object instead of lines.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ExpireCmd {
    /// The store: sqlite:PATH, or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The instant of the sweep: YYYY-MM-DDTHH:MM (local +07:00) or RFC 3339 (default: now).
    #[arg(long, value_name = "INSTANT")]
    pub at: Option<String>,
    /// Procedure catalog (default: seeds/procedures).
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(Args, Debug)]
pub struct HandoverCmd {
    /// The store: sqlite:PATH, or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The unit whose open dossiers move (its code in the register).
    #[arg(long, value_name = "UNIT")]
    pub from: String,
    /// The unit they move to (in force on --as-of, serving every step's role).
    #[arg(long, value_name = "UNIT")]
    pub to: String,
    /// The instant of the handover: YYYY-MM-DDTHH:MM (local +07:00) or RFC 3339.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: String,
    /// The register of units (seeds/units/*.toml).
    #[arg(long, value_name = "FILE")]
    pub units: PathBuf,
    /// Procedure catalog (default: seeds/procedures).
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(Args, Debug)]
pub struct ServeCmd {
    /// The store: sqlite:PATH (created when missing) or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// A file holding the token-signing secret (at least 16 bytes).
    #[arg(long, value_name = "FILE")]
    pub secret_file: PathBuf,
    /// Procedure catalog (default: seeds/procedures).
    #[arg(long, value_name = "DIR")]
    pub catalog: Option<PathBuf>,
    /// A register of units (seeds/units/*.toml): step roles resolve to the agency serving the
    /// dossier's administrative unit, and officers act only as that agency.
    #[arg(long, value_name = "FILE")]
    pub units: Option<PathBuf>,
    /// A file holding the province's identity key (at least 32 bytes): applicants' CCCDs and
    /// tax codes are kept only as keyed hashes under it. Keep it as long as the store.
    #[arg(long, value_name = "FILE")]
    pub identity_key_file: Option<PathBuf>,
    /// Digitisation rules (seeds/digitisation/*.toml): each counter receipt records the
    /// components it had to digitise and left on paper (or is refused, if the rules are strict).
    #[arg(long, value_name = "FILE")]
    pub digitisation: Option<PathBuf>,
    /// Mark the pages' session cookie `Secure` (sent over HTTPS only): for a portal served
    /// over HTTPS, behind its TLS terminator.
    #[arg(long)]
    pub secure_cookie: bool,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(Args, Debug)]
pub struct TokenCmd {
    /// A file holding the token-signing secret (the server's).
    #[arg(long, value_name = "FILE")]
    pub secret_file: PathBuf,
    /// citizen, clerk, specialist, leader or system.
    #[arg(long)]
    pub role: String,
    /// The officer's agency code.
    #[arg(long, value_name = "CODE")]
    pub agency: Option<String>,
    /// The actor's pseudonymous id.
    #[arg(long, value_name = "ID")]
    pub actor: String,
    /// How long it is valid: 8h, 30m, 2d or seconds.
    #[arg(long, default_value = "8h")]
    pub ttl: String,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("view").required(true).args(["overdue", "due_within"])))]
pub struct DeadlinesCmd {
    /// The store: sqlite:PATH, or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The instant asked about: YYYY-MM-DDTHH:MM (local +07:00) or RFC 3339 with an offset.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: String,
    /// Open dossiers past their due time at --as-of (a stopped clock is never overdue).
    #[arg(long)]
    pub overdue: bool,
    /// Open dossiers due from --as-of to the end of this limit ("2 working days", "8 working
    /// hours", "3 days"), on the working-time calendar.
    #[arg(long, value_name = "LIMIT")]
    pub due_within: Option<String>,
    /// Only dossiers received by this agency.
    #[arg(long, value_name = "CODE")]
    pub agency: Option<String>,
    /// Only dossiers whose current step this agency handles.
    #[arg(long, value_name = "AGENCY")]
    pub step_agency: Option<String>,
    /// Only dossiers of this procedure.
    #[arg(long, value_name = "CODE")]
    pub procedure: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(Args, Debug)]
pub struct ReportCmd {
    /// The store: sqlite:PATH, or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    /// Procedure catalog for names and sectors (default: seeds/procedures when present).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Online services offered (e.g. 829): adds indicator 3.2, the share that had online dossiers.
    #[arg(long, value_name = "N")]
    pub services: Option<u64>,
    /// A register of units (seeds/units/*.toml): adds the breakdown by administrative unit,
    /// rolled up into the units above.
    #[arg(long, value_name = "FILE")]
    pub units: Option<PathBuf>,
    /// Judge open dossiers at this instant (default: 23:59 on 31 December of the last year with
    /// a receipt): YYYY-MM-DDTHH:MM (local +07:00) or RFC 3339 with an offset.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// The periods of completion indicator 2.1 is reported by (with dossiers carried over).
    #[arg(long, value_enum, default_value_t)]
    pub period: ReportPeriod,
    /// Only dossiers received on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only dossiers received on or before this day (YYYY-MM-DD), e.g. 2023-06-30 for the
    /// first half.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// The province's calendar: working-day averages follow its notices and office hours.
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

/// `--period` of `motcua report`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReportPeriod {
    /// Calendar months.
    #[default]
    Month,
    /// Quarters.
    Quarter,
    /// Half-years.
    Half,
    /// Years.
    Year,
}

#[derive(Args, Debug)]
pub struct SimulateCmd {
    /// The calibration profile (e.g. seeds/profiles/ninh-thuan-2023.toml).
    #[arg(long)]
    pub profile: PathBuf,
    /// Seed: the same seed gives the same year.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Multiply the profile's counts.
    #[arg(long, default_value_t = 1)]
    pub scale: u64,
    /// Where events go: memory, sqlite:PATH or postgres://USER@HOST:PORT/DB?province=NAME (durable).
    #[arg(long, default_value = "memory")]
    pub store: String,
    /// Replace an existing SQLite file (or the province's rows in PostgreSQL).
    #[arg(long)]
    pub overwrite: bool,
    /// Procedure catalog (default: ../procedures beside the profile).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Commands per store transaction (group commit).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Run the national-portal sync worker after every chunk of dossiers (an in-process portal
    /// that acknowledges every message), so delivered messages leave the outbox.
    #[arg(long)]
    pub sync: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the year's report as one self-contained HTML page (as `motcua report --format html`).
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StoreCmd {
    /// The store: sqlite:PATH, or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
}

#[derive(Args, Debug)]
pub struct DossierCmd {
    /// The store: sqlite:PATH, or postgres://USER@HOST:PORT/DB?province=NAME.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The dossier code.
    pub code: String,
    /// Output format (text or json).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct PathsCmd {
    /// Files or folders (every *.toml below a folder).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Options shared by every command that builds a calendar.
#[derive(Args, Debug, Clone, Default)]
pub struct CalendarArgs {
    /// A folder of notice files (YYYY.toml) that add to or replace the built-in 2020–2026 ones.
    #[arg(long, value_name = "DIR")]
    pub notices: Option<PathBuf>,
    /// A province office-hours file (sessions, seasons, cut-off) instead of the national default.
    #[arg(long, value_name = "FILE")]
    pub hours: Option<PathBuf>,
    /// Do not treat 24/11 (Ngày Văn hóa Việt Nam) as a day off from 2026.
    #[arg(long)]
    pub no_culture_day: bool,
}

impl CalendarArgs {
    /// Reads the files and builds a calendar for `first..=last`.
    pub fn resolve(&self, first: i32, last: i32) -> Result<WorkCalendar> {
        self.source()?(first, last)
    }

    /// Reads the files once and returns what builds a calendar for any `first..=last` from
    /// them (a report builds one for the years its receipts fall in).
    pub fn source(&self) -> Result<impl Fn(i32, i32) -> Result<WorkCalendar>> {
        let mut notices = Notices::builtin();
        if let Some(dir) = &self.notices {
            notices.load_dir(dir)?;
        }
        let hours = match &self.hours {
            Some(file) => OfficeHours::load(file)?,
            None => OfficeHours::national_default(),
        };
        let rules = HolidayRules { culture_day: !self.no_culture_day };
        Ok(move |first, last| {
            let cal = WorkCalendar::builder()
                .years(first, last)
                .notices(notices.clone())
                .office_hours(hours.clone())
                .rules(rules)
                .build()?;
            Ok(cal)
        })
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text for people.
    #[default]
    Text,
    /// Comma-separated values.
    Csv,
    /// JSON.
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// Aligned text for people.
    #[default]
    Text,
    /// JSON.
    Json,
    /// One CSV table.
    Csv,
    /// A self-contained HTML page with inline SVG charts.
    Html,
}

#[derive(Args, Debug)]
pub struct CalendarCmd {
    /// The year to list.
    #[arg(long)]
    pub year: i32,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

#[derive(Args, Debug)]
pub struct DueCmd {
    /// Receipt time: YYYY-MM-DDTHH:MM (local +07:00) or RFC 3339 with an offset.
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pub received: Option<String>,
    /// Time limit: "N working days" (steps of 0.25), "N working hours", "N days", "same day", "no due time".
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pub limit: Option<String>,
    /// A CSV file with header `received,limit` ("-" for standard input); writes CSV
    /// `received,limit,clock_start,due`.
    #[arg(long, value_name = "FILE")]
    pub batch: Option<PathBuf>,
    /// Cut-off for the clock start (HH:MM, or "none"); default: the office-hours file's, else 15:00.
    #[arg(long, value_name = "HH:MM|none")]
    pub cutoff: Option<String>,
    /// Output format for a single dossier (a batch always writes CSV).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

/// Parses `--cutoff`.
pub fn parse_cutoff(s: &str) -> Result<Option<u16>> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    parse_minute_of_day(s).map(Some).with_context(|| format!("--cutoff {s:?}: expected HH:MM or \"none\""))
}
