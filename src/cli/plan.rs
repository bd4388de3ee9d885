//! `partialdump plan`: explain a dump before running it.

use super::dump::SubsetArgs;
use crate::config;
use crate::dump::prepare;
use crate::engine::{open_source, url::ConnUrl};
use crate::error::Result;
use clap::Args;
use std::process::ExitCode;

/// Show what a dump would do: tables in load order with exact row counts and the edges that
/// bring them in, cycle breaks, and the queries it runs. Reads keys, never rows.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Database to read: mysql://user[:password]@host[:port]/db or sqlite:path/to/file.db
    #[arg(long, value_name = "URL")]
    source: String,

    #[command(flatten)]
    subset: SubsetArgs,

    /// Say why a row is in the dump: the path of edges from a root to TABLE.COL=VALUE
    #[arg(long, value_name = "TABLE.COL=VALUE")]
    explain: Option<String>,

    /// Print the plan as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: PlanArgs) -> Result<ExitCode> {
    let url = ConnUrl::parse(&args.source)?;
    let graph = config::load(&args.subset.graph)?;
    let mut source = open_source(&url)?;
    let request = args.subset.request();
    let prepared = prepare(source.as_mut(), &graph, &request)?;
    for w in &prepared.warnings {
        eprintln!("partialdump: warning: {w}");
    }
    let report = crate::plan::plan(
        source.as_mut(),
        &prepared,
        &request,
        args.explain.as_deref(),
    )?;
    if let Some(note) = &report.note {
        eprintln!("partialdump: note: {note}");
    }
    for w in &report.warnings {
        eprintln!("partialdump: warning: {w}");
    }
    if args.json {
        super::out(format!(
            "{}\n",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ))?;
    } else {
        super::out(report.to_string())?;
    }
    Ok(ExitCode::SUCCESS)
}
