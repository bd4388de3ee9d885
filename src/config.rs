//! The YAML relationship graph as written: plain serde types, with the position of every name
//! kept so later checks can point at `file:line:column`.
//!
//! This is the only module that knows the YAML library (serde-saphyr). Validation against the
//! live schema happens in [`crate::graph`]; nothing here looks at a database.

use crate::engine::value::Value;
use crate::error::{Error, Result};
use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// A place in the graph file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

/// A value with the place it was written.
#[derive(Debug, Clone)]
pub struct At<T> {
    pub value: T,
    pub pos: Pos,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = Spanned::<T>::deserialize(d)?;
        Ok(At {
            value: s.value,
            pos: Pos {
                line: s.referenced.line(),
                column: s.referenced.column(),
            },
        })
    }
}

/// A whole graph file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphFile {
    /// Format version; 1 when omitted.
    #[serde(default)]
    pub version: Option<At<u32>>,
    #[serde(default)]
    pub tables: Tables,
    /// Cleansing settings and rules by pattern (see docs/cleansing.md).
    #[serde(default)]
    pub cleanse: Option<At<crate::cleanse::spec::CleanseSpec>>,
}

/// The `tables:` map, in file order, each name with the place it was written.
#[derive(Debug, Default)]
pub struct Tables(IndexMap<String, TableEntry>);

impl std::ops::Deref for Tables {
    type Target = IndexMap<String, TableEntry>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A table's name as written, with its position, and its settings.
#[derive(Debug)]
pub struct TableEntry {
    pub pos: Pos,
    pub spec: TableSpec,
}

impl TableEntry {
    /// Whether the entry says `mode: skip`.
    pub fn skips(&self) -> bool {
        self.spec
            .mode
            .as_ref()
            .is_some_and(|m| m.value == Mode::Skip)
    }
}

impl<'de> Deserialize<'de> for Tables {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tables;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from table names to their settings")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Tables, A::Error> {
                let mut out = IndexMap::new();
                while let Some((name, spec)) = map.next_entry::<At<String>, Option<TableSpec>>()? {
                    if out.contains_key(&name.value) {
                        return Err(de::Error::custom(format!(
                            "table `{}` is listed twice (again at line {}); merge the two entries",
                            name.value, name.pos.line
                        )));
                    }
                    out.insert(
                        name.value,
                        TableEntry {
                            pos: name.pos,
                            spec: spec.unwrap_or_default(),
                        },
                    );
                }
                Ok(Tables(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Rows are included when the walk reaches them (the default).
    #[default]
    Walk,
    /// The whole table is copied (plans, countries, currencies).
    Lookup,
    /// Never dumped.
    Skip,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    #[serde(default)]
    pub mode: Option<At<Mode>>,
    /// Key columns when the table has no primary key (or another key is wanted).
    #[serde(default)]
    pub key: Option<At<Names>>,
    /// Ownership edges: child tables whose rows belong to a row of this table.
    #[serde(default)]
    pub children: Vec<At<ChildSpec>>,
    /// References without a foreign key constraint (virtual and polymorphic parent edges).
    #[serde(default)]
    pub references: Vec<At<ReferenceSpec>>,
    /// Filter applied to rows that child edges bring into this table (SQL condition).
    #[serde(default, rename = "where")]
    pub filter: Option<At<String>>,
    /// Reference columns that are not followed: their value is written as NULL.
    #[serde(default)]
    pub nullify: Vec<At<String>>,
    /// Cleansing rules per column (`email: {fake: email}`; a bare `null` writes NULL).
    #[serde(default)]
    pub cleanse: IndexMap<String, At<Option<crate::cleanse::spec::Rule>>>,
}

/// One child edge: `users`, or `{table: projects, via: account_id, where: "..."}`.
#[derive(Debug, Default)]
pub struct ChildSpec {
    pub table: String,
    /// The child's columns that reference this table, when the child has several references.
    pub via: Option<Vec<String>>,
    pub filter: Option<String>,
    /// `always: true`: the child's rows come with every row of this table in the subset, not
    /// only with owned ones (a film's cast, wherever the film is included).
    pub always: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildMap {
    table: String,
    #[serde(default)]
    via: Option<Names>,
    #[serde(default, rename = "where")]
    filter: Option<String>,
    #[serde(default)]
    always: bool,
}

impl<'de> Deserialize<'de> for ChildSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ChildSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a child table name, or a map with `table`, and optionally `via`, `where` and `always`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<ChildSpec, E> {
                Ok(ChildSpec {
                    table: v.to_string(),
                    ..ChildSpec::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<ChildSpec, A::Error> {
                let m = ChildMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ChildSpec {
                    table: m.table,
                    via: m.via.map(|n| n.0),
                    filter: m.filter,
                    always: m.always,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A reference without a constraint: `{columns: subject_id, table: tasks, when: {subject_type: Task}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    /// This table's columns holding the reference.
    pub columns: Names,
    /// The referenced table.
    pub table: String,
    /// The referenced columns; the referenced table's key when omitted.
    #[serde(default)]
    pub key: Option<Names>,
    /// For polymorphic references: column = value conditions on this table's row.
    #[serde(default)]
    pub when: IndexMap<String, Scalar>,
}

/// One name or a list of names (`id` or `[order_id, line_no]`).
#[derive(Debug, Clone, Default)]
pub struct Names(pub Vec<String>);

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a column name or a list of column names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Names, E> {
                Ok(Names(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Names, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                if out.is_empty() {
                    return Err(de::Error::custom("an empty list of column names"));
                }
                Ok(Names(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scalar in a `when` condition or a `value` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar(pub Value);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Double(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Text(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::UInt(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Int(i64::from(v))))
            }
        }
        d.deserialize_any(V)
    }
}

/// A graph file read from disk: the parsed content, its path as given and its SHA-256.
#[derive(Debug)]
pub struct LoadedGraph {
    pub path: String,
    pub sha256: String,
    pub file: GraphFile,
}

impl LoadedGraph {
    /// An error pointing at `pos` in this file.
    pub fn error_at(&self, pos: Pos, message: impl Into<String>) -> Error {
        Error::Config {
            path: self.path.clone(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

/// Reads and parses a graph file. Syntax and shape errors carry the file, line and column.
pub fn load(path: &Path) -> Result<LoadedGraph> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Parses graph YAML; `path` is used in error messages.
pub fn parse(text: &str, path: &str) -> Result<LoadedGraph> {
    // Nothing but blanks and comments: a file emptied, or the wrong one, is more likely than a
    // graph that means "no children" (that one says `version: 1` at least).
    let said = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if !said {
        return Err(Error::Config {
            path: path.to_string(),
            line: 1,
            column: 1,
            message: "the graph file is empty. It holds `version: 1` and, under `tables:`, \
                      each table's children (`partialdump init` writes a first one); see \
                      docs/graph-format.md"
                .into(),
        });
    }
    let file: GraphFile = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        Error::Config {
            path: path.to_string(),
            line,
            column,
            message: match e.without_snippet() {
                // The parser's own words tell how to configure the parser, which a graph's
                // author cannot.
                serde_saphyr::Error::DuplicateMappingKey { key, .. } => format!(
                    "{} is given twice in the same mapping (a table listed twice under \
                     `tables:`, say), and one would silently replace the other: merge them \
                     into one entry",
                    key.as_deref()
                        .map_or_else(|| "a key".to_string(), |k| format!("`{k}`"))
                ),
                other => {
                    let text = strip_position(&other.to_string());
                    // `skip: true` and the like: the mode's name written as a setting.
                    let mode = ["walk", "lookup", "skip"]
                        .into_iter()
                        .find(|m| text.starts_with(&format!("unknown field `{m}`")))
                        .map(|m| format!(" A table's mode is written as `mode: {m}`."))
                        .unwrap_or_default();
                    // `children: users`: one name where a list goes.
                    let list = match text.starts_with("expected sequence") {
                        true => " A list goes here, even of one item: `[item]`, or `- item` on a line of its own below.",
                        false => "",
                    };
                    // `{hash: number, max: 9}`: a rule's options beside it, not inside it.
                    let rule = match text.contains("after enum variant value") {
                        true => " A cleansing rule is a map of one key, with its options inside: \
                                 `{hash: {format: number, max: 1000}}`, `{mask: {keep_last: 2}}`, \
                                 `{date_shift: {days: 30}}` (docs/cleansing.md).",
                        false => "",
                    };
                    format!("{text}.{mode}{list}{rule} See docs/graph-format.md for the format.")
                }
            },
        }
    })?;
    if let Some(v) = &file.version
        && v.value != 1
    {
        return Err(Error::Config {
            path: path.to_string(),
            line: v.pos.line,
            column: v.pos.column,
            message: format!(
                "graph format version {} is not known to this partialdump, which reads version 1",
                v.value
            ),
        });
    }
    let sha256 = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(LoadedGraph {
        path: path.to_string(),
        sha256,
        file,
    })
}

/// serde-saphyr writes `error: line 3 column 5: message`; the position goes in front instead.
fn strip_position(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let mut text = first;
    if let Some(rest) = first.strip_prefix("line ")
        && let Some(idx) = rest.find(": ")
    {
        text = &rest[idx + 2..];
    }
    // Some messages repeat the position at the end.
    if let Some(idx) = text.rfind(" at line ")
        && text[idx..].contains(", column ")
    {
        text = &text[..idx];
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_short_and_long_forms() {
        let g = parse(
            "tables:\n  accounts:\n    children:\n      - users\n      - {table: projects, via: account_id, where: \"archived = 0\"}\n  plans: {mode: lookup}\n  audit:\n    mode: skip\n  comments:\n    references:\n      - {columns: subject_id, table: tasks, when: {subject_type: Task}}\n  tags:\n",
            "g.yaml",
        )
        .unwrap();
        let t = &g.file.tables;
        assert_eq!(t["accounts"].pos, Pos { line: 2, column: 3 });
        let ch = &t["accounts"].spec.children;
        assert_eq!(ch[0].value.table, "users");
        assert_eq!(
            ch[1].value.via.as_deref(),
            Some(&["account_id".to_string()][..])
        );
        assert_eq!(ch[1].pos.line, 5);
        assert_eq!(t["plans"].spec.mode.as_ref().unwrap().value, Mode::Lookup);
        assert_eq!(
            t["comments"].spec.references[0].value.when["subject_type"].0,
            Value::Text("Task".into())
        );
        assert!(t.contains_key("tags"));
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = parse("tables:\n  accounts:\n    childs: []\n", "app.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("app.yaml:3:5: unknown field `childs`"), "{e}");
        let e = parse("tables:\n  sessions: {skip: true}\n", "app.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("app.yaml:2:14: unknown field `skip`")
                && e.contains("written as `mode: skip`"),
            "{e}"
        );
        let e = parse("tables:\n  a: [\n", "app.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("app.yaml:2:"), "{e}");
        let e = parse("tables:\n  a:\n    mode: lookp\n", "app.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("app.yaml:3:") && e.contains("lookp"), "{e}");
    }
}
