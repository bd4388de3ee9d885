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

/// A `--stats-json FILE`, made ready before the work starts: a path that cannot be written
/// fails the command before a row is read or written, rather than after a dump or an import
/// that went through (an import reporting an error once it had committed). A regular file is
/// written beside it and renamed over it, so it never holds half its numbers; a device or a
/// FIFO (`/dev/stdout`) is opened now and written at the end.
pub(crate) enum StatsFile {
    /// The file, the one beside it, and its registration for removal should a signal end the
    /// process (which runs no destructor).
    Beside(
        std::path::PathBuf,
        tempfile::NamedTempFile,
        crate::interrupt::Pending,
    ),
    Direct(std::path::PathBuf, std::fs::File),
}

impl StatsFile {
    pub(crate) fn prepare(path: Option<&std::path::Path>) -> Result<Option<StatsFile>> {
        let Some(path) = path else {
            return Ok(None);
        };
        let failed = |source| crate::error::Error::Output {
            what: format!("the statistics file {}", path.display()),
            source,
        };
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(failed)?;
            return Ok(Some(StatsFile::Direct(path.to_path_buf(), file)));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => std::path::Path::new("."),
        };
        // A missing directory, in the system's words.
        std::fs::metadata(dir).map_err(failed)?;
        let tmp = tempfile::Builder::new()
            .prefix(".partialdump-stats-")
            .tempfile_in(dir)
            // Without the temporary file's name, which the user never gave.
            .map_err(|e| failed(std::io::Error::new(e.kind(), e.kind().to_string())))?;
        let pending = crate::interrupt::Pending::new(
            tmp.path(),
            format!(
                "statistics file {} (nothing was written there)",
                path.display()
            ),
        );
        Ok(Some(StatsFile::Beside(path.to_path_buf(), tmp, pending)))
    }

    /// Writes `stats` as JSON. `done` says what went through before, for the message should
    /// this fail (`the dump itself is complete`).
    pub(crate) fn write(self, stats: &impl serde::Serialize, done: &str) -> Result<()> {
        use std::io::Write;
        let text = serde_json::to_string_pretty(stats).unwrap_or_default() + "\n";
        let (path, written) = match self {
            StatsFile::Direct(path, mut file) => {
                let w = file.write_all(text.as_bytes());
                (path, w)
            }
            StatsFile::Beside(path, mut tmp, _pending) => {
                let w = tmp
                    .write_all(text.as_bytes())
                    .and_then(|()| tmp.persist(&path).map(drop).map_err(|e| e.error));
                (path, w)
            }
        };
        written.map_err(|source| crate::error::Error::Output {
            what: format!("the statistics file {} ({done})", path.display()),
            source,
        })
    }
}
