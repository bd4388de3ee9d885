//! `partialdump verify`: prove a copy holds the same subset as its source.

use super::dump::SubsetArgs;
use crate::config;
use crate::dump::DumpRequest;
use crate::engine::{open_source, open_target, url::ConnUrl};
use crate::error::{Error, Result};
use crate::schema::Side;
use crate::verify::{compare, datetime_columns, digest, unshared_columns};
use clap::Args;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Compute the subset for the same graph and roots on a source and a target, and compare row
/// counts and checksums of every table. Exit code 0 only when every table matches.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The database the dump was taken from
    #[arg(long, value_name = "URL")]
    source: String,

    /// The database it was imported into
    #[arg(long, value_name = "URL")]
    target: String,

    #[command(flatten)]
    subset: SubsetArgs,

    /// Compare FLOAT (single-precision) columns to N significant digits, e.g. 6 for a copy
    /// made by `mysqldump`, which writes FLOAT values to 6 (other columns stay exact)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=9))]
    float_digits: Option<u8>,

    /// The `--random-seed` the dump was cleansed with (the graph's cleansing rules are applied
    /// to the source's rows before they are compared; otherwise with the secret, as `dump`)
    #[arg(long, value_name = "N")]
    random_seed: Option<u64>,

    /// Print only differences (and nothing when everything matches)
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let source_url = ConnUrl::parse(&args.source)?;
    let target_url = ConnUrl::parse(&args.target)?;
    let graph = config::load(&args.subset.graph)?;
    let request = args.subset.request();
    // The copy holds the rows as the dump wrote them: the source's are cleansed by the same
    // rules (and secret or seed) before they are compared; the target's are compared as they
    // are.
    let on_source = DumpRequest {
        cleanse: Some(crate::cleanse::CleanseOptions {
            random_seed: args.random_seed,
            // Whether every personal column has a rule is the dump's question, not verify's.
            strictness_reported_apart: true,
            ..Default::default()
        }),
        ..request.clone()
    };
    let mut source = open_source(&source_url)?;
    // The target is opened for writing only because that is how targets open; verify reads.
    let mut target = open_target(&target_url)?;
    // Columns one side has and the other not (a migration the target had) are not compared.
    let (source_schema, target_schema) = (source.introspect()?, target.introspect()?);
    let (only_source, only_target) = unshared_columns(&source_schema, &target_schema);
    let datetimes = datetime_columns(&source_schema, &target_schema);
    if !args.quiet {
        for (side, only) in [("source", &only_source), ("target", &only_target)] {
            let cols: Vec<String> = only
                .iter()
                .flat_map(|(t, cs)| cs.iter().map(move |c| format!("`{t}.{c}`")))
                .collect();
            if !cols.is_empty() {
                eprintln!(
                    "partialdump: note: compared without {}, which only the {side} has",
                    cols.join(", ")
                );
            }
        }
    }
    let (source_digest, note) = digest(
        source.as_mut(),
        source_schema,
        &graph,
        &on_source,
        args.float_digits,
        (only_source, datetimes.clone()),
    )?;
    drop(source);
    if let Some(note) = note.filter(|_| !args.quiet) {
        eprintln!("partialdump: note: source: {note}");
    }
    // A target without the root holds none of the subset: every table differs, which is the
    // answer verify gives, not an error.
    let on_target = DumpRequest {
        side: Side::Target,
        ..request
    };
    let target_digest = match digest(
        target.as_mut(),
        target_schema,
        &graph,
        &on_target,
        args.float_digits,
        (only_target, datetimes),
    ) {
        Ok((digest, note)) => {
            if let Some(note) = note.filter(|_| !args.quiet) {
                eprintln!("partialdump: note: target: {note}");
            }
            digest
        }
        Err(Error::RootNotFound { root, .. }) => {
            let cleansed = if graph.file.cleanse.is_some() {
                " If the graph's cleansing rewrites the root's column, the copy holds the root \
                 under its cleansed value: give a root by a column the graph keeps as it is \
                 (--root-where)."
            } else {
                ""
            };
            eprintln!(
                "partialdump: note: root {root} matched no row in the target {}: none of the \
                 subset is there (was the dump imported into this database?).{cleansed}",
                target_url.redacted()
            );
            BTreeMap::new()
        }
        Err(e) => return Err(e),
    };
    let rows = compare(&source_digest, &target_digest);
    let width = rows.iter().map(|r| r.table.len()).max().unwrap_or(5).max(5);
    let mut out = format!(
        "{:width$}  {:>11}  {:>11}  {:>32}  {:>32}  result\n",
        "table", "source rows", "target rows", "source checksum", "target checksum"
    );
    let mut differences = 0;
    for r in &rows {
        let ok = r.matches();
        if !ok {
            differences += 1;
        }
        if ok && args.quiet {
            continue;
        }
        out.push_str(&format!(
            "{:width$}  {:>11}  {:>11}  {:032x}  {:032x}  {}\n",
            r.table,
            r.source.rows,
            r.target.rows,
            r.source.checksum,
            r.target.checksum,
            if ok { "ok" } else { "DIFFERENT" }
        ));
    }
    if differences == 0 {
        if !args.quiet {
            super::out(&out)?;
            super::out(format!(
                "partialdump: {} tables match between {} and {}\n",
                rows.len(),
                source_url.redacted(),
                target_url.redacted()
            ))?;
        }
        Ok(ExitCode::SUCCESS)
    } else {
        super::out(&out)?;
        super::out(format!(
            "partialdump: {differences} of {} tables differ between {} and {}\n",
            rows.len(),
            source_url.redacted(),
            target_url.redacted()
        ))?;
        Ok(ExitCode::from(1))
    }
}
