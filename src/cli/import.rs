//! `partialdump import`: load a dump into a target database, all or nothing.

use crate::dialect::OnConflict;
use crate::engine::{open_target, url::ConnUrl};
use crate::error::{Error, Result};
use crate::import::reader::{DumpReader, trailer_rows};
use crate::import::{ImportOptions, ImportReport, Progress, import};
use clap::Args;
use indicatif::ProgressBar;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

/// Load a dump (a file, or standard input) into a target database in one transaction.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Database to load into: mysql://user[:password]@host[:port]/db or sqlite:path/to/file.db
    #[arg(long, value_name = "URL")]
    target: String,

    /// The dump to load; `-` or nothing reads standard input
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,

    /// What to do with a row whose key the target already has
    #[arg(long, value_enum, default_value_t = OnConflict::Error)]
    on_conflict: OnConflict,

    /// Load without foreign-key checks (the dump's order makes them pass; this only saves time)
    #[arg(long)]
    disable_fk_checks: bool,

    /// Send INSERTs only, never MySQL's faster LOAD DATA LOCAL INFILE (from memory)
    #[arg(long)]
    no_bulk_load: bool,

    /// Largest statement sent to the target, in bytes
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    max_statement_bytes: usize,

    /// Write per-table rows, bytes and seconds as JSON to FILE
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,

    /// Print nothing on standard error unless there is an error
    #[arg(short, long)]
    quiet: bool,
}

fn open_input(file: &Option<PathBuf>) -> Result<(Box<dyn BufRead + Send>, String)> {
    match file {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p).map_err(|source| Error::Input {
                what: format!("the dump {}", p.display()),
                source,
                hint: " Check the path, or give `-` to read standard input.",
            })?;
            Ok((
                Box::new(BufReader::with_capacity(1 << 20, f)),
                p.display().to_string(),
            ))
        }
        // No file named, and a terminal to read: waiting for a dump typed by hand helps no one.
        None if std::io::stdin().is_terminal() => Err(Error::Usage(
            "no dump to import: name its file (`partialdump import --target URL dump.sql`) or \
             pipe one in (`partialdump dump … | partialdump import --target URL`); standard \
             input is a terminal. (`-` reads it all the same.)"
                .into(),
        )),
        _ => Ok((
            Box::new(BufReader::with_capacity(1 << 20, std::io::stdin())),
            "standard input".to_string(),
        )),
    }
}

pub fn run(args: ImportArgs) -> Result<ExitCode> {
    let url = ConnUrl::parse(&args.target)?;
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    // The dump is checked as it streams, inside the transaction, which rolls back (and drops the
    // tables the import created) on any problem: a file is read once, however large. The
    // progress bar's total is the count its trailer announces.
    let expected_rows = match &args.file {
        Some(p) if show_bar && p.as_os_str() != "-" => trailer_rows(p),
        _ => None,
    };
    let stats_file = super::StatsFile::prepare(args.stats_json.as_deref())?;
    let (input, name) = open_input(&args.file)?;
    let reader = DumpReader::new(input, &name)?;
    let mut target = open_target(&url)?;
    let options = ImportOptions {
        on_conflict: args.on_conflict,
        disable_fk_checks: args.disable_fk_checks,
        max_statement_bytes: args.max_statement_bytes,
        no_bulk_load: args.no_bulk_load,
    };
    let bar = show_bar.then(|| match expected_rows {
        Some(n) => ProgressBar::new(n).with_style(super::progress_style(
            "{bar:30} {human_pos}/{human_len} rows {rate} {msg}",
        )),
        None => ProgressBar::new_spinner().with_style(super::progress_style(
            "{spinner} {human_pos} rows {rate} {msg}",
        )),
    });
    let result = import(reader, target.as_mut(), &options, &mut |p: &Progress| {
        if let Some(b) = &bar {
            b.set_position(p.rows);
            b.set_message(p.table.to_string());
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = ImportReport {
        peak_memory_bytes: super::peak_memory_bytes(),
        ..result?
    };
    if let Some(file) = stats_file {
        file.write(&report, "the import itself went through and was committed")?;
    }
    if !args.quiet {
        eprint!("{}", summary(&report));
    }
    for w in &report.warnings {
        eprintln!("partialdump: warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The per-table report printed at the end.
pub fn summary(report: &ImportReport) -> String {
    let width = report
        .tables
        .iter()
        .map(|t| t.table.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = format!(
        "{:width$}  {:>10}  {:>10}  {:>8}\n",
        "table", "rows", "affected", "seconds"
    );
    for t in &report.tables {
        s.push_str(&format!(
            "{:width$}  {:>10}  {:>10}  {:>8.3}\n",
            t.table, t.rows, t.affected, t.seconds
        ));
    }
    s.push_str(&format!(
        "partialdump: imported {} rows into {} tables of {} in {:.2}s (on conflict: {})\n",
        report.rows,
        report.tables.len(),
        report.target,
        report.seconds,
        report.on_conflict
    ));
    s
}
