//! `init`: write a starter graph from a live schema.
//!
//! Every table gets an entry. From the root table downward, each table that references an owned
//! table through a foreign key becomes its child: of the one its primary key says it belongs
//! to, where it references several ([`owners`]), else of one it never names as NULL, else of
//! the nearest to the root. Declared foreign keys are listed as comments (they are read from the
//! database anyway). References that look like conventions but have no constraint
//! (`<table>_id`, `<singular>_id`, `<x>_type` + `<x>_id` pairs, Django's `content_type_id` +
//! `object_id` ([`content_type_references`]); `_ID` and camel case's
//! `MediaTypeId` too, under a prefix all
//! tables share, and by the name's last words: WordPress's `comment_post_ID` names `wp_posts`;
//! a whole number leading an index, named by a table alone: MediaWiki's `rev_page`)
//! are suggested as commented `references`, except a table's own key named after it
//! (`address.address_id`) and a column whose type the key's cannot be. Tables the root cannot reach are marked `mode: skip` with a note to decide.
//! The file is valid as written: a dump with it works and loads with foreign-key checks on.

use crate::check::family;
use crate::engine::Source;
use crate::engine::value::Value;
use crate::error::{Error, Result, hint};
use crate::schema::{ForeignKey, Schema, Table};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

/// The table a name like `account`, `accounts`, `Category` or `categories` most likely means:
/// that name, or failing it the one table whose name ends in `_` and that name (WordPress's
/// `wp_posts` for `post`: a prefix all of an application's tables share).
fn table_for(schema: &Schema, word: &str) -> Option<String> {
    let candidates = name_forms(word);
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

/// The names, lower case, a table of `word`'s rows may have: `account`, `accounts`,
/// `categories` for `category`.
fn name_forms(word: &str) -> Vec<String> {
    let w = word.to_lowercase();
    let mut forms = vec![w.clone(), format!("{w}s"), format!("{w}es")];
    if let Some(stem) = w.strip_suffix('y') {
        forms.push(format!("{stem}ies"));
    }
    forms
}

/// The table a reference column's name without `_id` (`user`, `comment_post`) most likely
/// means: the whole name's, or else that of its last words (`comment_post_ID` names a post,
/// `billing_address_id` an address).
fn table_for_stem(schema: &Schema, stem: &str) -> Option<String> {
    let words = stem_words(stem);
    (0..words.len()).find_map(|i| {
        // Joined as tables are named: `media_type`, `mediatype` (`MediaType`).
        table_for(schema, &words[i..].join("_")).or_else(|| table_for(schema, &words[i..].concat()))
    })
}

/// Whether `stem`, or its last words, is `table`'s name itself (in one of [`name_forms`]),
/// not found through a prefix: a table's reference to itself is named so (`parent_category`
/// in `categories`); MediaWiki's `change_tag.ct_tag_id` names `change_tag_def`, not the
/// `change_tag` its `_tag` would find.
fn names_exactly(stem: &str, table: &str) -> bool {
    let words = stem_words(stem);
    let table = table.to_lowercase();
    (0..words.len()).any(|i| {
        [words[i..].join("_"), words[i..].concat()]
            .iter()
            .any(|w| name_forms(w).contains(&table))
    })
}

/// A name's words, at `_` and where a lower-case letter meets an upper-case one (`MediaType`).
fn stem_words(stem: &str) -> Vec<String> {
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
    words
}

/// The table a polymorphic reference's type value names: a table's name in any case (`Task`,
/// `tasks`), a class name in camel case (Rails' `BlogPost` for `blog_posts`), or in a
/// namespace (Rails' `Admin::User` for `admin_users`, else `users`; Laravel's
/// `App\Models\Post` for `posts`).
fn table_for_type(schema: &Schema, value: &str) -> Option<String> {
    table_for(schema, value)
        .or_else(|| table_for_stem(schema, &value.replace("::", "_").replace('\\', "_")))
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

/// The table a column names by its last words alone, without `_id` (MediaWiki's
/// `revision.rev_page`, `watchlist.wl_user`, `revision.rev_actor`): a whole number that leads
/// an index of its table (as a column rows are looked up by does; a count such as `cat_pages`
/// seldom does), and a table of that name keyed by one whole number. Not the table's own key,
/// nor a reference to its own table found only through the end of the table's name.
fn bare_reference(schema: &Schema, t: &Table, column: &str, data_type: &str) -> Option<String> {
    let leads_an_index = t
        .indexes
        .iter()
        .any(|i| i.first().is_some_and(|c| c == column));
    if family(data_type) != Some("integer")
        || !leads_an_index
        || t.primary_key == [column.to_string()]
    {
        return None;
    }
    table_for_stem(schema, column).filter(|target| {
        (*target != t.name || names_exactly(column, target))
            && schema
                .table(target)
                .and_then(|k| match k.primary_key.as_slice() {
                    [one] => k.column(one),
                    _ => None,
                })
                .is_some_and(|key| family(&key.data_type) == Some("integer"))
    })
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

/// A reference through a registry of types (Django's generic relations): `column` names a row
/// of `table` where `type_column` holds `type_id`.
struct TypedReference {
    column: String,
    table: String,
    type_column: String,
    type_id: String,
}

/// Django's generic relations in `t`: a foreign key `<prefix>content_type_id` to a registry of
/// types (a table with `app_label` and `model` columns, `django_content_type`) beside
/// `<prefix>object_id` (or `object_pk`), which names a row of the table `<app_label>_<model>`
/// (Django's table names). Adds to `g` one reference per type the rows hold, read from them;
/// notes for the types that name no table, or whose key the column cannot hold (the admin
/// log's text `object_id`); and the type columns found, whose registry owns nothing.
fn content_type_references(
    source: &mut dyn Source,
    schema: &Schema,
    t: &Table,
    g: &mut Guesses,
) -> Result<()> {
    for f in &t.foreign_keys {
        let ([type_column], [type_key]) = (f.columns.as_slice(), f.ref_columns.as_slice()) else {
            continue;
        };
        let lower = type_column.to_lowercase();
        let Some(prefix) = lower.strip_suffix("content_type_id") else {
            continue;
        };
        let Some(registry) = schema
            .table(&f.ref_table)
            .filter(|r| r.column("app_label").is_some() && r.column("model").is_some())
        else {
            continue;
        };
        let Some(object) = ["object_id", "object_pk"]
            .iter()
            .find_map(|o| t.column(&format!("{prefix}{o}")))
        else {
            continue;
        };
        g.type_columns.insert(type_column.clone());
        let d = source.dialect();
        let sql = format!(
            "SELECT DISTINCT r.{key}, r.{app}, r.{model} FROM {t} x JOIN {r} r ON r.{key} = x.{tc} \
             ORDER BY 1 LIMIT 50",
            key = d.quote_ident(type_key),
            app = d.quote_ident(
                &registry
                    .column("app_label")
                    .map_or("app_label".into(), |c| c.name.clone())
            ),
            model = d.quote_ident(
                &registry
                    .column("model")
                    .map_or("model".into(), |c| c.name.clone())
            ),
            t = d.quote_ident(&t.name),
            r = d.quote_ident(&registry.name),
            tc = d.quote_ident(type_column),
        );
        let mut types = Vec::new();
        source.query(
            &sql,
            &format!("reading the types {}.{type_column} names", t.name),
            &mut |row| {
                let mut v = row.drain(..);
                if let (Some(id), Some(Value::Text(app)), Some(Value::Text(model))) =
                    (v.next(), v.next(), v.next())
                {
                    types.push((id.display(), app, model));
                }
                Ok(())
            },
        )?;
        for (id, app, model) in types {
            let name = format!("{app}_{model}");
            let Some(target) = schema.tables.keys().find(|k| k.eq_ignore_ascii_case(&name)) else {
                g.notes.push(format!(
                    "# {}.{type_column} = {id} ({app}.{model}) names no table here: add a reference for it by hand",
                    t.name
                ));
                continue;
            };
            if !key_type_fits(schema, target, &object.data_type) {
                g.notes.push(format!(
                    "# {}.{} names `{target}` rows where {type_column} = {id}, but holds them as {}, \
                     another type than their key: a reference there would not match reliably",
                    t.name, object.name, object.data_type
                ));
                continue;
            }
            g.typed.push(TypedReference {
                column: object.name.clone(),
                table: target.clone(),
                type_column: type_column.clone(),
                type_id: id,
            });
        }
    }
    Ok(())
}

/// How an owned table is owned: through which foreign key, why that one, and the other owned
/// tables it references.
struct Owner<'a> {
    key: &'a ForeignKey,
    /// The reference to the owned table nearest to the root, which a ring falls back to.
    nearest: &'a ForeignKey,
    why: Why,
    others: Vec<&'a str>,
}

/// Why a table is owned through one foreign key rather than another.
enum Why {
    /// Its primary key begins with the reference's columns ([`ownership`] 2).
    KeyBegins,
    /// Its primary key holds them ([`ownership`] 1).
    KeyHolds,
    /// The others may be NULL.
    NotNull,
    /// It names the table nearest to the root.
    Nearest,
}

/// How strongly foreign key `f` of `t` says `t`'s rows belong to the rows it names: 2 when its
/// columns are the first of `t`'s primary key (an order line keyed by its order's key and a
/// number), 1 when they are in it (a many-to-many table's), else 0.
fn ownership(t: &Table, f: &ForeignKey) -> u8 {
    let pk = &t.primary_key;
    let n = f.columns.len();
    if n <= pk.len() && pk[..n].iter().all(|c| f.columns.contains(c)) {
        2
    } else if f.columns.iter().all(|c| pk.contains(c)) && !pk.is_empty() {
        1
    } else {
        0
    }
}

/// The owner of each table the root's rows own, by name: the tables with a chain of foreign
/// keys up to the root. A table referencing several of them is owned through the one its
/// primary key says it belongs to, else the nearest to the root. TPC-C's order lines reference
/// their order and the stock they came from, which a warehouse owns nearer to it: owned through
/// the stock, a warehouse's dump took other warehouses' order lines, orders and customers.
fn owners<'a>(schema: &'a Schema, root: &str) -> BTreeMap<String, Owner<'a>> {
    // The order in which a walk breadth first from the root meets them: nearer ones first.
    let mut met: BTreeMap<&str, usize> = BTreeMap::from([(root, 0)]);
    let mut queue = VecDeque::from([root]);
    while let Some(parent) = queue.pop_front() {
        for t in schema.tables.values() {
            if !met.contains_key(t.name.as_str())
                && t.foreign_keys.iter().any(|f| f.ref_table == parent)
            {
                met.insert(&t.name, met.len());
                queue.push_back(&t.name);
            }
        }
    }
    let mut owners = BTreeMap::new();
    for (&name, &order) in &met {
        let Some(t) = schema.table(name).filter(|_| order > 0) else {
            continue;
        };
        let candidates: Vec<&ForeignKey> = t
            .foreign_keys
            .iter()
            .filter(|f| f.ref_table != t.name && met.contains_key(f.ref_table.as_str()))
            .collect();
        let nearer = |f: &&ForeignKey| met[f.ref_table.as_str()];
        let Some(near) = candidates.iter().copied().min_by_key(nearer) else {
            continue;
        };
        // A row whose reference may be NULL is not owned through it when it is.
        let nullable = |f: &ForeignKey| {
            f.columns
                .iter()
                .any(|c| t.column(c).is_none_or(|col| col.nullable))
        };
        let best = candidates
            .iter()
            .copied()
            .min_by_key(|f| (std::cmp::Reverse(ownership(t, f)), nullable(f), nearer(f)))
            .unwrap_or(near);
        let mut others: Vec<&str> = Vec::new();
        for f in &candidates {
            if f.ref_table != best.ref_table && !others.contains(&f.ref_table.as_str()) {
                others.push(&f.ref_table);
            }
        }
        owners.insert(
            name.to_string(),
            Owner {
                key: best,
                nearest: near,
                why: match ownership(t, best) {
                    2 => Why::KeyBegins,
                    1 => Why::KeyHolds,
                    _ if !nullable(best) && candidates.iter().any(|f| nullable(f)) => Why::NotNull,
                    _ => Why::Nearest,
                },
                others,
            },
        );
    }
    // An owner chosen by its key may lie farther from the root, so tables could own each other
    // in a ring; those are owned through their nearest instead, which lies nearer the root.
    loop {
        let mut ring: Option<Vec<String>> = None;
        for name in owners.keys() {
            let mut path: Vec<&str> = vec![name];
            let mut at = name.as_str();
            while let Some(o) = owners.get(at) {
                at = &o.key.ref_table;
                if let Some(i) = path.iter().position(|&p| p == at) {
                    ring = Some(path[i..].iter().map(|p| p.to_string()).collect());
                    break;
                }
                path.push(at);
            }
            if ring.is_some() {
                break;
            }
        }
        let Some(ring) = ring else {
            break;
        };
        for name in ring {
            if let Some(o) = owners.get_mut(&name) {
                o.key = o.nearest;
                o.why = Why::Nearest;
            }
        }
    }
    owners
}

/// What `init` guesses of a table's references from its column names and its rows.
#[derive(Default)]
struct Guesses {
    /// A column naming a row of a table by its key: (column, table).
    plain: Vec<(String, String)>,
    /// Polymorphic references: Rails' `<x>_type` + `<x>_id` and Django's generic relations.
    typed: Vec<TypedReference>,
    /// What to tell of types naming no table, or of a column another type than the key.
    notes: Vec<String>,
    /// Django's type columns, whose registry owns none of the rows naming one.
    type_columns: BTreeSet<String>,
}

impl Guesses {
    fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.typed.is_empty()
    }

    /// The guesses as a graph's `references` entries.
    fn entries(&self) -> Vec<String> {
        self.typed
            .iter()
            .map(|r| {
                format!(
                    "- {{columns: {}, table: {}, when: {{{}: {}}}}}",
                    r.column,
                    quote_yaml(&r.table),
                    r.type_column,
                    quote_yaml(&r.type_id)
                )
            })
            .chain(
                self.plain
                    .iter()
                    .map(|(c, t)| format!("- {{columns: {c}, table: {}}}", quote_yaml(t))),
            )
            .collect()
    }
}

/// The references of `t` its names suggest (`<table>_id`, `<x>_type` + `<x>_id`, Django's
/// `content_type_id` + `object_id`), where no foreign key declares them.
fn guesses(source: &mut dyn Source, schema: &Schema, t: &Table) -> Result<Guesses> {
    let fks = fk_columns(t);
    let mut g = Guesses::default();
    content_type_references(source, schema, t, &mut g)?;
    for c in &t.columns {
        let Some(stem) = reference_stem(&c.name) else {
            if !fks.contains(&c.name)
                && let Some(target) = bare_reference(schema, t, &c.name, &c.data_type)
            {
                g.plain.push((c.name.clone(), target));
            }
            continue;
        };
        if fks.contains(&c.name) || stem.is_empty() {
            continue;
        }
        // A table's own key named after it (`address.address_id`) names its own row.
        let names_own_row = |target: &str| target == t.name && t.primary_key == [c.name.clone()];
        // `<x>_type`, or `<X>Type` in camel case (.NET's `AttachableType`).
        let type_col = [format!("{stem}_type"), format!("{stem}Type")]
            .into_iter()
            .find_map(|n| t.column(&n).map(|col| col.name.clone()))
            .unwrap_or_else(|| format!("{stem}_type"));
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
                match table_for_type(schema, &v) {
                    Some(target) => g.typed.push(TypedReference {
                        column: c.name.clone(),
                        table: target,
                        type_column: type_col.clone(),
                        type_id: v,
                    }),
                    None => g.notes.push(format!(
                        "# {}.{type_col} = {v:?} names no table: add a reference for it by hand",
                        t.name
                    )),
                }
            }
        } else if let Some(target) = table_for_stem(schema, stem).filter(|target| {
            !names_own_row(target)
                && key_type_fits(schema, target, &c.data_type)
                && (*target != t.name || names_exactly(stem, target))
        }) {
            g.plain.push((c.name.clone(), target));
        }
    }
    Ok(g)
}

/// `schema` with `guesses` as foreign keys, for ownership to follow them (`--follow-guesses`).
fn with_guesses(schema: &Schema, guesses: &BTreeMap<String, Guesses>) -> Schema {
    let mut out = schema.clone();
    for (name, g) in guesses {
        let Some(t) = out.tables.get_mut(name) else {
            continue;
        };
        let refs = g
            .plain
            .iter()
            .map(|(c, target)| (c, target))
            .chain(g.typed.iter().map(|r| (&r.column, &r.table)));
        for (column, target) in refs {
            let Some(key) = schema.table(target).map(|p| p.primary_key.clone()) else {
                continue;
            };
            t.foreign_keys.push(ForeignKey {
                name: format!("guessed {column}"),
                columns: vec![column.clone()],
                ref_table: target.clone(),
                ref_columns: key,
            });
        }
    }
    out
}

/// How `init` writes a child edge.
enum Edge {
    /// By the child's name: it references the parent one way.
    Plain,
    /// With the columns, as it references the parent in several ways.
    Ambiguous,
    /// With the column, through a polymorphic reference.
    Via,
}

/// Builds the starter graph. `source` is used to read the distinct values of polymorphic type
/// columns (`subject_type`), to suggest one reference per value. With `follow_guesses`, the
/// references guessed from names are written as references (not comments), and ownership
/// follows them as it follows foreign keys: a starting point for a schema that declares none
/// (WordPress, Stack Overflow's dump, many Rails applications).
pub fn init(
    source: &mut dyn Source,
    schema: &Schema,
    root: &str,
    graph_name: &str,
    follow_guesses: bool,
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
    let mut guessed: BTreeMap<String, Guesses> = BTreeMap::new();
    for t in schema.tables.values() {
        guessed.insert(t.name.clone(), guesses(source, schema, t)?);
    }
    let followed;
    let walked = match follow_guesses {
        true => {
            followed = with_guesses(schema, &guessed);
            &followed
        }
        false => schema,
    };

    let owners = owners(walked, root);
    let mut children: BTreeMap<String, Vec<(String, Vec<String>, Edge)>> = BTreeMap::new();
    let mut owned: BTreeSet<String> = owners.keys().cloned().collect();
    owned.insert(root.to_string());
    for (name, owner) in &owners {
        let Some(t) = walked.table(name) else {
            continue;
        };
        // Owned through a polymorphic reference: a child of every owned table it names there
        // (a comment of an owned task or project), each through its `when`.
        let typed: Vec<&TypedReference> = guessed[name]
            .typed
            .iter()
            .filter(|r| owner.key.columns == [r.column.clone()] && owned.contains(&r.table))
            .collect();
        if typed.iter().any(|r| r.table == owner.key.ref_table) {
            let mut parents: Vec<&str> = Vec::new();
            for r in typed {
                if !parents.contains(&r.table.as_str()) {
                    parents.push(&r.table);
                    children.entry(r.table.clone()).or_default().push((
                        name.clone(),
                        vec![r.column.clone()],
                        Edge::Via,
                    ));
                }
            }
            continue;
        }
        let refs = t
            .foreign_keys
            .iter()
            .filter(|f| f.ref_table == owner.key.ref_table)
            .count();
        children
            .entry(owner.key.ref_table.clone())
            .or_default()
            .push((
                name.clone(),
                owner.key.columns.clone(),
                match refs > 1 {
                    true => Edge::Ambiguous,
                    false => Edge::Plain,
                },
            ));
    }
    // Rows of owned tables bring their parents, transitively.
    let mut reached = owned.clone();
    let mut stack: Vec<String> = owned.iter().cloned().collect();
    while let Some(t) = stack.pop() {
        if let Some(table) = walked.table(&t) {
            for f in &table.foreign_keys {
                if walked.table(&f.ref_table).is_some() && reached.insert(f.ref_table.clone()) {
                    stack.push(f.ref_table.clone());
                }
            }
        }
    }

    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Relationship graph for a partialdump of `{root}` rows, written by `partialdump init`.\n\
         # Review it: the children below are guesses from foreign keys{}; {} `references` are\n\
         # guesses from column names. Declared foreign keys are read from the database at every run.\n\
         # Format: docs/graph-format.md. Check it against the schema with `partialdump check`.\n\
         # Use: partialdump dump --graph {graph_name} --root {root}.<column>=<value>\n\
         version: 1\ntables:",
        if follow_guesses {
            " and guessed references"
        } else {
            ""
        },
        if follow_guesses { "the" } else { "commented" },
    );
    let no_keys = schema.tables.values().all(|t| t.foreign_keys.is_empty());
    if no_keys && !follow_guesses && guessed.values().any(|g| !g.is_empty()) {
        let _ = writeln!(
            s,
            "  # The source declares no foreign keys, so nothing is owned from `{root}` but by the\n  \
             # guessed references below: `partialdump init --follow-guesses` writes them as references\n  \
             # and owns rows through them."
        );
    }
    for t in schema.tables.values() {
        let g = &guessed[&t.name];
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
        if let Some(o) = owners
            .get(&t.name)
            .filter(|o| !o.others.is_empty() && o.key.ref_table != root)
        {
            let why = match o.why {
                Why::KeyBegins => "its primary key begins with that reference".to_string(),
                Why::KeyHolds => "its primary key holds that reference".to_string(),
                Why::NotNull => "that reference is never NULL".to_string(),
                Why::Nearest => format!("the nearest to `{root}`"),
            };
            lines.push(format!(
                "# owned through `{}` ({why}), not through `{}`: check that its rows belong to `{}` rows",
                o.key.ref_table,
                o.others.join("`, `"),
                o.key.ref_table
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
        lines.extend(g.notes.iter().cloned());
        // Inside the table's entry, so that uncommenting them makes them its references.
        let mut guessed_lines: Vec<String> = Vec::new();
        if !g.is_empty() {
            match follow_guesses {
                true => {
                    guessed_lines.push(
                        "# references without a foreign key, guessed from names (check them):"
                            .into(),
                    );
                    guessed_lines.push("references:".into());
                    for e in g.entries() {
                        guessed_lines.push(format!("  {e}"));
                    }
                }
                false => {
                    guessed_lines.push("# references without a foreign key, guessed from names (uncomment to follow them):".into());
                    guessed_lines.push("# references:".into());
                    for e in g.entries() {
                        guessed_lines.push(format!("#   {e}"));
                    }
                }
            }
        }
        let mut settings: Vec<String> = Vec::new();
        if let Some(ch) = children.get(&t.name) {
            settings.push("children:".into());
            for (child, via, edge) in ch {
                settings.push(match edge {
                    Edge::Ambiguous => format!(
                        "  - {{table: {}, via: [{}]}}   # it references {} in several ways: check `via`",
                        quote_yaml(child),
                        via.join(", "),
                        t.name
                    ),
                    Edge::Via => format!(
                        "  - {{table: {}, via: {}}}",
                        quote_yaml(child),
                        via.join(", ")
                    ),
                    Edge::Plain => format!("  - {}", quote_yaml(child)),
                });
            }
        }
        let unreached = !reached.contains(&t.name);
        if unreached {
            lines.push(format!(
                "# DECIDE: `{root}` rows never reach this table. Keep skipping it, copy it whole with"
            ));
            lines.push("# `mode: lookup`, or link it with `children` / `references`.".into());
            // Through a generic relation, the rows of an owned table it names come with it
            // as its children (a post's tags in Django's `taggit_taggeditem`).
            // Through a guessed reference (polymorphic or not), the rows of owned tables it
            // names come with them as their children: a post's tags in Django's
            // `taggit_taggeditem`, a user's sessions named by a `user_id` without a key.
            let guessed_owners: Vec<(&str, &str)> = g
                .typed
                .iter()
                .map(|r| (r.column.as_str(), r.table.as_str()))
                .chain(g.plain.iter().map(|(c, t)| (c.as_str(), t.as_str())))
                .filter(|(_, table)| owned.contains(*table))
                .collect();
            if let Some(&(column, _)) = guessed_owners.first() {
                let mut names: Vec<&str> = Vec::new();
                for &(c, table) in &guessed_owners {
                    if c == column && !names.contains(&table) {
                        names.push(table);
                    }
                }
                lines.push(format!(
                    "# It names owned rows through {column}: to bring their rows here, remove `mode: skip`, uncomment"
                ));
                lines.push(format!(
                    "# its references below and list `{{table: {}, via: {column}}}` among the children of `{}`.",
                    quote_yaml(&t.name),
                    names.join("` and `")
                ));
            } else if let Some(f) =
                walked
                    .table(&t.name)
                    .unwrap_or(t)
                    .foreign_keys
                    .iter()
                    .find(|f| {
                        reached.contains(&f.ref_table)
                    && !owned.contains(&f.ref_table)
                    // A registry of types owns none of the rows naming one.
                    && !f.columns.iter().any(|c| g.type_columns.contains(c))
                    })
            {
                // Rows of a table it references come in as parents (Sakila's films, which a
                // store's inventory references, and their cast in `film_actor`).
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
        if settings.is_empty() && guessed_lines.is_empty() {
            let _ = writeln!(s, "  {}: {{}}", quote_yaml(&t.name));
        } else {
            let _ = writeln!(s, "  {}:", quote_yaml(&t.name));
            for l in settings.iter().chain(&guessed_lines) {
                let _ = writeln!(s, "    {l}");
            }
        }
    }
    Ok(s)
}
