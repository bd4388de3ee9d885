//! `partialdump graph`: draw the relationship graph.

use crate::config;
use crate::draw::Drawing;
use crate::engine::{open_source, url::ConnUrl};
use crate::error::Result;
use crate::graph::Model;
use clap::{Args, ValueEnum};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Dot,
    Mermaid,
}

/// Draw the relationship graph as Graphviz dot or Mermaid. With --source, declared foreign keys
/// are drawn too; without it, only what the graph file says.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The YAML relationship graph
    #[arg(long, value_name = "FILE")]
    graph: std::path::PathBuf,

    /// Read declared foreign keys from this database as well
    #[arg(long, value_name = "URL")]
    source: Option<String>,

    /// Output format (render dot with `dot -Tsvg`)
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    format: Format,
}

pub fn run(args: GraphArgs) -> Result<ExitCode> {
    let graph = config::load(&args.graph)?;
    let drawing = match &args.source {
        Some(url) => {
            let url = ConnUrl::parse(url)?;
            let mut source = open_source(&url)?;
            let schema = source.introspect()?;
            Drawing::from_model(&Model::resolve(&graph, &schema)?)
        }
        None => Drawing::from_file(&graph),
    };
    match args.format {
        Format::Dot => super::out(drawing.dot())?,
        Format::Mermaid => super::out(drawing.mermaid())?,
    }
    Ok(ExitCode::SUCCESS)
}
