//! Runs the walk on a source: collects the keys of every row in the subset, to a fixed point.
//!
//! Memory holds keys only (never rows). Every lookup is batched: one query per relation per
//! batch of keys, with the key list sized to stay under the server's packet limit.

use crate::config::Mode;
use crate::dialect::Dialect;
use crate::engine::Source;
use crate::engine::value::Value;
use crate::error::{Error, Result};
use crate::graph::{ChildEdge, Model, Relation, TableModel};
use std::collections::BTreeMap;

/// A row's key values, in the table's key column order.
pub type Key = Vec<Value>;

/// Keys in one `IN (...)` list unless `--batch-size` says otherwise.
pub const DEFAULT_BATCH_KEYS: usize = 5000;

/// How large one lookup may be: at most `max_keys` keys and `max_bytes` of key literals.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    pub max_keys: usize,
    pub max_bytes: usize,
}

impl Batch {
    /// Batches for `source`, leaving room under its packet limit for the rest of the query.
    pub fn for_source(source: &dyn Source, max_keys: usize) -> Batch {
        Batch {
            max_keys: max_keys.max(1),
            max_bytes: source
                .max_query_bytes()
                .saturating_sub(64 << 10)
                .max(16 << 10),
        }
    }
}

/// The keys collected for one table. `true` marks an owned row (a root or a row reached from
/// one by child edges): only owned rows pull in their children.
#[derive(Debug, Default)]
pub struct TableKeys {
    pub keys: BTreeMap<Key, bool>,
    pending_parents: Vec<Key>,
    pending_children: Vec<Key>,
}

/// A root: a table and a SQL condition on it, with the text the user gave for messages.
#[derive(Debug, Clone)]
pub struct Root {
    pub table: String,
    pub condition: String,
    pub display: String,
}

/// The collected subset: keys per table.
#[derive(Debug, Default)]
pub struct Subset {
    pub tables: BTreeMap<String, TableKeys>,
    /// The root rows, with the root that selected them.
    pub roots: BTreeMap<(String, Key), String>,
}

impl Subset {
    fn insert(&mut self, table: &str, key: Key, owned: bool) {
        let tk = self.tables.entry(table.to_string()).or_default();
        match tk.keys.get_mut(&key) {
            None => {
                tk.keys.insert(key.clone(), owned);
                if owned {
                    tk.pending_children.push(key.clone());
                }
                tk.pending_parents.push(key);
            }
            Some(was_owned) if owned && !*was_owned => {
                *was_owned = true;
                tk.pending_children.push(key);
            }
            Some(_) => {}
        }
    }

    /// Number of keys collected in `table`.
    pub fn count(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, |t| t.keys.len())
    }
}

/// Writes `cols IN (...)` for as many of `keys` as `batch` allows (at least one); returns the
/// clause and how many keys it holds.
pub fn in_clause(
    dialect: &dyn Dialect,
    cols: &[String],
    keys: &[Key],
    batch: Batch,
) -> (String, usize) {
    let mut n = 0;
    let mut size = 0;
    let mut scratch = String::new();
    while n < keys.len() && n < batch.max_keys {
        scratch.clear();
        for v in &keys[n] {
            dialect.write_literal(v, &mut scratch);
        }
        size += scratch.len() + keys[n].len() + 3;
        if n > 0 && size > batch.max_bytes {
            break;
        }
        n += 1;
    }
    let refs: Vec<&[Value]> = keys[..n].iter().map(Vec::as_slice).collect();
    let mut out = String::new();
    dialect.write_in_list(cols, &refs, &mut out);
    (out, n)
}

pub struct Walker<'a> {
    pub model: &'a Model,
    pub source: &'a mut dyn Source,
    dialect: &'static dyn Dialect,
    batch: Batch,
}

fn qualified(dialect: &dyn Dialect, alias: &str, cols: &[String]) -> Vec<String> {
    cols.iter()
        .map(|c| format!("{alias}.{}", dialect.quote_ident(c)))
        .collect()
}

impl<'a> Walker<'a> {
    pub fn new(model: &'a Model, source: &'a mut dyn Source, batch: Batch) -> Walker<'a> {
        let dialect = source.dialect();
        Walker {
            model,
            source,
            dialect,
            batch,
        }
    }

    fn select_keys(&mut self, sql: &str, context: &str, width: usize) -> Result<Vec<Key>> {
        let mut out = Vec::new();
        self.source.query(sql, context, &mut |row| {
            if row.len() >= width && row[..width].iter().all(|v| !v.is_null()) {
                out.push(row.into_iter().take(width).collect());
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Collects the subset for `roots`. Errors when a root matches no row.
    pub fn run(&mut self, roots: &[Root]) -> Result<Subset> {
        let mut subset = Subset::default();
        for root in roots {
            let t = &self.model.tables[&root.table];
            let sql = self.queries().root(root);
            let keys = self.select_keys(
                &sql,
                &format!("finding the root {}", root.display),
                t.key.len(),
            )?;
            if keys.is_empty() {
                return Err(Error::RootNotFound {
                    root: root.display.clone(),
                    url: self.source.url().to_string(),
                });
            }
            for k in keys {
                subset
                    .roots
                    .insert((t.name.clone(), k.clone()), root.display.clone());
                subset.insert(&t.name, k, true);
            }
        }
        let lookups: Vec<&TableModel> = self
            .model
            .tables
            .values()
            .filter(|t| t.mode == Mode::Lookup)
            .collect();
        for t in lookups {
            let sql = self.queries().lookup(t);
            for k in self.select_keys(
                &sql,
                &format!("reading the lookup table {}", t.name),
                t.key.len(),
            )? {
                subset.insert(&t.name, k, false);
            }
        }

        // To a fixed point: owned rows bring their children, every row brings its parents.
        loop {
            let mut progressed = false;
            let names: Vec<String> = subset.tables.keys().cloned().collect();
            for name in &names {
                let batch = take_pending(&mut subset, name, true);
                if !batch.is_empty() {
                    progressed = true;
                    self.expand_children(&mut subset, name, batch)?;
                }
                let batch = take_pending(&mut subset, name, false);
                if !batch.is_empty() {
                    progressed = true;
                    self.expand_parents(&mut subset, name, batch)?;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(subset)
    }

    fn expand_children(&mut self, subset: &mut Subset, table: &str, keys: Vec<Key>) -> Result<()> {
        let parent = &self.model.tables[table];
        for edge in &parent.children {
            let child = &self.model.tables[&self.model.relations[edge.relation].child];
            let mut rest: &[Key] = &keys;
            while !rest.is_empty() {
                let mut n = 0;
                let (dialect, batch) = (self.dialect, self.batch);
                let sql = self.queries().children(edge, &mut |cols| {
                    let (clause, k) = in_clause(dialect, cols, rest, batch);
                    n = k;
                    clause
                });
                let context = format!(
                    "finding the children in {} of {} rows of {}",
                    child.name, n, parent.name
                );
                for k in self.select_keys(&sql, &context, child.key.len())? {
                    subset.insert(&child.name, k, true);
                }
                rest = &rest[n..];
            }
        }
        Ok(())
    }

    fn expand_parents(&mut self, subset: &mut Subset, table: &str, keys: Vec<Key>) -> Result<()> {
        let child = &self.model.tables[table];
        for &rid in &child.parents {
            let r = &self.model.relations[rid];
            if r.nullified {
                continue;
            }
            let parent = &self.model.tables[&r.parent];
            let mut rest: &[Key] = &keys;
            while !rest.is_empty() {
                let mut n = 0;
                let (dialect, batch) = (self.dialect, self.batch);
                let sql = self.queries().parents(r, &mut |cols| {
                    let (clause, k) = in_clause(dialect, cols, rest, batch);
                    n = k;
                    clause
                });
                let context = format!(
                    "finding the {} rows that {} rows of {} reference",
                    parent.name, n, child.name
                );
                for k in self.select_keys(&sql, &context, parent.key.len())? {
                    subset.insert(&parent.name, k, false);
                }
                rest = &rest[n..];
            }
        }
        Ok(())
    }

    fn queries(&self) -> Queries<'a> {
        Queries {
            model: self.model,
            dialect: self.dialect,
        }
    }
}

/// The SQL of the walk, apart from the key lists: `keys_in(cols)` writes `cols IN (...)` for
/// the batch at hand (or a placeholder, when `plan` shows the queries).
pub struct Queries<'a> {
    pub model: &'a Model,
    pub dialect: &'static dyn Dialect,
}

impl Queries<'_> {
    fn q(&self, ident: &str) -> String {
        self.dialect.quote_ident(ident)
    }

    fn key_list(&self, t: &TableModel, alias: &str) -> String {
        qualified(self.dialect, alias, &t.key).join(", ")
    }

    fn when_clause(&self, r: &Relation, alias: &str) -> String {
        let mut s = String::new();
        for (col, v) in &r.when {
            s.push_str(&format!(" AND {alias}.{} = ", self.q(col)));
            self.dialect.write_literal(v, &mut s);
        }
        s
    }

    /// When `r` references exactly `parent`'s integer key, the child's columns (reordered to
    /// the parent's key order) hold the parent key itself and no join is needed.
    fn direct_columns(&self, r: &Relation, parent: &TableModel) -> Option<Vec<String>> {
        if !parent.integer_key || r.ref_columns.len() != parent.key.len() {
            return None;
        }
        parent
            .key
            .iter()
            .map(|k| {
                r.ref_columns
                    .iter()
                    .position(|rc| rc.eq_ignore_ascii_case(k))
                    .map(|i| r.columns[i].clone())
            })
            .collect()
    }

    /// The keys of root rows.
    pub fn root(&self, root: &Root) -> String {
        let t = &self.model.tables[&root.table];
        format!(
            "SELECT {} FROM {} t WHERE {}",
            self.key_list(t, "t"),
            self.q(&t.name),
            root.condition
        )
    }

    /// The keys of a lookup table's rows.
    pub fn lookup(&self, t: &TableModel) -> String {
        let mut sql = format!(
            "SELECT {} FROM {} t",
            self.key_list(t, "t"),
            self.q(&t.name)
        );
        if let Some(f) = &t.filter {
            sql.push_str(&format!(" WHERE ({f})"));
        }
        sql
    }

    /// The keys of the rows `edge` makes children of a batch of parent keys.
    pub fn children(
        &self,
        edge: &ChildEdge,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let mut sql = self.referencing(&self.model.relations[edge.relation], keys_in);
        let child = &self.model.tables[&self.model.relations[edge.relation].child];
        for f in edge.filter.iter().chain(child.filter.iter()) {
            sql.push_str(&format!(" AND ({f})"));
        }
        sql
    }

    /// The keys of the rows that reference a batch of `r.parent` keys through `r` (no filters).
    pub fn referencing(
        &self,
        r: &Relation,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let parent = &self.model.tables[&r.parent];
        let child = &self.model.tables[&r.child];
        let match_clause = match self.direct_columns(r, parent) {
            Some(cols) => keys_in(&qualified(self.dialect, "c", &cols)),
            None => {
                let inner = keys_in(&qualified(self.dialect, "p", &parent.key));
                let lhs = qualified(self.dialect, "c", &r.columns);
                let lhs = if lhs.len() == 1 {
                    lhs[0].clone()
                } else {
                    format!("({})", lhs.join(","))
                };
                format!(
                    "{lhs} IN (SELECT {} FROM {} p WHERE {inner})",
                    qualified(self.dialect, "p", &r.ref_columns).join(", "),
                    self.q(&parent.name)
                )
            }
        };
        format!(
            "SELECT {} FROM {} c WHERE {match_clause}{}",
            self.key_list(child, "c"),
            self.q(&child.name),
            self.when_clause(r, "c")
        )
    }

    /// The keys of the rows that a batch of rows references through `r`.
    pub fn parents(&self, r: &Relation, keys_in: &mut dyn FnMut(&[String]) -> String) -> String {
        let parent = &self.model.tables[&r.parent];
        let child = &self.model.tables[&r.child];
        let in_list = keys_in(&qualified(self.dialect, "c", &child.key));
        let not_null: String = qualified(self.dialect, "c", &r.columns)
            .iter()
            .map(|c| format!(" AND {c} IS NOT NULL"))
            .collect();
        match self.direct_columns(r, parent) {
            Some(cols) => format!(
                "SELECT DISTINCT {} FROM {} c WHERE {in_list}{not_null}{}",
                qualified(self.dialect, "c", &cols).join(", "),
                self.q(&child.name),
                self.when_clause(r, "c")
            ),
            None => {
                let on: Vec<String> = r
                    .columns
                    .iter()
                    .zip(&r.ref_columns)
                    .map(|(c, p)| format!("p.{} = c.{}", self.q(p), self.q(c)))
                    .collect();
                format!(
                    "SELECT DISTINCT {} FROM {} c JOIN {} p ON {} WHERE {in_list}{}",
                    self.key_list(parent, "p"),
                    self.q(&child.name),
                    self.q(&parent.name),
                    on.join(" AND "),
                    self.when_clause(r, "c")
                )
            }
        }
    }
}

fn take_pending(subset: &mut Subset, table: &str, children: bool) -> Vec<Key> {
    match subset.tables.get_mut(table) {
        Some(tk) if children => std::mem::take(&mut tk.pending_children),
        Some(tk) => std::mem::take(&mut tk.pending_parents),
        None => Vec::new(),
    }
}
