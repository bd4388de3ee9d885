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
pub const DEFAULT_BATCH_KEYS: usize = 20_000;

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

/// The keys of one table, each with its owned flag, in key order. A table keyed by one integer
/// column (the common case) keeps bare `i64`s: about 20 bytes a key instead of a hundred.
#[derive(Debug)]
pub enum KeyMap {
    Ints(BTreeMap<i64, bool>),
    General(BTreeMap<Key, bool>),
}

impl Default for KeyMap {
    fn default() -> Self {
        KeyMap::Ints(BTreeMap::new())
    }
}

fn as_int(key: &[Value]) -> Option<i64> {
    match key {
        [Value::Int(i)] => Some(*i),
        _ => None,
    }
}

impl KeyMap {
    pub fn get(&self, key: &[Value]) -> Option<bool> {
        match self {
            KeyMap::Ints(m) => as_int(key).and_then(|i| m.get(&i).copied()),
            KeyMap::General(m) => m.get(key).copied(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            KeyMap::Ints(m) => m.len(),
            KeyMap::General(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys in key order, compactly, for access by position.
    pub fn list(&self) -> KeyList {
        match self {
            KeyMap::Ints(m) => KeyList::Ints(m.keys().copied().collect()),
            KeyMap::General(m) => KeyList::General(m.keys().cloned().collect()),
        }
    }

    /// Records `key`; returns its previous owned flag (None when it is new).
    fn upsert(&mut self, key: &[Value], owned: bool) -> Option<bool> {
        if let (KeyMap::Ints(m), None) = (&*self, as_int(key)) {
            // A key that is not one integer: keep every key in the general form from now on.
            let general = m.iter().map(|(i, o)| (vec![Value::Int(*i)], *o)).collect();
            *self = KeyMap::General(general);
        }
        match self {
            KeyMap::Ints(m) => {
                // One search of the tree per row: this runs for every row the walk reads.
                match m.entry(as_int(key).unwrap_or_default()) {
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(owned);
                        None
                    }
                    std::collections::btree_map::Entry::Occupied(mut e) => {
                        let old = *e.get();
                        if owned {
                            e.insert(true);
                        }
                        Some(old)
                    }
                }
            }
            KeyMap::General(m) => {
                let old = m.get(key).copied();
                if old != Some(true) {
                    m.insert(key.to_vec(), owned || old == Some(true));
                }
                old
            }
        }
    }
}

/// Keys addressed by position, compactly (8 bytes a key for integer keys): a table's keys in
/// key order, or the keys waiting for the walk to follow them.
#[derive(Debug)]
pub enum KeyList {
    Ints(Vec<i64>),
    General(Vec<Key>),
}

impl Default for KeyList {
    fn default() -> Self {
        KeyList::Ints(Vec::new())
    }
}

impl KeyList {
    pub fn len(&self) -> usize {
        match self {
            KeyList::Ints(v) => v.len(),
            KeyList::General(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn key(&self, i: usize) -> Key {
        match self {
            KeyList::Ints(v) => vec![Value::Int(v[i])],
            KeyList::General(v) => v[i].clone(),
        }
    }

    /// Adds a key at the end (a key that is not one integer turns the list general).
    pub fn push(&mut self, key: &[Value]) {
        if let (KeyList::Ints(v), None) = (&*self, as_int(key)) {
            let general = v.iter().map(|i| vec![Value::Int(*i)]).collect();
            *self = KeyList::General(general);
        }
        match self {
            KeyList::Ints(v) => v.push(as_int(key).unwrap_or_default()),
            KeyList::General(v) => v.push(key.to_vec()),
        }
    }

    /// Up to `n` keys from position `start`.
    pub fn chunk(&self, start: usize, n: usize) -> Vec<Key> {
        (start..self.len().min(start + n))
            .map(|i| self.key(i))
            .collect()
    }

    /// The position of `key` (the list is sorted).
    pub fn position(&self, key: &[Value]) -> Option<usize> {
        match self {
            KeyList::Ints(v) => as_int(key).and_then(|i| v.binary_search(&i).ok()),
            KeyList::General(v) => v.binary_search_by(|k| k.as_slice().cmp(key)).ok(),
        }
    }
}

/// The keys collected for one table. `true` marks an owned row (a root or a row reached from
/// one by child edges): only owned rows pull in their children.
#[derive(Debug, Default)]
pub struct TableKeys {
    pub keys: KeyMap,
    pending_parents: KeyList,
    /// Keys whose direct references were already followed by the query that found them.
    pending_indirect: KeyList,
    pending_children: KeyList,
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
    fn insert(&mut self, table: &str, key: &[Value], owned: bool) {
        self.insert_found(table, key, owned, false);
    }

    /// Like `insert`; `direct_done` says the direct references of the row were read along with
    /// its key (and followed), so only the other references remain to follow.
    fn insert_found(&mut self, table: &str, key: &[Value], owned: bool, direct_done: bool) {
        // Looked up before `entry`, which would allocate the name for every row.
        if !self.tables.contains_key(table) {
            self.tables.insert(table.to_string(), TableKeys::default());
        }
        let Some(tk) = self.tables.get_mut(table) else {
            return; // inserted just above
        };
        match tk.keys.upsert(key, owned) {
            None => {
                if owned {
                    tk.pending_children.push(key);
                }
                if direct_done {
                    tk.pending_indirect.push(key);
                } else {
                    tk.pending_parents.push(key);
                }
            }
            Some(false) if owned => {
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
                subset.insert(&t.name, &k, true);
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
                subset.insert(&t.name, &k, false);
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
                    self.expand_parents(&mut subset, name, batch, false)?;
                }
                let batch = subset
                    .tables
                    .get_mut(name)
                    .map(|tk| std::mem::take(&mut tk.pending_indirect))
                    .unwrap_or_default();
                if !batch.is_empty() {
                    progressed = true;
                    self.expand_parents(&mut subset, name, batch, true)?;
                }
            }
            if !progressed {
                break;
            }
        }
        Ok(subset)
    }

    fn expand_children(&mut self, subset: &mut Subset, table: &str, keys: KeyList) -> Result<()> {
        let parent = &self.model.tables[table];
        for edge in &parent.children {
            let child = &self.model.tables[&self.model.relations[edge.relation].child];
            let max = self.batch.max_keys;
            for_each_batch(&keys, max, |rest| {
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
                // The query also reads each child's direct references (and whether a
                // polymorphic one applies), so those parents need no second look at the row.
                let direct = self.queries().direct_parents(child);
                let width = child.key.len();
                let child_name = child.name.as_str();
                self.source.query(&sql, &context, &mut |row| {
                    if row.len() < width || row[..width].iter().any(Value::is_null) {
                        return Ok(());
                    }
                    subset.insert_found(child_name, &row[..width], true, true);
                    let mut at = width;
                    for d in &direct {
                        let cols = &row[at..at + d.width];
                        at += d.width;
                        let applies = if d.has_when {
                            let flag = &row[at];
                            at += 1;
                            matches!(flag, Value::Int(1))
                        } else {
                            true
                        };
                        if applies && cols.iter().all(|v| !v.is_null()) {
                            subset.insert(&d.parent, cols, false);
                        }
                    }
                    Ok(())
                })?;
                Ok(n)
            })?;
        }
        Ok(())
    }

    /// Follows the references of `keys`; with `indirect_only`, only those a child query could
    /// not read along with the key.
    fn expand_parents(
        &mut self,
        subset: &mut Subset,
        table: &str,
        keys: KeyList,
        indirect_only: bool,
    ) -> Result<()> {
        let child = &self.model.tables[table];
        let direct: Vec<usize> = self
            .queries()
            .direct_parents(child)
            .iter()
            .map(|d| d.relation)
            .collect();
        for &rid in &child.parents {
            let r = &self.model.relations[rid];
            if r.nullified || (indirect_only && direct.contains(&rid)) {
                continue;
            }
            let parent = &self.model.tables[&r.parent];
            let max = self.batch.max_keys;
            for_each_batch(&keys, max, |rest| {
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
                let width = parent.key.len();
                let parent_name = parent.name.as_str();
                self.source.query(&sql, &context, &mut |row| {
                    if row.len() >= width && row[..width].iter().all(|v| !v.is_null()) {
                        subset.insert(parent_name, &row[..width], false);
                    }
                    Ok(())
                })?;
                Ok(n)
            })?;
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

/// A reference read along with a child row's key.
#[derive(Debug, Clone)]
pub struct DirectParent {
    pub relation: usize,
    pub parent: String,
    /// The child's columns holding the parent's key, in the parent's key order.
    pub columns: Vec<String>,
    pub width: usize,
    /// A polymorphic reference: one more column says whether it applies to the row.
    pub has_when: bool,
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

    /// The references of `child` whose key the child row holds itself (integer keys): a query
    /// that reads the row can follow them at once.
    pub fn direct_parents(&self, child: &TableModel) -> Vec<DirectParent> {
        child
            .parents
            .iter()
            .map(|&rid| &self.model.relations[rid])
            .filter(|r| !r.nullified)
            .filter_map(|r| {
                let parent = &self.model.tables[&r.parent];
                let cols = self.direct_columns(r, parent)?;
                Some(DirectParent {
                    relation: r.id,
                    parent: r.parent.clone(),
                    width: cols.len(),
                    columns: cols,
                    has_when: !r.when.is_empty(),
                })
            })
            .collect()
    }

    /// The keys of the rows `edge` makes children of a batch of parent keys, each followed by
    /// its [`Queries::direct_parents`] columns (and, for a polymorphic one, whether it applies).
    pub fn children(
        &self,
        edge: &ChildEdge,
        keys_in: &mut dyn FnMut(&[String]) -> String,
    ) -> String {
        let child = &self.model.tables[&self.model.relations[edge.relation].child];
        let mut extra = String::new();
        for d in self.direct_parents(child) {
            for c in qualified(self.dialect, "c", &d.columns) {
                extra.push_str(", ");
                extra.push_str(&c);
            }
            if d.has_when {
                let r = &self.model.relations[d.relation];
                let cond = self.when_clause(r, "c");
                extra.push_str(&format!(", (1 = 1{cond})"));
            }
        }
        let mut sql = self.referencing(&self.model.relations[edge.relation], keys_in);
        if !extra.is_empty() {
            // referencing() starts with `SELECT <key list> FROM`.
            let from = sql.find(" FROM ").unwrap_or(sql.len());
            sql.insert_str(from, &extra);
        }
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

/// Runs `f` on successive chunks of `keys` (at most `max` each); `f` returns how many keys of
/// its chunk it used (its IN list may hold fewer, to stay under the packet limit).
pub fn for_each_batch(
    keys: &KeyList,
    max: usize,
    mut f: impl FnMut(&[Key]) -> Result<usize>,
) -> Result<()> {
    let mut next = 0;
    while next < keys.len() {
        let chunk = keys.chunk(next, max);
        next += f(&chunk)?.max(1);
    }
    Ok(())
}

fn take_pending(subset: &mut Subset, table: &str, children: bool) -> KeyList {
    match subset.tables.get_mut(table) {
        Some(tk) if children => std::mem::take(&mut tk.pending_children),
        Some(tk) => std::mem::take(&mut tk.pending_parents),
        None => KeyList::default(),
    }
}
