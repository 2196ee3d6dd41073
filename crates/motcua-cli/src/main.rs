//! `motcua`: the command-line face of the library. Only this crate knows about argv, stdout and
//! exit codes.

mod args;
mod calendar_cmd;
mod deadlines_cmd;
mod due_cmd;
mod import_cmd;
mod report_cmd;
mod rules_cmd;
mod serve_cmd;
mod sim_cmd;
mod store_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes, distinct so scripts can tell them apart.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// The command ran and found failures (`motcua test`, `verify`; `handover` when a dossier
    /// was refused).
    pub const FAILURES: u8 = 1;
    /// Invalid input: arguments, files or rows.
    pub const INVALID_INPUT: u8 = 2;
}

/// The simulator and the engine allocate many small, short-lived values (events, messages,
/// summaries); mimalloc serves them several times faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `println!` that returns the write error instead of panicking (a closed pipe, as in
/// `motcua … | head`, ends the command quietly; see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {
        {
            use std::io::Write as _;
            writeln!(std::io::stdout().lock(), $($arg)*)?
        }
    };
}
pub(crate) use outln;

/// Whether `e` comes from writing to a closed pipe (the reader went away: not an error).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let broken = |io: &std::io::Error| io.kind() == std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(broken)
            || c.downcast_ref::<csv::Error>().is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if broken(io)))
    })
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::INVALID_INPUT } else { exit::OK });
        }
    };
    let result = match cli.command {
        args::Command::Calendar(a) => calendar_cmd::run(a),
        args::Command::Due(a) => due_cmd::run(a),
        args::Command::Check(a) => rules_cmd::check(&a.paths),
        args::Command::Test(a) => rules_cmd::test(&a.paths),
        args::Command::Verify(a) => store_cmd::verify_cmd(&a.store),
        args::Command::Migrate(a) => store_cmd::migrate_cmd(&a.store),
        args::Command::Dossier(a) => store_cmd::dossier_cmd(&a.store, &a.code, a.format),
        args::Command::Simulate(a) => sim_cmd::run(a),
        args::Command::Report(a) => report_cmd::run(a),
        args::Command::Deadlines(a) => deadlines_cmd::run(a),
        args::Command::Expire(a) => serve_cmd::expire(a),
        args::Command::Handover(a) => serve_cmd::handover(a),
        args::Command::Serve(a) => serve_cmd::serve(a),
        args::Command::Token(a) => serve_cmd::token(a),
        args::Command::Catalog(args::CatalogCmd::Import(a)) => import_cmd::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("motcua: {e:#}");
            ExitCode::from(exit::INVALID_INPUT)
        }
    }
}
