//! SQLite, the embedded default: opened read-only, read inside one transaction.

use super::value::Value;
use super::{Source, Target};
use crate::dialect::{Dialect, SQLITE};
use crate::error::{Error, Result};
use crate::schema::{Column, ForeignKey, Schema, Side, Table};
use rusqlite::{Connection, OpenFlags, types::ValueRef};
use std::collections::BTreeMap;

/// How long a statement waits for a lock another connection holds on the file.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct SqliteSource {
    conn: Connection,
    url: String,
}

/// A database being imported into: the same reads as a source, plus one write transaction.
pub struct SqliteTarget {
    db: SqliteSource,
    disable_fk_checks: bool,
}

impl SqliteSource {
    pub fn open(path: &str, url: String) -> Result<SqliteSource> {
        if !std::path::Path::new(path).is_file() {
            return Err(Error::Connect {
                url,
                reason: "no such database file. Check the path after `sqlite:`.".into(),
            });
        }
        Self::open_with(path, url, OpenFlags::SQLITE_OPEN_READ_ONLY)
    }

    fn open_with(path: &str, url: String, flags: OpenFlags) -> Result<SqliteSource> {
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .and_then(|conn| {
                // A file another program is writing is locked while it commits: waited for,
                // rather than failed on at once.
                conn.busy_timeout(BUSY_TIMEOUT)?;
                Ok(conn)
            })
            .map_err(|e| Error::Connect {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        Ok(SqliteSource { conn, url })
    }

    fn err(&self, context: &str, e: rusqlite::Error) -> Error {
        let busy = e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy);
        Error::Query {
            url: self.url.clone(),
            context: context.to_string(),
            reason: match busy {
                true => format!(
                    "{e}: another connection held a lock on the file for {} s. Run again once \
                     it is done; in WAL mode (PRAGMA journal_mode = WAL) a reader never waits \
                     for a writer",
                    BUSY_TIMEOUT.as_secs()
                ),
                false => e.to_string(),
            },
        }
    }

    fn strings(&self, sql: &str, args: &[&str], context: &str) -> Result<Vec<Vec<Option<String>>>> {
        let mut out = Vec::new();
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(context, e))?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(|e| self.err(context, e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(context, e))? {
            let mut r = Vec::with_capacity(n);
            for i in 0..n {
                let v = match row.get_ref(i).map_err(|e| self.err(context, e))? {
                    ValueRef::Null => None,
                    ValueRef::Integer(i) => Some(i.to_string()),
                    ValueRef::Real(f) => Some(f.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                };
                r.push(v);
            }
            out.push(r);
        }
        Ok(out)
    }
}

impl Source for SqliteSource {
    fn url(&self) -> &str {
        &self.url
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &SQLITE
    }

    fn introspect(&mut self) -> Result<Schema> {
        let ctx = "reading the table list";
        let names = self.strings(
            "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            &[],
            ctx,
        )?;
        // Virtual tables (FTS5, R*Tree) keep their rows in shadow tables of their module's
        // own: neither holds rows a dump can copy by INSERT (an FTS index copied row by row
        // would index other rows, or twice).
        let modules: BTreeMap<String, &'static str> = self
            .strings(
                "SELECT name, type FROM pragma_table_list WHERE schema = 'main' \
                 AND type IN ('virtual', 'shadow')",
                &[],
                ctx,
            )?
            .into_iter()
            .filter_map(|r| {
                let mut r = r.into_iter();
                let name = r.next().flatten()?;
                let kind = match r.next().flatten().as_deref() {
                    Some("virtual") => "virtual table",
                    _ => "shadow table",
                };
                Some((name, kind))
            })
            .collect();
        let mut tables = BTreeMap::new();
        let mut others = BTreeMap::new();
        for row in names {
            let mut row = row.into_iter();
            let Some(name) = row.next().flatten() else {
                continue;
            };
            if row.next().flatten().as_deref() == Some("view") {
                others.insert(name, "view");
                continue;
            }
            if let Some(kind) = modules.get(&name) {
                others.insert(name, *kind);
                continue;
            }
            // name, type, notnull, pk (its place in the key), hidden (2, 3: generated), default
            let cols = self.strings(
                "SELECT name, type, \"notnull\", pk, hidden, dflt_value FROM pragma_table_xinfo(?1) \
                 ORDER BY cid",
                &[&name],
                &format!("reading the columns of {name}"),
            )?;
            let mut columns = Vec::new();
            let mut pk: Vec<(i64, String)> = Vec::new();
            for c in cols {
                let get = |i: usize| c.get(i).cloned().flatten().unwrap_or_default();
                let col_name = get(0);
                let pk_pos: i64 = get(3).parse().unwrap_or(0);
                if pk_pos > 0 {
                    pk.push((pk_pos, col_name.clone()));
                }
                let hidden: i64 = get(4).parse().unwrap_or(0);
                // BINARY, NOCASE, RTRIM or one the application defined; a column SQLite cannot
                // describe (none known) compares as bytes.
                let collation = self
                    .conn
                    .column_metadata(None, name.as_str(), col_name.as_str())
                    .ok()
                    .and_then(|(_, coll, ..)| coll.map(|c| c.to_string_lossy().to_lowercase()));
                // A primary key column is NOT NULL whatever it says (SQLite allows NULL in
                // non-INTEGER primary keys only as a legacy quirk).
                let nullable = get(2) != "1" && pk_pos == 0;
                let generated = hidden == 2 || hidden == 3;
                columns.push(Column {
                    nullable,
                    generated,
                    // (An INTEGER PRIMARY KEY, which numbers itself, is marked below.)
                    defaulted: nullable || generated || c.get(5).is_some_and(Option::is_some),
                    data_type: get(1).to_lowercase(),
                    charset: None,
                    collation,
                    members: None,
                    max_chars: None,
                    max_bytes: None,
                    max_number: None,
                    holds_only: None,
                    name: col_name,
                });
            }
            pk.sort();
            // The rowid's alias: a primary key of one column declared INTEGER.
            if let [(_, only)] = pk.as_slice()
                && let Some(c) = columns.iter_mut().find(|c| &c.name == only)
                && c.data_type == "integer"
            {
                c.defaulted = true;
            }
            let fk_rows = self.strings(
                "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                &[&name],
                &format!("reading the foreign keys of {name}"),
            )?;
            let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
            for f in fk_rows {
                let get = |i: usize| f.get(i).cloned().flatten();
                let id: i64 = get(0).unwrap_or_default().parse().unwrap_or(0);
                let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                    name: format!("{name}_fk{id}"),
                    columns: Vec::new(),
                    ref_table: get(2).unwrap_or_default(),
                    ref_columns: Vec::new(),
                });
                fk.columns.push(get(3).unwrap_or_default());
                // An empty `to` means the referenced table's primary key; resolved below.
                fk.ref_columns.push(get(4).unwrap_or_default());
            }
            let primary_key: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
            let mut indexes = vec![primary_key.clone()];
            let mut unique = vec![primary_key.clone()];
            let index_names = self.strings(
                "SELECT name, \"unique\" FROM pragma_index_list(?1) ORDER BY name",
                &[&name],
                &format!("reading the indexes of {name}"),
            )?;
            for row in index_names {
                let Some(index) = row.first().cloned().flatten() else {
                    continue;
                };
                let cols = self.strings(
                    "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                    &[&index],
                    &format!("reading the index {index}"),
                )?;
                let cols: Vec<String> = cols
                    .into_iter()
                    .filter_map(|r| r.into_iter().next().flatten())
                    .collect();
                if row.get(1).cloned().flatten().as_deref() == Some("1") {
                    unique.push(cols.clone());
                }
                indexes.push(cols);
            }
            // Every SQLite table without a primary key has a rowid (WITHOUT ROWID needs one).
            let rowid = match primary_key.is_empty() {
                true => ["rowid", "_rowid_", "oid"]
                    .into_iter()
                    .find(|r| !columns.iter().any(|c| c.name.eq_ignore_ascii_case(r)))
                    .map(str::to_string),
                false => None,
            };
            tables.insert(
                name.clone(),
                Table {
                    name,
                    columns,
                    rowid,
                    outside_refs: Vec::new(),
                    primary_key,
                    foreign_keys: fks.into_values().collect(),
                    indexes,
                    unique,
                    // SQLite keeps no row count short of counting (or ANALYZE's sqlite_stat1).
                    rows_estimate: None,
                    engine: None,
                },
            );
        }
        // SQLite's names are case-insensitive, and a foreign key names its parent, its columns
        // and the parent's as written in its clause (`REFERENCES Accounts(ID)` for `accounts`):
        // each is resolved to the name the table or column has, or the reference would be taken
        // for one into another database and its parents left out of the dump. Then
        // `REFERENCES parent` without columns is resolved to the parent's primary key.
        let by_lower: BTreeMap<String, (String, Vec<String>, Vec<String>)> = tables
            .iter()
            .map(|(n, t)| {
                let columns = t.columns.iter().map(|c| c.name.clone()).collect();
                (
                    n.to_lowercase(),
                    (n.clone(), columns, t.primary_key.clone()),
                )
            })
            .collect();
        let spelled = |names: &[String], name: &str| {
            names
                .iter()
                .find(|n| n.eq_ignore_ascii_case(name))
                .cloned()
                .unwrap_or_else(|| name.to_string())
        };
        for t in tables.values_mut() {
            let own: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            for fk in &mut t.foreign_keys {
                for c in &mut fk.columns {
                    *c = spelled(&own, c);
                }
                let Some((name, columns, pk)) = by_lower.get(&fk.ref_table.to_lowercase()) else {
                    continue;
                };
                fk.ref_table = name.clone();
                if fk.ref_columns.iter().any(String::is_empty) {
                    fk.ref_columns = pk.clone();
                } else {
                    for c in &mut fk.ref_columns {
                        *c = spelled(columns, c);
                    }
                }
            }
        }
        Ok(Schema {
            tables,
            others,
            side: Side::Source,
        })
    }

    fn schema_ddl(&mut self, table: &str) -> Result<Vec<String>> {
        let rows = self.strings(
            "SELECT type, sql FROM sqlite_schema WHERE tbl_name = ?1 AND sql IS NOT NULL \
             AND type IN ('table', 'index') ORDER BY type = 'index', name",
            &[table],
            &format!("reading the definition of {table}"),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let kind = r.first().cloned().flatten()?;
                let sql = r.get(1).cloned().flatten()?;
                Some(match kind.as_str() {
                    "table" => sql.replacen("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1),
                    _ => sql
                        .replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                        .replacen(
                            "CREATE UNIQUE INDEX ",
                            "CREATE UNIQUE INDEX IF NOT EXISTS ",
                            1,
                        ),
                })
            })
            .collect())
    }

    fn insert_triggers(&mut self) -> Result<Vec<String>> {
        let rows = self.strings(
            "SELECT DISTINCT tbl_name FROM sqlite_schema WHERE type = 'trigger' \
             AND upper(sql) GLOB '*INSERT*ON*'",
            &[],
            "reading the triggers",
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    fn begin_snapshot(&mut self) -> Result<String> {
        let ctx = "starting the read transaction";
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(|e| self.err(ctx, e))?;
        // The first read starts the snapshot; the clock is read in the same statement.
        self.conn
            .query_row(
                "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| r.get::<_, String>(0),
            )
            .map_err(|e| self.err(ctx, e))
    }

    fn end_snapshot(&mut self) -> Result<()> {
        self.conn
            .execute_batch("COMMIT")
            .map_err(|e| self.err("ending the read transaction", e))
    }

    fn max_query_bytes(&self) -> usize {
        4 << 20
    }

    fn query(
        &mut self,
        sql: &str,
        context: &str,
        f: &mut dyn FnMut(&mut Vec<Value>) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(context, e))?;
        let n = stmt.column_count();
        let mut rows = stmt.query([]).map_err(|e| self.err(context, e))?;
        let mut values = Vec::with_capacity(n);
        while let Some(row) = rows.next().map_err(|e| Error::Query {
            url: self.url.clone(),
            context: context.to_string(),
            reason: e.to_string(),
        })? {
            values.clear();
            for i in 0..n {
                let v = row.get_ref(i).map_err(|e| Error::Query {
                    url: self.url.clone(),
                    context: context.to_string(),
                    reason: e.to_string(),
                })?;
                values.push(match v {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(f) => Value::Double(f),
                    ValueRef::Text(t) => match std::str::from_utf8(t) {
                        Ok(s) => Value::Text(s.to_string()),
                        Err(_) => Value::Bytes(t.to_vec()),
                    },
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            f(&mut values)?;
        }
        Ok(())
    }
}

impl SqliteTarget {
    /// Opens (or creates) a database file for writing.
    pub fn open(path: &str, url: String) -> Result<SqliteTarget> {
        let db = SqliteSource::open_with(
            path,
            url,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )?;
        Ok(SqliteTarget {
            db,
            disable_fk_checks: false,
        })
    }

    fn batch(&mut self, sql: &str, context: &str) -> Result<()> {
        self.db
            .conn
            .execute_batch(sql)
            .map_err(|e| self.db.err(context, e))
    }
}

super::source_via_db!(SqliteTarget);

impl Target for SqliteTarget {
    fn begin(&mut self, disable_fk_checks: bool) -> Result<()> {
        self.disable_fk_checks = disable_fk_checks;
        let fk = if disable_fk_checks { "OFF" } else { "ON" };
        // foreign_keys can only change outside a transaction.
        self.batch(
            &format!("PRAGMA foreign_keys = {fk}; BEGIN IMMEDIATE"),
            "starting the import transaction",
        )
    }

    fn execute(&mut self, sql: &str) -> std::result::Result<u64, String> {
        self.db
            .conn
            .execute(sql, [])
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn execute_ddl(&mut self, sql: &str) -> std::result::Result<(), String> {
        // SQLite's DDL is transactional: a rollback removes the table again.
        self.db.conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    fn foreign_key_checks(&mut self, on: bool) -> Result<()> {
        // Deferred checks stay deferred until COMMIT, which checks every row.
        if !on && !self.disable_fk_checks {
            self.batch(
                "PRAGMA defer_foreign_keys = ON",
                "deferring foreign-key checks",
            )?;
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT", "committing the import")
    }

    fn rollback(&mut self) -> Result<()> {
        if self.db.conn.is_autocommit() {
            return Ok(());
        }
        self.batch("ROLLBACK", "rolling back the import")
    }
}
