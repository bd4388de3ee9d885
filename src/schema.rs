//! Engine-neutral table metadata, as introspected from a live source.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Tables by name (views are not tables and are not listed).
    pub tables: BTreeMap<String, Table>,
    /// What the other names of the schema are (`view`, `sequence`), so that a graph naming
    /// one is told why it is no table.
    pub others: BTreeMap<String, &'static str>,
    /// Which database of the command this is, for messages: `verify` resolves the graph
    /// against its target too.
    pub side: Side,
}

/// The database a schema was read from, as messages name it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Side {
    #[default]
    Source,
    /// `verify`'s copy: a table the graph skips need not exist there.
    Target,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// Columns in their ordinal order.
    pub columns: Vec<Column>,
    /// Primary key columns in key order; empty when the table has none (see [`Table::row_key`]
    /// for the key rows are told apart by then).
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    /// The column lists of the table's indexes (primary key included), in index order.
    pub indexes: Vec<Vec<String>>,
    /// The column lists of unique indexes (primary key included).
    pub unique: Vec<Vec<String>>,
    /// The engine's estimate of the table's row count, when it keeps one (InnoDB's
    /// `TABLE_ROWS`); None when unknown.
    pub rows_estimate: Option<u64>,
    /// The storage engine, where the source has several (MySQL's `ENGINE`); None for SQLite.
    pub engine: Option<String>,
    /// For an SQLite table without a primary key, the name that reads its rowid (`rowid`,
    /// `_rowid_` or `oid`, the first no column shadows): the key its rows are told apart by
    /// when no unique index of NOT NULL columns is (a log table may hold two rows alike).
    /// Never written to a dump: a copy numbers its rows itself. None elsewhere.
    pub rowid: Option<String>,
    /// Foreign keys into another database of the server (MySQL): each constraint's name, its
    /// columns and the table referenced (`` `db`.`table` ``). A dump holds one database, so
    /// these are not followed, and a dump of rows holding them says so.
    pub outside_refs: Vec<(String, Vec<String>, String)>,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub nullable: bool,
    /// Generated (computed) columns are never written to INSERTs.
    pub generated: bool,
    /// Whether an INSERT may leave the column out: it is nullable or generated, has a default,
    /// or numbers itself (MySQL's AUTO_INCREMENT, SQLite's INTEGER PRIMARY KEY). A target a
    /// migration gave such a column the source lacks still takes the source's rows.
    pub defaulted: bool,
    /// The engine's type name, lower case (`int`, `varchar`, `text`).
    pub data_type: String,
    /// The character set of a text column, lower case, where the engine has several (MySQL's
    /// `utf8mb4`, `latin1`, ...); None otherwise.
    pub charset: Option<String>,
    /// The collation a text column compares by, lower case (MySQL's `utf8mb4_general_ci`,
    /// SQLite's `nocase`); None where the engine does not say (bytes, numbers).
    pub collation: Option<String>,
    /// The members of a MySQL ENUM or SET column; None for other types.
    pub members: Option<Vec<String>>,
    /// The most characters a MySQL CHAR, VARCHAR, BINARY or VARBINARY column holds.
    pub max_chars: Option<u64>,
    /// The most bytes a MySQL TEXT or BLOB column holds.
    pub max_bytes: Option<u64>,
    /// The largest whole number a MySQL DECIMAL column holds (`DECIMAL(5,2)`: 999).
    pub max_number: Option<u64>,
    /// What a MySQL column of numbers or of dates holds, which it enforces; None where any
    /// text goes (text columns, and SQLite's, whose declared types do not refuse text).
    pub holds_only: Option<Holds>,
}

/// The values a column of an enforced type takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Numbers,
    /// DATE, DATETIME, TIMESTAMP.
    Dates,
    /// YEAR, TIME, BIT, MariaDB's INET4 and INET6: ranges no generated value is drawn within.
    Other,
    /// MySQL's JSON, and MariaDB's (a LONGTEXT whose check `json_valid` refuses other text).
    Json,
    /// MariaDB's UUID: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` only.
    Uuid,
}

impl Column {
    /// A MySQL ENUM without '' among its members: a '' in it is the value a server out of strict
    /// mode stored for one it did not accept (its "error value"), which only a session out of
    /// strict mode writes back.
    pub fn enum_lacks_empty(&self) -> bool {
        self.data_type == "enum"
            && self
                .members
                .as_ref()
                .is_some_and(|m| !m.iter().any(String::is_empty))
    }
}

#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    /// The referenced columns; same length as `columns`.
    pub ref_columns: Vec<String>,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Whether a graph's entry for `name` that skips it may stand though `name` is no table
    /// here: it is something else (a view, a virtual table: `init` lists virtual tables'
    /// shadow tables as skipped), or this is `verify`'s target, which needs no table the graph
    /// never reads.
    pub fn may_skip_absent(&self, name: &str) -> bool {
        self.table(name).is_none() && (self.side == Side::Target || self.others.contains_key(name))
    }

    /// Why `name`, which is no table, is no table, when the source has it as something else.
    pub fn not_a_table(&self, name: &str) -> Option<String> {
        not_a_table(&self.others, name)
    }
}

/// `` `name` is a view of the source, not a table: … `` when `others` lists `name`.
pub fn not_a_table(others: &BTreeMap<String, &'static str>, name: &str) -> Option<String> {
    Some(match *others.get(name)? {
        "view" => format!(
            "`{name}` is a view of the source, not a table: it holds no rows of its own. List \
             the tables it reads from instead, and create the view in the target (--with-schema \
             copies tables only)."
        ),
        what @ ("virtual table" | "shadow table") => format!(
            "`{name}` is a {what} of the source (of a module such as FTS5 or R*Tree), not a \
             table: the module keeps its rows in tables of its own, which a dump does not copy. \
             Skip it or leave it out of the graph, and create and fill it in the target (an FTS5 \
             index over a table: `INSERT INTO t(t) VALUES ('rebuild')`)."
        ),
        what => format!(
            "`{name}` is a {what} of the source, not a table: a dump copies tables' rows only."
        ),
    })
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// A unique index (or the primary key) in which `col` tells rows apart: one holding `col`
    /// whose other columns hold no unique index of their own, so two rows may differ there in
    /// `col` alone. A value written into `col` must then stay distinct wherever the original
    /// was (`UNIQUE (tenant_id, email)` as much as `UNIQUE (email)`).
    pub fn unique_through(&self, col: &str) -> Option<&[String]> {
        self.unique
            .iter()
            .filter(|u| u.iter().any(|c| c.eq_ignore_ascii_case(col)))
            .find(|u| {
                let others: Vec<&String> =
                    u.iter().filter(|c| !c.eq_ignore_ascii_case(col)).collect();
                !self.unique.iter().any(|v| {
                    !v.is_empty()
                        && v.iter()
                            .all(|c| others.iter().any(|o| o.eq_ignore_ascii_case(c)))
                })
            })
            .map(Vec::as_slice)
    }

    /// Whether some index, or the primary key (which SQLite lists as no index when it is the
    /// rowid), starts with exactly these columns (in any order), so a lookup by them does not
    /// scan the table.
    pub fn has_index_on(&self, cols: &[String]) -> bool {
        std::iter::once(&self.primary_key)
            .chain(&self.indexes)
            .any(|idx| starts_with_columns(idx, cols))
    }

    /// Whether the primary key starts with `cols` (in any order): InnoDB keeps the rows in
    /// primary-key order, so the rows holding given values there lie together.
    pub fn primary_key_starts_with(&self, cols: &[String]) -> bool {
        starts_with_columns(&self.primary_key, cols)
    }

    /// The columns that tell the table's rows apart: the primary key, else (as InnoDB picks its
    /// clustered index) a unique index whose columns are all NOT NULL, the one of fewest
    /// columns, then the first listed; empty when there is neither.
    pub fn row_key(&self) -> Vec<String> {
        if !self.primary_key.is_empty() {
            return self.primary_key.clone();
        }
        self.unique
            .iter()
            .filter(|u| {
                !u.is_empty()
                    && u.iter()
                        .all(|c| self.column(c).is_some_and(|col| !col.nullable))
            })
            .min_by_key(|u| u.len())
            .cloned()
            .or_else(|| self.rowid.clone().map(|r| vec![r]))
            .unwrap_or_default()
    }

    /// Whether `column` names the table's rowid ([`Table::rowid`]) rather than a column.
    pub fn is_rowid(&self, column: &str) -> bool {
        self.rowid.as_deref() == Some(column)
    }

    /// Whether the table's indexes make `columns` a key: every one NOT NULL, and a unique
    /// index (or the primary key) among them, so no two rows hold the same values there.
    pub fn vouches_for(&self, columns: &[String]) -> bool {
        let has = |c: &String| columns.iter().any(|k| k.eq_ignore_ascii_case(c));
        columns
            .iter()
            .all(|c| self.column(c).is_some_and(|col| !col.nullable))
            && self
                .unique
                .iter()
                .any(|u| !u.is_empty() && u.iter().all(has))
    }

    /// Whether the table is a MySQL table in an engine without transactions (MyISAM, Aria,
    /// MEMORY, ...): its rows are read as they are at each query rather than in a snapshot,
    /// and rows written to it stay whatever is rolled back.
    pub fn without_transactions(&self) -> bool {
        self.engine.as_deref().is_some_and(|e| {
            !["InnoDB", "RocksDB", "TokuDB"]
                .iter()
                .any(|t| t.eq_ignore_ascii_case(e))
        })
    }

    /// The column names that go into INSERT statements (generated columns left out).
    pub fn insert_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| !c.generated)
    }
}

/// Whether the index `idx` starts with the columns `cols` (in any order, names compared without
/// case).
fn starts_with_columns(idx: &[String], cols: &[String]) -> bool {
    !cols.is_empty()
        && idx.len() >= cols.len()
        && idx[..cols.len()]
            .iter()
            .all(|c| cols.iter().any(|x| x.eq_ignore_ascii_case(c)))
}
