//! The command line: one module per subcommand, each with its arguments and handler.

mod check;
mod cleansers;
mod dump;
mod graph;
mod import;
mod init;
mod plan;
mod verify;

use crate::error::Result;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Copy part of a database: one customer's rows and everything they reference, as SQL that
/// loads with foreign-key checks on.
#[derive(Debug, Parser)]
#[command(name = "partialdump", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Dump(dump::DumpArgs),
    Import(import::ImportArgs),
    Verify(verify::VerifyArgs),
    Plan(plan::PlanArgs),
    Graph(graph::GraphArgs),
    Check(check::CheckArgs),
    Init(init::InitArgs),
    Cleansers(cleansers::CleansersArgs),
}

/// Writes `text` to standard output. A closed pipe (`partialdump plan … | head`) comes back as
/// an error that `main` treats as a quiet success, never as a panic.
pub(crate) fn out(text: impl AsRef<str>) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_ref().as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| crate::error::Error::Output {
            what: "standard output".into(),
            source,
        })
}

/// A progress style for `template`, which may use `{rate}`: rows per second, whole
/// (`52,310 rows/s`; indicatif's own `{per_sec}` prints four decimals).
pub(crate) fn progress_style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(
                    w,
                    "{} rows/s",
                    indicatif::HumanCount(state.per_sec() as u64)
                );
            },
        )
}

/// Parses the command line and runs the subcommand.
pub fn run() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Dump(args) => dump::run(args),
        Command::Import(args) => import::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Check(args) => check::run(args),
        Command::Init(args) => init::run(args),
        Command::Cleansers(args) => cleansers::run(args),
    }
}

/// The process's peak resident memory so far (`VmHWM`), on Linux; None elsewhere or when
/// `/proc` does not say.
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
