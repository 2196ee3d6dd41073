//! `motcua serve` (the HTTP API over a store) and `motcua token` (a bearer token for it).

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use chrono::Datelike;
use motcua_calendar::Timestamp;
use motcua_catalog::Catalog;
use motcua_core::Procedure;
use motcua_engine::{Actor, ActorRole, Store};
use motcua_http::{issue_token, router, Api, Options};

use crate::args::{ExpireCmd, HandoverCmd, ServeCmd, TokenCmd};
use crate::exit;
use crate::outln;

/// The signing secret in `path`: its bytes, surrounding whitespace trimmed, at least 16.
fn secret(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("--secret-file {}", path.display()))?;
    let text = bytes.trim_ascii();
    if text.len() < 16 {
        bail!("--secret-file {}: the secret must hold at least 16 bytes", path.display());
    }
    Ok(text.to_vec())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The wall clock as an instant (the server stamps commands with it).
fn now() -> Timestamp {
    Timestamp::from_utc_minutes((unix_now() / 60) as i64)
}

/// Parses `8h`, `30m`, `2d` or a number of seconds.
fn parse_ttl(s: &str) -> Result<u64> {
    let bad = || anyhow!("--ttl {s:?}: expected 8h, 30m, 2d or seconds");
    let (n, unit) = match s.trim().char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s.trim()[..i], c),
        _ => (s.trim(), 's'),
    };
    let n: u64 = n.parse().map_err(|_| bad())?;
    let unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(unit).filter(|&t| t > 0 && t <= 366 * 86_400).ok_or_else(bad)
}

pub fn token(cmd: TokenCmd) -> Result<u8> {
    let secret = secret(&cmd.secret_file)?;
    let role: ActorRole = serde_json::from_value(serde_json::Value::String(cmd.role.clone()))
        .map_err(|_| anyhow!("--role {:?}: expected citizen, clerk, specialist, leader or system", cmd.role))?;
    let actor = match (role, &cmd.agency) {
        (ActorRole::Citizen, _) => Actor::citizen(&cmd.actor),
        (ActorRole::System, _) => Actor::system(&cmd.actor),
        (role, Some(agency)) => {
            let code: motcua_core::AgencyCode = agency.parse().with_context(|| format!("--agency {agency:?}"))?;
            Actor::officer(&cmd.actor, role, &code.to_string())
        }
        (_, None) => bail!("--agency: an officer's token names their agency"),
    };
    let ttl = parse_ttl(&cmd.ttl)?;
    let token = issue_token(&secret, &actor, unix_now(), ttl).map_err(|e| anyhow!("token: {e:?}"))?;
    outln!("{token}");
    Ok(exit::OK)
}

/// `motcua expire`: the daily sweep recording results past their last valid day.
pub fn expire(cmd: ExpireCmd) -> Result<u8> {
    let at = match &cmd.at {
        Some(text) => crate::deadlines_cmd::parse_instant(text)
            .map_err(|_| anyhow!("--at {text:?}: expected YYYY-MM-DDTHH:MM or RFC 3339 with an offset"))?,
        None => now(),
    };
    let dir = cmd.catalog.clone().unwrap_or_else(|| "seeds/procedures".into());
    let catalog = Catalog::load(&dir).map_err(|e| anyhow!("{e}"))?;
    let procedures: Vec<Procedure> = catalog.iter().cloned().collect();
    let year = at.local_date().year();
    let calendar = cmd.calendar.resolve(year - 1, year + 1)?;
    let numbers = if crate::store_cmd::is_postgres(&cmd.store) {
        let shown = crate::store_cmd::redact(&cmd.store);
        let store = motcua_store_postgres::PostgresStore::open_existing(&cmd.store)
            .with_context(|| format!("--store {shown}"))?;
        sweep(store, procedures, calendar, at)?
    } else {
        let path = crate::store_cmd::sqlite_path(&cmd.store)?;
        if !path.is_file() {
            bail!("--store {:?}: no such file", cmd.store);
        }
        let store = motcua_store_sqlite::SqliteStore::open(&path).with_context(|| format!("--store {}", cmd.store))?;
        sweep(store, procedures, calendar, at)?
    };
    for n in &numbers {
        outln!("expired {n}");
    }
    outln!("{} result(s) recorded as expired at {at}", numbers.len());
    Ok(exit::OK)
}

/// `motcua handover`: an ended unit's open dossiers to another unit, each with an event.
pub fn handover(cmd: HandoverCmd) -> Result<u8> {
    let at = crate::deadlines_cmd::parse_instant(&cmd.as_of)
        .map_err(|_| anyhow!("--as-of {:?}: expected YYYY-MM-DDTHH:MM or RFC 3339 with an offset", cmd.as_of))?;
    let register = motcua_catalog::load_register(&cmd.units).map_err(|e| anyhow!("--units: {e}"))?;
    for (flag, unit) in [("--from", &cmd.from), ("--to", &cmd.to)] {
        if register.unit(unit).is_none() {
            eprintln!(
                "{flag} {:?}: not a unit of the register {}",
                motcua_calendar::terminal_safe(unit),
                cmd.units.display()
            );
            return Ok(exit::INVALID_INPUT);
        }
    }
    let dir = cmd.catalog.clone().unwrap_or_else(|| "seeds/procedures".into());
    let catalog = Catalog::load(&dir).map_err(|e| anyhow!("{e}"))?;
    let procedures: Vec<Procedure> = catalog.iter().cloned().collect();
    let year = at.local_date().year();
    let calendar = cmd.calendar.resolve(year - 1, year + 1)?;
    let units = Arc::new(register);
    let actor = Actor::system("handover");
    let motcua_engine::Handover { moved, refused } = if crate::store_cmd::is_postgres(&cmd.store) {
        let shown = crate::store_cmd::redact(&cmd.store);
        let store = motcua_store_postgres::PostgresStore::open_existing(&cmd.store)
            .with_context(|| format!("--store {shown}"))?;
        let mut engine = motcua_engine::Engine::new(store, procedures, calendar).with_units(units);
        engine.hand_over(&cmd.from, &cmd.to, at, &actor)?
    } else {
        let path = crate::store_cmd::sqlite_path(&cmd.store)?;
        if !path.is_file() {
            bail!("--store {:?}: no such file", cmd.store);
        }
        let store = motcua_store_sqlite::SqliteStore::open(&path).with_context(|| format!("--store {}", cmd.store))?;
        let mut engine = motcua_engine::Engine::new(store, procedures, calendar).with_units(units);
        engine.hand_over(&cmd.from, &cmd.to, at, &actor)?
    };
    for code in &moved {
        outln!("moved {code}");
    }
    for (code, why) in &refused {
        outln!("refused {code}: {}", motcua_calendar::terminal_safe(why));
    }
    outln!(
        "{} open dossier(s) of {} handed over to {} at {at}; {} refused",
        moved.len(),
        motcua_calendar::terminal_safe(&cmd.from),
        motcua_calendar::terminal_safe(&cmd.to),
        refused.len()
    );
    Ok(if refused.is_empty() { exit::OK } else { exit::FAILURES })
}

fn sweep<S: Store>(
    store: S,
    procedures: Vec<Procedure>,
    calendar: motcua_calendar::WorkCalendar,
    at: Timestamp,
) -> Result<Vec<String>> {
    let mut engine = motcua_engine::Engine::new(store, procedures, calendar);
    Ok(engine.expire_results(at, &Actor::system("expiry-sweep"))?)
}

pub fn serve(cmd: ServeCmd) -> Result<u8> {
    let secret = secret(&cmd.secret_file)?;
    let dir = cmd.catalog.clone().unwrap_or_else(|| "seeds/procedures".into());
    let catalog = Catalog::load(&dir).map_err(|e| anyhow!("{e}"))?;
    let procedures: Vec<Procedure> = catalog.iter().cloned().collect();
    let year = now().local_date().year();
    let calendar = cmd.calendar.resolve(year - 1, year + 3)?;
    let units = match &cmd.units {
        Some(path) => Some(Arc::new(motcua_catalog::load_register(path).map_err(|e| anyhow!("--units: {e}"))?)),
        None => None,
    };
    let identity = match &cmd.identity_key_file {
        Some(path) => {
            let text = motcua_calendar::read_input(path)
                .map_err(|e| anyhow!("--identity-key-file {}: {e}", path.display()))?;
            let key = motcua_core::IdentityKey::new(text.trim().as_bytes())
                .map_err(|e| anyhow!("--identity-key-file {}: {e}", path.display()))?;
            Some(key)
        }
        None => None,
    };
    let digitisation = match &cmd.digitisation {
        Some(path) => {
            Some(Arc::new(motcua_catalog::load_digitisation(path).map_err(|e| anyhow!("--digitisation: {e}"))?))
        }
        None => None,
    };
    let options = Options { units, identity, digitisation, secure_cookie: cmd.secure_cookie, ..Options::default() };
    if crate::store_cmd::is_postgres(&cmd.store) {
        let shown = crate::store_cmd::redact(&cmd.store);
        let store =
            motcua_store_postgres::PostgresStore::open(&cmd.store).with_context(|| format!("--store {shown}"))?;
        run(store, procedures, calendar, &secret, &cmd.listen, options.clone())
    } else {
        let path = crate::store_cmd::sqlite_path(&cmd.store)?;
        let store = motcua_store_sqlite::SqliteStore::open(&path).with_context(|| format!("--store {}", cmd.store))?;
        run(store, procedures, calendar, &secret, &cmd.listen, options.clone())
    }
}

fn run<S: Store + 'static>(
    store: S,
    procedures: Vec<Procedure>,
    calendar: motcua_calendar::WorkCalendar,
    secret: &[u8],
    listen: &str,
    options: Options,
) -> Result<u8> {
    // One line per request on stderr (method, path, status, time, actor id; never a body).
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).try_init();
    // The services it handles, for reports (names, sectors, online level, integration).
    let rows: Vec<motcua_engine::ServiceRow> = procedures.iter().map(motcua_engine::ServiceRow::of).collect();
    store.put_services(&rows)?;
    let api = Api::start_with(Arc::new(store), procedures, calendar, secret, Arc::new(now), options);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("--listen {listen}"))?;
        let addr = listener.local_addr()?;
        outln!("listening on http://{addr}");
        // Ctrl-C (or SIGTERM's default) stops accepting; requests in flight finish first. Slow
        // or idle clients are cut off after 10 s, at most 1,024 connections are open at once.
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        motcua_http::serve(listener, router(api), motcua_http::Limits::default(), stop).await?;
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::parse_ttl;

    #[test]
    fn ttls() {
        assert_eq!(parse_ttl("8h").unwrap(), 28_800);
        assert_eq!(parse_ttl("30m").unwrap(), 1_800);
        assert_eq!(parse_ttl("2d").unwrap(), 172_800);
        assert_eq!(parse_ttl("90").unwrap(), 90);
        for bad in ["", "h", "0", "-1h", "8x", "9999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
