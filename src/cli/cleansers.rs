//! `partialdump cleansers`: list the cleansers and fake kinds.

use crate::cleanse::{CLEANSERS, fakes};
use crate::error::Result;
use clap::Args;
use std::process::ExitCode;

/// List the cleansers, with an example each, and the kinds of fake values and locales.
#[derive(Debug, Args)]
pub struct CleansersArgs {}

pub fn run(_args: CleansersArgs) -> Result<ExitCode> {
    let mut s = String::from(
        "cleansers (in a graph: tables.<table>.cleanse.<column>: <rule>; see docs/cleansing.md):\n\n",
    );
    for (name, what, example) in CLEANSERS {
        s.push_str(&format!(
            "  {name:<11} {what}\n  {:<11} e.g. {example}\n\n",
            ""
        ));
    }
    s.push_str("fake kinds:\n\n");
    for (kind, what) in fakes::KINDS {
        s.push_str(&format!("  {kind:<15} {what}\n"));
    }
    s.push_str(&format!(
        "\nlocales (cleanse.locale): {}\n",
        fakes::LOCALES.join(", ")
    ));
    super::out(s)?;
    Ok(ExitCode::SUCCESS)
}
