//! `check`: validate a graph against the live schema before any row is read, as a CI gate.
//!
//! Findings: names the schema does not have (every one, with suggestions), references whose
//! column types do not match, tables neither reached from the roots nor skipped (schema drift),
//! child edges over unindexed columns (each such walk scans the whole table), cycles of NOT NULL
//! references, and plan errors (an edge into a skipped table, a table without a key).

use crate::config::{LoadedGraph, Mode, Pos};
use crate::error::{Error, hint};
use crate::graph::Model;
use crate::schema::{Schema, Table};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// A short, stable name for the kind of finding (`unknown-table`, `unindexed-child-edge`, ...).
    pub kind: &'static str,
    /// `file:line:column` in the graph, or `table.column`.
    #[serde(rename = "where")]
    pub location: String,
    pub message: String,
    /// What fixes it, where there is one thing to do (`CREATE INDEX ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.kind, self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " Fix: {fix}")?;
        }
        Ok(())
    }
}

fn at(graph: &LoadedGraph, pos: Pos) -> String {
    format!("{}:{}:{}", graph.path, pos.line, pos.column)
}

/// Every table and column name the graph uses, checked against the schema.
fn name_findings(graph: &LoadedGraph, schema: &Schema) -> Vec<Finding> {
    let mut out = Vec::new();
    let tables: Vec<&str> = schema.tables.keys().map(String::as_str).collect();
    let table = |name: &str, pos: Pos, out: &mut Vec<Finding>| -> Option<Table> {
        match schema.table(name) {
            Some(t) => Some(t.clone()),
            None => {
                out.push(Finding {
                    kind: "unknown-table",
                    location: at(graph, pos),
                    message: schema.not_a_table(name).unwrap_or_else(|| {
                        format!("the source has no table `{name}`.{}", hint(name, &tables))
                    }),
                    fix: None,
                });
                None
            }
        }
    };
    let column = |t: &Table, col: &str, pos: Pos, out: &mut Vec<Finding>| {
        if t.column(col).is_none() {
            out.push(Finding {
                kind: "unknown-column",
                location: at(graph, pos),
                message: format!(
                    "table `{}` has no column `{col}`.{}",
                    t.name,
                    hint(col, t.columns.iter().map(|c| c.name.as_str()))
                ),
                fix: None,
            });
        }
    };
    for (name, entry) in graph.file.tables.iter() {
        if entry.skips() && schema.may_skip_absent(name) {
            continue;
        }
        let Some(t) = table(name, entry.pos, &mut out) else {
            continue;
        };
        let spec = &entry.spec;
        if let Some(k) = &spec.key {
            for c in &k.value.0 {
                column(&t, c, k.pos, &mut out);
            }
        }
        for n in &spec.nullify {
            column(&t, &n.value, n.pos, &mut out);
        }
        for c in &spec.children {
            if let Some(child) = table(&c.value.table, c.pos, &mut out) {
                for v in c.value.via.iter().flatten() {
                    column(&child, v, c.pos, &mut out);
                }
            }
        }
        for r in &spec.references {
            for c in r.value.columns.0.iter().chain(r.value.when.keys()) {
                column(&t, c, r.pos, &mut out);
            }
            if let Some(parent) = table(&r.value.table, r.pos, &mut out) {
                for c in r.value.key.iter().flat_map(|k| k.0.iter()) {
                    column(&parent, c, r.pos, &mut out);
                }
            }
        }
    }
    out
}

/// The broad kind of a column type (`integer`, `text`, `binary`, ...), for comparing the two
/// ends of a reference and for reading a root's value.
pub(crate) fn family(data_type: &str) -> Option<&'static str> {
    let t = data_type.to_ascii_lowercase();
    if t.is_empty() {
        return None; // SQLite: no declared type, anything goes
    }
    Some(if t.contains("int") {
        "integer"
    } else if t.contains("char")
        || t.contains("text")
        || t.contains("clob")
        || t == "enum"
        || t == "set"
    {
        "text"
    } else if t.contains("dec") || t.contains("numeric") {
        "decimal"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        "float"
    } else if t.contains("blob") || t.contains("binary") {
        "binary"
    } else if t.contains("date") || t.contains("time") || t == "year" {
        "temporal"
    } else {
        return None;
    })
}

/// Runs every check. `roots` are the tables dumps start from; when empty, the tables that own
/// others and are owned by none.
pub fn check(
    graph: &LoadedGraph,
    schema: &Schema,
    roots: &[String],
    require_fk_checks: bool,
    strict_cleansing: bool,
) -> Vec<Finding> {
    let names = name_findings(graph, schema);
    if !names.is_empty() {
        return names;
    }
    let model = match Model::resolve(graph, schema) {
        Ok(m) => m,
        Err(Error::Config {
            path,
            line,
            column,
            message,
        }) => {
            return vec![Finding {
                kind: "graph",
                location: format!("{path}:{line}:{column}"),
                message,
                fix: None,
            }];
        }
        Err(e) => {
            return vec![Finding {
                kind: "graph",
                location: graph.path.clone(),
                message: e.to_string(),
                fix: None,
            }];
        }
    };
    let mut out = Vec::new();

    for r in &model.relations {
        let (Some(ct), Some(pt)) = (schema.table(&r.child), schema.table(&r.parent)) else {
            continue;
        };
        for (c, p) in r.columns.iter().zip(&r.ref_columns) {
            let (Some(cc), Some(pc)) = (ct.column(c), pt.column(p)) else {
                continue;
            };
            if let (Some(a), Some(b)) = (family(&cc.data_type), family(&pc.data_type))
                && a != b
            {
                out.push(Finding {
                    kind: "type-mismatch",
                    location: format!("{}.{}", r.child, c),
                    message: format!(
                        "`{}.{c}` ({}) references `{}.{p}` ({}): the values cannot match reliably. Point the \
                         reference at a column of the same type.",
                        r.child, cc.data_type, r.parent, pc.data_type
                    ),
                    fix: None,
                });
            }
        }
    }

    for t in model.tables.values() {
        for e in &t.children {
            let r = &model.relations[e.relation];
            if !r.indexed {
                let name = format!("{}_{}_idx", r.child, r.columns.join("_"));
                out.push(Finding {
                    kind: "unindexed-child-edge",
                    location: format!("{}.{}", r.child, r.columns.join(",")),
                    message: format!(
                        "the child edge {} -> {} looks rows up by `{}.{}`, which has no index: every batch of \
                         that walk scans the whole table.",
                        r.parent,
                        r.child,
                        r.child,
                        r.columns.join(",")
                    ),
                    fix: Some(format!("CREATE INDEX {name} ON {} ({});", r.child, r.columns.join(", "))),
                });
            }
        }
    }

    let root_tables: BTreeSet<String> = if roots.is_empty() {
        let owned: BTreeSet<&String> = model
            .tables
            .values()
            .flat_map(|t| {
                t.children
                    .iter()
                    .map(|e| &model.relations[e.relation].child)
            })
            .collect();
        model
            .tables
            .values()
            // A table whose every child edge is `always` holds parts of its rows (a film's
            // cast), not a tenant's rows.
            .filter(|t| t.children.iter().any(|e| !e.always) && !owned.contains(&t.name))
            .map(|t| t.name.clone())
            .collect()
    } else {
        roots.iter().cloned().collect()
    };
    match model.plan(&root_tables) {
        Err(e) => out.push(Finding {
            kind: "plan",
            location: graph.path.clone(),
            message: e.to_string(),
            fix: None,
        }),
        Ok(plan) => {
            let reached: BTreeSet<&String> = plan.order.iter().collect();
            for t in model.tables.values() {
                if t.mode != Mode::Skip && !reached.contains(&t.name) {
                    out.push(Finding {
                        kind: "unreached-table",
                        location: t.name.clone(),
                        message: format!(
                            "table `{}` is neither reached from {} nor skipped: new since the graph was written? \
                             Its rows are never dumped.",
                            t.name,
                            if root_tables.is_empty() {
                                "any root (no table has children)".to_string()
                            } else {
                                root_tables.iter().cloned().collect::<Vec<_>>().join(", ")
                            }
                        ),
                        fix: Some(format!(
                            "add it to an owner's `children`, or declare `{}: {{mode: lookup}}` or `{}: {{mode: skip}}` in {}",
                            t.name, t.name, graph.path
                        )),
                    });
                }
            }
            out.extend(unfollowed_children(graph, &model, &root_tables, &reached));
            out.extend(owned_by_another_key(graph, &model, &root_tables));
            if graph.file.cleanse.is_some() || strict_cleansing {
                let options = crate::cleanse::CleanseOptions {
                    strict: false,
                    random_seed: Some(0),
                    strictness_reported_apart: true,
                };
                if let Err(e) =
                    crate::cleanse::Cleanser::resolve(graph, schema, &model, &plan.order, &options)
                {
                    out.push(Finding {
                        kind: "cleanse",
                        location: graph.path.clone(),
                        message: e.to_string(),
                        fix: None,
                    });
                }
                for (t, c) in crate::cleanse::unruled(graph, schema, &model, &plan.order) {
                    let rule = schema
                        .table(&t)
                        .and_then(|table| table.column(&c))
                        .map_or("{fake: ...}", crate::cleanse::suggested_rule);
                    out.push(Finding {
                        kind: "uncleansed-column",
                        location: format!("{t}.{c}"),
                        message: format!(
                            "`{t}.{c}` looks personal and has no cleansing rule, so dumps copy it as it is \
                             (strict cleansing refuses to start)."
                        ),
                        fix: Some(format!(
                            "add `{c}: {rule}` (or another rule, or `keep` once reviewed) under `{t}: {{cleanse: ...}}`"
                        )),
                    });
                }
            }
            for (tables, rels) in plan.fk_off_groups.iter().filter(|_| require_fk_checks) {
                out.push(Finding {
                    kind: "not-null-cycle",
                    location: tables.join(", "),
                    message: format!(
                        "{} reference each other through NOT NULL columns only ({}): dumps load these rows with \
                         foreign-key checks off, and --require-fk-checks refuses them.",
                        tables.join(", "),
                        rels.iter()
                            .map(|r| model.relations[*r].describe())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    fix: Some("make one of those columns nullable, so the cycle can be broken with NULL".into()),
                });
            }
        }
    }
    out
}

/// Child edges into a table whose primary key begins with a reference to another table the
/// roots own: TPC-C's `order_line` listed under the `stock` it is supplied from, where its key
/// begins with its order's. Rows then come in through the one owner and not through the
/// other: another warehouse's order lines supplied from this one's stock (with their orders and
/// customers, as parents), and not this warehouse's own lines supplied from elsewhere.
fn owned_by_another_key(
    graph: &LoadedGraph,
    model: &Model,
    roots: &BTreeSet<String>,
) -> Vec<Finding> {
    // The tables the roots own: reached from them by child edges other than `always` ones.
    let mut owned: BTreeSet<&str> = roots.iter().map(String::as_str).collect();
    let mut queue: Vec<&str> = owned.iter().copied().collect();
    while let Some(t) = queue.pop() {
        for e in model.tables.get(t).map_or(&[][..], |t| &t.children[..]) {
            let child = model.relations[e.relation].child.as_str();
            if !e.always && owned.insert(child) {
                queue.push(child);
            }
        }
    }
    let mut out = Vec::new();
    for parent in model.tables.values() {
        for e in parent.children.iter().filter(|e| !e.always) {
            let edge = &model.relations[e.relation];
            if edge.clustered || !owned.contains(parent.name.as_str()) {
                continue;
            }
            let child = &model.tables[&edge.child];
            let Some(keyed) = child
                .parents
                .iter()
                .map(|&r| &model.relations[r])
                .find(|r| {
                    r.clustered
                    && r.when.is_empty()
                    && !r.nullified
                    && r.parent != parent.name
                    && r.parent != child.name
                    && owned.contains(r.parent.as_str())
                    // An edge through a column of that reference keeps to the same owner: a
                    // tenant's tasks by (tenant_id, project_id), keyed by (tenant_id, id).
                    && !r.columns.iter().any(|c| edge.columns.contains(c))
                })
            else {
                continue;
            };
            // Already a child there too: the rows come through both.
            let listed = model.tables[&keyed.parent]
                .children
                .iter()
                .any(|c| c.relation == keyed.id);
            if listed {
                continue;
            }
            out.push(Finding {
                kind: "owned-by-another-key",
                location: edge.child.clone(),
                message: format!(
                    "`{c}` is a child of `{p}` ({cols}), but its primary key begins with its reference to \
                     `{k}` ({kcols}), which the roots own too: `{c}` rows of other roots' `{k}` that name \
                     the roots' `{p}` come in through `{p}` (with their `{k}` rows, as parents), and the \
                     roots' own `{c}` rows that name another's `{p}` do not.",
                    c = edge.child,
                    p = parent.name,
                    cols = edge.columns.join(", "),
                    k = keyed.parent,
                    kcols = keyed.columns.join(", "),
                ),
                fix: Some(format!(
                    "list `{}` under `{}: {{children: ...}}` instead of under `{}` in {}",
                    edge.child, keyed.parent, parent.name, graph.path
                )),
            });
        }
    }
    out
}

/// Child edges that no dump from `roots` follows ([`Model::unfollowed_children`]).
fn unfollowed_children(
    graph: &LoadedGraph,
    model: &Model,
    roots: &BTreeSet<String>,
    reached: &BTreeSet<&String>,
) -> Vec<Finding> {
    model
        .unfollowed_children(roots, reached)
        .into_iter()
        .map(|(table, children)| Finding {
            kind: "unfollowed-children",
            location: table.clone(),
            message: Model::unfollowed_message(&table, &children, roots),
            fix: Some(format!(
                "to bring them with every row of `{table}` in the dump, write each as `{{table: {}, always: true}}`; \
                 or list `{table}` under an owner's `children` in {}",
                children[0], graph.path
            )),
        })
        .collect()
}
