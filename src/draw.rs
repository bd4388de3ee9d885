//! `graph`: draw the relationship graph as Graphviz dot or Mermaid.
//!
//! Ownership (child) edges are bold and point from owner to owned rows (labelled `(always)` when
//! every row of the owner brings them); declared foreign keys are
//! thin and point from the referencing table to the referenced one; references without a
//! constraint are dashed, polymorphic ones dotted and labelled with their condition, nullified
//! ones grey. Lookup tables are filled, skipped tables grey and dashed.

use crate::config::{LoadedGraph, Mode};
use crate::graph::Model;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Child,
    ForeignKey,
    Virtual,
    Polymorphic,
    Nullified,
}

#[derive(Debug, Default)]
pub struct Drawing {
    pub nodes: BTreeMap<String, Mode>,
    /// (from, to, kind, label)
    pub edges: Vec<(String, String, EdgeKind, String)>,
}

/// A child edge's label: its columns, and `(always)` when every row of the parent brings
/// its children, owned or not.
fn always_label(columns: String, always: bool) -> String {
    match (always, columns.is_empty()) {
        (false, _) => columns,
        (true, true) => "(always)".into(),
        (true, false) => format!("{columns} (always)"),
    }
}

impl Drawing {
    /// Everything: declared foreign keys from the live schema plus the graph file.
    pub fn from_model(model: &Model) -> Drawing {
        let mut d = Drawing::default();
        for t in model.tables.values() {
            d.nodes.insert(t.name.clone(), t.mode);
            for e in &t.children {
                let r = &model.relations[e.relation];
                d.edges.push((
                    r.parent.clone(),
                    r.child.clone(),
                    EdgeKind::Child,
                    always_label(r.columns.join(","), e.always),
                ));
            }
        }
        for r in &model.relations {
            let kind = if r.nullified {
                EdgeKind::Nullified
            } else if !r.when.is_empty() {
                EdgeKind::Polymorphic
            } else if r.declared {
                EdgeKind::ForeignKey
            } else {
                EdgeKind::Virtual
            };
            let label = if r.when.is_empty() {
                r.columns.join(",")
            } else {
                format!(
                    "{} when {}",
                    r.columns.join(","),
                    r.when
                        .iter()
                        .map(|(c, v)| format!("{c}={}", v.display()))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            };
            d.edges
                .push((r.child.clone(), r.parent.clone(), kind, label));
        }
        d
    }

    /// Only what the graph file says (no database at hand).
    pub fn from_file(graph: &LoadedGraph) -> Drawing {
        let mut d = Drawing::default();
        for (name, entry) in graph.file.tables.iter() {
            let mode = entry
                .spec
                .mode
                .as_ref()
                .map(|m| m.value)
                .unwrap_or_default();
            d.nodes.insert(name.clone(), mode);
            for c in &entry.spec.children {
                d.nodes.entry(c.value.table.clone()).or_default();
                d.edges.push((
                    name.clone(),
                    c.value.table.clone(),
                    EdgeKind::Child,
                    always_label(
                        c.value
                            .via
                            .as_ref()
                            .map(|v| v.join(","))
                            .unwrap_or_default(),
                        c.value.always,
                    ),
                ));
            }
            for r in &entry.spec.references {
                let spec = &r.value;
                d.nodes.entry(spec.table.clone()).or_default();
                let (kind, label) = if spec.when.is_empty() {
                    (EdgeKind::Virtual, spec.columns.0.join(","))
                } else {
                    (
                        EdgeKind::Polymorphic,
                        format!(
                            "{} when {}",
                            spec.columns.0.join(","),
                            spec.when
                                .iter()
                                .map(|(c, v)| format!("{c}={}", v.0.display()))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                    )
                };
                d.edges
                    .push((name.clone(), spec.table.clone(), kind, label));
            }
        }
        d
    }

    pub fn dot(&self) -> String {
        let mut s = String::from(
            "digraph partialdump {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        let q = |n: &str| format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\""));
        for (n, mode) in &self.nodes {
            let style = match mode {
                Mode::Walk => String::new(),
                Mode::Lookup => {
                    ", style=\"rounded,filled\", fillcolor=\"#dbeafe\", xlabel=\"lookup\"".into()
                }
                Mode::Skip => {
                    ", style=\"rounded,dashed\", color=gray, fontcolor=gray, xlabel=\"skip\"".into()
                }
            };
            let _ = writeln!(s, "  {}[label={}{style}];", q(n), q(n));
        }
        for (from, to, kind, label) in &self.edges {
            let style = match kind {
                EdgeKind::Child => "penwidth=2.5, color=\"#1d4ed8\"",
                EdgeKind::ForeignKey => "color=\"#374151\"",
                EdgeKind::Virtual => "style=dashed, color=\"#374151\"",
                EdgeKind::Polymorphic => "style=dotted, color=\"#7c3aed\"",
                EdgeKind::Nullified => "style=dashed, color=gray, fontcolor=gray",
            };
            let _ = writeln!(
                s,
                "  {} -> {} [label={}, {style}];",
                q(from),
                q(to),
                q(label)
            );
        }
        s.push_str("}\n");
        s
    }

    pub fn mermaid(&self) -> String {
        let id = |n: &str| {
            let mut s: String = n
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            s.insert_str(0, "t_");
            s
        };
        let text = |t: &str| t.replace('"', "#quot;");
        let mut s = String::from("flowchart LR\n");
        for (n, mode) in &self.nodes {
            let _ = writeln!(s, "  {}[\"{}\"]", id(n), text(n));
            match mode {
                Mode::Lookup => {
                    let _ = writeln!(s, "  class {} lookup", id(n));
                }
                Mode::Skip => {
                    let _ = writeln!(s, "  class {} skip", id(n));
                }
                Mode::Walk => {}
            }
        }
        for (from, to, kind, label) in &self.edges {
            let arrow = match kind {
                EdgeKind::Child => "==>",
                EdgeKind::ForeignKey => "-->",
                EdgeKind::Virtual | EdgeKind::Nullified => "-.->",
                EdgeKind::Polymorphic => "-.->",
            };
            let label = if *kind == EdgeKind::Nullified {
                format!("{label} (nullify)")
            } else {
                label.clone()
            };
            let _ = writeln!(s, "  {} {arrow}|\"{}\"| {}", id(from), text(&label), id(to));
        }
        s.push_str(
            "  classDef lookup fill:#dbeafe\n  classDef skip stroke-dasharray: 4 4,color:#9ca3af\n",
        );
        s
    }
}
