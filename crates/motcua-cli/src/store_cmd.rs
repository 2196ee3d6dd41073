//! `motcua verify --store sqlite:PATH` and `motcua dossier --store sqlite:PATH CODE`.

use crate::outln;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use motcua_core::DossierCode;
use motcua_engine::{hex, verify_with_progress, Store, VerifyError};
use motcua_store_postgres::PostgresStore;
use motcua_store_sqlite::SqliteStore;
use serde::Serialize;

use crate::args::Format;
use crate::exit;

/// Opens `--store` only to read it: `sqlite:PATH` or a PostgreSQL URL
/// (`postgres://…?province=NAME`). Nothing is created, migrated or written: a missing, empty or
/// foreign store is an error that says so.
pub fn open_existing(spec: &str) -> Result<Box<dyn Store>> {
    if is_postgres(spec) {
        let store = PostgresStore::open_existing(spec).with_context(|| format!("--store {}", redact(spec)))?;
        return Ok(Box::new(store));
    }
    let path = sqlite_path(spec)?;
    if !path.is_file() {
        bail!("--store {spec:?}: no such file");
    }
    Ok(Box::new(SqliteStore::open_read_only(&path).with_context(|| format!("--store {spec}"))?))
}

/// `motcua migrate`: opens an existing store to write, which migrates its schema (and
/// nothing else), then says which schema it is at.
pub fn migrate_cmd(spec: &str) -> Result<u8> {
    if is_postgres(spec) {
        // A province that is not there, or a database without motcua's tables, is refused
        // (nothing created); one of another schema is migrated by opening it to write.
        match PostgresStore::open_existing(spec) {
            Ok(_) => {}
            Err(e) if e.to_string().contains("schema") => {
                PostgresStore::open(spec).with_context(|| format!("--store {}", redact(spec)))?;
            }
            Err(e) => return Err(e).with_context(|| format!("--store {}", redact(spec))),
        }
        outln!("ok: at schema {}", motcua_store_postgres::SCHEMA_VERSION);
        return Ok(exit::OK);
    }
    let path = sqlite_path(spec)?;
    if !path.is_file() {
        bail!("--store {spec:?}: no such file");
    }
    // A foreign or empty file is refused before anything is written to it.
    if SqliteStore::schema_of(&path).with_context(|| format!("--store {spec}"))? == 0 {
        bail!("--store {spec}: not a motcua store");
    }
    SqliteStore::open(&path).with_context(|| format!("--store {spec}"))?;
    outln!("ok: at schema {}", motcua_store_sqlite::SCHEMA_VERSION);
    Ok(exit::OK)
}

/// The path of `sqlite:PATH` (an error for another scheme or an empty path).
pub fn sqlite_path(spec: &str) -> Result<PathBuf> {
    match spec.strip_prefix("sqlite:") {
        Some("") => bail!("--store {spec:?}: sqlite: needs a file path (sqlite:PATH)"),
        Some(path) => Ok(PathBuf::from(path)),
        None => bail!("--store {:?}: expected sqlite:PATH or postgres://…", redact(spec)),
    }
}

/// Whether `spec` names a PostgreSQL store.
pub fn is_postgres(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// `spec` without a password, for messages.
pub fn redact(spec: &str) -> String {
    match (spec.find("://"), spec.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user = &spec[scheme + 3..at];
            match user.split_once(':') {
                Some((name, _)) => format!("{}{name}:***{}", &spec[..scheme + 3], &spec[at..]),
                None => spec.to_string(),
            }
        }
        _ => spec.to_string(),
    }
}

pub fn verify_cmd(spec: &str) -> Result<u8> {
    let store = open_existing(spec)?;
    // A spinner with the running count on a terminal only (a national file takes minutes).
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        let style = indicatif::ProgressStyle::with_template("{spinner} {pos} dossiers, {msg} verified ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        bar.set_style(style);
        bar
    });
    let mut progress = |r: &motcua_engine::VerifyReport| {
        if let Some(b) = &bar {
            if r.dossiers % 4096 == 0 {
                b.set_position(r.dossiers);
                b.set_message(format!("{} events", r.events));
            }
        }
    };
    let result = verify_with_progress(&*store, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(r) => {
            outln!("ok: {} dossiers, {} events; every chain and projection checks out", r.dossiers, r.events);
            Ok(exit::OK)
        }
        Err(e @ (VerifyError::Fault(_) | VerifyError::Counters(_) | VerifyError::Integrity(_))) => {
            outln!("FAULT: {e}");
            Ok(exit::FAILURES)
        }
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct JsonEvent<'a> {
    seq: u64,
    at: String,
    /// Who caused it (sealed with it; absent in events written before envelope schema 3).
    actor: Option<&'a motcua_engine::Actor>,
    event: &'a motcua_core::Event,
    hash: String,
}

/// `id (role, unit)`, or `-` for an event sealed before actors were.
fn who(actor: Option<&motcua_engine::Actor>) -> String {
    match actor {
        Some(a) => {
            let role =
                serde_json::to_value(a.role).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            match a.agency.as_deref() {
                Some(unit) => format!("{} ({role}, {unit})", a.id),
                None => format!("{} ({role})", a.id),
            }
        }
        None => "-".to_string(),
    }
}

pub fn dossier_cmd(spec: &str, code: &str, format: Format) -> Result<u8> {
    let code: DossierCode = code.parse().context("dossier code")?;
    let store = open_existing(spec)?;
    let Some(stream) = store.load(&code)? else {
        bail!("no dossier {code} in {spec}");
    };
    // When each of its messages reached the national portal (the delivery ledger).
    let delivered: std::collections::HashMap<u64, motcua_calendar::Timestamp> =
        store.deliveries(&code)?.into_iter().map(|d| (d.seq, d.delivered_at)).collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let ledger: Vec<serde_json::Value> = {
                let mut l: Vec<_> = delivered.iter().collect();
                l.sort();
                l.into_iter()
                    .map(|(seq, at)| serde_json::json!({ "seq": seq, "delivered_at": at.to_string() }))
                    .collect()
            };
            let events: Vec<JsonEvent> = stream
                .events
                .iter()
                .map(|e| JsonEvent {
                    seq: e.seq,
                    at: e.event.at().to_string(),
                    actor: e.actor.as_ref(),
                    event: &e.event,
                    hash: hex(&e.hash),
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({
                    "dossier": code.to_string(),
                    "summary": stream.summary,
                    "events": events,
                    "delivered_to_national_portal": ledger,
                }),
            )?;
            writeln!(out)?;
        }
        _ => {
            if let Some(s) = &stream.summary {
                let show = |t: Option<motcua_calendar::Timestamp>| t.map_or("-".to_string(), |t| t.to_string());
                writeln!(out, "dossier    {code}")?;
                writeln!(out, "procedure  {}", s.procedure.as_ref().map_or("-".into(), |p| p.to_string()))?;
                writeln!(
                    out,
                    "status     {} (national {})",
                    s.status.as_deref().unwrap_or("-"),
                    s.national.map_or("-".into(), |n| n.to_string())
                )?;
                writeln!(out, "received   {}", show(s.received_at))?;
                writeln!(out, "due        {}", show(s.due))?;
                writeln!(out, "finished   {}", show(s.finished_at))?;
                writeln!(out, "outcome    {}", s.outcome.map_or("-".into(), |o| format!("{o:?}")))?;
                writeln!(out)?;
            }
            for e in &stream.events {
                let detail = serde_json::to_string(&e.event)?;
                writeln!(
                    out,
                    "{:>3}  {}  {:<32} {:<32} {}…  {}",
                    e.seq,
                    e.event.at(),
                    e.event.name(),
                    who(e.actor.as_ref()),
                    &hex(&e.hash)[..12],
                    detail
                )?;
                if let Some(at) = delivered.get(&e.seq) {
                    writeln!(out, "     → national portal acknowledged its message at {at}")?;
                }
            }
        }
    }
    Ok(exit::OK)
}
