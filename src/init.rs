//! `init`: write a starter graph from a live schema.
//!
//! Every table gets an entry. From the root table downward, each table that references an owned
//! table through a foreign key becomes its child (breadth first, so each table is owned by the
//! nearest owner). Declared foreign keys are listed as comments (they are read from the
//! database anyway). References that look like conventions but have no constraint
//! (`<table>_id`, `<singular>_id`, `<x>_type` + `<x>_id` pairs; `_ID` and camel case's
//! `MediaTypeId` too, under a prefix all
//! tables share, and by the name's last words: WordPress's `comment_post_ID` names `wp_posts`)
//! are suggested as commented `references`, except a table's own key named after it
//! (`address.address_id`) and a column whose type the key's cannot be. Tables the root cannot reach are marked `mode: skip` with a note to decide.
//! The file is valid as written: a dump with it works and loads with foreign-key checks on.

use crate::check::family;
use crate::engine::Source;
use crate::engine::value::Value;
use crate::error::{Error, Result, hint};
use crate::schema::{Schema, Table};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

/// The table a name like `account`, `accounts`, `Category` or `categories` most likely means:
/// that name, or failing it the one table whose name ends in `_` and that name (WordPress's
/// `wp_posts` for `post`: a prefix all of an application's tables share).
fn table_for(schema: &Schema, word: &str) -> Option<String> {
    let w = word.to_lowercase();
    let mut candidates = vec![w.clone(), format!("{w}s"), format!("{w}es")];
    if let Some(stem) = w.strip_suffix('y') {
        candidates.push(format!("{stem}ies"));
    }
    let named = |c: &String| {
        schema
            .tables
            .keys()
            .find(|t| t.to_lowercase() == *c)
            .cloned()
    };
    let prefixed = |c: &String| {
        let suffix = format!("_{c}");
        let mut found = schema
            .tables
            .keys()
            .filter(|t| t.to_lowercase().ends_with(&suffix));
        match (found.next(), found.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        }
    };
    candidates
        .iter()
        .find_map(named)
        .or_else(|| candidates.iter().find_map(prefixed))
}

/// The table a reference column's name without `_id` (`user`, `comment_post`) most likely
/// means: the whole name's, or else that of its last words (`comment_post_ID` names a post,
/// `billing_address_id` an address).
fn table_for_stem(schema: &Schema, stem: &str) -> Option<String> {
    // Words at `_` and where a lower-case letter meets an upper-case one (`MediaType`).
    let mut words: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for ch in stem.chars() {
        if ch == '_' || words.is_empty() || (prev_lower && ch.is_uppercase()) {
            words.push(String::new());
        }
        if let Some(w) = words.last_mut().filter(|_| ch != '_') {
            w.push(ch);
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
    }
    words.retain(|w| !w.is_empty());
    (0..words.len()).find_map(|i| {
        // Joined as tables are named: `media_type`, `mediatype` (`MediaType`).
        table_for(schema, &words[i..].join("_")).or_else(|| table_for(schema, &words[i..].concat()))
    })
}

/// What a column named as a reference names, by convention: the name without `_id` (in any
/// case: WordPress's `comment_post_ID`), or without the `Id` or `ID` that ends a name in
/// camel case (`customerId`, `MediaTypeId`); None for other names.
fn reference_stem(name: &str) -> Option<&str> {
    let cut = |n: usize| {
        name.len()
            .checked_sub(n)
            .filter(|&at| name.is_char_boundary(at))
    };
    if let Some(at) = cut(3).filter(|&at| name[at..].eq_ignore_ascii_case("_id")) {
        return Some(&name[..at]);
    }
    let at = cut(2).filter(|&at| matches!(&name[at..], "Id" | "ID"))?;
    name[..at]
        .chars()
        .next_back()
        .filter(|c| c.is_lowercase() || c.is_ascii_digit())
        .map(|_| &name[..at])
}

/// Whether a column of `data_type` may hold `table`'s key: unless both are of known and
/// different families (a `stripe_customer_id VARCHAR` names no row of an INT-keyed `customers`).
fn key_type_fits(schema: &Schema, table: &str, data_type: &str) -> bool {
    let key_type = schema
        .table(table)
        .and_then(|t| match t.primary_key.as_slice() {
            [one] => t.column(one),
            _ => None,
        })
        .map(|k| k.data_type.as_str());
    match (key_type.and_then(family), family(data_type)) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

fn quote_yaml(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !s.is_empty() {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn fk_columns(t: &Table) -> BTreeSet<String> {
    t.foreign_keys
        .iter()
        .flat_map(|f| f.columns.iter().cloned())
        .collect()
}

/// Builds the starter graph. `source` is used to read the distinct values of polymorphic type
/// columns (`subject_type`), to suggest one reference per value.
pub fn init(
    source: &mut dyn Source,
    schema: &Schema,
    root: &str,
    graph_name: &str,
) -> Result<String> {
    let Some(_) = schema.table(root) else {
        return Err(Error::Usage(match schema.not_a_table(root) {
            Some(why) => format!("--root-table {root}: {why}"),
            None => format!(
                "--root-table {root}: the source has no such table that this user can see.{}",
                hint(root, schema.tables.keys())
            ),
        }));
    };

    // Ownership, breadth first from the root.
    let mut children: BTreeMap<String, Vec<(String, Vec<String>, bool)>> = BTreeMap::new();
    let mut owned: BTreeSet<String> = BTreeSet::from([root.to_string()]);
    let mut queue = VecDeque::from([root.to_string()]);
    while let Some(parent) = queue.pop_front() {
        for t in schema.tables.values() {
            if owned.contains(&t.name) {
                continue;
            }
            let refs: Vec<&crate::schema::ForeignKey> = t
                .foreign_keys
                .iter()
                .filter(|f| f.ref_table == parent)
                .collect();
            let Some(first) = refs.first() else { continue };
            children.entry(parent.clone()).or_default().push((
                t.name.clone(),
                first.columns.clone(),
                refs.len() > 1,
            ));
            owned.insert(t.name.clone());
            queue.push_back(t.name.clone());
        }
    }
    // Rows of owned tables bring their parents, transitively.
    let mut reached = owned.clone();
    let mut stack: Vec<String> = owned.iter().cloned().collect();
    while let Some(t) = stack.pop() {
        if let Some(table) = schema.table(&t) {
            for f in &table.foreign_keys {
                if schema.table(&f.ref_table).is_some() && reached.insert(f.ref_table.clone()) {
                    stack.push(f.ref_table.clone());
                }
            }
        }
    }

    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Relationship graph for a partialdump of `{root}` rows, written by `partialdump init`.\n\
         # Review it: the children below are guesses from foreign keys; commented `references` are\n\
         # guesses from column names. Declared foreign keys are read from the database at every run.\n\
         # Format: docs/graph-format.md. Check it against the schema with `partialdump check`.\n\
         # Use: partialdump dump --graph {graph_name} --root {root}.<column>=<value>\n\
         version: 1\ntables:"
    );
    for t in schema.tables.values() {
        let mut lines: Vec<String> = Vec::new();
        if !t.foreign_keys.is_empty() {
            lines.push(format!(
                "# foreign keys: {}",
                t.foreign_keys
                    .iter()
                    .map(|f| format!(
                        "{} -> {}.{}",
                        f.columns.join(","),
                        f.ref_table,
                        f.ref_columns.join(",")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        if t.primary_key.is_empty() {
            let key = t.row_key();
            lines.push(if key.is_empty() {
                "# no primary key and no unique index of NOT NULL columns: copied whole as the child of one table; elsewhere declare `key: [<unique columns>]`".into()
            } else if t.rowid.as_ref().is_some_and(|r| key == [r.clone()]) {
                "# no primary key: rows are told apart by SQLite's rowid, which a copy numbers afresh".into()
            } else {
                format!("# no primary key: rows are told apart by the unique index ({})", key.join(", "))
            });
        }
        // Convention suggestions.
        let fks = fk_columns(t);
        let mut suggestions = Vec::new();
        for c in &t.columns {
            let Some(stem) = reference_stem(&c.name) else {
                continue;
            };
            if fks.contains(&c.name) || stem.is_empty() {
                continue;
            }
            // A table's own key named after it (`address.address_id`) names its own row.
            let names_own_row =
                |target: &str| target == t.name && t.primary_key == [c.name.clone()];
            let type_col = format!("{stem}_type");
            // A table's own key is no polymorphic reference (WordPress's `comment_ID` beside
            // `comment_type`).
            if t.column(&type_col).is_some() && t.primary_key != [c.name.clone()] {
                let sql = format!(
                    "SELECT DISTINCT {tc} FROM {tb} WHERE {tc} IS NOT NULL ORDER BY 1 LIMIT 50",
                    tc = source.dialect().quote_ident(&type_col),
                    tb = source.dialect().quote_ident(&t.name)
                );
                let mut values = Vec::new();
                source.query(
                    &sql,
                    &format!("reading the values of {}.{type_col}", t.name),
                    &mut |row| {
                        if let Some(Value::Text(v)) = row.drain(..).next() {
                            values.push(v);
                        }
                        Ok(())
                    },
                )?;
                for v in values {
                    match table_for(schema, &v) {
                        Some(target) => suggestions.push(format!(
                            "- {{columns: {}, table: {}, when: {{{}: {}}}}}",
                            c.name,
                            quote_yaml(&target),
                            type_col,
                            quote_yaml(&v)
                        )),
                        None => lines.push(format!(
                            "# {}.{type_col} = {v:?} names no table: add a reference for it by hand",
                            t.name
                        )),
                    }
                }
            } else if let Some(target) = table_for_stem(schema, stem)
                .filter(|t| !names_own_row(t) && key_type_fits(schema, t, &c.data_type))
            {
                suggestions.push(format!(
                    "- {{columns: {}, table: {}}}",
                    c.name,
                    quote_yaml(&target)
                ));
            }
        }
        if !suggestions.is_empty() {
            lines.push("# references without a foreign key, guessed from names (uncomment to follow them):".into());
            lines.push("# references:".into());
            for sug in suggestions {
                lines.push(format!("#   {sug}"));
            }
        }
        let mut settings: Vec<String> = Vec::new();
        if let Some(ch) = children.get(&t.name) {
            settings.push("children:".into());
            for (child, via, ambiguous) in ch {
                if *ambiguous {
                    settings.push(format!(
                        "  - {{table: {}, via: [{}]}}   # it references {} in several ways: check `via`",
                        quote_yaml(child),
                        via.join(", "),
                        t.name
                    ));
                } else {
                    settings.push(format!("  - {}", quote_yaml(child)));
                }
            }
        }
        let unreached = !reached.contains(&t.name);
        if unreached {
            lines.push(format!(
                "# DECIDE: `{root}` rows never reach this table. Keep skipping it, copy it whole with"
            ));
            lines.push("# `mode: lookup`, or link it with `children` / `references`.".into());
            // Rows of a table it references come in as parents (Sakila's films, which a store's
            // inventory references, and their cast in `film_actor`).
            if let Some(f) = t
                .foreign_keys
                .iter()
                .find(|f| reached.contains(&f.ref_table) && !owned.contains(&f.ref_table))
            {
                lines.push(format!(
                    "# `{}` rows come in as rows others reference: to bring the rows here with each of them,",
                    f.ref_table
                ));
                lines.push(format!(
                    "# list `{{table: {}, always: true}}` under `{}: {{children: ...}}`.",
                    quote_yaml(&t.name),
                    quote_yaml(&f.ref_table)
                ));
            }
            settings.push("mode: skip".into());
        }
        let _ = writeln!(s);
        for l in &lines {
            let _ = writeln!(s, "  {l}");
        }
        if settings.is_empty() {
            let _ = writeln!(s, "  {}: {{}}", quote_yaml(&t.name));
        } else {
            let _ = writeln!(s, "  {}:", quote_yaml(&t.name));
            for l in settings {
                let _ = writeln!(s, "    {l}");
            }
        }
    }
    Ok(s)
}
