//! `plan`: explain a dump before running it. The walk runs for real (inside one snapshot,
//! reading keys only, never rows), so the row counts are exact; then the report says, per table
//! in load order, which edges bring rows in, how cycles are broken, and the queries the dump
//! runs. `--explain` traces one row back to the root that brought it in.

use crate::config::Mode;
use crate::dialect::Dialect;
use crate::dump::{DumpRequest, Prepared, begin_snapshot, parse_roots};
use crate::engine::Source;
use crate::engine::value::Value;
use crate::error::{Error, Result};
use crate::graph::Model;
use crate::walk::{Key, Queries, Subset, Walker};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub source: String,
    pub roots: Vec<String>,
    pub tables: Vec<TablePlan>,
    pub cycle_breaks: Vec<String>,
    pub queries: Vec<QueryPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explanation>,
    /// Why `--jobs auto` read over one connection where it could have read over more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Rows the subset references that the source lacks (see `dump`'s warning of them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TablePlan {
    pub table: String,
    pub rows: usize,
    /// How rows get in: `root`, `lookup (copied whole)`, `child of accounts via users.account_id`,
    /// `referenced by tasks.assignee_id`.
    pub brought_in_by: Vec<String>,
    /// Times the walk read the table by a scan, its keys covering much of it, instead of by
    /// the lookups listed under queries.
    pub scans: usize,
}

#[derive(Debug, Serialize)]
pub struct QueryPlan {
    pub purpose: String,
    pub sql: String,
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub row: String,
    pub included: bool,
    /// From a root (or a lookup table) to the row.
    pub path: Vec<Step>,
}

#[derive(Debug, Serialize, Clone)]
pub struct Step {
    pub table: String,
    pub key: String,
    pub how: String,
}

/// `key` of a row of `table` as `column=value,...`.
pub(crate) fn key_text(model: &Model, table: &str, key: &[Value]) -> String {
    model.tables[table]
        .key
        .iter()
        .zip(key)
        .map(|(c, v)| format!("{c}={}", v.display()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Builds the plan report; runs the walk inside one snapshot.
pub fn plan(
    source: &mut dyn Source,
    prepared: &Prepared,
    request: &DumpRequest,
    explain: Option<&str>,
) -> Result<PlanReport> {
    let model = &prepared.model;
    let dialect = source.dialect();
    let snapshot = begin_snapshot(source, prepared)?;
    let note = snapshot.note;
    let mut extra = snapshot.connections;
    let subset = Walker::new(model, source, prepared.batch)
        .with_connections(&mut extra)
        .run(&prepared.roots)?;
    for conn in &mut extra {
        conn.end_snapshot()?;
    }
    let explanation = match explain {
        Some(row) => Some(explain_row(source, prepared, &subset, row)?),
        None => None,
    };
    source.end_snapshot()?;

    // The queries a dump runs (this plan read keys only).
    let queries = Queries {
        model,
        dialect,
        full_rows: true,
        key_room: crate::walk::scan_key_room(&prepared.batch),
    };
    let placeholder = |cols: &[String]| {
        if cols.len() == 1 {
            format!("{} IN (…)", cols[0])
        } else {
            format!("({}) IN (…)", cols.join(","))
        }
    };
    let mut report = PlanReport {
        source: source.url().to_string(),
        roots: request
            .roots
            .iter()
            .chain(&request.root_wheres)
            .cloned()
            .collect(),
        tables: Vec::new(),
        cycle_breaks: Vec::new(),
        queries: Vec::new(),
        explain: explanation,
        note,
        warnings: crate::dump::missing_parents(
            prepared,
            &subset,
            prepared
                .plan
                .order
                .iter()
                .map(|t| subset.table(t).map(|k| &k.keys)),
        ),
    };
    for root in &prepared.roots {
        report.queries.push(QueryPlan {
            purpose: format!("root {}", root.display),
            sql: queries.root(root),
        });
    }
    for name in &prepared.plan.order {
        let t = &model.tables[name];
        let mut how = Vec::new();
        if prepared.roots.iter().any(|r| r.table == *name) {
            how.push("root".to_string());
        }
        if t.mode == Mode::Lookup {
            how.push("lookup (copied whole)".to_string());
            report.queries.push(QueryPlan {
                purpose: format!("lookup {name}"),
                sql: queries.lookup(t),
            });
        }
        for parent in prepared.plan.order.iter().map(|p| &model.tables[p]) {
            for edge in &parent.children {
                let r = &model.relations[edge.relation];
                if r.child == *name {
                    let always = match edge.always {
                        true => " (always: of every row of it in the dump)",
                        false => "",
                    };
                    how.push(format!(
                        "child of {} via {}.{}{always}",
                        r.parent,
                        r.child,
                        r.columns.join(",")
                    ));
                    report.queries.push(QueryPlan {
                        purpose: match edge.always {
                            true => format!("children in {name} of every {} row", r.parent),
                            false => format!("children in {name} of {} rows", r.parent),
                        },
                        sql: match queries.by_value(r) {
                            true => queries.children_by_values(edge, &mut |c| placeholder(c)),
                            false => queries.children(edge, &mut |c| placeholder(c)),
                        },
                    });
                }
            }
        }
        let mut referenced = false;
        for r in model
            .relations
            .iter()
            .filter(|r| r.parent == *name && !r.nullified)
        {
            if prepared.plan.order.contains(&r.child) {
                how.push(format!("referenced by {}.{}", r.child, r.columns.join(",")));
                if !queries.followed(r) {
                    // A lookup table read whole: the walk has every row it can reference.
                    continue;
                }
                referenced = true;
                let child = &model.tables[&r.child];
                if !queries
                    .direct_parents(child)
                    .iter()
                    .any(|d| d.relation == r.id)
                {
                    // The row does not hold the parent's key: a join finds it.
                    report.queries.push(QueryPlan {
                        purpose: format!(
                            "keys of {name} rows referenced by {}.{}",
                            r.child,
                            r.columns.join(",")
                        ),
                        sql: queries.parents(r, &mut |c| placeholder(c)),
                    });
                }
            }
        }
        if referenced {
            report.queries.push(QueryPlan {
                purpose: format!("{name} rows referenced by rows read, by key"),
                sql: queries.by_key(t, &mut |c| placeholder(c)),
            });
        }
        if t.keyless {
            how.push("no key: every row copied, rows alike too".to_string());
        }
        let by_scans = |n: usize| match n {
            1 => "a scan of the table".to_string(),
            n => format!("{n} scans of the table"),
        };
        let (children, referenced) = subset
            .table(name)
            .map_or((0, 0), |tk| (tk.scans, tk.reference_scans));
        if children > 0 {
            how.push(format!("read as children by {}", by_scans(children)));
        }
        if referenced > 0 {
            how.push(format!("referenced rows read by {}", by_scans(referenced)));
        }
        let scans = children + referenced;
        report.tables.push(TablePlan {
            table: name.clone(),
            rows: subset.count(name),
            brought_in_by: how,
            scans,
        });
    }
    for rid in &prepared.plan.deferred {
        report.cycle_breaks.push(format!(
            "{}: written as NULL, restored by UPDATE once both rows exist",
            model.relations[*rid].describe()
        ));
    }
    for (tables, rels) in &prepared.plan.fk_off_groups {
        report.cycle_breaks.push(format!(
            "{}: a cycle of NOT NULL references ({}), loaded with foreign-key checks off around just those rows",
            tables.join(", "),
            rels.iter()
                .map(|r| model.relations[*r].describe())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    for name in prepared.plan.self_refs.keys() {
        report.cycle_breaks.push(format!(
            "{name}: self-references, rows ordered so each follows the row it references"
        ));
    }
    Ok(report)
}

/// A step back towards a root: the row one step closer, and how it brings this one in.
type Hop = (String, Key, String);

fn keys_of(source: &mut dyn Source, sql: &str, width: usize) -> Result<Vec<Key>> {
    let mut out = Vec::new();
    source.query(sql, "explaining a row", &mut |row| {
        if row.len() >= width && row[..width].iter().all(|v| !v.is_null()) {
            out.push(row.drain(..width).collect());
        }
        Ok(())
    })?;
    Ok(out)
}

/// Traces `row` (`TABLE.COL=VALUE`) back to the root that brought it in: owned rows through
/// the child edges that own them, other rows through a row that references them.
fn explain_row(
    source: &mut dyn Source,
    prepared: &Prepared,
    subset: &Subset,
    row: &str,
) -> Result<Explanation> {
    let model = &prepared.model;
    let dialect: &'static dyn Dialect = source.dialect();
    let queries = Queries {
        model,
        dialect,
        full_rows: false,
        key_room: crate::walk::scan_key_room(&prepared.batch),
    };
    let request = DumpRequest {
        roots: vec![row.to_string()],
        ..DumpRequest::default()
    };
    let selector = parse_roots(model, dialect, &request)?.remove(0);
    let t = &model.tables[&selector.table];
    let found = keys_of(source, &queries.root(&selector), t.key.len())?;
    let Some(start) = found.into_iter().next() else {
        return Err(Error::Usage(format!(
            "--explain {row}: no such row in the source"
        )));
    };
    let owned_of = |table: &str, key: &Key| subset.table(table).and_then(|tk| tk.keys.owned(key));
    if owned_of(&t.name, &start).is_none() {
        return Ok(Explanation {
            row: row.to_string(),
            included: false,
            path: Vec::new(),
        });
    }
    // Breadth-first, backwards, over rows of the subset.
    let mut came_from: BTreeMap<(String, Key), Option<Hop>> = BTreeMap::new();
    let mut queue = VecDeque::new();
    came_from.insert((t.name.clone(), start.clone()), None);
    queue.push_back((t.name.clone(), start.clone()));
    let mut end: Option<(String, Key, String)> = None;
    while let Some((table, key)) = queue.pop_front() {
        let owned = owned_of(&table, &key).unwrap_or(false);
        if let Some(root) = subset.roots.get(&(table.clone(), key.clone())) {
            end = Some((table, key, format!("root (--root {root})")));
            break;
        }
        if !owned && model.tables[&table].mode == Mode::Lookup {
            end = Some((table, key, "lookup table, copied whole".into()));
            break;
        }
        let one = |cols: &[String]| {
            let mut s = String::new();
            dialect.write_in_list(cols, &[key.as_slice()], &mut s);
            s
        };
        let mut preds: Vec<(String, Key, String)> = Vec::new();
        // Owned: some owned parent's child edge. Not owned: an `always` edge from a parent row
        // in the subset, or (below) a row that references it.
        for parent in model.tables.values() {
            for edge in parent.children.iter().filter(|e| owned || e.always) {
                let r = &model.relations[edge.relation];
                if r.child != table {
                    continue;
                }
                let sql = queries.parents(r, &mut |c| one(c));
                for pk in keys_of(source, &sql, parent.key.len())? {
                    let parent_owned = owned_of(&parent.name, &pk);
                    if parent_owned == Some(true) || (!owned && parent_owned.is_some()) {
                        preds.push((
                            parent.name.clone(),
                            pk,
                            format!(
                                "child of {} via {}.{}{}",
                                r.parent,
                                r.child,
                                r.columns.join(","),
                                if owned { "" } else { " (always)" }
                            ),
                        ));
                    }
                }
            }
        }
        if !owned {
            // Included as a parent: some included row references it.
            for r in model
                .relations
                .iter()
                .filter(|r| r.parent == table && !r.nullified)
            {
                let child = &model.tables[&r.child];
                if child.key.is_empty() {
                    continue;
                }
                let sql = queries.referencing(r, &mut |c| one(c));
                for ck in keys_of(source, &sql, child.key.len())? {
                    if owned_of(&child.name, &ck).is_some() {
                        preds.push((
                            child.name.clone(),
                            ck,
                            format!("referenced by {}.{}", r.child, r.columns.join(",")),
                        ));
                    }
                }
            }
        }
        for (pt, pk, how) in preds {
            let node = (pt.clone(), pk.clone());
            if let std::collections::btree_map::Entry::Vacant(e) = came_from.entry(node) {
                e.insert(Some((table.clone(), key.clone(), how)));
                queue.push_back((pt, pk));
            }
        }
    }
    let Some((table, key, how)) = end else {
        return Err(Error::Plan(format!(
            "--explain {row}: the row is in the subset but no path to a root was found; this is a bug, please report it"
        )));
    };
    // Walk forward from the root to the row.
    let mut path = vec![Step {
        key: key_text(model, &table, &key),
        table: table.clone(),
        how,
    }];
    let mut seen = BTreeSet::new();
    let mut cur = (table, key);
    while let Some(Some((next_table, next_key, how))) = came_from.get(&cur).cloned() {
        if !seen.insert(cur.clone()) {
            break;
        }
        path.push(Step {
            key: key_text(model, &next_table, &next_key),
            table: next_table.clone(),
            how,
        });
        cur = (next_table, next_key);
    }
    Ok(Explanation {
        row: row.to_string(),
        included: true,
        path,
    })
}

impl std::fmt::Display for PlanReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan for {} from {}",
            self.roots.join(" ; "),
            self.source
        );
        let width = self
            .tables
            .iter()
            .map(|t| t.table.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(s, "\nload order (parents first):");
        for (i, t) in self.tables.iter().enumerate() {
            let _ = writeln!(
                s,
                "  {:>3}. {:width$}  {:>8} rows  {}",
                i + 1,
                t.table,
                t.rows,
                t.brought_in_by.join("; ")
            );
        }
        if !self.cycle_breaks.is_empty() {
            let _ = writeln!(s, "\ncycles:");
            for c in &self.cycle_breaks {
                let _ = writeln!(s, "  - {c}");
            }
        }
        let _ = writeln!(s, "\nqueries (… is a batch of keys):");
        for q in &self.queries {
            let _ = writeln!(s, "  -- {}\n  {};", q.purpose, q.sql);
        }
        if let Some(e) = &self.explain {
            let _ = writeln!(s);
            if e.included {
                let _ = writeln!(s, "{} is in the dump:", e.row);
                for (i, step) in e.path.iter().enumerate() {
                    let arrow = if i == 0 { "   " } else { "-> " };
                    let _ = writeln!(s, "  {arrow}{} {}  ({})", step.table, step.key, step.how);
                }
            } else {
                let _ = writeln!(
                    s,
                    "{} is not in the dump: no edge from the roots reaches it.",
                    e.row
                );
            }
        }
        f.write_str(&s)
    }
}
