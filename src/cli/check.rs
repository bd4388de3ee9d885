//! `partialdump check`: validate a graph against the live schema; a CI gate.

use crate::config;
use crate::dump::refused_filters;
use crate::engine::{open_source, url::ConnUrl};
use crate::error::{Error, Result};
use clap::Args;
use std::process::ExitCode;

/// Check a graph against the live schema before any row is read. Exit code 0: clean;
/// 1: findings (printed one per line, or as JSON); 2: the check could not run.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Database whose schema the graph describes
    #[arg(long, value_name = "URL")]
    source: String,

    /// The YAML relationship graph
    #[arg(long, value_name = "FILE")]
    graph: std::path::PathBuf,

    /// Tables dumps start from (repeatable); by default the tables that own others (by edges other than `always` ones) and are owned by none
    #[arg(long, value_name = "TABLE")]
    root_table: Vec<String>,

    /// Also report cycles of NOT NULL references (which dumps load with foreign-key checks off)
    #[arg(long)]
    require_fk_checks: bool,

    /// Lint cleansing even when the graph has no `cleanse:` section
    #[arg(long)]
    strict_cleansing: bool,

    /// Print findings as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let url = ConnUrl::parse(&args.source)?;
    let mut source = open_source(&url)?;
    let schema = source.introspect()?;
    let findings = match config::load(&args.graph) {
        Ok(graph) => {
            let mut findings = crate::check::check(
                &graph,
                &schema,
                &args.root_table,
                args.require_fk_checks,
                args.strict_cleansing,
            );
            // With every name known, each `where` is tried on the source (no row read).
            if findings.is_empty() {
                let model = crate::graph::Model::resolve(&graph, &schema)?;
                for (pos, message) in refused_filters(source.as_mut(), &graph, &model)? {
                    findings.push(crate::check::Finding {
                        kind: "where",
                        location: format!("{}:{}:{}", graph.path, pos.line, pos.column),
                        message,
                        fix: None,
                    });
                }
            }
            findings
        }
        // A graph that does not parse is a finding, with its place.
        Err(Error::Config {
            path,
            line,
            column,
            message,
        }) => vec![crate::check::Finding {
            kind: "syntax",
            location: format!("{path}:{line}:{column}"),
            message,
            fix: None,
        }],
        Err(e) => return Err(e),
    };
    if args.json {
        super::out(format!(
            "{}\n",
            serde_json::to_string_pretty(&findings).unwrap_or_default()
        ))?;
    } else {
        for f in &findings {
            super::out(format!("{f}\n"))?;
        }
        if findings.is_empty() {
            eprintln!(
                "partialdump: {} matches {}",
                args.graph.display(),
                url.redacted()
            );
        } else {
            eprintln!("partialdump: {} finding(s)", findings.len());
        }
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
