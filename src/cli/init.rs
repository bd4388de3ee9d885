//! `partialdump init`: write a starter relationship graph from a live schema.

use crate::engine::{open_source, url::ConnUrl};
use crate::error::{Error, Result};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Write a starter graph: every table, ownership from the root table down, declared foreign keys
/// as comments, guessed references as commented suggestions, unreachable tables marked to decide.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Database to read the schema from
    #[arg(long, value_name = "URL")]
    source: String,

    /// The table whose rows dumps start from (accounts, tenants, customers, ...)
    #[arg(long, value_name = "TABLE")]
    root_table: String,

    /// Write to FILE instead of standard output (an existing file is not overwritten)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Write the references guessed from column names as references, not comments, and own
    /// rows through them as through foreign keys: for a schema that declares none
    #[arg(long)]
    follow_guesses: bool,
}

pub fn run(args: InitArgs) -> Result<ExitCode> {
    let url = ConnUrl::parse(&args.source)?;
    let mut source = open_source(&url)?;
    let schema = source.introspect()?;
    let name = args
        .output
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "graph.yaml".into());
    let text = crate::init::init(
        source.as_mut(),
        &schema,
        &args.root_table,
        &name,
        args.follow_guesses,
    )?;
    match &args.output {
        Some(path) => {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|source| Error::Output {
                    what: match source.kind() {
                        std::io::ErrorKind::AlreadyExists => format!(
                            "{} (an existing file is not overwritten; remove it or pick another name)",
                            path.display()
                        ),
                        _ => path.display().to_string(),
                    },
                    source,
                })?;
            f.write_all(text.as_bytes())
                .map_err(|source| Error::Output {
                    what: path.display().to_string(),
                    source,
                })?;
            eprintln!(
                "partialdump: wrote {}; review it, then run `partialdump check`",
                path.display()
            );
        }
        None => super::out(text)?,
    }
    Ok(ExitCode::SUCCESS)
}
